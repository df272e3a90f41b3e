/**
 * Statements on the runs table: bulk upsert, lookups, the per-function summary, status changes
 * and the compare-and-set that cancels a batch.
 *
 * @module
 */
import type { PoolClient } from "pg";
import type { CheckedRunLocationQuery } from "../location-checks.js";
import { foldFunctionRows, functionStatusQuery, type FunctionStatusRow } from "../sql-common.js";
import { MAX_LOCATIONS_PROBED, type FunctionSummary, type RunLocation, type RunRecord, type RunStatus } from "../types.js";
import { requireFitsText, type Database } from "./db.js";
import { RUN_COLUMNS, rowToRun, type RunRow } from "./rows.js";

/** Rows per INSERT statement: big enough to amortise round trips, small enough to keep each message a few MB. */
const INSERT_CHUNK_ROWS = 5000;

/** The non-terminal statuses as an SQL list. */
export const NON_TERMINAL_SQL = "('queued', 'running', 'sleeping', 'waiting')";

/**
 * A `\u0000` in JSON text (not itself an escaped backslash followed by `u0000`): jsonb cannot
 * hold it. Surrogate escapes are listed too, though validation already rejects lone surrogates.
 */
const JSONB_UNSAFE_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|[dD][89a-fA-F])/;

/**
 * Adds runs or replaces those with the same id (`ON CONFLICT (id) DO UPDATE`), all in one
 * transaction, as multi-row `INSERT … SELECT FROM unnest(…)` statements of up to 5,000 rows. When
 * the input holds one id twice, the later run wins.
 */
export async function insertRuns(db: Database, runs: readonly RunRecord[]): Promise<void> {
  await db.transaction((client) => insertRunsWith(db, client, runs));
}

/**
 * Stores every run of `batches` in one transaction (all or nothing); returns how many were given.
 * The transaction stays open while the iterable runs (a file being read).
 */
export async function insertRunStream(db: Database, batches: AsyncIterable<readonly RunRecord[]>): Promise<number> {
  return db.transaction(async (client) => {
    let given = 0;
    for await (const batch of batches) {
      await insertRunsWith(db, client, batch);
      given += batch.length;
    }
    return given;
  });
}

/** Upserts runs with `client` (inside the caller's transaction). */
async function insertRunsWith(db: Database, client: PoolClient, runs: readonly RunRecord[]): Promise<void> {
  // One statement cannot update the same row twice, so duplicates collapse here, last wins.
  const byId = new Map<string, { readonly run: RunRecord; readonly eventText: string }>();
  for (let i = 0; i < runs.length; i++) {
    const label = `runs[${i}]`;
    const run = runs[i]!;
    requireFitsText(run.environmentId!, "invalid_run", `${label}: environmentId`);
    requireFitsText(run.appId, "invalid_run", `${label}: appId`);
    requireFitsText(run.functionId, "invalid_run", `${label}: functionId`);
    byId.set(run.id, { run, eventText: JSON.stringify(run.event) });
  }
  if (byId.size === 0) return;
  // Id order makes concurrent upserts of overlapping sets lock rows in one order (no
  // deadlock) and keeps primary-key inserts local; ULIDs usually arrive sorted already.
  const prepared = [...byId.values()].sort((a, b) => (a.run.id < b.run.id ? -1 : a.run.id > b.run.id ? 1 : 0));
  // Events travel as one JSON array text rather than a jsonb[] parameter: the driver would
  // escape every event again into array-literal syntax, which costs more than the insert.
  const sql =
    `INSERT INTO ${db.tables.runs} (${RUN_COLUMNS}) ` +
    "SELECT r.id, r.environment_id, r.app_id, r.function_id, r.started_at, r.status, " +
    "CASE WHEN r.json_only THEN NULL ELSE e.value::jsonb END, CASE WHEN r.json_only THEN e.value END, r.cancellation_id " +
    "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::boolean[], $8::text[]) " +
    "WITH ORDINALITY AS r(id, environment_id, app_id, function_id, started_at, status, json_only, cancellation_id, n) " +
    "JOIN json_array_elements($9::json) WITH ORDINALITY AS e(value, n) USING (n) " +
    "ON CONFLICT (id) DO UPDATE SET environment_id = EXCLUDED.environment_id, app_id = EXCLUDED.app_id, " +
    "function_id = EXCLUDED.function_id, started_at = EXCLUDED.started_at, status = EXCLUDED.status, " +
    "event = EXCLUDED.event, event_json = EXCLUDED.event_json, cancellation_id = EXCLUDED.cancellation_id";
  {
    for (let start = 0; start < prepared.length; start += INSERT_CHUNK_ROWS) {
      const chunk = prepared.slice(start, start + INSERT_CHUNK_ROWS);
      await client.query(sql, [
        chunk.map((p) => p.run.id),
        chunk.map((p) => p.run.environmentId),
        chunk.map((p) => p.run.appId),
        chunk.map((p) => p.run.functionId),
        chunk.map((p) => p.run.startedAt),
        chunk.map((p) => p.run.status),
        chunk.map((p) => JSONB_UNSAFE_ESCAPE.test(p.eventText)),
        chunk.map((p) => p.run.cancellationId ?? null),
        `[${chunk.map((p) => p.eventText).join(",")}]`,
      ]);
    }
  }
}

