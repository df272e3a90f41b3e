/**
 * Decoding of CEL literal tokens into values, exactly as the CEL specification and cel-go define
 * them. The lexer has already checked the shape of every escape sequence; what remains here are
 * the checks that need the decoded value (code point validity, integer ranges, `\u` in bytes).
 *
 * Functions return the value, or a {@link LiteralError} carrying cel-go's message, so that the
 * common case allocates nothing beyond the value itself.
 *
 * @module
 */

/** Why a literal token cannot be turned into a value; `message` is cel-go's wording. */
export class LiteralError {
  constructor(readonly message: string) {}
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

const INVALID_INT = new LiteralError("invalid int literal");
const INVALID_UINT = new LiteralError("invalid uint literal");
const INVALID_DOUBLE = new LiteralError("invalid double literal");
const INVALID_CODE_POINT = new LiteralError("invalid unicode code point");
const CANNOT_UNESCAPE = new LiteralError("unable to unescape string");

/** Decodes a `NUM_INT` token (decimal or `0x` hex), negated when a `-` sign was folded into it. */
export function decodeInt(image: string, negative: boolean): bigint | LiteralError {
  // Up to 15 decimal digits is exact as a double, and converting a number is cheaper than
  // parsing a string into a bigint.
  const magnitude = image.length <= 15 && image.charCodeAt(1) !== 0x78 /* x */ ? BigInt(Number(image)) : BigInt(image);
  const value = negative ? -magnitude : magnitude;
  return value < INT64_MIN || value > INT64_MAX ? INVALID_INT : value;
}

/** Decodes a `NUM_UINT` token (`u`/`U` suffix). */
export function decodeUint(image: string): bigint | LiteralError {
  const value = BigInt(image.slice(0, -1));
  return value > UINT64_MAX ? INVALID_UINT : value;
}

/** Decodes a `NUM_FLOAT` token; values beyond the double range are errors, as in Go's `ParseFloat`. */
export function decodeDouble(image: string, negative: boolean): number | LiteralError {
  const magnitude = Number(image);
  if (!Number.isFinite(magnitude)) return INVALID_DOUBLE;
  return negative ? -magnitude : magnitude;
}

const BACKSLASH = 0x5c;

/** The text between the quotes of a string token, and whether it is raw. */
interface QuotedBody {
  readonly body: string;
  readonly raw: boolean;
}

function unquote(image: string, start: number): QuotedBody {
  let raw = false;
  const first = image.charCodeAt(start);
  if (first === 0x72 /* r */ || first === 0x52 /* R */) {
    raw = true;
    start++;
  }
  const quote = image.charCodeAt(start);
  const triple =
    image.length - start >= 6 && image.charCodeAt(start + 1) === quote && image.charCodeAt(start + 2) === quote;
  const width = triple ? 3 : 1;
  let body = image.slice(start + width, image.length - width);
  // cel-go normalises every line ending inside a literal to "\n".
  if (body.indexOf("\r") >= 0) body = body.replace(/\r\n?/g, "\n");
  return { body, raw };
}

/**
 * Decodes a `STRING` token: quotes, raw prefix, escapes and line-ending normalisation. With
 * `lifted` (Inngest's literal lifting), a single- or double-quoted string is taken verbatim.
 */
export function decodeString(image: string, lifted = false): string | LiteralError {
  const { body, raw } = unquote(image, 0);
  if (lifted && !raw && !(image.length >= 6 && image.charCodeAt(1) === image.charCodeAt(0) && image.charCodeAt(2) === image.charCodeAt(0))) {
    return body;
  }
  if (raw || body.indexOf("\\") < 0) return body;
  let out = "";
  let copiedUpTo = 0;
  let i = 0;
  while (i < body.length) {
    if (body.charCodeAt(i) !== BACKSLASH) {
      i++;
      continue;
    }
    out += body.slice(copiedUpTo, i);
    const escape = readEscape(body, i);
    if (escape === undefined) return CANNOT_UNESCAPE;
    if (escape.kind === "unicode" && !isValidCodePoint(escape.value)) return INVALID_CODE_POINT;
    out += String.fromCodePoint(escape.value);
    i = escape.end;
    copiedUpTo = i;
  }
  return out + body.slice(copiedUpTo);
}

const encoder = new TextEncoder();

/**
 * Decodes a `BYTES` token: the UTF-8 encoding of the text, except that `\x` and octal escapes
 * denote single octets. `\u` gives the UTF-8 encoding of its code point; `\U` is rejected in
 * bytes, as the language definition says.
 */
export function decodeBytes(image: string): Uint8Array | LiteralError {
  const { body, raw } = unquote(image, 1);
  if (raw || body.indexOf("\\") < 0) return encoder.encode(body);
  const out: number[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body.charCodeAt(i);
    if (c !== BACKSLASH) {
      const codePoint = body.codePointAt(i)!;
      pushUtf8(out, codePoint);
      i += codePoint > 0xffff ? 2 : 1;
      continue;
    }
    const escape = readEscape(body, i);
    // The language definition allows `\u` in bytes (its UTF-8 encoding) and reserves `\U` for
    // strings; cel-go rejects both, the spec is followed here.
    if (escape === undefined || (escape.kind === "unicode" && body.charCodeAt(i + 1) === 0x55 /* U */)) {
      return CANNOT_UNESCAPE;
    }
    if (escape.kind === "unicode" && !isValidCodePoint(escape.value)) return INVALID_CODE_POINT;
    if (escape.kind === "octet") out.push(escape.value);
    else pushUtf8(out, escape.value);
    i = escape.end;
  }
  return Uint8Array.from(out);
}

interface Escape {
  /** `char`: a named escape; `octet`: `\x` or octal (a byte in bytes literals); `unicode`: `\u`, `\U`. */
  readonly kind: "char" | "octet" | "unicode";
  readonly value: number;
  /** Index just after the escape sequence. */
  readonly end: number;
}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  a: 0x07,
  b: 0x08,
  f: 0x0c,
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  v: 0x0b,
  "\\": 0x5c,
  "'": 0x27,
  '"': 0x22,
  "`": 0x60,
  "?": 0x3f,
};

