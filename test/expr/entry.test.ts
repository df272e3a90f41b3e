/**
 * A program evaluated often swaps its prototype's `matches` and `decide` for entry points of its
 * own (src/expr/entry.ts). They must give exactly the prototype's answers: matches, no match,
 * evaluation errors, non-boolean results, the inngest dialect's missing values, and re-entrant
 * use from a getter in the activation.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compile, type Decision, type Program } from "../../src/expr/program.js";

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
  return p;
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
      const programs: Program[] = [];
      for (const source of sources) {
        try {
          programs.push(specialised(source, dialect));
        } catch {
          // Ill-typed in this dialect.
        }
      }
      expect(programs.length).toBeGreaterThanOrEqual(6);
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

  it("treat an inngest missing value as no match", () => {
    const p = specialised("event.data.missing", "inngest");
    expect(p.decide({ event: { data: {} } })).toBe("no_match");
    expect(p.matches({ event: { data: {} } })).toBe(false);
  });

  it("report a spent cost budget as an error", () => {
    const p = compile("[1, 2, 3, 4].all(x, [1, 2, 3, 4].all(y, x * y > 0))", { cache: false, limits: { maxCost: 5 } });
    for (let i = 0; i < 300; i++) expect(p.decide({})).toBe("error");
    expect(Object.prototype.hasOwnProperty.call(p, "decide")).toBe(true);
    expect(p.decide({})).toBe("error");
    expect(p.matches({})).toBe(false);
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
