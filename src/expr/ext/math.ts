/**
 * cel-go's math extension (ext/math.go, latest version): `math.greatest`, `math.least` (macros
 * expanding to `math.@max`/`math.@min`), `math.ceil`, `floor`, `round`, `trunc`, `isInf`,
 * `isNaN`, `isFinite`, `abs`, `sign`, `sqrt`, and the bit operations `bitAnd`, `bitOr`,
 * `bitXor`, `bitNot`, `bitShiftLeft`, `bitShiftRight`.
 *
 * @module
 */
import { fn, overload, T, type FunctionDecl } from "../decls.js";
import { celCompare, kindOf, noSuchOverload } from "../runtime/core.js";
import { listType } from "../types.js";
import { CelError, CelUint, INT64_MIN } from "../values.js";

const { int: i, uint: u, double: d, bool: b } = T;

type Num = number | bigint | CelUint;

/** Whether a value is one of the three numeric kinds. */
function isNumber(v: unknown): v is Num {
  return typeof v === "number" || typeof v === "bigint" || v instanceof CelUint;
}

/** The smaller (`sign` -1) or greater (`sign` 1) of two numbers; the first on a tie. */
function pick(a: unknown, x: unknown, sign: 1 | -1, name: string): unknown {
  const c = celCompare(a, x);
  if (c === undefined || !isNumber(a) || !isNumber(x)) return new CelError("no_such_overload", `no such overload: ${name}`);
  // A NaN compares as neither smaller nor greater: the value seen first stays.
  return c === -sign ? x : a;
}

/** `math.@max` / `math.@min` of a list: an error when it is empty or holds a non-number. */
export function pickList(list: readonly unknown[], sign: 1 | -1, name: string): unknown {
  if (list.length === 0) return new CelError("invalid_argument", `${name}(list) argument must not be empty`);
  let best = list[0];
  if (!isNumber(best)) return new CelError("no_such_overload", `no such overload: ${name}`);
  for (let k = 1; k < list.length; k++) {
    best = pick(best, list[k], sign, name);
    if (best instanceof CelError) return best;
  }
  return best;
}

/** The overloads of `math.@max` (`sign` 1) or `math.@min` (`sign` -1), with cel-go's ids. */
function extremum(name: "@max" | "@min", sign: 1 | -1): FunctionDecl {
  const full = `math.${name}`;
  const id = `math_${name}`;
  const pair = (a: unknown, x: unknown): unknown => pick(a, x, sign, full);
  const identity = (v: unknown): unknown => v;
  const list = (l: readonly unknown[]): unknown => pickList(l, sign, full);
  return fn(
    full,
    overload(`${id}_double`, [d], d, identity),
    overload(`${id}_int`, [i], i, identity),
    overload(`${id}_uint`, [u], u, identity),
    overload(`${id}_double_double`, [d, d], d, pair),
    overload(`${id}_int_int`, [i, i], i, pair),
    overload(`${id}_uint_uint`, [u, u], u, pair),
    overload(`${id}_int_uint`, [i, u], T.dyn, pair),
    overload(`${id}_int_double`, [i, d], T.dyn, pair),
    overload(`${id}_double_int`, [d, i], T.dyn, pair),
    overload(`${id}_double_uint`, [d, u], T.dyn, pair),
    overload(`${id}_uint_int`, [u, i], T.dyn, pair),
    overload(`${id}_uint_double`, [u, d], T.dyn, pair),
    overload(`${id}_list_double`, [listType(d)], d, list),
    overload(`${id}_list_int`, [listType(i)], i, list),
    overload(`${id}_list_uint`, [listType(u)], u, list),
  );
}

