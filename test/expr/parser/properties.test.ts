/**
 * Properties of the front end, checked with fast-check:
 * - any string parses or throws a CompileError, nothing else;
 * - a parse has unique ids from 1, a span inside the source for every id, macro calls keyed by
 *   their expansion;
 * - printing a tree with `unparse` and parsing it back gives the same tree (ids aside), for trees
 *   generated directly as well as for parsed ones.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Expr, MapEntry, ParsedAst, StructField } from "../../../src/expr/ast.js";
import { kindAdorner, macroCallsToDebugString, toDebugString } from "../../../src/expr/debug.js";
import { CompileError } from "../../../src/expr/errors.js";
import { parse, type ParseOptions } from "../../../src/expr/parser/index.js";
import { unparse } from "../../../src/expr/unparse.js";
import { astExpr as expr } from "../support/ast-generators.js";
import { grammar } from "../support/generators.js";

const OPTIONS: ParseOptions = { enableOptionalSyntax: true };

/** Parses, or returns undefined for a CompileError; any other exception fails the property. */
function tryParse(source: string, options: ParseOptions = OPTIONS): ParsedAst | undefined {
  try {
    return parse(source, options);
  } catch (e) {
    if (e instanceof CompileError) return undefined;
    throw e;
  }
}

/** The tree printed with node kinds but without ids: equal trees print equally. */
function shape(ast: ParsedAst | Expr): string {
  return toDebugString(ast, kindAdorner);
}

/** Macro calls in expansion order, without the ids that key them. */
function macroShapes(ast: ParsedAst): string[] {
  return macroCallsToDebugString(ast, kindAdorner)
    .split(/\n(?=\d+: )/)
    .filter((s) => s !== "")
    .map((s) => s.replace(/^\d+: /, "").replace(/\^#\d+:macro#/g, "^#macro#"));
}

const TOKENS = [
  "a", "b", "x", "event", "data", ".", ",", "(", ")", "[", "]", "{", "}", "?", ":", "!", "-", "+", "*", "/", "%",
  "==", "!=", "<", "<=", ">", ">=", "&&", "||", "in", "true", "false", "null", "0", "1", "42u", "1.5", "1e3",
  "'s'", '"t"', "b'u'", "r'\\d'", "'''m'''", "has", "all", "exists", "exists_one", "map", "filter", "size",
  "`f-g`", "as", "if", "|", "&", "=", "@", "$", "'", '"', "\\", "\n", " ",
];

/** Strings made of CEL tokens and stray characters: almost all are invalid. */
const tokenSoup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 24 }).map((parts) => parts.join(" "));
/** Well-typed expressions of the generator's grammar: every operator, macros, literals of every kind. */
const validSource = grammar().anyExpr(4).map((e) => e.text);
/** A valid expression with a slice cut out or a token spliced in: near misses, some still valid. */
const nearMiss = fc.tuple(validSource, fc.nat(), fc.nat(), fc.constantFrom(...TOKENS)).map(([text, at, length, token]) => {
  const start = at % (text.length + 1);
  const end = Math.min(text.length, start + (length % 6));
  return text.slice(0, start) + (length % 2 === 0 ? token : "") + text.slice(end);
});
/**
 * Sources for the properties over parsed trees: mostly valid expressions, so that the assertions
 * run on real trees (token soup alone parses about one time in twenty, and then mostly as a
 * single token), with near misses and token soup for the odd corners.
 */
const parseable = fc.oneof(
  { weight: 6, arbitrary: validSource },
  { weight: 2, arbitrary: nearMiss },
  { weight: 2, arbitrary: tokenSoup },
);

/** Counts the sources a property actually checked, to require that it was not vacuous. */
class Coverage {
  parsed = 0;
  /** Parsed into a tree of at least {@link Coverage.LARGE} nodes. */
  large = 0;
  static readonly LARGE = 5;
  record(ast: ParsedAst): void {
    this.parsed++;
    if (ast.nextId - 1 >= Coverage.LARGE) this.large++;
  }
  /** At least `parsedShare` of `runs` parsed, and at least `largeShare` of them into larger trees. */
  expectShare(runs: number, parsedShare: number, largeShare: number): void {
    expect(this.parsed, "sources that parsed").toBeGreaterThanOrEqual(runs * parsedShare);
    expect(this.large, `sources that parsed into ${Coverage.LARGE}+ nodes`).toBeGreaterThanOrEqual(runs * largeShare);
  }
}

const utf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 });

describe("any input", () => {
  it("parses or throws a CompileError (arbitrary code points)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 60 }), (source) => {
        tryParse(source);
      }),
      { numRuns: 500 },
    );
  });

  it("parses or throws a CompileError (UTF-16 units, lone surrogates included)", () => {
    fc.assert(
      fc.property(utf16, (source) => {
        tryParse(source);
      }),
      { numRuns: 500 },
    );
  });

  it("parses or throws a CompileError (token soup), with small limits too", () => {
    fc.assert(
      fc.property(tokenSoup, fc.boolean(), (source, small) => {
        tryParse(source, small ? { maxDepth: 3, maxIssues: 2, maxCodePoints: 30 } : OPTIONS);
      }),
      { numRuns: 1000 },
    );
  });
});

