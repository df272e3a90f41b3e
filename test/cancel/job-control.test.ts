/**
 * Control of a running job (`controlCancellation`, the job gate): pause stops a job before its
 * next batch and unpause lets it finish exactly; a rate set while it runs cuts its next batches to
 * the rate's chunks; the controls live in the record (they survive reopening the store) and a
 * resumed paused job waits. The PostgreSQL rate budget grants and refuses by its token bucket.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CancellationNotFoundError, ValidationError } from "../../src/cancel/errors.js";
import { chunkSizeFor, controlCancellation, validateControlRequest } from "../../src/cancel/job-control.js";
import { cancelRuns, resumeCancellation } from "../../src/cancel/planner.js";
import { MemoryRunStore } from "../../src/stores/memory.js";
import { PostgresRunStore } from "../../src/stores/postgres.js";
import { SqliteRunStore } from "../../src/stores/sqlite.js";
import type { CancellationBatch, RunStore } from "../../src/stores/types.js";
import { describePostgres } from "../support/postgres.js";
import { cancelledBy, expectedOutcome, makeRuns, USER } from "../service/helpers.js";

const BASE = Date.parse("2024-06-01T00:00:00.000Z");
const BODY = { app_id: "acme-app", function_id: "schedule-reminder", started_before: "2024-06-02T00:00:00.000Z" };
const dir = mkdtempSync(join(tmpdir(), "cancelkit-control-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Waits until `condition` holds (checked every 10 ms); fails after `timeoutMs`. Not a timing assertion: a bound on a hang. */
async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Counts how often the job re-reads its record (each gate look). */
function countingReads<S extends RunStore>(store: S): { store: S; reads: () => number } {
  let reads = 0;
  const getCancellation = store.getCancellation.bind(store);
  store.getCancellation = (id, environmentId) => {
    reads++;
    return getCancellation(id, environmentId);
  };
  return { store, reads: () => reads };
}

function runsOf(count: number, environmentId = "default") {
  return makeRuns(Array.from({ length: count }, (_, i) => ({ environmentId, startedAt: BASE + i, userId: i % 5 === 0 ? "other" : USER })));
}

const IF_USER = `event.data.userId == '${USER}'`;

describe("validateControlRequest", () => {
  it("accepts paused and rate_per_second, alone or together, and null to lift the rate", () => {
    expect(validateControlRequest({ paused: true })).toEqual({ paused: true });
    expect(validateControlRequest({ paused: false })).toEqual({ paused: false });
    expect(validateControlRequest({ rate_per_second: 2.5 })).toEqual({ ratePerSecond: 2.5 });
    expect(validateControlRequest({ rate_per_second: null, paused: true })).toEqual({ ratePerSecond: null, paused: true });
  });

  it("lists every problem, one per line", () => {
    const problems = (body: unknown): readonly string[] => {
      try {
        validateControlRequest(body);
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        return (error as ValidationError).errors;
      }
      throw new Error("accepted");
    };
    expect(problems(null)).toEqual(["the body must be a JSON object with paused and/or rate_per_second"]);
    expect(problems([])).toEqual(["the body must be a JSON object with paused and/or rate_per_second"]);
    expect(problems({})).toEqual(["give paused and/or rate_per_second"]);
    expect(problems({ paused: "yes", rate_per_second: 0, speed: 1 })).toEqual([
      'unknown field "speed" (expected paused or rate_per_second)',
      "paused must be true or false",
      "rate_per_second must be a number above 0 and at most 1000000000, or null for no limit",
    ]);
    for (const rate of [-1, 0, Number.NaN, Infinity, 2e9, "10"]) expect(problems({ rate_per_second: rate })).toHaveLength(1);
  });
});

