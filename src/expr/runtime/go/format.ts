/**
 * Go's `%v` formatting of CEL values, which Inngest uses when `+` joins operands of different
 * types.
 *
 * @module
 */
import { CelDuration, CelError, CelTimestamp, CelType, CelUint } from "../../values.js";
import { goFormatFloat } from "../convert.js";
import { compareStrings, isMap } from "../core.js";
import { durationToNanos, formatTimestamp } from "../time.js";
import { timestampFromMillis } from "./clock.js";

const NANOS_PER_SECOND_N = 1_000_000_000n;
const SECONDS_PER_DAY = 86_400;
/** 400 Gregorian years in seconds: the calendar repeats with this period. */
const SECONDS_PER_400_YEARS = 146_097 * SECONDS_PER_DAY;
/** Seconds of 0001-01-01T00:00:00Z. */
const YEAR_1_SECONDS = -62_135_596_800;
/** Seconds of 9999-12-31T23:59:59Z. */
const YEAR_9999_END_SECONDS = 253_402_300_799;

/**
 * Go's `fmt.Sprintf("%v", x)` of the Go value cel-go's `Value()` yields for a CEL value. Inngest
 * uses it when `+` joins operands of different types (`"hi" + 9.1` is `"hi9.1"`).
 *
 * - string as is; int and uint in decimal; bool `true` / `false`;
 * - double with `strconv.FormatFloat(f, 'g', -1, 64)`: `9.1`, `2`, `1.5e+06`, `100000`, `1e-05`,
 *   `-0`, `NaN`, `+Inf`, `-Inf`;
 * - `null` → `NULL_VALUE` (the protobuf enum's name) at top level, but `<nil>` inside a list or
 *   map, because JSON `null` inside Go's `[]any` / `map[string]any` is a Go `nil`;
 * - list → `[a b c]`, elements formatted the same way, strings unquoted;
 * - map → `map[k1:v1 k2:v2]` with keys sorted as Go's `fmt` sorts them (strings by code point,
 *   numbers numerically, `false` before `true`); keys of different kinds, whose order in Go
 *   depends on memory addresses, are grouped bool, int, uint, double, string, other;
 * - bytes → `[104 105]`;
 * - timestamp (or JS `Date`) → Go `time.Time.String()` in UTC,
 *   `2020-01-01 18:35:10.5 +0000 UTC` (an invalid `Date` prints as Go's zero time);
 * - duration → Go `time.Duration.String()`: `6h35m10s`, `1.5s`, `1m0.5s`, `500ms`, `1µs`, `0s`;
 * - type → its name; error → its message.
 *
 * Not reproduced: Go appends the monotonic clock reading (` m=+0.001`) to times taken from
 * `time.Now()`, and prints the original zone of a parsed time; here every time prints in UTC.
 * Nesting of any depth is formatted without recursion; a list or map that contains itself prints
 * `<cycle>` where Go would never terminate.
 */
export function goValueString(v: unknown): string {
  switch (typeof v) {
    case "string":
      return v;
    case "bigint":
      return v.toString();
    case "number":
      return goFormatFloat(v, "g", -1);
    case "boolean":
      return v ? "true" : "false";
    case "undefined":
      return "NULL_VALUE";
    case "object":
      if (v === null) return "NULL_VALUE";
      if (Array.isArray(v) || isMap(v)) return formatComposite(v);
      return scalarString(v, false);
    default:
      return otherString(v);
  }
}

/** `goValueString(a) + goValueString(b)`: Inngest's `+` of two operands of different types. */
export function inngestConcat(a: unknown, b: unknown): string {
  return goValueString(a) + goValueString(b);
}

/** `%v` of a value that is not a list or map; `nested` is true inside a list or map. */
function scalarString(v: unknown, nested: boolean): string {
  switch (typeof v) {
    case "string":
      return v;
    case "bigint":
      return v.toString();
    case "number":
      return goFormatFloat(v, "g", -1);
    case "boolean":
      return v ? "true" : "false";
    case "undefined":
      return nested ? "<nil>" : "NULL_VALUE";
    case "object":
      if (v === null) return nested ? "<nil>" : "NULL_VALUE";
      if (v instanceof CelUint) return v.value.toString();
      if (v instanceof Uint8Array) return `[${v.join(" ")}]`;
      if (v instanceof CelTimestamp) return goTimeString(v);
      if (v instanceof Date) {
        const ms = v.getTime();
        return Number.isNaN(ms) ? GO_ZERO_TIME : goTimeString(timestampFromMillis(ms));
      }
      if (v instanceof CelDuration) return goDurationString(v);
      if (v instanceof CelType) return v.name;
      if (v instanceof CelError) return v.message;
      return otherString(v);
    default:
      return otherString(v);
  }
}

/** Values outside the CEL value model: never produced by the engine, printed defensively. */
function otherString(v: unknown): string {
  if (typeof v === "function") return "<func>";
  if (typeof v === "symbol") return v.toString();
  return "<?>";
}

/** A piece of output in the formatting work list (distinct from every CEL value). */
class Text {
  constructor(
    readonly text: string,
    /** The container whose formatting this text closes, removed from the open set. */
    readonly closes?: object,
  ) {}
}

const SPACE = new Text(" ");
const COLON = new Text(":");

/**
 * `%v` of a list or map, iteratively: a work stack holds values still to format and literal
 * text, in reverse order of output.
 */
