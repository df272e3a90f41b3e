/**
 * The planner's handling of pages a store prefiltered (`ScanPage.prefiltered`): hints are injected
 * through the planner's single pushdown seam, and SQLite applies them for real.
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { cancelRuns, resumeCancellation } from "../../src/cancel/index.js";
import { MemoryRunStore } from "../../src/stores/memory.js";
import { SqliteRunStore } from "../../src/stores/sqlite.js";
import { compareCursor, type RunRecord, type RunStore, type ScanPage } from "../../src/stores/types.js";
import { BASE_TIME, HookedStore, atOrBefore, body, cancelledBy, oracle, oracleCounts, runSpecArb, runsFromSpecs } from "./helpers.js";

vi.mock("../../src/cancel/pushdown-plan.js", () => {
  // Hints that drop only runs the expression decides `false` (k never 'a', s '1' or '4'): a run
  // whose s is 'x' is kept, since `int('x')` is an error and an error is not `false`.
  const kIsA = { k: "atom", atom: { k: "str", path: ["data", "k"], op: "==", value: "a" }, size: 1 };
  const sIs7 = { k: "atom", atom: { k: "str", path: ["data", "s"], op: "==", value: "7" }, size: 1 };
  const sIsX = { k: "atom", atom: { k: "str", path: ["data", "s"], op: "==", value: "x" }, size: 1 };
  const hints: Record<string, { predicate: unknown }> = {
    "event.data.k == 'a'": { predicate: kIsA },
    "event.data.k == 'a' || int(event.data.s) >= 5": { predicate: { k: "or", xs: [kIsA, sIs7, sIsX], size: 4 } },
  };
  return {
    planPushdown: (program: { source: string } | undefined) => {
      const hint = program === undefined ? undefined : hints[program.source];
      return hint === undefined ? { coverage: "none" } : { hint, coverage: program!.source.includes("||") ? "partial" : "full" };
    },
  };
});

const EXPRESSIONS = ["event.data.k == 'a'", "event.data.k == 'a' || int(event.data.s) >= 5"];
const NOW = BASE_TIME + 86_400_000;

/** A memory store that honours the same hints, as a SQL store would. */
function emulatingPrefilter(inner: RunStore): HookedStore {
  return new HookedStore(inner, {
    afterScan: (query, page): ScanPage => {
      const predicate = query.pushdown?.predicate;
      if (predicate === undefined) return page;
      const keep = (run: RunRecord): boolean => {
        const data = run.event.data as { k?: string; s?: string };
        return data.k === "a" || (predicate.k === "or" && (data.s === "7" || data.s === "x"));
      };
      const runs = page.runs.filter(keep);
      // Like a SQL store, `next` stays the end of what was read, even if its last rows were dropped.
      return { runs, ...(page.next !== undefined ? { next: page.next } : {}), prefiltered: page.runs.length - runs.length };
    },
  });
}

const STORES: readonly { name: string; make: () => { store: RunStore; inner: RunStore } }[] = [
  {
    name: "sqlite (real pushdown)",
    make: () => {
      const inner = new SqliteRunStore({ path: ":memory:" });
      return { store: new HookedStore(inner), inner };
    },
  },
  {
    name: "memory (emulated pushdown)",
    make: () => {
      const inner = new MemoryRunStore();
      return { store: emulatingPrefilter(inner), inner };
    },
  },
];

