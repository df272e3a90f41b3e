/**
 * Constant folding, as its own pass over the checked tree: every closed subtree (one that reads
 * no variable bound outside it and calls no `impure` overload) is evaluated once at compile time.
 * The compiler then emits a constant for it, and specialises its parents on the known value
 * (`x in ['a', 'b']` becomes a set lookup). A subtree whose evaluation fails is left alone so
 * that the error happens at run time, with its span.
 *
 * @module
 */
import type { Expr } from "../ast.js";
import { overloadsOf, type Reference } from "../checker/checker.js";
import type { OverloadDecl } from "../decls.js";

/**
 * What a subtree reads from outside itself, as bits: bit `d` for a variable bound by the
 * enclosing comprehension at nesting depth `d` (0 the outermost), {@link DEEP} for one bound at
 * depth {@link DEPTH_BITS} or more, {@link GLOBAL} for a variable no enclosing comprehension binds
 * (such as `event`: nothing above it can be closed). A subtree is closed when no bit is set. No
 * set of names is made.
 */
const DEPTH_BITS = 29;
/**
 * Variables of comprehensions at depth {@link DEPTH_BITS} and deeper share this bit, which only
 * the comprehension at depth {@link DEPTH_BITS} (the one enclosing all of them) clears: deeper
 * ones are folded only as part of it.
 */
const DEEP = 1 << 29;
const GLOBAL = 1 << 30;
/** A subtree that calls an impure function: never constant (absorbs everything). */
const IMPURE = -1;

function union(a: number, b: number): number {
  return a === IMPURE || b === IMPURE ? IMPURE : a | b;
}

/** Whether a call may resolve to an overload that depends on more than its arguments. */
function anyImpure(overloads: readonly OverloadDecl[]): boolean {
  for (const o of overloads) if (o.impure === true) return true;
  return false;
}

/** Evaluates a closed subtree, returning `{ value }`, or `undefined` when it must stay dynamic. */
export type ClosedEvaluator = (e: Expr) => { readonly value: unknown } | undefined;

/**
 * Computes the constant value of every closed, non-literal node, bottom-up, so that a parent is
 * evaluated after its children are known constants.
 */
export function foldConstants(
  root: Expr,
  refs: ReadonlyMap<number, Reference>,
  evaluate: ClosedEvaluator,
  constants: Map<number, unknown>,
): void {
  new Folder(refs, evaluate, constants).visit(root);
}

/** One folding pass (an object, not closures: a compile makes one allocation for it). */
class Folder {
  // Names bound by the comprehensions around the node being visited, innermost last, each with
  // the nesting depth of the comprehension that binds it: the first `bound` entries of the arrays
  // (made at the first comprehension; truncating an array's length is a runtime call).
  private boundNames: string[] | undefined;
  private boundDepths: number[] | undefined;
  private bound = 0;
  private depth = 0;

  constructor(
    private readonly refs: ReadonlyMap<number, Reference>,
    private readonly evaluate: ClosedEvaluator,
    private readonly constants: Map<number, unknown>,
  ) {}

  private bind(name: string): void {
    (this.boundNames ??= [])[this.bound] = name;
    (this.boundDepths ??= [])[this.bound] = this.depth;
    this.bound++;
  }

  /** Index of the innermost binding of `name`, or -1. */
  private binding(name: string): number {
    const names = this.boundNames;
    for (let k = this.bound - 1; k >= 0; k--) if (names![k] === name) return k;
    return -1;
  }

  /** What `e` reads from outside itself (see {@link GLOBAL}); folds its closed subtrees. */
  visit(e: Expr): number {
    let free = 0;
    switch (e.kind) {
      case "const":
        return 0;
      case "ident": {
        const r = this.refs.get(e.id);
        if (r?.kind === "ident" && r.isType) return 0;
        const k = this.binding(e.name);
        if (k < 0) return GLOBAL;
        const d = this.boundDepths![k]!;
        return d < DEPTH_BITS ? 1 << d : DEEP;
      }
      case "comprehension": {
        free = union(this.visit(e.iterRange), this.visit(e.accuInit));
        const outer = this.bound;
        this.bind(e.accuVar);
        this.bind(e.iterVar);
        if (e.iterVar2 !== undefined) this.bind(e.iterVar2);
        this.depth++;
        let inner = union(this.visit(e.loopCondition), this.visit(e.loopStep));
        this.depth--;
        this.bound = outer;
        this.bind(e.accuVar);
        this.depth++;
        inner = union(inner, this.visit(e.result));
        this.depth--;
        this.bound = outer;
        // Names this comprehension binds are closed here.
        const depth = this.depth;
        if (inner !== IMPURE && depth <= DEPTH_BITS) inner &= ~(depth < DEPTH_BITS ? 1 << depth : DEEP);
        free = union(free, inner);
        break;
      }
      case "call":
        if (e.target !== undefined) free = this.visit(e.target);
        for (const c of e.args) free = union(free, this.visit(c));
        if (anyImpure(overloadsOf(this.refs, e))) free = IMPURE;
        break;
      case "select":
        free = this.visit(e.operand);
        break;
      case "list":
        for (const c of e.elements) free = union(free, this.visit(c));
        break;
      case "map":
        for (const entry of e.entries) free = union(free, union(this.visit(entry.key), this.visit(entry.value)));
        break;
      case "struct":
        for (const field of e.fields) free = union(free, this.visit(field.value));
        break;
    }
    if (free === 0) {
      const r = this.evaluate(e);
      if (r !== undefined) this.constants.set(e.id, r.value);
    }
    return free;
  }
}
