/**
 * cel-go parity on details found by differential fuzzing: own properties only (typed and
 * unchecked, closures and generated code), time zone names as Go spells them, and `bigint`
 * inputs outside int64 refused where they enter.
 */
import { describe, expect, it } from "vitest";
import { compile, type CompileOptions } from "../../src/expr/program.js";

const MODES: readonly (readonly [string, CompileOptions])[] = [
  ["checked", { cache: false }],
  ["checked, fast paths at compile time", { cache: false, fastPaths: true }],
  ["checked, no generated code", { cache: false, fastPaths: false }],
  ["unchecked", { cache: false, typeCheck: false }],
];

describe("own properties only", () => {
  const inherited = (): Record<string, unknown> => {
    const o = Object.create({ inherited: 1 }) as Record<string, unknown>;
    o.own = 2;
    return o;
  };
  for (const [mode, options] of MODES) {
    it(`${mode}: a prototype's property is no field of a map`, () => {
      const e = inherited();
      expect(compile("e.own", options).evaluate({ e })).toBe(2);
      expect(compile("e.inherited", options).evaluateResult({ e }).ok).toBe(false);
      expect(compile("has(e.inherited)", options).evaluate({ e })).toBe(false);
      expect(compile("has(e.own)", options).evaluate({ e })).toBe(true);
      expect(compile("'inherited' in e", options).evaluate({ e })).toBe(false);
      expect(compile("size(e)", options).evaluate({ e })).toBe(1n);
      expect(compile("e.inherited == 1", options).decide({ e })).toBe("error");
      expect(compile("x.e.inherited == 1", options).decide({ x: { e } })).toBe("error");
    });

    it(`${mode}: a variable inherited by the activation is not bound`, () => {
      const act = Object.create({ v: 1 }) as Record<string, unknown>;
      expect(compile("v == 1", options).decide(act)).toBe("error");
    });
  }

  it("inngest: an inherited property is a missing attribute", () => {
    const e = inherited();
    expect(compile("event.inherited == null", { dialect: "inngest", cache: false }).evaluate({ event: e })).toBe(true);
  });
});

describe("time zone names", () => {
  const at = { t: new Date("2024-01-01T12:00:00Z") };
  it("are case-sensitive, as Go's time.LoadLocation", () => {
    expect(compile("t.getHours('UTC')").evaluate(at)).toBe(12n);
    expect(compile("t.getHours('America/New_York')").evaluate(at)).toBe(7n);
    expect(compile("t.getHours('US/Central')").evaluate(at)).toBe(6n);
    for (const name of ["utc", "america/new_york", "AMERICA/NEW_YORK", "us/central"]) {
      const r = compile(`t.getHours('${name}')`).evaluateResult(at);
      expect(r.ok, name).toBe(false);
      if (!r.ok) expect(r.error.message).toContain(`unknown time zone ${name}`);
    }
  });
});

describe("bigint inputs outside int64", () => {
  const big = 2n ** 63n;
  for (const [mode, options] of MODES) {
    it(`${mode}: are refused where they are read`, () => {
      for (const [source, act] of [
        ["x > 9223372036854775807", { x: big }],
        ["e.n > 0", { e: { n: big } }],
        ["e['n'] > 0", { e: { n: -big - 1n } }],
        ["e.a.n == 1", { e: { a: { n: big } } }],
      ] as const) {
        const r = compile(source, options).evaluateResult(act);
        expect(r.ok, source).toBe(false);
        if (!r.ok) {
          expect(r.error.code).toBe("invalid_argument");
          expect(r.error.message).toContain("out of int64 range");
        }
      }
      expect(compile("x == 9223372036854775807", options).evaluate({ x: big - 1n })).toBe(true);
    });
  }
});
