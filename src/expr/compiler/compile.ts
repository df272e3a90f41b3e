/**
 * The closure compiler: plans one closure per node, specialised at compile time by the checked
 * types and by constant operands, as cel-go's planner plans interpretables. The closures return
 * CEL values or `CelError` values; only the cost budget throws, so that nested loops stop at once.
 *
 * The factories live by concern: names and selection (`select.ts`), operators (`operators.ts`),
 * calls (`calls.ts`), comprehensions (`comprehensions.ts`), literals (`aggregates.ts`). A
 * speed-up that generates code decorates the planned closures through the one hook of
 * `hooks.ts` ({@link Decorator}); without one, the plain closures run alone.
 *
 * @module
 */
import type { CallExpr, ComprehensionExpr, Constant, Expr } from "../ast.js";
import { overloadsOf, type CheckedAst, type Reference } from "../checker/checker.js";
import { isOperator, specialisationOf, type OverloadDecl } from "../decls.js";
import { makeIssue, type Issue } from "../errors.js";
import { T, type Type } from "../types.js";
import { CelError, CelUint } from "../values.js";
import { compileList, compileMap } from "./aggregates.js";
import { compileGeneric, dispatcher, runtimeOverloads } from "./calls.js";
import { compileBlock, compileComprehension } from "./comprehensions.js";
import { CostLimitExceeded, type Ctx, DEFAULT_EVAL_LIMITS, type EvalLimits, type Fn, newCtx } from "./context.js";
import { foldConstants } from "./fold.js";
import { compileRegexConstant, constFn } from "./helpers.js";
import type { CompilerDialect, Decorator, DecoratorEnv, DecoratorFactory, NameResolution, Planner } from "./hooks.js";
import { compileHas, compileIdent, compileSelect } from "./select.js";

export type { CompilerHooks, NameResolution } from "./hooks.js";

/** Result of compiling a checked tree. */
export interface CompiledExpr {
  /** The root closure; read `root.fn` at each evaluation, since a decorated root may swap it. */
  readonly root: { readonly fn: Fn };
  /** Number of comprehension variable slots the context needs. */
  readonly slotCount: number;
  /** Issues found while compiling (such as an invalid constant regular expression). */
  readonly issues: readonly Issue[];
  /** The subtrees folded into constants, by node id (they cost nothing at run time). */
  readonly constants: ReadonlyMap<number, unknown>;
}

/** The runtime value of a literal. */
export function constantValue(c: Constant): unknown {
  switch (c.kind) {
    case "null":
      return null;
    case "uint":
      return new CelUint(c.value);
    default:
      return c.value;
  }
}

const NO_SCOPES: readonly ReadonlyMap<string, number>[] = Object.freeze([]);

class Compiler implements Planner, DecoratorEnv {
  private readonly constants = new Map<number, unknown>();
  private readonly scopes: ReadonlyMap<string, number>[] = [];
  private slotCount = 0;
  readonly issues: Issue[] = [];
  private readonly types: ReadonlyMap<number, Type>;
  readonly refs: ReadonlyMap<number, Reference>;
  readonly lenient: boolean;
  readonly presenceTestErrors: boolean;
  readonly root: Expr;
  /** Decorates every planned node; none while folding constants (each is evaluated once). */
  private decorator: Decorator | undefined;

  constructor(
    private readonly checked: CheckedAst,
    private readonly dialect: CompilerDialect,
    private readonly limits: Required<EvalLimits>,
    readonly resolution: NameResolution,
    decorate: DecoratorFactory | undefined,
  ) {
    this.types = checked.types;
    this.refs = checked.refs;
    this.lenient = dialect.lenient;
    this.presenceTestErrors = dialect.presenceTestErrors === true;
    this.root = checked.expr;
    this.decorator = decorate?.(this);
  }

  /** The context constant folding evaluates in (made at the first folded subtree). */
  private foldCtx: Ctx | undefined;

  compileRoot(): { readonly fn: Fn } {
    foldConstants(this.checked.expr, this.refs, (e) => this.evaluateClosed(e), this.constants);
    const fn = this.compile(this.checked.expr);
    return this.decorator?.rootHolder ?? { fn };
  }

  /** Evaluates a closed subtree for constant folding; `undefined` leaves it to run time. */
  private evaluateClosed(e: Expr): { readonly value: unknown } | undefined {
    if (e.kind === "const") return undefined;
    const before = this.issues.length;
    const saved = this.slotCount;
    const decorator = this.decorator;
    this.decorator = undefined;
    try {
      const f = this.compile(e);
      // One context serves every folded subtree (each evaluation starts from no cost).
      let ctx = this.foldCtx;
      // Folding runs with at least the default budget, so that what is folded (and so what an
      // evaluation is charged) does not depend on the program's own, possibly smaller, budget.
      if (ctx === undefined || ctx.slots.length < this.slotCount) {
        ctx = this.foldCtx = newCtx(this.slotCount, { ...this.limits, maxCost: Math.max(this.limits.maxCost, DEFAULT_EVAL_LIMITS.maxCost) });
      }
      ctx.cost = 0;
      ctx.now = 0;
      const v = f(ctx);
      return v instanceof CelError ? undefined : { value: v };
    } catch (err) {
      if (err instanceof CostLimitExceeded) return undefined;
      throw err;
    } finally {
      // A subtree folded here is compiled again as part of its parent; drop duplicates.
      this.decorator = decorator;
      if (this.issues.length !== before) this.issues.length = before;
      this.slotCount = Math.max(saved, this.slotCount);
    }
  }

