/**
 * Exact pushdown, differentially: a job whose `if` translates into SQL exactly runs as one store
 * statement per batch (`cancelExactBatch`); the same job through the scan loop (the store's exact
 * batches hidden, the superset prefilter kept) must cancel the same runs with the same counts,
 * on SQLite and PostgreSQL — over a corpus of filters on realistic runs, over generated
 * expressions and events (fast-check), and through `maxRuns`, rate limits, aborts, deletion and
 * a crash between statements.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cancelRuns, resumeCancellation, type CancelOptions, type CancellationReport } from "../../src/cancel/index.js";
import { planPushdown } from "../../src/cancel/pushdown-plan.js";
import { compile } from "../../src/expr/program.js";
import { normalizeRunRecord } from "../../src/stores/checks.js";
import { PostgresRunStore } from "../../src/stores/postgres.js";
import { SqliteRunStore } from "../../src/stores/sqlite.js";
import { supportsExactBatches, type RunRecord, type RunStatus, type RunStore } from "../../src/stores/types.js";
import { describePostgres } from "../support/postgres.js";
import { eventArb, expression } from "../support/pushdown-arbitraries.js";
import { generateRuns } from "../stores/fixtures.js";
import { BASE_TIME, body, cancelledBy, oracle, oracleCounts } from "./helpers.js";
import { withoutExactBatches } from "../support/without-exact.js";

/** Filters every SQL store decides exactly: equality, `in`, ranges, string tests, `has`, sizes, negation, no `if`. */
const CORPUS: readonly (string | undefined)[] = [
  undefined,
  "event.data.plan == 'pro'",
  "event.data.plan == 'pro' && event.data.region != 'sa-east-1'",
  "event.data.region in ['eu-west-1', 'us-east-1'] || event.data.amount > 400.0",
  "event.data.amount >= 100 && event.data.amount < 250",
  "event.name.startsWith('app/') && event.data.customerId.endsWith('7')",
  "event.data.address.city.contains('京')",
  "has(event.data.coupon) && event.data.coupon == null",
  "'beta' in event.data.tags",
  "!(event.data.plan == 'free') && event.user.verified == true",
  "event.data.missing == null",
  "event.data.items > 2",
  "false",
];

/** Runs of a realistic shape over three functions; all statuses; many share a millisecond. */
function corpusRuns(seed: number, count = 600): RunRecord[] {
  return generateRuns({ count, seed, functionId: ["fn", "fn", "other"], spreadMs: 400 });
}

const WINDOW = { after: BASE_TIME + 20, before: BASE_TIME + 380 };
const NOW = BASE_TIME + 86_400_000;

/** The store counting its exact batches. */
function counting(store: RunStore): { store: RunStore; readonly batches: () => number } {
  let batches = 0;
  const proxy = new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      const method = (value as (...args: unknown[]) => unknown).bind(target);
      if (property !== "cancelExactBatch") return method;
      return (...args: unknown[]) => {
        batches++;
        return method(...args);
      };
    },
  });
  return { store: proxy, batches: () => batches };
}

/** The same runs under another function and id prefix: one store holds both paths' data. */
function copyTo(runs: readonly RunRecord[], functionId: string, prefix: string): RunRecord[] {
  return runs.map((run) => ({ ...run, id: `${prefix}${run.id}`, functionId }));
}

interface PathResult {
  readonly report: CancellationReport;
  /** Ids the job cancelled, without the copy's prefix. */
  readonly cancelled: readonly string[];
}

async function runPath(store: RunStore, runs: readonly RunRecord[], fn: string, expression: string | undefined, options: CancelOptions): Promise<PathResult> {
  const report = await cancelRuns(store, body(WINDOW, expression, fn), { now: NOW, ...options });
  const ids = await cancelledBy(store, runs, report.cancellation.id);
  return { report, cancelled: ids.map((id) => id.slice(2)) };
}

/**
 * Runs one job both ways over copies of `runs` and expects the same outcome: same cancelled runs,
 * same counts, same status; the exact path must have used the store's exact batches.
 */
