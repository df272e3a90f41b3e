/**
 * Pieces shared by the SQL run stores: the column layout of cancellation records, row mapping,
 * id chunking for `IN (...)` lists, a small statement cache, and the walk that renders a pushdown
 * predicate (each store renders the atoms in its own SQL).
 *
 * Conventions every SQL store follows so that they order and compare alike:
 * - run and cancellation ids compare byte-wise (SQLite `BINARY`, PostgreSQL `COLLATE "C"`); ids are
 *   printable ASCII ({@link isValidId}), so byte order equals JS string order;
 * - times are integer epoch milliseconds (`started_at`, `created_at`, …);
 * - the scan index is `(environment_id, app_id, function_id, started_at, id)`.
 *
 * @module
 */
import { normalizeCancellationSettings } from "./checks.js";
import type { Atom, CmpOp, Pred } from "./predicate.js";
import {
  StoreError,
  zeroStatusCounts,
  type CancellationRecord,
  type CancellationSettings,
  type CancellationStatus,
  type Cursor,
  type FunctionSummary,
  type OutcomeCounts,
  type RunStatus,
} from "./types.js";

/** Outcome count keys, which are also the column names of the counts on a cancellation row. */
export const COUNT_COLUMNS = [
  "scanned",
  "cancelled",
  "skipped_terminal",
  "not_matched",
  "expression_error",
  "non_boolean",
] as const satisfies readonly (keyof OutcomeCounts)[];

/** Columns of a cancellation row, in the order of {@link cancellationToRow}. */
export const CANCELLATION_COLUMNS = [
  "id",
  "environment_id",
  "app_id",
  "function_id",
  "started_after",
  "started_before",
  "if_expr",
  "created_at",
  "status",
  ...COUNT_COLUMNS,
  "cursor_started_at",
  "cursor_id",
  "updated_at",
  "settings",
] as const;

/** A cancellation record as stored in one SQL row (`NULL` for absent optional fields). */
export interface CancellationRow {
  readonly id: string;
  readonly environment_id: string;
  readonly app_id: string;
  readonly function_id: string;
  readonly started_after: number | null;
  readonly started_before: number;
  readonly if_expr: string | null;
  readonly created_at: number;
  readonly status: string;
  readonly scanned: number;
  readonly cancelled: number;
  readonly skipped_terminal: number;
  readonly not_matched: number;
  readonly expression_error: number;
  readonly non_boolean: number;
  readonly cursor_started_at: number | null;
  readonly cursor_id: string | null;
  readonly updated_at: number;
  /** JSON text (SQLite) or the parsed `jsonb` value (PostgreSQL); `NULL` on records without settings. */
  readonly settings: string | Readonly<Record<string, unknown>> | null;
}

/** The row values of a record, in {@link CANCELLATION_COLUMNS} order. */
export function cancellationToRow(record: CancellationRecord): (string | number | null)[] {
  return [
    record.id,
    record.environmentId,
    record.appId,
    record.functionId,
    record.startedAfter ?? null,
    record.startedBefore,
    record.if ?? null,
    record.createdAt,
    record.status,
    ...COUNT_COLUMNS.map((key) => record.counts[key]),
    record.cursor?.startedAt ?? null,
    record.cursor?.id ?? null,
    record.updatedAt,
    record.settings === undefined ? null : settingsToJson(record.settings),
  ];
}

/** Settings as the JSON text of the `settings` column (keys in a fixed order). */
export function settingsToJson(settings: CancellationSettings): string {
  return JSON.stringify({
    batchSize: settings.batchSize,
    ratePerSecond: settings.ratePerSecond,
    maxRuns: settings.maxRuns,
    ...(settings.paused === true ? { paused: true } : {}),
  });
}

/**
 * Settings read back from the `settings` column.
 *
 * @throws {@link StoreError} `storage` for settings that do not read back.
 */
