/**
 * Window scans of the PostgreSQL store: the `WHERE` conditions of a window, the statements of one
 * page (plain, or filtered by a pushdown predicate), and a page built from the filtered rows.
 *
 * @module
 */
import type { QueryResultRow } from "pg";
import type { CheckedScanQuery, CheckedShardWindow } from "../checks.js";
import { type Cursor, type RunRecord, type ScanPage } from "../types.js";
import { fitsText, type Tables } from "./db.js";
import { renderPostgresPredicate } from "./pushdown.js";
import { SCAN_COLUMNS, scanRowToRun, type ScanRow, type ScanScope } from "./rows.js";

/** A row of a pushdown slice. */
export interface PushdownRunRow extends ScanRow, QueryResultRow {
  /** Position of the row in the slice, from 1. */
  rn: number;
  /** Whether the pushdown predicate kept the row. */
  hit: boolean;
}

/** The statements of one scan page. */
export interface ScanPlan {
  readonly limit: number;
  /** Environment, app and function of every run the scan returns. */
  readonly scope: ScanScope;
  /** The window without the pushdown predicate. */
  readonly plain: { readonly sql: string; readonly params: unknown[] };
  /** The window filtered by the pushdown predicate, when there is one. */
  readonly pushdown?: { readonly sql: string; readonly params: unknown[] };
}

/**
 * The `WHERE` conditions (and their parameters, numbered from `$1`) selecting a function's runs
 * of a window, strictly after `after` and at or before `until`; `undefined` when no stored run
 * can match.
 */
export function windowConditions(q: CheckedShardWindow, after?: Cursor, until?: Cursor): { where: string; params: unknown[] } | undefined {
  // Text PostgreSQL cannot hold was never stored, so no run matches it.
  if (!fitsText(q.environmentId) || !fitsText(q.appId) || !fitsText(q.functionId)) return undefined;
  // Bounds may be fractional: the window holds the integer times inside them.
  const startedBefore = Math.floor(q.startedBefore);
  const startedAfter = q.startedAfter === undefined ? undefined : Math.ceil(q.startedAfter);
  if (startedAfter !== undefined && startedAfter > startedBefore) return undefined;
  if (!Number.isSafeInteger(startedBefore) && startedBefore < 0) return undefined;
  if (startedAfter !== undefined && !Number.isSafeInteger(startedAfter) && startedAfter > 0) return undefined;

  const params: unknown[] = [];
  const bind = (value: unknown): string => `$${params.push(value)}`;
  let where =
    `environment_id = ${bind(q.environmentId)} AND app_id = ${bind(q.appId)} AND function_id = ${bind(q.functionId)}`;
  if (Number.isSafeInteger(startedBefore)) where += ` AND started_at <= ${bind(startedBefore)}`;
  if (startedAfter !== undefined && Number.isSafeInteger(startedAfter)) where += ` AND started_at >= ${bind(startedAfter)}`;
  if (after !== undefined) {
    // A cursor time between integers sits just after the run times below it.
    const afterTime = Math.floor(after.startedAt);
    const afterId = afterTime === after.startedAt ? after.id : "\u007f";
    if (afterTime > Number.MAX_SAFE_INTEGER) return undefined;
    if (afterTime >= Number.MIN_SAFE_INTEGER) where += ` AND (started_at, id) > (${bind(afterTime)}, ${bind(afterId)})`;
  }
  if (until !== undefined) {
    // Likewise an upper bound between integers holds every run of the time below it ("\u007f"
    // sorts after every valid id).
    const untilTime = Math.floor(until.startedAt);
    const untilId = untilTime === until.startedAt ? until.id : "\u007f";
    if (untilTime < Number.MIN_SAFE_INTEGER) return undefined;
    if (untilTime <= Number.MAX_SAFE_INTEGER) where += ` AND (started_at, id) <= (${bind(untilTime)}, ${bind(untilId)})`;
  }
  return { where, params };
}

/** The statements of a scan page; `undefined` when no stored run can match. */
export function planScan(runs: Tables["runs"], q: CheckedScanQuery): ScanPlan | undefined {
  const conditions = windowConditions(q, q.after, q.until);
  if (conditions === undefined) return undefined;
  const { where, params } = conditions;
  const bind = (value: unknown): string => `$${params.push(value)}`;
  const window = `SELECT ${SCAN_COLUMNS} FROM ${runs} WHERE ${where} ORDER BY started_at, id`;
  const windowParams = params.length;
  const limit = q.limit;
  const scope: ScanScope = { environmentId: q.environmentId, appId: q.appId, functionId: q.functionId };
  const plain = { sql: `${window} LIMIT $${windowParams + 1}`, params: [...params, limit + 1] };
  if (q.pushdown === undefined) return { limit, scope, plain };

  // The predicate's placeholders follow the window's.
  const predicate = renderPostgresPredicate(q.pushdown.predicate, windowParams);
  params.push(...predicate.params);
  // The slice is the next `limit + 1` rows of the window (an index range scan with a LIMIT);
  // the predicate only filters it. Rows 1..limit are the page; row limit + 1, when present,
  // only proves that the window goes on. Rows `limit` and `limit + 1` always come back (kept or
  // not), for the cursor; so does the slice's last row when the slice is short (then it is the
  // window's last row, found by one backward index probe, in the same snapshot), for the count
  // of dropped rows. Only `row_number()` runs over the slice: a window function that looks
  // ahead (`lead`) would make PostgreSQL buffer the whole slice, events included.
  const sql =
    `SELECT ${SCAN_COLUMNS}, rn, hit FROM (` +
    "SELECT w.*, row_number() OVER (ORDER BY w.started_at, w.id) AS rn, " +
    `(w.event IS NULL OR (${predicate.sql}) IS NOT FALSE) AS hit ` +
    `FROM (${window} LIMIT ${bind(limit + 1)}) AS w` +
    `) AS slice WHERE hit OR rn >= ${bind(limit)} OR (started_at, id) = ` +
    `(SELECT started_at, id FROM ${runs} WHERE ${where} ORDER BY started_at DESC, id DESC LIMIT 1) ORDER BY rn`;
  return { limit, scope, plain, pushdown: { sql, params } };
}

/** Builds a page from the rows of a pushdown slice (see {@link planScan}). */
export function pushdownPage(rows: readonly PushdownRunRow[], limit: number, scope: ScanScope): ScanPage {
  const runs: RunRecord[] = [];
  let read = 0;
  let boundary: PushdownRunRow | undefined;
  let more = false;
  for (const row of rows) {
    if (row.rn > limit) {
      more = true;
      continue;
    }
    read = Math.max(read, row.rn);
    if (row.rn === limit) boundary = row;
    if (row.hit) runs.push(scanRowToRun(row, scope));
  }
  const prefiltered = read - runs.length;
  return more && boundary !== undefined
    ? { runs, next: { startedAt: boundary.started_at, id: boundary.id }, prefiltered }
    : { runs, prefiltered };
}
