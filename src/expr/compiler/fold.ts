/**
 * Constant folding, as its own pass over the checked tree: every closed subtree (one that reads
 * no variable bound outside it and calls no impure function) is evaluated once at compile time.
 * The compiler then emits a constant for it, and specialises its parents on the known value
 * (`x in ['a', 'b']` becomes a set lookup). A subtree whose evaluation fails is left alone so
 * that the error happens at run time, with its span.
 *
 * @module
 */
import type { Expr } from "../ast.js";
import type { Reference } from "../checker/checker.js";

/** Functions whose result depends on more than their arguments. */
export const IMPURE_FUNCTIONS: ReadonlySet<string> = new Set(["now", "now_plus", "now_minus"]);

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

/** Evaluates a closed subtree, returning `{ value }`, or `undefined` when it must stay dynamic. */
export type ClosedEvaluator = (e: Expr) => { readonly value: unknown } | undefined;

function childrenOf(e: Expr): Expr[] {
  switch (e.kind) {
    case "const":
    case "ident":
      return [];
    case "select":
      return [e.operand];
    case "call":
      return e.target === undefined ? [...e.args] : [e.target, ...e.args];
    case "list":
      return [...e.elements];
    case "map":
      return e.entries.flatMap((x) => [x.key, x.value]);
    case "struct":
      return e.fields.map((f) => f.value);
    case "comprehension":
      return [e.iterRange, e.accuInit, e.loopCondition, e.loopStep, e.result];
  }
}

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
  // Names bound by the comprehensions around the node being visited, innermost last, each with
  // the nesting depth of the comprehension that binds it.
  const boundNames: string[] = [];
  const boundDepths: number[] = [];
  let depth = 0;
  function bind(name: string): void {
    boundNames.push(name);
    boundDepths.push(depth);
  }
  function visit(e: Expr): number {
    let free = 0;
    switch (e.kind) {
      case "const":
        return 0;
      case "ident": {
        const r = refs.get(e.id);
        if (r?.kind === "ident" && r.isType) return 0;
        const k = boundNames.lastIndexOf(e.name);
        if (k < 0) return GLOBAL;
        const d = boundDepths[k]!;
        return d < DEPTH_BITS ? 1 << d : DEEP;
      }
      case "comprehension": {
        free = union(visit(e.iterRange), visit(e.accuInit));
        const outer = boundNames.length;
        bind(e.accuVar);
        bind(e.iterVar);
        if (e.iterVar2 !== undefined) bind(e.iterVar2);
        depth++;
        let inner = union(visit(e.loopCondition), visit(e.loopStep));
        depth--;
        boundNames.length = boundDepths.length = outer;
        bind(e.accuVar);
        depth++;
        inner = union(inner, visit(e.result));
        depth--;
        boundNames.length = boundDepths.length = outer;
        // Names this comprehension binds are closed here.
        if (inner !== IMPURE && depth <= DEPTH_BITS) inner &= ~(depth < DEPTH_BITS ? 1 << depth : DEEP);
        free = union(free, inner);
        break;
      }
      case "call":
        if (e.target !== undefined) free = visit(e.target);
        for (const c of e.args) free = union(free, visit(c));
        if (IMPURE_FUNCTIONS.has(e.fn)) free = IMPURE;
        break;
      // The common kinds without a list of children.
      case "select":
        free = visit(e.operand);
        break;
      case "list":
        for (const c of e.elements) free = union(free, visit(c));
        break;
      default:
        for (const c of childrenOf(e)) free = union(free, visit(c));
    }
    if (free === 0) {
      const r = evaluate(e);
      if (r !== undefined) constants.set(e.id, r.value);
    }
    return free;
  }
  visit(root);
}
