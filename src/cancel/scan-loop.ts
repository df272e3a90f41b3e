/**
 * The scan loop ({@link processRange}): works through a *range* of a job — its whole window, or
 * one shard (a keyset slice, see `workers.ts`) — page by page, decides each run with the compiled
 * `if`, and cancels the matching ones in batches. Its parts: a {@link PageReader} (read-ahead and
 * pushdown), a {@link Ledger} (the counts and the segment of runs decided since the last settle
 * point) and a {@link BatchCommitter} (the batches, the pipelined commit in flight).
 *
 * How it stays correct:
 * - **Keyset scan.** Pages are read in `(startedAt, id)` order after the last position seen, so no
 *   run is skipped or repeated, also when thousands share one millisecond.
 * - **Compare-and-set.** The store cancels only runs still non-terminal. A matching run already
 *   finished in the page, or finished between the scan and the commit (sent but not reported
 *   cancelled), counts as `skipped_terminal`; it is never overwritten.
 * - **Checkpoint in the batch's transaction, one batch behind** (see `batch-committer.ts`). After a
 *   crash the job resumes from the saved cursor and meets again the runs of the unsettled batch:
 *   those it cancelled carry its id in `cancellationId` and count as `cancelled` without being sent
 *   again, those finished meanwhile count as `skipped_terminal`. So the counts always equal the
 *   outcomes of the runs at or before the saved cursor, and a crash neither double counts nor skips.
 * - **Checkpoints without matches.** A stretch without matches is saved (an empty batch) at least
 *   every second, so a resume does not rescan it.
 * - **Pushdown.** For a `bool`-typed `if`, a SQL store gets the translator's prefilter and returns
 *   only the rows it keeps, saying how many it dropped; those count as `not_matched`. Where the
 *   dropped rows lie among the kept ones is unknown, so such a page is never split: its batch is
 *   committed at its end, and a `maxRuns` stop inside it re-reads the page without the prefilter.
 *   A prefiltered last page ends at an end-of-window cursor (`startedBefore`, `"~"` × 128).
 * - **Fairness.** The loop yields to the event loop at least every 20 ms (`yielder.ts`), so that an
 *   in-memory store's job does not starve timers, I/O and abort signals.
 * - **Memory.** The loop holds three pages of runs (`batchSize` runs each: the current one and two
 *   read ahead), plus at most two batches of ids (one in flight), whatever the window holds.
 *
 * @module
 */
import type { DecisionCounts, ItemBinding, Program } from "../expr/program.js";
import { MAX_ID_LENGTH, type Cursor, type OutcomeCounts, type RunRecord, type RunStore, type ScanPage } from "../stores/types.js";
import { BatchCommitter, stopReason, type CommitFn } from "./batch-committer.js";
import { PageDecisions, isAbortError, type PageDecider } from "./evaluator.js";
import { processRangeExactly, type ExactAdmit, type ExactFn } from "./exact-loop.js";
import { Ledger } from "./ledger.js";
import type { Ending, RangeOutcome } from "./range-outcome.js";
import { PageReader } from "./page-reader.js";
import type { PushdownPlan } from "./pushdown-plan.js";
import type { CancellationRequest } from "./request.js";
import { CHECKPOINT_INTERVAL_MS, DRY_RUN_SAMPLE_SIZE, dropRepeatedProgress, type Settings } from "./settings.js";
import { createYielder } from "./yielder.js";

export type { RangeCommitResult } from "./batch-committer.js";

/** Greatest valid id: with `startedBefore`, a cursor past every run of the window. */
const END_OF_WINDOW_ID = "~".repeat(MAX_ID_LENGTH);

/** A slice of a job the scan loop works through: the whole window, or one shard. @internal */
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
  readonly commit: CommitFn;
  /**
   * The store's exact batch for this range, when it has one (`ExactBatchStore`): with an exact
   * pushdown plan the range then runs in `exact-loop.ts`. Absent: the scan loop decides.
   */
  readonly exact?: ExactFn;
  /** Admits each exact batch under the job's stored controls (`JobGate.admit`). Default: none. */
  readonly admit?: ExactAdmit;
}

/**
 * The scan loop: reads the range's runs page by page, decides each, cancels the matching ones in
 * batches through `range.commit` and ends with a closing checkpoint (`completed`, `aborted`,
 * `stopped_max_runs`), or without one when the job was deleted or the range's lease lost.
 * A thrown error is passed on after a best-effort `failed` checkpoint.
 *
 * `settings.onProgress` is wrapped here, once per session, to drop repeated reports (see
 * {@link dropRepeatedProgress}); both loops call the wrapped one. @internal
 */