/** Reads the escape sequence starting at the backslash at `at`; undefined when malformed. */
function readEscape(text: string, at: number): Escape | undefined {
  const letter = text[at + 1];
  if (letter === undefined) return undefined;
  const simple = SIMPLE_ESCAPES[letter];
  if (simple !== undefined) return { kind: "char", value: simple, end: at + 2 };
  switch (letter) {
    case "x":
    case "X":
      return readHex(text, at + 2, 2, "octet");
    case "u":
      return readHex(text, at + 2, 4, "unicode");
    case "U":
      return readHex(text, at + 2, 8, "unicode");
    case "0":
    case "1":
    case "2":
    case "3": {
      const d1 = text.charCodeAt(at + 2) - 0x30;
      const d2 = text.charCodeAt(at + 3) - 0x30;
      if (!(d1 >= 0 && d1 <= 7 && d2 >= 0 && d2 <= 7)) return undefined;
      return { kind: "octet", value: (letter.charCodeAt(0) - 0x30) * 64 + d1 * 8 + d2, end: at + 4 };
    }
    default:
      return undefined;
  }
}

function readHex(text: string, from: number, digits: number, kind: Escape["kind"]): Escape | undefined {
  let value = 0;
  for (let i = 0; i < digits; i++) {
    const d = hexValue(text.charCodeAt(from + i));
    if (d < 0) return undefined;
    value = value * 16 + d;
  }
  return { kind, value, end: from + digits };
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** A Unicode scalar value: in range and not a surrogate (cel-go's `utf8.ValidRune`). */
function isValidCodePoint(value: number): boolean {
  return value <= 0x10ffff && !(value >= 0xd800 && value <= 0xdfff);
}

function pushUtf8(out: number[], cp: number): void {
  // Lone surrogates in the source were already reported; encode them as U+FFFD like TextEncoder.
  if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
  if (cp < 0x80) out.push(cp);
  else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
  else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
}
