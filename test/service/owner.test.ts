/**
 * One owner per job (issue 12, item 3): an idempotent replay never starts a job; a job runs under
 * an owner lease in the store, so a second service finds it and leaves it alone, and takes it over
 * only once the owner's lease has expired (the owner killed with SIGKILL); a second `serve` on one
 * SQLite file refuses to start. After each scenario the record's `counts.cancelled` equals the
 * number of runs carrying its id, and the oracle's count.
 *
 * The PostgreSQL scenarios need the server at DATABASE_URL (see test/support/postgres.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/service/store.js";
import { MemoryRunStore } from "../../src/stores/memory.js";
import type { RunRecord, RunStore } from "../../src/stores/types.js";
import { runningChildren, startJsonLineChild } from "../support/child.js";
import { serveFromSources } from "../support/cli.js";
import { describePostgres } from "../support/postgres.js";
import { call, expectedOutcome, makeRuns, pollCancellation, startServer, USER } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "cancelkit-owner-"));
afterAll(() => {
  for (const child of runningChildren) child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

const KEY = "signkey-test-owner";
const KEYS = { [KEY]: "env-o" };
const BASE = Date.parse("2024-05-01T00:00:00.000Z");
const BODY = { app_id: "acme-app", function_id: "schedule-reminder", started_before: "2024-05-02T00:00:00.000Z", if: `event.data.userId == '${USER}'` };

/** `count` runs of env-o, a quarter of another user, every ninth already finished. */
function seedRuns(count: number): RunRecord[] {
  return makeRuns(
    Array.from({ length: count }, (_, i) => ({
      environmentId: "env-o",
      startedAt: BASE + Math.floor(i / 3),
      userId: i % 4 === 0 ? "user_other" : USER,
      status: i % 9 === 0 ? ("completed" as const) : ("running" as const),
    })),
  );
}

function oracle(runs: readonly RunRecord[]): ReturnType<typeof expectedOutcome> {
  return expectedOutcome(runs, { environmentId: "env-o", appId: "acme-app", functionId: "schedule-reminder", before: Date.parse(BODY.started_before), userId: USER });
}

