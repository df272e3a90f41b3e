/**
 * Several workers on one cancellation job.
 *
 * {@link createShardedCancellation} validates a request like `cancelRuns` and stores its record
 * split into shards: contiguous keyset slices of the window `(startedAt, id)` holding about equal
 * numbers of runs (the store picks the cuts; see `PostgresRunStore.planShards`). It runs nothing.
 * {@link runWorker}, in as many processes as wanted, leases shards one at a time and works through
 * each with the planner's own scan loop (`processRange` in `scan-loop.ts`): same decisions, same
 * outcome ledger, same pushdown, same lagged checkpoint, only the commit differs.
 *
 * Why it stays exact with workers dying:
 * - **Disjoint shards.** The shards partition the window's keyset range; a worker scans only its
 *   shard (`after` < position ≤ `until`), so no run is decided by two shards.
 * - **One owner at a time.** A shard is leased with `FOR UPDATE SKIP LOCKED` for `leaseMs`; each
 *   batch commit checks, inside its transaction with the shard row locked, that the worker still
 *   holds the lease, and renews it. A worker whose lease passed to another has its next commit
 *   rejected and drops the shard without writing anything.
 * - **Checkpoint in the batch's transaction.** A shard's cursor and counts are saved with each
 *   batch, one batch behind as in the planner. A new owner resumes from the last saved checkpoint
 *   and meets the runs of the dead owner's last batch again: those it cancelled carry the job's id
 *   and count as `cancelled` without being sent again. So each run is counted exactly once.
 * - **Heartbeat.** Between commits (a slow page, a paused rate limit) the worker renews its lease
 *   every `leaseMs / 3`, so only a dead or stalled process loses it; if a renewal finds the lease
 *   gone, the worker stops the shard at the next page.
 *
 * The job's counts are the sum of its shards' (read from the store), and it is `completed` when
 * every shard is done. Deleting the record deletes its shards: each worker stops at its next
 * commit.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import {
  MAX_LEASE_MS,
  MAX_SHARD_COUNT,
  MAX_WORKER_ID_LENGTH,
  isShardedRunStore,
  supportsExactBatches,
  type CancellationRecord,
  type Checkpoint,
  type OutcomeCounts,
  type RunStore,
  type ShardLease,
  type ShardStatus,
  type ShardedRunStore,
  type CancellationStatus,
} from "../stores/types.js";
import { CancellationNotFoundError, ConflictError } from "./errors.js";
import type { ExactRangeBatch } from "./exact-loop.js";
import { JobGate } from "./job-control.js";
import { draftRecord, requestOfRecord, windowOf } from "./job-record.js";
import { addCounts, subtractCounts } from "./ledger.js";
import type { PushdownPlan } from "./pushdown-plan.js";
import { sleep, type RateLimiter } from "./rate.js";
import { toWireCancellation, type WireCancellation } from "./record.js";
import { requestHash, validateCancellationRequest, type CancellationRequest } from "./request.js";
import type { Ending } from "./range-outcome.js";
import { processRange, type JobRange } from "./scan-loop.js";
import type { PageEvaluator } from "./evaluator.js";
import { MAX_BATCH_SIZE, pushdownPlanFor, readSettings, storedSettingsOf, type CancellationProgress, type Settings } from "./settings.js";

/** Default lease of a shard, ms: a worker that stops renewing it loses the shard after this long. */
export const DEFAULT_LEASE_MS = 10_000;

/** Default pause between looks for a free shard while other workers hold the rest, ms. */
export const DEFAULT_POLL_MS = 1000;

/** Longest lease or poll interval accepted, ms (one day: the stores' longest lease). */
const MAX_INTERVAL_MS = MAX_LEASE_MS;

/** Options of {@link createShardedCancellation}. */
export interface ShardedCancelOptions {
  /**
   * How many shards to split the window into, 1 to 1000. The window is split into at most this
   * many shards of about equal run counts; fewer when it holds fewer runs. Required.
   */
  readonly shards: number;
  /** Environment the cancellation belongs to. Default `'default'`. */
  readonly environmentId?: string;
  /**
   * As `cancelRuns`: the same key and an equivalent body return the first cancellation (sharded
   * or not) without creating another; the same key with another body throws {@link ConflictError}.
   * Default: none.
   */
  readonly idempotencyKey?: string;
  /** The current time, epoch ms: validation, `created_at` and the ULID. Default `Date.now()`. */
  readonly now?: number;
  /** Runs per page and per batch of the job's workers, stored with the record (1 to 100,000). Default 1000. */
  readonly batchSize?: number;
  /**
   * Most runs the job cancels per second over all its workers, stored with the record (change it
   * while the job runs with `controlCancellation`). Default: no limit.
   */
  readonly ratePerSecond?: number;
}

