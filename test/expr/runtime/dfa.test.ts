import fc from "fast-check";
import { RE2JS } from "re2js";
import { describe, expect, it } from "vitest";
import { LazyDfa, MAX_DFA_BYTES, MAX_RESETS } from "../../../src/expr/runtime/dfa.js";
import { compileRegexUncached, DFA_PROBES, dfaReadsRe2js } from "../../../src/expr/runtime/regex.js";
import { CelError } from "../../../src/expr/values.js";

function dfaOf(pattern: string): { dfa: LazyDfa; re: RE2JS } {
  const re = RE2JS.compile(pattern);
  const dfa = LazyDfa.of(re.re2().prog);
  if (dfa === undefined) throw new Error(`no DFA for ${pattern}`);
  return { dfa, re };
}

/** Pieces of RE2 syntax: every empty-width assertion, classes, folding, Unicode, repetition. */
const ATOMS = [
  "a", "b", "ab", "\\n", ".", "[ab]", "[^a]", "[a-c\\n]", "\\d", "\\w", "\\s", "\\W", "\\pL", "\\p{Greek}", "é", "😀",
  "^", "$", "\\A", "\\z", "\\b", "\\B", "(?i:a)", "(?i)b", "(?s:.)", "(?m:^)", "(?m:$)", "(?m)", "[[:alpha:]]", "x*", "",
];

const pattern: fc.Arbitrary<string> = fc.letrec<{ re: string }>((tie) => ({
  re: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(...ATOMS),
    fc.tuple(tie("re"), tie("re")).map(([a, b]) => a + b),
    fc.tuple(tie("re"), tie("re")).map(([a, b]) => `(?:${a}|${b})`),
    fc.tuple(tie("re"), fc.constantFrom("*", "+", "?", "{2}", "{1,3}", "*?", "+?")).map(([a, q]) => `(?:${a})${q}`),
    tie("re").map((a) => `(${a})`),
  ),
})).re;

/** Strings over the characters the atoms care about, ASCII-heavy like real data. */
const subject = fc.string({
  unit: fc.constantFrom("a", "b", "c", "A", "B", "1", "_", " ", "-", "\n", "é", "É", "λ", "Λ", "😀", "\u{1F431}", "k", "\u212A"),
  maxLength: 14,
});

