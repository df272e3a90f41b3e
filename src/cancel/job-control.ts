/**
 * Control of a running job: pause, unpause and re-rate it while it runs, from anywhere that can
 * reach its store (`PATCH /v1/cancellations/:id`, `cancelkit pause|unpause|rate`,
 * {@link controlCancellation}).
 *
 * The controls live in the job's record (`CancellationRecord.settings`: `paused`, `ratePerSecond`),
 * never in the process that runs it, so they reach every worker of a sharded job and survive
 * restarts. Each worker reads them before each batch it commits ({@link JobGate}):
 * - **Paused**: the worker stops before the batch (and before any checkpoint of a running scan).
 *   A single-process job waits there, reading the record again every {@link CONTROL_POLL_MS} ms,
 *   until the pause is lifted or its signal aborts. A sharded job's worker saves the shard's
 *   checkpoint and releases it, and the store leases no shard of a paused job, so the workers
 *   serve other jobs meanwhile and take the shards again once it is unpaused. Either way, at most
 *   the batch each worker already had in flight lands after a pause.
 * - **Rate**: one budget for the whole job. On a store that keeps it for every worker
 *   (`RateBudgetStore`: PostgreSQL's token bucket row), each batch takes its runs from it; on a
 *   single-process store (memory, SQLite), a limiter in the process running the job does. A batch
 *   is cut into chunks no larger than the rate allows (as `RateLimiter.chunkSize`), each taken
 *   from the budget before it commits.
 *
 * @module
 */
import { isRateBudgetStore, type Checkpoint, type CancellationSettings, type RunStore } from "../stores/types.js";
import type { CommitFn, RangeCommitResult } from "./batch-committer.js";
import type { ExactAdmission } from "./exact-loop.js";
import { CancellationNotFoundError, ValidationError } from "./errors.js";
import { RateLimiter, sleep } from "./rate.js";
import { toWireCancellation, type WireCancellation } from "./record.js";
import { DEFAULT_BATCH_SIZE } from "./settings.js";

/** How often a paused job reads its record again, ms (and the longest wait for a shared rate budget). */
export const CONTROL_POLL_MS = 250;

/** Highest rate accepted by {@link controlCancellation}, runs per second. */
export const MAX_CONTROL_RATE = 1_000_000_000;

/** A change to a job's controls; an absent field stays as it is. */
export interface ControlPatch {
  /** `true` pauses the job, `false` lets it go on. */
  readonly paused?: boolean;
  /** Most runs the job cancels per second, over all its workers (above 0); `null` lifts the limit. */
  readonly ratePerSecond?: number | null;
}

/** Options of {@link controlCancellation}. */
export interface ControlOptions {
  /** Only a cancellation of this environment is found. Default: any environment. */
  readonly environmentId?: string;
}

/**
 * Checks a control request in wire form (`{"paused": true|false}` and/or `{"rate_per_second": n|null}`,
 * the body of `PATCH /v1/cancellations/:id`) and returns it as a {@link ControlPatch}.
 *
 * @throws {@link ValidationError} listing every problem, one per line.
 */
export function validateControlRequest(body: unknown): ControlPatch {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ValidationError(["the body must be a JSON object with paused and/or rate_per_second"]);
  }
  const fields = body as Record<string, unknown>;
  const errors: string[] = [];
  for (const key of Object.keys(fields)) {
    if (key !== "paused" && key !== "rate_per_second") errors.push(`unknown field ${JSON.stringify(key.slice(0, 64))} (expected paused or rate_per_second)`);
  }
  const paused = fields["paused"];
  const rate = fields["rate_per_second"];
  if (paused === undefined && rate === undefined && errors.length === 0) errors.push("give paused and/or rate_per_second");
  if (paused !== undefined && typeof paused !== "boolean") errors.push("paused must be true or false");
  if (rate !== undefined && rate !== null && !isControlRate(rate)) {
    errors.push(`rate_per_second must be a number above 0 and at most ${MAX_CONTROL_RATE}, or null for no limit`);
  }
  if (errors.length > 0) throw new ValidationError(errors);
  return {
    ...(typeof paused === "boolean" ? { paused } : {}),
    ...(rate !== undefined ? { ratePerSecond: rate as number | null } : {}),
  };
}

function isControlRate(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 && value <= MAX_CONTROL_RATE;
}

