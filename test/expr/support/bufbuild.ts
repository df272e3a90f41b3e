/**
 * Test support: running expressions on `@bufbuild/cel` and converting values between its model
 * and ours, so that differential tests can compare the two engines with `sameValue`.
 *
 * `@bufbuild/cel` returns lists and maps as `CelList`/`CelMap` wrappers, uints as its own
 * `CelUint`, timestamps and durations as protobuf `ReflectMessage`s, type values as its `CelType`
 * objects, and errors as `CelError` values (it never throws from `run` or a planned program).
 */
import {
  celEnv,
  celUint,
  CelScalar,
  isCelError,
  isCelList,
  isCelMap,
  isCelType,
  isCelUint,
  listType,
  mapType,
  objectType,
  parse,
  plan,
  type CelEnv,
  type CelInput,
  type CelResult,
  type CelType as BufType,
  type CelValue,
} from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import { create } from "@bufbuild/protobuf";
import { isReflectMessage, reflect } from "@bufbuild/protobuf/reflect";
import { DurationSchema, TimestampSchema } from "@bufbuild/protobuf/wkt";
import { CelDuration, CelTimestamp, CelType, CelUint } from "../../../src/expr/values.js";

/** Thrown when a value has no counterpart in the other engine's model. */
export class Unconvertible extends Error {}

const SCALAR_TYPES: Readonly<Record<string, BufType>> = {
  int: CelScalar.INT,
  uint: CelScalar.UINT,
  double: CelScalar.DOUBLE,
  bool: CelScalar.BOOL,
  string: CelScalar.STRING,
  bytes: CelScalar.BYTES,
  null_type: CelScalar.NULL,
  type: CelScalar.TYPE,
  dyn: CelScalar.DYN,
  list: listType(CelScalar.DYN),
  map: mapType(CelScalar.DYN, CelScalar.DYN),
  "google.protobuf.Timestamp": objectType(TimestampSchema),
  "google.protobuf.Duration": objectType(DurationSchema),
};

/** Our runtime value as an input of `@bufbuild/cel`. */
export function toBuf(v: unknown): CelInput {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case "boolean":
    case "number":
    case "string":
    case "bigint":
      return v;
    default:
      break;
  }
  if (v instanceof CelUint) return celUint(v.value);
  if (v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return v.map(toBuf);
  if (v instanceof Map) {
    const m = new Map<bigint | string | boolean | ReturnType<typeof celUint>, CelInput>();
    for (const [k, w] of v) m.set(toBuf(k) as bigint | string | boolean | ReturnType<typeof celUint>, toBuf(w));
    return m;
  }
  // Reflected messages: a plain message inside a list is converted lazily by @bufbuild/cel, which
  // needs its evaluation context, and that is gone when we read the result.
  if (v instanceof CelTimestamp) return timestampMessage(v);
  if (v instanceof Date) return timestampMessage(CelTimestamp.fromMillis(v.getTime()));
  if (v instanceof CelDuration) return reflect(DurationSchema, create(DurationSchema, { seconds: BigInt(v.seconds), nanos: v.nanos }));
  if (v instanceof CelType) {
    const t = SCALAR_TYPES[v.name];
    if (t === undefined) throw new Unconvertible(`type value ${v.name}`);
    return t as unknown as CelInput;
  }
  if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    const m = new Map<string, CelInput>();
    for (const [k, w] of Object.entries(v as Record<string, unknown>)) m.set(k, toBuf(w));
    return m;
  }
  throw new Unconvertible(`value ${String(v)}`);
}

function timestampMessage(t: CelTimestamp): CelInput {
  return reflect(TimestampSchema, create(TimestampSchema, { seconds: BigInt(t.seconds), nanos: t.nanos }));
}