/** How many runs of the window carry `id` as the cancellation that cancelled them (a scan, not the record). */
async function carrying(store: RunStore, id: string): Promise<number> {
  let count = 0;
  let after: { startedAt: number; id: string } | undefined;
  for (;;) {
    const page = await store.scanRuns({
      environmentId: "env-o",
      appId: "acme-app",
      functionId: "schedule-reminder",
      startedBefore: Date.parse(BODY.started_before),
      limit: 1000,
      ...(after !== undefined ? { after } : {}),
    });
    for (const run of page.runs) if (run.status === "cancelled" && run.cancellationId === id) count++;
    if (page.next === undefined) return count;
    after = page.next;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("one owner per job (memory store)", () => {
  it("an idempotent replay never starts a job, also for an unfinished record nobody runs; the next start resumes it exactly", async () => {
    const store = new MemoryRunStore();
    const runs = seedRuns(3000);
    await store.insertRuns(runs);
    const expected = oracle(runs);
    const headers = { "idempotency-key": "replay-1" };

    // Created, then the service shut down mid-job: the record stays `running`, owned by nobody.
    const first = await startServer({ store, keys: KEYS, ratePerSecond: 2000, batchSize: 100 });
    const created = await call(`${first.url}/v1/cancellations`, KEY, { body: BODY, headers });
    expect(created.status).toBe(200);
    await pollCancellation(first.url, KEY, created.json.id, (record) => record.counts.cancelled >= 100);
    await first.server.close();
    const saved = (await store.getCancellation(created.json.id))!;
    expect(saved.status).toBe("running");
    expect(await carrying(store, saved.id)).toBe(saved.counts.cancelled);

    // A replay on a service that resumes nothing (resume: false) answers the record, starts no job.
    const second = await startServer({ store, keys: KEYS, resume: false });
    try {
      const replay = await call(`${second.url}/v1/cancellations`, KEY, { body: BODY, headers });
      expect(replay.status).toBe(200);
      expect(replay.headers.get("idempotent-replayed")).toBe("true");
      expect(replay.json.id).toBe(saved.id);
      expect(second.server.jobs.isActive(saved.id)).toBe(false);
      await sleep(200);
      expect(second.server.jobs.activeCount).toBe(0);
      const still = (await store.getCancellation(saved.id))!;
      expect(still.counts).toEqual(saved.counts);
      expect(await carrying(store, saved.id)).toBe(saved.counts.cancelled);
    } finally {
      await second.server.close();
    }

    // A service that resumes takes it (its lease is free) and ends with exact counts.
    const third = await startServer({ store, keys: KEYS });
    try {
      const done = await pollCancellation(third.url, KEY, saved.id, (record) => record.status === "completed");
      expect(done.counts).toEqual(expected.counts);
      expect(await carrying(store, saved.id)).toBe(done.counts.cancelled);
    } finally {
      await third.server.close();
    }
  });
});

await describePostgres("one owner per job (PostgreSQL, two services on one database)", ({ url, newSchema }) => {
  /** Opens the schema as a new process would (its own pool). */
  const opener = (schema: string) => async (): Promise<RunStore> => (await openStore({ postgres: url, postgresSchema: schema })).store;

  it("the same POST with one Idempotency-Key to two services: one job, exact counts", async () => {
    const open = opener(newSchema());
    const seeding = await open();
    const runs = seedRuns(6000);
    await seeding.insertRuns(runs);
    const expected = oracle(runs);
    const a = await startServer({ store: await open(), closeStore: true, keys: KEYS, ratePerSecond: 3000, batchSize: 200 });
    const b = await startServer({ store: await open(), closeStore: true, keys: KEYS, lease: { takeoverMs: 200 } });
    try {
      const headers = { "idempotency-key": "same-key" };
      const created = (await call(`${a.url}/v1/cancellations`, KEY, { body: BODY, headers })).json;
      await pollCancellation(a.url, KEY, created.id, (record) => record.counts.cancelled > 0);
      await sleep(500);
      const replay = await call(`${b.url}/v1/cancellations`, KEY, { body: BODY, headers });
      expect(replay.headers.get("idempotent-replayed")).toBe("true");
      expect(replay.json.id).toBe(created.id);
      expect(b.server.jobs.isActive(created.id)).toBe(false);
      const done = await pollCancellation(b.url, KEY, created.id, (record) => record.status === "completed", 60_000);
      expect(b.server.jobs.activeCount).toBe(0);
      expect(done.counts).toEqual(expected.counts);
      expect(await carrying(seeding, created.id)).toBe(done.counts.cancelled);
    } finally {
      await a.server.close();
      await b.server.close();
      await seeding.close();
    }
  });

  // On PostgreSQL every service job is sharded (issue 15): a second service joins it through its
  // worker pool rather than leaving it alone; the counts stay exact either way.
  it("a second service started mid-job: exact counts (it shares the sharded job, never runs it twice)", async () => {
    const open = opener(newSchema());
    const seeding = await open();
    const runs = seedRuns(6000);
    await seeding.insertRuns(runs);
    const expected = oracle(runs);
    const a = await startServer({ store: await open(), closeStore: true, keys: KEYS, ratePerSecond: 3000, batchSize: 200 });
    let b: Awaited<ReturnType<typeof startServer>> | undefined;
    try {
      const created = (await call(`${a.url}/v1/cancellations`, KEY, { body: BODY })).json;
      await pollCancellation(a.url, KEY, created.id, (record) => record.counts.cancelled > 0);
      const lines: string[] = [];
      b = await startServer({ store: await open(), closeStore: true, keys: KEYS, log: (line) => lines.push(line), lease: { takeoverMs: 100 } });
      expect(b.server.jobs.activeCount).toBe(0);
      const done = await pollCancellation(b.url, KEY, created.id, (record) => record.status === "completed", 60_000);
      // No record was resumed as a whole job: the shards were shared.
      expect(lines.some((line) => line.includes("resumed"))).toBe(false);
      expect(done.counts).toEqual(expected.counts);
      expect(await carrying(seeding, created.id)).toBe(done.counts.cancelled);
    } finally {
      await a.server.close();
      await b?.server.close();
      await seeding.close();
    }
  });

  it("an owner killed with SIGKILL: another service takes its shards over once their leases expired, exact counts", async () => {
    const schema = newSchema();
    const open = opener(schema);
    const seeding = await open();
    const runs = seedRuns(6000);
    await seeding.insertRuns(runs);
    const expected = oracle(runs);
    let owner: { url: string; owner: string } | undefined;
    let ready!: () => void;
    const listening = new Promise<void>((resolve) => (ready = resolve));
    const child = startJsonLineChild<{ url?: string; owner?: string; log?: string }>(
      "test/service/serve-child.ts",
      [JSON.stringify({ postgres: url, schema, keys: KEYS, leaseMs: 1500, ratePerSecond: 2000, batchSize: 100 })],
      (line) => {
        if (line.url !== undefined) {
          owner = { url: line.url, owner: line.owner! };
          ready();
        }
        return false;
      },
    );
    await Promise.race([listening, child.done.then((exit) => Promise.reject(new Error(`child exited: ${exit.stderr}`)))]);
    const lines: string[] = [];
    const b = await startServer({ store: await open(), closeStore: true, keys: KEYS, log: (line) => lines.push(line), lease: { leaseMs: 1500, takeoverMs: 200 } });
    try {
      const created = (await call(`${owner!.url}/v1/cancellations`, KEY, { body: BODY })).json;
      await pollCancellation(b.url, KEY, created.id, (record) => record.counts.cancelled >= 300);
      expect(b.server.jobs.isActive(created.id)).toBe(false);
      child.kill();
      await child.done;
      const done = await pollCancellation(b.url, KEY, created.id, (record) => record.status === "completed", 60_000);
      expect(done.shards.every((shard: { status: string }) => shard.status === "done")).toBe(true);
      expect(done.counts).toEqual(expected.counts);
      expect(await carrying(seeding, created.id)).toBe(done.counts.cancelled);
    } finally {
      child.kill();
      await b.server.close();
      await seeding.close();
    }
  }, 120_000);
});

describe("one serve per SQLite file", () => {
  it("a second serve on the same file refuses to start with a clear error; the first one's job ends exact; a kill frees the file", async () => {
    writeFileSync(join(dir, "keys.json"), JSON.stringify(KEYS));
    const db = join(dir, "one-serve.db");
    const seeding = (await openStore({ db })).store;
    const runs = seedRuns(3000);
    await seeding.insertRuns(runs);
    await seeding.close();
    const expected = oracle(runs);

    const first = serveFromSources(db, join(dir, "keys.json"));
    const url = await first.listening;
    const second = serveFromSources(db, join(dir, "keys.json"));
    const refused = await second.exited;
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`cancelkit: ${db} is in use by another cancelkit serve: SQLite allows one cancelkit serve per database file.`);
    expect(refused.stderr).toContain("use PostgreSQL (--postgres URL) to run several instances");

    const created = (await call(`${url}/v1/cancellations`, KEY, { body: BODY })).json;
    const done = await pollCancellation(url, KEY, created.id, (record) => record.status === "completed", 60_000);
    expect(done.counts).toEqual(expected.counts);
    // Other commands still read the file while serve holds it.
    const reader = (await openStore({ db })).store;
    expect(await carrying(reader, created.id)).toBe(done.counts.cancelled);
    await reader.close();

    // SIGKILL leaves no stale lock: the OS releases it with the process.
    first.child.kill("SIGKILL");
    await first.exited;
    const third = serveFromSources(db, join(dir, "keys.json"));
    await third.listening;
    third.child.kill("SIGTERM");
    expect((await third.exited).code).toBe(0);
  }, 180_000);
});
