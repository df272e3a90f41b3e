/**
 * SQLite run store (`cancelkit/stores/sqlite`): one file, embedded, on `better-sqlite3`.
 *
 * - The file is opened in WAL mode with `synchronous=NORMAL`: readers never block the writer, and
 *   a crash (even SIGKILL mid-transaction) loses at most the transactions not yet checkpointed
 *   to the OS, never consistency; the next open recovers the WAL.
 * - The schema is created on open and versioned in `schema_version`; each migration runs in the
 *   same `BEGIN IMMEDIATE` transaction as its version bump, so concurrent openers migrate once.
 * - The runs table is clustered on `(environment_id, app_id, function_id, started_at, id)` (a
 *   `WITHOUT ROWID` primary key, so a window's rows lie together on disk in scan order, whatever
 *   order they were inserted in) with a unique index on `id`. The window and the keyset cursor
 *   (`(started_at, id) > (?, ?)`, a row-value range SQLite seeks on) are pushed into SQL, so a page
 *   reads only its own rows, sequentially.
 * - `commitBatch` is one `BEGIN IMMEDIATE` transaction: look up the cancellation record (gone →
 *   nothing happens), `UPDATE … SET status = 'cancelled' … WHERE id IN (…) AND status IN
 *   (non-terminal) … RETURNING id` in chunks below SQLite's variable limit, then the checkpoint.
 * - The driver is synchronous; every method does its work in one call and returns a settled
 *   promise, so calls on one store never interleave. Several processes may share the file: writes
 *   serialise on SQLite's lock (waiting up to `busyTimeoutMs`).
 *
 * Idempotency keys live on the cancellation row (unique per environment): deleting a
 * cancellation frees its key.
 *
 * @module
 */
import Database from "better-sqlite3";
import type { Database as SqliteDatabase, Statement } from "better-sqlite3";
import {
  CANCELLATION_COLUMNS,
  LruCache,
  cancellationFromRow,
  foldFunctionRows,
  functionStatusQuery,
  type FunctionStatusRow,
  cancellationToRow,
  paddedIdChunks,
  placeholders,
  settingsToJson,
  type CancellationRow,
} from "./sql-common.js";
import { renderSqlitePredicate } from "./sqlite/pushdown.js";
import { batchOwnerHolds, leaseCancellationRow, lockDatabaseFile, releaseCancellationRow, type FileLock } from "./sqlite/lease.js";
import { migrate } from "./sqlite/migrate.js";
import { MIGRATIONS } from "./sqlite/schema.js";
import { BACKSTOP_PAGES, WalCheckpointer } from "./sqlite/checkpointer.js";
import { cancelExactBatchSync, DEFAULT_CHUNK_ROWS } from "./sqlite/exact.js";
import { normalizeExactBatch } from "./exact-checks.js";
import { BaseRunStore, type CheckedListOptions, type Idempotency, type KeyedRecord, type StopWatching } from "./base.js";
import type { CheckedScanQuery } from "./checks.js";
import type { CheckedWatchOptions } from "./watch-checks.js";
import type { CheckedRunLocationQuery } from "./location-checks.js";
import {
  NON_TERMINAL_STATUSES,
  StoreError,
  type CancellationChange,
  type CancellationLeaseResult,
  type CancellationPage,
  type CancellationRecord,
  type CancellationSettings,
  type RunLocation,
  MAX_LOCATIONS_PROBED,
  type Checkpoint,
  type CommitBatch,
  type CommitResult,
  type CreateResult,
  type Cursor,
  type ExactBatch,
  type ExactBatchResult,
  type ExactBatchStore,
  type FunctionSummary,
  type RunEvent,
  type RunRecord,
  type RunStatus,
  type ScanPage,
} from "./types.js";

export { SQLITE_SCHEMA_VERSION } from "./sqlite/schema.js";

