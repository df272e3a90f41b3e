/**
 * CEL timestamps and durations with nanosecond precision, as cel-go implements them.
 *
 * - A timestamp lies in 0001-01-01T00:00:00Z … 9999-12-31T23:59:59.999999999Z.
 * - A duration is, as in cel-go (Go's `time.Duration`), a signed 64-bit count of nanoseconds:
 *   ±9,223,372,036.854775807 s (about ±292 years). The `CelDuration` class can hold the wider
 *   protobuf range, but every function here produces and accepts only the int64-nanosecond
 *   range, which is what the cel-spec conformance tests expect (`timestamp('9999-…') -
 *   timestamp('0001-…')` is an overflow error).
 *
 * Arithmetic works on `(seconds, nanos)` pairs of JS numbers, never on BigInt. Calendar fields are
 * computed with proleptic-Gregorian integer arithmetic (as Go does); `Intl.DateTimeFormat` is only
 * asked for a zone's UTC offset at an instant, one cached formatter per zone.
 *
 * @module
 */
import {
  CelDuration,
  CelError,
  CelTimestamp,
  MAX_TIMESTAMP_SECONDS,
  MIN_TIMESTAMP_SECONDS,
} from "../values.js";
import { INT_OVERFLOW_MESSAGE, boundedDigits, conversionError, goFormatFloat } from "./convert.js";

const NANOS_PER_SECOND = 1_000_000_000;
const SECONDS_PER_DAY = 86_400;

/** Largest duration: 2^63-1 ns = 9,223,372,036 s + 854,775,807 ns. */
const MAX_DURATION_SECONDS_I64 = 9_223_372_036;
const MAX_DURATION_NANOS_I64 = 854_775_807;
/** Smallest duration: -2^63 ns = -9,223,372,036 s - 854,775,808 ns. */
const MIN_DURATION_NANOS_I64 = -854_775_808;

const INT64_MAX_N = 0x7fffffffffffffffn;
const INT64_MIN_N = -0x8000000000000000n;

/** cel-go's error text when a timestamp leaves 0001…9999. */
export const TIMESTAMP_OVERFLOW_MESSAGE = "timestamp overflow";
/** Text used when a duration string is outside the int64-nanosecond range. */
export const DURATION_OVERFLOW_MESSAGE = "duration overflow";

function timestampOverflow(): CelError {
  return new CelError("overflow", TIMESTAMP_OVERFLOW_MESSAGE);
}

function durationArithmeticOverflow(): CelError {
  // cel-go performs duration arithmetic with int64 checks, whose error reads "integer overflow".
  return new CelError("overflow", INT_OVERFLOW_MESSAGE);
}

// ---------------------------------------------------------------------------------------------
// Range checks and construction
// ---------------------------------------------------------------------------------------------

/** Whether `(seconds, nanos)` (same signs, |nanos| < 1e9) fits in int64 nanoseconds. */
function durationInRange(seconds: number, nanos: number): boolean {
  if (seconds > MAX_DURATION_SECONDS_I64 || seconds < -MAX_DURATION_SECONDS_I64) return false;
  if (seconds === MAX_DURATION_SECONDS_I64) return nanos <= MAX_DURATION_NANOS_I64;
  if (seconds === -MAX_DURATION_SECONDS_I64) return nanos >= MIN_DURATION_NANOS_I64;
  return true;
}

/**
 * Builds a duration from a seconds/nanos pair of any signs (|nanos| < 2e9), normalising to equal
 * signs, or returns `undefined` when it leaves the int64-nanosecond range.
 */
function makeDuration(seconds: number, nanos: number): CelDuration | undefined {
  if (nanos >= NANOS_PER_SECOND) {
    seconds += 1;
    nanos -= NANOS_PER_SECOND;
  } else if (nanos <= -NANOS_PER_SECOND) {
    seconds -= 1;
    nanos += NANOS_PER_SECOND;
  }
  if (seconds > 0 && nanos < 0) {
    seconds -= 1;
    nanos += NANOS_PER_SECOND;
  } else if (seconds < 0 && nanos > 0) {
    seconds += 1;
    nanos -= NANOS_PER_SECOND;
  }
  if (!durationInRange(seconds, nanos)) return undefined;
  // Avoid -0 so that results print and compare like any other zero.
  return new CelDuration(seconds === 0 ? 0 : seconds, nanos === 0 ? 0 : nanos);
}

