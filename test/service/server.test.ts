/**
 * The HTTP service over real HTTP on loopback: every endpoint, every error status, auth and
 * environment isolation, the seed's request body verbatim, dry run, idempotency, server-sent
 * events, and DELETE stopping a running job.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SigningKeys } from "../../src/service/auth.js";
import { MemoryRunStore } from "../../src/stores/memory.js";
import { SqliteRunStore } from "../../src/stores/sqlite.js";
import type { RunStore } from "../../src/stores/types.js";
import { call, cancelledBy, expectedOutcome, makeRuns, pollCancellation, readEvents, startServer, USER, type Running, type RunSpec } from "./helpers.js";

const KEY_A = "signkey-test-aaaaaaaaaaaaaaaa";
const KEY_B = "signkey-test-bbbbbbbbbbbbbbbb";
const KEYS = { [KEY_A]: "env-a", [KEY_B]: "env-b" };

/** The docs' request body, byte for byte as in Inngest's documentation. */
const SEED_BODY = `{
    "app_id": "acme-app",
    "function_id": "schedule-reminder",
    "started_after": "2024-01-21T18:23:12.000Z",
    "started_before": "2024-01-22T14:22:42.130Z",
    "if": "event.data.userId == 'user_o9235hf84hf'"
  }`;
const SEED_AFTER = Date.parse("2024-01-21T18:23:12.000Z");
const SEED_BEFORE = Date.parse("2024-01-22T14:22:42.130Z");

const started: Running[] = [];
afterEach(async () => {
  while (started.length > 0) await started.pop()!.server.close();
});

async function serve(store: RunStore, options: Partial<Parameters<typeof startServer>[0]> = {}): Promise<Running> {
  const running = await startServer({ store, keys: KEYS, ...options });
  started.push(running);
  return running;
}

/** Runs of the seed's function around its window, in two environments. */
function seedRuns(environmentId: string, seed: number) {
  const specs: RunSpec[] = [];
  const statuses = ["sleeping", "queued", "running", "waiting", "completed", "failed", "cancelled"] as const;
  for (let i = 0; i < 400; i++) {
    // From 2 hours before the window to 2 hours after it; the bounds themselves are included.
    const startedAt = i === 0 ? SEED_AFTER : i === 1 ? SEED_BEFORE : i === 2 ? SEED_AFTER - 1 : i === 3 ? SEED_BEFORE + 1 : SEED_AFTER - 7_200_000 + Math.floor(((SEED_BEFORE - SEED_AFTER + 14_400_000) * i) / 400);
    specs.push({ environmentId, startedAt, userId: i % 3 === 0 || i < 4 ? USER : `user_${i}`, status: statuses[i % statuses.length]! });
  }
  // Same user, another function: never touched.
  for (let i = 0; i < 20; i++) specs.push({ environmentId, functionId: "send-digest", startedAt: SEED_AFTER + i * 1000, userId: USER });
  return makeRuns(specs, seed);
}

