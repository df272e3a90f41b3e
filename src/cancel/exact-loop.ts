/**
 * The exact loop ({@link processRangeExactly}): the scan loop of a job whose `if` translates into
 * SQL exactly (or that has none), on a store that decides whole batches itself
 * (`ExactBatchStore.cancelExactBatch`). Each batch is one store call: the store picks the next
 * candidates of the range in keyset order (matching, non-terminal, not cancelled by this job),
 * cancels them, counts every run it passed by outcome and saves the checkpoint, in one
 * transaction. The compiled program decides nothing, and no run crosses into JavaScript.
 *
 * How it stays correct — the same guarantees as `scan-loop.ts`, more simply:
 * - **Checkpoint in the batch's transaction, not behind.** The store saves the counts with the
 *   cancellations that produced them, so a crash between batches resumes exactly at the last
 *   saved cursor; a run this job cancelled past it (by the scan loop, before a crash) is counted
 *   `cancelled` by the store, as the scan loop counts it.
 * - **Compare-and-set.** The store cancels only runs still non-terminal; a candidate that finished
 *   meanwhile counts as `skipped_terminal`.
 * - **Controls between batches.** The abort signal is read before each batch, the job's stored
 *   controls too — or, while no rate is in force, the store checks under its lock that they are
 *   still those read before an earlier batch, and changes nothing if not (`controls_changed`: the
 *   loop then reads them) — the rate limit takes the batch's most runs before it is sent,
 *   `maxRuns` caps the batch's `limit` (at 0 the store only counts up to the next candidate,
 *   where the job stops with `stopped_max_runs`, as the scan loop does), and a deleted record (or
 *   a lost lease) answers the next batch.
 * - **Runs SQL cannot judge.** A PostgreSQL event kept as `json` (it holds a NUL character) stops
 *   the batch before it; the loop decides that run with the program and commits it alone.
 *
 * @module
 */
import type { ItemBinding, Program } from "../expr/program.js";
import {
  MAX_EXACT_SCAN_LIMIT,
  type Checkpoint,
  type Cursor,
  type ExactBatchControls,
  type ExactBatchResult,
  type ExactDecision,
  type OutcomeCounts,
  type RunStore,
} from "../stores/types.js";
import { stopReason, type CommitFn, type StopReason } from "./batch-committer.js";
import { addCounts } from "./ledger.js";
import type { Ending, RangeOutcome } from "./range-outcome.js";
import type { CancellationRequest } from "./request.js";
import type { Settings } from "./settings.js";
import { createYielder } from "./yielder.js";

/** Rows a batch reads at most, per run of the batch size: bounds a statement's time when few runs match. */
export const EXACT_SCAN_FACTOR = 10;

/**
 * Batches in a row a store may refuse (`controls_changed`) for controls read just before them;
 * past it the loop stops sending controls and reads them before every batch, so a store whose
 * comparison disagrees with the gate's reading slows the job down instead of stalling it.
 */
const MAX_FRESH_REFUSALS = 3;

/** One batch of a range as the loop asks for it; the range adds the job, window and lease. @internal */
export interface ExactRangeBatch {
  readonly after?: Cursor;
  readonly decision: ExactDecision;
  readonly limit: number;
  readonly scanLimit: number;
  readonly counts: OutcomeCounts;
  /** The stored controls the batch runs under, unread since an earlier batch (see `ExactBatch.controls`). */
  readonly controls?: ExactBatchControls;
  /** `false` when nothing needs the cancelled runs' ids (see `ExactBatch.listCancelled`). */
  readonly listCancelled?: boolean;
}

/** Runs one exact batch of a range (see `ExactBatchStore.cancelExactBatch`). @internal */
export type ExactFn = (batch: ExactRangeBatch) => Promise<ExactBatchResult>;

/** What the exact loop works through: a range with its exact batch and its plain commit. @internal */
export interface ExactJob {
  readonly jobId: string;
  readonly request: CancellationRequest;
  /** The session's settings; `onProgress` already drops repeated reports (`processRange` wraps it). */
  readonly settings: Settings;
  readonly decision: ExactDecision;
  readonly counts: OutcomeCounts;
  readonly cursor?: Cursor;
  /** Inclusive upper bound of the range (for the ETA). */
  readonly until?: Cursor;
  readonly exact: ExactFn;
  /** The range's plain commit: the closing checkpoint, and a run the store could not judge. */
  readonly commit: CommitFn;
  /** The job's stored controls before each batch (pause, rate; see `JobGate.admit`). Default: none. */
  readonly admit?: ExactAdmit | undefined;
}

