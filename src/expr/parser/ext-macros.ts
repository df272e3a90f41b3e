/**
 * The macros of cel-go's extension libraries, expanded at parse time exactly as cel-go expands
 * them when the library is enabled (see `ParseOptions.extensionMacros`):
 *
 * - `two_var_comprehensions`: `all`, `exists`, `existsOne` (`exists_one`) with two variables,
 *   `transformList`, `transformMap`, `transformMapEntry` (ext/comprehensions.go);
 * - `bindings`: `cel.bind(v, init, expr)` (ext/bindings.go);
 * - `optionals`: `optMap`, `optFlatMap` (cel/library.go);
 * - `math`: `math.greatest`, `math.least` (ext/math.go);
 * - `lists`: `sortBy` (ext/lists.go);
 * - `block`: `cel.block`, `cel.index`, `cel.iterVar`, `cel.accuVar`, as the cel-spec
 *   conformance data writes the output of cel-go's common-subexpression optimiser.
 *
 * @module
 */
import type { Expr } from "../ast.js";
import type { AstBuilder } from "./builder.js";
import { ACCUMULATOR, LEGACY_ACCUMULATOR, type MacroSite } from "./macro-site.js";

/** The extension libraries that bring macros of their own. */
export type MacroLibrary = "two_var_comprehensions" | "bindings" | "optionals" | "math" | "lists" | "block";

/** cel-go's name of the variable no comprehension reads (`cel.bind`, `optMap`). */
export const UNUSED_ITER_VAR = "#unused";

/** An expansion, or the message of a malformed macro call with the argument it concerns. */
type Expansion = Expr | { readonly error: string; readonly at: Expr | undefined } | undefined;

/**
 * Expands an extension macro of an enabled library; `undefined` when the call is none (the caller
 * then tries the standard macros), an error when it is one but malformed.
 */
export function expandExtensionMacro(
  b: AstBuilder,
  site: MacroSite,
  fn: string,
  target: Expr | undefined,
  args: readonly Expr[],
): Expansion {
  const libs = b.macroLibraries;
  if (libs.size === 0 || target === undefined) return undefined;
  const ns = target.kind === "ident" ? target.name : undefined;
  if (ns === "cel") {
    if (libs.has("bindings") && fn === "bind" && args.length === 3) return bind(b, site, args);
    if (libs.has("block")) return blockMacro(b, site, fn, args);
    return undefined;
  }
  if (ns === "math" && libs.has("math") && (fn === "greatest" || fn === "least")) return mathMacro(b, site, fn, target, args);
  if (libs.has("two_var_comprehensions")) {
    const e = twoVarMacro(b, site, fn, target, args);
    if (e !== undefined) return e;
  }
  if (libs.has("optionals") && (fn === "optMap" || fn === "optFlatMap") && args.length === 2) {
    return optMap(b, site, fn === "optMap", target, args);
  }
  if (libs.has("lists") && fn === "sortBy" && args.length === 2) return sortBy(b, site, target, args);
  return undefined;
}

function simpleName(e: Expr): string | undefined {
  return e.kind === "ident" ? e.name : undefined;
}

/** `cel.bind(v, init, expr)`: a comprehension over nothing whose accumulator is `v`. */
function bind(b: AstBuilder, site: MacroSite, args: readonly Expr[]): Expansion {
  const name = simpleName(args[0]!);
  if (name === undefined) return { error: "cel.bind() variable names must be simple identifiers", at: args[0]! };
  return binding(b, site, name, args[1]!, args[2]!);
}

/** The comprehension that binds `name` to `init` while evaluating `result`. */
function binding(b: AstBuilder, site: MacroSite, name: string, init: Expr, result: Expr, id = site.id): Expr {
  const { start, end } = site;
  const range = b.list(b.newId(start, end), [], []);
  const cond = b.constant({ kind: "bool", value: false }, start, end);
  const step = b.ident(name, start, end);
  return b.comprehension(id, UNUSED_ITER_VAR, range, name, init, cond, step, result);
}

