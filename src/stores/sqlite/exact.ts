/**
 * Exact batches on SQLite ({@link ExactBatchStore.cancelExactBatch}): one write transaction
 * (`BEGIN IMMEDIATE`, so nothing else writes meanwhile) of a few statements, all decided inside
 * SQLite — JavaScript only carries outcome codes and ids from one statement to the next:
 *
 * 1. The slice (at most `scanLimit` runs) is read in steps of at most `chunkRows` runs
 *    ({@link stepByStep}). A `SELECT` walks the window key to the step's end (no event read), and
 *    one aggregate of the step's key range answers each run's outcome code (one `CASE` over the
 *    decision's predicates, see {@link OUTCOME}) and each candidate's id (matching, non-terminal,
 *    not already cancelled by this job; {@link readStep}). A step that would take the batch past
 *    `limit` candidates is read again in keyset order up to the last candidate the batch may take
 *    ({@link upToLimit}). A batch that may cancel none takes the runs before the next candidate (a
 *    window function, see {@link upToCandidate}).
 * 2. After each step, an `UPDATE` cancels its candidates (the transaction holds the write lock, so
 *    they are as counted, and the batch fails unless it changed exactly as many rows): by id
 *    through the `runs_id` index (a JSON array of ids), or, for a job without an `if`, the step's
 *    stretch in key order ({@link cancelCandidates}).
 * 3. The checkpoint: the given counts plus the batch's, and the last run taken as the cursor.
 *
 * A job without an `if` whose ids nobody needs updates first and counts after instead
 * ({@link cancelStretch}).
 *
 * @module
 */
import type { Database as SqliteDatabase, Statement } from "better-sqlite3";
import { exactBatchCounts, type CheckedExactBatch } from "../exact-checks.js";
import { LruCache, settingsFromColumn } from "../sql-common.js";
import { NON_TERMINAL_STATUSES, StoreError, ZERO_COUNTS, type Cursor, type ExactBatch, type CancellationSettings, type ExactBatchControls, type ExactBatchResult, type OutcomeCounts } from "../types.js";
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
  /** The rows' outcome code `o` (see {@link OUTCOME}) and its parameters, in text order. */
  readonly outcome: string;
  readonly outcomeParams: readonly unknown[];
  /**
   * A run's outcome as a slice's aggregate lists it, with {@link BatchSql.outcomeParams}: a
   * candidate's id as a JSON string, `NULL` for a run not matched (`group_concat` skips it; the
   * slice's count gives it), else the outcome code. Referenced once, so that the predicates are
   * evaluated once per run; the concatenation, in brackets, is a JSON array.
   */
  readonly sliceOutcome: string;
  /** `FROM runs WHERE …`: the window's runs after a cursor; its parameters are {@link keysetParams}. */
  readonly rest: string;
  /** {@link BatchSql.rest} in keyset order (`ORDER BY started_at, id`). */
  readonly keyset: string;
  /** The keyset's parameters but the cursor: the job's scope, then the window's end and `until`. */
  readonly scope: readonly unknown[];
  readonly endParams: readonly unknown[];
}

/** The parameters of {@link BatchSql.rest} and {@link BatchSql.keyset} for the runs after `from`. */
function keysetParams(sql: BatchSql, from: Cursor): unknown[] {
  return [...sql.scope, from.startedAt, from.id, ...sql.endParams];
}

/** Runs an exact batch reads per step by default (see {@link cancelExactBatchSync}). */
export const DEFAULT_CHUNK_ROWS = 1000;

/** Counts of runs taken, by outcome, and the candidates among them (their ids: as many as they are). */
interface Tally {
  readonly scanned: number;
  readonly mine: number;
  readonly skipped: number;
  readonly errors: number;
  readonly nonbool: number;
  readonly candidates: readonly string[];
}

/** The runs a batch took: how they count, and where they end. */
interface Slice {
  readonly tally: Tally;
  readonly taken: Taken;
}