/** Go's `math.Round`: halves away from zero. */
function round(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** A shift count: an error when negative (cel-go's message), else at most 64. */
function shiftCount(bits: bigint, name: string): bigint | CelError {
  if (bits < 0n) return new CelError("invalid_argument", `math.${name}() negative offset: ${bits}`);
  return bits > 64n ? 64n : bits;
}

function shiftLeftInt(v: bigint, bits: bigint): bigint | CelError {
  const n = shiftCount(bits, "bitShiftLeft");
  return typeof n === "bigint" ? BigInt.asIntN(64, v << n) : n;
}

function shiftLeftUint(v: CelUint, bits: bigint): CelUint | CelError {
  const n = shiftCount(bits, "bitShiftLeft");
  return typeof n === "bigint" ? new CelUint(BigInt.asUintN(64, v.value << n)) : n;
}

/** A logical shift, as cel-go shifts an int: through uint64. */
function shiftRightInt(v: bigint, bits: bigint): bigint | CelError {
  const n = shiftCount(bits, "bitShiftRight");
  return typeof n === "bigint" ? BigInt.asIntN(64, BigInt.asUintN(64, v) >> n) : n;
}

function shiftRightUint(v: CelUint, bits: bigint): CelUint | CelError {
  const n = shiftCount(bits, "bitShiftRight");
  return typeof n === "bigint" ? new CelUint(v.value >> n) : n;
}

/** `math.sign` of any number, by its kind. */
function sign(v: unknown): unknown {
  if (typeof v === "number") return v !== v ? v : v > 0 ? 1 : v < 0 ? -1 : 0;
  if (typeof v === "bigint") return v > 0n ? 1n : v < 0n ? -1n : 0n;
  if (v instanceof CelUint) return new CelUint(v.value === 0n ? 0n : 1n);
  return noSuchOverload("math.sign", v);
}

/** `math.sqrt` of any number, as a double. */
function sqrt(v: unknown): unknown {
  if (kindOf(v) === "uint") return Math.sqrt(Number((v as CelUint).value));
  if (typeof v === "number" || typeof v === "bigint") return Math.sqrt(Number(v));
  return new CelError("no_such_overload", "no such overload: sqrt");
}

/** The math extension. */
export const MATH_EXTENSION: readonly FunctionDecl[] = [
  extremum("@max", 1),
  extremum("@min", -1),
  fn("math.ceil", overload("math_ceil_double", [d], d, Math.ceil)),
  fn("math.floor", overload("math_floor_double", [d], d, Math.floor)),
  fn("math.round", overload("math_round_double", [d], d, round)),
  fn("math.trunc", overload("math_trunc_double", [d], d, Math.trunc)),
  fn("math.isInf", overload("math_isInf_double", [d], b, (x: number) => x === Infinity || x === -Infinity)),
  fn("math.isNaN", overload("math_isNaN_double", [d], b, (x: number) => x !== x)),
  fn("math.isFinite", overload("math_isFinite_double", [d], b, (x: number) => Number.isFinite(x))),
  fn(
    "math.abs",
    overload("math_abs_double", [d], d, Math.abs),
    overload("math_abs_int", [i], i, (x: bigint) => (x === INT64_MIN ? new CelError("overflow", "integer overflow") : x < 0n ? -x : x)),
    overload("math_abs_uint", [u], u, (x: CelUint) => x),
  ),
  fn("math.sign", overload("math_sign_double", [d], d, sign), overload("math_sign_int", [i], i, sign), overload("math_sign_uint", [u], u, sign)),
  fn("math.sqrt", overload("math_sqrt_double", [d], d, sqrt), overload("math_sqrt_int", [i], d, sqrt), overload("math_sqrt_uint", [u], d, sqrt)),
  fn(
    "math.bitAnd",
    overload("math_bitAnd_int_int", [i, i], i, (x: bigint, y: bigint) => x & y),
    overload("math_bitAnd_uint_uint", [u, u], u, (x: CelUint, y: CelUint) => new CelUint(x.value & y.value)),
  ),
  fn(
    "math.bitOr",
    overload("math_bitOr_int_int", [i, i], i, (x: bigint, y: bigint) => x | y),
    overload("math_bitOr_uint_uint", [u, u], u, (x: CelUint, y: CelUint) => new CelUint(x.value | y.value)),
  ),
  fn(
    "math.bitXor",
    overload("math_bitXor_int_int", [i, i], i, (x: bigint, y: bigint) => x ^ y),
    overload("math_bitXor_uint_uint", [u, u], u, (x: CelUint, y: CelUint) => new CelUint(x.value ^ y.value)),
  ),
  fn(
    "math.bitNot",
    overload("math_bitNot_int_int", [i], i, (x: bigint) => ~x),
    overload("math_bitNot_uint_uint", [u], u, (x: CelUint) => new CelUint(BigInt.asUintN(64, ~x.value))),
  ),
  fn(
    "math.bitShiftLeft",
    overload("math_bitShiftLeft_int_int", [i, i], i, shiftLeftInt),
    overload("math_bitShiftLeft_uint_int", [u, i], u, shiftLeftUint),
  ),
  fn(
    "math.bitShiftRight",
    overload("math_bitShiftRight_int_int", [i, i], i, shiftRightInt),
    overload("math_bitShiftRight_uint_int", [u, i], u, shiftRightUint),
  ),
];
