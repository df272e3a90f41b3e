/**
 * Core runtime semantics: what kind a JS value is as a CEL value, CEL's heterogeneous equality and
 * ordering, map lookup, and the type of a value.
 *
 * @module
 */
import { CelDuration, CelError, CelOptional, CelTimestamp, CelType, CelUint, TYPES } from "../values.js";

/** Runtime kinds of CEL values. */
export type Kind =
  | "null"
  | "bool"
  | "int"
  | "uint"
  | "double"
  | "string"
  | "bytes"
  | "list"
  | "map"
  | "timestamp"
  | "duration"
  | "type"
  /** An optional value (the optionals extension). */
  | "optional"
  | "error"
  /** A missing attribute in the `inngest` dialect (see {@link UNKNOWN}). */
  | "missing"
  | "unknown";

/**
 * The value of a missing attribute in the `inngest` dialect: Inngest evaluates a field that is
 * absent from the event as a CEL "unknown", which differs from a JSON `null` (`missing == null` is
 * true, but `missing == missing` is false). It never leaves the engine: a result that is unknown
 * is `false`.
 */
export class Missing {
  toString(): string {
    return "<missing>";
  }
}

/** The one {@link Missing} instance. */
export const UNKNOWN: Missing = Object.freeze(new Missing());

/** The CEL kind of a JS value (see the value model in `values.ts`). */
export function kindOf(v: unknown): Kind {
  switch (typeof v) {
    case "string":
      return "string";
    case "number":
      return "double";
    case "boolean":
      return "bool";
    case "bigint":
      return "int";
    case "undefined":
      return "null";
    case "object":
      if (v === null) return "null";
      if (Array.isArray(v)) return "list";
      if (v instanceof Uint8Array) return "bytes";
      if (v instanceof CelUint) return "uint";
      if (v instanceof CelTimestamp || v instanceof Date) return "timestamp";
      if (v instanceof CelDuration) return "duration";
      if (v instanceof CelType) return "type";
      if (v instanceof CelError) return "error";
      if (v === UNKNOWN) return "missing";
      if (v instanceof CelOptional) return "optional";
      return "map";
    default:
      return "unknown";
  }
}

/** Whether a value is a map (a `Map` or a plain object). */
export function isMap(v: unknown): v is Map<unknown, unknown> | Record<string, unknown> {
  return kindOf(v) === "map";
}

/** The CEL type value of a runtime value (`type(x)`). */
export function typeOfValue(v: unknown): CelType | CelError {
  const k = kindOf(v);
  switch (k) {
    case "error":
      return v as CelError;
    case "unknown":
    case "missing":
      return new CelError("invalid_argument", `unsupported value of JS type ${typeof v}`);
    case "type":
      return TYPES.type;
    default:
      return TYPES[k];
  }
}

// ---------------------------------------------------------------------------------------------
// Numbers

/**
 * Compares a double with an int or uint given as bigint, as CEL (cel-go) does: the integer is
 * converted to the nearest double, so `dyn(9223372036854775807) < 9223372036854775808.0` is false.
 * Returns -1, 0, 1, or NaN when the double is NaN.
 */
export function compareDoubleBig(d: number, i: bigint): number {
  if (d !== d) return NaN;
  const n = Number(i);
  return d < n ? -1 : d > n ? 1 : 0;
}