/**
 * A run's outcome code `o`, decided in the order of the scan loop: cancelled by this job before,
 * a candidate, matching but finished, an error, a non-boolean, not matched. One `CASE` evaluates
 * the predicates lazily (an error test only for runs that do not match), once per run.
 */
const OUTCOME = { mine: 0, cand: 1, skipped: 2, error: 3, nonBoolean: 4, notMatched: 5 } as const;

/**
 * The `CASE` of a run's outcome (see {@link OUTCOME}) over the rendered match, error and
 * non-boolean predicates, answering `candidate` for a candidate and `notMatched` for a run not
 * matched (SQL expressions), and the outcome code otherwise. Its parameters: the job's id, then
 * the three predicates'.
 */
function outcomeCase(match: string, error: string, nonBoolean: string, candidate: string, notMatched: string): string {
  return (
    `CASE WHEN IFNULL(cancellation_id = ?, 0) THEN ${OUTCOME.mine} ` +
    `WHEN IFNULL(${match}, 0) THEN (CASE WHEN status IN (${NON_TERMINAL_LIST}) THEN ${candidate} ELSE ${OUTCOME.skipped} END) ` +
    `WHEN IFNULL(${error}, 0) THEN ${OUTCOME.error} WHEN IFNULL(${nonBoolean}, 0) THEN ${OUTCOME.nonBoolean} ELSE ${notMatched} END`
  );
}

/** The columns a tally sums over rows with the outcome code `o`, and the candidates' ids. */
const TALLY_COLUMNS =
  `count(*), sum(o = ${OUTCOME.mine}), sum(o = ${OUTCOME.cand}), sum(o = ${OUTCOME.skipped}), sum(o = ${OUTCOME.error}), ` +
  `sum(o = ${OUTCOME.nonBoolean}), json_group_array(id) FILTER (WHERE o = ${OUTCOME.cand})`;

type TallyColumns = [number, number | null, number | null, number | null, number | null, number | null, string];

function tallyOf(row: TallyColumns): Tally {
  const [scanned, mine, cand, skipped, errors, nonbool, candidates] = row;
  return {
    scanned,
    mine: mine ?? 0,
    skipped: skipped ?? 0,
    errors: errors ?? 0,
    nonbool: nonbool ?? 0,
    candidates: (cand ?? 0) > 0 ? (JSON.parse(candidates) as string[]) : [],
  };
}

/**
 * Cancels one exact batch (see the module comment) inside the caller's immediate transaction;
 * `now` stamps the record's `updated_at`. `chunkRows` (the store's option, default
 * {@link DEFAULT_CHUNK_ROWS}) bounds a step; at `scanLimit` or more a batch is one step. A job ends the same at any value, though a
 * batch in steps may stop sooner after its `limit`-th candidate (see {@link stepByStep}).
 */
export function cancelExactBatchSync(db: SqliteDatabase, b: CheckedExactBatch, now: number, chunkRows: number): ExactBatchResult {
  const job = prepare(db, "SELECT lease_owner, settings FROM cancellations WHERE id = ?").raw(true).get(b.cancellationId) as
    | [string | null, string | null]
    | undefined;
  if (job === undefined) return { ok: false, reason: "gone" };
  // A job run under a lease (the service's) changes nothing once another process took it over.
  if (b.owner !== undefined && job[0] !== b.owner) return { ok: false, reason: "lease_lost" };
  if (b.controls !== undefined && !controlsUnchanged(job[1], b.controls)) return { ok: false, reason: "controls_changed" };
  const w = b.window;
  let lower = w.startedAfter === undefined ? NO_LOWER_BOUND : { startedAt: w.startedAfter, id: "" };
  if (b.after !== undefined && (b.after.startedAt > lower.startedAt || (b.after.startedAt === lower.startedAt && b.after.id > lower.id))) lower = b.after;
  const m = render(b, "match");
  const e = render(b, "error");
  const nb = render(b, "nonBoolean");
  const rest =
    "FROM runs WHERE environment_id = ? AND app_id = ? AND function_id = ? AND (started_at, id) > (?, ?) AND started_at <= ?" +
    (b.until === undefined ? "" : " AND (started_at, id) <= (?, ?)");
  const sql: BatchSql = {
    b,
    outcome: `${outcomeCase(m.sql, e.sql, nb.sql, String(OUTCOME.cand), String(OUTCOME.notMatched))} AS o`,
    sliceOutcome: outcomeCase(m.sql, e.sql, nb.sql, "json_quote(id)", "NULL"),
    outcomeParams: [b.cancellationId, ...m.params, ...e.params, ...nb.params],
    rest,
    keyset: `${rest} ORDER BY started_at, id`,
    scope: [w.environmentId, w.appId, w.functionId],
    endParams: [w.startedBefore, ...(b.until !== undefined ? [b.until.startedAt, b.until.id] : [])],
  };
  const stretch = b.listCancelled === false && b.decision.match.k === "true" && b.limit > 0 ? cancelStretch(db, sql, lower) : undefined;
  const { counts, taken, cancelled } = stretch ?? (b.limit === 0 ? countOnly(db, sql, lower) : stepByStep(db, sql, lower, chunkRows));
  const last = taken.last;
  saveCheckpoint(db, b, counts, last, now);
  return {
    ok: true,
    cancelled,
    counts,
    ...(last !== undefined ? { cursor: last } : {}),
    exhausted: taken.exhausted,
    blocked: taken.blocked,
    ...(b.controls !== undefined ? { controlsChecked: true } : {}),
  };
}

