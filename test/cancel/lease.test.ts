/**
 * A job under an owner lease (`ResumeOptions.lease`): a live lease of another owner leaves the job
 * alone (nothing written, settings included); a job whose lease was taken over while it stalled
 * changes nothing more and reports it, with counts that still equal the runs carrying its id; the
 * lease is released at the end; `abortStatus: "running"` saves an abort as resumable.
 */
import { describe, expect, it } from "vitest";
import { CancellationLeaseError, cancelRuns, resumeCancellation } from "../../src/cancel/index.js";
import { makeRun } from "../stores/fixtures.js";
import { BASE_TIME, STORE_FACTORIES, body, cancelledBy } from "./helpers.js";
import { supportsExactBatches, type RunRecord, type RunStore } from "../../src/stores/types.js";

const NOW = BASE_TIME + 86_400_000;

function runs(count: number): RunRecord[] {
  return Array.from({ length: count }, (_, i) =>
    makeRun({ id: `R${String(i).padStart(6, "0")}`, startedAt: BASE_TIME - count + i, event: { name: "e", data: { n: i, keep: i % 3 !== 0 } } }),
  );
}

/** Creates a cancellation without running it (an abort before the first page). */
async function created(store: RunStore, expression: string): Promise<string> {
  const controller = new AbortController();
  controller.abort();
  const report = await cancelRuns(store, body({ before: BASE_TIME }, expression), { now: NOW, signal: controller.signal, batchSize: 50 });
  return report.cancellation.id;
}

for (const { name, make } of STORE_FACTORIES) {
  describe(`job owner lease on ${name}`, () => {
    it("leaves a job whose lease another owner holds alone: nothing scanned, written or re-set", async () => {
      const store = make();
      const all = runs(300);
      await store.insertRuns(all);
      const id = await created(store, "event.data.keep == true");
      const before = (await store.getCancellation(id))!;
      expect((await store.leaseCancellation(id, "other", 60_000)).ok).toBe(true);
      const error = await resumeCancellation(store, id, { lease: { owner: "me" }, batchSize: 7 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CancellationLeaseError);
      expect(error).toMatchObject({ reason: "held", owner: "other", status: 409 });
      expect(await store.getCancellation(id)).toEqual(before);
      expect(await cancelledBy(store, all, id)).toEqual([]);
      await store.close();
    });

    it("a job whose lease was taken over while it stalled changes nothing more; its counts equal the runs carrying its id", async () => {
      const store = make();
      const all = runs(2000);
      await store.insertRuns(all);
      const id = await created(store, "event.data.keep == true");
      let batches = 0;
      let carriedAtTakeover = -1;
      const error = await resumeCancellation(store, id, {
        lease: { owner: "stalling", leaseMs: 30 },
        batchSize: 100,
        ratePerSecond: 1_000_000,
        onBatch: async () => {
          batches++;
          if (batches !== 3) return;
          // A stall (a long GC pause, a blocked loop): no renewal runs, the lease expires, and
          // another process takes the job over.
          const until = performance.now() + 80;
          while (performance.now() < until) {
            // busy
          }
          expect((await store.leaseCancellation(id, "taker", 60_000)).ok).toBe(true);
          carriedAtTakeover = (await cancelledBy(store, all, id)).length;
        },
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CancellationLeaseError);
      expect((error as CancellationLeaseError).reason).toBe("lost");
      const record = (await store.getCancellation(id))!;
      const carrying = await cancelledBy(store, all, id);
      expect(batches).toBe(3);
      // Nothing changed after the takeover (its batches and checkpoints named a lost owner).
      expect(carrying.length).toBe(carriedAtTakeover);
      expect(record.counts.cancelled).toBeLessThanOrEqual(carrying.length);
      // The taker resumes from the checkpoint and ends exact.
      const report = await resumeCancellation(store, id, { lease: { owner: "taker" } });
      expect(report.status).toBe("completed");
      const expected = all.filter((run) => (run.event.data as { keep: boolean }).keep).length;
      expect(report.outcomes.cancelled).toBe(expected);
      expect(await cancelledBy(store, all, id)).toHaveLength(expected);
      // Released at the end: anyone takes it at once.
      expect((await store.leaseCancellation(id, "next", 60_000)).ok).toBe(true);
      await store.close();
    });

    if (supportsExactBatches(make())) {
      it("a leased job takes the store's exact batches, each naming its owner", async () => {
        const store = make();
        if (!supportsExactBatches(store)) throw new Error("unreachable");
        const all = runs(1000);
        await store.insertRuns(all);
        const id = await created(store, "event.data.keep == true");
        const owners: (string | undefined)[] = [];
        const exact = store.cancelExactBatch.bind(store);
        store.cancelExactBatch = (batch) => {
          owners.push(batch.owner);
          return exact(batch);
        };
        const report = await resumeCancellation(store, id, { lease: { owner: "me" }, batchSize: 100 });
        expect(report.status).toBe("completed");
        expect(owners.length).toBeGreaterThan(3);
        expect(new Set(owners)).toEqual(new Set(["me"]));
        expect(report.outcomes.cancelled).toBe(all.filter((run) => (run.event.data as { keep: boolean }).keep).length);
        await store.close();
      });
    }

    it("abortStatus running without a lease saves an aborted session as running, on every path", async () => {
      // No `if` (the exact path where the store has one) and one the scan loop decides.
      for (const expression of ["true", "int(event.data.n) % 7 != 3 && event.data.keep"]) {
        const store = make();
        await store.insertRuns(runs(500));
        const id = await created(store, expression);
        const controller = new AbortController();
        const report = await resumeCancellation(store, id, { abortStatus: "running", batchSize: 50, signal: controller.signal, onBatch: () => controller.abort() });
        expect(report.status).toBe("aborted");
        expect((await store.getCancellation(id))!.status).toBe("running");
        const resumed = await resumeCancellation(store, id);
        expect(resumed.status).toBe("completed");
        await store.close();
      }
    });

    it("abortStatus running saves an aborted session as running, and releases the lease", async () => {
      const store = make();
      await store.insertRuns(runs(500));
      const id = await created(store, "true");
      const controller = new AbortController();
      const report = await resumeCancellation(store, id, {
        lease: { owner: "me" },
        abortStatus: "running",
        batchSize: 50,
        ratePerSecond: 1_000_000,
        signal: controller.signal,
        onBatch: () => controller.abort(),
      });
      expect(report.status).toBe("aborted");
      const record = (await store.getCancellation(id))!;
      expect(record.status).toBe("running");
      expect(record.counts.cancelled).toBeGreaterThan(0);
      expect(record.counts.cancelled).toBeLessThan(500);
      expect((await store.leaseCancellation(id, "next", 60_000)).ok).toBe(true);
      await expect(resumeCancellation(store, id, { abortStatus: "paused" as never })).rejects.toThrow(TypeError);
      await expect(resumeCancellation(store, id, { lease: { owner: "" } })).rejects.toThrow(TypeError);
      await store.close();
    });
  });
}
