/**
 * The decorator that puts generated JavaScript behind the compiler's closures (see the
 * `Decorator` hook in `compiler/hooks.ts`):
 *
 * - a field path read from a variable (`event.data.userId`) gets a generated accessor for the
 *   plain case, falling back to the planned closure (`paths.ts`);
 * - a boolean subtree (a comparison, `in`, a string test, `&&`, `exists`, …) gets a generated
 *   fast path (`codegen.ts`), either at compile time or, tiered, once it has been evaluated a
 *   number of times, so a program used a few times never pays for code generation.
 *
 * Each decorated node computes exactly what its planned closure computes; the differential tests
 * (`test/expr/codegen.test.ts`) compare both.
 *
 * @module
 */
import { withoutRootDot, type ComprehensionExpr, type Expr, type SelectExpr } from "../ast.js";
import { overloadsOf, type Reference } from "../checker/checker.js";
import type { Fn } from "../compiler/context.js";
import { compileRegexConstant } from "../compiler/helpers.js";
import type { Decorator, DecoratorEnv, DecoratorFactory } from "../compiler/hooks.js";
import { isOperator, specialisationOf } from "../decls.js";
import { CelError } from "../values.js";
import { type CodegenEnv, prepareFastPath } from "./codegen.js";
import { generatePathAccessor, type PathRoot, SLOW } from "./paths.js";

/** Calls that may root a generated boolean fast path: operators by name, functions by overload id. */
const PREDICATES: ReadonlyMap<string, true> = new Map(
  [
    "_&&_",
    "_||_",
    "!_",
    "_==_",
    "_!=_",
    "_<_",
    "_<=_",
    "_>_",
    "_>=_",
    "@in",
    "_?_:_",
    "starts_with_string",
    "ends_with_string",
    "contains_string",
    "matches",
    "matches_string",
  ].map((key) => [key, true]),
);

/** The holder of a tiered subtree's current closure (a class: see `newCtx` on allocation sites). */
class TierNode {
  constructor(public fn: Fn) {}
}

const ACTIVATION_ROOT: PathRoot = Object.freeze({ kind: "activation" });

/** What the fast-path generator sees of the compiler, with the comprehension scopes of one point. */
class ScopedCodegenEnv implements CodegenEnv {
  constructor(
    private readonly env: DecoratorEnv,
    private readonly scopes: readonly ReadonlyMap<string, number>[],
  ) {}

  constOf(e: Expr): { readonly value: unknown } | undefined {
    return this.env.constOf(e);
  }

  get refs(): ReadonlyMap<number, Reference> {
    return this.env.refs;
  }

  slotOf(name: string): number | undefined {
    for (let k = this.scopes.length - 1; k >= 0; k--) {
      const slot = this.scopes[k]!.get(name);
      if (slot !== undefined) return slot;
    }
    return undefined;
  }

  macroOf(e: ComprehensionExpr): string | undefined {
    return this.env.macroOf(e);
  }

  regexOf(pattern: string): ((s: string) => boolean) | undefined {
    const re = compileRegexConstant(pattern);
    return re instanceof CelError ? undefined : re;
  }
}

class JitDecorator implements Decorator {
  rootHolder: TierNode | undefined;
  /** Set while planning the closures behind a fast path generated at compile time. */
  private insideGenerated = false;

  constructor(
    private readonly env: DecoratorEnv,
    /** Evaluations of a boolean subtree before its fast path is generated; 0 means at once. */
    private readonly after: number,
  ) {}

  decorate(e: Expr): Fn {
    if (e.kind === "select") return e.testOnly ? this.env.plan(e) : this.path(e);
    if (this.insideGenerated || !this.isPredicate(e)) return this.env.plan(e);
    return this.after === 0 ? this.generateNow(e) : this.tiered(e);
  }

  /** Whether `e` may root a generated boolean fast path (a comprehension: `exists`, `all`). */
  private isPredicate(e: Expr): boolean {
    if (e.kind === "comprehension") return true;
    if (e.kind !== "call") return false;
    return isOperator(e.fn) ? PREDICATES.has(e.fn) : specialisationOf(PREDICATES, e.fn, overloadsOf(this.env.refs, e)) !== undefined;
  }

