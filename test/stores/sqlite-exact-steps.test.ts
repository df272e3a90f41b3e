/**
 * The SQLite store reads an exact batch in steps of `exactChunkRows` runs, cancelling each step's
 * candidates before it reads the next (a speed-up, see `sqlite/exact.ts`). With steps as long as
 * the slice a batch is one step: the plain path. Differential: jobs run batch by batch on two
 * copies of the same runs, one in short steps and one in a single step, end with the same runs,
 * counts and cursor. Their batches may split the runs differently: a batch in steps stops after
 * the step that fills its limit, where one step of the whole slice also takes the runs after the
 * last candidate up to the slice's end.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addCounts } from "../../src/cancel/ledger.js";
import { FALSE, TRUE, atom, kindIs } from "../../src/stores/predicate.js";
import { SqliteRunStore } from "../../src/stores/sqlite.js";
import { StoreError, ZERO_COUNTS, type Cursor, type ExactBatchResult, type ExactDecision, type OutcomeCounts, type RunStatus } from "../../src/stores/types.js";
import { BASE_TIME, makeCancellation, makeRun } from "./fixtures.js";

const JOB = "01JOBSTEPS0000000000000000";
const OTHER_JOB = "01JOBOTHER0000000000000000";
const WINDOW = { appId: "app", functionId: "fn", startedAfter: BASE_TIME, startedBefore: BASE_TIME + 1000 };

/** Decisions with every outcome (`data.k`: `a` matches, missing errs, `n` is a non-boolean), a plain match, and none (no `if`). */
const DECISIONS: Record<string, ExactDecision> = {
  "every outcome": {
    match: atom({ k: "str", path: ["data", "k"], op: "==", value: "a" }),
    error: kindIs(["data", "k"], ["missing"]),
    nonBoolean: atom({ k: "str", path: ["data", "k"], op: "==", value: "n" }),
  },
  match: { match: atom({ k: "str", path: ["data", "k"], op: "==", value: "a" }), error: FALSE, nonBoolean: FALSE },
  "no if": { match: TRUE, error: FALSE, nonBoolean: FALSE },
};

const STATUSES: readonly RunStatus[] = ["queued", "running", "sleeping", "waiting", "completed", "failed", "cancelled"];

const runArb = fc.record({
  k: fc.constantFrom("a", "a", "a", "b", "n", undefined),
  status: fc.constantFrom(...STATUSES),
  // Several runs share a start time: the keyset's id breaks the tie.
  at: fc.integer({ min: 1, max: 30 }),
  heldBy: fc.constantFrom(undefined, undefined, undefined, JOB, OTHER_JOB),
});

type RunDraft = typeof runArb extends fc.Arbitrary<infer T> ? T : never;

async function storeOf(runs: readonly RunDraft[], exactChunkRows: number): Promise<SqliteRunStore> {
  const store = new SqliteRunStore({ path: ":memory:", exactChunkRows });
  await store.insertRuns(
    runs.map((r, i) =>
      makeRun({
        id: `r${String(i).padStart(3, "0")}`,
        startedAt: BASE_TIME + r.at,
        status: r.heldBy !== undefined ? "cancelled" : r.status,
        event: { name: "e", data: r.k === undefined ? {} : { k: r.k } },
        ...(r.heldBy !== undefined ? { cancellationId: r.heldBy } : {}),
      }),
    ),
  );
  await store.createCancellation(makeCancellation({ id: JOB, startedAfter: WINDOW.startedAfter, startedBefore: WINDOW.startedBefore }));
  return store;
}

/** A job batch by batch (each batch's limit and scan limit from the lists, in turn) until the window is done. */
async function runJob(store: SqliteRunStore, decision: ExactDecision, limits: readonly [number, number][], listCancelled: boolean): Promise<ExactBatchResult[]> {
  const results: ExactBatchResult[] = [];
  let after: Cursor | undefined;
  let counts: OutcomeCounts = ZERO_COUNTS;
  for (let i = 0; i < 200; i++) {
    const [limit, scanLimit] = limits[i % limits.length]!;
    const result = await store.cancelExactBatch({
      cancellationId: JOB,
      window: WINDOW,
      decision,
      limit,
      scanLimit,
      counts,
      listCancelled,
      ...(after !== undefined ? { after } : {}),
    });
    results.push(result);
    if (!result.ok) break;
    counts = addCounts(counts, result.counts);
    after = result.cursor ?? after;
    if (result.exhausted) break;
  }
  return results;
}

