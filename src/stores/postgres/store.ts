/**
 * The {@link PostgresRunStore} class: options, lifecycle and the contract's methods, each a call
 * into the module that holds its statements (`runs.ts`, `scan.ts`, `cancellations.ts`,
 * `shards.ts`). Input is checked by `BaseShardedRunStore` before any of them runs.
 *
 * @module
 */
import type { QueryResultRow } from "pg";
import { BaseShardedRunStore, type CheckedListOptions, type Idempotency, type KeyedRecord, type StopWatching } from "../base.js";
import { isValidId, normalizeScanQuery, type CheckedLeaseRequest, type CheckedScanQuery, type CheckedShardWindow } from "../checks.js";
import type { CheckedWatchOptions } from "../watch-checks.js";
import type { CheckedRunLocationQuery } from "../location-checks.js";
import {
  StoreError,
  type CancellationChange,
  type CancellationLeaseResult,
  type CancellationPage,
  type CancellationRecord,
  type CancellationSettings,
  type RunLocation,
  type Checkpoint,
  type CommitBatch,
  type CommitResult,
  type CreateResult,
  type ExactBatch,
  type ExactBatchResult,
  type ExactBatchStore,
  type FunctionSummary,
  type RunRecord,
  type RunStatus,
  type BoundedScanQuery,
  type ScanPage,
  type ShardBounds,
  type ShardCommit,
  type ShardCommitResult,
  type ShardLeaseResult,
  type ShardRecord,
} from "../types.js";
import { normalizeExactBatch } from "../exact-checks.js";
import * as cancellations from "./cancellations.js";
import * as exact from "./exact.js";
import { Database, fitsText, sqlState, toStoreError } from "./db.js";
import { migrateSchema, type MigrationResult } from "./migrations.js";
import { scanRowToRun, type ScanRow } from "./rows.js";
import * as runs from "./runs.js";
import { planScan, pushdownPage, type PushdownRunRow } from "./scan.js";
import * as shards from "./shards.js";
import { checkRateBudget, takeRateBudget } from "./rate-budget.js";
import { watchChanges } from "./watch.js";

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
  /**
   * Whether an exact batch (see {@link PostgresRunStore.cancelExactBatch}) whose cancelled runs'
   * ids nobody is handed (`listCancelled: false`: a job without `onBatch`) commits without waiting
   * for its WAL to reach the disk (`synchronous_commit = off` for that transaction alone), as the
   * SQLite store's `synchronous=NORMAL` commits do. A crash of the PostgreSQL server may then undo
   * the last batches of a running job, each whole with its checkpoint, and the job does them again
   * when it resumes; no committed state is ever half a batch, and a batch that lists its ids, every
   * other write and the job's closing checkpoint still wait for the flush (which also makes every
   * batch before them durable). Default `true`; `false` makes every batch wait for its flush.
   */
  readonly asyncBatchCommits?: boolean;
  /**
   * Whether the statements the store sends over and over (exact batches) run as named prepared
   * statements of their connection, parsed (and after a few runs planned) once per connection; a
   * connection holding 32 of them is replaced. Default `true`; `false` behind a connection pooler
   * that hands a session's statements to other server connections (PgBouncer in transaction mode
   * before 1.21).
   */
  readonly preparedStatements?: boolean;
}

const DEFAULT_POOL_SIZE = 10;
const DEFAULT_SCHEMA = "public";

/**
 * The {@link RunStore} on PostgreSQL, also a {@link ShardedRunStore}. Create it, `await migrate()`,
 * use it, `await close()`. Every method rejects with a {@link StoreError}: input errors with their
 * `invalid_*` code, database failures (and use before `migrate()`) with `storage`, use after
 * `close()` with `closed`.
 *
 * Scans read one function's window in `(started_at, id)` keyset order from a B-tree index,
 * optionally narrowed by a pushdown predicate over the `event` jsonb column; a batch of
 * cancellations and its checkpoint commit in one transaction that first locks the cancellation
 * row, so a deleted record stops its job.
 *
 * @example
 * ```ts
 * const store = new PostgresRunStore({ connectionString: process.env.DATABASE_URL!, poolSize: 20 });
 * await store.migrate();
 * ```
 */
