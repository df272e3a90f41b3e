/**
 * The wire form of a cancellation record: Inngest's field names (`app_id`, `started_before`, …)
 * plus our `status` and outcome counts.
 *
 * Timestamps are written as RFC 3339 in UTC with exactly three fractional digits
 * (`2024-01-22T14:22:42.130Z`), the style of Inngest's documentation. (Go itself would print
 * `…42.13Z`, trimming zeros and keeping the request's offset; the docs' style reads better and
 * sorts as text.) A window bound is written as the normalised whole-millisecond bound the job
 * uses (see `request.ts`), so the record shows exactly which runs it covers.
 *
 * @module
 */
import type { CancellationRecord, CancellationStatus, OutcomeCounts } from "../stores/types.js";

/** A cancellation as sent over the wire. */
export interface WireCancellation {
  /** ULID of the cancellation. */
  readonly id: string;
  readonly environment_id: string;
  readonly app_id: string;
  readonly function_id: string;
  /** Inclusive lower bound, or `null` when the window is unbounded below. */
  readonly started_after: string | null;
  /** Inclusive upper bound. */
  readonly started_before: string;
  /** The `if` expression, or `null` when every run of the window is cancelled. */
  readonly if: string | null;
  readonly created_at: string;
  /** Last change of status or counts. */
  readonly updated_at: string;
  readonly status: CancellationStatus;
  /** Outcome of every run scanned so far; `scanned` is the sum of the other five. */
  readonly counts: OutcomeCounts;
  /** The job's batch size (runs per page and per batch); `null` on a record stored before settings were kept (the default, 1000, applies). */
  readonly batch_size: number | null;
  /** The job's rate limit, runs per second; `null` for none. */
  readonly rate_per_second: number | null;
  /** The job's cap on runs cancelled; `null` for none. */
  readonly max_runs: number | null;
  /** Whether the job is paused (`PATCH /v1/cancellations/:id`, `cancelkit pause`): its workers wait before their next batch. */
  readonly paused: boolean;
}

/**
 * Formats epoch milliseconds as RFC 3339 UTC with milliseconds (`2024-01-22T14:22:42.130Z`).
 *
 * @throws RangeError when `ms` lies outside years 0000–9999, which RFC 3339 cannot write.
 */
export function formatTimestamp(ms: number): string {
  const text = new Date(ms).toISOString();
  // Outside 0000–9999 `toISOString` writes a six-digit signed year, which is not RFC 3339.
  if (text.length !== 24) throw new RangeError(`timestamp ${ms} lies outside years 0000-9999`);
  return text;
}

const ULID_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/i;

/**
 * A cancellation id as Go's `ulid.Parse` accepts it (26 Crockford base32 characters, any case),
 * uppercased; `undefined` for anything else, which the API answers with `Invalid cancellation ID`.
 */
export function parseCancellationId(text: unknown): string | undefined {
  return typeof text === "string" && ULID_PATTERN.test(text) ? text.toUpperCase() : undefined;
}

/** Copies counts into a fresh plain object in the wire order. */
function wireCounts(counts: OutcomeCounts): OutcomeCounts {
  return {
    scanned: counts.scanned,
    cancelled: counts.cancelled,
    skipped_terminal: counts.skipped_terminal,
    not_matched: counts.not_matched,
    expression_error: counts.expression_error,
    non_boolean: counts.non_boolean,
  };
}

/** The wire form of a stored cancellation record (a fresh object, safe to `JSON.stringify`). */
export function toWireCancellation(record: CancellationRecord): WireCancellation {
  return {
    id: record.id,
    environment_id: record.environmentId,
    app_id: record.appId,
    function_id: record.functionId,
    started_after: record.startedAfter === undefined ? null : formatTimestamp(record.startedAfter),
    started_before: formatTimestamp(record.startedBefore),
    if: record.if ?? null,
    created_at: formatTimestamp(record.createdAt),
    updated_at: formatTimestamp(record.updatedAt),
    status: record.status,
    counts: wireCounts(record.counts),
    batch_size: record.settings?.batchSize ?? null,
    rate_per_second: record.settings?.ratePerSecond ?? null,
    max_runs: record.settings?.maxRuns ?? null,
    paused: record.settings?.paused === true,
  };
}