  /** The folded subtrees, by node id. */
  get folded(): ReadonlyMap<number, unknown> {
    return this.constants;
  }

  get slots(): number {
    return this.slotCount;
  }

  typeOf(e: Expr): Type {
    return this.types.get(e.id) ?? T.dyn;
  }

  isConstant(e: Expr): boolean {
    return e.kind === "const" || this.constants.has(e.id);
  }

  constOf(e: Expr): { value: unknown } | undefined {
    if (this.constants.has(e.id)) return { value: this.constants.get(e.id) };
    if (e.kind === "const") return { value: constantValue(e.value) };
    return undefined;
  }

  issue(id: number, message: string): void {
    const span = this.checked.parsed.spans.get(id) ?? { start: -1, end: -1 };
    this.issues.push(makeIssue(this.checked.parsed.source, "invalid_argument", message, span));
  }

  regex(id: number, pattern: string): ((s: string) => boolean) | CelError {
    const re = compileRegexConstant(pattern);
    if (re instanceof CelError) this.issue(id, re.message);
    return re;
  }

  compile(e: Expr): Fn {
    if (this.constants.has(e.id)) return constFn(this.constants.get(e.id));
    if (e.kind === "const") return constFn(constantValue(e.value));
    const d = this.decorator;
    return d === undefined ? this.plan(e) : d.decorate(e);
  }

  /** The plain closure of a node, by its kind. */
  plan(e: Expr): Fn {
    switch (e.kind) {
      case "const":
        return constFn(constantValue(e.value));
      case "ident":
        return compileIdent(this, e.id, e.name);
      case "select":
        return e.testOnly ? compileHas(this, e) : compileSelect(this, e);
      case "call":
        return this.compileCall(e);
      case "list":
        return compileList(this, e);
      case "map":
        return compileMap(this, e);
      case "struct":
        return constFn(new CelError("no_such_overload", `message construction is not supported: ${e.typeName}`, e.id));
      case "comprehension":
        return compileComprehension(this, e);
    }
  }

  /** A call: the dialect's specialisation of it, else the dialect's default, else dispatch. */
  private compileCall(e: CallExpr): Fn {
    if (e.fn === "cel.@block" && e.target === undefined) {
      const block = compileBlock(this, e);
      if (block !== undefined) return block;
    }
    const calls = this.dialect.calls;
    const special = (isOperator(e.fn) ? calls.get(e.fn) : specialisationOf(calls, e.fn, this.overloads(e)))?.(e, this);
    if (special !== undefined) return special;
    return this.dialect.otherCall?.(e, this) ?? this.generic(e);
  }

  overloads(e: CallExpr): readonly OverloadDecl[] {
    const resolved = overloadsOf(this.refs, e);
    return resolved.length > 0 ? resolved : (this.dialect.functions.get(e.fn)?.overloads ?? resolved);
  }

  generic(e: CallExpr): Fn {
    return compileGeneric(this, e);
  }

  dispatcher(e: CallExpr): (vals: readonly unknown[]) => unknown {
    return dispatcher(this, e);
  }

  runtimeOverloads(e: CallExpr): readonly OverloadDecl[] {
    return runtimeOverloads(this.refs, this.dialect.functions, e);
  }

  // -- scopes of comprehension variables -------------------------------------------------------

  lookupSlot(name: string): number | undefined {
    for (let k = this.scopes.length - 1; k >= 0; k--) {
      const s = this.scopes[k]!.get(name);
      if (s !== undefined) return s;
    }
    return undefined;
  }

  newSlot(): number {
    return this.slotCount++;
  }

  inScope<R>(scope: ReadonlyMap<string, number>, f: () => R): R {
    this.scopes.push(scope);
    try {
      return f();
    } finally {
      this.scopes.pop();
    }
  }

  scopesInView(): readonly ReadonlyMap<string, number>[] {
    return this.scopes.length === 0 ? NO_SCOPES : this.scopes.slice();
  }

  macroCall(e: ComprehensionExpr): CallExpr | undefined {
    return this.checked.parsed.macroCalls.get(e.id);
  }

  macroOf(e: ComprehensionExpr): string | undefined {
    return this.macroCall(e)?.fn;
  }
}

/**
 * Compiles a checked expression to closures. `decorate`, when given, makes the one decorator of
 * this compilation (see {@link Decorator}); without it the plain closures run alone.
 */
export function compileChecked(
  checked: CheckedAst,
  dialect: CompilerDialect,
  limits: Required<EvalLimits>,
  resolution: NameResolution = { atRuntime: false, container: "" },
  decorate?: DecoratorFactory,
): CompiledExpr {
  const c = new Compiler(checked, dialect, limits, resolution, decorate);
  const root = c.compileRoot();
  return { root, slotCount: c.slots, issues: c.issues, constants: c.folded };
}
