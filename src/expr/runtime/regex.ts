/**
 * CEL `matches`: RE2 syntax through `re2js`, a port of Go's `regexp`, which parses and compiles
 * each pattern; a lazily built DFA over the compiled program (dfa.ts) matches, in linear time.
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
import { LazyDfa } from "./dfa.js";

/** A compiled pattern. */
export interface RegexMatcher {
  /** The pattern source. */
  readonly pattern: string;
  /** Whether the pattern matches any part of `s`. Runs in time linear in `s`. */
  matches(s: string): boolean;
}

/**
 * A compiled pattern. `literal`: text every match must contain (`@acme.com` in
 * `^[a-z0-9._]+@acme\.com$`, `""` when there is none); a string without it cannot match, and
 * `String.includes` tells that far faster than any automaton (RE2 accelerates the same way). Then
 * the lazily built DFA over re2js's program answers (see dfa.ts), and re2js itself whatever the DFA
 * leaves open, or everything when there is no DFA.
 */
class Re2Matcher implements RegexMatcher {
  constructor(
    readonly pattern: string,
    private readonly re: RE2JS,
    private readonly dfa: LazyDfa | undefined,
    private readonly literal: string,
  ) {}

  matches(s: string): boolean {
    if (this.literal !== "" && !s.includes(this.literal)) return false;
    return this.dfa?.matches(s) ?? this.re.test(s);
  }
}

/** A POSIX class inside a bracket expression (`[:alpha:]`, `[:^digit:]`); any other `[` there is literal. */
const POSIX_CLASS = /\[:\^?[a-z]+:\]/y;

/**
 * The index of the `]` that closes the character class opening at `open`, or `undefined`. A `]`
 * right after `[` or `[^` is literal, a backslash escapes the next character, and `[:alpha:]`
 * nests.
 */
function classEnd(pattern: string, open: number): number | undefined {
  let j = open + 1;
  if (pattern[j] === "^") j++;
  if (pattern[j] === "]") j++;
  for (; j < pattern.length && pattern[j] !== "]"; j++) {
    if (pattern[j] === "\\") j++;
    else if (pattern[j] === "[") {
      POSIX_CLASS.lastIndex = j;
      if (POSIX_CLASS.test(pattern)) j = POSIX_CLASS.lastIndex - 1;
    }
  }
  return j < pattern.length ? j : undefined;
}

const SIMPLE_QUANTIFIER = /^[*+?]|^\{(\d+)(,\d*)?\}/;

/**
 * The longest literal text every match of `pattern` must contain, or `undefined`. Conservative:
 * it gives up on alternation, case-insensitive flags and anything it does not fully understand,
 * and only reads the top level (groups and classes end a literal run).
 */
export function requiredLiteral(pattern: string): string | undefined {
  // A bare flag group `(?m)` is not an atom: a quantifier after it binds to the atom before it.
  if (pattern.includes("|") || /\(\?[a-zA-Z]*i/.test(pattern) || /\(\?[a-zA-Z-]*\)/.test(pattern) || pattern.includes("\\Q")) {
    return undefined;
  }
  let best = "";
  let run = "";
  const flush = (): void => {
    if (run.length > best.length) best = run;
    run = "";
  };
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    let atom: string | undefined;
    if (c === "\\") {
      const next = pattern[i + 1];
      if (next === undefined) return undefined;
      // An escaped punctuation character is itself; any other escape (\d, \b, \x41, …) is not
      // a literal here.
      atom = /[A-Za-z0-9]/.test(next) ? undefined : next;
      i += 2;
      // `\p{Greek}`, `\P{L}`, `\x{263a}`: the braces belong to the escape; so does the letter
      // of `\pL`, and the two hex digits of `\x41`.
      if ((next === "p" || next === "P" || next === "x") && pattern[i] === "{") {
        const close = pattern.indexOf("}", i);
        if (close < 0) return undefined;
        i = close + 1;
      } else if (next === "p" || next === "P") {
        i += 1;
      } else if (next === "x") {
        i += 2;
      } else if (next >= "0" && next <= "7") {
        // Octal escapes `\123`.
        while (i < pattern.length && pattern[i]! >= "0" && pattern[i]! <= "7") i++;
      }
    } else if (c === "[") {
      const close = classEnd(pattern, i);
      if (close === undefined) return undefined;
      atom = undefined;
      i = close + 1;
    } else if (c === "(") {
      // A group ends the run; its contents (and any quantifier after it) are skipped.
      let depth = 0;
      let j = i;
      for (; j < pattern.length; j++) {
        const d = pattern[j]!;
        if (d === "\\") j++;
        else if (d === "[") {
          // A class inside the group may hold `(`, `)` and a literal `]` (`[^])]`, `[\])]`).
          const close = classEnd(pattern, j);
          if (close === undefined) return undefined;
          j = close;
        } else if (d === "(") depth++;
        else if (d === ")" && --depth === 0) break;
      }
      if (j >= pattern.length) return undefined;
      atom = undefined;
      i = j + 1;
    } else if (".^$*+?{}()|)".includes(c)) {
      atom = undefined;
      i++;
    } else {
      atom = String.fromCodePoint(pattern.codePointAt(i)!);
      i += atom.length;
    }
    const q = SIMPLE_QUANTIFIER.exec(pattern.slice(i, i + 24));
    if (q !== null) {
      i += q[0].length;
      if (pattern[i] === "?" || pattern[i] === "+") i++;
      // `x+` and `x{n,…}` with n ≥ 1 still require one x, but end the run; `x*`, `x?`, `x{0,…}` do not.
      const min = q[0][0] === "+" ? 1 : q[1] !== undefined ? Number(q[1]) : 0;
      if (atom !== undefined && min >= 1) run += atom;
      flush();
      continue;
    }
    if (atom === undefined) flush();
    else run += atom;
  }
  flush();
  return best.length >= 2 ? best : undefined;
}

