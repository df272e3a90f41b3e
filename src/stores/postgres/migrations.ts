/**
 * Versioned schema migrations of the PostgreSQL run store.
 *
 * Migrations are append-only: a released migration is never edited, a change is a new version.
 * Each one runs in its own transaction together with the row that records it in
 * `cancelkit_migrations`, so a crash leaves the schema at a whole version.
 *
 * @module
 */
import type { PoolClient } from "pg";
import { StoreError } from "../types.js";
import { quoteIdentifier, toStoreError, type Database } from "./db.js";

/** One schema change. */
export interface PostgresMigration {
  /** Strictly increasing, starting at 1. */
  readonly version: number;
  /** Short description, stored with the version. */
  readonly name: string;
  /**
   * SQL statements run in order inside one transaction. `{schema}` stands for the quoted schema
   * name; nothing else is substituted (no user input ever reaches these statements).
   */
  readonly statements: readonly string[];
}

/*
 * Why a run's `started_at` is `bigint` epoch milliseconds rather than `timestamptz`:
 * the contract's times are JS numbers of milliseconds and the keyset cursor must compare exactly
 * to the millisecond. `bigint` round-trips a JS safe integer with no time-zone, no Date parsing and
 * no microsecond residue, and a cursor parameter binds as the same integer it was read as.
 * `timestamptz` would be as exact (microsecond resolution) but every read would go through `Date`
 * and every bound through a conversion, for nothing the store needs.
 *
 * `id` columns use `COLLATE "C"` so that keyset ordering is byte order, independent of the
 * database's default collation (a locale collation would order ids differently from the cursor
 * comparison and break paging). ULIDs are ASCII, for which byte order equals JS string order.
 *
 * `event` is `jsonb` (operators for the pushdown prefilter). jsonb cannot hold `\u0000` in a
 * string, which JSON allows; such events are kept exactly in `event_json` (`json`, stored as
 * text) with `event` NULL, and a pushdown scan always keeps those rows (the prefilter cannot judge
 * them), so the superset guarantee holds.
 */
const INITIAL_SCHEMA: PostgresMigration = {
  version: 1,
  name: "runs, cancellations, idempotency keys",
  statements: [
    `CREATE TABLE {schema}.runs (
       id text COLLATE "C" PRIMARY KEY,
       environment_id text NOT NULL,
       app_id text NOT NULL,
       function_id text NOT NULL,
       started_at bigint NOT NULL,
       status text NOT NULL
         CHECK (status IN ('queued', 'running', 'sleeping', 'waiting', 'completed', 'failed', 'cancelled')),
       event jsonb,
       event_json json,
       cancellation_id text COLLATE "C",
       CONSTRAINT runs_event_one_form CHECK ((event IS NULL) <> (event_json IS NULL))
     )`,
    `CREATE INDEX runs_window_idx ON {schema}.runs (environment_id, app_id, function_id, started_at, id)`,
    // Times of a cancellation are double precision: exact for every JS number, so a record reads
    // back as it was written whatever the caller put in it (the planner writes integers).
    `CREATE TABLE {schema}.cancellations (
       id text COLLATE "C" PRIMARY KEY,
       environment_id text NOT NULL,
       app_id text NOT NULL,
       function_id text NOT NULL,
       started_after double precision,
       started_before double precision NOT NULL,
       if_expr text,
       created_at double precision NOT NULL,
       updated_at double precision NOT NULL,
       status text NOT NULL
         CHECK (status IN ('running', 'completed', 'aborted', 'stopped_max_runs', 'failed')),
       scanned bigint NOT NULL DEFAULT 0,
       cancelled bigint NOT NULL DEFAULT 0,
       skipped_terminal bigint NOT NULL DEFAULT 0,
       not_matched bigint NOT NULL DEFAULT 0,
       expression_error bigint NOT NULL DEFAULT 0,
       non_boolean bigint NOT NULL DEFAULT 0,
       cursor_started_at double precision,
       cursor_id text COLLATE "C",
       CONSTRAINT cancellations_cursor_whole CHECK ((cursor_started_at IS NULL) = (cursor_id IS NULL))
     )`,
    `CREATE INDEX cancellations_environment_idx ON {schema}.cancellations (environment_id, id)`,
    // A key belongs to its cancellation: deleting the record frees the key (ON DELETE CASCADE).
    // The reference is checked at commit, so a creation can claim the key before inserting the
    // record (the key decides between "created" and "already exists" before any id conflict).
    `CREATE TABLE {schema}.idempotency_keys (
       environment_id text NOT NULL,
       key text NOT NULL,
       request_hash text NOT NULL,
       cancellation_id text COLLATE "C" NOT NULL
         REFERENCES {schema}.cancellations (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
       created_at double precision NOT NULL,
       PRIMARY KEY (environment_id, key)
     )`,
    `CREATE INDEX idempotency_keys_cancellation_idx ON {schema}.idempotency_keys (cancellation_id)`,
  ],
};

