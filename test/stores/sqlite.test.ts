import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { SQLITE_SCHEMA_VERSION, SqliteRunStore } from "../../src/stores/sqlite.js";
import { FALSE, TRUE, atom, kindIs } from "../../src/stores/predicate.js";
import { StoreError, ZERO_COUNTS, type PushdownHint } from "../../src/stores/types.js";
import { pollUntil } from "../support/poll.js";
import { describeRunStoreConformance } from "./conformance.js";
import { describeExactBatchConformance } from "./exact-conformance.js";
import { BASE_TIME, generateRuns, makeCancellation, makeRun, scanAllPages, windowOracle } from "./fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "cancelkit-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileCounter = 0;
const freshPath = () => join(dir, `store-${process.pid}-${fileCounter++}.db`);

const pushdownNumberEquals = (field: string, value: number): PushdownHint => ({
  predicate: atom({ k: "num", path: ["data", field], op: "==", value }),
});

describeRunStoreConformance("sqlite :memory:", async () => new SqliteRunStore({ path: ":memory:" }), undefined, { pushdownNumberEquals });
describeExactBatchConformance("sqlite :memory:", async () => new SqliteRunStore({ path: ":memory:" }));
// Batches read in steps of two runs: several steps per batch, and limits passed inside a step.
describeExactBatchConformance("sqlite :memory:, steps of 2 runs", async () => new SqliteRunStore({ path: ":memory:", exactChunkRows: 2 }));
const pathOf = new WeakMap<object, string>();
describeRunStoreConformance(
  "sqlite file",
  async () => {
    const path = freshPath();
    const store = new SqliteRunStore({ path });
    pathOf.set(store, path);
    return store;
  },
  undefined,
  {
    pushdownNumberEquals,
    propertyIterations: 25,
    openSibling: async (store) => new SqliteRunStore({ path: pathOf.get(store)! }),
  },
);

async function expectStoreError(promise: Promise<unknown> | (() => unknown), code: StoreError["code"], message?: RegExp): Promise<void> {
  let caught: unknown;
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(StoreError);
  expect((caught as StoreError).code).toBe(code);
  if (message !== undefined) expect((caught as StoreError).message).toMatch(message);
}

describe("SqliteRunStore watchCancellations", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("reports another process's change at the first poll after it (within pollMs), and never reloads for its own", async () => {
    const path = freshPath();
    const store = new SqliteRunStore({ path });
    const other = new SqliteRunStore({ path });
    vi.useFakeTimers();
    try {
      const changes: string[] = [];
      await store.watchCancellations((c) => changes.push(c.kind === "created" ? `created ${c.record.id}` : c.kind === "deleted" ? `deleted ${c.id}` : "reload"), {
        pollMs: 500,
      });
      const own = makeCancellation({ id: "01J00000000000000000000001" });
      await store.createCancellation(own);
      await store.deleteCancellation(own.id);
      vi.advanceTimersByTime(5000);
      // Its own changes come at once, and no poll reloads for them.
      expect(changes).toEqual([`created ${own.id}`, `deleted ${own.id}`]);
      await other.createCancellation(makeCancellation({ id: "01J00000000000000000000002" }));
      vi.advanceTimersByTime(499);
      expect(changes).toHaveLength(2);
      vi.advanceTimersByTime(1);
      expect(changes).toEqual([`created ${own.id}`, `deleted ${own.id}`, "reload"]);
      // A change of its own after another process's (not yet polled) still lets the poll reload.
      await other.deleteCancellation("01J00000000000000000000002");
      await store.createCancellation(makeCancellation({ id: "01J00000000000000000000003" }));
      vi.advanceTimersByTime(500);
      expect(changes.slice(3)).toEqual(["created 01J00000000000000000000003", "reload"]);
    } finally {
      vi.useRealTimers();
      await other.close();
      await store.close();
    }
  });
});

/** Undoes migration 4 (the job owner lease), for files of an older version. */
const DROP_LEASE_COLUMNS = "ALTER TABLE cancellations DROP COLUMN lease_owner; ALTER TABLE cancellations DROP COLUMN lease_expires_at;";