/** `x.optMap(v, e)` / `x.optFlatMap(v, e)`. */
function optMap(b: AstBuilder, site: MacroSite, wrap: boolean, target: Expr, args: readonly Expr[]): Expansion {
  const name = simpleName(args[0]!);
  if (name === undefined) {
    return { error: `${wrap ? "optMap" : "optFlatMap"}() variable name must be a simple identifier`, at: args[0]! };
  }
  const { start, end } = site;
  const has = b.receiverCall(b.newId(start, end), "hasValue", target, []);
  const value = b.receiverCall(b.newId(start, end), "value", target, []);
  let mapped = binding(b, site, name, value, args[1]!, b.newId(start, end));
  if (wrap) mapped = b.call1(b.newId(start, end), "optional.of", mapped);
  const none = b.call(b.newId(start, end), "optional.none", []);
  return b.call(site.id, "_?_:_", [has, mapped, none]);
}

/** Whether a literal argument of `math.greatest`/`least` may be numeric (cel-go's isNumericArgType). */
function maybeNumeric(e: Expr): boolean {
  if (e.kind === "const") return e.value.kind === "int" || e.value.kind === "uint" || e.value.kind === "double";
  return e.kind !== "list" && e.kind !== "map" && e.kind !== "struct";
}

/** `math.greatest(…)` → `math.@max(…)`, `math.least(…)` → `math.@min(…)`. */
function mathMacro(b: AstBuilder, site: MacroSite, fn: string, target: Expr, args: readonly Expr[]): Expansion {
  const name = `math.${fn}()`;
  const callee = fn === "greatest" ? "math.@max" : "math.@min";
  if (args.length === 0) return { error: `${name} requires at least one argument`, at: target };
  if (args.length === 1) {
    const a = args[0]!;
    const numericList = a.kind === "list" && a.elements.length > 0 && a.elements.every(maybeNumeric);
    if (!numericList && !maybeNumeric(a)) return { error: `${name} invalid single argument value`, at: a };
    return b.call(site.id, callee, args);
  }
  for (const a of args) if (!maybeNumeric(a)) return { error: `${name} simple literal arguments must be numeric`, at: a };
  if (args.length === 2) return b.call(site.id, callee, args);
  return b.call1(site.id, callee, b.list(b.newId(site.start, site.end), args, []));
}

/** The two iteration variables of a two-variable macro, or cel-go's error. */
function iterVars(a0: Expr, a1: Expr): [string, string] | { readonly error: string; readonly at: Expr } {
  const v1 = simpleName(a0);
  if (v1 === undefined) return { error: "argument must be a simple name", at: a0 };
  const v2 = simpleName(a1);
  if (v2 === undefined) return { error: "argument must be a simple name", at: a1 };
  if (v1 === v2) return { error: `duplicate variable name: ${v1}`, at: a1 };
  if (v1 === ACCUMULATOR || v1 === LEGACY_ACCUMULATOR) return { error: "iteration variable overwrites accumulator variable", at: a0 };
  if (v2 === ACCUMULATOR || v2 === LEGACY_ACCUMULATOR) return { error: "iteration variable overwrites accumulator variable", at: a1 };
  return [v1, v2];
}

