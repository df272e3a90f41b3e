/**
 * cancelkit: bulk cancellation of workflow runs filtered by CEL expressions.
 *
 * @module
 */
export * from "./expr/index.js";
export * from "./stores/types.js";
