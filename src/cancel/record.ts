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
 * Writing a record never throws. Validation keeps every instant a record is created with inside
 * years 0001–9999; a record that holds another all the same (written by an older version, or by
 * hand into the database) is shown with that timestamp `null` and an `unreadable` text naming it,
 * so that one bad record never fails a listing of the others, and can still be read and deleted.
 *
 * @module
 */
import type { CancellationRecord, CancellationStatus, OutcomeCounts } from "../stores/types.js";
import { wireTimestamp } from "./timestamps.js";

/** A cancellation as sent over the wire. */
export interface WireCancellation {
  /** ULID of the cancellation. */
  readonly id: string;
  readonly environment_id: string;
  readonly app_id: string;
  readonly function_id: string;
  /** Inclusive lower bound, or `null` when the window is unbounded below. */
  readonly started_after: string | null;
  /** Inclusive upper bound; `null` only on an {@link WireCancellation.unreadable} record. */
  readonly started_before: string | null;
  /** The `if` expression, or `null` when every run of the window is cancelled. */
  readonly if: string | null;
  /** When it was created; `null` only on an {@link WireCancellation.unreadable} record. */
  readonly created_at: string | null;
  /** Last change of status or counts; `null` only on an {@link WireCancellation.unreadable} record. */
  readonly updated_at: string | null;
  readonly status: CancellationStatus;
  /** Outcome of every run scanned so far; `scanned` is the sum of the other five. */
  readonly counts: OutcomeCounts;
  /** The job's batch size (runs per page and per batch); `null` on a record stored before settings were kept (the default, 1000, applies). */
  readonly batch_size: number | null;
  /** The job's rate limit, runs per second; `null` for none. */
  readonly rate_per_second: number | null;
  /** The job's cap on runs cancelled; `null` for none. */
  readonly max_runs: number | null;
  /**
   * Present only on a stored record that holds a value the wire cannot carry (a timestamp outside
   * years 0001–9999): says which, e.g. `started_after: the stored value -62167219260000 (epoch ms)
   * lies outside years 0001-9999`. Those fields are `null`. Absent on every other record.
   */
  readonly unreadable?: string;
  /** Whether the job is paused (`PATCH /v1/cancellations/:id`, `cancelkit pause`): its workers wait before their next batch. */
  readonly paused: boolean;
}

// The formatter lives with the parser (one span for both); it is part of this module's API too.
export { formatTimestamp } from "./timestamps.js";

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

/**
 * The wire form of a stored cancellation record (a fresh object, safe to `JSON.stringify`). Never
 * throws: a timestamp it cannot write is `null`, and `unreadable` says which (see the module notes).
 */
export function toWireCancellation(record: CancellationRecord): WireCancellation {
  const problems: string[] = [];
  const timestamp = (field: string, ms: number): string | null => {
    const text = wireTimestamp(ms);
    if (text === null) problems.push(`${field}: the stored value ${String(ms)} (epoch ms) lies outside years 0001-9999`);
    return text;
  };
  const wire: { -readonly [K in keyof WireCancellation]: WireCancellation[K] } = {
    id: record.id,
    environment_id: record.environmentId,
    app_id: record.appId,
    function_id: record.functionId,
    started_after: record.startedAfter === undefined ? null : timestamp("started_after", record.startedAfter),
    started_before: timestamp("started_before", record.startedBefore),
    if: record.if ?? null,
    created_at: timestamp("created_at", record.createdAt),
    updated_at: timestamp("updated_at", record.updatedAt),
    status: record.status,
    counts: wireCounts(record.counts),
    batch_size: record.settings?.batchSize ?? null,
    rate_per_second: record.settings?.ratePerSecond ?? null,
    max_runs: record.settings?.maxRuns ?? null,
    paused: record.settings?.paused === true,
  };
  if (problems.length > 0) wire.unreadable = problems.join("; ");
  return wire;
}
