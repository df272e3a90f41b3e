/**
 * The overload table and the specialisations keyed on it: every key a dialect's call table uses
 * names one of its operators or one of its overload ids (a mistyped id would silently lose its
 * specialisation), overload ids are unique, and an overload without an implementation is
 * compiled by every dialect that offers it.
 */
import { describe, expect, it } from "vitest";
import { CEL_DIALECT, type Dialect } from "../../src/expr/dialect.js";
import { fn, isOperator, overload, resolvesWithin, specialisationOf, T, type OverloadDecl } from "../../src/expr/decls.js";
import { INNGEST_DIALECT } from "../../src/expr/inngest.js";
import { SIZE_OVERLOADS } from "../../src/expr/stdlib/index.js";

const DIALECTS: readonly Dialect[] = [CEL_DIALECT, INNGEST_DIALECT];

function overloads(d: Dialect): OverloadDecl[] {
  return [...d.functions.values()].flatMap((f) => f.overloads);
}

describe("the overload table", () => {
  it.each(DIALECTS.map((d) => [d.name, d] as const))("has unique overload ids (%s)", (_, d) => {
    const ids = overloads(d).map((o) => o.id);
    expect(ids.length).toBeGreaterThan(150);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each(DIALECTS.map((d) => [d.name, d] as const))("keys each call specialisation by an operator or an overload id of the dialect (%s)", (_, d) => {
    const ids = new Set(overloads(d).map((o) => o.id));
    const unknown = [...d.calls.keys()].filter((key) => (isOperator(key) ? !d.functions.has(key) : !ids.has(key)));
    expect(unknown).toEqual([]);
  });

  it.each(DIALECTS.map((d) => [d.name, d] as const))("implements every overload, or compiles it in the dialect (%s)", (_, d) => {
    const unimplemented = overloads(d).filter((o) => o.impl === undefined);
    expect(unimplemented.length).toBeGreaterThan(0);
    const uncompiled = unimplemented.filter((o) => specialisationOf(d.calls, o.fn, [o]) === undefined).map((o) => o.id);
    expect(uncompiled).toEqual([]);
  });

  it("names every overload of size in SIZE_OVERLOADS", () => {
    expect([...SIZE_OVERLOADS].sort()).toEqual(CEL_DIALECT.functions.get("size")!.overloads.map((o) => o.id).sort());
  });
});

describe("specialisationOf", () => {
  const [a, b, c] = fn("f", overload("f_a", [T.int], T.int), overload("f_b", [T.string], T.int), overload("f_c", [T.bool], T.int)).overloads as [
    OverloadDecl,
    OverloadDecl,
    OverloadDecl,
  ];
  const table = new Map([
    ["f_a", "one"],
    ["f_b", "one"],
    ["f_c", "two"],
    ["_+_", "plus"],
  ]);

  it("finds an operator by name whatever its overloads", () => {
    expect(specialisationOf(table, "_+_", [])).toBe("plus");
    expect(specialisationOf(table, "_-_", [a])).toBeUndefined();
  });

  it("finds a function's entry only when every overload it may resolve to shares it", () => {
    expect(specialisationOf(table, "f", [a])).toBe("one");
    expect(specialisationOf(table, "f", [a, b])).toBe("one");
    expect(specialisationOf(table, "f", [a, c])).toBeUndefined();
    expect(specialisationOf(table, "f", [])).toBeUndefined();
    expect(specialisationOf(new Map([["f_a", "one"]]), "f", [a, b])).toBeUndefined();
  });

  it("tells whether a call resolved within a set of ids", () => {
    expect(resolvesWithin([a, b], new Set(["f_a", "f_b"]))).toBe(true);
    expect(resolvesWithin([a, c], new Set(["f_a", "f_b"]))).toBe(false);
    expect(resolvesWithin([], new Set(["f_a"]))).toBe(false);
  });
});
