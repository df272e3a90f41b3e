/**
 * Statements on cancellation records and idempotency keys, and the batch commit that cancels runs
 * and saves a job's checkpoint in one transaction.
 *
 * @module
 */
import type pg from "pg";
import type { PoolClient } from "pg";
import type { CheckedListOptions, Idempotency, KeyedRecord } from "../base.js";
import { CANCELLATION_COLUMNS, cancellationToRow, settingsToJson } from "../sql-common.js";
import { StoreError, type CancellationLeaseResult, type CancellationPage, type CancellationRecord, type CancellationSettings, type Checkpoint, type CommitBatch, type CommitResult, type CreateResult } from "../types.js";
import { ATTEMPTS, fitsText, requireFitsText, sqlState, type Database } from "./db.js";
import { CANCELLATION_SELECT, rowToCancellation, type PostgresCancellationRow } from "./rows.js";
import { cancelRuns } from "./runs.js";
import { noticeStatement } from "./notices.js";

/** Thrown inside a transaction to roll it back without an error. */
const ROLL_BACK: unique symbol = Symbol("roll back");

/**
 * Cancels the still non-terminal runs among `batch.runIds` that belong to the cancellation's
 * environment, app and function, and saves the checkpoint, in one transaction: it locks the
 * cancellation row first (`FOR UPDATE`; when the row is gone nothing changes and `gone` is
 * returned), then runs the compare-and-set (see `cancelRuns`; a deadlock is retried). An absent
 * checkpoint cursor keeps the saved one.
 */
export async function commitBatch(db: Database, b: CommitBatch): Promise<CommitResult> {
  return db.retrying(() =>
    db.transaction(async (client): Promise<CommitResult> => {
      const locked = await client.query<{ environment_id: string; app_id: string; function_id: string; lease_owner: string | null }>(
        `SELECT environment_id, app_id, function_id, lease_owner FROM ${db.tables.cancellations} WHERE id = $1 FOR UPDATE`,
        [b.cancellationId],
      );
      const row = locked.rows[0];
      if (row === undefined) return { ok: false, reason: "gone" };
      // A batch of a job run under a lease applies only while its owner still holds it.
      if (b.owner !== undefined && row.lease_owner !== b.owner) return { ok: false, reason: "lease_lost" };
      const scope = { environment_id: row.environment_id, app_id: row.app_id, function_id: row.function_id };
      const cancelled = await cancelRuns(db, client, b.cancellationId, b.runIds, scope);
      await saveCheckpoint(db, client, b.cancellationId, b.checkpoint);
      return { ok: true, cancelled };
    }),
  );
}

/**
 * Takes, renews or takes over a job's owner lease in one statement: the row is locked and updated
 * either way, with the new owner when the lease is free, expired (by the database's clock) or
 * already `owner`'s, else unchanged; the returned owner says which.
 */
export async function leaseCancellation(db: Database, id: string, owner: string, leaseMs: number): Promise<CancellationLeaseResult> {
  const takes = "c.lease_owner IS NULL OR c.lease_owner = $2 OR c.lease_expires_at < n.t";
  const { rows } = await db.pool.query<{ lease_owner: string; expires_at: number }>(
    `UPDATE ${db.tables.cancellations} AS c SET ` +
      `lease_owner = CASE WHEN ${takes} THEN $2 ELSE c.lease_owner END, ` +
      `lease_expires_at = CASE WHEN ${takes} THEN n.t + $3 * interval '1 millisecond' ELSE c.lease_expires_at END ` +
      "FROM (SELECT clock_timestamp() AS t) AS n WHERE c.id = $1 " +
      "RETURNING c.lease_owner, (extract(epoch FROM c.lease_expires_at) * 1000)::float8 AS expires_at",
    [id, owner, leaseMs],
  );
  const row = rows[0];
  if (row === undefined) return { ok: false, reason: "gone" };
  const expiresAt = Number(row.expires_at);
  return row.lease_owner === owner ? { ok: true, expiresAt } : { ok: false, reason: "held", owner: row.lease_owner, expiresAt };
}

