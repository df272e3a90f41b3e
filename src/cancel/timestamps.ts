/**
 * Timestamps on the wire: the one parser of RFC 3339 text into instants, the one formatter back,
 * and the span both hold.
 *
 * Every instant the API, the CLI and the library take as text goes through {@link parseTimestamp},
 * and every instant a record carries out goes through {@link formatTimestamp} (or, for what a
 * store hands back, {@link wireTimestamp}). They share one span, {@link MIN_TIMESTAMP_MS} to
 * {@link MAX_TIMESTAMP_MS}: years 0001 to 9999 after the offset is applied, to the millisecond.
 * Text can name instants outside it (`0000-01-01T00:00:00+00:01` is in year −1, and
 * `9999-12-31T23:59:59-00:01` in year 10000); such an instant cannot be written back as RFC 3339,
 * so the parser refuses it, and a record holding one could not be shown. Year 0001 is the first
 * year of Go's `time.Time` (its zero value, 0001-01-01T00:00:00Z, is where Inngest starts an
 * unbounded window).
 *
 * @module
 */

/** An instant with nanosecond precision: whole epoch milliseconds plus 0–999,999 ns. */
export interface PreciseInstant {
  /** Epoch milliseconds, rounded down. */
  readonly ms: number;
  /** Nanoseconds past `ms`, 0 to 999,999. */
  readonly nanos: number;
}

/** What {@link parseTimestamp} answers. */
export type ParsedTimestamp =
  | { readonly ok: true; readonly instant: PreciseInstant }
  | {
      readonly ok: false;
      /** Why the text is not a timestamp we take (no part of the text is echoed). */
      readonly reason: string;
      /** `true` when the text is well-formed RFC 3339 but names an instant outside the span. */
      readonly outOfRange?: true;
    };

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** Earliest instant we take or write: 0001-01-01T00:00:00.000Z (Go's zero time), epoch ms. */
export const MIN_TIMESTAMP_MS = daysFromCivil(1, 1, 1) * 86_400_000;

/** Latest instant we take or write: 9999-12-31T23:59:59.999Z, epoch ms. */
export const MAX_TIMESTAMP_MS = daysFromCivil(10_000, 1, 1) * 86_400_000 - 1;

/** The span in words, for messages. */
export const TIMESTAMP_SPAN_TEXT = "between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z";

/** Whether `ms` is a whole number of epoch milliseconds inside the span RFC 3339 text holds here. */
export function isWireTimestamp(ms: unknown): ms is number {
  return typeof ms === "number" && Number.isInteger(ms) && ms >= MIN_TIMESTAMP_MS && ms <= MAX_TIMESTAMP_MS;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;
/** The same shape with a lower-case `t` or `z`, which RFC 3339 allows and Go does not. */
const LOWER_CASE_FORM = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Parses an RFC 3339 timestamp as Go's `time.Time` does, keeping nanoseconds: `YYYY-MM-DD`, an
 * upper-case `T`, `hh:mm:ss`, an optional fraction of 1 to 9 digits after a `.`, and a zone (`Z`
 * or `±hh:mm`, up to ±23:59); no leap second (`:60`). Unlike Go, the instant must also lie in the
 * span of the module notes once the offset is applied.
 *
 * @returns The instant, or the reason the text is not one (`outOfRange` when only the span is wrong).
 */
export function parseTimestamp(text: string): ParsedTimestamp {
  const m = RFC3339.exec(text);
  if (m === null) {
    if (LOWER_CASE_FORM.test(text)) return { ok: false, reason: "the T and the Z must be upper-case" };
    return { ok: false, reason: "expected YYYY-MM-DDThh:mm:ss[.fraction] and a zone (Z or ±hh:mm)" };
  }
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  const fraction = m[7];
  const zone = m[8]!;
  if (month < 1 || month > 12) return { ok: false, reason: "month out of range" };
  if (day < 1 || day > daysInMonth(year, month)) return { ok: false, reason: "day out of range" };
  if (hour > 23) return { ok: false, reason: "hour out of range" };
  if (minute > 59) return { ok: false, reason: "minute out of range" };
  if (second > 59) return { ok: false, reason: "second out of range" };
  if (fraction !== undefined && fraction.length > 9) return { ok: false, reason: "more than 9 fractional digits" };
  let offsetMinutes = 0;
  if (zone !== "Z") {
    const zoneHours = Number(zone.slice(1, 3));
    const zoneMinutes = Number(zone.slice(4, 6));
    if (zoneHours > 23) return { ok: false, reason: "time zone hour out of range" };
    if (zoneMinutes > 59) return { ok: false, reason: "time zone minute out of range" };
    offsetMinutes = (zone[0] === "-" ? -1 : 1) * (zoneHours * 60 + zoneMinutes);
  }
  const fractionNanos = fraction === undefined ? 0 : Number(fraction.padEnd(9, "0"));
  const ms =
    daysFromCivil(year, month, day) * 86_400_000 +
    hour * 3_600_000 +
    minute * 60_000 +
    second * 1000 -
    offsetMinutes * 60_000 +
    Math.floor(fractionNanos / 1_000_000);
  const nanos = fractionNanos % 1_000_000;
  // The last partial millisecond of year 9999 is outside too: a `started_after` there would round
  // up into year 10000.
  if (ms < MIN_TIMESTAMP_MS || ms > MAX_TIMESTAMP_MS || (ms === MAX_TIMESTAMP_MS && nanos > 0)) {
    return { ok: false, reason: `the instant, once its offset is applied, must lie ${TIMESTAMP_SPAN_TEXT}`, outOfRange: true };
  }
  return { ok: true, instant: { ms, nanos } };
}

/**
 * Formats epoch milliseconds as RFC 3339 UTC with milliseconds (`2024-01-22T14:22:42.130Z`).
 *
 * @throws RangeError when `ms` does not lie between {@link MIN_TIMESTAMP_MS} and
 * {@link MAX_TIMESTAMP_MS} (see {@link wireTimestamp} for a form that does not throw).
 */
export function formatTimestamp(ms: number): string {
  const text = wireTimestamp(ms);
  if (text === null) throw new RangeError(`timestamp ${String(ms)} lies outside years 0001-9999`);
  return text;
}

/**
 * Formats epoch milliseconds as {@link formatTimestamp} does, or answers `null` for a value it
 * cannot write (outside the span, or not a finite number): what a store hands back is shown, never
 * thrown on. A fraction of a millisecond is dropped.
 */
export function wireTimestamp(ms: number): string | null {
  return typeof ms === "number" && ms >= MIN_TIMESTAMP_MS && ms < MAX_TIMESTAMP_MS + 1 ? new Date(ms).toISOString() : null;
}
