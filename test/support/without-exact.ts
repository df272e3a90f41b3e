/**
 * A store with its exact batches hidden, so that a job takes the scan loop (with the superset
 * prefilter) instead: the plain path the exact path is compared with, in tests and benchmarks.
 *
 * @module
 */
import type { RunStore } from "../../src/stores/types.js";

/** `store` without `cancelExactBatch`; every other member is the store's own, bound to it. */
export function withoutExactBatches(store: RunStore): RunStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === "cancelExactBatch") return undefined;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
