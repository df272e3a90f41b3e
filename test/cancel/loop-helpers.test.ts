/**
 * The small helpers both job loops share: `dropRepeatedProgress` (onProgress's "never twice in a
 * row with the same counts") and `createYielder` (a turn for the event loop every 20 ms) — each
 * alone, and the dedup end to end through both loops (the scan loop on a memory store, the exact
 * loop on SQLite).
 */
import { describe, expect, it } from "vitest";
import { cancelRuns, type CancellationProgress } from "../../src/cancel/index.js";
import { dropRepeatedProgress } from "../../src/cancel/settings.js";
import { createYielder } from "../../src/cancel/yielder.js";
import { MemoryRunStore } from "../../src/stores/memory.js";
import { SqliteRunStore } from "../../src/stores/sqlite.js";
import { supportsExactBatches, type OutcomeCounts, type RunRecord, type RunStore } from "../../src/stores/types.js";
import { BASE_TIME, body } from "./helpers.js";

const NOW = BASE_TIME + 86_400_000;

/** A progress event with the given counts (the rest does not matter to the dedup). */
function progress(scanned: number, cancelled: number, extra: Partial<OutcomeCounts> = {}): CancellationProgress {
  const counts: OutcomeCounts = { scanned, cancelled, skipped_terminal: 0, not_matched: scanned - cancelled, expression_error: 0, non_boolean: 0, ...extra };
  return { cancellationId: "c", scanned, matched: cancelled, cancelled, counts, ratePerSecond: 0, scannedPerSecond: 0, etaSeconds: undefined, elapsedMs: 0 };
}

describe("dropRepeatedProgress", () => {
  it("passes undefined through, so a loop without a callback builds no report", () => {
    expect(dropRepeatedProgress(undefined)).toBeUndefined();
  });

  it("drops a report with the same scanned and cancelled as the previous one, and only that", () => {
    const seen: CancellationProgress[] = [];
    const report = dropRepeatedProgress((p) => seen.push(p))!;
    const first = progress(0, 0);
    report(first);
    report(progress(0, 0));
    report(progress(10, 0));
    report(progress(10, 0));
    report(progress(10, 0));
    report(progress(10, 3));
    report(progress(20, 3));
    // Back to counts seen before, but not the previous ones: passed on (only repeats in a row drop).
    report(progress(10, 3));
    expect(seen.map((p) => [p.scanned, p.cancelled])).toEqual([
      [0, 0],
      [10, 0],
      [10, 3],
      [20, 3],
      [10, 3],
    ]);
    // The report itself is handed on, not a copy.
    expect(seen[0]).toBe(first);
  });

  it("compares scanned and cancelled only (other fields may differ in a dropped repeat)", () => {
    const seen: CancellationProgress[] = [];
    const report = dropRepeatedProgress((p) => seen.push(p))!;
    report(progress(5, 2));
    report({ ...progress(5, 2), elapsedMs: 99, etaSeconds: 0 });
    expect(seen).toHaveLength(1);
  });

  it("each wrapper remembers its own last report", () => {
    const seen: number[] = [];
    const callback = (p: CancellationProgress): void => void seen.push(p.scanned);
    const a = dropRepeatedProgress(callback)!;
    const b = dropRepeatedProgress(callback)!;
    a(progress(7, 0));
    b(progress(7, 0));
    expect(seen).toEqual([7, 7]);
  });

  it("a report whose callback threw still counts as the last one", () => {
    let calls = 0;
    const report = dropRepeatedProgress(() => {
      calls++;
      throw new Error("display gone");
    })!;
    expect(() => report(progress(1, 1))).toThrow("display gone");
    report(progress(1, 1));
    expect(calls).toBe(1);
  });
});

describe("createYielder", () => {
  /** Whether a `setImmediate` queued before `maybeYield` ran before it resolved. */
  async function letsImmediatesRun(maybeYield: () => Promise<void>): Promise<boolean> {
    let ran = false;
    setImmediate(() => (ran = true));
    await maybeYield();
    const result = ran;
    await new Promise<void>((resolve) => setImmediate(resolve));
    return result;
  }

  it("resolves without a turn of the event loop while the interval has not passed", async () => {
    const maybeYield = createYielder(60_000);
    expect(await letsImmediatesRun(maybeYield)).toBe(false);
    expect(await letsImmediatesRun(maybeYield)).toBe(false);
  });

  it("gives the event loop a turn once the interval has passed, and starts a new interval then", async () => {
    const maybeYield = createYielder(30);
    const start = performance.now();
    while (performance.now() - start < 35) {
      // Hold the thread as a loop over a synchronous store does.
    }
    expect(await letsImmediatesRun(maybeYield)).toBe(true);
    expect(await letsImmediatesRun(maybeYield)).toBe(false);
    expect(await letsImmediatesRun(createYielder(0))).toBe(true);
  });
});

describe("each progress state once, through both loops", () => {
  // The last run (1198: 'a', running) is cancelled in the last batch, so the closing checkpoint
  // after it settles nothing new: without the dedup, both loops repeat their last report.
  const runs: RunRecord[] = Array.from({ length: 1199 }, (_, i) => ({
    id: `Q${String(i).padStart(5, "0")}`,
    appId: "app",
    functionId: "fn",
    startedAt: BASE_TIME + i,
    status: i % 3 === 0 ? ("completed" as const) : ("running" as const),
    event: { name: "e", data: { k: i % 2 === 0 ? "a" : "b" } },
  }));

  for (const [name, make, exact] of [
    ["the scan loop (memory)", () => new MemoryRunStore(), false],
    ["the exact loop (SQLite)", () => new SqliteRunStore({ path: ":memory:" }), true],
  ] as const) {
    it(name, async () => {
      const store: RunStore = make();
      try {
        // Count the exact batches, to be sure which loop ran.
        let exactBatches = 0;
        if (supportsExactBatches(store)) {
          const original = store.cancelExactBatch.bind(store);
          store.cancelExactBatch = (batch) => {
            exactBatches++;
            return original(batch);
          };
        }
        await store.insertRuns(runs);
        const events: CancellationProgress[] = [];
        const report = await cancelRuns(store, body({ before: BASE_TIME + 5000 }, "event.data.k == 'a'"), {
          batchSize: 100,
          now: NOW,
          onProgress: (p) => events.push(p),
        });
        expect(report.status).toBe("completed");
        expect(exactBatches > 0).toBe(exact);
        expect(events.length).toBeGreaterThan(3);
        // The closing checkpoint after the last batch settles nothing new: no repeated last line.
        for (let i = 1; i < events.length; i++) {
          const [prev, next] = [events[i - 1]!, events[i]!];
          expect([next.scanned, next.cancelled], `event ${i}`).not.toEqual([prev.scanned, prev.cancelled]);
        }
        expect(events.at(-1)!.counts).toEqual(report.outcomes);
      } finally {
        await store.close();
      }
    });
  }
});
