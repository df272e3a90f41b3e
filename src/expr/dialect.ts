/**
 * Dialects: the rules that differ between the CEL specification and Inngest's evaluation, each a
 * field of {@link Dialect}, so that no part of the engine tests a dialect by its name.
 *
 * @module
 */
import { STANDARD_CALLS } from "./compiler/calls.js";
import type { CallCompiler, CallTable } from "./compiler/hooks.js";
import { functionTable, type FunctionDecl } from "./decls.js";
import { STRINGS_EXTENSION } from "./ext/strings.js";
import { STANDARD_FUNCTIONS } from "./stdlib/index.js";
import type { Type } from "./types.js";

/** Name of a dialect. */
export type DialectName = "cel" | "inngest";

/** What a dialect changes. */
export interface Dialect {
  readonly name: DialectName;
  /** Missing fields, keys and variables read as unknown (null-like) instead of failing. */
  readonly lenient: boolean;
  /**
   * `&&`, `||` and the condition of `?:` take operands of any type and test them for truthiness
   * (the checker accepts them); otherwise they take booleans.
   */
  readonly truthiness: boolean;
  /** Functions known to the checker and compiler. */
  readonly functions: ReadonlyMap<string, FunctionDecl>;
  /** Variables declared when the caller declares none; `undefined` means every name is `dyn`. */
  readonly defaultVariables: ReadonlyMap<string, Type> | undefined;
  /** Operators accepting operands of any types, with their result type (see the checker). */
  readonly looseOperators?: ReadonlyMap<string, Type>;
  /**
   * Whether the quoted string literals of `source` are lifted out before parsing, kept as written
   * (no escape decoding). Default: never.
   */
  readonly liftsStrings?: (source: string) => boolean;
  /** How calls are compiled: operators by name, functions by overload id (see {@link CallTable}). */
  readonly calls: CallTable;
  /** Compiles a call that {@link calls} does not specialise or declines. Default: overload dispatch. */
  readonly otherCall?: CallCompiler;
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
