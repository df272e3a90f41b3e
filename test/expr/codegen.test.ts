/**
 * The generated fast paths (jit/codegen.ts) never change a result: every expression gives
 * the same value, or an error with the same code, with fast paths on and off, in both dialects,
 * over events with missing fields, nulls, mixed types, Maps, bigints and NaN.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CompileError } from "../../src/expr/errors.js";
import { compile, type Program } from "../../src/expr/program.js";
import { CelUint } from "../../src/expr/values.js";
import { sameValue, show } from "./support/cel-values.js";

const paths = ["event.data.s", "event.data.n", "event.data.b", "event.data.nested.x", "event.name", "event.data.tags"];

const stringLit = fc.constantFrom("'a'", "'b'", "''", "'user_1'", "'x'", "'1'");
const numberLit = fc.constantFrom("0", "1", "2", "-1", "1.5", "0.0", "1e300", "3u");
const scalarLit = fc.oneof(stringLit, numberLit, fc.constantFrom("true", "false", "null"));
const path = fc.constantFrom(...paths);

const leaf: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(path, fc.constantFrom("==", "!="), scalarLit).map(([p, op, k]) => `${p} ${op} ${k}`),
  fc.tuple(path, fc.constantFrom("<", "<=", ">", ">="), numberLit).map(([p, op, k]) => `${p} ${op} ${k}`),
  fc.tuple(path, fc.constantFrom("['a', 'b']", "['x', 'user_1', '']", "[]", "['a', 'a']", "['a', 'b', 'c', 'd', 'e', 'f', 'g', '1']")).map(([p, l]) => `${p} in ${l}`),
  fc.tuple(path, fc.constantFrom("startsWith", "endsWith", "contains"), stringLit).map(([p, f, k]) => `${p}.${f}(${k})`),
  fc.tuple(path, fc.constantFrom("==", ">", "<"), fc.constantFrom("0", "1", "2")).map(([p, op, k]) => `size(${p}) ${op} ${k}`),
  fc.tuple(path, fc.constantFrom("'^a'", "'b$'", "'[0-9]+'")).map(([p, r]) => `${p}.matches(${r})`),
  fc.constantFrom(
    "event.data.tags.exists(t, t == 'a')",
    "event.data.tags.all(t, t.startsWith('a'))",
    "event.data.tags.exists(t, t.size() > 1)",
    "(event.data.n > 1.0 ? 'hi' : 'lo') == 'hi'",
    "(event.data.n > 1.0 ? 'hi' : 'lo') != 'lo'",
    "'hi' == (event.data.s == 'a' ? 'hi' : 'lo')",
    "(event.data.b ? true : 'x') == true",
    "(event.data.b ? false : true) != false",
  ),
);

const expr: fc.Arbitrary<string> = fc.letrec((tie) => ({
  e: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.tuple(tie("e"), fc.constantFrom("&&", "||"), tie("e")).map(([a, op, b]) => `(${a}) ${op} (${b})`),
    tie("e").map((a) => `!(${a})`),
    fc.tuple(tie("e"), tie("e"), tie("e")).map(([c, a, b]) => `(${c}) ? (${a}) : (${b})`),
  ),
})).e as fc.Arbitrary<string>;

const scalar = fc.oneof(
  fc.constantFrom(undefined, null, true, false, "", "a", "b", "user_1", "1", "x", "abc123"),
  fc.constantFrom(0, -0, 1, 2, 1.5, -1, Number.NaN, Infinity, 1e300),
  fc.constantFrom(1n, 0n, 2n),
  fc.constant(new CelUint(3n)),
);
const fieldValue = fc.oneof(
  scalar,
  fc.array(fc.constantFrom("a", "b", "ab", "", "bb"), { maxLength: 4 }),
  fc.constant(new Map<string, unknown>([["x", "a"]])),
  fc.constant([1, "a", null]),
  fc.record({ x: scalar }),
);
const event = fc.record({
  name: fieldValue,
  data: fc.oneof(
    fc.record({ s: fieldValue, n: fieldValue, b: fieldValue, tags: fieldValue, nested: fc.oneof(fc.record({ x: fieldValue }), scalar) }, { requiredKeys: [] }),
    fc.constant(null),
  ),
}, { requiredKeys: [] });

function outcome(source: string, dialect: "cel" | "inngest", fast: boolean, activation: Record<string, unknown>): unknown {
  // Fast paths generated at compile time, so that every evaluation exercises them.
  const p = compile(source, { dialect, fastPaths: fast ? { after: 0 } : false });
  const r = p.evaluateResult(activation);
  return r.ok ? { value: r.value } : { error: r.error.code };
}

/** Issue codes of a checker rejection: the generator writes only well-formed text. */
const TYPE_ISSUES = new Set(["no_matching_overload", "type_error", "undeclared_reference"]);

