/**
 * Closures for list and map literals, charged by the size they build.
 *
 * @module
 */
import type { ListExpr, MapExpr } from "../ast.js";
import { kindOf, mapGet, MISSING, UNKNOWN } from "../runtime/core.js";
import { CelError } from "../values.js";
import { charge, type Fn } from "./context.js";
import type { Planner } from "./hooks.js";

/** `[a, b, …]`. */
export function compileList(p: Planner, e: ListExpr): Fn {
  const n = e.elements.length;
  const id = e.id;
  if (e.elements.every((x) => p.isConstant(x))) {
    // Usually evaluated just once, by constant folding: no closure per element.
    const values = e.elements.map((x) => p.constOf(x)!.value);
    return (c) => {
      if (n > 0) charge(c, n, id);
      return values.slice();
    };
  }
  const items = e.elements.map((x) => p.compile(x));
  return (c) => {
    const out = new Array<unknown>(n);
    for (let k = 0; k < n; k++) {
      const v = items[k]!(c);
      if (v instanceof CelError || v === UNKNOWN) return v;
      out[k] = v;
    }
    if (n > 0) charge(c, n, id);
    return out;
  };
}

/** `{k: v, …}`: keys of the four key kinds, no key twice. */
export function compileMap(p: Planner, e: MapExpr): Fn {
  const entries = e.entries.map((x) => ({ key: p.compile(x.key), value: p.compile(x.value), id: x.id }));
  const id = e.id;
  return (c) => {
    const out = new Map<unknown, unknown>();
    for (const entry of entries) {
      const k = entry.key(c);
      if (k instanceof CelError || k === UNKNOWN) return k;
      const kind = kindOf(k);
      if (kind !== "string" && kind !== "int" && kind !== "uint" && kind !== "bool") {
        return new CelError("invalid_argument", `unsupported key type: ${kind}`, entry.id);
      }
      const v = entry.value(c);
      if (v instanceof CelError || v === UNKNOWN) return v;
      if (mapGet(out, k) !== MISSING) {
        return new CelError("invalid_argument", `Failed with repeated key: ${String(k)}`, entry.id);
      }
      out.set(k, v);
    }
    if (entries.length > 0) charge(c, entries.length, id);
    return out;
  };
}
