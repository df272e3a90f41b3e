/**
 * PostgreSQL run store (`cancelkit/stores/postgres`), on the `pg` driver.
 *
 * Production store: runs, cancellation records and idempotency keys live in one schema created by
 * versioned migrations ({@link PostgresRunStore.migrate}). Scans read one function's window in
 * `(started_at, id)` keyset order from a B-tree index, optionally narrowed by a pushdown predicate
 * over the `event` jsonb column; a batch of cancellations and its checkpoint commit in one
 * transaction that first locks the cancellation row, so a deleted record stops its job.
 *
 * Every value reaches the server as a bound parameter. The only SQL text not written here is the
 * pushdown predicate, which the planner generates from the checked AST (user values inside it are
 * parameters too) and which this store renumbers, never interpolates into.
 *
 * Several workers can share one cancellation ({@link ShardedRunStore}): its window is split into
 * shards (`cancellation_shards`, migration 2) of about equal run counts, each with its own
 * checkpoint and lease; see {@link PostgresRunStore.createShardedCancellation}.
 *
 * JSON fidelity: an event is stored as `jsonb`, which keeps every JSON value exactly (numbers
 * are `numeric`, so every double round-trips) except that object key order is not kept (jsonb
 * sorts keys); `-0` is already `0` after validation. Events with a NUL character in a string,
 * which jsonb rejects, are kept verbatim in a `json` column instead (see `postgres-migrations.ts`).
 * PostgreSQL `text` cannot hold NUL at all, so app, function and environment ids, the `if`
 * expression and idempotency keys containing one are rejected with a typed error.
 *
 * @module
 */
import pg from "pg";
import type { PoolClient, QueryResultRow } from "pg";
import { POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION } from "./postgres-migrations.js";
import {
  checkIdempotency,
  checkListOptions,
  checkRunStatus,
  isValidId,
  normalizeCancellationRecord,
  normalizeCheckpoint,
  normalizeCommitBatch,
  normalizeRunIds,
  normalizeRunRecord,
  normalizeScanQuery,
} from "./checks.js";
import {
  StoreError,
  type CancellationPage,
  type CancellationRecord,
  type CancellationStatus,
  type Checkpoint,
  type CommitBatch,
  type CommitResult,
  type CreateResult,
  type Cursor,
  type BoundedScanQuery,
  type RunEvent,
  type RunRecord,
  type RunStatus,
  type RunStore,
  type ScanPage,
  type ShardBounds,
  type ShardCommit,
  type ShardCommitResult,
  type ShardLeaseResult,
  type ShardRecord,
  type ShardStatus,
  type ShardWindow,
  type ShardedRunStore,
  type StoreErrorCode,
} from "./types.js";

export { POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION } from "./postgres-migrations.js";
export type { PostgresMigration } from "./postgres-migrations.js";

/** Options of {@link PostgresRunStore}. */
export interface PostgresRunStoreOptions {
  /** libpq-style URL, e.g. `postgres://user@host:5432/db`. */
  readonly connectionString: string;
  /** Most connections the pool opens at once. Default 10. */
  readonly poolSize?: number;
  /**
   * Schema holding the store's tables; `migrate()` creates it when missing. Default `public`.
   * Any name is accepted (it is quoted as an identifier).
   */
  readonly schema?: string;
  /** Clock for `updatedAt` of cancellation records, epoch ms. Default `Date.now`. */
  readonly now?: () => number;
  /**
   * Called when an idle pooled connection fails (e.g. the server restarted). The pool already
   * discards that connection; without this option the error is ignored instead of crashing the
   * process as an unhandled `error` event would.
   */
  readonly onPoolError?: (error: Error) => void;
}

/** What `migrate()` did. */
export interface MigrationResult {
  /** Versions applied by this call, ascending; empty when the schema was already current. */
  readonly applied: readonly number[];
  /** Schema version after the call. */
  readonly version: number;
}

const DEFAULT_POOL_SIZE = 10;
const DEFAULT_SCHEMA = "public";
/** Rows per INSERT statement: big enough to amortise round trips, small enough to keep each message a few MB. */
const INSERT_CHUNK_ROWS = 5000;
/** First key of the migration advisory lock ("canc"); the second is `hashtext(schema)`. */
const MIGRATION_LOCK_CLASS = 0x63616e63;
/** Attempts of a statement or transaction that hit a deadlock or serialization failure. */
const ATTEMPTS = 5;
const INT8_OID = 20;
const NON_TERMINAL_SQL = "('queued', 'running', 'sleeping', 'waiting')";

const RUN_COLUMNS = "id, environment_id, app_id, function_id, started_at, status, event, event_json, cancellation_id";
/** Columns a window scan reads: environment, app and function are the query's, so not read back. */
const SCAN_COLUMNS = "id, started_at, status, event, event_json, cancellation_id";

interface ScanScope {
  readonly environmentId: string;
  readonly appId: string;
  readonly functionId: string;
}
const CANCELLATION_COLUMN_LIST = [
  "id",
  "environment_id",
  "app_id",
  "function_id",
  "started_after",
  "started_before",
  "if_expr",
  "created_at",
  "updated_at",
  "status",
  "scanned",
  "cancelled",
  "skipped_terminal",
  "not_matched",
  "expression_error",
  "non_boolean",
  "cursor_started_at",
  "cursor_id",
] as const;
const CANCELLATION_COLUMNS = CANCELLATION_COLUMN_LIST.join(", ");
const COUNT_COLUMNS = ["scanned", "cancelled", "skipped_terminal", "not_matched", "expression_error", "non_boolean"] as const;
/** Most shards one cancellation can be split into. */
export const MAX_SHARDS = 1000;
/** Longest lease a worker may ask for, ms (one day). */
export const MAX_LEASE_MS = 86_400_000;
/** Longest worker id, characters. */
export const MAX_WORKER_ID_LENGTH = 200;
/** Select list of a shard read, columns qualified by `prefix` (e.g. `"s."`). */
function shardColumns(prefix = ""): string {
  const plain = [
    "cancellation_id",
    "shard_no",
    "after_started_at",
    "after_id",
    "until_started_at",
    "until_id",
    "cursor_started_at",
    "cursor_id",
    ...COUNT_COLUMNS,
    "status",
    "lease_owner",
    "updated_at",
  ];
  return `${plain.map((column) => prefix + column).join(", ")}, (extract(epoch FROM ${prefix}lease_expires_at) * 1000)::double precision AS lease_expires_at`;
}

interface RunRow extends QueryResultRow {
  id: string;
  environment_id: string;
  app_id: string;
  function_id: string;
  started_at: number;
  status: RunStatus;
  event: RunEvent | null;
  event_json: RunEvent | null;
  cancellation_id: string | null;
}

/** A row of a window scan: the run columns that vary (the scope is the query's). */
type ScanRow = Pick<RunRow, "id" | "started_at" | "status" | "event" | "event_json" | "cancellation_id">;

interface PushdownRunRow extends ScanRow, QueryResultRow {
  /** Position of the row in the slice, from 1. */
  rn: number;
  /** Whether the pushdown predicate kept the row. */
  hit: boolean;
}

interface CancellationRow extends QueryResultRow {
  id: string;
  environment_id: string;
  app_id: string;
  function_id: string;
  started_after: number | null;
  started_before: number;
  if_expr: string | null;
  created_at: number;
  updated_at: number;
  status: CancellationStatus;
  scanned: number;
  cancelled: number;
  skipped_terminal: number;
  not_matched: number;
  expression_error: number;
  non_boolean: number;
  cursor_started_at: number | null;
  cursor_id: string | null;
  /** Shards of the job (0: not sharded) and the sums of their counts (NULL without shards). */
  shard_count: number;
  shard_scanned: number | null;
  shard_cancelled: number | null;
  shard_skipped_terminal: number | null;
  shard_not_matched: number | null;
  shard_expression_error: number | null;
  shard_non_boolean: number | null;
  shard_updated_at: number | null;
}

interface ShardRow extends QueryResultRow {
  cancellation_id: string;
  shard_no: number;
  after_started_at: number | null;
  after_id: string | null;
  until_started_at: number | null;
  until_id: string | null;
  cursor_started_at: number | null;
  cursor_id: string | null;
  scanned: number;
  cancelled: number;
  skipped_terminal: number;
  not_matched: number;
  expression_error: number;
  non_boolean: number;
  status: ShardStatus;
  lease_owner: string | null;
  lease_expires_at: number | null;
  updated_at: number;
}