/** Whether a timestamp lies in the CEL range 0001-01-01 … 9999-12-31T23:59:59.999999999Z. */
export function isValidTimestamp(t: CelTimestamp): boolean {
  return t.seconds >= MIN_TIMESTAMP_SECONDS && t.seconds <= MAX_TIMESTAMP_SECONDS;
}

/**
 * `timestamp(int)`: seconds since the Unix epoch; outside 0001…9999 an `overflow` error
 * ("timestamp overflow").
 */
export function timestampFromSeconds(seconds: bigint): CelTimestamp | CelError {
  if (seconds < BigInt(MIN_TIMESTAMP_SECONDS) || seconds > BigInt(MAX_TIMESTAMP_SECONDS)) {
    return timestampOverflow();
  }
  return new CelTimestamp(Number(seconds), 0);
}

/** `int(timestamp)`: whole seconds since the Unix epoch (floored, as Go's `Time.Unix`). */
export function timestampToSeconds(t: CelTimestamp): bigint {
  return BigInt(t.seconds);
}

/** A duration from a signed nanosecond count; outside int64 an `overflow` error. */
export function durationFromNanos(nanos: bigint): CelDuration | CelError {
  if (nanos > INT64_MAX_N || nanos < INT64_MIN_N) return durationArithmeticOverflow();
  const seconds = Number(nanos / 1_000_000_000n);
  const rest = Number(nanos % 1_000_000_000n);
  return new CelDuration(seconds === 0 ? 0 : seconds, rest === 0 ? 0 : rest);
}

/** `int(duration)`: the duration in nanoseconds. */
export function durationToNanos(d: CelDuration): bigint {
  return BigInt(d.seconds) * 1_000_000_000n + BigInt(d.nanos);
}

// ---------------------------------------------------------------------------------------------
// Arithmetic and comparison
// ---------------------------------------------------------------------------------------------

/** `timestamp + duration` (and `duration + timestamp`); leaving 0001…9999 is an `overflow` error. */
export function addTimestampDuration(t: CelTimestamp, d: CelDuration): CelTimestamp | CelError {
  let seconds = t.seconds + d.seconds;
  let nanos = t.nanos + d.nanos; // t.nanos ∈ [0, 1e9), d.nanos ∈ (-1e9, 1e9)
  if (nanos >= NANOS_PER_SECOND) {
    seconds += 1;
    nanos -= NANOS_PER_SECOND;
  } else if (nanos < 0) {
    seconds -= 1;
    nanos += NANOS_PER_SECOND;
  }
  if (seconds < MIN_TIMESTAMP_SECONDS || seconds > MAX_TIMESTAMP_SECONDS) return timestampOverflow();
  return new CelTimestamp(seconds, nanos);
}

/**
 * `timestamp - duration`; as cel-go, the duration is negated first (so subtracting the most
 * negative duration is an integer overflow), then added.
 */
export function subtractTimestampDuration(
  t: CelTimestamp,
  d: CelDuration,
): CelTimestamp | CelError {
  const negated = negateDuration(d);
  if (negated instanceof CelError) return negated;
  return addTimestampDuration(t, negated);
}

/**
 * `timestamp - timestamp` as a duration. Mirrors cel-go's checks: the whole-second difference is
 * scaled to nanoseconds with an overflow check before the nanosecond difference is added, so a
 * result within a second of the int64 limit can still be an `overflow` error.
 */
export function subtractTimestamps(a: CelTimestamp, b: CelTimestamp): CelDuration | CelError {
  const seconds = a.seconds - b.seconds;
  if (seconds > MAX_DURATION_SECONDS_I64 || seconds < -MAX_DURATION_SECONDS_I64) {
    return durationArithmeticOverflow();
  }
  return makeDuration(seconds, a.nanos - b.nanos) ?? durationArithmeticOverflow();
}

