/**
 * Exact batches on PostgreSQL ({@link ExactBatchStore.cancelExactBatch}): one statement decides,
 * cancels and checkpoints a batch of a job. Its common table expressions:
 *
 * 1. `job` locks the cancellation row (`FOR UPDATE`, as `commitBatch` does), or for a shard the
 *    shard row, and says whether the worker (or the job's `owner`) still holds its lease; `ok`
 *    holds a row only then.
 * 2. `slice` reads the next `scanLimit` runs of the window in keyset order, with the three
 *    predicates of the decision and two flags: `mine` (cancelled by this job before a crash) and
 *    `und` (the event is kept as `json`, which the predicates cannot read).
 * 3. `ranked` numbers the candidates (matching, non-terminal, not `mine`) and the runs SQL cannot
 *    judge in keyset order; the batch takes the prefix up to the `limit`-th candidate and before
 *    the first run it cannot judge — nothing when `ok` is empty.
 * 4. `upd` cancels the candidates of the prefix; under READ COMMITTED a run changed meanwhile by another
 *    transaction is re-checked against `status IN (non-terminal)`: the compare-and-set.
 * 5. `tally` counts the prefix's runs by outcome, `ck` saves the given counts plus these and the last
 *    run taken as the checkpoint (renewing a shard's lease).
 *
 * All of it is one statement, so one implicit transaction: a crash either keeps the batch with its
 * checkpoint or neither.
 *
 * @module
 */
import { exactBatchCounts, type CheckedExactBatch } from "../exact-checks.js";
import { StoreError, type ExactBatchResult, type OutcomeCounts } from "../types.js";
import type { Database } from "./db.js";
import { renderPostgresPredicate } from "./pushdown.js";
import { NON_TERMINAL_SQL } from "./runs.js";
import { windowConditions } from "./scan.js";

/** The row the statement answers. */
interface ExactRow {
  found: number;
  held: number;
  cancelled: string[];
  scanned: number;
  mine: number;
  cand: number;
  skipped: number;
  errors: number;
  nonbool: number;
  last_started_at: number | null;
  last_id: string | null;
  slice_n: number;
  next_cand: boolean | null;
  next_stop: boolean | null;
  next_id: string | null;
}

/** Cancels one exact batch; see the module comment. */
export async function cancelExactBatch(db: Database, b: CheckedExactBatch): Promise<ExactBatchResult> {
  const conditions = windowConditions(b.window, b.after, b.until);
  if (conditions === undefined) return emptyWindow(db, b);
  const { where, params } = conditions;
  const bind = (value: unknown): string => `$${params.push(value)}`;
  const predicate = (which: "match" | "error" | "nonBoolean"): string => {
    const rendered = renderPostgresPredicate(b.decision[which], params.length);
    if (!rendered.exact) throw new StoreError("invalid_batch", `exact batch: decision.${which} is not exact on PostgreSQL`);
    params.push(...rendered.params);
    return rendered.sql;
  };
  const { runs, cancellations, shards } = db.tables;
  const m = predicate("match");
  const e = predicate("error");
  const nb = predicate("nonBoolean");
  const job = bind(b.cancellationId);
  const lease = b.lease;
  const shardNo = lease === undefined ? "" : bind(lease.shardNo);
  const jobCte =
    lease === undefined
      ? `SELECT ${b.owner === undefined ? "TRUE" : `lease_owner IS NOT DISTINCT FROM ${bind(b.owner)}`} AS held FROM ${cancellations} WHERE id = ${job} FOR UPDATE`
      : `SELECT (status = 'running' AND lease_owner = ${bind(lease.workerId)}) AS held FROM ${shards} ` +
        `WHERE cancellation_id = ${job} AND shard_no = ${shardNo} FOR UPDATE`;
  // Predicates cannot read an event kept as `json` (`event` NULL): such a run stops the batch,
  // unless no predicate reads the event at all (a job without an `if`).
  const readsEvent = [b.decision.match, b.decision.error, b.decision.nonBoolean].some((p) => p.k !== "true" && p.k !== "false");
  const slice =
    `SELECT id, started_at, status, COALESCE(cancellation_id = ${job}, FALSE) AS mine, ${readsEvent ? "event IS NULL" : "FALSE"} AS und, ` +
    `COALESCE(${m}, FALSE) AS m, COALESCE(${e}, FALSE) AS e, COALESCE(${nb}, FALSE) AS nb ` +
    `FROM ${runs} WHERE ${where} ORDER BY started_at, id LIMIT ${bind(b.scanLimit)}`;
  const c = b.counts;
  const target =
    lease === undefined
      ? { table: cancellations, where: `id = ${job}`, renew: "" }
      : {
          table: shards,
          where: `cancellation_id = ${job} AND shard_no = ${shardNo}`,
          renew: `, lease_expires_at = clock_timestamp() + ${bind(lease.leaseMs)} * interval '1 millisecond'`,
        };
  const checkpoint =
    `ck AS (UPDATE ${target.table} SET status = 'running', scanned = ${bind(c.scanned)} + t.scanned, ` +
    `cancelled = ${bind(c.cancelled)} + t.mine + d.n, skipped_terminal = ${bind(c.skipped_terminal)} + t.skipped + (t.cand - d.n), ` +
    `not_matched = ${bind(c.not_matched)} + (t.scanned - t.mine - t.cand - t.skipped - t.errors - t.nonbool), ` +
    `expression_error = ${bind(c.expression_error)} + t.errors, non_boolean = ${bind(c.non_boolean)} + t.nonbool, ` +
    "cursor_started_at = COALESCE((SELECT started_at FROM last), cursor_started_at), cursor_id = COALESCE((SELECT id FROM last), cursor_id), " +
    `updated_at = GREATEST(updated_at, ${bind(db.now())})${target.renew} ` +
    `FROM tally AS t, done AS d WHERE ${target.where} AND EXISTS (SELECT 1 FROM ok) RETURNING 1) `;
  // The window functions run over the index scan's own order (no sort); `ranked` is read three
  // times (the update, the tally, the last run), so it is materialised once.
  const limit = bind(b.limit);
  const inBatch = `k <= ${limit} AND stops = 0`;
  const statement =
    `WITH job AS (${jobCte}), ok AS (SELECT 1 FROM job WHERE held), ` +
    "ranked AS MATERIALIZED (SELECT f.*, count(*) FILTER (WHERE cand) OVER w AS k, count(*) FILTER (WHERE stop) OVER w AS stops, " +
    `row_number() OVER w AS rn FROM (SELECT s.*, (NOT mine AND NOT und AND m AND status IN ${NON_TERMINAL_SQL}) AS cand, ` +
    `(und AND NOT mine) AS stop FROM (${slice}) AS s) AS f WINDOW w AS (ORDER BY started_at, id ROWS UNBOUNDED PRECEDING)), ` +
    `upd AS (UPDATE ${runs} AS r SET status = 'cancelled', cancellation_id = ${job} FROM ranked AS t ` +
    `WHERE r.id = t.id AND t.cand AND t.${inBatch.replace(" AND stops", " AND t.stops")} AND EXISTS (SELECT 1 FROM ok) AND r.status IN ${NON_TERMINAL_SQL} RETURNING r.id), ` +
    `tally AS (SELECT count(*) FILTER (WHERE ${inBatch}) AS scanned, count(*) FILTER (WHERE ${inBatch} AND mine) AS mine, ` +
    `count(*) FILTER (WHERE ${inBatch} AND cand) AS cand, count(*) FILTER (WHERE ${inBatch} AND NOT mine AND m AND NOT cand) AS skipped, ` +
    `count(*) FILTER (WHERE ${inBatch} AND NOT mine AND NOT m AND e) AS errors, ` +
    `count(*) FILTER (WHERE ${inBatch} AND NOT mine AND NOT m AND NOT e AND nb) AS nonbool, ` +
    `COALESCE(max(rn) FILTER (WHERE ${inBatch}), 0) AS last_rn, count(*) AS slice_n FROM ranked WHERE EXISTS (SELECT 1 FROM ok)), ` +
    "last AS (SELECT r.started_at, r.id FROM ranked AS r, tally AS t WHERE r.rn = t.last_rn), done AS (SELECT count(*) AS n FROM upd), " +
    checkpoint +
    "SELECT (SELECT count(*)::integer FROM job) AS found, (SELECT count(*)::integer FROM ok) AS held, " +
    "ARRAY(SELECT id FROM upd) AS cancelled, t.scanned::integer AS scanned, t.mine::integer AS mine, t.cand::integer AS cand, " +
    "t.skipped::integer AS skipped, t.errors::integer AS errors, t.nonbool::integer AS nonbool, " +
    "(SELECT started_at FROM last) AS last_started_at, (SELECT id FROM last) AS last_id, t.slice_n::integer AS slice_n, " +
    "x.cand AS next_cand, x.stop AS next_stop, x.id AS next_id, (SELECT count(*) FROM ck) AS saved " +
    "FROM tally AS t LEFT JOIN ranked AS x ON x.rn = t.last_rn + 1";
  const { rows } = await db.retrying(() => db.pool.query<ExactRow>(statement, params));
  return resultOf(rows[0]!, b.scanLimit);
}

