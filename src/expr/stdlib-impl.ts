/**
 * Implementations behind the standard overload table: thin adapters from the overload calling
 * convention (non-error arguments, receiver first) to the runtime modules.
 *
 * @module
 */
import * as conv from "./runtime/convert.js";
import {
  asTimestamp,
  celCompare,
  celEquals,
  mapGet,
  MISSING,
  noSuchOverload,
  typeOfValue,
} from "./runtime/core.js";
import { formatString } from "./runtime/format.js";
import { regexMatches } from "./runtime/regex.js";
import * as str from "./runtime/strings.js";
import * as time from "./runtime/time.js";
import { indexCel } from "./compiler/access.js";
import { sizeOf, smallInt } from "./compiler/helpers.js";
import type { CelDuration, CelError, CelTimestamp } from "./values.js";

type Ts = CelTimestamp | Date;

/** Any value unchanged (`dyn(x)`, `int(1)`, …). */
const identity = (v: unknown): unknown => v;

/** `!b`. */
const logicalNot = (v: boolean): boolean => !v;
/** `a == b`. */
const equals = (a: unknown, b: unknown): boolean => celEquals(a, b);
/** `a != b`. */
const notEquals = (a: unknown, b: unknown): boolean => !celEquals(a, b);

/** Builds the implementation of a relation from a test on the comparison result. */
function relationImpl(op: string, test: (c: number) => boolean): (a: unknown, b: unknown) => unknown {
  return (a, b) => {
    const c = celCompare(a, b);
    if (c === undefined) return noSuchOverload(op, a, b);
    return c === c && test(c);
  };
}

// Arithmetic.
const addInt = conv.addInt;
const subtractInt = conv.subInt;
const multiplyInt = conv.mulInt;
const divideInt = conv.divInt;
const moduloInt = conv.modInt;
const negateInt = conv.negInt;
const addUint = conv.addUint;
const subtractUint = conv.subUint;
const multiplyUint = conv.mulUint;
const divideUint = conv.divUint;
const moduloUint = conv.modUint;
const addDouble = (a: number, b: number): number => a + b;
const subtractDouble = (a: number, b: number): number => a - b;
const multiplyDouble = (a: number, b: number): number => a * b;
const divideDouble = (a: number, b: number): number => a / b;
const negateDouble = (a: number): number => -a;
const addString = (a: string, b: string): string => a + b;
const addList = (a: readonly unknown[], b: readonly unknown[]): unknown[] => [...a, ...b];
const addBytes = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
};
const addTimestampDuration = (t: Ts, d: CelDuration): unknown => time.addTimestampDuration(asTimestamp(t), d);
const addDurationTimestamp = (d: CelDuration, t: Ts): unknown => time.addTimestampDuration(asTimestamp(t), d);
const addDurationDuration = time.addDurations;
const subtractTimestampDuration = (t: Ts, d: CelDuration): unknown => time.subtractTimestampDuration(asTimestamp(t), d);
const subtractTimestampTimestamp = (a: Ts, b: Ts): unknown => time.subtractTimestamps(asTimestamp(a), asTimestamp(b));
const subtractDurationDuration = time.subtractDurations;

// Containers.
const indexList = (l: readonly unknown[], i: unknown): unknown => indexCel(l, i, 0);
const indexMap = (m: unknown, k: unknown): unknown => indexCel(m, k, 0);
const inList = (v: unknown, l: readonly unknown[]): boolean => l.some((x) => celEquals(v, x));
const inMap = (v: unknown, m: Map<unknown, unknown>): boolean => mapGet(m, v) !== MISSING;
/** `size(x)` for strings (code points), bytes, lists and maps. */
const size = (v: unknown): unknown => {
  const n = sizeOf(v, false);
  return n < 0 ? noSuchOverload("size", v) : smallInt(n);
};
const typeOf = typeOfValue;

// Conversions.
const stringToBool = conv.stringToBool;
const stringToBytes = conv.stringToBytes;
const intToDouble = conv.intToDouble;
const uintToDouble = conv.uintToDouble;
const stringToDouble = conv.stringToDouble;
const doubleToInt = conv.doubleToInt;
const stringToInt = conv.stringToInt;
const uintToInt = conv.uintToInt;
const durationToInt = (d: CelDuration): bigint => time.durationToNanos(d);
const timestampToInt = (t: Ts): bigint => time.timestampToSeconds(asTimestamp(t));
const doubleToUint = conv.doubleToUint;
const intToUint = conv.intToUint;
const stringToUint = conv.stringToUint;
const boolToString = conv.boolToString;
const bytesToString = conv.bytesToString;
const doubleToString = conv.doubleToString;
const intToString = conv.intToString;
const uintToString = conv.uintToString;
const durationToString = time.formatDuration;
const timestampToString = (t: Ts): string => time.formatTimestamp(asTimestamp(t));
const intToTimestamp = time.timestampFromSeconds;
const stringToTimestamp = time.parseTimestamp;
const stringToDuration = time.parseDuration;