/** What {@link createShardedCancellation} stored. */
export interface ShardedCancellation {
  /** The record in wire form (status `running`, counts 0 when just created). */
  readonly cancellation: WireCancellation;
  /** How many shards the window was split into (0 when an idempotency key returned an unsharded cancellation). */
  readonly shards: number;
  /** False when an idempotency key returned an existing cancellation. */
  readonly created: boolean;
}

/**
 * Validates a cancellation request (as `cancelRuns` does) and stores its record split into shards
 * for {@link runWorker}s to execute. Runs nothing.
 *
 * @param store - A store several processes can share ({@link ShardedRunStore}: PostgreSQL).
 * @param body - The request body, shaped like Inngest's `POST /v1/cancellations`.
 * @param options - See {@link ShardedCancelOptions}.
 * @throws `ValidationError` (400) for a bad body; {@link ConflictError} (409) for an idempotency
 * key reused with another body; `TypeError`/`RangeError` for bad options or a store that cannot
 * be shared; `StoreError` when the store fails.
 */
export async function createShardedCancellation(store: RunStore, body: unknown, options: ShardedCancelOptions): Promise<ShardedCancellation> {
  if (typeof options !== "object" || options === null) throw new TypeError("createShardedCancellation: options must be an object with `shards`");
  const sharded = requireShardedStore(store, "createShardedCancellation");
  const shards = options.shards;
  if (typeof shards !== "number" || !Number.isSafeInteger(shards) || shards < 1 || shards > MAX_SHARD_COUNT) {
    throw new RangeError(`createShardedCancellation: shards must be an integer from 1 to ${MAX_SHARD_COUNT}, got ${String(shards)}`);
  }
  const settings = readSettings(
    {
      ...(options.environmentId !== undefined ? { environmentId: options.environmentId } : {}),
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      ...(options.ratePerSecond !== undefined ? { ratePerSecond: options.ratePerSecond } : {}),
    },
    "createShardedCancellation",
  );
  if (options.ratePerSecond !== undefined && typeof options.ratePerSecond !== "number") throw new TypeError("createShardedCancellation: ratePerSecond must be a number");
  const now = options.now ?? Date.now();
  if (typeof now !== "number" || !Number.isFinite(now)) throw new TypeError("createShardedCancellation: now must be a finite number");
  const key = options.idempotencyKey;
  if (key !== undefined && (typeof key !== "string" || key === "")) throw new TypeError("createShardedCancellation: idempotencyKey must be a non-empty string");
  const request = validateCancellationRequest(body, { now });
  const draft: CancellationRecord = { ...draftRecord(request, settings.environmentId, now), settings: storedSettingsOf(settings) };
  let record: CancellationRecord = draft;
  let created = true;
  if (key === undefined) {
    await sharded.createShardedCancellation(draft, shards);
  } else {
    const hash = requestHash(request);
    const result = await sharded.createShardedCancellation(draft, shards, { key, requestHash: hash });
    if (!result.created) {
      if (result.requestHash !== hash) {
        throw new ConflictError(
          `idempotency key ${JSON.stringify(key)} was already used for another request (cancellation ${result.record.id})`,
          result.record.id,
        );
      }
      record = result.record;
      created = false;
    }
  }
  const count = (await sharded.listShards(record.id)).length;
  return { cancellation: toWireCancellation(record), shards: count, created };
}

