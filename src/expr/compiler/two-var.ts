/**
 * Closures for the macros of cel-go's two-variable comprehensions (`all`, `exists`, `existsOne`
 * with two variables, `transformList`, `transformMap`, `transformMapEntry`), recognised from
 * their expansion and run as plain loops that bind (index, element) of a list or (key, value) of
 * a map and build their result in place. Every iteration is charged to the cost budget, and what
 * `transform…` builds is charged by its size.
 *
 * @module
 */
import type { CallExpr, ComprehensionExpr, Expr, ListExpr } from "../ast.js";
import { APPEND_COST, fixedCost, ITERATION_COST } from "../checker/cost.js";
import { kindOf, mapGet, mapKeys, MISSING, noSuchOverload, smallInt, UNKNOWN } from "../runtime/core.js";
import { CelError } from "../values.js";
import { charge, chargeGrowth, type Ctx, type Fn } from "./context.js";
import { attachNode } from "./helpers.js";
import type { Planner } from "./hooks.js";

/** The two-variable macros this file runs as loops of their own. */
type TwoVarKind = "all" | "exists" | "exists_one" | "list" | "list_filter" | "map" | "map_filter" | "entry" | "entry_filter";

/** The macro a two-variable comprehension was expanded from, recognised from its expansion. */
function twoVarKind(p: Planner, e: ComprehensionExpr): TwoVarKind | undefined {
  const call = p.macroCall(e);
  if (call === undefined || e.iterVar2 === undefined) return undefined;
  const step = e.loopStep;
  const isAccu = (x: Expr | undefined): boolean => x?.kind === "ident" && x.name === e.accuVar;
  const isCall = (x: Expr | undefined, fn: string): x is CallExpr => x?.kind === "call" && x.fn === fn;
  const append = (x: Expr | undefined): boolean =>
    isCall(x, "_+_") && isAccu(x.args[0]) && x.args[1]?.kind === "list" && x.args[1].elements.length === 1;
  const insert = (x: Expr | undefined, n: number): boolean => isCall(x, "cel.@mapInsert") && x.args.length === n && isAccu(x.args[0]);
  const filtered = isCall(step, "_?_:_") && isAccu(step.args[2]) ? step.args[1] : undefined;
  switch (call.fn) {
    case "exists":
      return isCall(step, "_||_") && isAccu(step.args[0]) ? "exists" : undefined;
    case "all":
      return isCall(step, "_&&_") && isAccu(step.args[0]) ? "all" : undefined;
    case "existsOne":
    case "exists_one":
      return filtered !== undefined ? "exists_one" : undefined;
    case "transformList":
      if (call.args.length === 3) return append(step) ? "list" : undefined;
      return append(filtered) ? "list_filter" : undefined;
    case "transformMap":
      if (call.args.length === 3) return insert(step, 3) ? "map" : undefined;
      return insert(filtered, 3) ? "map_filter" : undefined;
    case "transformMapEntry":
      if (call.args.length === 3) return insert(step, 2) ? "entry" : undefined;
      return insert(filtered, 2) ? "entry_filter" : undefined;
    default:
      return undefined;
  }
}

/** The predicate (quantifiers, filters) and the transform of a recognised macro's step. */
function parts(step: CallExpr, kind: TwoVarKind): { readonly test: Expr | undefined; readonly value: Expr | undefined } {
  const last = (x: CallExpr): Expr => x.args[x.args.length - 1]!;
  switch (kind) {
    case "all":
    case "exists":
      return { test: step.args[1], value: undefined };
    case "exists_one":
      return { test: step.args[0], value: undefined };
    case "list":
      return { test: undefined, value: (step.args[1] as ListExpr).elements[0] };
    case "list_filter":
      return { test: step.args[0], value: ((step.args[1] as CallExpr).args[1] as ListExpr).elements[0] };
    case "map":
    case "entry":
      return { test: undefined, value: last(step) };
    default:
      return { test: step.args[0], value: last(step.args[1] as CallExpr) };
  }
}

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
  const kind = twoVarKind(p, e);
  if (kind === undefined) return undefined;
  const [slot1, slot2, accuSlot] = slots;
  const id = e.id;
  const scope = new Map<string, number>().set(e.accuVar, accuSlot).set(e.iterVar, slot1).set(e.iterVar2!, slot2);
  const { test, value } = p.inScope(scope, () => {
    const x = parts(e.loopStep as CallExpr, kind);
    return { test: x.test && p.compile(x.test), value: x.value && p.compile(x.value) };
  });
  const lenient = p.lenient;
  // Each iteration is charged the nodes its body evaluates, as the one-variable loops are (see
  // checker/cost.ts), plus the append of a transform.
  const { test: testExpr, value: valueExpr } = parts(e.loopStep as CallExpr, kind);
  const w =
    ITERATION_COST +
    (testExpr === undefined ? 0 : fixedCost(testExpr)) +
    (valueExpr === undefined ? 0 : fixedCost(valueExpr) + APPEND_COST);

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