/** Admits the next exact batch of at most `units` runs: `go`, or why the job stops. @internal */
export type ExactAdmit = (units: number, signal: AbortSignal | undefined) => Promise<ExactAdmission>;

/**
 * What an {@link ExactAdmit} answers: `go`, with the stored controls it read when later batches
 * may run under them unread (absent while a rate is in force: every batch takes from its budget),
 * or why the job stops. @internal
 */
export type ExactAdmission = { readonly kind: "go"; readonly controls?: ExactBatchControls } | { readonly kind: "gone" } | { readonly kind: "aborted" };

/** Runs the exact loop over a range; see the module comment. @internal */
export function processRangeExactly(store: RunStore, job: ExactJob, startedAt: number): Promise<RangeOutcome> {
  return new ExactScan(store, job, startedAt).run();
}

class ExactScan {
  readonly #store: RunStore;
  readonly #job: ExactJob;
  readonly #startedAt: number;
  #counts: OutcomeCounts;
  #cursor: Cursor | undefined;
  #saved: OutcomeCounts;
  #lastSavedAt: number | undefined;
  readonly #settledAtStart: number;
  #sessionCancelled = 0;
  readonly #sessionFrom: number | undefined;
  #firstStartedAt: number | undefined;
  /** Controls read before an earlier batch that the next batch runs under unread (see `run`). */
  #unreadControls: ExactBatchControls | undefined;
  /** Batches in a row the store refused for controls read just before them (see {@link MAX_FRESH_REFUSALS}). */
  #freshRefusals = 0;

  constructor(store: RunStore, job: ExactJob, startedAt: number) {
    this.#store = store;
    this.#job = job;
    this.#startedAt = startedAt;
    this.#counts = job.counts;
    this.#saved = job.counts;
    this.#cursor = job.cursor;
    this.#settledAtStart = job.counts.scanned;
    this.#sessionFrom = job.cursor?.startedAt ?? job.request.startedAfter;
    this.#firstStartedAt = this.#sessionFrom;
  }

