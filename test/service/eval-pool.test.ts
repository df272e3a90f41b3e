/**
 * The evaluator threads (`EvaluatorPool`) against inline evaluation: the same outcomes, counts and
 * cancelled runs for any runs, window and expression (the differential property), also for values
 * a structured clone must carry (bigint, Date, bytes, Map); a decided page walked by the scan loop
 * exactly as the program's fast loop walks the runs; an abort ends a costly page at once by
 * terminating its thread, and the pool goes on; a closed pool refuses work.
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { cancelRuns } from "../../src/cancel/index.js";
import { decidePageCodes, PageDecisions } from "../../src/cancel/evaluator.js";
import { compileIf } from "../../src/cancel/request.js";
import type { DecisionCounts } from "../../src/expr/program.js";
import { EvaluatorPool } from "../../src/service/eval-pool.js";
import { MemoryRunStore } from "../../src/stores/memory.js";
import type { RunRecord } from "../../src/stores/types.js";
import { BASE_TIME, EXPRESSIONS, body, cancelledBy, runSpecArb, runsFromSpecs, windowArb } from "../cancel/helpers.js";

const NOW = BASE_TIME + 86_400_000;
const pool = new EvaluatorPool({ size: 2, chunkSize: 7 });
afterAll(() => pool.close());

const list = (n: number): string => `[${Array.from({ length: n }, (_, i) => i + 1).join(", ")}]`;
/** About ten milliseconds per run (admissible: 10,000 iterations), never true. */
const COSTLY = `${list(100)}.exists(x, ${list(100)}.exists(y, x * y < 0 && event.data.n == 1.0))`;

function run(i: number, data: Record<string, unknown>, extra: Partial<RunRecord> = {}): RunRecord {
  return { id: `R${String(i).padStart(5, "0")}`, appId: "app", functionId: "fn", startedAt: BASE_TIME - 1000 + i, status: "running", event: { name: "e", data }, ...extra };
}

