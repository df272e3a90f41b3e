/**
 * The run-store contract shared by every store (memory, SQLite, PostgreSQL) and the planner.
 *
 * Stores know nothing of CEL: the planner hands them a window, a keyset cursor and, optionally,
 * a pushdown hint (a SQL predicate they may apply to narrow the scan). The compiled expression
 * always makes the final decision.
 *
 * @module
 */

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
 * A prefilter a SQL store may add to its scan. It must select a superset of the runs the
 * expression matches; stores that cannot use it ignore it.
 */
export interface PushdownHint {
  /** Predicate over the `event` column for PostgreSQL (`jsonb`), with `$n` placeholders numbered from 1. */
  readonly postgres?: { readonly sql: string; readonly params: readonly unknown[] };
  /** Predicate over the `event` column for SQLite (`json_extract`), with `?` placeholders. */
  readonly sqlite?: { readonly sql: string; readonly params: readonly unknown[] };
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
}

/** Outcome of committing one batch. */
export type CommitResult =
  /** The batch was applied: `cancelled` lists the ids whose status changed, in no particular order. */
  | { readonly ok: true; readonly cancelled: readonly string[] }
  /** The cancellation record no longer exists (deleted): nothing was changed, the job must stop. */
  | { readonly ok: false; readonly reason: "gone" };

/**
 * One committed batch of a cancellation, as a downstream consumer sees it: what the planner's
 * `onBatch` receives and what a cancellation batch stream (`cancelkit/stores/msgpack`) holds.
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
}

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
   * Deletes a cancellation record, which stops its job at the next batch; runs it already
   * cancelled stay cancelled. Returns false when there was none.
   */
  deleteCancellation(id: string, environmentId?: string): Promise<boolean>;
  /** The cancellation created under an idempotency key, with the hash of its request. */
  findByIdempotencyKey(
    environmentId: string,
    key: string,
  ): Promise<{ readonly record: CancellationRecord; readonly requestHash: string } | undefined>;
  /** Releases connections and file handles. */
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
// Errors and input validation shared by every store. A store validates everything it is handed
// before it writes anything, so bad input never leaves a half-written batch behind.
// ---------------------------------------------------------------------------------------------

/** Every valid cancellation status. */
export const CANCELLATION_STATUSES: readonly CancellationStatus[] = [
  "running",
  "completed",
  "aborted",
  "stopped_max_runs",
  "failed",
];

/** Machine-readable category of a {@link StoreError}. */
export type StoreErrorCode =
  /** A run passed to `insertRuns` (or read from a file) is not a valid {@link RunRecord}. */
  | "invalid_run"
  /** A scan query, id list or status argument is malformed. */
  | "invalid_query"
  /** A {@link CommitBatch} or {@link Checkpoint} is malformed. */
  | "invalid_batch"
  /** A {@link CancellationRecord} is malformed. */
  | "invalid_cancellation"
  /** A cancellation with the same id already exists. */
  | "duplicate_cancellation"
  /** A constructor or function option is invalid (a path, a size, a timeout). */
  | "invalid_option"
  /** The store was closed. */
  | "closed"
  /** The underlying database or file failed (busy, I/O error, not a database, newer schema). */
  | "storage"
  /** An import file is corrupt, truncated or of an unknown format. */
  | "invalid_file";

/** The error every store throws (or rejects with) for bad input and storage failures. */
export class StoreError extends Error {
  override readonly name: string = "StoreError";
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { readonly cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** Longest id (run or cancellation) a store accepts. */
export const MAX_ID_LENGTH = 128;

/** Deepest nesting of objects and arrays inside a run's `event` (the event itself is level 1). */
export const MAX_EVENT_DEPTH = 100;

/**
 * Whether `value` can serve as a run or cancellation id: 1 to {@link MAX_ID_LENGTH} printable ASCII
 * characters without spaces. ASCII only, so that every store (JS `<`, SQLite `BINARY`, PostgreSQL
 * `COLLATE "C"`) orders ids the same way; ULIDs, UUIDs and most foreign ids qualify.
 */
export function isValidId(value: unknown): value is string {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_ID_LENGTH) return false;
  // A loop beats the regular expression by a wide margin on the bulk-insert path.
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x21 || code > 0x7e) return false;
  }
  return true;
}

const stringIsWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function isWellFormedString(value: string): boolean {
  return stringIsWellFormed !== undefined ? stringIsWellFormed.call(value) : !LONE_SURROGATE.test(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") {
    const ctor = (value as { constructor?: { name?: unknown } }).constructor;
    return typeof ctor?.name === "string" && ctor.name !== "" ? `a ${ctor.name}` : "an object";
  }
  if (typeof value === "number") return Number.isNaN(value) ? "NaN" : String(value);
  if (typeof value === "string") return "a string";
  return typeof value === "bigint" ? "a bigint" : `${typeof value === "undefined" ? "undefined" : `a ${typeof value}`}`;
}

function formatPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) out += out === "" ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

class JsonShapeError extends Error {}

/**
 * Walks a JSON value: rejects what JSON cannot carry faithfully and, when `copy` is set, returns a
 * deep-frozen copy. Object properties whose value is `undefined` are dropped, as `JSON.stringify`
 * does; `-0` becomes `0`.
 */
function walkJson(
  value: unknown,
  path: (string | number)[],
  ancestors: object[],
  copy: boolean,
): unknown {
  switch (typeof value) {
    case "string":
      if (!isWellFormedString(value)) throw new JsonShapeError(`${formatPath(path)}: string holds a lone UTF-16 surrogate`);
      return value;
    case "number":
      if (!Number.isFinite(value)) throw new JsonShapeError(`${formatPath(path)}: ${describeValue(value)} is not a JSON number`);
      return value === 0 ? 0 : value;
    case "boolean":
      return value;
    case "object":
      break;
    default:
      throw new JsonShapeError(`${formatPath(path)}: ${describeValue(value)} is not a JSON value`);
  }
  if (value === null) return null;
  if (ancestors.includes(value)) throw new JsonShapeError(`${formatPath(path)}: cyclic reference`);
  if (ancestors.length >= MAX_EVENT_DEPTH) {
    throw new JsonShapeError(`${formatPath(path)}: nested deeper than ${MAX_EVENT_DEPTH} levels`);
  }
  ancestors.push(value);
  let result: unknown;
  if (Array.isArray(value)) {
    const out: unknown[] | undefined = copy ? new Array<unknown>(value.length) : undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item === undefined) throw new JsonShapeError(`${formatPath([...path, i])}: undefined is not a JSON value`);
      path.push(i);
      const walked = walkJson(item, path, ancestors, copy);
      path.pop();
      if (out !== undefined) out[i] = walked;
    }
    result = out === undefined ? value : Object.freeze(out);
  } else if (isPlainObject(value)) {
    const out: Record<string, unknown> | undefined = copy ? {} : undefined;
    // for-in allocates no key array; the own-property check skips anything inherited.
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      const item = value[key];
      if (item === undefined) continue;
      if (!isWellFormedString(key)) throw new JsonShapeError(`${formatPath(path)}: key holds a lone UTF-16 surrogate`);
      path.push(key);
      const walked = walkJson(item, path, ancestors, copy);
      path.pop();
      if (out !== undefined) {
        // A plain assignment of "__proto__" would set the prototype instead of adding the key.
        if (key === "__proto__") Object.defineProperty(out, key, { value: walked, enumerable: true, writable: true, configurable: true });
        else out[key] = walked;
      }
    }
    result = out === undefined ? value : Object.freeze(out);
  } else {
    throw new JsonShapeError(`${formatPath(path)}: ${describeValue(value)} is not a JSON value (plain objects and arrays only)`);
  }
  ancestors.pop();
  return result;
}

const SCRATCH_ANCESTORS: object[] = [];
const SCRATCH_PATH: (string | number)[] = [];
const RUN_KEYS = new Set(["id", "environmentId", "appId", "functionId", "startedAt", "status", "event", "cancellationId"]);
const EVENT_KEYS = new Set(["name", "data", "id", "ts", "user"]);
const RUN_STATUS_SET: ReadonlySet<string> = new Set(RUN_STATUSES);

/** Options of {@link normalizeRunRecord}. */
export interface NormalizeRunOptions {
  /**
   * Return a deep-frozen copy (what an in-memory store keeps). When false the returned record
   * shares `event` with the input, for stores that serialise it at once. Default `true`.
   */
  readonly copy?: boolean;
  /** How the run is named in error messages. Default `"run"`. */
  readonly label?: string;
}

