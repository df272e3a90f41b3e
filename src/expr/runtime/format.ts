/**
 * `string.format(list)` of the cel-go strings extension (version 4 and later, which follows the
 * cel-spec strings extension document).
 *
 * Clauses: `%s %d %f %e %b %x %X %o`, `%%` for a literal percent sign, and an optional precision
 * `.N` (at most 100; it only affects `%f` and `%e`, default 6). Numbers print exactly as Go
 * prints them, with round-half-to-even on exact ties. Error messages are the texts of the cel-spec
 * conformance data (`error during formatting: …`, `could not parse formatting clause: …`,
 * `index N out of range`).
 *
 * @module
 */
import {
  CelDuration,
  CelError,
  CelTimestamp,
  CelType,
  CelUint,
} from "../values.js";
import { boundedDigits, decodeUtf8Lossy, goFormatFloat, stringToBytes } from "./convert.js";
import { formatDuration, formatTimestamp } from "./time.js";

/** Largest precision accepted in a clause (cel-go's default limit from strings version 5). */
export const MAX_FORMAT_PRECISION = 100;
/** Default precision of `%f` and `%e`. */
const DEFAULT_PRECISION = 6;
/** Nesting depth of lists and maps that `%s` descends into before giving up. */
const MAX_FORMAT_DEPTH = 1000;

/**
 * The CEL type name of a runtime value as cel-go prints it in error messages (`int`, `uint`,
 * `double`, `null_type`, `google.protobuf.Duration`, …).
 */
export function celTypeName(v: unknown): string {
  if (v === null || v === undefined) return "null_type";
  switch (typeof v) {
    case "boolean":
      return "bool";
    case "bigint":
      return "int";
    case "number":
      return "double";
    case "string":
      return "string";
    default:
      break;
  }
  if (v instanceof CelUint) return "uint";
  if (v instanceof Uint8Array) return "bytes";
  if (Array.isArray(v)) return "list";
  if (v instanceof CelTimestamp || v instanceof Date) return "google.protobuf.Timestamp";
  if (v instanceof CelDuration) return "google.protobuf.Duration";
  if (v instanceof CelType) return "type";
  if (v instanceof CelError) return "error";
  if (isMapValue(v)) return "map";
  const ctor = (v as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === "string" && ctor.name !== "" ? ctor.name : typeof v;
}

/** A CEL map at run time: a `Map` or a plain object. */
function isMapValue(v: unknown): v is Map<unknown, unknown> | Record<string, unknown> {
  if (v instanceof Map) return true;
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

class FormatFailure {
  constructor(readonly message: string) {}
}

function formatError(message: string): FormatFailure {
  return new FormatFailure(`error during formatting: ${message}`);
}

const STRING_CLAUSE_TYPES =
  "strings, bools, bytes, ints, doubles, maps, lists, types, durations, and timestamps";

/** Orders strings by code point (Go's byte order of UTF-8), not by UTF-16 unit. */
function compareCodePointOrder(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Move surrogates (astral code points) above U+E000–U+FFFF.
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

function formatDouble(x: number, fmt: "e" | "f", precision: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  return goFormatFloat(x, fmt, precision);
}

/** `%s` of any value; nested lists and maps use the same rules. */
function formatAsString(v: unknown, depth: number): string | FormatFailure {
  if (depth > MAX_FORMAT_DEPTH) return formatError("value nested too deeply");
  if (v === null || v === undefined) return "null";
  switch (typeof v) {
    case "string":
      return v;
    case "boolean":
      return v ? "true" : "false";
    case "bigint":
      return v.toString();
    case "number":
      return formatDouble(v, "f", -1);
    default:
      break;
  }
  if (v instanceof CelUint) return v.value.toString();
  if (v instanceof Uint8Array) return decodeUtf8Lossy(v);
  if (v instanceof CelTimestamp) return formatTimestamp(v);
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) return formatError(`string clause can only be used on ${STRING_CLAUSE_TYPES}, was given google.protobuf.Timestamp`);
    return formatTimestamp(CelTimestamp.fromMillis(v.getTime()));
  }
  if (v instanceof CelDuration) return formatDuration(v);
  if (v instanceof CelType) return v.name;
  if (Array.isArray(v)) {
    let out = "[";
    for (let i = 0; i < v.length; i++) {
      const item = formatAsString(v[i], depth + 1);
      if (item instanceof FormatFailure) return item;
      out += i === 0 ? item : `, ${item}`;
    }
    return `${out}]`;
  }
  if (isMapValue(v)) {
    const entries: [string, string][] = [];
    const source: Iterable<[unknown, unknown]> = v instanceof Map ? v : Object.entries(v);
    for (const [key, value] of source) {
      const k = formatAsString(key, depth + 1);
      if (k instanceof FormatFailure) return k;
      const val = formatAsString(value, depth + 1);
      if (val instanceof FormatFailure) return val;
      entries.push([k, val]);
    }
    // Array#sort is stable, as Go's sort.SliceStable.
    entries.sort((a, b) => compareCodePointOrder(a[0], b[0]));
    return `{${entries.map(([k, val]) => `${k}: ${val}`).join(", ")}}`;
  }
  return formatError(`string clause can only be used on ${STRING_CLAUSE_TYPES}, was given ${celTypeName(v)}`);
}

function formatDecimal(v: unknown): string | FormatFailure {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof CelUint) return v.value.toString();
  if (typeof v === "number") return formatDouble(v, "f", -1);
  return formatError(`decimal clause can only be used on integers, was given ${celTypeName(v)}`);
}

