/**
 * Constant folding evaluates exactly the closed subtrees: those reading no variable from outside
 * themselves (comprehension variables count as outside everywhere their comprehension does not
 * bind them) and calling no impure function.
 */
import { describe, expect, it } from "vitest";
import type { Expr } from "../../../src/expr/ast.js";
import { check } from "../../../src/expr/checker/checker.js";
import { foldConstants } from "../../../src/expr/compiler/fold.js";
import { CEL_DIALECT } from "../../../src/expr/dialect.js";
import { INNGEST_DIALECT } from "../../../src/expr/inngest.js";
import { parse } from "../../../src/expr/parser/index.js";
import { TYPE_IDENTIFIERS } from "../../../src/expr/stdlib/index.js";

/** The closed non-literal subtrees of `source`, bottom-up, as kind (and function) names. */
function closedSubtrees(source: string, dialect: "cel" | "inngest" = "cel"): string[] {
  const d = dialect === "cel" ? CEL_DIALECT : INNGEST_DIALECT;
  const result = check(parse(source), {
    truthiness: d.truthiness,
    container: "",
    variables: undefined,
    functions: d.functions,
    typeIdentifiers: new Map(Object.entries(TYPE_IDENTIFIERS)),
    maxIssues: 10,
    permissive: true,
  });
  if (!result.ok) throw new Error(result.issues.map((i) => i.message).join("\n"));
  const seen: string[] = [];
  foldConstants(
    result.ast.expr,
    result.ast.refs,
    (e: Expr) => {
      seen.push(e.kind === "call" ? e.fn : e.kind);
      return undefined;
    },
    new Map(),
  );
  return seen;
}

describe("constant folding", () => {
  it.each<[string, string[]]>([
    ["event.data.x == 'a'", []],
    ["1 + 2 == x", ["_+_"]],
    ["x in ['a', 'b']", ["list"]],
    ["[1, 2].exists(v, v > 1)", ["list", "comprehension"]],
    ["a.exists(v, v > 1)", []],
    ["[1].exists(v, v > a)", ["list"]],
    ["[1].exists(v, [2].exists(w, w == 2))", ["list", "list", "comprehension", "comprehension"]],
    ["[1].exists(v, [2].exists(w, v == w))", ["list", "list", "comprehension"]],
    ["[1].exists(v, [2].exists(w, v == a))", ["list", "list"]],
    ["[1].exists(v, v > 0) && v", ["list", "comprehension"]],
    ["[1].map(v, [v].all(w, w == v))", ["list", "list", "comprehension"]],
    ["type(1) == int", ["type", "_==_"]],
    ["[[1].exists(v, v == 1), v]", ["list", "comprehension"]],
  ])("%s", (source, closed) => {
    expect(closedSubtrees(source)).toEqual(closed);
  });

  it("never folds an impure call or what contains it", () => {
    expect(closedSubtrees("now() > 0 && [1].size() == 1", "inngest")).toEqual(["list", "size", "_==_"]);
  });

  it("folds comprehensions nested up to 30 deep, deeper ones only as part of an enclosing one", () => {
    let deep = "true";
    for (let k = 0; k < 40; k++) deep = `[${k}].all(v${k}, ${deep} && v${k} == ${k})`;
    const closed = closedSubtrees(deep);
    expect(closed.filter((k) => k === "comprehension")).toHaveLength(30);
    expect(closed.at(-1)).toBe("comprehension");
  });
});
