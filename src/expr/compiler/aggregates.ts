/**
 * Closures for list and map literals, charged by the size they build.
 *
 * @module
 */
import type { ListExpr, MapExpr } from "../ast.js";
import { kindName, kindOf, mapGet, MISSING, UNKNOWN } from "../runtime/core.js";
import { CelError, CelOptional } from "../values.js";
import { charge, type Fn } from "./context.js";
import type { Planner } from "./hooks.js";

/** `[a, b, …]`. */
export function compileList(p: Planner, e: ListExpr): Fn {
  const n = e.elements.length;
  const id = e.id;
  if (e.optionalIndices.length > 0) return compileOptionalList(p, e);
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

/**
 * The value of an optional element or entry (`[?e]`, `{?k: e}`): what an optional holds, `NONE`
 * when it holds nothing (the element or entry is left out), an error for any other value.
 */
function optionalElement(v: unknown, id: number): unknown {
  if (v instanceof CelOptional) return v.hasValue ? v.value : NONE;
  return new CelError("invalid_argument", `cannot initialize optional entry from non-optional value ${kindName(v)}`, id);
}

const NONE: unique symbol = Symbol("none");

/** `[a, ?b, …]`: the optional elements are left out when empty. */
function compileOptionalList(p: Planner, e: ListExpr): Fn {
  const optional = new Set(e.optionalIndices);
  const items = e.elements.map((x, k) => ({ fn: p.compile(x), optional: optional.has(k) }));
  const id = e.id;
  return (c) => {
    const out: unknown[] = [];
    for (const item of items) {
      let v = item.fn(c);
      if (v instanceof CelError || v === UNKNOWN) return v;
      if (item.optional) {
        v = optionalElement(v, id);
        if (v === NONE) continue;
        if (v instanceof CelError) return v;
      }
      out.push(v);
    }
    if (out.length > 0) charge(c, out.length, id);
    return out;
  };
}

/** `{k: v, ?k: v, …}`: keys of the four key kinds, no key twice; empty optional entries left out. */
export function compileMap(p: Planner, e: MapExpr): Fn {
  const entries = e.entries.map((x) => ({ key: p.compile(x.key), value: p.compile(x.value), id: x.id, optional: x.optional }));
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
      let v = entry.value(c);
      if (v instanceof CelError || v === UNKNOWN) return v;
      if (entry.optional) {
        v = optionalElement(v, entry.id);
        if (v === NONE) continue;
        if (v instanceof CelError) return v;
      }
      if (mapGet(out, k) !== MISSING) {
        return new CelError("invalid_argument", `Failed with repeated key: ${String(k)}`, entry.id);
      }
      out.set(k, v);
    }
    if (entries.length > 0) charge(c, entries.length, id);
    return out;
  };
}
