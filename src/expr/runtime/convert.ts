/**
 * CEL conversions and checked integer arithmetic, with cel-go's rules and error texts.
 *
 * Every function returns a value or a {@link CelError}; none throws for bad input. The float
 * formatting primitives here reproduce Go's `strconv` digit by digit (shortest round-trip digits,
 * exact decimal expansion, round half to even) because `string(double)` and `string.format` must
 * print exactly what cel-go prints.
 *
 * @module
 */
import { CelError, CelUint, INT64_MAX, INT64_MIN, UINT64_MAX } from "../values.js";

// ---------------------------------------------------------------------------------------------
// Error construction (fresh instances so that callers may attach node ids by copying)
// ---------------------------------------------------------------------------------------------

/** cel-go's text for int64 overflow. */
export const INT_OVERFLOW_MESSAGE = "integer overflow";
/** cel-go's text for uint64 overflow. */
export const UINT_OVERFLOW_MESSAGE = "unsigned integer overflow";

function intOverflow(): CelError {
  return new CelError("overflow", INT_OVERFLOW_MESSAGE);
}

function uintOverflow(): CelError {
  return new CelError("overflow", UINT_OVERFLOW_MESSAGE);
}

/** The error cel-go returns when a string cannot be converted to `target` (a CEL type name). */
export function conversionError(from: string, target: string): CelError {
  return new CelError("type_conversion", `type conversion error from '${from}' to '${target}'`);
}

// ---------------------------------------------------------------------------------------------
// Checked int64 / uint64 arithmetic
// ---------------------------------------------------------------------------------------------

/** `a + b` on int64; `overflow` error outside [-2^63, 2^63-1]. */
export function addInt(a: bigint, b: bigint): bigint | CelError {
  const r = a + b;
  return r > INT64_MAX || r < INT64_MIN ? intOverflow() : r;
}

/** `a - b` on int64; `overflow` error outside the int64 range. */
export function subInt(a: bigint, b: bigint): bigint | CelError {
  const r = a - b;
  return r > INT64_MAX || r < INT64_MIN ? intOverflow() : r;
}

/** `a * b` on int64; `overflow` error outside the int64 range. */
export function mulInt(a: bigint, b: bigint): bigint | CelError {
  const r = a * b;
  return r > INT64_MAX || r < INT64_MIN ? intOverflow() : r;
}

/**
 * `a / b` on int64, truncating toward zero as Go does; `division_by_zero` for `b == 0`,
 * `overflow` for `-2^63 / -1`.
 */
export function divInt(a: bigint, b: bigint): bigint | CelError {
  if (b === 0n) return new CelError("division_by_zero", "division by zero");
  if (a === INT64_MIN && b === -1n) return intOverflow();
  return a / b;
}

/**
 * `a % b` on int64 with the sign of the dividend (Go's and BigInt's `%`); `modulus_by_zero` for
 * `b == 0`, `overflow` for `-2^63 % -1` (cel-go rejects it although the result would be 0).
 */
export function modInt(a: bigint, b: bigint): bigint | CelError {
  if (b === 0n) return new CelError("modulus_by_zero", "modulus by zero");
  if (a === INT64_MIN && b === -1n) return intOverflow();
  return a % b;
}

/** `-a` on int64; `overflow` for `-(-2^63)`. */
export function negInt(a: bigint): bigint | CelError {
  return a === INT64_MIN ? intOverflow() : -a;
}

/** `a + b` on uint64; `overflow` error above 2^64-1. */
export function addUint(a: CelUint, b: CelUint): CelUint | CelError {
  const r = a.value + b.value;
  return r > UINT64_MAX ? uintOverflow() : new CelUint(r);
}

/** `a - b` on uint64; `overflow` error below zero. */
export function subUint(a: CelUint, b: CelUint): CelUint | CelError {
  return b.value > a.value ? uintOverflow() : new CelUint(a.value - b.value);
}

/** `a * b` on uint64; `overflow` error above 2^64-1. */
export function mulUint(a: CelUint, b: CelUint): CelUint | CelError {
  const r = a.value * b.value;
  return r > UINT64_MAX ? uintOverflow() : new CelUint(r);
}