/**
 * Compiles with fast paths off and on; `undefined` when the checker rejects the source (then both
 * must reject it alike). Any other exception fails the property.
 */
function compileBoth(source: string, dialect: "cel" | "inngest"): { slow: Program; fast: Program } | undefined {
  let slow: Program;
  try {
    slow = compile(source, { dialect, fastPaths: false });
  } catch (error) {
    if (!(error instanceof CompileError)) throw error;
    expect(error.issues.map((i) => i.code).filter((code) => !TYPE_ISSUES.has(code)), `${source}: ${error.message}`).toEqual([]);
    expect(() => compile(source, { dialect, fastPaths: { after: 0 } }), source).toThrow(error.message);
    return undefined;
  }
  const fast = compile(source, { dialect, fastPaths: { after: 0 } });
  // Fast paths change how a program runs, never what it is.
  expect(fast.type, source).toBe(slow.type);
  return { slow, fast };
}

describe("generated fast paths", () => {
  for (const dialect of ["cel", "inngest"] as const) {
    it(`agree with the closures in the ${dialect} dialect`, () => {
      let compared = 0;
      let rejected = 0;
      fc.assert(
        fc.property(expr, fc.array(event, { minLength: 1, maxLength: 8 }), (source, events) => {
          if (compileBoth(source, dialect) === undefined) {
            // Ill-typed in this dialect (the checker rejects it): nothing to compare.
            rejected++;
            return;
          }
          compared++;
          for (const ev of events) {
            const activation = { event: ev };
            const fast = outcome(source, dialect, true, activation);
            const slow = outcome(source, dialect, false, activation);
            if ("value" in (slow as object) && "value" in (fast as object)) {
              if (!sameValue((fast as { value: unknown }).value, (slow as { value: unknown }).value)) {
                throw new Error(`${source} on ${show(ev)}: fast ${show(fast)} slow ${show(slow)}`);
              }
            } else {
              expect(fast, `${source} on ${show(ev)}`).toEqual(slow);
            }
          }
        }),
        { numRuns: 400 },
      );
      // Not vacuous: most generated filters type-check (about one in ten does not in cel).
      expect(compared).toBeGreaterThanOrEqual(300);
      expect(compared + rejected).toBe(400);
    });
  }

  it("are generated for typical filters and not for other expressions", () => {
    const root = (source: string, fastPaths: false | { after: number } = { after: 0 }): string =>
      (compile(source, { fastPaths, cache: false }) as unknown as { root: { fn: { name: string } } }).root.fn.name;
    for (const source of [
      "event.data.userId == 'user_o9235hf84hf'",
      "event.data.plan == 'enterprise' && event.data.region in ['us-east-1', 'eu-west-1']",
      "event.data.tags.exists(t, t.startsWith('vip'))",
      "size(event.data.items) > 3 || event.data.email.endsWith('@acme.com')",
      "event.data.email.matches('^[a-z]+@acme[.]com$')",
    ]) {
      expect(root(source)).toBe("predicate");
      expect(root(source, false)).not.toBe("predicate");
    }
    expect(root("event.data.amount + 1")).not.toBe("predicate");
  });

  it("are generated by default on a program's 64th evaluation, not at compile time", () => {
    const p = compile("event.data.s == 'a' && event.data.n > 1.0", { cache: false });
    const name = (): string => (p as unknown as { root: { fn: { name: string } } }).root.fn.name;
    expect(name()).not.toBe("predicate");
    const results: boolean[] = [];
    for (let i = 0; i < 70; i++) {
      if (i === 62) expect(name()).not.toBe("predicate");
      results.push(p.matches({ event: { data: { s: i % 2 === 0 ? "a" : "b", n: i } } }));
    }
    expect(name()).toBe("predicate");
    expect(results).toEqual(Array.from({ length: 70 }, (_, i) => i % 2 === 0 && i > 1));
    expect(compile("event.data.s == 'a'", { cache: false, fastPaths: true }).matches({ event: { data: { s: "a" } } })).toBe(true);
    expect((compile("event.data.s == 'a'", { cache: false, fastPaths: true }) as unknown as { root: { fn: { name: string } } }).root.fn.name).toBe("predicate");
  });

  it("tier up after a number of evaluations, with the same results", () => {
    const p = compile("event.data.n > 1.0 && event.data.s.startsWith('a')", { fastPaths: { after: 3 }, cache: false });
    const name = (): string => (p as unknown as { root: { fn: { name: string } } }).root.fn.name;
    const events = [
      { data: { n: 2, s: "abc" } },
      { data: { n: 0, s: "abc" } },
      { data: { n: 2, s: "xyz" } },
      { data: { n: 2 } },
      { data: { n: 5, s: "a" } },
    ];
    const results: boolean[] = [];
    for (const event of events) results.push(p.matches({ event }));
    expect(name()).toBe("predicate");
    expect(results).toEqual([true, false, false, false, true]);
  });
});
