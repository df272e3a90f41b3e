/**
 * Conformance of the optional store capability `cancelExactBatch` (`ExactBatchStore`): which runs
 * a batch takes and cancels, how it counts them, the checkpoint it saves with them, the flags it
 * answers, a deleted record, a lost lease, and the checks of its input. Called from each SQL
 * store's test file; the memory store does not offer it (the planner falls back to its scan loop).
 *
 * @module
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { addCounts as add } from "../../src/cancel/ledger.js";
import { FALSE, TRUE, UNKNOWN, atom, kindIs } from "../../src/stores/predicate.js";
import {
  StoreError,
  ZERO_COUNTS,
  isShardedRunStore,
  type ExactBatch,
  type ExactBatchStore,
  type ExactDecision,
  type OutcomeCounts,
  type RunRecord,
  type RunStatus,
} from "../../src/stores/types.js";
import { BASE_TIME, makeCancellation, makeRun } from "./fixtures.js";

/** Options of {@link describeExactBatchConformance}. */
export interface ExactConformanceOptions {
  /** Stores events holding a NUL character where SQL cannot read them (PostgreSQL's `json` column). */
  readonly nulEventsUndecided?: boolean;
}

const JOB = "01JOBEXACT0000000000000000";

/** `data.k == 'a'` matches; a missing `data.k` counts as an error, `data.k == 'n'` as a non-boolean (for the counts). */
const DECISION: ExactDecision = {
  match: atom({ k: "str", path: ["data", "k"], op: "==", value: "a" }),
  error: kindIs(["data", "k"], ["missing"]),
  nonBoolean: atom({ k: "str", path: ["data", "k"], op: "==", value: "n" }),
};

/** The window's runs, one per millisecond: `[k, status, cancellationId?]`. */
const LAYOUT: readonly [string | undefined, RunStatus, string?][] = [
  ["a", "queued"], //          1 candidate
  ["b", "queued"], //          2 not matched
  ["a", "completed"], //       3 skipped (terminal)
  ["a", "running"], //         4 candidate
  ["a", "cancelled", JOB], //  5 cancelled by this job before (counted cancelled)
  ["n", "running"], //         6 non-boolean
  ["a", "sleeping"], //        7 candidate
  ["a", "waiting"], //         8 candidate
  ["b", "failed"], //          9 not matched
  ["a", "queued"], //         10 candidate
  [undefined, "queued"], //   11 error
  ["a", "queued"], //         12 candidate
];

function layoutRuns(): RunRecord[] {
  const runs = LAYOUT.map(([k, status, cancellationId], i) =>
    makeRun({
      id: `r${String(i + 1).padStart(2, "0")}`,
      startedAt: BASE_TIME + i + 1,
      status,
      event: { name: "e", data: k === undefined ? {} : { k } },
      ...(cancellationId !== undefined ? { cancellationId } : {}),
    }),
  );
  // Outside the window or the function: never read.
  runs.push(makeRun({ id: "z-before", startedAt: BASE_TIME, status: "queued", event: { name: "e", data: { k: "a" } } }));
  runs.push(makeRun({ id: "z-after", startedAt: BASE_TIME + 100, status: "queued", event: { name: "e", data: { k: "a" } } }));
  runs.push(makeRun({ id: "z-other", functionId: "other", startedAt: BASE_TIME + 5, status: "queued", event: { name: "e", data: { k: "a" } } }));
  return runs;
}

const WINDOW = { appId: "app", functionId: "fn", startedAfter: BASE_TIME + 1, startedBefore: BASE_TIME + 50 };
const BASE_COUNTS: OutcomeCounts = { scanned: 10, cancelled: 4, skipped_terminal: 3, not_matched: 1, expression_error: 1, non_boolean: 1 };

function batch(overrides: Partial<ExactBatch> = {}): ExactBatch {
  return { cancellationId: JOB, window: WINDOW, decision: DECISION, limit: 100, scanLimit: 100, counts: BASE_COUNTS, ...overrides };
}

async function expectInvalid(promise: Promise<unknown>, message: RegExp): Promise<void> {
  const error: unknown = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe("invalid_batch");
  expect((error as StoreError).message).toMatch(message);
}