/** Numeric value of an int, uint or double for comparison, or undefined if not numeric. */
function numericCompare(a: unknown, b: unknown): number | undefined {
  if (typeof a === "number") {
    if (typeof b === "number") return a < b ? -1 : a > b ? 1 : a === b ? 0 : NaN;
    if (typeof b === "bigint") return compareDoubleBig(a, b);
    if (b instanceof CelUint) return compareDoubleBig(a, b.value);
    return undefined;
  }
  const ai = typeof a === "bigint" ? a : a instanceof CelUint ? a.value : undefined;
  if (ai === undefined) return undefined;
  if (typeof b === "number") {
    const c = compareDoubleBig(b, ai);
    return c !== c ? NaN : -c;
  }
  const bi = typeof b === "bigint" ? b : b instanceof CelUint ? b.value : undefined;
  if (bi === undefined) return undefined;
  return ai < bi ? -1 : ai > bi ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Strings and bytes

/** Compares strings by Unicode code point (JS `<` compares UTF-16 units, which differs above U+FFFF). */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) {
      // Surrogates (U+D800–DFFF) encode code points above U+FFFF, so they sort after U+E000–FFFF.
      const sa = ca >= 0xd800 && ca <= 0xdfff;
      const sb = cb >= 0xd800 && cb <= 0xdfff;
      if (sa !== sb && ca >= 0xd800 && cb >= 0xd800) return sa ? 1 : -1;
      return ca < cb ? -1 : 1;
    }
  }
  return a.length < b.length ? -1 : 1;
}

/** Compares byte strings lexicographically. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A timestamp value as a CelTimestamp (a JS Date input is accepted as one). */
export function asTimestamp(v: CelTimestamp | Date): CelTimestamp {
  return v instanceof Date ? CelTimestamp.fromMillis(v.getTime()) : v;
}

// ---------------------------------------------------------------------------------------------
// Maps

/** Number of entries of a map value. */
export function mapSize(m: Map<unknown, unknown> | Record<string, unknown>): number {
  return m instanceof Map ? m.size : Object.keys(m).length;
}

/** Marker for "no such key", distinct from every CEL value. */
export const MISSING: unique symbol = Symbol("missing");

function isNumericKey(k: unknown): boolean {
  return typeof k === "bigint" || typeof k === "number" || k instanceof CelUint;
}

/**
 * Looks a key up in a map with CEL's key equality (an int key finds a uint or integral double
 * key of the same value). Returns {@link MISSING} when absent.
 */
export function mapGet(m: Map<unknown, unknown> | Record<string, unknown>, key: unknown): unknown {
  if (m instanceof Map) {
    const v = m.get(key);
    if (v !== undefined || m.has(key)) return v;
    if (isNumericKey(key)) {
      for (const [k, val] of m) {
        if (isNumericKey(k) && numericCompare(k, key) === 0) return val;
      }
    }
    return MISSING;
  }
  if (typeof key !== "string") return MISSING;
  return Object.hasOwn(m, key) ? m[key] : MISSING;
}

/** Iterates the keys of a map value. */
export function mapKeys(m: Map<unknown, unknown> | Record<string, unknown>): unknown[] {
  return m instanceof Map ? [...m.keys()] : Object.keys(m);
}

// ---------------------------------------------------------------------------------------------
// Equality and ordering

/**
 * CEL equality (`_==_`) on two non-error values: heterogeneous numeric equality, deep list and
 * map equality, `false` for values of different kinds.
 */
export function celEquals(a: unknown, b: unknown): boolean {
  // Identity decides only for scalars: a list or map compared with itself can still hold a NaN,
  // which makes it unequal to itself.
  if (a === b) {
    if (typeof a !== "object" || a === null) return typeof a !== "number" || a === a;
    const kind = kindOf(a);
    if (kind !== "list" && kind !== "map") return true;
  }
  switch (typeof a) {
    case "string":
    case "boolean":
      return false;
    case "number":
    case "bigint":
      return numericCompare(a, b) === 0;
    case "undefined":
      return b === null;
    default:
      break;
  }
  if (a === null) return b === undefined;
  if (a instanceof CelUint) return numericCompare(a, b) === 0;
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka !== kb) return false;
  switch (ka) {
    case "bytes":
      return bytesEqual(a as Uint8Array, b as Uint8Array);
    case "list": {
      const la = a as readonly unknown[];
      const lb = b as readonly unknown[];
      if (la.length !== lb.length) return false;
      for (let i = 0; i < la.length; i++) if (!celEquals(la[i], lb[i])) return false;
      return true;
    }
    case "map": {
      const ma = a as Map<unknown, unknown> | Record<string, unknown>;
      const mb = b as Map<unknown, unknown> | Record<string, unknown>;
      if (mapSize(ma) !== mapSize(mb)) return false;
      for (const k of mapKeys(ma)) {
        const vb = mapGet(mb, k);
        if (vb === MISSING || !celEquals(mapGet(ma, k), vb)) return false;
      }
      return true;
    }
    case "timestamp": {
      const ta = asTimestamp(a as CelTimestamp | Date);
      const tb = asTimestamp(b as CelTimestamp | Date);
      return ta.seconds === tb.seconds && ta.nanos === tb.nanos;
    }
    case "duration": {
      const da = a as CelDuration;
      const db = b as CelDuration;
      return da.seconds === db.seconds && da.nanos === db.nanos;
    }
    case "type":
      return (a as CelType).name === (b as CelType).name;
    case "optional": {
      const oa = a as CelOptional;
      const ob = b as CelOptional;
      return oa.hasValue === ob.hasValue && (!oa.hasValue || celEquals(oa.value, ob.value));
    }
    default:
      return false;
  }
}

