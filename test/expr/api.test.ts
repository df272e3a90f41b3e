/**
 * The public API of the expression engine: compile options, Program members, EvalError and
 * CompileError shapes, decide(), the program cache.
 */
import { describe, expect, it } from "vitest";
import { CompileError, EvalError } from "../../src/expr/errors.js";
import { compile } from "../../src/expr/program.js";
import { expectCompileError, expectEval } from "./support/expect.js";

describe("compile", () => {
  it("exposes source, dialect and the checked result type", () => {
    const p = compile("[1, 2].map(x, x * 2)", { cache: false });
    expect(p.source).toBe("[1, 2].map(x, x * 2)");
    expect(p.dialect).toBe("cel");
    expect(p.type).toBe("list(int)");
    expect(compile("x.y", { cache: false }).type).toBe("dyn");
    expect(compile("event.data.a == 1", { dialect: "inngest" }).type).toBe("bool");
  });

  it("caches programs by dialect, options and source", () => {
    expect(compile("1 + 1")).toBe(compile("1 + 1"));
    expect(compile("1 + 1")).not.toBe(compile("1 + 1", { dialect: "inngest" }));
    expect(compile("1 + 1", { cache: false })).not.toBe(compile("1 + 1", { cache: false }));
  });

  it("checks declared variables, parsed from type strings", () => {
    const p = compile("n + 1 > 2 && s.startsWith('a')", { variables: { n: "int", s: "string" }, cache: false });
    expect(p.evaluate({ n: 2n, s: "abc" })).toBe(true);
    expectCompileError("n + 1.0", "found no matching overload for '_+_' applied to '(int, double)'", {
      variables: { n: "int" },
    });
    expectCompileError("m", "undeclared reference to 'm' (in container '')", { variables: { n: "int" } });
  });

  it("resolves names in a container", () => {
    const p = compile("b.c == 1", { container: "a", variables: { "a.b.c": "int" }, cache: false });
    expect(p.evaluate({ "a.b.c": 1n })).toBe(true);
  });

  it("reports several errors at once, with line, column and offset", () => {
    const err = expectCompileError("a +\n  1 + 'x' + true", "found no matching overload", { variables: { a: "int" } });
    expect(err.issues.length).toBeGreaterThanOrEqual(1);
    const first = err.issues[0]!;
    expect(first.line).toBe(2);
    expect(first.column).toBe(5);
    expect(first.offset).toBe(8);
    expect(first.code).toBe("no_matching_overload");
    // As cel-go: the failed inner call has the error type, and the outer `+` then has no
    // overload taking a bool on the right either.
    expect(err.message).toBe(
      "ERROR: <input>:2:5: found no matching overload for '_+_' applied to '(int, string)'\n |   1 + 'x' + true\n | ....^\n" +
        "ERROR: <input>:2:11: found no matching overload for '_+_' applied to '(!error!, bool)'\n |   1 + 'x' + true\n | ..........^",
    );
  });

  it("rejects non-string sources with a TypeError and unknown dialects", () => {
    expect(() => compile(42 as unknown as string)).toThrow(TypeError);
    expect(() => compile("1", { dialect: "sql" as "cel" })).toThrow(TypeError);
  });

  it("rejects an invalid constant regular expression at compile time", () => {
    const err = expectCompileError("'a'.matches('(')", "missing closing )");
    expect(err.issues[0]!.code).toBe("invalid_argument");
  });

  it("types an index into a dyn map as dyn, so dyn variables are never stricter than declared ones", () => {
    // Found by the differential property test: the free value type of `md['a']` used to be bound
    // to the first `_+_` overload tried (bytes), and the outer `+` then failed to check.
    const source = "(d + md['a']) + ((0.0 + 0.0) + d)";
    const declared = compile(source, { variables: { d: "double", md: "map(string, double)" }, cache: false });
    const dyn = compile(source, { cache: false });
    expect(declared.type).toBe("double");
    expect(dyn.type).toBe("double");
    const activation = { d: 1.5, md: { a: 2 } };
    expect(dyn.evaluate(activation)).toBe(declared.evaluate(activation));
    expect(compile("md['a']", { cache: false }).type).toBe("dyn");
    expect(compile("md['a'] + 1", { cache: false }).type).toBe("int");
  });

  it("type-checks only when asked: typeCheck false defers errors to evaluation", () => {
    expectCompileError("1 + 'a'", "found no matching overload");
    const p = compile("1 + 'a' == 2 || true", { typeCheck: false, cache: false });
    expect(p.evaluate()).toBe(true);
  });
});

