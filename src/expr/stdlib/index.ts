/**
 * The CEL standard library: one overload table, read by the checker for signatures and by the
 * compiler for implementations, declared by area with each overload's implementation beside it.
 * Overload ids are cel-go's.
 *
 * A library of functions (an area here, an extension in `../ext/`, a dialect's own functions) is
 * a `FunctionDecl[]`; a dialect merges the libraries it offers with `functionTable`.
 *
 * @module
 */
import { A, B, type FunctionDecl } from "../decls.js";
import { listType, mapType, T } from "../types.js";
import { CONTAINERS } from "./containers.js";
import { CONVERSIONS } from "./conversions.js";
import { LOGIC } from "./logic.js";
import { MATH } from "./math.js";
import { STRINGS } from "./strings.js";
import { TIME } from "./time.js";

export { SIZE_OVERLOADS } from "./containers.js";

/** The standard library of the `cel` dialect (and the base of `inngest`). */
export const STANDARD_FUNCTIONS: readonly FunctionDecl[] = [...LOGIC, ...MATH, ...CONTAINERS, ...CONVERSIONS, ...STRINGS, ...TIME];

/** Types whose names are identifiers in every environment (`int`, `list`, …), with their type values. */
export const TYPE_IDENTIFIERS = {
  bool: T.bool,
  bytes: T.bytes,
  double: T.double,
  int: T.int,
  uint: T.uint,
  string: T.string,
  null_type: T.null,
  type: T.type,
  list: listType(A),
  map: mapType(A, B),
  "google.protobuf.Timestamp": T.timestamp,
  "google.protobuf.Duration": T.duration,
} as const;
