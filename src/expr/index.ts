/**
 * The CEL expression engine: parser, checker and closure compiler.
 *
 * @module
 */
export type * from "./ast.js";
export { Source } from "./ast.js";
export { CompileError, EvalError, formatIssue, formatIssues } from "./errors.js";
export type { Issue, IssueCode, EvalErrorCode } from "./errors.js";
export { CelUint, CelTimestamp, CelDuration, CelType, CelError, CelOptional, TYPES } from "./values.js";
export { parse } from "./parser/index.js";
export type { ParseOptions } from "./parser/index.js";
export { unparse } from "./unparse.js";
