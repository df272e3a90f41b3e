/**
 * cel-go's optional types (cel/library.go, `OptionalTypes`, latest version): `optional.of`,
 * `optional.ofNonZeroValue`, `optional.none`, `value`, `hasValue`, `or`, `orValue`, `x.?f` and
 * `x[?k]` selection, `[?e]` and `{?k: v}` literals, optional-aware `x[k]`, `first`, `last`,
 * `optional.unwrap` and `unwrapOpt`. (`optMap` and `optFlatMap` are macros: `parser/ext-macros.ts`.)
 *
 * @module
 */
import { fn, member, overload, T, type FunctionDecl } from "../decls.js";
import { isZeroValue, optionalIndex, unwrapOptionals } from "../runtime/optional.js";
import { listType, mapType, optionalType, type Type } from "../types.js";
import { CelError, CelOptional } from "../values.js";

const V: Type = { kind: "param", name: "V" };
const K: Type = { kind: "param", name: "K" };
const OPT_V = optionalType(V);
const LIST_V = listType(V);
const MAP_KV = mapType(K, V);

/** The optionals library. */
export const OPTIONALS_EXTENSION: readonly FunctionDecl[] = [
  fn("optional.of", overload("optional_of", [V], OPT_V, (v: unknown) => CelOptional.of(v))),
  fn(
    "optional.ofNonZeroValue",
    overload("optional_ofNonZeroValue", [V], OPT_V, (v: unknown) => (isZeroValue(v) ? CelOptional.NONE : CelOptional.of(v))),
  ),
  fn("optional.none", overload("optional_none", [], OPT_V, () => CelOptional.NONE)),
  fn(
    "value",
    member("optional_value", [OPT_V], V, (o: CelOptional) =>
      o.hasValue ? o.value : new CelError("invalid_argument", "optional.none() dereference"),
    ),
  ),
  fn("hasValue", member("optional_hasValue", [OPT_V], T.bool, (o: CelOptional) => o.hasValue)),
  // `or` and `orValue` evaluate their argument only when the receiver is empty: the compiler
  // specialises them (`compiler/optionals.ts`); these run when the checker could not tell.
  fn("or", member("optional_or_optional", [OPT_V, OPT_V], OPT_V, (o: CelOptional, other: CelOptional) => (o.hasValue ? o : other))),
  fn("orValue", member("optional_orValue_value", [OPT_V, V], V, (o: CelOptional, other: unknown) => (o.hasValue ? o.value : other))),
  // `x.?f`: typed by the checker and run by the compiler.
  fn("_?._", overload("select_optional_field", [T.dyn, T.string], OPT_V)),
  fn(
    "_[?_]",
    overload("list_optindex_optional_int", [LIST_V, T.int], OPT_V, (l: unknown, k: unknown) => optionalIndex(l, k, 0)),
    overload("optional_list_optindex_optional_int", [optionalType(LIST_V), T.int], OPT_V, (l: unknown, k: unknown) => optionalIndex(l, k, 0)),
    overload("map_optindex_optional_value", [MAP_KV, K], OPT_V, (m: unknown, k: unknown) => optionalIndex(m, k, 0)),
    overload("optional_map_optindex_optional_value", [optionalType(MAP_KV), K], OPT_V, (m: unknown, k: unknown) => optionalIndex(m, k, 0)),
  ),
  // `x[k]` of an optional list or map is run by the index operator's closure (`runtime/access.ts`).
  fn(
    "_[_]",
    overload("optional_list_index_int", [optionalType(LIST_V), T.int], OPT_V),
    overload("optional_map_index_value", [optionalType(MAP_KV), K], OPT_V),
  ),
  fn(
    "first",
    member("list_first", [LIST_V], OPT_V, (l: readonly unknown[]) => (l.length === 0 ? CelOptional.NONE : CelOptional.of(l[0]))),
  ),
  fn(
    "last",
    member("list_last", [LIST_V], OPT_V, (l: readonly unknown[]) => (l.length === 0 ? CelOptional.NONE : CelOptional.of(l[l.length - 1]))),
  ),
  fn("optional.unwrap", overload("optional_unwrap", [listType(OPT_V)], LIST_V, unwrapOptionals)),
  fn("unwrapOpt", member("optional_unwrapOpt", [listType(OPT_V)], LIST_V, unwrapOptionals)),
];