// Strings.
const contains = str.contains;
const startsWith = str.startsWith;
const endsWith = str.endsWith;
const matches = (s: string, pattern: string): unknown => regexMatches(s, pattern);
const charAt = str.charAt;
const indexOf = (s: string, sub: string, offset?: bigint): unknown => str.indexOf(s, sub, offset);
const lastIndexOf = (s: string, sub: string, offset?: bigint): unknown => str.lastIndexOf(s, sub, offset);
const lowerAscii = str.lowerAscii;
const upperAscii = str.upperAscii;
const replace = (s: string, a: string, b: string, n?: bigint): string => str.replace(s, a, b, n);
const split = (s: string, sep: string, n?: bigint): string[] => str.split(s, sep, n);
const substring = (s: string, start: bigint, end?: bigint): unknown => str.substring(s, start, end);
const trim = str.trim;
const join = (list: readonly unknown[], sep?: string): unknown => str.join(list, sep);
const quote = str.quote;
const reverse = str.reverse;
const format = (f: string, args: readonly unknown[]): unknown => formatString(f, args);

const TIMESTAMP_ACCESSORS: Record<string, (t: CelTimestamp, zone?: string) => bigint | CelError> = {
  getFullYear: time.getFullYear,
  getMonth: time.getMonth,
  getDayOfYear: time.getDayOfYear,
  getDayOfMonth: time.getDayOfMonth,
  getDate: time.getDate,
  getDayOfWeek: time.getDayOfWeek,
  getHours: time.getHours,
  getMinutes: time.getMinutes,
  getSeconds: time.getSeconds,
  getMilliseconds: time.getMilliseconds,
};

const DURATION_ACCESSORS: Record<string, (d: CelDuration) => bigint> = {
  getHours: time.durationGetHours,
  getMinutes: time.durationGetMinutes,
  getSeconds: time.durationGetSeconds,
  getMilliseconds: time.durationGetMilliseconds,
};

/** A timestamp accessor (`getFullYear`, …) with an optional zone argument. */
function timestampAccessor(name: string): (t: Ts, zone?: string) => unknown {
  const f = TIMESTAMP_ACCESSORS[name]!;
  return (t, zone) => (zone === undefined ? f(asTimestamp(t)) : f(asTimestamp(t), zone));
}

/** A duration accessor (`getHours`, …). */
function durationAccessor(name: string): (d: CelDuration) => unknown {
  return DURATION_ACCESSORS[name]!;
}

/**
 * Every implementation the overload table (`stdlib.ts`) refers to, by name. Each receives argument
 * values that are not errors (the receiver first) and returns a value or a `CelError`.
 */
export const IMPLEMENTATIONS = {
  identity,
  logicalNot,
  equals,
  notEquals,
  relationImpl,
  addInt,
  subtractInt,
  multiplyInt,
  divideInt,
  moduloInt,
  negateInt,
  addUint,
  subtractUint,
  multiplyUint,
  divideUint,
  moduloUint,
  addDouble,
  subtractDouble,
  multiplyDouble,
  divideDouble,
  negateDouble,
  addString,
  addList,
  addBytes,
  addTimestampDuration,
  addDurationTimestamp,
  addDurationDuration,
  subtractTimestampDuration,
  subtractTimestampTimestamp,
  subtractDurationDuration,
  indexList,
  indexMap,
  inList,
  inMap,
  size,
  typeOf,
  stringToBool,
  stringToBytes,
  intToDouble,
  uintToDouble,
  stringToDouble,
  doubleToInt,
  stringToInt,
  uintToInt,
  durationToInt,
  timestampToInt,
  doubleToUint,
  intToUint,
  stringToUint,
  boolToString,
  bytesToString,
  doubleToString,
  intToString,
  uintToString,
  durationToString,
  timestampToString,
  intToTimestamp,
  stringToTimestamp,
  stringToDuration,
  contains,
  startsWith,
  endsWith,
  matches,
  charAt,
  indexOf,
  lastIndexOf,
  lowerAscii,
  upperAscii,
  replace,
  split,
  substring,
  trim,
  join,
  quote,
  reverse,
  format,
  timestampAccessor,
  durationAccessor,
} as const;