/** Clears `owner`'s lease of a job; false when `owner` does not hold it. */
export async function releaseCancellation(db: Database, id: string, owner: string): Promise<boolean> {
  const result = await db.pool.query(`UPDATE ${db.tables.cancellations} SET lease_owner = NULL, lease_expires_at = NULL WHERE id = $1 AND lease_owner = $2`, [id, owner]);
  return (result.rowCount ?? 0) > 0;
}

/** Saves status, counts and cursor (an absent cursor keeps the saved one); false when the record is gone. */
export async function saveCheckpoint(db: Database, client: pg.ClientBase | pg.Pool, id: string, checkpoint: Checkpoint): Promise<boolean> {
  const { counts, cursor } = checkpoint;
  const result = await client.query(
    `UPDATE ${db.tables.cancellations} SET status = $2, scanned = $3, cancelled = $4, skipped_terminal = $5, ` +
      "not_matched = $6, expression_error = $7, non_boolean = $8, " +
      "cursor_started_at = COALESCE($9, cursor_started_at), cursor_id = COALESCE($10, cursor_id), " +
      "updated_at = GREATEST(updated_at, $11) WHERE id = $1",
    [
      id,
      checkpoint.status,
      counts.scanned,
      counts.cancelled,
      counts.skipped_terminal,
      counts.not_matched,
      counts.expression_error,
      counts.non_boolean,
      cursor?.startedAt ?? null,
      cursor?.id ?? null,
      db.now(),
    ],
  );
  return (result.rowCount ?? 0) > 0;
}

/** Replaces a record's settings; false when the record is gone. */
export async function saveSettings(db: Database, id: string, settings: CancellationSettings): Promise<boolean> {
  const result = await db.pool.query(`UPDATE ${db.tables.cancellations} SET settings = $2::jsonb, updated_at = GREATEST(updated_at, $3) WHERE id = $1`, [
    id,
    settingsToJson(settings),
    db.now(),
  ]);
  return (result.rowCount ?? 0) > 0;
}

/**
 * Stores a new cancellation (and, with `insertMore`, what belongs to it: a sharded job's shards)
 * in one transaction. With an idempotency key, the key row is inserted first (`ON CONFLICT DO
 * NOTHING`; a concurrent insert of the same key waits for the other transaction), then the record.
 * When the key already exists the transaction rolls back and the existing record is returned with
 * its request hash.
 *
 * @throws {@link StoreError} `duplicate_cancellation` when the id is taken; `invalid_cancellation`
 * for text PostgreSQL cannot hold.
 */
export async function createCancellation(
  db: Database,
  record: CancellationRecord,
  idempotency: Idempotency | undefined,
  insertMore?: (client: PoolClient) => Promise<void>,
): Promise<CreateResult> {
  for (const [value, what] of [
    [record.environmentId, "environmentId"],
    [record.appId, "appId"],
    [record.functionId, "functionId"],
    [record.if ?? "", "if"],
  ] as const) {
    requireFitsText(value, "invalid_cancellation", `cancellation record: ${what}`);
  }
  if (idempotency !== undefined) {
    requireFitsText(idempotency.key, "invalid_cancellation", "idempotency key");
    requireFitsText(idempotency.requestHash, "invalid_cancellation", "idempotency requestHash");
  }
  // The key may vanish between our failed insert and our read (its record was deleted): then
  // it is free again and another attempt creates the record.
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const created = await db
      .transaction(async (client) => {
        if (idempotency !== undefined) {
          const key = await client.query(
            `INSERT INTO ${db.tables.keys} (environment_id, key, request_hash, cancellation_id, created_at) ` +
              "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (environment_id, key) DO NOTHING",
            [record.environmentId, idempotency.key, idempotency.requestHash, record.id, record.createdAt],
          );
          if (key.rowCount !== 1) throw ROLL_BACK;
        }
        await client.query(
          `INSERT INTO ${db.tables.cancellations} (${CANCELLATION_COLUMNS.join(", ")}) ` +
            `VALUES (${CANCELLATION_COLUMNS.map((_, i) => `$${i + 1}`).join(", ")})`,
          cancellationToRow(record),
        );
        await insertMore?.(client);
        const notice = noticeStatement(db, db.origin, "c", record.id);
        await client.query(notice.sql, notice.params);
        return true;
      })
      .catch((error: unknown) => {
        if (error === ROLL_BACK) return false;
        if (sqlState(error) === "23505" && (error as { constraint?: unknown }).constraint === "cancellations_pkey") {
          throw new StoreError("duplicate_cancellation", `a cancellation with id ${record.id} already exists`);
        }
        throw error;
      });
    if (created) return { created: true, record };
    const existing = await findByKey(db, record.environmentId, idempotency!.key);
    if (existing !== undefined) return { created: false, ...existing };
  }
  throw new StoreError("storage", `idempotency key ${JSON.stringify(idempotency!.key)} kept changing while creating ${record.id}`);
}

