/**
 * Calls in the `inngest` dialect, following what Inngest's evaluator does (its "unknown"
 * decorator over cel-go):
 *
 * - A call with an unknown (missing attribute) or error argument does not fail: `+` yields its
 *   first known operand, `==` is true only against `null`, `<`/`<=` are true when the left side is
 *   unknown, `>`/`>=` when the right side is, `size` is 0, and anything else is `false`.
 * - `==`, `!=`, `<`, `<=`, `>`, `>=` and `+` accept any operand types: `+` of two different
 *   types concatenates Go's `%v` renderings; a `null` operand of an ordering is replaced by the
 *   zero value of the other side.
 * - `&&` and `||` return an operand by truthiness as in JavaScript (`a || b` is `a` when `a` is
 *   truthy, else `b`); the condition of `?:` is tested for truthiness.
 *
 * @module
 */
import type { CallExpr, Expr } from "../ast.js";
import { celCompare, celEquals, kindOf, mapGet, MISSING, noSuchOverload, sizeOf, smallInt, UNKNOWN } from "../runtime/core.js";
import { inngestConcat, isTruthy as isTruthyValue, now, nowMinus, nowPlus, zeroValueLike } from "../runtime/inngest.js";
import { CelError } from "../values.js";
import { SIZE_OVERLOADS } from "../stdlib/containers.js";
import { AFFIX_TESTS, REGEX_OVERLOADS, REGEX_SHIFT, regexFactor, SCAN_SHIFT, scansLists, scanWeight } from "../checker/cost.js";
import { charge, chargeArgs, chargeGrowth, chargeScan, type Fn } from "./context.js";
import { constantOperand } from "./helpers.js";
import type { CallCompiler, CallTable, CompilerHooks } from "./hooks.js";
import { compileNotStrictlyFalse } from "./operators.js";

const ORDERINGS: Record<string, (c: number) => boolean> = {
  "_<_": (c) => c < 0,
  "_<=_": (c) => c <= 0,
  "_>_": (c) => c > 0,
  "_>=_": (c) => c >= 0,
};

/** Inngest's truthiness; an unknown (missing attribute) is falsy. */
function isTruthy(v: unknown): boolean {
  return v !== UNKNOWN && isTruthyValue(v);
}

function isUnknownOrError(v: unknown): boolean {
  return v === UNKNOWN || v instanceof CelError;
}

/**
 * The result of a call whose arguments include an unknown or an error value (Inngest's
 * `handleUnknownCall`).
 */
function unknownCallResult(fn: string, vals: readonly unknown[]): unknown {
  switch (fn) {
    case "_+_":
      for (const v of vals) if (v !== UNKNOWN) return v;
      return false;
    case "_==_":
      return vals.some((v) => v === null);
    case "_!=_":
      return !vals.some((v) => v === null);
    case "_<_":
    case "_<=_":
      return isUnknownOrError(vals[0]);
    case "_>_":
    case "_>=_":
      return !isUnknownOrError(vals[0]);
    case "size":
      return smallInt(0);
    default:
      return false;
  }
}

/** Ordering with Inngest's null substitution; an error value when the kinds cannot be ordered. */
function order(fn: string, a: unknown, b: unknown, id: number): unknown {
  const test = ORDERINGS[fn]!;
  let x = a;
  let y = b;
  if (x === null && y !== null) x = zeroValueLike(y) ?? null;
  else if (y === null && x !== null) y = zeroValueLike(x) ?? null;
  const c = x === null || y === null ? undefined : celCompare(x, y);
  if (c === undefined) {
    const e = noSuchOverload(fn, a, b);
    return new CelError(e.code, e.message, id);
  }
  return c === c && test(c);
}

function evalArgs(fns: readonly Fn[], c: Parameters<Fn>[0]): { vals: unknown[]; unknown: boolean } {
  const vals = new Array<unknown>(fns.length);
  let unknown = false;
  for (let k = 0; k < fns.length; k++) {
    const v = fns[k]!(c);
    if (v === UNKNOWN || v instanceof CelError) unknown = true;
    vals[k] = v;
  }
  return { vals, unknown };
}

/** `a || b` / `a && b` by truthiness: the deciding operand itself. */
function compileLogical(e: CallExpr, h: CompilerHooks): Fn {
  const l = h.compile(e.args[0]!);
  const r = h.compile(e.args[1]!);
  return e.fn === "_||_"
    ? (c) => {
        const a = l(c);
        return isTruthy(a) ? a : r(c);
      }
    : (c) => {
        const a = l(c);
        return isTruthy(a) ? r(c) : a;
      };
}

/** `c ? a : b` with the condition tested for truthiness. */
function compileConditional(e: CallExpr, h: CompilerHooks): Fn {
  const cond = h.compile(e.args[0]!);
  const yes = h.compile(e.args[1]!);
  const no = h.compile(e.args[2]!);
  return (c) => (isTruthy(cond(c)) ? yes(c) : no(c));
}

