/**
 * Issue 12, item 2: a timestamp outside years 0001–9999 once its offset is applied is refused by
 * validation on every route and in the CLI, before anything is stored, on SQLite and PostgreSQL;
 * a record that holds one all the same (written into the database by hand) never fails the
 * listing, `GET /:id`, `cancelkit list` or `show`. Property-tested over RFC 3339 edge cases: every
 * answer is 200 or 400 exactly as an oracle says, and every stored record reads back.
 */
import Database from "better-sqlite3";
import fc from "fast-check";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ulid } from "ulid";
import { afterAll, describe, expect, it } from "vitest";
import { parseTimestamp } from "../../src/cancel/request.js";
import { main, type CliIo } from "../../src/service/cli.js";
import { createServer, type CancelkitServer } from "../../src/service/server.js";
import { PostgresRunStore } from "../../src/stores/postgres.js";
import { SqliteRunStore } from "../../src/stores/sqlite.js";
import type { RunStore } from "../../src/stores/types.js";
import { describePostgres, withClient } from "../support/postgres.js";
import { expectedInstant, rfc3339Text } from "../support/rfc3339.js";

const KEY = "signkey-test-timestamps-0000000";
const NOW = Date.parse("2024-06-01T12:00:00Z");
const BEFORE = "2020-01-01T00:00:00Z";
/** The issue's reproduction. */
const YEAR_MINUS_ONE = "0000-01-01T00:00:00+00:01";
const REPRODUCTION = { app_id: "x", function_id: "y", started_after: YEAR_MINUS_ONE, started_before: BEFORE };
const dir = mkdtempSync(join(tmpdir(), "cancelkit-timestamps-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function serverOn(store: RunStore): CancelkitServer {
  return createServer({ store, keys: { [KEY]: "env" }, now: () => NOW, resume: false, ui: false });
}

async function inject(server: CancelkitServer, method: "GET" | "POST" | "DELETE", url: string, body?: unknown) {
  const response = await server.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${KEY}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
  let json: any;
  try {
    json = JSON.parse(response.body);
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, json, body: response.body };
}

/** Every record of the environment, read through every page; each must also answer `GET /:id`. */
async function everyRecord(server: CancelkitServer): Promise<any[]> {
  const records: any[] = [];
  let cursor: string | null = null;
  do {
    const page = await inject(server, "GET", `/v1/cancellations?limit=1000${cursor === null ? "" : `&cursor=${cursor}`}`);
    expect(page.status, page.body).toBe(200);
    records.push(...page.json.data);
    cursor = page.json.next_cursor;
  } while (cursor !== null);
  for (const record of records) {
    const one = await inject(server, "GET", `/v1/cancellations/${record.id}`);
    expect(one.status, one.body).toBe(200);
  }
  return records;
}

/** A record the wire writes back whole: no `unreadable`, every timestamp RFC 3339 again. */
function expectReadable(record: any): void {
  expect(record.unreadable).toBeUndefined();
  for (const field of ["started_before", "created_at", "updated_at"]) expect(parseTimestamp(record[field]).ok, `${field} ${record[field]}`).toBe(true);
  if (record.started_after !== null) expect(parseTimestamp(record.started_after).ok).toBe(true);
}

/** The issue's reproductions on one store: each is a 400 naming the field, and nothing is stored. */
async function reproductions(store: RunStore): Promise<void> {
  const server = serverOn(store);
  try {
    const message = `started_after must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z once its offset is applied, got "${YEAR_MINUS_ONE}"`;
    const created = await inject(server, "POST", "/v1/cancellations", REPRODUCTION);
    expect(created.json).toEqual({ error: message, data: null, status: 400 });
    const dry = await inject(server, "POST", "/v1/cancellations?dry_run=true", REPRODUCTION);
    expect(dry.json).toEqual({ error: message, data: null, status: 400 });
    const preview = await inject(server, "POST", "/v1/cancellations/preview", REPRODUCTION);
    expect(preview.json).toEqual({ error: message, data: null, status: 400 });
    // `started_before` alone, in year −1 and in year 10000.
    for (const before of [YEAR_MINUS_ONE, "9999-12-31T23:59:59-00:01"]) {
      const alone = await inject(server, "POST", "/v1/cancellations", { app_id: "x", function_id: "y", started_before: before });
      expect(alone.status).toBe(400);
      expect(alone.json.error).toMatch(/^started_before must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59\.999Z once its offset is applied/);
    }
    expect(await store.listCancellations({ limit: 10 })).toEqual({ records: [] });
    expect(await everyRecord(server)).toEqual([]);
  } finally {
    await server.close();
  }
}

/**
 * The property on one store: for each generated text, the create, dry-run and preview routes
 * answer 200 exactly when the oracle takes the text (and the window is valid), 400 otherwise,
 * never anything else; then every stored record reads back whole.
 */
async function routesProperty(store: RunStore, numRuns: number): Promise<void> {
  const server = serverOn(store);
  let created = 0;
  try {
    await fc.assert(
      fc.asyncProperty(rfc3339Text, fc.boolean(), async (text, asAfter) => {
        const instant = expectedInstant(text);
        const body = asAfter ? { app_id: "a", function_id: "f", started_after: text, started_before: BEFORE } : { app_id: "a", function_id: "f", started_before: text };
        const limit = asAfter ? Date.parse(BEFORE) : NOW + 5000;
        const ok = instant !== undefined && (instant.ms < limit || (instant.ms === limit && instant.nanos === 0));
        for (const url of ["/v1/cancellations", "/v1/cancellations?dry_run=true", "/v1/cancellations/preview"]) {
          const answer = await inject(server, "POST", url, body);
          expect(answer.status, `${url} ${text}: ${answer.body.slice(0, 300)}`).toBe(ok ? 200 : 400);
          if (!ok) expect(answer.json).toMatchObject({ data: null, status: 400 });
          if (ok && url === "/v1/cancellations") {
            created++;
            expectReadable(answer.json);
          }
        }
      }),
      { numRuns },
    );
    const records = await everyRecord(server);
    expect(records).toHaveLength(created);
    for (const record of records) expectReadable(record);
  } finally {
    await server.close();
  }
}

describe("timestamps outside years 0001–9999 (SQLite)", () => {
  it("the issue's reproductions answer 400 on every route and store nothing", async () => {
    await reproductions(new SqliteRunStore({ path: ":memory:" }));
  });

  it("every RFC 3339 edge case answers 200 or 400 as the oracle says, and every stored record reads back (property)", async () => {
    await routesProperty(new SqliteRunStore({ path: ":memory:" }), 150);
  });

  it("a record already stored with an out-of-span timestamp is shown as unreadable and never fails the others", async () => {
    const path = join(dir, "poison.db");
    const store = new SqliteRunStore({ path });
    const server = serverOn(store);
    try {
      const good = (await inject(server, "POST", "/v1/cancellations", { app_id: "a", function_id: "f", started_before: BEFORE })).json;
      const poison = (await inject(server, "POST", "/v1/cancellations", { app_id: "a", function_id: "f", started_after: "2019-01-01T00:00:00Z", started_before: BEFORE })).json;
      expect(typeof poison.id).toBe("string");
      // What the issue's request stored before the fix: year −1 and a year 10000 creation time.
      const raw = new Database(path);
      raw.prepare("UPDATE cancellations SET started_after = ?, created_at = ? WHERE id = ?").run(-62_167_219_260_000, 253_402_300_800_000, poison.id);
      raw.close();
      await expectPoisonShown(server, good.id, poison.id, false);
    } finally {
      await server.close();
      await store.close();
    }
    // The CLI lists and shows both.
    const list = await cli(["list", "--db", path]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.split("\n").filter((line) => /^[0-9A-Z]{26} /.test(line))).toHaveLength(2);
    expect(list.stderr).toMatch(/warning: cancellation [0-9A-Z]{26} is unreadable: started_after: the stored value -62\d+ \(epoch ms\) lies outside years 0001-9999; created_at: /);
    const json = await cli(["list", "--db", path, "--json"]);
    expect(json.code, json.stderr).toBe(0);
    const lines = json.stdout.trim().split("\n").map((line) => JSON.parse(line));
    expect(lines.filter((record) => record.unreadable !== undefined)).toHaveLength(1);
    for (const record of lines) {
      const show = await cli(["show", record.id, "--db", path]);
      expect(show.code, show.stderr).toBe(0);
      expect(JSON.parse(show.stdout).id).toBe(record.id);
    }
    const poisoned = lines.find((record) => record.unreadable !== undefined);
    // A server starts over such a store (loading the lazy check, resuming the unfinished record),
    // answers checks, and deletes the record.
    const raw = new Database(path);
    raw.prepare("UPDATE cancellations SET status = 'running' WHERE id = ?").run(poisoned.id);
    raw.close();
    const reopened = new SqliteRunStore({ path });
    const again = createServer({ store: reopened, keys: { [KEY]: "env" }, now: () => NOW, ui: false });
    try {
      const url = await again.listen({ host: "127.0.0.1", port: 0 });
      const check = await fetch(`${url}/v1/cancellations/check`, {
        method: "POST",
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ app_id: "a", function_id: "f", run_id: ulid(Date.parse("2019-06-01T00:00:00Z")), event: { data: {} } }),
      });
      expect(check.status).toBe(200);
      // Both windows hold the run; the good record is the older (the other's creation time is in year 10000).
      expect(await check.json()).toEqual({ cancelled: true, cancellation_id: lines.find((record) => record.unreadable === undefined).id });
      expect((await inject(again, "DELETE", `/v1/cancellations/${poisoned.id}`)).json).toEqual({ ok: true });
      expect(await everyRecord(again)).toHaveLength(1);
    } finally {
      await again.close();
      await reopened.close();
    }
  });
});

