import fc from "fast-check";
import { decodeTime } from "ulid";
import { describe, expect, it, vi } from "vitest";
import {
  CancellationNotFoundError,
  ConflictError,
  DRY_RUN_SAMPLE_SIZE,
  RateLimiter,
  ValidationError,
  cancelRuns,
  resumeCancellation,
  type CancellationProgress,
} from "../../src/cancel/index.js";
import { MemoryRunStore } from "../../src/stores/memory.js";
import { compareCursor, type RunRecord, type RunStore } from "../../src/stores/types.js";
import {
  BASE_TIME,
  EXPRESSIONS,
  PATTERN_FROM_DATA,
  HookedStore,
  STORE_FACTORIES,
  atOrBefore,
  body,
  cancelledBy,
  iso,
  oracle,
  oracleCounts,
  runSpecArb,
  runsFromSpecs,
  statusesOf,
  windowArb,
} from "./helpers.js";

const NOW = BASE_TIME + 86_400_000;

async function seeded(make: () => RunStore, runs: readonly RunRecord[]): Promise<RunStore> {
  const store = make();
  await store.insertRuns(runs);
  return store;
}

function sortedIds(entries: readonly { run: RunRecord }[]): string[] {
  return entries.map((e) => e.run.id).sort();
}

for (const { name, make } of STORE_FACTORIES) {
  const iterations = name === "memory" ? 120 : 60;

  describe(`planner on ${name}`, () => {
    it("cancels exactly the oracle's runs and counts every scanned run once", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(runSpecArb, { maxLength: 80, size: "max" }),
          windowArb,
          fc.constantFrom(...EXPRESSIONS),
          fc.integer({ min: 1, max: 7 }),
          async (specs, window, expression, batchSize) => {
            const runs = runsFromSpecs(specs);
            const store = await seeded(make, runs);
            const hooked = new HookedStore(store, {
              // Every checkpoint saved must count exactly the runs at or before its cursor.
              beforeCommit: (batch) => {
                const cursor = batch.checkpoint.cursor;
                const prefix = oracle(runs, { ...window, ...(expression !== undefined ? { expression } : {}) }).filter((e) => atOrBefore(e.run, cursor));
                expect(batch.checkpoint.counts).toEqual(oracleCounts(prefix));
              },
            });
            const expected = oracle(runs, { ...window, ...(expression !== undefined ? { expression } : {}) });
            const before = await statusesOf(store, runs);
            const report = await cancelRuns(hooked, body(window, expression), { batchSize, now: NOW });
            expect(report.status).toBe("completed");
            expect(report.outcomes).toEqual(oracleCounts(expected));
            const o = report.outcomes;
            expect(o.scanned).toBe(o.cancelled + o.skipped_terminal + o.not_matched + o.expression_error + o.non_boolean);
            const cancelled = await cancelledBy(store, runs, report.cancellation.id);
            expect(cancelled).toEqual(sortedIds(expected.filter((e) => e.expected === "cancel")));
            // Nothing else changed.
            const after = await statusesOf(store, runs);
            for (const run of runs) {
              if (!cancelled.includes(run.id)) expect(after.get(run.id)).toBe(before.get(run.id));
            }
            const stored = await store.getCancellation(report.cancellation.id);
            expect(stored?.status).toBe("completed");
            expect(stored?.counts).toEqual(report.outcomes);
            expect(report.cancellation.counts).toEqual(report.outcomes);
            expect(hooked.maxLimit).toBeLessThanOrEqual(batchSize);
            for (const commit of hooked.commits) expect(commit.runIds.length).toBeLessThanOrEqual(batchSize);
            await store.close();
          },
        ),
        { numRuns: iterations },
      );
    });

    it("never skips or repeats runs sharing one millisecond across page boundaries", async () => {
      const runs: RunRecord[] = [];
      for (let i = 0; i < 3000; i++) {
        runs.push({
          id: `T${((i * 7919) % 3000).toString(36).padStart(4, "0")}${i}`,
          appId: "app",
          functionId: "fn",
          startedAt: BASE_TIME + (i < 2990 ? 1 : 2),
          status: i % 5 === 0 ? "completed" : "running",
          event: { name: "e", data: { k: i % 3 === 0 ? "a" : "b" } },
        });
      }
      for (const batchSize of [1, 2, 3, 7]) {
        const store = await seeded(make, runs);
        const seen = new Set<string>();
        let dropped = 0;
        const hooked = new HookedStore(store, {
          afterScan: (_q, page) => {
            dropped += page.prefiltered ?? 0;
            for (const run of page.runs) {
              expect(seen.has(run.id)).toBe(false);
              seen.add(run.id);
            }
          },
        });
        const report = await cancelRuns(hooked, body({ after: BASE_TIME, before: BASE_TIME + 1 }, "event.data.k == 'a'"), { batchSize, now: NOW });
        const expected = oracle(runs, { after: BASE_TIME, before: BASE_TIME + 1, expression: "event.data.k == 'a'" });
        // Runs a SQL prefilter dropped are read but not handed out.
        expect(seen.size + dropped).toBe(2990);
        expect(report.outcomes).toEqual(oracleCounts(expected));
        expect(await cancelledBy(store, runs, report.cancellation.id)).toEqual(sortedIds(expected.filter((e) => e.expected === "cancel")));
        await store.close();
      }
    });

    it("never cancels a run that finished between the scan and the commit", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(runSpecArb, { maxLength: 80, size: "max" }),
          windowArb,
          fc.constantFrom(...EXPRESSIONS),
          fc.integer({ min: 1, max: 7 }),
          fc.integer({ min: 0, max: 1000 }),
          async (specs, window, expression, batchSize, seed) => {
            const runs = runsFromSpecs(specs);
            const store = await seeded(make, runs);
            const finished = new Set<string>();
            let tick = seed;
            const hooked = new HookedStore(store, {
              afterScan: async (_q, page, inner) => {
                // Finish about a third of the page's open runs behind the planner's back.
                const ids = page.runs.filter((r) => (tick = (tick * 1103515245 + 12345) >>> 0) % 3 === 0).map((r) => r.id);
                for (const id of ids) if ((await inner.setRunStatus([id], "completed")) > 0) finished.add(id);
              },
            });
            const expected = oracle(runs, { ...window, ...(expression !== undefined ? { expression } : {}) });
            const report = await cancelRuns(hooked, body(window, expression), { batchSize, now: NOW });
            const shouldCancel = expected.filter((e) => e.expected === "cancel" && !finished.has(e.run.id));
            expect(await cancelledBy(store, runs, report.cancellation.id)).toEqual(sortedIds(shouldCancel));
            for (const id of finished) expect((await store.getRun(id))?.status).toBe("completed");
            const counts = oracleCounts(expected);
            const raced = counts.cancelled - shouldCancel.length;
            expect(report.outcomes).toEqual({ ...counts, cancelled: shouldCancel.length, skipped_terminal: counts.skipped_terminal + raced });
            await store.close();
          },
        ),
        { numRuns: Math.ceil(iterations / 2) },
      );
    });

    it("abort then resume ends exactly like an uninterrupted run", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(runSpecArb, { minLength: 1, maxLength: 80, size: "max" }),
          fc.constantFrom(...EXPRESSIONS),
          fc.integer({ min: 1, max: 5 }),
          fc.integer({ min: 1, max: 6 }),
          async (specs, expression, batchSize, abortAfter) => {
            const runs = runsFromSpecs(specs);
            const window = { before: BASE_TIME + 10 };
            const straight = await seeded(make, runs);
            const reference = await cancelRuns(straight, body(window, expression), { batchSize, now: NOW });

            const store = await seeded(make, runs);
            const controller = new AbortController();
            let events = 0;
            const first = await cancelRuns(store, body(window, expression), {
              batchSize,
              now: NOW,
              signal: controller.signal,
              onProgress: () => {
                if (++events >= abortAfter) controller.abort();
              },
            });
            let final = first;
            if (first.status === "aborted") {
              expect((await store.getCancellation(first.cancellation.id))?.status).toBe("aborted");
              final = await resumeCancellation(store, first.cancellation.id, { batchSize });
              expect(final.created).toBe(false);
            }
            expect(final.status).toBe("completed");
            expect(final.outcomes).toEqual(reference.outcomes);
            expect(await cancelledBy(store, runs, final.cancellation.id)).toEqual(await cancelledBy(straight, runs, reference.cancellation.id));
            await store.close();
            await straight.close();
          },
        ),
        { numRuns: Math.ceil(iterations / 2) },
      );
    });

    it("a crash after a commit whose acknowledgement is lost resumes without double counting", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(runSpecArb, { minLength: 1, maxLength: 80, size: "max" }),
          fc.constantFrom(...EXPRESSIONS),
          fc.integer({ min: 1, max: 5 }),
          fc.integer({ min: 0, max: 8 }),
          async (specs, expression, batchSize, crashAt) => {
            const runs = runsFromSpecs(specs);
            const window = { before: BASE_TIME + 10 };
            const straight = await seeded(make, runs);
            const reference = await cancelRuns(straight, body(window, expression), { batchSize, now: NOW });

            const store = await seeded(make, runs);
            let commits = 0;
            let dead = false;
            const crashing = new HookedStore(store, {
              beforeCommit: () => {
                if (dead) throw new Error("process gone");
              },
              afterCommit: () => {
                // The batch is written, then the process dies before it learns so.
                if (commits++ === crashAt) {
                  dead = true;
                  throw new Error("simulated crash");
                }
              },
            });
            let id: string | undefined;
            try {
              const done = await cancelRuns(crashing, body(window, expression), { batchSize, now: NOW });
              id = done.cancellation.id;
            } catch (error) {
              expect((error as Error).message).toBe("simulated crash");
            }
            id ??= (await store.listCancellations()).records[0]!.id;
            const final = await resumeCancellation(store, id, { batchSize });
            expect(final.status).toBe("completed");
            expect(final.outcomes).toEqual(reference.outcomes);
            expect(await cancelledBy(store, runs, id)).toEqual(await cancelledBy(straight, runs, reference.cancellation.id));
            await store.close();
            await straight.close();
          },
        ),
        { numRuns: Math.ceil(iterations / 2) },
      );
    });

    it("maxRuns cancels exactly up to the cap, stops just before the next run, and resumes", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(runSpecArb, { maxLength: 80, size: "max" }),
          fc.constantFrom(...EXPRESSIONS),
          fc.integer({ min: 1, max: 7 }),
          fc.integer({ min: 0, max: 12 }),
          async (specs, expression, batchSize, maxRuns) => {
            const runs = runsFromSpecs(specs);
            const window = { before: BASE_TIME + 10 };
            const store = await seeded(make, runs);
            const expected = oracle(runs, { ...window, ...(expression !== undefined ? { expression } : {}) });
            const toCancel = expected.filter((e) => e.expected === "cancel");
            const report = await cancelRuns(store, body(window, expression), { batchSize, maxRuns, now: NOW });
            const cancelled = await cancelledBy(store, runs, report.cancellation.id);
            if (toCancel.length > maxRuns) {
              expect(report.status).toBe("stopped_max_runs");
              expect(cancelled).toEqual(sortedIds(toCancel.slice(0, maxRuns)));
              // The cursor sits just before the first run left uncancelled; counts cover the runs up to it.
              const stored = (await store.getCancellation(report.cancellation.id))!;
              const next = toCancel[maxRuns]!.run;
              const prefix = expected.filter((e) => compareCursor(e.run, next) < 0);
              expect(stored.counts).toEqual(oracleCounts(prefix));
              if (stored.cursor !== undefined) {
                expect(compareCursor(stored.cursor, next)).toBeLessThan(0);
                expect(stored.cursor.id).toBe(prefix[prefix.length - 1]!.run.id);
              } else {
                expect(prefix).toHaveLength(0);
              }
              // The cap is one of the job's stored settings: a plain resume stops again at once.
              const again = await resumeCancellation(store, report.cancellation.id);
              expect(again.status).toBe("stopped_max_runs");
              expect(again.outcomes.cancelled).toBe(maxRuns);
              const rest = await resumeCancellation(store, report.cancellation.id, { maxRuns: toCancel.length });
              expect(rest.status).toBe("completed");
              expect(rest.outcomes).toEqual(oracleCounts(expected));
            } else {
              expect(report.status).toBe("completed");
              expect(report.outcomes).toEqual(oracleCounts(expected));
            }
            expect(await cancelledBy(store, runs, report.cancellation.id)).toEqual(sortedIds(toCancel));
            await store.close();
          },
        ),
        { numRuns: iterations },
      );
    });

    it("maxRuns holds when runs finish concurrently: freed room is used, never exceeded", async () => {
      const runs = runsFromSpecs(
        Array.from({ length: 40 }, (_, i) => ({ t: i % 3, k: "a", s: "1", r: "^a", v: true, status: "running" as const, fn: "fn", env: "default", salt: "R" })),
      );
      const store = await seeded(make, runs);
      let finishedOnce = false;
      const hooked = new HookedStore(store, {
        beforeCommit: async (batch, inner) => {
          if (!finishedOnce && batch.runIds.length > 0) {
            finishedOnce = true;
            await inner.setRunStatus(batch.runIds.slice(0, 2), "completed");
          }
        },
      });
      const report = await cancelRuns(hooked, body({ before: BASE_TIME + 10 }), { batchSize: 4, maxRuns: 10, now: NOW });
      expect(report.status).toBe("stopped_max_runs");
      expect(report.outcomes.cancelled).toBe(10);
      expect(report.outcomes.skipped_terminal).toBe(2);
      expect(await cancelledBy(store, runs, report.cancellation.id)).toHaveLength(10);
      await store.close();
    });

    it("a dry run writes nothing and predicts the real run's counts; its sample is the first runs to cancel", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(runSpecArb, { maxLength: 80, size: "max" }),
          windowArb,
          fc.constantFrom(...EXPRESSIONS),
          fc.integer({ min: 1, max: 7 }),
          async (specs, window, expression, batchSize) => {
            const runs = runsFromSpecs(specs);
            const store = await seeded(make, runs);
            const before = await statusesOf(store, runs);
            const dry = await cancelRuns(store, body(window, expression), { batchSize, dryRun: true, now: NOW, ratePerSecond: 0 });
            expect(dry.dryRun).toBe(true);
            expect(await statusesOf(store, runs)).toEqual(before);
            expect((await store.listCancellations()).records).toHaveLength(0);
            const real = await cancelRuns(store, body(window, expression), { batchSize, now: NOW });
            expect(dry.outcomes).toEqual(real.outcomes);
            const expected = oracle(runs, { ...window, ...(expression !== undefined ? { expression } : {}) });
            expect(dry.sample).toEqual(expected.filter((e) => e.expected === "cancel").slice(0, DRY_RUN_SAMPLE_SIZE).map((e) => e.run.id));
            await store.close();
          },
        ),
        { numRuns: Math.ceil(iterations / 2) },
      );
    });

    it("holds at most one page of runs in flight, whatever the window size", async () => {
      const runs: RunRecord[] = [];
      for (let i = 0; i < 20_000; i++) {
        runs.push({
          id: `M${i.toString().padStart(6, "0")}`,
          appId: "app",
          functionId: "fn",
          startedAt: BASE_TIME + Math.floor(i / 7),
          status: "running",
          event: { name: "e", data: { n: i % 10 } },
        });
      }
      const store = await seeded(make, runs);
      const hooked = new HookedStore(store);
      const report = await cancelRuns(hooked, body({ before: BASE_TIME + 10_000 }, "event.data.n == 3"), { batchSize: 64, now: NOW });
      expect(report.outcomes.scanned).toBe(20_000);
      expect(report.outcomes.cancelled).toBe(2000);
      expect(hooked.maxLimit).toBe(64);
      expect(hooked.maxPageRuns).toBeLessThanOrEqual(64);
      expect(hooked.maxScansInFlight).toBe(1);
      for (const commit of hooked.commits) expect(commit.runIds.length).toBeLessThanOrEqual(64);
      await store.close();
    });

    it("counts expression errors and non-booleans per run and goes on", async () => {
      const runs = runsFromSpecs(
        Array.from({ length: 30 }, (_, i) => ({
          t: 0,
          k: "a",
          s: "1",
          r: ["^a", "[", "^b"][i % 3]!,
          v: [true, 1, "x"][i % 3],
          status: "running" as const,
          fn: "fn",
          env: "default",
          salt: "E",
        })),
      );
      const store = await seeded(make, runs);
      const errors = await cancelRuns(store, body({ before: BASE_TIME }, PATTERN_FROM_DATA), { batchSize: 4, now: NOW });
      expect(errors.status).toBe("completed");
      expect(errors.outcomes).toEqual({ scanned: 30, cancelled: 10, skipped_terminal: 0, not_matched: 10, expression_error: 10, non_boolean: 0 });
      const nonBoolean = await cancelRuns(store, body({ before: BASE_TIME }, "event.data.v"), { batchSize: 4, now: NOW });
      // The runs whose v is true are those the first job cancelled: skipped now.
      expect(nonBoolean.outcomes).toEqual({ scanned: 30, cancelled: 0, skipped_terminal: 10, not_matched: 0, expression_error: 0, non_boolean: 20 });
      await store.close();
    });

    it("a zero-length window takes exactly the runs of that millisecond", async () => {
      const runs = runsFromSpecs(
        Array.from({ length: 12 }, (_, i) => ({ t: i % 3, k: "a", s: "1", r: "^a", v: true, status: "queued" as const, fn: "fn", env: "default", salt: "Z" })),
      );
      const store = await seeded(make, runs);
      const report = await cancelRuns(store, body({ after: BASE_TIME + 1, before: BASE_TIME + 1 }), { now: NOW });
      expect(report.outcomes.scanned).toBe(4);
      expect(report.outcomes.cancelled).toBe(4);
      expect(report.cancellation.started_after).toBe(report.cancellation.started_before);
      await store.close();
    });

    it("a sub-millisecond window holds no run and completes empty", async () => {
      const store = await seeded(make, runsFromSpecs([{ t: 1, k: "a", s: "1", r: "^a", v: true, status: "queued", fn: "fn", env: "default", salt: "S" }]));
      const at = new Date(BASE_TIME + 1).toISOString().replace("Z", "");
      const report = await cancelRuns(store, { app_id: "app", function_id: "fn", started_after: `${at}1Z`, started_before: `${at}9Z` }, { now: NOW });
      expect(report.status).toBe("completed");
      expect(report.outcomes.scanned).toBe(0);
      await store.close();
    });

    it("idempotency: same key and body returns the first cancellation without running again; another body conflicts", async () => {
      const runs = runsFromSpecs(
        Array.from({ length: 10 }, (_, i) => ({ t: i % 2, k: "a", s: "1", r: "^a", v: true, status: "running" as const, fn: "fn", env: "default", salt: "I" })),
      );
      const store = await seeded(make, runs);
      const hooked = new HookedStore(store);
      const request = body({ after: BASE_TIME, before: BASE_TIME + 5 }, "event.data.k == 'a'");
      const first = await cancelRuns(hooked, request, { idempotencyKey: "k1", now: NOW });
      expect(first.created).toBe(true);
      expect(first.outcomes.cancelled).toBe(10);
      const scans = hooked.scans;
      // The same request written differently: another offset, keys in another order.
      const equivalent = {
        if: "event.data.k == 'a'",
        started_before: "2023-11-15T00:13:20.005+02:00",
        started_after: iso(BASE_TIME),
        function_id: "fn",
        app_id: "app",
      };
      expect(new Date("2023-11-15T00:13:20.005+02:00").getTime()).toBe(BASE_TIME + 5);
      const again = await cancelRuns(hooked, equivalent, { idempotencyKey: "k1", now: NOW + 1000 });
      expect(again.created).toBe(false);
      expect(again.cancellation.id).toBe(first.cancellation.id);
      expect(again.outcomes).toEqual(first.outcomes);
      expect(again.status).toBe("completed");
      expect(hooked.scans).toBe(scans);
      expect((await store.listCancellations()).records).toHaveLength(1);

      const conflict = await cancelRuns(hooked, { ...request, if: "event.data.k == 'b'" }, { idempotencyKey: "k1", now: NOW }).catch((e: unknown) => e);
      expect(conflict).toBeInstanceOf(ConflictError);
      expect((conflict as ConflictError).status).toBe(409);
      expect((conflict as ConflictError).cancellationId).toBe(first.cancellation.id);
      // Keys are per environment.
      const elsewhere = await cancelRuns(hooked, request, { idempotencyKey: "k1", environmentId: "staging", now: NOW });
      expect(elsewhere.created).toBe(true);
      // Deleting the cancellation frees its key.
      await store.deleteCancellation(first.cancellation.id);
      const fresh = await cancelRuns(hooked, request, { idempotencyKey: "k1", now: NOW });
      expect(fresh.created).toBe(true);
      expect(fresh.cancellation.id).not.toBe(first.cancellation.id);
      await store.close();
    });

    it("deleting the record stops the job; runs already cancelled stay cancelled", async () => {
      const runs = runsFromSpecs(
        Array.from({ length: 40 }, (_, i) => ({ t: i % 4, k: "a", s: "1", r: "^a", v: true, status: "running" as const, fn: "fn", env: "default", salt: "D" })),
      );
      const store = await seeded(make, runs);
      let deleted = false;
      const hooked = new HookedStore(store, {
        afterCommit: async (batch, result, inner) => {
          if (!deleted && result.ok && batch.runIds.length > 0) {
            deleted = true;
            await inner.deleteCancellation(batch.cancellationId);
          }
        },
      });
      const report = await cancelRuns(hooked, body({ before: BASE_TIME + 10 }), { batchSize: 5, now: NOW });
      expect(report.status).toBe("deleted");
      expect(await store.getCancellation(report.cancellation.id)).toBeUndefined();
      expect(await cancelledBy(store, runs, report.cancellation.id)).toHaveLength(5);
      await store.close();
    });

    it("keeps to its function, app and environment", async () => {
      const runs = runsFromSpecs(
        Array.from({ length: 24 }, (_, i) => ({
          t: 0,
          k: "a",
          s: "1",
          r: "^a",
          v: true,
          status: "running" as const,
          fn: i % 2 === 0 ? "fn" : "other",
          env: i % 3 === 0 ? "staging" : "default",
          salt: "F",
        })),
      );
      const store = await seeded(make, runs);
      const report = await cancelRuns(store, body({ before: BASE_TIME }), { environmentId: "staging", now: NOW });
      const expected = oracle(runs, { before: BASE_TIME, environmentId: "staging" });
      expect(report.outcomes.cancelled).toBe(expected.length);
      expect(await cancelledBy(store, runs, report.cancellation.id)).toEqual(sortedIds(expected));
      expect(report.cancellation.environment_id).toBe("staging");
      await store.close();
    });
  });
}