function formatComposite(root: object): string {
  let out = "";
  const work: unknown[] = [root];
  const open = new Set<object>();
  while (work.length > 0) {
    const item = work.pop();
    if (item instanceof Text) {
      out += item.text;
      if (item.closes !== undefined) open.delete(item.closes);
      continue;
    }
    if (typeof item !== "object" || item === null || !(Array.isArray(item) || isMap(item))) {
      out += scalarString(item, true);
      continue;
    }
    if (open.has(item)) {
      out += "<cycle>";
      continue;
    }
    open.add(item);
    if (Array.isArray(item)) {
      out += "[";
      work.push(new Text("]", item));
      for (let i = item.length - 1; i >= 0; i--) {
        work.push(item[i]);
        if (i > 0) work.push(SPACE);
      }
      continue;
    }
    out += "map[";
    work.push(new Text("]", item));
    const entries = sortedEntries(item);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, value] = entries[i]!;
      work.push(value, COLON, key);
      if (i > 0) work.push(SPACE);
    }
  }
  return out;
}

/** Map entries in Go `fmt`'s key order. */
function sortedEntries(m: Map<unknown, unknown> | Record<string, unknown>): [unknown, unknown][] {
  const entries: [unknown, unknown][] =
    m instanceof Map ? [...m.entries()] : Object.keys(m).map((k) => [k, m[k]]);
  if (entries.length > 1) entries.sort((a, b) => compareGoKeys(a[0], b[0]));
  return entries;
}

function keyRank(k: unknown): number {
  switch (typeof k) {
    case "boolean":
      return 0;
    case "bigint":
      return 1;
    case "number":
      return 3;
    case "string":
      return 4;
    default:
      return k instanceof CelUint ? 2 : 5;
  }
}

/** Go's `internal/fmtsort` order for keys of one kind; kinds grouped by {@link keyRank}. */
function compareGoKeys(a: unknown, b: unknown): number {
  const ra = keyRank(a);
  const rb = keyRank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === "string") return compareStrings(a, b as string);
  if (typeof a === "bigint") return a < (b as bigint) ? -1 : a > (b as bigint) ? 1 : 0;
  if (typeof a === "number") {
    const bn = b as number;
    // fmtsort puts NaN first.
    if (Number.isNaN(a)) return Number.isNaN(bn) ? 0 : -1;
    if (Number.isNaN(bn)) return 1;
    return a < bn ? -1 : a > bn ? 1 : 0;
  }
  if (typeof a === "boolean") return a === b ? 0 : a ? 1 : -1;
  if (a instanceof CelUint && b instanceof CelUint) {
    return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
  }
  return 0;
}

/** What Go prints for the zero `time.Time`. */
const GO_ZERO_TIME = "0001-01-01 00:00:00 +0000 UTC";

/**
 * Go's `time.Time.String()` of a UTC time: `2006-01-02 15:04:05.999999999 +0000 UTC` (the
 * fraction without trailing zeros, absent when zero). Years outside 1…9999 (which `date()` can
 * produce for year 0) are shifted by whole 400-year cycles to reuse `formatTimestamp`.
 */
function goTimeString(t: CelTimestamp): string {
  if (!Number.isFinite(t.seconds)) return GO_ZERO_TIME;
  let seconds = t.seconds;
  let cycles = 0;
  if (seconds < YEAR_1_SECONDS) {
    cycles = -Math.ceil((YEAR_1_SECONDS - seconds) / SECONDS_PER_400_YEARS);
  } else if (seconds > YEAR_9999_END_SECONDS) {
    cycles = Math.ceil((seconds - YEAR_9999_END_SECONDS) / SECONDS_PER_400_YEARS);
  }
  seconds -= cycles * SECONDS_PER_400_YEARS;
  const iso = formatTimestamp(new CelTimestamp(seconds, t.nanos)); // YYYY-MM-DDTHH:MM:SS[.f]Z
  const yearEnd = iso.indexOf("-");
  const year = Number(iso.slice(0, yearEnd)) + cycles * 400;
  const yearText = year < 0 ? `-${String(-year).padStart(4, "0")}` : String(year).padStart(4, "0");
  return `${yearText}${iso.slice(yearEnd, -1).replace("T", " ")} +0000 UTC`;
}

/** Go's `fmtFrac`: the integer part of `v / 10^prec` and `.fraction` without trailing zeros. */
function splitFraction(v: bigint, prec: number): [bigint, string] {
  const scale = 10n ** BigInt(prec);
  const fraction = v % scale;
  if (fraction === 0n) return [v / scale, ""];
  let digits = fraction.toString().padStart(prec, "0");
  let end = digits.length;
  while (digits[end - 1] === "0") end--;
  digits = digits.slice(0, end);
  return [v / scale, `.${digits}`];
}

/**
 * Go's `time.Duration.String()`: `0s`; below one second a single unit with a fraction (`1.5ms`,
 * `1µs` with the micro sign U+00B5, `10ns`); otherwise `[h]h[m]m[s.fraction]s` where hours and
 * minutes appear once a larger unit does (`2h0m0s`, `1m0.5s`).
 */
function goDurationString(d: CelDuration): string {
  let u = durationToNanos(d);
  const negative = u < 0n;
  if (negative) u = -u;
  const sign = negative ? "-" : "";
  if (u < NANOS_PER_SECOND_N) {
    if (u === 0n) return "0s";
    const [prec, unit] = u < 1_000n ? [0, "ns"] : u < 1_000_000n ? [3, "\u00b5s"] : [6, "ms"];
    const [whole, fraction] = splitFraction(u, prec);
    return `${sign}${whole}${fraction}${unit}`;
  }
  const [totalSeconds, fraction] = splitFraction(u, 9);
  let out = `${totalSeconds % 60n}${fraction}s`;
  const totalMinutes = totalSeconds / 60n;
  if (totalMinutes > 0n) {
    out = `${totalMinutes % 60n}m${out}`;
    const hours = totalMinutes / 60n;
    if (hours > 0n) out = `${hours}h${out}`;
  }
  return sign + out;
}