describe("controlCancellation", () => {
  it("changes only what the patch names, keeps the other settings, and is scoped by environment", async () => {
    const store = new MemoryRunStore();
    const report = await cancelRuns(store, BODY, { environmentId: "env-a", batchSize: 7, maxRuns: 100, ratePerSecond: 50 });
    const id = report.cancellation.id;
    expect(report.cancellation).toMatchObject({ paused: false, rate_per_second: 50 });
    expect(await controlCancellation(store, id, { paused: true })).toMatchObject({ paused: true, rate_per_second: 50, batch_size: 7, max_runs: 100 });
    expect(await controlCancellation(store, id, { ratePerSecond: 12.5 }, { environmentId: "env-a" })).toMatchObject({ paused: true, rate_per_second: 12.5 });
    expect(await controlCancellation(store, id, { ratePerSecond: null, paused: false })).toMatchObject({ paused: false, rate_per_second: null, batch_size: 7 });
    expect((await store.getCancellation(id))?.settings).toEqual({ batchSize: 7, maxRuns: 100 });
    await expect(controlCancellation(store, id, { paused: true }, { environmentId: "env-b" })).rejects.toBeInstanceOf(CancellationNotFoundError);
    await expect(controlCancellation(store, "01HMRMPE5ZQ4AMNJ3S2N79QGRZ", { paused: true })).rejects.toBeInstanceOf(CancellationNotFoundError);
    await expect(controlCancellation(store, id, { ratePerSecond: -1 })).rejects.toBeInstanceOf(ValidationError);
    await expect(controlCancellation(store, id, {})).rejects.toBeInstanceOf(ValidationError);
  });
});