/** `a / b` on uint64; `division_by_zero` for `b == 0`. */
export function divUint(a: CelUint, b: CelUint): CelUint | CelError {
  if (b.value === 0n) return new CelError("division_by_zero", "division by zero");
  return new CelUint(a.value / b.value);
}

/** `a % b` on uint64; `modulus_by_zero` for `b == 0`. */
export function modUint(a: CelUint, b: CelUint): CelUint | CelError {
  if (b.value === 0n) return new CelError("modulus_by_zero", "modulus by zero");
  return new CelUint(a.value % b.value);
}

// ---------------------------------------------------------------------------------------------
// Numeric conversions
// ---------------------------------------------------------------------------------------------

const TWO_POW_63 = 9223372036854775808; // exactly 2^63 as a double
const TWO_POW_64 = 18446744073709551616; // exactly 2^64 as a double

/**
 * `int(double)`: truncates toward zero. cel-go rejects NaN, ±Infinity and every value with
 * `v <= -2^63 || v >= 2^63` (so `int(-9223372036854775808.0)` is an error even though -2^63 is an
 * int64: the boundary is exclusive on both sides).
 */
export function doubleToInt(v: number): bigint | CelError {
  if (!(v > -TWO_POW_63 && v < TWO_POW_63)) return intOverflow();
  return BigInt(Math.trunc(v));
}

/**
 * `uint(double)`: truncates toward zero; NaN, ±Infinity, `v < 0` (including -0.5, which cel-go
 * rejects before truncating) and `v >= 2^64` are `overflow` errors. `-0.0` converts to 0.
 */
export function doubleToUint(v: number): CelUint | CelError {
  if (!(v >= 0 && v < TWO_POW_64)) return uintOverflow();
  return new CelUint(BigInt(Math.trunc(v)));
}

/** `uint(int)`: negative values are `overflow` errors. */
export function intToUint(v: bigint): CelUint | CelError {
  return v < 0n ? uintOverflow() : new CelUint(v);
}

/** `int(uint)`: values above 2^63-1 are `overflow` errors. */
export function uintToInt(v: CelUint): bigint | CelError {
  return v.value > INT64_MAX ? intOverflow() : v.value;
}

/** `double(int)`: nearest double, ties to even (as Go's `float64(int64)`). */
export function intToDouble(v: bigint): number {
  return Number(v);
}

/** `double(uint)`: nearest double, ties to even. */
export function uintToDouble(v: CelUint): number {
  return Number(v.value);
}

// ---------------------------------------------------------------------------------------------
// Parsing strings (Go's strconv.ParseInt / ParseUint / ParseFloat / ParseBool)
// ---------------------------------------------------------------------------------------------

function isAsciiDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * The value of the digits `s[start..]` as a BigInt, or `undefined` when it has more than
 * `maxDigits` significant digits (so that huge inputs are rejected without a quadratic parse).
 */
export function boundedDigits(s: string, start: number, maxDigits: number): bigint | undefined {
  let first = start;
  while (first < s.length - 1 && s.charCodeAt(first) === 48) first++;
  if (s.length - first > maxDigits) return undefined;
  return BigInt(s.slice(first));
}

/** True when `s` is one or more ASCII digits from `start` to the end. */
function allDigits(s: string, start: number): boolean {
  if (start >= s.length) return false;
  for (let i = start; i < s.length; i++) {
    if (!isAsciiDigit(s.charCodeAt(i))) return false;
  }
  return true;
}

/**
 * `int(string)` as Go's `strconv.ParseInt(s, 10, 64)`: an optional `+`/`-` and decimal digits,
 * nothing else (no spaces, underscores or prefixes). Syntax and range failures both give cel-go's
 * `type conversion error from 'string' to 'int'`.
 */
export function stringToInt(s: string): bigint | CelError {
  const c0 = s.charCodeAt(0);
  const start = c0 === 43 /* + */ || c0 === 45 /* - */ ? 1 : 0;
  if (!allDigits(s, start)) return conversionError("string", "int");
  const magnitude = boundedDigits(s, start, 19);
  if (magnitude === undefined) return conversionError("string", "int");
  const v = c0 === 45 ? -magnitude : magnitude;
  if (v > INT64_MAX || v < INT64_MIN) return conversionError("string", "int");
  return v;
}

