/**
 * CEL `matches`: RE2 syntax and linear-time matching through `re2js`, a port of Go's `regexp`.
 *
 * `string.matches(pattern)` is true when the pattern matches any part of the string (anchors
 * `^`/`$` force a full match), as Go's `regexp.MatchString`. A pattern RE2 rejects is an
 * `invalid_argument` error carrying Go's message, e.g.
 * ``error parsing regexp: missing closing ): `(a` ``.
 *
 * @module
 */
import { RE2JS } from "re2js";
import { CelError } from "../values.js";

/** A compiled pattern. */
export interface RegexMatcher {
  /** The pattern source. */
  readonly pattern: string;
  /** Whether the pattern matches any part of `s`. Runs in time linear in `s`. */
  matches(s: string): boolean;
}

class Re2Matcher implements RegexMatcher {
  constructor(
    readonly pattern: string,
    private readonly re: RE2JS,
  ) {}

  matches(s: string): boolean {
    return this.re.test(s);
  }
}

/** Default number of compiled patterns kept for dynamic (non-constant) patterns. */
export const REGEX_CACHE_SIZE = 256;

const cache = new Map<string, RegexMatcher | CelError>();

/**
 * Compiles an RE2 pattern without caching. Use this for constant patterns at compile time (the
 * compiler keeps the matcher); returns an `invalid_argument` {@link CelError} for a pattern RE2
 * rejects (unsupported Perl syntax such as look-ahead or back-references included).
 */
export function compileRegexUncached(pattern: string): RegexMatcher | CelError {
  try {
    return new Re2Matcher(pattern, RE2JS.compile(pattern));
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return new CelError("invalid_argument", message);
  }
}

/**
 * Compiles an RE2 pattern through a bounded LRU cache of {@link REGEX_CACHE_SIZE} entries, for
 * patterns only known at evaluation time. Invalid patterns are cached too (as their error).
 */
export function compileRegex(pattern: string): RegexMatcher | CelError {
  const hit = cache.get(pattern);
  if (hit !== undefined) {
    // Refresh recency: Map iteration order is insertion order.
    cache.delete(pattern);
    cache.set(pattern, hit);
    return hit;
  }
  const compiled = compileRegexUncached(pattern);
  if (cache.size >= REGEX_CACHE_SIZE) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  cache.set(pattern, compiled);
  return compiled;
}

/** `s.matches(pattern)` for a pattern known only at run time (compiled through the cache). */
export function matches(s: string, pattern: string): boolean | CelError {
  const re = compileRegex(pattern);
  return re instanceof CelError ? re : re.matches(s);
}

/** Number of patterns currently cached (for tests and diagnostics). */
export function regexCacheSize(): number {
  return cache.size;
}

/** Alias of {@link matches} under the name the overload table imports. */
export const regexMatches = matches;
