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