async function expectSameBothWays(store: RunStore, runs: readonly RunRecord[], expression: string | undefined, options: CancelOptions = {}): Promise<PathResult> {
  const exactRuns = copyTo(runs, "fx", "x-");
  const closureRuns = copyTo(runs, "fc", "c-");
  await store.insertRuns([...exactRuns, ...closureRuns]);
  const exact = counting(store);
  const viaExact = await runPath(exact.store, exactRuns, "fx", expression, options);
  const viaClosure = await runPath(withoutExactBatches(store), closureRuns, "fc", expression, options);
  const label = `if: ${String(expression)}, options: ${JSON.stringify({ ...options, signal: undefined })}`;
  expect(exact.batches(), label).toBeGreaterThan(0);
  expect(viaExact.report.outcomes, label).toEqual(viaClosure.report.outcomes);
  expect(viaExact.report.status, label).toBe(viaClosure.report.status);
  expect(viaExact.cancelled, label).toEqual(viaClosure.cancelled);
  const stored = await store.getCancellation(viaExact.report.cancellation.id);
  expect(stored?.counts, label).toEqual(viaExact.report.outcomes);
  return viaExact;
}

/** The suite, for one store kind. */
function describeExactPushdown(makeStore: () => Promise<RunStore>): void {
  it("the corpus of exact filters: same runs and counts as the scan loop and the oracle, at batch sizes 2, 25 and 1000", async () => {
    const runs = corpusRuns(11, 300);
    for (const expression of CORPUS) {
      const program = expression === undefined ? undefined : compile(expression, { dialect: "inngest" });
      expect(planPushdown(program).exact, `exact: ${String(expression)}`).toBeDefined();
      for (const batchSize of [2, 25, 1000]) {
        const store = await makeStore();
        try {
          const result = await expectSameBothWays(store, runs, expression, { batchSize });
          const entries = oracle(copyTo(runs, "fx", "x-"), { ...WINDOW, ...(expression !== undefined ? { expression } : {}), functionId: "fx" });
          expect(result.report.status).toBe("completed");
          expect(result.report.outcomes).toEqual(oracleCounts(entries));
          expect(result.cancelled).toEqual(entries.filter((e) => e.expected === "cancel").map((e) => e.run.id.slice(2)).sort());
        } finally {
          await store.close();
        }
      }
    }
  }, 240_000);

  it("generated expressions and events: an exact translation cancels what the scan loop cancels, with the same counts", async () => {
    const statuses: RunStatus[] = ["queued", "running", "sleeping", "waiting", "completed", "failed", "cancelled"];
    const runArb = fc.record({ event: eventArb, status: fc.constantFrom(...statuses), at: fc.integer({ min: 0, max: 40 }) });
    let exactCases = 0;
    await fc.assert(
      fc.asyncProperty(expression, fc.array(runArb, { minLength: 5, maxLength: 40 }), fc.integer({ min: 1, max: 9 }), async (source, drafts, batchSize) => {
        let program;
        try {
          program = compile(source, { dialect: "inngest" });
        } catch {
          return;
        }
        if (planPushdown(program).exact === undefined) return;
        exactCases++;
        const runs: RunRecord[] = [];
        drafts.forEach((d, i) => {
          try {
            runs.push(normalizeRunRecord({ id: `r${String(i).padStart(3, "0")}`, appId: "app", functionId: "fn", startedAt: BASE_TIME + 20 + d.at * 8, status: d.status, event: d.event }));
          } catch {
            // An event the stores refuse (a lone surrogate): not a run.
          }
        });
        const store = await makeStore();
        try {
          await expectSameBothWays(store, runs, source, { batchSize });
        } finally {
          await store.close();
        }
      }),
      { numRuns: 120 },
    );
    expect(exactCases).toBeGreaterThan(20);
  }, 240_000);

  it("events SQL cannot read (a NUL character: PostgreSQL keeps them as json) are decided one by one, with the same result", async () => {
    const runs = corpusRuns(17, 300).map((run, i) =>
      i % 3 === 0 ? { ...run, event: { ...run.event, data: { ...run.event.data, plan: i % 2 === 0 ? "pro" : "a\u0000b" } } } : run,
    );
    for (const batchSize of [1, 10]) {
      const store = await makeStore();
      try {
        await expectSameBothWays(store, runs, "event.data.plan == 'pro'", { batchSize });
        await expectSameBothWays(store, copyTo(runs, "fn", "n-"), undefined, { batchSize });
      } finally {
        await store.close();
      }
    }
  }, 60_000);

  it("maxRuns and a rate limit: the exact path stops where the scan loop stops, with the same counts", async () => {
    const runs = corpusRuns(12, 400);
    for (const maxRuns of [0, 1, 5, 33, 10_000]) {
      for (const expression of [undefined, "event.data.plan != 'free'"]) {
        const store = await makeStore();
        try {
          await expectSameBothWays(store, runs, expression, { batchSize: 7, maxRuns });
        } finally {
          await store.close();
        }
      }
    }
    const store = await makeStore();
    try {
      const result = await expectSameBothWays(store, runs, "event.data.plan == 'pro'", { batchSize: 10, ratePerSecond: 100_000 });
      expect(result.report.status).toBe("completed");
    } finally {
      await store.close();
    }
  }, 120_000);

  it("an abort between batches stops the job resumably; resuming ends exactly like an uninterrupted run", async () => {
    const runs = corpusRuns(13, 500);
    const expression = "event.data.region != 'ap-south-1'";
    const store = await makeStore();
    try {
      const straight = await expectSameBothWays(store, runs, expression, { batchSize: 20 });
      const copy = copyTo(runs, "fa", "a-");
      await store.insertRuns(copy);
      const controller = new AbortController();
      let batches = 0;
      const first = await cancelRuns(store, body(WINDOW, expression, "fa"), {
        now: NOW,
        batchSize: 20,
        signal: controller.signal,
        onBatch: () => {
          if (++batches === 3) controller.abort();
        },
      });
      expect(first.status).toBe("aborted");
      expect(first.outcomes.cancelled).toBeGreaterThan(0);
      expect(first.outcomes.cancelled).toBeLessThan(straight.report.outcomes.cancelled);
      const resumed = await resumeCancellation(store, first.cancellation.id);
      expect(resumed.status).toBe("completed");
      expect(resumed.outcomes).toEqual(straight.report.outcomes);
      expect((await cancelledBy(store, copy, first.cancellation.id)).map((id) => id.slice(2))).toEqual(straight.cancelled);
    } finally {
      await store.close();
    }
  }, 60_000);

  it("deleting the record stops the job at its next batch; what it cancelled stays cancelled", async () => {
    const runs = corpusRuns(14, 500);
    const store = await makeStore();
    try {
      await store.insertRuns(runs);
      let batches = 0;
      let cancelledBeforeDelete = 0;
      const report = await cancelRuns(store, body(WINDOW), {
        now: NOW,
        batchSize: 10,
        onBatch: async (batch) => {
          cancelledBeforeDelete += batch.runIds.length;
          if (++batches === 2) expect(await store.deleteCancellation(batch.cancellationId)).toBe(true);
        },
      });
      expect(report.status).toBe("deleted");
      expect(batches).toBe(2);
      expect(await cancelledBy(store, runs, report.cancellation.id)).toHaveLength(cancelledBeforeDelete);
    } finally {
      await store.close();
    }
  }, 60_000);

  it("a crash between two statements (nothing after the last batch reaches the store) resumes without double counting", async () => {
    const runs = corpusRuns(15, 600);
    const expression = "event.data.plan != 'enterprise'";
    const store = await makeStore();
    try {
      const straight = await expectSameBothWays(store, runs, expression, { batchSize: 15 });
      const copy = copyTo(runs, "fk", "k-");
      await store.insertRuns(copy);
      // The process "dies" after its fourth batch: every later call fails, so no checkpoint follows.
      let calls = 0;
      const dying = new Proxy(store, {
        get(target, property) {
          const value: unknown = Reflect.get(target, property, target);
          if (typeof value !== "function") return value;
          const method = (value as (...args: unknown[]) => unknown).bind(target);
          if (property !== "cancelExactBatch" && property !== "commitBatch" && property !== "updateCancellation") return method;
          return (...args: unknown[]) => (property === "cancelExactBatch" && ++calls <= 4 ? method(...args) : Promise.reject(new Error("killed")));
        },
      });
      await expect(cancelRuns(dying, body(WINDOW, expression, "fk"), { now: NOW, batchSize: 15 })).rejects.toThrow("killed");
      const [record] = (await store.listCancellations()).records.filter((r) => r.functionId === "fk");
      expect(record!.status).toBe("running");
      expect(record!.counts.cancelled).toBeGreaterThan(0);
      const resumed = await resumeCancellation(store, record!.id);
      expect(resumed.outcomes).toEqual(straight.report.outcomes);
      expect((await cancelledBy(store, copy, record!.id)).map((id) => id.slice(2))).toEqual(straight.cancelled);
    } finally {
      await store.close();
    }
  }, 60_000);

  it("a job the scan loop began and crashed (runs cancelled past its checkpoint) finishes exactly on the exact path", async () => {
    const runs = corpusRuns(16, 500);
    const expression = "event.data.plan == 'pro' || event.data.items > 3";
    const store = await makeStore();
    try {
      const straight = await expectSameBothWays(store, runs, expression, { batchSize: 25 });
      const copy = copyTo(runs, "fs", "s-");
      await store.insertRuns(copy);
      // The scan loop's checkpoint lags one batch behind the runs it cancelled; it "dies" after
      // its third commit, so the runs of that batch are cancelled past the saved cursor.
      let commits = 0;
      const dying = new Proxy(withoutExactBatches(store), {
        get(target, property) {
          const value: unknown = Reflect.get(target, property, target);
          if (property !== "commitBatch" || typeof value !== "function") return value;
          const method = value as (...args: unknown[]) => unknown;
          return (...args: unknown[]) => (++commits <= 3 ? method(...args) : Promise.reject(new Error("killed")));
        },
      });
      await expect(cancelRuns(dying, body(WINDOW, expression, "fs"), { now: NOW, batchSize: 25 })).rejects.toThrow("killed");
      const [record] = (await store.listCancellations()).records.filter((r) => r.functionId === "fs");
      const marked = await cancelledBy(store, copy, record!.id);
      expect(marked.length).toBeGreaterThan(record!.counts.cancelled);
      const counting_ = counting(store);
      const resumed = await resumeCancellation(counting_.store, record!.id);
      expect(counting_.batches()).toBeGreaterThan(0);
      expect(resumed.outcomes).toEqual(straight.report.outcomes);
      expect((await cancelledBy(store, copy, record!.id)).map((id) => id.slice(2))).toEqual(straight.cancelled);
    } finally {
      await store.close();
    }
  }, 60_000);
}

describe("exact pushdown (SQLite)", () => {
  it("the store offers exact batches", () => {
    expect(supportsExactBatches(new SqliteRunStore({ path: ":memory:" }))).toBe(true);
  });
  describeExactPushdown(async () => new SqliteRunStore({ path: ":memory:" }));
});

describe("exact pushdown (SQLite, batches read in steps of 3 runs)", () => {
  describeExactPushdown(async () => new SqliteRunStore({ path: ":memory:", exactChunkRows: 3 }));
});

await describePostgres("exact pushdown (PostgreSQL)", ({ url, newSchema }) => {
  describeExactPushdown(async () => {
    const store = new PostgresRunStore({ connectionString: url, schema: newSchema(), poolSize: 3 });
    await store.migrate();
    return store;
  });
});
