/**
 * The checker against the cel-go checker and parser cases shipped in `@bufbuild/cel-spec`: the
 * checked AST printed with type and reference adornments, the result type, and cel-go's exact
 * error text. Cases without an AST are cel-go's parse errors: they run through the parser (with
 * the options of the cel-go suite they come from). Cases that need protobuf messages are skipped,
 * counted per reason (the count is pinned); cases we differ on are listed in
 * `checking-expected-failures.ts` with the reason and the failure they must show.
 */
import { tests as checkingTests } from "@bufbuild/cel-spec/testdata/checking.js";
import { tests as parsingTests } from "@bufbuild/cel-spec/testdata/parsing.js";
import { afterAll, describe, expect, it } from "vitest";
import { check, type CheckerEnv } from "../../src/expr/checker/checker.js";
import { toCheckedDebugString } from "../../src/expr/checker/printer.js";
import { fn, functionTable, member, overload, type FunctionDecl } from "../../src/expr/decls.js";
import { CompileError } from "../../src/expr/errors.js";
import { parse } from "../../src/expr/parser/index.js";
import { STANDARD_FUNCTIONS, TYPE_IDENTIFIERS } from "../../src/expr/stdlib/index.js";
import { formatType, T, type Type } from "../../src/expr/types.js";
import { CHECKING_EXPECTED_FAILURES, CHECKING_PARSE_ERROR_FAILURES } from "./checking-expected-failures.js";
import { CEL_GO_PARSER_TEST_OPTIONS, expectCelGoParseError, parseError } from "./parser/cel-go-errors.js";
import { fromType, Unsupported } from "./support/cel-values.js";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface Decl {
  name: string;
  ident?: { type: Record<string, Json> };
  function?: {
    overloads: {
      overloadId: string;
      params?: Record<string, Json>[];
      resultType?: Record<string, Json>;
      isInstanceFunction?: boolean;
    }[];
  };
}
interface CheckingCase {
  original: { expr: string; container?: string; typeEnv?: Decl[] };
  ast?: string;
  checkedAst?: string;
  type?: string;
  error?: string;
}

/** cel-go's checker test environment "default". */
const DEFAULT_VARIABLES = new Map<string, Type>([
  ["is", T.string],
  ["ii", T.int],
  ["iu", T.uint],
  ["iz", T.bool],
  ["ib", T.bytes],
  ["id", T.double],
  ["ix", T.null],
]);
const DEFAULT_FUNCTIONS: FunctionDecl[] = [
  fn("fg_s", overload("fg_s_0", [], T.string)),
  fn("fi_s_s", member("fi_s_s_0", [T.string], T.string)),
];

function envFor(c: CheckingCase["original"], defaults: boolean): CheckerEnv {
  const variables = new Map<string, Type>(defaults && c.typeEnv === undefined ? DEFAULT_VARIABLES : []);
  const extra: FunctionDecl[] = defaults && c.typeEnv === undefined ? [...DEFAULT_FUNCTIONS] : [];
  for (const d of c.typeEnv ?? []) {
    if (d.ident !== undefined) variables.set(d.name, fromType(d.ident.type));
    if (d.function !== undefined) {
      extra.push(
        fn(
          d.name,
          ...d.function.overloads.map((o) => {
            const params = (o.params ?? []).map(fromType);
            const result = o.resultType === undefined ? T.dyn : fromType(o.resultType);
            return o.isInstanceFunction ? member(o.overloadId, params, result) : overload(o.overloadId, params, result);
          }),
        ),
      );
    }
  }
  return {
    container: c.container ?? "",
    variables,
    functions: functionTable(STANDARD_FUNCTIONS, extra),
    typeIdentifiers: new Map<string, Type>(Object.entries(TYPE_IDENTIFIERS)),
    maxIssues: 100,
  };
}

/** Why a case cannot run here; every skip names one of these. */
const SKIP_REASONS = {
  protobuf: "protobuf message types (TestAllTypes, wrappers, Any, Struct): not modelled by this engine",
} as const;

/** Skips per reason: a change that adds or removes a skip must change this too. */
const EXPECTED_SKIPS: Readonly<Record<string, number>> = { [SKIP_REASONS.protobuf]: 44 };