/** The settings a patch makes of a record's. */
function patchedSettings(settings: CancellationSettings | undefined, patch: ControlPatch): CancellationSettings {
  const { ratePerSecond: oldRate, paused: oldPaused, ...rest } = settings ?? { batchSize: DEFAULT_BATCH_SIZE };
  const rate = patch.ratePerSecond === undefined ? oldRate : (patch.ratePerSecond ?? undefined);
  const paused = patch.paused ?? oldPaused === true;
  return { ...rest, ...(rate !== undefined ? { ratePerSecond: rate } : {}), ...(paused ? { paused: true } : {}) };
}

/**
 * Pauses, unpauses or re-rates a cancellation job, running or not: the change is stored in its
 * record, and every worker running it (in this process or any other sharing the store) applies it
 * before its next batch. It survives restarts; a job resumed later runs with it.
 *
 * @param store - The store holding the cancellation.
 * @param id - The cancellation's id.
 * @param patch - What to change ({@link ControlPatch}; {@link validateControlRequest} reads the wire form).
 * @param options - See {@link ControlOptions}.
 * @returns The record as it stands after the change, in wire form.
 * @throws {@link ValidationError} for a bad patch; {@link CancellationNotFoundError} when no such
 * cancellation exists (in the environment); `StoreError` when the store fails.
 */
export async function controlCancellation(store: RunStore, id: string, patch: ControlPatch, options: ControlOptions = {}): Promise<WireCancellation> {
  if (typeof patch !== "object" || patch === null) throw new ValidationError(["the control patch must be an object"]);
  validateControlRequest({
    ...(patch.paused !== undefined ? { paused: patch.paused } : {}),
    ...(patch.ratePerSecond !== undefined ? { rate_per_second: patch.ratePerSecond } : {}),
  });
  const record = await store.getCancellation(id, options.environmentId);
  if (record === undefined) throw new CancellationNotFoundError(id);
  const settings = patchedSettings(record.settings, patch);
  if (!(await store.updateCancellationSettings(record.id, settings))) throw new CancellationNotFoundError(id);
  const updated = await store.getCancellation(record.id);
  if (updated === undefined) throw new CancellationNotFoundError(id);
  return toWireCancellation(updated);
}

/** The rate split into the fewest equal whole chunks of at most `batchSize` (as `RateLimiter.chunkSize`). */
export function chunkSizeFor(rate: number, batchSize: number): number {
  const parts = Math.ceil(rate / batchSize);
  return Math.max(1, Math.min(batchSize, Math.floor(rate / parts)));
}

/**
 * The limit a record's stored rate puts in force: none for none, nor for 0 (a record this code
 * never writes; the store contract allows it), for the job's own limiter as for a shared budget.
 */
function rateLimitOf(stored: number | undefined): number | undefined {
  return stored !== undefined && stored > 0 ? stored : undefined;
}

/** What the gate read from the record: `rate` the limit in force, `stored` the record's `ratePerSecond` as stored. */
type Controls = { readonly kind: "go"; readonly rate: number | undefined; readonly stored: number | undefined } | { readonly kind: "gone" } | { readonly kind: "aborted" };

/** Options of {@link JobGate}. @internal */
export interface JobGateOptions {
  /** Runs per batch of the job (the largest chunk). */
  readonly batchSize: number;
  /**
   * The job's own limiter (a single-process job run with a rate): the gate sets its rate when the
   * record's changes, and leaves the taking to the batch committer. Default: none.
   */
  readonly limiter?: RateLimiter | undefined;
  /**
   * Take the rate from the store's shared budget (a sharded job on a `RateBudgetStore`) rather
   * than a limiter of this process. Default `false`.
   */
  readonly shared?: boolean;
  /** The rate the job started with (the record's), so that only a change resets the limiter. Default: none. */
  readonly initialRate?: number | undefined;
  /**
   * On a pause, stop at once (the commit answers `aborted`: the range saves its checkpoint and a
   * shard is released) rather than wait: a sharded job's workers then take other jobs' shards
   * while it is paused, and the store hands its shards out again once it is unpaused. Default `false`.
   */
  readonly releaseOnPause?: boolean;
}

/**
 * Applies a job's stored controls to its commits: wraps a range's commit function so that each
 * batch of a running scan first waits while the job is paused and takes its runs from the rate
 * budget. Closing checkpoints (`completed`, `aborted`, `failed`) pass at once, so a stop is never
 * held up by a pause. @internal
 */
export class JobGate {
  readonly #store: RunStore;
  readonly #jobId: string;
  readonly #options: JobGateOptions;
  readonly #shared: boolean;
  #lastRate: number | undefined;
  #local: RateLimiter | undefined;

  constructor(store: RunStore, jobId: string, options: JobGateOptions) {
    this.#store = store;
    this.#jobId = jobId;
    this.#options = options;
    this.#shared = options.shared === true && isRateBudgetStore(store);
    this.#lastRate = rateLimitOf(options.initialRate);
  }

