/**
 * `PATCH /v1/cancellations/:id` and `cancelkit pause|unpause|rate`: validated controls in
 * Inngest's error shape, visible in GET and in the event stream, applied by the running job.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { cancelRuns } from "../../src/cancel/planner.js";
import { main, type CliIo } from "../../src/service/cli.js";
import { MemoryRunStore } from "../../src/stores/memory.js";
import { SqliteRunStore } from "../../src/stores/sqlite.js";
import { call, cancelledBy, makeRuns, readEvents, startServer, USER, type Running } from "./helpers.js";

const KEY_A = "signkey-test-control-a";
const KEY_B = "signkey-test-control-b";
const KEYS = { [KEY_A]: "env-a", [KEY_B]: "env-b" };
const BASE = Date.parse("2024-07-01T00:00:00.000Z");
const BODY = { app_id: "acme-app", function_id: "schedule-reminder", started_before: "2024-07-02T00:00:00Z" };
const dir = mkdtempSync(join(tmpdir(), "cancelkit-control-svc-"));
const servers: Running[] = [];
afterEach(async () => {
  for (const running of servers.splice(0)) await running.server.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function serve(store: MemoryRunStore, options: { ratePerSecond?: number; batchSize?: number } = {}): Promise<Running> {
  const running = await startServer({ store, keys: KEYS, eventIntervalMs: 0, storePollMs: 20, ...options });
  servers.push(running);
  return running;
}

describe("PATCH /v1/cancellations/:id", () => {
  it("answers bad requests 400 in Inngest's shape, unknown or foreign ids 404, no key 401", async () => {
    const store = new MemoryRunStore();
    const { url } = await serve(store);
    const created = (await call(`${url}/v1/cancellations`, KEY_A, { body: BODY })).json;
    const patch = (id: string, body: unknown, key: string | undefined = KEY_A) => call(`${url}/v1/cancellations/${id}`, key, { method: "PATCH", body });
    const bad = await patch(created.id, { paused: "yes", rate_per_second: -5, extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({
      error:
        'Invalid control request: unknown field "extra" (expected paused or rate_per_second)\n' +
        "Invalid control request: paused must be true or false\n" +
        "Invalid control request: rate_per_second must be a number above 0 and at most 1000000000, or null for no limit",
      data: null,
      status: 400,
    });
    expect((await patch(created.id, {})).json.error).toBe("Invalid control request: give paused and/or rate_per_second");
    expect((await patch(created.id, "[1]")).status).toBe(400);
    expect((await call(`${url}/v1/cancellations/${created.id}`, KEY_A, { method: "PATCH" })).status).toBe(400);
    expect((await patch("not-a-ulid", { paused: true })).json).toEqual({ error: "Invalid cancellation ID", data: null, status: 400 });
    expect((await patch("01HMRMPE5ZQ4AMNJ3S2N79QGRZ", { paused: true })).json).toEqual({ error: "Cancellation not found", data: null, status: 404 });
    expect((await patch(created.id, { paused: true }, KEY_B)).status).toBe(404);
    expect((await call(`${url}/v1/cancellations/${created.id}`, undefined, { method: "PATCH", body: { paused: true } })).status).toBe(401);
    // Nothing changed by the refused requests.
    expect((await call(`${url}/v1/cancellations/${created.id}`, KEY_A)).json).toMatchObject({ paused: false, rate_per_second: null });
  });

  it("pauses a running job (GET and the event stream show it), re-rates it, and unpausing lets it finish exactly", async () => {
    const store = new MemoryRunStore();
    const runs = makeRuns(Array.from({ length: 3000 }, (_, i) => ({ environmentId: "env-a", startedAt: BASE + i, userId: USER })));
    await store.insertRuns(runs);
    const { url } = await serve(store, { ratePerSecond: 1000, batchSize: 100 });
    const created = (await call(`${url}/v1/cancellations`, KEY_A, { body: BODY })).json;
    const id: string = created.id;
    const events: { event: string; data: any }[] = [];
    let step = 0;
    let pausedAt = -1;
    const steps: Promise<unknown>[] = [];
    const stream = readEvents(`${url}/v1/cancellations/${id}/events`, KEY_A, (event) => {
      events.push(event);
      if (step === 0 && event.event === "progress" && event.data.cancelled > 0) {
        step = 1;
        steps.push(call(`${url}/v1/cancellations/${id}`, KEY_A, { method: "PATCH", body: { paused: true, rate_per_second: 5000 } }));
      } else if (step === 1 && event.event === "control" && event.data.paused === true) {
        step = 2;
        steps.push(
          (async () => {
            pausedAt = (await cancelledBy(store, runs, id)).size;
            const record = (await call(`${url}/v1/cancellations/${id}`, KEY_A)).json;
            expect(record).toMatchObject({ status: "running", paused: true, rate_per_second: 5000 });
            // The job waits: its progress does not move while the pause holds (a few of its looks at the record).
            await new Promise((resolve) => setTimeout(resolve, 600));
            expect((await cancelledBy(store, runs, id)).size).toBeLessThanOrEqual(pausedAt + 100);
            const still = (await cancelledBy(store, runs, id)).size;
            await new Promise((resolve) => setTimeout(resolve, 600));
            expect((await cancelledBy(store, runs, id)).size).toBe(still);
            return call(`${url}/v1/cancellations/${id}`, KEY_A, { method: "PATCH", body: { paused: false } });
          })(),
        );
      }
    });
    const ended = await stream;
    for (const result of await Promise.all(steps)) expect((result as { status: number }).status).toBe(200);
    expect(pausedAt).toBeGreaterThan(0);
    const controls = events.filter((e) => e.event === "control").map((e) => e.data);
    expect(controls[0]).toEqual({ id, paused: false, rate_per_second: 1000 });
    expect(controls).toContainEqual({ id, paused: true, rate_per_second: 5000 });
    expect(controls.at(-1)).toEqual({ id, paused: false, rate_per_second: 5000 });
    const last = ended.events.at(-1)!;
    expect(last).toMatchObject({ event: "done", data: { id, status: "completed", paused: false, rate_per_second: 5000, counts: { cancelled: 3000, scanned: 3000 } } });
    expect((await cancelledBy(store, runs, id)).size).toBe(3000);
  });
});

describe("cancelkit pause, unpause, rate", () => {
  function captureIo(): CliIo & { out: () => string; err: () => string } {
    let out = "";
    let err = "";
    return {
      stdout: { write: (text: string) => (out += text) },
      stderr: { write: (text: string) => (err += text) },
      env: {},
      onSignal: () => () => undefined,
      out: () => out,
      err: () => err,
    };
  }

  it("change the record's controls on a SQLite file, with usage errors for bad arguments", async () => {
    const path = join(dir, "control.db");
    const store = new SqliteRunStore({ path });
    const report = await cancelRuns(store, BODY, { environmentId: "env-a", signal: AbortSignal.abort() });
    const id = report.cancellation.id;
    await store.close();
    const run = async (args: string[]) => {
      const io = captureIo();
      const code = await main(args, io);
      return { code, out: io.out(), err: io.err() };
    };
    expect(await run(["pause", id, "--db", path])).toMatchObject({ code: 0, out: `cancellation ${id} (aborted): paused, no rate limit\n` });
    expect(await run(["rate", id, "250", "--db", path])).toMatchObject({ code: 0, out: `cancellation ${id} (aborted): paused, at most 250 runs/s\n` });
    const json = await run(["unpause", id, "--db", path, "--json"]);
    expect(JSON.parse(json.out)).toMatchObject({ id, paused: false, rate_per_second: 250 });
    expect(await run(["rate", id, "off", "--db", path])).toMatchObject({ code: 0, out: `cancellation ${id} (aborted): not paused, no rate limit\n` });
    expect(await run(["rate", id, "0", "--db", path])).toMatchObject({ code: 2, err: 'cancelkit: rate must be a number above 0 (runs per second) or "off", got "0"\n' });
    expect(await run(["pause", id, "--db", path, "--env", "env-b"])).toMatchObject({ code: 2, err: `cancelkit: cancellation ${id} not found\n` });
    expect((await run(["pause", "nope", "--db", path])).code).toBe(2);
    expect((await run(["worker", "--db", path])).err).toMatch(/worker needs --postgres URL/);
    const reopened = new SqliteRunStore({ path });
    expect((await reopened.getCancellation(id))?.settings).toEqual({ batchSize: 1000 });
    await reopened.close();
  });
});
