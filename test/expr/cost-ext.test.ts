/**
 * The cost model of cel-go's extension libraries: functions whose work grows faster than their
 * arguments (the sets functions and `distinct` compare pairs of elements, `sort` sorts, the regex
 * functions match a pattern over a subject) are charged that work before it runs, and the static
 * estimate bounds it; `lists.range(n)` and the two-variable comprehensions are estimated like
 * the rest, not refused outright.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_EVAL_LIMITS } from "../../src/expr/compiler/context.js";
import { CompileError } from "../../src/expr/errors.js";
import { compile, type CompileOptions, estimateCost } from "../../src/expr/program.js";
import { expectEstimateBounds } from "./support/cost-bound.js";

const EXT: CompileOptions = { extensions: "all", cache: false };
const LIMIT = DEFAULT_EVAL_LIMITS.maxCost;

/** Whether an evaluation with a budget of `maxCost` runs out. */
function runsOut(source: string, activation: Record<string, unknown>, maxCost: number): boolean {
  const r = compile(source, { ...EXT, limits: { maxCost } }).evaluateResult(activation);
  if (!r.ok && r.error.code !== "cost_limit") throw r.error;
  return !r.ok;
}

/** What one evaluation is charged: the least budget it does not run out of. */
function chargeOf(source: string, activation: Record<string, unknown>): number {
  let lo = 0;
  let hi = 1;
  while (runsOut(source, activation, hi)) hi *= 2;
  // The charge is in (lo, hi].
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (runsOut(source, activation, mid)) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** `n` distinct lists `[k]`: elements without a hash key, compared pairwise. */
const singletons = (n: number, from = 0): number[][] => Array.from({ length: n }, (_, k) => [from + k]);

// ---------------------------------------------------------------------------------------------
// The runtime budget

describe("work quadratic in list sizes is charged before it runs", () => {
  const cases: readonly { readonly source: string; readonly activation: (n: number) => Record<string, unknown> }[] = [
    // Each element of the second list is found in the first one after comparing it with those before it.
    { source: "sets.contains(a, b)", activation: (n) => ({ a: singletons(n), b: singletons(n) }) },
    // Nothing in common: every pair is compared.
    { source: "!sets.intersects(a, b)", activation: (n) => ({ a: singletons(n), b: singletons(n, n) }) },
    { source: "sets.equivalent(a, b)", activation: (n) => ({ a: singletons(n), b: singletons(n).reverse() }) },
    // Every element is compared with every one kept before it.
    { source: "size(a.distinct()) > 0", activation: (n) => ({ a: singletons(n) }) },
  ];
  for (const { source, activation } of cases) {
    it(`${source}: stopped by the budget over large lists, its charge quadratic`, () => {
      const started = performance.now();
      const r = compile(source, EXT).evaluateResult(activation(3000));
      expect(r.ok ? r.value : r.error.code).toBe("cost_limit");
      if (!r.ok) expect(r.error.message).toMatch(/cost limit/);
      // Charged before the work: the 4.5 million comparisons never run.
      expect(performance.now() - started).toBeLessThan(500);
      // Twice the elements, four times the charge (less the linear part).
      const small = chargeOf(source, activation(100));
      const large = chargeOf(source, activation(200));
      expect(small).toBeGreaterThan(100 * 100);
      expect(large / small).toBeGreaterThan(3.5);
      expect(compile(source, EXT).evaluate(activation(100))).toBe(true);
    });
  }

  it("strings, numbers, booleans and null are tested through a hash set: linear work, linear charge", () => {
    const source = "cel.bind(r, lists.range(size(a)), !sets.intersects(r, r.map(x, -1 - x)) && size(r.distinct()) == size(r))";
    const activation = (n: number): Record<string, unknown> => ({ a: "x".repeat(n) });
    const small = chargeOf(source, activation(5000));
    const large = chargeOf(source, activation(10_000));
    expect(large / small).toBeLessThan(2.2);
    const started = performance.now();
    expect(compile(source, EXT).evaluate(activation(20_000))).toBe(true);
    // Comparing every pair would take 400 million comparisons (tens of seconds).
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it("sort is charged its comparisons", () => {
    const a = Array.from({ length: 4096 }, (_, k) => (k * 7919) % 4096);
    // 4096 elements, 12 comparisons each at most.
    expect(chargeOf("size(a.sort()) > 0", { a })).toBeGreaterThan(4096 * 12);
    expect(chargeOf("size(a.sortBy(x, -x)) > 0", { a })).toBeGreaterThan(4096 * 12);
  });

  it("a function reading every element of a list is charged per element, so a loop over it stops", () => {
    const l = Array.from({ length: 2000 }, (_, k) => k);
    for (const source of ["lists.range(1000).all(i, math.greatest(l) >= 0.0)", "lists.range(1000).all(i, size(l.flatten()) > 0)"]) {
      expect(runsOut(source, { l }, LIMIT), source).toBe(true);
      expect(runsOut(source, { l: l.slice(0, 100) }, LIMIT), source).toBe(false);
    }
  });

  it("the regex functions are charged like matches: the match, and a pattern from data before it is compiled", () => {
    const s = "a".repeat(300_000);
    for (const source of ["regex.extract(s, s).hasValue()", "size(regex.extractAll(s, s)) > 0", "regex.replace(s, s, 'b') == ''"]) {
      const started = performance.now();
      expect(runsOut(source, { s }, LIMIT), source).toBe(true);
      expect(performance.now() - started).toBeLessThan(500);
      expect(runsOut(source, { s: "aaa" }, LIMIT), source).toBe(false);
    }
    // The match: one unit per 4 characters for a short pattern. A constant pattern is compiled
    // once; one from data is charged 4 units per character, before it is compiled.
    expect(chargeOf("regex.extract(s, 'a+b').hasValue()", { s: "a".repeat(4000) })).toBe(1000);
    expect(chargeOf("regex.extract(s, p).hasValue()", { s: "a".repeat(4000), p: "a+b" })).toBe(1012);
  });
});

// ---------------------------------------------------------------------------------------------
// The estimate

/** The estimate's `max` of `source` in the cel dialect with every extension. */
function estimateOf(source: string, inputSize?: number): number {
  return estimateCost(compile(source, EXT), inputSize === undefined ? {} : { inputSize }).max;
}

describe("the estimate of lists.range", () => {
  it("grows with n, and the list's size feeds what is done with it", () => {
    const estimates = [100, 1000, 10_000].map((n) => estimateOf(`cel.bind(n, ${n}, lists.range(n).exists(x, x == e.k))`));
    for (const m of estimates) expect(Number.isFinite(m)).toBe(true);
    expect(estimates[0]!).toBeGreaterThanOrEqual(100);
    expect(estimates[1]!).toBeGreaterThan(5 * estimates[0]!);
    expect(estimates[2]!).toBeGreaterThan(5 * estimates[1]!);
    // n bounded by a size read from the input.
    const bySize = [1024, 8192].map((inputSize) => estimateOf("lists.range(size(e.s)).exists(x, x == 3)", inputSize));
    expect(bySize[0]!).toBeGreaterThanOrEqual(1024);
    expect(bySize[1]! / bySize[0]!).toBeGreaterThan(6);
    // The index of one range bounds the next: i < 100, so lists.range(i) has under 100 elements.
    expect(estimateOf("lists.range(100).all(i, lists.range(i).all(x, x >= 0 || e.ok))")).toBeLessThan(100 * 100 * 10);
  });
});

describe("the estimate of two-variable comprehensions", () => {
  const pairs: readonly (readonly [string, string])[] = [
    ["e.items.all(v, v.qty > 0)", "e.items.all(i, v, v.qty > 0)"],
    ["e.items.exists(v, v.qty > 0)", "e.items.exists(i, v, v.qty > 0)"],
    ["e.items.exists_one(v, v.qty > 0)", "e.items.existsOne(i, v, v.qty > 0)"],
    ["size(e.items.map(v, v.qty)) > 0", "size(e.items.transformList(i, v, v.qty)) > 0"],
    ["size(e.items.filter(v, v.qty > 0)) > 0", "size(e.items.transformList(i, v, v.qty > 0, v)) > 0"],
    ["size(e.items.map(v, v.qty)) > 0", "size(e.items.transformMap(k, v, v.qty)) > 0"],
    ["size(e.items.map(v, v.qty)) > 0", "size(e.items.transformMapEntry(k, v, {k: v.qty})) > 0"],
  ];
  for (const [one, two] of pairs) {
    it(`${two} over event data is estimated like ${one}`, () => {
      const m1 = estimateOf(one);
      const m2 = estimateOf(two);
      expect(Number.isFinite(m2)).toBe(true);
      expect(m2).toBeLessThan(2 * m1);
      expect(m2).toBeGreaterThan(m1 / 2);
      expect(() => compile(two, { ...EXT, refuseCostly: true })).not.toThrow();
    });
  }

  it("a nested one over two large inputs is refused as too costly, with a finite estimate", () => {
    for (const source of [
      "e.a.all(i, v, e.b.exists(j, w, v == w))",
      "size(e.a.transformList(i, v, e.b.transformList(j, w, v + w))) > 0",
      "size(e.a.transformMap(k, v, e.b.filter(w, w == v))) > 0",
    ]) {
      const max = estimateOf(source);
      expect(Number.isFinite(max), source).toBe(true);
      expect(max, source).toBeGreaterThan(LIMIT);
      let error: unknown;
      try {
        compile(source, { ...EXT, refuseCostly: true });
      } catch (e) {
        error = e;
      }
      expect(error, source).toBeInstanceOf(CompileError);
      expect((error as CompileError).issues[0]!.code).toBe("limit_exceeded");
    }
  });
});

describe("the estimate of the quadratic functions", () => {
  it("is quadratic in the sizes of two inputs, linear against a constant", () => {
    for (const source of ["sets.contains(e.a, e.b)", "sets.intersects(e.a, e.b)", "sets.equivalent(e.a, e.b)", "e.a.distinct() == []"]) {
      const small = estimateOf(source, 1024);
      const large = estimateOf(source, 2048);
      expect(Number.isFinite(small), source).toBe(true);
      expect(large / small, source).toBeGreaterThan(3.5);
      expect(estimateOf(source), source).toBeGreaterThan(LIMIT);
    }
    expect(estimateOf("sets.contains(e.tags, ['a', 'b'])")).toBeLessThan(LIMIT);
  });
});

// ---------------------------------------------------------------------------------------------
// The estimate bounds the charge

/** Bytes each generated input is held to, and the size the estimate assumes. */
const INPUT_SIZE = 300;

/** Expressions of the cel dialect over `e.a`, `e.b` (lists), `e.s` (a string) with the extension functions. */
const expressions: fc.Arbitrary<string> = fc.letrec<{ list: string; bool: string }>((rec) => ({
  list: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom("e.a", "e.b", "[1, 'a', [1]]", "lists.range(size(e.s))", "lists.range(size(e.a))"),
    rec("list").map((l) => `${l}.distinct()`),
    rec("list").map((l) => `${l}.flatten()`),
    rec("list").map((l) => `${l}.transformList(i, v, [v, i])`),
    rec("list").map((l) => `${l}.transformList(i, v, i > 0, v)`),
    rec("list").map((l) => `lists.range(size(${l}))`),
    fc.constantFrom("regex.extractAll(e.s, 'a+')", "regex.extractAll(e.s, e.s)", "lists.range(size(e.s)).sort()"),
    fc.tuple(rec("list"), rec("list")).map(([a, b]) => `(${a} + ${b})`),
  ),
  bool: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.tuple(rec("list"), rec("list")).map(([a, b]) => `sets.contains(${a}, ${b})`),
    fc.tuple(rec("list"), rec("list")).map(([a, b]) => `sets.intersects(${a}, ${b})`),
    fc.tuple(rec("list"), rec("list")).map(([a, b]) => `sets.equivalent(${a}, ${b})`),
    fc.tuple(rec("list"), rec("bool")).map(([l, b]) => `${l}.all(i, v, ${b})`),
    fc.tuple(rec("list"), rec("bool")).map(([l, b]) => `${l}.exists(i, v, ${b})`),
    rec("list").map((l) => `size(${l}.transformMap(i, v, v)) > 0`),
    rec("list").map((l) => `size(${l}.transformMapEntry(i, v, {i: v})) > 0`),
    fc.constantFrom("regex.extract(e.s, e.s).hasValue()", "regex.replace(e.s, 'a', e.s) == e.s", "e.s.matches(e.s)"),
    fc.tuple(rec("bool"), rec("bool")).map(([a, b]) => `(${a} && ${b})`),
  ),
})).bool;

const leaf = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom("a", "b", "aa"), fc.constant(null));
/** An event of at most {@link INPUT_SIZE} JSON bytes. */
const events = fc
  .record({
    a: fc.array(fc.oneof(leaf, fc.array(leaf, { maxLength: 3 })), { maxLength: 40 }),
    b: fc.array(fc.oneof(leaf, fc.array(leaf, { maxLength: 3 })), { maxLength: 40 }),
    s: fc.string({ unit: fc.constantFrom("a", "b", "+", "*"), maxLength: 60 }),
  })
  .filter((e) => JSON.stringify(e).length <= INPUT_SIZE);

describe("the estimate is an upper bound of the runtime charge", () => {
  it("for generated expressions over the extension functions and inputs within the assumed size", () => {
    fc.assert(
      fc.property(expressions, fc.array(events, { minLength: 1, maxLength: 3 }), (source, inputs) => {
        expectEstimateBounds(source, EXT, INPUT_SIZE, inputs.map((e) => ({ e })), 1e8);
      }),
      { numRuns: 300 },
    );
  });
});