export function settingsFromColumn(value: string | Readonly<Record<string, unknown>>): CancellationSettings {
  try {
    return normalizeCancellationSettings(typeof value === "string" ? JSON.parse(value) : value);
  } catch (error) {
    // Written only after the same check, so this is a damaged row.
    throw new StoreError("storage", `a stored cancellation has unreadable settings (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** Rebuilds a record from its row; absent optional fields stay absent. */
export function cancellationFromRow(row: CancellationRow): CancellationRecord {
  const counts: OutcomeCounts = {
    scanned: row.scanned,
    cancelled: row.cancelled,
    skipped_terminal: row.skipped_terminal,
    not_matched: row.not_matched,
    expression_error: row.expression_error,
    non_boolean: row.non_boolean,
  };
  const record: { -readonly [K in keyof CancellationRecord]: CancellationRecord[K] } = {
    id: row.id,
    environmentId: row.environment_id,
    appId: row.app_id,
    functionId: row.function_id,
    startedBefore: row.started_before,
    createdAt: row.created_at,
    status: row.status as CancellationStatus,
    counts,
    updatedAt: row.updated_at,
  };
  if (row.started_after !== null) record.startedAfter = row.started_after;
  if (row.if_expr !== null) record.if = row.if_expr;
  if (row.cursor_started_at !== null && row.cursor_id !== null) {
    const cursor: Cursor = { startedAt: row.cursor_started_at, id: row.cursor_id };
    record.cursor = cursor;
  }
  if (row.settings !== null && row.settings !== undefined) record.settings = settingsFromColumn(row.settings);
  return record;
}

/**
 * Size of the `IN (...)` list to prepare for `count` ids: the next power of two, at most `max`.
 * Preparing one statement per power of two (padding the list by repeating its last id, which an
 * `IN` list ignores) keeps the statement cache at a handful of entries for any batch size.
 */
export function inListSize(count: number, max: number): number {
  let size = 1;
  while (size < count && size < max) size *= 2;
  return Math.min(size, max);
}

/** Splits `ids` into padded chunks of the sizes {@link inListSize} picks. */
export function* paddedIdChunks(ids: readonly string[], max: number): Generator<string[]> {
  for (let start = 0; start < ids.length; start += max) {
    const chunk = ids.slice(start, start + max);
    const size = inListSize(chunk.length, max);
    const last = chunk[chunk.length - 1]!;
    while (chunk.length < size) chunk.push(last);
    yield chunk;
  }
}

/** `?, ?, …` with `count` placeholders. */
export function placeholders(count: number): string {
  return new Array<string>(count).fill("?").join(", ");
}

/** A least-recently-used map with a fixed capacity (for prepared statements keyed by SQL text). */
export class LruCache<K, V> {
  readonly #capacity: number;
  readonly #map = new Map<K, V>();

  /** @param capacity - Most entries kept; the least recently used is evicted beyond it. */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** The value for `key`, building and caching it on a miss. */
  getOrCreate(key: K, create: () => V): V {
    const found = this.#map.get(key);
    if (found !== undefined) {
      // Re-insert to mark as most recently used (Map keeps insertion order).
      this.#map.delete(key);
      this.#map.set(key, found);
      return found;
    }
    const value = create();
    this.#map.set(key, value);
    if (this.#map.size > this.#capacity) this.#map.delete(this.#map.keys().next().value as K);
    return value;
  }

  /** Number of cached entries. */
  get size(): number {
    return this.#map.size;
  }

  /** Drops every entry. */
  clear(): void {
    this.#map.clear();
  }
}

/** One row of a SQL store's `listFunctions` query: `GROUP BY app_id, function_id, status`. */
export type FunctionStatusRow = readonly [appId: string, functionId: string, status: string, runs: number | string, first: number | string, last: number | string];

/**
 * The SQL that {@link foldFunctionRows} reads: one row per (app, function, status) of an
 * environment (`$1` or `?`) of the runs `table`, ordered by app and function byte-wise. `collate` is the byte-order
 * collation clause (`''` for SQLite's default `BINARY`, ` COLLATE "C"` for PostgreSQL).
 */
export function functionStatusQuery(table: string, parameter: string, collate: string): string {
  return (
    `SELECT app_id, function_id, status, COUNT(*), MIN(started_at), MAX(started_at) FROM ${table} ` +
    `WHERE environment_id = ${parameter} GROUP BY app_id, function_id, status ORDER BY app_id${collate}, function_id${collate}`
  );
}

/** Folds the per-status rows of one environment into one summary per function, in row order. */
export function foldFunctionRows(rows: readonly FunctionStatusRow[]): FunctionSummary[] {
  const out: FunctionSummary[] = [];
  let current: { appId: string; functionId: string; runs: Record<RunStatus, number>; total: number; firstStartedAt: number; lastStartedAt: number } | undefined;
  for (const [appId, functionId, status, runs, first, last] of rows) {
    if (current === undefined || current.appId !== appId || current.functionId !== functionId) {
      current = { appId, functionId, runs: zeroStatusCounts(), total: 0, firstStartedAt: Number(first), lastStartedAt: Number(last) };
      out.push(current);
    }
    const n = Number(runs);
    current.runs[status as RunStatus] += n;
    current.total += n;
    current.firstStartedAt = Math.min(current.firstStartedAt, Number(first));
    current.lastStartedAt = Math.max(current.lastStartedAt, Number(last));
  }
  return out;
}

/** A predicate rendered for one database: SQL text and its parameters in placeholder order. */
export interface RenderedPredicate {
  readonly sql: string;
  readonly params: readonly unknown[];
  /** The SQL holds exactly for the rows the predicate holds for (not only a superset). */
  readonly exact: boolean;
}

/** SQL spelling of each comparison operator. */
export const SQL_OPS: Readonly<Record<CmpOp, string>> = { "==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">=" };

/** `'a', 'b'`: a list of SQL string literals (for names written here, never for user text). */
export function quoteList(values: readonly string[]): string {
  return values.map((v) => `'${v}'`).join(", ");
}

/**
 * Renders a pushdown predicate (`predicate.ts`) as a boolean SQL expression over the `event`
 * column: the logic is walked here, each store renders the atoms. Every value a predicate holds
 * becomes a bound parameter (collected in {@link params}); the SQL text depends only on the
 * predicate's shape, so a store can cache prepared statements by it.
 */
export abstract class PredicateRenderer {
  /** Parameters bound so far, in placeholder order. */
  readonly params: unknown[] = [];
  /** Cleared when an `unknown` subtree or an approximate atom was rendered. */
  exact = true;
  protected abstract readonly trueSql: string;
  protected abstract readonly falseSql: string;
  /** The SQL of one atom: TRUE or FALSE for every row, never NULL. */
  protected abstract atom(a: Atom): string;

  /** Whether this store renders `a` exactly; default yes. */
  protected atomIsExact(_a: Atom): boolean {
    return true;
  }

  /** The SQL of a predicate. */
  render(p: Pred): string {
    switch (p.k) {
      case "true":
        return this.trueSql;
      case "unknown":
        this.exact = false;
        return this.trueSql;
      case "false":
        return this.falseSql;
      case "atom":
        if (!this.atomIsExact(p.atom)) this.exact = false;
        return this.atom(p.atom);
      case "not":
        if (!this.atomIsExact(p.atom)) this.exact = false;
        return `NOT ${this.atom(p.atom)}`;
      case "and": {
        const parts: string[] = [];
        for (const x of p.xs) {
          if (x.k === "unknown") this.exact = false;
          else parts.push(this.render(x));
        }
        return parts.length === 0 ? this.trueSql : parts.length === 1 ? parts[0]! : `(${parts.join(" AND ")})`;
      }
      case "or":
        return `(${p.xs.map((x) => this.render(x)).join(" OR ")})`;
    }
  }
}