describe("SqliteRunStore migration 4 (job owner lease)", () => {
  it("upgrades a version-3 file: its records read back unchanged and take leases", async () => {
    const path = freshPath();
    const first = new SqliteRunStore({ path });
    const record = makeCancellation({ id: "01J00000000000000000000004" });
    await first.createCancellation(record);
    await first.close();
    const raw = new Database(path);
    raw.exec(`${DROP_LEASE_COLUMNS} UPDATE schema_version SET version = 3`);
    raw.close();
    const store = new SqliteRunStore({ path });
    try {
      expect(await store.getCancellation(record.id)).toEqual(record);
      expect((await store.leaseCancellation(record.id, "owner", 60_000)).ok).toBe(true);
      expect(await store.leaseCancellation(record.id, "other", 60_000)).toMatchObject({ ok: false, reason: "held", owner: "owner" });
    } finally {
      await store.close();
    }
    const check = new Database(path);
    expect(check.prepare("SELECT version FROM schema_version").get()).toEqual({ version: SQLITE_SCHEMA_VERSION });
    check.close();
  });

  it("lockExclusive: one holder per file until it closes; :memory: needs none", async () => {
    const path = freshPath();
    const a = new SqliteRunStore({ path });
    const b = new SqliteRunStore({ path });
    a.lockExclusive("cancelkit serve");
    expect(() => b.lockExclusive("cancelkit serve")).toThrow(expect.objectContaining({ code: "locked", message: expect.stringContaining("is in use by another cancelkit serve") }));
    // Others still read and write the file.
    await b.createCancellation(makeCancellation({ id: "01J00000000000000000000005" }));
    expect((await a.listCancellations()).records).toHaveLength(1);
    await a.close();
    b.lockExclusive("cancelkit serve");
    await b.close();
    const memory = new SqliteRunStore({ path: ":memory:" });
    memory.lockExclusive("x");
    new SqliteRunStore({ path: ":memory:" }).lockExclusive("x");
    await memory.close();
  });
});

describe("SqliteRunStore migration 3 (cancellation change counter)", () => {
  it("upgrades a version-2 file, keeping its cancellations, and counts changes from then on", async () => {
    const path = freshPath();
    const first = new SqliteRunStore({ path });
    await first.createCancellation(makeCancellation({ id: "01J00000000000000000000001" }));
    await first.close();
    // Back to version 2: as a file written before the counter existed.
    const raw = new Database(path);
    raw.exec(
      "DROP TRIGGER cancellations_inserted; DROP TRIGGER cancellations_deleted; DROP TABLE cancellation_changes; " +
        `${DROP_LEASE_COLUMNS} UPDATE schema_version SET version = 2`,
    );
    raw.close();
    const store = new SqliteRunStore({ path });
    const other = new SqliteRunStore({ path });
    try {
      expect((await store.listCancellations()).records.map((r) => r.id)).toEqual(["01J00000000000000000000001"]);
      const changes: string[] = [];
      await store.watchCancellations((c) => changes.push(c.kind), { pollMs: 10 });
      await other.deleteCancellation("01J00000000000000000000001");
      await pollUntil(() => changes.includes("reload"), "the reload");
      expect(changes).toEqual(["reload"]);
    } finally {
      await other.close();
      await store.close();
    }
    const check = new Database(path, { readonly: true });
    expect(check.prepare("SELECT version FROM schema_version").get()).toEqual({ version: SQLITE_SCHEMA_VERSION });
    check.close();
  });
});

