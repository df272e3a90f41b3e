/**
 * CEL's static types, their printed form (as cel-go's `FormatCELType`), and the unification the
 * checker uses to resolve overloads with type parameters.
 *
 * @module
 */

/** A CEL type as the checker sees it. */
export type Type =
  | { readonly kind: "dyn" }
  | { readonly kind: "error" }
  | { readonly kind: "null" }
  | { readonly kind: "bool" }
  | { readonly kind: "int" }
  | { readonly kind: "uint" }
  | { readonly kind: "double" }
  | { readonly kind: "string" }
  | { readonly kind: "bytes" }
  | { readonly kind: "timestamp" }
  | { readonly kind: "duration" }
  | { readonly kind: "any" }
  | { readonly kind: "list"; readonly elem: Type }
  | { readonly kind: "map"; readonly key: Type; readonly value: Type }
  /** The type of a type value; `param` is the type it denotes, when known. */
  | { readonly kind: "type"; readonly param?: Type }
  /** A type parameter (`A`, `B`) or a free type variable of the checker (`_var0`). */
  | { readonly kind: "param"; readonly name: string }
  /** A named type with parameters that CEL treats as opaque, such as `optional_type(int)`. */
  | { readonly kind: "opaque"; readonly name: string; readonly params: readonly Type[] }
  /** A protobuf message type; only named, since this engine does not load message descriptors. */
  | { readonly kind: "struct"; readonly name: string };

/** The kinds of {@link Type}. */
export type TypeKind = Type["kind"];

/** Type constants, shared instances. */
export const T = {
  dyn: { kind: "dyn" },
  error: { kind: "error" },
  null: { kind: "null" },
  bool: { kind: "bool" },
  int: { kind: "int" },
  uint: { kind: "uint" },
  double: { kind: "double" },
  string: { kind: "string" },
  bytes: { kind: "bytes" },
  timestamp: { kind: "timestamp" },
  duration: { kind: "duration" },
  any: { kind: "any" },
  type: { kind: "type" },
} as const satisfies Record<string, Type>;

// List and map types are interned: one instance per element (key and value) type instance, so
// that the checker can remember overload resolutions by type identity.
const listTypes = new WeakMap<Type, Type>();
const mapTypes = new WeakMap<Type, WeakMap<Type, Type>>();

/** `list(elem)`; the same instance for the same `elem` instance. */
export function listType(elem: Type): Type {
  let t = listTypes.get(elem);
  if (t === undefined) listTypes.set(elem, (t = { kind: "list", elem }));
  return t;
}

/** `map(key, value)`; the same instance for the same `key` and `value` instances. */
export function mapType(key: Type, value: Type): Type {
  let byValue = mapTypes.get(key);
  if (byValue === undefined) mapTypes.set(key, (byValue = new WeakMap()));
  let t = byValue.get(value);
  if (t === undefined) byValue.set(value, (t = { kind: "map", key, value }));
  return t;
}

/** `type(param)`: the type of the type value that denotes `param`. */
export function typeType(param?: Type): Type {
  return param === undefined ? T.type : { kind: "type", param };
}

/** A type parameter or type variable named `name`. */
export function paramType(name: string): Type {
  return { kind: "param", name };
}

/** `optional_type(t)`, the type of the optionals extension's values. */
export function optionalType(t: Type): Type {
  return { kind: "opaque", name: "optional_type", params: [t] };
}

/** Whether `t` is `optional_type(…)`. */
export function isOptionalType(t: Type): t is { readonly kind: "opaque"; readonly name: string; readonly params: readonly Type[] } {
  return t.kind === "opaque" && t.name === "optional_type";
}

/** An opaque parameterised type. */
export function opaqueType(name: string, ...params: Type[]): Type {
  return { kind: "opaque", name, params };
}

/** The parameters of a type, in the order cel-go lists them. */
export function typeParameters(t: Type): readonly Type[] {
  switch (t.kind) {
    case "list":
      return [t.elem];
    case "map":
      return [t.key, t.value];
    case "type":
      return t.param === undefined ? [] : [t.param];
    case "opaque":
      return t.params;
    default:
      return [];
  }
}

/**
 * Whether a type holds no type parameter or variable. Walks the type itself rather than through
 * {@link typeParameters}, which makes an array per list or map type: the checker asks this for
 * every argument of every call it resolves.
 */
export function isGround(t: Type): boolean {
  switch (t.kind) {
    case "param":
      return false;
    case "list":
      return isGround(t.elem);
    case "map":
      return isGround(t.key) && isGround(t.value);
    case "type":
      return t.param === undefined || isGround(t.param);
    case "opaque":
      return t.params.every(isGround);
    default:
      return true;
  }
}

