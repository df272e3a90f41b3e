import { describe, expect, it } from "vitest";
import { MemoryRunStore } from "../../src/stores/memory.js";
import { supportsExactBatches } from "../../src/stores/types.js";
import { describeRunStoreConformance } from "./conformance.js";
import { BASE_TIME, generateRuns, makeRun } from "./fixtures.js";

describeRunStoreConformance("memory", async () => new MemoryRunStore());

describe("MemoryRunStore specifics", () => {
  it("offers no exact batches: a job on it always runs the planner's scan loop", () => {
    expect(supportsExactBatches(new MemoryRunStore())).toBe(false);
  });

  it("hands out frozen records that scans share without copying", async () => {
    const store = new MemoryRunStore();
    await store.insertRuns([makeRun({ id: "A", event: { name: "e", data: { nested: { list: [1] } } } })]);
    const run = (await store.getRun("A"))!;
    expect(Object.isFrozen(run)).toBe(true);
    expect(Object.isFrozen(run.event)).toBe(true);
    expect(Object.isFrozen((run.event.data as { nested: { list: number[] } }).nested.list)).toBe(true);
    const page = await store.scanRuns({ appId: "app", functionId: "fn", startedBefore: BASE_TIME, limit: 1 });
    expect(page.runs[0]).toBe(run);
  });

  it("keeps its sorted index in sync across out-of-order inserts, replacements and status changes", async () => {
    const store = new MemoryRunStore();
    const runs = generateRuns({ count: 2000, seed: 21, spreadMs: 50, functionId: ["a", "b"], statuses: ["running"] });
    // Insert in three interleaved chunks, re-insert some runs moved to the other function.
    await store.insertRuns(runs.filter((_, i) => i % 3 === 0));
    await store.insertRuns(runs.filter((_, i) => i % 3 === 2).reverse());
    await store.setRunStatus(runs.slice(0, 100).map((r) => r.id), "completed");
    await store.insertRuns(runs.filter((_, i) => i % 3 === 1));
    const moved = runs.slice(500, 600).map((r) => ({ ...r, functionId: r.functionId === "a" ? "b" : "a", startedAt: r.startedAt + 7 }));
    await store.insertRuns(moved);
    expect(store.runCount).toBe(2000);
    const finalById = new Map(runs.map((r) => [r.id, r]));
    // Runs with i % 3 === 1 were inserted after the status change, as running.
    runs.slice(0, 100).forEach((r, i) => {
      if (i % 3 !== 1) finalById.set(r.id, { ...r, status: "completed" });
    });
    for (const r of moved) finalById.set(r.id, r);
    for (const functionId of ["a", "b"]) {
      const expected = [...finalById.values()]
        .filter((r) => r.functionId === functionId)
        .sort((x, y) => x.startedAt - y.startedAt || (x.id < y.id ? -1 : 1));
      const page = await store.scanRuns({ appId: "app", functionId, startedBefore: BASE_TIME + 100, limit: 5000 });
      expect(page.runs.map((r) => `${r.id}:${r.status}:${r.startedAt}`)).toEqual(expected.map((r) => `${r.id}:${r.status}:${r.startedAt}`));
    }
  });

  it("uses the injected clock for updatedAt, never moving it backwards", async () => {
    let now = BASE_TIME + 500;
    const store = new MemoryRunStore({ now: () => now });
    const record = { id: "01HCLOCK", environmentId: "default", appId: "app", functionId: "fn", startedBefore: BASE_TIME, createdAt: BASE_TIME, updatedAt: BASE_TIME + 1000, status: "running" as const, counts: { scanned: 0, cancelled: 0, skipped_terminal: 0, not_matched: 0, expression_error: 0, non_boolean: 0 } };
    await store.createCancellation(record);
    await store.updateCancellation(record.id, { counts: record.counts, status: "running" });
    expect((await store.getCancellation(record.id))!.updatedAt).toBe(BASE_TIME + 1000);
    now = BASE_TIME + 2000;
    await store.updateCancellation(record.id, { counts: record.counts, status: "completed" });
    expect((await store.getCancellation(record.id))!.updatedAt).toBe(BASE_TIME + 2000);
  });
});
