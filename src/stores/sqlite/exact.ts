/**
 * Exact batches on SQLite ({@link ExactBatchStore.cancelExactBatch}): one write transaction
 * (`BEGIN IMMEDIATE`, so nothing else writes meanwhile) of three statements, all decided inside
 * SQLite — JavaScript only carries counts and ids from one statement to the next:
 *
 * 1. `SELECT`s count the runs taken by outcome and list the candidates among them (matching,
 *    non-terminal, not already cancelled by this job): chunks of the window no longer than the
 *    candidates the batch may still cancel (see {@link inChunks}), or, for a batch that may
 *    cancel none, the runs before the next candidate (a window function, see {@link upToCandidate}).
 * 2. An `UPDATE … RETURNING id` cancels the candidates the `SELECT`s listed (a JSON array of ids),
 *    through the `runs_id` index (the transaction holds the write lock, so they are as counted).
 * 3. The checkpoint: the given counts plus the batch's, and the last run taken as the cursor.
 *
 * @module
 */
import type { Database as SqliteDatabase, Statement } from "better-sqlite3";
import type { CheckedExactBatch } from "../exact-checks.js";
import { LruCache } from "../sql-common.js";
import { NON_TERMINAL_STATUSES, StoreError, type Cursor, type ExactBatchResult, type OutcomeCounts } from "../types.js";
import { renderSqlitePredicate } from "./pushdown.js";

const NON_TERMINAL_LIST = NON_TERMINAL_STATUSES.map((s) => `'${s}'`).join(", ");

/** Lower bound on `(started_at, id)` that every run lies above (ids are never empty). */
const NO_LOWER_BOUND: Cursor = { startedAt: -(2 ** 53), id: "" };

/** Exact-batch statements kept prepared per database (the SQL text depends on the predicates' shapes). */
const STATEMENTS = new WeakMap<SqliteDatabase, LruCache<string, Statement>>();

/** Statements of exact batches kept prepared per database. */
const CACHE_SIZE = 32;

function prepare(db: SqliteDatabase, sql: string): Statement {
  let cache = STATEMENTS.get(db);
  if (cache === undefined) {
    cache = new LruCache(CACHE_SIZE);
    STATEMENTS.set(db, cache);
  }
  return cache.getOrCreate(sql, () => db.prepare(sql));
}

/** A rendered predicate, required exact. */
function render(b: CheckedExactBatch, which: "match" | "error" | "nonBoolean"): { sql: string; params: unknown[] } {
  const rendered = renderSqlitePredicate(b.decision[which]);
  if (!rendered.exact) throw new StoreError("invalid_batch", `exact batch: decision.${which} is not exact on SQLite`);
  return { sql: rendered.sql, params: [...rendered.params] };
}

/** What the statements of a batch share: the job, the rendered decision, the window. */
interface BatchSql {
  readonly b: CheckedExactBatch;
  /** The rows' outcome flags: `mine`, `m`, `e`, `nb` (and their parameters, in text order). */
  readonly flags: string;
  readonly flagParams: readonly unknown[];
  readonly scope: readonly unknown[];
  /** `started_at <= ?` of the window and its `until`, with their parameters. */
  readonly end: string;
  readonly endParams: readonly unknown[];
}

/** Counts of runs taken, by outcome flags, and the candidates among them. */
interface Tally {
  scanned: number;
  mine: number;
  cand: number;
  skipped: number;
  errors: number;
  nonbool: number;
  candidates: string[];
}

/** The columns a tally sums, over rows with the flags of {@link BatchSql} and `cand`. */
const TALLY_COLUMNS =
  "count(*), sum(mine), sum(cand), sum(NOT mine AND m AND NOT cand), sum(NOT mine AND NOT m AND e), " +
  "sum(NOT mine AND NOT m AND NOT e AND nb), json_group_array(id) FILTER (WHERE cand)";

type TallyColumns = [number, number | null, number | null, number | null, number | null, number | null, string];

function addTally(into: Tally, row: TallyColumns): number {
  const [scanned, mine, cand, skipped, errors, nonbool, candidates] = row;
  into.scanned += scanned;
  into.mine += mine ?? 0;
  into.cand += cand ?? 0;
  into.skipped += skipped ?? 0;
  into.errors += errors ?? 0;
  into.nonbool += nonbool ?? 0;
  if ((cand ?? 0) > 0) into.candidates.push(...(JSON.parse(candidates) as string[]));
  return cand ?? 0;
}

/**
 * Cancels one exact batch (see the module comment) inside the caller's immediate transaction;
 * `now` stamps the record's `updated_at`.
 */
