/**
 * Limits and hostile input: every string yields an AST or a CompileError (never another exception,
 * never a stack overflow), and the configured limits hold at their boundaries.
 */
import { describe, expect, it } from "vitest";
import { CompileError, type Issue } from "../../../src/expr/errors.js";
import { parse, type ParseOptions } from "../../../src/expr/parser/index.js";

function issues(source: string, options?: ParseOptions): readonly Issue[] {
  try {
    parse(source, options);
  } catch (e) {
    if (e instanceof CompileError) return e.issues;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(source.slice(0, 40))} to be rejected`);
}

const nested = (open: string, inner: string, close: string, n: number) => open.repeat(n) + inner + close.repeat(n);
const chain = (op: string, n: number) => Array.from({ length: n }, (_, i) => `a${i}`).join(op);

describe("source size", () => {
  it("accepts 100,000 code points and rejects one more, counting code points, not UTF-16 units", () => {
    expect(() => parse(`'${"x".repeat(99_998)}'`)).not.toThrow();
    expect(issues(`'${"x".repeat(99_999)}'`)).toEqual([
      {
        code: "limit_exceeded",
        message: "expression code point size exceeds limit: size: 100001, limit 100000",
        line: -1,
        column: 0,
        offset: -1,
        span: { start: -1, end: -1 },
      },
    ]);
    // 60,000 emoji are 120,000 UTF-16 units but 60,002 code points with the quotes.
    expect(() => parse(`'${"😀".repeat(60_000)}'`)).not.toThrow();
  });

  it("uses maxCodePoints", () => {
    expect(() => parse("abc", { maxCodePoints: 3 })).not.toThrow();
    expect(issues("abcd", { maxCodePoints: 3 })[0]!.message).toBe(
      "expression code point size exceeds limit: size: 4, limit 3",
    );
  });
});

describe("nesting depth", () => {
  it.each([
    ["parentheses", "(", ")"],
    ["lists", "[", "]"],
    ["maps", "{1: ", "}"],
    ["calls", "f(", ")"],
    ["indexes", "a[", "]"],
  ])("accepts 249 nested %s and rejects 250 before parsing", (_name, open, close) => {
    expect(() => parse(nested(open, "1", close, 249))).not.toThrow();
    expect(issues(nested(open, "1", close, 250)).map((i) => i.message)).toEqual([
      "expression recursion limit exceeded: 250",
    ]);
  });

  it("rejects 10,000 nested parentheses and unbalanced openers with a CompileError", () => {
    expect(issues(nested("(", "1", ")", 10_000)).map((i) => i.code)).toEqual(["limit_exceeded"]);
    expect(issues("[".repeat(10_000)).map((i) => i.message)).toEqual(["expression recursion limit exceeded: 250"]);
  });

  it("limits left-deep operator chains like cel-go's max recursion depth", () => {
    expect(() => parse(chain(" + ", 251))).not.toThrow(); // 250 operators
    expect(issues(chain(" + ", 252))).toEqual([
      { code: "limit_exceeded", message: "max recursion depth exceeded", line: -1, column: 0, offset: -1, span: { start: -1, end: -1 } },
    ]);
    expect(issues(chain(" - ", 10_000)).map((i) => i.message)).toEqual(["max recursion depth exceeded"]);
    expect(issues(chain(" < ", 10_000)).map((i) => i.message)).toEqual(["max recursion depth exceeded"]);
    expect(issues(`a${".b".repeat(10_000)}`).map((i) => i.message)).toEqual(["max recursion depth exceeded"]);
    expect(issues(`a${"[0]".repeat(10_000)}`).map((i) => i.message)).toEqual(["max recursion depth exceeded"]);
    expect(issues(`${"a ? b : ".repeat(10_000)}c`).map((i) => i.message)).toEqual(["max recursion depth exceeded"]);
  });

  it("accepts long balanced chains and long prefix runs, which stay shallow", () => {
    expect(parse(chain(" || ", 10_000)).nextId).toBe(20_000);
    expect(parse(chain(" && ", 10_000)).nextId).toBe(20_000);
    expect(parse(`${"!".repeat(10_001)}a`).expr.kind).toBe("call");
    expect(parse(`${"-".repeat(10_000)}a`).expr.kind).toBe("ident");
  });

  it("uses maxDepth for both measures", () => {
    expect(() => parse("((1))", { maxDepth: 3 })).not.toThrow();
    expect(issues("(((1)))", { maxDepth: 3 }).map((i) => i.message)).toEqual(["expression recursion limit exceeded: 3"]);
    expect(() => parse("1 + 2 + 3", { maxDepth: 2 })).not.toThrow();
    expect(issues("1 + 2 + 3 + 4", { maxDepth: 2 }).map((i) => i.message)).toEqual(["max recursion depth exceeded"]);
  });

  it("turns stack exhaustion under a huge maxDepth into a CompileError and keeps working", () => {
    const deep = nested("[", "1", "]", 40_000);
    expect(issues(deep, { maxDepth: 1_000_000 }).map((i) => i.message)).toEqual([
      "expression recursion limit exceeded: 1000000",
    ]);
    expect(issues(nested("(", "1", ")", 40_000), { maxDepth: 1_000_000 })[0]!.code).toBe("limit_exceeded");
    expect(parse("a.b == 'c'").expr.kind).toBe("call");
  });
});

describe("issue limit", () => {
  it("keeps the first 100 issues and counts the rest", () => {
    let error: unknown;
    try {
      parse("@".repeat(150));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CompileError);
    const compileError = error as CompileError;
    expect(compileError.issues).toHaveLength(100);
    expect(compileError.message.endsWith("\n51 more errors were truncated")).toBe(true);
  });

  it("stops parsing once the syntax errors pass maxIssues", () => {
    const manyErrors = Array.from({ length: 5_000 }, () => "1 + ) ").join("");
    expect(issues(manyErrors, { maxIssues: 5 })).toHaveLength(5);
  });
});

describe("issue positions", () => {
  it("reports 1-based lines and code-point columns with UTF-16 offsets", () => {
    const source = "'😀' + x\n  + @";
    expect(issues(source)[0]).toEqual({
      code: "syntax",
      message: "Syntax error: token recognition error at: '@'",
      line: 2,
      column: 5,
      offset: 13,
      span: { start: 13, end: 14 },
    });
    expect(issues("'😀😀' == @")[0]).toMatchObject({ line: 1, column: 9, offset: 10 });
  });

  it("sorts issues by position", () => {
    const found = issues("as + b.?c + @1");
    expect(found.map((i) => [i.column, i.code])).toEqual([
      [1, "reserved_identifier"],
      [7, "unsupported_syntax"],
      [13, "syntax"],
    ]);
  });
});

describe("hostile input", () => {
  it.each([
    ["unbalanced quotes", `"'"'"'`],
    ["a lone backslash", "\\"],
    ["a lone surrogate", "\ud800"],
    ["a surrogate pair reversed", "\udc00\ud800"],
    ["NUL characters", "\u0000\u0000"],
    ["only whitespace", " \t\n\r\f"],
    ["an empty string", ""],
    ["only a comment", "// nothing"],
    ["a byte-order mark", "\ufeffa"],
    ["unclosed everything", "([{'\"`"],
    ["control characters", "\u0001\u0002\u0003"],
    ["right-to-left override", "a\u202e == b"],
  ])("rejects %s with a CompileError", (_name, source) => {
    expect(() => parse(source)).toThrow(CompileError);
  });

  it("rejects bytes that are not text, given as latin-1 characters", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let n = 0; n < 200; n++) {
      const source = Array.from({ length: 1 + (random() % 64) }, () => String.fromCharCode(random() % 256)).join("");
      try {
        parse(source);
      } catch (e) {
        expect(e).toBeInstanceOf(CompileError);
      }
    }
  });

  it("rejects a non-string source and invalid options with a TypeError or RangeError", () => {
    expect(() => parse(42 as unknown as string)).toThrow(TypeError);
    expect(() => parse("a", { maxDepth: 0 })).toThrow(RangeError);
    expect(() => parse("a", { maxIssues: 1.5 })).toThrow(RangeError);
    expect(() => parse("a", { maxCodePoints: -1 })).toThrow(RangeError);
  });
});