describe("SqliteRunStore specifics", () => {
  it("creates one WAL file with a versioned schema and the window index", async () => {
    const path = freshPath();
    const store = new SqliteRunStore({ path });
    await store.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.prepare("SELECT version FROM schema_version").get()).toEqual({ version: SQLITE_SCHEMA_VERSION });
    // The runs table is clustered on the window key (WITHOUT ROWID primary key).
    const key = db
      .prepare("SELECT name FROM pragma_table_info('runs') WHERE pk > 0 ORDER BY pk")
      .all()
      .map((r) => (r as { name: string }).name);
    expect(key).toEqual(["environment_id", "app_id", "function_id", "started_at", "id"]);
    expect(db.prepare("SELECT \"unique\" AS u FROM pragma_index_list('runs') WHERE name = 'runs_id'").get()).toEqual({ u: 1 });
    const cancelPlan = db
      .prepare(
        "EXPLAIN QUERY PLAN UPDATE runs SET status = 'cancelled' WHERE id IN (?, ?) AND status IN ('running') AND +environment_id = ? AND +app_id = ? AND +function_id = ?",
      )
      .all("a", "b", "e", "a", "f")
      .map((r) => (r as { detail: string }).detail)
      .join("\n");
    expect(cancelPlan).toMatch(/USING INDEX runs_id \(id=\?\)/);
    const plan = db
      .prepare(
        "EXPLAIN QUERY PLAN SELECT id FROM runs WHERE environment_id = ? AND app_id = ? AND function_id = ? AND (started_at, id) > (?, ?) AND started_at <= ? ORDER BY started_at, id LIMIT ?",
      )
      .all("e", "a", "f", 1, "x", 2, 3)
      .map((r) => (r as { detail: string }).detail)
      .join("\n");
    expect(plan).toMatch(/SEARCH runs USING PRIMARY KEY \(environment_id=\? AND app_id=\? AND function_id=\? AND \(started_at,id\)>\(\?,\?\) AND started_at<\?\)/);
    expect(plan).not.toMatch(/TEMP B-TREE/);
    db.close();
  });

  it("keeps data across close and reopen, and migrates only once", async () => {
    const path = freshPath();
    const runs = generateRuns({ count: 300, seed: 4 });
    const first = new SqliteRunStore({ path });
    await first.insertRuns(runs);
    await first.createCancellation(makeCancellation({ id: "01HREOPEN" }), { key: "k", requestHash: "h" });
    await first.close();
    const second = new SqliteRunStore({ path });
    const query = { appId: "app", functionId: "fn", startedBefore: BASE_TIME + 10_000 };
    expect((await scanAllPages(second, { ...query, limit: 64 })).runs.map((r) => r.id)).toEqual(windowOracle(runs, query).map((r) => r.id));
    expect((await second.findByIdempotencyKey("default", "k"))?.record.id).toBe("01HREOPEN");
    await second.close();
  });

  it("upgrades a version 1 file: its records read back without settings, new ones keep theirs", async () => {
    const path = freshPath();
    const first = new SqliteRunStore({ path });
    await first.createCancellation(makeCancellation({ id: "01HOLDRECORD0000000000000A" }));
    await first.close();
    // Back to version 1, as a file written before settings (and the change counter) were stored.
    const db = new Database(path);
    db.exec(
      "DROP TRIGGER cancellations_inserted; DROP TRIGGER cancellations_deleted; DROP TABLE cancellation_changes; " +
        `ALTER TABLE cancellations DROP COLUMN settings; ${DROP_LEASE_COLUMNS} UPDATE schema_version SET version = 1`,
    );
    db.close();
    const upgraded = new SqliteRunStore({ path });
    const old = await upgraded.getCancellation("01HOLDRECORD0000000000000A");
    expect(old).toBeDefined();
    expect(old).not.toHaveProperty("settings");
    expect(await upgraded.updateCancellationSettings("01HOLDRECORD0000000000000A", { batchSize: 7 })).toBe(true);
    expect((await upgraded.getCancellation("01HOLDRECORD0000000000000A"))?.settings).toEqual({ batchSize: 7 });
    await upgraded.close();
    const check = new Database(path);
    expect(check.prepare("SELECT version FROM schema_version").get()).toEqual({ version: SQLITE_SCHEMA_VERSION });
    check.close();
  });

  it("refuses a file of a newer schema version and a file that is not a database", async () => {
    const newer = freshPath();
    await new SqliteRunStore({ path: newer }).close();
    const db = new Database(newer);
    db.prepare("UPDATE schema_version SET version = 99").run();
    db.close();
    await expectStoreError(() => new SqliteRunStore({ path: newer }), "storage", /schema version 99, newer/);
    const garbage = freshPath();
    writeFileSync(garbage, Buffer.alloc(8192, 0x5a));
    await expectStoreError(() => new SqliteRunStore({ path: garbage }), "storage", /not a database|SQLITE_NOTADB/);
    await expectStoreError(() => new SqliteRunStore({ path: "" }), "invalid_option");
    await expectStoreError(() => new SqliteRunStore({ path: ":memory:", busyTimeoutMs: -1 }), "invalid_option", /busyTimeoutMs/);
    await expectStoreError(() => new SqliteRunStore({ path: join(dir, "no", "such", "dir.db") }), "storage");
  });

  it("recovers a file whose writer was killed mid-transaction", async () => {
    const path = freshPath();
    const store = new SqliteRunStore({ path });
    await store.insertRuns(generateRuns({ count: 200, seed: 9 }));
    await store.close();
    // A child process commits 100 more runs, then dies by SIGKILL inside an open write transaction.
    const script = `
      const Database = require("better-sqlite3");
      const db = new Database(process.argv[1]);
      db.pragma("journal_mode = WAL");
      const insert = db.prepare("INSERT INTO runs (id, environment_id, app_id, function_id, started_at, status, event) VALUES (?, 'default', 'app', 'fn', ?, 'running', '{\\"name\\":\\"e\\",\\"data\\":{}}')");
      db.transaction(() => { for (let i = 0; i < 100; i++) insert.run("COMMITTED-" + i, ${BASE_TIME} + i); })();
      db.exec("BEGIN IMMEDIATE");
      for (let i = 0; i < 50000; i++) insert.run("TORN-" + i, ${BASE_TIME} + i);
      db.prepare("UPDATE runs SET status = 'failed'").run();
      process.kill(process.pid, "SIGKILL");
    `;
    const child = spawnSync(process.execPath, ["-e", script, path], { cwd: process.cwd(), encoding: "utf8" });
    expect(child.signal).toBe("SIGKILL");
    const reopened = new SqliteRunStore({ path });
    const all = await scanAllPages(reopened, { appId: "app", functionId: "fn", startedBefore: BASE_TIME + 100_000, limit: 1000 });
    expect(all.runs.length).toBe(300);
    expect(all.runs.some((r) => r.id.startsWith("TORN-"))).toBe(false);
    expect(all.runs.filter((r) => r.id.startsWith("COMMITTED-")).length).toBe(100);
    expect((await reopened.getRun("COMMITTED-7"))!.status).toBe("running");
    await reopened.insertRuns([makeRun({ id: "AFTER-CRASH" })]);
    expect(await reopened.getRun("AFTER-CRASH")).toBeDefined();
    await reopened.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    db.close();
  });

  it("shares one file between two stores: a batch in one is seen by the other", async () => {
    const path = freshPath();
    const a = new SqliteRunStore({ path });
    const b = new SqliteRunStore({ path });
    await a.insertRuns([makeRun({ id: "SHARED-1" }), makeRun({ id: "SHARED-2" })]);
    await b.createCancellation(makeCancellation({ id: "01HSHARED" }));
    const [ra, rb] = await Promise.all([
      a.commitBatch({ cancellationId: "01HSHARED", runIds: ["SHARED-1", "SHARED-2"], checkpoint: { counts: ZERO_COUNTS, status: "running" } }),
      b.commitBatch({ cancellationId: "01HSHARED", runIds: ["SHARED-2", "SHARED-1"], checkpoint: { counts: ZERO_COUNTS, status: "running" } }),
    ]);
    const all = [...(ra.ok ? ra.cancelled : []), ...(rb.ok ? rb.cancelled : [])].sort();
    expect(all).toEqual(["SHARED-1", "SHARED-2"]);
    await a.close();
    await b.close();
  });

  it("applies a boolean kind test and rejects a hint that is not a predicate tree", async () => {
    const store = new SqliteRunStore({ path: ":memory:" });
    await store.insertRuns([
      makeRun({ id: "T", event: { name: "e", data: { flag: true } } }),
      makeRun({ id: "F", event: { name: "e", data: { flag: false } } }),
    ]);
    const base = { appId: "app", functionId: "fn", startedBefore: BASE_TIME, limit: 10 };
    const page = await store.scanRuns({ ...base, pushdown: { predicate: kindIs(["data", "flag"], ["true"]) } });
    expect(page.runs.map((r) => r.id)).toEqual(["T"]);
    expect(page.prefiltered).toBe(1);
    const raw = { sqlite: { sql: "json_extract(event, '$.data.flag') = ?", params: [true] } } as unknown as PushdownHint;
    await expectStoreError(store.scanRuns({ ...base, pushdown: raw }), "invalid_query", /pushdown\.predicate/);
    await store.close();
  });

  it("rolls back a whole insert when a run in the middle is bad", async () => {
    const store = new SqliteRunStore({ path: ":memory:" });
    const runs = generateRuns({ count: 1000, seed: 2 });
    const bad = [...runs.slice(0, 600), { ...runs[600]!, startedAt: Number.NaN }, ...runs.slice(601)];
    await expectStoreError(store.insertRuns(bad), "invalid_run", /^runs\[600\]/);
    expect(await store.getRun(runs[0]!.id)).toBeUndefined();
    await store.insertRuns(runs);
    expect(await store.getRun(runs[999]!.id)).toBeDefined();
    await store.close();
  });
});

