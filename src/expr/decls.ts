/**
 * Declarations: the shape of the overload table (shared by the checker and the compiler) and of
 * variable declarations.
 *
 * @module
 */
import { T, type Type, typeParameters } from "./types.js";

/**
 * The implementation of an overload: receives argument values that are not errors (the receiver
 * first for member overloads) and returns a value or a `CelError`.
 */
export type OverloadImpl = (...args: never[]) => unknown;

/** One overload of a function. */
export interface OverloadDecl {
  /** Overload id, as cel-go names it (`add_int64`, `string_to_timestamp`, …). */
  readonly id: string;
  /** Function name (`_+_`, `size`, `contains`, …). */
  readonly fn: string;
  /** Receiver-style (`x.f(y)`) rather than global (`f(x, y)`). */
  readonly member: boolean;
  /** Parameter types; for member overloads the receiver comes first. */
  readonly params: readonly Type[];
  readonly result: Type;
  /** Names of the type parameters (`A`, `B`) the signature uses. */
  readonly typeParams: readonly string[];
  /** Implementation; absent for operators the compiler always implements itself (`_&&_`, `_?_:_`). */
  readonly impl?: OverloadImpl;
  /** Receives error values too (logical operators); strict overloads never see errors. */
  readonly nonStrict?: boolean;
}

/** A function with its overloads. */
export interface FunctionDecl {
  readonly name: string;
  readonly overloads: readonly OverloadDecl[];
}

function collectParams(t: Type, into: Set<string>): void {
  if (t.kind === "param") into.add(t.name);
  for (const p of typeParameters(t)) collectParams(p, into);
}

/** Options of one overload in {@link fn}. */
export interface OverloadOptions {
  readonly member?: boolean;
  readonly nonStrict?: boolean;
}

/** Builds an overload declaration (the function name is filled in by {@link fn}). */
export function overload(
  id: string,
  params: readonly Type[],
  result: Type,
  impl?: OverloadImpl,
  options: OverloadOptions = {},
): Omit<OverloadDecl, "fn"> {
  const names = new Set<string>();
  for (const p of params) collectParams(p, names);
  collectParams(result, names);
  return {
    id,
    member: options.member ?? false,
    params,
    result,
    typeParams: [...names],
    ...(impl === undefined ? {} : { impl }),
    ...(options.nonStrict ? { nonStrict: true } : {}),
  };
}

/** {@link overload} with `member: true`. */
export function member(
  id: string,
  params: readonly Type[],
  result: Type,
  impl?: OverloadImpl,
): Omit<OverloadDecl, "fn"> {
  return overload(id, params, result, impl, { member: true });
}

/** Builds a function declaration. */
export function fn(name: string, ...overloads: Omit<OverloadDecl, "fn">[]): FunctionDecl {
  return { name, overloads: overloads.map((o) => ({ ...o, fn: name })) };
}

/** Merges function declarations by name (later overload ids replace earlier ones). */
export function functionTable(...groups: readonly (readonly FunctionDecl[])[]): Map<string, FunctionDecl> {
  const out = new Map<string, FunctionDecl>();
  for (const group of groups) {
    for (const f of group) {
      const prev = out.get(f.name);
      if (prev === undefined) {
        out.set(f.name, f);
        continue;
      }
      const byId = new Map(prev.overloads.map((o) => [o.id, o]));
      for (const o of f.overloads) byId.set(o.id, o);
      out.set(f.name, { name: f.name, overloads: [...byId.values()] });
    }
  }
  return out;
}

/** The type parameters used in the standard declarations. */
export const A = { kind: "param", name: "A" } as const satisfies Type;
/** Second type parameter. */
export const B = { kind: "param", name: "B" } as const satisfies Type;
/** `list(A)`. */
export const LIST_A: Type = { kind: "list", elem: A };
/** `map(A, B)`. */
export const MAP_AB: Type = { kind: "map", key: A, value: B };
export { T };