describe("POST /v1/cancellations", () => {
  it("takes the docs' body verbatim and cancels exactly the matching runs (SQLite)", async () => {
    const store = new SqliteRunStore({ path: ":memory:" });
    const runs = [...seedRuns("env-a", 1), ...seedRuns("env-b", 2)];
    await store.insertRuns(runs);
    const { url, server } = await serve(store, { closeStore: true });
    const response = await call(`${url}/v1/cancellations`, KEY_A, { body: SEED_BODY });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const created = response.json;
    // The fields of Inngest's documented response, then ours.
    expect(created).toMatchObject({
      environment_id: "env-a",
      function_id: "schedule-reminder",
      started_after: "2024-01-21T18:23:12.000Z",
      started_before: "2024-01-22T14:22:42.130Z",
      if: "event.data.userId == 'user_o9235hf84hf'",
      app_id: "acme-app",
      status: "running",
    });
    expect(created.id).toMatch(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
    expect(Date.parse(created.created_at)).toBeGreaterThan(Date.now() - 60_000);

    await server.jobs.idle();
    const expected = expectedOutcome(runs, { environmentId: "env-a", appId: "acme-app", functionId: "schedule-reminder", after: SEED_AFTER, before: SEED_BEFORE, userId: USER });
    expect(expected.counts.cancelled).toBeGreaterThan(20);
    expect(expected.counts.skipped_terminal).toBeGreaterThan(10);
    const final = (await call(`${url}/v1/cancellations/${created.id}`, KEY_A)).json;
    expect(final.status).toBe("completed");
    expect(final.counts).toEqual(expected.counts);
    expect(final.progress).toBeNull();
    // Exactly the oracle's runs changed, and only those.
    expect(await cancelledBy(store, runs, created.id)).toEqual(expected.cancel);
    for (const run of runs) {
      const now = await store.getRun(run.id);
      if (!expected.cancel.has(run.id)) expect(now!.status).toBe(run.status);
    }
  });

  it("answers every Inngest validation message, joined by newlines, with status 400", async () => {
    const now = Date.parse("2024-02-01T00:00:00.000Z");
    const { url } = await serve(new MemoryRunStore(), { now: () => now });
    const post = (body: unknown) => call(`${url}/v1/cancellations`, KEY_A, { body });
    const cases: [unknown, string][] = [
      [{}, "app_id is required\nfunction_id is required\nstarted_before is required"],
      [{ app_id: "a", function_id: "f", started_before: "2024-02-01T00:00:05.001Z" }, "started_before must be in the past"],
      [{ app_id: "a", function_id: "f", started_after: "2024-01-02T00:00:00Z", started_before: "2024-01-01T00:00:00Z" }, "started_after must be before started_before"],
      [{ app_id: "", function_id: "f", started_before: "2024-01-01T00:00:00Z" }, "app_id is required"],
    ];
    for (const [body, message] of cases) {
      const response = await post(body);
      expect(response.status).toBe(400);
      expect(response.json).toEqual({ error: message, data: null, status: 400 });
    }
    const badIf = await post({ app_id: "a", function_id: "f", started_before: "2024-01-01T00:00:00Z", if: "event.data.x ==" });
    expect(badIf.status).toBe(400);
    expect(badIf.json.error).toMatch(/^invalid expression: ERROR: <input>:1:\d+: Syntax error/);
    expect(badIf.json.error).toContain("\n | event.data.x ==\n | ");
    // Shape problems are named (a JSON array, a wrong type, an unknown field).
    expect((await post([1])).json.error).toBe("request body must be a JSON object, got an array");
    expect((await post({ app_id: 5, function_id: "f", started_before: "2024-01-01T00:00:00Z" })).json.error).toBe("app_id must be a string, got a number");
    expect((await post({ app_id: "a", function_id: "f", started_before: "2024-01-01T00:00:00Z", started_afer: "x" })).json.error).toMatch(/^unknown field "started_afer"/);
    // The zero-length window (equal bounds) is allowed.
    const equal = await post({ app_id: "a", function_id: "f", started_after: "2024-01-01T00:00:00Z", started_before: "2024-01-01T00:00:00Z" });
    expect(equal.status).toBe(200);
  });

  it("answers malformed JSON 400, a wrong content type 415, an oversized body 413, an empty body 400", async () => {
    const { url } = await serve(new MemoryRunStore(), { bodyLimit: 2048 });
    const endpoint = `${url}/v1/cancellations`;
    const malformed = await call(endpoint, KEY_A, { body: "{bad json" });
    expect(malformed.status).toBe(400);
    expect(malformed.json).toMatchObject({ data: null, status: 400 });
    expect(malformed.json.error).toMatch(/^Invalid cancellation request: malformed JSON/);

    const text = await call(endpoint, KEY_A, { body: SEED_BODY, headers: { "content-type": "text/plain" } });
    expect(text.status).toBe(415);
    expect(text.json).toMatchObject({ data: null, status: 415 });
    const form = await call(endpoint, KEY_A, { body: "app_id=a", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(form.status).toBe(415);

    const big = await call(endpoint, KEY_A, { body: { app_id: "a", function_id: "f", started_before: "2024-01-01T00:00:00Z", if: `event.data.x == '${"x".repeat(4000)}'` } });
    expect(big.status).toBe(413);
    expect(big.json).toEqual({ error: "Request body is too large (limit 2048 bytes)", data: null, status: 413 });

    const empty = await call(endpoint, KEY_A, { method: "POST" });
    expect(empty.status).toBe(400);
    expect(empty.json).toEqual({ error: "Invalid cancellation request: the body is empty", data: null, status: 400 });
    const emptyJson = await call(endpoint, KEY_A, { body: "" , headers: { "content-type": "application/json" }, method: "POST" });
    expect(emptyJson.status).toBe(400);

    // A 1 MB `if` with the default limit: accepted as a body, answered by the planner's check.
    const { url: url2 } = await serve(new MemoryRunStore());
    const huge = await call(`${url2}/v1/cancellations`, KEY_A, {
      body: { app_id: "a", function_id: "f", started_before: "2024-01-01T00:00:00Z", if: `event.data.x == '${"y".repeat(1_000_000)}'` },
    });
    expect(huge.status).toBe(400);
    expect(huge.json.error).toMatch(/^invalid expression: /);
    expect(huge.json.error.length).toBeLessThan(5000);
  });

  it("dry run: exact counts and a sample, nothing written", async () => {
    const store = new MemoryRunStore();
    const runs = seedRuns("env-a", 3);
    await store.insertRuns(runs);
    const { url } = await serve(store);
    const response = await call(`${url}/v1/cancellations?dry_run=true`, KEY_A, { body: SEED_BODY });
    expect(response.status).toBe(200);
    const expected = expectedOutcome(runs, { environmentId: "env-a", appId: "acme-app", functionId: "schedule-reminder", after: SEED_AFTER, before: SEED_BEFORE, userId: USER });
    expect(response.json).toMatchObject({ dry_run: true, environment_id: "env-a", app_id: "acme-app", function_id: "schedule-reminder", counts: expected.counts });
    expect(response.json.id).toBeUndefined();
    expect(response.json.sample.length).toBe(Math.min(20, expected.cancel.size));
    for (const id of response.json.sample) expect(expected.cancel.has(id)).toBe(true);
    // Nothing was written: no record, no run changed.
    expect((await call(`${url}/v1/cancellations`, KEY_A)).json.data).toEqual([]);
    for (const run of runs) expect((await store.getRun(run.id))!.status).toBe(run.status);
    // A bad dry_run value.
    const bad = await call(`${url}/v1/cancellations?dry_run=maybe`, KEY_A, { body: SEED_BODY });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toBe("dry_run must be true or false");
  });

  it("Idempotency-Key: the same body returns the same cancellation; another body is a 409", async () => {
    const store = new MemoryRunStore();
    const runs = seedRuns("env-a", 4);
    await store.insertRuns(runs);
    const { url, server } = await serve(store);
    const first = await call(`${url}/v1/cancellations`, KEY_A, { body: SEED_BODY, headers: { "idempotency-key": "retry-1" } });
    expect(first.status).toBe(200);
    await server.jobs.idle();
    const again = await call(`${url}/v1/cancellations`, KEY_A, { body: SEED_BODY, headers: { "idempotency-key": "retry-1" } });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.json.id).toBe(first.json.id);
    expect(again.json.status).toBe("completed");
    // The same instant written another way is the same request.
    const sameWindow = JSON.parse(SEED_BODY);
    sameWindow.started_after = "2024-01-21T19:23:12+01:00";
    expect((await call(`${url}/v1/cancellations`, KEY_A, { body: sameWindow, headers: { "idempotency-key": "retry-1" } })).json.id).toBe(first.json.id);
    const other = { ...JSON.parse(SEED_BODY), if: "event.data.userId == 'someone-else'" };
    const conflict = await call(`${url}/v1/cancellations`, KEY_A, { body: other, headers: { "idempotency-key": "retry-1" } });
    expect(conflict.status).toBe(409);
    expect(conflict.json.status).toBe(409);
    expect(conflict.json.error).toMatch(/already used for another request/);
    expect(conflict.json.data).toEqual({ cancellation_id: first.json.id });
    // Only one cancellation exists, and it ran once.
    expect((await call(`${url}/v1/cancellations`, KEY_A)).json.data.map((c: { id: string }) => c.id)).toEqual([first.json.id]);
    // Another environment's key space is its own.
    const inB = await call(`${url}/v1/cancellations`, KEY_B, { body: SEED_BODY, headers: { "idempotency-key": "retry-1" } });
    expect(inB.status).toBe(200);
    expect(inB.json.id).not.toBe(first.json.id);
    const badKey = await call(`${url}/v1/cancellations`, KEY_A, { body: SEED_BODY, headers: { "idempotency-key": "x".repeat(300) } });
    expect(badKey.status).toBe(400);
  });
});

describe("GET, DELETE and the event stream", () => {
  it("lists newest first in pages with next_cursor", async () => {
    const { url, server } = await serve(new MemoryRunStore());
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await call(`${url}/v1/cancellations`, KEY_A, { body: { app_id: "a", function_id: `f${i}`, started_before: "2024-01-01T00:00:00Z" } })).json.id);
    await server.jobs.idle();
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? "?limit=2" : `?limit=2&cursor=${cursor}`;
      const page = await call(`${url}/v1/cancellations${query}`, KEY_A);
      expect(page.status).toBe(200);
      expect(page.json.data.length).toBeLessThanOrEqual(2);
      for (const record of page.json.data) {
        expect(record.status).toBe("completed");
        seen.push(record.id);
      }
      cursor = page.json.next_cursor;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
    const all = await call(`${url}/v1/cancellations`, KEY_A);
    expect(all.json.data.length).toBe(5);
    expect(all.json.next_cursor).toBeNull();
    for (const bad of ["0", "1001", "abc", "-1", "2.5"]) {
      const response = await call(`${url}/v1/cancellations?limit=${bad}`, KEY_A);
      expect(response.status).toBe(400);
      expect(response.json.error).toBe("limit must be an integer from 1 to 1000");
    }
    expect((await call(`${url}/v1/cancellations?cursor=nope`, KEY_A)).json).toEqual({ error: "Invalid cursor", data: null, status: 400 });
    expect((await call(`${url}/healthz`, undefined)).json).toEqual({ ok: true });
  });

  it("GET one shows progress while the job runs; DELETE stops it, runs cancelled stay cancelled", async () => {
    const store = new MemoryRunStore();
    const base = Date.parse("2024-03-01T00:00:00.000Z");
    const runs = makeRuns(Array.from({ length: 3000 }, (_, i) => ({ environmentId: "env-a", startedAt: base + i, userId: USER })));
    await store.insertRuns(runs);
    const { url, server } = await serve(store, { ratePerSecond: 400, batchSize: 100 });
    const created = (await call(`${url}/v1/cancellations`, KEY_A, { body: { app_id: "acme-app", function_id: "schedule-reminder", started_before: "2024-03-02T00:00:00Z" } })).json;
    const running = await pollCancellation(url, KEY_A, created.id, (record) => record.counts.cancelled >= 100);
    expect(running.status).toBe("running");
    expect(running.progress).toMatchObject({ cancelled: expect.any(Number), scanned: expect.any(Number), counts: expect.any(Object) });
    expect(running.progress.rate_per_second).toBeGreaterThan(0);
    // The record shows the job's current counts.
    expect(running.progress.counts).toEqual(running.counts);

    const deleted = await call(`${url}/v1/cancellations/${created.id}`, KEY_A, { method: "DELETE" });
    expect(deleted.status).toBe(200);
    expect(deleted.json).toEqual({ ok: true });
    await server.jobs.idle();
    expect((await call(`${url}/v1/cancellations/${created.id}`, KEY_A)).json).toEqual({ error: "Cancellation not found", data: null, status: 404 });
    const cancelled = await cancelledBy(store, runs, created.id);
    // Stopped long before the end; what it cancelled stays cancelled.
    expect(cancelled.size).toBeGreaterThanOrEqual(100);
    expect(cancelled.size).toBeLessThan(2000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await cancelledBy(store, runs, created.id)).size).toBe(cancelled.size);
    // Unknown and malformed ids.
    expect((await call(`${url}/v1/cancellations/${created.id}`, KEY_A, { method: "DELETE" })).status).toBe(404);
    expect((await call(`${url}/v1/cancellations/not-a-ulid`, KEY_A, { method: "DELETE" })).json).toEqual({ error: "Invalid cancellation ID", data: null, status: 400 });
    expect((await call(`${url}/v1/cancellations/8ZZZZZZZZZZZZZZZZZZZZZZZZZ`, KEY_A)).json.error).toBe("Invalid cancellation ID");
    expect((await call(`${url}/v1/cancellations/01HMRMPE5ZQ4AMNJ3S2N79QGRZ`, KEY_A)).status).toBe(404);
    // Lower-case ids are ULIDs too.
    expect((await call(`${url}/v1/cancellations/01hmrmpe5zq4amnj3s2n79qgrz`, KEY_A)).json.error).toBe("Cancellation not found");
  });

  it("streams progress events, then the final record, then closes", async () => {
    const store = new MemoryRunStore();
    const base = Date.parse("2024-03-01T00:00:00.000Z");
    const runs = makeRuns(Array.from({ length: 660 }, (_, i) => ({ environmentId: "env-a", startedAt: base + i * 10, userId: i % 2 === 0 ? USER : "user_other", status: i % 10 === 0 ? "completed" : "running" })));
    await store.insertRuns(runs);
    // 264 runs to cancel at 150 a second (after a one-second burst): about a second of progress.
    const { url } = await serve(store, { ratePerSecond: 150, batchSize: 20, eventIntervalMs: 50 });
    const body = { app_id: "acme-app", function_id: "schedule-reminder", started_before: "2024-03-02T00:00:00Z", if: `event.data.userId == '${USER}'` };
    const created = (await call(`${url}/v1/cancellations`, KEY_A, { body })).json;
    const stream = await readEvents(`${url}/v1/cancellations/${created.id}/events`, KEY_A);
    expect(stream.status).toBe(200);
    expect(stream.contentType).toMatch(/^text\/event-stream/);
    const progress = stream.events.filter((e) => e.event === "progress");
    expect(progress.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i]!.data.cancelled).toBeGreaterThanOrEqual(progress[i - 1]!.data.cancelled);
      expect(progress[i]!.data.scanned).toBeGreaterThanOrEqual(progress[i - 1]!.data.scanned);
    }
    const last = stream.events[stream.events.length - 1]!;
    expect(last.event).toBe("done");
    const expected = expectedOutcome(runs, { environmentId: "env-a", appId: "acme-app", functionId: "schedule-reminder", before: Date.parse("2024-03-02T00:00:00Z"), userId: USER });
    expect(last.data).toMatchObject({ id: created.id, status: "completed", counts: expected.counts });

    // A finished job: the final state at once, then the stream closes.
    const again = await readEvents(`${url}/v1/cancellations/${created.id}/events`, KEY_A);
    expect(again.events).toEqual([{ event: "done", data: last.data }]);
    // Errors before the stream starts are ordinary JSON errors.
    const missing = await call(`${url}/v1/cancellations/01HMRMPE5ZQ4AMNJ3S2N79QGRZ/events`, KEY_A);
    expect(missing.status).toBe(404);
    expect((await call(`${url}/v1/cancellations/${created.id}/events`, undefined)).status).toBe(401);
    expect((await call(`${url}/v1/cancellations/${created.id}/events`, KEY_B)).status).toBe(404);
  });

  it("an event stream sees a deletion", async () => {
    const store = new MemoryRunStore();
    const base = Date.parse("2024-03-01T00:00:00.000Z");
    await store.insertRuns(makeRuns(Array.from({ length: 2000 }, (_, i) => ({ environmentId: "env-a", startedAt: base + i, userId: USER }))));
    const { url } = await serve(store, { ratePerSecond: 300, batchSize: 50, eventIntervalMs: 0 });
    const created = (await call(`${url}/v1/cancellations`, KEY_A, { body: { app_id: "acme-app", function_id: "schedule-reminder", started_before: "2024-03-02T00:00:00Z" } })).json;
    let deleting: Promise<unknown> | undefined;
    const stream = await readEvents(`${url}/v1/cancellations/${created.id}/events`, KEY_A, (event) => {
      if (event.event === "progress" && event.data.cancelled > 0 && deleting === undefined) deleting = call(`${url}/v1/cancellations/${created.id}`, KEY_A, { method: "DELETE" });
    });
    expect(deleting).toBeDefined();
    expect((await deleting) as { status: number }).toMatchObject({ status: 200 });
    expect(stream.events[stream.events.length - 1]).toEqual({ event: "deleted", data: { id: created.id } });
  });
});

