/**
 * The JS ↔ CEL value mapping: what input values mean, and what evaluate returns.
 */
import { describe, expect, it } from "vitest";
import { compile } from "../../src/expr/program.js";
import { CelDuration, CelTimestamp, CelType, CelUint } from "../../src/expr/values.js";
import { expectEval, expectEvalError } from "./support/expect.js";

describe("input mapping", () => {
  it("reads JS numbers as doubles and bigints as ints", () => {
    expectEval("type(x)", new CelType("double"), { x: 1 });
    expectEval("type(x)", new CelType("int"), { x: 1n });
    expectEval("x / 2.0", 0.5, { x: 1 });
    expectEval("x / 2", 0n, { x: 1n });
    expectEval("x == 1", true, { x: 1 });
  });

  it("reads undefined as null, and a missing variable as an error", () => {
    expectEval("x == null", true, { x: undefined });
    expectEval("type(x) == null_type", true, { x: null });
    expectEvalError("x == null", "no_such_attribute", {});
  });

  it("reads Uint8Array as bytes, arrays as lists, Maps and plain objects as maps", () => {
    expectEval("size(x) == 3 && x == b'abc'", true, { x: new Uint8Array([97, 98, 99]) });
    expectEval("x[1]", "b", { x: ["a", "b"] });
    expectEval("m[1] + m[2]", 5n, { m: new Map<unknown, unknown>([[1n, 2n], [2n, 3n]]) });
    expectEval("o.a.b", true, { o: { a: { b: true } } });
    expectEval("'k' in o", true, { o: { k: 1 } });
    expectEval("o.map(k, k)", ["a", "b"], { o: { a: 1, b: 2 } });
  });

  it("reads Date as a timestamp", () => {
    expectEval("x.getFullYear()", 2024n, { x: new Date("2024-05-06T07:08:09.010Z") });
    expectEval("x == timestamp('2024-05-06T07:08:09.010Z')", true, { x: new Date("2024-05-06T07:08:09.010Z") });
    expectEval("x + duration('1s') > x", true, { x: new Date(0) });
  });

  it("finds a uint or int map key by numeric value", () => {
    expectEval("m[1u]", "one", { m: new Map<unknown, unknown>([[1n, "one"]]) });
    expectEval("dyn({1u: 'x'})[1]", "x");
  });
});

describe("output mapping", () => {
  it("returns CelUint, CelTimestamp, CelDuration and CelType for values JS lacks", () => {
    expect(compile("1u").evaluate()).toEqual(new CelUint(1n));
    expect(compile("timestamp('2009-02-13T23:31:30.5Z')").evaluate()).toEqual(new CelTimestamp(1234567890, 500_000_000));
    expect(compile("duration('-1.5s')").evaluate()).toEqual(new CelDuration(-1, -500_000_000));
    expect(compile("type('a')").evaluate()).toEqual(new CelType("string"));
  });

  it("returns Map for map literals and arrays for lists", () => {
    const m = compile("{'a': [1, 2.5, 'x', true, null]}").evaluate() as Map<string, unknown>;
    expect(m).toBeInstanceOf(Map);
    expect(m.get("a")).toEqual([1n, 2.5, "x", true, null]);
  });

  it("CelTimestamp converts to and from JS dates", () => {
    const t = CelTimestamp.fromMillis(Date.UTC(2020, 0, 2, 3, 4, 5, 678));
    expect(t.toDate().toISOString()).toBe("2020-01-02T03:04:05.678Z");
    expect(t.nanos).toBe(678_000_000);
  });
});

describe("plain objects are maps of their own properties", () => {
  it("never reaches Object.prototype", () => {
    expectEvalError("o.constructor", "no_such_key", { o: {} });
    expectEvalError("o.toString", "no_such_key", { o: {} });
    expectEvalError("o['__proto__']", "no_such_key", { o: {} });
    expectEval("has(o.constructor)", false, { o: {} });
    expectEval("'constructor' in o", false, { o: {} });
    expectEval("o.constructor", "own", { o: { constructor: "own" } });
  });

  it("treats own properties holding undefined as null", () => {
    expectEval("o.a == null", true, { o: { a: undefined } });
    expectEval("has(o.a)", true, { o: { a: undefined } });
  });

  it("reads objects without a prototype", () => {
    const o = Object.create(null) as Record<string, unknown>;
    o.a = 1;
    expectEval("o.a == 1", true, { o });
  });

  it("does not modify the activation", () => {
    const act = { x: { list: [3, 1, 2], m: { a: 1 } } };
    const before = JSON.stringify(act);
    compile("x.list.map(v, v * 2.0) == [6.0, 2.0, 4.0] && x.m.a == 1").evaluate(act);
    expect(JSON.stringify(act)).toBe(before);
  });
});
