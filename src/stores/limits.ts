/**
 * The store contract's limits: what every store accepts at most (part of the contract, with
 * `types.ts`, which re-exports them).
 *
 * @module
 */

/** Longest id (run or cancellation) a store accepts. */
export const MAX_ID_LENGTH = 128;

/** Deepest nesting of objects and arrays inside a run's `event` (the event itself is level 1). */
export const MAX_EVENT_DEPTH = 100;

/** Default page size of `listCancellations`. */
export const DEFAULT_LIST_LIMIT = 100;

/** Largest page size of `listCancellations`; larger limits are lowered to it. */
export const MAX_LIST_LIMIT = 1000;

/** Most shards one cancellation can be split into (`ShardedRunStore.planShards`). */
export const MAX_SHARD_COUNT = 1000;

/** Longest shard lease a worker may ask for, ms (one day). */
export const MAX_LEASE_MS = 86_400_000;

/** Longest worker id, characters. */
export const MAX_WORKER_ID_LENGTH = 200;

/** Largest `ExactBatch.scanLimit` a store accepts. */
export const MAX_EXACT_SCAN_LIMIT = 1_000_000;
