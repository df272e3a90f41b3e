/**
 * Field selection, indexing and presence tests on runtime values, in the two dialects.
 *
 * The fast path reads a property of a plain object (what JSON gives) without allocating. Names
 * that exist on `Object.prototype` (`constructor`, `toString`, …) always go through `Object.hasOwn`
 * so that no expression can reach a prototype property.
 *
 * @module
 */
import { kindName, kindOf, mapGet, MISSING, noSuchOverload, UNKNOWN } from "./core.js";
import { CelError, CelOptional, CelUint, INT64_MAX, INT64_MIN } from "../values.js";
import { optionalIndex } from "./optional.js";

const PROTOTYPE_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

/** Whether reading `name` as a property could reach `Object.prototype`. */
export function isPrototypeName(name: string): boolean {
  return PROTOTYPE_NAMES.has(name);
}

/**
 * Reads field `name` of `v`: the value, {@link MISSING} when `v` is a map without that key, or
 * `NOT_A_MAP` when `v` is not a map. `v` must not be an error value.
 */
export function readField(v: unknown, name: string, prototypeName: boolean): unknown {
  if (typeof v === "object" && v !== null) {
    // (`__proto__`: see `compiler/select.ts`; a null-prototype object, or one with an own
    // `__proto__` key, is read below through `Object.hasOwn`.)
    if ((v as { readonly __proto__?: unknown }).__proto__ === Object.prototype) {
      // A plain object inherits only `Object.prototype`'s names, which `prototypeName` covers.
      const r = (v as Record<string, unknown>)[name];
      if (r !== undefined && !prototypeName) return r;
      return Object.hasOwn(v, name) ? (r === undefined ? null : r) : MISSING;
    }
    if (v instanceof Map) return mapGet(v, name);
    if (kindOf(v) === "map") {
      // An object with another prototype (`Object.create(p)`, a class instance): own
      // properties only, as everywhere else (`in`, `size`, equality, macros).
      return Object.hasOwn(v, name) ? ((v as Record<string, unknown>)[name] ?? null) : MISSING;
    }
  }
  return NOT_A_MAP;
}

/**
 * A JS `bigint` read from the input as a CEL int: itself when within int64, else an
 * `invalid_argument` error, so that no value outside int64 enters the engine (`2n ** 63n` would
 * otherwise compare above `9223372036854775807`).
 */
export function inputInt(v: bigint, nodeId: number): bigint | CelError {
  if (v <= INT64_MAX && v >= INT64_MIN) return v;
  return new CelError("invalid_argument", `int value out of int64 range: ${v}`, nodeId);
}

/** {@link inputInt} for any value read from the input: other values pass unchanged. */
export function checkedInput(v: unknown, nodeId: number): unknown {
  return typeof v === "bigint" ? inputInt(v, nodeId) : v;
}

/** Marker: the operand of a selection is not a map. */
export const NOT_A_MAP: unique symbol = Symbol("not a map");

/** The `cel` dialect's error for a selection on a value that has no fields. */
export function noSuchField(v: unknown, name: string, nodeId: number): CelError {
  if (v === null || v === undefined) {
    return new CelError("no_such_field", `no such field '${name}' on null`, nodeId);
  }
  return new CelError("no_such_overload", `type '${kindName(v)}' does not support field selection`, nodeId);
}

/** The `cel` dialect's error for a missing map key. */
export function noSuchKey(key: unknown, nodeId: number): CelError {
  return new CelError("no_such_key", `no such key: ${formatKey(key)}`, nodeId);
}

function formatKey(key: unknown): string {
  if (typeof key === "string") return key;
  if (typeof key === "bigint") return key.toString();
  if (key instanceof CelUint) return key.value.toString();
  return String(key);
}

/** Converts a list index value to a JS index, or an error (only integral numbers are indexes). */
function listIndex(list: readonly unknown[], index: unknown, nodeId: number): number | CelError {
  let n: number;
  if (typeof index === "bigint") {
    if (index < 0n || index >= BigInt(list.length)) return indexOutOfRange(index, list.length, nodeId);
    return Number(index);
  }
  if (index instanceof CelUint) {
    if (index.value >= BigInt(list.length)) return indexOutOfRange(index.value, list.length, nodeId);
    return Number(index.value);
  }
  if (typeof index === "number") {
    if (!Number.isInteger(index)) {
      return new CelError("invalid_argument", `unsupported index value ${index} in list`, nodeId);
    }
    n = index;
    if (n < 0 || n >= list.length) return indexOutOfRange(n, list.length, nodeId);
    return n;
  }
  return new CelError("no_such_overload", `no such overload: list[${kindName(index)}]`, nodeId);
}

function indexOutOfRange(index: bigint | number, size: number, nodeId: number): CelError {
  return new CelError("index_out_of_bounds", `index out of range: ${index} (list of size ${size})`, nodeId);
}

/**
 * `operand[index]` in the `cel` dialect: a list element or map value, or an error value. Both
 * arguments are non-error values.
 */
export function indexCel(operand: unknown, index: unknown, nodeId: number): unknown {
  // `opt[k]` of an optional list or map is `opt[?k]` (the optionals extension).
  if (operand instanceof CelOptional) return optionalIndex(operand, index, nodeId);
  if (Array.isArray(operand)) {
    const k = listIndex(operand, index, nodeId);
    return typeof k === "number" ? operand[k] : k;
  }
  if (kindOf(operand) === "map") {
    const kk = kindOf(index);
    if (kk !== "string" && kk !== "int" && kk !== "uint" && kk !== "bool" && kk !== "double") {
      return new CelError("no_such_overload", `unsupported map key type ${kindName(index)}`, nodeId);
    }
    const v = mapGet(operand as Map<unknown, unknown>, index);
    return v === MISSING ? noSuchKey(index, nodeId) : v;
  }
  return noSuchOverload("_[_]", operand, index);
}

/**
 * `operand[index]` in the `inngest` dialect: like `cel`, but a missing key, an index out of
 * range, or indexing into null or an unknown yields the unknown value.
 */
export function indexLenient(operand: unknown, index: unknown, nodeId: number): unknown {
  if (operand === UNKNOWN || index === UNKNOWN) return UNKNOWN;
  if (operand === null || operand === undefined) return UNKNOWN;
  const v = indexCel(operand, index, nodeId);
  if (v instanceof CelError && (v.code === "no_such_key" || v.code === "index_out_of_bounds")) return UNKNOWN;
  return v;
}