/** Prints a type as cel-go's `FormatCELType`: `int`, `list(dyn)`, `map(string, int)`, `type(int)`, `!error!`. */
export function formatType(t: Type): string {
  switch (t.kind) {
    case "error":
      return "!error!";
    case "param":
      return t.name;
    case "struct":
      return t.name;
    case "list":
      return `list(${formatType(t.elem)})`;
    case "map":
      return `map(${formatType(t.key)}, ${formatType(t.value)})`;
    case "type":
      return t.param === undefined ? "type" : `type(${formatType(t.param)})`;
    case "opaque":
      return t.params.length === 0 ? t.name : `${t.name}(${t.params.map(formatType).join(", ")})`;
    default:
      return t.kind;
  }
}

/** Whether two types are identical (type parameters compared by name). */
export function typeEquals(a: Type, b: Type): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case "list":
      return typeEquals(a.elem, (b as typeof a).elem);
    case "map":
      return typeEquals(a.key, (b as typeof a).key) && typeEquals(a.value, (b as typeof a).value);
    case "type": {
      const bp = (b as typeof a).param;
      if (a.param === undefined || bp === undefined) return a.param === bp;
      return typeEquals(a.param, bp);
    }
    case "param":
      return a.name === (b as typeof a).name;
    case "struct":
      return a.name === (b as typeof a).name;
    case "opaque": {
      const o = b as typeof a;
      return a.name === o.name && a.params.length === o.params.length && a.params.every((p, i) => typeEquals(p, o.params[i]!));
    }
    default:
      return true;
  }
}

/**
 * Parses a type written as CEL prints it: `int`, `list(string)`, `map(string, dyn)`, `type(int)`,
 * `timestamp`, `google.protobuf.Timestamp`. Used by the `variables` compile option.
 */
export function parseType(text: string): Type {
  let pos = 0;
  const src = text.trim();
  function skip(): void {
    while (pos < src.length && /\s/.test(src[pos]!)) pos++;
  }
  function name(): string {
    skip();
    const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(src.slice(pos));
    if (!m) throw new TypeError(`invalid type '${text}': expected a type name at offset ${pos}`);
    pos += m[0].length;
    return m[0];
  }
  function expect(c: string): void {
    skip();
    if (src[pos] !== c) throw new TypeError(`invalid type '${text}': expected '${c}' at offset ${pos}`);
    pos++;
  }
  function args(): Type[] {
    skip();
    if (src[pos] !== "(") return [];
    pos++;
    const out = [one()];
    skip();
    while (src[pos] === ",") {
      pos++;
      out.push(one());
      skip();
    }
    expect(")");
    return out;
  }
  function one(): Type {
    const n = name();
    const a = args();
    const arity = (want: number): void => {
      if (a.length !== want) throw new TypeError(`invalid type '${text}': '${n}' takes ${want} parameter(s)`);
    };
    switch (n) {
      case "list":
        arity(1);
        return listType(a[0]!);
      case "map":
        arity(2);
        return mapType(a[0]!, a[1]!);
      case "type":
        if (a.length === 0) return T.type;
        arity(1);
        return typeType(a[0]!);
      case "dyn":
      case "null":
      case "bool":
      case "int":
      case "uint":
      case "double":
      case "string":
      case "bytes":
      case "timestamp":
      case "duration":
      case "any":
        arity(0);
        return T[n];
      case "null_type":
        arity(0);
        return T.null;
      case "google.protobuf.Timestamp":
        arity(0);
        return T.timestamp;
      case "google.protobuf.Duration":
        arity(0);
        return T.duration;
      case "google.protobuf.Value":
        arity(0);
        return T.dyn;
      case "google.protobuf.Struct":
        arity(0);
        return mapType(T.string, T.dyn);
      case "google.protobuf.ListValue":
        arity(0);
        return listType(T.dyn);
      case "google.protobuf.Any":
        arity(0);
        return T.any;
      default:
        if (a.length > 0) return opaqueType(n, ...a);
        return /^[A-Z]$/.test(n) ? paramType(n) : { kind: "struct", name: n };
    }
  }
  const t = one();
  skip();
  if (pos !== src.length) throw new TypeError(`invalid type '${text}': unexpected '${src.slice(pos)}'`);
  return t;
}

// ---------------------------------------------------------------------------------------------
// Unification. The algorithm follows CEL's reference checker: a substitution map from type
// parameters to types, `isAssignable(t1, t2)` that extends it, and `mostGeneral` to join.

/**
 * A substitution of type parameters. Bindings are recorded on a trail so that a failed
 * assignment attempt can be undone cheaply (no copy of the map per attempt).
 */
