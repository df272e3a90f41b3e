/**
 * The CEL front end: lexer, Chevrotain parser and macro expansion. Only this folder imports
 * Chevrotain.
 *
 * @module
 */
export { parse } from "./parse.js";
export type { ParseOptions } from "./parse.js";
export type { MacroLibrary } from "./ext-macros.js";
export { UNUSED_ITER_VAR } from "./ext-macros.js";
