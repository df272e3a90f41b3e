/**
 * Rows of the PostgreSQL store's tables and how they map to the contract's records. The column
 * layout of a cancellation is the one every SQL store shares (`sql-common.ts`); PostgreSQL adds
 * the sums of a sharded job's shards to a cancellation read.
 *
 * @module
 */
import type { QueryResultRow } from "pg";
import { CANCELLATION_COLUMNS, COUNT_COLUMNS, cancellationFromRow, type CancellationRow } from "../sql-common.js";
import { StoreError, type CancellationRecord, type RunEvent, type RunRecord, type RunStatus, type ShardRecord, type ShardStatus } from "../types.js";

/** Columns of a run row; `event` is jsonb, `event_json` the `json` fallback for events jsonb cannot hold. */
export const RUN_COLUMNS = "id, environment_id, app_id, function_id, started_at, status, event, event_json, cancellation_id";

/** Columns a window scan reads: environment, app and function are the query's, so not read back. */
export const SCAN_COLUMNS = "id, started_at, status, event, event_json, cancellation_id";

/** Select list of a cancellation read over `Database.cancellationSource` (record `c`, shard sums `s`). */
export const CANCELLATION_SELECT =
  CANCELLATION_COLUMNS.map((column) => `c.${column}`).join(", ") +
  ", s.shard_count, " +
  COUNT_COLUMNS.map((column) => `s.shard_${column}`).join(", ") +
  ", s.shard_updated_at";

/** Whether a `settings` column (or expression) says the job is paused: NULL when it is NULL. */
export function pausedSql(settings: string): string {
  return `${settings} @> '{"paused": true}'::jsonb`;
}

/** Select list of a shard read, columns qualified by `prefix` (e.g. `"s."`). */
export function shardColumns(prefix = ""): string {
  const plain = [
    "cancellation_id",
    "shard_no",
    "after_started_at",
    "after_id",
    "until_started_at",
    "until_id",
    "cursor_started_at",
    "cursor_id",
    ...COUNT_COLUMNS,
    "status",
    "lease_owner",
    "updated_at",
  ];
  return `${plain.map((column) => prefix + column).join(", ")}, (extract(epoch FROM ${prefix}lease_expires_at) * 1000)::double precision AS lease_expires_at`;
}

/** Environment, app and function of the runs of one scan. */
export interface ScanScope {
  readonly environmentId: string;
  readonly appId: string;
  readonly functionId: string;
}

/** A row of {@link RUN_COLUMNS}. */
export interface RunRow extends QueryResultRow {
  id: string;
  environment_id: string;
  app_id: string;
  function_id: string;
  started_at: number;
  status: RunStatus;
  event: RunEvent | null;
  event_json: RunEvent | null;
  cancellation_id: string | null;
}

/** A row of a window scan: the run columns that vary (the scope is the query's). */
export type ScanRow = Pick<RunRow, "id" | "started_at" | "status" | "event" | "event_json" | "cancellation_id">;

/** A cancellation read: the shared columns plus the job's shard count and the sums of its shards' counts. */
export interface PostgresCancellationRow extends CancellationRow, QueryResultRow {
  /** Shards of the job (0: not sharded) and the sums of their counts (NULL without shards). */
  shard_count: number;
  shard_scanned: number | null;
  shard_cancelled: number | null;
  shard_skipped_terminal: number | null;
  shard_not_matched: number | null;
  shard_expression_error: number | null;
  shard_non_boolean: number | null;
  shard_updated_at: number | null;
}

/** A row of {@link shardColumns}. */
export interface ShardRow extends QueryResultRow {
  cancellation_id: string;
  shard_no: number;
  after_started_at: number | null;
  after_id: string | null;
  until_started_at: number | null;
  until_id: string | null;
  cursor_started_at: number | null;
  cursor_id: string | null;
  scanned: number;
  cancelled: number;
  skipped_terminal: number;
  not_matched: number;
  expression_error: number;
  non_boolean: number;
  status: ShardStatus;
  lease_owner: string | null;
  lease_expires_at: number | null;
  updated_at: number;
}

/** A run from its full row. */
export function rowToRun(row: RunRow): RunRecord {
  return scanRowToRun(row, { environmentId: row.environment_id, appId: row.app_id, functionId: row.function_id });
}

/** A run of a scan from its row and the scan's scope. */
export function scanRowToRun(row: ScanRow, scope: ScanScope): RunRecord {
  const event = row.event ?? row.event_json;
  if (event === null) throw new StoreError("storage", `run ${row.id} has no event`);
  const run: { -readonly [K in keyof RunRecord]: RunRecord[K] } = {
    id: row.id,
    environmentId: scope.environmentId,
    appId: scope.appId,
    functionId: scope.functionId,
    startedAt: row.started_at,
    status: row.status,
    event,
  };
  if (row.cancellation_id !== null) run.cancellationId = row.cancellation_id;
  return run;
}

/**
 * A cancellation from its row. A sharded job's counts are its shards' (each shard commit saves
 * only its own row), and it has no single cursor: each shard keeps its own.
 */
export function rowToCancellation(row: PostgresCancellationRow): CancellationRecord {
  const record = cancellationFromRow(row);
  if (row.shard_count === 0) return record;
  const { cursor: _perShard, ...rest } = record;
  return {
    ...rest,
    counts: {
      scanned: row.shard_scanned ?? 0,
      cancelled: row.shard_cancelled ?? 0,
      skipped_terminal: row.shard_skipped_terminal ?? 0,
      not_matched: row.shard_not_matched ?? 0,
      expression_error: row.shard_expression_error ?? 0,
      non_boolean: row.shard_non_boolean ?? 0,
    },
    updatedAt: Math.max(row.updated_at, row.shard_updated_at ?? row.updated_at),
  };
}

/** A shard from its row. */
export function rowToShard(row: ShardRow): ShardRecord {
  const shard: { -readonly [K in keyof ShardRecord]: ShardRecord[K] } = {
    cancellationId: row.cancellation_id,
    shardNo: row.shard_no,
    counts: {
      scanned: row.scanned,
      cancelled: row.cancelled,
      skipped_terminal: row.skipped_terminal,
      not_matched: row.not_matched,
      expression_error: row.expression_error,
      non_boolean: row.non_boolean,
    },
    status: row.status,
    updatedAt: row.updated_at,
  };
  if (row.after_started_at !== null && row.after_id !== null) shard.after = { startedAt: row.after_started_at, id: row.after_id };
  if (row.until_started_at !== null && row.until_id !== null) shard.until = { startedAt: row.until_started_at, id: row.until_id };
  if (row.cursor_started_at !== null && row.cursor_id !== null) shard.cursor = { startedAt: row.cursor_started_at, id: row.cursor_id };
  if (row.lease_owner !== null) shard.leaseOwner = row.lease_owner;
  if (row.lease_expires_at !== null) shard.leaseExpiresAt = row.lease_expires_at;
  return shard;
}
