/**
 * The cancellation planner: streams the runs of a window out of a {@link RunStore}, decides each
 * with the compiled `if`, and cancels the matching ones in batches.
 *
 * How it stays correct:
 * - **Keyset scan.** Pages are read in `(startedAt, id)` order after the last position seen, so no
 *   run is skipped or repeated, also when thousands share one millisecond.
 * - **Compare-and-set.** The store cancels only runs still non-terminal. A matching run already
 *   finished in the page, or finished between the scan and the commit (sent but not reported
 *   cancelled), counts as `skipped_terminal`; it is never overwritten.
 * - **Checkpoint in the batch's transaction, one batch behind.** Which of the runs sent in a batch
 *   the store actually cancelled is known only when the commit returns. So each `commitBatch`
 *   carries, with its run ids, the checkpoint of everything settled before the batch: the cursor
 *   of the last run whose outcome is known and the counts of exactly the runs up to it. The next
 *   commit (or the closing one) settles the batch. After a crash the job resumes from the saved
 *   cursor and meets again the runs of the unsettled batch: those it cancelled carry its id in
 *   `cancellationId` and count as `cancelled` without being sent again, those finished meanwhile
 *   count as `skipped_terminal`. So the counts always equal the outcomes of the runs at or before
 *   the saved cursor, and a crash neither double counts nor skips.
 * - **Checkpoints without matches.** A stretch without matches is saved (an empty batch) at least
 *   every second, so a resume does not rescan it.
 * - **Pushdown.** For a `bool`-typed `if`, a SQL store gets the translator's prefilter and returns
 *   only the rows it keeps, saying how many it dropped; those count as `not_matched`. Where the
 *   dropped rows lie among the kept ones is unknown, so such a page is never split: its batch is
 *   committed at its end, and a `maxRuns` stop inside it re-reads the page without the prefilter.
 *   A prefiltered last page ends at an end-of-window cursor (`startedBefore`, `"~"` × 128).
 * - **Fairness.** The job yields to the event loop at least every 20 ms, so that an in-memory
 *   store's job does not starve timers, I/O and abort signals.
 * - **Read-ahead and pipelined commits.** While a page is decided and its batch committed, the
 *   next two pages are being read (one scan at a time; the pages are disjoint, so no commit
 *   touches a page read ahead), and without a rate limit or `maxRuns` a batch commits while the
 *   loop goes on (one batch in flight; see `launch` in {@link processRange}), so a SQL store's
 *   scans, the commits and the decisions overlap.
 * - **Memory.** The planner holds three pages of runs (`batchSize` runs each: the current one and
 *   two read ahead), plus at most two batches of ids (one in flight), whatever the window holds.
 * - **Ranges.** The scan loop ({@link processRange}) works through a *range*: the whole window of a
 *   job, or one shard of it (a keyset slice, see `workers.ts`). A range says where it starts
 *   (counts and cursor), where it ends (`until`) and how a batch commits (the job's
 *   `commitBatch`, or a shard commit under a worker's lease); the loop is the same for both.
 *
 * @module
 */
import { monotonicFactory } from "ulid";
import type { DecisionCounts, ItemBinding, Program } from "../expr/program.js";
import { compile } from "../expr/program.js";
import { CompileError } from "../expr/errors.js";
import {
  DEFAULT_ENVIRONMENT_ID,
  MAX_ID_LENGTH,
  StoreError,
  compareCursor,
  isShardedRunStore,
  type CancellationRecord,
  type CancellationSettings,
  type CancellationStatus,
  type Checkpoint,
  type BoundedScanQuery,
  type CancellationBatch,
  type CommitResult,
  type Cursor,
  type OutcomeCounts,
  type PushdownHint,
  type RunRecord,
  type RunStore,
  type ScanPage,
} from "../stores/types.js";
import { CancellationNotFoundError, ConflictError, ValidationError } from "./errors.js";
import { planPushdown, type PushdownCoverage, type PushdownPlan } from "./pushdown-plan.js";
import { RateLimiter } from "./rate.js";
import { toWireCancellation, type WireCancellation } from "./record.js";
import { boundCompileMessage, requestHash, validateCancellationRequest, type CancellationRequest } from "./request.js";

/** Default number of runs per scanned page and per cancelled batch. */
export const DEFAULT_BATCH_SIZE = 1000;

/** Largest accepted `batchSize`. */
export const MAX_BATCH_SIZE = 100_000;

/** Most matching run ids a dry run returns as its sample. */
export const DRY_RUN_SAMPLE_SIZE = 20;

/** A stretch of pages without a commit is checkpointed at least this often, ms. */
export const CHECKPOINT_INTERVAL_MS = 1000;

/** A progress event, sent after each commit or checkpoint. */
export interface CancellationProgress {
  /** The cancellation's id. */
  readonly cancellationId: string;
  /** Runs whose outcome is settled (the job's total, earlier sessions included). */
  readonly scanned: number;
  /** Settled runs the expression matched: `cancelled + skipped_terminal`. */
  readonly matched: number;
  /** Runs cancelled so far. */
  readonly cancelled: number;
  /** All outcome counts so far. */
  readonly counts: OutcomeCounts;
  /** Observed runs cancelled per second in this session. */
  readonly ratePerSecond: number;
  /** Observed runs settled per second in this session. */
  readonly scannedPerSecond: number;
  /**
   * Estimated seconds to go, from how far the cursor has moved through the window's time span
   * in this session; `undefined` until it can be estimated, 0 when done.
   */
  readonly etaSeconds: number | undefined;
  /** Milliseconds since this session started. */
  readonly elapsedMs: number;
}

