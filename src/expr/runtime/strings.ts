/**
 * CEL string functions: the core `size contains startsWith endsWith` and the cel-go strings
 * extension (`charAt indexOf lastIndexOf lowerAscii upperAscii replace split substring trim join
 * quote reverse`; `format` lives in `format.ts`).
 *
 * Every index counts Unicode code points, as CEL (and Go's `[]rune`) does, not UTF-16 units. The
 * functions work on the JS string directly: they walk it to translate between code-point and
 * UTF-16 positions instead of materialising code-point arrays, so ASCII input costs one scan and
 * no allocation beyond the result. A lone surrogate (possible in JS strings, impossible in CEL's
 * UTF-8) counts as one code point.
 *
 * Index arguments and int results are CEL ints (`bigint`).
 *
 * @module
 */
import { CelError } from "../values.js";

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** UTF-16 length of the code point starting at `i` (1 or 2). */
function unitsAt(s: string, i: number): number {
  return isHighSurrogate(s.charCodeAt(i)) && isLowSurrogate(s.charCodeAt(i + 1)) ? 2 : 1;
}

/** Number of code points in `s`, as a JS number; no allocation. */
export function codePointCount(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    if (isHighSurrogate(s.charCodeAt(i)) && isLowSurrogate(s.charCodeAt(i + 1))) {
      n--;
      i++;
    }
  }
  return n;
}

/** `size(string)`: the number of code points. */
export function stringSize(s: string): bigint {
  return BigInt(codePointCount(s));
}

/** UTF-16 index of code point number `cp` (0 ≤ cp ≤ count), counting from the start. */
function unitIndexOf(s: string, cp: number): number {
  let i = 0;
  for (let k = 0; k < cp && i < s.length; k++) i += unitsAt(s, i);
  return i;
}

/** Number of code points between UTF-16 indexes `from` and `to` (both starting code points). */
function codePointsBetween(s: string, from: number, to: number): number {
  let cp = to - from;
  for (let i = from; i < to - 1; i++) {
    if (isHighSurrogate(s.charCodeAt(i)) && isLowSurrogate(s.charCodeAt(i + 1))) {
      cp--;
      i++;
    }
  }
  return cp;
}

/** Code-point index of UTF-16 index `unit` (which must start a code point). */
function codePointIndexOf(s: string, unit: number): number {
  return codePointsBetween(s, 0, unit);
}

function indexOutOfRange(index: bigint): CelError {
  return new CelError("index_out_of_bounds", `index out of range: ${index}`);
}

/** `s.contains(sub)`. */
export function contains(s: string, sub: string): boolean {
  return s.includes(sub);
}

/** `s.startsWith(prefix)`. */
export function startsWith(s: string, prefix: string): boolean {
  return s.startsWith(prefix);
}

/** `s.endsWith(suffix)`. */
export function endsWith(s: string, suffix: string): boolean {
  return s.endsWith(suffix);
}

/**
 * `s.charAt(i)`: the code point at `i`; `''` when `i` equals the length; otherwise outside
 * `0..size` an `index_out_of_bounds` error "index out of range: i".
 */
export function charAt(s: string, index: bigint): string | CelError {
  if (index < 0n || index > BigInt(s.length)) return indexOutOfRange(index);
  const cp = Number(index);
  const start = unitIndexOf(s, cp);
  if (start >= s.length) {
    return codePointCount(s) === cp ? "" : indexOutOfRange(index);
  }
  return s.slice(start, start + unitsAt(s, start));
}

/**
 * `s.indexOf(sub[, offset])`: code-point index of the first occurrence of `sub` at or after
 * `offset`, or -1. `offset` outside `0..size` is an error "index out of range: offset", as the
 * cel-spec conformance tests require (cel-go since late 2024 returns -1 for an offset past the
 * end instead). The empty string is found at `offset`.
 */
export function indexOf(s: string, sub: string, offset: bigint = 0n): bigint | CelError {
  if (offset < 0n) return indexOutOfRange(offset);
  if (offset === 0n) {
    const found = s.indexOf(sub);
    return found < 0 ? -1n : BigInt(codePointIndexOf(s, found));
  }
  if (offset > BigInt(s.length)) return indexOutOfRange(offset);
  const cp = Number(offset);
  const start = unitIndexOf(s, cp);
  if (start >= s.length && codePointCount(s) < cp) return indexOutOfRange(offset);
  if (sub === "") return offset;
  const found = s.indexOf(sub, start);
  if (found < 0) return -1n;
  return BigInt(cp + codePointsBetween(s, start, found));
}

