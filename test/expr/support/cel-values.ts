/**
 * Test support: conversion of cel-spec `cel.expr.Value` / `cel.expr.Type` JSON into our runtime
 * values and types, and a strict comparison of results (kinds must agree, not only CEL equality).
 */
import { kindOf, mapGet, mapKeys, MISSING } from "../../../src/expr/runtime/core.js";
import { listType, mapType, T, type Type, typeType } from "../../../src/expr/types.js";
import { CelDuration, CelTimestamp, CelType, CelUint, TYPES } from "../../../src/expr/values.js";

/** Thrown for values this engine does not model (protobuf messages). */
export class Unsupported extends Error {}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function b64(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, "base64"));
}

function parseDurationJson(s: string): CelDuration {
  const m = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(s);
  if (!m) throw new Unsupported(`duration ${s}`);
  const sign = m[1] ? -1 : 1;
  const secs = Number(m[2]);
  const nanos = m[3] ? Number(m[3].padEnd(9, "0")) : 0;
  return new CelDuration(sign * secs, sign * nanos);
}

function parseTimestampJson(s: string): CelTimestamp {
  const m = /^(.*?)(?:\.(\d{1,9}))?Z$/.exec(s);
  if (!m) throw new Unsupported(`timestamp ${s}`);
  const ms = Date.parse(`${m[1]}Z`);
  return new CelTimestamp(Math.floor(ms / 1000), m[2] ? Number(m[2].padEnd(9, "0")) : 0);
}

const TYPE_NAMES: Record<string, CelType> = {
  int: TYPES.int,
  uint: TYPES.uint,
  double: TYPES.double,
  bool: TYPES.bool,
  string: TYPES.string,
  bytes: TYPES.bytes,
  list: TYPES.list,
  map: TYPES.map,
  null_type: TYPES.null,
  type: TYPES.type,
  "google.protobuf.Timestamp": TYPES.timestamp,
  "google.protobuf.Duration": TYPES.duration,
};

/** A `cel.expr.Value` JSON object as our runtime value. */
export function fromValue(v: Record<string, Json>): unknown {
  const [kind, x] = Object.entries(v)[0] ?? ["nullValue", null];
  switch (kind) {
    case "nullValue":
      return null;
    case "boolValue":
      return x as boolean;
    case "int64Value":
      return BigInt(x as string);
    case "uint64Value":
      return new CelUint(BigInt(x as string));
    case "doubleValue":
      return typeof x === "string" ? Number(x) : (x as number);
    case "stringValue":
      return x as string;
    case "bytesValue":
      return b64(x as string);
    case "listValue":
      return (((x as Record<string, Json>).values ?? []) as Record<string, Json>[]).map(fromValue);
    case "mapValue": {
      const m = new Map<unknown, unknown>();
      for (const e of ((x as Record<string, Json>).entries ?? []) as Record<string, Record<string, Json>>[]) {
        m.set(fromValue(e.key!), fromValue(e.value!));
      }
      return m;
    }
    case "typeValue": {
      const t = TYPE_NAMES[x as string];
      return t ?? new CelType(x as string);
    }
    case "objectValue": {
      const o = x as Record<string, Json>;
      const type = String(o["@type"]);
      if (type.endsWith("google.protobuf.Duration")) return parseDurationJson(String(o.value));
      if (type.endsWith("google.protobuf.Timestamp")) return parseTimestampJson(String(o.value));
      throw new Unsupported(`protobuf message ${type}`);
    }
    default:
      throw new Unsupported(`value kind ${kind}`);
  }
}

/** A `cel.expr.Type` JSON object as our static type. */
export function fromType(t: Record<string, Json>): Type {
  const [kind, x] = Object.entries(t)[0] ?? ["dyn", {}];
  switch (kind) {
    case "dyn":
      return T.dyn;
    case "null":
      return T.null;
    case "primitive":
      switch (x) {
        case "BOOL":
          return T.bool;
        case "INT64":
          return T.int;
        case "UINT64":
          return T.uint;
        case "DOUBLE":
          return T.double;
        case "STRING":
          return T.string;
        case "BYTES":
          return T.bytes;
        default:
          throw new Unsupported(`primitive ${String(x)}`);
      }
    case "wellKnown":
      if (x === "TIMESTAMP") return T.timestamp;
      if (x === "DURATION") return T.duration;
      if (x === "ANY") return T.any;
      throw new Unsupported(`well-known ${String(x)}`);
    case "listType":
      return listType(fromType((x as Record<string, Record<string, Json>>).elemType ?? { dyn: {} }));
    case "mapType": {
      const m = x as Record<string, Record<string, Json>>;
      return mapType(fromType(m.keyType ?? { dyn: {} }), fromType(m.valueType ?? { dyn: {} }));
    }
    case "type":
      return typeType(fromType(x as Record<string, Json>));
    case "messageType":
      if (x === "google.protobuf.Duration") return T.duration;
      if (x === "google.protobuf.Timestamp") return T.timestamp;
      throw new Unsupported(`message type ${String(x)}`);
    case "typeParam":
      return { kind: "param", name: String(x) };
    case "abstractType": {
      const a = x as { name: string; parameterTypes?: Record<string, Json>[] };
      return { kind: "opaque", name: a.name, params: (a.parameterTypes ?? []).map(fromType) };
    }
    default:
      throw new Unsupported(`type kind ${kind}`);
  }
}

/** Strict equality for test expectations: same kinds, NaN equals NaN, -0 differs from 0. */
export function sameValue(a: unknown, b: unknown): boolean {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka !== kb) return false;
  switch (ka) {
    case "double":
      return Object.is(a, b) || (a === 0 && b === 0);
    case "uint":
      return (a as CelUint).value === (b as CelUint).value;
    case "bytes": {
      const x = a as Uint8Array;
      const y = b as Uint8Array;
      return x.length === y.length && x.every((v, i) => v === y[i]);
    }
    case "list": {
      const x = a as unknown[];
      const y = b as unknown[];
      return x.length === y.length && x.every((v, i) => sameValue(v, y[i]));
    }
    case "map": {
      const x = a as Map<unknown, unknown>;
      const y = b as Map<unknown, unknown>;
      const kx = mapKeys(x);
      if (kx.length !== mapKeys(y).length) return false;
      return kx.every((k) => {
        const w = mapGet(y, k);
        return w !== MISSING && sameValue(mapGet(x, k), w);
      });
    }
    case "timestamp": {
      const x = a as CelTimestamp;
      const y = b as CelTimestamp;
      return x.seconds === y.seconds && x.nanos === y.nanos;
    }
    case "duration": {
      const x = a as CelDuration;
      const y = b as CelDuration;
      return x.seconds === y.seconds && x.nanos === y.nanos;
    }
    case "type":
      return (a as CelType).name === (b as CelType).name;
    default:
      return a === b;
  }
}

/** A short printable form of a value for failure messages. */
export function show(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === "bigint") return `${x}n`;
    if (x instanceof CelUint) return `${x.value}u`;
    if (x instanceof Map) return Object.fromEntries([...x].map(([k, w]) => [String(k), w]));
    if (x instanceof Uint8Array) return `b'${Buffer.from(x).toString("hex")}'`;
    if (typeof x === "number" && !Number.isFinite(x)) return String(x);
    return x;
  });
}