/**
 * Options of {@link resumeCancellation}; {@link cancelRuns} adds `idempotencyKey` and `now`.
 *
 * `batchSize`, `ratePerSecond` and `maxRuns` are the job's settings: `cancelRuns` stores them with
 * the record ({@link CancellationRecord.settings}); `resumeCancellation` reuses the stored ones,
 * and a value given to it replaces the stored one (and is stored, so a later resume keeps it). The
 * defaults below apply where neither gives one.
 */
export interface ResumeOptions {
  /** Environment the cancellation belongs to. Default `'default'`. */
  readonly environmentId?: string;
  /** Runs per scanned page and at most per cancelled batch (one transaction), 1 to 100,000. Default 1000. */
  readonly batchSize?: number;
  /**
   * Most runs cancelled per second: at most that many in any one-second window, with no burst
   * beyond one batch (see {@link RateLimiter}). A number fixes the limit; pass a
   * {@link RateLimiter} to change it while the job runs (`setRate(0)` pauses, `setRate(Infinity)`
   * lifts it). Batches are then the rate split evenly into parts of at most `batchSize` runs
   * (rate 1500, batch size 1000: two batches of 750 a second). Default: no limit.
   */
  readonly ratePerSecond?: number | RateLimiter;
  /**
   * Stops the job at the next page boundary (or while it waits for the rate limit): the checkpoint
   * is saved with status `aborted`, the batch not yet committed is dropped (it is rescanned on
   * resume), and the promise resolves with the report. Default: none.
   */
  readonly signal?: AbortSignal;
  /**
   * Called after each commit or checkpoint that changed the counts (never twice in a row with the
   * same counts, so the last call carries the final counts once); an exception it throws fails the
   * job. Default: none.
   */
  readonly onProgress?: (progress: CancellationProgress) => void;
  /**
   * Called after each committed batch that cancelled runs, with the ids it actually cancelled (a
   * downstream consumer's feed; `CancellationBatchWriter` from `cancelkit/formats/msgpack` writes
   * these as a MessagePack stream). The job waits for a returned promise; an exception fails the
   * job. Not called in a dry run. Default: none.
   */
  readonly onBatch?: (batch: CancellationBatch) => void | Promise<void>;
  /**
   * Scan and decide every run but write nothing: the counts are what a real run would produce if
   * nothing changed meanwhile (`cancelled` = matching runs still non-terminal), and the report
   * carries a sample of up to 20 of their ids. No record is stored (`cancelRuns`) or updated
   * (`resumeCancellation`); the idempotency key and the rate limit are ignored. Default `false`.
   */
  readonly dryRun?: boolean;
  /**
   * Hand the store the SQL prefilter translated from the `if` (a superset of the matching runs;
   * the compiled expression still decides every run). `false` scans every run of the window, e.g.
   * to measure what the pushdown saves; the report's `pushdown` is then `none`. Default `true`.
   */
  readonly pushdown?: boolean;
  /**
   * Cap on the job's total `cancelled` count (earlier sessions included). The job cancels up to
   * exactly this many runs; on meeting one more run to cancel it stops with status
   * `stopped_max_runs` and its cursor just before that run (so a resume with a higher cap goes on
   * from there). A window with no more than `maxRuns` runs to cancel completes normally.
   * Default: no cap.
   */
  readonly maxRuns?: number;
}

/** Options of {@link cancelRuns}. */
export interface CancelOptions extends ResumeOptions {
  /**
   * Makes creation idempotent within the environment: a second call with the same key and an
   * equivalent body (same normalised request) returns the first cancellation as it stands,
   * without running it again; the same key with another body throws {@link ConflictError}.
   * Default: none.
   */
  readonly idempotencyKey?: string;
  /** The current time, epoch ms: validation ("in the past"), `created_at` and the ULID. Default `Date.now()`. */
  readonly now?: number;
}

/** What a cancellation job did. */
export interface CancellationReport {
  /** The cancellation record as it stands after this call, in wire form. */
  readonly cancellation: WireCancellation;
  /** Outcome counts of the job (all sessions). */
  readonly outcomes: OutcomeCounts;
  /**
   * How the job ended: its record's status, or `deleted` when the record was deleted while the
   * job ran (the job stopped; runs it cancelled stay cancelled).
   */
  readonly status: CancellationStatus | "deleted";
  /** How much of the `if` the store prefilter decided. */
  readonly pushdown: PushdownCoverage;
  /** Whether this was a dry run (nothing written). */
  readonly dryRun: boolean;
  /** Dry runs: up to 20 ids of runs that would be cancelled, in scan order. */
  readonly sample?: readonly string[];
  /**
   * True when this call created the cancellation; false when it resumed one or an idempotency
   * key returned an existing one (which was then not run).
   */
  readonly created: boolean;
  /** Wall time of this call, ms. */
  readonly elapsedMs: number;
}

const newUlid = monotonicFactory();

/** Checked options of a job or worker. @internal */
export interface Settings {
  readonly environmentId: string;
  readonly batchSize: number;
  readonly limiter: RateLimiter | undefined;
  readonly signal: AbortSignal | undefined;
  readonly onProgress: ((progress: CancellationProgress) => void) | undefined;
  readonly onBatch: ((batch: CancellationBatch) => void | Promise<void>) | undefined;
  readonly dryRun: boolean;
  readonly maxRuns: number | undefined;
  readonly pushdown: boolean;
}

