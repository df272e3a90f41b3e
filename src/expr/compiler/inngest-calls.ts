/**
 * Calls in the `inngest` dialect, following what Inngest's evaluator does (its "unknown"
 * decorator over cel-go, `pkg/expressions/unknown.go`), with one deliberate departure:
 *
 * - A call with a missing attribute for an argument does not fail: `+` yields its first other
 *   operand, `==` is true only against `null`, `<`/`<=` are true when the left side is missing,
 *   `>`/`>=` when the right side is, `size` is 0, and anything else is `false`. A missing
 *   attribute is the unknown of an absent field, or the error of an absent map key or list
 *   element (see {@link isAbsent}).
 * - Any other evaluation error propagates, as in the `cel` dialect. Inngest hands it the static
 *   results above too (its decorator treats every error argument but "no such attribute" like an
 *   unknown), so that `event.data.n % 3 != 0` — an error, JSON numbers being doubles and CEL
 *   having no `double % int` — is `true` for every event there, and a bulk cancellation with that
 *   `if` would cancel every run of its window. For a cancellation an error must never become a
 *   match, so here it stays an error (the run counts as `expression_error`).
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
import { AFFIX_TESTS, REGEX_OVERLOADS, REGEX_SHIFT, regexFactor, SCAN_SHIFT, scansLists, scanWeight } from "../checker/charges.js";
import { charge, chargeArgs, chargeGrowth, chargeScan, type Fn } from "./context.js";
import { constantOperand } from "./helpers.js";
import type { CallCompiler, CallTable, CompilerHooks } from "./hooks.js";

const ORDERINGS: Record<string, (c: number) => boolean> = {
  "_<_": (c) => c < 0,
  "_<=_": (c) => c <= 0,
  "_>_": (c) => c > 0,
  "_>=_": (c) => c >= 0,
};

/** Inngest's truthiness; an unknown (missing attribute) and an error are falsy. */
function isTruthy(v: unknown): boolean {
  return v !== UNKNOWN && isTruthyValue(v);
}

/**
 * Error codes that only say an attribute is absent: a key missing from a map (`event.data['k']`),
 * an index past the end of a list. Inngest's decorator was written to catch exactly these ("no
 * such key" from reaching into a missing value) and gives them a missing attribute's results.
 */
const ABSENT_CODES: ReadonlySet<string> = new Set(["no_such_key", "index_out_of_bounds"]);

/** Whether `v` is a missing attribute: Inngest's unknown, or an absent key or element. */
function isAbsent(v: unknown): boolean {
  return v === UNKNOWN || (v instanceof CelError && ABSENT_CODES.has(v.code));
}

/** Whether `v` is an evaluation error that is not a missing attribute: it propagates. */
function isFailure(v: unknown): v is CelError {
  return v instanceof CelError && !ABSENT_CODES.has(v.code);
}

/**
 * The result of a call none of whose arguments fails and some of which are missing attributes
 * (Inngest's `handleUnknownCall`).
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
      return isAbsent(vals[0]);
    case "_>_":
    case "_>=_":
      return !isAbsent(vals[0]);
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

/** The evaluated arguments, the first failure among them, and whether any is a missing attribute. */
function evalArgs(fns: readonly Fn[], c: Parameters<Fn>[0]): { vals: unknown[]; failure: CelError | undefined; absent: boolean } {
  const vals = new Array<unknown>(fns.length);
  let failure: CelError | undefined;
  let absent = false;
  for (let k = 0; k < fns.length; k++) {
    const v = fns[k]!(c);
    if (v === UNKNOWN) absent = true;
    else if (v instanceof CelError) {
      if (ABSENT_CODES.has(v.code)) absent = true;
      else failure ??= v;
    }
    vals[k] = v;
  }
  return { vals, failure, absent };
}

/**
 * `a || b` / `a && b` by truthiness: the deciding operand itself. `a && b` is `a` when `a` is
 * falsy, an error included (as in Inngest). `a || b` is `a` when truthy, else `b` when truthy,
 * else — both falsy — an error `a` rather than `b`: Inngest would answer `b`, which turns
 * `!(err || false)` into `true`; this way an error is absorbed only by an operand that decides,
 * as CEL's `err || true` is `true`.
 */
function compileLogical(e: CallExpr, h: CompilerHooks): Fn {
  const l = h.compile(e.args[0]!);
  const r = h.compile(e.args[1]!);
  return e.fn === "_||_"
    ? (c) => {
        const a = l(c);
        if (isTruthy(a)) return a;
        const b = r(c);
        return isFailure(a) && !isTruthy(b) ? a : b;
      }
    : (c) => {
        const a = l(c);
        return isTruthy(a) ? r(c) : a;
      };
}

/**
 * `c ? a : b` with the condition tested for truthiness; a failed condition is the error (Inngest
 * takes it as falsy and picks `b`).
 */