export class Substitution {
  // Made on the first binding: most checks of a filter bind nothing.
  private map: Map<string, Type> | undefined;
  // The trail as two parallel arrays: no object per binding.
  private readonly trailNames: string[] = [];
  private readonly trailPrevious: (Type | undefined)[] = [];
  #keepFree: ParamReplacer | undefined;
  #toDyn: ParamReplacer | undefined;

  /** Whether no parameter was ever bound (so substituting only turns free ones into `dyn`, if asked). */
  get neverBound(): boolean {
    return this.map === undefined;
  }

  /** For {@link substitute}: bound parameters by their bindings, free ones kept. */
  get keepFree(): ParamReplacer {
    return (this.#keepFree ??= {
      param: (t) => {
        const sub = this.find(t);
        return sub === undefined ? t : substitute(this, sub, false);
      },
    });
  }

  /** For {@link substitute}: bound parameters by their bindings, free ones `dyn`. */
  get toDyn(): ParamReplacer {
    return (this.#toDyn ??= {
      param: (t) => {
        const sub = this.find(t);
        return sub === undefined ? T.dyn : substitute(this, sub, true);
      },
    });
  }

  /** The type bound to a parameter, if any. */
  find(t: Type): Type | undefined {
    return t.kind === "param" && this.map !== undefined ? this.map.get(t.name) : undefined;
  }

  /** Binds a parameter. */
  bind(param: Type, to: Type): void {
    if (param.kind !== "param") return;
    const map = (this.map ??= new Map());
    this.trailNames.push(param.name);
    this.trailPrevious.push(map.get(param.name));
    map.set(param.name, to);
  }

  /** A point to {@link rollback} to. */
  mark(): number {
    return this.trailNames.length;
  }

  /** Undoes every binding made since `mark`. */
  rollback(mark: number): void {
    while (this.trailNames.length > mark) {
      const name = this.trailNames.pop()!;
      const previous = this.trailPrevious.pop();
      if (previous === undefined) this.map!.delete(name);
      else this.map!.set(name, previous);
    }
  }
}

function isDynLike(t: Type): boolean {
  return t.kind === "dyn" || t.kind === "any";
}

function isDynOrError(t: Type): boolean {
  return t.kind === "error" || isDynLike(t);
}

/** Whether `t1` is `t2` or less specific than it (dyn and parameters are least specific). */
function isEqualOrLessSpecific(t1: Type, t2: Type): boolean {
  if (isDynLike(t1) || t1.kind === "param") return true;
  if (isDynLike(t2) || t2.kind === "param") return false;
  if (t1.kind !== t2.kind) return false;
  switch (t1.kind) {
    case "opaque": {
      const o = t2 as typeof t1;
      if (t1.name !== o.name || t1.params.length !== o.params.length) return false;
      return t1.params.every((p, i) => isEqualOrLessSpecific(p, o.params[i]!));
    }
    case "list":
      return isEqualOrLessSpecific(t1.elem, (t2 as typeof t1).elem);
    case "map": {
      const m = t2 as typeof t1;
      return isEqualOrLessSpecific(t1.key, m.key) && isEqualOrLessSpecific(t1.value, m.value);
    }
    case "type":
      return true;
    default:
      return typeEquals(t1, t2);
  }
}

/** The more general of two types known to unify. */
export function mostGeneral(t1: Type, t2: Type): Type {
  return isEqualOrLessSpecific(t1, t2) ? t1 : t2;
}

/** Occurs check: whether parameter `t` does not appear in `within` (through bindings too). */
function notReferencedIn(s: Substitution, t: Type, within: Type): boolean {
  if (typeEquals(t, within)) return false;
  switch (within.kind) {
    case "param": {
      const sub = s.find(within);
      return sub === undefined ? true : notReferencedIn(s, t, sub);
    }
    case "opaque":
    case "list":
    case "map":
    case "type":
      return typeParameters(within).every((p) => notReferencedIn(s, t, p));
    default:
      return true;
  }
}

/** Bits of {@link validSubstitution}'s result: the substitution holds; `t2` was already bound. */
const VALID = 1;
const BOUND = 2;

/**
 * Whether `t2` (or its binding) can stand for `t1`, binding it when free. Returns a code (bit 1:
 * valid; bit 2: `t2` had a binding) rather than an object: the checker calls it for every
 * parameter of every overload it tries.
 */
