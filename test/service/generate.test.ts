/** The run generator, run files written from it, the demo data set and the progress output. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { CancellationProgress } from "../../src/cancel/planner.js";
import { cancelRuns } from "../../src/cancel/planner.js";
import { DEMO_APP_ID, DEMO_FUNCTION_ID, DEMO_OTHER_RUN_COUNT, DEMO_RUN_COUNT, demoInstructions, demoRequestBody, loadDemoData } from "../../src/service/demo.js";
import { EXAMPLE_USER_ID, GENERATED_FUNCTIONS, generateRuns, writeRunFile } from "../../src/service/generate.js";
import { ProgressReporter, formatDuration, formatProgressBar, formatProgressLine } from "../../src/service/progress.js";
import { MemoryRunStore } from "../../src/stores/memory.js";
import { readRunFile } from "../../src/formats/msgpack.js";
import { normalizeRunRecord } from "../../src/stores/checks.js";
import { type RunRecord } from "../../src/stores/types.js";
import { expectedOutcome } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "cancelkit-generate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const END = Date.parse("2024-06-01T12:00:00.000Z");

describe("generateRuns", () => {
  it("is deterministic, ordered, valid, and spread over functions, users and statuses", () => {
    const runs = [...generateRuns({ count: 5000, seed: 42, end: END, spanMs: 3 * 86_400_000 })];
    const again = [...generateRuns({ count: 5000, seed: 42, end: END, spanMs: 3 * 86_400_000 })];
    expect(again).toEqual(runs);
    expect([...generateRuns({ count: 50, seed: 43, end: END })]).not.toEqual(runs.slice(0, 50));
    expect(new Set(runs.map((run) => run.id)).size).toBe(runs.length);
    for (let i = 0; i < runs.length; i++) {
      const run = runs[i]!;
      // Every run passes the stores' validation, and its ULID carries its start time.
      expect(() => normalizeRunRecord(run)).not.toThrow();
      expect(run.startedAt).toBeGreaterThanOrEqual(END - 3 * 86_400_000);
      expect(run.startedAt).toBeLessThanOrEqual(END);
      if (i > 0) expect(run.startedAt).toBeGreaterThanOrEqual(runs[i - 1]!.startedAt);
    }
    const functions = new Set(runs.map((run) => `${run.appId}/${run.functionId}`));
    expect(functions.size).toBe(GENERATED_FUNCTIONS.length);
    const example = runs.filter((run) => (run.event.data as { userId?: string }).userId === EXAMPLE_USER_ID).length;
    expect(example / runs.length).toBeGreaterThan(0.03);
    expect(example / runs.length).toBeLessThan(0.1);
    const statuses = new Set(runs.map((run) => run.status));
    for (const status of ["completed", "failed", "sleeping", "running", "queued"]) expect(statuses.has(status as RunRecord["status"])).toBe(true);
    // Older runs have mostly finished.
    const finished = (list: RunRecord[]) => list.filter((run) => ["completed", "failed", "cancelled"].includes(run.status)).length / list.length;
    expect(finished(runs.slice(0, 1000))).toBeGreaterThan(finished(runs.slice(-1000)));
  });

  it("rejects bad options", () => {
    expect(() => [...generateRuns({ count: -1 })]).toThrow(RangeError);
    expect(() => [...generateRuns({ count: 1, functions: ["nope"] })]).toThrow(/no such generated function/);
  });

  it("writes MessagePack and JSON Lines files that read back equal", async () => {
    const runs = [...generateRuns({ count: 3000, seed: 7, end: END, environmentId: "gen" })];
    for (const name of ["runs.msgpack", "runs.jsonl"]) {
      const path = join(dir, name);
      expect(await writeRunFile(path, runs)).toEqual({ written: 3000 });
      const back: RunRecord[] = [];
      for await (const run of readRunFile(path)) back.push(run);
      expect(back).toEqual(runs.map((run) => normalizeRunRecord(run)));
    }
    await expect(writeRunFile(join(dir, "missing-dir", "x.msgpack"), runs)).rejects.toThrow();
  });
});

describe("demo data", () => {
  it("loads once, and the printed request cancels exactly the oracle's runs", async () => {
    const store = new MemoryRunStore();
    const now = END;
    const load = await loadDemoData(store, { environmentId: "dev", now });
    expect(load).toEqual({ loaded: true, inserted: DEMO_RUN_COUNT + DEMO_OTHER_RUN_COUNT });
    expect(await loadDemoData(store, { environmentId: "dev", now })).toEqual({ loaded: false, inserted: 0 });
    expect(store.runCount).toBe(DEMO_RUN_COUNT + DEMO_OTHER_RUN_COUNT);

    const body = demoRequestBody(now);
    const runs: RunRecord[] = [];
    for (let after: { startedAt: number; id: string } | undefined; ; ) {
      const page = await store.scanRuns({ environmentId: "dev", appId: DEMO_APP_ID, functionId: DEMO_FUNCTION_ID, startedBefore: now, limit: 1000, ...(after ? { after } : {}) });
      runs.push(...page.runs);
      if (page.next === undefined) break;
      after = page.next;
    }
    expect(runs.length).toBe(DEMO_RUN_COUNT);
    const expected = expectedOutcome(runs, {
      environmentId: "dev",
      appId: DEMO_APP_ID,
      functionId: DEMO_FUNCTION_ID,
      after: Date.parse(body["started_after"]!),
      before: Date.parse(body["started_before"]!),
      userId: EXAMPLE_USER_ID,
    });
    // Interesting counts: some to cancel, some already finished, most of other users, some outside the window.
    expect(expected.counts.cancelled).toBeGreaterThan(50);
    expect(expected.counts.skipped_terminal).toBeGreaterThan(5);
    expect(expected.counts.scanned).toBeLessThan(DEMO_RUN_COUNT);
    const report = await cancelRuns(store, body, { environmentId: "dev", now });
    expect(report.outcomes).toEqual(expected.counts);

    const text = demoInstructions({ url: "http://127.0.0.1:8288", key: "signkey-dev-0", body, expected: report.outcomes });
    expect(text).toContain("curl -X POST http://127.0.0.1:8288/v1/cancellations \\");
    expect(text).toContain('-H "Authorization: Bearer signkey-dev-0"');
    expect(text).toContain('-H "Content-Type: application/json"');
    // The heredoc carries the body unchanged: what is between the markers is the JSON body.
    const heredoc = text.slice(text.indexOf("<<'JSON'\n") + 9, text.indexOf("\nJSON\n"));
    expect(JSON.parse(heredoc)).toEqual(body);
    expect(body["if"]).toBe("event.data.userId == 'user_o9235hf84hf'");
    expect(text).toContain("/v1/cancellations/ID");
  });
});

describe("progress output", () => {
  const progress = (over: Partial<CancellationProgress>): CancellationProgress => ({
    cancellationId: "01HMRMPE5ZQ4AMNJ3S2N79QGRZ",
    scanned: 1000,
    matched: 120,
    cancelled: 100,
    counts: { scanned: 1000, cancelled: 100, skipped_terminal: 20, not_matched: 880, expression_error: 0, non_boolean: 0 },
    ratePerSecond: 50,
    scannedPerSecond: 500,
    etaSeconds: 6,
    elapsedMs: 2000,
    ...over,
  });

  it("formats plain lines and the terminal bar", () => {
    expect(formatProgressLine(progress({}))).toBe("progress: scanned=1000 matched=120 cancelled=100 rate=500/s eta=6s");
    expect(formatProgressLine(progress({ etaSeconds: undefined }))).toContain("eta=?");
    expect(formatDuration(185)).toBe("3m05s");
    expect(formatDuration(3725)).toBe("1h02m");
    const bar = formatProgressBar(progress({ scanned: 1_234_567 }), 20);
    // 2 s elapsed, 6 s to go: a quarter done.
    expect(bar).toMatch(/^█{5}░{15}  25%  scanned 1,234,567  cancelled 100  500 runs\/s  ETA 6s$/);
  });

  it("throttles plain lines, redraws one line on a terminal, and flushes the last event", () => {
    const plain: string[] = [];
    const reporter = new ProgressReporter({ stream: { write: (text: string) => plain.push(text) }, tty: false, intervalMs: 60_000 });
    reporter.update(progress({ scanned: 1 }));
    reporter.update(progress({ scanned: 2 }));
    reporter.update(progress({ scanned: 3 }));
    reporter.finish();
    expect(plain).toEqual([`${formatProgressLine(progress({ scanned: 1 }))}\n`, `${formatProgressLine(progress({ scanned: 3 }))}\n`]);

    const tty: string[] = [];
    const bar = new ProgressReporter({ stream: { write: (text: string) => tty.push(text), isTTY: true, columns: 120 }, intervalMs: 0 });
    bar.update(progress({}));
    bar.update(progress({ etaSeconds: 0 }));
    bar.finish();
    expect(tty.length).toBe(3);
    expect(tty[0]).toMatch(/^\r.*\x1b\[K$/);
    expect(tty[1]).toContain("100%");
    expect(tty[2]).toBe("\n");
  });
});