export function cancelExactBatchSync(db: SqliteDatabase, b: CheckedExactBatch, now: number): ExactBatchResult {
  const job = prepare(db, "SELECT lease_owner FROM cancellations WHERE id = ?").raw(true).get(b.cancellationId) as [string | null] | undefined;
  if (job === undefined) return { ok: false, reason: "gone" };
  // A job run under a lease (the service's) changes nothing once another process took it over.
  if (b.owner !== undefined && job[0] !== b.owner) return { ok: false, reason: "lease_lost" };
  const w = b.window;
  let lower = w.startedAfter === undefined ? NO_LOWER_BOUND : { startedAt: w.startedAfter, id: "" };
  if (b.after !== undefined && (b.after.startedAt > lower.startedAt || (b.after.startedAt === lower.startedAt && b.after.id > lower.id))) lower = b.after;
  const m = render(b, "match");
  const e = render(b, "error");
  const nb = render(b, "nonBoolean");
  const sql: BatchSql = {
    b,
    flags: `IFNULL(cancellation_id = ?, 0) AS mine, (${m.sql}) AS m, (${e.sql}) AS e, (${nb.sql}) AS nb`,
    flagParams: [b.cancellationId, ...m.params, ...e.params, ...nb.params],
    scope: [w.environmentId, w.appId, w.functionId],
    end: `started_at <= ?${b.until === undefined ? "" : " AND (started_at, id) <= (?, ?)"}`,
    endParams: [w.startedBefore, ...(b.until !== undefined ? [b.until.startedAt, b.until.id] : [])],
  };
  const tally: Tally = { scanned: 0, mine: 0, cand: 0, skipped: 0, errors: 0, nonbool: 0, candidates: [] };
  const taken = b.limit === 0 ? upToCandidate(db, sql, lower, tally) : inChunks(db, sql, lower, tally);
  const cancelled: string[] = [];
  if (tally.cand > 0) {
    // The candidates by id (the `runs_id` index): only they are visited, and the predicate is not
    // evaluated again. The write lock is held since the SELECT, so all are still non-terminal.
    const update = prepare(
      db,
      `UPDATE runs SET status = 'cancelled', cancellation_id = ? WHERE id IN (SELECT value FROM json_each(?)) AND status IN (${NON_TERMINAL_LIST}) RETURNING id`,
    );
    for (const r of update.raw(true).all(b.cancellationId, JSON.stringify(tally.candidates)) as [string][]) cancelled.push(r[0]);
  }
  const counts: OutcomeCounts = {
    scanned: tally.scanned,
    cancelled: tally.mine + cancelled.length,
    skipped_terminal: tally.skipped + tally.cand - cancelled.length,
    not_matched: tally.scanned - tally.mine - tally.cand - tally.skipped - tally.errors - tally.nonbool,
    expression_error: tally.errors,
    non_boolean: tally.nonbool,
  };
  const last = taken.last;
  saveCheckpoint(db, b, counts, last, now);
  return { ok: true, cancelled, counts, ...(last !== undefined ? { cursor: last } : {}), exhausted: taken.exhausted, blocked: taken.blocked };
}

/** Where the runs a batch took end, and why. */
interface Taken {
  readonly last: Cursor | undefined;
  readonly exhausted: boolean;
  readonly blocked: boolean;
}

/**
 * A batch with room for candidates: chunks of the window, each no longer than the candidates it
 * may still cancel (so none needs cutting), each bounded by its last run found by walking the
 * window key (`OFFSET`, no event read), then tallied in one aggregate. Stops once `limit`
 * candidates are taken (right after the last of them), `scanLimit` runs read, or the window ends.
 */