/** The statements of one scan page. */
interface ScanPlan {
  readonly limit: number;
  /** Environment, app and function of every run the scan returns. */
  readonly scope: ScanScope;
  /** The window without the pushdown predicate. */
  readonly plain: { readonly sql: string; readonly params: unknown[] };
  /** The window filtered by the pushdown predicate, when there is one. */
  readonly pushdown?: { readonly sql: string; readonly params: unknown[] };
}

/**
 * A `\u0000` in JSON text (not itself an escaped backslash followed by `u0000`): jsonb cannot
 * hold it. Surrogate escapes are listed too, though validation already rejects lone surrogates.
 */
const JSONB_UNSAFE_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|[dD][89a-fA-F])/;

/** Whether PostgreSQL `text` can hold a string (validated strings are already well-formed UTF-16). */
function fitsText(value: string): boolean {
  return !value.includes("\u0000");
}

function requireFitsText(value: string, code: StoreErrorCode, what: string): void {
  if (!fitsText(value)) {
    throw new StoreError(code, `${what} contains a NUL character, which PostgreSQL text cannot hold`);
  }
}

function rowToRun(row: RunRow): RunRecord {
  return scanRowToRun(row, { environmentId: row.environment_id, appId: row.app_id, functionId: row.function_id });
}

function scanRowToRun(row: ScanRow, scope: ScanScope): RunRecord {
  const event = row.event ?? row.event_json;
  if (event === null) throw new StoreError("storage", `run ${row.id} has no event`);
  const run: { -readonly [K in keyof RunRecord]: RunRecord[K] } = {
    id: row.id,
    environmentId: scope.environmentId,
    appId: scope.appId,
    functionId: scope.functionId,
    startedAt: row.started_at,
    status: row.status,
    event,
  };
  if (row.cancellation_id !== null) run.cancellationId = row.cancellation_id;
  return run;
}

function rowToCancellation(row: CancellationRow): CancellationRecord {
  const sharded = row.shard_count > 0;
  const record: { -readonly [K in keyof CancellationRecord]: CancellationRecord[K] } = {
    id: row.id,
    environmentId: row.environment_id,
    appId: row.app_id,
    functionId: row.function_id,
    startedBefore: row.started_before,
    createdAt: row.created_at,
    status: row.status,
    // A sharded job's counts are its shards' (each shard commit saves only its own row).
    counts: sharded
      ? {
          scanned: row.shard_scanned ?? 0,
          cancelled: row.shard_cancelled ?? 0,
          skipped_terminal: row.shard_skipped_terminal ?? 0,
          not_matched: row.shard_not_matched ?? 0,
          expression_error: row.shard_expression_error ?? 0,
          non_boolean: row.shard_non_boolean ?? 0,
        }
      : {
          scanned: row.scanned,
          cancelled: row.cancelled,
          skipped_terminal: row.skipped_terminal,
          not_matched: row.not_matched,
          expression_error: row.expression_error,
          non_boolean: row.non_boolean,
        },
    updatedAt: sharded ? Math.max(row.updated_at, row.shard_updated_at ?? row.updated_at) : row.updated_at,
  };
  if (row.started_after !== null) record.startedAfter = row.started_after;
  if (row.if_expr !== null) record.if = row.if_expr;
  // A sharded job has no single cursor: each shard keeps its own.
  if (!sharded && row.cursor_started_at !== null && row.cursor_id !== null) {
    record.cursor = { startedAt: row.cursor_started_at, id: row.cursor_id };
  }
  return record;
}

function rowToShard(row: ShardRow): ShardRecord {
  const shard: { -readonly [K in keyof ShardRecord]: ShardRecord[K] } = {
    cancellationId: row.cancellation_id,
    shardNo: row.shard_no,
    counts: {
      scanned: row.scanned,
      cancelled: row.cancelled,
      skipped_terminal: row.skipped_terminal,
      not_matched: row.not_matched,
      expression_error: row.expression_error,
      non_boolean: row.non_boolean,
    },
    status: row.status,
    updatedAt: row.updated_at,
  };
  if (row.after_started_at !== null && row.after_id !== null) shard.after = { startedAt: row.after_started_at, id: row.after_id };
  if (row.until_started_at !== null && row.until_id !== null) shard.until = { startedAt: row.until_started_at, id: row.until_id };
  if (row.cursor_started_at !== null && row.cursor_id !== null) shard.cursor = { startedAt: row.cursor_started_at, id: row.cursor_id };
  if (row.lease_owner !== null) shard.leaseOwner = row.lease_owner;
  if (row.lease_expires_at !== null) shard.leaseExpiresAt = row.lease_expires_at;
  return shard;
}

/**
 * Shard bounds from the ordered cut positions: shard j holds the runs after cut j-1 and at or
 * before cut j; the first is open below, the last above.
 */
function boundsFromCuts(cuts: readonly Cursor[]): ShardBounds[] {
  const bounds: ShardBounds[] = [];
  for (let j = 0; j <= cuts.length; j++) {
    const after = cuts[j - 1];
    const until = cuts[j];
    bounds.push({ ...(after !== undefined ? { after } : {}), ...(until !== undefined ? { until } : {}) });
  }
  return bounds;
}

function checkShardCount(count: unknown): number {
  if (typeof count !== "number" || !Number.isSafeInteger(count) || count < 1 || count > MAX_SHARDS) {
    throw new StoreError("invalid_option", `shard count must be an integer from 1 to ${MAX_SHARDS}, got ${String(count)}`);
  }
  return count;
}

function checkWorkerId(workerId: unknown, code: StoreErrorCode): string {
  if (typeof workerId !== "string" || workerId.length === 0 || workerId.length > MAX_WORKER_ID_LENGTH || !fitsText(workerId)) {
    throw new StoreError(code, `workerId must be a string of 1 to ${MAX_WORKER_ID_LENGTH} characters without NUL, got ${typeof workerId === "string" ? JSON.stringify(workerId.slice(0, 40)) : typeof workerId}`);
  }
  return workerId;
}

function checkLeaseMs(leaseMs: unknown, code: StoreErrorCode): number {
  if (typeof leaseMs !== "number" || !Number.isSafeInteger(leaseMs) || leaseMs < 1 || leaseMs > MAX_LEASE_MS) {
    throw new StoreError(code, `leaseMs must be an integer from 1 to ${MAX_LEASE_MS}, got ${String(leaseMs)}`);
  }
  return leaseMs;
}

function checkShardNo(shardNo: unknown, code: StoreErrorCode): number {
  if (typeof shardNo !== "number" || !Number.isSafeInteger(shardNo) || shardNo < 0 || shardNo >= MAX_SHARDS) {
    throw new StoreError(code, `shardNo must be an integer from 0 to ${MAX_SHARDS - 1}, got ${String(shardNo)}`);
  }
  return shardNo;
}

const SHARD_STATUSES: ReadonlySet<string> = new Set<ShardStatus>(["pending", "running", "done"]);

/** Checks a scan's optional `until` bound. */
function checkUntil(value: unknown): Cursor | undefined {
  if (value === undefined) return undefined;
  const cursor = value as { startedAt?: unknown; id?: unknown } | null;
  if (typeof cursor !== "object" || cursor === null || typeof cursor.startedAt !== "number" || !Number.isFinite(cursor.startedAt) || !isValidId(cursor.id)) {
    throw new StoreError("invalid_query", "scan query: until must be a cursor { startedAt: finite number, id: valid id }");
  }
  return { startedAt: cursor.startedAt, id: cursor.id };
}

/** Quotes an SQL identifier (doubling embedded quotes), so any schema name is safe. */
function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function isIdentifierChar(ch: string | undefined): boolean {
  return ch !== undefined && /[A-Za-z0-9_$\u0080-\uffff]/.test(ch);
}

/**
 * Shifts the `$n` placeholders of a SQL fragment by `offset`, so that a fragment written with its
 * own parameters `$1..$paramCount` can follow `offset` parameters of an enclosing statement.
 * String literals (`'…'`, `E'…'`), quoted identifiers, dollar-quoted strings and comments are
 * copied unchanged, and so is a `$` inside an identifier (`a$1`).
 *
 * @throws {@link StoreError} `invalid_query` when a placeholder is outside `1..paramCount` or a
 * literal, identifier or comment is unterminated.
 */