/** Options of {@link runWorker}. */
export interface WorkerOptions {
  /**
   * This worker's name in shard leases; must be unique among running workers. Default
   * `<hostname>:<pid>:<random>`.
   */
  readonly workerId?: string;
  /** Work only on this cancellation's shards. Default: shards of any sharded job. */
  readonly cancellationId?: string;
  /** Work only on jobs of this environment. Default: any environment. */
  readonly environmentId?: string;
  /**
   * How long a lease lasts without renewal, ms (1 to 86,400,000). Commits and a heartbeat every
   * `leaseMs / 3` renew it; a worker that dies loses its shard this long after its last renewal.
   * Default 10,000.
   */
  readonly leaseMs?: number;
  /**
   * Runs per scanned page and at most per committed batch, 1 to 100,000, for every job. Default:
   * each job's own (stored with its record), else 1000.
   */
  readonly batchSize?: number;
  /** Most runs this worker cancels per second (each worker has its own limit). Default: no limit. */
  readonly ratePerSecond?: number | RateLimiter;
  /** Hand the store the SQL prefilter of the `if` (see `ResumeOptions.pushdown`). Default `true`. */
  readonly pushdown?: boolean;
  /**
   * Stops the worker at its shard's next page boundary: the shard's checkpoint is saved and its
   * lease released (status `pending`, so another worker takes it at once). Default: none.
   */
  /**
   * Where the `if` is evaluated (`ResumeOptions.evaluator`: the service's worker threads). Default:
   * inline, on the calling thread.
   */
  readonly evaluator?: PageEvaluator;
  readonly signal?: AbortSignal;
  /** Called after each commit of a shard; an exception it throws fails the worker. Default: none. */
  readonly onProgress?: (progress: WorkerProgress) => void;
  /** Pause between looks for a free shard while other workers hold the rest, ms. Default 1000. */
  readonly pollMs?: number;
  /**
   * Return once no shard in scope is left undone. Shards other workers hold are waited for (polled
   * every `pollMs`), since their leases may expire and need taking over. `false` keeps polling
   * for new jobs until the signal aborts. Default `true`.
   */
  readonly exitWhenIdle?: boolean;
}

/** A progress event of a worker: a {@link CancellationProgress} of the shard it works on. */
export interface WorkerProgress extends CancellationProgress {
  /** The worker's id. */
  readonly workerId: string;
  /** The shard's number; the counts of this event are the shard's (all its sessions). */
  readonly shardNo: number;
  /**
   * The job's counts: as they stood when this worker leased the shard, with this shard's
   * progress since (other workers' progress since then is not included).
   */
  readonly job: OutcomeCounts;
}

/** How a worker's session on one shard ended. */
export type ShardSessionEnd =
  /** The shard was scanned to its end. */
  | "done"
  /** The worker was stopped (signal): checkpoint saved, lease released. */
  | "released"
  /** Another worker took the shard over (this worker's lease had expired): nothing more was written. */
  | "lease_lost"
  /** The cancellation was deleted. */
  | "deleted";

/** One shard a worker worked on. */
export interface ShardSession {
  readonly cancellationId: string;
  readonly shardNo: number;
  readonly end: ShardSessionEnd;
  /** The shard's counts as this session last saved them (all sessions of the shard). */
  readonly counts: OutcomeCounts;
  /**
   * Runs this session's saved checkpoints settled and cancelled. Runs of a last batch whose
   * checkpoint never got saved (lease lost, job deleted) are counted by the shard's next owner, so
   * the sessions of all workers add up to the job's counts.
   */
  readonly scanned: number;
  readonly cancelled: number;
}

/** What a worker did. */
export interface WorkerReport {
  readonly workerId: string;
  /** `idle`: nothing in scope was left to do; `aborted`: stopped by the signal. */
  readonly status: "idle" | "aborted";
  /** The shards it worked on, in order. */
  readonly shards: readonly ShardSession[];
  /** Runs it settled and cancelled, over all its shards. */
  readonly scanned: number;
  readonly cancelled: number;
  /** Wall time, ms. */
  readonly elapsedMs: number;
}

interface JobPlan {
  readonly request: CancellationRequest;
  readonly pushdown: PushdownPlan;
}

/**
 * Runs a worker: leases shards of sharded cancellations one at a time and works through each
 * (scan, decide, cancel in batches, checkpoint with every batch under the lease) until none is
 * left in scope (`exitWhenIdle`) or the signal aborts it. Start as many as wanted, in as many
 * processes; together they cancel each matching run exactly once and the job's counts come out
 * exact, also when some die midway (their shards pass to the others when the leases expire).
 *
 * @param store - A store several processes can share ({@link ShardedRunStore}: PostgreSQL).
 * @param options - See {@link WorkerOptions}.
 * @throws `TypeError`/`RangeError` for bad options or a store that cannot be shared;
 * {@link CancellationNotFoundError} when `cancellationId` names no cancellation (of the
 * environment); `StoreError` when the store fails (the shard in hand is released first, if the
 * store still answers); `ValidationError` when a job's stored `if` no longer compiles.
 */