function twoVarMacro(b: AstBuilder, site: MacroSite, fn: string, target: Expr, args: readonly Expr[]): Expansion {
  const quantifier = fn === "all" || fn === "exists" || fn === "existsOne" || fn === "exists_one";
  const transform = fn === "transformList" || fn === "transformMap" || fn === "transformMapEntry";
  if (!((quantifier && args.length === 3) || (transform && (args.length === 3 || args.length === 4)))) return undefined;
  const vars = iterVars(args[0]!, args[1]!);
  if (!Array.isArray(vars)) return vars;
  const [v1, v2] = vars;
  const { start, end } = site;
  const accu = (): Expr => b.ident(ACCUMULATOR, start, end);
  const bool = (value: boolean): Expr => b.constant({ kind: "bool", value }, start, end);
  const int = (value: bigint): Expr => b.constant({ kind: "int", value }, start, end);
  const id = (): number => b.newId(start, end);
  let init: Expr;
  let cond: Expr;
  let step: Expr;
  let result: Expr;
  if (quantifier) {
    const p = args[2]!;
    if (fn === "all") {
      init = bool(true);
      cond = b.call1(id(), "@not_strictly_false", accu());
      step = b.call2(id(), "_&&_", accu(), p);
      result = accu();
    } else if (fn === "exists") {
      init = bool(false);
      cond = b.call1(id(), "@not_strictly_false", b.call1(id(), "!_", accu()));
      step = b.call2(id(), "_||_", accu(), p);
      result = accu();
    } else {
      init = int(0n);
      cond = bool(true);
      step = b.call(id(), "_?_:_", [p, b.call2(id(), "_+_", accu(), int(1n)), accu()]);
      result = b.call2(id(), "_==_", accu(), int(1n));
    }
  } else {
    const filter = args.length === 4 ? args[2] : undefined;
    const t = args[args.length - 1]!;
    cond = bool(true);
    result = accu();
    if (fn === "transformList") {
      init = b.list(id(), [], []);
      step = b.call2(id(), "_+_", accu(), b.list(id(), [t], []));
    } else {
      init = b.map(id(), []);
      const insertArgs = fn === "transformMap" ? [accu(), b.ident(v1, start, end), t] : [accu(), t];
      step = b.call(id(), "cel.@mapInsert", insertArgs);
    }
    if (filter !== undefined) step = b.call(id(), "_?_:_", [filter, step, accu()]);
  }
  return b.comprehension(site.id, v1, target, ACCUMULATOR, init, cond, step, result, v2);
}

/** `list.sortBy(v, key)`: the list sorted by the keys `key` gives its elements. */
function sortBy(b: AstBuilder, site: MacroSite, target: Expr, args: readonly Expr[]): Expansion {
  const name = simpleName(args[0]!);
  if (name === undefined) return { error: "sortBy(var, ...) variable name must be a simple identifier", at: args[0]! };
  const { start, end } = site;
  const input = "@__sortBy_input__";
  const ref = (): Expr => b.ident(input, start, end);
  // `input.map(v, key)`, spelled out as the `map` macro expands.
  const keys = b.comprehension(
    b.newId(start, end),
    name,
    ref(),
    ACCUMULATOR,
    b.list(b.newId(start, end), [], []),
    b.constant({ kind: "bool", value: true }, start, end),
    b.call2(b.newId(start, end), "_+_", b.ident(ACCUMULATOR, start, end), b.list(b.newId(start, end), [args[1]!], [])),
    b.ident(ACCUMULATOR, start, end),
  );
  const sorted = b.receiverCall(b.newId(start, end), "@sortByAssociatedKeys", ref(), [keys]);
  return binding(b, site, input, target, sorted);
}

/** A non-negative int literal argument of `cel.index` and the like. */
function intArg(e: Expr | undefined): bigint | undefined {
  return e?.kind === "const" && e.value.kind === "int" && e.value.value >= 0n ? e.value.value : undefined;
}

/** `cel.block(list, e)` → `cel.@block(list, e)`; `cel.index(n)` → `@index<n>`; `cel.iterVar(i, j)` → `@it:i:j`. */
function blockMacro(b: AstBuilder, site: MacroSite, fn: string, args: readonly Expr[]): Expansion {
  switch (fn) {
    case "block":
      if (args.length !== 2) return undefined;
      if (args[0]!.kind !== "list") return { error: "cel.block requires the list of subexpressions as its first argument", at: args[0]! };
      return b.call(site.id, "cel.@block", args);
    case "index": {
      const n = args.length === 1 ? intArg(args[0]) : undefined;
      if (n === undefined) return { error: "cel.index requires a single non-negative int constant arg", at: args[0] };
      return { kind: "ident", id: site.id, name: `@index${n}` };
    }
    case "iterVar":
    case "accuVar": {
      const i = intArg(args[0]);
      const j = intArg(args[1]);
      if (args.length !== 2 || i === undefined || j === undefined) {
        return { error: `cel.${fn} requires two non-negative int constant args`, at: args[0] };
      }
      return { kind: "ident", id: site.id, name: `${fn === "iterVar" ? "@it" : "@ac"}:${i}:${j}` };
    }
    default:
      return undefined;
  }
}