/** A `@bufbuild/cel` result (not an error) as our runtime value. */
export function fromBuf(v: CelValue): unknown {
  if (v === null) return null;
  switch (typeof v) {
    case "boolean":
    case "number":
    case "string":
    case "bigint":
      return v;
    default:
      break;
  }
  if (v instanceof Uint8Array) return v;
  if (isCelUint(v)) return new CelUint(v.value);
  if (isCelList(v)) return Array.from(v, fromBuf);
  if (isCelMap(v)) {
    const m = new Map<unknown, unknown>();
    for (const [k, w] of v) m.set(fromBuf(k), fromBuf(w));
    return m;
  }
  if (isCelType(v)) return new CelType(v.name);
  if (isReflectMessage(v)) {
    const name = v.desc.typeName;
    const msg = v.message as { seconds?: bigint; nanos?: number };
    if (name === "google.protobuf.Timestamp") return new CelTimestamp(Number(msg.seconds ?? 0n), msg.nanos ?? 0);
    if (name === "google.protobuf.Duration") return new CelDuration(Number(msg.seconds ?? 0n), msg.nanos ?? 0);
    throw new Unconvertible(`message ${name}`);
  }
  throw new Unconvertible(`@bufbuild/cel value ${String(v)}`);
}

/** The outcome of one evaluation on either engine: a value in our model, or an error. */
export type Outcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly stage: "compile" | "eval"; readonly message: string };

/** Environments by declaration set; `celEnv` is costly enough to share. */
const envs = new Map<string, CelEnv>();

function envFor(variables: Readonly<Record<string, BufType>>, namespace: string): CelEnv {
  const key = `${namespace}|${Object.entries(variables)
    .map(([k, t]) => `${k}:${t.toString()}`)
    .join(",")}`;
  let env = envs.get(key);
  if (env === undefined) {
    env = celEnv({ funcs: strings, variables: { ...variables }, namespace });
    envs.set(key, env);
  }
  return env;
}

/**
 * Parses, plans and evaluates `source` on `@bufbuild/cel` with the strings extension, binding
 * our runtime values (converted with {@link toBuf}). A parse failure is a `compile` outcome.
 * `variables` declares types (which `@bufbuild/cel` does not check); `namespace` is the CEL
 * container (default `''`).
 */
export function runBuf(
  source: string,
  activation: Readonly<Record<string, unknown>> = {},
  variables: Readonly<Record<string, BufType>> = {},
  namespace = "",
): Outcome {
  const env = envFor(variables, namespace);
  let parsed;
  try {
    parsed = parse(source);
  } catch (err) {
    return { ok: false, stage: "compile", message: err instanceof Error ? err.message : String(err) };
  }
  const bindings: Record<string, CelInput> = {};
  for (const [k, v] of Object.entries(activation)) bindings[k] = toBuf(v);
  let result: CelResult;
  try {
    result = plan(env, parsed)(bindings);
  } catch (err) {
    // Planning throws for some malformed calls; it is an error outcome like any other.
    return { ok: false, stage: "compile", message: err instanceof Error ? err.message : String(err) };
  }
  if (isCelError(result)) return { ok: false, stage: "eval", message: result.message };
  return { ok: true, value: fromBuf(result) };
}

/** A `@bufbuild/cel` type for a declaration written as CEL prints types (`list(int)`, `map(string, dyn)`). */
export function bufType(text: string): BufType {
  const t = text.replace(/\s+/g, "");
  const list = /^list\((.*)\)$/.exec(t);
  if (list) return listType(bufType(list[1]!) as Parameters<typeof listType>[0]);
  const map = /^map\(([a-z]+),(.*)\)$/.exec(t);
  if (map) return mapType(bufType(map[1]!) as Parameters<typeof mapType>[0], bufType(map[2]!));
  if (t === "timestamp") return objectType(TimestampSchema);
  if (t === "duration") return objectType(DurationSchema);
  const scalar = SCALAR_TYPES[t];
  if (scalar === undefined) throw new Unconvertible(`type ${text}`);
  return scalar;
}