/**
 * `uint(string)` as Go's `strconv.ParseUint(s, 10, 64)`: decimal digits only (no sign at all).
 */
export function stringToUint(s: string): CelUint | CelError {
  if (!allDigits(s, 0)) return conversionError("string", "uint");
  const v = boundedDigits(s, 0, 20);
  if (v === undefined || v > UINT64_MAX) return conversionError("string", "uint");
  return new CelUint(v);
}

/** Go's `underscoreOK`: underscores only between digits (or after a base prefix). */
function underscoresOk(s: string): boolean {
  let saw = "^";
  let i = 0;
  if (s.length >= 1 && (s[0] === "-" || s[0] === "+")) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === "0" && "bBoOxX".includes(s[1]!)) {
    i = 2;
    saw = "0";
    hex = s[1] === "x" || s[1] === "X";
  }
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const lower = c | 0x20;
    if (isAsciiDigit(c) || (hex && lower >= 97 && lower <= 102)) {
      saw = "0";
      continue;
    }
    if (c === 95 /* _ */) {
      if (saw !== "0") return false;
      saw = "_";
      continue;
    }
    if (saw === "_") return false;
    saw = "!";
  }
  return saw !== "_";
}

/** Go's `special`: `inf`, `infinity` (optionally signed) and `nan`, any case, as the whole string. */
function parseSpecialFloat(s: string): number | undefined {
  const lower = s.toLowerCase();
  switch (lower) {
    case "inf":
    case "+inf":
    case "infinity":
    case "+infinity":
      return Infinity;
    case "-inf":
    case "-infinity":
      return -Infinity;
    case "nan":
      return NaN;
    default:
      return undefined;
  }
}

/** Parses a Go hexadecimal float literal body (after the sign): `0x` mantissa `p` exponent. */
function parseHexFloat(body: string): number | undefined {
  // body starts with 0x/0X; mantissa hex digits with one optional '.', then mandatory p exponent.
  let i = 2;
  let mantissa = 0n;
  let sawDigits = false;
  let sawDot = false;
  let fractionDigits = 0;
  for (; i < body.length; i++) {
    const c = body[i]!;
    if (c === "_") continue;
    if (c === ".") {
      if (sawDot) return undefined;
      sawDot = true;
      continue;
    }
    const d = parseInt(c, 16);
    if (Number.isNaN(d)) break;
    sawDigits = true;
    mantissa = mantissa * 16n + BigInt(d);
    if (sawDot) fractionDigits++;
  }
  if (!sawDigits || i >= body.length || (body[i] !== "p" && body[i] !== "P")) return undefined;
  i++;
  let expSign = 1;
  if (body[i] === "+") i++;
  else if (body[i] === "-") {
    expSign = -1;
    i++;
  }
  if (i >= body.length || !isAsciiDigit(body.charCodeAt(i))) return undefined;
  let exp = 0;
  for (; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c === 95) continue;
    if (!isAsciiDigit(c)) return undefined;
    if (exp < 10000) exp = exp * 10 + (c - 48);
  }
  const binaryExp = expSign * exp - 4 * fractionDigits;
  if (mantissa === 0n) return 0;
  // Scale exactly in BigInt where possible, then round once.
  if (binaryExp >= 0) {
    if (binaryExp > 2000) return Infinity;
    return Number(mantissa << BigInt(binaryExp));
  }
  if (binaryExp < -2200) return 0;
  // Number(mantissa) rounds once to 53 bits; scaling by a power of two is then exact for normal
  // results. The first factor never underflows (m >= 1), so only subnormal results can round a
  // second time (a documented gap for hexadecimal literals below 2^-1022).
  const m = Number(mantissa);
  const first = Math.max(binaryExp, -1022);
  return m * 2 ** first * 2 ** (binaryExp - first);
}

/**
 * `double(string)` as Go's `strconv.ParseFloat(s, 64)`: decimal literals (`1`, `1.5`, `.5`,
 * `5.`, `1e3`, `-84.32e7`, digit-separating underscores such as `1_000`), hexadecimal literals
 * (`0x1p-2`), and `inf`/`infinity`/`nan` in any case (the infinities optionally signed).
 * Values beyond the double range are errors (Go's ErrRange), underflow gives ±0.
 */