  /**
   * Generates the fast path of a boolean subtree now, backed by the planned closures for every
   * case the fast path declines; those closures get no fast paths of their own.
   */
  private generateNow(e: Expr): Fn {
    const prepared = prepareFastPath(e, new ScopedCodegenEnv(this.env, this.env.scopesInView()));
    if (prepared === undefined) return this.env.plan(e);
    this.insideGenerated = true;
    let slow: Fn;
    try {
      slow = this.env.plan(e);
    } finally {
      this.insideGenerated = false;
    }
    return prepared.instantiate(slow);
  }

  /**
   * Tiered compilation: a boolean subtree starts as closures and, after `after` evaluations,
   * generates its fast path and switches to it. Nothing of the generator is built before then but
   * a copy of the comprehension scopes in view (usually none, shared).
   */
  private tiered(e: Expr): Fn {
    const slow = this.env.plan(e);
    const scopes = this.env.scopesInView();
    const threshold = this.after;
    const env = this.env;
    let count = 0;
    // The node is built around its first closure rather than given it afterwards: storing a fresh
    // closure into an existing object at every compile made V8 pretenure allocation sites of the
    // whole compiler (measured: uncached compiles about 2× slower, scavenges 3–4× longer).
    const node: TierNode = new TierNode((c) => {
      if (++count < threshold) return slow(c);
      const prepared = prepareFastPath(e, new ScopedCodegenEnv(env, scopes));
      node.fn = prepared === undefined ? slow : prepared.instantiate(slow);
      return node.fn(c);
    });
    if (e === this.env.root) {
      this.rootHolder = node;
      return node.fn;
    }
    return (c) => node.fn(c);
  }

  /**
   * A field path read from a variable: a generated accessor for the plain case, the planned
   * closure for everything else. Well-formed data never leaves the accessor, so the planned
   * closures of a path from a global variable are made when first needed. Nothing they depend on
   * changes after compiling: folding is done, and a name that is no comprehension variable now is
   * none later.
   */
  private path(e: SelectExpr): Fn {
    let fields = 0;
    let base: Expr = e;
    while (base.kind === "select" && !base.testOnly && !base.optional && !this.env.isConstant(base)) {
      fields++;
      base = base.operand;
    }
    if (fields === 0 || base.kind !== "ident" || this.env.isConstant(base)) return this.env.plan(e);
    let root: PathRoot;
    const slot = this.env.lookupSlot(base.name);
    if (slot === undefined) {
      const ref = this.env.refs.get(base.id);
      if (ref?.kind === "ident" && ref.isType) return this.env.plan(e);
      root = ACTIVATION_ROOT;
    } else {
      root = { kind: "slot", index: slot };
    }
    // The variable's name (when the path starts at the activation), then the fields; sized up
    // front rather than grown.
    const first = root === ACTIVATION_ROOT ? 1 : 0;
    const keys = new Array<string>(first + fields);
    if (first === 1) keys[0] = withoutRootDot(base.name);
    let step: Expr = e;
    for (let k = first + fields - 1; k >= first; k--) {
      const select = step as SelectExpr;
      keys[k] = select.field;
      step = select.operand;
    }
    const fast = generatePathAccessor(root, keys);
    if (fast === undefined) return this.env.plan(e);
    if (root !== ACTIVATION_ROOT) {
      const slow = this.env.plan(e);
      return (c) => {
        const v = fast(c);
        return v !== SLOW ? v : slow(c);
      };
    }
    const env = this.env;
    let slow: Fn | undefined;
    return (c) => {
      const v = fast(c);
      return v !== SLOW ? v : (slow ??= env.plan(e))(c);
    };
  }
}

/**
 * The decorator factory for one program: `after` evaluations of a boolean subtree before its
 * fast path is generated (0: at compile time).
 */
export function jitDecorator(after: number): DecoratorFactory {
  return (env) => new JitDecorator(env, after);
}

/**
 * Default number of evaluations before a boolean subtree generates its fast path. Generating code
 * costs about as much as the rest of compiling together, and a program evaluated a few times never
 * earns it back; a filter run over many events generates it on its 64th evaluation. This is below
 * the evaluations after which a program gets entry points of its own (`entry.ts`), so those
 * entries only ever see the generated function and their call of it stays monomorphic.
 */
export const DEFAULT_FAST_PATHS_AFTER = 64;