describe("planner with SQLite pushdown", () => {
  const runs = runsFromSpecs(
    Array.from({ length: 60 }, (_, i) => ({
      t: i % 4,
      k: ["a", "b", "c"][i % 3]!,
      s: "1",
      r: "^a",
      v: [true, 1, "x", false][i % 4],
      status: "running" as const,
      fn: "fn",
      env: "default",
      salt: "Q",
    })),
  );

  it("pushes filters down and keeps the ledger exact, also for a dyn-typed one", async () => {
    const store = await seeded(STORE_FACTORIES[1]!.make, runs);
    const hooked = new HookedStore(store);
    const report = await cancelRuns(hooked, body({ before: BASE_TIME + 10 }, "event.data.k == 'a'"), { batchSize: 7, now: NOW });
    expect(report.pushdown).toBe("full");
    expect(hooked.commits.length).toBeGreaterThan(0);
    expect(report.outcomes).toEqual(oracleCounts(oracle(runs, { before: BASE_TIME + 10, expression: "event.data.k == 'a'" })));
    await store.close();
    // `event.data.v` is true, 1, "x" or false: the prefilter may drop only the false rows.
    const fresh = await seeded(STORE_FACTORIES[1]!.make, runs);
    const dyn = await cancelRuns(fresh, body({ before: BASE_TIME + 10 }, "event.data.v"), { batchSize: 7, now: NOW });
    expect(dyn.outcomes).toEqual(oracleCounts(oracle(runs, { before: BASE_TIME + 10, expression: "event.data.v" })));
    expect(dyn.outcomes.non_boolean).toBe(30);
    await fresh.close();
  });

  // The prefilter keeps every row not known to be false, so rows where the expression errs (here
  // `startsWith` on a number) reach the closure and are counted as errors.
  it("counts an evaluation error on a row the prefilter would drop as expression_error", async () => {
    const mixed: RunRecord[] = Array.from({ length: 10 }, (_, i) => ({
      id: `W${i}`,
      appId: "app",
      functionId: "fn",
      startedAt: BASE_TIME,
      status: "running" as const,
      event: { name: "e", data: { k: i % 2 === 0 ? "abc" : 5 } },
    }));
    const store = await seeded(STORE_FACTORIES[1]!.make, mixed);
    const report = await cancelRuns(store, body({ before: BASE_TIME }, "event.data.k.startsWith('a')"), { now: NOW });
    await store.close();
    expect(report.outcomes).toEqual({ scanned: 10, cancelled: 5, skipped_terminal: 0, not_matched: 0, expression_error: 5, non_boolean: 0 });
  });
});

