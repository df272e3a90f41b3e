/**
 * The cancellation planner's entry points: {@link cancelRuns} validates a request, stores its
 * record and runs it; {@link resumeCancellation} continues a stored one from its checkpoint (or, for
 * a sharded job, joins it as one more worker). Both run the scan loop (`scan-loop.ts`), which
 * streams the runs of the window out of a {@link RunStore}, decides each with the compiled `if`, and
 * cancels the matching ones in batches with a checkpoint in each batch's transaction; its module
 * comment says how the counts stay exact through crashes, pushdown and pipelined commits.
 *
 * @module
 */
import { isShardedRunStore, supportsExactBatches, type CancellationRecord, type CancellationStatus, type OutcomeCounts, type RunStore, type ShardedRunStore } from "../stores/types.js";
import { CancellationLeaseError, CancellationNotFoundError, ConflictError } from "./errors.js";
import type { ExactRangeBatch } from "./exact-loop.js";
import { JobGate } from "./job-control.js";
import { JobLease } from "./job-lease.js";
import { draftRecord, requestOfRecord, windowOf } from "./job-record.js";
import type { PushdownCoverage, PushdownPlan } from "./pushdown-plan.js";
import { toWireCancellation, type WireCancellation } from "./record.js";
import { requestHash, validateCancellationRequest, type CancellationRequest } from "./request.js";
import { processRange, type JobRange } from "./scan-loop.js";
import { pushdownPlanFor, readSettings, sameSettings, storedSettingsOf, withStoredSettings, type ResumeOptions, type Settings } from "./settings.js";
import { runWorker, type WorkerProgress } from "./workers.js";

export type { CancellationProgress, ResumeOptions } from "./settings.js";

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
    return runJob(store, draft, request, settings, pushdown, startedAt, true, undefined);
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
  const lease = settings.lease === undefined || settings.dryRun ? undefined : await JobLease.take(store, record.id, settings.lease);
  return runJob(store, record, request, settings, pushdown, startedAt, true, lease);
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
    return resumeShardedCancellation(store, record, settings, pushdown.coverage, startedAt);
  }
  // The lease first: a job another process runs is left alone, settings included.
  const lease = settings.lease === undefined || settings.dryRun ? undefined : await JobLease.take(store, id, settings.lease);
  try {
    // A pause stays in place: it is the job's control, not a setting of this session.
    const stored = { ...storedSettingsOf(settings), ...(record.settings?.paused === true ? { paused: true } : {}) };
    if (!settings.dryRun && !sameSettings(stored, record.settings)) {
      // The settings this session runs with are the job's from now on (a later resume keeps them).
      if (!(await store.updateCancellationSettings(id, stored))) throw new CancellationNotFoundError(id);
      record = { ...record, settings: stored };
    }
  } catch (error) {
    await lease?.end();
    throw error;
  }
  return runJob(store, record, request, settings, pushdown, startedAt, false, lease);
}

async function runJob(
  store: RunStore,
  record: CancellationRecord,
  request: CancellationRequest,
  settings: Settings,
  pushdown: PushdownPlan,
  startedAt: number,
  created: boolean,
  lease: JobLease | undefined,
): Promise<CancellationReport> {
  const jobId = record.id;
  const owner = lease?.owner;
  const gate = new JobGate(store, jobId, { batchSize: settings.batchSize, limiter: settings.limiter, initialRate: record.settings?.ratePerSecond });
  const gateSignal = lease === undefined ? settings.signal : settings.signal === undefined ? lease.lost : AbortSignal.any([settings.signal, lease.lost]);
  const range: JobRange = {
    counts: record.counts,
    ...(record.cursor !== undefined ? { cursor: record.cursor } : {}),
    // The job's stored controls (pause, rate) are read again before each batch.
    commit: gate.wrap(
      (runIds, checkpoint) => store.commitBatch({ cancellationId: jobId, runIds, checkpoint, ...(owner !== undefined ? { owner } : {}) }),
      gateSignal,
    ),
    // Exact batches are fenced by the lease as commits are: a process that lost its job writes nothing.
    ...(supportsExactBatches(store)
      ? {
          exact: (batch: ExactRangeBatch) =>
            store.cancelExactBatch({ ...batch, cancellationId: jobId, window: windowOf(record), ...(owner !== undefined ? { owner } : {}) }),
          admit: (units: number) => gate.admit(units, gateSignal),
        }
      : {}),
  };
  // A lease taken over stops the job as an abort does; its closing checkpoint then changes nothing.
  const signal = lease === undefined ? settings.signal : settings.signal === undefined ? lease.lost : AbortSignal.any([settings.signal, lease.lost]);
  let outcome: Awaited<ReturnType<typeof processRange>>;
  try {
    outcome = await processRange(store, jobId, request, { ...settings, signal }, pushdown, range, startedAt);
  } finally {
    await lease?.end();
  }
  if (outcome.ending === "lease_lost" && lease !== undefined) throw new CancellationLeaseError(jobId, "lost", undefined, undefined);
  const status: CancellationStatus | "deleted" = outcome.ending === "lease_lost" ? "deleted" : outcome.ending;
  const final: CancellationRecord = {
    ...record,
    status: status === "deleted" ? record.status : status === "aborted" ? settings.abortStatus : status,
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
 * `resumeCancellation` of a sharded job: this process joins it as one more worker and reports the
 * job as it stands afterwards.
 */
async function resumeShardedCancellation(
  store: ShardedRunStore,
  record: CancellationRecord,
  settings: Settings,
  coverage: PushdownCoverage,
  startedAt: number,
): Promise<CancellationReport> {
  const onProgress = settings.onProgress;
  const report = await runWorker(store, {
    cancellationId: record.id,
    environmentId: record.environmentId,
    batchSize: settings.batchSize,
    pushdown: settings.pushdown,
    ...(settings.evaluator !== undefined ? { evaluator: settings.evaluator } : {}),
    ...(settings.limiter !== undefined ? { ratePerSecond: settings.limiter } : {}),
    ...(settings.signal !== undefined ? { signal: settings.signal } : {}),
    ...(onProgress !== undefined
      ? {
          onProgress: (progress: WorkerProgress) =>
            onProgress({
              cancellationId: progress.cancellationId,
              scanned: progress.job.scanned,
              matched: progress.job.cancelled + progress.job.skipped_terminal,
              cancelled: progress.job.cancelled,
              counts: progress.job,
              ratePerSecond: progress.ratePerSecond,
              scannedPerSecond: progress.scannedPerSecond,
              // The shard's ETA says nothing of the other shards.
              etaSeconds: undefined,
              elapsedMs: performance.now() - startedAt,
            }),
        }
      : {}),
  });
  const final = await store.getCancellation(record.id);
  const status: CancellationReport["status"] = final === undefined ? "deleted" : report.status === "aborted" && final.status !== "completed" ? "aborted" : final.status;
  const shown = final ?? record;
  return {
    cancellation: toWireCancellation(shown),
    outcomes: { ...shown.counts },
    status,
    pushdown: coverage,
    dryRun: false,
    created: false,
    elapsedMs: performance.now() - startedAt,
  };
}