/*
 * Version 2: the shards of a cancellation that several workers execute (issue 5).
 *
 * A shard is the slice of its job's window strictly after `(after_started_at, after_id)` and at or
 * before `(until_started_at, until_id)` (NULL: open at that end), so the shards of a job partition
 * the window's keyset range exactly. Bounds are run positions (integers); the cursor is a planner
 * checkpoint, which may be the end-of-window position, so it is `double precision` like the
 * cancellation's own cursor.
 *
 * A shard row holds its own checkpoint (cursor and the six counts): a worker's batch commit
 * touches only its shard's row, never the job's, so workers do not queue on one hot row. The job's
 * counts are the sum of its shards' and are computed when the record is read.
 *
 * Leases: `lease_owner` and `lease_expires_at` (the database's clock, so that workers on different
 * machines agree). Deleting the cancellation deletes its shards (ON DELETE CASCADE), which waits
 * for a shard commit in flight and makes the next one find the shard gone.
 */
const SHARDS: PostgresMigration = {
  version: 2,
  name: "cancellation shards for several workers",
  statements: [
    `CREATE TABLE {schema}.cancellation_shards (
       cancellation_id text COLLATE "C" NOT NULL REFERENCES {schema}.cancellations (id) ON DELETE CASCADE,
       shard_no integer NOT NULL CHECK (shard_no >= 0),
       after_started_at bigint,
       after_id text COLLATE "C",
       until_started_at bigint,
       until_id text COLLATE "C",
       cursor_started_at double precision,
       cursor_id text COLLATE "C",
       scanned bigint NOT NULL DEFAULT 0,
       cancelled bigint NOT NULL DEFAULT 0,
       skipped_terminal bigint NOT NULL DEFAULT 0,
       not_matched bigint NOT NULL DEFAULT 0,
       expression_error bigint NOT NULL DEFAULT 0,
       non_boolean bigint NOT NULL DEFAULT 0,
       status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done')),
       lease_owner text,
       lease_expires_at timestamptz,
       updated_at double precision NOT NULL,
       PRIMARY KEY (cancellation_id, shard_no),
       CONSTRAINT cancellation_shards_after_whole CHECK ((after_started_at IS NULL) = (after_id IS NULL)),
       CONSTRAINT cancellation_shards_until_whole CHECK ((until_started_at IS NULL) = (until_id IS NULL)),
       CONSTRAINT cancellation_shards_cursor_whole CHECK ((cursor_started_at IS NULL) = (cursor_id IS NULL)),
       CONSTRAINT cancellation_shards_leased CHECK (status <> 'running' OR (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL))
     )`,
    // Workers look for shards not done; done ones (nearly all, over time) stay out of the index.
    `CREATE INDEX cancellation_shards_open_idx ON {schema}.cancellation_shards (cancellation_id, shard_no) WHERE status <> 'done'`,
  ],
};

/** A job's settings (batch size, rate, max runs), reused on resume; NULL on records from before. */
const SETTINGS: PostgresMigration = {
  version: 3,
  name: "job settings on cancellations",
  statements: [`ALTER TABLE {schema}.cancellations ADD COLUMN settings jsonb`],
};

