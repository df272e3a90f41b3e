/**
 * The run-store contract shared by every store (memory, SQLite, PostgreSQL) and the planner.
 *
 * Stores know nothing of CEL: the planner hands them a window, a keyset cursor and, optionally,
 * a pushdown hint (a predicate over the run's event, see `predicate.ts`, that a SQL store renders
 * in its own SQL to narrow the scan). The compiled expression always makes the final decision.
 * The checks every store applies to its input are in `checks.ts`; stores extend `BaseRunStore`
 * (`base.ts`), which applies them.
 *
 * @module
 */
import type { Pred } from "./predicate.js";

/** Statuses a run can have. */
export type RunStatus = "queued" | "running" | "sleeping" | "waiting" | "completed" | "failed" | "cancelled";

/** Statuses of a run that has not finished; only these are ever cancelled. */
export const NON_TERMINAL_STATUSES: readonly RunStatus[] = ["queued", "running", "sleeping", "waiting"];

/** Statuses of a finished run; a run in one of these is never changed by a cancellation. */
export const TERMINAL_STATUSES: readonly RunStatus[] = ["completed", "failed", "cancelled"];

/** Every valid run status. */
export const RUN_STATUSES: readonly RunStatus[] = [...NON_TERMINAL_STATUSES, ...TERMINAL_STATUSES];

/** Whether a status is one a cancellation may change. */
export function isNonTerminal(status: RunStatus): boolean {
  return status === "queued" || status === "running" || status === "sleeping" || status === "waiting";
}

/** The environment used when a caller names none. */
export const DEFAULT_ENVIRONMENT_ID = "default";

/** The event that triggered a run: the `event` variable of an `if` expression. */
export interface RunEvent {
  readonly name: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly id?: string;
  /** Event time, epoch milliseconds. */
  readonly ts?: number;
  readonly user?: Readonly<Record<string, unknown>>;
}

/** One function run. */
export interface RunRecord {
  /** ULID of the run. */
  readonly id: string;
  /** Environment the run belongs to; {@link DEFAULT_ENVIRONMENT_ID} when absent. */
  readonly environmentId?: string;
  readonly appId: string;
  readonly functionId: string;
  /** Start time, epoch milliseconds. */
  readonly startedAt: number;
  readonly status: RunStatus;
  readonly event: RunEvent;
  /** Id of the cancellation that cancelled this run, if one did. */
  readonly cancellationId?: string;
}

/**
 * Keyset position in the `(startedAt, id)` order: the last run already seen. A scan from a cursor
 * returns runs strictly after it, so runs sharing one millisecond are never skipped or repeated.
 */
export interface Cursor {
  readonly startedAt: number;
  readonly id: string;
}

