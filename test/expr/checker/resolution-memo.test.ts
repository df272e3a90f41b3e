/**
 * The checker remembers overload resolutions of calls whose argument types hold no type variable.
 * A remembered resolution must be exactly what resolving afresh gives: every checked tree (types
 * and references) and every error is the same with the memo cold for each expression as with it
 * warm from all expressions checked before, in both dialects and with `dyn` variables too.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { check, resetResolutionMemo, type CheckerEnv } from "../../../src/expr/checker/checker.js";
import { toCheckedDebugString } from "../../../src/expr/checker/printer.js";
import { CEL_DIALECT } from "../../../src/expr/dialect.js";
import { INNGEST_DIALECT } from "../../../src/expr/inngest.js";
import { parse } from "../../../src/expr/parser/index.js";
import { TYPE_IDENTIFIERS } from "../../../src/expr/stdlib/index.js";
import { parseType, type Type } from "../../../src/expr/types.js";
import { grammar, VARIABLES } from "../support/generators.js";

const DECLARED: ReadonlyMap<string, Type> = new Map(Object.entries(VARIABLES).map(([name, t]) => [name, parseType(t)]));

function env(dialect: "cel" | "inngest", variables: ReadonlyMap<string, Type> | undefined): CheckerEnv {
  const d = dialect === "cel" ? CEL_DIALECT : INNGEST_DIALECT;
  return {
    truthiness: d.truthiness,
    container: "",
    variables,
    functions: d.functions,
    typeIdentifiers: new Map(Object.entries(TYPE_IDENTIFIERS)),
    maxIssues: 100,
    ...(d.looseOperators !== undefined ? { looseOperators: d.looseOperators } : {}),
  };
}

/** The checked tree printed with types and references, or the errors. */
function checked(text: string, e: CheckerEnv): string {
  const result = check(parse(text), e);
  return result.ok ? toCheckedDebugString(result.ast) : result.issues.map((i) => i.message).join("\n");
}

describe("overload resolution memo", () => {
  const g = grammar({ astral: false });
  const texts = fc.sample(g.anyExpr(4), { numRuns: 400, seed: 20261129 }).map((x) => x.text);
  texts.push(
    "[1, 2] + [3] == [1, 2, 3] && {'a': 1}['a'] == 1",
    "size([]) == 0 && [].exists(x, x == 1) && [[1], []] == [[1]]",
    "x.y + 1 == 2 && x.y + 'a' == 'ab'",
    "1 + 'a'",
    "dyn(1) + dyn('a')",
    "type(1) == int && type([1]) == list",
  );
  const envs: [string, CheckerEnv][] = [
    ["cel, declared", env("cel", DECLARED)],
    ["cel, dyn variables", env("cel", undefined)],
    ["inngest, declared", env("inngest", DECLARED)],
  ];

  it.each(envs)("gives what resolving afresh gives (%s)", (_, e) => {
    const cold = texts.map((text) => {
      resetResolutionMemo();
      return checked(text, e);
    });
    resetResolutionMemo();
    const warm = texts.map((text) => checked(text, e));
    const again = texts.map((text) => checked(text, e));
    expect(warm).toEqual(cold);
    expect(again).toEqual(cold);
    // Most generated expressions are well typed: the comparison is not one of errors only.
    expect(cold.filter((c) => !c.includes("~")).length).toBeLessThan(texts.length / 2);
  });
});
