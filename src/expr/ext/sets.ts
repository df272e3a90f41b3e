/**
 * cel-go's sets extension (ext/sets.go): `sets.contains`, `sets.equivalent`, `sets.intersects`
 * over lists, with CEL equality (so `1`, `1u` and `1.0` are the same element).
 *
 * @module
 */
import { fn, overload, T, type FunctionDecl } from "../decls.js";
import { celEquals } from "../runtime/core.js";
import { listType, type Type } from "../types.js";

const LIST_T = listType({ kind: "param", name: "T" } satisfies Type);

function has(list: readonly unknown[], v: unknown): boolean {
  for (const w of list) if (celEquals(v, w)) return true;
  return false;
}

/** Whether every element of `sub` is in `list`. */
export function setsContains(list: readonly unknown[], sub: readonly unknown[]): boolean {
  return sub.every((v) => has(list, v));
}

/** Whether the two lists hold the same elements, ignoring order and repetition. */
export function setsEquivalent(a: readonly unknown[], b: readonly unknown[]): boolean {
  return setsContains(a, b) && setsContains(b, a);
}

/** Whether the two lists share an element. */
export function setsIntersects(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.some((v) => has(b, v));
}

/** The sets extension. */
export const SETS_EXTENSION: readonly FunctionDecl[] = [
  fn("sets.contains", overload("list_sets_contains_list", [LIST_T, LIST_T], T.bool, setsContains)),
  fn("sets.equivalent", overload("list_sets_equivalent_list", [LIST_T, LIST_T], T.bool, setsEquivalent)),
  fn("sets.intersects", overload("list_sets_intersects_list", [LIST_T, LIST_T], T.bool, setsIntersects)),
];