/**
 * `s.lastIndexOf(sub[, offset])`: code-point index of the last occurrence of `sub` that starts at
 * or before `offset` (default: the end), or -1. `offset` outside `0..size` is an error
 * "index out of range: offset" (as the conformance tests require). The empty string is found at
 * `offset` (or at the size without an offset).
 */
export function lastIndexOf(s: string, sub: string, offset?: bigint): bigint | CelError {
  if (offset === undefined) {
    const found = s.lastIndexOf(sub);
    return found < 0 ? -1n : BigInt(codePointIndexOf(s, found));
  }
  if (offset < 0n || offset > BigInt(s.length)) return indexOutOfRange(offset);
  const cp = Number(offset);
  const start = unitIndexOf(s, cp);
  if (start >= s.length && codePointCount(s) < cp) return indexOutOfRange(offset);
  if (sub === "") return offset;
  const found = s.lastIndexOf(sub, start);
  return found < 0 ? -1n : BigInt(codePointIndexOf(s, found));
}

/** `s.lowerAscii()`: ASCII letters lower-cased, everything else unchanged. */
export function lowerAscii(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
  }
  return s;
}

/** `s.upperAscii()`: ASCII letters upper-cased, everything else unchanged. */
export function upperAscii(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 97 && c <= 122) return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
  }
  return s;
}

/** Clamps a CEL int count to a JS number where only its sign and small magnitudes matter. */
function countArg(n: bigint): number {
  if (n > 0x7fffffffn) return 0x7fffffff;
  if (n < -1n) return -1;
  return Number(n);
}

/**
 * `s.replace(old, new[, n])` as Go's `strings.Replace`: replaces the first `n` non-overlapping
 * occurrences (all when `n` is negative or omitted, none when 0). An empty `old` matches at the
 * start and after every code point.
 */
export function replace(s: string, oldSub: string, newSub: string, n: bigint = -1n): string {
  let limit = countArg(n);
  if (limit === 0 || oldSub === newSub) return s;
  if (oldSub === "") {
    let out = "";
    let i = 0;
    while (limit !== 0) {
      out += newSub;
      if (limit > 0) limit--;
      if (i >= s.length) return out;
      const w = unitsAt(s, i);
      out += s.slice(i, i + w);
      i += w;
    }
    return out + s.slice(i);
  }
  // split/join rather than replaceAll: a string replacement would expand `$&`-style patterns.
  if (limit < 0) return s.split(oldSub).join(newSub);
  let out = "";
  let from = 0;
  while (limit > 0) {
    const at = s.indexOf(oldSub, from);
    if (at < 0) break;
    out += s.slice(from, at) + newSub;
    from = at + oldSub.length;
    limit--;
  }
  return out + s.slice(from);
}

/**
 * `s.split(sep[, n])` as Go's `strings.SplitN`: at most `n` pieces, the last holding the rest
 * (all pieces when `n` is negative or omitted, `[]` when 0). An empty `sep` splits into code
 * points; `''.split('')` is `[]` and `''.split(',')` is `['']`.
 */
export function split(s: string, sep: string, n: bigint = -1n): string[] {
  let limit = countArg(n);
  if (limit === 0) return [];
  if (sep === "") {
    const out: string[] = [];
    let i = 0;
    while (i < s.length) {
      if (limit > 0 && out.length === limit - 1) {
        out.push(s.slice(i));
        return out;
      }
      const w = unitsAt(s, i);
      out.push(s.slice(i, i + w));
      i += w;
    }
    return out;
  }
  if (limit < 0) return s.split(sep);
  const out: string[] = [];
  let from = 0;
  while (limit > 1) {
    const at = s.indexOf(sep, from);
    if (at < 0) break;
    out.push(s.slice(from, at));
    from = at + sep.length;
    limit--;
  }
  out.push(s.slice(from));
  return out;
}