describe("SqliteRunStore exact batches: cancelled means updated", () => {
  const job = "01JOBEXACTIGNORED000000000";
  const window = { appId: "app", functionId: "fn", startedAfter: BASE_TIME, startedBefore: BASE_TIME + 100 };
  const decisions = {
    "no if (the stretch updated in key order)": { match: TRUE, error: FALSE, nonBoolean: FALSE },
    "an if (the candidates updated by id)": { match: atom({ k: "str", path: ["data", "k"], op: "==", value: "a" }), error: FALSE, nonBoolean: FALSE },
  };

  // The batch reports the candidates it counted as cancelled, the rows its UPDATE changed being
  // the same under the write lock; a row that did not change (here a trigger ignores one) must
  // fail the batch and roll it back, not be reported cancelled.
  for (const [label, decision] of Object.entries(decisions)) {
    it(`fails with a storage error and changes nothing when a candidate was not updated: ${label}`, async () => {
      const path = freshPath();
      const store = new SqliteRunStore({ path });
      try {
        await store.insertRuns(
          ["r1", "r2", "r3"].map((id, i) => makeRun({ id, startedAt: BASE_TIME + 1 + i, status: "running", event: { name: "e", data: { k: "a" } } })),
        );
        await store.createCancellation(makeCancellation({ id: job, startedAfter: window.startedAfter, startedBefore: window.startedBefore }));
        const before = (await store.getCancellation(job))!;
        const other = new Database(path);
        other.exec("CREATE TRIGGER keep_r2 BEFORE UPDATE ON runs WHEN old.id = 'r2' BEGIN SELECT RAISE(IGNORE); END;");
        await expectStoreError(
          store.cancelExactBatch({ cancellationId: job, window, decision, limit: 100, scanLimit: 100, counts: ZERO_COUNTS }),
          "storage",
          /2 runs cancelled for 3 candidates/,
        );
        const statuses = await Promise.all(["r1", "r2", "r3"].map(async (id) => (await store.getRun(id))!.status));
        expect(statuses).toEqual(["running", "running", "running"]);
        expect(await store.getCancellation(job)).toEqual(before);

        // Without the trigger the same batch cancels all three and reports them.
        other.exec("DROP TRIGGER keep_r2");
        other.close();
        const result = await store.cancelExactBatch({ cancellationId: job, window, decision, limit: 100, scanLimit: 100, counts: ZERO_COUNTS });
        expect(result).toMatchObject({ ok: true, cancelled: ["r1", "r2", "r3"] });
      } finally {
        await store.close();
      }
    });
  }
});