/** What a batch did: its counts, where the runs it took end, the runs it cancelled (listed or not). */
interface Done {
  readonly counts: OutcomeCounts;
  readonly taken: Taken;
  readonly cancelled: readonly string[];
}

/** A batch that may cancel nothing: the runs before the next candidate, counted. */
function countOnly(db: SqliteDatabase, sql: BatchSql, lower: Cursor): Done {
  const { tally, taken } = upToCandidate(db, sql, lower);
  return { counts: exactBatchCounts({ ...tally, cand: 0 }, 0), taken, cancelled: [] };
}

/**
 * The plain batch (steps 1 and 2 of the module comment): the slice step by step, each step's
 * candidates cancelled before the next step is read. Steps of `chunkRows` rather than one of the
 * whole slice because a step's pages are then still in the CPU's cache when its aggregate and
 * its update read them again after the walk (a fifth off a SQLite job on the 1 M bench). The
 * batch stops after the step that fills `limit`, where one step of the whole slice takes the runs
 * after it up to the slice's end: both are stretches {@link ExactBatch} allows.
 */
function stepByStep(db: SqliteDatabase, sql: BatchSql, lower: Cursor, chunkRows: number): Done {
  const { limit, scanLimit } = sql.b;
  const sum = { scanned: 0, mine: 0, skipped: 0, errors: 0, nonbool: 0, candidates: [] as string[] };
  // Every candidate taken is cancelled (cancelCandidates fails the batch otherwise).
  const done = (last: Cursor | undefined, exhausted: boolean): Done => ({
    counts: exactBatchCounts({ ...sum, cand: sum.candidates.length }, sum.candidates.length),
    taken: { last, exhausted, blocked: false },
    cancelled: sum.candidates,
  });
  let from = lower;
  let last: Cursor | undefined;
  for (;;) {
    const end = sliceEnd(db, sql, from, Math.min(chunkRows, scanLimit - sum.scanned));
    if (end === undefined) return done(last, true);
    let step = readStep(db, sql, from, end.last);
    // Past `limit`: the step's runs up to the candidate that fills the batch (not its last run,
    // as the step holds more candidates than the batch takes).
    const cut = sum.candidates.length + step.candidates.length > limit ? upToLimit(db, sql, from, step.scanned, limit - sum.candidates.length) : undefined;
    if (cut !== undefined) step = cut.tally;
    last = cut?.last ?? end.last;
    if (step.candidates.length > 0) cancelCandidates(db, sql, from, last, step.candidates);
    sum.scanned += step.scanned;
    sum.mine += step.mine;
    sum.skipped += step.skipped;
    sum.errors += step.errors;
    sum.nonbool += step.nonbool;
    sum.candidates.push(...step.candidates);
    if (cut !== undefined) return done(last, false);
    if (end.exhausted) return done(last, true);
    if (sum.scanned === scanLimit || sum.candidates.length === limit) return done(last, false);
    from = end.last;
  }
}

