/**
 * A token bucket limiting how many runs a cancellation job cancels per second, adjustable while
 * the job runs.
 *
 * @module
 */

/**
 * Limits a rate of work units (runs cancelled) per second. The bucket holds at most one second's
 * worth of tokens, so after a pause the job bursts for at most a second. A request larger than
 * the bucket is granted once the bucket is full and leaves it in debt, so the long-run rate never
 * exceeds the limit whatever the batch size.
 *
 * `setRate` takes effect at once, also for a job waiting for tokens: `0` pauses the job (it waits
 * until the rate is raised or its signal aborts), `Infinity` lifts the limit.
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
  #tokens: number;
  #refilledAt: number;
  readonly #clock: () => number;
  readonly #wakers = new Set<() => void>();

  /**
   * @param ratePerSecond - Units per second; `Infinity` for no limit, `0` to start paused. Default `Infinity`.
   * @param clock - Milliseconds from a monotonic clock. Default `performance.now`.
   * @throws RangeError when the rate is negative or NaN.
   */
  constructor(ratePerSecond = Infinity, clock: () => number = () => performance.now()) {
    this.#rate = checkRate(ratePerSecond);
    this.#clock = clock;
    this.#tokens = this.#capacity();
    this.#refilledAt = clock();
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
    const rate = checkRate(ratePerSecond);
    this.#refill();
    this.#rate = rate;
    this.#tokens = Math.min(this.#tokens, this.#capacity());
    for (const wake of [...this.#wakers]) wake();
  }

  #capacity(): number {
    return Number.isFinite(this.#rate) ? Math.max(1, this.#rate) : Infinity;
  }

  #refill(): void {
    const now = this.#clock();
    const elapsed = Math.max(0, now - this.#refilledAt);
    this.#refilledAt = now;
    if (Number.isFinite(this.#rate) && this.#rate > 0) {
      this.#tokens = Math.min(this.#capacity(), this.#tokens + (elapsed * this.#rate) / 1000);
    }
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
      this.#refill();
      const needed = Math.min(units, this.#capacity());
      if (this.#rate > 0 && this.#tokens >= needed) {
        this.#tokens -= units;
        return true;
      }
      // While paused, wake up now and then anyway: a pending timer keeps the process alive.
      const waitMs = this.#rate > 0 ? Math.max(1, Math.ceil(((needed - this.#tokens) * 1000) / this.#rate)) : PAUSED_POLL_MS;
      await this.#sleep(waitMs, signal);
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

const PAUSED_POLL_MS = 60_000;

function checkRate(rate: number): number {
  if (typeof rate !== "number" || Number.isNaN(rate) || rate < 0) {
    throw new RangeError(`ratePerSecond must be a non-negative number (Infinity for no limit), got ${String(rate)}`);
  }
  return rate;
}
