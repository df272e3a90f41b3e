/**
 * A program evaluated often swaps its prototype's `matches`, `decide` and `decideUntilMatch` for
 * entry points of its own (src/expr/jit/entry.ts). They must give exactly the prototype's answers:
 * matches, no match, evaluation errors, non-boolean results, the inngest dialect's missing values,
 * and re-entrant use from a getter in the activation. `decideUntilMatch` must equal a loop of
 * `decide` calls, before and after the swap.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compile, type Decision, type DecisionCounts, type ItemBinding, type Program } from "../../src/expr/program.js";

/** What the prototype methods (the general path) answer, whatever the program has swapped in. */
function reference(p: Program, activation: Record<string, unknown>): Decision {
  const r = p.evaluateResult(activation);
  if (!r.ok) return "error";
  return r.value === true ? "match" : r.value === false ? "no_match" : "non_boolean";
}

function specialised(source: string, dialect: "cel" | "inngest"): Program {
  const p = compile(source, { dialect, cache: false });
  for (let i = 0; i < 300; i++) p.decide({});
  expect(Object.prototype.hasOwnProperty.call(p, "decide"), "specialised").toBe(true);
  expect(Object.prototype.hasOwnProperty.call(p, "matches"), "specialised").toBe(true);
  expect(Object.prototype.hasOwnProperty.call(p, "decideUntilMatch"), "specialised").toBe(true);
  return p;
}

/** What `decideUntilMatch` must answer: the index it stops at and the counts, by `reference`. */
function referenceUntilMatch(p: Program, items: readonly Record<string, unknown>[], from: number, binding: ItemBinding): { index: number; counts: DecisionCounts } {
  const counts: DecisionCounts = { noMatch: 0, error: 0, nonBoolean: 0 };
  let i = from;
  for (; i < items.length; i++) {
    const item = items[i]!;
    if (binding.stopProperty !== undefined && item[binding.stopProperty] === binding.stopValue) break;
    const d = reference(p, { [binding.variable]: item[binding.property] });
    if (d === "match") break;
    if (d === "no_match") counts.noMatch++;
    else if (d === "error") counts.error++;
    else counts.nonBoolean++;
  }
  return { index: i, counts };
}

const value = fc.oneof(
  fc.constantFrom(undefined, null, true, false, "a", "b", "", 0, 1, -1, 1.5, Number.NaN, 2n),
  fc.array(fc.constantFrom("a", "b"), { maxLength: 3 }),
);
const event = fc.record({ data: fc.record({ s: value, n: value, b: value, tags: value }, { requiredKeys: [] }) }, { requiredKeys: [] });

