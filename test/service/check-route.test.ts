/**
 * `POST /v1/cancellations/check` over real HTTP: single and batch forms, the ULID's time as the
 * run's start, the oldest cancellation applying, deletion seen at once, signing-key auth and
 * environment isolation, and Inngest-shaped 400s.
 */
import { ulid } from "ulid";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_CHECK_RUNS } from "../../src/service/check-route.js";
import { MemoryRunStore } from "../../src/stores/memory.js";
import { call, startServer, type Running } from "./helpers.js";

const KEY_A = "signkey-test-aaaaaaaaaaaaaaaa";
const KEY_B = "signkey-test-bbbbbbbbbbbbbbbb";
const KEYS = { [KEY_A]: "env-a", [KEY_B]: "env-b" };
const NOW = Date.parse("2026-01-10T12:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();

const started: Running[] = [];
afterEach(async () => {
  while (started.length > 0) await started.pop()!.server.close();
});

async function serve(): Promise<Running> {
  const running = await startServer({ store: new MemoryRunStore(), keys: KEYS, closeStore: true, now: () => NOW });
  started.push(running);
  return running;
}

/** A run body started at `ms` for `userId`. */
function runBody(ms: number, userId: string, overrides: Record<string, unknown> = {}) {
  return { app_id: "acme-app", function_id: "reminder", run_id: ulid(ms), event: { name: "app/reminder", data: { userId } }, ...overrides };
}

async function createCancellation(url: string, key: string, body: Record<string, unknown>): Promise<string> {
  const response = await call(`${url}/v1/cancellations`, key, { body: { app_id: "acme-app", function_id: "reminder", started_before: iso(NOW), ...body } });
  expect(response.status).toBe(200);
  return response.json.id as string;
}

describe("POST /v1/cancellations/check", () => {
  it("answers whether a run is cancelled, by the window on its ULID's time and the if", async () => {
    const { url } = await serve();
    const id = await createCancellation(url, KEY_A, { started_after: iso(NOW - 3_600_000), if: "event.data.userId == 'u1'" });
    const check = (body: unknown) => call(`${url}/v1/cancellations/check`, KEY_A, { body });
    expect((await check(runBody(NOW - 60_000, "u1"))).json).toEqual({ cancelled: true, cancellation_id: id });
    expect((await check(runBody(NOW - 60_000, "u2"))).json).toEqual({ cancelled: false, cancellation_id: null });
    // Window bounds are inclusive; a run started after it is not cancelled.
    expect((await check(runBody(NOW - 3_600_000, "u1"))).json.cancelled).toBe(true);
    expect((await check(runBody(NOW, "u1"))).json.cancelled).toBe(true);
    expect((await check(runBody(NOW + 1, "u1"))).json.cancelled).toBe(false);
    expect((await check(runBody(NOW - 3_600_001, "u1"))).json.cancelled).toBe(false);
    expect((await check(runBody(NOW - 60_000, "u1", { function_id: "other" }))).json.cancelled).toBe(false);
  });

  it("answers a batch in request order, with the oldest applying cancellation", async () => {
    const { url } = await serve();
    const first = await createCancellation(url, KEY_A, { if: "event.data.userId == 'u1'" });
    const second = await createCancellation(url, KEY_A, { if: "event.data.userId in ['u1', 'u2']" });
    const runs = [runBody(NOW - 1000, "u1"), runBody(NOW - 1000, "u2"), runBody(NOW - 1000, "u3")];
    const response = await call(`${url}/v1/cancellations/check`, KEY_A, { body: { runs } });
    expect(response.status).toBe(200);
    expect(response.json).toEqual({
      runs: [
        { run_id: runs[0]!.run_id, cancelled: true, cancellation_id: first },
        { run_id: runs[1]!.run_id, cancelled: true, cancellation_id: second },
        { run_id: runs[2]!.run_id, cancelled: false, cancellation_id: null },
      ],
    });
    const full = Array.from({ length: MAX_CHECK_RUNS }, (_, i) => runBody(NOW - 1000 - i, i % 2 === 0 ? "u1" : "u9"));
    const many = await call(`${url}/v1/cancellations/check`, KEY_A, { body: { runs: full } });
    expect(many.status).toBe(200);
    expect(many.json.runs.filter((r: { cancelled: boolean }) => r.cancelled)).toHaveLength(MAX_CHECK_RUNS / 2);
  });

  it("sees a deletion at once, and keeps environments apart", async () => {
    const { url } = await serve();
    const id = await createCancellation(url, KEY_A, {});
    const body = runBody(NOW - 1000, "u1");
    expect((await call(`${url}/v1/cancellations/check`, KEY_B, { body })).json).toEqual({ cancelled: false, cancellation_id: null });
    expect((await call(`${url}/v1/cancellations/check`, KEY_A, { body })).json.cancellation_id).toBe(id);
    expect((await call(`${url}/v1/cancellations/${id}`, KEY_A, { method: "DELETE" })).status).toBe(200);
    expect((await call(`${url}/v1/cancellations/check`, KEY_A, { body })).json).toEqual({ cancelled: false, cancellation_id: null });
  });

  it("needs a signing key and answers other methods 405", async () => {
    const { url } = await serve();
    const body = runBody(NOW - 1000, "u1");
    const none = await call(`${url}/v1/cancellations/check`, undefined, { body });
    expect(none.status).toBe(401);
    expect(none.json).toEqual({ error: "No auth found", data: null, status: 401 });
    expect((await call(`${url}/v1/cancellations/check`, "signkey-wrong", { body })).status).toBe(401);
    const get = await call(`${url}/v1/cancellations/check`, KEY_A, { method: "PUT", body });
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
  });

  it("answers bad bodies 400 in Inngest's shape, every problem on its own line", async () => {
    const { url } = await serve();
    const bad = async (body: unknown) => {
      const response = await call(`${url}/v1/cancellations/check`, KEY_A, { body });
      expect(response.status).toBe(400);
      expect(response.json.data).toBeNull();
      expect(response.json.status).toBe(400);
      return response.json.error as string;
    };
    expect(await bad({})).toBe("app_id is required\nfunction_id is required\nrun_id is required\nevent is required");
    expect(await bad({ ...runBody(NOW, "u1"), run_id: "not-a-ulid" })).toBe("run_id must be a ULID");
    expect(await bad({ ...runBody(NOW, "u1"), event: "x" })).toBe("event must be a JSON object");
    expect(await bad({ ...runBody(NOW, "u1"), app_id: 5 })).toBe("app_id must be a string");
    expect(await bad({ ...runBody(NOW, "u1"), extra: 1 })).toBe('unknown field "extra"');
    expect(await bad([])).toBe("the body must be a JSON object");
    expect(await bad({ runs: [] })).toBe(`runs must be an array of 1 to ${MAX_CHECK_RUNS} runs`);
    expect(await bad({ runs: Array.from({ length: MAX_CHECK_RUNS + 1 }, () => runBody(NOW, "u1")) })).toBe(`runs must be an array of 1 to ${MAX_CHECK_RUNS} runs`);
    expect(await bad({ runs: [runBody(NOW, "u1"), { app_id: "a" }, 7] })).toBe(
      "runs[1]: function_id is required\nruns[1]: run_id is required\nruns[1]: event is required\nruns[2]: a run must be a JSON object",
    );
    const empty = await call(`${url}/v1/cancellations/check`, KEY_A, { body: "" , headers: { "content-type": "application/json" } });
    expect(empty.status).toBe(400);
    const malformed = await call(`${url}/v1/cancellations/check`, KEY_A, { body: "{" });
    expect(malformed.status).toBe(400);
  });
});