/**
 * Checks that `value` is a valid {@link RunRecord} and returns it normalised: `environmentId` is
 * filled in with {@link DEFAULT_ENVIRONMENT_ID} when absent, optional fields set to `undefined` are
 * dropped. Rules: ids are {@link isValidId}; `appId`, `functionId`, `environmentId` are non-empty
 * strings; `startedAt` is a safe integer (epoch ms); `status` is a {@link RunStatus}; `event` has a
 * string `name`, a plain-object `data`, optional string `id`, finite `ts`, plain-object `user`, and
 * holds only JSON values (finite numbers, well-formed strings, booleans, null, plain objects,
 * arrays without holes) nested at most {@link MAX_EVENT_DEPTH} deep. Unknown fields are rejected.
 *
 * @throws {@link StoreError} with code `invalid_run`, naming the offending field.
 */
export function normalizeRunRecord(value: unknown, options: NormalizeRunOptions = {}): RunRecord {
  const copy = options.copy ?? true;
  const label = options.label ?? "run";
  const fail = (message: string): never => {
    const id = isPlainObject(value) && typeof value["id"] === "string" ? ` (id ${JSON.stringify(value["id"].slice(0, MAX_ID_LENGTH))})` : "";
    throw new StoreError("invalid_run", `${label}${id}: ${message}`);
  };
  if (!isPlainObject(value)) return fail(`expected a run object, got ${describeValue(value)}`);
  for (const key in value) {
    if (!RUN_KEYS.has(key) && Object.hasOwn(value, key) && value[key] !== undefined) fail(`unknown field ${JSON.stringify(key)}`);
  }
  const { id, environmentId, appId, functionId, startedAt, status, event, cancellationId } = value;
  if (!isValidId(id)) fail(`id must be 1 to ${MAX_ID_LENGTH} printable ASCII characters, got ${describeValue(id)}`);
  if (environmentId !== undefined && !isNonEmptyString(environmentId)) fail(`environmentId must be a non-empty string, got ${describeValue(environmentId)}`);
  if (!isNonEmptyString(appId)) fail(`appId must be a non-empty string, got ${describeValue(appId)}`);
  if (!isNonEmptyString(functionId)) fail(`functionId must be a non-empty string, got ${describeValue(functionId)}`);
  if (typeof startedAt !== "number" || !Number.isSafeInteger(startedAt)) {
    fail(`startedAt must be an integer number of epoch milliseconds, got ${describeValue(startedAt)}`);
  }
  if (typeof status !== "string" || !RUN_STATUS_SET.has(status)) {
    fail(`status must be one of ${RUN_STATUSES.join(", ")}, got ${typeof status === "string" ? JSON.stringify(status) : describeValue(status)}`);
  }
  if (cancellationId !== undefined && !isValidId(cancellationId)) fail(`cancellationId must be a valid id, got ${describeValue(cancellationId)}`);
  if (!isPlainObject(event)) return fail(`event must be an object, got ${describeValue(event)}`);
  for (const key in event) {
    if (!EVENT_KEYS.has(key) && Object.hasOwn(event, key) && event[key] !== undefined) fail(`event: unknown field ${JSON.stringify(key)}`);
  }
  const { name, data, id: eventId, ts, user } = event;
  if (typeof name !== "string" || !isWellFormedString(name)) fail(`event.name must be a string, got ${describeValue(name)}`);
  if (!isPlainObject(data)) fail(`event.data must be an object, got ${describeValue(data)}`);
  if (eventId !== undefined && (typeof eventId !== "string" || !isWellFormedString(eventId))) fail(`event.id must be a string, got ${describeValue(eventId)}`);
  if (ts !== undefined && (typeof ts !== "number" || !Number.isFinite(ts))) fail(`event.ts must be a finite number, got ${describeValue(ts)}`);
  if (user !== undefined && !isPlainObject(user)) fail(`event.user must be an object, got ${describeValue(user)}`);

  let eventOut: RunEvent;
  try {
    // Shared scratch arrays: one walk runs at a time, and each starts by resetting them.
    const ancestors = SCRATCH_ANCESTORS;
    const path = SCRATCH_PATH;
    ancestors.length = 0;
    ancestors.push(event);
    path.length = 0;
    path.push("event", "data");
    const walkedData = walkJson(data, path, ancestors, copy) as RunEvent["data"];
    let walkedUser: RunEvent["user"];
    if (user !== undefined) {
      path.length = 0;
      path.push("event", "user");
      walkedUser = walkJson(user, path, ancestors, copy) as RunEvent["user"];
    }
    if (!copy) {
      eventOut = event as unknown as RunEvent;
    } else {
      const built: { name: string; data: RunEvent["data"]; id?: string; ts?: number; user?: Readonly<Record<string, unknown>> } = {
        name: name as string,
        data: walkedData,
      };
      if (eventId !== undefined) built.id = eventId as string;
      if (ts !== undefined) built.ts = (ts as number) === 0 ? 0 : (ts as number);
      if (walkedUser !== undefined) built.user = walkedUser;
      eventOut = Object.freeze(built) as RunEvent;
    }
  } catch (error) {
    if (error instanceof JsonShapeError) return fail(error.message);
    if (error instanceof RangeError) return fail("event nested too deeply");
    throw error;
  }
  const record: {
    id: string;
    environmentId: string;
    appId: string;
    functionId: string;
    startedAt: number;
    status: RunStatus;
    event: RunEvent;
    cancellationId?: string;
  } = {
    id: id as string,
    environmentId: (environmentId as string | undefined) ?? DEFAULT_ENVIRONMENT_ID,
    appId: appId as string,
    functionId: functionId as string,
    startedAt: startedAt as number,
    status: status as RunStatus,
    event: eventOut,
  };
  if (cancellationId !== undefined) record.cancellationId = cancellationId as string;
  return copy ? Object.freeze(record) : record;
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && isWellFormedString(value);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

const COUNT_KEYS = ["scanned", "cancelled", "skipped_terminal", "not_matched", "expression_error", "non_boolean"] as const;
const CANCELLATION_STATUS_SET: ReadonlySet<string> = new Set(CANCELLATION_STATUSES);

function checkCursor(value: unknown, where: string, fail: (message: string) => never): Cursor | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) return fail(`${where} must be a cursor object, got ${describeValue(value)}`);
  const { startedAt, id } = value;
  if (typeof startedAt !== "number" || !Number.isFinite(startedAt)) fail(`${where}.startedAt must be a finite number, got ${describeValue(startedAt)}`);
  if (!isValidId(id)) fail(`${where}.id must be a valid id, got ${describeValue(id)}`);
  return Object.freeze({ startedAt: startedAt as number, id: id as string });
}

