/**
 * Exact batches on SQLite ({@link ExactBatchStore.cancelExactBatch}): one write transaction
 * (`BEGIN IMMEDIATE`, so nothing else writes meanwhile) of three statements, all decided inside
 * SQLite — JavaScript only carries the counts from one statement to the next:
 *
 * 1. A `SELECT` over the next `scanLimit` runs of the window in keyset order numbers the
 *    candidates (matching, non-terminal, not already cancelled by this job) with a window
 *    function and counts, by outcome, the prefix up to the `limit`-th candidate; it also answers
 *    the last run of that prefix and how many runs the slice held.
 * 2. An `UPDATE … RETURNING id` cancels the candidates of that keyset range, by the same
 *    predicate (the transaction holds the write lock, so the set is the one just counted).
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

/** The aggregate row of step 1. */
type TallyRow = [
  scanned: number,
  mine: number | null,
  cand: number | null,
  skipped: number | null,
  errors: number | null,
  nonbool: number | null,
  lastRn: number | null,
  lastStartedAt: number | null,
  lastId: string | null,
  sliceRows: number,
];

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

/**
 * Cancels one exact batch (see the module comment) inside the caller's immediate transaction;
 * `now` stamps the record's `updated_at`.
 */
export function cancelExactBatchSync(db: SqliteDatabase, b: CheckedExactBatch, now: number): ExactBatchResult {
  if (prepare(db, "SELECT 1 FROM cancellations WHERE id = ?").get(b.cancellationId) === undefined) return { ok: false, reason: "gone" };
  const w = b.window;
  let lower = w.startedAfter === undefined ? NO_LOWER_BOUND : { startedAt: w.startedAfter, id: "" };
  if (b.after !== undefined && (b.after.startedAt > lower.startedAt || (b.after.startedAt === lower.startedAt && b.after.id > lower.id))) lower = b.after;
  const m = render(b, "match");
  const e = render(b, "error");
  const nb = render(b, "nonBoolean");
  const scope = [w.environmentId, w.appId, w.functionId];
  const until = b.until === undefined ? "" : " AND (started_at, id) <= (?, ?)";
  const select =
    `WITH slice AS MATERIALIZED (SELECT id, started_at, status, IFNULL(cancellation_id = ?, 0) AS mine, ` +
    `(${m.sql}) AS m, (${e.sql}) AS e, (${nb.sql}) AS nb FROM runs ` +
    `WHERE environment_id = ? AND app_id = ? AND function_id = ? AND (started_at, id) > (?, ?) AND started_at <= ?${until} ` +
    "ORDER BY started_at, id LIMIT ?), " +
    `flagged AS (SELECT *, (NOT mine AND m AND status IN (${NON_TERMINAL_LIST})) AS cand FROM slice), ` +
    "ranked AS MATERIALIZED (SELECT *, sum(cand) OVER w AS k, row_number() OVER w AS rn FROM flagged " +
    "WINDOW w AS (ORDER BY started_at, id ROWS UNBOUNDED PRECEDING)) " +
    // One max() aggregate: the bare columns started_at and id come from the row with the largest rn.
    "SELECT count(*), sum(mine), sum(cand), sum(NOT mine AND m AND NOT cand), sum(NOT mine AND NOT m AND e), " +
    "sum(NOT mine AND NOT m AND NOT e AND nb), max(rn), started_at, id, (SELECT count(*) FROM ranked) FROM ranked WHERE k <= ?";
  const params = [
    b.cancellationId,
    ...m.params,
    ...e.params,
    ...nb.params,
    ...scope,
    lower.startedAt,
    lower.id,
    w.startedBefore,
    ...(b.until !== undefined ? [b.until.startedAt, b.until.id] : []),
    b.scanLimit,
    b.limit,
  ];
  const row = prepare(db, select).raw(true).get(...params) as TallyRow;
  const [scanned, mine, cand, skipped, errors, nonbool, , lastStartedAt, lastId, sliceRows] = row;
  const last: Cursor | undefined = scanned > 0 && lastStartedAt !== null && lastId !== null ? { startedAt: lastStartedAt, id: lastId } : undefined;
  const cancelled: string[] = [];
  if ((cand ?? 0) > 0 && last !== undefined) {
    const update = prepare(
      db,
      `UPDATE runs SET status = 'cancelled', cancellation_id = ? WHERE environment_id = ? AND app_id = ? AND function_id = ? ` +
        `AND (started_at, id) > (?, ?) AND (started_at, id) <= (?, ?) AND status IN (${NON_TERMINAL_LIST}) ` +
        `AND IFNULL(cancellation_id <> ?, 1) AND (${m.sql}) RETURNING id`,
    );
    const rows = update.raw(true).all(b.cancellationId, ...scope, lower.startedAt, lower.id, last.startedAt, last.id, b.cancellationId, ...m.params) as [string][];
    for (const r of rows) cancelled.push(r[0]);
  }
  const counts: OutcomeCounts = {
    scanned,
    cancelled: (mine ?? 0) + cancelled.length,
    skipped_terminal: (skipped ?? 0) + (cand ?? 0) - cancelled.length,
    not_matched: scanned - (mine ?? 0) - (cand ?? 0) - (skipped ?? 0) - (errors ?? 0) - (nonbool ?? 0),
    expression_error: errors ?? 0,
    non_boolean: nonbool ?? 0,
  };
  saveCheckpoint(db, b, counts, last, now);
  return {
    ok: true,
    cancelled,
    counts,
    ...(last !== undefined ? { cursor: last } : {}),
    exhausted: sliceRows === scanned && sliceRows < b.scanLimit,
    blocked: sliceRows > scanned,
  };
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