/** Checks the options shared by every job entry point. @internal */
export function readSettings(options: ResumeOptions, caller: string): Settings {
  if (typeof options !== "object" || options === null) throw new TypeError(`${caller}: options must be an object`);
  const environmentId = options.environmentId ?? DEFAULT_ENVIRONMENT_ID;
  if (typeof environmentId !== "string" || environmentId === "") throw new TypeError(`${caller}: environmentId must be a non-empty string`);
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (typeof batchSize !== "number" || !Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    throw new RangeError(`${caller}: batchSize must be an integer from 1 to ${MAX_BATCH_SIZE}, got ${String(batchSize)}`);
  }
  let limiter: RateLimiter | undefined;
  const rate = options.ratePerSecond;
  if (rate instanceof RateLimiter) limiter = rate;
  else if (rate !== undefined) {
    if (typeof rate !== "number") throw new TypeError(`${caller}: ratePerSecond must be a number or a RateLimiter`);
    limiter = new RateLimiter(rate);
  }
  const maxRuns = options.maxRuns;
  if (maxRuns !== undefined && (typeof maxRuns !== "number" || !Number.isSafeInteger(maxRuns) || maxRuns < 0)) {
    throw new RangeError(`${caller}: maxRuns must be a non-negative integer, got ${String(maxRuns)}`);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new TypeError(`${caller}: signal must be an AbortSignal`);
  if (options.onProgress !== undefined && typeof options.onProgress !== "function") throw new TypeError(`${caller}: onProgress must be a function`);
  if (options.onBatch !== undefined && typeof options.onBatch !== "function") throw new TypeError(`${caller}: onBatch must be a function`);
  if (options.dryRun !== undefined && typeof options.dryRun !== "boolean") throw new TypeError(`${caller}: dryRun must be a boolean`);
  if (options.pushdown !== undefined && typeof options.pushdown !== "boolean") throw new TypeError(`${caller}: pushdown must be a boolean`);
  return {
    environmentId,
    batchSize,
    limiter,
    signal: options.signal,
    onProgress: options.onProgress,
    onBatch: options.onBatch,
    dryRun: options.dryRun ?? false,
    maxRuns,
    pushdown: options.pushdown ?? true,
  };
}

/** The prefilter a job hands its store: none when the caller turned pushdown off. @internal */
export function pushdownPlanFor(program: Program | undefined, settings: Settings): PushdownPlan {
  return settings.pushdown ? planPushdown(program) : { coverage: "none" };
}

/**
 * Validates a cancellation request (as {@link validateCancellationRequest}), stores its record and
 * runs it to completion (or to an abort, `maxRuns`, or the record's deletion).
 *
 * @param store - Where the runs and the record live.
 * @param body - The request body, shaped like Inngest's `POST /v1/cancellations`.
 * @param options - See {@link CancelOptions}.
 * @throws {@link ValidationError} (400) for a bad body; {@link ConflictError} (409) for an
 * idempotency key reused with another body; `TypeError`/`RangeError` for bad options;
 * {@link StoreError} when the store fails (the job's status is then set to `failed` if possible).
 */
export async function cancelRuns(store: RunStore, body: unknown, options: CancelOptions = {}): Promise<CancellationReport> {
  const startedAt = performance.now();
  const settings = readSettings(options, "cancelRuns");
  const now = options.now ?? Date.now();
  const key = options.idempotencyKey;
  if (key !== undefined && (typeof key !== "string" || key === "")) throw new TypeError("cancelRuns: idempotencyKey must be a non-empty string");
  const request = validateCancellationRequest(body, { now });
  const pushdown = pushdownPlanFor(request.program, settings);

  const draft: CancellationRecord = { ...draftRecord(request, settings.environmentId, now), settings: storedSettingsOf(settings) };
  if (settings.dryRun) {
    return runJob(store, draft, request, settings, pushdown, startedAt, true);
  }
  let record = draft;
  if (key === undefined) {
    await store.createCancellation(draft);
  } else {
    const hash = requestHash(request);
    const result = await store.createCancellation(draft, { key, requestHash: hash });
    if (!result.created) {
      if (result.requestHash !== hash) {
        throw new ConflictError(
          `idempotency key ${JSON.stringify(key)} was already used for another request (cancellation ${result.record.id})`,
          result.record.id,
        );
      }
      record = result.record;
      return {
        cancellation: toWireCancellation(record),
        outcomes: { ...record.counts },
        status: record.status,
        pushdown: pushdown.coverage,
        dryRun: false,
        created: false,
        elapsedMs: performance.now() - startedAt,
      };
    }
  }
  return runJob(store, record, request, settings, pushdown, startedAt, true);
}

/**
 * The settings a job stores with its record: the rate (a live limiter's current one) when it is a
 * limit, none for no limit, nor for 0 (a pause is not a setting to resume with). @internal
 */
export function storedSettingsOf(settings: Settings): CancellationSettings {
  const rate = settings.limiter?.ratePerSecond;
  return {
    batchSize: settings.batchSize,
    ...(rate !== undefined && Number.isFinite(rate) && rate > 0 ? { ratePerSecond: rate } : {}),
    ...(settings.maxRuns !== undefined ? { maxRuns: settings.maxRuns } : {}),
  };
}

/**
 * The settings a resumed job runs with: each of `options` that was given, else the record's
 * stored one, else the default (already in `settings`). @internal
 */
export function withStoredSettings(settings: Settings, options: ResumeOptions, stored: CancellationSettings | undefined): Settings {
  if (stored === undefined) return settings;
  const rate = stored.ratePerSecond;
  return {
    ...settings,
    batchSize: options.batchSize ?? Math.min(MAX_BATCH_SIZE, stored.batchSize),
    limiter: options.ratePerSecond !== undefined ? settings.limiter : rate !== undefined ? new RateLimiter(rate) : undefined,
    maxRuns: options.maxRuns ?? stored.maxRuns,
  };
}

function sameSettings(a: CancellationSettings, b: CancellationSettings | undefined): boolean {
  return b !== undefined && a.batchSize === b.batchSize && a.ratePerSecond === b.ratePerSecond && a.maxRuns === b.maxRuns;
}

/** A new record for a validated request: a fresh ULID, status `running`, zero counts. @internal */
export function draftRecord(request: CancellationRequest, environmentId: string, now: number): CancellationRecord {
  return {
    id: newUlid(now),
    environmentId,
    appId: request.appId,
    functionId: request.functionId,
    ...(request.startedAfter !== undefined ? { startedAfter: request.startedAfter } : {}),
    startedBefore: request.startedBefore,
    ...(request.if !== undefined ? { if: request.if } : {}),
    createdAt: now,
    updatedAt: now,
    status: "running",
    counts: ZERO,
  };
}

/**
 * Continues a cancellation from its checkpoint: after a crash, an abort, a failure or a
 * `maxRuns` stop. A completed job is returned as it stands. Do not resume a job another worker
 * is still running: both would save checkpoints over each other.
 *
 * A sharded job (see `createShardedCancellation`) is resumed by joining it as one more worker
 * (`runWorker` with its `cancellationId`): the call returns when every shard is done (other
 * workers may be doing some of them), when the signal aborts it (status `aborted`; the record
 * stays `running` and the shards it held are released), or when the record is deleted. Its
 * progress events carry the job's counts as they stood when this worker took its current shard,
 * plus that shard's progress since. `dryRun` and `maxRuns` are not available on a sharded job.
 *
 * @param store - The store holding the record.
 * @param id - The cancellation's id.
 * @param options - See {@link ResumeOptions}.
 * @throws {@link CancellationNotFoundError} (404) when the environment has no such cancellation;
 * {@link ValidationError} when its stored `if` no longer compiles; {@link StoreError} when the
 * store fails; `TypeError` for `dryRun` or `maxRuns` on a sharded job.
 */
export async function resumeCancellation(store: RunStore, id: string, options: ResumeOptions = {}): Promise<CancellationReport> {
  const startedAt = performance.now();
  const given = readSettings(options, "resumeCancellation");
  if (typeof id !== "string" || id === "") throw new TypeError("resumeCancellation: id must be a non-empty string");
  let record = await store.getCancellation(id, given.environmentId);
  if (record === undefined) throw new CancellationNotFoundError(id);
  const settings = withStoredSettings(given, options, record.settings);
  const request = requestOfRecord(record);
  const pushdown = pushdownPlanFor(request.program, settings);
  if (record.status === "completed") {
    return {
      cancellation: toWireCancellation(record),
      outcomes: { ...record.counts },
      status: record.status,
      pushdown: pushdown.coverage,
      dryRun: settings.dryRun,
      ...(settings.dryRun ? { sample: [] } : {}),
      created: false,
      elapsedMs: performance.now() - startedAt,
    };
  }
  if (isShardedRunStore(store) && (await store.listShards(id)).length > 0) {
    if (settings.dryRun) throw new TypeError("resumeCancellation: dryRun is not available on a sharded cancellation");
    if (settings.maxRuns !== undefined) throw new TypeError("resumeCancellation: maxRuns is not available on a sharded cancellation");
    // Loaded on demand: workers.ts builds on this module.
    const { resumeShardedCancellation } = await import("./workers.js");
    return resumeShardedCancellation(store, record, settings, pushdown.coverage, startedAt);
  }
  const stored = storedSettingsOf(settings);
  if (!settings.dryRun && !sameSettings(stored, record.settings)) {
    // The settings this session runs with are the job's from now on (a later resume keeps them).
    if (!(await store.updateCancellationSettings(id, stored))) throw new CancellationNotFoundError(id);
    record = { ...record, settings: stored };
  }
  return runJob(store, record, request, settings, pushdown, startedAt, false);
}

/**
 * The request a stored record stands for, its `if` compiled again. @internal
 *
 * @throws {@link ValidationError} when the stored `if` no longer compiles.
 */
export function requestOfRecord(record: CancellationRecord): CancellationRequest {
  let program: Program | undefined;
  if (record.if !== undefined) {
    try {
      program = compile(record.if, { dialect: "inngest" });
    } catch (error) {
      if (error instanceof CompileError) throw new ValidationError([`invalid expression: ${boundCompileMessage(error)}`]);
      throw error;
    }
  }
  return {
    appId: record.appId,
    functionId: record.functionId,
    ...(record.startedAfter !== undefined ? { startedAfter: record.startedAfter } : {}),
    startedBefore: record.startedBefore,
    ...(record.if !== undefined ? { if: record.if } : {}),
    ...(program !== undefined ? { program } : {}),
  };
}

/** Pages the scan loop reads ahead of the one it processes. */
const READ_AHEAD_PAGES = 2;

/** Longest stretch the job runs without yielding to the event loop, ms. */
const YIELD_INTERVAL_MS = 20;

/** Greatest valid id: with `startedBefore`, a cursor past every run of the window. */
const END_OF_WINDOW_ID = "~".repeat(MAX_ID_LENGTH);

const ZERO: OutcomeCounts = Object.freeze({
  scanned: 0,
  cancelled: 0,
  skipped_terminal: 0,
  not_matched: 0,
  expression_error: 0,
  non_boolean: 0,
});

type MutableCounts = { -readonly [K in keyof OutcomeCounts]: number };

function cursorOf(position: Cursor | undefined): Cursor | undefined {
  return position === undefined ? undefined : { startedAt: position.startedAt, id: position.id };
}

/** Why the scan loop stopped. @internal */
export type Ending = "completed" | "aborted" | "stopped_max_runs" | "deleted" | "lease_lost";

/** What committing one batch of a range answered. @internal */
export type RangeCommitResult = CommitResult | { readonly ok: false; readonly reason: "lease_lost" };

/**
 * A slice of a job the scan loop works through: the whole window, or one shard. @internal
 */
export interface JobRange {
  /** Outcome counts of the runs at or before `cursor` (earlier sessions). */
  readonly counts: OutcomeCounts;
  /** Position the range resumes after; absent: the window's start. */
  readonly cursor?: Cursor;
  /** Inclusive upper keyset bound (a shard's end); absent: the window's end. */
  readonly until?: Cursor;
  /**
   * Cancels `runIds` (compare-and-set) with the job's id and saves `checkpoint` (the state settled
   * before the batch) in one transaction. Not called in a dry run.
   */
  commit(runIds: readonly string[], checkpoint: Checkpoint): Promise<RangeCommitResult>;
}

/** How {@link processRange} ended. @internal */
export interface RangeOutcome {
  readonly ending: Ending;
  /** Counts of exactly the runs at or before `cursor`. */
  readonly counts: OutcomeCounts;
  readonly cursor?: Cursor;
  /** Counts of the last checkpoint the range saved (its starting counts if none). */
  readonly saved: OutcomeCounts;
  /** Dry runs: up to 20 ids of runs that would be cancelled. */
  readonly sample: readonly string[];
  /** Epoch ms of the last saved checkpoint, if any. */
  readonly lastSavedAt: number | undefined;
}

async function runJob(
  store: RunStore,
  record: CancellationRecord,
  request: CancellationRequest,
  settings: Settings,
  pushdown: PushdownPlan,
  startedAt: number,
  created: boolean,
): Promise<CancellationReport> {
  const jobId = record.id;
  const range: JobRange = {
    counts: record.counts,
    ...(record.cursor !== undefined ? { cursor: record.cursor } : {}),
    commit: (runIds, checkpoint) => store.commitBatch({ cancellationId: jobId, runIds, checkpoint }),
  };
  const outcome = await processRange(store, jobId, request, settings, pushdown, range, startedAt);
  const status: CancellationStatus | "deleted" = outcome.ending === "lease_lost" ? "deleted" : outcome.ending;
  const final: CancellationRecord = {
    ...record,
    status: status === "deleted" ? record.status : status,
    counts: { ...outcome.counts },
    updatedAt: settings.dryRun ? record.updatedAt : Math.max(record.updatedAt, outcome.lastSavedAt ?? record.updatedAt),
    ...(outcome.cursor !== undefined ? { cursor: outcome.cursor } : {}),
  };
  return {
    cancellation: toWireCancellation(final),
    outcomes: { ...outcome.counts },
    status,
    pushdown: pushdown.coverage,
    dryRun: settings.dryRun,
    ...(settings.dryRun ? { sample: outcome.sample } : {}),
    created,
    elapsedMs: performance.now() - startedAt,
  };
}

/**
 * The scan loop: reads the range's runs page by page, decides each, cancels the matching ones in
 * batches through `range.commit` and ends with a closing checkpoint (`completed`, `aborted`,
 * `stopped_max_runs`), or without one when the job was deleted or the range's lease lost.
 * A thrown error is passed on after a best-effort `failed` checkpoint. @internal
 */
export async function processRange(
  store: RunStore,
  jobId: string,
  request: CancellationRequest,
  settings: Settings,
  pushdown: PushdownPlan,
  range: JobRange,
  startedAt: number,
): Promise<RangeOutcome> {
  const program = request.program;
  const dryRun = settings.dryRun;
  const limiter = dryRun ? undefined : settings.limiter;
  const signal = settings.signal;
  const maxRuns = settings.maxRuns;
  const batchSize = settings.batchSize;
  const sample: string[] = [];
  const until = range.until;
  /** Time of the range's last possible run, for the ETA. */
  const rangeEnd = until?.startedAt ?? request.startedBefore;

  // Settled state: `known` holds the outcomes of exactly the runs at or before `knownCursor`.
  const known: MutableCounts = { ...range.counts };
  let knownCursor: Cursor | undefined = range.cursor;
  // Runs to cancel, not yet committed; and outcomes of runs processed since the last settle point.
  let pending: string[] = [];
  let segNotMatched = 0;
  let segError = 0;
  let segNonBoolean = 0;
  let segSkipped = 0;
  let segCancelled = 0;
  /** Last run processed (or the position a page ended at). */
  let position: Cursor | undefined = range.cursor;
  let hint = pushdown.hint;
  let sessionCancelled = 0;
  let sessionSettled = 0;
  let lastSaveAt = performance.now();
  let lastSavedAt: number | undefined;
  let saved: OutcomeCounts = range.counts;
  let firstStartedAt: number | undefined = range.cursor?.startedAt ?? request.startedAfter;
  const sessionFrom = firstStartedAt;
  const settledAtStart = range.counts.scanned;

  const settleSegment = (): void => {
    known.not_matched += segNotMatched;
    known.expression_error += segError;
    known.non_boolean += segNonBoolean;
    known.skipped_terminal += segSkipped;
    known.cancelled += segCancelled;
    sessionCancelled += segCancelled;
    segNotMatched = segError = segNonBoolean = segSkipped = segCancelled = 0;
    known.scanned = known.cancelled + known.skipped_terminal + known.not_matched + known.expression_error + known.non_boolean;
    knownCursor = position;
  };

  const chunkSize = (): number => {
    return limiter === undefined ? batchSize : limiter.chunkSize(batchSize);
  };

  const checkpoint = (status: CancellationStatus): Checkpoint => {
    const cursor = cursorOf(knownCursor);
    return cursor === undefined ? { counts: { ...known }, status } : { cursor, counts: { ...known }, status };
  };

  const send = async (runIds: readonly string[], status: CancellationStatus, state: Checkpoint = checkpoint(status)): Promise<RangeCommitResult> => {
    if (dryRun) return { ok: true, cancelled: runIds };
    const result = await range.commit(runIds, state);
    lastSavedAt = Date.now();
    if (result.ok) {
      saved = state.counts;
      if (settings.onBatch !== undefined && result.cancelled.length > 0) {
        await settings.onBatch({ cancellationId: jobId, runIds: result.cancelled, at: lastSavedAt });
      }
    }
    return result;
  };

  // The counts of the last event: a commit that settled nothing new (such as the final checkpoint
  // after the last batch) repeats no event, so a progress display shows each state once.
  let lastReported: { readonly scanned: number; readonly cancelled: number } | undefined;
  const report = (done = false): void => {
    if (settings.onProgress === undefined) return;
    if (lastReported !== undefined && lastReported.scanned === known.scanned && lastReported.cancelled === known.cancelled) return;
    const elapsedMs = performance.now() - startedAt;
    const seconds = elapsedMs / 1000;
    let etaSeconds: number | undefined = done ? 0 : undefined;
    const from = sessionFrom ?? firstStartedAt;
    const at = knownCursor?.startedAt;
    if (!done && from !== undefined && at !== undefined && rangeEnd > from) {
      const fraction = Math.min(1, Math.max(0, (at - from) / (rangeEnd - from)));
      if (fraction > 0) etaSeconds = (seconds * (1 - fraction)) / fraction;
    }
    lastReported = { scanned: known.scanned, cancelled: known.cancelled };
    settings.onProgress({
      cancellationId: jobId,
      scanned: known.scanned,
      matched: known.cancelled + known.skipped_terminal,
      cancelled: known.cancelled,
      counts: { ...known },
      ratePerSecond: seconds > 0 ? sessionCancelled / seconds : 0,
      scannedPerSecond: seconds > 0 ? sessionSettled / seconds : 0,
      etaSeconds,
      elapsedMs,
    });
  };

  /**
   * Pipelined commits: without a rate limit or a `maxRuns` cap (which need each batch's result
   * before going on), a batch commits while the loop reads and decides the next runs. At most one
   * batch is in flight; its segment (the outcomes of the runs processed since the previous batch,
   * up to its last run) settles when its result lands, before the next batch is sent, so each
   * batch still carries the checkpoint of exactly the runs settled before it. Runs processed while
   * a batch is in flight are settled with the next batch (or when the flight lands at the end).
   */
  const pipelined = !dryRun && limiter === undefined && maxRuns === undefined;
  interface Flight {
    readonly ids: readonly string[];
    readonly notMatched: number;
    readonly errors: number;
    readonly nonBoolean: number;
    readonly skipped: number;
    readonly rescued: number;
    readonly position: Cursor | undefined;
    /** Runs of `ids` the store cancelled, or why the job must stop. */
    readonly result: Promise<number | "deleted" | "lease_lost">;
  }
  let flight: Flight | undefined;

  /** Waits for the batch in flight and settles its segment; returns the reason to stop, if any. */
  const land = async (): Promise<"deleted" | "lease_lost" | undefined> => {
    const current = flight;
    if (current === undefined) return undefined;
    flight = undefined;
    const cancelled = await current.result;
    if (typeof cancelled !== "number") return cancelled;
    known.not_matched += current.notMatched;
    known.expression_error += current.errors;
    known.non_boolean += current.nonBoolean;
    known.skipped_terminal += current.skipped + current.ids.length - cancelled;
    known.cancelled += current.rescued + cancelled;
    sessionCancelled += current.rescued + cancelled;
    known.scanned = known.cancelled + known.skipped_terminal + known.not_matched + known.expression_error + known.non_boolean;
    knownCursor = current.position;
    sessionSettled = known.scanned - settledAtStart;
    report();
    return undefined;
  };

  /** Sends the pending ids (with the runs processed since the last batch) as the batch in flight. */
  const launch = async (): Promise<"deleted" | "lease_lost" | undefined> => {
    const reason = await land();
    if (reason !== undefined) return reason;
    const ids = pending;
    pending = [];
    lastSaveAt = performance.now();
    if (ids.length === 0 && segCancelled === 0) {
      // Nothing to cancel: everything processed is settled now, and only a checkpoint is sent.
      settleSegment();
      const state = checkpoint("running");
      const result = send([], "running", state).then((r) => (r.ok ? 0 : stopReason(r)));
      result.catch(() => undefined);
      flight = { ids, notMatched: 0, errors: 0, nonBoolean: 0, skipped: 0, rescued: 0, position: knownCursor, result };
      return undefined;
    }
    // Without a rate limit (pipelined), `sendChunks` never answers "aborted".
    const result = sendChunks(ids, checkpoint("running")) as Promise<number | "deleted" | "lease_lost">;
    // Read at the next landing; a failure meanwhile must not surface as an unhandled rejection.
    result.catch(() => undefined);
    flight = {
      ids,
      notMatched: segNotMatched,
      errors: segError,
      nonBoolean: segNonBoolean,
      skipped: segSkipped,
      rescued: segCancelled,
      position,
      result,
    };
    segNotMatched = segError = segNonBoolean = segSkipped = segCancelled = 0;
    return undefined;
  };

  /** Settles everything processed (nothing may be pending): lands the batch in flight first. */
  const settleAll = async (): Promise<"deleted" | "lease_lost" | undefined> => {
    const reason = await land();
    if (reason === undefined) settleSegment();
    return reason;
  };

  /**
   * Sends `ids` in chunks no larger than the rate allows (taking the rate limit before each), every
   * chunk with `state`; returns how many runs the store cancelled, or why the job must stop.
   */
  const sendChunks = async (ids: readonly string[], state: Checkpoint): Promise<number | "aborted" | "deleted" | "lease_lost"> => {
    let cancelled = 0;
    for (let from = 0; from < ids.length; ) {
      const size = chunkSize();
      const chunk = from === 0 && size >= ids.length ? ids : ids.slice(from, from + size);
      if (limiter !== undefined && !(await limiter.take(chunk.length, signal))) return "aborted";
      const result = await send(chunk, "running", state);
      if (!result.ok) return stopReason(result);
      cancelled += result.cancelled.length;
      from += chunk.length;
    }
    return cancelled;
  };

  /**
   * Commits the pending ids (in chunks no larger than the rate allows), each chunk with the
   * checkpoint settled before the batch, then settles everything processed so far. With nothing
   * pending it saves a checkpoint. Returns the reason to stop, if any. Pipelined: see `launch`.
   */
  const commit = async (): Promise<"aborted" | "deleted" | "lease_lost" | undefined> => {
    if (pipelined) return launch();
    const ids = pending;
    pending = [];
    if (ids.length === 0) {
      settleSegment();
      const result = await send(ids, "running");
      if (!result.ok) return stopReason(result);
    } else {
      const cancelled = await sendChunks(ids, checkpoint("running"));
      if (typeof cancelled !== "number") return cancelled;
      segCancelled += cancelled;
      segSkipped += ids.length - cancelled;
    }
    if (ids.length > 0) settleSegment();
    sessionSettled = known.scanned - settledAtStart;
    lastSaveAt = performance.now();
    report();
    return undefined;
  };

  const finish = async (ending: Ending): Promise<RangeOutcome> => {
    stopped = true;
    let final: Ending = ending;
    if (flight !== undefined && ending !== "deleted" && ending !== "lease_lost") {
      const reason = await land();
      if (reason !== undefined) final = reason;
      // Stopped between pages with no batch pending: what was processed since is settled too.
      else if (ending === "aborted" && pending.length === 0) settleSegment();
    }
    if (final === ending && ending !== "deleted" && ending !== "lease_lost") {
      const result = await send([], ending);
      if (!result.ok) final = stopReason(result);
      else {
        sessionSettled = known.scanned - settledAtStart;
        report(ending === "completed");
      }
    }
    const cursor = cursorOf(knownCursor);
    return { ending: final, counts: { ...known }, ...(cursor !== undefined ? { cursor } : {}), saved, sample, lastSavedAt };
  };

  // A run's activation is `{ event }`; a run this job cancelled before a crash stops the decisions
  // undecided (it is counted as cancelled, whatever the expression says now).
  const binding: ItemBinding = { variable: "event", property: "event", stopProperty: "cancellationId", stopValue: jobId };
  const tally: DecisionCounts = { noMatch: 0, error: 0, nonBoolean: 0 };
  const baseQuery = {
    environmentId: settings.environmentId,
    appId: request.appId,
    functionId: request.functionId,
    ...(request.startedAfter !== undefined ? { startedAfter: request.startedAfter } : {}),
    startedBefore: request.startedBefore,
    limit: batchSize,
    ...(until !== undefined ? { until } : {}),
  };
  let scanAfter: Cursor | undefined = range.cursor;

  const scan = async (after: Cursor | undefined, usePushdown: boolean): Promise<ScanPage> => {
    const query = (withHint: PushdownHint | undefined): BoundedScanQuery => ({
      ...baseQuery,
      ...(after !== undefined ? { after } : {}),
      ...(withHint !== undefined ? { pushdown: withHint } : {}),
    });
    if (!usePushdown || hint === undefined) return store.scanRuns(query(undefined));
    try {
      return await store.scanRuns(query(hint));
    } catch (error) {
      // A prefilter the store cannot run is only an optimisation lost: scan without it.
      if (!(error instanceof StoreError && error.code === "invalid_query")) throw error;
      hint = undefined;
      return store.scanRuns(query(undefined));
    }
  };

  /**
   * Pages read ahead, in order, while the current one is processed: each is requested when the
   * one before it arrives (its `next` says where it starts), so one scan runs at a time, and at
   * most {@link READ_AHEAD_PAGES} wait.
   */
  interface Ahead {
    readonly after: Cursor;
    readonly page: Promise<ScanPage>;
    arrived?: ScanPage;
    chained: boolean;
  }
  const ahead: Ahead[] = [];
  let stopped = false;
  const chain = (entry: Ahead): void => {
    const next = entry.arrived?.next;
    if (stopped || entry.chained || next === undefined || ahead[ahead.length - 1] !== entry || ahead.length >= READ_AHEAD_PAGES) return;
    entry.chained = true;
    readAhead(next);
  };
  const readAhead = (after: Cursor): void => {
    const page = scan(after, true);
    const entry: Ahead = { after, page, chained: false };
    ahead.push(entry);
    page.then(
      (arrived) => {
        entry.arrived = arrived;
        chain(entry);
      },
      // Left unread when the job stops first: a failure must not surface as an unhandled
      // rejection (when the page is read, awaiting it still throws).
      () => undefined,
    );
  };

  let lastYieldAt = performance.now();
  try {
    for (;;) {
      // A store that answers from memory never lets the event loop run: give timers, I/O and
      // abort signals a turn now and then.
      if (performance.now() - lastYieldAt >= YIELD_INTERVAL_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYieldAt = performance.now();
      }
      if (signal?.aborted === true) return await finish("aborted");
      let page: ScanPage;
      const head = ahead[0];
      if (head !== undefined && scanAfter !== undefined && compareCursor(head.after, scanAfter) === 0) {
        ahead.shift();
        page = await head.page;
      } else {
        ahead.length = 0;
        page = await scan(scanAfter, true);
      }
      // Read the next pages while this one is decided and committed: the database works on them
      // while this process works on this one, also while it waits for a commit. The pages are
      // disjoint, so what a commit changes is never in a page read ahead; a run of a page read
      // ahead that finishes meanwhile is caught by the compare-and-set as always.
      const tail = ahead[ahead.length - 1];
      if (tail === undefined) {
        if (page.next !== undefined) readAhead(page.next);
      } else chain(tail);
      // A page whose prefilter dropped rows cannot be split: where the dropped rows lie among the
      // returned ones is unknown. Such pages commit only at their end; a maxRuns stop inside one
      // re-reads it without the prefilter.
      let exact = !((page.prefiltered ?? 0) > 0);
      const pageStart = position;
      const pendingAtStart = pending.length;
      const sampleAtStart = sample.length;
      const segAtStart = [segNotMatched, segError, segNonBoolean, segSkipped, segCancelled] as const;
      let runs = page.runs;
      let stop: Ending | undefined;
      for (let i = 0; i < runs.length; i++) {
        if (program !== undefined) {
          // The hot path: runs the expression does not match need nothing but a count; it stops at
          // the first run that needs attention: a match, or a run this job cancelled before a crash.
          const from = i;
          i = program.decideUntilMatch(runs, i, binding, tally);
          if (i > from) {
            segNotMatched += tally.noMatch;
            segError += tally.error;
            segNonBoolean += tally.nonBoolean;
            position = runs[i - 1]!;
          }
          if (i === runs.length) break;
        }
        const run: RunRecord = runs[i]!;
        if (run.cancellationId === jobId) {
          // Cancelled by this job before a crash, past the saved cursor.
          segCancelled++;
          position = run;
          continue;
        }
        // The expression matched (or there is none).
        const status = run.status;
        if (status === "completed" || status === "failed" || status === "cancelled") {
          segSkipped++;
          position = run;
          continue;
        }
        if (maxRuns !== undefined && known.cancelled + segCancelled + pending.length >= maxRuns) {
          if (!exact) {
            // Restart the page without the prefilter; nothing of it was committed.
            pending.length = pendingAtStart;
            sample.length = sampleAtStart;
            [segNotMatched, segError, segNonBoolean, segSkipped, segCancelled] = segAtStart;
            position = pageStart;
            page = await scan(scanAfter, false);
            runs = page.runs;
            exact = true;
            i = -1;
            continue;
          }
          if (pending.length > 0 || segCancelled > 0) {
            const reason = await commit();
            if (reason !== undefined) {
              stop = reason;
              break;
            }
            // Some of the batch may have finished meanwhile: room may be left for this run.
            if (known.cancelled < maxRuns) {
              i--;
              continue;
            }
          }
          settleSegment();
          stop = "stopped_max_runs";
          break;
        }
        // Settle what precedes the batch. Not inside a prefiltered page: the rows it dropped before
        // this run are counted only at the page's end, so the settled cursor stays at its start.
        if (pending.length === 0 && exact && flight === undefined) settleSegment();
        pending.push(run.id);
        if (dryRun && sample.length < DRY_RUN_SAMPLE_SIZE) sample.push(run.id);
        position = run;
        if (exact && pending.length >= chunkSize()) {
          const reason = await commit();
          if (reason !== undefined) {
            stop = reason;
            break;
          }
        }
      }
      if (stop !== undefined) return await finish(stop);
      segNotMatched += page.prefiltered ?? 0;
      if (firstStartedAt === undefined && runs.length > 0) firstStartedAt = runs[0]!.startedAt;
      if (page.next !== undefined) position = page.next;
      // The rows a prefilter dropped from the last page may lie after its last run.
      else if ((page.prefiltered ?? 0) > 0) position = until ?? { startedAt: request.startedBefore, id: END_OF_WINDOW_ID };
      if (pending.length === 0 && flight === undefined) settleSegment();
      if (page.next === undefined) {
        if (pending.length > 0 || segCancelled > 0) {
          const reason = await commit();
          if (reason !== undefined) return await finish(reason);
        }
        const reason = await settleAll();
        if (reason !== undefined) return await finish(reason);
        return await finish("completed");
      }
      scanAfter = page.next;
      // A prefiltered page commits only at its end: commit now if the next page, matching like
      // this one, would overflow the batch (which would then need a second, small transaction).
      const chunk = chunkSize();
      const added = exact ? 0 : pending.length - pendingAtStart;
      if (pending.length >= chunk || (added > 0 && pending.length + added > chunk) || performance.now() - lastSaveAt >= CHECKPOINT_INTERVAL_MS) {
        const reason = await commit();
        if (reason !== undefined) return await finish(reason);
      }
    }
  } catch (error) {
    if (!dryRun) {
      try {
        // A batch in flight lands first, so that the failed checkpoint is the last one saved.
        if (flight !== undefined) await land().catch(() => undefined);
        await range.commit([], checkpoint("failed"));
      } catch {
        // The store is failing: the original error is what the caller needs.
      }
    }
    throw error;
  }
}

function stopReason(result: { readonly ok: false; readonly reason: "gone" | "lease_lost" }): "deleted" | "lease_lost" {
  return result.reason === "gone" ? "deleted" : "lease_lost";
}