export function processRange(
  store: RunStore,
  jobId: string,
  request: CancellationRequest,
  given: Settings,
  pushdown: PushdownPlan,
  range: JobRange,
  startedAt: number,
): Promise<RangeOutcome> {
  const settings: Settings = { ...given, onProgress: dropRepeatedProgress(given.onProgress) };
  const decision = pushdown.exact;
  if (decision !== undefined && range.exact !== undefined && !settings.dryRun) {
    return processRangeExactly(
      store,
      {
        jobId,
        request,
        settings,
        decision,
        counts: range.counts,
        ...(range.cursor !== undefined ? { cursor: range.cursor } : {}),
        ...(range.until !== undefined ? { until: range.until } : {}),
        exact: range.exact,
        commit: range.commit,
        admit: range.admit,
      },
      startedAt,
    );
  }
  return new RangeScan(store, jobId, request, settings, pushdown, range, startedAt).run();
}

/** What deciding one page left for its end. */
interface DecidedPage {
  /** The page as finally read (a `maxRuns` stop inside a prefiltered page re-reads it unfiltered). */
  readonly page: ScanPage;
  /** Whether the page holds every run of its range (no prefilter dropped any). */
  readonly exact: boolean;
  /** Pending ids when the page began. */
  readonly pendingAtStart: number;
  /** Set when the loop must stop. */
  readonly stop?: Ending;
}

/** One session of {@link processRange}. */
class RangeScan {
  readonly #jobId: string;
  readonly #request: CancellationRequest;
  readonly #settings: Settings;
  readonly #until: Cursor | undefined;
  readonly #startedAt: number;
  readonly #ledger: Ledger;
  readonly #reader: PageReader;
  readonly #committer: BatchCommitter;
  readonly #sample: string[] = [];
  /**
   * A run's activation is `{ event }`; a run this job cancelled before a crash stops the decisions
   * undecided (it is counted as cancelled, whatever the expression says now).
   */
  readonly #binding: ItemBinding;
  readonly #tally: DecisionCounts = { noMatch: 0, error: 0, nonBoolean: 0 };
  /** Where the next page starts. */
  #scanAfter: Cursor | undefined;
  /** Start time of the first run seen, for the ETA when the range has no lower bound. */
  #firstStartedAt: number | undefined;
  readonly #sessionFrom: number | undefined;

