/**
 * Inngest's clock functions `now`, `now_plus` and `now_minus`, with the duration syntax of
 * `github.com/xhit/go-str2duration`.
 *
 * @module
 */
import { CelError, CelTimestamp } from "../../values.js";
import { kindName } from "../core.js";
import { addTimestampDuration, durationFromNanos, isValidTimestamp } from "../time.js";
import { isDigitAt } from "./time.js";

const INT64_MAX = 0x7fffffffffffffffn;
const NANOS_PER_SECOND = 1_000_000_000;

/** A timestamp from epoch milliseconds (fractions kept to the nanosecond), range-checked. */
export function timestampFromMillis(ms: number): CelTimestamp {
  let seconds = Math.floor(ms / 1000);
  let nanos = Math.round((ms - seconds * 1000) * 1e6);
  if (nanos >= NANOS_PER_SECOND) {
    seconds += 1;
    nanos -= NANOS_PER_SECOND;
  }
  return new CelTimestamp(seconds, nanos);
}

function nowTimestamp(nowMs: number): CelTimestamp | CelError {
  if (!Number.isFinite(nowMs)) {
    return new CelError("invalid_argument", `now is not a finite time: ${nowMs}`);
  }
  const t = timestampFromMillis(nowMs);
  return isValidTimestamp(t) ? t : new CelError("overflow", "timestamp overflow");
}

/**
 * Inngest's `now()`: the evaluation's clock reading `nowMs` (epoch milliseconds, as
 * `Date.now()`) as a timestamp. A non-finite `nowMs` is an `invalid_argument` error and one
 * outside years 1–9999 an `overflow` error; `Date.now()` never produces either.
 */
export function now(nowMs: number): CelTimestamp | CelError {
  return nowTimestamp(nowMs);
}

const UNIT_NANOS: ReadonlyMap<string, bigint> = new Map([
  ["ns", 1n],
  ["us", 1_000n],
  ["\u00b5s", 1_000n], // micro sign
  ["\u03bcs", 1_000n], // Greek mu
  ["ms", 1_000_000n],
  ["s", 1_000_000_000n],
  ["m", 60_000_000_000n],
  ["h", 3_600_000_000_000n],
  ["d", 86_400_000_000_000n],
  ["w", 604_800_000_000_000n],
]);

function isNumberChar(c: number): boolean {
  return c === 46 || (c >= 48 && c <= 57);
}

/**
 * `github.com/xhit/go-str2duration/v2` `ParseDuration`: Go's `time.ParseDuration` grammar plus
 * the units `d` (24h) and `w` (168h), in int64 nanoseconds (at most 2^63-1 in magnitude).
 * Returns the nanoseconds or the library's error text.
 */
export function parseStr2Duration(input: string): bigint | string {
  const invalid = `time: invalid duration "${input}"`;
  let s = input;
  let negative = false;
  if (s !== "" && (s[0] === "-" || s[0] === "+")) {
    negative = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0n;
  if (s === "") return invalid;
  let total = 0n;
  let i = 0;
  while (i < s.length) {
    if (!isNumberChar(s.charCodeAt(i))) return invalid;
    let whole = 0n;
    const wholeStart = i;
    while (i < s.length && isDigitAt(s, i)) {
      if (whole > INT64_MAX / 10n) return invalid;
      whole = whole * 10n + BigInt(s.charCodeAt(i) - 48);
      if (whole > INT64_MAX) return invalid;
      i++;
    }
    const sawWhole = i > wholeStart;
    let fraction = 0n;
    let scale = 1;
    let sawFraction = false;
    if (s[i] === ".") {
      i++;
      const fractionStart = i;
      let overflowed = false;
      for (; i < s.length && isDigitAt(s, i); i++) {
        if (overflowed) continue;
        if (fraction > INT64_MAX / 10n) {
          overflowed = true;
          continue;
        }
        const next = fraction * 10n + BigInt(s.charCodeAt(i) - 48);
        if (next > INT64_MAX) {
          overflowed = true;
          continue;
        }
        fraction = next;
        scale *= 10;
      }
      sawFraction = i > fractionStart;
    }
    if (!sawWhole && !sawFraction) return invalid;
    const unitStart = i;
    while (i < s.length && !isNumberChar(s.charCodeAt(i))) i++;
    if (i === unitStart) return `time: missing unit in duration "${input}"`;
    const unitName = s.slice(unitStart, i);
    const unit = UNIT_NANOS.get(unitName);
    if (unit === undefined) return `time: unknown unit "${unitName}" in duration "${input}"`;
    if (whole > INT64_MAX / unit) return invalid;
    let value = whole * unit;
    if (fraction > 0n) {
      // float64(f) * (float64(unit) / scale), truncated toward zero, as the library computes it.
      value += BigInt(Math.trunc(Number(fraction) * (Number(unit) / scale)));
      if (value > INT64_MAX) return invalid;
    }
    total += value;
    if (total > INT64_MAX) return invalid;
  }
  return negative ? -total : total;
}

function shiftNow(name: string, nowMs: number, v: unknown, sign: 1n | -1n): CelTimestamp | CelError {
  if (typeof v !== "string") {
    return new CelError("invalid_argument", `${name}() expects a string, got ${kindName(v)}`);
  }
  const nanos = parseStr2Duration(v);
  if (typeof nanos === "string") return new CelError("invalid_argument", `${name}(): ${nanos}`);
  const start = nowTimestamp(nowMs);
  if (start instanceof CelError) return start;
  const delta = durationFromNanos(sign * nanos); // |nanos| < 2^63: always representable
  if (delta instanceof CelError) return delta;
  return addTimestampDuration(start, delta);
}

/**
 * Inngest's `now_plus(d)`: the clock reading `nowMs` (epoch milliseconds) plus the duration `d`
 * in str2duration syntax (`ns us µs μs ms s m h d w`, optional sign, fractions such as `1.5h`,
 * sequences such as `1d2h30m`, a bare `0`). A syntax error or a non-string `d` is an
 * `invalid_argument` error (Inngest returns `nil`, failing the expression); a result outside
 * years 1–9999 is an `overflow` error.
 */
export function nowPlus(nowMs: number, v: unknown): CelTimestamp | CelError {
  return shiftNow("now_plus", nowMs, v, 1n);
}

/** Inngest's `now_minus(d)`: as {@link nowPlus}, subtracting the duration. */
export function nowMinus(nowMs: number, v: unknown): CelTimestamp | CelError {
  return shiftNow("now_minus", nowMs, v, -1n);
}
