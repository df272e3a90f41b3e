/**
 * The planner's `onBatch` feed and the MessagePack cancellation batch stream built on it: every
 * run the job cancels is reported exactly once, in the batch that cancelled it, across a resume;
 * a dry run reports nothing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cancelRuns, resumeCancellation } from "../../src/cancel/planner.js";
import type { CancellationBatch } from "../../src/stores/types.js";
import { MemoryRunStore } from "../../src/stores/memory.js";
import { CancellationBatchWriter, readCancellationBatches } from "../../src/formats/msgpack.js";
import type { RunRecord } from "../../src/stores/types.js";
import { BASE_TIME, body } from "./helpers.js";

const NOW = BASE_TIME + 86_400_000;
const dir = mkdtempSync(join(tmpdir(), "cancelkit-batches-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runs(n: number): RunRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `B${String(i).padStart(5, "0")}`,
    appId: "app",
    functionId: "fn",
    startedAt: BASE_TIME + (i % 7),
    status: i % 5 === 0 ? ("completed" as const) : ("running" as const),
    event: { name: "e", data: { k: i % 3 === 0 ? "a" : "b" } },
  }));
}

describe("onBatch", () => {
  it("reports each cancelled run once, in a MessagePack stream a consumer can read back", async () => {
    const store = new MemoryRunStore();
    await store.insertRuns(runs(500));
    const path = join(dir, "stream.msgpack");
    const writer = await CancellationBatchWriter.open(path);
    const controller = new AbortController();
    let batches = 0;
    const first = await cancelRuns(store, body({ before: BASE_TIME + 10 }, "event.data.k == 'a'"), {
      batchSize: 13,
      now: NOW,
      signal: controller.signal,
      onBatch: async (batch) => {
        await writer.write(batch);
        // Interrupt the job after a few batches, so the stream spans a resume.
        if (++batches === 3) controller.abort();
      },
    });
    expect(first.status).toBe("aborted");
    const second = await resumeCancellation(store, first.cancellation.id, { batchSize: 13, onBatch: (batch) => writer.write(batch) });
    expect(second.status).toBe("completed");
    await writer.close();

    const streamed: string[] = [];
    for await (const batch of readCancellationBatches(path)) {
      expect(batch.cancellationId).toBe(first.cancellation.id);
      expect(batch.runIds.length).toBeGreaterThan(0);
      expect(batch.runIds.length).toBeLessThanOrEqual(13);
      streamed.push(...batch.runIds);
    }
    const cancelled = (await Promise.all(runs(500).map((r) => store.getRun(r.id))))
      .filter((r) => r?.cancellationId === first.cancellation.id)
      .map((r) => r!.id);
    expect([...streamed].sort()).toEqual(cancelled.sort());
    expect(streamed).toHaveLength(second.outcomes.cancelled);
  });

  it("is not called in a dry run, and an exception it throws fails the job", async () => {
    const store = new MemoryRunStore();
    await store.insertRuns(runs(60));
    const seen: CancellationBatch[] = [];
    const dry = await cancelRuns(store, body({ before: BASE_TIME + 10 }, "event.data.k == 'a'"), { now: NOW, dryRun: true, onBatch: (b) => void seen.push(b) });
    expect(dry.outcomes.cancelled).toBeGreaterThan(0);
    expect(seen).toEqual([]);
    await expect(
      cancelRuns(store, body({ before: BASE_TIME + 10 }, "event.data.k == 'a'"), {
        now: NOW,
        onBatch: () => {
          throw new Error("consumer is down");
        },
      }),
    ).rejects.toThrow("consumer is down");
    await expect(cancelRuns(store, body({ before: BASE_TIME + 10 }), { onBatch: 5 as never })).rejects.toThrow(TypeError);
  });
});
