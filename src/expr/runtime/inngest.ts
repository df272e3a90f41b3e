/**
 * Runtime functions of the `inngest` dialect: the custom functions Inngest adds to CEL
 * (`lowercase`, `uppercase`, `b64decode`, `json_parse`, `date`, `now`, `now_plus`, `now_minus`)
 * and the helpers behind its loosened operators (Go `%v` concatenation for `+` of mixed types,
 * truthiness for `&&` / `||` / `?:`, zero values for ordering against `null`).
 *
 * Every function takes already-evaluated CEL values (see `values.ts`) and returns a value or a
 * {@link CelError}; none throws. Missing attributes (Inngest's "unknown") are handled by the
 * caller before these are reached.
 *
 * Where Inngest relies on Go's standard library (`fmt`, `strings`, `encoding/base64`,
 * `encoding/json`, `time.Parse`) the behaviour is reproduced from Go's documented algorithms,
 * including its quirks; the deliberate departures are listed on each function.
 *
 * @module
 */
import { CelDuration, CelError, CelTimestamp, CelType, CelUint } from "../values.js";
import { bytesToString, decodeUtf8Lossy, goFormatFloat } from "./convert.js";
import { compareStrings, isMap, kindName } from "./core.js";
import {
  addTimestampDuration,
  durationFromNanos,
  durationToNanos,
  formatTimestamp,
  isValidTimestamp,
} from "./time.js";

const INT64_MAX = 0x7fffffffffffffffn;
const NANOS_PER_SECOND = 1_000_000_000;
const NANOS_PER_SECOND_N = 1_000_000_000n;
const SECONDS_PER_DAY = 86_400;
/** 400 Gregorian years in seconds: the calendar repeats with this period. */
const SECONDS_PER_400_YEARS = 146_097 * SECONDS_PER_DAY;
/** Seconds of 0001-01-01T00:00:00Z. */
const YEAR_1_SECONDS = -62_135_596_800;
/** Seconds of 9999-12-31T23:59:59Z. */
const YEAR_9999_END_SECONDS = 253_402_300_799;

// =============================================================================================
// Go `%v` formatting (string concatenation of mixed types)
// =============================================================================================

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

// =============================================================================================
// Truthiness and zero values
// =============================================================================================

/**
 * Inngest's truthiness (`isTruthy` in `pkg/expressions/unknown.go`), used by `&&` / `||` on
 * non-booleans and by the `?:` condition. Falsy: `null` / `undefined`, `false`, `""`, int `0`,
 * uint `0`, double `0` and `-0`, and error values. Everything else is truthy, including `NaN`,
 * empty lists and maps, bytes (even empty), timestamps and durations.
 */
export function isTruthy(v: unknown): boolean {
  switch (typeof v) {
    case "boolean":
      return v;
    case "string":
      return v !== "";
    case "number":
      return v !== 0; // NaN !== 0
    case "bigint":
      return v !== 0n;
    case "undefined":
      return false;
    case "object":
      if (v === null || v instanceof CelError) return false;
      if (v instanceof CelUint) return v.value !== 0n;
      return true;
    default:
      return true;
  }
}

const UINT_ZERO = new CelUint(0n);

/**
 * The zero value of `v`'s type, which Inngest substitutes for a `null` operand of `<`, `<=`, `>`,
 * `>=`: int → `0n`, uint → `0u`, double → `0`, string → `""`. Any other kind has none →
 * `undefined` (the comparison is then an error).
 */
export function zeroValueLike(v: unknown): unknown | undefined {
  switch (typeof v) {
    case "bigint":
      return 0n;
    case "number":
      return 0;
    case "string":
      return "";
    default:
      return v instanceof CelUint ? UINT_ZERO : undefined;
  }
}

// =============================================================================================
// lowercase / uppercase
// =============================================================================================