/** `duration + duration`; outside int64 nanoseconds an `overflow` error ("integer overflow"). */
export function addDurations(a: CelDuration, b: CelDuration): CelDuration | CelError {
  return makeDuration(a.seconds + b.seconds, a.nanos + b.nanos) ?? durationArithmeticOverflow();
}

/** `duration - duration`; outside int64 nanoseconds an `overflow` error. */
export function subtractDurations(a: CelDuration, b: CelDuration): CelDuration | CelError {
  return makeDuration(a.seconds - b.seconds, a.nanos - b.nanos) ?? durationArithmeticOverflow();
}

/** `-duration`; negating the most negative duration (-2^63 ns) is an `overflow` error. */
export function negateDuration(d: CelDuration): CelDuration | CelError {
  return makeDuration(-d.seconds, -d.nanos) ?? durationArithmeticOverflow();
}

/** Orders two timestamps: -1, 0 or 1. */
export function compareTimestamps(a: CelTimestamp, b: CelTimestamp): -1 | 0 | 1 {
  if (a.seconds !== b.seconds) return a.seconds < b.seconds ? -1 : 1;
  if (a.nanos !== b.nanos) return a.nanos < b.nanos ? -1 : 1;
  return 0;
}

/** Orders two durations (both normalised: seconds and nanos share a sign): -1, 0 or 1. */
export function compareDurations(a: CelDuration, b: CelDuration): -1 | 0 | 1 {
  if (a.seconds !== b.seconds) return a.seconds < b.seconds ? -1 : 1;
  if (a.nanos !== b.nanos) return a.nanos < b.nanos ? -1 : 1;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic (proleptic Gregorian, any year)
// ---------------------------------------------------------------------------------------------

/** Days since 1970-01-01 of a civil date (month 1–12). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra =
    yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

/** Calendar fields of a local time. */
interface CivilTime {
  year: number;
  /** 1–12 */
  month: number;
  /** 1–31 */
  day: number;
  /** 0–365 */
  dayOfYear: number;
  /** 0 = Sunday */
  dayOfWeek: number;
  hour: number;
  minute: number;
  second: number;
}

/** Calendar fields of `localSeconds` (seconds since 1970-01-01T00:00 local wall time). */
function civilFromSeconds(localSeconds: number): CivilTime {
  const days = Math.floor(localSeconds / SECONDS_PER_DAY);
  const secondOfDay = localSeconds - days * SECONDS_PER_DAY;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36524) -
      Math.floor(dayOfEra / 146096)) /
      365,
  );
  const doyMarch =
    dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * doyMarch + 2) / 153);
  const day = doyMarch - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return {
    year,
    month,
    day,
    dayOfYear: days - daysFromCivil(year, 1, 1),
    dayOfWeek: (((days + 4) % 7) + 7) % 7,
    hour: Math.floor(secondOfDay / 3600),
    minute: Math.floor((secondOfDay % 3600) / 60),
    second: secondOfDay % 60,
  };
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(month: number, year: number): number {
  return month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
}

// ---------------------------------------------------------------------------------------------
// RFC 3339 parsing and formatting
// ---------------------------------------------------------------------------------------------

function digitAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57 ? c - 48 : -1;
}