export function stringToDouble(s: string): number | CelError {
  const special = parseSpecialFloat(s);
  if (special !== undefined) return special;
  const fail = conversionError("string", "double");
  let i = 0;
  let negative = false;
  if (s[0] === "+" || s[0] === "-") {
    negative = s[0] === "-";
    i = 1;
  }
  const body = s.slice(i);
  let value: number;
  if (body.length > 2 && body[0] === "0" && (body[1] === "x" || body[1] === "X")) {
    const hex = parseHexFloat(body);
    if (hex === undefined) return fail;
    if (body.includes("_") && !underscoresOk(s)) return fail;
    value = hex;
  } else {
    // digits with at most one '.', at least one digit, optional exponent with at least one digit
    let j = 0;
    let sawDigits = false;
    let sawDot = false;
    for (; j < body.length; j++) {
      const c = body.charCodeAt(j);
      if (c === 95) continue;
      if (c === 46) {
        if (sawDot) return fail;
        sawDot = true;
        continue;
      }
      if (!isAsciiDigit(c)) break;
      sawDigits = true;
    }
    if (!sawDigits) return fail;
    if (j < body.length) {
      if ((body.charCodeAt(j) | 0x20) !== 101 /* e */) return fail;
      j++;
      if (body[j] === "+" || body[j] === "-") j++;
      if (j >= body.length || !isAsciiDigit(body.charCodeAt(j))) return fail;
      for (; j < body.length; j++) {
        const c = body.charCodeAt(j);
        if (c !== 95 && !isAsciiDigit(c)) return fail;
      }
    }
    let clean = body;
    if (body.includes("_")) {
      if (!underscoresOk(s)) return fail;
      clean = body.replaceAll("_", "");
    }
    value = Number(clean);
  }
  if (value === Infinity) return fail; // ErrRange: beyond the largest double
  return negative ? -value : value;
}

/**
 * `bool(string)`: Go's `strconv.ParseBool` accepts exactly `1 t T TRUE true True` and
 * `0 f F FALSE false False`; anything else is a conversion error.
 */
export function stringToBool(s: string): boolean | CelError {
  switch (s) {
    case "1":
    case "t":
    case "T":
    case "true":
    case "TRUE":
    case "True":
      return true;
    case "0":
    case "f":
    case "F":
    case "false":
    case "FALSE":
    case "False":
      return false;
    default:
      return conversionError("string", "bool");
  }
}

// ---------------------------------------------------------------------------------------------
// bytes <-> string
// ---------------------------------------------------------------------------------------------

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/**
 * `string(bytes)`: the bytes must be valid UTF-8 (no overlongs, no surrogates); otherwise cel-go's
 * `invalid UTF-8 in bytes, cannot convert to string`. A leading byte-order mark is kept.
 */