/** One cancellation, or `undefined`; with `environmentId`, only if it belongs to that environment. */
export async function getCancellation(db: Database, id: string, environmentId: string | undefined): Promise<CancellationRecord | undefined> {
  if (environmentId !== undefined && !fitsText(environmentId)) return undefined;
  const params: unknown[] = [id];
  let sql = `SELECT ${CANCELLATION_SELECT} FROM ${db.cancellationSource} WHERE c.id = $1`;
  if (environmentId !== undefined) sql += ` AND c.environment_id = $${params.push(environmentId)}`;
  const { rows } = await db.pool.query<PostgresCancellationRow>(sql, params);
  return rows[0] === undefined ? undefined : rowToCancellation(rows[0]);
}

/** Cancellations newest first (descending id), optionally of one environment and strictly before `after`. */
export async function listCancellations(db: Database, options: CheckedListOptions): Promise<CancellationPage> {
  const { limit } = options;
  const params: unknown[] = [];
  const conditions: string[] = [];
  if (options.environmentId !== undefined) {
    if (!fitsText(options.environmentId)) return { records: [] };
    conditions.push(`c.environment_id = $${params.push(options.environmentId)}`);
  }
  if (options.after !== undefined) conditions.push(`c.id < $${params.push(options.after)}`);
  const where = conditions.length === 0 ? "" : ` WHERE ${conditions.join(" AND ")}`;
  const { rows } = await db.pool.query<PostgresCancellationRow>(
    `SELECT ${CANCELLATION_SELECT} FROM ${db.cancellationSource}${where} ORDER BY c.id DESC LIMIT $${params.push(limit + 1)}`,
    params,
  );
  const records = rows.slice(0, limit).map(rowToCancellation);
  const last = records[records.length - 1];
  return rows.length > limit && last !== undefined ? { records, next: last.id } : { records };
}

/** Deletes a record and frees its idempotency key; false when there was none (in that environment). */
export async function deleteCancellation(db: Database, id: string, environmentId: string | undefined): Promise<boolean> {
  if (environmentId !== undefined && !fitsText(environmentId)) return false;
  // One statement: the notice is sent only when a row was deleted, on commit.
  const notice = noticeStatement(db, db.origin, "d", id);
  const params: unknown[] = [id, ...notice.params];
  let sql = `WITH deleted AS (DELETE FROM ${db.tables.cancellations} WHERE id = $1`;
  if (environmentId !== undefined) sql += ` AND environment_id = $${params.push(environmentId)}`;
  sql += " RETURNING id) SELECT pg_notify($2, $3) FROM deleted";
  const result = await db.pool.query(sql, params);
  return (result.rowCount ?? 0) > 0;
}

/** The cancellation created under an idempotency key, with the hash of its request. */
export async function findByKey(db: Database, environmentId: string, key: string): Promise<KeyedRecord | undefined> {
  if (!fitsText(environmentId) || !fitsText(key)) return undefined;
  const { rows } = await db.pool.query<PostgresCancellationRow & { request_hash: string }>(
    `SELECT ${CANCELLATION_SELECT}, k.request_hash FROM ${db.tables.keys} AS k ` +
      `JOIN (${db.cancellationSource}) ON c.id = k.cancellation_id ` +
      "WHERE k.environment_id = $1 AND k.key = $2",
    [environmentId, key],
  );
  const row = rows[0];
  return row === undefined ? undefined : { record: rowToCancellation(row), requestHash: row.request_hash };
}
