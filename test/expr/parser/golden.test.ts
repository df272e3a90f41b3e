/**
 * Golden tables: the printed tree (ids and macro calls) of every grammar rule and literal form,
 * and the exact error text of rejected input.
 */
import { describe, expect, it } from "vitest";
import { idAdorner, macroCallsToDebugString, toDebugString } from "../../../src/expr/debug.js";
import { CompileError } from "../../../src/expr/errors.js";
import { parse } from "../../../src/expr/parser/index.js";
import { AST_GOLDEN } from "./golden-ast.js";
import { ERROR_GOLDEN } from "./golden-errors.js";

describe("parse: golden trees", () => {
  it.each(AST_GOLDEN.map((g) => [g.note, g] as const))("%s", (_note, golden) => {
    const ast = parse(golden.input, golden.options);
    expect(toDebugString(ast, idAdorner)).toBe(golden.ast);
    expect(macroCallsToDebugString(ast, idAdorner)).toBe(golden.macroCalls ?? "");
  });
});

describe("parse: golden errors", () => {
  it("has at least 60 cases", () => {
    expect(ERROR_GOLDEN.length).toBeGreaterThanOrEqual(60);
  });

  it.each(ERROR_GOLDEN.map((g) => [g.note, g] as const))("%s", (_note, golden) => {
    let error: unknown;
    try {
      parse(golden.input, golden.options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CompileError);
    expect((error as CompileError).message).toBe(golden.error);
  });
});