/** Two ASCII digits at `i` as a number, or -1. */
function twoDigits(s: string, i: number): number {
  const a = digitAt(s, i);
  const b = digitAt(s, i + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

/**
 * `timestamp(string)`: RFC 3339 exactly as Go's `time.Parse(time.RFC3339, s)` accepts it —
 * `YYYY-MM-DDTHH:MM:SS`, an optional fraction (`.` or `,`, any number of digits, digits after
 * the ninth ignored), then `Z` or `±hh:mm` (hh ≤ 24, mm ≤ 60). Go's general parser also takes a
 * one-digit hour (`T3:04:05Z`). `T` and `Z` are case-sensitive; day-of-month is validated.
 * Syntax errors are `type_conversion` errors with cel-go's text; a valid time outside
 * 0001…9999 UTC is an `overflow` error ("timestamp overflow").
 */
export function parseTimestamp(s: string): CelTimestamp | CelError {
  const parsed = parseRfc3339(s);
  if (parsed === undefined) return conversionError("string", "google.protobuf.Timestamp");
  const [seconds, nanos] = parsed;
  if (seconds < MIN_TIMESTAMP_SECONDS || seconds > MAX_TIMESTAMP_SECONDS) return timestampOverflow();
  return new CelTimestamp(seconds, nanos);
}

/** Returns `[epochSeconds, nanos]` or `undefined` when `s` is not RFC 3339 as Go reads it. */
function parseRfc3339(s: string): [number, number] | undefined {
  if (s.length < 19) return undefined;
  const y0 = digitAt(s, 0);
  const y1 = digitAt(s, 1);
  const y2 = digitAt(s, 2);
  const y3 = digitAt(s, 3);
  if (y0 < 0 || y1 < 0 || y2 < 0 || y3 < 0 || s[4] !== "-") return undefined;
  const year = y0 * 1000 + y1 * 100 + y2 * 10 + y3;
  const month = twoDigits(s, 5);
  if (month < 1 || month > 12 || s[7] !== "-") return undefined;
  const day = twoDigits(s, 8);
  if (day < 1 || day > daysIn(month, year) || s[10] !== "T") return undefined;
  let i = 11;
  let hour = digitAt(s, i);
  if (hour < 0) return undefined;
  i++;
  const h2 = digitAt(s, i);
  if (h2 >= 0) {
    hour = hour * 10 + h2;
    i++;
  }
  if (hour > 23 || s[i] !== ":") return undefined;
  const minute = twoDigits(s, i + 1);
  if (minute < 0 || minute > 59 || s[i + 3] !== ":") return undefined;
  const second = twoDigits(s, i + 4);
  if (second < 0 || second > 59) return undefined;
  i += 6;
  let nanos = 0;
  if ((s[i] === "." || s[i] === ",") && digitAt(s, i + 1) >= 0) {
    i++;
    let scale = 100_000_000;
    while (i < s.length && digitAt(s, i) >= 0) {
      nanos += digitAt(s, i) * scale;
      scale = Math.floor(scale / 10);
      i++;
    }
  }
  let offsetSeconds = 0;
  if (s[i] === "Z" && i + 1 === s.length) {
    // UTC
  } else {
    if (s.length - i !== 6 || s[i + 3] !== ":") return undefined;
    const sign = s[i];
    const oh = twoDigits(s, i + 1);
    const om = twoDigits(s, i + 4);
    if ((sign !== "+" && sign !== "-") || oh < 0 || om < 0 || oh > 24 || om > 60) return undefined;
    offsetSeconds = (oh * 60 + om) * 60 * (sign === "-" ? -1 : 1);
  }
  const local = daysFromCivil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second;
  return [local - offsetSeconds, nanos];
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * `string(timestamp)`: Go's RFC3339Nano in UTC — fraction with trailing zeros removed (none when
 * zero), four-digit year, `Z`.
 */
export function formatTimestamp(t: CelTimestamp): string {
  const c = civilFromSeconds(t.seconds);
  let out = `${String(c.year).padStart(4, "0")}-${pad2(c.month)}-${pad2(c.day)}T${pad2(c.hour)}:${pad2(c.minute)}:${pad2(c.second)}`;
  if (t.nanos !== 0) {
    let fraction = String(t.nanos).padStart(9, "0");
    let end = fraction.length;
    while (fraction[end - 1] === "0") end--;
    fraction = fraction.slice(0, end);
    out += `.${fraction}`;
  }
  return `${out}Z`;
}

// ---------------------------------------------------------------------------------------------
// Duration parsing and formatting
// ---------------------------------------------------------------------------------------------

const DURATION_UNITS: ReadonlyMap<string, bigint> = new Map([
  ["ns", 1n],
  ["us", 1_000n],
  ["\u00b5s", 1_000n], // micro sign
  ["\u03bcs", 1_000n], // Greek mu
  ["ms", 1_000_000n],
  ["s", 1_000_000_000n],
  ["m", 60_000_000_000n],
  ["h", 3_600_000_000_000n],
]);

const TWO_POW_63_N = 1n << 63n;

/**
 * `duration(string)` with Go's `time.ParseDuration` grammar: an optional sign, then one or more
 * `number unit` pairs (`1h30m`, `-1.5s`, `2h45m.5s`, `100ns`, `1us`, `1µs`, `0`); units `ns us µs
 * ms s m h`. Fractions are converted exactly as Go does (through float64 per component). Syntax
 * errors are `type_conversion` errors with cel-go's text; totals beyond ±2^63 ns are `overflow`
 * errors ("duration overflow").
 */
export function parseDuration(s: string): CelDuration | CelError {
  const result = parseGoDuration(s);
  if (result === "syntax") return conversionError("string", "google.protobuf.Duration");
  if (result === "overflow") return new CelError("overflow", DURATION_OVERFLOW_MESSAGE);
  return durationFromNanos(result);
}

function isDurationNumberChar(c: number): boolean {
  return c === 46 || (c >= 48 && c <= 57);
}

/** Go's ParseDuration; returns nanoseconds, or why it failed. */
function parseGoDuration(input: string): bigint | "syntax" | "overflow" {
  let s = input;
  let negative = false;
  if (s !== "" && (s[0] === "-" || s[0] === "+")) {
    negative = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0n;
  if (s === "") return "syntax";
  let total = 0n;
  let i = 0;
  while (i < s.length) {
    if (!isDurationNumberChar(s.charCodeAt(i))) return "syntax";
    // integer part
    let whole = 0n;
    const wholeStart = i;
    while (i < s.length && digitAt(s, i) >= 0) {
      whole = whole * 10n + BigInt(digitAt(s, i));
      if (whole > TWO_POW_63_N) return "overflow";
      i++;
    }
    const sawWhole = i > wholeStart;
    // fraction part: Go keeps at most the digits that fit in an int64 and a float64 scale
    let fraction = 0n;
    let scale = 1;
    let sawFraction = false;
    if (s[i] === ".") {
      i++;
      const fractionStart = i;
      let overflowed = false;
      while (i < s.length && digitAt(s, i) >= 0) {
        if (!overflowed) {
          const next = fraction * 10n + BigInt(digitAt(s, i));
          if (fraction > (TWO_POW_63_N - 1n) / 10n || next > TWO_POW_63_N) {
            overflowed = true;
          } else {
            fraction = next;
            scale *= 10;
          }
        }
        i++;
      }
      sawFraction = i > fractionStart;
    }
    if (!sawWhole && !sawFraction) return "syntax";
    // unit: everything up to the next digit or '.'
    const unitStart = i;
    while (i < s.length && !isDurationNumberChar(s.charCodeAt(i))) i++;
    if (i === unitStart) return "syntax";
    const unit = DURATION_UNITS.get(s.slice(unitStart, i));
    if (unit === undefined) return "syntax";
    if (whole > TWO_POW_63_N / unit) return "overflow";
    let value = whole * unit;
    if (fraction > 0n) {
      // float64(f) * (float64(unit) / scale), truncated: Go's exact arithmetic, reproduced.
      value += BigInt(Math.trunc(Number(fraction) * (Number(unit) / scale)));
      if (value > TWO_POW_63_N) return "overflow";
    }
    total += value;
    if (total > TWO_POW_63_N) return "overflow";
  }
  if (negative) return -total;
  if (total > TWO_POW_63_N - 1n) return "overflow";
  return total;
}

/**
 * cel-go's `Duration.Seconds()`: whole seconds plus the nanoseconds divided by 1e9, in float64.
 * Exact below about 2^53 ns; larger durations round like cel-go's.
 */
function durationSecondsFloat(d: CelDuration): number {
  return d.seconds + d.nanos / 1e9;
}

/**
 * `string(duration)` as cel-go: the duration in seconds as a float64, printed with Go's shortest
 * `%f` digits, then `s` (`1.5s`, `-0.000000001s`, `6347s`). Like cel-go, durations longer than
 * about 52 days with nanosecond parts can lose their last digits to float64 rounding.
 */
export function formatDuration(d: CelDuration): string {
  return `${goFormatFloat(durationSecondsFloat(d), "f", -1)}s`;
}

// ---------------------------------------------------------------------------------------------
// Duration accessors
// ---------------------------------------------------------------------------------------------

/**
 * `duration.getHours()`: the whole duration in hours, truncated toward zero (cel-go's
 * `int(d.Hours())`, computed with the same float64 steps).
 */
export function durationGetHours(d: CelDuration): bigint {
  const hours = Math.trunc(d.seconds / 3600);
  const restNanos = (d.seconds - hours * 3600) * 1e9 + d.nanos;
  return BigInt(Math.trunc(hours + restNanos / 3.6e12));
}

/** `duration.getMinutes()`: the whole duration in minutes, truncated toward zero. */
export function durationGetMinutes(d: CelDuration): bigint {
  const minutes = Math.trunc(d.seconds / 60);
  const restNanos = (d.seconds - minutes * 60) * 1e9 + d.nanos;
  return BigInt(Math.trunc(minutes + restNanos / 6e10));
}

/** `duration.getSeconds()`: the whole duration in seconds, truncated toward zero. */
export function durationGetSeconds(d: CelDuration): bigint {
  return BigInt(Math.trunc(durationSecondsFloat(d)));
}

/**
 * `duration.getMilliseconds()`: the milliseconds *portion* of the duration (`duration('1.234s')`
 * → 234, `duration('-1.5s')` → -500), as the CEL language definition and the cel-spec
 * conformance test `timestamps/duration_converters/get_milliseconds` specify. cel-go instead
 * returns the total milliseconds (and lists that conformance test as failing); use
 * `durationToNanos(d) / 1_000_000n` for that.
 */
export function durationGetMilliseconds(d: CelDuration): bigint {
  return BigInt(Math.trunc(d.nanos / 1_000_000));
}

// ---------------------------------------------------------------------------------------------
// Time zones
// ---------------------------------------------------------------------------------------------

/** A resolved time zone: the UTC offset in force at any instant. */
export interface TimeZone {
  /** The name as given (`America/Los_Angeles`, `+05:30`, `UTC`). */
  readonly name: string;
  /** Seconds east of UTC at the instant `epochSeconds`. */
  offsetSecondsAt(epochSeconds: number): number;
}

class FixedZone implements TimeZone {
  constructor(
    readonly name: string,
    private readonly offsetSeconds: number,
  ) {}

  offsetSecondsAt(): number {
    return this.offsetSeconds;
  }
}

/** Hour buckets remembered per IANA zone before the memo is cleared. */
const OFFSET_MEMO_LIMIT = 4096;

class IanaZone implements TimeZone {
  /**
   * Offset per hour since the epoch; NaN marks an hour that contains a transition. Asking Intl
   * costs microseconds, and the instants a filter sees cluster in a few hours.
   */
  private readonly hourOffsets = new Map<number, number>();

  constructor(
    readonly name: string,
    private readonly formatter: Intl.DateTimeFormat,
  ) {}

  offsetSecondsAt(epochSeconds: number): number {
    const hour = Math.floor(epochSeconds / 3600);
    let offset = this.hourOffsets.get(hour);
    if (offset === undefined) {
      // Equal offsets at both ends of the hour mean no transition inside it: the tz database
      // never changes a zone's offset twice within one hour.
      const first = this.lookupOffset(hour * 3600);
      offset = first === this.lookupOffset(hour * 3600 + 3599) ? first : NaN;
      if (this.hourOffsets.size >= OFFSET_MEMO_LIMIT) this.hourOffsets.clear();
      this.hourOffsets.set(hour, offset);
    }
    return Number.isNaN(offset) ? this.lookupOffset(epochSeconds) : offset;
  }

  /** The offset at an instant, straight from Intl. */
  lookupOffset(epochSeconds: number): number {
    // The formatter's default (Gregorian) calendar is proleptic in V8, and the era keeps years
    // before 1 AD apart; the offset is local wall time minus UTC, so LMT seconds survive.
    let year = 0;
    let month = 1;
    let day = 1;
    let hour = 0;
    let minute = 0;
    let second = 0;
    let beforeCommonEra = false;
    for (const part of this.formatter.formatToParts(epochSeconds * 1000)) {
      switch (part.type) {
        case "year":
          year = Number(part.value);
          break;
        case "month":
          month = Number(part.value);
          break;
        case "day":
          day = Number(part.value);
          break;
        case "hour":
          hour = Number(part.value);
          break;
        case "minute":
          minute = Number(part.value);
          break;
        case "second":
          second = Number(part.value);
          break;
        case "era":
          beforeCommonEra = part.value === "BC" || part.value === "B";
          break;
        default:
          break;
      }
    }
    if (beforeCommonEra) year = 1 - year;
    const local = daysFromCivil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second;
    return local - epochSeconds;
  }
}

const UTC_ZONE: TimeZone = new FixedZone("UTC", 0);
const ZONE_CACHE_LIMIT = 512;
const zoneCache = new Map<string, TimeZone | CelError>();

/** Go's `strconv.Atoi`: optional sign and decimal digits, within int64. */
function goAtoi(s: string): number | CelError {
  const c0 = s.charCodeAt(0);
  const start = c0 === 43 || c0 === 45 ? 1 : 0;
  let ok = start < s.length;
  for (let i = start; ok && i < s.length; i++) ok = digitAt(s, i) >= 0;
  if (!ok) return new CelError("invalid_argument", `strconv.Atoi: parsing ${goQuote(s)}: invalid syntax`);
  const magnitude = boundedDigits(s, start, 19);
  const v = magnitude === undefined ? undefined : c0 === 45 ? -magnitude : magnitude;
  if (v === undefined || v > INT64_MAX_N || v < INT64_MIN_N) {
    return new CelError("invalid_argument", `strconv.Atoi: parsing ${goQuote(s)}: value out of range`);
  }
  return Number(v);
}

/** Go's `%q`-style quoting for the ASCII-ish strings that appear in these error messages. */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

/**
 * Resolves a time-zone argument as cel-go does: a string with a `:` is a fixed offset
 * `[+|-]hours:minutes` (both parts read with Go's Atoi; a leading `-` subtracts the minutes too,
 * so `-02:30` is two and a half hours west); anything else is an IANA name (`UTC`, `US/Central`,
 * `Asia/Kathmandu`; `""` means UTC; `Local` is the process's zone). Unknown names give an
 * `invalid_argument` error `unknown time zone NAME`. Results are cached (up to 512 names), so the
 * compiler can also call this once for a constant argument and pass the `TimeZone` on.
 */
export function resolveTimeZone(name: string): TimeZone | CelError {
  const cached = zoneCache.get(name);
  if (cached !== undefined) return cached;
  const resolved = resolveUncached(name);
  if (zoneCache.size >= ZONE_CACHE_LIMIT) zoneCache.clear();
  zoneCache.set(name, resolved);
  return resolved;
}

function resolveUncached(name: string): TimeZone | CelError {
  const colon = name.indexOf(":");
  if (colon >= 0) {
    const hours = goAtoi(name.slice(0, colon));
    if (hours instanceof CelError) return hours;
    const minutes = goAtoi(name.slice(colon + 1));
    if (minutes instanceof CelError) return minutes;
    const offsetMinutes = name[0] === "-" ? hours * 60 - minutes : hours * 60 + minutes;
    // Go computes the offset through time.Duration (int64 ns); refuse what would wrap there.
    if (!Number.isSafeInteger(offsetMinutes * 60) || Math.abs(offsetMinutes) > 153_722_867_280) {
      return new CelError("invalid_argument", `timezone offset out of range: ${name}`);
    }
    return new FixedZone(name, offsetMinutes * 60);
  }
  if (name === "" || name === "UTC") return UTC_ZONE;
  const unknown = new CelError("invalid_argument", `unknown time zone ${name}`);
  // Go reads zoneinfo files by name: offsets without a colon and odd spellings are not names.
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) return unknown;
  try {
    const ianaName = name === "Local" ? undefined : name;
    const formatter = new Intl.DateTimeFormat("en-US-u-nu-latn", {
      timeZone: ianaName,
      calendar: "gregory",
      hourCycle: "h23",
      era: "short",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    if (ianaName !== undefined && !spelledAsIana(name, formatter.resolvedOptions().timeZone)) return unknown;
    return new IanaZone(name, formatter);
  } catch {
    return unknown;
  }
}

/**
 * Whether `name` is spelled as the zone database spells it. Go's `time.LoadLocation` reads the
 * zoneinfo file of that name, so `utc` or `america/new_york` are unknown in cel-go, while
 * `Intl` accepts any case. A name Intl resolves to itself, or to a different canonical zone (an
 * alias such as `US/Central`), passes if each of its segments starts with a capital, as every
 * name of the database does; one that differs from its resolution only in case does not.
 */
function spelledAsIana(name: string, resolved: string): boolean {
  if (resolved === name) return true;
  if (resolved.toLowerCase() === name.toLowerCase()) return false;
  return name.split("/").every((segment) => /^[A-Z]/.test(segment));
}

/** Calendar fields of a timestamp in a zone (UTC when `zone` is omitted). */
function localFields(t: CelTimestamp, zone: string | TimeZone | undefined): CivilTime | CelError {
  if (zone === undefined) return civilFromSeconds(t.seconds);
  const tz = typeof zone === "string" ? resolveTimeZone(zone) : zone;
  if (tz instanceof CelError) return tz;
  return civilFromSeconds(t.seconds + tz.offsetSecondsAt(t.seconds));
}

/** A zone argument: a name (resolved and cached on use) or a zone from {@link resolveTimeZone}. */
export type ZoneArg = string | TimeZone;

/** `timestamp.getFullYear([zone])`: the year, e.g. 2009. */
export function getFullYear(t: CelTimestamp, zone?: ZoneArg): bigint | CelError {
  const f = localFields(t, zone);
  return f instanceof CelError ? f : BigInt(f.year);
}

/** `timestamp.getMonth([zone])`: the month, 0-based (0 = January). */
export function getMonth(t: CelTimestamp, zone?: ZoneArg): bigint | CelError {
  const f = localFields(t, zone);
  return f instanceof CelError ? f : BigInt(f.month - 1);
}

/** `timestamp.getDayOfYear([zone])`: the day of the year, 0-based. */
export function getDayOfYear(t: CelTimestamp, zone?: ZoneArg): bigint | CelError {
  const f = localFields(t, zone);
  return f instanceof CelError ? f : BigInt(f.dayOfYear);
}

/** `timestamp.getDate([zone])`: the day of the month, 1-based. */
export function getDate(t: CelTimestamp, zone?: ZoneArg): bigint | CelError {
  const f = localFields(t, zone);
  return f instanceof CelError ? f : BigInt(f.day);
}

/** `timestamp.getDayOfMonth([zone])`: the day of the month, 0-based. */
export function getDayOfMonth(t: CelTimestamp, zone?: ZoneArg): bigint | CelError {
  const f = localFields(t, zone);
  return f instanceof CelError ? f : BigInt(f.day - 1);
}

/** `timestamp.getDayOfWeek([zone])`: the day of the week, 0 = Sunday. */
export function getDayOfWeek(t: CelTimestamp, zone?: ZoneArg): bigint | CelError {
  const f = localFields(t, zone);
  return f instanceof CelError ? f : BigInt(f.dayOfWeek);
}

/** `timestamp.getHours([zone])`: the hour, 0–23. */
export function getHours(t: CelTimestamp, zone?: ZoneArg): bigint | CelError {
  const f = localFields(t, zone);
  return f instanceof CelError ? f : BigInt(f.hour);
}

/** `timestamp.getMinutes([zone])`: the minute, 0–59. */
export function getMinutes(t: CelTimestamp, zone?: ZoneArg): bigint | CelError {
  const f = localFields(t, zone);
  return f instanceof CelError ? f : BigInt(f.minute);
}

/** `timestamp.getSeconds([zone])`: the second, 0–59. */
export function getSeconds(t: CelTimestamp, zone?: ZoneArg): bigint | CelError {
  const f = localFields(t, zone);
  return f instanceof CelError ? f : BigInt(f.second);
}

/**
 * `timestamp.getMilliseconds([zone])`: the millisecond within the second, 0–999. The zone is
 * still resolved (an unknown zone is an error) although no offset changes the milliseconds.
 */
export function getMilliseconds(t: CelTimestamp, zone?: ZoneArg): bigint | CelError {
  if (typeof zone === "string") {
    const tz = resolveTimeZone(zone);
    if (tz instanceof CelError) return tz;
  }
  return BigInt(Math.floor(t.nanos / 1_000_000));
}
