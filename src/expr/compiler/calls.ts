/**
 * Closures for calls: the standard specialisations (operators, `size`, the string tests,
 * `matches` with a constant pattern) and the general path through the overload table, which
 * dispatches on the runtime kinds of the arguments and charges the size of what a function builds.
 *
 * @module
 */
import type { CallExpr } from "../ast.js";
import type { Reference } from "../checker/checker.js";
import type { FunctionDecl, OverloadDecl } from "../decls.js";
import { noSuchOverload, sizeOf, smallInt } from "../runtime/core.js";
import { SIZE_OVERLOADS } from "../stdlib/containers.js";
import { CelError } from "../values.js";
import { AFFIX_TESTS, REGEX_OVERLOADS, REGEX_SHIFT, regexFactor, SCAN_SHIFT, scansLists, scanWeight } from "../checker/charges.js";
import { charge, chargeArgs, chargeGrowth, chargeScan, type Fn } from "./context.js";
import { guardFor, overloadGuard } from "./guards.js";
import { attachNode, constFn } from "./helpers.js";
import type { CallCompiler, CallTable, CompilerHooks, Planner } from "./hooks.js";
import {
  compileConditional,
  compileEquality,
  compileIn,
  compileLogical,
  compileNot,
  compileNotStrictlyFalse,
  compileRelation,
} from "./operators.js";
import { compileIndex } from "./select.js";

/** `size(x)` / `x.size()`. */
function compileSize(e: CallExpr, h: CompilerHooks): Fn | undefined {
  const argExpr = e.target ?? e.args[0];
  if (argExpr === undefined || (e.target !== undefined && e.args.length > 0) || (e.target === undefined && e.args.length !== 1)) {
    return undefined;
  }
  const arg = h.compile(argExpr);
  const id = e.id;
  const lenient = h.lenient;
  return (c) => {
    const v = arg(c);
    if (v instanceof CelError) return v;
    // Counting a string's code points reads all of it.
    if (typeof v === "string" && v.length >= 1 << SCAN_SHIFT) charge(c, v.length >> SCAN_SHIFT, id);
    const n = sizeOf(v, lenient);
    return n < 0 ? attachNode(noSuchOverload("size", v), id) : smallInt(n);
  };
}

/**
 * `s.contains(t)`, `s.startsWith(t)`, `s.endsWith(t)`: the overload's implementation called on two
 * strings without dispatch, the argument read once when it is a constant.
 */
function compileStringTest(e: CallExpr, h: CompilerHooks): Fn | undefined {
  const overloads = h.overloads(e);
  if (e.target === undefined || e.args.length !== 1 || overloads.length !== 1) return undefined;
  const op = overloads[0]!.impl as (s: string, t: string) => boolean;
  const target = h.compile(e.target);
  const argExpr = e.args[0]!;
  const ac = h.constOf(argExpr);
  const id = e.id;
  const fn = e.fn;
  if (ac !== undefined && typeof ac.value === "string") {
    const k = ac.value;
    // `contains` reads the whole subject; `startsWith`/`endsWith` only as much as the constant.
    const scansSubject = !AFFIX_TESTS.has(overloads[0]!.id);
    return (c) => {
      const s = target(c);
      if (typeof s === "string") {
        if (scansSubject && s.length >= 1 << SCAN_SHIFT) charge(c, s.length >> SCAN_SHIFT, id);
        return op(s, k);
      }
      if (s instanceof CelError) return s;
      return attachNode(noSuchOverload(fn, s, k), id);
    };
  }
  const arg = h.compile(argExpr);
  return (c) => {
    const s = target(c);
    if (s instanceof CelError) return s;
    const t = arg(c);
    if (t instanceof CelError) return t;
    if (typeof s === "string" && typeof t === "string") {
      chargeScan(c, s, id);
      chargeScan(c, t, id);
      return op(s, t);
    }
    return attachNode(noSuchOverload(fn, s, t), id);
  };
}