const NON_ASCII = /[^\x00-\x7f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Go replaces bytes that are not UTF-8 by U+FFFD while mapping case; a lone surrogate is the
 * JS counterpart, so it becomes U+FFFD as well.
 */
function replaceLoneSurrogates(s: string): string {
  return s.replace(LONE_SURROGATE, "\ufffd");
}

/**
 * Go `strings.ToLower`: Unicode simple lowercase mapping, one code point to one code point.
 * Differs from JS `toLowerCase` on `İ` (U+0130 → `i`, not `i̇`) and on a final `Σ` (always `σ`,
 * never `ς`). A non-string argument gives `""`, as Inngest's unguarded implementation does.
 */
export function lowercase(v: unknown): string {
  if (typeof v !== "string") return "";
  if (!NON_ASCII.test(v)) return v.toLowerCase();
  // JS applies exactly two non-simple lowercase rules; pre-map both to their simple forms.
  return replaceLoneSurrogates(v).replace(/\u0130/g, "i").replace(/\u03a3/g, "\u03c3").toLowerCase();
}

/**
 * The code points whose JS `toUpperCase` expands to several (SpecialCasing.txt), and what Go's
 * simple mapping gives for them instead: their UnicodeData simple uppercase where one exists
 * (Greek with ypogegrammeni → the titlecase form with prosgegrammeni), else themselves
 * (`ß`, `ŉ`, `ǰ`, `ΐ`, `ﬀ`, …). A test checks this list against the running ICU.
 */
const SPECIAL_UPPER = /[\u00df\u0149\u01f0\u0390\u03b0\u0587\u1e96-\u1e9a\u1f50\u1f52\u1f54\u1f56\u1f80-\u1faf\u1fb2-\u1fb4\u1fb6\u1fb7\u1fbc\u1fc2-\u1fc4\u1fc6\u1fc7\u1fcc\u1fd2\u1fd3\u1fd6\u1fd7\u1fe2-\u1fe4\u1fe6\u1fe7\u1ff2-\u1ff4\u1ff6\u1ff7\u1ffc\ufb00-\ufb06\ufb13-\ufb17]/;
/** Splits a string into single special code points and runs of ordinary text. */
const SPECIAL_UPPER_SPLIT = new RegExp(`${SPECIAL_UPPER.source}|[^${SPECIAL_UPPER.source.slice(1)}+`, "g");

/** Go's `unicode.ToUpper` for one code point of {@link SPECIAL_UPPER}. */
function simpleUpperOfSpecial(c: number): number {
  if ((c >= 0x1f80 && c <= 0x1f87) || (c >= 0x1f90 && c <= 0x1f97) || (c >= 0x1fa0 && c <= 0x1fa7)) {
    return c + 8;
  }
  if (c === 0x1fb3 || c === 0x1fc3 || c === 0x1ff3) return c + 9;
  return c;
}

/**
 * Go `strings.ToUpper`: Unicode simple uppercase mapping, one code point to one code point. Unlike
 * JS `toUpperCase`, `ß` stays `ß` (not `SS`), `ﬁ` stays `ﬁ`, `ᾳ` becomes `ᾼ` (not `ΑΙ`). A
 * non-string argument gives `""`.
 */
export function uppercase(v: unknown): string {
  if (typeof v !== "string") return "";
  if (!NON_ASCII.test(v)) return v.toUpperCase();
  const s = replaceLoneSurrogates(v);
  if (!SPECIAL_UPPER.test(s)) return s.toUpperCase();
  return s.replace(SPECIAL_UPPER_SPLIT, (part) =>
    part.length === 1 && SPECIAL_UPPER.test(part)
      ? String.fromCharCode(simpleUpperOfSpecial(part.charCodeAt(0)))
      : part.toUpperCase(),
  );
}

// =============================================================================================
// b64decode
// =============================================================================================

/** Standard base64 alphabet: character code → 6-bit value, or -1. */
const BASE64_DECODE: Int8Array = (() => {
  const table = new Int8Array(128).fill(-1);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
})();

const CR = 13;
const LF = 10;
const PAD = 61; // '='

/**
 * Go's `base64.StdEncoding.DecodeString` up to its first error: the bytes of every complete
 * quantum before the error (what Go returns alongside the error). Padding is required, `\r` and
 * `\n` are skipped anywhere, non-zero trailing bits are accepted (the encoding is not strict).
 */
function decodeStdBase64Prefix(s: string): Uint8Array {
  const out = new Uint8Array(Math.floor(s.length / 4) * 3 + 3);
  let n = 0;
  let si = 0;
  const len = s.length;
  const quantum = [0, 0, 0, 0];
  while (si < len) {
    let dlen = 4;
    for (let j = 0; j < 4; j++) {
      if (si === len) {
        // With j === 0 only newlines were left: the end. With j > 0 the quantum lacks its
        // padding, which Go reports as corrupt input; either way its bytes are not kept.
        return out.subarray(0, n);
      }
      const c = s.charCodeAt(si++);
      const d = c < 128 ? BASE64_DECODE[c]! : -1;
      if (d >= 0) {
        quantum[j] = d;
        continue;
      }
      if (c === LF || c === CR) {
        j--;
        continue;
      }
      if (c !== PAD || j < 2) return out.subarray(0, n);
      if (j === 2) {
        // "==" expected; the first "=" is consumed.
        while (si < len && (s.charCodeAt(si) === LF || s.charCodeAt(si) === CR)) si++;
        if (si === len || s.charCodeAt(si) !== PAD) return out.subarray(0, n);
        si++;
      }
      // Padding ends the input: whatever follows (newlines aside) is garbage, an error that
      // still keeps this quantum's bytes; either way decoding stops after this quantum.
      dlen = j;
      break;
    }
    // dlen is 2, 3 or 4 here. Positions past dlen may hold the previous quantum's values; they
    // only feed bytes that are not written.
    const value = (quantum[0]! << 18) | (quantum[1]! << 12) | (quantum[2]! << 6) | quantum[3]!;
    out[n++] = (value >>> 16) & 0xff;
    if (dlen > 2) out[n++] = (value >>> 8) & 0xff;
    if (dlen > 3) out[n++] = value & 0xff;
    if (dlen < 4) return out.subarray(0, n);
  }
  return out.subarray(0, n);
}

/**
 * Inngest's `b64decode(s)`: Go `base64.StdEncoding.DecodeString` with the error ignored, so the
 * bytes decoded before the first error are kept (`b64decode('aGk=!!')` → `"hi"`,
 * `b64decode('!!!')` → `""`). A non-string argument gives `""`.
 *
 * Go keeps any bytes in a string; a JS string cannot hold bytes that are not UTF-8, so such
 * bytes are decoded leniently: every maximal run of invalid bytes becomes one U+FFFD (as
 * `decodeUtf8Lossy`). A decoded value with such bytes therefore compares differently than in Go
 * (`b64decode('/w==') == '\ufffd'` is true here, false in Inngest).
 */
export function b64decode(v: unknown): string {
  if (typeof v !== "string") return "";
  const bytes = decodeStdBase64Prefix(v);
  const text = bytesToString(bytes);
  return text instanceof CelError ? decodeUtf8Lossy(bytes) : text;
}

// =============================================================================================
// json_parse
// =============================================================================================

/** Go's `encoding/json` nesting limit (`maxNestingDepth`); deeper input is a syntax error. */
export const JSON_MAX_DEPTH = 10_000;

/** Whether `s` opens more than `limit` nested arrays or objects (strings are skipped). */
function nestingExceeds(s: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > limit) return true;
    } else if (c === 93 || c === 125) depth--;
  }
  return false;
}

