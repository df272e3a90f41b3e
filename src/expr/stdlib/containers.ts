/**
 * The standard library on lists and maps (and the sizes of strings and bytes): indexing, `in`,
 * `size`.
 *
 * @module
 */
import { A, B, fn, LIST_A, MAP_AB, member, overload, T, type FunctionDecl } from "../decls.js";
import { indexCel } from "../runtime/access.js";
import { celEquals, mapGet, MISSING, noSuchOverload, sizeOf, smallInt } from "../runtime/core.js";

const { bool: b, int: i, string: s, bytes: y } = T;

/** `size(x)` for strings (code points), bytes, lists and maps. */
function size(v: unknown): unknown {
  const n = sizeOf(v, false);
  return n < 0 ? noSuchOverload("size", v) : smallInt(n);
}

/**
 * The overload ids of `size`, global and receiver-style, for the specialisations that treat every
 * `size` call alike (the compiler, the generated fast paths, the SQL pushdown).
 */
export const SIZE_OVERLOADS: ReadonlySet<string> = new Set([
  "size_bytes",
  "bytes_size",
  "size_list",
  "list_size",
  "size_map",
  "map_size",
  "size_string",
  "string_size",
]);

/** Containers. */
export const CONTAINERS: readonly FunctionDecl[] = [
  fn(
    "_[_]",
    overload("index_list", [LIST_A, i], A, (l: readonly unknown[], k: unknown) => indexCel(l, k, 0)),
    overload("index_map", [MAP_AB, A], B, (m: unknown, k: unknown) => indexCel(m, k, 0)),
  ),
  fn(
    "@in",
    overload("in_list", [A, LIST_A], b, (v: unknown, l: readonly unknown[]) => l.some((x) => celEquals(v, x))),
    overload("in_map", [A, MAP_AB], b, (v: unknown, m: Map<unknown, unknown>) => mapGet(m, v) !== MISSING),
  ),
  fn(
    "size",
    overload("size_bytes", [y], i, size),
    member("bytes_size", [y], i, size),
    overload("size_list", [LIST_A], i, size),
    member("list_size", [LIST_A], i, size),
    overload("size_map", [MAP_AB], i, size),
    member("map_size", [MAP_AB], i, size),
    overload("size_string", [s], i, size),
    member("string_size", [s], i, size),
  ),
];