/** Declares the conformance suite of `cancelExactBatch` for one store. */
export function describeExactBatchConformance(name: string, makeStore: () => Promise<ExactBatchStore>, options: ExactConformanceOptions = {}): void {
  describe(`cancelExactBatch conformance: ${name}`, () => {
    let store: ExactBatchStore;
    beforeEach(async () => {
      store = await makeStore();
      await store.insertRuns(layoutRuns());
      await store.createCancellation(makeCancellation({ id: JOB, startedAfter: WINDOW.startedAfter, startedBefore: WINDOW.startedBefore }));
    });
    afterEach(async () => {
      await store.close();
    });

    const statusOf = async (id: string): Promise<[RunStatus, string | undefined]> => {
      const run = (await store.getRun(id))!;
      return [run.status, run.cancellationId];
    };

    it("takes runs up to the limit-th candidate (or on to the next), cancels the candidates, counts every run it took, and saves the checkpoint with them", async () => {
      const first = await store.cancelExactBatch(batch({ limit: 2 }));
      if (!first.ok) throw new Error("gone");
      expect([...first.cancelled].sort()).toEqual(["r01", "r04"]);
      expect(first.exhausted).toBe(false);
      // A store stops right after the second candidate (r04) or just before the third (r07).
      if (first.blocked) {
        expect(first.cursor).toEqual({ startedAt: BASE_TIME + 6, id: "r06" });
        expect(first.counts).toEqual({ scanned: 6, cancelled: 3, skipped_terminal: 1, not_matched: 1, expression_error: 0, non_boolean: 1 });
      } else {
        expect(first.cursor).toEqual({ startedAt: BASE_TIME + 4, id: "r04" });
        expect(first.counts).toEqual({ scanned: 4, cancelled: 2, skipped_terminal: 1, not_matched: 1, expression_error: 0, non_boolean: 0 });
      }
      expect(await statusOf("r01")).toEqual(["cancelled", JOB]);
      expect(await statusOf("r03")).toEqual(["completed", undefined]);
      expect(await statusOf("r07")).toEqual(["sleeping", undefined]);
      let saved = (await store.getCancellation(JOB))!;
      expect(saved.counts).toEqual(add(BASE_COUNTS, first.counts));
      expect(saved.cursor).toEqual(first.cursor);
      expect(saved.status).toBe("running");

      // Limit 0: only the runs before the next candidate (r07) are taken.
      const stopped = await store.cancelExactBatch(batch({ after: saved.cursor!, limit: 0, counts: saved.counts }));
      expect(stopped).toMatchObject({ ok: true, cancelled: [], exhausted: false, blocked: true });
      saved = (await store.getCancellation(JOB))!;
      expect(saved.cursor).toEqual({ startedAt: BASE_TIME + 6, id: "r06" });
      expect(saved.counts).toEqual(add(BASE_COUNTS, { scanned: 6, cancelled: 3, skipped_terminal: 1, not_matched: 1, expression_error: 0, non_boolean: 1 }));
      const counts = saved.counts;

      // scanLimit bounds the rows read: three rows, two candidates, not blocked, not the end.
      const short = await store.cancelExactBatch(batch({ after: saved.cursor!, scanLimit: 3, counts }));
      expect(short).toMatchObject({ ok: true, cursor: { startedAt: BASE_TIME + 9, id: "r09" }, exhausted: false, blocked: false });
      expect(short.ok && [...short.cancelled].sort()).toEqual(["r07", "r08"]);
      expect(short.ok && short.counts).toEqual({ scanned: 3, cancelled: 2, skipped_terminal: 0, not_matched: 1, expression_error: 0, non_boolean: 0 });

      const counts2 = (await store.getCancellation(JOB))!.counts;
      const last = await store.cancelExactBatch(batch({ after: { startedAt: BASE_TIME + 9, id: "r09" }, counts: counts2 }));
      expect(last).toMatchObject({ ok: true, cursor: { startedAt: BASE_TIME + 12, id: "r12" }, exhausted: true, blocked: false });
      expect(last.ok && last.counts).toEqual({ scanned: 3, cancelled: 2, skipped_terminal: 0, not_matched: 0, expression_error: 1, non_boolean: 0 });
      const final = (await store.getCancellation(JOB))!;
      expect(final.counts).toEqual({ scanned: 22, cancelled: 11, skipped_terminal: 4, not_matched: 3, expression_error: 2, non_boolean: 2 });
      // Runs outside the window or the function are never touched.
      for (const id of ["z-before", "z-after", "z-other"]) expect(await statusOf(id)).toEqual(["queued", undefined]);

      // Past the end: nothing to take, the window is exhausted.
      expect(await store.cancelExactBatch(batch({ after: final.cursor!, counts: final.counts }))).toEqual({
        ok: true,
        cancelled: [],
        counts: ZERO_COUNTS,
        exhausted: true,
        blocked: false,
      });
    });

    it("cancels no more than limit when the slice holds one candidate more (r01 and r04 in four runs, limit 1)", async () => {
      const result = await store.cancelExactBatch(batch({ limit: 1, scanLimit: 4 }));
      if (!result.ok) throw new Error("gone");
      expect(result.cancelled).toEqual(["r01"]);
      expect(result.counts.cancelled).toBe(1);
      expect(await statusOf("r04")).toEqual(["running", undefined]);
      // Stopped anywhere from right after r01 to just before r04 (blocked: right before it).
      const taken = result.counts.scanned;
      expect(taken).toBeGreaterThanOrEqual(1);
      expect(taken).toBeLessThanOrEqual(3);
      expect(result.cursor).toEqual({ startedAt: BASE_TIME + taken, id: `r0${taken}` });
      if (result.blocked) expect(taken).toBe(3);
    });

    it("honours an upper keyset bound (a shard's end) and a decision that matches every run", async () => {
      const result = await store.cancelExactBatch(
        batch({ decision: { match: TRUE, error: FALSE, nonBoolean: FALSE }, until: { startedAt: BASE_TIME + 4, id: "r04" } }),
      );
      expect(result).toMatchObject({ ok: true, cursor: { startedAt: BASE_TIME + 4, id: "r04" }, exhausted: true, blocked: false });
      expect(result.ok && [...result.cancelled].sort()).toEqual(["r01", "r02", "r04"]);
      expect(result.ok && result.counts).toEqual({ scanned: 4, cancelled: 3, skipped_terminal: 1, not_matched: 0, expression_error: 0, non_boolean: 0 });
      expect(await statusOf("r06")).toEqual(["running", undefined]);
    });

    // A store may take another path when it need not list the ids (SQLite: a job without an `if`
    // updates the stretch first): everything but the list must be the same as the listing batch's,
    // including a slice with more candidates than `limit` (taken up to the limit either way).
    const listless: [string, Partial<ExactBatch>][] = [
      ["the whole window", {}],
      ["a slice short of the window", { scanLimit: 5 }],
      ["a slice past the limit", { scanLimit: 12, limit: 2 }],
      ["a slice ending at a shard's end", { until: { startedAt: BASE_TIME + 9, id: "r09" } }],
      ["the window already taken", { after: { startedAt: BASE_TIME + 12, id: "r12" } }],
    ];
    for (const [label, overrides] of listless) {
      it(`listCancelled: false changes nothing but the list (no if, ${label})`, async () => {
        const every: Partial<ExactBatch> = { decision: { match: TRUE, error: FALSE, nonBoolean: FALSE }, ...overrides };
        const listing = await makeStore();
        try {
          await listing.insertRuns(layoutRuns());
          await listing.createCancellation(makeCancellation({ id: JOB, startedAfter: WINDOW.startedAfter, startedBefore: WINDOW.startedBefore }));
          const listed = await listing.cancelExactBatch(batch(every));
          const unlisted = await store.cancelExactBatch(batch({ ...every, listCancelled: false }));
          if (!listed.ok || !unlisted.ok) throw new Error("gone");
          const { cancelled: ids, ...rest } = listed;
          const { cancelled: maybeIds, ...unlistedRest } = unlisted;
          expect(unlistedRest).toEqual(rest);
          if (maybeIds.length > 0) expect([...maybeIds].sort()).toEqual([...ids].sort());
          const statuses = async (s: ExactBatchStore) =>
            Promise.all(
              layoutRuns().map(async (r) => {
                const now = (await s.getRun(r.id))!;
                return [r.id, now.status, now.cancellationId ?? null];
              }),
            );
          const after = await statuses(listing);
          expect(await statuses(store)).toEqual(after);
          // The listed ids are the runs the batch cancelled: this job's now, not before it (r05).
          const cancelledNow = after.filter(([id, , by]) => by === JOB && id !== "r05").map(([id]) => id);
          expect([...ids].sort()).toEqual(cancelledNow);
          const [a, b] = [(await store.getCancellation(JOB))!, (await listing.getCancellation(JOB))!];
          expect([a.counts, a.cursor]).toEqual([b.counts, b.cursor]);
        } finally {
          await listing.close();
        }
      });
    }

    it("answers gone for a deleted record and changes nothing", async () => {
      expect(await store.deleteCancellation(JOB)).toBe(true);
      expect(await store.cancelExactBatch(batch())).toEqual({ ok: false, reason: "gone" });
      expect(await statusOf("r01")).toEqual(["queued", undefined]);
    });

    it("applies a batch of a leased job only while its owner holds the lease; another owner gets lease_lost and changes nothing", async () => {
      expect((await store.leaseCancellation(JOB, "owner-a", 60_000)).ok).toBe(true);
      expect(await store.cancelExactBatch(batch({ owner: "owner-b" }))).toEqual({ ok: false, reason: "lease_lost" });
      expect(await statusOf("r01")).toEqual(["queued", undefined]);
      expect((await store.getCancellation(JOB))!.counts).toEqual(ZERO_COUNTS);
      // An empty window is fenced too (the store answers it without reading runs).
      const empty = { ...WINDOW, startedAfter: BASE_TIME + 60, startedBefore: BASE_TIME + 70 };
      expect(await store.cancelExactBatch(batch({ owner: "owner-b", window: empty }))).toEqual({ ok: false, reason: "lease_lost" });
      const held = await store.cancelExactBatch(batch({ owner: "owner-a", limit: 1, scanLimit: 1, counts: ZERO_COUNTS }));
      expect(held).toMatchObject({ ok: true, cancelled: ["r01"], cursor: { startedAt: BASE_TIME + 1, id: "r01" } });
      // Expired but not taken over: still the owner's (as commitBatch).
      expect((await store.leaseCancellation(JOB, "owner-a", 1)).ok).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 10));
      const again = await store.cancelExactBatch(batch({ owner: "owner-a", after: { startedAt: BASE_TIME + 1, id: "r01" }, limit: 1, counts: ZERO_COUNTS }));
      expect(again).toMatchObject({ ok: true, cancelled: ["r04"] });
      expect((await store.leaseCancellation(JOB, "owner-b", 60_000)).ok).toBe(true);
      expect(await store.cancelExactBatch(batch({ owner: "owner-a" }))).toEqual({ ok: false, reason: "lease_lost" });
      expect(await statusOf("r07")).toEqual(["sleeping", undefined]);
    });

    it("applies a batch under controls only while the record still has them: paused or re-rated, controls_changed and nothing changes", async () => {
      const settings = (await store.getCancellation(JOB))!.settings ?? { batchSize: 100 };
      const untouched = async (): Promise<void> => {
        expect(await statusOf("r01")).toEqual(["queued", undefined]);
        expect((await store.getCancellation(JOB))!.counts).toEqual(ZERO_COUNTS);
      };
      // Paused since the controls were read.
      expect(await store.updateCancellationSettings(JOB, { ...settings, paused: true })).toBe(true);
      expect(await store.cancelExactBatch(batch({ controls: {}, counts: ZERO_COUNTS }))).toEqual({ ok: false, reason: "controls_changed" });
      await untouched();
      // A rate set, changed or lifted since.
      expect(await store.updateCancellationSettings(JOB, { ...settings, ratePerSecond: 5 })).toBe(true);
      expect(await store.cancelExactBatch(batch({ controls: {}, counts: ZERO_COUNTS }))).toEqual({ ok: false, reason: "controls_changed" });
      expect(await store.cancelExactBatch(batch({ controls: { ratePerSecond: 2.5 }, counts: ZERO_COUNTS }))).toEqual({ ok: false, reason: "controls_changed" });
      await untouched();
      // The same controls: the batch runs.
      const rated = await store.cancelExactBatch(batch({ controls: { ratePerSecond: 5 }, limit: 1, scanLimit: 1, counts: ZERO_COUNTS }));
      expect(rated).toMatchObject({ ok: true, cancelled: ["r01"], controlsChecked: true });
      expect(await store.updateCancellationSettings(JOB, { ...settings })).toBe(true);
      expect(await store.cancelExactBatch(batch({ controls: { ratePerSecond: 5 }, counts: ZERO_COUNTS }))).toEqual({ ok: false, reason: "controls_changed" });
      const plain = await store.cancelExactBatch(batch({ controls: {}, after: { startedAt: BASE_TIME + 1, id: "r01" }, limit: 1, counts: ZERO_COUNTS }));
      expect(plain).toMatchObject({ ok: true, cancelled: ["r04"], controlsChecked: true });
      // Without controls the batch is not checked against them (the caller has just read them).
      expect(await store.updateCancellationSettings(JOB, { ...settings, paused: true })).toBe(true);
      const unchecked = await store.cancelExactBatch(batch({ after: { startedAt: BASE_TIME + 4, id: "r04" }, limit: 1, counts: ZERO_COUNTS }));
      expect(unchecked).toMatchObject({ ok: true, cancelled: ["r07"] });
      expect(unchecked.ok && unchecked.controlsChecked).toBeUndefined();
    });

    it("rejects malformed batches with invalid_batch before touching anything", async () => {
      await expectInvalid(store.cancelExactBatch(batch({ decision: { ...DECISION, match: UNKNOWN } })), /decision\.match must be exact/);
      await expectInvalid(store.cancelExactBatch(batch({ limit: -1 })), /limit must be a non-negative integer/);
      await expectInvalid(store.cancelExactBatch(batch({ scanLimit: 0 })), /scanLimit must be an integer/);
      await expectInvalid(store.cancelExactBatch(batch({ cancellationId: "has space" })), /cancellationId/);
      await expectInvalid(store.cancelExactBatch(batch({ counts: { ...BASE_COUNTS, scanned: -1 } })), /counts\.scanned/);
      await expectInvalid(store.cancelExactBatch(batch({ window: { ...WINDOW, appId: "" } })), /appId/);
      await expectInvalid(store.cancelExactBatch({ ...batch(), decision: { match: TRUE } } as unknown as ExactBatch), /decision\.error/);
      await expectInvalid(store.cancelExactBatch(batch({ owner: "" })), /owner must be a string/);
      await expectInvalid(store.cancelExactBatch({ ...batch(), controls: 5 } as unknown as ExactBatch), /controls must be an object/);
      await expectInvalid(store.cancelExactBatch(batch({ controls: { ratePerSecond: Number.NaN } })), /controls\.ratePerSecond must be a finite number/);
      await expectInvalid(store.cancelExactBatch({ ...batch(), listCancelled: "no" } as unknown as ExactBatch), /listCancelled must be a boolean/);
      await expectInvalid(store.cancelExactBatch(batch({ owner: "a", lease: { shardNo: 0, workerId: "w", leaseMs: 1000 } })), /owner and lease exclude each other|cannot share a job/);
      // SQLite's length() stops at a NUL: a string size is not exact there, and the store says so.
      const stringSize: ExactDecision = { ...DECISION, match: atom({ k: "len", path: ["data", "k"], of: "string", op: "==", value: 1 }) };
      if (name.startsWith("sqlite")) await expectInvalid(store.cancelExactBatch(batch({ decision: stringSize })), /not exact on SQLite/);
      if (!isShardedRunStore(store)) {
        await expectInvalid(store.cancelExactBatch(batch({ lease: { shardNo: 0, workerId: "w", leaseMs: 1000 } })), /cannot share a job/);
      }
      expect(await statusOf("r01")).toEqual(["queued", undefined]);
      expect((await store.getCancellation(JOB))!.counts).toEqual(ZERO_COUNTS);
    });

    if (options.nulEventsUndecided === true) {
      it("stops before a run whose event SQL cannot read, and names it", async () => {
        await store.insertRuns([makeRun({ id: "r03", startedAt: BASE_TIME + 3, status: "queued", event: { name: "e", data: { k: "a\u0000" } } })]);
        const result = await store.cancelExactBatch(batch());
        expect(result).toMatchObject({ ok: true, cursor: { startedAt: BASE_TIME + 2, id: "r02" }, exhausted: false, blocked: false, undecided: "r03" });
        expect(result.ok && result.cancelled).toEqual(["r01"]);
      });
    }
  });
}