describe("routing and auth errors", () => {
  let running: Running;
  beforeAll(async () => {
    running = await startServer({ store: new MemoryRunStore(), keys: KEYS });
  });
  afterAll(async () => {
    await running.server.close();
  });

  it("401 without a key or with a wrong one, in Inngest's shape", async () => {
    const { url } = running;
    const none = await call(`${url}/v1/cancellations`, undefined);
    expect(none.status).toBe(401);
    expect(none.json).toEqual({ error: "No auth found", data: null, status: 401 });
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await call(`${url}/v1/cancellations`, undefined, { headers: { authorization: `Basic ${KEY_A}` } })).json.error).toBe("No auth found");
    const wrong = await call(`${url}/v1/cancellations`, "signkey-test-aaaaaaaaaaaaaaab");
    expect(wrong.json).toEqual({ error: "Invalid signing key", data: null, status: 401 });
    // A prefix or an extension of a valid key is no key.
    expect((await call(`${url}/v1/cancellations`, KEY_A.slice(0, -1))).status).toBe(401);
    expect((await call(`${url}/v1/cancellations`, `${KEY_A}x`)).status).toBe(401);
    // Unauthenticated requests are refused before their body is read.
    expect((await call(`${url}/v1/cancellations`, undefined, { body: SEED_BODY })).status).toBe(401);
    // The scheme is case-insensitive.
    expect((await call(`${url}/v1/cancellations`, undefined, { headers: { authorization: `bearer ${KEY_A}` } })).status).toBe(200);
  });

  it("404 for unknown routes, 405 (with Allow) for wrong methods", async () => {
    const { url } = running;
    const unknown = await call(`${url}/v2/cancellations`, KEY_A);
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ error: "Not found: GET /v2/cancellations", data: null, status: 404 });
    const put = await call(`${url}/v1/cancellations`, KEY_A, { method: "PUT" });
    expect(put.status).toBe(405);
    expect(put.json).toMatchObject({ data: null, status: 405 });
    expect(put.headers.get("allow")).toBe("GET, HEAD, POST");
    const post = await call(`${url}/v1/cancellations/01HMRMPE5ZQ4AMNJ3S2N79QGRZ`, KEY_A, { method: "POST", body: "{}" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD, DELETE, PATCH");
    expect((await call(`${url}/v1/cancellations/01HMRMPE5ZQ4AMNJ3S2N79QGRZ/events`, KEY_A, { method: "DELETE" })).status).toBe(405);
    expect((await call(`${url}/healthz`, undefined, { method: "PATCH" })).status).toBe(405);
  });

  it("500 in Inngest's shape when the store fails", async () => {
    const failing = new MemoryRunStore();
    failing.getCancellation = async () => {
      throw new Error("disk on fire");
    };
    const lines: string[] = [];
    const { url } = await serve(failing, { log: (line) => lines.push(line) });
    const response = await call(`${url}/v1/cancellations/01HMRMPE5ZQ4AMNJ3S2N79QGRZ`, KEY_A);
    expect(response.status).toBe(500);
    expect(response.json).toEqual({ error: "Internal server error", data: null, status: 500 });
    expect(lines.some((line) => line.includes("disk on fire"))).toBe(true);
  });
});