/** The result from the statement's row. */
function resultOf(row: ExactRow, scanLimit: number): ExactBatchResult {
  if (row.found === 0) return { ok: false, reason: "gone" };
  if (row.held === 0) return { ok: false, reason: "lease_lost" };
  const cancelled = row.cancelled;
  const done = cancelled.length;
  const counts = exactBatchCounts(row, done);
  const cursor = row.last_id === null || row.last_started_at === null ? undefined : { startedAt: row.last_started_at, id: row.last_id };
  return {
    ok: true,
    cancelled,
    counts,
    ...(cursor !== undefined ? { cursor } : {}),
    exhausted: row.next_id === null && row.slice_n < scanLimit,
    blocked: row.next_cand === true,
    ...(row.next_stop === true && row.next_id !== null ? { undecided: row.next_id } : {}),
  };
}

/** A window no stored run can be in: only the record's (or lease's) presence is checked. */
async function emptyWindow(db: Database, b: CheckedExactBatch): Promise<ExactBatchResult> {
  const zero: OutcomeCounts = { scanned: 0, cancelled: 0, skipped_terminal: 0, not_matched: 0, expression_error: 0, non_boolean: 0 };
  const lease = b.lease;
  if (lease === undefined) {
    const { rows } = await db.pool.query<{ lease_owner: string | null }>(`SELECT lease_owner FROM ${db.tables.cancellations} WHERE id = $1`, [b.cancellationId]);
    if (rows[0] === undefined) return { ok: false, reason: "gone" };
    if (b.owner !== undefined && rows[0].lease_owner !== b.owner) return { ok: false, reason: "lease_lost" };
    return { ok: true, cancelled: [], counts: zero, exhausted: true, blocked: false };
  }
  const { rows } = await db.pool.query<{ held: boolean }>(
    `SELECT (status = 'running' AND lease_owner = $3) AS held FROM ${db.tables.shards} WHERE cancellation_id = $1 AND shard_no = $2`,
    [b.cancellationId, lease.shardNo, lease.workerId],
  );
  if (rows[0] === undefined) return { ok: false, reason: "gone" };
  if (!rows[0].held) return { ok: false, reason: "lease_lost" };
  return { ok: true, cancelled: [], counts: zero, exhausted: true, blocked: false };
}