/**
 * Whether a record's stored settings leave the job unpaused at the batch's rate, read as the
 * caller read them (`getCancellation`). Damaged settings count as changed: the caller reads the
 * record again, which reports them.
 */
function controlsUnchanged(column: string | null, controls: ExactBatchControls): boolean {
  let settings: CancellationSettings | undefined;
  try {
    settings = column === null ? undefined : settingsFromColumn(column);
  } catch {
    return false;
  }
  return settings?.paused !== true && settings?.ratePerSecond === controls.ratePerSecond;
}

/**
 * Cancels the candidates a step took (its runs `(lower, last]`), or fails the batch with a
 * `storage` error unless exactly they changed. The write lock is held since they were counted, so
 * all are still non-terminal. When the decision reads no event (no `if`), the step's stretch
 * is updated in key order, as the raw `UPDATE` does, with the candidates' own conditions: most of
 * its runs are candidates, and finding each by id would cost two B-tree descents. Otherwise the
 * candidates are found by id (the `runs_id` index), and no predicate is evaluated again.
 */
function cancelCandidates(db: SqliteDatabase, sql: BatchSql, lower: Cursor, last: Cursor, candidates: readonly string[]): void {
  const { b } = sql;
  // No `RETURNING`: SQLite then collects the rows first and finds each again by its key, which
  // doubled the cost of these updates; the write lock makes the candidates the rows updated.
  const changes =
    b.decision.match.k === "true"
      ? updateStretch(db, sql, lower, last)
      : prepare(
          db,
          `UPDATE runs SET status = 'cancelled', cancellation_id = ? WHERE id IN (SELECT value FROM json_each(?)) AND status IN (${NON_TERMINAL_LIST})`,
        ).run(b.cancellationId, JSON.stringify(candidates)).changes;
  if (changes !== candidates.length) throw new StoreError("storage", `exact batch: ${changes} runs cancelled for ${candidates.length} candidates under the write lock`);
}

/**
 * A batch of a job without an `if` whose ids nobody needs (`listCancelled: false`): every run not
 * cancelled by this job and not finished is a candidate, so the slice's stretch is updated in key
 * order at once (a savepoint undoes it should it hold more than `limit` candidates), and one count
 * of the runs this job now holds after it gives the ledger. This spares the aggregate that lists
 * the candidates before the update, a sixth to a fifth of such a job's time on the 1 M bench.
 * `undefined` (nothing changed) when the slice held more than `limit`: the plain path takes it.
 */
function cancelStretch(db: SqliteDatabase, sql: BatchSql, lower: Cursor): Done | undefined {
  const { b } = sql;
  const end = sliceEnd(db, sql, lower, b.scanLimit);
  if (end === undefined) return { counts: ZERO_COUNTS, taken: NOTHING_LEFT, cancelled: [] };
  const { last } = end;
  prepare(db, "SAVEPOINT exact_stretch").run();
  const changed = updateStretch(db, sql, lower, last);
  if (changed > b.limit) {
    prepare(db, "ROLLBACK TO exact_stretch").run();
    prepare(db, "RELEASE exact_stretch").run();
    return undefined;
  }
  prepare(db, "RELEASE exact_stretch").run();
  // After the update every run of the stretch this job does not hold is finished: skipped.
  const [scanned, held] = prepare(db, `SELECT count(*), IFNULL(sum(IFNULL(cancellation_id = ?, 0)), 0) FROM runs WHERE ${STRETCH}`)
    .raw(true)
    .get(b.cancellationId, ...stretchParams(sql, lower, last)) as [number, number];
  const tally = { scanned, mine: held - changed, skipped: scanned - held, errors: 0, nonbool: 0, cand: changed };
  return { counts: exactBatchCounts(tally, changed), taken: { ...end, blocked: false }, cancelled: [] };
}

