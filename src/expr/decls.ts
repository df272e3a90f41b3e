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
  /**
   * Builds a string, bytes or list that may be much larger than its arguments (`+`, `replace`,
   * `join`): a call that may dispatch to it is charged by the size of what it built.
   */
  readonly grows?: boolean;
  /**
   * The units of work a call does beyond reading its arguments once and building its result,
   * from its argument values (receiver first): comparisons of pairs of elements (`sets.contains`,
   * `distinct`), a sort's comparisons. A call that may dispatch to it is charged this before it
   * runs, so that the budget stops the call before the work rather than after. Its static
   * counterpart is a rule of the estimate (`checker/cost.ts`). Arguments of other kinds than the
   * overload's must give 0 (dispatch reports them).
   */
  readonly cost?: (args: readonly unknown[]) => number;
  /** Depends on more than its arguments (the clock): never folded into a constant. */
  readonly impure?: boolean;
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

/** Options of one overload in {@link fn}; each is `false` by default. */
export interface OverloadOptions {
  /** Receiver-style (`x.f(y)`). */
  readonly member?: boolean;
  /** See {@link OverloadDecl.nonStrict}. */
  readonly nonStrict?: boolean;
  /** See {@link OverloadDecl.grows}. */
  readonly grows?: boolean;
  /** See {@link OverloadDecl.cost}; default none. */
  readonly cost?: (args: readonly unknown[]) => number;
  /** See {@link OverloadDecl.impure}. */
  readonly impure?: boolean;
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
    ...(options.grows ? { grows: true } : {}),
    ...(options.cost === undefined ? {} : { cost: options.cost }),
    ...(options.impure ? { impure: true } : {}),
  };
}

/** {@link overload} with `member: true`. */
export function member(
  id: string,
  params: readonly Type[],
  result: Type,
  impl?: OverloadImpl,
  options: Omit<OverloadOptions, "member"> = {},
): Omit<OverloadDecl, "fn"> {
  return overload(id, params, result, impl, { ...options, member: true });
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

/**
 * Whether a function name is an operator's (`_+_`, `!_`, `-_`, `_[_]`, `_?_:_`, `@in`,
 * `@not_strictly_false`) rather than a library function's: no identifier starts that way.
 */
export function isOperator(name: string): boolean {
  const c = name.charCodeAt(0);
  return c === 0x5f /* _ */ || c === 0x21 /* ! */ || c === 0x2d /* - */ || c === 0x40 /* @ */;
}

/**
 * The entry of a table of specialisations for a call: an operator's by its name (what it means
 * does not depend on the overload its operands select, as in cel-go's planner), a function's by
 * overload id — the entry every overload the call may resolve to shares; `undefined` when they
 * differ, one has none, or the call resolved to none.
 */
export function specialisationOf<V>(table: ReadonlyMap<string, V>, name: string, overloads: readonly OverloadDecl[]): V | undefined {
  if (isOperator(name)) return table.get(name);
  let found: V | undefined;
  for (const o of overloads) {
    const v = table.get(o.id);
    if (v === undefined || (found !== undefined && v !== found)) return undefined;
    found = v;
  }
  return found;
}

/** Whether a call resolved to at least one overload, all with ids in `ids`. */
export function resolvesWithin(overloads: readonly OverloadDecl[], ids: ReadonlySet<string>): boolean {
  return overloads.length > 0 && overloads.every((o) => ids.has(o.id));
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