function checkCounts(value: unknown, where: string, fail: (message: string) => never): OutcomeCounts {
  if (!isPlainObject(value)) return fail(`${where} must be an object, got ${describeValue(value)}`);
  const out: Record<string, number> = {};
  for (const key of COUNT_KEYS) {
    const n = value[key];
    if (!isCount(n)) fail(`${where}.${key} must be a non-negative integer, got ${describeValue(n)}`);
    out[key] = n as number;
  }
  return Object.freeze(out) as unknown as OutcomeCounts;
}

function checkCancellationStatus(value: unknown, where: string, fail: (message: string) => never): CancellationStatus {
  if (typeof value !== "string" || !CANCELLATION_STATUS_SET.has(value)) {
    fail(`${where} must be one of ${CANCELLATION_STATUSES.join(", ")}, got ${typeof value === "string" ? JSON.stringify(value) : describeValue(value)}`);
  }
  return value as CancellationStatus;
}

/**
 * Checks a {@link Checkpoint}; returns a frozen copy.
 *
 * @throws {@link StoreError} with code `invalid_batch`.
 */
export function normalizeCheckpoint(value: unknown): Checkpoint {
  const fail = (message: string): never => {
    throw new StoreError("invalid_batch", `checkpoint: ${message}`);
  };
  if (!isPlainObject(value)) return fail(`expected an object, got ${describeValue(value)}`);
  const cursor = checkCursor(value["cursor"], "cursor", fail);
  const counts = checkCounts(value["counts"], "counts", fail);
  const status = checkCancellationStatus(value["status"], "status", fail);
  return Object.freeze(cursor === undefined ? { counts, status } : { cursor, counts, status });
}

/**
 * Checks a {@link CommitBatch}; returns a copy whose `runIds` has no duplicates.
 *
 * @throws {@link StoreError} with code `invalid_batch`.
 */
