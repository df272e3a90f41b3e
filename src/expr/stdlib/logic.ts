/**
 * The standard library's logic: the conditional, the logical operators, equality and the
 * relations (cross-type numeric ones included, as cel-go enables them by default).
 *
 * The compiler implements `?:`, `&&`, `||` and `@not_strictly_false` itself (they are not strict:
 * they see errors and short-circuit); the implementations here serve dispatch on `dyn` operands.
 *
 * @module
 */
import { A, fn, overload, T, type FunctionDecl, type OverloadImpl } from "../decls.js";
import { celCompare, celEquals, noSuchOverload } from "../runtime/core.js";
import type { Type } from "../types.js";

const { bool: b, int: i, uint: u, double: d, string: s, bytes: y, timestamp: ts, duration: du } = T;

/** The implementation of a relation from a test on the comparison result. */
function relationImpl(op: string, test: (c: number) => boolean): OverloadImpl {
  return (a: unknown, c: unknown): unknown => {
    const cmp = celCompare(a, c);
    if (cmp === undefined) return noSuchOverload(op, a, c);
    return cmp === cmp && test(cmp);
  };
}

/** The operand kinds a relation accepts, with the suffix of their overload ids. */
const RELATION_OPERANDS: readonly (readonly [string, Type, Type])[] = [
  ["bool", b, b],
  ["int64", i, i],
  ["int64_double", i, d],
  ["int64_uint64", i, u],
  ["uint64", u, u],
  ["uint64_double", u, d],
  ["uint64_int64", u, i],
  ["double", d, d],
  ["double_int64", d, i],
  ["double_uint64", d, u],
  ["string", s, s],
  ["bytes", y, y],
  ["timestamp", ts, ts],
  ["duration", du, du],
];

/** A relation: overloads `<name>_<operands>` (`less_int64_double`, …), one implementation. */
function relation(op: string, name: string, test: (c: number) => boolean): FunctionDecl {
  const impl = relationImpl(op, test);
  return fn(op, ...RELATION_OPERANDS.map(([suffix, l, r]) => overload(`${name}_${suffix}`, [l, r], b, impl)));
}

/** Logic, equality and ordering. */
export const LOGIC: readonly FunctionDecl[] = [
  fn("_?_:_", overload("conditional", [b, A, A], A, undefined, { nonStrict: true })),
  fn("_&&_", overload("logical_and", [b, b], b, undefined, { nonStrict: true })),
  fn("_||_", overload("logical_or", [b, b], b, undefined, { nonStrict: true })),
  fn("!_", overload("logical_not", [b], b, (v: boolean) => !v)),
  fn("@not_strictly_false", overload("not_strictly_false", [b], b, undefined, { nonStrict: true })),
  fn("_==_", overload("equals", [A, A], b, (l: unknown, r: unknown) => celEquals(l, r))),
  fn("_!=_", overload("not_equals", [A, A], b, (l: unknown, r: unknown) => !celEquals(l, r))),
  relation("_<_", "less", (c) => c < 0),
  relation("_<=_", "less_equals", (c) => c <= 0),
  relation("_>_", "greater", (c) => c > 0),
  relation("_>=_", "greater_equals", (c) => c >= 0),
];