for (const { name, make } of STORES) {
  describe(`prefiltered pages on ${name}`, () => {
    it("counts dropped rows as not_matched, saves only consistent checkpoints, cancels the oracle's set", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(runSpecArb, { maxLength: 80, size: "max" }),
          fc.constantFrom(...EXPRESSIONS),
          fc.integer({ min: 1, max: 7 }),
          async (specs, expression, batchSize) => {
            const runs = runsFromSpecs(specs);
            const { store, inner } = make();
            await inner.insertRuns(runs);
            const window = { before: BASE_TIME + 10 };
            const expected = oracle(runs, { ...window, expression });
            const hooked = new HookedStore(store, {
              beforeCommit: (batch) => {
                const prefix = expected.filter((e) => atOrBefore(e.run, batch.checkpoint.cursor));
                expect(batch.checkpoint.counts).toEqual(oracleCounts(prefix));
              },
            });
            const report = await cancelRuns(hooked, body(window, expression), { batchSize, now: NOW });
            expect(report.pushdown).not.toBe("none");
            expect(report.outcomes).toEqual(oracleCounts(expected));
            expect(await cancelledBy(inner, runs, report.cancellation.id)).toEqual(
              expected.filter((e) => e.expected === "cancel").map((e) => e.run.id).sort(),
            );
            await inner.close();
          },
        ),
        { numRuns: 60 },
      );
    });

    it("a maxRuns stop inside a prefiltered page re-reads it unfiltered and stops exactly", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(runSpecArb, { maxLength: 80, size: "max" }),
          fc.constantFrom(...EXPRESSIONS),
          fc.integer({ min: 1, max: 7 }),
          fc.integer({ min: 0, max: 10 }),
          async (specs, expression, batchSize, maxRuns) => {
            const runs = runsFromSpecs(specs);
            const { store, inner } = make();
            await inner.insertRuns(runs);
            const window = { before: BASE_TIME + 10 };
            const expected = oracle(runs, { ...window, expression });
            const toCancel = expected.filter((e) => e.expected === "cancel");
            const report = await cancelRuns(store, body(window, expression), { batchSize, maxRuns, now: NOW });
            if (toCancel.length > maxRuns) {
              expect(report.status).toBe("stopped_max_runs");
              const next = toCancel[maxRuns]!.run;
              const stored = (await inner.getCancellation(report.cancellation.id))!;
              expect(stored.counts).toEqual(oracleCounts(expected.filter((e) => compareCursor(e.run, next) < 0)));
              // The cap is stored with the job: the resume raises it.
              const rest = await resumeCancellation(store, report.cancellation.id, { batchSize, maxRuns: toCancel.length });
              expect(rest.status).toBe("completed");
            }
            const final = (await inner.getCancellation(report.cancellation.id))!;
            expect(final.status).toBe("completed");
            expect(final.counts).toEqual(oracleCounts(expected));
            expect(await cancelledBy(inner, runs, report.cancellation.id)).toEqual(toCancel.map((e) => e.run.id).sort());
            await inner.close();
          },
        ),
        { numRuns: 60 },
      );
    });

    it("a crash with a lost acknowledgement on prefiltered pages resumes to the uninterrupted result", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(runSpecArb, { minLength: 1, maxLength: 80, size: "max" }),
          fc.constantFrom(...EXPRESSIONS),
          fc.integer({ min: 1, max: 5 }),
          fc.integer({ min: 0, max: 6 }),
          async (specs, expression, batchSize, crashAt) => {
            const runs = runsFromSpecs(specs);
            const { store, inner } = make();
            await inner.insertRuns(runs);
            const window = { before: BASE_TIME + 10 };
            const expected = oracle(runs, { ...window, expression });
            let commits = 0;
            let dead = false;
            const crashing = new HookedStore(store, {
              beforeCommit: () => {
                if (dead) throw new Error("process gone");
              },
              afterCommit: () => {
                if (commits++ === crashAt) {
                  dead = true;
                  throw new Error("simulated crash");
                }
              },
            });
            await cancelRuns(crashing, body(window, expression), { batchSize, now: NOW }).catch(() => undefined);
            const id = (await inner.listCancellations()).records[0]!.id;
            const final = await resumeCancellation(store, id, { batchSize });
            expect(final.status).toBe("completed");
            expect(final.outcomes).toEqual(oracleCounts(expected));
            expect(await cancelledBy(inner, runs, id)).toEqual(expected.filter((e) => e.expected === "cancel").map((e) => e.run.id).sort());
            await inner.close();
          },
        ),
        { numRuns: 60 },
      );
    });
  });
}