describe("specialised entry points", () => {
  const sources = [
    "event.data.s == 'a'",
    "event.data.n > 0 && event.data.s in ['a', 'b']",
    "event.data.tags.exists(t, t == 'a')",
    "event.data.n / 0 > 1",
    "event.data.s",
    "event.data.b ? event.data.s : event.data.n",
    "event.data.missing.deeper == 'x'",
    "[1, 2, 3].map(x, [1, 2, 3].map(y, x * y)).size() > 0",
  ];
  for (const dialect of ["cel", "inngest"] as const) {
    it(`decide and match as the prototype does in the ${dialect} dialect`, () => {
      // Every source compiles in both dialects (undeclared names are dyn in cel, event is declared
      // in inngest): a compile error or a failed specialisation fails the test.
      const programs = sources.map((source) => specialised(source, dialect));
      expect(programs.map((p) => p.source)).toEqual(sources);
      fc.assert(
        fc.property(event, (ev) => {
          for (const p of programs) {
            const expected = reference(p, { event: ev });
            expect(p.decide({ event: ev }), `${p.source} on ${JSON.stringify(ev, (_, v) => (typeof v === "bigint" ? `${v}n` : v))}`).toBe(expected);
            expect(p.matches({ event: ev })).toBe(expected === "match");
          }
        }),
        { numRuns: 300 },
      );
    });
  }

  for (const dialect of ["cel", "inngest"] as const) {
    it(`decide runs of items as one decide per item does in the ${dialect} dialect, before and after the swap`, () => {
      const binding: ItemBinding = { variable: "event", property: "ev", stopProperty: "owner", stopValue: "me" };
      const item = fc.record({ ev: event, owner: fc.constantFrom(undefined, "me", "other") }, { requiredKeys: ["ev"] });
      for (const source of sources) {
        const fresh = compile(source, { dialect, cache: false });
        const hot = specialised(source, dialect);
        expect(Object.prototype.hasOwnProperty.call(fresh, "decideUntilMatch"), "a fresh program runs the prototype's methods").toBe(false);
        fc.assert(
          fc.property(fc.array(item, { maxLength: 12 }), fc.nat(12), (items, start) => {
            const from = Math.min(start, items.length);
            const expected = referenceUntilMatch(hot, items, from, binding);
            for (const p of [fresh, hot]) {
              // Counts are reset by each call: start from garbage.
              const counts: DecisionCounts = { noMatch: 99, error: 99, nonBoolean: 99 };
              expect(p.decideUntilMatch(items, from, binding, counts), source).toBe(expected.index);
              expect(counts, source).toEqual(expected.counts);
            }
          }),
          { numRuns: 100 },
        );
      }
    });
  }

  it("decide runs of items from the prototype until a program has its own entry points", () => {
    const p = compile("event.n > 2", { cache: false });
    const items = Array.from({ length: 100 }, (_, n) => ({ event: { n: BigInt(n % 3) } }));
    const binding: ItemBinding = { variable: "event", property: "event" };
    const counts: DecisionCounts = { noMatch: 0, error: 0, nonBoolean: 0 };
    expect(p.decideUntilMatch(items, 0, binding, counts)).toBe(100);
    expect(counts).toEqual({ noMatch: 100, error: 0, nonBoolean: 0 });
    expect(Object.prototype.hasOwnProperty.call(p, "decideUntilMatch")).toBe(false);
    // Every item decided counts towards the program's own entry points.
    for (let i = 0; i < 3; i++) p.decideUntilMatch(items, 0, binding, counts);
    expect(Object.prototype.hasOwnProperty.call(p, "decideUntilMatch")).toBe(true);
    items[57] = { event: { n: 7n } };
    expect(p.decideUntilMatch(items, 10, binding, counts)).toBe(57);
    expect(counts).toEqual({ noMatch: 47, error: 0, nonBoolean: 0 });
  });

  it("decide runs of items re-entrantly from a getter in an item", () => {
    const p = specialised("event.data.s == 'a'", "cel");
    const binding: ItemBinding = { variable: "event", property: "event" };
    const innerCounts: DecisionCounts = { noMatch: 0, error: 0, nonBoolean: 0 };
    let inner: number | undefined;
    const items = [
      { event: { data: { s: "b" } } },
      {
        get event() {
          inner = p.decideUntilMatch([{ event: { data: { s: "c" } } }, { event: { data: { s: "a" } } }], 0, binding, innerCounts);
          return { data: { s: "x" } };
        },
      },
      { event: { data: { s: "a" } } },
    ];
    const counts: DecisionCounts = { noMatch: 0, error: 0, nonBoolean: 0 };
    expect(p.decideUntilMatch(items, 0, binding, counts)).toBe(2);
    expect(counts).toEqual({ noMatch: 2, error: 0, nonBoolean: 0 });
    expect(inner).toBe(1);
    expect(innerCounts).toEqual({ noMatch: 1, error: 0, nonBoolean: 0 });
    // The program's context is free again afterwards.
    expect(p.decide({ event: { data: { s: "a" } } })).toBe("match");
  });

  it("treat an inngest missing value as no match", () => {
    const p = specialised("event.data.missing", "inngest");
    expect(p.decide({ event: { data: {} } })).toBe("no_match");
    expect(p.matches({ event: { data: {} } })).toBe(false);
  });

  it("report a spent cost budget as an error", () => {
    // Over a variable: a constant loop would be folded at compile time (with the default budget).
    const p = compile("xs.all(x, xs.all(y, x * y > 0.0))", { cache: false, limits: { maxCost: 5 } });
    const xs = [1, 2, 3, 4];
    for (let i = 0; i < 300; i++) expect(p.decide({ xs })).toBe("error");
    expect(Object.prototype.hasOwnProperty.call(p, "decide")).toBe(true);
    expect(p.decide({ xs })).toBe("error");
    expect(p.matches({ xs })).toBe(false);
  });

  it("evaluate re-entrantly from a getter in the activation", () => {
    const p = specialised("event.data.s == 'a'", "cel");
    let inner: Decision | undefined;
    const activation = {
      get event() {
        inner = p.decide({ event: { data: { s: "b" } } });
        return { data: { s: "a" } };
      },
    };
    expect(p.decide(activation)).toBe("match");
    expect(inner).toBe("no_match");
    expect(p.matches({ event: { data: { s: "a" } } })).toBe(true);
  });

  it("keep each program's own answers when many programs are evaluated in turn", () => {
    const programs = Array.from({ length: 12 }, (_, i) => specialised(`event.data.n == ${i}`, "cel"));
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < programs.length; i++) {
        for (let j = 0; j < programs.length; j++) {
          expect(programs[i]!.matches({ event: { data: { n: j } } })).toBe(i === j);
        }
      }
    }
  });
});