describe("a running job obeys its stored controls", () => {
  it("pause stops the job before its next batch; unpause lets it finish with exact counts", async () => {
    const { store, reads } = countingReads(new MemoryRunStore());
    const runs = runsOf(3000);
    await store.insertRuns(runs);
    let paused: Promise<unknown> | undefined;
    let readsAtPause = 0;
    const job = cancelRuns(store, { ...BODY, if: IF_USER }, {
      batchSize: 50,
      onBatch: async (batch: CancellationBatch) => {
        if (paused === undefined) {
          paused = controlCancellation(store, batch.cancellationId, { paused: true });
          await paused;
          readsAtPause = reads();
        }
      },
    });
    await waitUntil(() => paused !== undefined);
    const id = ((await paused) as { id: string }).id;
    // The job looks at its record again and again while it waits: at least three looks.
    await waitUntil(() => reads() >= readsAtPause + 4);
    const during = await cancelledBy(store, runs, id);
    // Only the batch that set the pause landed.
    expect(during.size).toBe(50);
    await waitUntil(() => reads() >= readsAtPause + 6);
    expect((await cancelledBy(store, runs, id)).size).toBe(50);
    await controlCancellation(store, id, { paused: false });
    const report = await job;
    const expected = expectedOutcome(runs, { environmentId: "default", appId: "acme-app", functionId: "schedule-reminder", before: Date.parse(BODY.started_before), userId: USER });
    expect(report.status).toBe("completed");
    expect(report.outcomes).toEqual(expected.counts);
    expect(await cancelledBy(store, runs, id)).toEqual(expected.cancel);
  });

  it("a rate set while it runs cuts its next batches to the rate's chunks; lifting it restores full batches", async () => {
    const store = new MemoryRunStore();
    const runs = runsOf(1000);
    await store.insertRuns(runs);
    // Each transaction's size, by the phase the job was in when it was sent.
    const sizes: { size: number; phase: "before" | "limited" | "lifted" }[] = [];
    let phase: "before" | "limited" | "lifted" = "before";
    const commitBatch = store.commitBatch.bind(store);
    store.commitBatch = (batch) => {
      if (batch.runIds.length > 0) sizes.push({ size: batch.runIds.length, phase });
      return commitBatch(batch);
    };
    let limitedBatches = 0;
    const report = await cancelRuns(store, BODY, {
      batchSize: 100,
      onBatch: async (batch) => {
        if (phase === "before") {
          await controlCancellation(store, batch.cancellationId, { ratePerSecond: 150 });
          phase = "limited";
        } else if (phase === "limited" && ++limitedBatches === 3) {
          await controlCancellation(store, batch.cancellationId, { ratePerSecond: null });
          phase = "lifted";
        }
      },
    });
    expect(report.outcomes.cancelled).toBe(1000);
    expect(chunkSizeFor(150, 100)).toBe(75);
    expect(sizes[0]).toEqual({ size: 100, phase: "before" });
    const limited = sizes.filter((s) => s.phase === "limited");
    // Three batches of 100, each cut into 75 + 25.
    expect(limited.map((s) => s.size)).toEqual([75, 25, 75, 25, 75, 25]);
    expect(sizes.filter((s) => s.phase === "lifted").every((s) => s.size === 100)).toBe(true);
    expect(sizes.reduce((sum, s) => sum + s.size, 0)).toBe(1000);
  });

  it("a stored rate of 0 (allowed by the store contract, never written by PATCH) is no limit for the job's own limiter too, not a stall", async () => {
    const store = new MemoryRunStore();
    const runs = runsOf(2000);
    await store.insertRuns(runs);
    let set = false;
    // At 50 runs a second the job would take 40 s; a limiter set to 0 would never finish.
    const report = await cancelRuns(store, BODY, {
      batchSize: 50,
      ratePerSecond: 50,
      signal: AbortSignal.timeout(20_000),
      onBatch: async (batch) => {
        if (set) return;
        set = true;
        expect(await store.updateCancellationSettings(batch.cancellationId, { batchSize: 50, ratePerSecond: 0 })).toBe(true);
      },
    });
    expect(report.status).toBe("completed");
    expect(report.outcomes.cancelled).toBe(runs.filter((r) => r.status !== "completed" && r.status !== "failed" && r.status !== "cancelled" && r.startedAt <= Date.parse(BODY.started_before)).length);
  });

  describe("an exact job (SQLite decides its batches) reads its controls only when they may have changed", () => {
    /** The store's exact batches as the loop sent them: the controls they ran under and what they answered. */
    const exactCalls = (store: SqliteRunStore): { controls: unknown; answer: string }[] => {
      const calls: { controls: unknown; answer: string }[] = [];
      const cancelExactBatch = store.cancelExactBatch.bind(store);
      store.cancelExactBatch = async (batch) => {
        const result = await cancelExactBatch(batch);
        calls.push({ controls: batch.controls, answer: result.ok ? "ok" : result.reason });
        return result;
      };
      return calls;
    };
    const expected = (runs: ReturnType<typeof runsOf>) =>
      expectedOutcome(runs, { environmentId: "default", appId: "acme-app", functionId: "schedule-reminder", before: Date.parse(BODY.started_before), userId: USER });

    /**
     * Runs a job over 2,000 runs that pauses itself after its first batch, waits until the job has
     * looked at its paused record four more times, then checks that only that batch landed,
     * unpauses and checks the exact end. `whilePaused` runs before the unpause.
     */
    const pauseAfterFirstBatch = async (store: SqliteRunStore, reads: () => number, whilePaused: () => void): Promise<void> => {
      const runs = runsOf(2000);
      await store.insertRuns(runs);
      let paused: Promise<{ id: string }> | undefined;
      let first = 0;
      const job = cancelRuns(store, { ...BODY, if: IF_USER }, {
        batchSize: 50,
        onBatch: async (batch) => {
          if (paused === undefined) {
            first = batch.runIds.length;
            paused = controlCancellation(store, batch.cancellationId, { paused: true });
          }
          await paused;
        },
      });
      await waitUntil(() => paused !== undefined);
      const { id } = await paused!;
      const readsAtPause = reads();
      await waitUntil(() => reads() >= readsAtPause + 4);
      expect(first).toBeGreaterThan(0);
      expect((await cancelledBy(store, runs, id)).size).toBe(first);
      whilePaused();
      await controlCancellation(store, id, { paused: false });
      const report = await job;
      expect(report.outcomes).toEqual(expected(runs).counts);
      expect(await cancelledBy(store, runs, id)).toEqual(expected(runs).cancel);
    };

    it("unchanged controls: one read before the first batch, every later batch checked by the store instead", async () => {
      const { store, reads } = countingReads(new SqliteRunStore({ path: join(dir, "exact-reads.db") }));
      const calls = exactCalls(store);
      const runs = runsOf(2000);
      await store.insertRuns(runs);
      const report = await cancelRuns(store, { ...BODY, if: IF_USER }, { batchSize: 50 });
      expect(report.status).toBe("completed");
      expect(report.outcomes).toEqual(expected(runs).counts);
      expect(calls.length).toBeGreaterThan(20);
      expect(calls.every((c) => c.answer === "ok" && JSON.stringify(c.controls) === "{}")).toBe(true);
      // Not one read per batch: the gate's first look, and what the job itself reads around it.
      expect(reads()).toBeLessThan(5);
      await store.close();
    });

    it("a pause set between batches stops the job before its next batch (the store answers controls_changed); unpause finishes it exactly", async () => {
      const { store, reads } = countingReads(new SqliteRunStore({ path: join(dir, "exact-pause.db") }));
      const calls = exactCalls(store);
      // Only the batch that set the pause landed; the next one was refused by the store.
      await pauseAfterFirstBatch(store, reads, () => expect(calls.slice(0, 2).map((c) => c.answer)).toEqual(["ok", "controls_changed"]));
      await store.close();
    });

    it("a store that does not check the controls (an older ExactBatchStore) gets them read before every batch: a pause still stops the job at once", async () => {
      const { store, reads } = countingReads(new SqliteRunStore({ path: join(dir, "exact-older.db") }));
      const cancelExactBatch = store.cancelExactBatch.bind(store);
      let batches = 0;
      store.cancelExactBatch = async (batch) => {
        batches++;
        const { controls: _ignored, ...older } = batch;
        const result = await cancelExactBatch(older);
        if (!result.ok) return result;
        const { controlsChecked: _unsaid, ...answer } = result;
        return answer;
      };
      await pauseAfterFirstBatch(store, reads, () => expect(batches).toBe(1));
      // One read a batch, at least.
      expect(reads()).toBeGreaterThanOrEqual(batches);
      await store.close();
    });

    it("a store that refuses every batch carrying controls (its comparison disagrees with the gate's) still ends the job exactly, after at most three refusals", async () => {
      const { store, reads } = countingReads(new SqliteRunStore({ path: join(dir, "exact-disagrees.db") }));
      const cancelExactBatch = store.cancelExactBatch.bind(store);
      const answers: string[] = [];
      store.cancelExactBatch = async (batch) => {
        if (batch.controls !== undefined) {
          answers.push("controls_changed");
          return { ok: false, reason: "controls_changed" };
        }
        const result = await cancelExactBatch(batch);
        answers.push(result.ok ? "ok" : result.reason);
        return result;
      };
      const runs = runsOf(2000);
      await store.insertRuns(runs);
      const report = await cancelRuns(store, { ...BODY, if: IF_USER }, { batchSize: 50 });
      expect(report.status).toBe("completed");
      expect(report.outcomes).toEqual(expected(runs).counts);
      expect(await cancelledBy(store, runs, report.cancellation.id)).toEqual(expected(runs).cancel);
      expect(answers.slice(0, 3)).toEqual(["controls_changed", "controls_changed", "controls_changed"]);
      expect(answers.slice(3).every((a) => a === "ok")).toBe(true);
      // Then read before every batch, as for a store that does not check them.
      expect(reads()).toBeGreaterThanOrEqual(answers.length - 3);
      await store.close();
    });

    it("a rate set while it runs is read at the next batch and then before every batch; lifting it goes back to the store's check", async () => {
      const store = new SqliteRunStore({ path: join(dir, "exact-rate.db") });
      const calls = exactCalls(store);
      const runs = runsOf(2000);
      await store.insertRuns(runs);
      let batches = 0;
      const report = await cancelRuns(store, { ...BODY, if: IF_USER }, {
        batchSize: 50,
        onBatch: async (batch) => {
          batches++;
          if (batches === 1) await controlCancellation(store, batch.cancellationId, { ratePerSecond: 1_000_000 });
          if (batches === 4) await controlCancellation(store, batch.cancellationId, { ratePerSecond: null });
        },
      });
      expect(report.outcomes).toEqual(expected(runs).counts);
      const shape = calls.slice(0, 8).map((c) => `${c.controls === undefined ? "none" : JSON.stringify(c.controls)} ${c.answer}`);
      expect(shape).toEqual([
        "{} ok", // batch 1, then the rate is set
        "{} controls_changed",
        "none ok", // batches 2–4 under the rate: read before each (its budget is taken before each), sent without controls
        "none ok",
        "none ok", // batch 4, then the rate is lifted
        "{} ok", // batch 5: read, no rate
        "{} ok",
        "{} ok",
      ]);
      await store.close();
    });
  });

  it("the pause is kept in the record: after reopening the file a resumed job waits, and unpausing from another store object lets it finish", async () => {
    const path = join(dir, "paused.db");
    const runs = runsOf(400);
    const first = new SqliteRunStore({ path });
    await first.insertRuns(runs);
    const stopped = new AbortController();
    stopped.abort();
    // Created and stopped at once (an aborted signal): the record stays resumable.
    const created = await cancelRuns(first, BODY, { batchSize: 40, signal: stopped.signal });
    const id = created.cancellation.id;
    await controlCancellation(first, id, { paused: true, ratePerSecond: 1000 });
    await first.close();

    const { store: reopened, reads } = countingReads(new SqliteRunStore({ path }));
    expect((await reopened.getCancellation(id))?.settings).toMatchObject({ paused: true, ratePerSecond: 1000, batchSize: 40 });
    const before = reads();
    const job = resumeCancellation(reopened, id);
    await waitUntil(() => reads() >= before + 4);
    expect((await cancelledBy(reopened, runs, id)).size).toBe(0);
    // The resume kept the pause in the record (it did not write its settings over it).
    expect((await reopened.getCancellation(id))?.settings?.paused).toBe(true);
    const other = new SqliteRunStore({ path });
    await controlCancellation(other, id, { paused: false });
    await other.close();
    const report = await job;
    expect(report.status).toBe("completed");
    expect(report.outcomes.cancelled).toBe(400);
    expect((await cancelledBy(reopened, runs, id)).size).toBe(400);
    await reopened.close();
  });
});