function validSubstitution(s: Substitution, t1: Type, t2: Type): number {
  if (t1.kind === t2.kind && typeEquals(t1, t2)) return VALID | BOUND;
  const t2Sub = s.find(t2);
  if (t2Sub !== undefined) {
    if (t1.kind === t2Sub.kind && typeEquals(t1, t2Sub)) return VALID | BOUND;
    if (assignable(s, t1, t2Sub)) {
      const joined = mostGeneral(t1, t2Sub);
      if (notReferencedIn(s, t2, joined)) s.bind(t2, joined);
      return VALID | BOUND;
    }
    return BOUND;
  }
  if (notReferencedIn(s, t2, t1)) {
    s.bind(t2, t1);
    return VALID;
  }
  return 0;
}

function isNullable(t: Type): boolean {
  switch (t.kind) {
    case "opaque":
    case "struct":
    case "any":
    case "duration":
    case "timestamp":
    case "null":
      return true;
    default:
      return false;
  }
}

/** Whether a value of type `t1` may be used where `t2` is expected, extending `s` (mutated). */
function assignable(s: Substitution, t1: Type, t2: Type): boolean {
  if (t2.kind === "param") {
    const r = validSubstitution(s, t1, t2);
    if ((r & VALID) !== 0) return true;
    if (r === BOUND) return false;
  }
  if (t1.kind === "param") {
    return (validSubstitution(s, t2, t1) & VALID) !== 0;
  }
  if (isDynOrError(t1) || isDynOrError(t2)) return true;
  if (t1.kind === "null") return isNullable(t2);
  if (t2.kind === "null") return isNullable(t1);
  switch (t1.kind) {
    case "type":
      return t2.kind === "type";
    case "opaque":
    case "list":
    case "map": {
      if (t1.kind !== t2.kind) return false;
      if (t1.kind === "opaque" && t1.name !== (t2 as typeof t1).name) return false;
      const p1 = typeParameters(t1);
      const p2 = typeParameters(t2);
      return p1.length === p2.length && p1.every((p, i) => assignable(s, p, p2[i]!));
    }
    default:
      return typeEquals(t1, t2);
  }
}

/**
 * Tries to assign `t1` to `t2` under substitution `s`. Returns `s`, extended, or `undefined` (and
 * `s` unchanged) when the types do not unify.
 */
export function isAssignable(s: Substitution, t1: Type, t2: Type): Substitution | undefined {
  const mark = s.mark();
  if (assignable(s, t1, t2)) return s;
  s.rollback(mark);
  return undefined;
}

/** {@link isAssignable} for argument lists of equal length. */
export function isAssignableList(s: Substitution, l1: readonly Type[], l2: readonly Type[]): Substitution | undefined {
  if (l1.length !== l2.length) return undefined;
  const mark = s.mark();
  for (let i = 0; i < l1.length; i++) {
    if (!assignable(s, l1[i]!, l2[i]!)) {
      s.rollback(mark);
      return undefined;
    }
  }
  return s;
}

/** What {@link mapParams} puts in place of each type parameter. */
export interface ParamReplacer {
  param(t: Type & { readonly kind: "param" }): Type;
}

/** `t` with every type parameter replaced as `r` says; unchanged parts are returned as they are. */
export function mapParams(t: Type, r: ParamReplacer): Type {
  switch (t.kind) {
    case "param":
      return r.param(t);
    case "list": {
      const elem = mapParams(t.elem, r);
      return elem === t.elem ? t : listType(elem);
    }
    case "map": {
      const key = mapParams(t.key, r);
      const value = mapParams(t.value, r);
      return key === t.key && value === t.value ? t : mapType(key, value);
    }
    case "type": {
      if (t.param === undefined) return t;
      const param = mapParams(t.param, r);
      return param === t.param ? t : typeType(param);
    }
    case "opaque": {
      const params = t.params.map((p) => mapParams(p, r));
      return params.every((p, i) => p === t.params[i]) ? t : opaqueType(t.name, ...params);
    }
    default:
      return t;
  }
}

/** Replaces bound parameters by their bindings; with `paramToDyn`, unbound ones become `dyn`. */
export function substitute(s: Substitution, t: Type, paramToDyn: boolean): Type {
  if (!paramToDyn && s.neverBound) return t;
  return mapParams(t, paramToDyn ? s.toDyn : s.keepFree);
}

/**
 * A replacer of the type parameters `names[i]` by `vars[i]`, for {@link mapParams}: an overload's
 * signature instantiated with fresh type variables (the same result as substituting them, without
 * building a substitution).
 */
export function paramRenamer(names: readonly string[], vars: readonly Type[]): ParamReplacer {
  return {
    param(t) {
      const i = names.indexOf(t.name);
      return i < 0 ? t : vars[i]!;
    },
  };
}

/** Whether a type is `dyn` (or `any`). */
export function isDyn(t: Type): boolean {
  return isDynLike(t);
}
