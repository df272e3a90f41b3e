/**
 * Closures for the operators of the `cel` dialect: `&&`, `||`, `!`, `?:`, equality, the relations
 * and `in`, specialised by constant operands (`x == 'lit'` compares without boxing, `x in [...]`
 * of strings is a `Set` lookup, `size(x) < 3` compares JS lengths).
 *
 * @module
 */
import type { CallExpr, Expr } from "../ast.js";
import { celCompare, celEquals, kindOf, mapGet, MISSING, noSuchOverload, sizeOf } from "../runtime/core.js";
import { resolvesWithin } from "../decls.js";
import { SIZE_OVERLOADS } from "../stdlib/containers.js";
import { CelError } from "../values.js";
import { chargeScan, type Fn } from "./context.js";
import type { CompilerHooks } from "./hooks.js";
import { attachNode, constantOperand } from "./helpers.js";

const RELATIONS: Record<string, (c: number) => boolean> = {
  "_<_": (c) => c < 0,
  "_<=_": (c) => c <= 0,
  "_>_": (c) => c > 0,
  "_>=_": (c) => c >= 0,
};

/**
 * `a && b` / `a || b`: `short` (false for `&&`, true for `||`) decides the result whatever the
 * other side is, even an error, so errors are absorbed commutatively.
 */
export function compileLogical(e: CallExpr, h: CompilerHooks): Fn {
  const l = h.compile(e.args[0]!);
  const r = h.compile(e.args[1]!);
  const id = e.id;
  const fn = e.fn;
  const short = fn === "_||_";
  return (c) => {
    const a = l(c);
    if (a === short) return short;
    const b = r(c);
    if (b === short) return short;
    if (a === !short && b === !short) return !short;
    if (a instanceof CelError) return a;
    if (b instanceof CelError) return b;
    return attachNode(noSuchOverload(fn, a, b), id);
  };
}

/** `!a`. */
export function compileNot(e: CallExpr, h: CompilerHooks): Fn {
  const arg = h.compile(e.args[0]!);
  const id = e.id;
  return (c) => {
    const v = arg(c);
    if (v === true) return false;
    if (v === false) return true;
    return v instanceof CelError ? v : attachNode(noSuchOverload("!_", v), id);
  };
}

/** `c ? a : b`. */
export function compileConditional(e: CallExpr, h: CompilerHooks): Fn {
  const cond = h.compile(e.args[0]!);
  const yes = h.compile(e.args[1]!);
  const no = h.compile(e.args[2]!);
  const id = e.id;
  return (c) => {
    const v = cond(c);
    if (v === true) return yes(c);
    if (v === false) return no(c);
    return v instanceof CelError ? v : attachNode(noSuchOverload("_?_:_", v), id);
  };
}

/** The loop condition of `all`/`exists`: anything but `false` continues. */
export function compileNotStrictlyFalse(e: CallExpr, h: CompilerHooks): Fn {
  const arg = h.compile(e.args[0]!);
  return (c) => arg(c) !== false;
}

/** `a == b` / `a != b`. */
export function compileEquality(e: CallExpr, h: CompilerHooks): Fn {
  const negate = e.fn === "_!=_";
  const [le, re] = e.args as [Expr, Expr];
  // `x == 'lit'` / `'lit' == x`: compare without boxing.
  const split = constantOperand(le, re, (x) => h.constOf(x));
  if (split !== undefined) {
    const k = split.constant.value;
    const varSide = split.other;
    const sizeFused = fuseSize(varSide, k, h, (n, m) => (n === m) !== negate);
    if (sizeFused !== undefined) return sizeFused;
    const x = h.compile(varSide);
    if (typeof k === "string" || typeof k === "boolean") {
      return (c) => {
        const v = x(c);
        if (typeof v === typeof k) return (v === k) !== negate;
        return v instanceof CelError ? v : negate;
      };
    }
    if (typeof k === "number" && k === k) {
      return (c) => {
        const v = x(c);
        if (typeof v === "number") return (v === k) !== negate;
        return v instanceof CelError ? v : celEquals(v, k) !== negate;
      };
    }
    if (k === null) {
      return (c) => {
        const v = x(c);
        if (v === null || v === undefined) return !negate;
        return v instanceof CelError ? v : negate;
      };
    }
    return (c) => {
      const v = x(c);
      return v instanceof CelError ? v : celEquals(v, k) !== negate;
    };
  }
  const l = h.compile(le);
  const r = h.compile(re);
  const id = e.id;
  return (c) => {
    const a = l(c);
    if (a instanceof CelError) return a;
    const b = r(c);
    if (b instanceof CelError) return b;
    // Two values of the data compare in time of their size.
    chargeScan(c, a, id);
    return celEquals(a, b) !== negate;
  };
}