export function renumberPlaceholders(sql: string, offset: number, paramCount: number): string {
  const fail = (why: string): StoreError => new StoreError("invalid_query", `pushdown SQL: ${why}`);
  let out = "";
  let i = 0;
  const length = sql.length;
  while (i < length) {
    const ch = sql[i]!;
    if (ch === "'") {
      const backslashEscapes = (sql[i - 1] === "E" || sql[i - 1] === "e") && !isIdentifierChar(sql[i - 2]);
      let j = i + 1;
      for (;;) {
        if (j >= length) throw fail("unterminated string literal");
        if (backslashEscapes && sql[j] === "\\") j += 2;
        else if (sql[j] === "'" && sql[j + 1] === "'") j += 2;
        else if (sql[j] === "'") break;
        else j += 1;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (ch === '"') {
      let j = i + 1;
      for (;;) {
        if (j >= length) throw fail("unterminated quoted identifier");
        if (sql[j] === '"' && sql[j + 1] === '"') j += 2;
        else if (sql[j] === '"') break;
        else j += 1;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (ch === "-" && sql[i + 1] === "-") {
      const end = sql.indexOf("\n", i);
      const stop = end < 0 ? length : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (ch === "/" && sql[i + 1] === "*") {
      // PostgreSQL block comments nest.
      let depth = 1;
      let j = i + 2;
      while (depth > 0) {
        if (j >= length) throw fail("unterminated comment");
        if (sql[j] === "/" && sql[j + 1] === "*") {
          depth += 1;
          j += 2;
        } else if (sql[j] === "*" && sql[j + 1] === "/") {
          depth -= 1;
          j += 2;
        } else {
          j += 1;
        }
      }
      out += sql.slice(i, j);
      i = j;
    } else if (ch === "$" && !isIdentifierChar(sql[i - 1])) {
      const placeholder = /\$(\d+)/y;
      placeholder.lastIndex = i;
      const number = placeholder.exec(sql);
      if (number !== null) {
        const n = Number(number[1]);
        if (!(n >= 1 && n <= paramCount)) throw fail(`placeholder $${number[1]} outside $1..$${paramCount}`);
        out += `$${n + offset}`;
        i += number[0].length;
        continue;
      }
      const tag = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;
      tag.lastIndex = i;
      const opening = tag.exec(sql);
      if (opening !== null) {
        const end = sql.indexOf(opening[0], i + opening[0].length);
        if (end < 0) throw fail("unterminated dollar-quoted string");
        out += sql.slice(i, end + opening[0].length);
        i = end + opening[0].length;
        continue;
      }
      out += ch;
      i += 1;
    } else {
      out += ch;
      i += 1;
    }
  }
  return out;
}

function sqlState(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && typeof (error as { code?: unknown }).code === "string"
    ? (error as { code: string }).code
    : undefined;
}

function isRetryable(error: unknown): boolean {
  const state = sqlState(error);
  return state === "40P01" || state === "40001";
}

/** A short random pause before retrying after a deadlock, so the retries do not collide again. */
function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
}

/** Driver and server failures become `storage` {@link StoreError}s; store errors pass through. */
function toStoreError(error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const state = sqlState(error);
  return new StoreError("storage", `PostgreSQL: ${message}${state === undefined ? "" : ` (SQLSTATE ${state})`}`, {
    cause: error,
  });
}

/** Type parsers of the store's pool: int8 as a checked JS number, everything else as pg's default. */
function makeTypeParsers(): pg.CustomTypesConfig {
  const types = new pg.TypeOverrides();
  types.setTypeParser(INT8_OID, "text", (text: string) => {
    const value = Number(text);
    if (!Number.isSafeInteger(value)) throw new StoreError("storage", `bigint ${text} does not fit a JS safe integer`);
    return value;
  });
  return types;
}

/** Thrown inside a transaction to roll it back without an error. */
const ROLL_BACK: unique symbol = Symbol("roll back");

/**
 * The {@link RunStore} on PostgreSQL. Create it, `await migrate()`, use it, `await close()`.
 * Every method rejects with a {@link StoreError}: input errors with their `invalid_*` code,
 * database failures (and use before `migrate()`) with `storage`, use after `close()` with `closed`.
 *
 * @example
 * ```ts
 * const store = new PostgresRunStore({ connectionString: process.env.DATABASE_URL!, poolSize: 20 });
 * await store.migrate();
 * ```
 */
export class PostgresRunStore implements ShardedRunStore {
  /** The schema the tables live in. */
  readonly schema: string;
  /** Most connections the pool holds. */
  readonly poolSize: number;
  readonly #pool: pg.Pool;
  readonly #now: () => number;
  readonly #table: {
    readonly runs: string;
    readonly cancellations: string;
    readonly keys: string;
    readonly shards: string;
    readonly migrations: string;
  };
  /** `FROM` clause of a cancellation read: the record (alias `c`) with the sums of its shards. */
  readonly #cancellationSource: string;
  /** Select list of a cancellation read over {@link #cancellationSource}. */
  readonly #cancellationSelect: string;
  #migrated = false;
  #closed = false;
  #closing: Promise<void> | undefined;

  /**
   * @param options - See {@link PostgresRunStoreOptions}. No connection is opened until the first call.
   * @throws TypeError when an option is invalid.
   */
  constructor(options: PostgresRunStoreOptions) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("PostgresRunStore options must be an object with a connectionString");
    }
    if (typeof options.connectionString !== "string" || options.connectionString.length === 0) {
      throw new TypeError("PostgresRunStore: connectionString must be a non-empty string");
    }
    const poolSize = options.poolSize ?? DEFAULT_POOL_SIZE;
    if (!Number.isSafeInteger(poolSize) || poolSize < 1) {
      throw new TypeError(`PostgresRunStore: poolSize must be a positive integer, got ${String(poolSize)}`);
    }
    const schema = options.schema ?? DEFAULT_SCHEMA;
    if (typeof schema !== "string" || schema.length === 0 || !fitsText(schema)) {
      throw new TypeError("PostgresRunStore: schema must be a non-empty string without NUL characters");
    }
    if (options.now !== undefined && typeof options.now !== "function") {
      throw new TypeError("PostgresRunStore: now must be a function returning epoch milliseconds");
    }
    this.schema = schema;
    this.poolSize = poolSize;
    this.#now = options.now ?? Date.now;
    const quoted = quoteIdentifier(schema);
    this.#table = {
      runs: `${quoted}.runs`,
      cancellations: `${quoted}.cancellations`,
      keys: `${quoted}.idempotency_keys`,
      shards: `${quoted}.cancellation_shards`,
      migrations: `${quoted}.cancelkit_migrations`,
    };
    this.#cancellationSource =
      `${this.#table.cancellations} AS c LEFT JOIN LATERAL (SELECT count(*)::integer AS shard_count, ` +
      COUNT_COLUMNS.map((column) => `sum(sh.${column})::bigint AS shard_${column}`).join(", ") +
      `, max(sh.updated_at) AS shard_updated_at FROM ${this.#table.shards} AS sh WHERE sh.cancellation_id = c.id) AS s ON true`;
    this.#cancellationSelect =
      CANCELLATION_COLUMN_LIST.map((column) => `c.${column}`).join(", ") +
      ", s.shard_count, " +
      COUNT_COLUMNS.map((column) => `s.shard_${column}`).join(", ") +
      ", s.shard_updated_at";
    this.#pool = new pg.Pool({
      connectionString: options.connectionString,
      max: poolSize,
      types: makeTypeParsers(),
      fallback_application_name: "cancelkit",
    });
    const onPoolError = options.onPoolError;
    this.#pool.on("error", (error) => onPoolError?.(error));
  }

  /**
   * Creates the schema and applies every migration not yet applied, each in its own transaction
   * together with its row in `cancelkit_migrations`. Safe to call from several processes at once
   * (a session advisory lock keyed by the schema serialises them) and a no-op when the schema is
   * current. Must finish before any other method is used.
   *
   * @throws {@link StoreError} `storage` when the database is unreachable or was migrated by a
   * newer cancelkit.
   */
  async migrate(): Promise<MigrationResult> {
    this.#assertOpen();
    try {
      const client = await this.#pool.connect();
      let destroy = false;
      try {
        await client.query("SELECT pg_advisory_lock($1, hashtext($2))", [MIGRATION_LOCK_CLASS, this.schema]);
        try {
          const result = await this.#applyMigrations(client);
          this.#migrated = true;
          return result;
        } finally {
          await client.query("SELECT pg_advisory_unlock($1, hashtext($2))", [MIGRATION_LOCK_CLASS, this.schema]);
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

  async #applyMigrations(client: PoolClient): Promise<MigrationResult> {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(this.schema)}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${this.#table.migrations} (
         version integer PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${this.#table.migrations}`);
    const done = new Set(rows.map((row) => row.version));
    const newest = Math.max(0, ...done);
    if (newest > POSTGRES_SCHEMA_VERSION) {
      throw new StoreError(
        "storage",
        `schema ${this.schema} is at version ${newest}, newer than this cancelkit knows (${POSTGRES_SCHEMA_VERSION})`,
      );
    }
    const applied: number[] = [];
    for (const migration of POSTGRES_MIGRATIONS) {
      if (done.has(migration.version)) continue;
      await client.query("BEGIN");
      try {
        for (const statement of migration.statements) {
          await client.query(statement.replaceAll("{schema}", quoteIdentifier(this.schema)));
        }
        await client.query(`INSERT INTO ${this.#table.migrations} (version, name) VALUES ($1, $2)`, [
          migration.version,
          migration.name,
        ]);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      }
      applied.push(migration.version);
    }
    return { applied, version: POSTGRES_SCHEMA_VERSION };
  }

  /**
   * Adds runs or replaces those with the same id (`ON CONFLICT (id) DO UPDATE`), all in one
   * transaction, as multi-row `INSERT … SELECT FROM unnest(…)` statements of up to 5,000 rows.
   * Every run is validated first (nothing is written when one is bad); when the input holds one id
   * twice, the later run wins.
   */
  async insertRuns(runs: readonly RunRecord[]): Promise<void> {
    return this.#call(async () => {
      if (!Array.isArray(runs)) throw new StoreError("invalid_run", "runs must be an array of run records");
      // One statement cannot update the same row twice, so duplicates collapse here, last wins.
      const byId = new Map<string, { readonly run: RunRecord; readonly eventText: string }>();
      for (let i = 0; i < runs.length; i++) {
        const label = `runs[${i}]`;
        const run = normalizeRunRecord(runs[i], { copy: false, label });
        requireFitsText(run.environmentId!, "invalid_run", `${label}: environmentId`);
        requireFitsText(run.appId, "invalid_run", `${label}: appId`);
        requireFitsText(run.functionId, "invalid_run", `${label}: functionId`);
        byId.set(run.id, { run, eventText: JSON.stringify(run.event) });
      }
      if (byId.size === 0) return;
      // Id order makes concurrent upserts of overlapping sets lock rows in one order (no
      // deadlock) and keeps primary-key inserts local; ULIDs usually arrive sorted already.
      const prepared = [...byId.values()].sort((a, b) => (a.run.id < b.run.id ? -1 : a.run.id > b.run.id ? 1 : 0));
      // Events travel as one JSON array text rather than a jsonb[] parameter: the driver would
      // escape every event again into array-literal syntax, which costs more than the insert.
      const sql =
        `INSERT INTO ${this.#table.runs} (${RUN_COLUMNS}) ` +
        "SELECT r.id, r.environment_id, r.app_id, r.function_id, r.started_at, r.status, " +
        "CASE WHEN r.json_only THEN NULL ELSE e.value::jsonb END, CASE WHEN r.json_only THEN e.value END, r.cancellation_id " +
        "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::boolean[], $8::text[]) " +
        "WITH ORDINALITY AS r(id, environment_id, app_id, function_id, started_at, status, json_only, cancellation_id, n) " +
        "JOIN json_array_elements($9::json) WITH ORDINALITY AS e(value, n) USING (n) " +
        "ON CONFLICT (id) DO UPDATE SET environment_id = EXCLUDED.environment_id, app_id = EXCLUDED.app_id, " +
        "function_id = EXCLUDED.function_id, started_at = EXCLUDED.started_at, status = EXCLUDED.status, " +
        "event = EXCLUDED.event, event_json = EXCLUDED.event_json, cancellation_id = EXCLUDED.cancellation_id";
      await this.#transaction(async (client) => {
        for (let start = 0; start < prepared.length; start += INSERT_CHUNK_ROWS) {
          const chunk = prepared.slice(start, start + INSERT_CHUNK_ROWS);
          await client.query(sql, [
            chunk.map((p) => p.run.id),
            chunk.map((p) => p.run.environmentId),
            chunk.map((p) => p.run.appId),
            chunk.map((p) => p.run.functionId),
            chunk.map((p) => p.run.startedAt),
            chunk.map((p) => p.run.status),
            chunk.map((p) => JSONB_UNSAFE_ESCAPE.test(p.eventText)),
            chunk.map((p) => p.run.cancellationId ?? null),
            `[${chunk.map((p) => p.eventText).join(",")}]`,
          ]);
        }
      });
    });
  }

  /** One run by id, or `undefined` (also for a string that is not a valid id). */
  async getRun(id: string): Promise<RunRecord | undefined> {
    return this.#call(async () => {
      if (!isValidId(id)) return undefined;
      const { rows } = await this.#pool.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM ${this.#table.runs} WHERE id = $1`, [id]);
      return rows[0] === undefined ? undefined : rowToRun(rows[0]);
    });
  }

  /**
   * Sets the status of runs; returns how many changed. Without `force`, only non-terminal runs
   * are touched; a run already in the target status is unchanged. A run leaving `cancelled`
   * loses its `cancellationId`. Rows are locked in id order, so concurrent batches cannot deadlock.
   */
  async setRunStatus(ids: readonly string[], status: RunStatus, options?: { readonly force?: boolean }): Promise<number> {
    return this.#call(async () => {
      const unique = normalizeRunIds(ids);
      checkRunStatus(status);
      if (unique.length === 0) return 0;
      const force = options?.force === true;
      const sql =
        `WITH locked AS (SELECT id FROM ${this.#table.runs} WHERE id = ANY($2::text[]) AND status <> $1` +
        `${force ? "" : ` AND status IN ${NON_TERMINAL_SQL}`} ORDER BY id FOR UPDATE) ` +
        `UPDATE ${this.#table.runs} AS r SET status = $1, ` +
        "cancellation_id = CASE WHEN $1 = 'cancelled' THEN r.cancellation_id END " +
        `FROM locked WHERE r.id = locked.id AND r.status <> $1${force ? "" : ` AND r.status IN ${NON_TERMINAL_SQL}`}`;
      return this.#retrying(async () => (await this.#pool.query(sql, [status, unique])).rowCount ?? 0);
    });
  }

  /**
   * One page of a function's window in `(started_at, id)` order after `query.after`, by keyset on
   * the `(environment_id, app_id, function_id, started_at, id)` index; `next` is absent when the
   * window holds nothing more (the page reads one row ahead to know).
   *
   * With `query.pushdown.postgres`, the page reads the same `limit` window rows and returns those
   * the predicate keeps. A row is dropped only when the predicate is `false` (NULL keeps it; so
   * do rows whose event only the `json` fallback column holds). `next` is then the last row read,
   * which may lie past the last returned run, and `prefiltered` counts the dropped rows. If the
   * predicate raises a data error (e.g. a failed cast) the page is read again without it.
   *
   * With `query.until` (a shard's upper bound), only runs at or before that position are read.
   */
  async scanRuns(query: BoundedScanQuery): Promise<ScanPage> {
    return this.#call(async () => {
      const plan = this.#planScan(query);
      if (plan === undefined) return { runs: [] };
      if (plan.pushdown !== undefined) {
        try {
          const { rows } = await this.#pool.query<PushdownRunRow>(plan.pushdown.sql, plan.pushdown.params);
          return pushdownPage(rows, plan.limit, plan.scope);
        } catch (error) {
          // Class 22 is a data exception raised by a row's value (a cast, a division): the
          // predicate cannot judge this page, so read it unfiltered.
          if (!sqlState(error)?.startsWith("22")) throw error;
        }
      }
      const { rows } = await this.#pool.query<ScanRow & QueryResultRow>(plan.plain.sql, plan.plain.params);
      const runs = rows.slice(0, plan.limit).map((row) => scanRowToRun(row, plan.scope));
      const last = runs[runs.length - 1];
      return rows.length > plan.limit && last !== undefined
        ? { runs, next: { startedAt: last.startedAt, id: last.id } }
        : { runs };
    });
  }

  /**
   * The `EXPLAIN` output (one line per plan node) of the statement {@link scanRuns} runs for
   * `query`, e.g. to check that a scan uses the window index. `analyze` executes the statement.
   * Returns an empty list when the query cannot match anything (no statement is run).
   */
  async explainScan(query: BoundedScanQuery, options?: { readonly analyze?: boolean }): Promise<string[]> {
    return this.#call(async () => {
      const plan = this.#planScan(query);
      if (plan === undefined) return [];
      const statement = plan.pushdown ?? plan.plain;
      const prefix = options?.analyze === true ? "EXPLAIN (ANALYZE, BUFFERS)" : "EXPLAIN";
      const { rows } = await this.#pool.query<{ "QUERY PLAN": string }>(`${prefix} ${statement.sql}`, statement.params);
      return rows.map((row) => row["QUERY PLAN"]);
    });
  }

  /**
   * The `WHERE` conditions (and their parameters, numbered from `$1`) selecting a function's runs
   * of a window, strictly after `after` and at or before `until`; `undefined` when no stored run
   * can match.
   */
  #windowConditions(
    q: { readonly environmentId: string; readonly appId: string; readonly functionId: string; readonly startedAfter?: number; readonly startedBefore: number },
    after?: Cursor,
    until?: Cursor,
  ): { where: string; params: unknown[] } | undefined {
    // Text PostgreSQL cannot hold was never stored, so no run matches it.
    if (!fitsText(q.environmentId) || !fitsText(q.appId) || !fitsText(q.functionId)) return undefined;
    // Bounds may be fractional: the window holds the integer times inside them.
    const startedBefore = Math.floor(q.startedBefore);
    const startedAfter = q.startedAfter === undefined ? undefined : Math.ceil(q.startedAfter);
    if (startedAfter !== undefined && startedAfter > startedBefore) return undefined;
    if (!Number.isSafeInteger(startedBefore) && startedBefore < 0) return undefined;
    if (startedAfter !== undefined && !Number.isSafeInteger(startedAfter) && startedAfter > 0) return undefined;

    const params: unknown[] = [];
    const bind = (value: unknown): string => `$${params.push(value)}`;
    let where =
      `environment_id = ${bind(q.environmentId)} AND app_id = ${bind(q.appId)} AND function_id = ${bind(q.functionId)}`;
    if (Number.isSafeInteger(startedBefore)) where += ` AND started_at <= ${bind(startedBefore)}`;
    if (startedAfter !== undefined && Number.isSafeInteger(startedAfter)) where += ` AND started_at >= ${bind(startedAfter)}`;
    if (after !== undefined) {
      // A cursor time between integers sits just after the run times below it.
      const afterTime = Math.floor(after.startedAt);
      const afterId = afterTime === after.startedAt ? after.id : "\u007f";
      if (afterTime > Number.MAX_SAFE_INTEGER) return undefined;
      if (afterTime >= Number.MIN_SAFE_INTEGER) where += ` AND (started_at, id) > (${bind(afterTime)}, ${bind(afterId)})`;
    }
    if (until !== undefined) {
      // Likewise an upper bound between integers holds every run of the time below it ("\u007f"
      // sorts after every valid id).
      const untilTime = Math.floor(until.startedAt);
      const untilId = untilTime === until.startedAt ? until.id : "\u007f";
      if (untilTime < Number.MIN_SAFE_INTEGER) return undefined;
      if (untilTime <= Number.MAX_SAFE_INTEGER) where += ` AND (started_at, id) <= (${bind(untilTime)}, ${bind(untilId)})`;
    }
    return { where, params };
  }

  /** Validates a scan query and builds its statements; `undefined` when no stored run can match. */
  #planScan(query: BoundedScanQuery): ScanPlan | undefined {
    const q = normalizeScanQuery(query);
    const pushdown = q.pushdown?.postgres;
    if (pushdown !== undefined && (typeof pushdown.sql !== "string" || !Array.isArray(pushdown.params))) {
      throw new StoreError("invalid_query", "scan query: pushdown.postgres must be { sql: string, params: unknown[] }");
    }
    const until = checkUntil((query as { until?: unknown }).until);
    const conditions = this.#windowConditions(q, q.after, until);
    if (conditions === undefined) return undefined;
    const { where, params } = conditions;
    const bind = (value: unknown): string => `$${params.push(value)}`;
    const window = `SELECT ${SCAN_COLUMNS} FROM ${this.#table.runs} WHERE ${where} ORDER BY started_at, id`;
    const windowParams = params.length;
    const limit = q.limit;
    const scope: ScanScope = { environmentId: q.environmentId, appId: q.appId, functionId: q.functionId };
    const plain = { sql: `${window} LIMIT $${windowParams + 1}`, params: [...params, limit + 1] };
    if (pushdown === undefined) return { limit, scope, plain };

    const predicate = renumberPlaceholders(pushdown.sql, windowParams, pushdown.params.length);
    params.push(...pushdown.params);
    // The slice is the next `limit + 1` rows of the window (an index range scan with a LIMIT);
    // the predicate only filters it. Rows 1..limit are the page; row limit + 1, when present,
    // only proves that the window goes on. Rows `limit` and `limit + 1` always come back (kept or
    // not), for the cursor; so does the slice's last row when the slice is short (then it is the
    // window's last row, found by one backward index probe, in the same snapshot), for the count
    // of dropped rows. Only `row_number()` runs over the slice: a window function that looks
    // ahead (`lead`) would make PostgreSQL buffer the whole slice, events included.
    const sql =
      `SELECT ${SCAN_COLUMNS}, rn, hit FROM (` +
      "SELECT w.*, row_number() OVER (ORDER BY w.started_at, w.id) AS rn, " +
      // The newline ends a trailing `--` comment of the hint inside its parentheses.
      `(w.event IS NULL OR (${predicate}\n) IS NOT FALSE) AS hit ` +
      `FROM (${window} LIMIT ${bind(limit + 1)}) AS w` +
      `) AS slice WHERE hit OR rn >= ${bind(limit)} OR (started_at, id) = ` +
      `(SELECT started_at, id FROM ${this.#table.runs} WHERE ${where} ORDER BY started_at DESC, id DESC LIMIT 1) ORDER BY rn`;
    return { limit, scope, plain, pushdown: { sql, params } };
  }

  /**
   * Cancels the still non-terminal runs among `batch.runIds` that belong to the cancellation's
   * environment, app and function, and saves the checkpoint, in one transaction: it locks the
   * cancellation row first (`FOR UPDATE`; when the row is gone nothing changes and
   * `{ ok: false, reason: "gone" }` is returned), then runs
   * `UPDATE … SET status = 'cancelled' … WHERE id = ANY($2) AND status IN (non-terminal) RETURNING id`
   * (rows locked in id order; a deadlock is retried).
   * An absent checkpoint cursor keeps the saved one.
   */
  async commitBatch(batch: CommitBatch): Promise<CommitResult> {
    return this.#call(async () => {
      const b = normalizeCommitBatch(batch);
      return this.#retrying(() =>
        this.#transaction(async (client): Promise<CommitResult> => {
          const locked = await client.query<{ environment_id: string; app_id: string; function_id: string }>(
            `SELECT environment_id, app_id, function_id FROM ${this.#table.cancellations} WHERE id = $1 FOR UPDATE`,
            [b.cancellationId],
          );
          const scope = locked.rows[0];
          if (scope === undefined) return { ok: false, reason: "gone" };
          const cancelled = await this.#cancelRuns(client, b.cancellationId, b.runIds, scope);
          await this.#saveCheckpoint(client, b.cancellationId, b.checkpoint);
          return { ok: true, cancelled };
        }),
      );
    });
  }

  /**
   * Inside a transaction: cancels the still non-terminal runs among `runIds` of the job's scope,
   * marking them with `cancellationId`; returns the ids that changed. One `UPDATE`: the
   * primary-key scan visits the ids in sorted order, so concurrent batches lock rows in one order;
   * a deadlock with a writer that locks in another order fails one transaction, which is retried
   * whole. (A separate `SELECT … ORDER BY id FOR UPDATE` pass first would guarantee the order but
   * writes every row twice: a lock, then the update; it cost a quarter more per batch.) Under
   * READ COMMITTED a row changed by a concurrent transaction is re-checked against
   * `status IN (non-terminal)` after that transaction ends: the compare-and-set.
   */
  async #cancelRuns(
    client: PoolClient,
    cancellationId: string,
    runIds: readonly string[],
    scope: { readonly environment_id: string; readonly app_id: string; readonly function_id: string },
  ): Promise<string[]> {
    if (runIds.length === 0) return [];
    const { rows } = await client.query<{ id: string }>(
      `UPDATE ${this.#table.runs} SET status = 'cancelled', cancellation_id = $1 ` +
        `WHERE id = ANY($2::text[]) AND status IN ${NON_TERMINAL_SQL} AND environment_id = $3 AND app_id = $4 AND function_id = $5 ` +
        "RETURNING id",
      [cancellationId, runIds, scope.environment_id, scope.app_id, scope.function_id],
    );
    return rows.map((row) => row.id);
  }

  async #saveCheckpoint(client: pg.ClientBase | pg.Pool, id: string, checkpoint: Checkpoint): Promise<boolean> {
    const { counts, cursor } = checkpoint;
    const result = await client.query(
      `UPDATE ${this.#table.cancellations} SET status = $2, scanned = $3, cancelled = $4, skipped_terminal = $5, ` +
        "not_matched = $6, expression_error = $7, non_boolean = $8, " +
        "cursor_started_at = COALESCE($9, cursor_started_at), cursor_id = COALESCE($10, cursor_id), " +
        "updated_at = GREATEST(updated_at, $11) WHERE id = $1",
      [
        id,
        checkpoint.status,
        counts.scanned,
        counts.cancelled,
        counts.skipped_terminal,
        counts.not_matched,
        counts.expression_error,
        counts.non_boolean,
        cursor?.startedAt ?? null,
        cursor?.id ?? null,
        this.#now(),
      ],
    );
    return (result.rowCount ?? 0) > 0;
  }

  /**
   * Stores a new cancellation. With an idempotency key, the key row is inserted first
   * (`ON CONFLICT DO NOTHING`; a concurrent insert of the same key waits for the other
   * transaction), then the record, in one transaction. When the key already exists the transaction
   * rolls back and the existing record is returned with its request hash.
   *
   * @throws {@link StoreError} `duplicate_cancellation` when the id is taken.
   */
  async createCancellation(
    record: CancellationRecord,
    idempotency?: { readonly key: string; readonly requestHash: string },
  ): Promise<CreateResult> {
    return this.#call(() => this.#create(record, idempotency, undefined));
  }

  /**
   * Stores a new cancellation whose window is split into at most `count` shards, all `pending`,
   * for workers to lease (see {@link planShards} for the split). The record, its shards and the
   * idempotency key commit in one transaction; a repeated key answers as
   * {@link createCancellation} does (and computes no split).
   *
   * @throws {@link StoreError} `invalid_option` for a count outside 1..{@link MAX_SHARDS};
   * `duplicate_cancellation` when the id is taken.
   */
  async createShardedCancellation(
    record: CancellationRecord,
    count: number,
    idempotency?: { readonly key: string; readonly requestHash: string },
  ): Promise<CreateResult> {
    return this.#call(() => this.#create(record, idempotency, checkShardCount(count)));
  }

  async #create(
    record: CancellationRecord,
    idempotency: { readonly key: string; readonly requestHash: string } | undefined,
    shardCount: number | undefined,
  ): Promise<CreateResult> {
    {
      const valid = normalizeCancellationRecord(record);
      for (const [value, what] of [
        [valid.environmentId, "environmentId"],
        [valid.appId, "appId"],
        [valid.functionId, "functionId"],
        [valid.if ?? "", "if"],
      ] as const) {
        requireFitsText(value, "invalid_cancellation", `cancellation record: ${what}`);
      }
      if (idempotency !== undefined) {
        checkIdempotency(idempotency);
        requireFitsText(idempotency.key, "invalid_cancellation", "idempotency key");
        requireFitsText(idempotency.requestHash, "invalid_cancellation", "idempotency requestHash");
      }
      // The key may vanish between our failed insert and our read (its record was deleted): then
      // it is free again and another attempt creates the record.
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        const created = await this.#transaction(async (client) => {
          if (idempotency !== undefined) {
            const key = await client.query(
              `INSERT INTO ${this.#table.keys} (environment_id, key, request_hash, cancellation_id, created_at) ` +
                "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (environment_id, key) DO NOTHING",
              [valid.environmentId, idempotency.key, idempotency.requestHash, valid.id, valid.createdAt],
            );
            if (key.rowCount !== 1) throw ROLL_BACK;
          }
          await this.#insertCancellation(client, valid);
          if (shardCount !== undefined) await this.#insertShards(client, valid, shardCount);
          return true;
        }).catch((error: unknown) => {
          if (error === ROLL_BACK) return false;
          if (sqlState(error) === "23505" && (error as { constraint?: unknown }).constraint === "cancellations_pkey") {
            throw new StoreError("duplicate_cancellation", `a cancellation with id ${valid.id} already exists`);
          }
          throw error;
        });
        if (created) return { created: true, record: valid };
        const existing = await this.#findByKey(valid.environmentId, idempotency!.key);
        if (existing !== undefined) return { created: false, ...existing };
      }
      throw new StoreError("storage", `idempotency key ${JSON.stringify(idempotency!.key)} kept changing while creating ${valid.id}`);
    }
  }

  async #insertShards(client: PoolClient, record: CancellationRecord, count: number): Promise<void> {
    const bounds = await this.#planShards(client, record, count);
    await client.query(
      `INSERT INTO ${this.#table.shards} (cancellation_id, shard_no, after_started_at, after_id, until_started_at, until_id, updated_at) ` +
        "SELECT $1, n - 1, a_t, a_id, u_t, u_id, $2 " +
        "FROM unnest($3::bigint[], $4::text[], $5::bigint[], $6::text[]) WITH ORDINALITY AS b(a_t, a_id, u_t, u_id, n)",
      [
        record.id,
        record.createdAt,
        bounds.map((b) => b.after?.startedAt ?? null),
        bounds.map((b) => b.after?.id ?? null),
        bounds.map((b) => b.until?.startedAt ?? null),
        bounds.map((b) => b.until?.id ?? null),
      ],
    );
  }

  async #insertCancellation(client: PoolClient, record: CancellationRecord): Promise<void> {
    const { counts, cursor } = record;
    const values: Record<(typeof CANCELLATION_COLUMN_LIST)[number], unknown> = {
      id: record.id,
      environment_id: record.environmentId,
      app_id: record.appId,
      function_id: record.functionId,
      started_after: record.startedAfter ?? null,
      started_before: record.startedBefore,
      if_expr: record.if ?? null,
      created_at: record.createdAt,
      updated_at: record.updatedAt,
      status: record.status,
      scanned: counts.scanned,
      cancelled: counts.cancelled,
      skipped_terminal: counts.skipped_terminal,
      not_matched: counts.not_matched,
      expression_error: counts.expression_error,
      non_boolean: counts.non_boolean,
      cursor_started_at: cursor?.startedAt ?? null,
      cursor_id: cursor?.id ?? null,
    };
    await client.query(
      `INSERT INTO ${this.#table.cancellations} (${CANCELLATION_COLUMNS}) ` +
        `VALUES (${CANCELLATION_COLUMN_LIST.map((_, i) => `$${i + 1}`).join(", ")})`,
      CANCELLATION_COLUMN_LIST.map((column) => values[column]),
    );
  }

  /** One cancellation, or `undefined`; with `environmentId`, only if it belongs to that environment. */
  async getCancellation(id: string, environmentId?: string): Promise<CancellationRecord | undefined> {
    return this.#call(async () => {
      if (!isValidId(id)) return undefined;
      if (environmentId !== undefined && (typeof environmentId !== "string" || !fitsText(environmentId))) return undefined;
      const params: unknown[] = [id];
      let sql = `SELECT ${this.#cancellationSelect} FROM ${this.#cancellationSource} WHERE c.id = $1`;
      if (environmentId !== undefined) sql += ` AND c.environment_id = $${params.push(environmentId)}`;
      const { rows } = await this.#pool.query<CancellationRow>(sql, params);
      return rows[0] === undefined ? undefined : rowToCancellation(rows[0]);
    });
  }

  /** Cancellations newest first (descending id), optionally of one environment and strictly before `after`. */
  async listCancellations(options?: {
    readonly environmentId?: string;
    readonly limit?: number;
    readonly after?: string;
  }): Promise<CancellationPage> {
    return this.#call(async () => {
      const limit = checkListOptions(options ?? {});
      const params: unknown[] = [];
      const conditions: string[] = [];
      if (options?.environmentId !== undefined) {
        if (!fitsText(options.environmentId)) return { records: [] };
        conditions.push(`c.environment_id = $${params.push(options.environmentId)}`);
      }
      if (options?.after !== undefined) conditions.push(`c.id < $${params.push(options.after)}`);
      const where = conditions.length === 0 ? "" : ` WHERE ${conditions.join(" AND ")}`;
      const { rows } = await this.#pool.query<CancellationRow>(
        `SELECT ${this.#cancellationSelect} FROM ${this.#cancellationSource}${where} ORDER BY c.id DESC LIMIT $${params.push(limit + 1)}`,
        params,
      );
      const records = rows.slice(0, limit).map(rowToCancellation);
      const last = records[records.length - 1];
      return rows.length > limit && last !== undefined ? { records, next: last.id } : { records };
    });
  }

  /** Saves status, counts and cursor (an absent cursor keeps the saved one); false when the record is gone. */
  async updateCancellation(id: string, checkpoint: Checkpoint): Promise<boolean> {
    return this.#call(async () => {
      const valid = normalizeCheckpoint(checkpoint);
      if (!isValidId(id)) return false;
      return this.#saveCheckpoint(this.#pool, id, valid);
    });
  }

  /** Deletes a record and frees its idempotency key; false when there was none (in that environment). */
  async deleteCancellation(id: string, environmentId?: string): Promise<boolean> {
    return this.#call(async () => {
      if (!isValidId(id)) return false;
      if (environmentId !== undefined && (typeof environmentId !== "string" || !fitsText(environmentId))) return false;
      const params: unknown[] = [id];
      let sql = `DELETE FROM ${this.#table.cancellations} WHERE id = $1`;
      if (environmentId !== undefined) sql += ` AND environment_id = $${params.push(environmentId)}`;
      const result = await this.#pool.query(sql, params);
      return (result.rowCount ?? 0) > 0;
    });
  }

  /** The cancellation created under an idempotency key, with the hash of its request. */
  async findByIdempotencyKey(
    environmentId: string,
    key: string,
  ): Promise<{ readonly record: CancellationRecord; readonly requestHash: string } | undefined> {
    return this.#call(() => this.#findByKey(environmentId, key));
  }

  async #findByKey(
    environmentId: string,
    key: string,
  ): Promise<{ readonly record: CancellationRecord; readonly requestHash: string } | undefined> {
    if (typeof environmentId !== "string" || typeof key !== "string") return undefined;
    if (!fitsText(environmentId) || !fitsText(key)) return undefined;
    const { rows } = await this.#pool.query<CancellationRow & { request_hash: string }>(
      `SELECT ${this.#cancellationSelect}, k.request_hash FROM ${this.#table.keys} AS k ` +
        `JOIN (${this.#cancellationSource}) ON c.id = k.cancellation_id ` +
        "WHERE k.environment_id = $1 AND k.key = $2",
      [environmentId, key],
    );
    const row = rows[0];
    return row === undefined ? undefined : { record: rowToCancellation(row), requestHash: row.request_hash };
  }

  /**
   * Splits a window into at most `count` shards holding equal numbers (±1) of the runs it holds
   * now: it counts the window's runs n, then walks a cursor over the window index in
   * `(started_at, id)` order, `MOVE`s to ranks ⌊j·n/k⌋ (j = 1…k−1, k = min(count, n)) and
   * `FETCH`es the run there, and cuts after each. Cuts are run positions `(startedAt, id)`, so a
   * cut may fall inside a millisecond many runs share; the first shard is open below, the last
   * above, so the shards partition the window's whole keyset range (runs inserted later belong to
   * exactly one too).
   *
   * Why ranks and not time: run start times are rarely uniform (bursts, a backlog), and equal
   * counts are what makes shards of equal work. The price is two index-only passes over the
   * window at creation (about 0.3 s per million runs), paid once per job. (A `row_number()` pass
   * instead of the cursor costs about three times as much.) Runs inserted or deleted between the
   * count and the walk only make the shards slightly unequal (or fewer): the cuts stay run
   * positions in increasing order, so the shards still partition the window.
   *
   * @throws {@link StoreError} `invalid_option` for a count outside 1..{@link MAX_SHARDS};
   * `invalid_query` for a malformed window.
   */
  async planShards(window: ShardWindow, count: number): Promise<ShardBounds[]> {
    return this.#call(async () => {
      const k = checkShardCount(count);
      return this.#transaction((client) => this.#planShards(client, window, k));
    });
  }

  /** Inside a transaction (the cursor lives until its end). */
  async #planShards(client: PoolClient, window: ShardWindow, count: number): Promise<ShardBounds[]> {
    const q = normalizeScanQuery({
      ...(window.environmentId !== undefined ? { environmentId: window.environmentId } : {}),
      appId: window.appId,
      functionId: window.functionId,
      ...(window.startedAfter !== undefined ? { startedAfter: window.startedAfter } : {}),
      startedBefore: window.startedBefore,
      limit: 1,
    });
    const conditions = this.#windowConditions(q);
    if (conditions === undefined || count === 1) return [{}];
    const { where, params } = conditions;
    const counted = await client.query<{ n: number }>(`SELECT count(*) AS n FROM ${this.#table.runs} WHERE ${where}`, params);
    const n = counted.rows[0]?.n ?? 0;
    const k = Math.min(count, n);
    if (k <= 1) return [{}];
    await client.query(
      `DECLARE cancelkit_shard_cuts NO SCROLL CURSOR FOR SELECT started_at, id FROM ${this.#table.runs} WHERE ${where} ORDER BY started_at, id`,
      params,
    );
    const cuts: Cursor[] = [];
    let at = 0;
    for (let j = 1; j < k; j++) {
      const rank = Math.floor((j * n) / k);
      // MOVE and FETCH take no parameters; the counts are integers computed here.
      if (rank - at > 1) await client.query(`MOVE FORWARD ${rank - at - 1} IN cancelkit_shard_cuts`);
      const { rows } = await client.query<{ started_at: number; id: string }>("FETCH NEXT FROM cancelkit_shard_cuts");
      const row = rows[0];
      if (row === undefined) break;
      cuts.push({ startedAt: row.started_at, id: row.id });
      at = rank;
    }
    await client.query("CLOSE cancelkit_shard_cuts");
    return boundsFromCuts(cuts);
  }

  /**
   * Leases one shard to a worker: in one statement, `SELECT … FOR UPDATE SKIP LOCKED` picks the
   * first shard (oldest job first, in window order) that is `pending` or `running` under an
   * expired lease, and sets it `running` with `lease_owner = workerId` and
   * `lease_expires_at = now + leaseMs` (the database's clock). Concurrent callers skip each other's
   * candidate rows, so no shard is handed to two workers; a row whose lease a commit is renewing
   * at that moment is skipped too. Also answers how many other shards in scope are not done.
   *
   * @throws {@link StoreError} `invalid_option` for a bad worker id or lease.
   */
  async leaseShard(request: {
    readonly workerId: string;
    readonly leaseMs: number;
    readonly cancellationId?: string;
    readonly environmentId?: string;
  }): Promise<ShardLeaseResult> {
    return this.#call(async () => {
      if (typeof request !== "object" || request === null) throw new StoreError("invalid_option", "leaseShard: request must be an object");
      const workerId = checkWorkerId(request.workerId, "invalid_option");
      const leaseMs = checkLeaseMs(request.leaseMs, "invalid_option");
      const { cancellationId, environmentId } = request;
      if (cancellationId !== undefined && !isValidId(cancellationId)) return { unfinished: 0 };
      if (environmentId !== undefined && (typeof environmentId !== "string" || environmentId === "" || !fitsText(environmentId))) {
        return { unfinished: 0 };
      }
      const scopeParams: unknown[] = [];
      let scope = "";
      if (cancellationId !== undefined) scope += ` AND s.cancellation_id = $${scopeParams.push(cancellationId)}`;
      if (environmentId !== undefined) {
        scope += ` AND EXISTS (SELECT 1 FROM ${this.#table.cancellations} AS c WHERE c.id = s.cancellation_id AND c.environment_id = $${scopeParams.push(environmentId)})`;
      }
      const base = scopeParams.length;
      const { rows } = await this.#retrying(() =>
        this.#pool.query<ShardRow>(
          `WITH candidate AS (SELECT s.cancellation_id, s.shard_no FROM ${this.#table.shards} AS s ` +
            `WHERE s.status <> 'done' AND (s.status = 'pending' OR s.lease_expires_at < clock_timestamp())${scope} ` +
            "ORDER BY s.cancellation_id, s.shard_no LIMIT 1 FOR UPDATE OF s SKIP LOCKED) " +
            `UPDATE ${this.#table.shards} AS s SET status = 'running', lease_owner = $${base + 1}, ` +
            `lease_expires_at = clock_timestamp() + $${base + 2} * interval '1 millisecond', updated_at = GREATEST(s.updated_at, $${base + 3}) ` +
            `FROM candidate WHERE s.cancellation_id = candidate.cancellation_id AND s.shard_no = candidate.shard_no ` +
            `RETURNING ${shardColumns("s.")}`,
          [...scopeParams, workerId, leaseMs, this.#now()],
        ),
      );
      const leased = rows[0] === undefined ? undefined : rowToShard(rows[0]);
      const open = await this.#pool.query<{ n: number }>(
        `SELECT count(*)::integer AS n FROM ${this.#table.shards} AS s WHERE s.status <> 'done'${scope}`,
        scopeParams,
      );
      const unfinished = Math.max(0, (open.rows[0]?.n ?? 0) - (leased === undefined ? 0 : 1));
      if (leased === undefined) return { unfinished };
      const record = await this.getCancellation(leased.cancellationId);
      // Deleted between the lease and this read: its shards are gone with it.
      if (record === undefined) return { unfinished };
      return { lease: { record, shard: leased }, unfinished };
    });
  }

  /** Extends a lease the worker still holds (status `running`, owner `workerId`) to `leaseMs` from now. */
  async renewShardLease(cancellationId: string, shardNo: number, workerId: string, leaseMs: number): Promise<boolean> {
    return this.#call(async () => {
      checkShardNo(shardNo, "invalid_option");
      checkWorkerId(workerId, "invalid_option");
      checkLeaseMs(leaseMs, "invalid_option");
      if (!isValidId(cancellationId)) return false;
      const result = await this.#pool.query(
        `UPDATE ${this.#table.shards} SET lease_expires_at = clock_timestamp() + $4 * interval '1 millisecond' ` +
          "WHERE cancellation_id = $1 AND shard_no = $2 AND lease_owner = $3 AND status = 'running'",
        [cancellationId, shardNo, workerId, leaseMs],
      );
      return (result.rowCount ?? 0) > 0;
    });
  }

  /**
   * Commits one batch of a shard in one transaction: (1) locks the shard row and checks the
   * worker still holds its lease (else nothing changes: `lease_lost`; no shard row: `gone`),
   * (2) cancels the batch's still non-terminal runs of the job's scope with the job's id,
   * (3) saves the shard's cursor and counts and its status (`running` renews the lease, `pending`
   * releases it, `done` closes it), and (4) when this closes the last open shard, sets the job
   * `completed`. A closing commit locks the job's row before the shard's, the order a deletion
   * takes, so the two never deadlock; other commits never touch the job's row.
   */
  async commitShardBatch(commit: ShardCommit): Promise<ShardCommitResult> {
    return this.#call(async () => {
      if (typeof commit !== "object" || commit === null) throw new StoreError("invalid_batch", "shard commit must be an object");
      const { cancellationId, shardNo, workerId, leaseMs } = commit;
      if (!isValidId(cancellationId)) throw new StoreError("invalid_batch", "shard commit: cancellationId must be a valid id");
      checkShardNo(shardNo, "invalid_batch");
      checkWorkerId(workerId, "invalid_batch");
      checkLeaseMs(leaseMs, "invalid_batch");
      const status: unknown = (commit.checkpoint as { status?: unknown } | undefined)?.status;
      if (typeof status !== "string" || !SHARD_STATUSES.has(status)) {
        throw new StoreError("invalid_batch", `shard commit: checkpoint.status must be pending, running or done, got ${JSON.stringify(status)}`);
      }
      // Reuses the batch checks for ids, cursor and counts (the status is checked above).
      const b = normalizeCommitBatch({ cancellationId, runIds: commit.runIds, checkpoint: { ...commit.checkpoint, status: "running" } });
      const { cursor, counts } = b.checkpoint;
      const closing = status === "done";
      return this.#retrying(() =>
        this.#transaction(async (client): Promise<ShardCommitResult> => {
          if (closing) {
            const job = await client.query(`SELECT 1 FROM ${this.#table.cancellations} WHERE id = $1 FOR NO KEY UPDATE`, [cancellationId]);
            if (job.rowCount === 0) return { ok: false, reason: "gone" };
          }
          const locked = await client.query<{ status: ShardStatus; lease_owner: string | null; environment_id: string; app_id: string; function_id: string }>(
            `SELECT s.status, s.lease_owner, c.environment_id, c.app_id, c.function_id FROM ${this.#table.shards} AS s ` +
              `JOIN ${this.#table.cancellations} AS c ON c.id = s.cancellation_id ` +
              "WHERE s.cancellation_id = $1 AND s.shard_no = $2 FOR UPDATE OF s",
            [cancellationId, shardNo],
          );
          const shard = locked.rows[0];
          if (shard === undefined) return { ok: false, reason: "gone" };
          if (shard.status !== "running" || shard.lease_owner !== workerId) return { ok: false, reason: "lease_lost" };
          const cancelled = await this.#cancelRuns(client, cancellationId, b.runIds, shard);
          const now = this.#now();
          await client.query(
            `UPDATE ${this.#table.shards} SET status = $3, ` +
              "cursor_started_at = COALESCE($4, cursor_started_at), cursor_id = COALESCE($5, cursor_id), " +
              "scanned = $6, cancelled = $7, skipped_terminal = $8, not_matched = $9, expression_error = $10, non_boolean = $11, " +
              "lease_owner = CASE WHEN $3 = 'pending' THEN NULL ELSE lease_owner END, " +
              "lease_expires_at = CASE WHEN $3 = 'running' THEN clock_timestamp() + $12 * interval '1 millisecond' END, " +
              "updated_at = GREATEST(updated_at, $13) WHERE cancellation_id = $1 AND shard_no = $2",
            [
              cancellationId,
              shardNo,
              status,
              cursor?.startedAt ?? null,
              cursor?.id ?? null,
              counts.scanned,
              counts.cancelled,
              counts.skipped_terminal,
              counts.not_matched,
              counts.expression_error,
              counts.non_boolean,
              leaseMs,
              now,
            ],
          );
          if (closing) {
            // The job's row is locked: of two workers closing the last two shards, the second sees
            // the first's shard done (a new statement, a new snapshot) and completes the job.
            await client.query(
              `UPDATE ${this.#table.cancellations} SET status = 'completed', updated_at = GREATEST(updated_at, $2) ` +
                `WHERE id = $1 AND status <> 'completed' AND NOT EXISTS ` +
                `(SELECT 1 FROM ${this.#table.shards} WHERE cancellation_id = $1 AND status <> 'done')`,
              [cancellationId, now],
            );
          }
          return { ok: true, cancelled };
        }),
      );
    });
  }

  /** The shards of a cancellation in window order; empty for an unsharded or unknown one. */
  async listShards(cancellationId: string): Promise<ShardRecord[]> {
    return this.#call(async () => {
      if (!isValidId(cancellationId)) return [];
      const { rows } = await this.#pool.query<ShardRow>(
        `SELECT ${shardColumns()} FROM ${this.#table.shards} WHERE cancellation_id = $1 ORDER BY shard_no`,
        [cancellationId],
      );
      return rows.map(rowToShard);
    });
  }

  /** Ends the pool once in-flight queries finish. Idempotent; later calls reject with `closed`. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#closing ??= this.#pool.end();
    await this.#closing;
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreError("closed", "the run store is closed");
  }

  /** Runs a public method body: checks the store is usable and turns every failure into a StoreError. */
  async #call<T>(body: () => Promise<T>): Promise<T> {
    this.#assertOpen();
    if (!this.#migrated) {
      throw new StoreError("storage", "the PostgreSQL run store is not migrated: call `await store.migrate()` first");
    }
    try {
      return await body();
    } catch (error) {
      throw toStoreError(error);
    }
  }

  /** Reruns `work` after a deadlock or serialization failure; `work` must be safe to repeat. */
  async #retrying<T>(work: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (attempt >= ATTEMPTS || !isRetryable(error)) throw error;
        await backoff(attempt);
      }
    }
  }

  /** Runs `work` in a transaction on one pooled connection; rolls back when it throws. */
  async #transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      try {
        await client.query("ROLLBACK");
      } catch (rollbackError) {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }
}

/** Builds a page from the rows of a pushdown slice (see `#planScan`). */
function pushdownPage(rows: readonly PushdownRunRow[], limit: number, scope: ScanScope): ScanPage {
  const runs: RunRecord[] = [];
  let read = 0;
  let boundary: PushdownRunRow | undefined;
  let more = false;
  for (const row of rows) {
    if (row.rn > limit) {
      more = true;
      continue;
    }
    read = Math.max(read, row.rn);
    if (row.rn === limit) boundary = row;
    if (row.hit) runs.push(scanRowToRun(row, scope));
  }
  const prefiltered = read - runs.length;
  return more && boundary !== undefined
    ? { runs, next: { startedAt: boundary.started_at, id: boundary.id }, prefiltered }
    : { runs, prefiltered };
}