export function bytesToString(b: Uint8Array): string | CelError {
  // ASCII fast path avoids the decoder and its exception machinery.
  let ascii = true;
  for (let i = 0; i < b.length; i++) {
    if (b[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    let out = "";
    for (let i = 0; i < b.length; i += 4096) {
      out += String.fromCharCode(...b.subarray(i, i + 4096));
    }
    return out;
  }
  try {
    return strictUtf8.decode(b);
  } catch {
    return new CelError("invalid_argument", "invalid UTF-8 in bytes, cannot convert to string");
  }
}

/** `bytes(string)`: the UTF-8 encoding of the string. */
export function stringToBytes(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

/**
 * Decodes UTF-8 leniently for display: every maximal run of invalid bytes becomes a single
 * U+FFFD, as the strings extension specifies for `%s` of bytes.
 */
export function decodeUtf8Lossy(b: Uint8Array): string {
  let out = "";
  let invalidRun = false;
  let i = 0;
  while (i < b.length) {
    const cp = decodeUtf8At(b, i);
    if (cp < 0) {
      if (!invalidRun) out += "\ufffd";
      invalidRun = true;
      i++;
      continue;
    }
    invalidRun = false;
    out += String.fromCodePoint(cp);
    i += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return out;
}

/** The code point encoded at `b[i]`, or -1 when the bytes there are not valid UTF-8. */
function decodeUtf8At(b: Uint8Array, i: number): number {
  const b0 = b[i]!;
  if (b0 < 0x80) return b0;
  const cont = (k: number): number => {
    const x = b[i + k];
    return x !== undefined && (x & 0xc0) === 0x80 ? x & 0x3f : -1;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    const c1 = cont(1);
    return c1 < 0 ? -1 : ((b0 & 0x1f) << 6) | c1;
  }
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const c1 = cont(1);
    const c2 = cont(2);
    if (c1 < 0 || c2 < 0) return -1;
    const cp = ((b0 & 0x0f) << 12) | (c1 << 6) | c2;
    if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
    return cp;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const c1 = cont(1);
    const c2 = cont(2);
    const c3 = cont(3);
    if (c1 < 0 || c2 < 0 || c3 < 0) return -1;
    const cp = ((b0 & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3;
    if (cp < 0x10000 || cp > 0x10ffff) return -1;
    return cp;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Go float formatting (strconv.FormatFloat), exact
// ---------------------------------------------------------------------------------------------

/**
 * A non-negative decimal `0.d1d2d3… × 10^dp` with no trailing zeros in `digits`; zero has
 * `digits === ""`.
 */
interface Decimal {
  digits: string;
  dp: number;
}

/** Shortest digits that round-trip to `x` (finite, > 0), as Go's shortest mode chooses them. */
function shortestDecimal(x: number): Decimal {
  // Number#toString yields the shortest round-tripping digits, picking the one closest to x
  // when several exist (ECMA-262 Number::toString), which is also what Go's Ryu chooses.
  const s = String(x);
  const e = s.indexOf("e");
  let mantissa = e < 0 ? s : s.slice(0, e);
  const exponent = e < 0 ? 0 : Number(s.slice(e + 1));
  const dot = mantissa.indexOf(".");
  let intLen = dot < 0 ? mantissa.length : dot;
  if (dot >= 0) mantissa = mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  let lead = 0;
  while (lead < mantissa.length && mantissa[lead] === "0") lead++;
  let end = mantissa.length;
  while (end > lead && mantissa[end - 1] === "0") end--;
  intLen -= lead;
  return { digits: mantissa.slice(lead, end), dp: intLen + exponent };
}

const float64View = new DataView(new ArrayBuffer(8));

/** The exact decimal value of a finite double `x > 0` (every double is a finite decimal). */
function exactDecimal(x: number): Decimal {
  float64View.setFloat64(0, x);
  const hi = float64View.getUint32(0);
  const lo = float64View.getUint32(4);
  const exponentField = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exponent: number;
  if (exponentField === 0) {
    exponent = -1074;
  } else {
    mantissa |= 1n << 52n;
    exponent = exponentField - 1075;
  }
  let digits: string;
  let dp: number;
  if (exponent >= 0) {
    digits = (mantissa << BigInt(exponent)).toString();
    dp = digits.length;
  } else {
    // m × 2^e = m × 5^-e / 10^-e
    digits = (mantissa * 5n ** BigInt(-exponent)).toString();
    dp = digits.length + exponent;
  }
  let end = digits.length;
  while (end > 0 && digits[end - 1] === "0") end--;
  return { digits: digits.slice(0, end), dp };
}

/**
 * Rounds to `nd` significant digits, half to even on exact ties, as Go's `decimal.Round`
 * (which leaves the value alone for `nd < 0`).
 */
function roundDecimal(d: Decimal, nd: number): Decimal {
  const { digits } = d;
  if (nd < 0 || nd >= digits.length) return d;
  let up: boolean;
  if (digits[nd] === "5" && nd + 1 === digits.length) {
    up = nd > 0 && (digits.charCodeAt(nd - 1) - 48) % 2 === 1;
  } else {
    up = digits[nd]! >= "5";
  }
  if (!up) {
    let end = nd;
    while (end > 0 && digits[end - 1] === "0") end--;
    return { digits: digits.slice(0, end), dp: d.dp };
  }
  let i = nd - 1;
  while (i >= 0 && digits[i] === "9") i--;
  if (i < 0) return { digits: "1", dp: d.dp + 1 };
  return {
    digits: digits.slice(0, i) + String.fromCharCode(digits.charCodeAt(i) + 1),
    dp: d.dp,
  };
}

/** Go's fmtF: `[-]ddd.ddd` with exactly `prec` fraction digits. */
function writeFixed(negative: boolean, d: Decimal, prec: number): string {
  const { digits, dp } = d;
  let out = negative ? "-" : "";
  if (dp > 0) {
    const m = Math.min(digits.length, dp);
    out += digits.slice(0, m);
    if (m < dp) out += "0".repeat(dp - m);
  } else {
    out += "0";
  }
  if (prec > 0) {
    out += ".";
    for (let i = 1; i <= prec; i++) {
      const j = dp + i - 1;
      out += j >= 0 && j < digits.length ? digits[j] : "0";
    }
  }
  return out;
}

/** Go's fmtE: `[-]d.ddde±dd` with `prec` fraction digits and at least two exponent digits. */
function writeExponent(negative: boolean, d: Decimal, prec: number): string {
  const { digits, dp } = d;
  let out = negative ? "-" : "";
  out += digits.length > 0 ? digits[0] : "0";
  if (prec > 0) {
    out += ".";
    const m = Math.min(digits.length, prec + 1);
    out += digits.slice(1, m);
    if (m - 1 < prec) out += "0".repeat(prec - Math.max(m - 1, 0));
  }
  let exp = digits.length === 0 ? 0 : dp - 1;
  out += exp < 0 ? "e-" : "e+";
  if (exp < 0) exp = -exp;
  out += exp < 10 ? `0${exp}` : String(exp);
  return out;
}

/**
 * Go's `strconv.FormatFloat(x, fmt, prec, 64)` for `fmt` in `e`, `f`, `g`; `prec < 0` selects
 * the shortest representation that round-trips. NaN prints `NaN`, infinities `+Inf` / `-Inf`.
 */
export function goFormatFloat(x: number, fmt: "e" | "f" | "g", prec: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "+Inf";
  if (x === -Infinity) return "-Inf";
  const negative = x < 0 || Object.is(x, -0);
  const magnitude = Math.abs(x);
  const shortest = prec < 0;
  let d: Decimal;
  if (magnitude === 0) {
    d = { digits: "", dp: 0 };
  } else if (shortest) {
    d = shortestDecimal(magnitude);
  } else {
    d = exactDecimal(magnitude);
    if (fmt === "e") d = roundDecimal(d, prec + 1);
    else if (fmt === "f") d = roundDecimal(d, d.dp + prec);
    else d = roundDecimal(d, prec === 0 ? 1 : prec);
  }
  if (shortest) {
    if (fmt === "e") prec = Math.max(d.digits.length - 1, 0);
    else if (fmt === "f") prec = Math.max(d.digits.length - d.dp, 0);
    else prec = d.digits.length;
  }
  if (fmt === "e") return writeExponent(negative, d, prec);
  if (fmt === "f") return writeFixed(negative, d, prec);
  // %g: exponent form below 1e-4 or at/above 10^eprec (eprec is 6 in shortest mode)
  let eprec = prec;
  if (eprec > d.digits.length && d.digits.length >= d.dp) eprec = d.digits.length;
  if (shortest) eprec = 6;
  const exp = d.dp - 1;
  if (exp < -4 || exp >= eprec) {
    let p = prec;
    if (p > d.digits.length) p = d.digits.length;
    return writeExponent(negative, d, p - 1);
  }
  let p = prec;
  if (p > d.dp) p = d.digits.length;
  return writeFixed(negative, d, Math.max(p - d.dp, 0));
}

/**
 * `string(double)` exactly as cel-go (`fmt.Sprintf("%g", v)`): shortest digits, exponent form
 * when the decimal exponent is below -4 or at least 6 (`1e+06`, `1.23456789e+08`, `1e-05`),
 * `-0` for negative zero, `+Inf`, `-Inf`, `NaN`.
 */
export function doubleToString(v: number): string {
  return goFormatFloat(v, "g", -1);
}

/** `string(int)`: decimal digits with a leading `-` for negatives. */
export function intToString(v: bigint): string {
  return v.toString();
}

/** `string(uint)`: decimal digits (no `u` suffix). */
export function uintToString(v: CelUint): string {
  return v.value.toString();
}

/** `string(bool)`: `true` or `false`. */
export function boolToString(v: boolean): string {
  return v ? "true" : "false";
}
