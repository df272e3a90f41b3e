/**
 * Dialects: the rules that differ between the CEL specification and Inngest's evaluation.
 *
 * @module
 */
import type { CallExpr } from "./ast.js";
import type { Fn } from "./compiler/context.js";
import type { CompilerHooks } from "./compiler/hooks.js";
import { functionTable, type FunctionDecl } from "./decls.js";
import { STANDARD_FUNCTIONS, STRINGS_EXTENSION } from "./stdlib.js";
import type { Type } from "./types.js";

/** Name of a dialect. */
export type DialectName = "cel" | "inngest";

/** What a dialect changes. */
export interface Dialect {
  readonly name: DialectName;
  /** Missing fields, keys and variables read as null instead of failing. */
  readonly lenient: boolean;
  /** Functions known to the checker and compiler. */
  readonly functions: ReadonlyMap<string, FunctionDecl>;
  /** Variables declared when the caller declares none; `undefined` means every name is `dyn`. */
  readonly defaultVariables: ReadonlyMap<string, Type> | undefined;
  /** Operators accepting operands of any types, with their result type (see the checker). */
  readonly looseOperators?: ReadonlyMap<string, Type>;
  /** Compiles a call the dialect treats specially, or returns `undefined` for the default. */
  compileCall?(e: CallExpr, hooks: CompilerHooks): Fn | undefined;
}

/** The CEL specification: standard library plus the strings extension. */
export const CEL_DIALECT: Dialect = {
  name: "cel",
  lenient: false,
  functions: functionTable(STANDARD_FUNCTIONS, STRINGS_EXTENSION),
  defaultVariables: undefined,
};