/** Orders two positions in `(startedAt, id)` order. */
export function compareCursor(a: Cursor, b: Cursor): number {
  if (a.startedAt !== b.startedAt) return a.startedAt < b.startedAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * A prefilter a store may apply to its scan: it keeps at least the runs the caller needs (the
 * planner's predicate holds for every run its expression does not reject with `false`). SQL
 * stores render `predicate` in their own SQL; a store that cannot use it ignores it.
 */
export interface PushdownHint {
  /** The predicate over the run's `event` (see `predicate.ts`); at most `MAX_PREDICATE_SIZE` nodes. */
  readonly predicate: Pred;
}

/** One page request of a window scan. */
export interface ScanQuery {
  readonly environmentId?: string;
  readonly appId: string;
  readonly functionId: string;
  /** Inclusive lower bound on `startedAt`, epoch ms; no bound when absent. */
  readonly startedAfter?: number;
  /** Inclusive upper bound on `startedAt`, epoch ms. */
  readonly startedBefore: number;
  /** Return runs strictly after this position; from the window's start when absent. */
  readonly after?: Cursor;
  /** Most runs to return. */
  readonly limit: number;
  /** Optional SQL prefilter; the caller re-checks every returned run. */
  readonly pushdown?: PushdownHint;
}

/** One page of a window scan. */
export interface ScanPage {
  /** Runs in `(startedAt, id)` order. */
  readonly runs: readonly RunRecord[];
  /**
   * Position after which the next page starts, or `undefined` when the window is exhausted. With a
   * pushdown filter this can lie past the last returned run (rows the filter dropped were read).
   */
  readonly next?: Cursor;
  /**
   * Rows of the window read for this page that the pushdown predicate dropped (they lie between
   * `query.after` and `next`). Absent or 0 without a pushdown. A planner adds them to `not_matched`
   * so that its counts are the same whether or not a store applied the hint.
   */
  readonly prefiltered?: number;
}

/** Per-run outcome counts of a cancellation; `scanned` is the sum of the other five. */
export interface OutcomeCounts {
  readonly scanned: number;
  readonly cancelled: number;
  readonly skipped_terminal: number;
  readonly not_matched: number;
  readonly expression_error: number;
  readonly non_boolean: number;
}

/** All-zero counts. */
export const ZERO_COUNTS: OutcomeCounts = Object.freeze({
  scanned: 0,
  cancelled: 0,
  skipped_terminal: 0,
  not_matched: 0,
  expression_error: 0,
  non_boolean: 0,
});

/** Lifecycle of a cancellation job. */
export type CancellationStatus =
  /** Created, not yet finished: running now, or interrupted and waiting to be resumed. */
  | "running"
  /** Every run of the window was scanned. */
  | "completed"
  /** Stopped by an abort signal; resumable. */
  | "aborted"
  /** Stopped before cancelling more than `maxRuns`. */
  | "stopped_max_runs"
  /** Stopped because the job hit an unrecoverable error. */
  | "failed";

/** Where a job stands: saved atomically with each batch of cancellations. */
export interface Checkpoint {
  /** Last scanned position; `undefined` before the first page. */
  readonly cursor?: Cursor;
  readonly counts: OutcomeCounts;
  readonly status: CancellationStatus;
}

/** A bulk cancellation as stored. Serialised with Inngest's wire names by the planner. */
export interface CancellationRecord {
  /** ULID. */
  readonly id: string;
  readonly environmentId: string;
  readonly appId: string;
  readonly functionId: string;
  /** Inclusive lower bound, epoch ms; absent when the request named none. */
  readonly startedAfter?: number;
  /** Inclusive upper bound, epoch ms. */
  readonly startedBefore: number;
  /** The `if` expression, absent when every run of the window is to be cancelled. */
  readonly if?: string;
  /** Creation time, epoch ms. */
  readonly createdAt: number;
  readonly status: CancellationStatus;
  readonly counts: OutcomeCounts;
  readonly cursor?: Cursor;
  /** Last time the record changed, epoch ms. */
  readonly updatedAt: number;
  /**
   * The job's settings, reused when it resumes (also after a service restart) unless the resume
   * overrides them (and then saved). Absent on records stored before settings were kept: the
   * defaults apply.
   */
  readonly settings?: CancellationSettings;
}

/** A window for {@link RunStore.listRunLocations}. */
export interface RunLocationQuery {
  /** Inclusive lower bound on the start time, epoch ms; absent for none. */
  readonly startedAfter?: number;
  /** Inclusive upper bound on the start time, epoch ms. */
  readonly startedBefore: number;
  /** Most locations returned, 1 to 1000. Default 100. */
  readonly limit?: number;
}

/** An environment, app and function that has runs: an entry of {@link RunStore.listRunLocations}. */
export interface RunLocation {
  readonly environmentId: string;
  readonly appId: string;
  readonly functionId: string;
}

/** Most (environment, app, function) combinations {@link RunStore.listRunLocations} looks at. */
export const MAX_LOCATIONS_PROBED = 10_000;

/**
 * How a cancellation job runs: stored with its record (see {@link CancellationRecord.settings})
 * and changed with {@link RunStore.updateCancellationSettings}.
 */
export interface CancellationSettings {
  /** Runs per scanned page and at most per cancelled batch; a positive integer. */
  readonly batchSize: number;
  /** Most runs cancelled per second (a finite number, 0 or more); absent: no limit. */
  readonly ratePerSecond?: number;
  /** Most runs the job cancels in all, earlier sessions included (an integer, 0 or more); absent: no cap. */
  readonly maxRuns?: number;
  /**
   * The job is paused: every worker stops before its next batch (and its next checkpoint) until
   * this is cleared. Absent: not paused. Set with `controlCancellation` (`PATCH`, `cancelkit pause`).
   */
  readonly paused?: boolean;
}

/** Outcome of committing one batch. */
export type CommitResult =
  /** The batch was applied: `cancelled` lists the ids whose status changed, in no particular order. */
  | { readonly ok: true; readonly cancelled: readonly string[] }
  /** The cancellation record no longer exists (deleted): nothing was changed, the job must stop. */
  | { readonly ok: false; readonly reason: "gone" }
  /**
   * The batch named an `owner` that no longer holds the record's lease (another process took the
   * job over): nothing was changed, this process must stop the job.
   */
  | { readonly ok: false; readonly reason: "lease_lost" };

/**
 * One committed batch of a cancellation, as a downstream consumer sees it: what the planner's
 * `onBatch` receives and what a cancellation batch stream (`cancelkit/formats/msgpack`) holds.
 */
export interface CancellationBatch {
  readonly cancellationId: string;
  /** The runs the batch changed to `cancelled` (runs found already finished are not listed). */
  readonly runIds: readonly string[];
  /** When the batch was committed, epoch ms. */
  readonly at: number;
}

/** One batch of cancellations plus the checkpoint that follows it. */
export interface CommitBatch {
  readonly cancellationId: string;
  /** Runs to cancel; only those still non-terminal change (compare-and-set on status). */
  readonly runIds: readonly string[];
  /** Saved in the same transaction as the status changes. */
  readonly checkpoint: Checkpoint;
  /**
   * The owner the job runs under (see {@link RunStore.leaseCancellation}): the batch is applied
   * only while the record's lease names this owner (expired or not, as long as nobody took it
   * over), else nothing changes and the result is `lease_lost`. Absent: no check (a job run
   * without a lease, as the library runs one by default).
   */
  readonly owner?: string;
}

/**
 * Result of {@link RunStore.leaseCancellation}: the lease is this owner's until `expiresAt`, or the
 * record is gone, or another owner holds a live lease.
 */
export type CancellationLeaseResult =
  /** The caller owns the job until `expiresAt` (epoch ms, by the store's clock). */
  | { readonly ok: true; readonly expiresAt: number }
  /** No such cancellation. */
  | { readonly ok: false; readonly reason: "gone" }
  /** Another owner holds the lease until `expiresAt`; leave the job alone until then. */
  | { readonly ok: false; readonly reason: "held"; readonly owner: string; readonly expiresAt: number };

/** Result of creating a cancellation under an idempotency key. */
export type CreateResult =
  | { readonly created: true; readonly record: CancellationRecord }
  /** A record already exists for this key; `requestHash` is the hash stored with it. */
  | { readonly created: false; readonly record: CancellationRecord; readonly requestHash: string };

/** Page of cancellation records, newest first. */
export interface CancellationPage {
  readonly records: readonly CancellationRecord[];
  /** Pass as `after` to get the next page; absent on the last page. */
  readonly next?: string;
}

/**
 * One function's runs counted by status, and the span of their start times: an entry of
 * {@link RunStore.listFunctions}.
 */
export interface FunctionSummary {
  readonly appId: string;
  readonly functionId: string;
  /** Runs per status; every status is present (0 when none). */
  readonly runs: Readonly<Record<RunStatus, number>>;
  /** All runs of the function (the sum of `runs`). */
  readonly total: number;
  /** Start time of its earliest run, epoch ms. */
  readonly firstStartedAt: number;
  /** Start time of its latest run, epoch ms. */
  readonly lastStartedAt: number;
}

/** Every status at 0: the start of a {@link FunctionSummary}'s counts. */
export function zeroStatusCounts(): Record<RunStatus, number> {
  return { queued: 0, running: 0, sleeping: 0, waiting: 0, completed: 0, failed: 0, cancelled: 0 };
}

/**
 * The contract every run store implements. All methods may be called concurrently; stores make
 * `commitBatch` atomic.
 */
export interface RunStore {
  /** Adds runs (or replaces runs with the same id). */
  insertRuns(runs: readonly RunRecord[]): Promise<void>;
  /**
   * Adds (or replaces) every run of every batch `batches` yields, all or nothing: the runs become
   * visible together when the iterable ends, and an error (thrown by the iterable, say a corrupt
   * file, or an invalid run in a batch) leaves the store as it was and is passed on. Memory stays
   * bounded by a batch in the SQL stores (SQLite stages the runs in a temporary table;
   * PostgreSQL holds one transaction open while the iterable runs). Returns how many runs were
   * given (a run given twice counts twice; the last one wins).
   */
  insertRunStream(batches: AsyncIterable<readonly RunRecord[]>): Promise<number>;
  /** One run by id, or `undefined`. */
  getRun(id: string): Promise<RunRecord | undefined>;
  /**
   * Sets the status of runs (used by run executors and tests to finish runs); returns how many
   * changed. It never touches runs already in a terminal status unless `force` is set.
   */
  setRunStatus(ids: readonly string[], status: RunStatus, options?: { readonly force?: boolean }): Promise<number>;
  /** Reads one page of a function's runs of a window, in `(startedAt, id)` order after `query.after`. */
  scanRuns(query: ScanQuery): Promise<ScanPage>;
  /**
   * Where runs started in a window are: each environment, app and function with at least one
   * run started in it (bounds inclusive), ordered by environment, app, function, at most
   * `query.limit` of them (default 100, at most 1000). It answers "which functions or
   * environments hold runs?" when a cancellation's window holds none; SQL stores take one index
   * probe per (environment, app, function) stored, and look at the first
   * {@link MAX_LOCATIONS_PROBED} only.
   */
  listRunLocations(query: RunLocationQuery): Promise<RunLocation[]>;
  /**
   * Every app and function of an environment that has at least one run, with its runs counted by
   * status and the first and last start time; ordered by app id, then function id. SQL stores
   * answer it with one `GROUP BY`. `environmentId` defaults to `'default'`.
   */
  listFunctions(options?: { readonly environmentId?: string }): Promise<FunctionSummary[]>;
  /**
   * Cancels the still non-terminal runs among `batch.runIds` (setting `status` to `cancelled` and
   * `cancellationId`), and saves the checkpoint on the cancellation record, in one transaction.
   * Does nothing and returns `{ ok: false }` when the record was deleted.
   */
  commitBatch(batch: CommitBatch): Promise<CommitResult>;
  /**
   * Stores a new cancellation. With an idempotency key, creation is atomic with the key: a second
   * call with the same `(environmentId, key)` returns the first record and its request hash.
   */
  createCancellation(
    record: CancellationRecord,
    idempotency?: { readonly key: string; readonly requestHash: string },
  ): Promise<CreateResult>;
  /** One cancellation, or `undefined`; with `environmentId`, only if it belongs to that environment. */
  getCancellation(id: string, environmentId?: string): Promise<CancellationRecord | undefined>;
  /** Cancellations newest first (by id), optionally of one environment and after a ULID. */
  listCancellations(options?: {
    readonly environmentId?: string;
    readonly limit?: number;
    readonly after?: string;
  }): Promise<CancellationPage>;
  /** Updates status (and optionally checkpoint) of a record outside a batch; false when it is gone. */
  updateCancellation(id: string, checkpoint: Checkpoint): Promise<boolean>;
  /**
   * Replaces a cancellation's settings (leaving status, counts and cursor alone); `false` when it
   * does not exist.
   */
  updateCancellationSettings(id: string, settings: CancellationSettings): Promise<boolean>;
  /**
   * Takes, renews or takes over the owner lease of a cancellation's job: one process runs a job at
   * a time. Atomically, the lease becomes `owner`'s until `leaseMs` from now (the store's clock;
   * PostgreSQL's server clock) when nobody holds it, when `owner` already does (a renewal, also
   * after expiry if nobody took it meanwhile), or when the holder's lease has expired (a
   * takeover); otherwise nothing changes and the live holder is returned. A job's batches then
   * name their owner ({@link CommitBatch.owner}), so a process that lost its lease can change
   * nothing. `owner` is 1 to 200 characters, `leaseMs` an integer from 1 to 86,400,000.
   *
   * @throws {@link StoreError} `invalid_option` for a bad owner or lease length.
   */
  leaseCancellation(id: string, owner: string, leaseMs: number): Promise<CancellationLeaseResult>;
  /**
   * Gives up `owner`'s lease of a cancellation (the next process may take the job at once);
   * `false` when `owner` does not hold it (or the record is gone).
   */
  releaseCancellation(id: string, owner: string): Promise<boolean>;
  /**
   * Deletes a cancellation record, which stops its job at the next batch; runs it already
   * cancelled stay cancelled. Returns false when there was none.
   */
  deleteCancellation(id: string, environmentId?: string): Promise<boolean>;
  /** The cancellation created under an idempotency key, with the hash of its request. */
  findByIdempotencyKey(
    environmentId: string,
    key: string,
  ): Promise<{ readonly record: CancellationRecord; readonly requestHash: string } | undefined>;
  /**
   * Reports every change to the store's set of cancellations to `listener`, for callers that keep
   * a copy (a `CancellationChecker`):
   * - made through this store object: at once, synchronously, before the creating or deleting call
   *   resolves;
   * - made by other store objects or processes: as soon as the store learns of it — the memory
   *   store never (its data is its own), SQLite within `pollMs` (it polls a change counter), and
   *   PostgreSQL when the notification arrives (`LISTEN`/`NOTIFY`, milliseconds; after a lost
   *   connection the watch reconnects and reports `reload`).
   *
   * Resolves once the watch is active: every change committed after that is reported. A change may
   * be reported twice, and a listener must treat `created` of a known id and `deleted` of an unknown
   * one as no-ops. Errors of the background watch (a failed poll, a lost connection) go to
   * `options.onError`; a listener that throws is reported there too.
   *
   * @throws {@link StoreError} `invalid_option` for bad options.
   */
  watchCancellations(listener: (change: CancellationChange) => void, options?: WatchOptions): Promise<CancellationWatch>;
  /** Releases connections and file handles (and stops every watch). */
  close(): Promise<void>;
}

/** A change to a store's cancellations, as {@link RunStore.watchCancellations} reports it. */
export type CancellationChange =
  /** A cancellation was created. */
  | { readonly kind: "created"; readonly record: CancellationRecord }
  /** A cancellation was deleted. */
  | { readonly kind: "deleted"; readonly id: string }
  /**
   * Cancellations changed in a way the store cannot itemise (another process wrote to an SQLite
   * file; PostgreSQL notifications may have been missed): whoever keeps a copy reloads it.
   */
  | { readonly kind: "reload" };

/** Options of {@link RunStore.watchCancellations}. */
export interface WatchOptions {
  /**
   * How often a store without notifications (SQLite) looks for changes made by other processes,
   * ms, 10 to 3,600,000. Default {@link DEFAULT_WATCH_POLL_MS}.
   */
  readonly pollMs?: number;
  /** Receives errors of the background watch and of the listener. Default: none (they are dropped). */
  readonly onError?: (error: unknown) => void;
}

/** Default {@link WatchOptions.pollMs}: 1 second. */
export const DEFAULT_WATCH_POLL_MS = 1000;

/** A running watch of {@link RunStore.watchCancellations}. */
export interface CancellationWatch {
  /** Stops reporting changes; idempotent. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Sharded cancellations: one job split into shards that several worker processes lease. Optional:
// only stores that several processes can share (PostgreSQL) implement it.
// ---------------------------------------------------------------------------------------------

/** Where one shard of a sharded cancellation stands. */
export type ShardStatus =
  /** Not started, or released by a worker that stopped (its checkpoint is kept). */
  | "pending"
  /** Leased by a worker; when the lease has expired, another worker may take it over. */
  | "running"
  /** Every run of the shard was scanned. */
  | "done";

/**
 * A contiguous slice of a job's window in `(startedAt, id)` order: the runs of the window strictly
 * after `after` and at or before `until`. The shards of one job partition the whole keyset range
 * of the window (the first has no `after`, the last no `until`), so every run of the window, also
 * one inserted later, belongs to exactly one shard, also when many runs share one millisecond.
 */
export interface ShardBounds {
  /** Exclusive lower bound; absent: from the window's start. */
  readonly after?: Cursor;
  /** Inclusive upper bound; absent: to the window's end. */
  readonly until?: Cursor;
}

/** One shard as stored. */
export interface ShardRecord extends ShardBounds {
  readonly cancellationId: string;
  /** Position of the shard in the window, from 0. */
  readonly shardNo: number;
  /** Last settled position (see the planner's checkpoint); absent before the first checkpoint. */
  readonly cursor?: Cursor;
  /** Outcome counts of the runs at or before `cursor` (all sessions of the shard). */
  readonly counts: OutcomeCounts;
  readonly status: ShardStatus;
  /** Worker holding (or last holding) the lease while `running`. */
  readonly leaseOwner?: string;
  /** When the lease ends unless renewed, epoch ms by the database's clock. */
  readonly leaseExpiresAt?: number;
  /** Last time the shard changed, epoch ms. */
  readonly updatedAt: number;
}

/** A scan query that may also stop at an inclusive upper keyset bound (a shard's `until`). */
export interface BoundedScanQuery extends ScanQuery {
  /** Return only runs at or before this position. */
  readonly until?: Cursor;
}

/** A shard a worker leased, with its job's record. */
export interface ShardLease {
  readonly record: CancellationRecord;
  readonly shard: ShardRecord;
}

/** What {@link ShardedRunStore.leaseShard} answers. */
export interface ShardLeaseResult {
  /** The shard now leased to the worker; absent when none was free. */
  readonly lease?: ShardLease;
  /**
   * Shards in scope not `done`, other than the one leased: held under live leases by other
   * workers (they may still expire and become free). 0 means nothing is left to wait for.
   */
  readonly unfinished: number;
}

/** One batch of a shard plus the shard's checkpoint, committed under the worker's lease. */
export interface ShardCommit {
  readonly cancellationId: string;
  readonly shardNo: number;
  /** The worker that must still hold the lease. */
  readonly workerId: string;
  /** With status `running`, the lease is renewed to this many ms from now. */
  readonly leaseMs: number;
  /** Runs to cancel (compare-and-set on non-terminal status); they get the job's id. */
  readonly runIds: readonly string[];
  /**
   * Saved in the same transaction. Status `running` keeps (and renews) the lease, `pending`
   * releases it, `done` closes the shard (and the job, once every shard is done).
   */
  readonly checkpoint: { readonly cursor?: Cursor; readonly counts: OutcomeCounts; readonly status: ShardStatus };
}

/** Outcome of {@link ShardedRunStore.commitShardBatch}. */
export type ShardCommitResult =
  | CommitResult
  /** Another worker holds the shard now (or it is no longer running): nothing was changed. */
  | { readonly ok: false; readonly reason: "lease_lost" };

/** The window a job's shards split; see {@link ShardedRunStore.planShards}. */
export interface ShardWindow {
  readonly environmentId?: string;
  readonly appId: string;
  readonly functionId: string;
  readonly startedAfter?: number;
  readonly startedBefore: number;
}

/**
 * A {@link RunStore} on which several processes can share one cancellation job: the job's window is
 * split into shards that workers lease, each with its own checkpoint. A sharded job's record
 * reports the sum of its shards' counts, and `completed` once every shard is done.
 */
export interface ShardedRunStore extends RunStore {
  /** As {@link RunStore.scanRuns}, also honouring `until`. */
  scanRuns(query: BoundedScanQuery): Promise<ScanPage>;
  /**
   * Splits a window into at most `count` shards holding about equal numbers of the runs it holds
   * now (fewer when it holds fewer runs; one when it holds none).
   */
  planShards(window: ShardWindow, count: number): Promise<ShardBounds[]>;
  /**
   * Stores a new cancellation split into at most `count` shards (see {@link planShards}), all
   * `pending`, in one transaction; idempotency as {@link RunStore.createCancellation}.
   */
  createShardedCancellation(
    record: CancellationRecord,
    count: number,
    idempotency?: { readonly key: string; readonly requestHash: string },
  ): Promise<CreateResult>;
  /**
   * Leases one shard to `workerId` for `leaseMs`: a `pending` one, or a `running` one whose lease
   * expired (its checkpoint is where the new owner resumes). Never hands one shard to two workers
   * at once. Optionally only shards of one cancellation or one environment.
   */
  leaseShard(request: {
    readonly workerId: string;
    readonly leaseMs: number;
    readonly cancellationId?: string;
    readonly environmentId?: string;
  }): Promise<ShardLeaseResult>;
  /** Extends a lease the worker still holds to `leaseMs` from now; false when it lost it. */
  renewShardLease(cancellationId: string, shardNo: number, workerId: string, leaseMs: number): Promise<boolean>;
  /**
   * In one transaction: checks the worker still holds the shard's lease (else changes nothing and
   * answers `lease_lost`), cancels the batch's still non-terminal runs of the job's scope with the
   * job's id, and saves the shard's checkpoint. Answers `gone` when the job was deleted.
   */
  commitShardBatch(commit: ShardCommit): Promise<ShardCommitResult>;
  /** The shards of a cancellation in window order; empty for an unsharded or unknown one. */
  listShards(cancellationId: string): Promise<ShardRecord[]>;
}

/**
 * A store that keeps a job's rate budget where every worker of the job takes from it (PostgreSQL:
 * a token bucket row), so that a job's rate limit holds for all its workers together.
 */
export interface RateBudgetStore {
  /**
   * Takes `units` (runs about to be cancelled) from the job's budget, refilled at `ratePerSecond`
   * (finite, above 0) up to `burst` units (at least 1). Answers 0 when granted, else how many
   * milliseconds to wait before asking again (nothing was taken).
   *
   * @throws {@link StoreError} `invalid_option` for a bad number.
   */
  takeRateBudget(cancellationId: string, units: number, ratePerSecond: number, burst: number): Promise<number>;
}

/** Whether a store keeps a job's rate budget for all its workers ({@link RateBudgetStore}). */
export function isRateBudgetStore(store: RunStore): store is RunStore & RateBudgetStore {
  return typeof (store as Partial<RateBudgetStore>).takeRateBudget === "function";
}

/** Whether a store can run sharded cancellations ({@link ShardedRunStore}). */
export function isShardedRunStore(store: RunStore): store is ShardedRunStore {
  const candidate = store as Partial<ShardedRunStore>;
  return (
    typeof candidate.planShards === "function" &&
    typeof candidate.createShardedCancellation === "function" &&
    typeof candidate.leaseShard === "function" &&
    typeof candidate.renewShardLease === "function" &&
    typeof candidate.commitShardBatch === "function" &&
    typeof candidate.listShards === "function"
  );
}

// ---------------------------------------------------------------------------------------------
// Exact batches: a store that decides a whole batch inside its database. Optional: the SQL stores
// implement it; the planner falls back to its scan loop on a store without it.
// ---------------------------------------------------------------------------------------------

/**
 * How an `if` that translates into SQL exactly decides every run: three predicates over the run's
 * event (see `predicate.ts`) that never overlap and hold no `unknown` subtree. A run the `if`
 * neither matches nor errs on nor yields a non-boolean for is `not_matched`.
 */
export interface ExactDecision {
  /** Runs the `if` matches (`true` for every run when there is no `if`). */
  readonly match: Pred;
  /** Runs on which the `if` fails with an error (`expression_error`). */
  readonly error: Pred;
  /** Runs on which the `if` yields something other than a boolean (`non_boolean`). */
  readonly nonBoolean: Pred;
}

/**
 * One batch of a job decided entirely by the store ({@link ExactBatchStore.cancelExactBatch}).
 * The store reads the window's runs after `after` (at or before `until`), at most `scanLimit` of
 * them, in `(startedAt, id)` order, and takes a leading stretch of them holding at most `limit`
 * *candidates* — runs that `decision.match` keeps, still non-terminal and not already cancelled
 * by this job. The stretch ends at the end of the slice, or just before the `limit + 1`-th
 * candidate (`blocked`), or — a store may stop there — anywhere from right after the
 * `limit`-th one to that point; with `limit` 0 it ends just before the first candidate. It also
 * ends before a run the store cannot judge (see {@link ExactBatchResult}). The store cancels the
 * candidates taken (compare-and-set on status), counts every run taken, and saves `counts` plus
 * the batch's counts and the last run taken as the checkpoint (status `running`), all in one
 * transaction.
 */
export interface ExactBatch {
  readonly cancellationId: string;
  /** The job's window: environment (default `'default'`), app, function, start-time bounds. */
  readonly window: ShardWindow;
  /** Exclusive lower keyset bound (the saved cursor); absent: the window's start. */
  readonly after?: Cursor;
  /** Inclusive upper keyset bound (a shard's end); absent: the window's end. */
  readonly until?: Cursor;
  readonly decision: ExactDecision;
  /** Most runs to cancel, 0 or more (0 only counts the runs before the next candidate). */
  readonly limit: number;
  /** Most runs to read, 1 or more. */
  readonly scanLimit: number;
  /** Counts of the runs at or before `after` (the settled state the batch adds to). */
  readonly counts: OutcomeCounts;
  /**
   * For a shard of a sharded job: the worker must still hold the shard's lease (else nothing
   * changes: `lease_lost`), the checkpoint goes to the shard, and the lease is renewed to `leaseMs`
   * from now. Only a {@link ShardedRunStore} accepts it.
   */
  readonly lease?: { readonly shardNo: number; readonly workerId: string; readonly leaseMs: number };
  /**
   * The owner the job runs under (see {@link RunStore.leaseCancellation}), as
   * {@link CommitBatch.owner}: the batch is applied only while the record's lease names this owner,
   * else nothing changes and the result is `lease_lost`. Absent: no check. Not with `lease` (a
   * shard's lease already fences its worker).
   */
  readonly owner?: string;
  /**
   * The job's stored controls the caller read before an earlier batch and runs this one under:
   * the batch is applied only while the record still says the same (not paused, the same
   * `ratePerSecond`), else nothing changes and the result is `controls_changed` (the caller reads
   * them again). It spares the caller reading the record before every batch. Absent: no check.
   */
  readonly controls?: ExactBatchControls;
  /**
   * Whether the result must list the runs the batch cancelled (`cancelled`). `false`: the caller
   * hands no ids on (a job without `onBatch`), so a store may answer `cancelled` empty, the runs
   * still counted in `counts.cancelled`, and spare collecting them. Default `true`.
   */
  readonly listCancelled?: boolean;
}

/** The stored controls an exact batch runs under ({@link ExactBatch.controls}): not paused, and this rate. */
export interface ExactBatchControls {
  /** The record's `settings.ratePerSecond` as stored; absent when it has none. */
  readonly ratePerSecond?: number;
}

/** What {@link ExactBatchStore.cancelExactBatch} did. */
export type ExactBatchResult =
  | {
      readonly ok: true;
      /** The runs the batch changed to `cancelled` (possibly none listed with `listCancelled: false`). */
      readonly cancelled: readonly string[];
      /** Outcome counts of the runs the batch took (its own, not added to the given ones). */
      readonly counts: OutcomeCounts;
      /** The last run taken: the saved cursor. Absent when the batch took none. */
      readonly cursor?: Cursor;
      /** Whether the window (or shard) holds no run after `cursor`. */
      readonly exhausted: boolean;
      /** Whether the batch stopped before a candidate because it had cancelled `limit` runs. */
      readonly blocked: boolean;
      /**
       * The id of the run the batch stopped before because SQL cannot judge it (a PostgreSQL event
       * kept as `json` because it holds a NUL character): the caller decides it itself.
       */
      readonly undecided?: string;
      /**
       * `true` when the batch carried `controls` and the store checked them. A store that
       * predates them leaves it out, and the caller then reads the controls before every batch.
       */
      readonly controlsChecked?: boolean;
    }
  /**
   * The record (or shard) is gone, or the worker lost the shard's lease or the owner the job's, or
   * the job's controls are no longer `controls` (paused or re-rated): nothing changed.
   */
  | { readonly ok: false; readonly reason: "gone" | "lease_lost" | "controls_changed" };

/** A {@link RunStore} that can decide and cancel whole batches inside its database. */
export interface ExactBatchStore extends RunStore {
  /**
   * Decides, cancels and checkpoints one batch of a job in one transaction (see
   * {@link ExactBatch}); the ledger it saves is the one the planner's scan loop would keep.
   *
   * @throws {@link StoreError} `invalid_batch` for a malformed batch (or a `lease` on a store that
   * cannot share jobs); `storage` when the database fails.
   */
  cancelExactBatch(batch: ExactBatch): Promise<ExactBatchResult>;
}

/** Whether a store can decide whole batches itself ({@link ExactBatchStore}). */
export function supportsExactBatches(store: RunStore): store is ExactBatchStore {
  return typeof (store as Partial<ExactBatchStore>).cancelExactBatch === "function";
}

// ---------------------------------------------------------------------------------------------
// Errors and limits shared by every store. The checks that enforce them live in `checks.ts`.
// ---------------------------------------------------------------------------------------------

/** Every valid cancellation status. */
export const CANCELLATION_STATUSES: readonly CancellationStatus[] = [
  "running",
  "completed",
  "aborted",
  "stopped_max_runs",
  "failed",
];

export { StoreError, type StoreErrorCode } from "./store-error.js";
export { MAX_ID_LENGTH, MAX_EVENT_DEPTH, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, MAX_SHARD_COUNT, MAX_LEASE_MS, MAX_WORKER_ID_LENGTH, MAX_EXACT_SCAN_LIMIT } from "./limits.js";