export function normalizeCommitBatch(value: unknown): CommitBatch {
  const fail = (message: string): never => {
    throw new StoreError("invalid_batch", `commit batch: ${message}`);
  };
  if (!isPlainObject(value)) return fail(`expected an object, got ${describeValue(value)}`);
  const { cancellationId, runIds, checkpoint } = value;
  if (!isValidId(cancellationId)) fail(`cancellationId must be a valid id, got ${describeValue(cancellationId)}`);
  if (!Array.isArray(runIds)) return fail(`runIds must be an array, got ${describeValue(runIds)}`);
  const unique = new Set<string>();
  for (let i = 0; i < runIds.length; i++) {
    const runId: unknown = runIds[i];
    if (!isValidId(runId)) fail(`runIds[${i}] must be a valid id, got ${describeValue(runId)}`);
    unique.add(runId as string);
  }
  return { cancellationId: cancellationId as string, runIds: [...unique], checkpoint: normalizeCheckpoint(checkpoint) };
}

/**
 * Checks a {@link CancellationRecord}; returns a frozen copy without `undefined` optional fields.
 *
 * @throws {@link StoreError} with code `invalid_cancellation`.
 */
export function normalizeCancellationRecord(value: unknown): CancellationRecord {
  const fail = (message: string): never => {
    throw new StoreError("invalid_cancellation", `cancellation record: ${message}`);
  };
  if (!isPlainObject(value)) return fail(`expected an object, got ${describeValue(value)}`);
  const v = value;
  if (!isValidId(v["id"])) fail(`id must be a valid id, got ${describeValue(v["id"])}`);
  for (const key of ["environmentId", "appId", "functionId"] as const) {
    if (!isNonEmptyString(v[key])) fail(`${key} must be a non-empty string, got ${describeValue(v[key])}`);
  }
  for (const key of ["startedBefore", "createdAt", "updatedAt"] as const) {
    if (typeof v[key] !== "number" || !Number.isFinite(v[key])) fail(`${key} must be a finite number, got ${describeValue(v[key])}`);
  }
  if (v["startedAfter"] !== undefined && (typeof v["startedAfter"] !== "number" || !Number.isFinite(v["startedAfter"]))) {
    fail(`startedAfter must be a finite number, got ${describeValue(v["startedAfter"])}`);
  }
  if (v["if"] !== undefined && (typeof v["if"] !== "string" || !isWellFormedString(v["if"]))) fail(`if must be a string, got ${describeValue(v["if"])}`);
  const status = checkCancellationStatus(v["status"], "status", fail);
  const counts = checkCounts(v["counts"], "counts", fail);
  const cursor = checkCursor(v["cursor"], "cursor", fail);
  const out: {
    -readonly [K in keyof CancellationRecord]: CancellationRecord[K];
  } = {
    id: v["id"] as string,
    environmentId: v["environmentId"] as string,
    appId: v["appId"] as string,
    functionId: v["functionId"] as string,
    startedBefore: v["startedBefore"] as number,
    createdAt: v["createdAt"] as number,
    status,
    counts,
    updatedAt: v["updatedAt"] as number,
  };
  if (v["startedAfter"] !== undefined) out.startedAfter = v["startedAfter"] as number;
  if (v["if"] !== undefined) out.if = v["if"] as string;
  if (cursor !== undefined) out.cursor = cursor;
  return Object.freeze(out);
}

/**
 * Checks a {@link ScanQuery}. Returns it with `environmentId` filled in.
 *
 * @throws {@link StoreError} with code `invalid_query`.
 */
export function normalizeScanQuery(value: unknown): ScanQuery & { readonly environmentId: string } {
  const fail = (message: string): never => {
    throw new StoreError("invalid_query", `scan query: ${message}`);
  };
  if (!isPlainObject(value)) return fail(`expected an object, got ${describeValue(value)}`);
  const q = value as unknown as ScanQuery;
  if (q.environmentId !== undefined && !isNonEmptyString(q.environmentId)) fail(`environmentId must be a non-empty string, got ${describeValue(q.environmentId)}`);
  if (!isNonEmptyString(q.appId)) fail(`appId must be a non-empty string, got ${describeValue(q.appId)}`);
  if (!isNonEmptyString(q.functionId)) fail(`functionId must be a non-empty string, got ${describeValue(q.functionId)}`);
  if (typeof q.startedBefore !== "number" || Number.isNaN(q.startedBefore)) fail(`startedBefore must be a number, got ${describeValue(q.startedBefore)}`);
  if (q.startedAfter !== undefined && (typeof q.startedAfter !== "number" || Number.isNaN(q.startedAfter))) {
    fail(`startedAfter must be a number, got ${describeValue(q.startedAfter)}`);
  }
  if (!Number.isSafeInteger(q.limit) || q.limit < 1) fail(`limit must be a positive integer, got ${describeValue(q.limit)}`);
  checkCursor(q.after, "after", fail);
  if (q.pushdown !== undefined && !isPlainObject(q.pushdown)) fail(`pushdown must be an object, got ${describeValue(q.pushdown)}`);
  return q.environmentId === undefined ? { ...q, environmentId: DEFAULT_ENVIRONMENT_ID } : (q as ScanQuery & { environmentId: string });
}

