/**
 * cel-go's sets extension (ext/sets.go): `sets.contains`, `sets.equivalent`, `sets.intersects`
 * over lists, with CEL equality (so `1`, `1u` and `1.0` are the same element).
 *
 * Elements are tested through a hash set where CEL equality allows it (`runtime/element-set.ts`),
 * so the work is linear in the lists' sizes for strings, booleans, null and numbers below 2^53,
 * and pairwise for the other elements; each call is charged that work before it runs
 * (`OverloadDecl.cost`), so a call over two large lists of lists stops at the budget.
 *
 * @module
 */
import { fn, overload, T, type FunctionDecl } from "../decls.js";
import { containsAll, containsAny, membershipCost } from "../runtime/element-set.js";
import { listType, type Type } from "../types.js";

const LIST_T = listType({ kind: "param", name: "T" } satisfies Type);

/** Whether every element of `sub` is in `list`. */
export function setsContains(list: readonly unknown[], sub: readonly unknown[]): boolean {
  return containsAll(list, sub);
}

/** Whether the two lists hold the same elements, ignoring order and repetition. */
export function setsEquivalent(a: readonly unknown[], b: readonly unknown[]): boolean {
  return containsAll(a, b) && containsAll(b, a);
}

/** Whether the two lists share an element. */
export function setsIntersects(a: readonly unknown[], b: readonly unknown[]): boolean {
  return containsAny(a, b);
}

/** The work of one membership pass over two list arguments; 0 for other arguments (dispatch reports them). */
function pairCost(args: readonly unknown[]): number {
  const [a, b] = args;
  return Array.isArray(a) && Array.isArray(b) ? membershipCost(a, b) : 0;
}

/** `sets.equivalent` makes two passes. */
const twoPairCosts = (args: readonly unknown[]): number => 2 * pairCost(args);

/** The sets extension. */
export const SETS_EXTENSION: readonly FunctionDecl[] = [
  fn("sets.contains", overload("list_sets_contains_list", [LIST_T, LIST_T], T.bool, setsContains, { cost: pairCost })),
  fn("sets.equivalent", overload("list_sets_equivalent_list", [LIST_T, LIST_T], T.bool, setsEquivalent, { cost: twoPairCosts })),
  fn("sets.intersects", overload("list_sets_intersects_list", [LIST_T, LIST_T], T.bool, setsIntersects, { cost: pairCost })),
];
