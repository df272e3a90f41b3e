import { describe, expect, it } from "vitest";
import { Source } from "../../src/expr/ast.js";
import { formatIssue, makeIssue } from "../../src/expr/errors.js";

describe("Source.locate", () => {
  it("counts lines and code-point columns", () => {
    const src = new Source("ab\n\t😁x");
    expect(src.locate(0)).toEqual({ line: 1, column: 1 });
    expect(src.locate(3)).toEqual({ line: 2, column: 1 });
    // after the tab (1 unit) and the emoji (2 units) comes 'x', column 3
    expect(src.locate(6)).toEqual({ line: 2, column: 3 });
    expect(src.lineText(2)).toBe("\t😁x");
  });
});

describe("formatIssue", () => {
  it("prints cel-go's caret line, wide under multi-byte characters", () => {
    const src = new Source("   && in.😁");
    expect(formatIssue(makeIssue(src, "syntax", "bad", { start: 9, end: 11 }), src)).toBe(
      "ERROR: <input>:1:10: bad\n |    && in.😁\n | .........＾",
    );
    expect(formatIssue(makeIssue(src, "syntax", "bad", { start: 11, end: 11 }), src)).toBe(
      "ERROR: <input>:1:11: bad\n |    && in.😁\n | .........．^",
    );
  });
  it("prints whole-expression issues without a snippet", () => {
    const src = new Source("x");
    expect(formatIssue(makeIssue(src, "limit_exceeded", "max recursion depth exceeded", { start: -1, end: -1 }), src)).toBe(
      "ERROR: <input>:-1:0: max recursion depth exceeded",
    );
  });
});