function formatFixedOrScientific(
  v: unknown,
  fmt: "e" | "f",
  precision: number,
): string | FormatFailure {
  // Integers are formatted through float64, as cel-go does.
  if (typeof v === "number") return formatDouble(v, fmt, precision);
  if (typeof v === "bigint") return formatDouble(Number(v), fmt, precision);
  if (v instanceof CelUint) return formatDouble(Number(v.value), fmt, precision);
  return fmt === "f"
    ? formatError(`fixed-point clause can only be used on doubles, was given ${celTypeName(v)}`)
    : formatError(`scientific clause can only be used on doubles, was given ${celTypeName(v)}`);
}

function formatBinary(v: unknown): string | FormatFailure {
  if (typeof v === "boolean") return v ? "1" : "0";
  if (typeof v === "bigint") return v.toString(2);
  if (v instanceof CelUint) return v.value.toString(2);
  return formatError(`only integers and bools can be formatted as binary, was given ${celTypeName(v)}`);
}

function formatOctal(v: unknown): string | FormatFailure {
  if (typeof v === "bigint") return v.toString(8);
  if (v instanceof CelUint) return v.value.toString(8);
  return formatError(`octal clause can only be used on integers, was given ${celTypeName(v)}`);
}

const HEX_DIGITS = "0123456789abcdef";

function bytesToHex(b: Uint8Array): string {
  let out = "";
  for (let i = 0; i < b.length; i++) {
    const x = b[i]!;
    out += HEX_DIGITS[x >> 4]! + HEX_DIGITS[x & 15]!;
  }
  return out;
}

function formatHex(v: unknown, upper: boolean): string | FormatFailure {
  let out: string;
  if (typeof v === "bigint") out = v.toString(16);
  else if (v instanceof CelUint) out = v.value.toString(16);
  else if (typeof v === "string") out = bytesToHex(stringToBytes(v));
  else if (v instanceof Uint8Array) out = bytesToHex(v);
  else {
    return formatError(
      `only integers, byte buffers, and strings can be formatted as hex, was given ${celTypeName(v)}`,
    );
  }
  return upper ? out.toUpperCase() : out;
}

/** The first UTF-8 byte of the code point at `i`, shown as Go's `%c` of that byte would. */
function clauseCharForMessage(s: string, i: number): string {
  const cp = s.codePointAt(i)!;
  if (cp < 0x80) return String.fromCharCode(cp);
  const firstByte = cp < 0x800 ? 0xc0 | (cp >> 6) : cp < 0x10000 ? 0xe0 | (cp >> 12) : 0xf0 | (cp >> 18);
  return String.fromCharCode(firstByte);
}

/**
 * `format.format(args)`: substitutes the clauses of `format` with the elements of `args` in
 * order. Errors (`invalid_argument`): too few arguments (`index N out of range`), a `%` at the
 * end (`unexpected end of string`), an unknown clause (`could not parse formatting clause:
 * unrecognized formatting clause "a"`), a bad precision, or an argument of the wrong type for its
 * clause (`error during formatting: …, was given TYPE`). Surplus arguments are ignored at run
 * time, as cel-go does; cel-go rejects them when it compiles a constant format string applied to a
 * list literal, and so do we (see {@link formatClauseCount}).
 */
