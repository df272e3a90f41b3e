/**
 * cel-go's lists extension (ext/lists.go, latest version): `lists.range`, `slice`, `flatten`,
 * `distinct`, `reverse`, `sort`, `sortBy` (a macro over `@sortByAssociatedKeys`). `first` and
 * `last` return optionals and belong to the optionals library, as in cel-go.
 *
 * @module
 */
import { fn, member, overload, T, type FunctionDecl } from "../decls.js";
import { celCompare, kindOf, smallInt } from "../runtime/core.js";
import { distinctCost, distinctElements, sortCost } from "../runtime/element-set.js";
import { listType, type Type } from "../types.js";
import { CelError, INT64_MAX } from "../values.js";

const E: Type = { kind: "param", name: "T" };
const LIST_T = listType(E);

/** What these build can be as large as their arguments or larger: charged by its size. */
const GROWS = { grows: true } as const;

/** The element types `sort` accepts, with cel-go's type names (they make the overload ids). */
const COMPARABLE: readonly (readonly [string, Type])[] = [
  ["int", T.int],
  ["uint", T.uint],
  ["double", T.double],
  ["bool", T.bool],
  ["google.protobuf.Duration", T.duration],
  ["google.protobuf.Timestamp", T.timestamp],
  ["string", T.string],
  ["bytes", T.bytes],
];

/** Largest list `lists.range` builds before the evaluation's list limit says no (checked there too). */
const MAX_RANGE = 1 << 30;

/** `lists.range(n)`: `[0, 1, …, n-1]`; empty for n ≤ 0. */
export function listsRange(n: bigint): unknown {
  if (n <= 0n) return [];
  if (n > BigInt(MAX_RANGE)) return new CelError("cost_limit", `lists.range(${n}) exceeds the list size limit`);
  const count = Number(n);
  const out = new Array<unknown>(count);
  for (let k = 0; k < count; k++) out[k] = smallInt(k);
  return out;
}

/** `list.slice(start, end)` with cel-go's errors. */
export function slice(list: readonly unknown[], start: bigint, end: bigint): unknown {
  if (start < 0n || end < 0n) return new CelError("invalid_argument", `cannot slice(${start}, ${end}), negative indexes not supported`);
  if (start > end) {
    return new CelError("invalid_argument", `cannot slice(${start}, ${end}), start index must be less than or equal to end index`);
  }
  if (BigInt(list.length) < end) return new CelError("invalid_argument", `cannot slice(${start}, ${end}), list is length ${list.length}`);
  return list.slice(Number(start), Number(end));
}

/** `list.flatten(depth)`: nested lists spliced in, `depth` levels deep. */
export function flatten(list: readonly unknown[], depth: bigint): unknown {
  if (depth < 0n) return new CelError("invalid_argument", "level must be non-negative");
  const out: unknown[] = [];
  const walk = (l: readonly unknown[], d: bigint): void => {
    for (const v of l) {
      if (Array.isArray(v) && d > 0n) walk(v, d - 1n);
      else out.push(v);
    }
  };
  walk(list, depth > INT64_MAX ? INT64_MAX : depth);
  return out;
}

/** `list.distinct()`: the first of each group of equal elements, in order (see `runtime/element-set.ts`). */
export function distinct(list: readonly unknown[]): unknown[] {
  return distinctElements(list);
}

/**
 * What `distinct` is charged before it runs, beyond the size of its result: linear for elements a
 * hash set takes, pairwise for the others.
 */
const DISTINCT = { grows: true, cost: (args: readonly unknown[]) => (Array.isArray(args[0]) ? distinctCost(args[0]) : 0) } as const;

/** What `sort` and `@sortByAssociatedKeys` are charged before they run: the comparisons of sorting the keys, and the result. */
const SORTS = { grows: true, cost: sortKeysCost } as const;

/** The comparisons of sorting the keys, the last argument (the list itself for `sort`). */
function sortKeysCost(args: readonly unknown[]): number {
  const keys = args[args.length - 1];
  return Array.isArray(keys) ? sortCost(keys.length) : 0;
}

/** `list.@sortByAssociatedKeys(keys)`: `list` in the order of its keys (`sort` is the list by itself). */
export function sortByKeys(list: readonly unknown[], keys: readonly unknown[]): unknown {
  if (list.length !== keys.length) {
    return new CelError(
      "invalid_argument",
      `@sortByAssociatedKeys() expected a list of the same size as the associated keys list, but got ${list.length} and ${keys.length} elements respectively`,
    );
  }
  if (list.length === 0) return list;
  const kind = kindOf(keys[0]);
  if (!COMPARABLE.some(([, t]) => t.kind === kind)) return new CelError("invalid_argument", "list elements must be comparable");
  for (const k of keys) if (kindOf(k) !== kind) return new CelError("invalid_argument", "list elements must have the same type");
  const order = keys.map((_, k) => k);
  order.sort((a, b) => {
    const c = celCompare(keys[a], keys[b]);
    return c === undefined || c !== c ? 0 : c;
  });
  return order.map((k) => list[k]);
}

/** The lists extension. */
export const LISTS_EXTENSION: readonly FunctionDecl[] = [
  fn("lists.range", overload("lists_range", [T.int], listType(T.int), listsRange, GROWS)),
  fn("slice", member("list_slice", [LIST_T, T.int, T.int], LIST_T, slice, GROWS)),
  fn(
    "flatten",
    member("list_flatten", [listType(LIST_T)], LIST_T, (l: readonly unknown[]) => flatten(l, 1n), GROWS),
    member("list_flatten_int", [listType(T.dyn), T.int], listType(T.dyn), flatten, GROWS),
  ),
  fn("distinct", member("list_distinct", [LIST_T], LIST_T, distinct, DISTINCT)),
  fn("reverse", member("list_reverse", [LIST_T], LIST_T, (l: readonly unknown[]) => l.slice().reverse(), GROWS)),
  fn(
    "sort",
    ...COMPARABLE.map(([name, t]) => member(`list_${name}_sort`, [listType(t)], listType(t), (l: readonly unknown[]) => sortByKeys(l, l), SORTS)),
  ),
  fn(
    "@sortByAssociatedKeys",
    ...COMPARABLE.map(([name, t]) => member(`list_${name}_sortByAssociatedKeys`, [LIST_T, listType(t)], LIST_T, sortByKeys, SORTS)),
  ),
];
