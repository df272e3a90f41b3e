/**
 * The debug printer: cel-go's layout, Go's formatting of literals, and the adorner hook the type
 * checker uses to print `~type^overload` as in the cel-spec `checkedAst` strings.
 */
import { describe, expect, it } from "vitest";
import type { ComprehensionExpr, Expr } from "../../../src/expr/ast.js";
import {
  formatConstant,
  formatGoFloat,
  idAndKindAdorner,
  isExpr,
  kindAdorner,
  toDebugString,
  type DebugAdorner,
} from "../../../src/expr/debug.js";
import { parse } from "../../../src/expr/parser/index.js";

describe("formatGoFloat (Go's %v)", () => {
  it.each<[number, string]>([
    [0, "0"],
    [-0, "-0"],
    [1, "1"],
    [1.5, "1.5"],
    [-2.25, "-2.25"],
    [123456, "123456"],
    [999999.5, "999999.5"],
    [1e6, "1e+06"],
    [1234567, "1.234567e+06"],
    [299792000, "2.99792e+08"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [1.175494e-40, "1.175494e-40"],
    [1e100, "1e+100"],
    [Number.MAX_VALUE, "1.7976931348623157e+308"],
    [NaN, "NaN"],
    [Infinity, "+Inf"],
    [-Infinity, "-Inf"],
  ])("%d → %s", (value, text) => {
    expect(formatGoFloat(value)).toBe(text);
  });
});

describe("formatConstant (Go's strconv.Quote)", () => {
  it.each<[string, string]>([
    ["'a\"b\\\\c'", '"a\\"b\\\\c"'],
    ["'\\a\\b\\f\\n\\r\\t\\v'", '"\\a\\b\\f\\n\\r\\t\\v"'],
    ["'\\x00\\x1f\\x7f'", '"\\x00\\x1f\\x7f"'],
    ["'é❤😀'", '"é❤😀"'],
    ["'\\u00a0\\u200b'", '"\\u00a0\\u200b"'],
    ["'\\U000e0001'", '"\\U000e0001"'],
    ["b'\\xff\\x00abc'", 'b"\\xff\\x00abc"'],
    ["b'\\xc3\\xbf'", 'b"ÿ"'],
    ["b'\\xed\\xa0\\x80'", 'b"\\xed\\xa0\\x80"'],
    ["b'\\xf0\\x9f\\x98'", 'b"\\xf0\\x9f\\x98"'],
    ["18446744073709551615u", "18446744073709551615u"],
    ["-9223372036854775808", "-9223372036854775808"],
  ])("%s → %s", (source, printed) => {
    const { expr } = parse(source);
    expect(expr.kind).toBe("const");
    if (expr.kind === "const") expect(formatConstant(expr.value)).toBe(printed);
  });
});

describe("toDebugString", () => {
  it("prints without adornment by default", () => {
    expect(toDebugString(parse("a.b + f(1, [x], {k: v})"))).toBe(
      "_+_(\n  a.b,\n  f(\n    1,\n    [\n      x\n    ],\n    {\n      k:v\n    }\n  )\n)",
    );
  });

  it("asks the adorner about every expression, map entry and message field", () => {
    const seen: string[] = [];
    const recorder: DebugAdorner = (node) => {
      seen.push(isExpr(node) ? node.kind : "entry");
      return "";
    };
    toDebugString(parse("{1: M{f: a}}"), recorder);
    expect(seen.sort()).toEqual(["const", "entry", "entry", "ident", "map", "struct"]);
  });

  it("takes a checker-style adorner that prints types and overloads", () => {
    // What the checker will supply: `~type` for every node and `^overload` for calls.
    const types: DebugAdorner = (node) => {
      if (!isExpr(node)) return "";
      if (node.kind === "const") return "~int";
      if (node.kind === "call") return "~int^add_int64";
      return "~dyn";
    };
    expect(toDebugString(parse("1 + x"), types)).toBe("_+_(\n  1~int,\n  x~dyn\n)~int^add_int64");
  });

  it("prints ids and kinds as cel-go's parser tests do", () => {
    expect(toDebugString(parse("a[0]"), idAndKindAdorner)).toBe(
      "_[_](\n  a^#1:*expr.Expr_IdentExpr#,\n  0^#3:*expr.Constant_Int64Value#\n)^#2:*expr.Expr_CallExpr#",
    );
  });

  it("prints the second iteration variable of a two-variable comprehension", () => {
    const parsed = parse("m.exists(k, true)").expr as ComprehensionExpr;
    const twoVariables: Expr = { ...parsed, iterVar2: "v" };
    expect(toDebugString(twoVariables, kindAdorner)).toContain("// Variable\n  k,\n  v,\n  // Target\n");
  });
});
