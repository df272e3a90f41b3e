/**
 * Restart and resume: a server is shut down gracefully in the middle of a slow job; a new server on
 * the same SQLite file resumes it from its checkpoint and finishes with exact counts, as an
 * uninterrupted job would.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SqliteRunStore } from "../../src/stores/sqlite.js";
import { call, cancelledBy, expectedOutcome, makeRuns, pollCancellation, readEvents, startServer, USER } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "cancelkit-service-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEY = "signkey-test-resume";
const KEYS = { [KEY]: "env-r" };
const BASE = Date.parse("2024-05-01T00:00:00.000Z");

describe("restart and resume", () => {
  it("a job stopped by a shutdown resumes on the next start and ends with exact counts", async () => {
    const path = join(dir, "resume.db");
    const runs = makeRuns(
      Array.from({ length: 2400 }, (_, i) => ({
        environmentId: "env-r",
        // Groups of three runs share a millisecond, so that page boundaries fall inside ties.
        startedAt: BASE + Math.floor(i / 3),
        userId: i % 4 === 0 ? "user_other" : USER,
        status: i % 9 === 0 ? ("completed" as const) : ("running" as const),
      })),
    );
    const seeding = new SqliteRunStore({ path });
    await seeding.insertRuns(runs);
    await seeding.close();
    const body = { app_id: "acme-app", function_id: "schedule-reminder", started_before: "2024-05-02T00:00:00.000Z", if: `event.data.userId == '${USER}'` };
    const expected = expectedOutcome(runs, { environmentId: "env-r", appId: "acme-app", functionId: "schedule-reminder", before: Date.parse(body.started_before), userId: USER });

    // First server: slow (300 runs a second, batches of 50).
    const first = await startServer({ store: new SqliteRunStore({ path }), closeStore: true, keys: KEYS, ratePerSecond: 300, batchSize: 50, eventIntervalMs: 0 });
    const created = (await call(`${first.url}/v1/cancellations`, KEY, { body })).json;
    const streamed = readEvents(`${first.url}/v1/cancellations/${created.id}/events`, KEY);
    await pollCancellation(first.url, KEY, created.id, (record) => record.counts.cancelled >= 400);
    await first.server.close();
    // The open event stream was told, and ended.
    const events = (await streamed).events;
    expect(events[events.length - 1]!.event).toBe("interrupted");
    expect(events[events.length - 1]!.data.status).toBe("running");

    // Between the two servers: saved as running (resumable) with a partial checkpoint.
    const between = new SqliteRunStore({ path });
    const saved = (await between.getCancellation(created.id))!;
    expect(saved.status).toBe("running");
    expect(saved.counts.cancelled).toBeGreaterThanOrEqual(300);
    expect(saved.counts.cancelled).toBeLessThan(expected.counts.cancelled);
    expect(saved.cursor).toBeDefined();
    const partial = await cancelledBy(between, runs, created.id);
    expect(partial.size).toBeGreaterThanOrEqual(saved.counts.cancelled);
    expect(partial.size).toBeLessThan(expected.cancel.size);
    await between.close();

    // Second server on the same file, no rate limit: resumes at listen and completes.
    const lines: string[] = [];
    const second = await startServer({ store: new SqliteRunStore({ path }), closeStore: true, keys: KEYS, log: (line) => lines.push(line) });
    try {
      expect(lines.some((line) => line.includes(`job ${created.id} resumed`))).toBe(true);
      const done = await pollCancellation(second.url, KEY, created.id, (record) => record.status === "completed");
      expect(done.counts).toEqual(expected.counts);
    } finally {
      await second.server.close();
    }
    const after = new SqliteRunStore({ path });
    expect(await cancelledBy(after, runs, created.id)).toEqual(expected.cancel);
    for (const run of runs) if (!expected.cancel.has(run.id)) expect((await after.getRun(run.id))!.status).toBe(run.status);
    await after.close();
  });

  it("does not resume finished cancellations, and a closed server refuses requests", async () => {
    const path = join(dir, "finished.db");
    const store = new SqliteRunStore({ path });
    await store.insertRuns(makeRuns([{ environmentId: "env-r", startedAt: BASE, userId: USER }]));
    const first = await startServer({ store, closeStore: true, keys: KEYS });
    const created = (await call(`${first.url}/v1/cancellations`, KEY, { body: { app_id: "acme-app", function_id: "schedule-reminder", started_before: "2024-05-02T00:00:00Z" } })).json;
    await first.server.jobs.idle();
    await first.server.close();
    await expect(fetch(`${first.url}/healthz`)).rejects.toThrow();

    const lines: string[] = [];
    const second = await startServer({ store: new SqliteRunStore({ path }), closeStore: true, keys: KEYS, log: (line) => lines.push(line) });
    try {
      expect(second.server.jobs.activeCount).toBe(0);
      expect(lines).toEqual([]);
      expect((await call(`${second.url}/v1/cancellations/${created.id}`, KEY)).json).toMatchObject({ status: "completed", counts: { scanned: 1, cancelled: 1 } });
    } finally {
      await second.server.close();
    }
  });
});
