/**
 * The batch committer of a scan: collects the ids of the runs to cancel and commits them with the
 * checkpoint settled before them, one transaction per batch (chunks no larger than the rate limit
 * allows), then settles the batch's segment in the {@link Ledger}.
 *
 * **Checkpoint one batch behind.** Which of the runs sent in a batch the store actually cancelled
 * is known only when the commit returns. So each commit carries, with its run ids, the checkpoint
 * of everything settled before the batch; the next commit (or the closing one) settles the batch.
 *
 * **Pipelined commits.** Without a rate limit or a `maxRuns` cap (which need each batch's result
 * before going on), a batch commits while the loop reads and decides the next runs. At most one
 * batch is in flight; its segment (the outcomes of the runs decided since the previous batch, up to
 * its last run) settles when its result lands, before the next batch is sent, so each batch still
 * carries the checkpoint of exactly the runs settled before it. Runs decided while a batch is in
 * flight are settled with the next batch (or when the flight lands at the end).
 *
 * @module
 */
import type { Checkpoint, CommitResult, Cursor, OutcomeCounts } from "../stores/types.js";
import { emptySegment, recordBatch, type Ledger, type Segment } from "./ledger.js";
import type { Settings } from "./settings.js";

/**
 * What committing one batch of a range answered: `lease_lost` when another worker holds the shard,
 * `aborted` when the job's signal aborted while the commit waited (a pause, the job's shared rate
 * budget; see `job-control.ts`) and nothing was written. @internal
 */
export type RangeCommitResult = CommitResult | { readonly ok: false; readonly reason: "lease_lost" | "aborted" };

/** Why a commit stops the scan: the rate-limit wait was aborted, the job deleted, the lease lost. */
export type StopReason = "aborted" | "deleted" | "lease_lost";

/** How a batch of a range commits (the job's `commitBatch`, or a shard commit under a lease). */
export type CommitFn = (runIds: readonly string[], checkpoint: Checkpoint) => Promise<RangeCommitResult>;

/** The batch in flight. */
interface Flight {
  readonly ids: readonly string[];
  /** Outcomes of the runs decided since the previous batch, up to the batch's last run. */
  readonly segment: Segment;
  readonly position: Cursor | undefined;
  /** Runs of `ids` the store cancelled, or why the job must stop. */
  readonly result: Promise<number | StopReason>;
}

/** Why a failed commit stops the job. */
export function stopReason(result: { readonly ok: false; readonly reason: "gone" | "lease_lost" | "aborted" }): StopReason {
  return result.reason === "gone" ? "deleted" : result.reason;
}

/** Options of {@link BatchCommitter}. */
export interface BatchCommitterOptions {
  readonly jobId: string;
  readonly commit: CommitFn;
  readonly settings: Settings;
  readonly ledger: Ledger;
  /** Counts of the range's last saved checkpoint before this session. */
  readonly saved: OutcomeCounts;
  /** Called after each commit or checkpoint settles (a progress event). */
  readonly onSettled: () => void;
}

/** Commits the batches of one scan session; see the module comment. */
export class BatchCommitter {
  /** Ids of runs to cancel, not yet sent. */
  pending: string[] = [];
  /** When a commit or checkpoint was last started (`performance.now()`). */
  lastSaveAt = performance.now();
  /** Epoch ms of the last saved checkpoint, if any. */
  lastSavedAt: number | undefined;
  /** Counts of the last checkpoint saved. */
  saved: OutcomeCounts;
  readonly #options: BatchCommitterOptions;
  readonly #dryRun: boolean;
  readonly #pipelined: boolean;
  #flight: Flight | undefined;

  /** @param options - See {@link BatchCommitterOptions}. */
  constructor(options: BatchCommitterOptions) {
    this.#options = options;
    this.saved = options.saved;
    const { dryRun, limiter, maxRuns } = options.settings;
    this.#dryRun = dryRun;
    this.#pipelined = !dryRun && limiter === undefined && maxRuns === undefined;
  }

  /** Whether a batch is in flight (pipelined). */
  get inFlight(): boolean {
    return this.#flight !== undefined;
  }

  /** The most runs one transaction may carry: the batch size, or the rate's even share of it (see `RateLimiter.chunkSize`). */
  chunkSize(): number {
    const { batchSize, limiter } = this.#options.settings;
    return this.#dryRun || limiter === undefined ? batchSize : limiter.chunkSize(batchSize);
  }

