/**
 * Closures for names and selection: variables, field paths (`event.data.userId` as one closure
 * over the pre-split path), presence tests (`has`), indexing (`x[k]`), and the run-time name
 * resolution of unchecked programs.
 *
 * @module
 */
import { withoutRootDot, type CallExpr, type Expr, type SelectExpr } from "../ast.js";
import { candidateNames } from "../checker/checker.js";
import { MISSING, UNKNOWN } from "../runtime/core.js";
import { CelError, CelOptional, CelType, TYPES } from "../values.js";
import { checkedInput, indexCel, indexLenient, isPrototypeName, noSuchField, noSuchKey, NOT_A_MAP, readField } from "../runtime/access.js";
import type { Fn } from "./context.js";
import type { CompilerHooks, Planner } from "./hooks.js";
import { selectOptional } from "./optionals.js";

/** The type values that type identifiers denote at run time. */
const TYPE_VALUES: Record<string, CelType> = {
  bool: TYPES.bool,
  bytes: TYPES.bytes,
  double: TYPES.double,
  int: TYPES.int,
  uint: TYPES.uint,
  string: TYPES.string,
  null_type: TYPES.null,
  type: TYPES.type,
  list: TYPES.list,
  map: TYPES.map,
  "google.protobuf.Timestamp": TYPES.timestamp,
  "google.protobuf.Duration": TYPES.duration,
  dyn: new CelType("dyn"),
};

/**
 * The prototype of plain objects (what JSON gives): their own properties are read directly; any
 * other object is read through `Object.hasOwn`. Tested through `__proto__`, whose getter V8
 * inlines (`Object.getPrototypeOf` measured 3× slower); an object with an own `__proto__` key
 * (JSON can make one) merely takes the slower path.
 */
const OBJECT_PROTO: unknown = Object.prototype;

/** What the prototype test reads. */
interface Proto {
  readonly __proto__?: unknown;
}

/** One field of a select chain (a class: see `newCtx` on allocation sites). */
class PathStep {
  constructor(
    readonly name: string,
    readonly proto: boolean,
    readonly id: number,
  ) {}
}

/** A variable: a comprehension slot, a type identifier, or a property of the activation. */
export function compileIdent(p: Planner, id: number, name: string): Fn {
  const slot = p.lookupSlot(name);
  if (slot !== undefined) return (c) => c.slots[slot];
  const ref = p.refs.get(id);
  if (ref?.kind === "ident" && ref.isType) {
    const t = TYPE_VALUES[ref.name] ?? new CelType(ref.name);
    return () => t;
  }
  if (p.resolution.atRuntime) {
    const resolved = compileRuntimeName(p, name, []);
    if (resolved !== undefined) return resolved;
  }
  const key = withoutRootDot(name);
  const proto = isPrototypeName(key);
  if (p.lenient) {
    return (c) => {
      const v = c.act[key];
      if (v !== undefined && !proto && typeof v !== "bigint" && (c.act as Proto).__proto__ === OBJECT_PROTO) return v;
      return Object.hasOwn(c.act, key) ? checkedInput(v ?? null, id) : UNKNOWN;
    };
  }
  const missing = new CelError("no_such_attribute", `no such attribute: ${key}`, id);
  return (c) => {
    const v = c.act[key];
    // Own properties of the activation only: one with a prototype of its own is asked.
    if (v !== undefined && !proto && typeof v !== "bigint" && (c.act as Proto).__proto__ === OBJECT_PROTO) return v;
    return Object.hasOwn(c.act, key) ? checkedInput(v ?? null, id) : missing;
  };
}

/**
 * Without a checked AST, a dotted name is resolved against the activation at run time, as
 * cel-go does: the longest prefix (tried with the container's candidates) that names a bound
 * variable wins, and the rest of the path is field selection.
 */
function compileRuntimeName(p: Planner, root: string, path: readonly string[]): Fn | undefined {
  if (p.lookupSlot(root) !== undefined) return undefined;
  const attempts: { keys: string[]; rest: string[] }[] = [];
  for (let k = path.length; k >= 0; k--) {
    const dotted = [root, ...path.slice(0, k)].join(".");
    attempts.push({ keys: candidateNames(p.resolution.container, dotted), rest: path.slice(k) });
  }
  const lenient = p.lenient;
  return (c) => {
    for (const a of attempts) {
      for (const key of a.keys) {
        if (!Object.hasOwn(c.act, key)) continue;
        let v: unknown = c.act[key] ?? null;
        for (const field of a.rest) {
          const r = readField(v, field, true);
          if (r === MISSING) return lenient ? UNKNOWN : noSuchKey(field, 0);
          if (r === NOT_A_MAP) return lenient ? UNKNOWN : noSuchField(v, field, 0);
          v = r;
        }
        return checkedInput(v, 0);
      }
    }
    return lenient ? UNKNOWN : new CelError("no_such_attribute", `no such attribute: ${[root, ...path].join(".")}`);
  };
}

