/**
 * The options every job entry point shares (`cancelRuns`, `resumeCancellation`, `runWorker`), and
 * how they are read and checked into {@link Settings}.
 *
 * @module
 */
import type { Program } from "../expr/program.js";
import { DEFAULT_ENVIRONMENT_ID, type CancellationBatch, type CancellationSettings, type OutcomeCounts } from "../stores/types.js";
import type { PageEvaluator } from "./evaluator.js";
import { readLeaseOptions, type JobLeaseOptions } from "./job-lease.js";
import { planPushdown, type PushdownPlan } from "./pushdown-plan.js";
import { RateLimiter } from "./rate.js";

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

/** A progress callback, as `onProgress` takes it. @internal */
export type ProgressFn = (progress: CancellationProgress) => void;

/**
 * `onProgress` as a job loop calls it: a report with the same `scanned` and `cancelled` as the
 * previous one is dropped, so that the callback is never called twice in a row with the same
 * counts (its documented contract: a commit that settled nothing new, such as the closing
 * checkpoint after the last batch, would otherwise repeat the last progress line). `undefined`
 * stays `undefined`, so a loop can skip building reports nobody reads.
 *
 * Each wrapper remembers only its own last report: wrap once per loop session (`processRange`
 * does), not once per call of an entry point — a worker builds a callback per shard, and a
 * sharded resume funnels several shard sessions into one. @internal
 */
export function dropRepeatedProgress(onProgress: ProgressFn | undefined): ProgressFn | undefined {
  if (onProgress === undefined) return undefined;
  let last: { readonly scanned: number; readonly cancelled: number } | undefined;
  return (progress) => {
    if (last !== undefined && last.scanned === progress.scanned && last.cancelled === progress.cancelled) return;
    last = { scanned: progress.scanned, cancelled: progress.cancelled };
    onProgress(progress);
  };
}

/**
 * Options of {@link resumeCancellation}; {@link cancelRuns} adds `idempotencyKey` and `now`.
 *
 * `batchSize`, `ratePerSecond` and `maxRuns` are the job's settings: `cancelRuns` stores them with
 * the record (`CancellationRecord.settings`); `resumeCancellation` reuses the stored ones, and a
 * value given to it replaces the stored one (and is stored, so a later resume keeps it). The
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
  /**
   * Run the job under an owner lease in the store (`RunStore.leaseCancellation`), so that one
   * process at a time runs it: the lease is taken before the first page (another owner's live
   * lease: {@link CancellationLeaseError} `held`, and nothing is done), renewed every third of
   * `leaseMs`, named in every batch (a process whose lease was taken over changes nothing more and
   * the call rejects with {@link CancellationLeaseError} `lost`), and released when the call ends.
   * Not for dry runs (they write nothing) nor sharded jobs (their shards have leases). Default:
   * none (the caller makes sure that one process runs the job).
   */
  readonly lease?: JobLeaseOptions;
  /**
   * The status an abort saves: `aborted` (default), or `running` for a job that is to go on at the
   * next start (a service shutting down; saved in the closing checkpoint, under the lease).
   */
  readonly abortStatus?: "aborted" | "running";
  /**
   * Where the `if` is evaluated: each page is handed to this evaluator (the service's worker
   * threads, `cancelkit/service`'s `EvaluatorPool`), so that the calling thread never runs the
   * expression and an abort stops the job also in the middle of a costly page. Same outcomes as
   * inline evaluation. Default: none, inline on the calling thread (between pages the loop
   * yields to the event loop at least every 20 ms, but one page of costly evaluations runs in one go).
   */
  readonly evaluator?: PageEvaluator;
}

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
  readonly lease: { readonly owner: string; readonly leaseMs: number } | undefined;
  readonly abortStatus: "aborted" | "running";
  readonly evaluator: PageEvaluator | undefined;
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
  const abortStatus = options.abortStatus ?? "aborted";
  if (abortStatus !== "aborted" && abortStatus !== "running") throw new TypeError(`${caller}: abortStatus must be "aborted" or "running"`);
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
    lease: readLeaseOptions(options.lease, caller),
    abortStatus,
    evaluator: readEvaluator(options.evaluator, caller),
  };
}

function readEvaluator(evaluator: unknown, caller: string): PageEvaluator | undefined {
  if (evaluator === undefined) return undefined;
  if (typeof evaluator !== "object" || evaluator === null || typeof (evaluator as { decide?: unknown }).decide !== "function") {
    throw new TypeError(`${caller}: evaluator must be an object with a decide(program, runs, signal) method`);
  }
  return evaluator as PageEvaluator;
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

/** Whether two stored settings are the same. @internal */
export function sameSettings(a: CancellationSettings, b: CancellationSettings | undefined): boolean {
  return b !== undefined && a.batchSize === b.batchSize && a.ratePerSecond === b.ratePerSecond && a.maxRuns === b.maxRuns;
}

/** The prefilter a job hands its store: none when the caller turned pushdown off. @internal */
export function pushdownPlanFor(program: Program | undefined, settings: Settings): PushdownPlan {
  return settings.pushdown ? planPushdown(program) : { coverage: "none" };
}