  async run(): Promise<RangeOutcome> {
    const { settings, decision } = this.#job;
    const { signal, limiter, maxRuns, batchSize } = settings;
    const maxScan = Math.min(MAX_EXACT_SCAN_LIMIT, batchSize * EXACT_SCAN_FACTOR);
    // How many runs a batch reads: it follows the filter's density, so that a batch reads little
    // more than it takes (PostgreSQL reads its whole slice) and still reaches `batchSize` matches.
    let scanLimit = batchSize;
    // SQLite answers each batch synchronously: without a yield the loop would hold the event loop.
    const maybeYield = createYielder();
    try {
      for (;;) {
        await maybeYield();
        if (signal?.aborted === true) return await this.#finish("aborted");
        let limit = limiter === undefined ? batchSize : limiter.chunkSize(batchSize);
        if (maxRuns !== undefined) limit = Math.min(limit, Math.max(0, maxRuns - this.#counts.cancelled));
        // The job's controls: read before the batch, or, while no rate is in force, left for the
        // store to check against those read before an earlier batch (one query less per batch).
        let controls = this.#unreadControls;
        const fresh = controls === undefined;
        if (this.#job.admit !== undefined && fresh) {
          const admitted = await this.#job.admit(limit, signal);
          if (admitted.kind === "aborted") return await this.#finish("aborted");
          if (admitted.kind === "gone") return this.#end("deleted");
          // Sent along although just read (the answer tells whether the store checks them), unless
          // the store kept refusing controls it was handed fresh.
          controls = this.#freshRefusals < MAX_FRESH_REFUSALS ? admitted.controls : undefined;
        }
        // The rate is taken for the batch's most runs before it is sent: a limit is never exceeded.
        if (limiter !== undefined && limit > 0 && !(await limiter.take(limit, signal))) return await this.#finish("aborted");
        const cursor = this.#cursor;
        const result = await this.#job.exact({
          ...(cursor !== undefined ? { after: cursor } : {}),
          decision,
          limit,
          scanLimit,
          counts: this.#counts,
          ...(controls !== undefined ? { controls } : {}),
          // Only `onBatch` hands the ids on; without it a store need not collect them.
          ...(settings.onBatch === undefined ? { listCancelled: false } : {}),
        });
        if (!result.ok) {
          // Paused or re-rated since they were read: nothing changed; the next round reads them.
          if (result.reason === "controls_changed") {
            this.#unreadControls = undefined;
            if (fresh) this.#freshRefusals++;
            continue;
          }
          return this.#end(stopReason({ ok: false, reason: result.reason }));
        }
        // A store that does not check them (`controlsChecked` absent) gets the controls read before every batch.
        this.#unreadControls = result.controlsChecked === true ? controls : undefined;
        if (controls !== undefined) this.#freshRefusals = 0;
        scanLimit = nextScanLimit(scanLimit, result, limit, batchSize, maxScan);
        this.#counts = addCounts(this.#counts, result.counts);
        this.#saved = this.#counts;
        this.#lastSavedAt = Date.now();
        this.#sessionCancelled += result.counts.cancelled;
        if (result.cursor !== undefined) {
          this.#cursor = result.cursor;
          this.#firstStartedAt ??= result.cursor.startedAt;
        }
        await this.#delivered(result.cancelled);
        this.#report();
        if (result.undecided !== undefined) {
          const reason = await this.#decideAlone(result.undecided);
          if (reason !== undefined) return this.#end(reason);
          continue;
        }
        if (result.exhausted) return await this.#finish("completed");
        if (result.blocked && limit === 0) return await this.#finish("stopped_max_runs");
      }
    } catch (error) {
      // Best effort, as the scan loop: the original error is what the caller needs.
      await this.#job.commit([], this.#checkpoint("failed")).catch(() => undefined);
      throw error;
    }
  }

  #checkpoint(status: Checkpoint["status"]): Checkpoint {
    const cursor = this.#cursor;
    return cursor === undefined ? { counts: this.#counts, status } : { cursor: { startedAt: cursor.startedAt, id: cursor.id }, counts: this.#counts, status };
  }

  /** Hands the runs a commit cancelled to `onBatch`. */
  async #delivered(runIds: readonly string[]): Promise<void> {
    const onBatch = this.#job.settings.onBatch;
    if (onBatch !== undefined && runIds.length > 0) await onBatch({ cancellationId: this.#job.jobId, runIds, at: this.#lastSavedAt ?? Date.now() });
  }

  /**
   * Decides the run the store could not judge with the program, cancels it alone when it matches
   * (with the checkpoint before it, as the scan loop's lagged checkpoint), and moves the cursor
   * past it; the next batch (or the closing checkpoint) saves its outcome.
   */
  async #decideAlone(id: string): Promise<StopReason | undefined> {
    const run = await this.#store.getRun(id);
    if (run === undefined) return undefined;
    const { jobId, request } = this.#job;
    const outcome = { ...zeroSegment() };
    const program: Program | undefined = request.program;
    const tally = { noMatch: 0, error: 0, nonBoolean: 0 };
    const binding: ItemBinding = { variable: "event", property: "event", stopProperty: "cancellationId", stopValue: jobId };
    const matched = run.cancellationId !== jobId && (program === undefined || program.decideUntilMatch([run], 0, binding, tally) === 0);
    if (run.cancellationId === jobId) outcome.cancelled++;
    else if (!matched) {
      outcome.not_matched += tally.noMatch;
      outcome.expression_error += tally.error;
      outcome.non_boolean += tally.nonBoolean;
    } else if (run.status === "completed" || run.status === "failed" || run.status === "cancelled") outcome.skipped_terminal++;
    else {
      const result = await this.#job.commit([run.id], this.#checkpoint("running"));
      if (!result.ok) return stopReason(result);
      this.#lastSavedAt = Date.now();
      this.#saved = this.#counts;
      if (result.cancelled.length > 0) {
        outcome.cancelled++;
        this.#sessionCancelled++;
        await this.#delivered(result.cancelled);
      } else outcome.skipped_terminal++;
    }
    outcome.scanned = 1;
    this.#counts = addCounts(this.#counts, outcome);
    this.#cursor = { startedAt: run.startedAt, id: run.id };
    return undefined;
  }