export function formatString(format: string, args: readonly unknown[]): string | CelError {
  let out = "";
  let argIndex = 0;
  let i = 0;
  let literalFrom = 0;
  while (i < format.length) {
    if (format.charCodeAt(i) !== 37 /* % */) {
      i++;
      continue;
    }
    out += format.slice(literalFrom, i);
    if (format.charCodeAt(i + 1) === 37) {
      out += "%";
      i += 2;
      literalFrom = i;
      continue;
    }
    if (argIndex >= args.length) return new CelError("invalid_argument", `index ${argIndex} out of range`);
    const clause = readClause(format, i);
    if (clause instanceof CelError) return clause;
    const arg = args[argIndex];
    const precision = clause.precision;
    let formatted: string | FormatFailure;
    switch (format[clause.verb]) {
      case "s":
        formatted = formatAsString(arg, 0);
        break;
      case "d":
        formatted = formatDecimal(arg);
        break;
      case "f":
        formatted = formatFixedOrScientific(arg, "f", precision);
        break;
      case "e":
        formatted = formatFixedOrScientific(arg, "e", precision);
        break;
      case "b":
        formatted = formatBinary(arg);
        break;
      case "x":
        formatted = formatHex(arg, false);
        break;
      case "X":
        formatted = formatHex(arg, true);
        break;
      case "o":
        formatted = formatOctal(arg);
        break;
      default:
        throw new Error(`unreachable: readClause admitted clause ${format[clause.verb]}`);
    }
    if (formatted instanceof FormatFailure) return new CelError("invalid_argument", formatted.message);
    out += formatted;
    argIndex++;
    i = clause.verb + 1;
    literalFrom = i;
  }
  return out + format.slice(literalFrom);
}

/**
 * How many arguments the format string consumes (its clauses, `%%` excluded), or `undefined` when
 * it does not parse; then {@link formatString} reports why when it runs. The compiler rejects a
 * constant format string applied to a list literal with more elements than this, with cel-go's
 * message (`too many arguments supplied to string.format (expected 2, got 3)`).
 */
export function formatClauseCount(format: string): number | undefined {
  let count = 0;
  for (let i = 0; i < format.length; i++) {
    if (format.charCodeAt(i) !== 37 /* % */) continue;
    if (format.charCodeAt(i + 1) === 37) {
      i++;
      continue;
    }
    const clause = readClause(format, i);
    if (clause instanceof CelError) return undefined;
    count++;
    i = clause.verb;
  }
  return count;
}

/** The clause letters {@link formatString} knows. */
const VERBS = "sdfebxXo";

/**
 * The clause whose `%` is at `format[i]` (not a `%%`): the index of its letter and its precision,
 * or the error that makes it unreadable (cel-go's wording).
 */
function readClause(format: string, i: number): { readonly verb: number; readonly precision: number } | CelError {
  if (i + 1 >= format.length) return new CelError("invalid_argument", "unexpected end of string");
  let j = i + 1;
  let precision = DEFAULT_PRECISION;
  if (format[j] === ".") {
    j++;
    const digitsFrom = j;
    while (j < format.length && format.charCodeAt(j) >= 48 && format.charCodeAt(j) <= 57) j++;
    if (j >= format.length) {
      return clauseError("error while parsing precision: could not find end of precision specifier");
    }
    const digits = format.slice(digitsFrom, j);
    if (digits === "") {
      return clauseError(
        'error while parsing precision: error while converting precision to integer: strconv.Atoi: parsing "": invalid syntax',
      );
    }
    const value = boundedDigits(digits, 0, 19);
    if (value === undefined || value > 0x7fffffffffffffffn) {
      return clauseError(
        `error while parsing precision: error while converting precision to integer: strconv.Atoi: parsing ${JSON.stringify(digits)}: value out of range`,
      );
    }
    if (value > BigInt(MAX_FORMAT_PRECISION)) {
      return clauseError(`error while parsing precision: precision ${value} exceeds maximum allowed precision ${MAX_FORMAT_PRECISION}`);
    }
    precision = Number(value);
  }
  if (!VERBS.includes(format[j]!)) return clauseError(`unrecognized formatting clause "${clauseCharForMessage(format, j)}"`);
  return { verb: j, precision };
}

function clauseError(detail: string): CelError {
  return new CelError("invalid_argument", `could not parse formatting clause: ${detail}`);
}
