/**
 * `compile(source, { extensions })`: which libraries are on, the names it takes, what stays as it
 * was by default, the optionals' values at the boundary, the presence-test rule, and the cost
 * budget on the new comprehensions.
 */
import { describe, expect, it } from "vitest";
import { EXTENSION_NAMES } from "../../../src/expr/dialect.js";
import { CompileError } from "../../../src/expr/errors.js";
import { compile } from "../../../src/expr/program.js";
import { CelOptional } from "../../../src/expr/values.js";
import { expectCompileError, expectEval, expectEvalError } from "../support/expect.js";

describe("compile(source, { extensions })", () => {
  it("adds nothing by default: extension functions and macros are undeclared", () => {
    expectCompileError("math.greatest(1, 2)", "undeclared reference");
    expectCompileError("base64.encode(b'a')", "undeclared reference");
    expectCompileError("cel.bind(x, 1, x)", "undeclared reference");
    expectCompileError("[1].all(i, v, v > i)", "undeclared reference");
    expectCompileError("{}.?a", "unsupported syntax '.?'");
    // The strings extension is part of the cel dialect as before.
    expectEval("'abc'.charAt(1)", "b");
  });

  it("takes library names or 'all', and each name turns on its library only", () => {
    expectEval("math.greatest(1, 2)", 2n, {}, { extensions: ["math"] });
    expectCompileError("base64.encode(b'a')", "undeclared reference", { extensions: ["math"] });
    expectEval("base64.encode(b'a') == 'YQ==' && math.least([3, 1]) == 1", true, {}, { extensions: "all" });
    expect(EXTENSION_NAMES).toEqual(["strings", "math", "encoders", "lists", "sets", "bindings", "optionals", "two_var_comprehensions", "regex", "block"]);
  });

  it("brings the libraries a named one needs (regex returns optionals)", () => {
    expectEval("regex.extract('a1', '[0-9]').orValue('') == '1'", true, {}, { extensions: ["regex"] });
  });

  it("rejects unknown names and the inngest dialect with a TypeError", () => {
    expect(() => compile("1", { extensions: ["maths" as never] })).toThrow(TypeError);
    expect(() => compile("1", { extensions: "every" as never })).toThrow(TypeError);
    expect(() => compile("1", { dialect: "inngest", extensions: ["math"] })).toThrow(/'cel' dialect only/);
  });

  it("keeps programs of different extensions apart in the cache", () => {
    expect(() => compile("math.abs(-1)")).toThrow(CompileError);
    expect(compile("math.abs(-1)", { extensions: ["math"] }).evaluate()).toBe(1n);
    expect(() => compile("math.abs(-1)")).toThrow(CompileError);
  });

  it("reports malformed macro calls as cel-go does", () => {
    expectCompileError("cel.bind(1, 2, 3)", "cel.bind() variable names must be simple identifiers", { extensions: ["bindings"] });
    expectCompileError("[1].all(i, i, true)", "duplicate variable name: i", { extensions: ["two_var_comprehensions"] });
    expectCompileError("math.greatest()", "math.greatest() requires at least one argument", { extensions: ["math"] });
    expectCompileError("math.least('a', 1)", "math.least() simple literal arguments must be numeric", { extensions: ["math"] });
    expectCompileError("optional.of(1).optMap(1, 2)", "optMap() variable name must be a simple identifier", { extensions: ["optionals"] });
  });
});

describe("optional values", () => {
  const o = { extensions: ["optionals"] } as const;

  it("leave the engine as CelOptional", () => {
    const some = compile("{'a': 1}.?a", o).evaluate();
    expect(some).toBeInstanceOf(CelOptional);
    expect((some as CelOptional).hasValue).toBe(true);
    expect((some as CelOptional).value).toBe(1n);
    expect(compile("{'a': 1}.?b", o).evaluate()).toBe(CelOptional.NONE);
  });

  it("type as optional_type(T) in the checker", () => {
    expect(compile("{'a': 1}.?a", o).type).toBe("optional_type(int)");
    expect(compile("optional.of('x').orValue('y')", o).type).toBe("string");
    expectCompileError("optional.of('x').orValue(1)", "found no matching overload", o);
  });

  it("select from JSON: a missing key is none, orValue gives the default", () => {
    const p = compile("event.data.?plan.orValue('free') == 'pro'", o);
    expect(p.evaluate({ event: { data: { plan: "pro" } } })).toBe(true);
    expect(p.evaluate({ event: { data: {} } })).toBe(false);
    expect(compile("event.data.?plan.orValue('free')", o).evaluate({ event: { data: {} } })).toBe("free");
  });

  it("or/orValue evaluate their argument only when the receiver is empty", () => {
    expectEval("optional.of(1).orValue(1 / 0)", 1n, {}, o);
    expectEvalError("optional.none().orValue(1 / 0)", "division_by_zero", {}, o);
  });

  it("value() of none is an error", () => {
    expectEvalError("optional.none().value()", undefined, {}, o, "optional.none() dereference");
  });
});

describe("has() on a value without fields", () => {
  it("is false in the cel dialect, as cel-go answers by default", () => {
    expectEval("has(e.user.id)", false, { e: { user: null } });
    expectEval("!has(e.n.x)", true, { e: { n: 5 } });
    expectEval("has(e.s.x)", false, { e: { s: "text" } });
  });

  it("is an error with errorOnBadPresenceTest", () => {
    expectEvalError("has(e.user.id)", "no_such_field", { e: { user: null } }, { errorOnBadPresenceTest: true });
    expectEvalError("has(e.n.x)", "no_such_overload", { e: { n: 5 } }, { errorOnBadPresenceTest: true });
  });

  it("keeps Inngest's rule in the inngest dialect: null is absent, a number an error", () => {
    expect(compile("has(event.data.u.id)", { dialect: "inngest" }).evaluate({ event: { data: { u: null } } })).toBe(false);
    expect(compile("has(event.data.n.x)", { dialect: "inngest" }).decide({ event: { data: { n: 5 } } })).toBe("error");
  });
});

describe("the cost budget on the new comprehensions", () => {
  const big = Array.from({ length: 5000 }, (_, k) => k);
  for (const source of [
    "l.all(i, v, v >= 0)",
    "!l.exists(i, v, v < 0)",
    "l.existsOne(i, v, v == 0)",
    "size(l.transformList(i, v, v)) > 0",
    "size(l.transformMap(i, v, v)) > 0",
    "cel.bind(x, l, x.all(i, v, v >= 0))",
  ]) {
    it(`${source} stops at the budget`, () => {
      const limited = compile(source, { extensions: "all", limits: { maxCost: 1000 } });
      const r = limited.evaluateResult({ l: big });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.code).toBe("cost_limit");
      expect(compile(source, { extensions: "all" }).evaluate({ l: big })).toBe(true);
    });
  }
});
