/**
 * The exact loop's slice sizing (`nextScanLimit`): for a filter of steady density, slices soon
 * hold at most `limit` candidates (a store reads a slice with more twice, or wastes its tail) and
 * no fewer than most of them (each batch is a statement and a commit); the size stays within
 * `[batchSize, maxScan]` whatever the density.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nextScanLimit } from "../../src/cancel/exact-loop.js";
import { ZERO_COUNTS } from "../../src/stores/types.js";

/** One batch over a window where every `every`-th run is a candidate, as a store takes it. */
function batchOf(scanLimit: number, limit: number, every: number): { scanned: number; found: number; held: number } {
  const held = Math.floor(scanLimit / every);
  if (held <= limit) return { scanned: scanLimit, found: held, held };
  return { scanned: limit * every, found: limit, held };
}

function next(current: number, batch: { scanned: number; found: number }, limit: number, batchSize: number, maxScan: number): number {
  // Only the count matters: a store may list no ids (`listCancelled: false`).
  const result = { ok: true as const, cancelled: [], counts: { ...ZERO_COUNTS, scanned: batch.scanned, cancelled: batch.found }, exhausted: false, blocked: false };
  return nextScanLimit(current, result, limit, batchSize, maxScan);
}

describe("nextScanLimit", () => {
  it("settles on slices holding at most limit candidates and most of them, for a steady density", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 10, max: 2000 }), (every, batchSize) => {
        const maxScan = batchSize * 10;
        let scanLimit = batchSize;
        const held: number[] = [];
        for (let i = 0; i < 12; i++) {
          const batch = batchOf(scanLimit, batchSize, every);
          held.push(batch.held);
          scanLimit = next(scanLimit, batch, batchSize, batchSize, maxScan);
          expect(scanLimit).toBeGreaterThanOrEqual(batchSize);
          expect(scanLimit).toBeLessThanOrEqual(maxScan);
        }
        // After the ramp (at most doubling, from batchSize up to at most maxScan = 10 × batchSize).
        for (const h of held.slice(6)) {
          expect(h).toBeLessThanOrEqual(batchSize);
          // Most of the limit, unless `maxScan` caps a sparse filter's slice.
          expect(h).toBeGreaterThanOrEqual(Math.min(Math.floor(maxScan / every), Math.floor(batchSize * 0.8)));
        }
      }),
    );
  });

  it("doubles a slice that held no candidate, keeps it at the window's end and for a batch that may cancel none", () => {
    expect(next(1000, { scanned: 1000, found: 0 }, 1000, 1000, 10_000)).toBe(2000);
    expect(next(8000, { scanned: 8000, found: 0 }, 1000, 1000, 10_000)).toBe(10_000);
    const exhausted = { ok: true as const, cancelled: ["a"], counts: { ...ZERO_COUNTS, scanned: 10 }, exhausted: true, blocked: false };
    expect(nextScanLimit(5000, exhausted, 1000, 1000, 10_000)).toBe(5000);
    expect(nextScanLimit(5000, { ...exhausted, exhausted: false }, 0, 1000, 10_000)).toBe(5000);
  });
});
