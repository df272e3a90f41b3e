/**
 * The cost model: the runtime budget stops costly evaluations early, the static estimate bounds
 * what any evaluation within the assumed input sizes is charged, and `refuseCostly` refuses an
 * expression whose worst case exceeds the budget while ordinary ones compile.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_INPUT_SIZE } from "../../src/expr/checker/cost.js";
import { DEFAULT_EVAL_LIMITS } from "../../src/expr/compiler/context.js";
import { CompileError } from "../../src/expr/errors.js";
import { Matcher } from "../../src/expr/matcher/index.js";
import { compile, type CompileOptions, estimateCost } from "../../src/expr/program.js";
import { regexCacheSize } from "../../src/expr/runtime/regex.js";
import { expectEstimateBounds } from "./support/cost-bound.js";
import { conformanceSuite, type Suite } from "./support/conformance-case.js";

const INNGEST: CompileOptions = { dialect: "inngest", cache: false };
const LIMIT = DEFAULT_EVAL_LIMITS.maxCost;

/** `[1,2,3].map(x1, [1,2,3].map(x2, … event.data.n …)) == []`, `depth` maps deep. */
export function mapChain(depth: number): string {
  let source = "event.data.n";
  for (let k = depth; k >= 1; k--) source = `[1,2,3].map(x${k}, ${source})`;
  return `${source} == []`;
}

function refusal(source: string, options: CompileOptions = INNGEST): CompileError {
  try {
    compile(source, { ...options, refuseCostly: true });
  } catch (error) {
    if (error instanceof CompileError) return error;
    throw error;
  }
  throw new Error(`expected ${source} to be refused`);
}

