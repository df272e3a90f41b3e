/**
 * The fast path (`fast.ts`) against the Chevrotain grammar: wherever the fast path builds a tree,
 * it is the grammar's tree (same nodes, ids, spans, macro calls); and `parse`, which gives the
 * input to the grammar whenever the fast path gives up, has exactly the grammar's outcome, trees
 * and errors alike.
 */
import { tests as conformance } from "@bufbuild/cel-spec/testdata/conformance.js";
import { tests as parsing } from "@bufbuild/cel-spec/testdata/parsing.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Source, type ParsedAst } from "../../../src/expr/ast.js";
import { CompileError } from "../../../src/expr/errors.js";
import { AstBuilder } from "../../../src/expr/parser/builder.js";
import { FastParser } from "../../../src/expr/parser/fast.js";
import { parse, parseWithGrammar, type ParseOptions } from "../../../src/expr/parser/parse.js";
import { unparse } from "../../../src/expr/unparse.js";
import { astExpr } from "../support/ast-generators.js";
import { grammar } from "../support/generators.js";
import { AST_GOLDEN } from "./golden-ast.js";
import { ERROR_GOLDEN } from "./golden-errors.js";

const fastParser = new FastParser();

/** The fast path's own result for `text`, or undefined where it gives up. */
function fastPath(text: string, options: { maxDepth?: number; liftedStrings?: boolean } = {}): ParsedAst | undefined {
  const b = new AstBuilder();
  const source = new Source(text);
  b.reset(source, { maxDepth: options.maxDepth ?? 250, maxIssues: 100 });
  b.liftedStrings = options.liftedStrings ?? false;
  const expr = fastParser.parse(text, b, options.maxDepth ?? 250);
  if (expr === undefined) return undefined;
  return { expr, source, spans: b.spans(), macroCalls: b.macroCalls ?? new Map(), nextId: b.nextId };
}

/** Everything a parse produces, in a form `toEqual` compares completely. */
function outcome(run: () => ParsedAst): unknown {
  try {
    const ast = run();
    return { expr: ast.expr, spans: [...ast.spans.entries()], macroCalls: [...ast.macroCalls], nextId: ast.nextId };
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    return { error: e.message, issues: e.issues.map((i) => [i.code, i.message, i.offset]) };
  }
}

/** Checks one text both ways; returns whether the fast path built the tree itself. */
function agree(text: string, options: ParseOptions = {}): boolean {
  const reference = outcome(() => parseWithGrammar(text, options));
  expect(outcome(() => parse(text, options)), JSON.stringify(text)).toEqual(reference);
  // `parse` checks the code-point limit before the fast path runs.
  if (options.maxCodePoints !== undefined) return false;
  const fast = fastPath(text, options);
  if (fast === undefined) return false;
  expect(outcome(() => fast), JSON.stringify(text)).toEqual(reference);
  return true;
}

/** Every `expr` string in a cel-spec test data module. */
function expressions(data: unknown, out: string[] = []): string[] {
  if (Array.isArray(data)) for (const item of data) expressions(item, out);
  else if (typeof data === "object" && data !== null) {
    for (const [key, value] of Object.entries(data)) {
      if (key === "expr" && typeof value === "string") out.push(value);
      else expressions(value, out);
    }
  }
  return out;
}

