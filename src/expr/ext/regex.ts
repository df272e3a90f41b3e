/**
 * cel-go's regex extension (ext/regex.go): `regex.replace`, `regex.extract` (an optional
 * string), `regex.extractAll`. RE2 syntax and linear-time matching through re2js, as `matches`;
 * matches are found as Go's `FindAll…` finds them (an empty match right after a match is skipped).
 *
 * @module
 */
import { RE2JS } from "re2js";
import { fn, overload, T, type FunctionDecl } from "../decls.js";
import { listType, optionalType } from "../types.js";
import { CelError, CelOptional } from "../values.js";

/** Compiled patterns, most recently used last; bounded. */
const cache = new Map<string, RE2JS | CelError>();
const CACHE_SIZE = 128;

function compile(pattern: string): RE2JS | CelError {
  const hit = cache.get(pattern);
  if (hit !== undefined) return hit;
  let re: RE2JS | CelError;
  try {
    re = RE2JS.compile(pattern);
  } catch (e) {
    re = new CelError("invalid_argument", e instanceof Error ? e.message : String(e));
  }
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(pattern, re);
  return re;
}

/** Go's `FindAllStringSubmatchIndex(s, -1)`: each match's group boundaries (UTF-16 offsets). */
function allMatches(re: RE2JS, s: string): readonly (readonly number[])[] {
  return (re.re2().findAllSubmatchIndex(s, -1) as number[][] | null) ?? [];
}

/** The text of a replacement for one match: `\N` inserts group N, `\\` a backslash. */
function expand(target: string, match: readonly number[], groups: number, replacement: string): string | CelError {
  let out = "";
  for (let k = 0; k < replacement.length; k++) {
    const c = replacement[k]!;
    if (c !== "\\") {
      out += c;
      continue;
    }
    if (k + 1 >= replacement.length) {
      return new CelError("invalid_argument", `invalid replacement string: '${replacement}' \\ not allowed at end`);
    }
    const next = replacement[++k]!;
    if (next === "\\") {
      out += "\\";
      continue;
    }
    if (next < "0" || next > "9") {
      return new CelError("invalid_argument", `invalid replacement string: '${replacement}' \\ must be followed by a digit or \\`);
    }
    const g = next.charCodeAt(0) - 48;
    if (g > groups) {
      return new CelError("invalid_argument", `replacement string references group ${g} but regex has only ${groups} group(s)`);
    }
    const start = match[2 * g]!;
    if (start >= 0) out += target.slice(start, match[2 * g + 1]!);
  }
  return out;
}

/** `regex.replace(target, pattern, replacement[, count])`: a negative count replaces all. */
export function regexReplace(target: string, pattern: string, replacement: string, count = -1n): string | CelError {
  if (count === 0n) return target;
  const re = compile(pattern);
  if (re instanceof CelError) return re;
  const groups = re.groupCount();
  let out = "";
  let last = 0;
  let done = 0n;
  for (const m of allMatches(re, target)) {
    if (count > 0n && done >= count) break;
    const r = expand(target, m, groups, replacement);
    if (r instanceof CelError) return r;
    out += target.slice(last, m[0]!) + r;
    last = m[1]!;
    done++;
  }
  return out + target.slice(last);
}

function tooManyGroups(pattern: string): CelError {
  return new CelError("invalid_argument", `regular expression has more than one capturing group: ${JSON.stringify(pattern)}`);
}

/** `regex.extract(target, pattern)`: the first match (or its one group), or `optional.none()`. */
export function regexExtract(target: string, pattern: string): CelOptional | CelError {
  const re = compile(pattern);
  if (re instanceof CelError) return re;
  const groups = re.groupCount();
  if (groups > 1) return tooManyGroups(pattern);
  const m = re.re2().findSubmatchIndex(target) as number[] | null;
  if (m === null) return CelOptional.NONE;
  const start = groups === 1 ? m[2]! : m[0]!;
  const end = groups === 1 ? m[3]! : m[1]!;
  if (groups === 1 && (start < 0 || start === end)) return CelOptional.NONE;
  return CelOptional.of(target.slice(start, end));
}

/** `regex.extractAll(target, pattern)`: every match (or its one group, when not empty). */
export function regexExtractAll(target: string, pattern: string): string[] | CelError {
  const re = compile(pattern);
  if (re instanceof CelError) return re;
  const groups = re.groupCount();
  if (groups > 1) return tooManyGroups(pattern);
  const out: string[] = [];
  for (const m of allMatches(re, target)) {
    if (groups === 0) out.push(target.slice(m[0]!, m[1]!));
    else if (m[2]! >= 0 && m[3]! > m[2]!) out.push(target.slice(m[2]!, m[3]!));
  }
  return out;
}

const { string: s } = T;

/** The regex extension. */
export const REGEX_EXTENSION: readonly FunctionDecl[] = [
  fn(
    "regex.replace",
    overload("regex_replace_string_string_string", [s, s, s], s, regexReplace, { grows: true }),
    overload("regex_replace_string_string_string_int", [s, s, s, T.int], s, regexReplace, { grows: true }),
  ),
  fn("regex.extract", overload("regex_extract_string_string", [s, s], optionalType(s), regexExtract)),
  fn("regex.extractAll", overload("regex_extractAll_string_string", [s, s], listType(s), regexExtractAll, { grows: true })),
];