export class PostgresRunStore extends BaseShardedRunStore implements ExactBatchStore {
  /** The schema the tables live in. */
  readonly schema: string;
  /** Most connections the pool holds. */
  readonly poolSize: number;
  /** Whether exact batches whose ids nobody is handed commit without waiting for the WAL flush (see {@link PostgresRunStoreOptions.asyncBatchCommits}). */
  readonly asyncBatchCommits: boolean;
  /** Whether exact batches run as prepared statements (see {@link PostgresRunStoreOptions.preparedStatements}). */
  readonly preparedStatements: boolean;
  readonly #db: Database;
  #migrated = false;

  /**
   * @param options - See {@link PostgresRunStoreOptions}. No connection is opened until the first call.
   * @throws TypeError when an option is invalid.
   */
  constructor(options: PostgresRunStoreOptions) {
    // Runs are serialised at once: no copy needed.
    super({ copyRuns: false });
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
    for (const flag of ["asyncBatchCommits", "preparedStatements"] as const) {
      if (options[flag] !== undefined && typeof options[flag] !== "boolean") {
        throw new TypeError(`PostgresRunStore: ${flag} must be a boolean, got ${typeof options[flag]}`);
      }
    }
    this.schema = schema;
    this.poolSize = poolSize;
    this.asyncBatchCommits = options.asyncBatchCommits ?? true;
    this.preparedStatements = options.preparedStatements ?? true;
    this.#db = new Database({
      connectionString: options.connectionString,
      poolSize,
      schema,
      now: options.now ?? Date.now,
      onPoolError: options.onPoolError,
      asyncBatchCommits: this.asyncBatchCommits,
      preparedStatements: this.preparedStatements,
    });
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
    super.assertUsable();
    const result = await migrateSchema(this.#db);
    this.#migrated = true;
    return result;
  }

  /** Also rejects with `storage` until {@link migrate} has finished. */
  protected override assertUsable(): void {
    super.assertUsable();
    if (!this.#migrated) {
      throw new StoreError("storage", "the PostgreSQL run store is not migrated: call `await store.migrate()` first");
    }
  }

  /** Runs a method's statements, turning every driver failure into a `storage` {@link StoreError}. */
  async #call<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      throw toStoreError(error);
    }
  }

  /**
   * Adds runs or replaces those with the same id, all in one transaction (see `runs.ts`). Every run
   * is validated first (nothing is written when one is bad); when the input holds one id twice,
   * the later run wins.
   */
  protected override insertRunsChecked(records: readonly RunRecord[]): Promise<void> {
    return this.#call(() => runs.insertRuns(this.#db, records));
  }

  protected override insertRunStreamChecked(batches: AsyncIterable<readonly RunRecord[]>): Promise<number> {
    return this.#call(() => runs.insertRunStream(this.#db, batches));
  }

  protected override listRunLocationsChecked(query: CheckedRunLocationQuery): Promise<RunLocation[]> {
    return this.#call(() => runs.listRunLocations(this.#db, query));
  }

  protected override getRunChecked(id: string): Promise<RunRecord | undefined> {
    return this.#call(() => runs.getRun(this.#db, id));
  }

  protected override listFunctionsChecked(environmentId: string): Promise<FunctionSummary[]> {
    return this.#call(() => runs.listFunctions(this.#db, environmentId));
  }

  protected override setRunStatusChecked(ids: readonly string[], status: RunStatus, force: boolean): Promise<number> {
    return this.#call(() => runs.setRunStatus(this.#db, ids, status, force));
  }

  /**
   * One page of a function's window in `(started_at, id)` order after `query.after`, by keyset on
   * the `(environment_id, app_id, function_id, started_at, id)` index; `next` is absent when the
   * window holds nothing more (the page reads one row ahead to know).
   *
   * With a pushdown, the page reads the same `limit` window rows and returns those the predicate
   * keeps. A row is dropped only when the predicate is `false` (NULL keeps it; so do rows whose
   * event only the `json` fallback column holds). `next` is then the last row read, which may lie
   * past the last returned run, and `prefiltered` counts the dropped rows. If the predicate raises
   * a data error (e.g. a failed cast) the page is read again without it.
   *
   * With `query.until` (a shard's upper bound), only runs at or before that position are read.
   */
  protected override scanRunsChecked(query: CheckedScanQuery): Promise<ScanPage> {
    return this.#call(async () => {
      const plan = planScan(this.#db.tables.runs, query);
      if (plan === undefined) return { runs: [] };
      if (plan.pushdown !== undefined) {
        try {
          const { rows } = await this.#db.pool.query<PushdownRunRow>(plan.pushdown.sql, plan.pushdown.params);
          return pushdownPage(rows, plan.limit, plan.scope);
        } catch (error) {
          // Class 22 is a data exception raised by a row's value (a cast, a division): the
          // predicate cannot judge this page, so read it unfiltered.
          if (!sqlState(error)?.startsWith("22")) throw error;
        }
      }
      const { rows } = await this.#db.pool.query<ScanRow & QueryResultRow>(plan.plain.sql, plan.plain.params);
      const page = rows.slice(0, plan.limit).map((row) => scanRowToRun(row, plan.scope));
      const last = page[page.length - 1];
      return rows.length > plan.limit && last !== undefined ? { runs: page, next: { startedAt: last.startedAt, id: last.id } } : { runs: page };
    });
  }

  /**
   * The `EXPLAIN` output (one line per plan node) of the statement {@link scanRuns} runs for
   * `query`, e.g. to check that a scan uses the window index. `analyze` executes the statement.
   * Returns an empty list when the query cannot match anything (no statement is run).
   */
  async explainScan(query: BoundedScanQuery, options?: { readonly analyze?: boolean }): Promise<string[]> {
    this.assertUsable();
    const checked = normalizeScanQuery(query);
    return this.#call(async () => {
      const plan = planScan(this.#db.tables.runs, checked);
      if (plan === undefined) return [];
      const statement = plan.pushdown ?? plan.plain;
      const prefix = options?.analyze === true ? "EXPLAIN (ANALYZE, BUFFERS)" : "EXPLAIN";
      const { rows } = await this.#db.pool.query<{ "QUERY PLAN": string }>(`${prefix} ${statement.sql}`, statement.params);
      return rows.map((row) => row["QUERY PLAN"]);
    });
  }

  /**
   * Decides, cancels and checkpoints one batch of a job in one statement, for an `if` that
   * translates into SQL exactly (see `exact.ts`); with `lease`, a batch of a shard.
   *
   * @throws {@link StoreError} `invalid_batch` for a malformed batch; `storage` when the database fails.
   */
  async cancelExactBatch(batch: ExactBatch): Promise<ExactBatchResult> {
    this.assertUsable();
    const checked = normalizeExactBatch(batch, true);
    return this.#call(() => exact.cancelExactBatch(this.#db, checked));
  }

  protected override commitBatchChecked(batch: CommitBatch): Promise<CommitResult> {
    return this.#call(() => cancellations.commitBatch(this.#db, batch));
  }

  /**
   * Stores a new cancellation; with an idempotency key, atomically with the key (see
   * `cancellations.ts`).
   *
   * @throws {@link StoreError} `duplicate_cancellation` when the id is taken.
   */
  protected override createCancellationChecked(record: CancellationRecord, idempotency: Idempotency | undefined): Promise<CreateResult> {
    return this.#call(() => cancellations.createCancellation(this.#db, record, idempotency));
  }

  /**
   * Stores a new cancellation whose window is split into at most `count` shards, all `pending`,
   * for workers to lease (see {@link planShards} for the split). The record, its shards and the
   * idempotency key commit in one transaction; a repeated key answers as
   * {@link createCancellation} does (and computes no split).
   */
  protected override createShardedCancellationChecked(record: CancellationRecord, count: number, idempotency: Idempotency | undefined): Promise<CreateResult> {
    return this.#call(() =>
      cancellations.createCancellation(this.#db, record, idempotency, (client) => shards.insertShards(this.#db, client, record, count)),
    );
  }

  protected override getCancellationChecked(id: string, environmentId: string | undefined): Promise<CancellationRecord | undefined> {
    return this.#call(() => cancellations.getCancellation(this.#db, id, environmentId));
  }

  protected override listCancellationsChecked(options: CheckedListOptions): Promise<CancellationPage> {
    return this.#call(() => cancellations.listCancellations(this.#db, options));
  }

  protected override updateCancellationChecked(id: string, checkpoint: Checkpoint): Promise<boolean> {
    return this.#call(() => cancellations.saveCheckpoint(this.#db, this.#db.pool, id, checkpoint));
  }

  protected override updateCancellationSettingsChecked(id: string, settings: CancellationSettings): Promise<boolean> {
    return this.#call(() => cancellations.saveSettings(this.#db, id, settings));
  }

  protected override deleteCancellationChecked(id: string, environmentId: string | undefined): Promise<boolean> {
    return this.#call(() => cancellations.deleteCancellation(this.#db, id, environmentId));
  }

  protected override leaseCancellationChecked(id: string, owner: string, leaseMs: number): Promise<CancellationLeaseResult> {
    return this.#call(() => cancellations.leaseCancellation(this.#db, id, owner, leaseMs));
  }

  protected override releaseCancellationChecked(id: string, owner: string): Promise<boolean> {
    return this.#call(() => cancellations.releaseCancellation(this.#db, id, owner));
  }

  protected override findByIdempotencyKeyChecked(environmentId: string, key: string): Promise<KeyedRecord | undefined> {
    return this.#call(() => cancellations.findByKey(this.#db, environmentId, key));
  }

  /** Splits a window into shards of about equal run counts (see `shards.ts`). */
  protected override planShardsChecked(window: CheckedShardWindow, count: number): Promise<ShardBounds[]> {
    return this.#call(() => this.#db.transaction((client) => shards.planShards(this.#db, client, window, count)));
  }

  protected override leaseShardChecked(request: CheckedLeaseRequest): Promise<ShardLeaseResult> {
    return this.#call(() => shards.leaseShard(this.#db, request));
  }

  protected override renewShardLeaseChecked(cancellationId: string, shardNo: number, workerId: string, leaseMs: number): Promise<boolean> {
    return this.#call(() => shards.renewShardLease(this.#db, cancellationId, shardNo, workerId, leaseMs));
  }

  protected override commitShardBatchChecked(commit: ShardCommit): Promise<ShardCommitResult> {
    return this.#call(() => shards.commitShardBatch(this.#db, commit));
  }

  protected override listShardsChecked(cancellationId: string): Promise<ShardRecord[]> {
    return this.#call(() => shards.listShards(this.#db, cancellationId));
  }

  /** {@inheritDoc RateBudgetStore.takeRateBudget} */
  async takeRateBudget(cancellationId: string, units: number, ratePerSecond: number, burst: number): Promise<number> {
    this.assertUsable();
    checkRateBudget(units, ratePerSecond, burst);
    if (!isValidId(cancellationId)) return 0;
    return this.#call(() => takeRateBudget(this.#db, cancellationId, units, ratePerSecond, burst));
  }

  /** `LISTEN`s for other store objects' notifications (see `watch.ts`). */
  protected override watchOthersChecked(emit: (change: CancellationChange) => void, options: CheckedWatchOptions): Promise<StopWatching> {
    return this.#call(() => watchChanges(this.#db, this.#db.origin, emit, options));
  }

  /** Ends the pool once in-flight queries finish. */
  protected override closeChecked(): Promise<void> {
    return this.#db.pool.end();
  }
}