/** `a + b`: the overload of the operands' kinds, else Go's `%v` concatenation of mixed kinds. */
function compilePlus(e: CallExpr, h: CompilerHooks): Fn {
  const [l, r] = e.args.map((x) => h.compile(x)) as [Fn, Fn];
  const add = h.dispatcher(e);
  const id = e.id;
  return (c) => {
    const a = l(c);
    const b = r(c);
    if (isUnknownOrError(a) || isUnknownOrError(b)) return unknownCallResult("_+_", [a, b]);
    const sum = add([a, b]);
    if (!(sum instanceof CelError) || kindOf(a) === kindOf(b)) return chargeGrowth(c, sum, id);
    return chargeGrowth(c, inngestConcat(a, b), id);
  };
}

/** `now()`: the evaluation's clock. */
function compileNow(): Fn {
  return (c) => now(clock(c));
}

/** `now_plus(d)` / `now_minus(d)`: the evaluation's clock shifted by a duration. */
function compileNowShift(e: CallExpr, h: CompilerHooks): Fn {
  const arg = h.compile(e.args[0]!);
  const f = e.fn === "now_plus" ? nowPlus : nowMinus;
  const id = e.id;
  return (c) => {
    const v = arg(c);
    if (isUnknownOrError(v)) return false;
    const r = f(clock(c), v);
    return r instanceof CelError ? new CelError(r.code, r.message, id) : r;
  };
}

/** Reads the evaluation clock once per evaluation, so every `now()` of one evaluation agrees. */
function clock(c: Parameters<Fn>[0]): number {
  if (c.now === 0) c.now = Date.now();
  return c.now;
}

/** Any other call: unknown or error arguments give the static result, else normal dispatch. */
export function compileInngestStrict(e: CallExpr, h: CompilerHooks): Fn {
  const argExprs: Expr[] = e.target === undefined ? [...e.args] : [e.target, ...e.args];
  const fns = argExprs.map((x) => h.compile(x));
  const dispatch = h.dispatcher(e);
  const fn = e.fn;
  const id = e.id;
  const overloads = h.overloads(e);
  const regex = overloads.some((o) => REGEX_OVERLOADS.has(o.id));
  // Work that grows with the arguments' sizes is charged by them before it runs.
  const weight = scanWeight(overloads);
  const scans = regex || weight > 0;
  const lists = scansLists(overloads);
  if (fns.length === 1) {
    const a0 = fns[0]!;
    return (c) => {
      const a = a0(c);
      if (isUnknownOrError(a)) return unknownCallResult(fn, [a]);
      if (scans) chargeScan(c, a, id, weight, lists);
      return chargeGrowth(c, dispatch([a]), id);
    };
  }
  return (c) => {
    const { vals, unknown } = evalArgs(fns, c);
    if (unknown) return unknownCallResult(fn, vals);
    if (scans) chargeArgs(c, vals, regex, weight, lists, id);
    return chargeGrowth(c, dispatch(vals), id);
  };
}

function compileEquality(e: CallExpr, h: CompilerHooks): Fn {
  const negate = e.fn === "_!=_";
  const [le, re] = e.args as [Expr, Expr];
  const split = constantOperand(le, re, (x) => h.constOf(x));
  if (split !== undefined) {
    const k = split.constant.value;
    const varSide = split.other;
    const x = h.compile(varSide);
    // An unknown or error operand is equal only to null.
    const onUnknown = (k === null) !== negate;
    if (typeof k === "string" || typeof k === "boolean") {
      return (c) => {
        const v = x(c);
        if (typeof v === typeof k) return (v === k) !== negate;
        return isUnknownOrError(v) ? onUnknown : negate;
      };
    }
    return (c) => {
      const v = x(c);
      if (isUnknownOrError(v)) return onUnknown;
      return celEquals(v, k) !== negate;
    };
  }
  const l = h.compile(le);
  const r = h.compile(re);
  const id = e.id;
  return (c) => {
    const a = l(c);
    const b = r(c);
    if (isUnknownOrError(a) || isUnknownOrError(b)) return (a === null || b === null) !== negate;
    // Two values of the data compare in time of their size.
    chargeScan(c, a, id);
    return celEquals(a, b) !== negate;
  };
}

function compileOrdering(e: CallExpr, h: CompilerHooks): Fn {
  const fn = e.fn;
  const id = e.id;
  const test = ORDERINGS[fn]!;
  const [le, re] = e.args as [Expr, Expr];
  const l = h.compile(le);
  const rc = h.constOf(re);
  const leftUnknown = fn === "_<_" || fn === "_<=_";
  if (rc !== undefined && typeof rc.value === "number") {
    const k = rc.value;
    return (c) => {
      const a = l(c);
      if (typeof a === "number") return a === a && k === k && test(a < k ? -1 : a > k ? 1 : 0);
      if (isUnknownOrError(a)) return leftUnknown;
      return order(fn, a, k, id);
    };
  }
  const r = h.compile(re);
  return (c) => {
    const a = l(c);
    const b = r(c);
    if (isUnknownOrError(a)) return leftUnknown;
    if (isUnknownOrError(b)) return !leftUnknown;
    return order(fn, a, b, id);
  };
}

