import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  REGEX_CACHE_SIZE,
  compileRegex,
  compileRegexUncached,
  matches,
  regexCacheSize,
  requiredLiteral,
  type RegexMatcher,
} from "../../../src/expr/runtime/regex.js";
import { RE2JS } from "re2js";
import { CelError } from "../../../src/expr/values.js";
import { specCase } from "./spec-cases.js";

function compiled(pattern: string): RegexMatcher {
  const re = compileRegex(pattern);
  if (re instanceof CelError) throw new Error(re.message);
  return re;
}

describe("matches", () => {
  it("matches the string/matches conformance cases", () => {
    const cases: [string, string, string][] = [
      ["basic", "hubba", "ubb"],
      ["empty_target", "", "foo|bar"],
      ["empty_arg", "cows", ""],
      ["empty_empty", "", ""],
      ["re_concat", "abcd", "bc"],
      ["re_alt", "grey", "gr(a|e)y"],
      ["re_rep", "banana", "ba(na)*"],
      ["unicode", "mañana", "a+ñ+a+"],
      ["unicode_smp", "🐱😀😀", "(a|😀){2}"],
    ];
    for (const [name, s, pattern] of cases) {
      expect(matches(s, pattern)).toBe(specCase(`string/matches/${name}`).value?.["boolValue"]);
    }
  });

  it("is a partial match unless anchored", () => {
    expect(matches("xabcx", "abc")).toBe(true);
    expect(matches("xabcx", "^abc$")).toBe(false);
    expect(matches("abc", "^abc$")).toBe(true);
    expect(matches("a\nb", "^b$")).toBe(false);
    expect(matches("a\nb", "(?m)^b$")).toBe(true);
    expect(matches("ABC", "(?i)abc")).toBe(true);
    expect(matches("gmail.com", "\\.com$")).toBe(true);
    expect(matches("abc123", "^[a-z\\d]{0,10}$")).toBe(true);
    expect(matches("日本語", "^\\p{Han}+$")).toBe(true);
    expect(matches("a.b", "\\Qa.b\\E")).toBe(true);
  });

  it("agrees with JS RegExp on patterns both engines read the same way", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("a+b", "^a*$", "(ab|ba)+", "[abc]{2,3}", "a.c", "^$", "b$", "(a|b)*c"),
        fc.string({ unit: fc.constantFrom("a", "b", "c", "\n"), maxLength: 12 }),
        (pattern, s) => {
          expect(matches(s, pattern)).toBe(new RegExp(pattern).test(s));
        },
      ),
    );
  });

  it("runs catastrophic-backtracking patterns in linear time, with the right answer", () => {
    // A backtracking engine (JS RegExp) takes exponential time on these inputs.
    expect(matches(`${"a".repeat(30)}b`, "(a+)+$")).toBe(false);
    expect(matches("a".repeat(30), "(a+)+$")).toBe(true);
    expect(matches(`${"a".repeat(100_000)}b`, "^(a|aa)+$")).toBe(false);
    expect(matches(`${"x".repeat(50_000)}y`, "(x*)*y")).toBe(true);
  });

  it("rejects patterns RE2 rejects, with Go's message", () => {
    const cases: [string, string][] = [
      ["(a", "error parsing regexp: missing closing ): `(a`"],
      ["a**", "error parsing regexp: invalid nested repetition operator: `**`"],
      ["[z-a]", "error parsing regexp: invalid character class range: `z-a`"],
      ["(?=a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?=`"],
      ["(a)\\1", "error parsing regexp: invalid escape sequence: `\\1`"],
      ["a{1001}", "error parsing regexp: invalid repeat count: `{1001}`"],
    ];
    for (const [pattern, message] of cases) {
      for (const result of [compileRegex(pattern), compileRegexUncached(pattern), matches("a", pattern)]) {
        expect(result).toBeInstanceOf(CelError);
        expect((result as CelError).code).toBe("invalid_argument");
        expect((result as CelError).message).toBe(message);
      }
    }
  });
});

