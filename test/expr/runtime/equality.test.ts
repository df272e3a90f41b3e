/**
 * Regression tests for CEL equality found by the differential fuzzer (test/expr/differential.test.ts).
 */
import { describe, expect, it } from "vitest";
import { celEquals } from "../../../src/expr/runtime/core.js";
import { compile } from "../../../src/expr/program.js";

describe("celEquals on a container compared with itself", () => {
  // langdef "Equality": lists and maps are equal when their elements are, and NaN equals nothing,
  // so the same list or map holding a NaN is not equal to itself (cel-go agrees).
  it("is false for the same list holding NaN", () => {
    const list = [1, Number.NaN];
    expect(celEquals(list, list)).toBe(false);
  });

  it("is false for the same map holding NaN, as a Map and as a plain object", () => {
    const map = new Map([["c", Number.NaN]]);
    const object = { c: Number.NaN };
    expect(celEquals(map, map)).toBe(false);
    expect(celEquals(object, object)).toBe(false);
  });

  it("is false for NaN nested deeper", () => {
    const nested = [{ a: [Number.NaN] }];
    expect(celEquals(nested, nested)).toBe(false);
  });

  it("is still true for the same container without NaN, and for identical scalars", () => {
    const list = [1, "a", { b: 2n }];
    expect(celEquals(list, list)).toBe(true);
    expect(celEquals("x", "x")).toBe(true);
    expect(celEquals(Number.NaN, Number.NaN)).toBe(false);
  });

  it("holds through compiled programs, typed and dynamic, with and without fast paths", () => {
    const activation = { ld: [Number.NaN], md: { c: Number.NaN }, mm: new Map([["c", Number.NaN]]) };
    const variables = { ld: "list(double)", md: "map(string, double)", mm: "map(string, double)" };
    for (const source of ["ld == ld", "md == md", "mm == mm", "[ld] == [ld]", "dyn(md) == dyn(md)"]) {
      for (const options of [{ variables }, { variables, fastPaths: false }, {}]) {
        expect(compile(source, { ...options, cache: false }).evaluate(activation), source).toBe(false);
      }
      const negated = source.replace("==", "!=");
      expect(compile(negated, { variables, cache: false }).evaluate(activation), negated).toBe(true);
    }
  });
});
