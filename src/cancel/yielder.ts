/**
 * Fairness for the job loops: a turn for the event loop now and then.
 *
 * A store that answers from memory, or synchronously (SQLite's driver blocks the thread for each
 * statement and resolves at once), never lets the event loop run between a loop's awaits: without
 * a yield, a job over such a store would hold the thread for its whole window, starving timers,
 * I/O (the HTTP API of the same process) and abort signals. The scan loop and the exact loop both
 * call a {@link Yielder} at the head of each page or batch.
 *
 * @module
 */

/** Longest stretch a job loop runs without yielding to the event loop, ms. @internal */
export const YIELD_INTERVAL_MS = 20;

/**
 * Awaited at the head of each round of a loop: resolves at once while less than the interval has
 * passed since the last yield, else after a turn of the event loop (`setImmediate`: I/O callbacks,
 * timers and abort signals get to run meanwhile). @internal
 */
export type Yielder = () => Promise<void>;

/**
 * A {@link Yielder} whose interval starts now (create it where the loop starts).
 *
 * @param intervalMs - Longest stretch without a yield, ms. Default {@link YIELD_INTERVAL_MS}.
 * @internal
 */
export function createYielder(intervalMs: number = YIELD_INTERVAL_MS): Yielder {
  // The globals are looked up on each call, not captured: tests run the loops under fake timers,
  // which replace `performance.now` and `setImmediate` while a test runs.
  let lastYieldAt = performance.now();
  return async () => {
    if (performance.now() - lastYieldAt < intervalMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    lastYieldAt = performance.now();
  };
}
