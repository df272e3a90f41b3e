/**
 * The math extension's `math.greatest(x)` / `math.least(x)` of one argument (a list, or a
 * number), run without overload dispatch: with a `dyn` argument the checker leaves six overloads
 * open (a number or a list of each numeric kind), all of which this closure answers alike. A
 * list is charged one unit per element.
 *
 * @module
 */
import { pickList } from "../ext/math.js";
import { noSuchOverload } from "../runtime/core.js";
import { CelError, CelUint } from "../values.js";
import { chargeScan, type Fn } from "./context.js";
import { attachNode } from "./helpers.js";
import type { CallCompiler } from "./hooks.js";

function compileExtremum(sign: 1 | -1, name: string): CallCompiler {
  return (e, h): Fn | undefined => {
    if (e.target !== undefined || e.args.length !== 1) return undefined;
    const arg = h.compile(e.args[0]!);
    const id = e.id;
    return (c) => {
      const v = arg(c);
      if (Array.isArray(v)) {
        // Reads every element: charged as a scan of the list (see checker/cost.ts).
        chargeScan(c, v, id);
        return attachNode(pickList(v, sign, name), id);
      }
      if (typeof v === "number" || typeof v === "bigint" || v instanceof CelUint || v instanceof CelError) return v;
      return attachNode(noSuchOverload(name, v), id);
    };
  };
}

const max = compileExtremum(1, "math.@max");
const min = compileExtremum(-1, "math.@min");

/** The call compilers of the math extension, by overload id. */
export const MATH_CALLS: readonly (readonly [string, CallCompiler])[] = [
  ...["double", "int", "uint", "list_double", "list_int", "list_uint"].map((t) => [`math_@max_${t}`, max] as const),
  ...["double", "int", "uint", "list_double", "list_int", "list_uint"].map((t) => [`math_@min_${t}`, min] as const),
];
