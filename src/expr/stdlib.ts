/**
 * The CEL standard library and the cel-go strings extension: one overload table, read by the
 * checker for signatures and by the compiler for implementations. Overload ids are cel-go's.
 *
 * @module
 */
import { A, B, fn, LIST_A, MAP_AB, member, overload, T, type FunctionDecl, type OverloadImpl } from "./decls.js";
import { listType, mapType, type Type, typeType } from "./types.js";
import { IMPLEMENTATIONS as rt } from "./stdlib-impl.js";

const b = T.bool;
const i = T.int;
const u = T.uint;
const d = T.double;
const s = T.string;
const y = T.bytes;
const ts = T.timestamp;
const du = T.duration;
const n = T.null;

/** Relation overloads, cross-type numeric ones included (cel-go enables them by default). */
function relation(op: string, name: string, impl: (c: number) => boolean): FunctionDecl {
  const f: OverloadImpl = rt.relationImpl(op, impl);
  const pairs: [string, Type, Type][] = [
    ["bool", b, b],
    ["int64", i, i],
    ["int64_double", i, d],
    ["int64_uint64", i, u],
    ["uint64", u, u],
    ["uint64_double", u, d],
    ["uint64_int64", u, i],
    ["double", d, d],
    ["double_int64", d, i],
    ["double_uint64", d, u],
    ["string", s, s],
    ["bytes", y, y],
    ["timestamp", ts, ts],
    ["duration", du, du],
  ];
  return fn(op, ...pairs.map(([suffix, l, r]) => overload(`${name}_${suffix}`, [l, r], b, f)));
}

const timeAccessors: [string, string, string][] = [
  ["getFullYear", "timestamp_to_year", "timestamp_to_year_with_tz"],
  ["getMonth", "timestamp_to_month", "timestamp_to_month_with_tz"],
  ["getDayOfYear", "timestamp_to_day_of_year", "timestamp_to_day_of_year_with_tz"],
  ["getDayOfMonth", "timestamp_to_day_of_month", "timestamp_to_day_of_month_with_tz"],
  ["getDate", "timestamp_to_day_of_month_1_based", "timestamp_to_day_of_month_1_based_with_tz"],
  ["getDayOfWeek", "timestamp_to_day_of_week", "timestamp_to_day_of_week_with_tz"],
  ["getHours", "timestamp_to_hours", "timestamp_to_hours_with_tz"],
  ["getMinutes", "timestamp_to_minutes", "timestamp_to_minutes_with_tz"],
  ["getSeconds", "timestamp_to_seconds", "timestamp_to_seconds_tz"],
  ["getMilliseconds", "timestamp_to_milliseconds", "timestamp_to_milliseconds_with_tz"],
];

const durationAccessors: Record<string, string> = {
  getHours: "duration_to_hours",
  getMinutes: "duration_to_minutes",
  getSeconds: "duration_to_seconds",
  getMilliseconds: "duration_to_milliseconds",
};

