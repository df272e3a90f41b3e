/**
 * Restart and resume: a server is shut down gracefully in the middle of a slow job; a new server on
 * the same SQLite file resumes it from its checkpoint and finishes with exact counts, as an
 * uninterrupted job would.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openStore, redactUrl } from "../../src/service/store.js";
import { SqliteRunStore } from "../../src/stores/sqlite.js";
import type { RunStore, ShardedRunStore } from "../../src/stores/types.js";
import { describePostgres } from "../support/postgres.js";
import { call, cancelledBy, expectedOutcome, makeRuns, pollCancellation, readEvents, startServer, USER } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "cancelkit-service-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEY = "signkey-test-resume";
const KEYS = { [KEY]: "env-r" };
const BASE = Date.parse("2024-05-01T00:00:00.000Z");

/** Opens the same database again, each call a new connection (as a restarted process would). */
type Reopen = () => Promise<RunStore>;

/** Shuts a server down in the middle of a slow job, starts another on the same database, checks the end state. */
async function restartAndResume(open: Reopen, sharded = false): Promise<void> {
  const runs = makeRuns(
    Array.from({ length: 2400 }, (_, i) => ({
      environmentId: "env-r",
      // Groups of three runs share a millisecond, so that page boundaries fall inside ties.
      startedAt: BASE + Math.floor(i / 3),
      userId: i % 4 === 0 ? "user_other" : USER,
      status: i % 9 === 0 ? ("completed" as const) : ("running" as const),
    })),
  );
  const seeding = await open();
  await seeding.insertRuns(runs);
  await seeding.close();
  const body = { app_id: "acme-app", function_id: "schedule-reminder", started_before: "2024-05-02T00:00:00.000Z", if: `event.data.userId == '${USER}'` };
  const expected = expectedOutcome(runs, { environmentId: "env-r", appId: "acme-app", functionId: "schedule-reminder", before: Date.parse(body.started_before), userId: USER });

  // First server: slow (300 runs a second, batches of 50).
  const first = await startServer({ store: await open(), closeStore: true, keys: KEYS, ratePerSecond: 300, batchSize: 50, eventIntervalMs: 0 });
  const created = (await call(`${first.url}/v1/cancellations`, KEY, { body })).json;
  const streamed = readEvents(`${first.url}/v1/cancellations/${created.id}/events`, KEY);
  await pollCancellation(first.url, KEY, created.id, (record) => record.counts.cancelled >= 400);
  await first.server.close();
  // The open event stream was told, and ended.
  const events = (await streamed).events;
  expect(events[events.length - 1]!.event).toBe("interrupted");
  expect(events[events.length - 1]!.data.status).toBe("running");

  // Between the two servers: saved as running (resumable) with a partial checkpoint.
  const between = await open();
  const saved = (await between.getCancellation(created.id))!;
  expect(saved.status).toBe("running");
  expect(saved.counts.cancelled).toBeGreaterThanOrEqual(300);
  expect(saved.counts.cancelled).toBeLessThan(expected.counts.cancelled);
  // A sharded job (PostgreSQL) keeps a checkpoint per shard.
  if (sharded) expect((await (between as ShardedRunStore).listShards(created.id)).some((shard) => shard.cursor !== undefined)).toBe(true);
  else expect(saved.cursor).toBeDefined();
  const partial = await cancelledBy(between, runs, created.id);
  expect(partial.size).toBeGreaterThanOrEqual(saved.counts.cancelled);
  expect(partial.size).toBeLessThan(expected.cancel.size);
  await between.close();

  // Second server on the same file, without a rate of its own: resumes at listen with the job's
  // stored settings (300 runs a second, batches of 50) and completes.
  const lines: string[] = [];
  const restartedAt = performance.now();
  const second = await startServer({ store: await open(), closeStore: true, keys: KEYS, log: (line) => lines.push(line) });
  try {
    // A single-process store resumes the record; a shared one's workers lease its released shards.
    if (!sharded) expect(lines.some((line) => line.includes(`job ${created.id} resumed`))).toBe(true);
    const done = await pollCancellation(second.url, KEY, created.id, (record) => record.status === "completed", 60_000);
    expect(done.counts).toEqual(expected.counts);
    expect(done).toMatchObject({ batch_size: 50, rate_per_second: 300, max_runs: null });
    // The stored rate held: the rest took at least its share of seconds (one batch goes at once).
    // A lower bound only (a slow machine makes it longer, never shorter).
    const rest = expected.counts.cancelled - saved.counts.cancelled;
    expect(performance.now() - restartedAt).toBeGreaterThanOrEqual(((rest - 50) / 300) * 1000 - 50);
  } finally {
    await second.server.close();
  }
  const after = await open();
  expect(await cancelledBy(after, runs, created.id)).toEqual(expected.cancel);
  for (const run of runs) if (!expected.cancel.has(run.id)) expect((await after.getRun(run.id))!.status).toBe(run.status);
  await after.close();
}

describe("restart and resume", () => {
  it("SQLite: a job stopped by a shutdown resumes on the next start and ends with exact counts", async () => {
    const path = join(dir, "resume.db");
    await restartAndResume(async () => (await openStore({ db: path })).store);
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

await describePostgres("restart and resume on PostgreSQL", ({ url, newSchema }) => {
  it("PostgreSQL (migrated on open): the same restart ends with exact counts", async () => {
    const schema = newSchema();
    await restartAndResume(async () => (await openStore({ postgres: url, postgresSchema: schema })).store, true);
  });
});

describe("store selection", () => {
  it("SQLite by default under ./.cancelkit, --db wins over DATABASE_URL, DATABASE_URL selects PostgreSQL", async () => {
    const cwd = join(dir, "selection");
    const opened = await openStore({ cwd, env: {} });
    expect(opened.kind).toBe("sqlite");
    expect(opened.location).toBe("./.cancelkit/cancelkit.db");
    await opened.store.close();
    expect(existsSync(join(cwd, ".cancelkit", "cancelkit.db"))).toBe(true);
    const nested = await openStore({ db: join(dir, "a", "b", "c.db"), env: { DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" } });
    expect(nested.kind).toBe("sqlite");
    await nested.store.close();
    // An unreachable server: PostgreSQL was chosen (the migration fails), and nothing is left open.
    await expect(openStore({ env: { DATABASE_URL: "postgres://nobody:secret@127.0.0.1:1/none" } })).rejects.toThrow();
    expect(redactUrl("postgres://user:secret@host:5432/db")).toBe("postgres://user:***@host:5432/db");
  });
});
