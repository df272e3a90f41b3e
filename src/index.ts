/**
 * cancelkit: bulk cancellation of workflow runs filtered by CEL expressions.
 *
 * The root entry holds the expression engine, the cancellation planner, the run-store contract
 * and the in-memory store. The SQLite and PostgreSQL stores and the MessagePack / JSON Lines file
 * formats have their own entry points (`cancelkit/stores/sqlite`, `cancelkit/stores/postgres`,
 * `cancelkit/formats/msgpack`; `cancelkit/stores/msgpack` is an alias of the last) so that their
 * drivers load only when used.
 *
 * @module
 */
export * from "./expr/index.js";
export { compile, estimateCost, Program } from "./expr/program.js";
export type { CompileOptions, CostEstimate, CostEstimateOptions, Decision, VariableDeclarations } from "./expr/program.js";
export type { EvalLimits } from "./expr/compiler/context.js";
export type { DialectName, ExtensionName } from "./expr/dialect.js";
export { EXTENSION_NAMES } from "./expr/dialect.js";
export { formatType, parseType } from "./expr/types.js";
export type { Type } from "./expr/types.js";
export { Matcher } from "./expr/matcher/index.js";
export type { MatcherOptions, MatcherStats } from "./expr/matcher/index.js";
export * from "./stores/types.js";
export * from "./stores/checks.js";
export { MemoryRunStore } from "./stores/memory.js";
export type { MemoryRunStoreOptions } from "./stores/memory.js";
export * from "./cancel/index.js";
