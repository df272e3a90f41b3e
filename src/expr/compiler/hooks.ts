/**
 * What the parts of the compiler see of it: the hooks a closure factory (and a dialect's call
 * compilers) plan subexpressions with, and the one seam through which a speed-up that generates
 * code (`../jit/`) decorates the planned closures.
 *
 * The compiler plans closures as cel-go's planner plans interpretables; a {@link Decorator}
 * replaces a node's closure by a faster one with the same results, as cel-go's
 * `InterpretableDecorator` does. Nothing else in the compiler knows that code is generated.
 *
 * @module
 */
import type { CallExpr, ComprehensionExpr, Expr } from "../ast.js";
import type { Reference } from "../checker/checker.js";
import type { FunctionDecl, OverloadDecl } from "../decls.js";
import type { Type } from "../types.js";
import type { CelError } from "../values.js";
import type { Fn } from "./context.js";

/** What a closure factory, or a dialect compiling its own calls, may use of the compiler. */
export interface CompilerHooks {
  /** Missing fields, keys and variables read as unknown instead of failing (the dialect's rule). */
  readonly lenient: boolean;
  /** `has(x.f)` on a value without fields (null, a number) is an error rather than `false`. */
  readonly presenceTestErrors: boolean;
  /** The closure of a subexpression (constant, folded, or planned and decorated). */
  compile(e: Expr): Fn;
  /** The value of a literal or a folded constant; `undefined` for any other node. */
  constOf(e: Expr): { readonly value: unknown } | undefined;
  /** The checked type of a node (`dyn` when unknown). */
  typeOf(e: Expr): Type;
  /** The overloads a call may resolve to: the checker's, else every overload of its function. */
  overloads(e: CallExpr): readonly OverloadDecl[];
  /** A call through the overload table, dispatching on runtime kinds, its growth charged. */
  generic(e: CallExpr): Fn;
  /** Overload dispatch over evaluated non-error argument values (receiver first). */
  dispatcher(e: CallExpr): (vals: readonly unknown[]) => unknown;
  /** Reports a compile issue at a node. */
  issue(id: number, message: string): void;
  /** Compiles a constant regular expression, reporting an invalid one as a compile issue. */
  regex(id: number, pattern: string): ((s: string) => boolean) | CelError;
}

/**
 * Compiles a call the way a dialect (or the standard compiler) specialises it, or returns
 * `undefined` to leave it to the dialect's default.
 */
export type CallCompiler = (e: CallExpr, h: CompilerHooks) => Fn | undefined;

/**
 * Call compilers by operator name or overload id (see `specialisationOf` in `decls.ts`): an
 * operator's specialisation applies whatever its operands, a function's when every overload the
 * call may resolve to has it.
 */
export type CallTable = ReadonlyMap<string, CallCompiler>;

/** What the compiler reads of a dialect (the whole of it is `Dialect` in `dialect.ts`). */
export interface CompilerDialect {
  /** Missing fields, keys and variables read as unknown (null-like) instead of failing. */
  readonly lenient: boolean;
  /** Functions known to the checker and compiler. */
  readonly functions: ReadonlyMap<string, FunctionDecl>;
  /** How calls are compiled: operators by name, functions by overload id (see {@link CallTable}). */
  readonly calls: CallTable;
  /** Compiles a call that `calls` does not specialise or declines. Default: overload dispatch. */
  readonly otherCall?: CallCompiler;
  /**
   * `has(x.f)` on a value without fields (null, a number, a string) is a `no_such_field` /
   * `no_such_overload` error, as with cel-go's `EnableErrorOnBadPresenceTest`. Default false:
   * such a presence test is `false`, as cel-go answers by default.
   */
  readonly presenceTestErrors?: boolean;
}

/** How global names are resolved. */
export interface NameResolution {
  /** Resolve dotted names against the activation at run time (no checked AST, as cel-go unchecked). */
  readonly atRuntime: boolean;
  /** The container whose candidate names are tried. */
  readonly container: string;
}

/** The compiler as the factories of selections, calls and comprehensions use it. */
export interface Planner extends CompilerHooks {
  /** What the checker resolved each name and call to. */
  readonly refs: ReadonlyMap<number, Reference>;
  readonly resolution: NameResolution;
  /** Whether `e` is a literal or a folded constant. */
  isConstant(e: Expr): boolean;
  /** The comprehension slot a name is bound to where the compiler is now, if any. */
  lookupSlot(name: string): number | undefined;
  /** A new comprehension variable slot. */
  newSlot(): number;
  /** Plans `f` with the names of `scope` bound to their slots (innermost binding wins). */
  inScope<R>(scope: ReadonlyMap<string, number>, f: () => R): R;
  /** The macro call a comprehension was expanded from. */
  macroCall(e: ComprehensionExpr): CallExpr | undefined;
  /** The overloads a call may dispatch to at run time (see `calls.ts`). */
  runtimeOverloads(e: CallExpr): readonly OverloadDecl[];
}

/** What a {@link Decorator} may ask of the compiler about the tree it decorates. */
export interface DecoratorEnv {
  /** The plain closure of a node (its children planned and decorated as usual), made now. */
  plan(e: Expr): Fn;
  /** The root of the checked tree. */
  readonly root: Expr;
  readonly refs: ReadonlyMap<number, Reference>;
  constOf(e: Expr): { readonly value: unknown } | undefined;
  /** Whether `e` is a literal or a folded constant. */
  isConstant(e: Expr): boolean;
  /** The comprehension slot a name is bound to where the compiler is now, if any. */
  lookupSlot(name: string): number | undefined;
  /**
   * The comprehension variables in view where the compiler is now, innermost scope last: a copy
   * that later planning leaves alone, so a decorator may keep it for later.
   */
  scopesInView(): readonly ReadonlyMap<string, number>[];
  /** The macro a comprehension was expanded from (`exists`, `all`, …). */
  macroOf(e: ComprehensionExpr): string | undefined;
}

/**
 * The one decoration hook: given a node, returns the closure to use, either its plain closure or a
 * faster one with the same results. The plain closure is planned on demand
 * ({@link DecoratorEnv.plan}), so a decorator may plan it later or not at all.
 */
export interface Decorator {
  decorate(e: Expr): Fn;
  /** The holder of the root's closure, when the decorator swaps that closure after compiling. */
  readonly rootHolder: { readonly fn: Fn } | undefined;
}

/** Makes the decorator of one compilation. */
export type DecoratorFactory = (env: DecoratorEnv) => Decorator;
