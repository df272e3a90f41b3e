/**
 * `POST /v1/cancellations` answers `warnings` for a valid request that will likely not do what was
 * meant: a window with no run of the function in the key's environment (naming where runs are),
 * and an `if` that can never be true. Created and dry-run answers alike.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryRunStore } from "../../src/stores/memory.js";
import { call, makeRuns, startServer, USER, type Running } from "./helpers.js";

const KEYS = { "signkey-test-default": "default", "signkey-test-dev": "dev" };
const BASE = Date.parse("2024-05-01T00:00:00.000Z");
const BODY = { app_id: "acme-app", function_id: "schedule-reminder", started_after: "2024-04-30T00:00:00Z", started_before: "2024-05-02T00:00:00Z" };

describe("POST /v1/cancellations warnings", () => {
  let running: Running;
  beforeAll(async () => {
    const store = new MemoryRunStore();
    await store.insertRuns(makeRuns(Array.from({ length: 20 }, (_, i) => ({ environmentId: "dev", startedAt: BASE + i, userId: USER, status: "running" as const }))));
    running = await startServer({ store, keys: KEYS });
  });
  afterAll(async () => {
    await running.server.close();
  });

  it("names the environment that holds the runs when the key's environment has none", async () => {
    const created = await call(`${running.url}/v1/cancellations`, "signkey-test-default", { body: BODY });
    expect(created.status).toBe(200);
    expect(created.json.warnings).toEqual([
      'no run of function "schedule-reminder" of app "acme-app" in environment "default" started in this window; environment "dev" has runs of it in the window',
    ]);
    const dry = await call(`${running.url}/v1/cancellations?dry_run=true`, "signkey-test-default", { body: { ...BODY, if: "1 + 1" } });
    expect(dry.status).toBe(200);
    expect(dry.json.warnings).toEqual([
      "the if expression's type is int, not bool: it matches no run (each is counted non_boolean)",
      expect.stringMatching(/^no run of function "schedule-reminder"/),
    ]);
  });

  it("answers an empty list when the window holds runs; the stored record carries no warnings", async () => {
    const created = await call(`${running.url}/v1/cancellations`, "signkey-test-dev", { body: BODY });
    expect(created.status).toBe(200);
    expect(created.json.warnings).toEqual([]);
    const got = await call(`${running.url}/v1/cancellations/${created.json.id}`, "signkey-test-dev");
    expect(got.json).not.toHaveProperty("warnings");
  });
});
