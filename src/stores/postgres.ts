/**
 * PostgreSQL run store (`cancelkit/stores/postgres`), on the `pg` driver.
 *
 * Production store: runs, cancellation records and idempotency keys live in one schema created by
 * versioned migrations ({@link PostgresRunStore.migrate}). Scans read one function's window in
 * `(started_at, id)` keyset order from a B-tree index, optionally narrowed by a pushdown predicate
 * over the `event` jsonb column; a batch of cancellations and its checkpoint commit in one
 * transaction that first locks the cancellation row, so a deleted record stops its job.
 *
 * Every value reaches the server as a bound parameter. The pushdown predicate arrives as a tree
 * (`predicate.ts`) and is rendered here (`postgres/pushdown.ts`), its values bound as parameters
 * too.
 *
 * This module is the entry point (`cancelkit/stores/postgres`); the store's parts live in
 * `postgres/`: `store.ts` (the class), `runs.ts`, `scan.ts`, `cancellations.ts` and `shards.ts`
 * (the statements of each concern), `pushdown.ts` (the predicate's SQL), `rows.ts` (row
 * mapping), `db.ts` (pool, transactions, retries, errors) and `migrations.ts` (the schema).
 *
 * Several workers can share one cancellation ({@link ShardedRunStore}): its window is split into
 * shards (`cancellation_shards`, migration 2) of about equal run counts, each with its own
 * checkpoint and lease; see {@link PostgresRunStore.createShardedCancellation}.
 *
 * JSON fidelity: an event is stored as `jsonb`, which keeps every JSON value exactly (numbers
 * are `numeric`, so every double round-trips) except that object key order is not kept (jsonb
 * sorts keys); `-0` is already `0` after validation. Events with a NUL character in a string,
 * which jsonb rejects, are kept verbatim in a `json` column instead (see `postgres/migrations.ts`).
 * PostgreSQL `text` cannot hold NUL at all, so app, function and environment ids, the `if`
 * expression and idempotency keys containing one are rejected with a typed error.
 *
 * @module
 */
export { PostgresRunStore } from "./postgres/store.js";
export type { PostgresRunStoreOptions } from "./postgres/store.js";
export { POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION } from "./postgres/migrations.js";
export type { MigrationResult, PostgresMigration } from "./postgres/migrations.js";
export { MAX_LEASE_MS, MAX_WORKER_ID_LENGTH } from "./types.js";
/** Most shards one cancellation can be split into. @deprecated Use `MAX_SHARD_COUNT` (the same constant). */
export { MAX_SHARD_COUNT as MAX_SHARDS } from "./types.js";
