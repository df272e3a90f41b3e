/**
 * `checkpoints: "background"` of the SQLite store: the WAL reaches the database file from a thread
 * of the store's own (not at the store's commits), also after an idle spell, the thread ends with the store, and a job ends
 * exactly as with inline checkpoints.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { cancelRuns } from "../../src/cancel/index.js";
import { SqliteRunStore } from "../../src/stores/sqlite.js";
import { StoreError, type RunRecord } from "../../src/stores/types.js";
import { body, cancelledBy, oracle, oracleCounts } from "../cancel/helpers.js";
import { pollUntil } from "../support/poll.js";
import { describeExactBatchConformance } from "./exact-conformance.js";
import { BASE_TIME, generateRuns } from "./fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "cancelkit-checkpoints-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileCounter = 0;
const freshPath = (): string => join(dir, `store-${process.pid}-${fileCounter++}.db`);

describeExactBatchConformance("sqlite file, background checkpoints", async () => new SqliteRunStore({ path: freshPath(), checkpoints: "background" }));

/** About 2 MB of runs: a WAL well below the 1,000 pages at which SQLite checkpoints on its own. */
function someRuns(): RunRecord[] {
  return generateRuns({ count: 3000, seed: 7, spreadMs: 60_000 });
}

describe("SQLite store, checkpoints on a thread of their own", () => {
  it("copies the WAL into the database file without a commit doing it; inline, the same writes stay in the WAL", async () => {
    const sizes: Record<"inline" | "background", number> = { inline: 0, background: 0 };
    for (const mode of ["inline", "background"] as const) {
      const path = freshPath();
      const store = new SqliteRunStore({ path, checkpoints: mode });
      const before = statSync(path).size;
      await store.insertRuns(someRuns());
      expect(statSync(`${path}-wal`).size).toBeGreaterThan(1_000_000);
      if (mode === "background") {
        await pollUntil(() => statSync(path).size > before + 1_000_000, "the background thread to checkpoint the WAL into the file", { timeoutMs: 10_000 });
      } else {
        // Several of the thread's intervals: nothing copies the WAL meanwhile.
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      sizes[mode] = statSync(path).size - before;
      await store.close();
    }
    expect(sizes.inline).toBeLessThan(100_000);
    expect(sizes.background).toBeGreaterThan(1_000_000);
  });

  it("still copies commits made after an idle spell (the thread looks less often while nothing commits)", async () => {
    const path = freshPath();
    const store = new SqliteRunStore({ path, checkpoints: "background" });
    try {
      await store.insertRuns(someRuns().slice(0, 10));
      // Longer than the thread's longest pause: it has backed off as far as it goes.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const before = statSync(path).size;
      await store.insertRuns(someRuns().slice(10));
      expect(statSync(`${path}-wal`).size).toBeGreaterThan(1_000_000);
      await pollUntil(() => statSync(path).size > before + 1_000_000, "the thread to checkpoint the commits after the idle spell", { timeoutMs: 10_000 });
    } finally {
      await store.close();
    }
  });

  it("finishes a checkpoint a reader held back once the reader is done, with no commit after it", async () => {
    const path = freshPath();
    const store = new SqliteRunStore({ path, checkpoints: "background" });
    const reader = new Database(path);
    try {
      // A read transaction's snapshot: frames committed after it cannot be copied while it lasts.
      reader.exec("BEGIN");
      reader.prepare("SELECT count(*) FROM runs").get();
      const before = statSync(path).size;
      await store.insertRuns(someRuns());
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(statSync(path).size).toBeLessThan(before + 1_000_000);
      reader.exec("COMMIT");
      await pollUntil(() => statSync(path).size > before + 1_000_000, "the thread to finish the checkpoint the reader held back", { timeoutMs: 10_000 });
    } finally {
      reader.close();
      await store.close();
    }
  });

  it("ends its thread at close: the last connection removes the WAL, and the file opens again", async () => {
    const path = freshPath();
    const store = new SqliteRunStore({ path, checkpoints: "background" });
    await store.insertRuns(someRuns());
    await store.close();
    // SQLite deletes the WAL when its last connection closes: a thread still connected keeps it.
    expect(existsSync(`${path}-wal`)).toBe(false);
    const again = new SqliteRunStore({ path, checkpoints: "background" });
    expect((await again.getRun(someRuns()[0]!.id))?.id).toBe(someRuns()[0]!.id);
    await again.close();
  });

  it("leaves a job's result exact: the same cancellations and counts as inline checkpoints and the oracle", async () => {
    const runs = generateRuns({ count: 6000, seed: 11, spreadMs: 60_000 });
    const window = { after: BASE_TIME - 1, before: BASE_TIME + 60_000 };
    const expression = "event.data.plan == 'pro' || event.data.amount > 900.0";
    const results = [];
    for (const mode of ["inline", "background"] as const) {
      const store = new SqliteRunStore({ path: freshPath(), checkpoints: mode });
      await store.insertRuns(runs);
      // Batches of 50: many commits, so the thread checkpoints while the job writes.
      const report = await cancelRuns(store, body(window, expression), { now: BASE_TIME + 120_000, batchSize: 50 });
      const cancelled = await cancelledBy(store, runs, report.cancellation.id);
      results.push({ outcomes: report.outcomes, cancelled });
      await store.close();
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[0]!.outcomes).toEqual(oracleCounts(oracle(runs, { ...window, expression })));
    expect(results[0]!.cancelled.length).toBe(results[0]!.outcomes.cancelled);
  });

  it("refuses an unknown mode with a typed error", () => {
    expect(() => new SqliteRunStore({ path: freshPath(), checkpoints: "sometimes" as "inline" })).toThrow(StoreError);
  });
});