/**
 * CEL ordering of two non-error values: -1, 0, 1; NaN when a double NaN takes part; `undefined`
 * when the kinds cannot be ordered (the caller reports `no_such_overload`).
 */
export function celCompare(a: unknown, b: unknown): number | undefined {
  if (typeof a === "string") {
    return typeof b === "string" ? compareStrings(a, b) : undefined;
  }
  const n = numericCompare(a, b);
  if (n !== undefined) return n;
  const ka = kindOf(a);
  if (ka !== kindOf(b)) return undefined;
  switch (ka) {
    case "bool":
      return a === b ? 0 : a === false ? -1 : 1;
    case "bytes":
      return compareBytes(a as Uint8Array, b as Uint8Array);
    case "timestamp": {
      const ta = asTimestamp(a as CelTimestamp | Date);
      const tb = asTimestamp(b as CelTimestamp | Date);
      return ta.seconds !== tb.seconds ? (ta.seconds < tb.seconds ? -1 : 1) : ta.nanos < tb.nanos ? -1 : ta.nanos > tb.nanos ? 1 : 0;
    }
    case "duration": {
      const da = a as CelDuration;
      const db = b as CelDuration;
      return da.seconds !== db.seconds ? (da.seconds < db.seconds ? -1 : 1) : da.nanos < db.nanos ? -1 : da.nanos > db.nanos ? 1 : 0;
    }
    default:
      return undefined;
  }
}

/** `no_such_overload` error value for a function applied to values of the wrong kinds. */
export function noSuchOverload(fn: string, ...args: unknown[]): CelError {
  return new CelError("no_such_overload", `no such overload: ${fn}(${args.map(kindName).join(", ")})`);
}

/** The CEL type name of a value, for messages. */
export function kindName(v: unknown): string {
  const k = kindOf(v);
  return k === "null" ? "null_type" : k === "optional" ? "optional_type" : k === "timestamp" ? "google.protobuf.Timestamp" : k === "duration" ? "google.protobuf.Duration" : k;
}

const SMALL_INTS: bigint[] = Array.from({ length: 1024 }, (_, k) => BigInt(k));

/** `BigInt(n)` without allocating for the small non-negative values sizes and counts usually are. */
export function smallInt(n: number): bigint {
  return n < 1024 ? SMALL_INTS[n]! : BigInt(n);
}

/** Number of Unicode code points of a string (CEL sizes and indexes count code points). */
export function codePointLength(s: string): number {
  let n = s.length;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c >= 0xd800 && c <= 0xdbff && k + 1 < s.length) {
      const d = s.charCodeAt(k + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        k++;
      }
    }
  }
  return n;
}

/** `size(v)` as a JS number, or -1 when `v` has no size. With `lenient`, null has size 0. */
export function sizeOf(v: unknown, lenient: boolean): number {
  if (typeof v === "string") return codePointLength(v);
  if (Array.isArray(v)) return v.length;
  if (v instanceof Uint8Array) return v.length;
  if (v === null || v === undefined) return lenient ? 0 : -1;
  if (isMap(v)) return mapSize(v);
  return -1;
}