/** `GET` list and `GET /:id` answer both records, the poisoned one marked; `DELETE` removes it when `remove`. */
async function expectPoisonShown(server: CancelkitServer, goodId: string, poisonId: string, remove: boolean): Promise<void> {
  const records = await everyRecord(server);
  expect(records.map((record) => record.id).sort()).toEqual([goodId, poisonId].sort());
  expectReadable(records.find((record) => record.id === goodId));
  const shown = (await inject(server, "GET", `/v1/cancellations/${poisonId}`)).json;
  expect(shown).toMatchObject({ id: poisonId, started_after: null, created_at: null, started_before: "2020-01-01T00:00:00.000Z" });
  expect(shown.unreadable).toMatch(/^started_after: the stored value -?\d+(\.\d+)? \(epoch ms\) lies outside years 0001-9999; created_at: /);
  if (!remove) return;
  expect((await inject(server, "DELETE", `/v1/cancellations/${poisonId}`)).json).toEqual({ ok: true });
  expect((await everyRecord(server)).map((record) => record.id)).toEqual([goodId]);
}

/** Runs the CLI in this process. */
async function cli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { PATH: process.env["PATH"] ?? "" },
    onSignal: () => () => undefined,
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

describe("run start times outside years 0001–9999 (a store takes any integer)", () => {
  it("GET /v1/functions shows such a start time as null rather than failing", async () => {
    const store = new SqliteRunStore({ path: ":memory:" });
    const event = { name: "e", data: {} };
    await store.insertRuns([
      { id: "RUN-EARLY", environmentId: "env", appId: "a", functionId: "f", startedAt: Number.MIN_SAFE_INTEGER, status: "queued", event },
      { id: "RUN-NOW", environmentId: "env", appId: "a", functionId: "f", startedAt: NOW, status: "queued", event },
      { id: "RUN-LATE", environmentId: "env", appId: "a", functionId: "g", startedAt: NOW, status: "queued", event },
      { id: "RUN-FAR", environmentId: "env", appId: "a", functionId: "g", startedAt: Number.MAX_SAFE_INTEGER, status: "queued", event },
    ]);
    const server = serverOn(store);
    try {
      const answer = await inject(server, "GET", "/v1/functions");
      expect(answer.status, answer.body).toBe(200);
      expect(answer.json.data.map((fn: any) => [fn.function_id, fn.first_started_at, fn.last_started_at])).toEqual([
        ["f", null, "2024-06-01T12:00:00.000Z"],
        ["g", "2024-06-01T12:00:00.000Z", null],
      ]);
    } finally {
      await server.close();
      await store.close();
    }
  });
});