/** The lease checks of `cancelExactBatch` on a store that shares jobs between workers. */
export function describeExactShardConformance(name: string, makeStore: () => Promise<ExactBatchStore>): void {
  describe(`cancelExactBatch with a lease: ${name}`, () => {
    it("needs the worker's lease, saves the shard's checkpoint and renews the lease; another worker gets lease_lost and changes nothing", async () => {
      const store = await makeStore();
      try {
        if (!isShardedRunStore(store)) throw new Error("not a sharded store");
        await store.insertRuns(layoutRuns());
        await store.createShardedCancellation(makeCancellation({ id: JOB, startedAfter: WINDOW.startedAfter, startedBefore: WINDOW.startedBefore }), 2);
        const { lease } = await store.leaseShard({ workerId: "w1", leaseMs: 60_000, cancellationId: JOB });
        const shard = lease!.shard;
        const lost = await store.cancelExactBatch(batch({ counts: shard.counts, ...(shard.until !== undefined ? { until: shard.until } : {}), lease: { shardNo: shard.shardNo, workerId: "w2", leaseMs: 1000 } }));
        expect(lost).toEqual({ ok: false, reason: "lease_lost" });
        expect(await store.getRun("r01")).toMatchObject({ status: "queued" });
        // The job's controls are the record's, though the shard's row is the one locked.
        const settings = (await store.getCancellation(JOB))!.settings ?? { batchSize: 100 };
        expect(await store.updateCancellationSettings(JOB, { ...settings, paused: true })).toBe(true);
        const leased = { counts: shard.counts, ...(shard.until !== undefined ? { until: shard.until } : {}), lease: { shardNo: shard.shardNo, workerId: "w1", leaseMs: 120_000 } };
        expect(await store.cancelExactBatch(batch({ ...leased, controls: {} }))).toEqual({ ok: false, reason: "controls_changed" });
        expect(await store.getRun("r01")).toMatchObject({ status: "queued" });
        expect(await store.updateCancellationSettings(JOB, settings)).toBe(true);
        const before = (await store.listShards(JOB))[shard.shardNo]!;
        const done = await store.cancelExactBatch(batch({ ...leased, controls: {} }));
        expect(done).toMatchObject({ ok: true, cursor: shard.until, exhausted: true });
        const after = (await store.listShards(JOB))[shard.shardNo]!;
        expect(after.counts).toEqual(done.ok ? done.counts : undefined);
        expect(after.cursor).toEqual(shard.until);
        expect(after.status).toBe("running");
        expect(after.leaseOwner).toBe("w1");
        expect(after.leaseExpiresAt!).toBeGreaterThan(before.leaseExpiresAt!);
        // The job's counts are its shards' sum.
        expect((await store.getCancellation(JOB))!.counts).toEqual(after.counts);
        expect(await store.cancelExactBatch(batch({ cancellationId: "01NOSUCHJOB000000000000000", lease: { shardNo: 0, workerId: "w1", leaseMs: 1000 } }))).toEqual({
          ok: false,
          reason: "gone",
        });
      } finally {
        await store.close();
      }
    });
  });
}