describe("EvaluatorPool", () => {
  it("decides exactly as inline evaluation: same counts and same cancelled runs (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(runSpecArb, { maxLength: 60 }),
        windowArb,
        fc.constantFrom(...EXPRESSIONS.filter((e): e is string => e !== undefined)),
        fc.integer({ min: 1, max: 9 }),
        async (specs, window, expression, batchSize) => {
          const runs = runsFromSpecs(specs);
          const inline = new MemoryRunStore();
          const threaded = new MemoryRunStore();
          await inline.insertRuns(runs);
          await threaded.insertRuns(runs);
          const a = await cancelRuns(inline, body(window, expression), { now: NOW, batchSize });
          const b = await cancelRuns(threaded, body(window, expression), { now: NOW, batchSize, evaluator: pool });
          expect(b.outcomes).toEqual(a.outcomes);
          expect(b.status).toBe(a.status);
          expect(await cancelledBy(threaded, runs, b.cancellation.id)).toEqual(await cancelledBy(inline, runs, a.cancellation.id));
          const dryA = await cancelRuns(inline, body(window, expression), { now: NOW, batchSize, dryRun: true });
          const dryB = await cancelRuns(threaded, body(window, expression), { now: NOW, batchSize, dryRun: true, evaluator: pool });
          expect(dryB.outcomes).toEqual(dryA.outcomes);
          expect(dryB.sample).toEqual(dryA.sample);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("carries values a structured clone must keep: bigint, Date, bytes, Map, nested lists", async () => {
    const runs = [
      run(0, { big: 7n, at: new Date("2024-01-02T00:00:00Z"), bytes: new Uint8Array([1, 2]), m: new Map([["k", 1]]), l: [[1], [2, 3]] }),
      run(1, { big: 3n, at: new Date("2023-01-02T00:00:00Z"), bytes: new Uint8Array([9]), m: new Map([["j", 1]]), l: [[1]] }),
    ];
    const expressions = ["event.data.big > 5", "event.data.at > timestamp('2024-01-01T00:00:00Z')", "event.data.bytes == b'\\x01\\x02'", "'k' in event.data.m", "size(event.data.l[1]) == 2"];
    for (const expression of expressions) {
      const program = compileIf(expression);
      expect(await pool.decide(program, runs, undefined), expression).toEqual(decidePageCodes(program, runs.map((r) => r.event)));
      expect([...(await pool.decide(program, runs, undefined))], expression).toEqual([1, 0]);
    }
  });

  it("a decided page is walked exactly as the program's fast loop walks the runs, stops included (property)", () => {
    const program = compileIf("event.data.k == 'a' || int(event.data.s) >= 5");
    fc.assert(
      fc.property(fc.array(runSpecArb, { maxLength: 40 }), fc.array(fc.boolean(), { maxLength: 40 }), (specs, stops) => {
        const runs = runsFromSpecs(specs).map((r, i) => (stops[i] === true ? { ...r, cancellationId: "JOB" } : r));
        const binding = { variable: "event", property: "event", stopProperty: "cancellationId", stopValue: "JOB" };
        const decided = new PageDecisions(decidePageCodes(program, runs.map((r) => r.event)));
        const walk = (decider: { decideUntilMatch: PageDecisions["decideUntilMatch"] }): unknown[] => {
          const out: unknown[] = [];
          const counts: DecisionCounts = { noMatch: 0, error: 0, nonBoolean: 0 };
          for (let i = 0; i < runs.length; i++) {
            i = decider.decideUntilMatch(runs, i, binding, counts);
            out.push([i, { ...counts }]);
          }
          return out;
        };
        expect(walk(decided)).toEqual(walk(program));
      }),
    );
  });

  it("an abort ends a costly page at once (its thread is terminated); the pool goes on", async () => {
    const program = compileIf(COSTLY);
    const runs = Array.from({ length: 300 }, (_, i) => run(i, { n: i }));
    const controller = new AbortController();
    const page = pool.decide(program, runs, controller.signal);
    // Let the threads start on it (each chunk of 7 runs takes tens of milliseconds).
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = performance.now();
    controller.abort();
    const error = await page.catch((e: unknown) => e);
    expect((error as Error).name).toBe("AbortError");
    expect(performance.now() - started).toBeLessThan(1000);
    const cheap = compileIf("event.data.n > 1");
    expect([...(await pool.decide(cheap, runs.slice(0, 4), undefined))]).toEqual([0, 0, 1, 1]);
    // Aborted before it starts: rejected at once, nothing queued.
    await expect(pool.decide(cheap, runs, controller.signal)).rejects.toMatchObject({ name: "AbortError" });
  });

  it("a job with the pool stops within a second when aborted in the middle of a costly page", async () => {
    const store = new MemoryRunStore();
    const runs = Array.from({ length: 2000 }, (_, i) => run(i, { n: i }));
    await store.insertRuns(runs);
    const controller = new AbortController();
    const job = cancelRuns(store, { app_id: "app", function_id: "fn", started_before: new Date(BASE_TIME).toISOString(), if: COSTLY }, { now: NOW, signal: controller.signal, evaluator: pool });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const started = performance.now();
    controller.abort();
    const report = await job;
    expect(performance.now() - started).toBeLessThan(1000);
    expect(report.status).toBe("aborted");
    expect(report.outcomes.cancelled).toBe(0);
  });

  it("a closed pool refuses work, and rejects what it was doing", async () => {
    const own = new EvaluatorPool({ size: 1 });
    const program = compileIf(COSTLY);
    const busy = own.decide(program, Array.from({ length: 50 }, (_, i) => run(i, { n: i })), undefined).catch((e: unknown) => e);
    await own.close();
    expect(await busy).toMatchObject({ name: "AbortError" });
    await expect(own.decide(program, [run(0, { n: 1 })], undefined)).rejects.toMatchObject({ name: "AbortError" });
    expect(own.threads).toBe(0);
    expect(() => new EvaluatorPool({ size: 0 })).toThrow(RangeError);
    expect(() => new EvaluatorPool({ chunkSize: 0 })).toThrow(RangeError);
  });
});