/**
 * The (environment, app, function) with runs started in a window: a loose index scan (a recursive
 * query that seeks the next combination of the primary key's leading columns, up to
 * `MAX_LOCATIONS_PROBED`), each combination probed for a run of the window.
 */
export async function listRunLocations(db: Database, q: CheckedRunLocationQuery): Promise<RunLocation[]> {
  const runs = db.tables.runs;
  const { rows } = await db.pool.query<{ environment_id: string; app_id: string; function_id: string }>(
    `WITH RECURSIVE combos AS (
       (SELECT environment_id, app_id, function_id, 1 AS n FROM ${runs} ORDER BY environment_id, app_id, function_id LIMIT 1)
       UNION ALL
       SELECT nx.environment_id, nx.app_id, nx.function_id, c.n + 1 FROM combos c
       CROSS JOIN LATERAL (
         SELECT r.environment_id, r.app_id, r.function_id FROM ${runs} r
         WHERE (r.environment_id, r.app_id, r.function_id) > (c.environment_id, c.app_id, c.function_id)
         ORDER BY r.environment_id, r.app_id, r.function_id LIMIT 1
       ) nx
       WHERE c.n < $3
     )
     SELECT environment_id, app_id, function_id FROM combos c
     WHERE EXISTS (
       SELECT 1 FROM ${runs} r WHERE r.environment_id = c.environment_id AND r.app_id = c.app_id AND r.function_id = c.function_id
       AND r.started_at >= $1 AND r.started_at <= $2
     )
     ORDER BY environment_id, app_id, function_id
     LIMIT $4`,
    [q.startedAfter ?? -(2 ** 53), q.startedBefore, MAX_LOCATIONS_PROBED, q.limit],
  );
  return rows.map((row) => ({ environmentId: row.environment_id, appId: row.app_id, functionId: row.function_id }));
}

/** One run by id, or `undefined`. */
export async function getRun(db: Database, id: string): Promise<RunRecord | undefined> {
  const { rows } = await db.pool.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM ${db.tables.runs} WHERE id = $1`, [id]);
  return rows[0] === undefined ? undefined : rowToRun(rows[0]);
}

/** The environment's functions with their runs by status: one `GROUP BY`, names in byte order (`COLLATE "C"`). */
export async function listFunctions(db: Database, environmentId: string): Promise<FunctionSummary[]> {
  const { rows } = await db.pool.query<unknown[]>({
    text: functionStatusQuery(db.tables.runs, "$1", ' COLLATE "C"'),
    values: [environmentId],
    rowMode: "array",
  });
  // COUNT(*) and the bigint times arrive as strings; the fold converts them.
  return foldFunctionRows(rows as unknown as FunctionStatusRow[]);
}

/**
 * Sets the status of runs; returns how many changed. Without `force`, only non-terminal runs are
 * touched; a run already in the target status is unchanged. A run leaving `cancelled` loses its
 * `cancellationId`. Rows are locked in id order, so concurrent batches cannot deadlock.
 */
export async function setRunStatus(db: Database, ids: readonly string[], status: RunStatus, force: boolean): Promise<number> {
  if (ids.length === 0) return 0;
  const runs = db.tables.runs;
  const sql =
    `WITH locked AS (SELECT id FROM ${runs} WHERE id = ANY($2::text[]) AND status <> $1` +
    `${force ? "" : ` AND status IN ${NON_TERMINAL_SQL}`} ORDER BY id FOR UPDATE) ` +
    `UPDATE ${runs} AS r SET status = $1, ` +
    "cancellation_id = CASE WHEN $1 = 'cancelled' THEN r.cancellation_id END " +
    `FROM locked WHERE r.id = locked.id AND r.status <> $1${force ? "" : ` AND r.status IN ${NON_TERMINAL_SQL}`}`;
  return db.retrying(async () => (await db.pool.query(sql, [status, ids])).rowCount ?? 0);
}

/** Environment, app and function of a job, as read from its row. */
export interface JobScope {
  readonly environment_id: string;
  readonly app_id: string;
  readonly function_id: string;
}

/**
 * Inside a transaction: cancels the still non-terminal runs among `runIds` of the job's scope,
 * marking them with `cancellationId`; returns the ids that changed. One `UPDATE`: the
 * primary-key scan visits the ids in sorted order, so concurrent batches lock rows in one order;
 * a deadlock with a writer that locks in another order fails one transaction, which is retried
 * whole. (A separate `SELECT … ORDER BY id FOR UPDATE` pass first would guarantee the order but
 * writes every row twice: a lock, then the update; it cost a quarter more per batch.) Under
 * READ COMMITTED a row changed by a concurrent transaction is re-checked against
 * `status IN (non-terminal)` after that transaction ends: the compare-and-set.
 */
export async function cancelRuns(
  db: Database,
  client: PoolClient,
  cancellationId: string,
  runIds: readonly string[],
  scope: JobScope,
): Promise<string[]> {
  if (runIds.length === 0) return [];
  const { rows } = await client.query<{ id: string }>(
    `UPDATE ${db.tables.runs} SET status = 'cancelled', cancellation_id = $1 ` +
      `WHERE id = ANY($2::text[]) AND status IN ${NON_TERMINAL_SQL} AND environment_id = $3 AND app_id = $4 AND function_id = $5 ` +
      "RETURNING id",
    [cancellationId, runIds, scope.environment_id, scope.app_id, scope.function_id],
  );
  return rows.map((row) => row.id);
}
