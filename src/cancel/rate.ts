/**
 * A limit on how many runs a cancellation job cancels per second (at most that many in any
 * one-second window), adjustable while the job runs.
 *
 * @module
 */

/**
 * Limits work units (runs cancelled) to at most `ratePerSecond` in any one-second window, with no
 * burst beyond one request: the first request is granted at once, and each later one waits for
 * two things — the pace (a request of `u` units waits `u / rate` seconds after the one before, so
 * requests are spread evenly over the second), and the window (the units granted in the last
 * second plus the new ones stay within the rate). A request larger than the rate (possible with a
 * rate below 1, or a caller that ignores {@link chunkSize}) is granted alone in its window, at the
 * pace, so the long-run rate still never exceeds the limit.
 *
 * `setRate` takes effect at once, also for a job waiting: `0` pauses the job (it waits until the
 * rate is raised or its signal aborts), `Infinity` lifts the limit.
 *
 * @example
 * ```ts
 * const limit = new RateLimiter(500);
 * const job = cancelRuns(store, body, { ratePerSecond: limit });
 * limit.setRate(50); // slow down while it runs
 * ```
 */
export class RateLimiter {
  #rate: number;
  readonly #clock: () => number;
  readonly #wakers = new Set<() => void>();
  /** Grants of the last second, oldest first: their times (ms) and units. */
  readonly #grantTimes: number[] = [];
  readonly #grantUnits: number[] = [];
  #grantHead = 0;
  #inWindow = 0;
  /** Time and units of the latest grant, which set the pace of the next one. */
  #lastAt = -Infinity;
  #lastUnits = 0;

  /**
   * @param ratePerSecond - Units per second; `Infinity` for no limit, `0` to start paused. Default `Infinity`.
   * @param clock - Milliseconds from a monotonic clock. Default `performance.now`.
   * @throws RangeError when the rate is negative or NaN.
   */
  constructor(ratePerSecond = Infinity, clock: () => number = () => performance.now()) {
    this.#rate = checkRate(ratePerSecond);
    this.#clock = clock;
  }

  /** The current limit, units per second. */
  get ratePerSecond(): number {
    return this.#rate;
  }

  /**
   * Changes the limit; a waiting {@link take} re-plans at once.
   *
   * @throws RangeError when the rate is negative or NaN.
   */
  setRate(ratePerSecond: number): void {
    this.#rate = checkRate(ratePerSecond);
    for (const wake of [...this.#wakers]) wake();
  }

  /**
   * The request size that uses the rate fully: the rate split into the fewest equal whole parts of
   * at most `batchSize` (so `rate` 1500 with batches of 1000 gives 750, two per second), never more
   * than the rate, at least 1. Without a finite positive rate, `batchSize`.
   */
  chunkSize(batchSize: number): number {
    const rate = this.#rate;
    if (!Number.isFinite(rate) || rate <= 0) return batchSize;
    const parts = Math.ceil(rate / batchSize);
    return Math.max(1, Math.min(batchSize, Math.floor(rate / parts)));
  }

  /** Drops the grants that left the window `(now - 1 s, now]`. */
  #expire(now: number): void {
    while (this.#grantHead < this.#grantTimes.length && now - this.#grantTimes[this.#grantHead]! >= WINDOW_MS) {
      this.#inWindow -= this.#grantUnits[this.#grantHead]!;
      this.#grantHead++;
    }
    if (this.#grantHead > 1024 && this.#grantHead * 2 > this.#grantTimes.length) {
      this.#grantTimes.splice(0, this.#grantHead);
      this.#grantUnits.splice(0, this.#grantHead);
      this.#grantHead = 0;
    }
    if (this.#grantHead === this.#grantTimes.length) this.#inWindow = 0;
  }

  /** Milliseconds until `units` may be granted at `now` (0: now). */
  #waitFor(units: number, now: number): number {
    const rate = this.#rate;
    const paceAt = this.#lastAt + (this.#lastUnits * 1000) / rate;
    let wait = Math.max(0, paceAt - now);
    // Within the window unless alone in it: wait until enough of the oldest grants leave.
    const excess = this.#inWindow + units - (units > rate ? 0 : rate);
    if (excess > 0) {
      let freed = 0;
      for (let i = this.#grantHead; i < this.#grantTimes.length; i++) {
        freed += this.#grantUnits[i]!;
        if (freed >= excess - 1e-9) {
          wait = Math.max(wait, this.#grantTimes[i]! + WINDOW_MS - now);
          break;
        }
      }
    }
    return wait;
  }

  /**
   * Waits until `units` may proceed and takes them.
   *
   * @returns `true` once granted, `false` when `signal` aborted first (nothing taken).
   */
  async take(units: number, signal?: AbortSignal): Promise<boolean> {
    if (!(units >= 0)) throw new RangeError(`RateLimiter.take: units must be a non-negative number, got ${String(units)}`);
    for (;;) {
      if (signal?.aborted === true) return false;
      if (this.#rate === Infinity) return true;
      if (this.#rate > 0) {
        const now = this.#clock();
        this.#expire(now);
        const waitMs = this.#waitFor(units, now);
        if (waitMs <= 0) {
          this.#grantTimes.push(now);
          this.#grantUnits.push(units);
          this.#inWindow += units;
          this.#lastAt = now;
          this.#lastUnits = units;
          return true;
        }
        await this.#sleep(Math.max(1, Math.ceil(waitMs)), signal);
      } else {
        // While paused, wake up now and then anyway: a pending timer keeps the process alive.
        await this.#sleep(PAUSED_POLL_MS, signal);
      }
    }
  }

  /** Sleeps `ms` or until `setRate` or an abort wakes it. */
  #sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakers.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}

/** The window the rate is counted in. */
const WINDOW_MS = 1000;
const PAUSED_POLL_MS = 60_000;

function checkRate(rate: number): number {
  if (typeof rate !== "number" || Number.isNaN(rate) || rate < 0) {
    throw new RangeError(`ratePerSecond must be a non-negative number (Infinity for no limit), got ${String(rate)}`);
  }
  return rate;
}

/** Waits `ms`; false when the signal aborted the wait. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted === true) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
