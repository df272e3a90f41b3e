/**
 * How the PostgreSQL store talks to the server: the pool, the schema's table names, transactions,
 * retries after deadlocks, and the mapping of driver errors to {@link StoreError}s.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import type { PoolClient } from "pg";
import { COUNT_COLUMNS } from "../sql-common.js";
import { StoreError } from "../types.js";

/** Attempts of a statement or transaction that hit a deadlock or serialization failure. */
export const ATTEMPTS = 5;

const INT8_OID = 20;

/** Quotes an SQL identifier (doubling embedded quotes), so any schema name is safe. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The SQLSTATE of a driver error, if it has one. */
export function sqlState(error: unknown): string | undefined {
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
export function toStoreError(error: unknown): StoreError {
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

/** Whether PostgreSQL `text` can hold a string (validated strings are already well-formed UTF-16). */
export function fitsText(value: string): boolean {
  return !value.includes("\u0000");
}

/** Rejects a string PostgreSQL `text` cannot hold with a typed error. */
export function requireFitsText(value: string, code: StoreError["code"], what: string): void {
  if (!fitsText(value)) {
    throw new StoreError(code, `${what} contains a NUL character, which PostgreSQL text cannot hold`);
  }
}

/** The store's tables, schema-qualified and quoted. */
export interface Tables {
  readonly runs: string;
  readonly cancellations: string;
  readonly keys: string;
  readonly shards: string;
  readonly rateBudgets: string;
  readonly migrations: string;
}

/**
 * Statements a pooled connection keeps prepared ({@link Database.queryPrepared}) before it is
 * retired; closing it frees them on the server.
 */
export const MAX_PREPARED_PER_CONNECTION = 32;

/** Options of {@link Database}. */
export interface DatabaseOptions {
  readonly connectionString: string;
  readonly poolSize: number;
  readonly schema: string;
  readonly now: () => number;
  readonly onPoolError: ((error: Error) => void) | undefined;
  /** See `PostgresRunStoreOptions.asyncBatchCommits` (the store's default is `true`). */
  readonly asyncBatchCommits: boolean;
  /** Whether {@link Database.queryPrepared} prepares its statements. Default `true`; `false` is the plain path. */
  readonly preparedStatements?: boolean;
  /** Default {@link MAX_PREPARED_PER_CONNECTION}. */
  readonly maxPreparedPerConnection?: number;
}

/** The pool of one store, its schema, and how its statements and transactions run. */
export class Database {
  readonly pool: pg.Pool;
  /** For connections outside the pool (a watch's `LISTEN`). */
  readonly connectionString: string;
  /** Names this store object in the notifications it sends (see `watch.ts`). */
  readonly origin: string = randomUUID();
  readonly schema: string;
  readonly tables: Tables;
  /** Clock for `updated_at`, epoch ms. */
  readonly now: () => number;
  /** `FROM` clause of a cancellation read: the record (alias `c`) with the sums of its shards (alias `s`). */
  readonly cancellationSource: string;
  /** Whether exact batches whose ids nobody is handed commit without waiting for the WAL flush (see the store's option). */
  readonly asyncBatchCommits: boolean;
  readonly #preparedStatements: boolean;
  readonly #maxPrepared: number;
  /** The statements prepared on each pooled connection: text to name. */
  readonly #prepared = new WeakMap<PoolClient, Map<string, string>>();
  #statementCount = 0;

  constructor(options: DatabaseOptions) {
    this.connectionString = options.connectionString;
    this.asyncBatchCommits = options.asyncBatchCommits;
    this.#preparedStatements = options.preparedStatements ?? true;
    this.#maxPrepared = options.maxPreparedPerConnection ?? MAX_PREPARED_PER_CONNECTION;
    this.schema = options.schema;
    this.now = options.now;
    const quoted = quoteIdentifier(options.schema);
    this.tables = {
      runs: `${quoted}.runs`,
      cancellations: `${quoted}.cancellations`,
      keys: `${quoted}.idempotency_keys`,
      shards: `${quoted}.cancellation_shards`,
      rateBudgets: `${quoted}.cancellation_rate_budgets`,
      migrations: `${quoted}.cancelkit_migrations`,
    };
    this.cancellationSource =
      `${this.tables.cancellations} AS c LEFT JOIN LATERAL (SELECT count(*)::integer AS shard_count, ` +
      COUNT_COLUMNS.map((column) => `sum(sh.${column})::bigint AS shard_${column}`).join(", ") +
      `, max(sh.updated_at) AS shard_updated_at FROM ${this.tables.shards} AS sh WHERE sh.cancellation_id = c.id) AS s ON true`;
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize,
      types: makeTypeParsers(),
      fallback_application_name: "cancelkit",
    });
    const onPoolError = options.onPoolError;
    this.pool.on("error", (error) => onPoolError?.(error));
  }

  /**
   * Runs a statement the store sends over and over (an exact batch) as a named prepared statement
   * of the connection it runs on: the server parses it once per connection and, after a few runs,
   * plans it once, which saved about a twentieth of an exact job's time on the 1 M bench. A
   * connection holding {@link MAX_PREPARED_PER_CONNECTION} of them runs a new one unprepared and
   * is then closed, which frees them on the server (the driver has no way to forget one), so
   * statements of ever new shapes (each `if` has its own) cannot pile up. As `pool.query`, a
   * connection whose statement failed is closed.
   */
  async queryPrepared<R extends pg.QueryResultRow>(text: string, params: unknown[]): Promise<pg.QueryResult<R>> {
    if (!this.#preparedStatements) return this.pool.query<R>(text, params);
    const client = await this.pool.connect();
    let names = this.#prepared.get(client);
    if (names === undefined) this.#prepared.set(client, (names = new Map()));
    let name = names.get(text);
    if (name === undefined && names.size < this.#maxPrepared) names.set(text, (name = `cancelkit_${++this.#statementCount}`));
    let result: pg.QueryResult<R>;
    try {
      result = name === undefined ? await client.query<R>(text, params) : await client.query<R>({ name, text, values: params });
    } catch (error) {
      client.release(error instanceof Error ? error : true);
      throw error;
    }
    // Retired once full: the next statement gets a fresh connection.
    client.release(name === undefined);
    return result;
  }

  /** Reruns `work` after a deadlock or serialization failure; `work` must be safe to repeat. */
  async retrying<T>(work: () => Promise<T>): Promise<T> {
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
  async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
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