  /**
   * Commits the pending ids (in chunks no larger than the rate allows), each chunk with the
   * checkpoint settled before the batch, then settles everything decided so far. With nothing
   * pending it saves a checkpoint. Returns the reason to stop, if any. Pipelined: sends the batch
   * and returns at once (see the module comment).
   */
  async commit(): Promise<StopReason | undefined> {
    if (this.#pipelined) return this.#launch();
    const ledger = this.#options.ledger;
    const ids = this.pending;
    this.pending = [];
    if (ids.length === 0) {
      ledger.settle();
      const result = await this.send([], ledger.checkpoint("running"));
      if (!result.ok) return stopReason(result);
    } else {
      const cancelled = await this.#sendChunks(ids, ledger.checkpoint("running"));
      if (typeof cancelled !== "number") return cancelled;
      recordBatch(ledger.segment, ids.length, cancelled);
      ledger.settle();
    }
    this.lastSaveAt = performance.now();
    this.#options.onSettled();
    return undefined;
  }

  /** Waits for the batch in flight and settles its segment; returns the reason to stop, if any. */
  async land(): Promise<StopReason | undefined> {
    const current = this.#flight;
    if (current === undefined) return undefined;
    this.#flight = undefined;
    const cancelled = await current.result;
    if (typeof cancelled !== "number") return cancelled;
    recordBatch(current.segment, current.ids.length, cancelled);
    this.#options.ledger.settleSegment(current.segment, current.position);
    this.#options.onSettled();
    return undefined;
  }

  /** Settles everything decided (nothing may be pending): lands the batch in flight first. */
  async settleAll(): Promise<StopReason | undefined> {
    const reason = await this.land();
    if (reason === undefined) this.#options.ledger.settle();
    return reason;
  }

  /**
   * Commits `runIds` with `state` (in a dry run, pretends every run was cancelled). Records when
   * it was saved and hands the runs the store cancelled to `onBatch`.
   */
  async send(runIds: readonly string[], state: Checkpoint): Promise<RangeCommitResult> {
    if (this.#dryRun) return { ok: true, cancelled: runIds };
    const { commit, settings, jobId } = this.#options;
    const result = await commit(runIds, state);
    this.lastSavedAt = Date.now();
    if (result.ok) {
      this.saved = state.counts;
      if (settings.onBatch !== undefined && result.cancelled.length > 0) {
        await settings.onBatch({ cancellationId: jobId, runIds: result.cancelled, at: this.lastSavedAt });
      }
    }
    return result;
  }

  /**
   * After a failure: lands the batch in flight (so that the failed checkpoint is the last one
   * saved) and saves the settled state with status `failed`. Best effort: errors are swallowed,
   * since the original error is what the caller needs.
   */
  async fail(): Promise<void> {
    if (this.#dryRun) return;
    try {
      if (this.#flight !== undefined) await this.land().catch(() => undefined);
      await this.#options.commit([], this.#options.ledger.checkpoint("failed"));
    } catch {
      // The store is failing.
    }
  }

  /** Sends the pending ids (with the runs decided since the last batch) as the batch in flight. */
  async #launch(): Promise<StopReason | undefined> {
    const reason = await this.land();
    if (reason !== undefined) return reason;
    const ledger = this.#options.ledger;
    const ids = this.pending;
    this.pending = [];
    this.lastSaveAt = performance.now();
    if (ids.length === 0 && ledger.segment.cancelled === 0) {
      // Nothing to cancel: everything decided is settled now, and only a checkpoint is sent.
      ledger.settle();
      const result = this.send([], ledger.checkpoint("running")).then((r) => (r.ok ? 0 : stopReason(r)));
      result.catch(() => undefined);
      this.#flight = { ids, segment: emptySegment(), position: ledger.cursor, result };
      return undefined;
    }
    // Without a rate limit (pipelined), only a commit waiting on the job's controls answers "aborted".
    const result = this.#sendChunks(ids, ledger.checkpoint("running"));
    // Read at the next landing; a failure meanwhile must not surface as an unhandled rejection.
    result.catch(() => undefined);
    this.#flight = { ids, segment: ledger.takeSegment(), position: ledger.position, result };
    return undefined;
  }

  /**
   * Sends `ids` in chunks no larger than the rate allows (taking the rate limit before each), every
   * chunk with `state`; returns how many runs the store cancelled, or why the job must stop.
   */
  async #sendChunks(ids: readonly string[], state: Checkpoint): Promise<number | StopReason> {
    const { limiter, signal } = this.#options.settings;
    let cancelled = 0;
    for (let from = 0; from < ids.length; ) {
      const size = this.chunkSize();
      const chunk = from === 0 && size >= ids.length ? ids : ids.slice(from, from + size);
      if (!this.#dryRun && limiter !== undefined && !(await limiter.take(chunk.length, signal))) return "aborted";
      const result = await this.send(chunk, state);
      if (!result.ok) return stopReason(result);
      cancelled += result.cancelled.length;
      from += chunk.length;
    }
    return cancelled;
  }
}