/** `s.matches(re)` / `matches(s, re)` with a constant pattern: the regex is compiled once. */
function compileMatches(e: CallExpr, h: CompilerHooks): Fn | undefined {
  const subjectExpr = e.target ?? e.args[0];
  const patternExpr = e.target !== undefined ? e.args[0] : e.args[1];
  if (subjectExpr === undefined || patternExpr === undefined) return undefined;
  const pc = h.constOf(patternExpr);
  if (pc === undefined || typeof pc.value !== "string") return undefined;
  const subject = h.compile(subjectExpr);
  const id = e.id;
  const re = h.regex(patternExpr.id, pc.value);
  if (re instanceof CelError) return constFn(new CelError(re.code, re.message, patternExpr.id));
  const factor = regexFactor(pc.value.length);
  return (c) => {
    const s = subject(c);
    if (typeof s === "string") {
      if (s.length >= 1 << REGEX_SHIFT) charge(c, (s.length >> REGEX_SHIFT) * factor, id);
      return re(s);
    }
    if (s instanceof CelError) return s;
    return attachNode(noSuchOverload("matches", s, pc.value), id);
  };
}

/**
 * The standard specialisations of calls, operators by name and functions by overload id; any other
 * call goes through the overload table.
 */
export const STANDARD_CALLS: CallTable = new Map<string, CallCompiler>([
  ["_&&_", compileLogical],
  ["_||_", compileLogical],
  ["!_", compileNot],
  ["_?_:_", compileConditional],
  ["@not_strictly_false", compileNotStrictlyFalse],
  ["_==_", compileEquality],
  ["_!=_", compileEquality],
  ["_<_", compileRelation],
  ["_<=_", compileRelation],
  ["_>_", compileRelation],
  ["_>=_", compileRelation],
  ["@in", compileIn],
  ["_[_]", compileIndex],
  ...[...SIZE_OVERLOADS].map((id): [string, CallCompiler] => [id, compileSize]),
  ["contains_string", compileStringTest],
  ["starts_with_string", compileStringTest],
  ["ends_with_string", compileStringTest],
  ["matches", compileMatches],
  ["matches_string", compileMatches],
]);

/**
 * The overloads a call may dispatch to at run time: those the checker resolved, then the
 * function's other overloads of the same shape. The checker's choice is an assumption where a
 * type variable stood for a `dyn` value (`int(m['a'])` with `m` dyn resolves to `int(int)`), so,
 * like cel-go, dispatch goes by the runtime kinds of the arguments.
 */
export function runtimeOverloads(
  refs: ReadonlyMap<number, Reference>,
  functions: ReadonlyMap<string, FunctionDecl>,
  e: CallExpr,
): readonly OverloadDecl[] {
  const r = refs.get(e.id);
  const resolved = r?.kind === "function" ? r.overloads : [];
  const all = functions.get(e.fn)?.overloads ?? [];
  const member = e.target !== undefined;
  const arity = e.args.length + (member ? 1 : 0);
  const rest = all.filter((o) => !resolved.includes(o) && o.member === member && o.params.length === arity);
  return [...resolved, ...rest].filter((o) => o.impl !== undefined);
}

/** Overload dispatch over already evaluated, non-error arguments (receiver first). */
export function dispatcher(p: Planner, e: CallExpr): (vals: readonly unknown[]) => unknown {
  const id = e.id;
  const fn = e.fn;
  const candidates = p
    .runtimeOverloads(e)
    .map((o) => ({ guard: overloadGuard(o), arity: o.params.length, impl: o.impl as (...a: unknown[]) => unknown }));
  return (vals) => {
    for (const cand of candidates) {
      if (cand.arity === vals.length && (cand.guard === undefined || cand.guard(vals))) {
        return attachNode(cand.impl(...vals), id);
      }
    }
    return attachNode(noSuchOverload(fn, ...vals), id);
  };
}

/**
 * Calls through the overload table, dispatching on runtime kinds where static types are `dyn`; a
 * call that may dispatch to an overload that `grows` is charged by the size of what it built, one
 * to an overload with a `cost` that cost before it runs.
 */
export function compileGeneric(p: Planner, e: CallExpr): Fn {
  const overloads = p.runtimeOverloads(e);
  const regex = overloads.some((o) => REGEX_OVERLOADS.has(o.id));
  const costs = overloads.filter((o) => o.cost !== undefined);
  const weight = scanWeight(overloads);
  let f: Fn;
  if ((regex || costs.length > 0) && overloads.length > 0) f = compileCharged(p, e, regex, weight, scansLists(overloads), costs);
  else if (weight > 0) {
    // Each string or list argument is charged by its size as it is read, before the call runs.
    const lists = scansLists(overloads);
    const id = e.id;
    f = compileDispatch(p, e, overloads, (a) => (c) => {
      const v = a(c);
      chargeScan(c, v, id, weight, lists);
      return v;
    });
  } else f = compileDispatch(p, e, overloads);
  if (!anyGrows(overloads)) return f;
  const id = e.id;
  return (c) => chargeGrowth(c, f(c), id);
}

