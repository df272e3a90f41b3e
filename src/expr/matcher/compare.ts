/**
 * Comparisons of event values with the constants of indexed predicates, in the terms of CEL's value
 * model (see the README's JS↔CEL mapping): the same answers the compiled programs give, restated
 * here so that the matcher depends only on the value model and not on the compiler's internals.
 * The matcher's property tests hold the two together.
 *
 * @module
 */
import { CelTimestamp, CelUint } from "../values.js";

/** A constant an indexed predicate compares with. Numbers are doubles, bigints ints. */
export type Scalar = null | boolean | number | bigint | CelUint | string;

/** A constant of an ordering: a number, string or timestamp. */
export type Ordered = number | bigint | CelUint | string | CelTimestamp;

/** Whether `v` is one of CEL's numbers: a double (JS number), an int (bigint) or a uint. */
export function isNumeric(v: unknown): v is number | bigint | CelUint {
  return typeof v === "number" || typeof v === "bigint" || v instanceof CelUint;
}

/** The integer of an int or uint. */
function integerOf(v: bigint | CelUint): bigint {
  return typeof v === "bigint" ? v : v.value;
}

/**
 * CEL's numeric order: a double against an int or uint compares with the integer converted to the
 * nearest double (as cel-go does); two integers compare exactly. `NaN` when a double is NaN.
 */
export function compareNumeric(a: number | bigint | CelUint, b: number | bigint | CelUint): number {
  if (typeof a === "number" || typeof b === "number") {
    const x = typeof a === "number" ? a : Number(integerOf(a));
    const y = typeof b === "number" ? b : Number(integerOf(b));
    return x < y ? -1 : x > y ? 1 : x === y ? 0 : NaN;
  }
  const x = integerOf(a);
  const y = integerOf(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * A numeric value as the double every index key of numbers uses. Equal numbers (in CEL's sense)
 * get equal keys, and the conversion never reverses an order, so the key can find candidates for
 * equality and orderings; it can also merge integers that differ beyond 2^53, which the exact
 * comparison then separates.
 */
export function numericKey(v: number | bigint | CelUint): number {
  return typeof v === "number" ? v : Number(integerOf(v));
}

/** Whether every number that has the same {@link numericKey} as `v` is equal to `v` (in CEL). */
export function keyIsExact(v: number | bigint | CelUint): boolean {
  if (typeof v === "number") return true;
  const i = integerOf(v);
  return i >= -9007199254740992n && i <= 9007199254740992n;
}

/** Compares strings by Unicode code point, as CEL orders strings (JS `<` compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      // Surrogates encode code points above U+FFFF: move them above U+E000–FFFF.
      if (x >= 0xd800) x = x <= 0xdfff ? x + 0x2000 : x - 0x800;
      if (y >= 0xd800) y = y <= 0xdfff ? y + 0x2000 : y - 0x800;
      return x < y ? -1 : 1;
    }
  }
  return a.length < b.length ? -1 : 1;
}

/** Compares two timestamps. */
export function compareTimestamps(a: CelTimestamp, b: CelTimestamp): number {
  if (a.seconds !== b.seconds) return a.seconds < b.seconds ? -1 : 1;
  return a.nanos < b.nanos ? -1 : a.nanos > b.nanos ? 1 : 0;
}

/**
 * A timestamp as a double of seconds, for sorting: it may merge instants a few hundred
 * nanoseconds apart, never reverses their order.
 */
export function timestampKey(t: CelTimestamp): number {
  return t.seconds + t.nanos / 1e9;
}

/**
 * The index key of a scalar for equality: strings, booleans and `null` as themselves, numbers by
 * {@link numericKey}; `undefined` for a NaN, which equals nothing.
 */
export function equalityKey(v: Scalar): unknown {
  if (isNumeric(v)) {
    const k = numericKey(v);
    return k === k ? k : undefined;
  }
  return v;
}

/** Answers of a predicate on one value: certainly false, certainly true, or only the program can tell. */
export const NO = 0;
export const YES = 1;
export const MAYBE = 2;
/** One of {@link NO}, {@link YES}, {@link MAYBE}. */
export type Answer = typeof NO | typeof YES | typeof MAYBE;

/**
 * `v == c` for a present value `v` that is not an error (see `paths.ts` for what reaches here):
 * CEL's equality, heterogeneous for numbers, `false` between different kinds.
 */
export function equalsScalar(v: unknown, c: Scalar): boolean {
  if (typeof c === "string" || typeof c === "boolean" || c === null) return v === c;
  if (!isNumeric(v)) return false;
  return compareNumeric(v, c) === 0;
}

/**
 * `v <op> c` for a present value: `undefined` when the kinds cannot be ordered (an error in both
 * dialects), else the comparison's result (`false` with a NaN).
 */
export function orders(v: unknown, c: Ordered, test: (cmp: number) => boolean): boolean | undefined {
  if (typeof c === "string") return typeof v === "string" ? test(compareCodePoints(v, c)) : undefined;
  if (c instanceof CelTimestamp) return v instanceof CelTimestamp ? test(compareTimestamps(v, c)) : undefined;
  if (!isNumeric(v)) return undefined;
  const cmp = compareNumeric(v, c);
  return cmp === cmp && test(cmp);
}

/** The value Inngest substitutes for a `null` operand of an ordering against `c`, if `c`'s kind has one. */
export function zeroLike(c: Ordered): Ordered | undefined {
  if (typeof c === "string") return "";
  if (typeof c === "number") return 0;
  if (typeof c === "bigint") return 0n;
  if (c instanceof CelUint) return 0n;
  return undefined;
}
