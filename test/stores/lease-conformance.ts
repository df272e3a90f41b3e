/**
 * Conformance of the job owner lease (`leaseCancellation`, `releaseCancellation`, and the owner
 * check of `commitBatch`), run once per store next to the main suite (`conformance.ts`).
 *
 * @module
 */
import { monotonicFactory } from "ulid";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StoreError, ZERO_COUNTS, type CancellationRecord, type Checkpoint, type RunStore } from "../../src/stores/types.js";
import { makeCancellation, makeRun } from "./fixtures.js";

/** Store-specific extras. */
export interface LeaseConformanceOptions {
  /** Opens a second store object on the same data (another process's view); closed by the suite. */
  readonly openSibling?: (store: RunStore) => Promise<RunStore>;
}

const running = (scanned: number, cancelled: number): Checkpoint => ({ counts: { ...ZERO_COUNTS, scanned, cancelled }, status: "running" });

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Registers the lease suite for one store. */
export function describeLeaseConformance(
  name: string,
  makeStore: () => Promise<RunStore>,
  cleanup?: (store: RunStore) => Promise<void> | void,
  options: LeaseConformanceOptions = {},
): void {
  describe(`RunStore conformance (job owner lease): ${name}`, () => {
    let store: RunStore;
    const nextUlid = monotonicFactory();
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
      await cleanup?.(store);
    });

    async function seed(): Promise<CancellationRecord> {
      const result = await store.createCancellation(makeCancellation({ id: nextUlid() }));
      return result.record;
    }

    it("gives the lease to one owner; another finds it held with its owner and expiry; the holder renews it", async () => {
      const record = await seed();
      const before = Date.now();
      const first = await store.leaseCancellation(record.id, "owner-a", 60_000);
      expect(first.ok).toBe(true);
      if (!first.ok) return;
      // PostgreSQL's clock is the server's: allow for a little skew.
      expect(first.expiresAt).toBeGreaterThan(before + 60_000 - 5_000);
      expect(first.expiresAt).toBeLessThan(Date.now() + 60_000 + 5_000);
      expect(await store.leaseCancellation(record.id, "owner-b", 60_000)).toEqual({ ok: false, reason: "held", owner: "owner-a", expiresAt: first.expiresAt });
      const renewed = await store.leaseCancellation(record.id, "owner-a", 120_000);
      expect(renewed.ok).toBe(true);
      if (renewed.ok) expect(renewed.expiresAt).toBeGreaterThan(first.expiresAt);
    });

    it("lets another owner take over an expired lease; the old owner then finds it held", async () => {
      const record = await seed();
      expect((await store.leaseCancellation(record.id, "owner-a", 1)).ok).toBe(true);
      await sleep(30);
      expect((await store.leaseCancellation(record.id, "owner-b", 60_000)).ok).toBe(true);
      expect(await store.leaseCancellation(record.id, "owner-a", 60_000)).toMatchObject({ ok: false, reason: "held", owner: "owner-b" });
    });

    it("applies a batch naming an owner only while that owner holds the lease", async () => {
      const record = await seed();
      await store.insertRuns([makeRun({ id: "L-1" }), makeRun({ id: "L-2" }), makeRun({ id: "L-3" })]);
      // Nobody holds it: a batch naming an owner changes nothing.
      expect(await store.commitBatch({ cancellationId: record.id, runIds: ["L-1"], checkpoint: running(1, 1), owner: "owner-a" })).toEqual({
        ok: false,
        reason: "lease_lost",
      });
      expect((await store.getRun("L-1"))!.status).toBe("running");
      expect((await store.leaseCancellation(record.id, "owner-a", 1)).ok).toBe(true);
      expect(await store.commitBatch({ cancellationId: record.id, runIds: ["L-1"], checkpoint: running(1, 1), owner: "owner-a" })).toEqual({
        ok: true,
        cancelled: ["L-1"],
      });
      // Expired, and taken over: the old owner's batch and checkpoint change nothing.
      await sleep(30);
      expect((await store.leaseCancellation(record.id, "owner-b", 60_000)).ok).toBe(true);
      expect(await store.commitBatch({ cancellationId: record.id, runIds: ["L-2"], checkpoint: running(2, 2), owner: "owner-a" })).toEqual({
        ok: false,
        reason: "lease_lost",
      });
      expect((await store.getRun("L-2"))!.status).toBe("running");
      expect((await store.getCancellation(record.id))!.counts).toMatchObject({ scanned: 1, cancelled: 1 });
      expect(await store.commitBatch({ cancellationId: record.id, runIds: ["L-2"], checkpoint: running(2, 2), owner: "owner-b" })).toEqual({
        ok: true,
        cancelled: ["L-2"],
      });
      // A batch without an owner is not checked (a job run without a lease).
      expect((await store.commitBatch({ cancellationId: record.id, runIds: ["L-3"], checkpoint: running(3, 3) })).ok).toBe(true);
      expect((await store.getCancellation(record.id))!.counts).toMatchObject({ scanned: 3, cancelled: 3 });
      // A deleted record is gone before anything else.
      await store.deleteCancellation(record.id);
      expect(await store.commitBatch({ cancellationId: record.id, runIds: [], checkpoint: running(3, 3), owner: "owner-b" })).toEqual({ ok: false, reason: "gone" });
    });

    it("releases only the holder's lease, after which anyone takes it at once", async () => {
      const record = await seed();
      expect((await store.leaseCancellation(record.id, "owner-a", 60_000)).ok).toBe(true);
      expect(await store.releaseCancellation(record.id, "owner-b")).toBe(false);
      expect(await store.releaseCancellation(record.id, "owner-a")).toBe(true);
      expect(await store.releaseCancellation(record.id, "owner-a")).toBe(false);
      expect((await store.leaseCancellation(record.id, "owner-b", 60_000)).ok).toBe(true);
      // The record's own fields are untouched by leases.
      expect(await store.getCancellation(record.id)).toEqual(record);
    });

    it("answers gone for a missing or deleted record, and rejects a bad owner or lease length", async () => {
      const record = await seed();
      expect(await store.leaseCancellation(nextUlid(), "owner-a", 1000)).toEqual({ ok: false, reason: "gone" });
      expect(await store.leaseCancellation("not a valid id!", "owner-a", 1000)).toEqual({ ok: false, reason: "gone" });
      expect(await store.releaseCancellation(nextUlid(), "owner-a")).toBe(false);
      expect((await store.leaseCancellation(record.id, "owner-a", 60_000)).ok).toBe(true);
      await store.deleteCancellation(record.id);
      expect(await store.leaseCancellation(record.id, "owner-b", 1000)).toEqual({ ok: false, reason: "gone" });
      for (const [owner, leaseMs] of [["", 1000], ["x".repeat(201), 1000], ["a\u0000b", 1000], ["ok", 0], ["ok", 1.5], ["ok", 86_400_001]] as const) {
        const error = await store.leaseCancellation(record.id, owner, leaseMs).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StoreError);
        expect((error as StoreError).code).toBe("invalid_option");
      }
      const badBatch = await store.commitBatch({ cancellationId: record.id, runIds: [], checkpoint: running(0, 0), owner: "" }).catch((e: unknown) => e);
      expect((badBatch as StoreError).code).toBe("invalid_batch");
    });

    it("hands the lease to exactly one of many concurrent owners", async () => {
      const record = await seed();
      const owners = Array.from({ length: 12 }, (_, i) => `owner-${i}`);
      const results = await Promise.all(owners.map((owner) => store.leaseCancellation(record.id, owner, 60_000)));
      const winners = owners.filter((_, i) => results[i]!.ok);
      expect(winners).toHaveLength(1);
      for (const result of results) if (!result.ok) expect(result).toMatchObject({ reason: "held", owner: winners[0] });
    });

    if (options.openSibling !== undefined) {
      it("is seen by another store object on the same data (another process)", async () => {
        const record = await seed();
        const sibling = await options.openSibling!(store);
        try {
          expect((await store.leaseCancellation(record.id, "owner-a", 60_000)).ok).toBe(true);
          expect(await sibling.leaseCancellation(record.id, "owner-b", 60_000)).toMatchObject({ ok: false, reason: "held", owner: "owner-a" });
          expect(await sibling.commitBatch({ cancellationId: record.id, runIds: [], checkpoint: running(0, 0), owner: "owner-b" })).toEqual({
            ok: false,
            reason: "lease_lost",
          });
          expect(await store.releaseCancellation(record.id, "owner-a")).toBe(true);
          expect((await sibling.leaseCancellation(record.id, "owner-b", 60_000)).ok).toBe(true);
        } finally {
          await sibling.close();
        }
      });
    }
  });
}