function compileConditional(e: CallExpr, h: CompilerHooks): Fn {
  const cond = h.compile(e.args[0]!);
  const yes = h.compile(e.args[1]!);
  const no = h.compile(e.args[2]!);
  return (c) => {
    const v = cond(c);
    if (isFailure(v)) return v;
    return isTruthy(v) ? yes(c) : no(c);
  };
}

/**
 * The loop condition of `all`/`exists`: the loop goes on unless the condition is `false`, an
 * error or unknown. cel's rule goes on past an error; Inngest's decorator answers `false` for a
 * call on an error or unknown, so its `exists` stops at the first element whose test fails and
 * yields that error — which this keeps, now that `!` of an error is the error (not `false`).
 */
function compileLoopCondition(e: CallExpr, h: CompilerHooks): Fn {
  const arg = h.compile(e.args[0]!);
  return (c) => {
    const v = arg(c);
    return v !== false && v !== UNKNOWN && !(v instanceof CelError);
  };
}

/** `a + b`: the overload of the operands' kinds, else Go's `%v` concatenation of mixed kinds. */
function compilePlus(e: CallExpr, h: CompilerHooks): Fn {
  const [l, r] = e.args.map((x) => h.compile(x)) as [Fn, Fn];
  const add = h.dispatcher(e);
  const id = e.id;
  return (c) => {
    const a = l(c);
    const b = r(c);
    if (isFailure(a)) return a;
    if (isFailure(b)) return b;
    if (isAbsent(a) || isAbsent(b)) return unknownCallResult("_+_", [a, b]);
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
    if (isFailure(v)) return v;
    if (isAbsent(v)) return false;
    const r = f(clock(c), v);
    return r instanceof CelError ? new CelError(r.code, r.message, id) : r;
  };
}

/** Reads the evaluation clock once per evaluation, so every `now()` of one evaluation agrees. */
function clock(c: Parameters<Fn>[0]): number {
  if (c.now === 0) c.now = Date.now();
  return c.now;
}

/**
 * Any other call: a failed argument is the result, missing attributes give the static result,
 * else normal dispatch.
 */
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
      if (a === UNKNOWN || a instanceof CelError) return isFailure(a) ? a : unknownCallResult(fn, [a]);
      if (scans) chargeScan(c, a, id, weight, lists);
      return chargeGrowth(c, dispatch([a]), id);
    };
  }
  return (c) => {
    const { vals, failure, absent } = evalArgs(fns, c);
    if (failure !== undefined) return failure;
    if (absent) return unknownCallResult(fn, vals);
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
    // A missing attribute is equal only to null; a failed operand is the result.
    const onUnknown = (k === null) !== negate;
    if (typeof k === "string" || typeof k === "boolean") {
      return (c) => {
        const v = x(c);
        if (typeof v === typeof k) return (v === k) !== negate;
        if (v === UNKNOWN) return onUnknown;
        if (v instanceof CelError) return isFailure(v) ? v : onUnknown;
        return negate;
      };
    }
    return (c) => {
      const v = x(c);
      if (v === UNKNOWN) return onUnknown;
      if (v instanceof CelError) return isFailure(v) ? v : onUnknown;
      return celEquals(v, k) !== negate;
    };
  }
  const l = h.compile(le);
  const r = h.compile(re);
  const id = e.id;
  return (c) => {
    const a = l(c);
    const b = r(c);
    if (isFailure(a)) return a;
    if (isFailure(b)) return b;
    if (isAbsent(a) || isAbsent(b)) return (a === null || b === null) !== negate;
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
      if (a === UNKNOWN) return leftUnknown;
      if (a instanceof CelError) return isFailure(a) ? a : leftUnknown;
      return order(fn, a, k, id);
    };
  }
  const r = h.compile(re);
  return (c) => {
    const a = l(c);
    const b = r(c);
    if (isFailure(a)) return a;
    if (isFailure(b)) return b;
    if (isAbsent(a)) return leftUnknown;
    if (isAbsent(b)) return !leftUnknown;
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
    if (isFailure(v)) return v;
    if (isAbsent(v)) return smallInt(0);
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
      if (typeof v === "string") return set.has(v);
      return isFailure(v) ? v : false;
    };
  }
  const r = h.compile(re);
  const id = e.id;
  return (c) => {
    const v = x(c);
    const container = r(c);
    if (isFailure(v)) return v;
    if (isFailure(container)) return container;
    if (isAbsent(v) || isAbsent(container)) return false;
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
      if (isFailure(s)) return s;
      if (isAbsent(s)) return false;
      const err = noSuchOverload(fn, s, k);
      return new CelError(err.code, err.message, id);
    };
  }
  const arg = h.compile(e.args[0]!);
  return (c) => {
    const s = target(c);
    const t = arg(c);
    if (isFailure(s)) return s;
    if (isFailure(t)) return t;
    if (isAbsent(s) || isAbsent(t)) return false;
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
    if (isFailure(s)) return s;
    if (isAbsent(s)) return false;
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
  ["@not_strictly_false", compileLoopCondition],
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
