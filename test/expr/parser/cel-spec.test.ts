/**
 * The parser against `@bufbuild/cel-spec`: cel-go's own parser cases (`testdata/parsing`) and
 * every `ast` string of the conformance suite, printed in cel-go's debug format with the kind
 * adornment. Cases we do not reproduce are listed, with a reason, in `expected-failures.ts`.
 */
import { tests as conformance } from "@bufbuild/cel-spec/testdata/conformance.js";
import { tests as parsing } from "@bufbuild/cel-spec/testdata/parsing.js";
import type { SerializedIncrementalTest, SerializedIncrementalTestSuite } from "@bufbuild/cel-spec/testdata/tests.js";
import { describe, expect, it } from "vitest";
import { kindAdorner, toDebugString } from "../../../src/expr/debug.js";
import { CompileError } from "../../../src/expr/errors.js";
import { parse, type ParseOptions } from "../../../src/expr/parser/index.js";
import { CEL_GO_PARSER_TEST_OPTIONS, expectCelGoParseError } from "./cel-go-errors.js";
import {
  caseKey,
  CONFORMANCE_AST_FAILURES,
  CONFORMANCE_PARSE_FAILURES,
  PARSING_AST_FAILURES,
  PARSING_ERROR_TEXT_FAILURES,
} from "./expected-failures.js";

describe("cel-go parser cases (cel-spec testdata/parsing)", () => {
  const cases = parsing.tests ?? [];
  const withAst = cases.filter((t) => t.ast !== undefined);
  const rejected = cases.filter((t) => t.ast === undefined);

  it("has the 194 cases, 108 of them with an ast", () => {
    expect(cases).toHaveLength(194);
    expect(withAst).toHaveLength(108);
  });

  it("lists only cases that exist", () => {
    const keys = new Set(cases.map((t) => caseKey(t.original.expr)));
    for (const key of [...Object.keys(PARSING_AST_FAILURES), ...Object.keys(PARSING_ERROR_TEXT_FAILURES)]) {
      expect(keys, key).toContain(key);
    }
  });

  it.each(withAst.map((t) => [t.original.expr, t] as const))("ast of %j", (expr, t) => {
    const printed = toDebugString(parse(expr, CEL_GO_PARSER_TEST_OPTIONS), kindAdorner);
    if (caseKey(expr) in PARSING_AST_FAILURES) expect(printed).not.toBe(t.ast);
    else expect(printed).toBe(t.ast);
  });

  it.each(rejected.map((t) => [t.original.expr, t] as const))("rejects %j", (expr, t) => {
    expectCelGoParseError(expr, t.error ?? "", CEL_GO_PARSER_TEST_OPTIONS);
  });
});

interface ConformanceCase {
  readonly name: string;
  readonly test: SerializedIncrementalTest;
}

function flatten(suite: SerializedIncrementalTestSuite, path: string, out: ConformanceCase[]): ConformanceCase[] {
  for (const test of suite.tests ?? []) out.push({ name: `${path}/${test.original.name ?? test.original.expr}`, test });
  for (const child of suite.suites ?? []) flatten(child, path === "" ? child.name : `${path}/${child.name}`, out);
  return out;
}

describe("conformance suite (cel-spec testdata/conformance)", () => {
  const all = flatten(conformance, "", []);
  // Conformance expressions may use cel-go's optional syntax; the checker decides what is allowed.
  const options: ParseOptions = { enableOptionalSyntax: true };
  const files = [...new Set(all.map((c) => c.name.split("/")[0]!))];

  it("lists only cases that exist", () => {
    const names = new Set(all.map((c) => c.name));
    for (const key of [...Object.keys(CONFORMANCE_PARSE_FAILURES), ...Object.keys(CONFORMANCE_AST_FAILURES)]) {
      expect(names, key).toContain(key);
    }
  });

  it.each(files)("%s: every ast string matches and every expression parses", (file) => {
    const cases = all.filter((c) => c.name.startsWith(`${file}/`));
    const astMismatches: string[] = [];
    const parseFailures: string[] = [];
    for (const { name, test } of cases) {
      let printed: string;
      try {
        printed = toDebugString(parse(test.original.expr, options), kindAdorner);
      } catch (e) {
        if (!(e instanceof CompileError)) throw e;
        parseFailures.push(name);
        continue;
      }
      if (test.ast !== undefined && printed !== test.ast) astMismatches.push(name);
    }
    const listed = (failures: Readonly<Record<string, string>>) =>
      Object.keys(failures).filter((name) => name.startsWith(`${file}/`));
    expect(parseFailures).toEqual(listed(CONFORMANCE_PARSE_FAILURES));
    expect(astMismatches).toEqual(listed(CONFORMANCE_AST_FAILURES));
  });

  it("checks thousands of ast strings", () => {
    expect(all.filter((c) => c.test.ast !== undefined).length).toBeGreaterThan(2000);
  });
});