describe("lazy DFA over re2js programs", () => {
  it("answers exactly as re2js does, on generated patterns and strings", () => {
    let answered = 0;
    fc.assert(
      fc.property(pattern, fc.array(subject, { minLength: 1, maxLength: 6 }), (p, subjects) => {
        const { dfa, re } = dfaOf(p);
        for (const s of subjects) {
          const ours = dfa.matches(s);
          if (ours === undefined) continue;
          answered++;
          if (ours !== re.test(s)) throw new Error(`pattern ${JSON.stringify(p)} on ${JSON.stringify(s)}: DFA ${ours}, re2js ${re.test(s)}`);
        }
      }),
      { numRuns: 1500 },
    );
    // The DFA must answer nearly everything itself, or the comparison says little.
    expect(answered).toBeGreaterThan(1500);
  });

  it("handles anchors, lines and word boundaries as RE2 does", () => {
    const cases: [string, string, boolean][] = [
      ["^abc$", "abc", true],
      ["^abc$", "abc\n", false], // `$` without (?m) is the end of the text only
      ["^b$", "a\nb", false],
      ["(?m)^b$", "a\nb", true],
      ["(?m)^a$", "a\nb", true],
      ["\\bfoo\\b", "a foo.", true],
      ["\\bfoo\\b", "afoo", false],
      ["\\Bfoo", "afoo", true],
      ["\\Afoo\\z", "foo", true],
      ["", "", true],
      ["^$", "", true],
      ["^$", "x", false],
      ["x*", "", true],
      ["(?i)straße", "STRASSE", false],
      ["(?i)k", "\u212A", true], // Kelvin sign folds to k
      ["^[a-z0-9._]+@acme\\.com$", "jane.doe@acme.com", true],
      ["^[a-z0-9._]+@acme\\.com$", "jane.doe@acme.com.evil", false],
      ["^[a-z0-9._]+@acme\\.com$", "Jane@acme.com", false],
      ["a.c", "a\nc", false],
      ["(?s)a.c", "a\nc", true],
      ["😀{2}", "😀😀", true],
      ["^.$", "😀", true],
    ];
    for (const [p, s, expected] of cases) {
      const { dfa, re } = dfaOf(p);
      expect(re.test(s), `re2js itself on ${p} / ${JSON.stringify(s)}`).toBe(expected);
      expect(dfa.matches(s), `${p} on ${JSON.stringify(s)}`).toBe(expected);
    }
  });

  it("starts no thread after position 0 when every match must start there", () => {
    const anchored = dfaOf("^abc|\\Axy").dfa;
    expect(anchored.matches("zzabc")).toBe(false);
    expect(anchored.stateCount).toBe(1); // the first character already leaves no thread alive
    const unanchored = dfaOf("^abc|xy").dfa;
    expect(unanchored.matches("zzxy")).toBe(true);
    expect(unanchored.stateCount).toBeGreaterThan(1);
  });

  it("leaves unpaired surrogates to re2js", () => {
    const { dfa } = dfaOf("a.b");
    expect(dfa.matches("a\uD800b")).toBeUndefined();
    expect(dfa.matches("a\uDC00b")).toBeUndefined();
    const matcher = compileRegexUncached("a.b");
    if (matcher instanceof CelError) throw new Error(matcher.message);
    expect(matcher.matches("a\uD800b")).toBe(RE2JS.compile("a.b").test("a\uD800b"));
  });

  it("starts afresh at its memory budget, gives up after MAX_RESETS, and the matcher answers as re2js throughout", () => {
    // "The 15th character from the end is an a": a DFA needs 2^15 states for it.
    const p = "a(?:a|b){14}$";
    const { dfa, re } = dfaOf(p);
    const random = fc.sample(fc.string({ unit: fc.constantFrom("a", "b"), minLength: 40, maxLength: 60 }), { numRuns: 400, seed: 7 });
    let resetsSeen = 0;
    for (const s of random) {
      const answer = dfa.matches(s);
      if (answer !== undefined) expect(answer).toBe(re.test(s));
      expect(dfa.memoryBytes).toBeLessThanOrEqual(MAX_DFA_BYTES);
      resetsSeen = Math.max(resetsSeen, dfa.resetCount);
    }
    expect(resetsSeen).toBeGreaterThan(MAX_RESETS);
    expect(dfa.givenUp).toBe(true);
    expect(dfa.matches("ab")).toBeUndefined();
    const matcher = compileRegexUncached(p);
    if (matcher instanceof CelError) throw new Error(matcher.message);
    for (const s of random) expect(matcher.matches(s)).toBe(re.test(s));
  });

  it("answers across a fresh start in the middle of a string", () => {
    // Text in many scripts: each new character beyond ASCII is a transition to keep.
    const p = "(?i)[\\p{Han}]+x|\\p{Greek}y";
    const { dfa, re } = dfaOf(p);
    const ideographs = Array.from({ length: 6_000 }, (_, k) => String.fromCodePoint(0x4e00 + k));
    for (let k = 0; k < ideographs.length; k += 40) {
      const s = `${ideographs.slice(k, k + 40).join("")}${k % 80 === 0 ? "X" : "z"}`;
      expect(dfa.matches(s)).toBe(re.test(s));
      expect(dfa.memoryBytes).toBeLessThanOrEqual(MAX_DFA_BYTES);
    }
    expect(dfa.resetCount).toBeGreaterThan(0);
    expect(dfa.givenUp).toBe(false);
    // One string longer than the budget holds: the DFA restarts inside it and still answers.
    const long = `${ideographs.join("")}X`;
    const before = dfa.resetCount;
    expect(dfa.matches(long)).toBe(true);
    expect(dfa.resetCount).toBeGreaterThan(before);
    for (const s of ["αy", "中x", "中文X", "中z", "Ωy"]) expect(dfa.matches(s)).toBe(re.test(s));
  });

  it("reuses states: a long string over few states builds no more", () => {
    const { dfa } = dfaOf("^[a-z]+@x\\.com$");
    expect(dfa.matches("abc@x.com")).toBe(true);
    const built = dfa.stateCount;
    expect(dfa.matches(`${"q".repeat(100_000)}@x.com`)).toBe(true);
    expect(dfa.stateCount).toBe(built);
  });

  it("is trusted with the installed re2js, which its probes check before first use", () => {
    expect(dfaReadsRe2js()).toBe(true);
    // The probes are not vacuous: each matches some subjects and not others.
    for (const [pattern, subjects] of DFA_PROBES) {
      const answers = new Set(subjects.map((s) => RE2JS.compile(pattern).test(s)));
      expect(answers.size, pattern).toBe(2);
    }
    const matcher = compileRegexUncached("^a(?:b|c)*d$");
    if (matcher instanceof CelError) throw new Error(matcher.message);
    expect((matcher as unknown as { dfa: unknown }).dfa).toBeInstanceOf(LazyDfa);
  });

  it("refuses programs of another shape", () => {
    expect(LazyDfa.of(undefined)).toBeUndefined();
    expect(LazyDfa.of({ inst: [], start: 0 })).toBeUndefined();
    expect(LazyDfa.of({ inst: [{ op: 12, out: 0, arg: 0 }], start: 0 })).toBeUndefined(); // look-behind write
    expect(LazyDfa.of({ inst: [{ op: 8, out: 5, arg: 0, matchRune: () => true }], start: 0 })).toBeUndefined(); // target out of range
  });
});