describe("environment isolation", () => {
  it("a key never sees or cancels another environment's runs or cancellations", async () => {
    const store = new MemoryRunStore();
    const runsA = seedRuns("env-a", 5);
    const runsB = seedRuns("env-b", 6);
    await store.insertRuns([...runsA, ...runsB]);
    const { url, server } = await serve(store);
    const a = (await call(`${url}/v1/cancellations`, KEY_A, { body: SEED_BODY })).json;
    await server.jobs.idle();
    // B's runs are untouched.
    for (const run of runsB) expect((await store.getRun(run.id))!.status).toBe(run.status);
    expect((await call(`${url}/v1/cancellations/${a.id}`, KEY_A)).json.counts.cancelled).toBeGreaterThan(0);
    // B cannot read, list, stream or delete A's cancellation: 404 like an unknown id.
    expect((await call(`${url}/v1/cancellations/${a.id}`, KEY_B)).json).toEqual({ error: "Cancellation not found", data: null, status: 404 });
    expect((await call(`${url}/v1/cancellations`, KEY_B)).json.data).toEqual([]);
    expect((await call(`${url}/v1/cancellations/${a.id}`, KEY_B, { method: "DELETE" })).status).toBe(404);
    expect((await call(`${url}/v1/cancellations/${a.id}`, KEY_A)).status).toBe(200);
    // B's own cancellation cancels only B's runs, and A does not see it.
    const b = (await call(`${url}/v1/cancellations`, KEY_B, { body: SEED_BODY })).json;
    expect(b.environment_id).toBe("env-b");
    await server.jobs.idle();
    const expectedB = expectedOutcome(runsB, { environmentId: "env-b", appId: "acme-app", functionId: "schedule-reminder", after: SEED_AFTER, before: SEED_BEFORE, userId: USER });
    expect((await call(`${url}/v1/cancellations/${b.id}`, KEY_B)).json.counts).toEqual(expectedB.counts);
    expect(await cancelledBy(store, runsB, b.id)).toEqual(expectedB.cancel);
    expect(await cancelledBy(store, runsA, b.id)).toEqual(new Set());
    expect((await call(`${url}/v1/cancellations`, KEY_A)).json.data.map((c: { id: string }) => c.id)).toEqual([a.id]);
  });

  it("accepts SigningKeys instances and several keys per environment", async () => {
    const keys = new SigningKeys([
      ["k1", "env-a"],
      ["k2", "env-a"],
      ["k3", "env-b"],
    ]);
    const { url } = await serve(new MemoryRunStore(), { keys });
    const created = (await call(`${url}/v1/cancellations`, "k1", { body: { app_id: "a", function_id: "f", started_before: "2024-01-01T00:00:00Z" } })).json;
    expect((await call(`${url}/v1/cancellations/${created.id}`, "k2")).status).toBe(200);
    expect((await call(`${url}/v1/cancellations/${created.id}`, "k3")).status).toBe(404);
  });

  it("without keys, generates a development key for environment dev", async () => {
    const { url, server } = await serve(new MemoryRunStore(), { keys: {} });
    expect(server.devKey).toMatch(/^signkey-dev-[0-9a-f]{32}$/);
    const created = await call(`${url}/v1/cancellations`, server.devKey, { body: { app_id: "a", function_id: "f", started_before: "2024-01-01T00:00:00Z" } });
    expect(created.json.environment_id).toBe("dev");
    expect((await call(`${url}/v1/cancellations`, KEY_A)).status).toBe(401);
  });
});
