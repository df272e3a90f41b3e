/**
 * Go's `time.Parse` with the layouts of Inngest's `pkg/dateutil`, behind Inngest's `date`.
 *
 * @module
 */
import { CelError, CelTimestamp } from "../../values.js";
import { kindName } from "../core.js";

const NANOS_PER_SECOND_N = 1_000_000_000n;
const SECONDS_PER_DAY = 86_400;

/** Layout elements of Go's `time` package that Inngest's date layouts use. */
type Std =
  | "2006" // stdLongYear
  | "06" // stdYear
  | "01" // stdZeroMonth
  | "Jan" // stdMonth
  | "02" // stdZeroDay
  | "_2" // stdUnderDay
  | "Mon" // stdWeekDay
  | "Monday" // stdLongWeekDay
  | "15" // stdHour
  | "04" // stdZeroMinute
  | "05" // stdZeroSecond
  | ".000" // stdFracSecond0, three digits
  | ".999999999" // stdFracSecond9
  | "MST" // stdTZ
  | "-0700" // stdNumTZ
  | "Z07:00"; // stdISO8601ColonTZ

/** A layout: literal text and elements in order (`{ std }` marks an element). */
type Layout = readonly (string | { readonly std: Std })[];

const std = (s: Std): { readonly std: Std } => ({ std: s });

const YMD: Layout = [std("2006"), "-", std("01"), "-", std("02")];
const HMS: Layout = [std("15"), ":", std("04"), ":", std("05")];

/**
 * `pkg/dateutil`'s layouts, tried in this order: RFC3339, `2006-01-02T15:04:05`, RFC1123,
 * RFC822, RFC822Z, RFC850, RubyDate, UnixDate, ANSIC, Stamp, StampMilli, `2006-01-02`, and Go's
 * `time.Time.String()` layout.
 */
const DATE_LAYOUTS: readonly Layout[] = [
  [...YMD, "T", ...HMS, std("Z07:00")],
  [...YMD, "T", ...HMS],
  [std("Mon"), ", ", std("02"), " ", std("Jan"), " ", std("2006"), " ", ...HMS, " ", std("MST")],
  [std("02"), " ", std("Jan"), " ", std("06"), " ", std("15"), ":", std("04"), " ", std("MST")],
  [std("02"), " ", std("Jan"), " ", std("06"), " ", std("15"), ":", std("04"), " ", std("-0700")],
  [std("Monday"), ", ", std("02"), "-", std("Jan"), "-", std("06"), " ", ...HMS, " ", std("MST")],
  [std("Mon"), " ", std("Jan"), " ", std("02"), " ", ...HMS, " ", std("-0700"), " ", std("2006")],
  [std("Mon"), " ", std("Jan"), " ", std("_2"), " ", ...HMS, " ", std("MST"), " ", std("2006")],
  [std("Mon"), " ", std("Jan"), " ", std("_2"), " ", ...HMS, " ", std("2006")],
  [std("Jan"), " ", std("_2"), " ", ...HMS],
  [std("Jan"), " ", std("_2"), " ", ...HMS, std(".000")],
  YMD,
  [...YMD, " ", ...HMS, std(".999999999"), " ", std("-0700"), " ", std("MST")],
];

const SHORT_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const SHORT_DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const LONG_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/** Whether `s` has an ASCII digit at `i`. */
export function isDigitAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
}

/** Go's `leadingInt` on a short string: the leading digits' value and the rest, or undefined. */
function leadingInt(s: string): [number, string] | undefined {
  let x = 0;
  let i = 0;
  for (; i < s.length && isDigitAt(s, i); i++) {
    x = x * 10 + (s.charCodeAt(i) - 48);
    if (x > 2 ** 63) return undefined;
  }
  return [x, s.slice(i)];
}