describe("the runtime budget", () => {
  it("stops the 16-deep map chain after a bounded number of inner evaluations", () => {
    let reads = 0;
    const data = {
      get n() {
        reads++;
        return 1;
      },
    };
    const r = compile(mapChain(16), INNGEST).evaluateResult({ event: { data } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe("cost_limit");
    // 3^16 = 43 million inner evaluations unbounded; each is charged 12 units (iteration 1, the
    // path 3, the append 8), so the default budget of a million allows about 83,000.
    expect(reads).toBeGreaterThan(0);
    expect(reads).toBeLessThanOrEqual(Math.ceil(LIMIT / 12));
  });

  it("stops a regular expression built from data before compiling it", () => {
    const s = "a".repeat(300_000);
    const before = regexCacheSize();
    const r = compile("event.data.s.matches(event.data.s)", INNGEST).evaluateResult({ event: { data: { s } } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe("cost_limit");
    // Compiled patterns are cached: nothing was compiled.
    expect(regexCacheSize()).toBe(before);
    // A short pattern from data still runs.
    expect(compile("event.data.s.matches(event.data.p)", INNGEST).evaluate({ event: { data: { s: "aaa", p: "^a+$" } } })).toBe(true);
  });

  it("charges string scans by length, so a loop over long strings stops", () => {
    const source = "[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, !event.data.s.contains('b'))))";
    const s = "a".repeat(200_000);
    for (const fastPaths of [false, true]) {
      const r = compile(source, { ...INNGEST, fastPaths }).evaluateResult({ event: { data: { s } } });
      expect(r.ok ? r.value : r.error.code).toBe("cost_limit");
      // The same loop over a short string is cheap.
      expect(compile(source, { ...INNGEST, fastPaths }).evaluate({ event: { data: { s: "aaa" } } })).toBe(true);
    }
  });

  it("charges json_parse by the text it parses", () => {
    const text = JSON.stringify({ k: Array.from({ length: 30_000 }, (_, k) => k) });
    const source = "[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, size(json_parse(event.data.t)) > 0))";
    expect(compile("size(json_parse(event.data.t)) > 0", INNGEST).evaluate({ event: { data: { t: text } } })).toBe(true);
    const r = compile(source, INNGEST).evaluateResult({ event: { data: { t: text } } });
    expect(r.ok ? r.value : r.error.code).toBe("cost_limit");
  });
});

describe("estimateCost", () => {
  const cases: [string, number, number][] = [
    // [source, min, max] with inputs of at most 131,072 bytes: a list of them at most 65,536 items.
    ["event.data.userId == 'user_o9235hf84hf'", 4, 4],
    ["true", 0, 0],
    // 65,536 × (1 iteration + 7 predicate) + 4 for the range.
    ["event.data.items.exists(i, i.sku == 'x' && i.qty > 100)", 4, 65_536 * 8 + 4],
  ];
  it.each(cases)("%s costs %d to %d", (source, min, max) => {
    expect(estimateCost(compile(source, INNGEST))).toEqual({ min, max });
  });

  it("amortises a loop over the parts of an input: nested loops over one event stay linear", () => {
    const nested = estimateCost(compile("event.data.items.exists(i, i.tags.exists(t, t == 'vip'))", INNGEST)).max;
    expect(nested).toBeLessThan(LIMIT);
    // Two independent inputs multiply.
    const cross = estimateCost(compile("event.data.a.exists(x, event.data.b.exists(y, x == y))", INNGEST)).max;
    expect(cross).toBeGreaterThan(65_536 * 65_536);
  });

  it("counts the compile cost of a pattern built from data", () => {
    const constant = estimateCost(compile("event.data.s.matches('^a+$')", INNGEST)).max;
    const fromData = estimateCost(compile("event.data.s.matches(event.data.p)", INNGEST)).max;
    expect(fromData).toBeGreaterThan(constant + 4 * DEFAULT_INPUT_SIZE);
  });

  it("scales with the assumed input size", () => {
    const p = compile("event.data.items.exists(i, i == 1)", INNGEST);
    expect(estimateCost(p, { inputSize: 1000 }).max).toBeLessThan(estimateCost(p).max);
    // 500 items × (1 iteration + 2 for `i == 1`) + 3 for the range + 1 for the result.
    expect(estimateCost(p, { inputSize: 1000 }).max).toBe(500 * 3 + 4);
  });
});

describe("refuseCostly", () => {
  it("refuses the 16-deep chain and points at the comprehension that exceeds the budget", () => {
    const error = refusal(mapChain(16));
    expect(error.issues[0]!.code).toBe("limit_exceeded");
    expect(error.message).toMatch(/expression too costly: its worst case is an estimated \d+ cost units per evaluation, over the limit of 1000000/);
    // A chain short enough is accepted.
    expect(() => compile(mapChain(4), { ...INNGEST, refuseCostly: true })).not.toThrow();
  });

  it("refuses a pattern built from data, and a cross product of two inputs", () => {
    expect(refusal("event.data.s.matches(event.data.s)").issues[0]!.code).toBe("limit_exceeded");
    expect(refusal("event.data.a.exists(x, event.data.b.exists(y, x == y))").issues[0]!.code).toBe("limit_exceeded");
  });

  it("refuses a cached program too", () => {
    const source = mapChain(12);
    compile(source, { dialect: "inngest" });
    expect(() => compile(source, { dialect: "inngest", refuseCostly: true })).toThrow(CompileError);
  });

  it("follows the configured budget", () => {
    const source = "event.data.items.exists(i, i == 1)";
    expect(() => compile(source, { ...INNGEST, refuseCostly: true })).not.toThrow();
    expect(() => compile(source, { ...INNGEST, refuseCostly: true, limits: { maxCost: 1000 } })).toThrow(CompileError);
    expect(() => compile(source, { ...INNGEST, refuseCostly: true, limits: { maxCost: 1000 }, costEstimate: { inputSize: 100 } })).not.toThrow();
  });

  it("accepts ordinary filters", () => {
    const ordinary = [
      "event.data.userId == 'user_o9235hf84hf'",
      "event.data.amount > 1000 && event.data.plan == 'pro'",
      "event.name == 'app/user.created' && event.data.plan in ['pro', 'team'] && size(event.data.tags) > 2",
      "event.data.items.exists(i, i.sku == 'x' && i.qty > 100)",
      "event.data.items.exists(i, i.name.contains('gift'))",
      "event.data.items.all(i, i.tags.exists(t, t == 'vip'))",
      "lowercase(event.data.email).endsWith('@example.com')",
      "event.data.email.matches('^[a-z0-9._%+-]+@[a-z0-9.-]+\\\\.[a-z]{2,}$')",
      "json_parse(event.data.payload).plan == 'pro'",
      "event.data.items.filter(i, i.qty > 3).size() > 0",
      "has(event.data.userId) && event.ts > 1700000000000",
    ];
    for (const source of ordinary) expect(() => compile(source, { ...INNGEST, refuseCostly: true }), source).not.toThrow();
  });

  it("accepts every conformance case of the core suites that compiles", () => {
    let accepted = 0;
    const refused: string[] = [];
    const visit = (suite: Suite): void => {
      for (const t of suite.tests ?? []) {
        const options: CompileOptions = { cache: false, typeCheck: t.original.disableCheck !== true };
        try {
          compile(t.original.expr, options);
        } catch {
          continue;
        }
        try {
          compile(t.original.expr, { ...options, refuseCostly: true });
          accepted++;
        } catch {
          refused.push(t.original.expr);
        }
      }
      for (const s of suite.suites ?? []) visit(s);
    };
    for (const name of ["basic", "comparisons", "lists", "logic", "macros", "string", "conversions"]) visit(conformanceSuite(name));
    expect(accepted).toBeGreaterThan(500);
    expect(refused).toEqual([]);
  });

  it("makes Matcher.add throw CompileError, leaving the matcher unchanged", () => {
    const m = new Matcher({ dialect: "inngest" });
    m.add("ok", "event.data.userId == 'u1'");
    expect(() => m.add("costly", mapChain(16))).toThrow(CompileError);
    expect(m.has("costly")).toBe(false);
    expect(m.match({ event: { data: { userId: "u1" } } })).toEqual(["ok"]);
    // Opting out keeps the expression, each evaluation bounded by the budget.
    const lenient = new Matcher({ dialect: "inngest", refuseCostly: false });
    lenient.add("costly", mapChain(16));
    expect(lenient.match({ event: { data: { n: 1 } } })).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The estimate bounds the runtime charge

/** Bytes each generated input is held to, and the size the estimate assumes. */
const INPUT_SIZE = 240;

const VARS = ["x", "y", "z"] as const;

/** Expressions of the inngest dialect over `event.data.{a,s,p,l,m}` and loop variables in scope. */
function expressions(): { value: fc.Arbitrary<string>; bool: fc.Arbitrary<string> } {
  const tie = fc.letrec<{ value: string; bool: string }>((rec) => ({
    value: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.constantFrom("event.data.a", "event.data.s", "event.data.p", "event.data.l", "event.data.m", "event.data.l[0]", "event.data.m.k", "event"),
      fc.constantFrom("'ab'", "1", "2.5", "[1, 'a']", "{'k': 'v'}", "'a+'", "x", "y", "z"),
      fc.tuple(rec("value"), fc.constantFrom("+", "+")).chain(([a]) => rec("value").map((b) => `(${a} + ${b})`)),
      rec("value").map((a) => `lowercase(${a})`),
      rec("value").map((a) => `json_parse(${a})`),
      rec("value").map((a) => `string(${a})`),
      fc.tuple(rec("value"), rec("value")).map(([a, b]) => `[${a}, ${b}]`),
      fc.tuple(rec("value"), fc.constantFrom(...VARS), rec("value")).map(([r, v, b]) => `${r}.map(${v}, ${b})`),
      fc.tuple(rec("value"), fc.constantFrom(...VARS), rec("bool")).map(([r, v, b]) => `${r}.filter(${v}, ${b})`),
      fc.tuple(rec("bool"), rec("value"), rec("value")).map(([c, a, b]) => `(${c} ? ${a} : ${b})`),
    ),
    bool: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.constantFrom("true", "event.data.b"),
      fc.tuple(rec("value"), rec("value")).map(([a, b]) => `${a} == ${b}`),
      fc.tuple(rec("value"), rec("value")).map(([a, b]) => `${a} != ${b}`),
      fc.tuple(rec("value"), rec("value")).map(([a, b]) => `${a} in ${b}`),
      fc.tuple(rec("value"), rec("value")).map(([a, b]) => `${a}.contains(${b})`),
      rec("value").map((a) => `${a}.startsWith('a')`),
      fc.tuple(rec("value"), rec("value")).map(([a, b]) => `${a}.matches(${b})`),
      rec("value").map((a) => `${a}.matches('(a|b)*c')`),
      rec("value").map((a) => `size(${a}) > 1`),
      fc.tuple(rec("value"), fc.constantFrom(...VARS), rec("bool")).map(([r, v, b]) => `${r}.exists(${v}, ${b})`),
      fc.tuple(rec("value"), fc.constantFrom(...VARS), rec("bool")).map(([r, v, b]) => `${r}.all(${v}, ${b})`),
      fc.tuple(rec("value"), fc.constantFrom(...VARS), rec("bool")).map(([r, v, b]) => `${r}.exists_one(${v}, ${b})`),
      fc.tuple(rec("bool"), rec("bool")).map(([a, b]) => `(${a} && ${b})`),
      fc.tuple(rec("bool"), rec("bool")).map(([a, b]) => `(${a} || ${b})`),
      rec("bool").map((a) => `!(${a})`),
    ),
  }));
  return { value: tie.value, bool: tie.bool };
}

/** An event of at most {@link INPUT_SIZE} JSON bytes with the fields the expressions read. */
const events: fc.Arbitrary<Record<string, unknown>> = fc
  .record({
    a: fc.oneof(fc.string({ unit: fc.constantFrom("a", "b", "c", "|", "+", "*", "(", ")", "é") }), fc.integer(), fc.constant(null)),
    s: fc.string({ unit: fc.constantFrom("a", "b", "c", "[", "1", ",", "]", '"'), maxLength: 120 }),
    p: fc.constantFrom("a+", "(a|b)*c", "^a", "b", "[", "(a*)*b"),
    l: fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.array(fc.constantFrom("a", 1), { maxLength: 4 })), { maxLength: 30 }),
    m: fc.dictionary(fc.constantFrom("k", "j", "a"), fc.oneof(fc.string({ maxLength: 8 }), fc.array(fc.integer(), { maxLength: 5 }))),
    b: fc.boolean(),
  })
  .map((data) => ({ name: "e", data }))
  .filter((event) => JSON.stringify(event).length <= INPUT_SIZE);

describe("the estimate is an upper bound of the runtime charge", () => {
  it("and a close one for inputs at the assumed size", () => {
    const n = 5000;
    const cases: [string, Record<string, unknown>][] = [
      ["l.exists(x, x == 10)", { l: Array<number>(n).fill(0) }],
      ["l.map(x, x) == []", { l: Array<number>(n).fill(0) }],
      ["l.filter(x, x == 0).size() > 0", { l: Array<number>(n).fill(0) }],
      ["s.contains('b')", { s: "a".repeat(16 * n) }],
      ["s.matches('(a|b)*cd')", { s: "a".repeat(16 * n) }],
    ];
    for (const [source, activation] of cases) {
      const inputSize = Math.max(...Object.values(activation).map((v) => JSON.stringify(v).length));
      const { max } = estimateCost(compile(source, { cache: false }), { inputSize });
      const within = compile(source, { cache: false, limits: { maxCost: max } }).evaluateResult(activation);
      expect(within.ok, source).toBe(true);
      // Nine tenths of the estimate is not enough: the estimate is within 10% of the charge.
      const under = compile(source, { cache: false, limits: { maxCost: Math.floor(0.9 * max) } }).evaluateResult(activation);
      expect(under.ok ? under.value : under.error.code, source).toBe("cost_limit");
    }
  });

  it("for generated expressions and inputs within the assumed size, with and without generated fast paths", () => {
    const { bool } = expressions();
    fc.assert(
      fc.property(bool, fc.array(events, { minLength: 1, maxLength: 4 }), fc.boolean(), (source, inputs, fastPaths) => {
        // Twice each: the second evaluation may take a generated fast path.
        expectEstimateBounds(source, { ...INNGEST, fastPaths }, INPUT_SIZE, inputs.map((event) => ({ event })), 1e9, 2);
      }),
      { numRuns: 400 },
    );
  });
});