describe("the pattern cache", () => {
  it("returns the same matcher for a cached pattern", () => {
    expect(compileRegex("x+y")).toBe(compileRegex("x+y"));
    expect(compileRegexUncached("x+y")).not.toBe(compileRegex("x+y"));
  });

  it("keeps at most REGEX_CACHE_SIZE patterns, evicting the least recently used", () => {
    const keep = compiled("keep-me");
    const untouched = compiled("untouched");
    for (let i = 0; i < REGEX_CACHE_SIZE * 2; i++) {
      compiled(`p${i}`);
      if (i % 10 === 0) expect(compileRegex("keep-me")).toBe(keep); // touching keeps it fresh
      expect(regexCacheSize()).toBeLessThanOrEqual(REGEX_CACHE_SIZE);
    }
    expect(compileRegex("keep-me")).toBe(keep);
    expect(compileRegex("untouched")).not.toBe(untouched);
    const first = compiled("p0");
    expect(first.matches("p0")).toBe(true);
    expect(regexCacheSize()).toBe(REGEX_CACHE_SIZE);
  });
});

describe("anchored patterns", () => {
  it("match the whole string only", () => {
    expect(compiled("^ab+c$").matches("abbc")).toBe(true);
    expect(compiled("^ab+c$").matches("xabbc")).toBe(false);
    expect(compiled("^ab+c$").matches("abbc\n")).toBe(false);
  });
});

describe("required-literal prefilter", () => {
  it("finds the literal every match must contain, conservatively", () => {
    expect(requiredLiteral("^[a-z0-9._]+@acme\\.com$")).toBe("@acme.com");
    expect(requiredLiteral("foo\\d+bar")).toBe("foo");
    expect(requiredLiteral("a{2}bc")).toBe("bc");
    expect(requiredLiteral("ab?cd")).toBe("cd");
    // A class inside a group may hold `)` and a literal `]`: the group ends at its own `)`.
    expect(requiredLiteral("([^])]ab)cd")).toBe("cd");
    expect(requiredLiteral("([\\])]x)yz")).toBe("yz");
    expect(requiredLiteral("([[:alpha:])]q)zz")).toBe("zz");
    expect(requiredLiteral("[[:a]xy")).toBe("xy"); // `[:` without a later `:]` is literal
    for (const [p, s] of [["([^])]ab)cd", "xabcd"], ["([\\])]x)", ")x"], ["([\\])]x)yz", ")xyz"], ["([[:alpha:])]q)zz", ")qzz"], ["[[:a]xy", ":xy"]]) {
      expect(matches(s!, p!), `${p} on ${s}`).toBe(true);
    }
    for (const none of ["ab*c", "x|yz", "(?i)abc", "(abc)", "[abc]", "a\\Qbc\\E", "\\p{Han}+", "\\x{263a}b"]) {
      expect(requiredLiteral(none), none).toBeUndefined();
    }
  });

  it("never changes a result: prefiltered matching equals the automaton alone", () => {
    const atom = fc.constantFrom("a", "b", "c", "ab", "\\.", ".", "[ab]", "[^a]", "\\d", "(ab)", "(a|b)", "x", "é", "😀", "^", "$", "\\pL", "\\p{Ll}", "\\x{61}", "\\x61", "\\141", "{", "}", "(?m)", "(?s:.)",
      // Classes holding `]`, `(`, `)` and POSIX classes, alone and inside groups.
      "[]a]", "[^]a]", "[\\]a]", "[)]", "[(]", "[[:alpha:]]", "[[:a]", "([^])]a)", "([\\])]x)", "([[:alpha:])]q)", "(\\))", "\\)", "]");
    const quant = fc.constantFrom("", "", "", "*", "+", "?", "{2}", "{0,1}", "{1,3}", "+?");
    const pattern = fc
      .tuple(fc.array(fc.tuple(atom, quant), { minLength: 1, maxLength: 6 }), fc.boolean())
      .map(([parts, anchored]) => {
        const body = parts.map(([a, q]) => a + q).join("");
        return anchored ? `^${body}$` : body;
      });
    const text = fc.string({ unit: fc.constantFrom("a", "b", "c", ".", "x", "1", "é", "😀", "\n", "]", ")", "(", "q", ":"), maxLength: 12 });
    fc.assert(
      fc.property(pattern, fc.array(text, { maxLength: 10 }), (p, texts) => {
        const filtered = compileRegexUncached(p);
        if (filtered instanceof CelError) return;
        const plain = RE2JS.compile(p);
        for (const t of texts) expect(filtered.matches(t), `${p} on ${JSON.stringify(t)}`).toBe(plain.test(t));
      }),
      { numRuns: 2000 },
    );
  });
});
