/**
 * The standard library's arithmetic: `+ - * / %` and unary `-` on numbers, and `+`/`-` on
 * strings, bytes, lists, timestamps and durations. int and uint overflow is an error; double
 * follows IEEE 754.
 *
 * @module
 */
import { fn, LIST_A, overload, T, type FunctionDecl } from "../decls.js";
import * as conv from "../runtime/convert.js";
import { asTimestamp } from "../runtime/core.js";
import * as time from "../runtime/time.js";
import type { CelDuration, CelTimestamp } from "../values.js";

const { int: i, uint: u, double: d, string: s, bytes: y, timestamp: ts, duration: du } = T;

type Ts = CelTimestamp | Date;

/** What `+` builds can be much larger than its operands: charged by its size. */
const GROWS = { grows: true } as const;

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Arithmetic. */
export const MATH: readonly FunctionDecl[] = [
  fn(
    "_+_",
    overload("add_bytes", [y, y], y, concatBytes, GROWS),
    overload("add_double", [d, d], d, (a: number, b: number) => a + b),
    overload("add_duration_duration", [du, du], du, time.addDurations),
    overload("add_duration_timestamp", [du, ts], ts, (a: CelDuration, b: Ts) => time.addTimestampDuration(asTimestamp(b), a)),
    overload("add_timestamp_duration", [ts, du], ts, (a: Ts, b: CelDuration) => time.addTimestampDuration(asTimestamp(a), b)),
    overload("add_int64", [i, i], i, conv.addInt),
    overload("add_list", [LIST_A, LIST_A], LIST_A, (a: readonly unknown[], b: readonly unknown[]) => [...a, ...b], GROWS),
    overload("add_string", [s, s], s, (a: string, b: string) => a + b, GROWS),
    overload("add_uint64", [u, u], u, conv.addUint),
  ),
  fn(
    "_/_",
    overload("divide_double", [d, d], d, (a: number, b: number) => a / b),
    overload("divide_int64", [i, i], i, conv.divInt),
    overload("divide_uint64", [u, u], u, conv.divUint),
  ),
  fn("_%_", overload("modulo_int64", [i, i], i, conv.modInt), overload("modulo_uint64", [u, u], u, conv.modUint)),
  fn(
    "_*_",
    overload("multiply_double", [d, d], d, (a: number, b: number) => a * b),
    overload("multiply_int64", [i, i], i, conv.mulInt),
    overload("multiply_uint64", [u, u], u, conv.mulUint),
  ),
  fn("-_", overload("negate_double", [d], d, (a: number) => -a), overload("negate_int64", [i], i, conv.negInt)),
  fn(
    "_-_",
    overload("subtract_double", [d, d], d, (a: number, b: number) => a - b),
    overload("subtract_duration_duration", [du, du], du, time.subtractDurations),
    overload("subtract_int64", [i, i], i, conv.subInt),
    overload("subtract_timestamp_duration", [ts, du], ts, (a: Ts, b: CelDuration) => time.subtractTimestampDuration(asTimestamp(a), b)),
    overload("subtract_timestamp_timestamp", [ts, ts], du, (a: Ts, b: Ts) => time.subtractTimestamps(asTimestamp(a), asTimestamp(b))),
    overload("subtract_uint64", [u, u], u, conv.subUint),
  ),
];
