/**
 * The property both cost suites check: the static estimate bounds what evaluation charges.
 *
 * @module
 */
import { expect } from "vitest";
import { CompileError } from "../../../src/expr/errors.js";
import { compile, estimateCost, type CompileOptions } from "../../../src/expr/program.js";

/**
 * Compiles `source` (a compile error passes: generated sources may not type-check), checks that
 * its estimate at `inputSize` is an interval, and, when the upper bound is finite and at most
 * `cap`, compiles it again with that bound as its budget and evaluates each activation `times`
 * times: none may run out of budget.
 */
export function expectEstimateBounds(
  source: string,
  options: CompileOptions,
  inputSize: number,
  activations: readonly Record<string, unknown>[],
  cap: number,
  times = 1,
): void {
  let program;
  try {
    program = compile(source, options);
  } catch (error) {
    if (error instanceof CompileError) return;
    throw error;
  }
  const { min, max } = estimateCost(program, { inputSize });
  expect(min).toBeLessThanOrEqual(max);
  if (!Number.isFinite(max) || max > cap) return;
  const bounded = compile(source, { ...options, limits: { maxCost: max } });
  for (const activation of activations) {
    for (let k = 0; k < times; k++) {
      const r = bounded.evaluateResult(activation);
      if (!r.ok) expect(r.error.code, `${source} over ${JSON.stringify(activation)} (estimate ${max})`).not.toBe("cost_limit");
    }
  }
}