describe("Program.evaluate", () => {
  it("throws EvalError with a code, the failing node's span and its location", () => {
    const p = compile("x.a +\n  x.b / x.c", { cache: false });
    let err: unknown;
    try {
      p.evaluate({ x: { a: 1n, b: 1n, c: 0n } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EvalError);
    const e = err as EvalError;
    expect(e.code).toBe("division_by_zero");
    expect(e.location).toEqual({ line: 2, column: 7 });
    expect(p.source.slice(e.span!.start, e.span!.end)).toBe("/");
  });

  it("names missing keys and attributes", () => {
    expect(() => compile("x.missing").evaluate({ x: {} })).toThrow(/no such key: missing/);
    expect(() => compile("y").evaluate({})).toThrow(/no such attribute: y/);
  });

  it("decide classifies without throwing", () => {
    const p = compile("x.a", { cache: false });
    expect(p.decide({ x: { a: true } })).toBe("match");
    expect(p.decide({ x: { a: false } })).toBe("no_match");
    expect(p.decide({ x: {} })).toBe("error");
    expect(p.decide({ x: { a: "yes" } })).toBe("non_boolean");
  });

  it("matches is true only for the boolean true and never throws", () => {
    const p = compile("x", { cache: false });
    expect(p.matches({ x: true })).toBe(true);
    expect(p.matches({ x: 1 })).toBe(false);
    expect(p.matches({})).toBe(false);
    expect(compile("1/0 == 1").matches()).toBe(false);
  });

  it("tests argument kinds at run time even where the checker inferred a type", () => {
    // `x['a']` is dyn, but unification with `_+_(int, int)` infers int for it.
    const p = compile("x['a'] + 1 == 2 || true", { cache: false });
    expect(p.evaluate({ x: { a: false } })).toBe(true);
    expect(() => compile("x['a'] + 1", { cache: false }).evaluate({ x: { a: false } })).toThrow(/no such overload/);
  });

  it("evaluateResult returns errors as values", () => {
    const r = compile("1/0").evaluateResult();
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe("division_by_zero");
  });

  it("is re-entrant: an activation getter may evaluate the same program", () => {
    const p = compile("x.v + 1", { cache: false });
    const act = {
      x: {
        get v(): bigint {
          return p.evaluate({ x: { v: 41n } }) as bigint;
        },
      },
    };
    // The getter's object is not a plain object: selection falls back to own properties.
    expect(p.evaluate({ x: { v: 1n } })).toBe(2n);
    expect(() => p.evaluate(act)).not.toThrow(RangeError);
  });
});

describe("errors", () => {
  it("CompileError lists issues in source order and prints them cel-go style", () => {
    let err: unknown;
    try {
      compile("a.b(", { cache: false });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CompileError);
    const e = err as CompileError;
    expect(e.message.startsWith("ERROR: <input>:1:")).toBe(true);
    expect(e.source).toBe("a.b(");
    const sorted = [...e.issues].sort((x, y) => x.line - y.line || x.column - y.column);
    expect(e.issues).toEqual(sorted);
  });

  it("expectEval helper compares kinds strictly", () => {
    expectEval("1 + 1", 2n);
    expect(() => expectEval("1 + 1", 2)).toThrow('expected 2, got "2n"');
  });
});