function inChunks(db: SqliteDatabase, sql: BatchSql, from: Cursor, tally: Tally): Taken {
  const { b } = sql;
  const walk = prepare(
    db,
    `SELECT started_at, id FROM runs WHERE environment_id = ? AND app_id = ? AND function_id = ? AND (started_at, id) > (?, ?) AND ${sql.end} ` +
      "ORDER BY started_at, id LIMIT 2 OFFSET ?",
  );
  // `LIMIT -1` keeps SQLite from flattening the inner query into the aggregate, which would
  // evaluate the predicates once per reference to a flag (five times a row, 2.3× the time).
  const tallyOf = (upper: string): Statement =>
    prepare(
      db,
      `SELECT ${TALLY_COLUMNS} FROM (SELECT *, (NOT mine AND m AND status IN (${NON_TERMINAL_LIST})) AS cand FROM ` +
        `(SELECT id, status, ${sql.flags} FROM runs WHERE environment_id = ? AND app_id = ? AND function_id = ? AND (started_at, id) > (?, ?) AND ${upper} LIMIT -1))`,
    );
  let lower = from;
  let last: Cursor | undefined;
  let budget = b.limit;
  let read = 0;
  while (budget > 0 && read < b.scanLimit) {
    const size = Math.min(budget, b.scanLimit - read);
    const ends = walk.raw(true).all(...sql.scope, lower.startedAt, lower.id, ...sql.endParams, size - 1) as [number, string][];
    if (ends.length === 0) {
      // Fewer than `size` runs are left: the rest of the window, and its last run.
      const rest = tallyOf(sql.end).raw(true).get(...sql.flagParams, ...sql.scope, lower.startedAt, lower.id, ...sql.endParams) as TallyColumns;
      addTally(tally, rest);
      if (rest[0] > 0) {
        const end = prepare(
          db,
          `SELECT started_at, id FROM runs WHERE environment_id = ? AND app_id = ? AND function_id = ? AND (started_at, id) > (?, ?) AND ${sql.end} ` +
            "ORDER BY started_at DESC, id DESC LIMIT 1",
        ).raw(true).get(...sql.scope, lower.startedAt, lower.id, ...sql.endParams) as [number, string];
        last = { startedAt: end[0], id: end[1] };
      }
      return { last, exhausted: true, blocked: false };
    }
    const end = ends[0]!;
    // Bounded by its last run alone: with `started_at <= ?` beside it, SQLite would end the index
    // range at the window's end (see the store's prefiltered scan).
    const row = tallyOf("(started_at, id) <= (?, ?)").raw(true).get(...sql.flagParams, ...sql.scope, lower.startedAt, lower.id, end[0], end[1]) as TallyColumns;
    budget -= addTally(tally, row);
    read += size;
    lower = last = { startedAt: end[0], id: end[1] };
    if (ends.length === 1) return { last, exhausted: true, blocked: false };
  }
  return { last, exhausted: false, blocked: false };
}

/**
 * A batch that may cancel nothing (`limit` 0, a `maxRuns` reached): the runs before the next
 * candidate, at most `scanLimit`, found with a running count of candidates (a window function).
 */
function upToCandidate(db: SqliteDatabase, sql: BatchSql, lower: Cursor, tally: Tally): Taken {
  const row = prepare(
    db,
    `WITH slice AS MATERIALIZED (SELECT id, started_at, status, ${sql.flags} FROM runs ` +
      `WHERE environment_id = ? AND app_id = ? AND function_id = ? AND (started_at, id) > (?, ?) AND ${sql.end} ORDER BY started_at, id LIMIT ?), ` +
      `flagged AS (SELECT *, (NOT mine AND m AND status IN (${NON_TERMINAL_LIST})) AS cand FROM slice), ` +
      "ranked AS MATERIALIZED (SELECT *, sum(cand) OVER w AS k, row_number() OVER w AS rn FROM flagged " +
      "WINDOW w AS (ORDER BY started_at, id ROWS UNBOUNDED PRECEDING)) " +
      // One max() aggregate: the bare columns started_at and id come from the row with the largest rn.
      `SELECT ${TALLY_COLUMNS}, max(rn), started_at, id, (SELECT count(*) FROM ranked) FROM ranked WHERE k <= 0`,
  )
    .raw(true)
    .get(...sql.flagParams, ...sql.scope, lower.startedAt, lower.id, ...sql.endParams, sql.b.scanLimit) as [...TallyColumns, number | null, number | null, string | null, number];
  addTally(tally, row.slice(0, 7) as TallyColumns);
  const [scanned, , , , , , , , lastStartedAt, lastId, sliceRows] = row;
  const last = scanned > 0 && lastStartedAt !== null && lastId !== null ? { startedAt: lastStartedAt, id: lastId } : undefined;
  return { last, exhausted: sliceRows === scanned && sliceRows < sql.b.scanLimit, blocked: sliceRows > scanned };
}

/** Saves the given counts plus the batch's and the cursor (status `running`). */
function saveCheckpoint(db: SqliteDatabase, b: CheckedExactBatch, counts: OutcomeCounts, last: Cursor | undefined, now: number): void {
  const c = b.counts;
  prepare(
    db,
    `UPDATE cancellations SET status = 'running', scanned = ?, cancelled = ?, skipped_terminal = ?, not_matched = ?,
       expression_error = ?, non_boolean = ?, cursor_started_at = coalesce(?, cursor_started_at), cursor_id = coalesce(?, cursor_id),
       updated_at = max(updated_at, ?) WHERE id = ?`,
  ).run(
    c.scanned + counts.scanned,
    c.cancelled + counts.cancelled,
    c.skipped_terminal + counts.skipped_terminal,
    c.not_matched + counts.not_matched,
    c.expression_error + counts.expression_error,
    c.non_boolean + counts.non_boolean,
    last?.startedAt ?? null,
    last?.id ?? null,
    now,
    b.cancellationId,
  );
}
