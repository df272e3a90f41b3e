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

const NO_NAMES: ReadonlySet<string> = new Set();
/**
 * Stands for a set holding a variable no enclosing comprehension binds (a global, such as
 * `event`): no node above it can be closed, so its name need not be tracked. Typical filters
 * read only globals, and fold without making a single set.
 */
const GLOBAL: ReadonlySet<string> = new Set(["(a global variable)"]);

/** The union of two free-name sets (null: impure), reusing either when it holds the other. */
function union(a: ReadonlySet<string> | null, b: ReadonlySet<string> | null): ReadonlySet<string> | null {
  if (a === null || b === null) return null;
  if (a === GLOBAL || b === GLOBAL) return GLOBAL;
  if (b.size === 0 || a === b) return a;
  if (a.size === 0) return b;
  const out = new Set(a);
  for (const v of b) out.add(v);
  return out;
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
  // Returns the free variable names of `e`, or null when `e` is impure (never constant). Sets are
  // never changed once returned, so a node shares its child's set when it adds nothing to it, and
  // closed nodes share one empty set: a typical filter folds without allocating a set per node.
  let identSets: Map<string, ReadonlySet<string>> | undefined;
  // Names bound by the comprehensions around the node being visited, innermost last.
  const bound: string[] = [];
  function visit(e: Expr): ReadonlySet<string> | null {
    let free: ReadonlySet<string> | null = NO_NAMES;
    switch (e.kind) {
      case "const":
        return free;
      case "ident": {
        const r = refs.get(e.id);
        if (r?.kind === "ident" && r.isType) return NO_NAMES;
        if (!bound.includes(e.name)) return GLOBAL;
        let names = (identSets ??= new Map()).get(e.name);
        if (names === undefined) identSets.set(e.name, (names = new Set([e.name])));
        return names;
      }
      case "comprehension": {
        free = union(visit(e.iterRange), visit(e.accuInit));
        const outer = bound.length;
        bound.push(e.accuVar, e.iterVar);
        if (e.iterVar2 !== undefined) bound.push(e.iterVar2);
        const condition = visit(e.loopCondition);
        const step = visit(e.loopStep);
        bound.length = outer;
        bound.push(e.accuVar);
        const result = visit(e.result);
        bound.length = outer;
        if (condition === null || step === null || result === null) {
          free = null;
          break;
        }
        const inner = new Set<string>();
        for (const v of condition) if (v !== e.iterVar && v !== e.iterVar2 && v !== e.accuVar) inner.add(v);
        for (const v of step) if (v !== e.iterVar && v !== e.iterVar2 && v !== e.accuVar) inner.add(v);
        for (const v of result) if (v !== e.accuVar) inner.add(v);
        free = condition === GLOBAL || step === GLOBAL || result === GLOBAL ? GLOBAL : union(free, inner);
        break;
      }
      case "call":
        if (e.target !== undefined) free = visit(e.target);
        for (const c of e.args) free = union(free, visit(c));
        if (IMPURE_FUNCTIONS.has(e.fn)) free = null;
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
    if (free !== null && free.size === 0) {
      const r = evaluate(e);
      if (r !== undefined) constants.set(e.id, r.value);
    }
    return free;
  }
  visit(root);
}
