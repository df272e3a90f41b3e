/**
 * The standard library's conversions: `type`, `dyn`, and one function per type (`int(x)`,
 * `string(x)`, `timestamp(x)`, …) with an overload per source type.
 *
 * @module
 */
import { A, fn, overload, T, type FunctionDecl } from "../decls.js";
import * as conv from "../runtime/convert.js";
import { asTimestamp, typeOfValue } from "../runtime/core.js";
import * as time from "../runtime/time.js";
import { typeType } from "../types.js";
import type { CelDuration, CelTimestamp } from "../values.js";

const { bool: b, int: i, uint: u, double: d, string: s, bytes: y, timestamp: ts, duration: du } = T;

type Ts = CelTimestamp | Date;

/** Any value unchanged (`dyn(x)`, `int(1)`, …). */
const identity = (v: unknown): unknown => v;

/** A string or bytes conversion builds a value as large as its source: charged by its size. */
const GROWS = { grows: true } as const;

/** Conversions. */
export const CONVERSIONS: readonly FunctionDecl[] = [
  fn("type", overload("type", [A], typeType(A), typeOfValue)),
  fn("bool", overload("bool_to_bool", [b], b, identity), overload("string_to_bool", [s], b, conv.stringToBool)),
  fn(
    "bytes",
    overload("bytes_to_bytes", [y], y, identity, GROWS),
    overload("string_to_bytes", [s], y, conv.stringToBytes, GROWS),
  ),
  fn(
    "double",
    overload("double_to_double", [d], d, identity),
    overload("int64_to_double", [i], d, conv.intToDouble),
    overload("string_to_double", [s], d, conv.stringToDouble),
    overload("uint64_to_double", [u], d, conv.uintToDouble),
  ),
  fn(
    "duration",
    overload("duration_to_duration", [du], du, identity),
    overload("string_to_duration", [s], du, time.parseDuration),
  ),
  fn("dyn", overload("to_dyn", [A], T.dyn, identity)),
  fn(
    "int",
    overload("int64_to_int64", [i], i, identity),
    overload("double_to_int64", [d], i, conv.doubleToInt),
    overload("duration_to_int64", [du], i, (v: CelDuration) => time.durationToNanos(v)),
    overload("string_to_int64", [s], i, conv.stringToInt),
    overload("timestamp_to_int64", [ts], i, (v: Ts) => time.timestampToSeconds(asTimestamp(v))),
    overload("uint64_to_int64", [u], i, conv.uintToInt),
  ),
  fn(
    "string",
    overload("string_to_string", [s], s, identity, GROWS),
    overload("bool_to_string", [b], s, conv.boolToString, GROWS),
    overload("bytes_to_string", [y], s, conv.bytesToString, GROWS),
    overload("double_to_string", [d], s, conv.doubleToString, GROWS),
    overload("duration_to_string", [du], s, time.formatDuration, GROWS),
    overload("int64_to_string", [i], s, conv.intToString, GROWS),
    overload("timestamp_to_string", [ts], s, (v: Ts) => time.formatTimestamp(asTimestamp(v)), GROWS),
    overload("uint64_to_string", [u], s, conv.uintToString, GROWS),
  ),
  fn(
    "timestamp",
    overload("timestamp_to_timestamp", [ts], ts, identity),
    overload("int64_to_timestamp", [i], ts, time.timestampFromSeconds),
    overload("string_to_timestamp", [s], ts, time.parseTimestamp),
  ),
  fn(
    "uint",
    overload("uint64_to_uint64", [u], u, identity),
    overload("double_to_uint64", [d], u, conv.doubleToUint),
    overload("int64_to_uint64", [i], u, conv.intToUint),
    overload("string_to_uint64", [s], u, conv.stringToUint),
  ),
];