function anyGrows(overloads: readonly OverloadDecl[]): boolean {
  for (const o of overloads) if (o.grows === true) return true;
  return false;
}

/**
 * A call charged for its arguments' values before it runs: their scans or, for a regular
 * expression, the match and the pattern's compilation when it is not a constant (a constant is
 * compiled once and cached) (see `chargeArgs`), and the `cost` of the overloads of its arity (the
 * most of them).
 */
function compileCharged(p: Planner, e: CallExpr, regex: boolean, weight: number, lists: boolean, costs: readonly OverloadDecl[]): Fn {
  const argExprs = e.target === undefined ? e.args : [e.target, ...e.args];
  const args = argExprs.map((a) => p.compile(a));
  const dispatch = dispatcher(p, e);
  const id = e.id;
  const patternConstant = regex && argExprs[1] !== undefined && p.constOf(argExprs[1]) !== undefined;
  const work = costs.filter((o) => o.params.length === args.length).map((o) => o.cost!);
  return (c) => {
    const vals = new Array<unknown>(args.length);
    for (let k = 0; k < args.length; k++) {
      const v = args[k]!(c);
      if (v instanceof CelError) return v;
      vals[k] = v;
    }
    if (regex || weight > 0) chargeArgs(c, vals, regex, weight, lists, id, patternConstant);
    if (work.length > 0) {
      let units = 0;
      for (const w of work) units = Math.max(units, w(vals));
      if (units > 0) charge(c, units, id);
    }
    return dispatch(vals);
  };
}

function compileDispatch(p: Planner, e: CallExpr, overloads: readonly OverloadDecl[], wrap?: (f: Fn) => Fn): Fn {
  const argExprs = e.target === undefined ? e.args : [e.target, ...e.args];
  const args = argExprs.map((a) => (wrap === undefined ? p.compile(a) : wrap(p.compile(a))));
  const id = e.id;
  const fn = e.fn;
  if (overloads.length === 0) {
    const err = new CelError("no_such_overload", `no such overload: ${fn}`, id);
    return constFn(err);
  }
  // One overload: call it directly, still testing argument kinds at run time. Checked types
  // cannot be trusted for this: a type variable bound by unification (`x['a'] + 1` types
  // `x['a']` as int when `x` is dyn) says what the checker assumed, not what the data holds.
  const only = overloads.length === 1 ? overloads[0]! : undefined;
  if (only !== undefined && args.length <= 2) {
    const impl = only.impl as (...a: unknown[]) => unknown;
    const g0 = only.params[0] === undefined ? undefined : guardFor(only.params[0]);
    const g1 = only.params[1] === undefined ? undefined : guardFor(only.params[1]);
    const mismatch = (...vals: unknown[]): unknown => attachNode(noSuchOverload(fn, ...vals), id);
    switch (args.length) {
      case 0:
        return () => attachNode(impl(), id);
      case 1: {
        const a0 = args[0]!;
        return (c) => {
          const a = a0(c);
          if (a instanceof CelError) return a;
          return g0 === undefined || g0(a) ? attachNode(impl(a), id) : mismatch(a);
        };
      }
      default: {
        const [a0, a1] = args as [Fn, Fn];
        return (c) => {
          const a = a0(c);
          if (a instanceof CelError) return a;
          const b = a1(c);
          if (b instanceof CelError) return b;
          return (g0 === undefined || g0(a)) && (g1 === undefined || g1(b)) ? attachNode(impl(a, b), id) : mismatch(a, b);
        };
      }
    }
  }
  const dispatch = dispatcher(p, e);
  return (c) => {
    const vals = new Array<unknown>(args.length);
    for (let k = 0; k < args.length; k++) {
      const v = args[k]!(c);
      if (v instanceof CelError) return v;
      vals[k] = v;
    }
    return dispatch(vals);
  };
}