/** Options of {@link SqliteRunStore}. */
export interface SqliteRunStoreOptions {
  /** Database file; created when missing. `":memory:"` for a private in-memory database. */
  readonly path: string;
  /** How long a write waits for another connection's lock before failing, ms. Default 5000. */
  readonly busyTimeoutMs?: number;
  /** Page cache size, KiB. Default 65536 (64 MiB); bounded, whatever the file size. */
  readonly cacheSizeKiB?: number;
  /** Clock for `updatedAt` of cancellation records, epoch ms. Default `Date.now`. */
  readonly now?: () => number;
  /**
   * Who copies the WAL into the database file: `"inline"`, the store's connection, at the commit
   * that finds 1,000 pages in the WAL (SQLite's default); `"background"`, a thread of the store's
   * with a connection of its own, every 50 ms while the file is written and at most once a second
   * while it is not, so commits do not wait for it (the store's connection still checkpoints at
   * 10,000 pages, should the thread fall behind). Ignored for
   * `":memory:"`. Default `"inline"`; `cancelkit serve` and the CLI use `"background"`.
   */
  readonly checkpoints?: "inline" | "background";
  /**
   * Runs an exact batch reads per step, cancelling each step's candidates before it reads the
   * next (see `sqlite/exact.ts`): a positive integer. A job ends the same at any value; the
   * default keeps a step's pages in the CPU's cache between its statements. Default 1000.
   */
  readonly exactChunkRows?: number;
}

const NON_TERMINAL_LIST = NON_TERMINAL_STATUSES.map((s) => `'${s}'`).join(", ");

/** Largest `IN (...)` list prepared (plus 4 other parameters: far below SQLite's 32766 limit). */
const MAX_IN_LIST = 512;

/** Runs per multi-row `INSERT` statement (8 parameters each). */
const INSERT_ROWS = 32;

/** Pushdown statements kept prepared. */
const PUSHDOWN_CACHE_SIZE = 32;

/** Lower bound on `(started_at, id)` that every run lies above (ids are never empty). */
const NO_LOWER_BOUND: Cursor = { startedAt: -(2 ** 53), id: "" };

const RUN_COLUMNS = "id, environment_id, app_id, function_id, started_at, status, event, cancellation_id";
/** A function's runs of a window after a cursor: environment, app, function, cursor time and id, end. */
const SCAN_WINDOW = "environment_id = ? AND app_id = ? AND function_id = ? AND (started_at, id) > (?, ?) AND started_at <= ?";
const CANCELLATION_SELECT = `SELECT ${CANCELLATION_COLUMNS.join(", ")} FROM cancellations`;

type SqlValue = string | number | bigint | null | Buffer;

/** Raw row of a scan: id, started_at, status, cancellation_id, event. */
type ScanRow = [string, number, RunStatus, string | null, string];

/** Raw row of `RUN_COLUMNS`. */
type RunRow = [string, string, string, string, number, RunStatus, string, string | null];

function isSqliteError(error: unknown): error is Error & { code: string } {
  return error instanceof Database.SqliteError;
}

