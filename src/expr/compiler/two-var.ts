/**
 * Closures for the macros of cel-go's two-variable comprehensions (`all`, `exists`, `existsOne`
 * with two variables, `transformList`, `transformMap`, `transformMapEntry`), recognised from
 * their expansion and run as plain loops that bind (index, element) of a list or (key, value) of
 * a map and build their result in place. Every iteration is charged to the cost budget, and what
 * `transform…` builds is charged by its size.
 *
 * @module
 */
import type { ComprehensionExpr } from "../ast.js";
import { twoVarIterationCharge, twoVarLoop } from "../checker/charges.js";
import { kindOf, mapGet, mapKeys, MISSING, noSuchOverload, smallInt, UNKNOWN } from "../runtime/core.js";
import { CelError } from "../values.js";
import { charge, chargeGrowth, type Ctx, type Fn } from "./context.js";
import { attachNode } from "./helpers.js";
import type { Planner } from "./hooks.js";

/** A map built by a transform: the accumulated entries, no key twice. */
function insertEntry(out: Map<unknown, unknown>, k: unknown, v: unknown, id: number): CelError | undefined {
  const kind = kindOf(k);
  if (kind !== "string" && kind !== "int" && kind !== "uint" && kind !== "bool") {
    return new CelError("invalid_argument", `unsupported key type: ${kind}`, id);
  }
  if (mapGet(out, k) !== MISSING) return new CelError("invalid_argument", `insert failed: key ${String(k)} already exists`, id);
  out.set(k, v);
  return undefined;
}

/**
 * A two-variable comprehension expanded from one of cel-go's macros, as a loop of its own; or
 * `undefined` for any other comprehension (the general loop runs it).
 */
export function compileTwoVarMacro(p: Planner, e: ComprehensionExpr, range: Fn, slots: readonly [number, number, number]): Fn | undefined {
  const loop = twoVarLoop(e, p.macroCall(e));
  if (loop === undefined) return undefined;
  const kind = loop.kind;
  const [slot1, slot2, accuSlot] = slots;
  const id = e.id;
  const scope = new Map<string, number>().set(e.accuVar, accuSlot).set(e.iterVar, slot1).set(e.iterVar2!, slot2);
  const { test, value } = p.inScope(scope, () => ({
    test: loop.test && p.compile(loop.test),
    value: loop.value && p.compile(loop.value),
  }));
  const lenient = p.lenient;
  // Each iteration is charged the nodes its body evaluates, as the one-variable loops are (see
  // checker/cost.ts), plus the append of a transform.
  const w = twoVarIterationCharge(loop);

  /** Runs `visit` for each (index, element) or (key, value); stops at its first non-undefined answer. */
  const each = (c: Ctx, visit: (c: Ctx) => unknown): unknown => {
    const rv = range(c);
    if (rv instanceof CelError) return rv;
    if (lenient && rv === UNKNOWN) return UNKNOWN;
    if (Array.isArray(rv)) {
      for (let k = 0; k < rv.length; k++) {
        if ((c.cost += w) > c.maxCost) charge(c, 0, id);
        c.slots[slot1] = smallInt(k);
        c.slots[slot2] = rv[k];
        const r = visit(c);
        if (r !== undefined) return r;
      }
      return undefined;
    }
    if (kindOf(rv) !== "map") return new CelError("no_such_overload", `expression of type '${kindOf(rv)}' cannot be range of a comprehension`, id);
    const m = rv as Map<unknown, unknown>;
    for (const key of mapKeys(m)) {
      if ((c.cost += w) > c.maxCost) charge(c, 0, id);
      c.slots[slot1] = key;
      c.slots[slot2] = mapGet(m, key);
      const r = visit(c);
      if (r !== undefined) return r;
    }
    return undefined;
  };
  /** The test's verdict: true, false, or the error to stop with. */
  const decide = (c: Ctx, op: string): boolean | CelError => {
    const v = test!(c);
    if (v === true || v === false) return v;
    return v instanceof CelError ? v : (attachNode(noSuchOverload(op, v), id) as CelError);
  };

  switch (kind) {
    case "all":
    case "exists": {
      const decisive = kind === "exists";
      const op = decisive ? "_||_" : "_&&_";
      return (c) => {
        let err: CelError | undefined;
        const r = each(c, (cc) => {
          const v = decide(cc, op);
          if (v === decisive) return v;
          if (v instanceof CelError) err ??= v;
          return undefined;
        });
        return r !== undefined ? r : (err ?? !decisive);
      };
    }
    case "exists_one":
      return (c) => {
        let count = 0;
        const r = each(c, (cc) => {
          const v = decide(cc, "_?_:_");
          if (v instanceof CelError) return v;
          if (v) count++;
          return undefined;
        });
        return r !== undefined ? r : count === 1;
      };
    case "list":
    case "list_filter":
      return (c) => {
        const out: unknown[] = [];
        const r = each(c, (cc) => {
          if (test !== undefined) {
            const keep = decide(cc, "_?_:_");
            if (keep !== true) return keep === false ? undefined : keep;
          }
          const v = value!(cc);
          if (v instanceof CelError) return v;
          out.push(v);
          return undefined;
        });
        return r !== undefined ? r : chargeGrowth(c, out, id);
      };
    default: {
      const entries = kind === "entry" || kind === "entry_filter";
      return (c) => {
        const out = new Map<unknown, unknown>();
        const r = each(c, (cc) => {
          if (test !== undefined) {
            const keep = decide(cc, "_?_:_");
            if (keep !== true) return keep === false ? undefined : keep;
          }
          const v = value!(cc);
          if (v instanceof CelError) return v;
          if (!entries) return insertEntry(out, cc.slots[slot1], v, id);
          if (kindOf(v) !== "map") return new CelError("no_such_overload", `transformMapEntry expects a map, got ${kindOf(v)}`, id);
          const m = v as Map<unknown, unknown>;
          for (const k of mapKeys(m)) {
            const err = insertEntry(out, k, mapGet(m, k), id);
            if (err !== undefined) return err;
          }
          return undefined;
        });
        if (r !== undefined) return r;
        if (out.size > 0) charge(c, out.size, id);
        return out;
      };
    }
  }
}
