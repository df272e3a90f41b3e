/**
 * Dialects: the rules that differ between the CEL specification and Inngest's evaluation, each a
 * field of {@link Dialect} (those the compiler reads: `lenient`, `functions`, `calls`,
 * `otherCall`), so that no part of the engine tests a dialect by its name.
 *
 * @module
 */
import { STANDARD_CALLS } from "./compiler/calls.js";
import type { CompilerDialect } from "./compiler/hooks.js";
import { functionTable } from "./decls.js";
import { STRINGS_EXTENSION } from "./ext/strings.js";
import { STANDARD_FUNCTIONS } from "./stdlib/index.js";
import type { Type } from "./types.js";

/** Name of a dialect. */
export type DialectName = "cel" | "inngest";

/** What a dialect changes. */
export interface Dialect extends CompilerDialect {
  readonly name: DialectName;
  /**
   * `&&`, `||` and the condition of `?:` take operands of any type and test them for truthiness
   * (the checker accepts them); otherwise they take booleans.
   */
  readonly truthiness: boolean;
  /** Variables declared when the caller declares none; `undefined` means every name is `dyn`. */
  readonly defaultVariables: ReadonlyMap<string, Type> | undefined;
  /** Operators accepting operands of any types, with their result type (see the checker). */
  readonly looseOperators?: ReadonlyMap<string, Type>;
  /**
   * Whether the quoted string literals of `source` are lifted out before parsing, kept as written
   * (no escape decoding). Default: never.
   */
  readonly liftsStrings?: (source: string) => boolean;
}

/** The CEL specification: standard library plus the strings extension. */
export const CEL_DIALECT: Dialect = {
  name: "cel",
  lenient: false,
  truthiness: false,
  functions: functionTable(STANDARD_FUNCTIONS, STRINGS_EXTENSION),
  defaultVariables: undefined,
  calls: STANDARD_CALLS,
};
