/**
 * Closures for comprehensions. The macros (`all`, `exists`, `exists_one`, `map`, `filter`) are
 * recognised from their expanded form and run as plain loops over the items; any other
 * comprehension runs the general loop with its accumulator. Every iteration is charged to the
 * cost budget.
 *
 * @module
 */
import type { CallExpr, ComprehensionExpr } from "../ast.js";
import { iterationCharge, type LoopParts, loopParts } from "../checker/charges.js";
import { kindOf, mapGet, mapKeys, type Missing, noSuchOverload, UNKNOWN } from "../runtime/core.js";
import { CelError } from "../values.js";
import { charge, type Fn } from "./context.js";
import { attachNode } from "./helpers.js";
import type { Planner } from "./hooks.js";
import { compileTwoVarMacro } from "./two-var.js";

/** The closures of a comprehension's loop, planned with its variables in scope. */
interface LoopClosures {
  /** The predicate (macros) or the step (general loop). */
  readonly body: Fn;
  /** The transform of `map(x, p, f)` / the element of `filter`. */
  readonly second: Fn | undefined;
  /** The loop condition of the general loop. */
  readonly cond: Fn | undefined;
}

function planLoop(p: Planner, parts: LoopParts): LoopClosures {
  return {
    body: p.compile(parts.body),
    second: parts.second === undefined ? undefined : p.compile(parts.second),
    cond: parts.cond === undefined ? undefined : p.compile(parts.cond),
  };
}