describe("timestamps outside years 0001–9999 (CLI)", () => {
  it("`cancel --after` in year −1 is a usage error (exit 2) that stores nothing", async () => {
    const path = join(dir, "cli.db");
    await new SqliteRunStore({ path }).close();
    const result = await cli(["cancel", "--db", path, "--app", "x", "--function", "y", "--after", YEAR_MINUS_ONE, "--before", BEFORE]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `cancelkit: --after: cannot read "${YEAR_MINUS_ONE}" as a time (the instant, once its offset is applied, must lie between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z)\n`,
    );
    const list = await cli(["list", "--db", path]);
    expect(list).toEqual({ code: 0, stdout: "no cancellations\n", stderr: "" });
  });

  it("every RFC 3339 edge case as --after or --before exits 0 or 2 as the oracle says; list and show then read every record (property)", async () => {
    const path = join(dir, "cli-property.db");
    await new SqliteRunStore({ path }).close();
    let created = 0;
    await fc.assert(
      fc.asyncProperty(rfc3339Text, fc.boolean(), async (text, asAfter) => {
        const instant = expectedInstant(text);
        const window = asAfter ? ["--after", text, "--before", BEFORE] : ["--before", text];
        const limit = asAfter ? Date.parse(BEFORE) : Date.now() + 5000;
        const ok = instant !== undefined && (instant.ms < limit || (instant.ms === limit && instant.nanos === 0));
        const result = await cli(["cancel", "--db", path, "--app", "a", "--function", "f", ...window]);
        expect(result.code, `${text}: ${result.stderr}`).toBe(ok ? 0 : 2);
        if (ok) created++;
      }),
      { numRuns: 60 },
    );
    const list = await cli(["list", "--db", path, "--json", "--limit", "1000"]);
    expect(list.code, list.stderr).toBe(0);
    const records = list.stdout.trim() === "" ? [] : list.stdout.trim().split("\n").map((line) => JSON.parse(line));
    expect(records).toHaveLength(created);
    for (const record of records) expectReadable(record);
  });
});