  constructor(
    store: RunStore,
    jobId: string,
    request: CancellationRequest,
    settings: Settings,
    pushdown: PushdownPlan,
    range: JobRange,
    startedAt: number,
  ) {
    this.#jobId = jobId;
    this.#request = request;
    this.#settings = settings;
    this.#until = range.until;
    this.#startedAt = startedAt;
    this.#binding = { variable: "event", property: "event", stopProperty: "cancellationId", stopValue: jobId };
    this.#ledger = new Ledger(range.counts, range.cursor);
    this.#scanAfter = range.cursor;
    this.#firstStartedAt = range.cursor?.startedAt ?? request.startedAfter;
    this.#sessionFrom = this.#firstStartedAt;
    this.#reader = new PageReader(
      store,
      {
        environmentId: settings.environmentId,
        appId: request.appId,
        functionId: request.functionId,
        ...(request.startedAfter !== undefined ? { startedAfter: request.startedAfter } : {}),
        startedBefore: request.startedBefore,
        limit: settings.batchSize,
        ...(range.until !== undefined ? { until: range.until } : {}),
      },
      pushdown.hint,
    );
    this.#committer = new BatchCommitter({
      jobId,
      commit: range.commit,
      settings,
      ledger: this.#ledger,
      saved: range.counts,
      onSettled: () => this.#report(),
    });
  }

  async run(): Promise<RangeOutcome> {
    const signal = this.#settings.signal;
    // A store that answers from memory never lets the event loop run: give timers, I/O and abort
    // signals a turn now and then.
    const maybeYield = createYielder();
    try {
      for (;;) {
        await maybeYield();
        if (signal?.aborted === true) return await this.#finish("aborted");
        // The reader reads the next pages while this one is decided and committed.
        const decided = await this.#decidePage(await this.#reader.read(this.#scanAfter));
        const ending = decided.stop ?? (await this.#endPage(decided));
        if (ending !== undefined) return await this.#finish(ending);
      }
    } catch (error) {
      await this.#committer.fail();
      throw error;
    }
  }

  /**
   * Decides the runs of a page: counts those not matched (and errors, non-booleans) in the ledger's
   * segment, adds the matching non-terminal ones to the batch and commits full batches. A page
   * whose prefilter dropped rows cannot be split (where the dropped rows lie among the returned
   * ones is unknown): it commits only at its end, and a `maxRuns` stop inside it re-reads it
   * without the prefilter.
   */
  async #decidePage(first: ScanPage): Promise<DecidedPage> {
    const program: Program | undefined = this.#request.program;
    const { maxRuns, dryRun } = this.#settings;
    const ledger = this.#ledger;
    const committer = this.#committer;
    const sample = this.#sample;
    const jobId = this.#jobId;
    const tally = this.#tally;
    let page = first;
    let exact = !((page.prefiltered ?? 0) > 0);
    const pageStart = ledger.position;
    const pendingAtStart = committer.pending.length;
    const sampleAtStart = sample.length;
    const segmentAtStart = { ...ledger.segment };
    let runs = page.runs;
    let decider = await this.#deciderFor(program, runs);
    if (decider === "aborted") return { page, exact, pendingAtStart, stop: "aborted" };
    for (let i = 0; i < runs.length; i++) {
      if (decider !== undefined) {
        // The hot path: runs the expression does not match need nothing but a count; it stops at
        // the first run that needs attention: a match, or a run this job cancelled before a crash.
        const from = i;
        i = decider.decideUntilMatch(runs, i, this.#binding, tally);
        if (i > from) {
          const segment = ledger.segment;
          segment.notMatched += tally.noMatch;
          segment.errors += tally.error;
          segment.nonBoolean += tally.nonBoolean;
          ledger.position = runs[i - 1]!;
        }
        if (i === runs.length) break;
      }
      const run: RunRecord = runs[i]!;
      if (run.cancellationId === jobId) {
        // Cancelled by this job before a crash, past the saved cursor.
        ledger.segment.cancelled++;
        ledger.position = run;
        continue;
      }
      // The expression matched (or there is none).
      const status = run.status;
      if (status === "completed" || status === "failed" || status === "cancelled") {
        ledger.segment.skipped++;
        ledger.position = run;
        continue;
      }
      if (maxRuns !== undefined && ledger.cancelled + ledger.segment.cancelled + committer.pending.length >= maxRuns) {
        if (!exact) {
          // Restart the page without the prefilter; nothing of it was committed.
          committer.pending.length = pendingAtStart;
          sample.length = sampleAtStart;
          ledger.segment = { ...segmentAtStart };
          ledger.position = pageStart;
          page = await this.#reader.reread(this.#scanAfter);
          runs = page.runs;
          decider = await this.#deciderFor(program, runs);
          if (decider === "aborted") return { page, exact: true, pendingAtStart, stop: "aborted" };
          exact = true;
          i = -1;
          continue;
        }
        if (committer.pending.length > 0 || ledger.segment.cancelled > 0) {
          const reason = await committer.commit();
          if (reason !== undefined) return { page, exact, pendingAtStart, stop: reason };
          // Some of the batch may have finished meanwhile: room may be left for this run.
          if (ledger.cancelled < maxRuns) {
            i--;
            continue;
          }
        }
        ledger.settle();
        return { page, exact, pendingAtStart, stop: "stopped_max_runs" };
      }
      // Settle what precedes the batch. Not inside a prefiltered page: the rows it dropped before
      // this run are counted only at the page's end, so the settled cursor stays at its start.
      if (committer.pending.length === 0 && exact && !committer.inFlight) ledger.settle();
      committer.pending.push(run.id);
      if (dryRun && sample.length < DRY_RUN_SAMPLE_SIZE) sample.push(run.id);
      ledger.position = run;
      if (exact && committer.pending.length >= committer.chunkSize()) {
        const reason = await committer.commit();
        if (reason !== undefined) return { page, exact, pendingAtStart, stop: reason };
      }
    }
    return { page, exact, pendingAtStart };
  }

  /**
   * What decides a page's runs: the program itself (inline), or the page as the settings'
   * evaluator decided it elsewhere (`aborted` when the signal stopped that first: the page is
   * dropped undecided). `undefined` without an `if`.
   */
  async #deciderFor(program: Program | undefined, runs: readonly RunRecord[]): Promise<PageDecider | undefined | "aborted"> {
    const evaluator = this.#settings.evaluator;
    if (program === undefined || evaluator === undefined || runs.length === 0) return program;
    let codes: Uint8Array;
    try {
      codes = await evaluator.decide(program, runs, this.#settings.signal);
    } catch (error) {
      if (isAbortError(error) && this.#settings.signal?.aborted === true) return "aborted";
      throw error;
    }
    if (codes.length !== runs.length) throw new Error(`the evaluator decided ${codes.length} runs of a page of ${runs.length}`);
    return new PageDecisions(codes);
  }

  /**
   * The end of a decided page: counts the rows the prefilter dropped, moves the position to the
   * page's end, and commits when the window is done, the batch is full, or a checkpoint is due.
   * Returns the ending when the loop must stop.
   */
  async #endPage({ page, exact, pendingAtStart }: DecidedPage): Promise<Ending | undefined> {
    const ledger = this.#ledger;
    const committer = this.#committer;
    const prefiltered = page.prefiltered ?? 0;
    ledger.segment.notMatched += prefiltered;
    if (this.#firstStartedAt === undefined && page.runs.length > 0) this.#firstStartedAt = page.runs[0]!.startedAt;
    if (page.next !== undefined) ledger.position = page.next;
    // The rows a prefilter dropped from the last page may lie after its last run.
    else if (prefiltered > 0) ledger.position = this.#until ?? { startedAt: this.#request.startedBefore, id: END_OF_WINDOW_ID };
    if (committer.pending.length === 0 && !committer.inFlight) ledger.settle();
    if (page.next === undefined) {
      if (committer.pending.length > 0 || ledger.segment.cancelled > 0) {
        const reason = await committer.commit();
        if (reason !== undefined) return reason;
      }
      return (await committer.settleAll()) ?? "completed";
    }
    this.#scanAfter = page.next;
    // A prefiltered page commits only at its end: commit now if the next page, matching like
    // this one, would overflow the batch (which would then need a second, small transaction).
    const chunk = committer.chunkSize();
    const pending = committer.pending.length;
    const added = exact ? 0 : pending - pendingAtStart;
    if (pending >= chunk || (added > 0 && pending + added > chunk) || performance.now() - committer.lastSaveAt >= CHECKPOINT_INTERVAL_MS) {
      return committer.commit();
    }
    return undefined;
  }

  /** Lands the batch in flight, saves the closing checkpoint (unless deleted or lease lost) and reports. */
  async #finish(ending: Ending): Promise<RangeOutcome> {
    this.#reader.stop();
    const ledger = this.#ledger;
    const committer = this.#committer;
    let final: Ending = ending;
    if (committer.inFlight && ending !== "deleted" && ending !== "lease_lost") {
      const reason = await committer.land();
      if (reason !== undefined) final = reason;
      // Stopped between pages with no batch pending: what was decided since is settled too.
      else if (ending === "aborted" && committer.pending.length === 0) ledger.settle();
    }
    if (final === ending && ending !== "deleted" && ending !== "lease_lost") {
      const result = await committer.send([], ledger.checkpoint(ending === "aborted" ? this.#settings.abortStatus : ending));
      if (!result.ok) final = stopReason(result);
      else this.#report(ending === "completed");
    }
    const cursor = ledger.cursorCopy();
    return {
      ending: final,
      counts: ledger.counts(),
      ...(cursor !== undefined ? { cursor } : {}),
      saved: committer.saved,
      sample: this.#sample,
      lastSavedAt: committer.lastSavedAt,
    };
  }

  /**
   * Sends a progress event (after each commit or checkpoint). A commit that settled nothing new
   * (such as the final checkpoint after the last batch) repeats no event, so a progress display
   * shows each state once: `onProgress` drops it (wrapped by {@link processRange}).
   */
  #report(done = false): void {
    const onProgress = this.#settings.onProgress;
    if (onProgress === undefined) return;
    const ledger = this.#ledger;
    const elapsedMs = performance.now() - this.#startedAt;
    const seconds = elapsedMs / 1000;
    let etaSeconds: number | undefined = done ? 0 : undefined;
    const from = this.#sessionFrom ?? this.#firstStartedAt;
    const at = ledger.cursor?.startedAt;
    /** Time of the range's last possible run. */
    const rangeEnd = this.#until?.startedAt ?? this.#request.startedBefore;
    if (!done && from !== undefined && at !== undefined && rangeEnd > from) {
      const fraction = Math.min(1, Math.max(0, (at - from) / (rangeEnd - from)));
      if (fraction > 0) etaSeconds = (seconds * (1 - fraction)) / fraction;
    }
    const counts = ledger.counts();
    onProgress({
      cancellationId: this.#jobId,
      scanned: counts.scanned,
      matched: counts.cancelled + counts.skipped_terminal,
      cancelled: counts.cancelled,
      counts,
      ratePerSecond: seconds > 0 ? ledger.sessionCancelled / seconds : 0,
      scannedPerSecond: seconds > 0 ? ledger.sessionSettled / seconds : 0,
      etaSeconds,
      elapsedMs,
    });
  }
}