/** The standard library of the `cel` dialect (and the base of `inngest`). */
export const STANDARD_FUNCTIONS: readonly FunctionDecl[] = [
  // Operators the compiler implements itself (non-strict or short-circuiting).
  fn("_?_:_", overload("conditional", [b, A, A], A, undefined, { nonStrict: true })),
  fn("_&&_", overload("logical_and", [b, b], b, undefined, { nonStrict: true })),
  fn("_||_", overload("logical_or", [b, b], b, undefined, { nonStrict: true })),
  fn("!_", overload("logical_not", [b], b, rt.logicalNot)),
  fn("@not_strictly_false", overload("not_strictly_false", [b], b, undefined, { nonStrict: true })),
  fn("_==_", overload("equals", [A, A], b, rt.equals)),
  fn("_!=_", overload("not_equals", [A, A], b, rt.notEquals)),

  fn(
    "_+_",
    overload("add_bytes", [y, y], y, rt.addBytes),
    overload("add_double", [d, d], d, rt.addDouble),
    overload("add_duration_duration", [du, du], du, rt.addDurationDuration),
    overload("add_duration_timestamp", [du, ts], ts, rt.addDurationTimestamp),
    overload("add_timestamp_duration", [ts, du], ts, rt.addTimestampDuration),
    overload("add_int64", [i, i], i, rt.addInt),
    overload("add_list", [LIST_A, LIST_A], LIST_A, rt.addList),
    overload("add_string", [s, s], s, rt.addString),
    overload("add_uint64", [u, u], u, rt.addUint),
  ),
  fn(
    "_/_",
    overload("divide_double", [d, d], d, rt.divideDouble),
    overload("divide_int64", [i, i], i, rt.divideInt),
    overload("divide_uint64", [u, u], u, rt.divideUint),
  ),
  fn("_%_", overload("modulo_int64", [i, i], i, rt.moduloInt), overload("modulo_uint64", [u, u], u, rt.moduloUint)),
  fn(
    "_*_",
    overload("multiply_double", [d, d], d, rt.multiplyDouble),
    overload("multiply_int64", [i, i], i, rt.multiplyInt),
    overload("multiply_uint64", [u, u], u, rt.multiplyUint),
  ),
  fn("-_", overload("negate_double", [d], d, rt.negateDouble), overload("negate_int64", [i], i, rt.negateInt)),
  fn(
    "_-_",
    overload("subtract_double", [d, d], d, rt.subtractDouble),
    overload("subtract_duration_duration", [du, du], du, rt.subtractDurationDuration),
    overload("subtract_int64", [i, i], i, rt.subtractInt),
    overload("subtract_timestamp_duration", [ts, du], ts, rt.subtractTimestampDuration),
    overload("subtract_timestamp_timestamp", [ts, ts], du, rt.subtractTimestampTimestamp),
    overload("subtract_uint64", [u, u], u, rt.subtractUint),
  ),
  relation("_<_", "less", (c) => c < 0),
  relation("_<=_", "less_equals", (c) => c <= 0),
  relation("_>_", "greater", (c) => c > 0),
  relation("_>=_", "greater_equals", (c) => c >= 0),

  fn("_[_]", overload("index_list", [LIST_A, i], A, rt.indexList), overload("index_map", [MAP_AB, A], B, rt.indexMap)),
  fn("@in", overload("in_list", [A, LIST_A], b, rt.inList), overload("in_map", [A, MAP_AB], b, rt.inMap)),

  fn(
    "size",
    overload("size_bytes", [y], i, rt.size),
    member("bytes_size", [y], i, rt.size),
    overload("size_list", [LIST_A], i, rt.size),
    member("list_size", [LIST_A], i, rt.size),
    overload("size_map", [MAP_AB], i, rt.size),
    member("map_size", [MAP_AB], i, rt.size),
    overload("size_string", [s], i, rt.size),
    member("string_size", [s], i, rt.size),
  ),

  // Conversions.
  fn("type", overload("type", [A], typeType(A), rt.typeOf)),
  fn("bool", overload("bool_to_bool", [b], b, rt.identity), overload("string_to_bool", [s], b, rt.stringToBool)),
  fn("bytes", overload("bytes_to_bytes", [y], y, rt.identity), overload("string_to_bytes", [s], y, rt.stringToBytes)),
  fn(
    "double",
    overload("double_to_double", [d], d, rt.identity),
    overload("int64_to_double", [i], d, rt.intToDouble),
    overload("string_to_double", [s], d, rt.stringToDouble),
    overload("uint64_to_double", [u], d, rt.uintToDouble),
  ),
  fn(
    "duration",
    overload("duration_to_duration", [du], du, rt.identity),
    overload("string_to_duration", [s], du, rt.stringToDuration),
  ),
  fn("dyn", overload("to_dyn", [A], T.dyn, rt.identity)),
  fn(
    "int",
    overload("int64_to_int64", [i], i, rt.identity),
    overload("double_to_int64", [d], i, rt.doubleToInt),
    overload("duration_to_int64", [du], i, rt.durationToInt),
    overload("string_to_int64", [s], i, rt.stringToInt),
    overload("timestamp_to_int64", [ts], i, rt.timestampToInt),
    overload("uint64_to_int64", [u], i, rt.uintToInt),
  ),
  fn(
    "string",
    overload("string_to_string", [s], s, rt.identity),
    overload("bool_to_string", [b], s, rt.boolToString),
    overload("bytes_to_string", [y], s, rt.bytesToString),
    overload("double_to_string", [d], s, rt.doubleToString),
    overload("duration_to_string", [du], s, rt.durationToString),
    overload("int64_to_string", [i], s, rt.intToString),
    overload("timestamp_to_string", [ts], s, rt.timestampToString),
    overload("uint64_to_string", [u], s, rt.uintToString),
  ),
  fn(
    "timestamp",
    overload("timestamp_to_timestamp", [ts], ts, rt.identity),
    overload("int64_to_timestamp", [i], ts, rt.intToTimestamp),
    overload("string_to_timestamp", [s], ts, rt.stringToTimestamp),
  ),
  fn(
    "uint",
    overload("uint64_to_uint64", [u], u, rt.identity),
    overload("double_to_uint64", [d], u, rt.doubleToUint),
    overload("int64_to_uint64", [i], u, rt.intToUint),
    overload("string_to_uint64", [s], u, rt.stringToUint),
  ),

  // Strings.
  fn("contains", member("contains_string", [s, s], b, rt.contains)),
  fn("endsWith", member("ends_with_string", [s, s], b, rt.endsWith)),
  fn("startsWith", member("starts_with_string", [s, s], b, rt.startsWith)),
  fn("matches", overload("matches", [s, s], b, rt.matches), member("matches_string", [s, s], b, rt.matches)),

  // Time accessors.
  ...timeAccessors.map(([name, plain, withTz]) => {
    const durationId = durationAccessors[name];
    return fn(
      name,
      member(plain, [ts], i, rt.timestampAccessor(name)),
      member(withTz, [ts, s], i, rt.timestampAccessor(name)),
      ...(durationId === undefined ? [] : [member(durationId, [du], i, rt.durationAccessor(name))]),
    );
  }),
];

