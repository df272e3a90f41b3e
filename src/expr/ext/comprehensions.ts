/**
 * The functions behind cel-go's two-variable comprehensions (ext/comprehensions.go) and bindings
 * (ext/bindings.go): `cel.@mapInsert`, which `transformMap` and `transformMapEntry` expand to, and
 * `cel.@block`, which the conformance data's `cel.block` expands to. The macros themselves are in
 * `parser/ext-macros.ts`.
 *
 * @module
 */
import { fn, overload, T, type FunctionDecl } from "../decls.js";
import { kindOf, mapGet, mapKeys, MISSING } from "../runtime/core.js";
import { listType, mapType, type Type } from "../types.js";
import { CelError } from "../values.js";

const K: Type = { kind: "param", name: "K" };
const V: Type = { kind: "param", name: "V" };
const MAP_KV = mapType(K, V);

type MapValue = Map<unknown, unknown> | Record<string, unknown>;

/** A copy of `m` as a `Map` with `k` set to `v`; an error when `k` is there already (cel-go's message). */
export function mapInsert(m: MapValue, k: unknown, v: unknown): Map<unknown, unknown> | CelError {
  if (mapGet(m, k) !== MISSING) return new CelError("invalid_argument", `insert failed: key ${String(k)} already exists`);
  const kind = kindOf(k);
  if (kind !== "string" && kind !== "int" && kind !== "uint" && kind !== "bool") {
    return new CelError("invalid_argument", `unsupported key type: ${kind}`);
  }
  const out = m instanceof Map ? new Map(m) : new Map(Object.entries(m));
  out.set(k, v);
  return out;
}

/** `m` with every entry of `update` inserted. */
function mapInsertAll(m: MapValue, update: MapValue): Map<unknown, unknown> | CelError {
  let out: Map<unknown, unknown> | CelError = m instanceof Map ? m : new Map(Object.entries(m));
  for (const k of mapKeys(update)) {
    out = mapInsert(out, k, mapGet(update, k));
    if (out instanceof CelError) return out;
  }
  return out;
}

/** `cel.@mapInsert` (two-variable comprehensions). */
export const TWO_VAR_COMPREHENSIONS_EXTENSION: readonly FunctionDecl[] = [
  fn(
    "cel.@mapInsert",
    overload("@mapInsert_map_key_value", [MAP_KV, K, V], MAP_KV, mapInsert, { grows: true }),
    overload("@mapInsert_map_map", [MAP_KV, MAP_KV], MAP_KV, mapInsertAll, { grows: true }),
  ),
];

/** `cel.@block` (compiled by the compiler: `compiler/comprehensions.ts`). */
export const BLOCK_EXTENSION: readonly FunctionDecl[] = [
  fn("cel.@block", overload("cel_block_list", [listType(T.dyn), { kind: "param", name: "T" }], { kind: "param", name: "T" })),
];
