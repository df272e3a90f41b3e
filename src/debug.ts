/**
 * `cancelkit/debug`: printouts of parsed expressions for tests and tooling, in the format of
 * cel-go's `debug.ToAdornedDebugString` (the `ast` strings of `@bufbuild/cel-spec`). Kept out of
 * the root entry, which holds what an application needs.
 *
 * @example
 * ```ts
 * import { parse } from "cancelkit";
 * import { toDebugString, kindAdorner } from "cancelkit/debug";
 * console.log(toDebugString(parse("a.b == 1").expr, kindAdorner));
 * ```
 *
 * @module
 */
export { toDebugString, macroCallsToDebugString, kindAdorner, idAdorner, idAndKindAdorner } from "./expr/debug.js";
export type { DebugAdorner, DebugNode } from "./expr/debug.js";
