/**
 * Sharded cancellations on PostgreSQL ({@link ShardedRunStore}): a job's window split into shards
 * (`cancellation_shards`, migration 2) of about equal run counts, each with its own checkpoint and
 * lease, which worker processes take with `FOR UPDATE SKIP LOCKED`.
 *
 * @module
 */
import type { PoolClient } from "pg";
import type { CheckedLeaseRequest, CheckedShardWindow } from "../checks.js";
import type {
  CancellationRecord,
  Cursor,
  ShardBounds,
  ShardCommit,
  ShardCommitResult,
  ShardLeaseResult,
  ShardRecord,
  ShardStatus,
} from "../types.js";
import { fitsText, type Database } from "./db.js";
import { getCancellation } from "./cancellations.js";
import { pausedSql, shardColumns, rowToShard, type ShardRow } from "./rows.js";
import { cancelRuns } from "./runs.js";
import { windowConditions } from "./scan.js";

/**
 * Shard bounds from the ordered cut positions: shard j holds the runs after cut j-1 and at or
 * before cut j; the first is open below, the last above.
 */
function boundsFromCuts(cuts: readonly Cursor[]): ShardBounds[] {
  const bounds: ShardBounds[] = [];
  for (let j = 0; j <= cuts.length; j++) {
    const after = cuts[j - 1];
    const until = cuts[j];
    bounds.push({ ...(after !== undefined ? { after } : {}), ...(until !== undefined ? { until } : {}) });
  }
  return bounds;
}

/**
 * Inside a transaction (the cursor lives until its end): splits a window into at most `count`
 * shards holding equal numbers (±1) of the runs it holds now. It counts the window's runs n, then
 * walks a cursor over the window index in `(started_at, id)` order, `MOVE`s to ranks ⌊j·n/k⌋
 * (j = 1…k−1, k = min(count, n)) and `FETCH`es the run there, and cuts after each. Cuts are run
 * positions `(startedAt, id)`, so a cut may fall inside a millisecond many runs share; the first
 * shard is open below, the last above, so the shards partition the window's whole keyset range
 * (runs inserted later belong to exactly one too).
 *
 * Why ranks and not time: run start times are rarely uniform (bursts, a backlog), and equal
 * counts are what makes shards of equal work. The price is two index-only passes over the
 * window at creation (about 0.3 s per million runs), paid once per job. (A `row_number()` pass
 * instead of the cursor costs about three times as much.) Runs inserted or deleted between the
 * count and the walk only make the shards slightly unequal (or fewer): the cuts stay run
 * positions in increasing order, so the shards still partition the window.
 */
export async function planShards(db: Database, client: PoolClient, window: CheckedShardWindow, count: number): Promise<ShardBounds[]> {
  const conditions = windowConditions(window);
  if (conditions === undefined || count === 1) return [{}];
  const { where, params } = conditions;
  const counted = await client.query<{ n: number }>(`SELECT count(*) AS n FROM ${db.tables.runs} WHERE ${where}`, params);
  const n = counted.rows[0]?.n ?? 0;
  const k = Math.min(count, n);
  if (k <= 1) return [{}];
  await client.query(
    `DECLARE cancelkit_shard_cuts NO SCROLL CURSOR FOR SELECT started_at, id FROM ${db.tables.runs} WHERE ${where} ORDER BY started_at, id`,
    params,
  );
  const cuts: Cursor[] = [];
  let at = 0;
  for (let j = 1; j < k; j++) {
    const rank = Math.floor((j * n) / k);
    // MOVE and FETCH take no parameters; the counts are integers computed here.
    if (rank - at > 1) await client.query(`MOVE FORWARD ${rank - at - 1} IN cancelkit_shard_cuts`);
    const { rows } = await client.query<{ started_at: number; id: string }>("FETCH NEXT FROM cancelkit_shard_cuts");
    const row = rows[0];
    if (row === undefined) break;
    cuts.push({ startedAt: row.started_at, id: row.id });
    at = rank;
  }
  await client.query("CLOSE cancelkit_shard_cuts");
  return boundsFromCuts(cuts);
}

