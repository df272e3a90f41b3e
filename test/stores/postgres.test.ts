/**
 * PostgreSQL run store: the shared conformance suite plus what only this store has (migrations,
 * parameterisation, the index plan, the pool, jsonb fidelity, pushdown slices).
 *
 * Needs the server at DATABASE_URL (see test/support/postgres.ts): skipped with a loud warning
 * locally when it is down, failing under CI=true.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PostgresRunStore, POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION } from "../../src/stores/postgres.js";
import { FALSE, and, atom, or } from "../../src/stores/predicate.js";
import { StoreError, ZERO_COUNTS, type CancellationChange, type CancellationRecord, type RunRecord, type PushdownHint, type RunStore, type ScanQuery } from "../../src/stores/types.js";
import { pollFor, pollUntil } from "../support/poll.js";
import { describePostgres, dropSchemas, withClient } from "../support/postgres.js";
import { describeRunStoreConformance } from "./conformance.js";
import { describeExactBatchConformance, describeExactShardConformance } from "./exact-conformance.js";
import { BASE_TIME, expectedStored, generateRuns, makeCancellation, makeRun, scanAllPages, windowOracle } from "./fixtures.js";

async function expectStoreError(promise: Promise<unknown>, code: StoreError["code"], message?: RegExp): Promise<void> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, "expected a StoreError").toBeInstanceOf(StoreError);
  expect((caught as StoreError).code).toBe(code);
  if (message !== undefined) expect((caught as StoreError).message).toMatch(message);
}

/** Strings that would break any SQL built by concatenation. */
const HOSTILE = [
  "'; DROP TABLE runs; --",
  "a' OR '1'='1",
  '"quoted" identifier',
  "$1",
  "$$ dollar $$",
  "$tag$ x $tag$",
  "back\\slash \\' E'\\x00'",
  "%_ like wildcards",
  ")) OR TRUE --",
  "/* comment */ --",
  "\u00e9\u6771\u4eac \ud83d\ude00",
  "line\nbreak\ttab",
];

