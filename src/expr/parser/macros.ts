/**
 * Parse-time macro expansion: `has`, `all`, `exists`, `exists_one` (and cel-go's `existsOne`),
 * `map` and `filter` become comprehension (or presence-test) nodes exactly as cel-go expands them,
 * with `@result` as the accumulator and `@not_strictly_false` guarding the quantifier loops.
 *
 * @module
 */
import type { CallExpr, Expr } from "../ast.js";
import { RECOVERED, type AstBuilder } from "./builder.js";
import { expandExtensionMacro } from "./ext-macros.js";
import { ACCUMULATOR, LEGACY_ACCUMULATOR, type MacroSite } from "./macro-site.js";

export { ACCUMULATOR, type MacroSite } from "./macro-site.js";

/**
 * Expands `fn(args)` or `target.fn(args)` when it is a macro call, returning the expansion (whose
 * id is the call's id) and recording the original call in `builder.macroCalls`. Returns
 * undefined when the call is not a macro. A malformed macro call is reported and replaced by an
 * error placeholder, as cel-go does.
 */
export function expandMacro(
  b: AstBuilder,
  site: MacroSite,
  fn: string,
  target: Expr | undefined,
  args: readonly Expr[],
): Expr | undefined {
  let expansion: Expr | string;
  let culprit: Expr | undefined = args[0];
  const ext = expandExtensionMacro(b, site, fn, target, args);
  if (ext !== undefined) {
    if ("error" in ext) {
      expansion = ext.error;
      culprit = ext.at;
    } else {
      expansion = ext;
    }
  } else if (target === undefined) {
    if (fn !== "has" || args.length !== 1) return undefined;
    expansion = expandHas(b, site, args[0]!);
  } else {
    switch (fn) {
      case "all":
      case "exists":
      case "exists_one":
      case "existsOne":
        if (args.length !== 2) return undefined;
        expansion = expandQuantifier(b, site, fn, target, args[0]!, args[1]!);
        break;
      case "map":
        if (args.length !== 2 && args.length !== 3) return undefined;
        expansion = expandMap(b, site, target, args);
        break;
      case "filter":
        if (args.length !== 2) return undefined;
        expansion = expandFilter(b, site, target, args[0]!, args[1]!);
        break;
      default:
        return undefined;
    }
  }
  if (typeof expansion === "string") {
    // The macro matched but its arguments are unusable. A placeholder from an earlier syntax
    // error already has its issue, so it does not produce a second one.
    if (culprit === undefined) b.report("invalid_macro", expansion, site.start, site.end);
    else if (culprit !== RECOVERED) b.report("invalid_macro", expansion, b.spanStart(culprit.id), b.spanEnd(culprit.id));
    return b.errorNode(site.start, site.end);
  }
  const call: CallExpr =
    target === undefined
      ? { kind: "call", id: site.id, fn, args }
      : { kind: "call", id: site.id, fn, target, args };
  (b.macroCalls ??= new Map()).set(site.id, call);
  return expansion;
}

function expandHas(b: AstBuilder, site: MacroSite, arg: Expr): Expr | string {
  if (arg.kind !== "select") return "invalid argument to has() macro";
  return b.select(site.id, arg.operand, arg.field, true);
}

/** The iteration variable name, or the message cel-go reports for an unusable one. */
function iterationVariable(arg: Expr, notIdentMessage: string): string | { readonly error: string } {
  if (arg.kind !== "ident") return { error: notIdentMessage };
  if (arg.name === ACCUMULATOR || arg.name === LEGACY_ACCUMULATOR) {
    return { error: "iteration variable overwrites accumulator variable" };
  }
  return arg.name;
}

function accu(b: AstBuilder, site: MacroSite): Expr {
  return b.ident(ACCUMULATOR, site.start, site.end);
}

function expandQuantifier(
  b: AstBuilder,
  site: MacroSite,
  fn: string,
  target: Expr,
  variable: Expr,
  predicate: Expr,
): Expr | string {
  const iterVar = iterationVariable(variable, "argument must be a simple name");
  if (typeof iterVar !== "string") return iterVar.error;
  const { start, end } = site;
  let init: Expr;
  let condition: Expr;
  let step: Expr;
  let result: Expr;
  if (fn === "all") {
    init = b.constant({ kind: "bool", value: true }, start, end);
    condition = b.call1(b.newId(start, end), "@not_strictly_false", accu(b, site));
    const stepAccu = accu(b, site);
    step = b.call2(b.newId(start, end), "_&&_", stepAccu, predicate);
    result = accu(b, site);
  } else if (fn === "exists") {
    init = b.constant({ kind: "bool", value: false }, start, end);
    const notAccu = b.call1(b.newId(start, end), "!_", accu(b, site));
    condition = b.call1(b.newId(start, end), "@not_strictly_false", notAccu);
    const stepAccu = accu(b, site);
    step = b.call2(b.newId(start, end), "_||_", stepAccu, predicate);
    result = accu(b, site);
  } else {
    init = b.constant({ kind: "int", value: 0n }, start, end);
    condition = b.constant({ kind: "bool", value: true }, start, end);
    const sumAccu = accu(b, site);
    const one = b.constant({ kind: "int", value: 1n }, start, end);
    const increment = b.call2(b.newId(start, end), "_+_", sumAccu, one);
    const keepAccu = accu(b, site);
    step = b.call(b.newId(start, end), "_?_:_", [predicate, increment, keepAccu]);
    const resultAccu = accu(b, site);
    const expected = b.constant({ kind: "int", value: 1n }, start, end);
    result = b.call2(b.newId(start, end), "_==_", resultAccu, expected);
  }
  return b.comprehension(site.id, iterVar, target, ACCUMULATOR, init, condition, step, result);
}

function expandMap(b: AstBuilder, site: MacroSite, target: Expr, args: readonly Expr[]): Expr | string {
  const iterVar = iterationVariable(args[0]!, "argument is not an identifier");
  if (typeof iterVar !== "string") return iterVar.error;
  const filter = args.length === 3 ? args[1] : undefined;
  const transform = args.length === 3 ? args[2]! : args[1]!;
  const { start, end } = site;
  const init = b.list(b.newId(start, end), [], []);
  const condition = b.constant({ kind: "bool", value: true }, start, end);
  const stepAccu = accu(b, site);
  const appended = b.list(b.newId(start, end), [transform], []);
  let step: Expr = b.call2(b.newId(start, end), "_+_", stepAccu, appended);
  if (filter !== undefined) {
    const keepAccu = accu(b, site);
    step = b.call(b.newId(start, end), "_?_:_", [filter, step, keepAccu]);
  }
  const result = accu(b, site);
  return b.comprehension(site.id, iterVar, target, ACCUMULATOR, init, condition, step, result);
}

function expandFilter(b: AstBuilder, site: MacroSite, target: Expr, variable: Expr, predicate: Expr): Expr | string {
  const iterVar = iterationVariable(variable, "argument is not an identifier");
  if (typeof iterVar !== "string") return iterVar.error;
  const { start, end } = site;
  const init = b.list(b.newId(start, end), [], []);
  const condition = b.constant({ kind: "bool", value: true }, start, end);
  const stepAccu = accu(b, site);
  const appended = b.list(b.newId(start, end), [variable], []);
  const added = b.call2(b.newId(start, end), "_+_", stepAccu, appended);
  const keepAccu = accu(b, site);
  const step = b.call(b.newId(start, end), "_?_:_", [predicate, added, keepAccu]);
  const result = accu(b, site);
  return b.comprehension(site.id, iterVar, target, ACCUMULATOR, init, condition, step, result);
}