/** A select chain `x.a.b.c`, collapsed into one closure over the pre-split path. */
export function compileSelect(p: Planner, e: SelectExpr): Fn {
  const path: PathStep[] = [];
  let base: Expr = e;
  while (base.kind === "select" && !base.testOnly && !p.isConstant(base)) {
    path.unshift(new PathStep(base.field, isPrototypeName(base.field), base.id));
    base = base.operand;
  }
  if (p.resolution.atRuntime && base.kind === "ident") {
    const ref = p.refs.get(base.id);
    if (!(ref?.kind === "ident" && ref.isType)) {
      const resolved = compileRuntimeName(
        p,
        base.name,
        path.map((s) => s.name),
      );
      if (resolved !== undefined) return resolved;
    }
  }
  const root = p.compile(base);
  const lenient = p.lenient;
  // In the inngest dialect a path that does not exist (a missing key, or a step through null,
  // a scalar or a list) is unknown, as Inngest's partial evaluation makes it.
  const step = (v: unknown, s: PathStep): unknown => {
    if (lenient && v === UNKNOWN) return UNKNOWN;
    const r = readField(v, s.name, s.proto);
    if (r === MISSING) return lenient ? UNKNOWN : noSuchKey(s.name, s.id);
    if (r === NOT_A_MAP) {
      // A field of an optional value is selected the optional way (the optionals extension).
      if (v instanceof CelOptional) return selectOptional(v, s.name, s.proto, s.id);
      return lenient ? UNKNOWN : noSuchField(v, s.name, s.id);
    }
    return checkedInput(r, s.id);
  };
  if (path.length === 1) {
    const p0 = path[0]!;
    const { name, proto } = p0;
    return (c) => {
      const v = root(c);
      if (typeof v === "object" && v !== null && !proto && (v as Proto).__proto__ === OBJECT_PROTO) {
        const r = (v as Record<string, unknown>)[name];
        if (r !== undefined && typeof r !== "bigint") return r;
      }
      return v instanceof CelError ? v : step(v, p0);
    };
  }
  const n = path.length;
  return (c) => {
    let v = root(c);
    for (let k = 0; k < n; k++) {
      const s = path[k]!;
      if (typeof v === "object" && v !== null && !s.proto && (v as Proto).__proto__ === OBJECT_PROTO) {
        const r = (v as Record<string, unknown>)[s.name];
        if (r !== undefined && typeof r !== "bigint") {
          v = r;
          continue;
        }
      }
      if (v instanceof CelError) return v;
      v = step(v, s);
      if (v instanceof CelError) return v;
    }
    return v;
  };
}

/** `has(x.f)`. */
export function compileHas(p: Planner, e: SelectExpr): Fn {
  const operand = p.compile(e.operand);
  const { field, id } = e;
  const proto = isPrototypeName(field);
  const lenient = p.lenient;
  const errors = p.presenceTestErrors;
  return (c) => {
    let v = operand(c);
    if (v instanceof CelError) return v;
    if (lenient && v === UNKNOWN) return false;
    let r = readField(v, field, proto);
    if (r === NOT_A_MAP && v instanceof CelOptional) {
      // `has(opt.f)`: an empty optional has no fields; a present one is looked into.
      if (!v.hasValue) return false;
      v = v.value;
      r = readField(v, field, proto);
    }
    if (r === NOT_A_MAP) {
      // cel-go answers `false` for a presence test on a value without fields (null, a number)
      // unless `EnableErrorOnBadPresenceTest` is set; the inngest dialect reads null as absent.
      if (lenient && (v === null || v === undefined)) return false;
      return errors ? noSuchField(v, field, id) : false;
    }
    return r !== MISSING;
  };
}

/** `x[k]`; a constant string key reads like a field. */
export function compileIndex(e: CallExpr, p: CompilerHooks): Fn {
  const operand = p.compile(e.args[0]!);
  const ic = p.constOf(e.args[1]!);
  const id = e.id;
  const index = p.lenient ? indexLenient : indexCel;
  if (ic !== undefined && typeof ic.value === "string") {
    const key = ic.value;
    const proto = isPrototypeName(key);
    const lenient = p.lenient;
    return (c) => {
      const v = operand(c);
      if (v instanceof CelError) return v;
      if (lenient && v === UNKNOWN) return UNKNOWN;
      const r = readField(v, key, proto);
      if (r === MISSING) return lenient ? UNKNOWN : noSuchKey(key, id);
      if (r === NOT_A_MAP) return checkedInput(index(v, key, id), id);
      return checkedInput(r, id);
    };
  }
  const idx = p.compile(e.args[1]!);
  return (c) => {
    const v = operand(c);
    if (v instanceof CelError) return v;
    const k = idx(c);
    if (k instanceof CelError) return k;
    return checkedInput(index(v, k, id), id);
  };
}