/** The cel-go strings extension (latest version). */
export const STRINGS_EXTENSION: readonly FunctionDecl[] = [
  fn("charAt", member("string_char_at_int", [s, i], s, rt.charAt)),
  fn(
    "indexOf",
    member("string_index_of_string", [s, s], i, rt.indexOf),
    member("string_index_of_string_int", [s, s, i], i, rt.indexOf),
  ),
  fn(
    "lastIndexOf",
    member("string_last_index_of_string", [s, s], i, rt.lastIndexOf),
    member("string_last_index_of_string_int", [s, s, i], i, rt.lastIndexOf),
  ),
  fn("lowerAscii", member("string_lower_ascii", [s], s, rt.lowerAscii)),
  fn("upperAscii", member("string_upper_ascii", [s], s, rt.upperAscii)),
  fn(
    "replace",
    member("string_replace_string_string", [s, s, s], s, rt.replace),
    member("string_replace_string_string_int", [s, s, s, i], s, rt.replace),
  ),
  fn(
    "split",
    member("string_split_string", [s, s], listType(s), rt.split),
    member("string_split_string_int", [s, s, i], listType(s), rt.split),
  ),
  fn(
    "substring",
    member("string_substring_int", [s, i], s, rt.substring),
    member("string_substring_int_int", [s, i, i], s, rt.substring),
  ),
  fn("trim", member("string_trim", [s], s, rt.trim)),
  fn("format", member("string_format", [s, listType(T.dyn)], s, rt.format)),
  fn("strings.quote", overload("strings_quote", [s], s, rt.quote)),
  fn(
    "join",
    member("list_join", [listType(s)], s, rt.join),
    member("list_join_string", [listType(s), s], s, rt.join),
  ),
  fn("reverse", member("string_reverse", [s], s, rt.reverse)),
];

/** Types whose names are identifiers in every environment (`int`, `list`, …), with their type values. */
export const TYPE_IDENTIFIERS = {
  bool: b,
  bytes: y,
  double: d,
  int: i,
  uint: u,
  string: s,
  null_type: n,
  type: T.type,
  list: listType(A),
  map: mapType(A, B),
  "google.protobuf.Timestamp": ts,
  "google.protobuf.Duration": du,
} as const;