/**
 * The owner lease of a job run by one process (see `RunStore.leaseCancellation`): its owner and
 * when it ends, by the database's clock (as the shards' leases), so that processes on different
 * machines agree.
 */
const JOB_LEASE: PostgresMigration = {
  version: 4,
  name: "owner lease of a cancellation's job",
  statements: [`ALTER TABLE {schema}.cancellations ADD COLUMN lease_owner text, ADD COLUMN lease_expires_at timestamptz`],
};

/*
 * A job's rate budget shared by every worker (issue 15): one token bucket row per rate-limited
 * job, refilled at the job's rate by the database's clock and taken from in one `UPDATE` (see
 * `rate-budget.ts`), so that the rate is one budget for the whole job whatever the number of
 * workers and machines. Deleting the job deletes its bucket.
 */
const RATE_BUDGETS: PostgresMigration = {
  version: 5,
  name: "shared rate budget of a job",
  statements: [
    `CREATE TABLE {schema}.cancellation_rate_budgets (
       cancellation_id text COLLATE "C" PRIMARY KEY REFERENCES {schema}.cancellations (id) ON DELETE CASCADE,
       tokens double precision NOT NULL,
       refilled_at timestamptz NOT NULL,
       granted boolean NOT NULL DEFAULT false
     )`,
  ],
};

/** Every migration, in version order. */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [INITIAL_SCHEMA, SHARDS, SETTINGS, JOB_LEASE, RATE_BUDGETS];

/** The schema version this code expects after `migrate()`. */
export const POSTGRES_SCHEMA_VERSION: number = POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1]?.version ?? 0;

/** What `migrate()` did. */
export interface MigrationResult {
  /** Versions applied by this call, ascending; empty when the schema was already current. */
  readonly applied: readonly number[];
  /** Schema version after the call. */
  readonly version: number;
}

/** First key of the migration advisory lock ("canc"); the second is `hashtext(schema)`. */
const MIGRATION_LOCK_CLASS = 0x63616e63;

/**
 * Creates the schema and applies every migration not yet applied, under a session advisory lock
 * keyed by the schema (see `PostgresRunStore.migrate`). @internal
 */
export async function migrateSchema(db: Database): Promise<MigrationResult> {
  try {
    const client = await db.pool.connect();
    let destroy = false;
    try {
      await client.query("SELECT pg_advisory_lock($1, hashtext($2))", [MIGRATION_LOCK_CLASS, db.schema]);
      try {
        return await applyMigrations(db, client);
      } finally {
        await client.query("SELECT pg_advisory_unlock($1, hashtext($2))", [MIGRATION_LOCK_CLASS, db.schema]);
      }
    } catch (error) {
      // Ending the session releases a lock the unlock above may not have reached.
      destroy = true;
      throw error;
    } finally {
      client.release(destroy);
    }
  } catch (error) {
    throw toStoreError(error);
  }
}

async function applyMigrations(db: Database, client: PoolClient): Promise<MigrationResult> {
  const schema = quoteIdentifier(db.schema);
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${db.tables.migrations} (
       version integer PRIMARY KEY,
       name text NOT NULL,
       applied_at timestamptz NOT NULL DEFAULT now()
     )`,
  );
  const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${db.tables.migrations}`);
  const done = new Set(rows.map((row) => row.version));
  const newest = Math.max(0, ...done);
  if (newest > POSTGRES_SCHEMA_VERSION) {
    throw new StoreError(
      "storage",
      `schema ${db.schema} is at version ${newest}, newer than this cancelkit knows (${POSTGRES_SCHEMA_VERSION})`,
    );
  }
  const applied: number[] = [];
  for (const migration of POSTGRES_MIGRATIONS) {
    if (done.has(migration.version)) continue;
    await client.query("BEGIN");
    try {
      for (const statement of migration.statements) await client.query(statement.replaceAll("{schema}", schema));
      await client.query(`INSERT INTO ${db.tables.migrations} (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK");
      throw error;
    }
    applied.push(migration.version);
  }
  return { applied, version: POSTGRES_SCHEMA_VERSION };
}