/**
 * `s.substring(start[, end])`: code points `start` (inclusive) to `end` (exclusive, default the
 * size). Errors: "invalid substring range. start: S, end: E" when start > end (checked first),
 * then "index out of range: I" for an index outside `0..size`.
 */
export function substring(s: string, start: bigint, end?: bigint): string | CelError {
  if (end !== undefined && start > end) {
    return new CelError("index_out_of_bounds", `invalid substring range. start: ${start}, end: ${end}`);
  }
  if (start < 0n || start > BigInt(s.length)) return indexOutOfRange(start);
  const startCp = Number(start);
  const from = unitIndexOf(s, startCp);
  if (from >= s.length && codePointCount(s) < startCp) return indexOutOfRange(start);
  if (end === undefined) return s.slice(from);
  if (end > BigInt(s.length)) return indexOutOfRange(end);
  const endCp = Number(end);
  let to = from;
  for (let k = startCp; k < endCp; k++) {
    if (to >= s.length) return indexOutOfRange(end);
    to += unitsAt(s, to);
  }
  return s.slice(from, to);
}

/**
 * Whether a code point is white space as Go's `unicode.IsSpace` defines it: `\t \n \v \f \r`,
 * space, U+0085, U+00A0 and the Unicode Z categories (U+1680, U+2000–U+200A, U+2028, U+2029,
 * U+202F, U+205F, U+3000). Unlike JS's `trim`, U+FEFF and U+180E are not space.
 */
function isGoSpace(c: number): boolean {
  if (c <= 0xff) return (c >= 9 && c <= 13) || c === 32 || c === 0x85 || c === 0xa0;
  return (
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** `s.trim()`: removes leading and trailing white space as Go's `strings.TrimSpace`. */
export function trim(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isGoSpace(s.charCodeAt(start))) start++;
  while (end > start && isGoSpace(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/**
 * `list.join([sep])`: concatenates a list of strings with `sep` (default `''`) between them. A
 * non-string element is an `invalid_argument` error "join: invalid input: VALUE".
 */
export function join(list: readonly unknown[], sep = ""): string | CelError {
  let out = "";
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (typeof item !== "string") {
      return new CelError("invalid_argument", `join: invalid input: ${describe(item)}`);
    }
    out += i === 0 ? item : sep + item;
  }
  return out;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "bigint" || typeof v === "number" || typeof v === "boolean") return String(v);
  if (v instanceof Uint8Array) return `[${Array.from(v).join(" ")}]`;
  return Object.prototype.toString.call(v);
}

/**
 * `strings.quote(s)`: wraps `s` in double quotes and escapes `\a \b \f \n \r \t \v`, backslash
 * and `"`; every other character is kept as is; a lone surrogate becomes U+FFFD (Go replaces
 * invalid UTF-8 the same way).
 */
export function quote(s: string): string {
  let out = '"';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let escape: string | undefined;
    switch (c) {
      case 7:
        escape = "\\a";
        break;
      case 8:
        escape = "\\b";
        break;
      case 12:
        escape = "\\f";
        break;
      case 10:
        escape = "\\n";
        break;
      case 13:
        escape = "\\r";
        break;
      case 9:
        escape = "\\t";
        break;
      case 11:
        escape = "\\v";
        break;
      case 92:
        escape = "\\\\";
        break;
      case 34:
        escape = '\\"';
        break;
      default:
        if (isHighSurrogate(c) && isLowSurrogate(s.charCodeAt(i + 1))) {
          i++;
        } else if (isHighSurrogate(c) || isLowSurrogate(c)) {
          escape = "\ufffd";
        }
    }
    if (escape !== undefined) {
      out += s.slice(from, i) + escape;
      from = i + 1;
    }
  }
  return `${out}${s.slice(from)}"`;
}

/** `s.reverse()`: the code points of `s` in reverse order. */
export function reverse(s: string): string {
  let out = "";
  let i = s.length;
  while (i > 0) {
    const c = s.charCodeAt(i - 1);
    if (isLowSurrogate(c) && i >= 2 && isHighSurrogate(s.charCodeAt(i - 2))) {
      out += s.slice(i - 2, i);
      i -= 2;
    } else {
      out += s[i - 1];
      i--;
    }
  }
  return out;
}
