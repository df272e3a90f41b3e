/**
 * Reading a JSON request body from its bytes, strictly, with messages that say what is wrong and
 * where without echoing the body back.
 *
 * - An empty body is no body (`undefined`): many clients send `Content-Type: application/json` on
 *   every request, a `DELETE` included; a route that needs a body says so itself.
 * - The bytes must be valid UTF-8 (RFC 8259 §8.1). A lenient decoder would replace a bad sequence
 *   by U+FFFD and store text the client never sent; we refuse it and name the byte offset.
 * - `JSON.parse`'s own messages quote part of the body (`Unexpected token 'x', "{"secret…" is not
 *   valid JSON`), so a failed parse is described by {@link describeJsonError}, a small scanner run
 *   only on failure: the line, the column and what was expected there.
 * - A number beyond a 64-bit float (`1e400`) parses to `Infinity` and would be reported later as
 *   something it is not; it is refused here, by position, as Go's decoder refuses it.
 *
 * @module
 */
import { isUtf8 } from "node:buffer";

/** What {@link readJsonBody} answers. */
export type JsonBody = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

/**
 * Reads a request body: empty → `undefined`; otherwise strict UTF-8 and JSON with finite numbers.
 *
 * @returns The value, or a message without any part of the body (e.g. `malformed JSON at line 1,
 * column 12: expected ',' or '}' after a value`).
 */
export function readJsonBody(bytes: Uint8Array): JsonBody {
  if (bytes.length === 0) return { ok: true, value: undefined };
  if (!isUtf8(bytes)) {
    return { ok: false, message: `the body is not valid UTF-8 (an invalid byte sequence at byte offset ${invalidUtf8Offset(bytes)})` };
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("utf8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, message: malformedJsonMessage(text) };
  }
  if (holdsNonFinite(value)) {
    const problem = describeJsonError(text, true);
    const where = problem === undefined ? "" : ` at ${position(text, problem.at)}`;
    return { ok: false, message: `the number${where} is too large for a 64-bit float (its magnitude must stay below 1.8e308)` };
  }
  return { ok: true, value };
}

/**
 * Why `text`, which `JSON.parse` refused, is not JSON, without quoting it: `malformed JSON at line
 * L, column C: <what was expected>`.
 */
export function malformedJsonMessage(text: string): string {
  const problem = describeJsonError(text, false);
  return problem === undefined ? "malformed JSON" : `malformed JSON at ${position(text, problem.at)}: ${problem.what}`;
}

/** `line L, column C` (both from 1, columns in UTF-16 code units) of offset `at`. */
function position(text: string, at: number): string {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < at; i = text.indexOf("\n", i + 1)) {
    line++;
    start = i + 1;
  }
  return `line ${line}, column ${at - start + 1}`;
}

/**
 * The offset of the first byte that does not start a well-formed UTF-8 sequence (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF, no truncated sequence), or -1.
 */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i]!;
    if (lead < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let low = 0x80;
    let high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) need = 1;
    else if (lead >= 0xe0 && lead <= 0xef) {
      need = 2;
      if (lead === 0xe0) low = 0xa0; // overlong
      if (lead === 0xed) high = 0x9f; // surrogates
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      need = 3;
      if (lead === 0xf0) low = 0x90; // overlong
      if (lead === 0xf4) high = 0x8f; // above U+10FFFF
    } else return i;
    for (let k = 1; k <= need; k++) {
      const next = bytes[i + k];
      const lo = k === 1 ? low : 0x80;
      const hi = k === 1 ? high : 0xbf;
      if (next === undefined || next < lo || next > hi) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** Whether a parsed JSON value holds a non-finite number anywhere (iteratively: no stack limit). */
function holdsNonFinite(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === "number") {
      if (!Number.isFinite(next)) return true;
    } else if (Array.isArray(next)) {
      for (const item of next) pending.push(item);
    } else if (typeof next === "object" && next !== null) {
      for (const key of Object.keys(next)) pending.push((next as Record<string, unknown>)[key]);
    }
  }
  return false;
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const NUMBER_CONTINUES = /[0-9.eE+-]/;
const LITERALS = ["true", "false", "null"] as const;

type ScanState = "value" | "valueOrClose" | "key" | "keyOrClose" | "colon" | "after";

/**
 * Where and why `text` is not JSON (RFC 8259), or, with `overflow`, where its first number beyond
 * a 64-bit float is; `undefined` when neither is found. Iterative, so any nesting depth is fine.
 */
export function describeJsonError(text: string, overflow: boolean): { readonly at: number; readonly what: string } | undefined {
  const stack: string[] = [];
  let state: ScanState = "value";
  let i = 0;
  for (;;) {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
    if (i >= text.length) return state === "after" && stack.length === 0 ? undefined : { at: i, what: "unexpected end of the body" };
    const c = text[i]!;
    if (state === "value" || state === "valueOrClose") {
      if (state === "valueOrClose" && c === "]") {
        stack.pop();
        i++;
        state = "after";
      } else if (c === "{" || c === "[") {
        stack.push(c);
        i++;
        state = c === "{" ? "keyOrClose" : "valueOrClose";
      } else if (c === '"') {
        const end = scanString(text, i);
        if (typeof end !== "number") return end;
        i = end;
        state = "after";
      } else if (c === "-" || (c >= "0" && c <= "9")) {
        NUMBER.lastIndex = i;
        const match = NUMBER.exec(text);
        const end = match === null ? i : i + match[0].length;
        if (match === null || (end < text.length && NUMBER_CONTINUES.test(text[end]!))) return { at: i, what: "invalid number" };
        if (overflow && !Number.isFinite(Number(match[0]))) return { at: i, what: "number too large" };
        i = end;
        state = "after";
      } else {
        const literal = LITERALS.find((word) => text.startsWith(word, i));
        if (literal === undefined) return { at: i, what: i === 0 && c === "\ufeff" ? "a byte order mark is not allowed" : "expected a value" };
        i += literal.length;
        state = "after";
      }
    } else if (state === "key" || state === "keyOrClose") {
      if (state === "keyOrClose" && c === "}") {
        stack.pop();
        i++;
        state = "after";
      } else if (c === '"') {
        const end = scanString(text, i);
        if (typeof end !== "number") return end;
        i = end;
        state = "colon";
      } else return { at: i, what: "expected a key in double quotes" };
    } else if (state === "colon") {
      if (c !== ":") return { at: i, what: "expected ':' after a key" };
      i++;
      state = "value";
    } else {
      const open = stack.at(-1);
      if (open === undefined) return { at: i, what: "unexpected text after the JSON value" };
      const close = open === "{" ? "}" : "]";
      if (c === ",") {
        i++;
        state = open === "{" ? "key" : "value";
      } else if (c === close) {
        stack.pop();
        i++;
      } else return { at: i, what: `expected ',' or '${close}' after a value` };
    }
  }
}

/** The end of the string starting at `start` (a `"`), or why it is not a JSON string. */
function scanString(text: string, start: number): number | { readonly at: number; readonly what: string } {
  let i = start + 1;
  for (;;) {
    if (i >= text.length) return { at: start, what: "unterminated string" };
    const code = text.charCodeAt(i);
    if (code === 0x22) return i + 1;
    if (code < 0x20) return { at: i, what: "a control character in a string must be escaped" };
    if (code === 0x5c) {
      const escape = text[i + 1];
      if (escape !== undefined && '"\\/bfnrt'.includes(escape)) i += 2;
      else if (escape === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
      else return { at: i, what: "invalid escape sequence in a string" };
    } else i++;
  }
}