/**
 * Checks a list of run ids (for `setRunStatus`); returns them without duplicates.
 *
 * @throws {@link StoreError} with code `invalid_query`.
 */
export function normalizeRunIds(value: unknown): string[] {
  if (!Array.isArray(value)) throw new StoreError("invalid_query", `run ids must be an array, got ${describeValue(value)}`);
  const unique = new Set<string>();
  for (let i = 0; i < value.length; i++) {
    const id: unknown = value[i];
    if (!isValidId(id)) throw new StoreError("invalid_query", `run ids[${i}] must be a valid id, got ${describeValue(id)}`);
    unique.add(id);
  }
  return [...unique];
}

/**
 * Checks a run status argument.
 *
 * @throws {@link StoreError} with code `invalid_query`.
 */
export function checkRunStatus(value: unknown): RunStatus {
  if (typeof value !== "string" || !RUN_STATUS_SET.has(value)) {
    throw new StoreError("invalid_query", `status must be one of ${RUN_STATUSES.join(", ")}, got ${typeof value === "string" ? JSON.stringify(value) : describeValue(value)}`);
  }
  return value as RunStatus;
}

/** Default page size of `listCancellations`. */
export const DEFAULT_LIST_LIMIT = 100;

/** Largest page size of `listCancellations`; larger limits are lowered to it. */
export const MAX_LIST_LIMIT = 1000;

/**
 * Checks the idempotency argument of `createCancellation`.
 *
 * @throws {@link StoreError} with code `invalid_cancellation`.
 */
export function checkIdempotency(
  idempotency: unknown,
): asserts idempotency is { readonly key: string; readonly requestHash: string } {
  const value = idempotency as { key?: unknown; requestHash?: unknown } | null;
  if (
    typeof value !== "object" ||
    value === null ||
    !isNonEmptyString(value.key) ||
    typeof value.requestHash !== "string"
  ) {
    throw new StoreError("invalid_cancellation", "idempotency must be { key: non-empty string, requestHash: string }");
  }
}

/**
 * Checks `listCancellations` options; returns the effective limit ({@link DEFAULT_LIST_LIMIT} by
 * default, at most {@link MAX_LIST_LIMIT}).
 *
 * @throws {@link StoreError} with code `invalid_query`.
 */
export function checkListOptions(options: unknown): number {
  if (!isPlainObject(options)) throw new StoreError("invalid_query", `list options must be an object, got ${describeValue(options)}`);
  const { limit = DEFAULT_LIST_LIMIT, after, environmentId } = options;
  if (typeof limit !== "number" || !Number.isSafeInteger(limit) || limit < 1) {
    throw new StoreError("invalid_query", `limit must be a positive integer, got ${describeValue(limit)}`);
  }
  if (after !== undefined && !isValidId(after)) throw new StoreError("invalid_query", `after must be a cancellation id, got ${describeValue(after)}`);
  if (environmentId !== undefined && !isNonEmptyString(environmentId)) {
    throw new StoreError("invalid_query", `environmentId must be a non-empty string, got ${describeValue(environmentId)}`);
  }
  return Math.min(limit, MAX_LIST_LIMIT);
}

/**
 * Checks the options of {@link RunStore.listFunctions} and answers the environment id (default
 * `'default'`).
 *
 * @throws {@link StoreError} with code `invalid_query`.
 */
export function checkEnvironmentOption(options: unknown): string {
  if (!isPlainObject(options)) throw new StoreError("invalid_query", `options must be an object, got ${describeValue(options)}`);
  const { environmentId } = options;
  if (environmentId !== undefined && !isNonEmptyString(environmentId)) {
    throw new StoreError("invalid_query", `environmentId must be a non-empty string, got ${describeValue(environmentId)}`);
  }
  return environmentId ?? DEFAULT_ENVIRONMENT_ID;
}

/** Orders ids by UTF-16 code units, which for the printable-ASCII ids stores accept is byte order (SQL `COLLATE "C"`, SQLite's `BINARY`). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
