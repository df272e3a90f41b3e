/**
 * Go's `encoding/json` decoding into `map[string]any`, behind Inngest's `json_parse`.
 *
 * @module
 */
import { replaceLoneSurrogates } from "./strings.js";

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