/** The job's runs in `(lower, last]` of the window key (a `WHERE` condition); parameters from {@link stretchParams}. */
const STRETCH = "environment_id = ? AND app_id = ? AND function_id = ? AND (started_at, id) > (?, ?) AND (started_at, id) <= (?, ?)";

function stretchParams(sql: BatchSql, lower: Cursor, last: Cursor): unknown[] {
  return [...sql.scope, lower.startedAt, lower.id, last.startedAt, last.id];
}

/**
 * Cancels every run of `(lower, last]` not finished and not cancelled by this job, in key order as
 * the raw `UPDATE` does; answers how many it changed.
 */
function updateStretch(db: SqliteDatabase, sql: BatchSql, lower: Cursor, last: Cursor): number {
  const job = sql.b.cancellationId;
  const update = `UPDATE runs SET status = 'cancelled', cancellation_id = ? WHERE ${STRETCH} AND status IN (${NON_TERMINAL_LIST}) AND IFNULL(cancellation_id = ?, 0) = 0`;
  return prepare(db, update).run(job, ...stretchParams(sql, lower, last), job).changes;
}

/** The key of the window's last run after `from` (within `until`), if any. */
function lastKey(db: SqliteDatabase, sql: BatchSql, from: Cursor): Cursor | undefined {
  const row = prepare(db, `SELECT started_at, id ${sql.rest} ORDER BY started_at DESC, id DESC LIMIT 1`).raw(true).get(...keysetParams(sql, from)) as
    | [number, string]
    | undefined;
  return row === undefined ? undefined : { startedAt: row[0], id: row[1] };
}

/** Where the runs a batch took end, and why. */
interface Taken {
  readonly last: Cursor | undefined;
  readonly exhausted: boolean;
  readonly blocked: boolean;
}

/**
 * One step of a batch: the outcomes of the runs of `(from, last]` (the window key walked to
 * `last` before, no event read), from one flat aggregate of that key range that lists each run's
 * outcome but "not matched" (see {@link BatchSql.sliceOutcome}).
 */
function readStep(db: SqliteDatabase, sql: BatchSql, from: Cursor, last: Cursor): Tally {
  // A flat aggregate rather than one over a `LIMIT`ed subquery: SQLite runs such a subquery as a
  // co-routine, which cost a fifth more than the flat aggregate of the same rows on the 1 M bench.
  const [scanned, listed] = prepare(db, `SELECT count(*), group_concat(${sql.sliceOutcome}, ',') FROM runs WHERE ${STRETCH}`)
    .raw(true)
    .get(...sql.outcomeParams, ...stretchParams(sql, from, last)) as [number, string | null];
  const candidates: string[] = [];
  const counts = [0, 0, 0, 0, 0, 0];
  for (const item of JSON.parse(`[${listed ?? ""}]`) as (number | string)[]) {
    if (typeof item === "string") candidates.push(item);
    else counts[item]!++;
  }
  return tallyOfCodes(scanned, counts, candidates);
}

/** A tally from the counts of each outcome code (indexed by code) and the candidates' ids. */
function tallyOfCodes(scanned: number, counts: readonly number[], candidates: readonly string[]): Tally {
  return { scanned, mine: counts[OUTCOME.mine]!, skipped: counts[OUTCOME.skipped]!, errors: counts[OUTCOME.error]!, nonbool: counts[OUTCOME.nonBoolean]!, candidates };
}

/** What a batch takes when the window holds no run after its lower bound. */
const NOTHING_LEFT: Taken = { last: undefined, exhausted: true, blocked: false };

/**
 * Where the slice of at most `rows` runs after `from` ends (the window key walked, no event
 * read), and whether that is the window's end; `undefined` when no run is left.
 */
function sliceEnd(db: SqliteDatabase, sql: BatchSql, from: Cursor, rows: number): { readonly last: Cursor; readonly exhausted: boolean } | undefined {
  const end = keyAt(db, sql, from, rows - 1);
  const last = end ?? lastKey(db, sql, from);
  return last === undefined ? undefined : { last, exhausted: end === undefined };
}