/** Go's internal `time.atoi`: optional sign, then digits only (the empty string is 0). */
function goAtoi(s: string): number | undefined {
  let negative = false;
  if (s.length > 0 && (s[0] === "-" || s[0] === "+")) {
    negative = s[0] === "-";
    s = s.slice(1);
  }
  const r = leadingInt(s);
  if (r === undefined || r[1].length > 0) return undefined;
  return negative ? -r[0] : r[0];
}

/** Go's `getnum`: one or two digits (exactly two when `fixed`). */
function getnum(s: string, fixed: boolean): [number, string] | undefined {
  if (!isDigitAt(s, 0)) return undefined;
  if (!isDigitAt(s, 1)) {
    if (fixed) return undefined;
    return [s.charCodeAt(0) - 48, s.slice(1)];
  }
  return [(s.charCodeAt(0) - 48) * 10 + (s.charCodeAt(1) - 48), s.slice(2)];
}

/** Go's `lookup`: the first name that prefixes `s`, ASCII case-insensitively. */
function lookupName(names: readonly string[], s: string): [number, string] | undefined {
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (s.length < name.length) continue;
    let ok = true;
    for (let j = 0; j < name.length && ok; j++) {
      let a = s.charCodeAt(j);
      let b = name.charCodeAt(j);
      if (a !== b) {
        a |= 0x20;
        b |= 0x20;
        ok = a === b && a >= 97 && a <= 122;
      }
    }
    if (ok) return [i, s.slice(name.length)];
  }
  return undefined;
}

/** Go's `skip`: matches layout text; a space matches any run of spaces (even none at the end). */
function skipLiteral(value: string, prefix: string): string | undefined {
  let p = 0;
  let v = 0;
  while (p < prefix.length) {
    if (prefix[p] === " ") {
      if (v < value.length && value[v] !== " ") return undefined;
      while (p < prefix.length && prefix[p] === " ") p++;
      while (v < value.length && value[v] === " ") v++;
      continue;
    }
    if (v >= value.length || value[v] !== prefix[p]) return undefined;
    p++;
    v++;
  }
  return value.slice(v);
}

/** Go's `parseNanoseconds`: `value[0]` is `.` or `,`; at most nine digits count. */
function parseNanoseconds(value: string, nbytes: number): number | undefined {
  if (value[0] !== "." && value[0] !== ",") return undefined;
  if (nbytes > 10) nbytes = 10;
  const ns = goAtoi(value.slice(1, nbytes));
  if (ns === undefined || ns < 0) return undefined;
  return ns * 10 ** (10 - nbytes);
}

/** Go's `parseSignedOffset`: length of `±h` / `±hh` (hours ≤ 23), or 0. */
function parseSignedOffset(value: string): number {
  if (value[0] !== "+" && value[0] !== "-") return 0;
  const r = leadingInt(value.slice(1));
  if (r === undefined || r[1].length === value.length - 1 || r[0] > 23) return 0;
  return value.length - r[1].length;
}

/** Go's `parseTimeZone`: the length of a zone abbreviation at the start of `value`, or 0. */
function parseTimeZone(value: string): number {
  if (value.length < 3) return 0;
  const four = value.slice(0, 4);
  if (four === "ChST" || four === "MeST") return 4;
  if (value.startsWith("GMT")) return value.length === 3 ? 3 : 3 + parseSignedOffset(value.slice(3));
  if (value[0] === "+" || value[0] === "-") return parseSignedOffset(value);
  let upper = 0;
  while (upper < 6 && upper < value.length) {
    const c = value.charCodeAt(upper);
    if (c < 65 || c > 90) break;
    upper++;
  }
  switch (upper) {
    case 3:
      return 3;
    case 4:
      return value[3] === "T" || four === "WITA" ? 4 : 0;
    case 5:
      return value[4] === "T" ? 5 : 0;
    default:
      return 0;
  }
}