/** Inside the transaction that creates a job: splits its window and inserts its shards, all `pending`. */
export async function insertShards(db: Database, client: PoolClient, record: CancellationRecord, count: number): Promise<void> {
  const bounds = await planShards(db, client, record, count);
  await client.query(
    `INSERT INTO ${db.tables.shards} (cancellation_id, shard_no, after_started_at, after_id, until_started_at, until_id, updated_at) ` +
      "SELECT $1, n - 1, a_t, a_id, u_t, u_id, $2 " +
      "FROM unnest($3::bigint[], $4::text[], $5::bigint[], $6::text[]) WITH ORDINALITY AS b(a_t, a_id, u_t, u_id, n)",
    [
      record.id,
      record.createdAt,
      bounds.map((b) => b.after?.startedAt ?? null),
      bounds.map((b) => b.after?.id ?? null),
      bounds.map((b) => b.until?.startedAt ?? null),
      bounds.map((b) => b.until?.id ?? null),
    ],
  );
}

/**
 * Leases one shard to a worker: in one statement, `SELECT … FOR UPDATE SKIP LOCKED` picks the
 * first shard (oldest job first, in window order) of a job that is not paused and that is
 * `pending` or `running` under an expired lease, and sets it `running` with `lease_owner = workerId` and `lease_expires_at = now +
 * leaseMs` (the database's clock). Concurrent callers skip each other's candidate rows, so no
 * shard is handed to two workers; a row whose lease a commit is renewing at that moment is skipped
 * too. Also answers how many other shards in scope are not done.
 */
export async function leaseShard(db: Database, request: CheckedLeaseRequest): Promise<ShardLeaseResult> {
  const { workerId, leaseMs, cancellationId, environmentId } = request;
  if (environmentId !== undefined && !fitsText(environmentId)) return { unfinished: 0 };
  const scopeParams: unknown[] = [];
  let scope = "";
  if (cancellationId !== undefined) scope += ` AND s.cancellation_id = $${scopeParams.push(cancellationId)}`;
  if (environmentId !== undefined) {
    scope += ` AND EXISTS (SELECT 1 FROM ${db.tables.cancellations} AS c WHERE c.id = s.cancellation_id AND c.environment_id = $${scopeParams.push(environmentId)})`;
  }
  const base = scopeParams.length;
  const { rows } = await db.retrying(() =>
    db.pool.query<ShardRow>(
      `WITH candidate AS (SELECT s.cancellation_id, s.shard_no FROM ${db.tables.shards} AS s ` +
        `WHERE s.status <> 'done' AND (s.status = 'pending' OR s.lease_expires_at < clock_timestamp())${scope} ` +
        // A paused job's shards wait (its workers released them): workers go to other jobs.
        `AND NOT EXISTS (SELECT 1 FROM ${db.tables.cancellations} AS p WHERE p.id = s.cancellation_id AND ${pausedSql("p.settings")}) ` +
        "ORDER BY s.cancellation_id, s.shard_no LIMIT 1 FOR UPDATE OF s SKIP LOCKED) " +
        `UPDATE ${db.tables.shards} AS s SET status = 'running', lease_owner = $${base + 1}, ` +
        `lease_expires_at = clock_timestamp() + $${base + 2} * interval '1 millisecond', updated_at = GREATEST(s.updated_at, $${base + 3}) ` +
        `FROM candidate WHERE s.cancellation_id = candidate.cancellation_id AND s.shard_no = candidate.shard_no ` +
        `RETURNING ${shardColumns("s.")}`,
      [...scopeParams, workerId, leaseMs, db.now()],
    ),
  );
  const leased = rows[0] === undefined ? undefined : rowToShard(rows[0]);
  const open = await db.pool.query<{ n: number }>(
    `SELECT count(*)::integer AS n FROM ${db.tables.shards} AS s WHERE s.status <> 'done'${scope}`,
    scopeParams,
  );
  const unfinished = Math.max(0, (open.rows[0]?.n ?? 0) - (leased === undefined ? 0 : 1));
  if (leased === undefined) return { unfinished };
  const record = await getCancellation(db, leased.cancellationId, undefined);
  // Deleted between the lease and this read: its shards are gone with it.
  if (record === undefined) return { unfinished };
  return { lease: { record, shard: leased }, unfinished };
}

/** Extends a lease the worker still holds (status `running`, owner `workerId`) to `leaseMs` from now. */
export async function renewShardLease(db: Database, cancellationId: string, shardNo: number, workerId: string, leaseMs: number): Promise<boolean> {
  const result = await db.pool.query(
    `UPDATE ${db.tables.shards} SET lease_expires_at = clock_timestamp() + $4 * interval '1 millisecond' ` +
      "WHERE cancellation_id = $1 AND shard_no = $2 AND lease_owner = $3 AND status = 'running'",
    [cancellationId, shardNo, workerId, leaseMs],
  );
  return (result.rowCount ?? 0) > 0;
}