function storageError(error: unknown, doing: string): StoreError {
  if (error instanceof StoreError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = isSqliteError(error) ? ` (${error.code})` : "";
  return new StoreError("storage", `SQLite run store: ${doing} failed${code}: ${message}`, { cause: error });
}

function parseEvent(text: string, id: string): RunEvent {
  try {
    return JSON.parse(text) as RunEvent;
  } catch (error) {
    throw new StoreError("storage", `SQLite run store: the stored event of run ${id} is not valid JSON`, { cause: error });
  }
}

/** The statements of a prefiltered scan page that involve its predicate (see `#scanPrefiltered`). */
interface PrefilterStatements {
  /** The kept runs up to the page's last run. */
  readonly page: Statement;
  /** The kept runs of a window's short last page. */
  readonly rest: Statement;
}

/** A run record while it is assembled from a row (the optional field set last). */
type BuiltRun = { -readonly [K in keyof RunRecord]: RunRecord[K] } & { environmentId: string };

/**
 * A {@link RunStore} in one SQLite file.
 *
 * Pushdown: `query.pushdown.predicate` is rendered as SQL over the column `event` (JSON text,
 * read with `json_type` / `json_extract`; see `sqlite/pushdown.ts`). A page then reads `limit`
 * rows of the window and returns those the predicate keeps: it may be short or empty while `next`
 * still advances past the dropped rows, and `prefiltered` says how many were dropped.
 */
export class SqliteRunStore extends BaseRunStore implements ExactBatchStore {
  readonly #db: SqliteDatabase;
  readonly #now: () => number;
  readonly #path: string;
  readonly #exactChunkRows: number;
  /** The exclusive lock of `lockExclusive`, held until close. */
  #fileLock: FileLock | undefined;
  /** The checkpoint thread (`checkpoints: "background"`), stopped by close. */
  readonly #checkpointer: WalCheckpointer | undefined;
  /** Imports staged so far on this connection (names their temporary tables). */
  #imports = 0;
  readonly #statements = new Map<string, Statement>();
  readonly #pushdownStatements = new LruCache<string, PrefilterStatements>(PUSHDOWN_CACHE_SIZE);
  /** Active watches of other processes' changes: the change counter each has accounted for. */
  readonly #pollers = new Set<{ seen: number }>();

  /**
   * Opens (creating when missing) the database and brings its schema up to date.
   *
   * @throws {@link StoreError} `storage` when the file is not a database, is locked past the busy
   * timeout, or was written by a newer schema version; `invalid_option` for bad options.
   */
  constructor(options: SqliteRunStoreOptions) {
    // Runs are serialised at once: no copy needed.
    super({ copyRuns: false });
    if (typeof options !== "object" || options === null || typeof options.path !== "string" || options.path === "") {
      throw new StoreError("invalid_option", "SqliteRunStore needs { path: string } (a file path or \":memory:\")");
    }
    const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    const cacheSizeKiB = options.cacheSizeKiB ?? 65536;
    if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) throw new StoreError("invalid_option", "busyTimeoutMs must be a non-negative integer");
    if (!Number.isSafeInteger(cacheSizeKiB) || cacheSizeKiB < 1) throw new StoreError("invalid_option", "cacheSizeKiB must be a positive integer");
    const exactChunkRows = options.exactChunkRows ?? DEFAULT_CHUNK_ROWS;
    if (!Number.isSafeInteger(exactChunkRows) || exactChunkRows < 1) throw new StoreError("invalid_option", "exactChunkRows must be a positive integer");
    this.#exactChunkRows = exactChunkRows;
    const checkpoints = options.checkpoints ?? "inline";
    if (checkpoints !== "inline" && checkpoints !== "background") throw new StoreError("invalid_option", 'checkpoints must be "inline" or "background"');
    this.#now = options.now ?? Date.now;
    this.#path = options.path;
    let db: SqliteDatabase | undefined;
    try {
      db = new Database(options.path, { timeout: busyTimeoutMs });
      // Takes effect only while the file is still empty: 8 KiB pages keep typical run rows
      // (a few hundred bytes of event JSON) inside their B-tree pages and make bulk inserts faster.
      db.pragma("page_size = 8192");
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
      db.pragma(`cache_size = -${cacheSizeKiB}`);
      // Keep the WAL from staying huge after a bulk insert.
      db.pragma("journal_size_limit = 67108864");
      migrate(db, MIGRATIONS);
      if (checkpoints === "background" && options.path !== ":memory:") {
        db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
        this.#checkpointer = new WalCheckpointer(options.path, busyTimeoutMs);
      }
    } catch (error) {
      db?.close();
      throw storageError(error, `opening ${options.path}`);
    }
    this.#db = db;
  }

  #statement(sql: string): Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs `work` on the database, turning driver errors into `storage` {@link StoreError}s. */
  #use<T>(doing: string, work: (db: SqliteDatabase) => T): T {
    try {
      return work(this.#db);
    } catch (error) {
      throw storageError(error, doing);
    }
  }

  protected override async listRunLocationsChecked(q: CheckedRunLocationQuery): Promise<RunLocation[]> {
    return this.#use("listing run locations", () => {
      // A loose index scan: one seek to each next (environment, app, function) of the primary
      // key, one probe of its window; no pass over the runs themselves.
      const next = this.#statement(
        "SELECT environment_id, app_id, function_id FROM runs WHERE (environment_id, app_id, function_id) > (?, ?, ?) " +
          "ORDER BY environment_id, app_id, function_id LIMIT 1",
      );
      const inWindow = this.#statement("SELECT 1 FROM runs WHERE environment_id = ? AND app_id = ? AND function_id = ? AND started_at >= ? AND started_at <= ? LIMIT 1");
      const out: RunLocation[] = [];
      let at: { environment_id: string; app_id: string; function_id: string } | undefined = { environment_id: "", app_id: "", function_id: "" };
      for (let probed = 0; probed < MAX_LOCATIONS_PROBED && out.length < q.limit; probed++) {
        at = next.get(at.environment_id, at.app_id, at.function_id) as typeof at;
        if (at === undefined) break;
        if (inWindow.get(at.environment_id, at.app_id, at.function_id, q.startedAfter ?? NO_LOWER_BOUND.startedAt, q.startedBefore) !== undefined) {
          out.push({ environmentId: at.environment_id, appId: at.app_id, functionId: at.function_id });
        }
      }
      return out;
    });
  }

  /**
   * Stages the runs in a temporary table of this connection (writing it locks nothing of the
   * database, and a later run with the same id replaces an earlier one there), then copies them
   * into `runs` in one transaction, in the clustered key's order: all or nothing, and the write
   * lock is held for the copy only, not while the caller reads its file.
   */
  protected override async insertRunStreamChecked(batches: AsyncIterable<readonly RunRecord[]>): Promise<number> {
    const table = `run_import_${++this.#imports}`;
    this.#use("staging runs", (db) =>
      db.exec(
        `CREATE TEMP TABLE ${table} (id TEXT NOT NULL PRIMARY KEY, environment_id TEXT NOT NULL, app_id TEXT NOT NULL, ` +
          "function_id TEXT NOT NULL, started_at INTEGER NOT NULL, status TEXT NOT NULL, event TEXT NOT NULL, cancellation_id TEXT) WITHOUT ROWID",
      ),
    );
    try {
      const stage = this.#use("staging runs", (db) => db.prepare(`INSERT OR REPLACE INTO temp.${table} (${RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`));
      const params = new Array<SqlValue>(8);
      let given = 0;
      for await (const batch of batches) {
        this.assertUsable();
        this.#use("staging runs", (db) =>
          db.transaction(() => {
            for (const run of batch) {
              fillRunParams(params, 0, run);
              stage.run(params);
            }
          })(),
        );
        given += batch.length;
      }
      this.assertUsable();
      this.#use("inserting runs", (db) =>
        db
          .transaction(() => {
            db.prepare(
              `INSERT OR REPLACE INTO runs (${RUN_COLUMNS}) SELECT ${RUN_COLUMNS} FROM temp.${table} ` +
                "ORDER BY environment_id, app_id, function_id, started_at, id",
            ).run();
          })
          .immediate(),
      );
      return given;
    } finally {
      if (!this.closed) this.#use("staging runs", (db) => db.exec(`DROP TABLE IF EXISTS temp.${table}`));
    }
  }

  protected override async insertRunsChecked(records: readonly RunRecord[]): Promise<void> {
    this.#use("inserting runs", (db) => {
      const insert = this.#statement(
        // REPLACE deletes the stored run with the same id (wherever its window key puts it) first.
        `INSERT OR REPLACE INTO runs (${RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      // Whether the runs already come in the table's clustered order.
      let ordered = true;
      for (let i = 1; i < records.length && ordered; i++) if (compareClusterKey(records[i - 1]!, records[i]!) > 0) ordered = false;
      // Inserting in key order appends to the clustered B-tree instead of touching a random page
      // per row: on a table larger than the page cache that is the difference between seconds and
      // minutes per million runs. Order matters only between runs sharing an id (the last one
      // wins), so those are reduced to their last occurrence before sorting.
      let writes = records;
      if (!ordered) {
        const lastIndex = new Map<string, number>();
        for (let i = 0; i < records.length; i++) lastIndex.set(records[i]!.id, i);
        const unique = lastIndex.size === records.length ? [...records] : records.filter((run, i) => lastIndex.get(run.id) === i);
        writes = unique.sort(compareClusterKey);
      }
      const many = this.#statement(
        `INSERT OR REPLACE INTO runs (${RUN_COLUMNS}) VALUES ${new Array<string>(INSERT_ROWS).fill("(?, ?, ?, ?, ?, ?, ?, ?)").join(", ")}`,
      );
      // Rows of one multi-row INSERT are written in order, so a later run with the same id still
      // replaces an earlier one.
      const params = new Array<SqlValue>(INSERT_ROWS * 8);
      db.transaction(() => {
        let i = 0;
        for (; i + INSERT_ROWS <= writes.length; i += INSERT_ROWS) {
          for (let k = 0; k < INSERT_ROWS; k++) fillRunParams(params, k * 8, writes[i + k]!);
          many.run(params);
        }
        for (; i < writes.length; i++) {
          fillRunParams(params, 0, writes[i]!);
          insert.run(params.slice(0, 8));
        }
      }).immediate();
    });
  }

  protected override async getRunChecked(id: string): Promise<RunRecord | undefined> {
    return this.#use("reading a run", () => {
      const row = this.#statement(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`).raw(true).get(id) as RunRow | undefined;
      if (row === undefined) return undefined;
      const run: BuiltRun = {
        id: row[0],
        environmentId: row[1],
        appId: row[2],
        functionId: row[3],
        startedAt: row[4],
        status: row[5],
        event: parseEvent(row[6], row[0]),
      };
      if (row[7] !== null) run.cancellationId = row[7];
      return run;
    });
  }

  protected override async setRunStatusChecked(ids: readonly string[], status: RunStatus, force: boolean): Promise<number> {
    const guard = force ? "" : ` AND status IN (${NON_TERMINAL_LIST})`;
    return this.#use("setting run statuses", (db) =>
      db
        .transaction(() => {
          let changed = 0;
          for (const chunk of paddedIdChunks(ids, MAX_IN_LIST)) {
            const update = this.#statement(
              `UPDATE runs SET status = ?,
                 cancellation_id = CASE WHEN ? = 'cancelled' THEN cancellation_id ELSE NULL END
               WHERE id IN (${placeholders(chunk.length)}) AND status <> ?${guard}`,
            );
            changed += update.run(status, status, ...chunk, status).changes;
          }
          return changed;
        })
        .immediate(),
    );
  }

  protected override async listFunctionsChecked(environmentId: string): Promise<FunctionSummary[]> {
    const rows = this.#use("listing functions", () =>
      this.#statement(functionStatusQuery("runs", "?", "")).raw(true).all(environmentId) as FunctionStatusRow[],
    );
    return foldFunctionRows(rows);
  }

  protected override async scanRunsChecked(q: CheckedScanQuery): Promise<ScanPage> {
    let lower = q.startedAfter === undefined ? NO_LOWER_BOUND : { startedAt: q.startedAfter, id: "" };
    if (q.after !== undefined && (q.after.startedAt > lower.startedAt || (q.after.startedAt === lower.startedAt && q.after.id > lower.id))) {
      lower = q.after;
    }
    if (q.pushdown !== undefined) {
      const predicate = renderSqlitePredicate(q.pushdown.predicate);
      return this.#scanPrefiltered(q, lower, predicate.sql, predicate.params as SqlValue[]);
    }
    const statement = this.#use("preparing a scan", () =>
      this.#statement(
`SELECT id, started_at, status, cancellation_id, event FROM runs WHERE ${SCAN_WINDOW} ORDER BY started_at, id LIMIT ?`,
      ),
    );
    // One row more than the page tells whether the window goes on.
    const rows = this.#use(
      "scanning runs",
      () =>
        statement
          .raw(true)
          .all(q.environmentId, q.appId, q.functionId, lower.startedAt, lower.id, q.startedBefore, q.limit + 1) as ScanRow[],
    );
    const more = rows.length > q.limit;
    const count = more ? q.limit : rows.length;
    const runs: RunRecord[] = [];
    for (let i = 0; i < count; i++) runs.push(this.#scannedRun(rows[i]!, q));
    if (!more) return { runs };
    const last = rows[count - 1]!;
    return { runs, next: { startedAt: last[1], id: last[0] } };
  }

  /** A run of a scan page from its row. */
  #scannedRun(row: ScanRow, q: { readonly environmentId: string; readonly appId: string; readonly functionId: string }): RunRecord {
    const run: BuiltRun = {
      id: row[0],
      environmentId: q.environmentId,
      appId: q.appId,
      functionId: q.functionId,
      startedAt: row[1],
      status: row[2],
      event: parseEvent(row[4], row[0]),
    };
    if (row[3] !== null) run.cancellationId = row[3];
    return run;
  }

  /**
   * A page with a prefilter, in two statements of one read transaction (one snapshot): the page's
   * last run is found by walking the window key (`OFFSET`, no column read), then only the runs the
   * predicate keeps come back, from the page's range. Handing every row of a page to JavaScript
   * cost about a microsecond a row, more than evaluating the predicate. A short last page counts
   * its rows, for the number the prefilter dropped.
   */
  #scanPrefiltered(
    q: CheckedScanQuery,
    lower: Cursor,
    predicate: string,
    predicateParams: SqlValue[],
  ): ScanPage {
    const statements = this.#prefilterStatements(predicate);
    const window = [q.environmentId, q.appId, q.functionId, lower.startedAt, lower.id, q.startedBefore] as const;
    return this.#use("scanning runs", (db) =>
      db.transaction((): ScanPage => {
        // The page's last run, and whether one follows it.
        const bound = this.#statement(`SELECT started_at, id FROM runs WHERE ${SCAN_WINDOW} ORDER BY started_at, id LIMIT 2 OFFSET ?`)
          .raw(true)
          .all(...window, q.limit - 1) as [number, string][];
        const end = bound[0];
        let rows: ScanRow[];
        try {
          rows = (
            end === undefined
              ? statements.rest.raw(true).all(...window, ...predicateParams)
              : statements.page.raw(true).all(q.environmentId, q.appId, q.functionId, lower.startedAt, lower.id, end[0], end[1], ...predicateParams)
          ) as ScanRow[];
        } catch (error) {
          if (error instanceof RangeError || error instanceof TypeError || isSqliteError(error)) {
            throw new StoreError("invalid_query", `scan query: the pushdown predicate failed: ${(error as Error).message}`, { cause: error });
          }
          throw error;
        }
        const runs: RunRecord[] = [];
        for (const row of rows) runs.push(this.#scannedRun(row, q));
        const read = end !== undefined ? q.limit : (this.#statement(`SELECT count(*) FROM runs WHERE ${SCAN_WINDOW}`).pluck().get(...window) as number);
        const page: { runs: RunRecord[]; next?: Cursor; prefiltered: number } = { runs, prefiltered: read - runs.length };
        if (bound.length === 2) page.next = { startedAt: end![0], id: end![1] };
        return page;
      })(),
    );
  }

  #prefilterStatements(predicate: string): PrefilterStatements {
    try {
      return this.#pushdownStatements.getOrCreate(predicate, () => ({
        // The predicate's `?`s come last in the text, so its parameters bind last. A page is
        // bounded by its last run alone: with `started_at <= ?` beside it, SQLite would end the index
        // range there, at the window's end, and read the rest of the window every page.
        page: this.#db.prepare(
          `SELECT id, started_at, status, cancellation_id, event FROM runs
           WHERE environment_id = ? AND app_id = ? AND function_id = ? AND (started_at, id) > (?, ?) AND (started_at, id) <= (?, ?)
             AND (${predicate}) ORDER BY started_at, id`,
        ),
        rest: this.#db.prepare(
          `SELECT id, started_at, status, cancellation_id, event FROM runs WHERE ${SCAN_WINDOW} AND (${predicate}) ORDER BY started_at, id`,
        ),
      }));
    } catch (error) {
      throw new StoreError("invalid_query", `scan query: SQLite rejected the pushdown predicate: ${(error as Error).message}`, { cause: error });
    }
  }

  protected override async commitBatchChecked(b: CommitBatch): Promise<CommitResult> {
    return this.#use("committing a batch", (db) =>
      db
        .transaction((): CommitResult => {
          const scope = this.#statement("SELECT environment_id, app_id, function_id FROM cancellations WHERE id = ?")
            .raw(true)
            .get(b.cancellationId) as [string, string, string] | undefined;
          if (scope === undefined) return { ok: false, reason: "gone" };
          if (!batchOwnerHolds((sql) => this.#statement(sql), b.cancellationId, b.owner)) return { ok: false, reason: "lease_lost" };
          const cancelled: string[] = [];
          for (const chunk of paddedIdChunks(b.runIds, MAX_IN_LIST)) {
            const update = this.#statement(
              `UPDATE runs SET status = 'cancelled', cancellation_id = ?
               WHERE id IN (${placeholders(chunk.length)})
                 AND status IN (${NON_TERMINAL_LIST})
                 AND +environment_id = ? AND +app_id = ? AND +function_id = ?
               RETURNING id`,
            );
            for (const row of update.raw(true).all(b.cancellationId, ...chunk, ...scope) as [string][]) cancelled.push(row[0]);
          }
          this.#saveCheckpoint(b.cancellationId, b.checkpoint);
          return { ok: true, cancelled };
        })
        .immediate(),
    );
  }

  /** Decides, cancels and checkpoints one batch in one transaction (see `sqlite/exact.ts`). */
  async cancelExactBatch(batch: ExactBatch): Promise<ExactBatchResult> {
    this.assertUsable();
    return this.#use("cancelling an exact batch", (db) => db.transaction(() => cancelExactBatchSync(db, normalizeExactBatch(batch, false), this.#now(), this.#exactChunkRows)).immediate());
  }

  /** Writes a checkpoint; returns whether the record exists. Call inside a transaction or alone. */
  #saveCheckpoint(id: string, checkpoint: Checkpoint): boolean {
    const cursor = checkpoint.cursor;
    const c = checkpoint.counts;
    const update = this.#statement(
      `UPDATE cancellations SET status = ?, scanned = ?, cancelled = ?, skipped_terminal = ?, not_matched = ?,
         expression_error = ?, non_boolean = ?,
         cursor_started_at = coalesce(?, cursor_started_at), cursor_id = coalesce(?, cursor_id),
         updated_at = max(updated_at, ?)
       WHERE id = ?`,
    );
    const result = update.run(
      checkpoint.status,
      c.scanned,
      c.cancelled,
      c.skipped_terminal,
      c.not_matched,
      c.expression_error,
      c.non_boolean,
      cursor?.startedAt ?? null,
      cursor?.id ?? null,
      this.#now(),
      id,
    );
    return result.changes > 0;
  }

  protected override async createCancellationChecked(stored: CancellationRecord, idempotency: Idempotency | undefined): Promise<CreateResult> {
    return this.#use("creating a cancellation", (db) =>
      db
        .transaction((): CreateResult => {
          if (idempotency !== undefined) {
            const existing = this.#findByKey(stored.environmentId, idempotency.key);
            if (existing !== undefined) return { created: false, ...existing };
          }
          const before = this.#pollers.size === 0 ? 0 : this.#changeVersion();
          if (this.#statement("SELECT 1 FROM cancellations WHERE id = ?").get(stored.id) !== undefined) {
            throw new StoreError("duplicate_cancellation", `a cancellation with id ${stored.id} already exists`);
          }
          this.#statement(
            `INSERT INTO cancellations (${CANCELLATION_COLUMNS.join(", ")}, idempotency_key, request_hash)
             VALUES (${placeholders(CANCELLATION_COLUMNS.length + 2)})`,
          ).run(...cancellationToRow(stored), idempotency?.key ?? null, idempotency?.requestHash ?? null);
          this.#accountOwnChange(before);
          return { created: true, record: stored };
        })
        .immediate(),
    );
  }

  #changeVersion(): number {
    return (this.#statement("SELECT version FROM cancellation_changes WHERE id = 1").get() as { version: number }).version;
  }

  /**
   * After a change of ours that moved the counter from `before`: a poller that had seen `before`
   * has now seen everything, since the counter moved by exactly our change. (Its own change is
   * reported to the watch at once by the base class; the poll then does not reload for it.)
   */
  #accountOwnChange(before: number): void {
    if (this.#pollers.size === 0) return;
    const after = this.#changeVersion();
    if (after !== before + 1) return;
    for (const poller of this.#pollers) if (poller.seen === before) poller.seen = after;
  }

  /**
   * Polls the change counter every `pollMs`; a change since the last poll that was not ours
   * reports `reload` (the counter says that something changed, not what).
   */
  protected override async watchOthersChecked(emit: (change: CancellationChange) => void, options: CheckedWatchOptions): Promise<StopWatching> {
    const poller = { seen: this.#use("reading the change counter", () => this.#changeVersion()) };
    this.#pollers.add(poller);
    const timer = setInterval(() => {
      if (this.closed) return;
      let version: number;
      try {
        version = this.#use("polling the change counter", () => this.#changeVersion());
      } catch (error) {
        options.onError?.(error);
        return;
      }
      if (version !== poller.seen) {
        poller.seen = version;
        emit({ kind: "reload" });
      }
    }, options.pollMs);
    // A forgotten watch must not keep the process alive.
    timer.unref();
    return async () => {
      clearInterval(timer);
      this.#pollers.delete(poller);
    };
  }

  #findByKey(environmentId: string, key: string): KeyedRecord | undefined {
    const row = this.#statement(`${CANCELLATION_SELECT.replace("SELECT ", "SELECT request_hash, ")} WHERE environment_id = ? AND idempotency_key = ?`).get(
      environmentId,
      key,
    ) as (CancellationRow & { request_hash: string }) | undefined;
    return row === undefined ? undefined : { record: cancellationFromRow(row), requestHash: row.request_hash };
  }

  protected override async getCancellationChecked(id: string, environmentId: string | undefined): Promise<CancellationRecord | undefined> {
    return this.#use("reading a cancellation", () => {
      const row = this.#statement(`${CANCELLATION_SELECT} WHERE id = ?`).get(id) as CancellationRow | undefined;
      if (row === undefined || (environmentId !== undefined && row.environment_id !== environmentId)) return undefined;
      return cancellationFromRow(row);
    });
  }

  protected override async listCancellationsChecked(options: CheckedListOptions): Promise<CancellationPage> {
    const limit = options.limit;
    return this.#use("listing cancellations", () => {
      const conditions: string[] = [];
      const params: SqlValue[] = [];
      if (options.environmentId !== undefined) {
        conditions.push("environment_id = ?");
        params.push(options.environmentId);
      }
      if (options.after !== undefined) {
        conditions.push("id < ?");
        params.push(options.after);
      }
      const where = conditions.length === 0 ? "" : ` WHERE ${conditions.join(" AND ")}`;
      const rows = this.#statement(`${CANCELLATION_SELECT}${where} ORDER BY id DESC LIMIT ?`).all(...params, limit + 1) as CancellationRow[];
      const records = rows.slice(0, limit).map(cancellationFromRow);
      return rows.length > limit ? { records, next: records[records.length - 1]!.id } : { records };
    });
  }

  protected override async updateCancellationChecked(id: string, next: Checkpoint): Promise<boolean> {
    return this.#use("updating a cancellation", () => this.#saveCheckpoint(id, next));
  }

  protected override async updateCancellationSettingsChecked(id: string, settings: CancellationSettings): Promise<boolean> {
    return this.#use("updating a cancellation's settings", () => {
      const result = this.#statement("UPDATE cancellations SET settings = ?, updated_at = max(updated_at, ?) WHERE id = ?").run(settingsToJson(settings), this.#now(), id);
      return result.changes > 0;
    });
  }

  protected override async deleteCancellationChecked(id: string, environmentId: string | undefined): Promise<boolean> {
    return this.#use("deleting a cancellation", (db) =>
      db
        .transaction((): boolean => {
          const before = this.#pollers.size === 0 ? 0 : this.#changeVersion();
          const result =
            environmentId === undefined
              ? this.#statement("DELETE FROM cancellations WHERE id = ?").run(id)
              : this.#statement("DELETE FROM cancellations WHERE id = ? AND environment_id = ?").run(id, environmentId);
          if (result.changes > 0) this.#accountOwnChange(before);
          return result.changes > 0;
        })
        .immediate(),
    );
  }

  protected override async leaseCancellationChecked(id: string, owner: string, leaseMs: number): Promise<CancellationLeaseResult> {
    return this.#use("leasing a cancellation", (db) => leaseCancellationRow(db, (sql) => this.#statement(sql), id, owner, leaseMs, this.#now()));
  }

  protected override async releaseCancellationChecked(id: string, owner: string): Promise<boolean> {
    return this.#use("releasing a cancellation", () => releaseCancellationRow((sql) => this.#statement(sql), id, owner));
  }

  /**
   * Makes this store the only one of its kind on the file until it is closed: takes the OS-level
   * lock of `lockDatabaseFile` (`sqlite/lease.ts`), released by `close()` or the process's death.
   * `cancelkit serve` takes it, so a second `serve` on one file refuses to start. No-op for `:memory:`.
   *
   * @param purpose - Named in the error, say `cancelkit serve`.
   * @throws {@link StoreError} `locked` when another store holds the file's lock.
   */
  lockExclusive(purpose: string): void {
    this.assertUsable();
    if (this.#path !== ":memory:") this.#fileLock ??= lockDatabaseFile(this.#path, purpose);
  }

  protected override async findByIdempotencyKeyChecked(environmentId: string, key: string): Promise<KeyedRecord | undefined> {
    return this.#use("looking up an idempotency key", () => this.#findByKey(environmentId, key));
  }

  /** Closes the database file (checkpointing the WAL). */
  protected override async closeChecked(): Promise<void> {
    this.#statements.clear();
    this.#pushdownStatements.clear();
    try {
      this.#db.pragma("optimize");
    } catch {
      // Only statistics: never let them block closing.
    }
    await this.#checkpointer?.stop();
    this.#db.close();
    this.#fileLock?.release();
  }
}

/** Writes the `RUN_COLUMNS` values of `run` into `params` from `offset`. */
function fillRunParams(params: SqlValue[], offset: number, run: RunRecord): void {
  params[offset] = run.id;
  params[offset + 1] = run.environmentId!;
  params[offset + 2] = run.appId;
  params[offset + 3] = run.functionId;
  params[offset + 4] = run.startedAt;
  params[offset + 5] = run.status;
  params[offset + 6] = JSON.stringify(run.event);
  params[offset + 7] = run.cancellationId ?? null;
}

/** Orders runs as the clustered primary key does: environment, app, function, start time, id. */
function compareClusterKey(a: RunRecord, b: RunRecord): number {
  if (a.environmentId !== b.environmentId) return a.environmentId! < b.environmentId! ? -1 : 1;
  if (a.appId !== b.appId) return a.appId < b.appId ? -1 : 1;
  if (a.functionId !== b.functionId) return a.functionId < b.functionId ? -1 : 1;
  if (a.startedAt !== b.startedAt) return a.startedAt - b.startedAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