export async function runWorker(store: RunStore, options: WorkerOptions = {}): Promise<WorkerReport> {
  const startedAt = performance.now();
  if (typeof options !== "object" || options === null) throw new TypeError("runWorker: options must be an object");
  const sharded = requireShardedStore(store, "runWorker");
  const workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  if (typeof workerId !== "string" || workerId === "" || workerId.length > MAX_WORKER_ID_LENGTH) {
    throw new TypeError(`runWorker: workerId must be a string of 1 to ${MAX_WORKER_ID_LENGTH} characters`);
  }
  const leaseMs = checkInterval(options.leaseMs ?? DEFAULT_LEASE_MS, "leaseMs");
  const pollMs = checkInterval(options.pollMs ?? DEFAULT_POLL_MS, "pollMs");
  const exitWhenIdle = options.exitWhenIdle ?? true;
  if (typeof exitWhenIdle !== "boolean") throw new TypeError("runWorker: exitWhenIdle must be a boolean");
  const { cancellationId, environmentId } = options;
  if (cancellationId !== undefined && (typeof cancellationId !== "string" || cancellationId === "")) {
    throw new TypeError("runWorker: cancellationId must be a non-empty string");
  }
  if (environmentId !== undefined && (typeof environmentId !== "string" || environmentId === "")) {
    throw new TypeError("runWorker: environmentId must be a non-empty string");
  }
  // Checks batchSize, ratePerSecond, signal, onProgress (type only) and pushdown like the planner.
  const base = readSettings(
    {
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      ...(options.ratePerSecond !== undefined ? { ratePerSecond: options.ratePerSecond } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      ...(options.pushdown !== undefined ? { pushdown: options.pushdown } : {}),
      ...(options.evaluator !== undefined ? { evaluator: options.evaluator } : {}),
    },
    "runWorker",
  );
  const onProgress = options.onProgress;
  if (onProgress !== undefined && typeof onProgress !== "function") throw new TypeError("runWorker: onProgress must be a function");
  const signal = options.signal;

  if (cancellationId !== undefined) {
    const record = await sharded.getCancellation(cancellationId, environmentId);
    if (record === undefined) throw new CancellationNotFoundError(cancellationId);
    if ((await sharded.listShards(cancellationId)).length === 0) {
      throw new TypeError(`runWorker: cancellation ${cancellationId} is not sharded (run it with cancelRuns or resumeCancellation)`);
    }
  }

  const plans = new Map<string, JobPlan>();
  const planOf = (record: CancellationRecord): JobPlan => {
    let plan = plans.get(record.id);
    if (plan === undefined) {
      const request = requestOfRecord(record);
      plan = { request, pushdown: pushdownPlanFor(request.program, base) };
      // A long-lived worker meets many jobs; only the current few matter.
      if (plans.size >= 64) plans.clear();
      plans.set(record.id, plan);
    }
    return plan;
  };

  const sessions: ShardSession[] = [];
  let scanned = 0;
  let cancelled = 0;
  const done = (status: WorkerReport["status"]): WorkerReport => ({
    workerId,
    status,
    shards: sessions,
    scanned,
    cancelled,
    elapsedMs: performance.now() - startedAt,
  });

  for (;;) {
    if (signal?.aborted === true) return done("aborted");
    const { lease, unfinished } = await sharded.leaseShard({
      workerId,
      leaseMs,
      ...(cancellationId !== undefined ? { cancellationId } : {}),
      ...(environmentId !== undefined ? { environmentId } : {}),
    });
    if (lease !== undefined) {
      // A job's own batch size (stored with it) unless the worker was given one.
      const stored = lease.record.settings?.batchSize;
      const jobBase = options.batchSize === undefined && stored !== undefined ? { ...base, batchSize: Math.min(MAX_BATCH_SIZE, stored) } : base;
      const session = await workShard(sharded, lease, planOf(lease.record), jobBase, { workerId, leaseMs, onProgress });
      sessions.push(session);
      scanned += session.scanned;
      cancelled += session.cancelled;
      continue;
    }
    if (exitWhenIdle && unfinished === 0) return done("idle");
    if (!(await sleep(pollMs, signal))) return done("aborted");
  }
}

/** Works through one leased shard with the planner's scan loop; keeps the lease alive meanwhile. */
async function workShard(
  store: ShardedRunStore,
  lease: ShardLease,
  plan: JobPlan,
  base: Settings,
  worker: { readonly workerId: string; readonly leaseMs: number; readonly onProgress: ((progress: WorkerProgress) => void) | undefined },
): Promise<ShardSession> {
  const { record, shard } = lease;
  const { workerId, leaseMs, onProgress } = worker;
  const startedAt = performance.now();
  const lost = new AbortController();
  const heartbeat = setInterval(() => {
    store.renewShardLease(shard.cancellationId, shard.shardNo, workerId, leaseMs).then(
      (held) => {
        if (!held) lost.abort();
      },
      // A failed renewal (the database away for a moment) is retried at the next beat; the
      // commits find out for certain whether the lease is still ours.
      () => undefined,
    );
  }, Math.max(1, Math.floor(leaseMs / 3)));
  // The shard stops when the caller aborts or the lease is lost (AbortSignal.any needs Node 20.3).
  const userSignal = base.signal;
  const onUserAbort = (): void => lost.abort();
  if (userSignal?.aborted === true) lost.abort();
  else userSignal?.addEventListener("abort", onUserAbort, { once: true });
  const signal = lost.signal;
  // The job's counts without this shard's, so progress can show the job as a whole.
  const others = subtractCounts(record.counts, shard.counts);
  const settings: Settings = {
    ...base,
    environmentId: record.environmentId,
    signal,
    dryRun: false,
    maxRuns: undefined,
    onProgress:
      onProgress === undefined
        ? undefined
        : (progress: CancellationProgress) => onProgress({ ...progress, workerId, shardNo: shard.shardNo, job: addCounts(others, progress.counts) }),
  };
  const start = shard.cursor ?? shard.after;
  const gate = new JobGate(store, record.id, { batchSize: settings.batchSize, shared: true, releaseOnPause: true });
  const range: JobRange = {
    counts: shard.counts,
    ...(start !== undefined ? { cursor: start } : {}),
    ...(shard.until !== undefined ? { until: shard.until } : {}),
    // The job's stored controls (pause, the job-wide rate budget) are read again before each batch.
    commit: gate.wrap((runIds, checkpoint: Checkpoint) =>
      store.commitShardBatch({
        cancellationId: shard.cancellationId,
        shardNo: shard.shardNo,
        workerId,
        leaseMs,
        runIds,
        checkpoint: {
          ...(checkpoint.cursor !== undefined ? { cursor: checkpoint.cursor } : {}),
          counts: checkpoint.counts,
          status: shardStatusOf(checkpoint.status),
        },
      }), signal),
    ...(supportsExactBatches(store)
      ? {
          admit: (units: number) => gate.admit(units, signal),
          exact: (batch: ExactRangeBatch) =>
            store.cancelExactBatch({
              ...batch,
              cancellationId: shard.cancellationId,
              window: windowOf(record),
              ...(shard.until !== undefined ? { until: shard.until } : {}),
              lease: { shardNo: shard.shardNo, workerId, leaseMs },
            }),
        }
      : {}),
  };
  try {
    const outcome = await processRange(store, record.id, plan.request, settings, plan.pushdown, range, startedAt);
    return {
      cancellationId: shard.cancellationId,
      shardNo: shard.shardNo,
      end: sessionEnd(outcome.ending),
      counts: outcome.saved,
      scanned: outcome.saved.scanned - shard.counts.scanned,
      cancelled: outcome.saved.cancelled - shard.counts.cancelled,
    };
  } finally {
    clearInterval(heartbeat);
    userSignal?.removeEventListener("abort", onUserAbort);
  }
}

/** A shard's status for the planner's checkpoint status: anything but running or done releases it. */
function shardStatusOf(status: CancellationStatus): ShardStatus {
  if (status === "running") return "running";
  if (status === "completed") return "done";
  return "pending";
}

function sessionEnd(ending: Ending): ShardSessionEnd {
  switch (ending) {
    case "completed":
      return "done";
    case "deleted":
      return "deleted";
    case "lease_lost":
      return "lease_lost";
    default:
      return "released";
  }
}

function requireShardedStore(store: RunStore, caller: string): ShardedRunStore {
  if (typeof store !== "object" || store === null || !isShardedRunStore(store)) {
    throw new TypeError(`${caller}: the store cannot share a job between workers (use PostgresRunStore)`);
  }
  return store;
}

function checkInterval(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1 || value > MAX_INTERVAL_MS) {
    throw new RangeError(`runWorker: ${name} must be an integer from 1 to ${MAX_INTERVAL_MS}, got ${String(value)}`);
  }
  return value;
}