function isLeap(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(month: number, year: number): number {
  return month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (any year, month 1–12). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/**
 * Go's `time.Parse(layout, value)` for the layout elements above, with `time.Local` taken to be
 * UTC (as in a container without a zone configured). Returns the instant or `undefined`.
 *
 * Zone rules follow Go: `Z` or the abbreviation `UTC` mean UTC and win over a numeric offset in
 * the same string; a numeric offset is applied; `GMT+h` / `GMT-h` are that many hours; every
 * other abbreviation (`EST`, `CET`, `PDT`, `+03`, …) is unknown to a UTC `Local`, so Go records it
 * with a zero offset.
 */
function goParse(layout: Layout, input: string): CelTimestamp | undefined {
  const p = new ParsedTime(input);
  for (let k = 0; k < layout.length; k++) {
    const element = layout[k]!;
    if (typeof element === "string") {
      const rest = skipLiteral(p.value, element);
      if (rest === undefined) return undefined;
      p.value = rest;
      continue;
    }
    const ok = isDateElement(element.std)
      ? parseDateElement(p, element.std)
      : isZoneElement(element.std)
        ? parseZoneElement(p, element.std)
        : parseClockElement(p, element.std, layout, k);
    if (!ok) return undefined;
  }
  if (p.value.length > 0) return undefined; // extra text
  const month = p.month < 0 ? 1 : p.month;
  const day = p.day < 0 ? 1 : p.day;
  if (day < 1 || day > daysIn(month, p.year)) return undefined;
  let offset = 0;
  if (p.utc) offset = 0;
  else if (p.zoneOffset !== undefined) offset = p.zoneOffset;
  else if (p.zoneName.length > 3 && p.zoneName.startsWith("GMT")) offset = (goAtoi(p.zoneName.slice(3)) ?? 0) * 3600;
  const seconds = daysFromCivil(p.year, month, day) * SECONDS_PER_DAY + p.hour * 3600 + p.minute * 60 + p.second - offset;
  return new CelTimestamp(seconds, p.nanos);
}

/** What {@link goParse} has read so far, and the input left. */
class ParsedTime {
  year = 0;
  month = -1;
  day = -1;
  hour = 0;
  minute = 0;
  second = 0;
  nanos = 0;
  utc = false;
  zoneOffset: number | undefined = undefined;
  zoneName = "";
  constructor(public value: string) {}
}

type DateStd = "06" | "2006" | "Jan" | "01" | "Mon" | "Monday" | "02" | "_2";
type ZoneStd = "Z07:00" | "-0700" | "MST";
type ClockStd = Exclude<Std, DateStd | ZoneStd>;

function isDateElement(e: Std): e is DateStd {
  return e === "06" || e === "2006" || e === "Jan" || e === "01" || e === "Mon" || e === "Monday" || e === "02" || e === "_2";
}

function isZoneElement(e: Std): e is ZoneStd {
  return e === "Z07:00" || e === "-0700" || e === "MST";
}

/** Reads a year, month, weekday or day element; false when the input does not match. */
function parseDateElement(p: ParsedTime, e: DateStd): boolean {
  const value = p.value;
  switch (e) {
    case "06": {
      if (value.length < 2) return false;
      const y = goAtoi(value.slice(0, 2));
      if (y === undefined) return false;
      p.year = y >= 69 ? y + 1900 : y + 2000;
      p.value = value.slice(2);
      return true;
    }
    case "2006": {
      if (value.length < 4 || !isDigitAt(value, 0)) return false;
      const y = goAtoi(value.slice(0, 4));
      if (y === undefined) return false;
      p.year = y;
      p.value = value.slice(4);
      return true;
    }
    case "Jan": {
      const r = lookupName(SHORT_MONTHS, value);
      if (r === undefined) return false;
      [p.month, p.value] = [r[0] + 1, r[1]];
      return true;
    }
    case "01": {
      const r = getnum(value, true);
      if (r === undefined || r[0] < 1 || r[0] > 12) return false;
      [p.month, p.value] = r;
      return true;
    }
    case "Mon":
    case "Monday": {
      // The weekday is checked for syntax only.
      const r = lookupName(e === "Mon" ? SHORT_DAYS : LONG_DAYS, value);
      if (r === undefined) return false;
      p.value = r[1];
      return true;
    }
    case "02":
    case "_2": {
      const rest = e === "_2" && value[0] === " " ? value.slice(1) : value;
      const r = getnum(rest, e === "02");
      if (r === undefined) return false;
      [p.day, p.value] = r; // validated against the month once everything is parsed
      return true;
    }
  }
}

/**
 * Reads an hour, minute, second or fraction element (`k` is its index in `layout`); false when
 * the input does not match.
 */
function parseClockElement(p: ParsedTime, e: ClockStd, layout: Layout, k: number): boolean {
  const value = p.value;
  switch (e) {
    case "15": {
      const r = getnum(value, false);
      if (r === undefined || r[0] >= 24) return false;
      [p.hour, p.value] = r;
      return true;
    }
    case "04": {
      const r = getnum(value, true);
      if (r === undefined || r[0] >= 60) return false;
      [p.minute, p.value] = r;
      return true;
    }
    case "05":
      return parseSeconds(p, layout, k);
    case ".000": {
      if (value.length < 4) return false;
      const ns = parseNanoseconds(value, 4);
      if (ns === undefined) return false;
      p.nanos = ns;
      p.value = value.slice(4);
      return true;
    }
    case ".999999999": {
      if (value.length < 2 || (value[0] !== "." && value[0] !== ",") || !isDigitAt(value, 1)) return true;
      let i = 0;
      while (i + 1 < value.length && isDigitAt(value, i + 1)) i++;
      const ns = parseNanoseconds(value, 1 + i);
      if (ns === undefined) return false;
      p.nanos = ns;
      p.value = value.slice(1 + i);
      return true;
    }
  }
}

/** The seconds element, and a fraction after it that the layout does not read itself. */
function parseSeconds(p: ParsedTime, layout: Layout, k: number): boolean {
  const r = getnum(p.value, true);
  if (r === undefined || r[0] >= 60) return false;
  [p.second, p.value] = r;
  const value = p.value;
  // A fraction in the input is accepted even when the layout has none next.
  if (value.length >= 2 && (value[0] === "." || value[0] === ",") && isDigitAt(value, 1)) {
    const next = layout.slice(k + 1).find((e) => typeof e !== "string");
    if (next !== undefined && typeof next !== "string" && (next.std === ".000" || next.std === ".999999999")) return true;
    let n = 2;
    while (n < value.length && isDigitAt(value, n)) n++;
    const ns = parseNanoseconds(value, n);
    if (ns === undefined) return false;
    p.nanos = ns;
    p.value = value.slice(n);
  }
  return true;
}

/** Reads a zone element: `Z`, a numeric offset, or an abbreviation; false when none matches. */
function parseZoneElement(p: ParsedTime, e: ZoneStd): boolean {
  const value = p.value;
  if (e === "MST") {
    if (value.startsWith("UTC")) {
      p.utc = true;
      p.value = value.slice(3);
      return true;
    }
    const n = parseTimeZone(value);
    if (n === 0) return false;
    p.zoneName = value.slice(0, n);
    p.value = value.slice(n);
    return true;
  }
  if (e === "Z07:00" && value[0] === "Z") {
    p.value = value.slice(1);
    p.utc = true;
    return true;
  }
  let hh: string;
  let mm: string;
  const signChar = value[0];
  if (e === "Z07:00") {
    if (value.length < 6 || value[3] !== ":") return false;
    [hh, mm] = [value.slice(1, 3), value.slice(4, 6)];
    p.value = value.slice(6);
  } else {
    if (value.length < 5) return false;
    [hh, mm] = [value.slice(1, 3), value.slice(3, 5)];
    p.value = value.slice(5);
  }
  const h = getnum(hh, true);
  const m = getnum(mm, true);
  // Go allows 24 hours and 60 minutes here ("some people do write offsets of 24 hours").
  if (h === undefined || m === undefined || h[0] > 24 || m[0] > 60) return false;
  if (signChar !== "+" && signChar !== "-") return false;
  p.zoneOffset = (h[0] * 60 + m[0]) * 60 * (signChar === "-" ? -1 : 1);
  return true;
}

/** `pkg/dateutil.ParseString`: the first layout that parses. */
function parseDateString(s: string): CelTimestamp | undefined {
  for (const layout of DATE_LAYOUTS) {
    const t = goParse(layout, s);
    if (t !== undefined) return t;
  }
  return undefined;
}

/** A timestamp from signed epoch nanoseconds. */
function timestampFromNanos(ns: bigint): CelTimestamp {
  let seconds = ns / NANOS_PER_SECOND_N;
  let nanos = ns % NANOS_PER_SECOND_N;
  if (nanos < 0n) {
    seconds -= 1n;
    nanos += NANOS_PER_SECOND_N;
  }
  return new CelTimestamp(Number(seconds), Number(nanos));
}

/** Unix times below this (2000-01-01T00:00:00Z) are refused by `dateutil.ParseInt`. */
const DATE_MIN_UNIX_SECONDS = 946_684_800n;

/**
 * Inngest's `date(x)` (`pkg/dateutil`).
 *
 * - A string is parsed with Go's `time.Parse` and these layouts, first match wins: RFC3339
 *   (fraction optional), `2006-01-02T15:04:05` (UTC), RFC1123, RFC822, RFC822Z, RFC850,
 *   RubyDate, UnixDate, ANSIC, Stamp, StampMilli, `2006-01-02`,
 *   `2006-01-02 15:04:05.999999999 -0700 MST`. Go's parsing rules apply: a fraction may follow
 *   the seconds in any layout, month and weekday names are case-insensitive, a layout space
 *   matches a run of spaces, hours may have one digit. Zone abbreviations other than `UTC` and
 *   `GMT±h` count as offset 0 (Go with a UTC `Local`), so `"… 12:00:00 EST"` is 12:00 UTC.
 *   Layouts without a year (Stamp, StampMilli) give year 0, as in Go; such timestamps lie before
 *   0001-01-01, outside the usual CEL range, and are returned anyway so that they compare as in
 *   Inngest (arithmetic on them is an overflow error).
 * - An int `n`: below 946684800 → error; below 9999999999 → unix seconds; below 9999999999999 →
 *   unix milliseconds (Go multiplies by 10^6 in int64, so values from 9223372036855 wrap around
 *   as they do in Go); otherwise unix nanoseconds.
 * - Anything else, including a double (so every JSON number) → error, where Inngest's function
 *   returns Go `nil` and the whole expression fails.
 *
 * Errors have code `invalid_argument`.
 */
export function date(v: unknown): CelTimestamp | CelError {
  if (typeof v === "string") {
    const t = parseDateString(v);
    if (t !== undefined) return t;
    return new CelError("invalid_argument", `date(): unknown date format: ${JSON.stringify(v)}`);
  }
  if (typeof v === "bigint") {
    if (v < DATE_MIN_UNIX_SECONDS) {
      return new CelError(
        "invalid_argument",
        `date(): unknown date format: ${v} (ints below 946684800, 2000-01-01T00:00:00Z, are not read as unix times)`,
      );
    }
    if (v < 9_999_999_999n) return new CelTimestamp(Number(v), 0);
    if (v < 9_999_999_999_999n) return timestampFromNanos(BigInt.asIntN(64, v * 1_000_000n));
    return timestampFromNanos(v);
  }
  return new CelError("invalid_argument", `date() expects a string or an int, got ${kindName(v)}`);
}