function skipReason(c: CheckingCase): string | undefined {
  const text = `${c.checkedAst ?? ""}${c.error ?? ""}${c.type ?? ""}`;
  if (/google\.expr\.proto[23]|TestAllTypes|google\.protobuf\.(Any|Struct|Value|ListValue|\w+Value)\b|wrapper\(/.test(text + c.original.expr)) {
    return SKIP_REASONS.protobuf;
  }
  try {
    for (const d of c.original.typeEnv ?? []) {
      if (d.ident !== undefined) fromType(d.ident.type);
      for (const o of d.function?.overloads ?? []) {
        for (const p of o.params ?? []) fromType(p);
        if (o.resultType !== undefined) fromType(o.resultType);
      }
    }
  } catch (err) {
    if (err instanceof Unsupported && /^(protobuf message|message type) /.test(err.message)) return SKIP_REASONS.protobuf;
    throw err;
  }
  return undefined;
}

/** How a case came out differently from cel-go: thrown by {@link runCase}, matched by the expected-failures list. */
class Mismatch extends Error {}

/** The lines only `expected` has (`- `), then those only `actual` has (`+ `), as multisets, each in its text's order. */
function lineDiff(expected: string, actual: string): string {
  const only = (a: string, b: string, mark: string): string[] => {
    const count = new Map<string, number>();
    for (const line of b.split("\n")) count.set(line, (count.get(line) ?? 0) + 1);
    return a.split("\n").flatMap((line) => {
      const n = count.get(line) ?? 0;
      if (n === 0) return [`${mark}${line}`];
      count.set(line, n - 1);
      return [];
    });
  };
  return [...only(expected, actual, "- "), ...only(actual, expected, "+ ")].join("\n");
}

function runCase(c: CheckingCase, defaults: boolean): void {
  const parsed = parse(c.original.expr);
  const result = check(parsed, envFor(c.original, defaults));
  if (c.error !== undefined) {
    if (result.ok) throw new Mismatch(`accepted; cel-go reports:\n${c.error}`);
    const text = new CompileError(result.issues, parsed.source).message;
    if (text !== c.error) throw new Mismatch(`error text differs:\n${lineDiff(c.error, text)}`);
    return;
  }
  if (!result.ok) throw new CompileError(result.issues, parsed.source);
  if (c.checkedAst !== undefined) {
    const printed = toCheckedDebugString(result.ast);
    if (printed !== c.checkedAst) throw new Mismatch(`checked AST differs:\n${lineDiff(c.checkedAst, printed)}`);
  }
  if (c.type !== undefined) expect(formatType(result.ast.resultType)).toBe(c.type);
}

/**
 * A case without an AST is one of cel-go's parse errors: run through the parser with the options
 * of the suite it comes from (cel-go's parser tests set limits; its checker tests parse with the
 * defaults, optional syntax off).
 */
function runParseErrorCase(c: CheckingCase, suite: "checking" | "parsing", id: string): void {
  expect(c.error, "a case without an AST carries cel-go's error").toBeDefined();
  const options = suite === "parsing" ? CEL_GO_PARSER_TEST_OPTIONS : {};
  const listed = CHECKING_PARSE_ERROR_FAILURES[id];
  if (listed === undefined) {
    expectCelGoParseError(c.original.expr, c.error!, options);
    return;
  }
  const want = c.error!.replaceAll("ERROR: :", "ERROR: <input>:");
  const text = parseError(c.original.expr, options).message;
  if (text === want) throw new Error(`${id} now passes: remove it from checking-expected-failures.ts`);
  expect(`error text differs:\n${lineDiff(want, text)}`).toMatch(listed.failure);
}

const tally: Record<string, { run: number; parseErrors: number; skipped: number; expectedFailures: number }> = {};
const skips: Record<string, number> = {};

for (const [suite, cases, defaults] of [
  ["checking", (checkingTests as { tests: CheckingCase[] }).tests, true],
  ["parsing", (parsingTests as { tests: CheckingCase[] }).tests, false],
] as const) {
  const t = (tally[suite] = { run: 0, parseErrors: 0, skipped: 0, expectedFailures: 0 });
  describe(`cel-go ${suite} cases through the checker`, () => {
    cases.forEach((c, index) => {
      const id = `${suite}#${index}: ${c.original.expr}`;
      if (c.ast === undefined) {
        t.parseErrors++;
        const listed = CHECKING_PARSE_ERROR_FAILURES[id];
        if (listed !== undefined) t.expectedFailures++;
        const label = listed === undefined ? "" : ` [expected failure: ${listed.reason}]`;
        it(`${id} (parse error, through the parser)${label}`, () => runParseErrorCase(c, suite, id));
        return;
      }
      const reason = skipReason(c);
      if (reason !== undefined) {
        t.skipped++;
        skips[reason] = (skips[reason] ?? 0) + 1;
        it.skip(`${id} (${reason})`, () => {});
        return;
      }
      const expected = CHECKING_EXPECTED_FAILURES[id];
      if (expected !== undefined) {
        t.expectedFailures++;
        it(`${id} [expected failure: ${expected.reason}]`, () => {
          let failure: unknown;
          try {
            runCase(c, defaults);
          } catch (error) {
            failure = error;
          }
          if (failure === undefined) throw new Error(`${id} now passes: remove it from checking-expected-failures.ts`);
          // It must fail for the listed reason, not for another one.
          expect(failure).toBeInstanceOf(Error);
          expect((failure as Error).message).toMatch(expected.failure);
        });
        return;
      }
      t.run++;
      it(id, () => runCase(c, defaults));
    });
  });
}

describe("skips", () => {
  it("skip exactly the pinned number of cases per reason", () => {
    expect(skips).toEqual(EXPECTED_SKIPS);
  });

  it("list only expected failures that exist and are not skipped", () => {
    const ids = new Set<string>();
    for (const [suite, cases] of [
      ["checking", (checkingTests as { tests: CheckingCase[] }).tests],
      ["parsing", (parsingTests as { tests: CheckingCase[] }).tests],
    ] as const) {
      cases.forEach((c, index) => {
        if (c.ast !== undefined && skipReason(c) === undefined) ids.add(`${suite}#${index}: ${c.original.expr}`);
      });
    }
    for (const id of Object.keys(CHECKING_EXPECTED_FAILURES)) expect(ids, id).toContain(id);
    const parseErrors = new Set(
      (checkingTests as { tests: CheckingCase[] }).tests.flatMap((c, index) => (c.ast === undefined ? [`checking#${index}: ${c.original.expr}`] : [])),
    );
    for (const id of Object.keys(CHECKING_PARSE_ERROR_FAILURES)) expect(parseErrors, id).toContain(id);
  });
});

afterAll(() => {
  console.log(
    `cel-go checker cases: ${Object.entries(tally)
      .map(([s, c]) => `${s}: run ${c.run}, parse errors ${c.parseErrors}, skipped ${c.skipped}, expected failures ${c.expectedFailures}`)
      .join("; ")}`,
  );
});
