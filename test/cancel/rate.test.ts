import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RateLimiter } from "../../src/cancel/index.js";

/** Resolves `true` when the promise settled (without waiting for it). */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await Promise.resolve();
  await Promise.resolve();
  return done;
}

describe("RateLimiter", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const limiter = (rate: number) => new RateLimiter(rate, () => Date.now());

  it("starts with one second of tokens, then grants at the rate", async () => {
    const l = limiter(100);
    expect(await l.take(100)).toBe(true);
    const next = l.take(50);
    expect(await settled(next)).toBe(false);
    await vi.advanceTimersByTimeAsync(490);
    expect(await settled(next)).toBe(false);
    await vi.advanceTimersByTimeAsync(20);
    expect(await next).toBe(true);
  });

  it("never exceeds the rate over a long run, whatever the request sizes", async () => {
    const l = limiter(200);
    let granted = 0;
    const sizes = [7, 150, 1, 300, 33, 999, 5, 64];
    const job = (async () => {
      for (let i = 0; i < 40; i++) {
        await l.take(sizes[i % sizes.length]!);
        granted += sizes[i % sizes.length]!;
      }
    })();
    for (let t = 0; t < 60; t++) {
      await vi.advanceTimersByTimeAsync(1000);
      // Burst of one second (200) plus 200 per elapsed second, plus one request granted into debt.
      expect(granted).toBeLessThanOrEqual(200 + 200 * (t + 1) + 999);
    }
    await job;
    expect(granted).toBe(sizes.reduce((a, b) => a + b, 0) * 5);
  });

  it("a request larger than the bucket is granted once the bucket is full, leaving a debt", async () => {
    const l = limiter(10);
    expect(await l.take(25)).toBe(true);
    const next = l.take(1);
    // 15 in debt plus the one requested: 1.6 s.
    await vi.advanceTimersByTimeAsync(1500);
    expect(await settled(next)).toBe(false);
    await vi.advanceTimersByTimeAsync(200);
    expect(await next).toBe(true);
  });

  it("rate 0 pauses until setRate lifts it", async () => {
    const l = limiter(0);
    const waiting = l.take(1);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(await settled(waiting)).toBe(false);
    l.setRate(Infinity);
    await vi.advanceTimersByTimeAsync(0);
    expect(await waiting).toBe(true);
    expect(l.ratePerSecond).toBe(Infinity);
  });

  it("a new rate re-plans a waiting take at once", async () => {
    const l = limiter(10);
    await l.take(10);
    const waiting = l.take(10);
    await vi.advanceTimersByTimeAsync(100);
    expect(await settled(waiting)).toBe(false);
    // At 10/s the wait would end after 1 s; at 1000/s the 9 missing tokens take 9 ms.
    l.setRate(1000);
    await vi.advanceTimersByTimeAsync(15);
    expect(await waiting).toBe(true);
  });

  it("an abort ends a wait with false and takes nothing", async () => {
    const l = limiter(0);
    const controller = new AbortController();
    const waiting = l.take(1, controller.signal);
    controller.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(await waiting).toBe(false);
    expect(await l.take(1, controller.signal)).toBe(false);
  });

  it("rejects negative and NaN rates and units", async () => {
    expect(() => limiter(-1)).toThrow(RangeError);
    expect(() => limiter(Number.NaN)).toThrow(RangeError);
    expect(() => limiter(1).setRate(-0.5)).toThrow(RangeError);
    await expect(limiter(1).take(-1)).rejects.toThrow(RangeError);
    expect(new RateLimiter().ratePerSecond).toBe(Infinity);
  });
});