describe("planner controls", () => {
  const makeRuns = (n: number): RunRecord[] =>
    runsFromSpecs(Array.from({ length: n }, (_, i) => ({ t: i % 5, k: "a", s: "1", r: "^a", v: true, status: "running" as const, fn: "fn", env: "default", salt: "C" })));

  /**
   * Runs `work` under fake timers (setTimeout, setImmediate, Date and performance.now), advancing
   * the clock in small steps until it settles: the rate limiter's waits take no real time, and
   * what a test reads of the clock is exact.
   */
  async function onFakeClock<T>(work: () => Promise<T>, stepMs = 10, maxSteps = 100_000): Promise<T> {
    vi.useFakeTimers({ now: 0 });
    try {
      let settled = false;
      const result = work().finally(() => (settled = true));
      for (let step = 0; !settled && step < maxSteps; step++) await vi.advanceTimersByTimeAsync(stepMs);
      expect(settled, "the work settles").toBe(true);
      return await result;
    } finally {
      vi.useRealTimers();
    }
  }

  it("a RateLimiter changes the rate of a running job: 0 pauses it, Infinity lets it finish", async () => {
    const store = new MemoryRunStore();
    const runs = makeRuns(50);
    await store.insertRuns(runs);
    const limiter = new RateLimiter(0);
    const hooked = new HookedStore(store);
    vi.useFakeTimers({ now: 0 });
    try {
      const job = cancelRuns(hooked, body({ before: BASE_TIME + 10 }), { batchSize: 10, ratePerSecond: limiter, now: NOW });
      // Ten minutes pass on the fake clock: a paused job cancels nothing.
      await vi.advanceTimersByTimeAsync(600_000);
      expect(hooked.commits.filter((c) => c.runIds.length > 0)).toHaveLength(0);
      limiter.setRate(Infinity);
      await vi.advanceTimersByTimeAsync(0);
      const report = await job;
      expect(report.outcomes.cancelled).toBe(50);
    } finally {
      vi.useRealTimers();
    }
  });

  it("a numeric rate limit bounds the cancellations per second and the batch size", async () => {
    const store = new MemoryRunStore();
    await store.insertRuns(makeRuns(50));
    const commitTimes: number[] = [];
    const hooked = new HookedStore(store, { beforeCommit: (batch) => void (batch.runIds.length > 0 && commitTimes.push(performance.now())) });
    const report = await onFakeClock(() => cancelRuns(hooked, body({ before: BASE_TIME + 10 }), { batchSize: 100, ratePerSecond: 20, now: NOW }));
    expect(report.outcomes.cancelled).toBe(50);
    const batches = hooked.commits.filter((c) => c.runIds.length > 0);
    // Batches hold at most ⌈rate⌉ runs: 20, 20, 10.
    expect(batches.map((c) => c.runIds.length)).toEqual([20, 20, 10]);
    // The first batch at once, each later one a second (20 runs at 20/s) after the one before.
    expect(commitTimes).toHaveLength(3);
    expect(commitTimes[1]! - commitTimes[0]!).toBeGreaterThanOrEqual(1000);
    expect(commitTimes[2]! - commitTimes[1]!).toBeGreaterThanOrEqual(1000);
    // No run-second holds more than the rate.
    for (let i = 0; i < commitTimes.length; i++) {
      const inWindow = batches.filter((_, j) => commitTimes[j]! > commitTimes[i]! - 1000 && commitTimes[j]! <= commitTimes[i]!);
      expect(inWindow.reduce((n, c) => n + c.runIds.length, 0)).toBeLessThanOrEqual(20);
    }
  });

  it("an abort while waiting for the rate limit saves an aborted checkpoint", async () => {
    const store = new MemoryRunStore();
    await store.insertRuns(makeRuns(30));
    const controller = new AbortController();
    const job = cancelRuns(store, body({ before: BASE_TIME + 10 }), { batchSize: 5, ratePerSecond: new RateLimiter(0), signal: controller.signal, now: NOW });
    setTimeout(() => controller.abort(), 50);
    const report = await job;
    expect(report.status).toBe("aborted");
    expect(report.outcomes.cancelled).toBe(0);
    expect((await store.getCancellation(report.cancellation.id))?.status).toBe("aborted");
    const resumed = await resumeCancellation(store, report.cancellation.id);
    expect(resumed.outcomes.cancelled).toBe(30);
  });

  it("yields to the event loop, so a timer can abort a job on an in-memory store", async () => {
    const store = new MemoryRunStore();
    const runs: RunRecord[] = Array.from({ length: 100_000 }, (_, i) => ({
      id: `Y${String(i).padStart(6, "0")}`,
      appId: "app",
      functionId: "fn",
      startedAt: BASE_TIME + Math.floor(i / 10),
      status: "running" as const,
      event: { name: "e", data: { n: i % 10 } },
    }));
    await store.insertRuns(runs);
    const controller = new AbortController();
    let ticks = 0;
    const timer = setInterval(() => {
      if (++ticks === 2) controller.abort();
    }, 1);
    const report = await cancelRuns(store, body({ before: BASE_TIME + 10_000 }, "event.data.n == 3"), { batchSize: 10, signal: controller.signal, now: NOW });
    clearInterval(timer);
    expect(report.status).toBe("aborted");
    expect(report.outcomes.scanned).toBeLessThan(100_000);
    const resumed = await resumeCancellation(store, report.cancellation.id, { batchSize: 1000 });
    expect(resumed.outcomes.scanned).toBe(100_000);
    expect(resumed.outcomes.cancelled).toBe(10_000);
  });

  it("reports progress: monotone, matched = cancelled + skipped, each state once, the last with the final counts", async () => {
    const store = new MemoryRunStore();
    const runs: RunRecord[] = Array.from({ length: 5000 }, (_, i) => ({
      id: `P${String(i).padStart(5, "0")}`,
      appId: "app",
      functionId: "fn",
      startedAt: BASE_TIME + i,
      status: i % 4 === 0 ? ("completed" as const) : ("running" as const),
      event: { name: "e", data: { k: i % 2 === 0 ? "a" : "b" } },
    }));
    await store.insertRuns(runs);
    const events: CancellationProgress[] = [];
    const report = await cancelRuns(store, body({ after: BASE_TIME, before: BASE_TIME + 9999 }, "event.data.k == 'a'"), {
      batchSize: 100,
      now: NOW,
      onProgress: (p) => events.push(p),
    });
    expect(events.length).toBeGreaterThan(5);
    for (let i = 1; i < events.length; i++) {
      expect(events[i]!.scanned).toBeGreaterThanOrEqual(events[i - 1]!.scanned);
      expect(events[i]!.cancelled).toBeGreaterThanOrEqual(events[i - 1]!.cancelled);
    }
    for (const e of events) {
      expect(e.matched).toBe(e.counts.cancelled + e.counts.skipped_terminal);
      expect(e.cancellationId).toBe(report.cancellation.id);
      expect(e.ratePerSecond).toBeGreaterThanOrEqual(0);
    }
    const last = events[events.length - 1]!;
    expect(last.counts).toEqual(report.outcomes);
    expect(events.some((e) => e.etaSeconds !== undefined && e.etaSeconds > 0)).toBe(true);
    // Each state once: the final checkpoint after the last batch repeats no event (a progress
    // display printed the last line twice).
    for (let i = 1; i < events.length; i++) expect(events[i]!.counts, `event ${i}`).not.toEqual(events[i - 1]!.counts);
  });

  it("rejects a bad body before creating anything, and bad options with typed errors", async () => {
    const store = new MemoryRunStore();
    const error = await cancelRuns(store, { app_id: "app" }, { now: NOW }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toBe("function_id is required\nstarted_before is required");
    expect((await store.listCancellations()).records).toHaveLength(0);
    const ok = body({ before: BASE_TIME });
    for (const batchSize of [0, 100_001, 1.5, Number.NaN]) {
      await expect(cancelRuns(store, ok, { batchSize, now: NOW })).rejects.toThrow(RangeError);
    }
    await expect(cancelRuns(store, ok, { maxRuns: -1, now: NOW })).rejects.toThrow(RangeError);
    await expect(cancelRuns(store, ok, { ratePerSecond: -5, now: NOW })).rejects.toThrow(RangeError);
    await expect(cancelRuns(store, ok, { idempotencyKey: "", now: NOW })).rejects.toThrow(TypeError);
    await expect(cancelRuns(store, ok, { environmentId: "", now: NOW })).rejects.toThrow(TypeError);
    expect((await store.listCancellations()).records).toHaveLength(0);
  });

  it("resume: unknown ids are 404, another environment's ids are unknown, completed jobs come back as they are", async () => {
    const store = new MemoryRunStore();
    await store.insertRuns(makeRuns(10));
    const missing = await resumeCancellation(store, "01HMRMPE5ZQ4AMNJ3S2N79QGRZ").catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(CancellationNotFoundError);
    expect((missing as CancellationNotFoundError).status).toBe(404);
    expect((missing as Error).message).toBe("Cancellation not found");
    const done = await cancelRuns(store, body({ before: BASE_TIME + 10 }), { now: NOW });
    await expect(resumeCancellation(store, done.cancellation.id, { environmentId: "staging" })).rejects.toThrow(CancellationNotFoundError);
    const again = await resumeCancellation(store, done.cancellation.id);
    expect(again.status).toBe("completed");
    expect(again.outcomes).toEqual(done.outcomes);
    expect(again.created).toBe(false);
  });

  it("a store failure marks the job failed and the error reaches the caller; resume finishes it", async () => {
    const store = new MemoryRunStore();
    const runs = makeRuns(40);
    await store.insertRuns(runs);
    let scans = 0;
    const flaky = new HookedStore(store, {
      afterScan: () => {
        if (++scans === 3) throw new Error("disk on fire");
      },
    });
    const error = await cancelRuns(flaky, body({ before: BASE_TIME + 10 }), { batchSize: 4, now: NOW }).catch((e: unknown) => e);
    expect((error as Error).message).toBe("disk on fire");
    const record = (await store.listCancellations()).records[0]!;
    expect(record.status).toBe("failed");
    const resumed = await resumeCancellation(store, record.id, { batchSize: 4 });
    expect(resumed.status).toBe("completed");
    expect(resumed.outcomes.cancelled).toBe(40);
    expect(await cancelledBy(store, runs, record.id)).toHaveLength(40);
  });

  it("the wire record carries Inngest's fields with RFC 3339 millisecond timestamps", async () => {
    const store = new MemoryRunStore();
    const report = await cancelRuns(
      store,
      { app_id: "acme-app", function_id: "schedule-reminder", started_after: "2024-01-21T18:23:12.000Z", started_before: "2024-01-22T14:22:42.130Z", if: "event.data.userId == 'user_o9235hf84hf'" },
      { now: Date.parse("2024-01-22T15:00:00.000Z"), environmentId: "e03843e1-d2df-419e-9b7b-678b03f7398f" },
    );
    expect(report.cancellation).toMatchObject({
      environment_id: "e03843e1-d2df-419e-9b7b-678b03f7398f",
      app_id: "acme-app",
      function_id: "schedule-reminder",
      started_after: "2024-01-21T18:23:12.000Z",
      started_before: "2024-01-22T14:22:42.130Z",
      if: "event.data.userId == 'user_o9235hf84hf'",
      created_at: "2024-01-22T15:00:00.000Z",
      status: "completed",
    });
    expect(report.cancellation.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    // The ULID's time is the creation time.
    expect(decodeTime(report.cancellation.id)).toBe(Date.parse("2024-01-22T15:00:00.000Z"));
    expect(JSON.parse(JSON.stringify(report.cancellation))).toEqual(report.cancellation);
  });
});