  /** `commit` with the job's controls applied before each batch; waits end when `signal` aborts. */
  wrap(commit: CommitFn, signal: AbortSignal | undefined): CommitFn {
    return async (runIds, checkpoint) => {
      // A closing checkpoint passes at once: one with another status, or (a stop saved as `running`
      // for a resume, `abortStatus`) one without runs after the signal aborted.
      if (checkpoint.status !== "running" || (runIds.length === 0 && signal?.aborted === true)) return commit(runIds, checkpoint);
      const controls = await this.#controls(signal);
      if (controls.kind === "aborted") return { ok: false, reason: "aborted" };
      if (controls.kind === "gone" || controls.rate === undefined || runIds.length === 0 || this.#options.limiter !== undefined) {
        return commit(runIds, checkpoint);
      }
      return this.#commitChunks(commit, runIds, checkpoint, controls.rate, signal);
    };
  }

  /**
   * Before an exact batch (decided and committed inside the database, so {@link JobGate.wrap}
   * never sees it) of at most `units` runs: waits while the job is paused, and takes the units
   * from the stored rate's budget unless the job's own limiter does. Answers the controls it read
   * (see {@link ExactAdmission}).
   */
  async admit(units: number, signal: AbortSignal | undefined): Promise<ExactAdmission> {
    const controls = await this.#controls(signal);
    if (controls.kind !== "go") return controls;
    if (controls.rate !== undefined && units > 0 && this.#options.limiter === undefined && !(await this.#take(units, controls.rate, signal))) return { kind: "aborted" };
    if (controls.rate !== undefined) return { kind: "go" };
    return { kind: "go", controls: controls.stored !== undefined ? { ratePerSecond: controls.stored } : {} };
  }

  /** Commits `runIds` in chunks the rate allows, each taken from the budget and with the controls read again. */
  async #commitChunks(commit: CommitFn, runIds: readonly string[], checkpoint: Checkpoint, firstRate: number, signal: AbortSignal | undefined): Promise<RangeCommitResult> {
    const cancelled: string[] = [];
    let rate: number | undefined = firstRate;
    for (let from = 0; from < runIds.length; ) {
      if (from > 0) {
        const controls = await this.#controls(signal);
        if (controls.kind === "aborted") return { ok: false, reason: "aborted" };
        rate = controls.kind === "go" ? controls.rate : undefined;
      }
      const size = rate === undefined ? runIds.length - from : chunkSizeFor(rate, this.#options.batchSize);
      const chunk = from === 0 && size >= runIds.length ? runIds : runIds.slice(from, from + size);
      if (rate !== undefined && !(await this.#take(chunk.length, rate, signal))) return { ok: false, reason: "aborted" };
      const result = await commit(chunk, checkpoint);
      if (!result.ok) return result;
      cancelled.push(...result.cancelled);
      from += chunk.length;
    }
    return { ok: true, cancelled };
  }

  /** Reads the record's controls, waiting while the job is paused. */
  async #controls(signal: AbortSignal | undefined): Promise<Controls> {
    for (;;) {
      if (signal?.aborted === true) return { kind: "aborted" };
      const record = await this.#store.getCancellation(this.#jobId);
      if (record === undefined) return { kind: "gone" };
      const stored = record.settings?.ratePerSecond;
      const rate = rateLimitOf(stored);
      const limiter = this.#options.limiter;
      if (rate !== this.#lastRate) {
        this.#lastRate = rate;
        limiter?.setRate(rate ?? Infinity);
        this.#local?.setRate(rate ?? Infinity);
      }
      if (record.settings?.paused !== true) return { kind: "go", rate, stored };
      if (this.#options.releaseOnPause === true || !(await sleep(CONTROL_POLL_MS, signal))) return { kind: "aborted" };
    }
  }

  /** Takes `units` from the job's rate budget; false when the signal aborted the wait. */
  async #take(units: number, rate: number, signal: AbortSignal | undefined): Promise<boolean> {
    const store = this.#store;
    if (this.#shared && isRateBudgetStore(store)) {
      const burst = chunkSizeFor(rate, this.#options.batchSize);
      for (;;) {
        if (signal?.aborted === true) return false;
        const waitMs = await store.takeRateBudget(this.#jobId, units, rate, burst);
        if (waitMs <= 0) return true;
        // A rate raised meanwhile is seen at the next ask.
        if (!(await sleep(Math.min(waitMs, CONTROL_POLL_MS), signal))) return false;
      }
    }
    this.#local ??= new RateLimiter(rate);
    return this.#local.take(units, signal);
  }
}
