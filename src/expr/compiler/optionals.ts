/**
 * Closures of the optionals extension that the overload table cannot express: `x.?f` (the
 * parser's `_?._`), `x[?k]`, and `or`/`orValue`, which evaluate their argument only when the
 * receiver is empty (cel-go's `evalOptionalOr`, `evalOptionalOrValue`).
 *
 * @module
 */
import type { CallExpr } from "../ast.js";
import { isPrototypeName, NOT_A_MAP, noSuchField, readField } from "../runtime/access.js";
import { MISSING, noSuchOverload } from "../runtime/core.js";
import { optionalIndex } from "../runtime/optional.js";
import { CelError, CelOptional } from "../values.js";
import type { Fn } from "./context.js";
import { attachNode } from "./helpers.js";
import type { CallCompiler, CompilerHooks } from "./hooks.js";

/**
 * Selects `field` of `v` the optional way: an empty optional stays empty, a present one is
 * unwrapped, and a map without the key gives `optional.none()`.
 */
export function selectOptional(v: unknown, field: string, proto: boolean, nodeId: number): unknown {
  let x = v;
  while (x instanceof CelOptional) {
    if (!x.hasValue) return CelOptional.NONE;
    x = x.value;
  }
  const r = readField(x, field, proto);
  if (r === MISSING) return CelOptional.NONE;
  if (r === NOT_A_MAP) return noSuchField(x, field, nodeId);
  return CelOptional.of(r);
}

/** `x.?f`. */
function compileOptionalSelect(e: CallExpr, h: CompilerHooks): Fn | undefined {
  const fieldArg = h.constOf(e.args[1]!);
  if (e.args.length !== 2 || typeof fieldArg?.value !== "string") return undefined;
  const operand = h.compile(e.args[0]!);
  const field = fieldArg.value;
  const proto = isPrototypeName(field);
  const id = e.id;
  return (c) => {
    const v = operand(c);
    return v instanceof CelError ? v : selectOptional(v, field, proto, id);
  };
}

/** `x[?k]`. */
function compileOptionalIndex(e: CallExpr, h: CompilerHooks): Fn | undefined {
  if (e.args.length !== 2) return undefined;
  const operand = h.compile(e.args[0]!);
  const index = h.compile(e.args[1]!);
  const id = e.id;
  return (c) => {
    const v = operand(c);
    if (v instanceof CelError) return v;
    const k = index(c);
    return k instanceof CelError ? k : optionalIndex(v, k, id);
  };
}

/** `a.or(b)` (`unwrap` false) and `a.orValue(b)` (`unwrap` true): `b` runs only when `a` is empty. */
function compileOr(unwrap: boolean): CallCompiler {
  return (e, h) => {
    if (e.target === undefined || e.args.length !== 1) return undefined;
    const target = h.compile(e.target);
    const other = h.compile(e.args[0]!);
    const id = e.id;
    const fn = e.fn;
    return (c) => {
      const v = target(c);
      if (v instanceof CelError) return v;
      if (!(v instanceof CelOptional)) return attachNode(noSuchOverload(fn, v), id);
      if (v.hasValue) return unwrap ? v.value : v;
      const w = other(c);
      if (unwrap || w instanceof CelError || w instanceof CelOptional) return w;
      return attachNode(noSuchOverload(fn, v, w), id);
    };
  };
}

/** The optionals extension's call compilers: operators by name, functions by overload id. */
export const OPTIONAL_CALLS: readonly (readonly [string, CallCompiler])[] = [
  ["_?._", compileOptionalSelect],
  ["_[?_]", compileOptionalIndex],
  ["optional_or_optional", compileOr(false)],
  ["optional_orValue_value", compileOr(true)],
];