await describePostgres("PostgreSQL rate budget", ({ url, newSchema }) => {
  it("grants while the bucket holds enough, then answers the wait; a rate of 1 a second refills slowly", async () => {
    const store = new PostgresRunStore({ connectionString: url, schema: newSchema() });
    try {
      await store.migrate();
      const report = await cancelRuns(store, BODY, { dryRun: false, signal: AbortSignal.abort() });
      const id = report.cancellation.id;
      // A full bucket of 10 at the start.
      expect(await store.takeRateBudget(id, 10, 1, 10)).toBe(0);
      const wait = await store.takeRateBudget(id, 10, 1, 10);
      // About ten seconds (less the time since the first take): far more than five.
      expect(wait).toBeGreaterThan(5000);
      expect(wait).toBeLessThanOrEqual(10_000);
      // A refused take took nothing: a smaller one still waits for its own share only.
      expect(await store.takeRateBudget(id, 1, 1, 10)).toBeLessThanOrEqual(1000);
      // A job that is gone: granted (its commit finds it gone).
      expect(await store.takeRateBudget("01HMRMPE5ZQ4AMNJ3S2N79QGRZ", 5, 1, 10)).toBe(0);
      await expect(store.takeRateBudget(id, -1, 1, 10)).rejects.toMatchObject({ code: "invalid_option" });
      await expect(store.takeRateBudget(id, 1, 0, 10)).rejects.toMatchObject({ code: "invalid_option" });
      await expect(store.takeRateBudget(id, 1, 1, 0.5)).rejects.toMatchObject({ code: "invalid_option" });
      // Deleting the job deletes its bucket.
      expect(await store.deleteCancellation(id)).toBe(true);
    } finally {
      await store.close();
    }
  });
});