/**
 * Patterns and strings on which the DFA must answer as re2js does before it is used at all: one
 * of each instruction and empty-width condition. The DFA reads re2js's compiled program, which is
 * not re2js's documented API; should an re2js other than the pinned one number or shape its
 * instructions differently, this check fails and re2js answers every pattern itself.
 */
export const DFA_PROBES: readonly (readonly [string, readonly string[]])[] = [
  ["^a(?:b|c)*d$", ["ad", "abcbd", "xad", "abd\n", "abx"]],
  ["(?i)k\\b.", ["K x", "k", "Kx", "\u212a!", "xk."]],
  ["(?m)^z$|\\Bq", ["a\nz\nb", "az", "aq", " q", "z"]],
  ["[^\\n]é{2}.", ["xééy", "\nééy", "xé", "aééé"]],
  ["(?s)a.\\z|\\Ab", ["a\n", "ab", "ba", "cb"]],
];

let dfaTrust: boolean | undefined;

/** Whether the DFA reads the installed re2js's programs correctly (checked once, on {@link DFA_PROBES}). */
export function dfaReadsRe2js(): boolean {
  if (dfaTrust === undefined) {
    dfaTrust = DFA_PROBES.every(([pattern, subjects]) => {
      const re = RE2JS.compile(pattern);
      const dfa = LazyDfa.of(re.re2().prog);
      return dfa !== undefined && subjects.every((s) => dfa.matches(s) === re.test(s));
    });
  }
  return dfaTrust;
}

/** Default number of compiled patterns kept for dynamic (non-constant) patterns. */
export const REGEX_CACHE_SIZE = 256;

/** A cached pattern, with the move count at which it was last put at the newest end of the cache. */
interface CacheEntry {
  readonly compiled: RegexMatcher | CelError;
  movedAt: number;
}

const cache = new Map<string, CacheEntry>();
/** How many times an entry was put at the newest end of the cache (inserted or refreshed). */
let moves = 0;

/**
 * Compiles an RE2 pattern without caching. Use this for constant patterns at compile time (the
 * compiler keeps the matcher); returns an `invalid_argument` {@link CelError} for a pattern RE2
 * rejects (unsupported Perl syntax such as look-ahead or back-references included).
 */
export function compileRegexUncached(pattern: string): RegexMatcher | CelError {
  try {
    const re = RE2JS.compile(pattern);
    const dfa = dfaReadsRe2js() ? LazyDfa.of(re.re2().prog) : undefined;
    return new Re2Matcher(pattern, re, dfa, requiredLiteral(pattern) ?? "");
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return new CelError("invalid_argument", message);
  }
}

/**
 * Compiles an RE2 pattern through a bounded cache of {@link REGEX_CACHE_SIZE} entries that evicts
 * the least recently used, for patterns only known at evaluation time (and constant patterns of
 * programs compiled again). Invalid patterns are cached too (as their error).
 */
export function compileRegex(pattern: string): RegexMatcher | CelError {
  const hit = cache.get(pattern);
  if (hit !== undefined) {
    // Map iteration order is insertion order, so refreshing an entry means deleting and inserting
    // it again. An entry put at the newest end survives at least REGEX_CACHE_SIZE more moves
    // (insertions and refreshes), so within half of that a refresh is not needed yet: an entry
    // used at least once every REGEX_CACHE_SIZE / 2 moves is never evicted, and a hot pattern
    // costs one lookup.
    if (moves - hit.movedAt >= REGEX_CACHE_SIZE / 2) {
      cache.delete(pattern);
      hit.movedAt = ++moves;
      cache.set(pattern, hit);
    }
    return hit.compiled;
  }
  const compiled = compileRegexUncached(pattern);
  if (cache.size >= REGEX_CACHE_SIZE) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  cache.set(pattern, { compiled, movedAt: ++moves });
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