/** A comprehension: a macro's own loop, or the general loop. */
export function compileComprehension(p: Planner, e: ComprehensionExpr): Fn {
  const range = p.compile(e.iterRange);
  const id = e.id;
  const lenient = p.lenient;
  const iterSlot = p.newSlot();
  const iter2Slot = e.iterVar2 !== undefined ? p.newSlot() : -1;
  const accuSlot = p.newSlot();
  if (e.iterVar2 !== undefined) {
    const loop = compileTwoVarMacro(p, e, range, [iterSlot, iter2Slot, accuSlot]);
    if (loop !== undefined) return loop;
  }
  const parts = loopParts(e, p.macroCall(e));
  const kind = parts.kind;
  // Each iteration is charged the nodes its body evaluates (see checker/cost.ts).
  const w = iterationCharge(parts);
  const accuInit = p.compile(e.accuInit);

  const loopScope = new Map<string, number>().set(e.accuVar, accuSlot);
  loopScope.set(e.iterVar, iterSlot);
  if (e.iterVar2 !== undefined) loopScope.set(e.iterVar2, iter2Slot);
  const { body, second, cond } = p.inScope(loopScope, () => planLoop(p, parts));
  const result = p.inScope(new Map<string, number>().set(e.accuVar, accuSlot), () => p.compile(e.result));

  /** The items to iterate: list elements or map keys; an error (or unknown) value otherwise. */
  const itemsOf = (v: unknown): readonly unknown[] | CelError | Missing => {
    if (Array.isArray(v)) return v;
    if (v instanceof CelError) return v;
    if (lenient && v === UNKNOWN) return UNKNOWN;
    const k = kindOf(v);
    if (k === "map") return mapKeys(v as Map<unknown, unknown>);
    return new CelError("no_such_overload", `expression of type '${k}' cannot be range of a comprehension`, id);
  };

  switch (kind) {
    case "exists":
    case "all": {
      const decisive = kind === "exists";
      return (c) => {
        const items = itemsOf(range(c));
        if (!Array.isArray(items)) return items;
        let err: CelError | undefined;
        for (let k = 0; k < items.length; k++) {
          if ((c.cost += w) > c.maxCost) charge(c, 0, id);
          c.slots[iterSlot] = items[k];
          const v = body(c);
          if (v === decisive) return decisive;
          // inngest: the first error ends the loop and is the result. Inngest's loop condition
          // (`@not_strictly_false`, through its decorator) is `false` on an error, so its
          // `exists`/`all` stop there; cel's go on and let a later element decide.
          if (lenient && v instanceof CelError) return v;
          if (v !== !decisive && err === undefined) {
            err = v instanceof CelError ? v : (attachNode(noSuchOverload(decisive ? "_||_" : "_&&_", v), id) as CelError);
          }
        }
        return err ?? !decisive;
      };
    }
    case "exists_one":
      return (c) => {
        const items = itemsOf(range(c));
        if (!Array.isArray(items)) return items;
        let count = 0;
        for (let k = 0; k < items.length; k++) {
          if ((c.cost += w) > c.maxCost) charge(c, 0, id);
          c.slots[iterSlot] = items[k];
          const v = body(c);
          if (v === true) count++;
          else if (v !== false) return v instanceof CelError ? v : attachNode(noSuchOverload("_?_:_", v), id);
        }
        return count === 1;
      };
    case "map":
      return (c) => {
        const items = itemsOf(range(c));
        if (!Array.isArray(items)) return items;
        const out = new Array<unknown>(items.length);
        for (let k = 0; k < items.length; k++) {
          if ((c.cost += w) > c.maxCost) charge(c, 0, id);
          c.slots[iterSlot] = items[k];
          const v = body(c);
          if (v instanceof CelError) return v;
          out[k] = v;
        }
        return out;
      };
    case "filter":
    case "map_filter": {
      const transform = second!;
      return (c) => {
        const items = itemsOf(range(c));
        if (!Array.isArray(items)) return items;
        const out: unknown[] = [];
        for (let k = 0; k < items.length; k++) {
          if ((c.cost += w) > c.maxCost) charge(c, 0, id);
          c.slots[iterSlot] = items[k];
          const v = body(c);
          if (v === true) {
            const t = transform(c);
            if (t instanceof CelError) return t;
            out.push(t);
          } else if (v !== false) {
            return v instanceof CelError ? v : attachNode(noSuchOverload("_?_:_", v), id);
          }
        }
        return out;
      };
    }
    default: {
      const loopCond = cond!;
      const twoVars = e.iterVar2 !== undefined;
      return (c) => {
        const rv = range(c);
        if (rv instanceof CelError) return rv;
        const isList = Array.isArray(rv);
        const items = itemsOf(rv);
        if (!Array.isArray(items)) return items;
        let accu = accuInit(c);
        c.slots[accuSlot] = accu;
        for (let k = 0; k < items.length; k++) {
          if ((c.cost += w) > c.maxCost) charge(c, 0, id);
          if (twoVars) {
            if (isList) {
              c.slots[iterSlot] = BigInt(k);
              c.slots[iter2Slot] = items[k];
            } else {
              c.slots[iterSlot] = items[k];
              c.slots[iter2Slot] = mapGet(rv as Map<unknown, unknown>, items[k]);
            }
          } else {
            c.slots[iterSlot] = items[k];
          }
          const go = loopCond(c);
          if (go === false) break;
          if (go !== true) return go instanceof CelError ? go : attachNode(noSuchOverload("loop condition", go), id);
          accu = body(c);
          c.slots[accuSlot] = accu;
        }
        return result(c);
      };
    }
  }
}

/**
 * `cel.@block([e0, e1, …], result)`: each entry is evaluated in order into a slot that
 * `@index<k>` reads, then the result. Entries are values (errors included), so evaluating them
 * up front gives what cel-go's lazy slots give; an entry's error counts only where it is read.
 */
export function compileBlock(p: Planner, e: CallExpr): Fn | undefined {
  const list = e.args[0];
  if (e.args.length !== 2 || list?.kind !== "list" || list.optionalIndices.length > 0) return undefined;
  const scope = new Map<string, number>();
  const entries: { readonly slot: number; readonly fn: Fn }[] = [];
  for (let k = 0; k < list.elements.length; k++) {
    const fn = p.inScope(scope, () => p.compile(list.elements[k]!));
    const slot = p.newSlot();
    scope.set(`@index${k}`, slot);
    entries.push({ slot, fn });
  }
  const result = p.inScope(scope, () => p.compile(e.args[1]!));
  return (c) => {
    for (const entry of entries) c.slots[entry.slot] = entry.fn(c);
    return result(c);
  };
}