/**
 * The key of the run `offset` runs past `from` in the batch's window (the window key walked, no
 * event read), or `undefined` when the window holds no run that far past `from`.
 */
function keyAt(db: SqliteDatabase, sql: BatchSql, from: Cursor, offset: number): Cursor | undefined {
  const row = prepare(db, `SELECT started_at, id ${sql.keyset} LIMIT 1 OFFSET ?`)
    .raw(true)
    .get(...keysetParams(sql, from), offset) as [number, string] | undefined;
  return row === undefined ? undefined : { startedAt: row[0], id: row[1] };
}

/**
 * A step that holds more than `need` candidates (which the batch may still take): one statement
 * reads its `rows` runs after `from` in keyset order and answers each run's outcome code, with
 * each candidate's id (no event crosses into JavaScript); the batch takes the runs up to and
 * including the `need`-th candidate.
 */
function upToLimit(db: SqliteDatabase, sql: BatchSql, from: Cursor, rows: number, need: number): { readonly tally: Tally; readonly last: Cursor } {
  // The outer `LIMIT -1` keeps SQLite from flattening the slice into the outer query, which would
  // evaluate the outcome twice for a candidate (once for `o`, once in the `CASE`).
  const slice = prepare(
    db,
    `SELECT o, started_at, CASE WHEN o = ${OUTCOME.cand} THEN id END FROM (SELECT id, started_at, ${sql.outcome} ${sql.keyset} LIMIT ?) LIMIT -1`,
  );
  const found = slice.raw(true).all(...sql.outcomeParams, ...keysetParams(sql, from), rows) as [number, number, string | null][];
  const counts = [0, 0, 0, 0, 0, 0];
  const candidates: string[] = [];
  let taken = 0;
  while (taken < found.length) {
    const [o, , id] = found[taken++]!;
    counts[o]!++;
    if (o === OUTCOME.cand) {
      candidates.push(id!);
      if (candidates.length === need) break;
    }
  }
  // The write lock is held since the aggregate that found more than `need` candidates in these
  // runs, so the loop stopped at the `need`-th: the last run taken, with runs after it.
  const [, startedAt, id] = found[taken - 1]!;
  if (id === null || taken === found.length) throw new StoreError("storage", "exact batch: the slice changed under the write lock");
  return { tally: tallyOfCodes(taken, counts, candidates), last: { startedAt, id } };
}

/**
 * A batch that may cancel nothing (`limit` 0, a `maxRuns` reached): the runs before the next
 * candidate, at most `scanLimit`, found with a running count of candidates (a window function).
 */
function upToCandidate(db: SqliteDatabase, sql: BatchSql, lower: Cursor): Slice {
  const row = prepare(
    db,
    `WITH slice AS MATERIALIZED (SELECT id, started_at, ${sql.outcome} ${sql.keyset} LIMIT ?), ` +
      `ranked AS MATERIALIZED (SELECT *, sum(o = ${OUTCOME.cand}) OVER w AS k, row_number() OVER w AS rn FROM slice ` +
      "WINDOW w AS (ORDER BY started_at, id ROWS UNBOUNDED PRECEDING)) " +
      // One max() aggregate: the bare columns started_at and id come from the row with the largest rn.
      `SELECT ${TALLY_COLUMNS}, max(rn), started_at, id, (SELECT count(*) FROM ranked) FROM ranked WHERE k <= 0`,
  )
    .raw(true)
    .get(...sql.outcomeParams, ...keysetParams(sql, lower), sql.b.scanLimit) as [...TallyColumns, number | null, number | null, string | null, number];
  const [scanned, , , , , , , , lastStartedAt, lastId, sliceRows] = row;
  const last = scanned > 0 && lastStartedAt !== null && lastId !== null ? { startedAt: lastStartedAt, id: lastId } : undefined;
  return {
    tally: tallyOf(row.slice(0, 7) as TallyColumns),
    taken: { last, exhausted: sliceRows === scanned && sliceRows < sql.b.scanLimit, blocked: sliceRows > scanned },
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