await describePostgres("PostgresRunStore", ({ url, newSchema }) => {
  const exactStore = async (): Promise<PostgresRunStore> => {
    const store = new PostgresRunStore({ connectionString: url, schema: newSchema(), poolSize: 2 });
    await store.migrate();
    return store;
  };
  describeExactBatchConformance("postgres", exactStore, { nulEventsUndecided: true });
  describeExactShardConformance("postgres", exactStore);
  const schemaOf = new WeakMap<RunStore, string>();
  describeRunStoreConformance(
    "postgres",
    async () => {
      const schema = newSchema();
      const store = new PostgresRunStore({ connectionString: url, schema, poolSize: 4 });
      await store.migrate();
      schemaOf.set(store, schema);
      return store;
    },
    async (store) => {
      const schema = schemaOf.get(store);
      if (schema !== undefined) await dropSchemas([schema], url);
    },
    {
      pushdownNumberEquals: (field, value) => ({ predicate: atom({ k: "num", path: ["data", field], op: "==", value }) }),
      openSibling: async (store) => {
        const sibling = new PostgresRunStore({ connectionString: url, schema: schemaOf.get(store)!, poolSize: 2 });
        await sibling.migrate();
        return sibling;
      },
    },
  );

  /** A migrated store on a fresh schema of this file; closed by the caller. */
  async function freshStore(options: { poolSize?: number; now?: () => number; connectionString?: string } = {}) {
    const store = new PostgresRunStore({ connectionString: options.connectionString ?? url, schema: newSchema(), ...options });
    await store.migrate();
    return store;
  }

  const query = (sql: string, params: unknown[] = []) => withClient((client) => client.query(sql, params), url);

  describe("exact batches under concurrent writers", () => {
    // A writer changed a candidate after the batch's snapshot and held its row lock: the batch
    // waits for it, then cancels the run if it is still unfinished (the compare-and-set), and
    // counts it `skipped_terminal` if it finished — whichever way the store reaches the row.
    for (const [after, expected] of [
      ["running", "cancelled"],
      ["completed", "completed"],
    ] as const) {
      it(`decides a candidate another transaction changed to ${after} meanwhile on its newest version`, async () => {
        const store = await freshStore({ poolSize: 2 });
        try {
          const runs = Array.from({ length: 6 }, (_, i) =>
            makeRun({ id: `r${i}`, startedAt: BASE_TIME + i, status: "queued", event: { name: "e", data: { k: i % 2 === 0 ? "a" : "b" } } }),
          );
          await store.insertRuns(runs);
          await store.createCancellation(makeCancellation({ id: "01JOBCONCURRENT00000000000", startedAfter: BASE_TIME, startedBefore: BASE_TIME + 10 }));
          const batch = {
            cancellationId: "01JOBCONCURRENT00000000000",
            window: { appId: "app", functionId: "fn", startedAfter: BASE_TIME, startedBefore: BASE_TIME + 10 },
            decision: { match: atom({ k: "str", path: ["data", "k"], op: "==", value: "a" }), error: FALSE, nonBoolean: FALSE },
            limit: 100,
            scanLimit: 100,
            counts: ZERO_COUNTS,
          } as const;
          const result = await withClient(async (writer) => {
            await writer.query("BEGIN");
            await writer.query(`UPDATE "${store.schema}".runs SET status = $1 WHERE id = 'r2'`, [after]);
            const pending = store.cancelExactBatch(batch);
            // The batch blocks on r2's row lock until the writer commits: wait until it does, so
            // that the test sees the compare-and-set decide on the newest version.
            let blocked = 0;
            for (let i = 0; i < 250 && blocked === 0; i++) {
              await new Promise((resolve) => setTimeout(resolve, 20));
              blocked = await withClient(
                async (probe) =>
                  (
                    await probe.query<{ n: number }>(
                      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND strpos(query, $1) > 0",
                      [store.schema],
                    )
                  ).rows[0]!.n,
                url,
              );
            }
            expect(blocked, "the batch waits on the writer's row lock").toBe(1);
            await writer.query("COMMIT");
            return pending;
          }, url);
          expect(result.ok).toBe(true);
          if (!result.ok) return;
          const cancelledNow = [...result.cancelled].sort();
          expect(cancelledNow).toEqual(expected === "cancelled" ? ["r0", "r2", "r4"] : ["r0", "r4"]);
          expect(result.counts).toEqual({
            scanned: 6,
            cancelled: cancelledNow.length,
            skipped_terminal: 3 - cancelledNow.length,
            not_matched: 3,
            expression_error: 0,
            non_boolean: 0,
          });
          expect((await store.getRun("r2"))!.status).toBe(expected);
        } finally {
          await store.close();
        }
      });
    }
  });

  describe("watchCancellations", () => {
    const describeChange = (c: CancellationChange) => (c.kind === "created" ? `created ${c.record.id}` : c.kind === "deleted" ? `deleted ${c.id}` : "reload");
    const waitFor = pollUntil;

    it("reports sharded creations to its own watches at once and to other store objects by notification, in order", async () => {
      const a = await freshStore();
      const b = new PostgresRunStore({ connectionString: url, schema: a.schema, poolSize: 2 });
      await b.migrate();
      // A store of another schema on the same channel hears nothing of these.
      const elsewhere = await freshStore();
      try {
        const onA: string[] = [];
        const onB: CancellationChange[] = [];
        const onElsewhere: string[] = [];
        await a.watchCancellations((c) => onA.push(describeChange(c)));
        await b.watchCancellations((c) => onB.push(c));
        await elsewhere.watchCancellations((c) => onElsewhere.push(describeChange(c)));
        const sharded = makeCancellation({ id: "01J00000000000000000000001", if: "event.data.k == 'x'" });
        await a.createShardedCancellation(sharded, 3);
        expect(onA).toEqual([`created ${sharded.id}`]);
        await a.createCancellation(makeCancellation({ id: "01J00000000000000000000002" }));
        await a.deleteCancellation("01J00000000000000000000002");
        await waitFor(() => onB.some((c) => c.kind === "deleted"), "the deletion's notification");
        // A creation whose record is gone by the time the watch reads it is not reported: its
        // deletion follows, never before it.
        const seen = onB.map(describeChange).filter((c) => c !== "created 01J00000000000000000000002");
        expect(seen).toEqual([`created ${sharded.id}`, "deleted 01J00000000000000000000002"]);
        const first = onB[0]!;
        expect(first.kind === "created" && first.record.if).toBe("event.data.k == 'x'");
        // Its own notifications are not reported twice.
        expect(onA).toEqual([`created ${sharded.id}`, "created 01J00000000000000000000002", "deleted 01J00000000000000000000002"]);
        expect(onElsewhere).toEqual([]);
      } finally {
        await Promise.all([a.close(), b.close(), elsewhere.close()]);
      }
    });

    it("reconnects after losing its connection and reports reload", async () => {
      const store = await freshStore();
      const errors: unknown[] = [];
      try {
        const changes: string[] = [];
        await store.watchCancellations((c) => changes.push(describeChange(c)), { onError: (e) => errors.push(e) });
        await query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'cancelkit watch' AND pid <> pg_backend_pid()");
        await waitFor(() => changes.includes("reload"), "the reload after reconnecting");
        const other = new PostgresRunStore({ connectionString: url, schema: store.schema, poolSize: 1 });
        await other.migrate();
        await other.createCancellation(makeCancellation({ id: "01J00000000000000000000003" }));
        await other.close();
        await waitFor(() => changes.includes("created 01J00000000000000000000003"), "a notification after reconnecting");
        expect(errors.length).toBeGreaterThan(0);
      } finally {
        await store.close();
      }
    });
  });

  describe("migrations", () => {
    const ALL_VERSIONS = POSTGRES_MIGRATIONS.map((m) => m.version);

    it("applies every version once; a second migrate is a no-op", async () => {
      const schema = newSchema();
      const store = new PostgresRunStore({ connectionString: url, schema });
      try {
        expect(await store.migrate()).toEqual({ applied: ALL_VERSIONS, version: POSTGRES_SCHEMA_VERSION });
        expect(await store.migrate()).toEqual({ applied: [], version: POSTGRES_SCHEMA_VERSION });
        const versions = await query(`SELECT version, name FROM "${schema}".cancelkit_migrations ORDER BY version`);
        expect(versions.rows.map((r) => r.version)).toEqual(ALL_VERSIONS);
        const tables = await query("SELECT table_name FROM information_schema.tables WHERE table_schema = $1", [schema]);
        expect(tables.rows.map((r) => r.table_name).sort()).toEqual([
          "cancelkit_migrations",
          "cancellation_rate_budgets",
          "cancellation_shards",
          "cancellations",
          "idempotency_keys",
          "runs",
        ]);
        const index = await query("SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = 'runs_window_idx'", [schema]);
        expect(index.rows[0].indexdef).toMatch(/\(environment_id, app_id, function_id, started_at, id\)/);
        // A second store on the same schema sees it current and works.
        const other = new PostgresRunStore({ connectionString: url, schema });
        expect(await other.migrate()).toEqual({ applied: [], version: POSTGRES_SCHEMA_VERSION });
        await other.insertRuns([makeRun({ id: "M1" })]);
        expect((await store.getRun("M1"))!.id).toBe("M1");
        await other.close();
      } finally {
        await store.close();
      }
    });

    it("applies each version exactly once when several stores migrate one schema at once", async () => {
      for (let round = 0; round < 3; round++) {
        const schema = newSchema();
        const stores = Array.from({ length: 4 }, () => new PostgresRunStore({ connectionString: url, schema, poolSize: 2 }));
        try {
          const results = await Promise.all(stores.map((s) => s.migrate()));
          expect(results.filter((r) => r.applied.length > 0).map((r) => r.applied)).toEqual([ALL_VERSIONS]);
          for (const result of results) expect(result.version).toBe(POSTGRES_SCHEMA_VERSION);
          const versions = await query(`SELECT count(*)::int AS n FROM "${schema}".cancelkit_migrations`);
          expect(versions.rows[0].n).toBe(ALL_VERSIONS.length);
          await stores[1]!.insertRuns([makeRun({ id: "C1" })]);
          expect((await stores[3]!.getRun("C1"))!.id).toBe("C1");
        } finally {
          await Promise.all(stores.map((s) => s.close()));
        }
      }
    });

    it("rolls a failing migration back whole: no version row, no half-created tables", async () => {
      const schema = newSchema();
      await query(`CREATE SCHEMA "${schema}"`);
      // A foreign table in the way of migration 1's second table.
      await query(`CREATE TABLE "${schema}".cancellations (foreign_column int)`);
      const store = new PostgresRunStore({ connectionString: url, schema });
      try {
        await expectStoreError(store.migrate(), "storage", /already exists/);
        const tables = await query("SELECT table_name FROM information_schema.tables WHERE table_schema = $1", [schema]);
        expect(tables.rows.map((r) => r.table_name).sort()).toEqual(["cancelkit_migrations", "cancellations"]);
        const versions = await query(`SELECT count(*)::int AS n FROM "${schema}".cancelkit_migrations`);
        expect(versions.rows[0].n).toBe(0);
        await expectStoreError(store.getRun("X"), "storage", /migrate/);
        // The advisory lock was released: after the obstacle goes, migrate succeeds.
        await query(`DROP TABLE "${schema}".cancellations`);
        expect((await store.migrate()).applied).toEqual(ALL_VERSIONS);
      } finally {
        await store.close();
      }
    });

    it("version 3 adds job settings to a version 2 schema; its records read back without settings", async () => {
      const store = await freshStore();
      try {
        await store.createCancellation(makeCancellation({ id: "01HOLDRECORD0000000000000B" }));
        await query(`ALTER TABLE "${store.schema}".cancellations DROP COLUMN settings`);
        await query(`DELETE FROM "${store.schema}".cancelkit_migrations WHERE version = 3`);
        expect(await store.migrate()).toEqual({ applied: [3], version: POSTGRES_SCHEMA_VERSION });
        const old = await store.getCancellation("01HOLDRECORD0000000000000B");
        expect(old).toBeDefined();
        expect(old).not.toHaveProperty("settings");
        expect(await store.updateCancellationSettings("01HOLDRECORD0000000000000B", { batchSize: 7, ratePerSecond: 2.5 })).toBe(true);
        expect((await store.getCancellation("01HOLDRECORD0000000000000B"))?.settings).toEqual({ batchSize: 7, ratePerSecond: 2.5 });
      } finally {
        await store.close();
      }
    });

    it("refuses a schema migrated by a newer cancelkit", async () => {
      const store = await freshStore();
      try {
        await query(`INSERT INTO "${store.schema}".cancelkit_migrations (version, name) VALUES (999, 'future')`);
        await expectStoreError(store.migrate(), "storage", new RegExp(`version 999, newer than this cancelkit knows \\(${POSTGRES_SCHEMA_VERSION}\\)`));
      } finally {
        await store.close();
      }
    });
  });

  describe("lifecycle and options", () => {
    it("rejects calls before migrate, and after close, with typed errors; close is idempotent", async () => {
      const store = new PostgresRunStore({ connectionString: url, schema: newSchema() });
      await expectStoreError(store.getRun("X"), "storage", /not migrated: call `await store.migrate\(\)` first/);
      await expectStoreError(store.insertRuns([]), "storage", /migrate/);
      await store.close();
      await store.close();
      await expectStoreError(store.migrate(), "closed");
      await expectStoreError(store.getRun("X"), "closed");
    });

    it("rejects bad options with a TypeError", () => {
      const make = (options: unknown) => () => new PostgresRunStore(options as { connectionString: string });
      expect(make(undefined)).toThrow(TypeError);
      expect(make({ connectionString: "" })).toThrow(/connectionString/);
      expect(make({ connectionString: url, poolSize: 0 })).toThrow(/poolSize must be a positive integer, got 0/);
      expect(make({ connectionString: url, poolSize: 2.5 })).toThrow(/poolSize/);
      expect(make({ connectionString: url, schema: "" })).toThrow(/schema/);
      expect(make({ connectionString: url, schema: "a\u0000b" })).toThrow(/schema/);
      expect(make({ connectionString: url, now: 5 })).toThrow(/now must be a function/);
      expect(make({ connectionString: url, asyncBatchCommits: "no" })).toThrow(/asyncBatchCommits must be a boolean, got string/);
      expect(make({ connectionString: url, preparedStatements: 0 })).toThrow(/preparedStatements must be a boolean, got number/);
    });

    it("reports an unreachable server as a storage error, without crashing", async () => {
      const store = new PostgresRunStore({ connectionString: "postgres://postgres@127.0.0.1:1/none", schema: newSchema() });
      await expectStoreError(store.migrate(), "storage", /PostgreSQL: .*ECONNREFUSED|connect/);
      await store.close();
    });

    it("uses the injected clock for updatedAt, never moving it backwards", async () => {
      let now = BASE_TIME + 500;
      const store = await freshStore({ now: () => now });
      try {
        const record = makeCancellation({ id: "01HCLOCK", updatedAt: BASE_TIME + 1000 });
        await store.createCancellation(record);
        await store.updateCancellation(record.id, { counts: ZERO_COUNTS, status: "running" });
        expect((await store.getCancellation(record.id))!.updatedAt).toBe(BASE_TIME + 1000);
        now = BASE_TIME + 2000;
        await store.commitBatch({ cancellationId: record.id, runIds: [], checkpoint: { counts: ZERO_COUNTS, status: "completed" } });
        expect((await store.getCancellation(record.id))!.updatedAt).toBe(BASE_TIME + 2000);
      } finally {
        await store.close();
      }
    });

    it("never opens more connections than poolSize", async () => {
      const appName = `ck_pool_${process.pid}_${Date.now()}`;
      const connectionString = `${url}${url.includes("?") ? "&" : "?"}application_name=${appName}`;
      const store = await freshStore({ poolSize: 3, connectionString });
      const countConnections = async () =>
        (await query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [appName])).rows[0].n as number;
      try {
        const record = makeCancellation({ id: "01HPOOL" });
        await store.createCancellation(record);
        await store.insertRuns([makeRun({ id: "P1" })]);
        // Hold the record's row lock elsewhere so every batch blocks while holding a connection.
        await withClient(async (blocker) => {
          await blocker.query("BEGIN");
          await blocker.query(`SELECT 1 FROM "${store.schema}".cancellations WHERE id = $1 FOR UPDATE`, [record.id]);
          const batches = Array.from({ length: 8 }, (_, i) =>
            store.commitBatch({ cancellationId: record.id, runIds: ["P1"], checkpoint: { counts: { ...ZERO_COUNTS, scanned: i }, status: "running" } }),
          );
          let waiting = 0;
          for (let i = 0; i < 200 && waiting < 3; i++) {
            await new Promise((resolve) => setTimeout(resolve, 20));
            waiting = (
              await query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", [appName])
            ).rows[0].n;
          }
          expect(waiting).toBe(3);
          await new Promise((resolve) => setTimeout(resolve, 200));
          expect(await countConnections()).toBe(3);
          await blocker.query("COMMIT");
          const results = await Promise.all(batches);
          expect(results.every((r) => r.ok)).toBe(true);
          expect(results.flatMap((r) => (r.ok ? r.cancelled : []))).toEqual(["P1"]);
        }, url);
        expect(await countConnections()).toBeLessThanOrEqual(3);
      } finally {
        await store.close();
      }
      // A closed pool's connections leave pg_stat_activity once the server has finished with them:
      // wait for that rather than expect it at once.
      await pollFor(countConnections, (n) => n === 0, "the pool's connections to close");
    });
  });

  describe("parameterisation", () => {
    it("stores and finds runs and records whose every string is hostile SQL", async () => {
      const store = await freshStore();
      try {
        const runs: RunRecord[] = HOSTILE.map((text, i) =>
          makeRun({
            id: `H${i}`,
            environmentId: text,
            appId: text,
            functionId: text,
            startedAt: BASE_TIME + i,
            event: { name: text, id: text, data: { [text]: text, nested: { list: [text, { [text]: [text] }] } }, user: { [text]: text } },
          }),
        );
        await store.insertRuns(runs);
        for (const [i, text] of HOSTILE.entries()) {
          expect(await store.getRun(`H${i}`)).toEqual(runs[i]);
          const page = await store.scanRuns({ environmentId: text, appId: text, functionId: text, startedBefore: BASE_TIME + 100, limit: 10 });
          expect(page.runs.map((r) => r.id)).toEqual([`H${i}`]);
          // The same hostile text as a pushdown parameter.
          const pushed = await store.scanRuns({
            environmentId: text,
            appId: text,
            functionId: text,
            startedBefore: BASE_TIME + 100,
            limit: 10,
            pushdown: { predicate: atom({ k: "str", path: ["data", text], op: "==", value: text }) },
          });
          expect(pushed.runs.map((r) => r.id)).toEqual([`H${i}`]);
          const record = makeCancellation({ id: `01HCANCEL${i}`, environmentId: text, appId: text, functionId: text, if: text });
          expect(await store.createCancellation(record, { key: text, requestHash: text })).toEqual({ created: true, record });
          expect(await store.findByIdempotencyKey(text, text)).toEqual({ record, requestHash: text });
          const batch = await store.commitBatch({ cancellationId: record.id, runIds: [`H${i}`], checkpoint: { counts: ZERO_COUNTS, status: "running" } });
          expect(batch).toEqual({ ok: true, cancelled: [`H${i}`] });
          expect((await store.listCancellations({ environmentId: text })).records.map((r) => r.id)).toEqual([record.id]);
        }
        const counts = await query(`SELECT (SELECT count(*) FROM "${store.schema}".runs)::int AS runs, (SELECT count(*) FROM "${store.schema}".cancellations)::int AS records`);
        expect(counts.rows[0]).toEqual({ runs: HOSTILE.length, records: HOSTILE.length });
      } finally {
        await store.close();
      }
    });

    it("works in a schema whose name is hostile SQL", async () => {
      const schema = `ck"; DROP SCHEMA public; -- ${process.pid}`;
      const store = new PostgresRunStore({ connectionString: url, schema });
      try {
        await store.migrate();
        await store.insertRuns([makeRun({ id: "S1" })]);
        expect((await store.getRun("S1"))!.id).toBe("S1");
        const found = await query("SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1", [schema]);
        expect(found.rows[0].n).toBe(1);
        expect((await query("SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'public'")).rows[0].n).toBe(1);
      } finally {
        await store.close();
        await dropSchemas([schema], url);
      }
    });

    it("rejects a NUL in text columns with a typed error, and keeps NUL inside event strings exactly", async () => {
      const store = await freshStore();
      try {
        await expectStoreError(store.insertRuns([makeRun({ id: "N1", appId: "a\u0000b" })]), "invalid_run", /runs\[0\]: appId contains a NUL character/);
        await expectStoreError(store.insertRuns([makeRun({ id: "N1", functionId: "\u0000" })]), "invalid_run", /functionId/);
        await expectStoreError(
          store.createCancellation(makeCancellation({ id: "01HNUL", if: "event.name == '\u0000'" })),
          "invalid_cancellation",
          /if contains a NUL/,
        );
        await expectStoreError(store.createCancellation(makeCancellation({ id: "01HNUL" }), { key: "k\u0000", requestHash: "h" }), "invalid_cancellation", /idempotency key/);
        expect(await store.getCancellation("01HNUL")).toBeUndefined();
        // Lookups by such text find nothing rather than fail.
        expect((await store.scanRuns({ appId: "a\u0000b", functionId: "fn", startedBefore: BASE_TIME, limit: 5 })).runs).toEqual([]);
        expect(await store.findByIdempotencyKey("default", "k\u0000")).toBeUndefined();

        const withNul = makeRun({ id: "N2", event: { name: "e", data: { s: "a\u0000b", "k\u0000": ["\u0000"], n: 1 } } });
        const plain = makeRun({ id: "N3", event: { name: "e", data: { n: 2 } } });
        await store.insertRuns([withNul, plain]);
        expect(await store.getRun("N2")).toEqual(expectedStored(withNul));
        const forms = await query(`SELECT id, event IS NULL AS json_only FROM "${store.schema}".runs ORDER BY id`);
        expect(forms.rows).toEqual([
          { id: "N2", json_only: true },
          { id: "N3", json_only: false },
        ]);
        // The prefilter cannot judge the json-only row, so it is always kept (superset).
        const page = await store.scanRuns({
          appId: "app",
          functionId: "fn",
          startedBefore: BASE_TIME,
          limit: 10,
          pushdown: { predicate: atom({ k: "num", path: ["data", "n"], op: "==", value: 2 }) },
        });
        expect(page.runs.map((r) => r.id)).toEqual(["N2", "N3"]);
      } finally {
        await store.close();
      }
    });
  });

  describe("types", () => {
    it("round-trips extreme numbers exactly and full-unicode strings (property)", async () => {
      const store = await freshStore();
      try {
        const extremes = [Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE, 2 ** 53 + 2, 0.1, 1 / 3, 1e21, 1e-7, 123456789012345680000, -1.7976931348623157e308, 2.2250738585072014e-308];
        await store.insertRuns([makeRun({ id: "X0", event: { name: "e", data: { extremes } } })]);
        const got = (await store.getRun("X0"))!.event.data as { extremes: number[] };
        got.extremes.forEach((value, i) => expect(Object.is(value, extremes[i]), `${extremes[i]}`).toBe(true));

        const wellFormed = fc.string({ unit: "binary", maxLength: 12 }).filter((s) => !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s));
        const json = fc.letrec((tie) => ({
          value: fc.oneof(
            { depthSize: "small" },
            fc.constant(null),
            fc.boolean(),
            fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
            wellFormed,
            fc.array(tie("value"), { maxLength: 3 }),
            fc.dictionary(wellFormed, tie("value"), { maxKeys: 3 }),
          ),
        })).value;
        let n = 0;
        await fc.assert(
          fc.asyncProperty(fc.dictionary(wellFormed, json, { maxKeys: 4 }), async (data) => {
            const run = makeRun({ id: `U${n++}`, event: { name: "u", data } });
            await store.insertRuns([run]);
            const back = (await store.getRun(run.id))!.event.data;
            // jsonb sorts keys; compare as values (toEqual ignores key order).
            expect(back).toEqual(JSON.parse(JSON.stringify(data)));
          }),
          { numRuns: 80 },
        );
      } finally {
        await store.close();
      }
    });

    it("keeps bigint times and counts exact to the millisecond, and refuses an int8 beyond 2^53", async () => {
      const store = await freshStore();
      try {
        const times = [Number.MIN_SAFE_INTEGER, -1, 0, 1, BASE_TIME + 1, Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER];
        await store.insertRuns(times.map((startedAt, i) => makeRun({ id: `T${i}`, startedAt })));
        for (const [i, startedAt] of times.entries()) expect((await store.getRun(`T${i}`))!.startedAt).toBe(startedAt);
        const all = await scanAllPages(store, { appId: "app", functionId: "fn", startedAfter: Number.MIN_SAFE_INTEGER, startedBefore: Number.MAX_SAFE_INTEGER, limit: 2 });
        expect(all.runs.map((r) => r.startedAt)).toEqual(times);
        // Resuming exactly at each time skips nothing and repeats nothing.
        for (const [i, startedAt] of times.entries()) {
          const rest = await scanAllPages(store, { appId: "app", functionId: "fn", startedBefore: Number.MAX_SAFE_INTEGER, limit: 3 });
          const after = await store.scanRuns({ appId: "app", functionId: "fn", startedBefore: Number.MAX_SAFE_INTEGER, limit: 100, after: { startedAt, id: `T${i}` } });
          expect(after.runs.map((r) => r.id)).toEqual(rest.runs.slice(i + 1).map((r) => r.id));
        }
        const max = Number.MAX_SAFE_INTEGER;
        const record: CancellationRecord = makeCancellation({
          id: "01HBIG",
          startedAfter: -max,
          startedBefore: max,
          createdAt: 1.5,
          counts: { scanned: max, cancelled: max - 1, skipped_terminal: 1, not_matched: 0, expression_error: 0, non_boolean: 0 },
          cursor: { startedAt: max, id: "T6" },
        });
        await store.createCancellation(record);
        expect(await store.getCancellation(record.id)).toEqual(record);
        await query(`UPDATE "${store.schema}".runs SET started_at = 9007199254740993 WHERE id = 'T0'`);
        await expectStoreError(store.getRun("T0"), "storage", /9007199254740993 does not fit a JS safe integer/);
      } finally {
        await store.close();
      }
    });
  });

  describe("scan plan", () => {
    it("reads a page by an index range scan on runs_window_idx, never the whole window", async () => {
      const store = await freshStore();
      try {
        await store.insertRuns(generateRuns({ count: 20_000, seed: 4, spreadMs: 20_000, functionId: ["a", "b", "c", "d"] }));
        await query(`ANALYZE "${store.schema}".runs`);
        const base = { appId: "app", functionId: "b", startedBefore: BASE_TIME + 20_000, limit: 100 };
        const cursor = { startedAt: BASE_TIME + 5000, id: "0" };
        const pushdown = { predicate: atom({ k: "str", path: ["data", "plan"], op: "==", value: "pro" }) };
        const scans: ScanQuery[] = [base, { ...base, startedAfter: BASE_TIME + 100 }, { ...base, after: cursor }, { ...base, after: cursor, pushdown }];
        for (const scan of scans) {
          const plan = (await store.explainScan(scan, { analyze: true })).join("\n");
          expect(plan).toMatch(/Index Scan using runs_window_idx/);
          expect(plan).not.toMatch(/Seq Scan|Bitmap/);
          if (scan.after !== undefined) expect(plan).toMatch(/Index Cond: .*ROW\(started_at, id\) > ROW\(/);
          // The index scan stops after limit + 1 rows: keyset paging, not an offset or a full read.
          const indexRows = /Index Scan using runs_window_idx[^\n]*actual time=[\d.]+\.\.[\d.]+ rows=(\d+)/.exec(plan);
          expect(Number(indexRows![1])).toBeLessThanOrEqual(base.limit + 1);
        }
      } finally {
        await store.close();
      }
    });
  });

  describe("pushdown", () => {
    const window = { appId: "app", functionId: "fn", startedBefore: BASE_TIME + 100 };

    it("reads a page unfiltered when the predicate raises a data error (a jsonb number beyond float8)", async () => {
      const store = await freshStore();
      try {
        await store.insertRuns([
          makeRun({ id: "D1", event: { name: "e", data: { n: 1 } } }),
          makeRun({ id: "D2", event: { name: "e", data: { n: 2 } } }),
          makeRun({ id: "D3", event: { name: "e", data: {} } }),
        ]);
        const pushdown = { predicate: atom({ k: "num", path: ["data", "n"], op: "==", value: 1 }) };
        const narrowed = await store.scanRuns({ ...window, limit: 10, pushdown });
        expect(narrowed.runs.map((r) => r.id)).toEqual(["D1"]);
        expect(narrowed.prefiltered).toBe(2);
        // Written behind the store's back (its own writes hold only doubles): the cast fails.
        await query(`UPDATE "${store.schema}".runs SET event = jsonb_set(event, '{data,n}', '1e400') WHERE id = 'D2'`);
        const failing = await store.scanRuns({ ...window, limit: 10, pushdown });
        expect(failing.runs.map((r) => r.id)).toEqual(["D1", "D2", "D3"]);
        expect(failing.prefiltered ?? 0).toBe(0);
      } finally {
        await store.close();
      }
    });

    it("numbers the predicate's placeholders after the window's own, whatever the window binds", async () => {
      const store = await freshStore();
      try {
        await store.insertRuns([
          makeRun({ id: "R1", event: { name: "e", data: { tag: "$1", n: 1 } } }),
          makeRun({ id: "R2", event: { name: "e", data: { tag: "a", n: 2 } } }),
          makeRun({ id: "R3", event: { name: "e", data: { tag: "b", n: 3 } } }),
          makeRun({ id: "R4", event: { name: "e", data: { tag: "a", n: 9 } } }),
        ]);
        const predicate = and(
          or(atom({ k: "str", path: ["data", "tag"], op: "==", value: "$1" }), atom({ k: "strIn", path: ["data", "tag"], values: ["a", "$2"] })),
          atom({ k: "num", path: ["data", "n"], op: "<", value: 3 }),
        );
        const windows = [
          { ...window, limit: 10 },
          { ...window, startedAfter: BASE_TIME - 5, limit: 10 },
          { ...window, after: { startedAt: BASE_TIME - 1, id: "Z" }, startedAfter: BASE_TIME - 5, limit: 10 },
          { ...window, after: { startedAt: BASE_TIME - 1, id: "Z" }, limit: 3 },
        ];
        for (const scan of windows) {
          const page = await store.scanRuns({ ...scan, pushdown: { predicate } });
          expect(page.runs.map((r) => r.id), JSON.stringify(scan)).toEqual(["R1", "R2"]);
        }
        // Hints are predicate trees: SQL text is refused.
        const raw = { postgres: { sql: "event->>'a' = $1", params: ["x"] } } as unknown as PushdownHint;
        await expectStoreError(store.scanRuns({ ...window, limit: 10, pushdown: raw }), "invalid_query", /pushdown\.predicate/);
      } finally {
        await store.close();
      }
    });

    it("pages to the end, never skipping a matching run, with exact prefiltered counts (property)", async () => {
      const store = await freshStore();
      try {
        let iteration = 0;
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.record({ t: fc.integer({ min: 0, max: 6 }), n: fc.integer({ min: 0, max: 4 }) }), { maxLength: 80 }),
            fc.integer({ min: 1, max: 12 }),
            fc.integer({ min: 0, max: 5 }),
            async (specs, limit, wanted) => {
              const appId = `pd-${iteration++}`;
              const runs = specs.map((s, i) => makeRun({ id: `P${String(i).padStart(3, "0")}`, appId, startedAt: BASE_TIME + s.t, event: { name: "e", data: { n: s.n } } }));
              // Ids are reused across iterations: each iteration's runs replace the last ones'.
              await store.insertRuns(runs);
              const scan = { appId, functionId: "fn", startedBefore: BASE_TIME + 5, limit, pushdown: { predicate: atom({ k: "num", path: ["data", "n"], op: "==", value: wanted }) } };
              const { runs: got, pages } = await scanAllPages(store, scan, 1000);
              const inWindow = windowOracle(runs, scan);
              expect(got.map((r) => r.id)).toEqual(inWindow.filter((r) => (r.event.data as { n: number }).n === wanted).map((r) => r.id));
              expect(pages.reduce((sum, p) => sum + (p.prefiltered ?? 0) + p.runs.length, 0)).toBe(inWindow.length);
              for (const page of pages) expect(page.runs.length + (page.prefiltered ?? 0)).toBeLessThanOrEqual(limit);
            },
          ),
          { numRuns: 40 },
        );
      } finally {
        await store.close();
      }
    });
  });

  describe("writes", () => {
    it("inserts large batches across statement chunks, last duplicate winning", async () => {
      const store = await freshStore();
      try {
        const runs = generateRuns({ count: 12_000, seed: 9, statuses: ["running"] });
        const replaced = { ...runs[17]!, status: "queued" as const, event: { name: "replaced", data: { v: 1 } } };
        await store.insertRuns([...runs, replaced]);
        const stored = await query(`SELECT count(*)::int AS n FROM "${store.schema}".runs`);
        expect(stored.rows[0].n).toBe(12_000);
        expect(await store.getRun(runs[17]!.id)).toEqual(expectedStored(replaced));
        expect(await store.getRun(runs[11_999]!.id)).toEqual(expectedStored(runs[11_999]!));
      } finally {
        await store.close();
      }
    });

    it("a delete racing a batch: the batch either committed whole before it or changed nothing", async () => {
      const store = await freshStore({ poolSize: 6 });
      try {
        for (let round = 0; round < 15; round++) {
          const record = makeCancellation({ id: `01HRACE${String(round).padStart(2, "0")}` });
          await store.createCancellation(record);
          const ids = [`RA${round}-1`, `RA${round}-2`, `RA${round}-3`];
          await store.insertRuns(ids.map((id) => makeRun({ id })));
          const [result, deleted] = await Promise.all([
            store.commitBatch({ cancellationId: record.id, runIds: ids, checkpoint: { counts: { ...ZERO_COUNTS, scanned: 3, cancelled: 3 }, status: "running" } }),
            store.deleteCancellation(record.id),
          ]);
          expect(deleted).toBe(true);
          const statuses = await Promise.all(ids.map(async (id) => (await store.getRun(id))!.status));
          if (result.ok) {
            expect([...result.cancelled].sort()).toEqual(ids);
            expect(statuses).toEqual(["cancelled", "cancelled", "cancelled"]);
          } else {
            expect(statuses).toEqual(["running", "running", "running"]);
          }
          expect(await store.getCancellation(record.id)).toBeUndefined();
        }
      } finally {
        await store.close();
      }
    });
  });
});
