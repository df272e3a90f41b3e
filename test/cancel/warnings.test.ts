import { describe, expect, it } from "vitest";
import { requestWarnings, validateCancellationRequest } from "../../src/cancel/index.js";
import { MemoryRunStore } from "../../src/stores/memory.js";
import type { RunRecord } from "../../src/stores/types.js";

const BASE = Date.parse("2024-05-01T00:00:00.000Z");
const NOW = BASE + 86_400_000;
const run = (id: string, environmentId: string, appId: string, functionId: string, startedAt = BASE + 1000): RunRecord => ({
  id,
  environmentId,
  appId,
  functionId,
  startedAt,
  status: "running",
  event: { name: "e", data: {} },
});
const request = (over: Record<string, string> = {}) =>
  validateCancellationRequest(
    { app_id: "acme-app", function_id: "schedule-reminder", started_after: "2024-05-01T00:00:00Z", started_before: "2024-05-01T12:00:00Z", ...over },
    { now: NOW },
  );

describe("request warnings", () => {
  it("none when the window holds runs of the function in the environment and the if can be a bool", async () => {
    const store = new MemoryRunStore();
    await store.insertRuns([run("A", "default", "acme-app", "schedule-reminder")]);
    expect(await requestWarnings(store, request({ if: "event.data.userId == 'u'" }), "default")).toEqual([]);
    expect(await requestWarnings(store, request({ if: "event.data.flag" }), "default")).toEqual([]);
  });

  it("an empty window names the environments that have runs of the function (a forgotten --env)", async () => {
    const store = new MemoryRunStore();
    await store.insertRuns([run("A", "dev", "acme-app", "schedule-reminder"), run("B", "default", "acme-app", "send-digest")]);
    expect(await requestWarnings(store, request(), "default")).toEqual([
      {
        code: "empty_window",
        message:
          'no run of function "schedule-reminder" of app "acme-app" in environment "default" started in this window; environment "dev" has runs of it in the window',
        environments: ["dev"],
      },
    ]);
    await store.insertRuns([run("C", "staging", "acme-app", "schedule-reminder")]);
    const [warning] = await requestWarnings(store, request(), "default");
    expect(warning!.message).toMatch(/environments "dev", "staging" have runs of it in the window$/);
    expect(warning!.environments).toEqual(["dev", "staging"]);
  });

  it("else names the functions of the environment with runs in the window (a misspelt function)", async () => {
    const store = new MemoryRunStore();
    await store.insertRuns([run("A", "default", "acme-app", "schedule-reminders"), run("B", "default", "acme-app", "send-digest"), run("C", "other", "x", "y")]);
    const [warning] = await requestWarnings(store, request(), "default");
    expect(warning!.message).toMatch(/; functions with runs in the window in this environment: acme-app\/schedule-reminders, acme-app\/send-digest$/);
    expect(warning!.environments).toEqual([]);
  });

  it("else says where the window's runs are, or that it holds none at all; outside the window does not count", async () => {
    const store = new MemoryRunStore();
    await store.insertRuns([run("A", "default", "acme-app", "schedule-reminder", BASE - 1), run("B", "other", "x", "y")]);
    expect((await requestWarnings(store, request(), "default"))[0]!.message).toMatch(/; the window holds runs only in environment "other"$/);
    expect((await requestWarnings(new MemoryRunStore(), request(), "default"))[0]!.message).toMatch(/; no run of any function started in it$/);
  });

  it("an if whose type cannot be a bool matches nothing: said so", async () => {
    const store = new MemoryRunStore();
    await store.insertRuns([run("A", "default", "acme-app", "schedule-reminder")]);
    expect(await requestWarnings(store, request({ if: "'a' + 'b'" }), "default")).toEqual([
      { code: "non_boolean_if", message: "the if expression's type is string, not bool: it matches no run (each is counted non_boolean)" },
    ]);
  });
});
