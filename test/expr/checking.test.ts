/**
 * The checker against the cel-go checker and parser cases shipped in `@bufbuild/cel-spec`: the
 * checked AST printed with type and reference adornments, the result type, and cel-go's exact
 * error text. Cases that need protobuf messages are skipped with a counted reason; cases we
 * differ on are listed in `checking-expected-failures.ts` with a reason.
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
import { CHECKING_EXPECTED_FAILURES } from "./checking-expected-failures.js";
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

function skipReason(c: CheckingCase): string | undefined {
  if (c.ast === undefined) return "parse error case (covered by the parser suite)";
  const text = `${c.checkedAst ?? ""}${c.error ?? ""}${c.type ?? ""}`;
  if (/google\.expr\.proto[23]|TestAllTypes|google\.protobuf\.(Any|Struct|Value|ListValue|\w+Value)\b|wrapper\(/.test(text + c.original.expr)) {
    return "protobuf message types";
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
    if (err instanceof Unsupported) return "protobuf message types";
    throw err;
  }
  return undefined;
}

function runCase(c: CheckingCase, defaults: boolean): void {
  const parsed = parse(c.original.expr);
  const result = check(parsed, envFor(c.original, defaults));
  if (c.error !== undefined) {
    expect(result.ok).toBe(false);
    if (!result.ok) expect(new CompileError(result.issues, parsed.source).message).toBe(c.error);
    return;
  }
  if (!result.ok) throw new CompileError(result.issues, parsed.source);
  if (c.checkedAst !== undefined) expect(toCheckedDebugString(result.ast)).toBe(c.checkedAst);
  if (c.type !== undefined) expect(formatType(result.ast.resultType)).toBe(c.type);
}

const tally: Record<string, { run: number; skipped: number; expectedFailures: number }> = {};

for (const [suite, cases, defaults] of [
  ["checking", (checkingTests as { tests: CheckingCase[] }).tests, true],
  ["parsing", (parsingTests as { tests: CheckingCase[] }).tests, false],
] as const) {
  const t = (tally[suite] = { run: 0, skipped: 0, expectedFailures: 0 });
  describe(`cel-go ${suite} cases through the checker`, () => {
    cases.forEach((c, index) => {
      const id = `${suite}#${index}: ${c.original.expr}`;
      const reason = skipReason(c);
      if (reason !== undefined) {
        t.skipped++;
        it.skip(`${id} (${reason})`, () => {});
        return;
      }
      const expected = CHECKING_EXPECTED_FAILURES[id];
      if (expected !== undefined) {
        t.expectedFailures++;
        it(`${id} [expected failure: ${expected}]`, () => {
          let passed = false;
          try {
            runCase(c, defaults);
            passed = true;
          } catch {
            // expected
          }
          if (passed) throw new Error(`${id} now passes: remove it from checking-expected-failures.ts`);
        });
        return;
      }
      t.run++;
      it(id, () => runCase(c, defaults));
    });
  });
}

afterAll(() => {
  console.log(
    `cel-go checker cases: ${Object.entries(tally)
      .map(([s, c]) => `${s}: run ${c.run}, skipped ${c.skipped}, expected failures ${c.expectedFailures}`)
      .join("; ")}`,
  );
});