const ANY_SURROGATE = /[\ud800-\udfff]/;

/** Go's decoder turns an unpaired `\ud800` escape into U+FFFD; JS keeps the lone surrogate. */
function goJsonString(s: string): string {
  return ANY_SURROGATE.test(s) ? replaceLoneSurrogates(s) : s;
}

/**
 * Copies a child of a `JSON.parse` result into Go's shape, queueing containers for the
 * iterative copy: strings with U+FFFD for lone surrogates, numbers that overflowed to ±Infinity
 * as `null` (Go fails to decode such a number and leaves `nil`), objects as null-prototype maps.
 */
function copyJsonChild(v: unknown, work: [unknown, unknown][]): unknown {
  switch (typeof v) {
    case "string":
      return goJsonString(v);
    case "number":
      return Number.isFinite(v) ? v : null;
    case "object": {
      if (v === null) return null;
      const copy: unknown = Array.isArray(v) ? new Array<unknown>(v.length) : Object.create(null);
      work.push([v, copy]);
      return copy;
    }
    default:
      return v;
  }
}

/**
 * Inngest's `json_parse(s)`: Go `json.Unmarshal` into `map[string]any` with the error ignored.
 * A JSON object at top level becomes a map; anything else (an array, a scalar, `null`, invalid
 * JSON, nesting deeper than {@link JSON_MAX_DEPTH} as in Go, a non-string argument) gives an
 * empty map. Numbers are doubles; a number too large for a double becomes `null`, as Go leaves it.
 *
 * Every object in the result has a `null` prototype (a fresh one each call), so keys such as
 * `__proto__`, `constructor` or `toString` are ordinary own data and nothing can reach
 * `Object.prototype`. The copy is iterative, so deep input cannot overflow the stack. Size is
 * not limited here (Inngest bounds events at 3 MiB upstream).
 */
