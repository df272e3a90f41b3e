/**
 * Exact batches on PostgreSQL ({@link ExactBatchStore.cancelExactBatch}): one statement decides,
 * cancels and checkpoints a batch of a job. Most batches take their whole slice (it holds no more
 * than `limit` candidates: the exact loop sizes it so), and a lighter statement does them
 * ({@link wholeSliceStatement}); when it declines, the ranked statement below does the batch. The
 * ranked statement's common table expressions:
 *
 * 1. `job` locks the cancellation row (`FOR UPDATE`, as `commitBatch` does), or for a shard the
 *    shard row, and says whether the worker (or the job's `owner`) still holds its lease and
 *    whether the job's controls are still the batch's `controls`; `ok` holds a row only then.
 * 2. `ranked` reads the next `scanLimit` runs of the window in keyset order, each with its outcome
 *    code (see {@link OUTCOME}: one lazy `CASE`, shared with the whole-slice statement), and
 *    numbers the candidates (matching, non-terminal, not cancelled by this job before a crash) and
 *    the runs SQL cannot judge (the event is kept as `json`, which the predicates cannot read); the
 *    batch takes the prefix up to the `limit`-th candidate and before the first run it cannot
 *    judge — nothing when `ok` is empty.
 * 3. `upd` cancels the candidates of the prefix; under READ COMMITTED a run changed meanwhile by another
 *    transaction is re-checked against `status IN (non-terminal)`: the compare-and-set.
 * 4. `tally` counts the prefix's runs by outcome, `ck` saves the given counts plus these and the last
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
import { pausedSql } from "./rows.js";
import { NON_TERMINAL_SQL } from "./runs.js";
import { windowConditions } from "./scan.js";

/** The row a batch statement answers. */
interface ExactRow {
  found: number;
  held: number;
  /** Whether the job's controls are the batch's `controls` (1 without them). */
  ctl: number;
  /** Whether the batch took its runs (the whole-slice statement may take none and leave it to the ranked one). */
  taken: number;
  /** The cancelled runs' ids, one per line (ids are printable ASCII); `null` for none. */
  cancelled: string | null;
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

/**
 * A run's outcome code `o` in both statements, decided in the order of the scan loop:
 * cancelled by this job before, stops the batch (an event SQL cannot read), a candidate, matching
 * but finished, an error, a non-boolean, not matched. One `CASE` evaluates the predicates lazily.
 */
const OUTCOME = { mine: 0, cand: 1, skipped: 2, error: 3, nonBoolean: 4, notMatched: 5, stop: 6 } as const;

/** What both statements of a batch share, with the parameters bound so far. */
interface BatchSql {
  readonly b: CheckedExactBatch;
  readonly params: unknown[];
  readonly bind: (value: unknown) => string;
  /** A run's outcome code (see {@link OUTCOME}): one `CASE` over the rendered predicates. */
  readonly outcome: string;
  /** The job's placeholder. */
  readonly job: string;
  /** The `job` CTE: one row, `held` and `ctl` (the controls unchanged), when the record (or shard) exists. */
  readonly jobCte: string;
  /** `FROM runs WHERE … ORDER BY started_at, id LIMIT scanLimit`: the slice's rows. */
  readonly sliceFrom: string;
}

/** The seam of the whole-slice statement, for tests. @internal */
export interface ExactStatementOptions {
  /** Try the whole-slice statement first. Default `true`; `false` runs the ranked statement alone. */
  readonly wholeSlice?: boolean;
  /** Told which statement did the batch. Default: none. */
  readonly onStatement?: (which: "whole-slice" | "ranked") => void;
}

/** Cancels one exact batch; see the module comment. */
export async function cancelExactBatch(db: Database, b: CheckedExactBatch, options: ExactStatementOptions = {}): Promise<ExactBatchResult> {
  const shared = batchSql(db, b);
  if (shared === undefined) return emptyWindow(db, b);
  if (b.limit > 0 && options.wholeSlice !== false) {
    const whole = ownParams(shared);
    const row = await run(db, wholeSliceStatement(db, whole), whole.params);
    if (row.found === 0 || row.held === 0 || row.ctl === 0 || row.taken === 1) {
      options.onStatement?.("whole-slice");
      return resultOf(row, b);
    }
  }
  const ranked = ownParams(shared);
  const row = await run(db, rankedStatement(db, ranked), ranked.params);
  options.onStatement?.("ranked");
  return resultOf(row, b);
}

/** `sql` with a parameter list of its own: PostgreSQL refuses a parameter the statement does not use. */
function ownParams(sql: BatchSql): BatchSql {
  const params = [...sql.params];
  return { ...sql, params, bind: (value: unknown): string => `$${params.push(value)}` };
}

async function run(db: Database, statement: string, params: unknown[]): Promise<ExactRow> {
  const { rows } = await db.retrying(() => db.queryPrepared<ExactRow>(statement, params));
  return rows[0]!;
}

/** The shared parts of a batch's statements; `undefined` when no stored run can be in its window. */
function batchSql(db: Database, b: CheckedExactBatch): BatchSql | undefined {
  const conditions = windowConditions(b.window, b.after, b.until);
  if (conditions === undefined) return undefined;
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
  // The controls are read from the record, locked here unless the batch is a shard's.
  const settings = lease === undefined ? "settings" : `(SELECT settings FROM ${cancellations} WHERE id = ${job})`;
  const ctl =
    b.controls === undefined
      ? "TRUE"
      : `COALESCE(NOT (${pausedSql(settings)}), TRUE) AND ` +
        `(${settings} -> 'ratePerSecond') IS NOT DISTINCT FROM ${bind(b.controls.ratePerSecond === undefined ? null : JSON.stringify(b.controls.ratePerSecond))}::jsonb`;
  // A batch whose ids nobody is handed need not wait for its WAL flush (the store's
  // `asyncBatchCommits`): a server crash undoes it whole with its checkpoint, and the job redoes it.
  // `set_config(…, true)` is `SET LOCAL`: it holds until this statement's transaction commits.
  const commitMode = db.asyncBatchCommits && b.listCancelled === false ? ", set_config('synchronous_commit', 'off', true) AS async" : "";
  const jobCte =
    lease === undefined
      ? `SELECT ${b.owner === undefined ? "TRUE" : `lease_owner IS NOT DISTINCT FROM ${bind(b.owner)}`} AS held, ${ctl} AS ctl${commitMode} FROM ${cancellations} WHERE id = ${job} FOR UPDATE`
      : `SELECT (status = 'running' AND lease_owner = ${bind(lease.workerId)}) AS held, ${ctl} AS ctl${commitMode} FROM ${shards} ` +
        `WHERE cancellation_id = ${job} AND shard_no = ${bind(lease.shardNo)} FOR UPDATE`;
  // Predicates cannot read an event kept as `json` (`event` NULL): such a run stops the batch,
  // unless no predicate reads the event at all (a job without an `if`).
  const readsEvent = [b.decision.match, b.decision.error, b.decision.nonBoolean].some((p) => p.k !== "true" && p.k !== "false");
  // Lazily, in the scan loop's order: the error and non-boolean tests only for runs that do not match.
  const outcome =
    `CASE WHEN COALESCE(cancellation_id = ${job}, FALSE) THEN ${OUTCOME.mine} ` +
    (readsEvent ? `WHEN event IS NULL THEN ${OUTCOME.stop} ` : "") +
    `WHEN COALESCE(${m}, FALSE) THEN (CASE WHEN status IN ${NON_TERMINAL_SQL} THEN ${OUTCOME.cand} ELSE ${OUTCOME.skipped} END) ` +
    `WHEN COALESCE(${e}, FALSE) THEN ${OUTCOME.error} WHEN COALESCE(${nb}, FALSE) THEN ${OUTCOME.nonBoolean} ELSE ${OUTCOME.notMatched} END`;
  const sliceFrom = `FROM ${runs} WHERE ${where} ORDER BY started_at, id LIMIT ${bind(b.scanLimit)}`;
  return { b, params, bind, outcome, job, jobCte, sliceFrom };
}

/**
 * The `ck` CTE: saves the given counts plus the batch's (`tally AS t`, `done AS d`) and the last
 * run taken (`last`) as the checkpoint, renewing a shard's lease, when `gate` holds a row.
 * PostgreSQL runs it though no part of the query reads it, as every data-modifying CTE.
 */
function checkpointCte(db: Database, sql: BatchSql, gate: string): string {
  const { b, bind, job } = sql;
  const lease = b.lease;
  const target =
    lease === undefined
      ? { table: db.tables.cancellations, where: `id = ${job}`, renew: "" }
      : {
          table: db.tables.shards,
          where: `cancellation_id = ${job} AND shard_no = ${bind(lease.shardNo)}`,
          renew: `, lease_expires_at = clock_timestamp() + ${bind(lease.leaseMs)} * interval '1 millisecond'`,
        };
  const c = b.counts;
  return (
    `ck AS (UPDATE ${target.table} SET status = 'running', scanned = ${bind(c.scanned)} + t.scanned, ` +
    `cancelled = ${bind(c.cancelled)} + t.mine + d.n, skipped_terminal = ${bind(c.skipped_terminal)} + t.skipped + (t.cand - d.n), ` +
    `not_matched = ${bind(c.not_matched)} + (t.scanned - t.mine - t.cand - t.skipped - t.errors - t.nonbool), ` +
    `expression_error = ${bind(c.expression_error)} + t.errors, non_boolean = ${bind(c.non_boolean)} + t.nonbool, ` +
    "cursor_started_at = COALESCE((SELECT started_at FROM last), cursor_started_at), cursor_id = COALESCE((SELECT id FROM last), cursor_id), " +
    `updated_at = GREATEST(updated_at, ${bind(db.now())})${target.renew} ` +
    `FROM tally AS t, done AS d WHERE ${target.where} AND EXISTS (SELECT 1 FROM ${gate}) RETURNING 1)`
  );
}

/**
 * The common case: a batch that takes its whole slice. One aggregate reads the slice once, with
 * each run's outcome code (see {@link OUTCOME}): it counts the runs by outcome, keeps the last run
 * and gathers the candidates' ids and row addresses. Only when the slice holds no more than `limit`
 * candidates and no run SQL cannot judge (`go`) are the candidates cancelled (re-checked against
 * `status IN (non-terminal)`: the compare-and-set under READ COMMITTED) and the checkpoint saved;
 * else nothing changes (`taken` 0) and the ranked statement does the batch. The exact loop sizes
 * `scanLimit` so that this is rare; it saves the window functions and the repeated reads of a
 * ranked slice, about a third of a batch's time.
 */
function wholeSliceStatement(db: Database, sql: BatchSql): string {
  const { b, bind, job } = sql;
  const count = (code: number): string => `count(*) FILTER (WHERE o = ${code})`;
  return (
    `WITH job AS (${sql.jobCte}), ok AS (SELECT 1 FROM job WHERE held AND ctl), ` +
    // One pass, no materialised slice (reading one back three times cost about a tenth of a batch). A
    // subquery with a LIMIT is never flattened, so the aggregate gets the runs in keyset order and
    // the last id it gathers is the last run's.
    `tally AS (SELECT count(*) AS scanned, ${count(OUTCOME.mine)} AS mine, ${count(OUTCOME.cand)} AS cand, ${count(OUTCOME.skipped)} AS skipped, ` +
    `${count(OUTCOME.error)} AS errors, ${count(OUTCOME.nonBoolean)} AS nonbool, ${count(OUTCOME.stop)} AS stops, ` +
    // The last id as the last line of the ids joined (ids are printable ASCII): appending text costs
    // less than building an array, which copies each short id out to a full-length value first.
    `max(started_at) AS last_at, split_part(string_agg(id, E'\\n'), E'\\n', -1) AS last_id, ` +
    `array_agg(id) FILTER (WHERE o = ${OUTCOME.cand}) AS cands, array_agg(ctid) FILTER (WHERE o = ${OUTCOME.cand}) AS tids ` +
    `FROM (SELECT id, ctid, started_at, ${sql.outcome} AS o ${sql.sliceFrom}) AS s), ` +
    `go AS (SELECT 1 FROM ok, tally WHERE cand <= ${bind(b.limit)} AND stops = 0), ` +
    "last AS (SELECT last_at AS started_at, last_id AS id FROM tally WHERE last_at IS NOT NULL), " +
    `${cancelCandidatesCtes(db, job)}, ` +
    "done AS (SELECT (SELECT count(*) FROM upd) + (SELECT count(*) FROM moved) AS n), " +
    `${checkpointCte(db, sql, "go")} ` +
    "SELECT (SELECT count(*)::integer FROM job) AS found, (SELECT count(*)::integer FROM job WHERE held) AS held, (SELECT count(*)::integer FROM ok) AS ctl, (SELECT count(*)::integer FROM go) AS taken, " +
    "(SELECT string_agg(id, E'\\n') FROM (SELECT id FROM upd UNION ALL SELECT id FROM moved) AS c) AS cancelled, " +
    "t.scanned::integer AS scanned, t.mine::integer AS mine, t.cand::integer AS cand, " +
    "t.skipped::integer AS skipped, t.errors::integer AS errors, t.nonbool::integer AS nonbool, " +
    "(SELECT started_at FROM last) AS last_started_at, (SELECT id FROM last) AS last_id, t.scanned::integer AS slice_n, " +
    "NULL::boolean AS next_cand, NULL::boolean AS next_stop, NULL::text AS next_id FROM tally AS t"
  );
}

/**
 * The whole-slice statement's `upd` and `moved` CTEs: cancel the candidates `tally` gathered, when
 * `go` holds a row. Each is reached at its row address (`ctid`: no primary-key descent, about a
 * twentieth of a batch's time). A candidate another transaction updated after this statement's
 * snapshot is no longer at that address, and PostgreSQL 15 skips it there rather than following it
 * (older releases follow it), so `moved` finds the candidates `upd` missed again by id, where the
 * update does follow the row to its current version and re-checks its status. (An update of the slice's stretch of the window,
 * bounded by `last`, was planned as a scan of the whole rest of the window, batch after batch.)
 */
function cancelCandidatesCtes(db: Database, job: string): string {
  const cancel = `UPDATE ${db.tables.runs} AS r SET status = 'cancelled', cancellation_id = ${job}`;
  const guard = `EXISTS (SELECT 1 FROM go) AND r.status IN ${NON_TERMINAL_SQL} RETURNING r.id`;
  return (
    `upd AS (${cancel} WHERE r.ctid = ANY ((SELECT tids FROM tally)::tid[]) AND ${guard}), ` +
    `moved AS (${cancel} WHERE r.id = ANY (CASE WHEN (SELECT count(*) FROM upd) < (SELECT cand FROM tally) ` +
    `THEN ARRAY(SELECT unnest(cands) FROM tally EXCEPT SELECT id FROM upd) END) AND ${guard})`
  );
}

/**
 * Any batch: the slice's candidates and the runs SQL cannot judge are ranked in keyset order, and
 * the batch takes the prefix up to the `limit`-th candidate and before the first run it cannot
 * judge (steps 3–5 of the module comment).
 */
function rankedStatement(db: Database, sql: BatchSql): string {
  const { b, bind, job } = sql;
  const limit = bind(b.limit);
  const is = (code: number, alias = ""): string => `${alias}o = ${code}`;
  // The window functions run over the index scan's own order (no sort); `ranked` is read three
  // times (the update, the tally, the last run), so it is materialised once.
  const inBatch = `k <= ${limit} AND stops = 0`;
  const count = (code: number): string => `count(*) FILTER (WHERE ${inBatch} AND ${is(code)})`;
  return (
    `WITH job AS (${sql.jobCte}), ok AS (SELECT 1 FROM job WHERE held AND ctl), ` +
    `ranked AS MATERIALIZED (SELECT s.*, count(*) FILTER (WHERE ${is(OUTCOME.cand)}) OVER w AS k, count(*) FILTER (WHERE ${is(OUTCOME.stop)}) OVER w AS stops, ` +
    `row_number() OVER w AS rn FROM (SELECT id, started_at, ${sql.outcome} AS o ${sql.sliceFrom}) AS s ` +
    "WINDOW w AS (ORDER BY started_at, id ROWS UNBOUNDED PRECEDING)), " +
    `upd AS (UPDATE ${db.tables.runs} AS r SET status = 'cancelled', cancellation_id = ${job} FROM ranked AS t ` +
    `WHERE r.id = t.id AND ${is(OUTCOME.cand, "t.")} AND t.k <= ${limit} AND t.stops = 0 AND EXISTS (SELECT 1 FROM ok) AND r.status IN ${NON_TERMINAL_SQL} RETURNING r.id), ` +
    `tally AS (SELECT count(*) FILTER (WHERE ${inBatch}) AS scanned, ${count(OUTCOME.mine)} AS mine, ${count(OUTCOME.cand)} AS cand, ` +
    `${count(OUTCOME.skipped)} AS skipped, ${count(OUTCOME.error)} AS errors, ${count(OUTCOME.nonBoolean)} AS nonbool, ` +
    `COALESCE(max(rn) FILTER (WHERE ${inBatch}), 0) AS last_rn, count(*) AS slice_n FROM ranked WHERE EXISTS (SELECT 1 FROM ok)), ` +
    "last AS (SELECT r.started_at, r.id FROM ranked AS r, tally AS t WHERE r.rn = t.last_rn), done AS (SELECT count(*) AS n FROM upd), " +
    `${checkpointCte(db, sql, "ok")} ` +
    "SELECT (SELECT count(*)::integer FROM job) AS found, (SELECT count(*)::integer FROM job WHERE held) AS held, (SELECT count(*)::integer FROM ok) AS ctl, 1 AS taken, " +
    "(SELECT string_agg(id, E'\\n') FROM upd) AS cancelled, t.scanned::integer AS scanned, t.mine::integer AS mine, t.cand::integer AS cand, " +
    "t.skipped::integer AS skipped, t.errors::integer AS errors, t.nonbool::integer AS nonbool, " +
    "(SELECT started_at FROM last) AS last_started_at, (SELECT id FROM last) AS last_id, t.slice_n::integer AS slice_n, " +
    `${is(OUTCOME.cand, "x.")} AS next_cand, ${is(OUTCOME.stop, "x.")} AS next_stop, x.id AS next_id ` +
    "FROM tally AS t LEFT JOIN ranked AS x ON x.rn = t.last_rn + 1"
  );
}

/** The result from the statement's row. */
function resultOf(row: ExactRow, b: CheckedExactBatch): ExactBatchResult {
  if (row.found === 0) return { ok: false, reason: "gone" };
  if (row.held === 0) return { ok: false, reason: "lease_lost" };
  if (row.ctl === 0) return { ok: false, reason: "controls_changed" };
  // Text splits faster than the driver parses a `text[]`.
  const cancelled = row.cancelled === null ? [] : row.cancelled.split("\n");
  const done = cancelled.length;
  const counts = exactBatchCounts(row, done);
  const cursor = row.last_id === null || row.last_started_at === null ? undefined : { startedAt: row.last_started_at, id: row.last_id };
  return {
    ok: true,
    cancelled,
    counts,
    ...(cursor !== undefined ? { cursor } : {}),
    exhausted: row.next_id === null && row.slice_n < b.scanLimit,
    blocked: row.next_cand === true,
    ...(row.next_stop === true && row.next_id !== null ? { undecided: row.next_id } : {}),
    ...(b.controls !== undefined ? { controlsChecked: true } : {}),
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