  /** Saves the closing checkpoint and reports. */
  async #finish(ending: "completed" | "aborted" | "stopped_max_runs"): Promise<RangeOutcome> {
    // An abort is saved as the caller asked (`abortStatus`: a service's shutdown keeps the job `running`).
    const result = await this.#job.commit([], this.#checkpoint(ending === "aborted" ? this.#job.settings.abortStatus : ending));
    if (!result.ok) return this.#end(stopReason(result));
    this.#saved = this.#counts;
    this.#lastSavedAt = Date.now();
    this.#report(ending === "completed");
    return this.#end(ending);
  }

  #end(ending: Ending): RangeOutcome {
    const cursor = this.#cursor;
    return {
      ending,
      counts: this.#counts,
      ...(cursor !== undefined ? { cursor: { startedAt: cursor.startedAt, id: cursor.id } } : {}),
      saved: this.#saved,
      sample: [],
      lastSavedAt: this.#lastSavedAt,
    };
  }

  /**
   * A progress event, shaped as the scan loop's. The closing checkpoint after the last batch
   * changes no counts: `onProgress` drops that repeat (wrapped by `processRange`).
   */
  #report(done = false): void {
    const onProgress = this.#job.settings.onProgress;
    if (onProgress === undefined) return;
    const counts = this.#counts;
    const elapsedMs = performance.now() - this.#startedAt;
    const seconds = elapsedMs / 1000;
    let etaSeconds: number | undefined = done ? 0 : undefined;
    const from = this.#sessionFrom ?? this.#firstStartedAt;
    const at = this.#cursor?.startedAt;
    const rangeEnd = this.#job.until?.startedAt ?? this.#job.request.startedBefore;
    if (!done && from !== undefined && at !== undefined && rangeEnd > from) {
      const fraction = Math.min(1, Math.max(0, (at - from) / (rangeEnd - from)));
      if (fraction > 0) etaSeconds = (seconds * (1 - fraction)) / fraction;
    }
    onProgress({
      cancellationId: this.#job.jobId,
      scanned: counts.scanned,
      matched: counts.cancelled + counts.skipped_terminal,
      cancelled: counts.cancelled,
      counts,
      ratePerSecond: seconds > 0 ? this.#sessionCancelled / seconds : 0,
      scannedPerSecond: seconds > 0 ? (counts.scanned - this.#settledAtStart) / seconds : 0,
      etaSeconds,
      elapsedMs,
    });
  }
}

/** Share of a batch's `limit` that the next slice aims to hold: a little room for the filter's drift. */
const SLICE_TARGET = 0.9;

/**
 * The next batch's `scanLimit`, from the filter's density in the last batch: a slice that holds
 * about {@link SLICE_TARGET} of `limit` candidates. A store reads its whole slice (PostgreSQL), or
 * reads again the part in which it passes `limit` candidates (SQLite), so a slice should rarely
 * hold more; one that held none grows twice as long. At least `batchSize`, at most `maxScan`.
 *
 * @internal
 */
export function nextScanLimit(current: number, result: ExactBatchResult & { readonly ok: true }, limit: number, batchSize: number, maxScan: number): number {
  if (result.exhausted || limit === 0) return current;
  const scanned = result.counts.scanned;
  // Counted rather than listed (see `listCancelled`); runs this job cancelled before (a crash's)
  // count too, which only makes the next slice a little shorter.
  const found = result.counts.cancelled;
  const next = found === 0 ? current * 2 : Math.min(current * 2, Math.ceil((scanned * SLICE_TARGET * limit) / found));
  return Math.min(maxScan, Math.max(batchSize, next));
}

function zeroSegment(): { -readonly [K in keyof OutcomeCounts]: number } {
  return { scanned: 0, cancelled: 0, skipped_terminal: 0, not_matched: 0, expression_error: 0, non_boolean: 0 };
}