/** Every id in the tree, its map entries and message fields, and in the recorded macro calls. */
function collectIds(e: Expr, out: number[]): number[] {
  out.push(e.id);
  const visitEntry = (entry: MapEntry | StructField) => out.push(entry.id);
  switch (e.kind) {
    case "select":
      collectIds(e.operand, out);
      break;
    case "call":
      if (e.target !== undefined) collectIds(e.target, out);
      for (const arg of e.args) collectIds(arg, out);
      break;
    case "list":
      for (const element of e.elements) collectIds(element, out);
      break;
    case "map":
      for (const entry of e.entries) {
        visitEntry(entry);
        collectIds(entry.key, out);
        collectIds(entry.value, out);
      }
      break;
    case "struct":
      for (const field of e.fields) {
        visitEntry(field);
        collectIds(field.value, out);
      }
      break;
    case "comprehension":
      for (const part of [e.iterRange, e.accuInit, e.loopCondition, e.loopStep, e.result]) collectIds(part, out);
      break;
    default:
      break;
  }
  return out;
}

describe("ids and spans", () => {
  it("gives every node a unique id from 1 and a span inside the source", () => {
    const coverage = new Coverage();
    fc.assert(
      fc.property(parseable, (source) => {
        const ast = tryParse(source);
        if (ast === undefined) return;
        coverage.record(ast);
        const ids = collectIds(ast.expr, []);
        expect(new Set(ids).size).toBe(ids.length);
        for (const id of ids) {
          expect(id).toBeGreaterThanOrEqual(1);
          expect(id).toBeLessThan(ast.nextId);
          const span = ast.spans.get(id)!;
          expect(span).toBeDefined();
          expect(span.start).toBeGreaterThanOrEqual(0);
          expect(span.start).toBeLessThanOrEqual(span.end);
          expect(span.end).toBeLessThanOrEqual(source.length);
        }
        expect(ast.spans.size).toBe(ast.nextId - 1);
        for (const [id, call] of ast.macroCalls) {
          expect(ids).toContain(id);
          for (const argId of collectIds(call, [])) expect(ast.spans.has(argId)).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
    coverage.expectShare(1000, 0.5, 0.25);
  });

  it("records spans of ids as the tokens they come from", () => {
    const ast = parse("event.data.amount > 1000 && x.exists(t, t == 'a')");
    const text = (id: number) => ast.source.text.slice(ast.spans.get(id)!.start, ast.spans.get(id)!.end);
    const ids = collectIds(ast.expr, []);
    const texts = ids.map(text);
    // Selections are located at their dot, calls at their parenthesis, operators at the operator.
    expect(texts).toEqual(expect.arrayContaining(["event", ".", ">", "1000", "&&", "x", "(", "t", "==", "'a'"]));
  });
});

describe("unparse", () => {
  it("parses the printout of a generated tree back to the same tree", () => {
    fc.assert(
      fc.property(expr, (tree) => {
        const text = unparse(tree);
        const back = parse(text, OPTIONS);
        expect(shape(back), text).toBe(shape(tree));
        expect(unparse(back)).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });

  it("parses the printout of a parsed expression back to the same tree and macro calls", () => {
    const coverage = new Coverage();
    let withMacros = 0;
    fc.assert(
      fc.property(parseable, (source) => {
        const ast = tryParse(source);
        if (ast === undefined) return;
        coverage.record(ast);
        if (ast.macroCalls.size > 0) withMacros++;
        const text = unparse(ast);
        const back = parse(text, OPTIONS);
        expect(shape(back), text).toBe(shape(ast));
        expect(macroShapes(back)).toEqual(macroShapes(ast));
      }),
      { numRuns: 1000 },
    );
    coverage.expectShare(1000, 0.5, 0.25);
    expect(withMacros, "parsed sources with macro calls").toBeGreaterThanOrEqual(50);
  });

  it.each([
    ["a || b || c || d", "a || b || c || d"],
    ["(a || b) || c || d", "(a || b || c) || d"],
    ["-(1.5.f())", "-(1.5.f())"],
    ["a || (b || c)", "a || (b || c)"],
    ["(a ? b : c) ? d : e", "(a ? b : c) ? d : e"],
    ["a - (b - c)", "a - (b - c)"],
    ["a - -1", "a - -1"],
    ["-(1)", "-(1)"],
    ["-(-1)", "-(-1)"],
    ["!(!a)", "!(!a)"],
    ["(-1).abs()", "(-1).abs()"],
    ["{'k': [1, 2.0, 3u]}", '{"k": [1, 2.0, 3u]}'],
    ["has(a.b) && a.all(x, x in [b'\\x00', 'é\\n'])", 'has(a.b) && a.all(x, x in [b"\\x00", "é\\n"])'],
    ["a.`b-c`.?d[?0]", "a.`b-c`.?d[?0]"],
    [".pkg.Msg{f: 1, ?`g-h`: 2}", ".pkg.Msg{f: 1, ?`g-h`: 2}"],
    ["1e100 + .5 + 2.0", "1e+100 + 0.5 + 2.0"],
  ])("prints %s as %s", (source, printed) => {
    expect(unparse(parse(source, OPTIONS))).toBe(printed);
  });

  it("refuses trees no CEL text produces", () => {
    const { expr: comprehension } = parse("x.exists(y, y)");
    expect(() => unparse(comprehension)).toThrow(/no recorded macro call/);
    expect(() => unparse({ kind: "ident", id: 1, name: "@result" })).toThrow(/cannot be written/);
    expect(() => unparse({ kind: "select", id: 1, operand: { kind: "ident", id: 2, name: "a" }, field: "a'b", testOnly: false })).toThrow(
      /cannot be written/,
    );
  });
});