function compileSize(e: CallExpr, h: CompilerHooks): Fn | undefined {
  const argExpr = e.target ?? e.args[0];
  if (argExpr === undefined) return undefined;
  const arg = h.compile(argExpr);
  const id = e.id;
  return (c) => {
    const v = arg(c);
    if (isUnknownOrError(v)) return smallInt(0);
    // Counting a string's code points reads all of it.
    if (typeof v === "string" && v.length >= 1 << SCAN_SHIFT) charge(c, v.length >> SCAN_SHIFT, id);
    const n = sizeOf(v, false);
    if (n >= 0) return smallInt(n);
    const err = noSuchOverload("size", v);
    return new CelError(err.code, err.message, id);
  };
}

function compileIn(e: CallExpr, h: CompilerHooks): Fn {
  const [le, re] = e.args as [Expr, Expr];
  const x = h.compile(le);
  const rc = h.constOf(re);
  if (rc !== undefined && Array.isArray(rc.value) && rc.value.every((v) => typeof v === "string")) {
    const set = new Set(rc.value as string[]);
    return (c) => {
      const v = x(c);
      return typeof v === "string" && set.has(v);
    };
  }
  const r = h.compile(re);
  const id = e.id;
  return (c) => {
    const v = x(c);
    const container = r(c);
    if (isUnknownOrError(v) || isUnknownOrError(container)) return false;
    if (Array.isArray(container)) {
      chargeScan(c, container, id);
      for (const item of container) if (celEquals(v, item)) return true;
      return false;
    }
    if (kindOf(container) === "map") return mapGet(container as Map<unknown, unknown>, v) !== MISSING;
    const err = noSuchOverload("@in", v, container);
    return new CelError(err.code, err.message, id);
  };
}

function compileStringTest(e: CallExpr, h: CompilerHooks): Fn | undefined {
  const overloads = h.overloads(e);
  if (e.target === undefined || e.args.length !== 1 || overloads.length !== 1) return undefined;
  const op = overloads[0]!.impl as (s: string, t: string) => boolean;
  const target = h.compile(e.target);
  const fn = e.fn;
  const id = e.id;
  const ac = h.constOf(e.args[0]!);
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
      if (isUnknownOrError(s)) return false;
      const err = noSuchOverload(fn, s, k);
      return new CelError(err.code, err.message, id);
    };
  }
  const arg = h.compile(e.args[0]!);
  return (c) => {
    const s = target(c);
    const t = arg(c);
    if (isUnknownOrError(s) || isUnknownOrError(t)) return false;
    if (typeof s === "string" && typeof t === "string") {
      chargeScan(c, s, id);
      chargeScan(c, t, id);
      return op(s, t);
    }
    const err = noSuchOverload(fn, s, t);
    return new CelError(err.code, err.message, id);
  };
}

function compileMatches(e: CallExpr, h: CompilerHooks): Fn | undefined {
  const subjectExpr = e.target ?? e.args[0];
  const patternExpr = e.target !== undefined ? e.args[0] : e.args[1];
  if (subjectExpr === undefined || patternExpr === undefined) return undefined;
  const pc = h.constOf(patternExpr);
  if (pc === undefined || typeof pc.value !== "string") return undefined;
  const re = h.regex(patternExpr.id, pc.value);
  const subject = h.compile(subjectExpr);
  const id = e.id;
  if (re instanceof CelError) return () => new CelError(re.code, re.message, patternExpr.id);
  const factor = regexFactor(pc.value.length);
  return (c) => {
    const s = subject(c);
    if (typeof s === "string") {
      if (s.length >= 1 << REGEX_SHIFT) charge(c, (s.length >> REGEX_SHIFT) * factor, id);
      return re(s);
    }
    if (isUnknownOrError(s)) return false;
    const err = noSuchOverload("matches", s, pc.value);
    return new CelError(err.code, err.message, id);
  };
}

/**
 * How the `inngest` dialect compiles calls: operators by name, functions by overload id; every
 * other call goes to {@link compileInngestStrict}.
 */
export const INNGEST_CALLS: CallTable = new Map<string, CallCompiler>([
  ["_||_", compileLogical],
  ["_&&_", compileLogical],
  ["_?_:_", compileConditional],
  ["@not_strictly_false", compileNotStrictlyFalse],
  ["_==_", compileEquality],
  ["_!=_", compileEquality],
  ["_<_", compileOrdering],
  ["_<=_", compileOrdering],
  ["_>_", compileOrdering],
  ["_>=_", compileOrdering],
  ["_+_", compilePlus],
  ["@in", compileIn],
  ...[...SIZE_OVERLOADS].map((id): [string, CallCompiler] => [id, compileSize]),
  ["contains_string", compileStringTest],
  ["starts_with_string", compileStringTest],
  ["ends_with_string", compileStringTest],
  ["matches", compileMatches],
  ["matches_string", compileMatches],
  ["inngest_now", compileNow],
  ["inngest_now_plus", compileNowShift],
  ["inngest_now_minus", compileNowShift],
]);
