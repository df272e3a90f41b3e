/**
 * Runtime type tests for overload dispatch when static types are `dyn`.
 *
 * @module
 */
import type { OverloadDecl } from "../decls.js";
import { isMap } from "../runtime/core.js";
import type { Type } from "../types.js";
import { CelDuration, CelTimestamp, CelType, CelUint } from "../values.js";

/** A runtime test of one argument. */
export type Guard = (v: unknown) => boolean;

const GUARDS: Partial<Record<Type["kind"], Guard>> = {
  bool: (v) => typeof v === "boolean",
  int: (v) => typeof v === "bigint",
  uint: (v) => v instanceof CelUint,
  double: (v) => typeof v === "number",
  string: (v) => typeof v === "string",
  bytes: (v) => v instanceof Uint8Array,
  null: (v) => v === null || v === undefined,
  timestamp: (v) => v instanceof CelTimestamp || v instanceof Date,
  duration: (v) => v instanceof CelDuration,
  list: (v) => Array.isArray(v),
  map: (v) => isMap(v),
  type: (v) => v instanceof CelType,
};

/** The runtime test of a parameter type, or `undefined` when any value is accepted. */
export function guardFor(t: Type): Guard | undefined {
  return GUARDS[t.kind];
}

/** Builds a test of a whole argument list for one overload; `undefined` when it always matches. */
export function overloadGuard(o: OverloadDecl): ((args: readonly unknown[]) => boolean) | undefined {
  const guards = o.params.map(guardFor);
  if (guards.every((g) => g === undefined)) return undefined;
  return (args) => {
    for (let k = 0; k < guards.length; k++) {
      const g = guards[k];
      if (g !== undefined && !g(args[k])) return false;
    }
    return true;
  };
}