/**
 * `size(x) OP k` with a small int constant `k`: compares the JS length directly, so the hot
 * path neither allocates nor uses BigInt.
 */
function fuseSize(e: Expr, k: unknown, h: CompilerHooks, test: (n: number, k: number) => boolean): Fn | undefined {
  if (e.kind !== "call" || typeof k !== "bigint" || !resolvesWithin(h.overloads(e), SIZE_OVERLOADS)) return undefined;
  if (k < -0x1fffffffffffffn || k > 0x1fffffffffffffn) return undefined;
  const argExpr = e.target ?? (e.args.length === 1 ? e.args[0] : undefined);
  if (argExpr === undefined || (e.target !== undefined && e.args.length > 0)) return undefined;
  const arg = h.compile(argExpr);
  const km = Number(k);
  const id = e.id;
  const lenient = h.lenient;
  return (c) => {
    const v = arg(c);
    if (v instanceof CelError) return v;
    const n = sizeOf(v, lenient);
    return n < 0 ? attachNode(noSuchOverload("size", v), id) : test(n, km);
  };
}

/** `a < b`, `a <= b`, `a > b`, `a >= b`, across numeric kinds. */
export function compileRelation(e: CallExpr, h: CompilerHooks): Fn {
  const test = RELATIONS[e.fn]!;
  const [le, re] = e.args as [Expr, Expr];
  const rc = h.constOf(re);
  const id = e.id;
  const fn = e.fn;
  if (rc !== undefined) {
    const k = rc.value;
    const fused = fuseSize(le, k, h, (n, m) => test(n < m ? -1 : n > m ? 1 : 0));
    if (fused !== undefined) return fused;
    const x = h.compile(le);
    // Against a number (or an int exactly representable as one), compare JS numbers directly.
    // CEL compares an int with a double by converting the int to the nearest double.
    const kn = typeof k === "number" ? k : typeof k === "bigint" ? Number(k) : undefined;
    if (kn !== undefined) {
      return (c) => {
        const v = x(c);
        if (typeof v === "number") return v === v && kn === kn && test(v < kn ? -1 : v > kn ? 1 : 0);
        if (v instanceof CelError) return v;
        const cmp = celCompare(v, k);
        if (cmp === undefined) return attachNode(noSuchOverload(fn, v, k), id);
        return cmp === cmp && test(cmp);
      };
    }
    return (c) => {
      const v = x(c);
      if (v instanceof CelError) return v;
      const cmp = celCompare(v, k);
      if (cmp === undefined) return attachNode(noSuchOverload(fn, v, k), id);
      return cmp === cmp && test(cmp);
    };
  }
  const l = h.compile(le);
  const r = h.compile(re);
  return (c) => {
    const a = l(c);
    if (a instanceof CelError) return a;
    const b = r(c);
    if (b instanceof CelError) return b;
    if (typeof a === "number" && typeof b === "number") return test(a < b ? -1 : a > b ? 1 : a === b ? 0 : NaN);
    const cmp = celCompare(a, b);
    if (cmp === undefined) return attachNode(noSuchOverload(fn, a, b), id);
    return cmp === cmp && test(cmp);
  };
}

/** `x in list` / `x in map`; a constant list of strings becomes a set lookup. */
export function compileIn(e: CallExpr, h: CompilerHooks): Fn {
  const [le, re] = e.args as [Expr, Expr];
  const id = e.id;
  const rc = h.constOf(re);
  const x = h.compile(le);
  if (rc !== undefined && Array.isArray(rc.value)) {
    const list = rc.value as readonly unknown[];
    if (list.every((v) => typeof v === "string")) {
      const set = new Set(list as string[]);
      return (c) => {
        const v = x(c);
        if (typeof v === "string") return set.has(v);
        return v instanceof CelError ? v : false;
      };
    }
    return (c) => {
      const v = x(c);
      if (v instanceof CelError) return v;
      for (const item of list) if (celEquals(v, item)) return true;
      return false;
    };
  }
  const r = h.compile(re);
  const lenient = h.lenient;
  return (c) => {
    const v = x(c);
    if (v instanceof CelError) return v;
    const container = r(c);
    if (container instanceof CelError) return container;
    if (Array.isArray(container)) {
      chargeScan(c, container, id);
      for (const item of container) if (celEquals(v, item)) return true;
      return false;
    }
    if (kindOf(container) === "map") return mapGet(container as Map<unknown, unknown>, v) !== MISSING;
    if (lenient && (container === null || container === undefined)) return false;
    return attachNode(noSuchOverload("@in", v, container), id);
  };
}