describe("fast path", () => {
  it("builds the tree of typical filters itself, the grammar's tree", () => {
    for (const text of [
      "event.data.userId == 'user_o9235hf84hf'",
      "event.data.plan == 'enterprise' && event.data.region in ['us-east-1', 'eu-west-1', 'ap-south-1']",
      "event.data.tags.exists(t, t.startsWith('vip'))",
      "size(event.data.items) > 3 || event.data.email.endsWith('@acme.com')",
      "event.data.account.org.team.owner == 'owner_42'",
      "(event.data.amount > 1800.0 ? 'high' : 'low') == 'high'",
      "event.data.email.matches('^[a-z0-9._]+@acme\\\\.com$')",
      "!has(event.data.x) && -event.data.n < -5 && !-1 == false && {'a': [1, 2,]}['a'][0] == 1",
      "a ? b : c ? d : e",
      "a.map(x, x * 2).filter(y, y % 3 != 0).all(z, z > 0) || a.exists_one(q, q == null)",
      "int(async.status) == 200 && a + b - c * d / e % f >= g || h <= i",
    ]) {
      expect(agree(text), text).toBe(true);
    }
  });

  it.each([
    ["a.?b", "optional selection"],
    ["a[?0]", "optional index"],
    ["[?a]", "optional element"],
    ["[,]", "lone comma in a list"],
    ["a.`b-c`", "backquoted field"],
    ["Msg{f: 1}", "message construction"],
    [".a", "leading dot"],
    ["!-a", "mixed prefix operators"],
    ["!-!1", "mixed prefix operators before a number"],
    ["-!-1", "mixed prefix operators before a number, a sign last"],
    ["if", "reserved word"],
    ["a.all(1, x)", "malformed macro"],
    ["9223372036854775808", "int out of range"],
    ["1u", "token left to the lexer"],
    ["a +", "syntax error"],
    ["a b", "trailing input"],
    ["a.true", "keyword after a dot"],
  ])("gives up on %j (%s), and parse then has the grammar's outcome", (text) => {
    expect(fastPath(text)).toBeUndefined();
    expect(agree(text)).toBe(false);
    expect(agree(text, { enableOptionalSyntax: true })).toBe(false);
  });

  it("gives up at the bracket nesting limit, where the grammar reports it", () => {
    const text = "((((a))))";
    expect(fastPath(text, { maxDepth: 4 })).toBeUndefined();
    expect(fastPath(text, { maxDepth: 5 })).toBeDefined();
    for (const maxDepth of [2, 3, 4, 5, 6]) agree(text, { maxDepth });
    // The tree-depth limit (builder) too.
    for (const maxDepth of [1, 2, 3]) agree("a.b.c.d + 1", { maxDepth });
  });

  it("decodes strings as the grammar does under both string rules", () => {
    for (const liftedStrings of [false, true]) {
      for (const text of ["'a\\'b' + \"c\\\"d\" + '\\\\' + '\\n\\t'", "x.matches('\\\\d+')", "'\\.'"]) {
        const fast = fastPath(text, { liftedStrings });
        const reference = outcome(() => parseWithGrammar(text, { liftedStrings }));
        if (fast !== undefined) expect(outcome(() => fast), text).toEqual(reference);
        expect(outcome(() => parse(text, { liftedStrings })), text).toEqual(reference);
      }
    }
  });

  it("agrees with the grammar on every golden table and cel-spec input", () => {
    const inputs: [string, ParseOptions][] = [
      ...AST_GOLDEN.map((g): [string, ParseOptions] => [g.input, g.options ?? {}]),
      ...ERROR_GOLDEN.map((g): [string, ParseOptions] => [g.input, g.options ?? {}]),
      ...expressions(parsing).map((e): [string, ParseOptions] => [e, { maxDepth: 32, enableBackquotedNames: false }]),
      ...expressions(conformance).map((e): [string, ParseOptions] => [e, { enableOptionalSyntax: true }]),
    ];
    let built = 0;
    for (const [text, options] of inputs) if (agree(text, options)) built++;
    // Most of these inputs are valid and plain; the comparison must not be vacuous.
    expect(inputs.length).toBeGreaterThan(2000);
    expect(built).toBeGreaterThan(inputs.length / 2);
  });

  it("agrees with the grammar on generated well-typed expressions", () => {
    const g = grammar({ astral: false });
    let built = 0;
    fc.assert(
      fc.property(g.anyExpr(4), (generated) => {
        if (agree(generated.text)) built++;
      }),
      { numRuns: 1500 },
    );
    expect(built).toBeGreaterThan(300);
  });

  const TOKENS = [
    "a", "b", "x", "event", "data", ".", ",", "(", ")", "[", "]", "{", "}", "?", ":", "!", "-", "+", "*", "/", "%",
    "==", "!=", "<", "<=", ">", ">=", "&&", "||", "in", "true", "false", "null", "0", "1", "1.5", "42u", "1e3",
    "'s'", '"t"', "'\\''", "'\\d'", "has", "all", "exists", "exists_one", "map", "filter", "size", "if", "`f`",
    "9223372036854775808",
  ];
  /** Token soup: mostly invalid, often valid, with every way the fast path may give up. */
  const soup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 20 }).map((parts) => parts.join(" "));

  it("agrees with the grammar on the printout of generated syntax trees (every node kind)", () => {
    let built = 0;
    fc.assert(
      fc.property(astExpr, fc.boolean(), (tree, optional) => {
        if (agree(unparse(tree), { enableOptionalSyntax: optional })) built++;
      }),
      { numRuns: 2000 },
    );
    expect(built).toBeGreaterThan(200);
  });

  it("agrees with the grammar on prefix operators before any operand", () => {
    const prefixed = fc.tuple(
      fc.array(fc.constantFrom("!", "-", " "), { maxLength: 5 }),
      fc.constantFrom("1", "1.5", "0", "9223372036854775808", "42u", "a", "a.b", "(1)", "'s'", "true", "[1]"),
      fc.constantFrom("", ".size()", "[0]", " + 1", " == -1"),
    );
    let built = 0;
    fc.assert(
      fc.property(prefixed, ([ops, operand, rest]) => {
        if (agree(ops.join("") + operand + rest)) built++;
      }),
      { numRuns: 2000 },
    );
    expect(built).toBeGreaterThan(300);
  });

  it("agrees with the grammar on token soup, with small limits too", () => {
    let built = 0;
    fc.assert(
      fc.property(soup, fc.constantFrom<ParseOptions>({}, { maxDepth: 3, maxIssues: 2 }, { enableOptionalSyntax: true }), (text, options) => {
        if (agree(text, options)) built++;
      }),
      { numRuns: 4000 },
    );
    expect(built).toBeGreaterThan(100);
  });
});
