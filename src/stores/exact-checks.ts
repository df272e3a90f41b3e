/**
 * Input checks of {@link ExactBatchStore.cancelExactBatch}: the window, bounds and predicates as a
 * scan query's, the counts as a checkpoint's, the limits and the lease as a shard commit's.
 *
 * @module
 */
import {
  checkLeaseMs,
  checkShardNo,
  checkWorkerId,
  describeValue,
  isPlainObject,
  normalizeCommitBatch,
  normalizeScanQuery,
  type CheckedShardWindow,
} from "./checks.js";
import { MAX_EXACT_SCAN_LIMIT, StoreError, type Cursor, type ExactBatch, type ExactBatchControls, type ExactDecision, type OutcomeCounts } from "./types.js";

/** An exact batch once checked: the window's environment filled in. */
export interface CheckedExactBatch extends ExactBatch {
  readonly window: CheckedShardWindow;
}

/**
 * Checks an {@link ExactBatch}. A `lease` is accepted only when `allowLease` (a store that can
 * share jobs between workers).
 *
 * @throws {@link StoreError} with code `invalid_batch`.
 */
export function normalizeExactBatch(value: unknown, allowLease: boolean): CheckedExactBatch {
  const fail = (message: string): never => {
    throw new StoreError("invalid_batch", `exact batch: ${message}`);
  };
  if (!isPlainObject(value)) return fail(`expected an object, got ${describeValue(value)}`);
  const b = value as unknown as ExactBatch;
  if (!isPlainObject(b.window)) fail(`window must be an object, got ${describeValue(b.window)}`);
  const w = b.window;
  let q;
  try {
    q = normalizeScanQuery({
      ...(w.environmentId !== undefined ? { environmentId: w.environmentId } : {}),
      appId: w.appId,
      functionId: w.functionId,
      ...(w.startedAfter !== undefined ? { startedAfter: w.startedAfter } : {}),
      startedBefore: w.startedBefore,
      ...(b.after !== undefined ? { after: b.after } : {}),
      ...(b.until !== undefined ? { until: b.until } : {}),
      limit: 1,
    });
  } catch (error) {
    return fail((error as Error).message.replace(/^scan query: /, ""));
  }
  const d = b.decision;
  if (!isPlainObject(d)) return fail(`decision must be an object, got ${describeValue(d)}`);
  for (const key of ["match", "error", "nonBoolean"] as const) {
    // A predicate is checked as a scan query's pushdown hint is.
    try {
      normalizeScanQuery({ appId: "a", functionId: "f", startedBefore: 0, limit: 1, pushdown: { predicate: d[key] } });
    } catch (error) {
      fail(`decision.${key}: ${(error as Error).message.replace(/^scan query: (pushdown\.)?/, "")}`);
    }
    if (hasUnknown(d[key])) fail(`decision.${key} must be exact (it holds an unknown subtree)`);
  }
  if (!Number.isSafeInteger(b.limit) || b.limit < 0) fail(`limit must be a non-negative integer, got ${describeValue(b.limit)}`);
  if (!Number.isSafeInteger(b.scanLimit) || b.scanLimit < 1 || b.scanLimit > MAX_EXACT_SCAN_LIMIT) {
    fail(`scanLimit must be an integer from 1 to ${MAX_EXACT_SCAN_LIMIT}, got ${describeValue(b.scanLimit)}`);
  }
  // The commit checks cover the id and the counts.
  const counts: OutcomeCounts = normalizeCommitBatch({ cancellationId: b.cancellationId, runIds: [], checkpoint: { counts: b.counts, status: "running" } })
    .checkpoint.counts;
  const lease = b.lease;
  if (lease !== undefined) {
    if (!allowLease) fail("lease: this store cannot share a job between workers");
    if (!isPlainObject(lease)) fail(`lease must be an object, got ${describeValue(lease)}`);
    checkShardNo(lease.shardNo, "invalid_batch");
    checkWorkerId(lease.workerId, "invalid_batch");
    checkLeaseMs(lease.leaseMs, "invalid_batch");
  }
  const owner = b.owner;
  if (owner !== undefined) {
    if (lease !== undefined) fail("owner and lease exclude each other (a shard's lease fences its worker)");
    checkWorkerId(owner, "invalid_batch", "owner");
  }
  const rawControls: unknown = b.controls;
  let controls: ExactBatchControls | undefined;
  if (rawControls !== undefined) {
    if (!isPlainObject(rawControls)) return fail(`controls must be an object, got ${describeValue(rawControls)}`);
    const rate: unknown = rawControls["ratePerSecond"];
    if (rate !== undefined && (typeof rate !== "number" || !Number.isFinite(rate))) fail(`controls.ratePerSecond must be a finite number, got ${describeValue(rate)}`);
    controls = typeof rate === "number" ? { ratePerSecond: rate } : {};
  }
  const listCancelled: unknown = b.listCancelled;
  if (listCancelled !== undefined && typeof listCancelled !== "boolean") fail(`listCancelled must be a boolean, got ${describeValue(listCancelled)}`);
  const window: CheckedShardWindow = {
    environmentId: q.environmentId,
    appId: q.appId,
    functionId: q.functionId,
    ...(q.startedAfter !== undefined ? { startedAfter: q.startedAfter } : {}),
    startedBefore: q.startedBefore,
  };
  const decision: ExactDecision = { match: d.match, error: d.error, nonBoolean: d.nonBoolean };
  return {
    cancellationId: b.cancellationId,
    window,
    ...(q.after !== undefined ? { after: q.after as Cursor } : {}),
    ...(q.until !== undefined ? { until: q.until as Cursor } : {}),
    decision,
    limit: b.limit,
    scanLimit: b.scanLimit,
    counts,
    ...(lease !== undefined ? { lease: { shardNo: lease.shardNo, workerId: lease.workerId, leaseMs: lease.leaseMs } } : {}),
    ...(owner !== undefined ? { owner } : {}),
    ...(controls !== undefined ? { controls } : {}),
    ...(listCancelled === false ? { listCancelled: false } : {}),
  };
}

/** What an exact batch counted of the runs it took, by outcome, before its compare-and-set. */
export interface ExactTally {
  readonly scanned: number;
  /** Runs this job had cancelled before (past a crash's checkpoint). */
  readonly mine: number;
  /** Candidates: matching, non-terminal, not `mine`. */
  readonly cand: number;
  /** Matching runs already finished. */
  readonly skipped: number;
  readonly errors: number;
  readonly nonbool: number;
}

/**
 * A batch's outcome counts from its tally and how many candidates the compare-and-set changed:
 * a candidate found finished by then counts `skipped_terminal`; what is left is `not_matched`.
 */
export function exactBatchCounts(t: ExactTally, cancelledNow: number): OutcomeCounts {
  return {
    scanned: t.scanned,
    cancelled: t.mine + cancelledNow,
    skipped_terminal: t.skipped + t.cand - cancelledNow,
    not_matched: t.scanned - t.mine - t.cand - t.skipped - t.errors - t.nonbool,
    expression_error: t.errors,
    non_boolean: t.nonbool,
  };
}

/** Whether a (checked) predicate holds an `unknown` node. */
function hasUnknown(p: unknown): boolean {
  const node = p as { k: string; xs?: readonly unknown[] };
  if (node.k === "unknown") return true;
  return node.xs !== undefined && node.xs.some(hasUnknown);
}
