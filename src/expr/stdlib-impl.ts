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
export const identity = (v: unknown): unknown => v;

/** `!b`. */
export const logicalNot = (v: boolean): boolean => !v;
/** `a == b`. */
export const equals = (a: unknown, b: unknown): boolean => celEquals(a, b);
/** `a != b`. */
export const notEquals = (a: unknown, b: unknown): boolean => !celEquals(a, b);

/** Builds the implementation of a relation from a test on the comparison result. */
export function relationImpl(op: string, test: (c: number) => boolean): (a: unknown, b: unknown) => unknown {
  return (a, b) => {
    const c = celCompare(a, b);
    if (c === undefined) return noSuchOverload(op, a, b);
    return c === c && test(c);
  };
}

// Arithmetic.
export const addInt = conv.addInt;
export const subtractInt = conv.subInt;
export const multiplyInt = conv.mulInt;
export const divideInt = conv.divInt;
export const moduloInt = conv.modInt;
export const negateInt = conv.negInt;
export const addUint = conv.addUint;
export const subtractUint = conv.subUint;
export const multiplyUint = conv.mulUint;
export const divideUint = conv.divUint;
export const moduloUint = conv.modUint;
export const addDouble = (a: number, b: number): number => a + b;
export const subtractDouble = (a: number, b: number): number => a - b;
export const multiplyDouble = (a: number, b: number): number => a * b;
export const divideDouble = (a: number, b: number): number => a / b;
export const negateDouble = (a: number): number => -a;
export const addString = (a: string, b: string): string => a + b;
export const addList = (a: readonly unknown[], b: readonly unknown[]): unknown[] => [...a, ...b];
export const addBytes = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
};
export const addTimestampDuration = (t: Ts, d: CelDuration): unknown => time.addTimestampDuration(asTimestamp(t), d);
export const addDurationTimestamp = (d: CelDuration, t: Ts): unknown => time.addTimestampDuration(asTimestamp(t), d);
export const addDurationDuration = time.addDurations;
export const subtractTimestampDuration = (t: Ts, d: CelDuration): unknown => time.subtractTimestampDuration(asTimestamp(t), d);
export const subtractTimestampTimestamp = (a: Ts, b: Ts): unknown => time.subtractTimestamps(asTimestamp(a), asTimestamp(b));
export const subtractDurationDuration = time.subtractDurations;

// Containers.
export const indexList = (l: readonly unknown[], i: unknown): unknown => indexCel(l, i, 0);
export const indexMap = (m: unknown, k: unknown): unknown => indexCel(m, k, 0);
export const inList = (v: unknown, l: readonly unknown[]): boolean => l.some((x) => celEquals(v, x));
export const inMap = (v: unknown, m: Map<unknown, unknown>): boolean => mapGet(m, v) !== MISSING;
/** `size(x)` for strings (code points), bytes, lists and maps. */
export const size = (v: unknown): unknown => {
  const n = sizeOf(v, false);
  return n < 0 ? noSuchOverload("size", v) : smallInt(n);
};
export const typeOf = typeOfValue;

// Conversions.
export const stringToBool = conv.stringToBool;
export const stringToBytes = conv.stringToBytes;
export const intToDouble = conv.intToDouble;
export const uintToDouble = conv.uintToDouble;
export const stringToDouble = conv.stringToDouble;
export const doubleToInt = conv.doubleToInt;
export const stringToInt = conv.stringToInt;
export const uintToInt = conv.uintToInt;
export const durationToInt = (d: CelDuration): bigint => time.durationToNanos(d);
export const timestampToInt = (t: Ts): bigint => time.timestampToSeconds(asTimestamp(t));
export const doubleToUint = conv.doubleToUint;
export const intToUint = conv.intToUint;
export const stringToUint = conv.stringToUint;
export const boolToString = conv.boolToString;
export const bytesToString = conv.bytesToString;
export const doubleToString = conv.doubleToString;
export const intToString = conv.intToString;
export const uintToString = conv.uintToString;
export const durationToString = time.formatDuration;
export const timestampToString = (t: Ts): string => time.formatTimestamp(asTimestamp(t));
export const intToTimestamp = time.timestampFromSeconds;
export const stringToTimestamp = time.parseTimestamp;
export const stringToDuration = time.parseDuration;

// Strings.
export const contains = str.contains;
export const startsWith = str.startsWith;
export const endsWith = str.endsWith;
export const matches = (s: string, pattern: string): unknown => regexMatches(s, pattern);
export const charAt = str.charAt;
export const indexOf = (s: string, sub: string, offset?: bigint): unknown => str.indexOf(s, sub, offset);
export const lastIndexOf = (s: string, sub: string, offset?: bigint): unknown => str.lastIndexOf(s, sub, offset);
export const lowerAscii = str.lowerAscii;
export const upperAscii = str.upperAscii;
export const replace = (s: string, a: string, b: string, n?: bigint): string => str.replace(s, a, b, n);
export const split = (s: string, sep: string, n?: bigint): string[] => str.split(s, sep, n);
export const substring = (s: string, start: bigint, end?: bigint): unknown => str.substring(s, start, end);
export const trim = str.trim;
export const join = (list: readonly unknown[], sep?: string): unknown => str.join(list, sep);
export const quote = str.quote;
export const reverse = str.reverse;
export const format = (f: string, args: readonly unknown[]): unknown => formatString(f, args);

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
export function timestampAccessor(name: string): (t: Ts, zone?: string) => unknown {
  const f = TIMESTAMP_ACCESSORS[name]!;
  return (t, zone) => (zone === undefined ? f(asTimestamp(t)) : f(asTimestamp(t), zone));
}

/** A duration accessor (`getHours`, …). */
export function durationAccessor(name: string): (d: CelDuration) => unknown {
  return DURATION_ACCESSORS[name]!;
}