/**
 * Commits one batch of a shard in one transaction: (1) locks the shard row and checks the worker
 * still holds its lease (else nothing changes: `lease_lost`; no shard row: `gone`), (2) cancels
 * the batch's still non-terminal runs of the job's scope with the job's id, (3) saves the shard's
 * cursor and counts and its status (`running` renews the lease, `pending` releases it, `done`
 * closes it), and (4) when this closes the last open shard, sets the job `completed`. A closing
 * commit locks the job's row before the shard's, the order a deletion takes, so the two never
 * deadlock; other commits never touch the job's row.
 */
export async function commitShardBatch(db: Database, commit: ShardCommit): Promise<ShardCommitResult> {
  const { cancellationId, shardNo, workerId, leaseMs, runIds } = commit;
  const { cursor, counts, status } = commit.checkpoint;
  const closing = status === "done";
  return db.retrying(() =>
    db.transaction(async (client): Promise<ShardCommitResult> => {
      if (closing) {
        const job = await client.query(`SELECT 1 FROM ${db.tables.cancellations} WHERE id = $1 FOR NO KEY UPDATE`, [cancellationId]);
        if (job.rowCount === 0) return { ok: false, reason: "gone" };
      }
      const locked = await client.query<{ status: ShardStatus; lease_owner: string | null; environment_id: string; app_id: string; function_id: string }>(
        `SELECT s.status, s.lease_owner, c.environment_id, c.app_id, c.function_id FROM ${db.tables.shards} AS s ` +
          `JOIN ${db.tables.cancellations} AS c ON c.id = s.cancellation_id ` +
          "WHERE s.cancellation_id = $1 AND s.shard_no = $2 FOR UPDATE OF s",
        [cancellationId, shardNo],
      );
      const shard = locked.rows[0];
      if (shard === undefined) return { ok: false, reason: "gone" };
      if (shard.status !== "running" || shard.lease_owner !== workerId) return { ok: false, reason: "lease_lost" };
      const cancelled = await cancelRuns(db, client, cancellationId, runIds, shard);
      const now = db.now();
      await client.query(
        `UPDATE ${db.tables.shards} SET status = $3, ` +
          "cursor_started_at = COALESCE($4, cursor_started_at), cursor_id = COALESCE($5, cursor_id), " +
          "scanned = $6, cancelled = $7, skipped_terminal = $8, not_matched = $9, expression_error = $10, non_boolean = $11, " +
          "lease_owner = CASE WHEN $3 = 'pending' THEN NULL ELSE lease_owner END, " +
          "lease_expires_at = CASE WHEN $3 = 'running' THEN clock_timestamp() + $12 * interval '1 millisecond' END, " +
          "updated_at = GREATEST(updated_at, $13) WHERE cancellation_id = $1 AND shard_no = $2",
        [
          cancellationId,
          shardNo,
          status,
          cursor?.startedAt ?? null,
          cursor?.id ?? null,
          counts.scanned,
          counts.cancelled,
          counts.skipped_terminal,
          counts.not_matched,
          counts.expression_error,
          counts.non_boolean,
          leaseMs,
          now,
        ],
      );
      if (closing) {
        // The job's row is locked: of two workers closing the last two shards, the second sees
        // the first's shard done (a new statement, a new snapshot) and completes the job.
        await client.query(
          `UPDATE ${db.tables.cancellations} SET status = 'completed', updated_at = GREATEST(updated_at, $2) ` +
            `WHERE id = $1 AND status <> 'completed' AND NOT EXISTS ` +
            `(SELECT 1 FROM ${db.tables.shards} WHERE cancellation_id = $1 AND status <> 'done')`,
          [cancellationId, now],
        );
      }
      return { ok: true, cancelled };
    }),
  );
}

/** The shards of a cancellation in window order; empty for an unsharded or unknown one. */
export async function listShards(db: Database, cancellationId: string): Promise<ShardRecord[]> {
  const { rows } = await db.pool.query<ShardRow>(
    `SELECT ${shardColumns()} FROM ${db.tables.shards} WHERE cancellation_id = $1 ORDER BY shard_no`,
    [cancellationId],
  );
  return rows.map(rowToShard);
}