export function jsonParse(v: unknown): Record<string, unknown> {
  const empty = Object.create(null) as Record<string, unknown>;
  if (typeof v !== "string") return empty;
  if (v.length > JSON_MAX_DEPTH && nestingExceeds(v, JSON_MAX_DEPTH)) return empty;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    return empty;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return empty;
  const work: [unknown, unknown][] = [[parsed, empty]];
  while (work.length > 0) {
    const [source, target] = work.pop()!;
    if (Array.isArray(source)) {
      const list = target as unknown[];
      for (let i = 0; i < source.length; i++) list[i] = copyJsonChild(source[i], work);
    } else {
      const from = source as Record<string, unknown>;
      const to = target as Record<string, unknown>;
      for (const key of Object.keys(from)) to[goJsonString(key)] = copyJsonChild(from[key], work);
    }
  }
  return empty;
}

// =============================================================================================
// date()
// =============================================================================================

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

function isDigitAt(s: string, i: number): boolean {
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
  let value = input;
  let year = 0;
  let month = -1;
  let day = -1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let nanos = 0;
  let utc = false;
  let zoneOffset: number | undefined;
  let zoneName = "";
  for (let k = 0; k < layout.length; k++) {
    const element = layout[k]!;
    if (typeof element === "string") {
      const rest = skipLiteral(value, element);
      if (rest === undefined) return undefined;
      value = rest;
      continue;
    }
    switch (element.std) {
      case "06": {
        if (value.length < 2) return undefined;
        const y = goAtoi(value.slice(0, 2));
        if (y === undefined) return undefined;
        year = y >= 69 ? y + 1900 : y + 2000;
        value = value.slice(2);
        break;
      }
      case "2006": {
        if (value.length < 4 || !isDigitAt(value, 0)) return undefined;
        const y = goAtoi(value.slice(0, 4));
        if (y === undefined) return undefined;
        year = y;
        value = value.slice(4);
        break;
      }
      case "Jan": {
        const r = lookupName(SHORT_MONTHS, value);
        if (r === undefined) return undefined;
        [month, value] = [r[0] + 1, r[1]];
        break;
      }
      case "01": {
        const r = getnum(value, true);
        if (r === undefined || r[0] < 1 || r[0] > 12) return undefined;
        [month, value] = r;
        break;
      }
      case "Mon":
      case "Monday": {
        // The weekday is checked for syntax only.
        const r = lookupName(element.std === "Mon" ? SHORT_DAYS : LONG_DAYS, value);
        if (r === undefined) return undefined;
        value = r[1];
        break;
      }
      case "02":
      case "_2": {
        if (element.std === "_2" && value[0] === " ") value = value.slice(1);
        const r = getnum(value, element.std === "02");
        if (r === undefined) return undefined;
        [day, value] = r; // validated against the month once everything is parsed
        break;
      }
      case "15": {
        const r = getnum(value, false);
        if (r === undefined || r[0] >= 24) return undefined;
        [hour, value] = r;
        break;
      }
      case "04": {
        const r = getnum(value, true);
        if (r === undefined || r[0] >= 60) return undefined;
        [minute, value] = r;
        break;
      }
      case "05": {
        const r = getnum(value, true);
        if (r === undefined || r[0] >= 60) return undefined;
        [second, value] = r;
        // A fraction in the input is accepted even when the layout has none next.
        if (value.length >= 2 && (value[0] === "." || value[0] === ",") && isDigitAt(value, 1)) {
          const next = layout.slice(k + 1).find((e) => typeof e !== "string");
          if (next !== undefined && typeof next !== "string" && (next.std === ".000" || next.std === ".999999999")) {
            break;
          }
          let n = 2;
          while (n < value.length && isDigitAt(value, n)) n++;
          const ns = parseNanoseconds(value, n);
          if (ns === undefined) return undefined;
          nanos = ns;
          value = value.slice(n);
        }
        break;
      }
      case ".000": {
        if (value.length < 4) return undefined;
        const ns = parseNanoseconds(value, 4);
        if (ns === undefined) return undefined;
        nanos = ns;
        value = value.slice(4);
        break;
      }
      case ".999999999": {
        if (value.length < 2 || (value[0] !== "." && value[0] !== ",") || !isDigitAt(value, 1)) break;
        let i = 0;
        while (i + 1 < value.length && isDigitAt(value, i + 1)) i++;
        const ns = parseNanoseconds(value, 1 + i);
        if (ns === undefined) return undefined;
        nanos = ns;
        value = value.slice(1 + i);
        break;
      }
      case "Z07:00":
      case "-0700": {
        if (element.std === "Z07:00" && value[0] === "Z") {
          value = value.slice(1);
          utc = true;
          break;
        }
        let hh: string;
        let mm: string;
        const signChar = value[0];
        if (element.std === "Z07:00") {
          if (value.length < 6 || value[3] !== ":") return undefined;
          [hh, mm] = [value.slice(1, 3), value.slice(4, 6)];
          value = value.slice(6);
        } else {
          if (value.length < 5) return undefined;
          [hh, mm] = [value.slice(1, 3), value.slice(3, 5)];
          value = value.slice(5);
        }
        const h = getnum(hh, true);
        const m = getnum(mm, true);
        // Go allows 24 hours and 60 minutes here ("some people do write offsets of 24 hours").
        if (h === undefined || m === undefined || h[0] > 24 || m[0] > 60) return undefined;
        if (signChar !== "+" && signChar !== "-") return undefined;
        zoneOffset = (h[0] * 60 + m[0]) * 60 * (signChar === "-" ? -1 : 1);
        break;
      }
      case "MST": {
        if (value.startsWith("UTC")) {
          utc = true;
          value = value.slice(3);
          break;
        }
        const n = parseTimeZone(value);
        if (n === 0) return undefined;
        zoneName = value.slice(0, n);
        value = value.slice(n);
        break;
      }
    }
  }
  if (value.length > 0) return undefined; // extra text
  if (month < 0) month = 1;
  if (day < 0) day = 1;
  if (day < 1 || day > daysIn(month, year)) return undefined;
  let offset = 0;
  if (utc) offset = 0;
  else if (zoneOffset !== undefined) offset = zoneOffset;
  else if (zoneName.length > 3 && zoneName.startsWith("GMT")) offset = (goAtoi(zoneName.slice(3)) ?? 0) * 3600;
  const seconds = daysFromCivil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second - offset;
  return new CelTimestamp(seconds, nanos);
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

// =============================================================================================
// now, now_plus, now_minus
// =============================================================================================

/** A timestamp from epoch milliseconds (fractions kept to the nanosecond), range-checked. */
function timestampFromMillis(ms: number): CelTimestamp {
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