async function stateOf(store: SqliteRunStore): Promise<unknown> {
  const page = await store.scanRuns({ appId: "app", functionId: "fn", startedBefore: WINDOW.startedBefore + 1, limit: 1000 });
  const record = (await store.getCancellation(JOB))!;
  return { runs: page.runs.map((r) => [r.id, r.status, r.cancellationId]), counts: record.counts, cursor: record.cursor };
}

describe("SqliteRunStore exact batches in steps (exactChunkRows)", () => {
  it("short steps end a job with the runs, counts and cursor of one step per batch (generated runs, limits and decisions)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(runArb, { minLength: 0, maxLength: 60 }),
        fc.constantFrom(...Object.keys(DECISIONS)),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 1, max: 25 })), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 5 }),
        fc.boolean(),
        async (runs, decisionName, limits, chunkRows, listCancelled) => {
          // A job with limit 0 everywhere never moves past a candidate: give it a batch that may cancel.
          const usable = limits.some(([limit]) => limit > 0) ? limits : [...limits, [3, 10] as [number, number]];
          const decision = DECISIONS[decisionName]!;
          const stepped = await storeOf(runs, chunkRows);
          const whole = await storeOf(runs, 1_000_000);
          try {
            const a = await runJob(stepped, decision, usable, listCancelled);
            const b = await runJob(whole, decision, usable, listCancelled);
            expect(a.at(-1)).toMatchObject({ ok: true, exhausted: true });
            expect(b.at(-1)).toMatchObject({ ok: true, exhausted: true });
            expect(await stateOf(stepped)).toEqual(await stateOf(whole));
            // Listed or not, the batches cancelled the same runs, each once.
            const cancelledBy = (results: ExactBatchResult[]): string[] => results.flatMap((r) => (r.ok ? r.cancelled : [])).sort();
            expect(cancelledBy(a)).toEqual(cancelledBy(b));
            if (listCancelled) expect(new Set(cancelledBy(a)).size).toBe(cancelledBy(a).length);
            // Every batch stays within its limits.
            a.forEach((result, i) => {
              if (!result.ok) return;
              const [limit, scanLimit] = usable[i % usable.length]!;
              expect(result.counts.scanned).toBeLessThanOrEqual(scanLimit);
              if (listCancelled) expect(result.cancelled.length).toBeLessThanOrEqual(limit);
            });
          } finally {
            await stepped.close();
            await whole.close();
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("a batch that passes its limit inside a step stops at the candidate that fills it", async () => {
    // Six candidates in a row, steps of 4, limit 5: the second step holds two candidates and takes one.
    const runs: RunDraft[] = Array.from({ length: 8 }, (_, i) => ({ k: "a", status: "queued" as const, at: i + 1, heldBy: undefined }));
    const store = await storeOf(runs, 4);
    try {
      const result = await store.cancelExactBatch({ cancellationId: JOB, window: WINDOW, decision: DECISIONS["match"]!, limit: 5, scanLimit: 100, counts: ZERO_COUNTS });
      expect(result).toMatchObject({ ok: true, cancelled: ["r000", "r001", "r002", "r003", "r004"], cursor: { startedAt: BASE_TIME + 5, id: "r004" }, exhausted: false });
      expect((await store.getRun("r005"))!.status).toBe("queued");
    } finally {
      await store.close();
    }
  });

  it("refuses a step length that is not a positive integer", () => {
    for (const exactChunkRows of [0, -1, 1.5, Number.NaN]) {
      expect(() => new SqliteRunStore({ path: ":memory:", exactChunkRows })).toThrow(StoreError);
      expect(() => new SqliteRunStore({ path: ":memory:", exactChunkRows })).toThrow(/exactChunkRows must be a positive integer/);
    }
  });
});
