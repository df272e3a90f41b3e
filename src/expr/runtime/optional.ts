/**
 * Operations on optional values (cel-go's `types.Optional`): zero values for
 * `optional.ofNonZeroValue`, optional selection and indexing, unwrapping lists of optionals.
 *
 * @module
 */
import { CelDuration, CelError, CelOptional, CelTimestamp, CelUint, MIN_TIMESTAMP_SECONDS } from "../values.js";
import { kindName, kindOf, mapGet, mapSize, MISSING } from "./core.js";

/** Whether `v` is the zero value of its type (cel-go's `IsZeroValue`): `optional.ofNonZeroValue` drops it. */
export function isZeroValue(v: unknown): boolean {
  switch (typeof v) {
    case "string":
      return v === "";
    case "number":
      return v === 0;
    case "bigint":
      return v === 0n;
    case "boolean":
      return !v;
    case "undefined":
      return true;
    default:
      break;
  }
  if (v === null) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (v instanceof Uint8Array) return v.length === 0;
  if (v instanceof CelUint) return v.value === 0n;
  if (v instanceof CelDuration) return v.seconds === 0 && v.nanos === 0;
  // Go's zero time is 0001-01-01T00:00:00Z, CEL's earliest timestamp.
  if (v instanceof CelTimestamp) return v.seconds === MIN_TIMESTAMP_SECONDS && v.nanos === 0;
  if (v instanceof Date) return v.getTime() === MIN_TIMESTAMP_SECONDS * 1000;
  if (v instanceof CelOptional) return !v.hasValue;
  if (kindOf(v) === "map") return mapSize(v as Map<unknown, unknown>) === 0;
  return false;
}

/** An integral index of a list (int, uint, or a double with an integral value), or undefined. */
function integralIndex(k: unknown): number | undefined {
  if (typeof k === "bigint") return k < 0n || k > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(k);
  if (k instanceof CelUint) return k.value > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(k.value);
  if (typeof k === "number" && Number.isInteger(k)) return k;
  return undefined;
}

/**
 * `x[?k]`: `optional.of(x[k])` when the element or entry exists, `optional.none()` when it does
 * not (or `x` is itself an empty optional); an error for a value that cannot be indexed.
 */
export function optionalIndex(x: unknown, k: unknown, nodeId: number): unknown {
  let v = x;
  if (v instanceof CelOptional) {
    if (!v.hasValue) return CelOptional.NONE;
    v = v.value;
  }
  if (Array.isArray(v)) {
    const n = integralIndex(k);
    if (n === undefined) return new CelError("no_such_overload", `no such overload: list[?${kindName(k)}]`, nodeId);
    return n >= 0 && n < v.length ? CelOptional.of(v[n]) : CelOptional.NONE;
  }
  if (kindOf(v) === "map") {
    const r = mapGet(v as Map<unknown, unknown>, k);
    return r === MISSING ? CelOptional.NONE : CelOptional.of(r ?? null);
  }
  return new CelError("no_such_overload", `no such overload: ${kindName(v)}[?${kindName(k)}]`, nodeId);
}

/** `optional.unwrap(list)` / `list.unwrapOpt()`: the values of the non-empty optionals. */
export function unwrapOptionals(list: readonly unknown[]): unknown {
  const out: unknown[] = [];
  for (const v of list) {
    if (!(v instanceof CelOptional)) return new CelError("invalid_argument", `value ${String(v)} is not optional`);
    if (v.hasValue) out.push(v.value);
  }
  return out;
}
