/**
 * Limits: no expression may run for minutes, exhaust memory, or overflow the stack.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CompileError, EvalError } from "../../src/expr/errors.js";
import { compile } from "../../src/expr/program.js";
import { expectEvalError } from "./support/expect.js";

describe("evaluation cost budget", () => {
  it("stops nested comprehensions over large lists with cost_limit", () => {
    const big = Array.from({ length: 5000 }, (_, k) => k);
    const started = Date.now();
    const e = expectEvalError("xs.all(a, xs.all(b, xs.all(c, a + b + c >= 0.0)))", "cost_limit", { xs: big });
    expect(e.message).toMatch(/cost limit/);
    // 5000³ iterations would take hours; the budget stops it after ~10 million.
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it("is configurable", () => {
    const xs = Array.from({ length: 100 }, (_, k) => k);
    expect(compile("xs.all(a, xs.all(b, true))", { cache: false }).evaluate({ xs })).toBe(true);
    expectEvalError("xs.all(a, xs.all(b, true))", "cost_limit", { xs }, { limits: { maxCost: 1000 }, cache: false });
  });

  it("bounds string growth", () => {
    const p = compile("[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24].map(i, s).join('')", {
      limits: { maxStringLength: 1000 },
      cache: false,
    });
    expect(() => p.evaluate({ s: "x".repeat(100) })).toThrow(EvalError);
    expect(p.evaluate({ s: "x".repeat(10) })).toBe("x".repeat(240));
  });

  it("each evaluation starts with a fresh budget", () => {
    const xs = Array.from({ length: 300 }, (_, k) => k);
    const p = compile("xs.exists(a, xs.exists(b, a + b < 0.0))", { limits: { maxCost: 1_000_000 }, cache: false });
    for (let k = 0; k < 5; k++) expect(p.evaluate({ xs })).toBe(false);
  });
});

describe("compile limits", () => {
  it("rejects sources over the size limit with a clear error", () => {
    const err = (() => {
      try {
        compile(`'${"a".repeat(100_001)}'`, { cache: false });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(CompileError);
    expect((err as CompileError).issues[0]!.code).toBe("limit_exceeded");
  });

  it("rejects deep nesting without overflowing the stack", () => {
    for (const source of ["(".repeat(10_000) + "1" + ")".repeat(10_000), "[".repeat(5000) + "]".repeat(5000), Array(3000).fill("1").join(" + ")]) {
      expect(() => compile(source, { cache: false })).toThrow(CompileError);
    }
  });

  it("never throws anything but CompileError for arbitrary text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (s) => {
        try {
          compile(s, { cache: false });
        } catch (e) {
          expect(e).toBeInstanceOf(CompileError);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("hostile values", () => {
  it("turns a value nested too deeply for the stack into an error, not a crash", () => {
    const nest = (): unknown[] => {
      let deep: unknown[] = [];
      for (let k = 0; k < 200_000; k++) deep = [deep];
      return deep;
    };
    const x = nest();
    const y = nest();
    const p = compile("x == y", { cache: false });
    expect(() => p.evaluate({ x, y })).toThrow(EvalError);
    expect(p.matches({ x, y })).toBe(false);
  });

  it("handles cyclic maps in equality without hanging", () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    const b: Record<string, unknown> = {};
    b.self = b;
    const p = compile("x == y", { cache: false });
    // (A container equals itself only if it holds no NaN, so even `x == x` must look inside.)
    expect(() => p.evaluate({ x: a, y: a })).toThrow(EvalError);
    expect(() => p.evaluate({ x: a, y: b })).toThrow(EvalError);
    expect(p.matches({ x: a, y: b })).toBe(false);
  });
});