await describePostgres("timestamps outside years 0001–9999 (PostgreSQL)", ({ url, newSchema }) => {
  const open = async (): Promise<PostgresRunStore> => {
    const store = new PostgresRunStore({ connectionString: url, schema: newSchema(), poolSize: 2 });
    await store.migrate();
    return store;
  };

  it("the issue's reproductions answer 400 on every route and store nothing", async () => {
    const store = await open();
    try {
      await reproductions(store);
    } finally {
      await store.close();
    }
  });

  it("every RFC 3339 edge case answers 200 or 400 as the oracle says, and every stored record reads back (property)", async () => {
    const store = await open();
    try {
      await routesProperty(store, 40);
    } finally {
      await store.close();
    }
  });

  it("a record already stored with an out-of-span timestamp (or NaN, which PostgreSQL holds) is shown as unreadable", async () => {
    const store = await open();
    const server = serverOn(store);
    try {
      const good = (await inject(server, "POST", "/v1/cancellations", { app_id: "a", function_id: "f", started_before: BEFORE })).json;
      const poison = (await inject(server, "POST", "/v1/cancellations", { app_id: "a", function_id: "f", started_after: "2019-01-01T00:00:00Z", started_before: BEFORE })).json;
      await withClient((client) =>
        client.query(`UPDATE ${client.escapeIdentifier(store.schema)}.cancellations SET started_after = -62167219260000, created_at = 'NaN' WHERE id = $1`, [poison.id]),
      url);
      await expectPoisonShown(server, good.id, poison.id, true);
    } finally {
      await server.close();
      await store.close();
    }
  });
});
