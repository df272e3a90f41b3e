/**
 * The production shape on PostgreSQL, with real processes (`cancelkit serve` ×2 and `cancelkit
 * worker`, run from source through tsx) on one database:
 * - a job of 300,000 runs created through instance A; A is SIGKILLed while it holds shards; the
 *   job completes through B and the worker with exactly the oracle's runs and counts (no run
 *   cancelled twice, none missed), and B's event stream follows it to `done`;
 * - pause stops progress within one batch on every worker, unpause continues, and a rate set
 *   while it runs bounds the measured throughput (a coarse upper bound from measured time).
 *
 * Sized for a loaded two-core machine: a short lease (3 s), the default batch (1,000), generous waits.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { hostname } from "node:os";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { PostgresRunStore } from "../../src/stores/postgres.js";
import type { RunRecord } from "../../src/stores/types.js";
import { describePostgres, withClient } from "../support/postgres.js";
import { call, expectedOutcome, makeRuns, readEvents, USER, type SseEvent } from "./helpers.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const KEY = "signkey-test-production";
const ENV = "env-prod";
const BASE = Date.parse("2024-08-01T00:00:00.000Z");
const BEFORE = "2024-08-30T00:00:00.000Z";
const LEASE_MS = 3000;
const BATCH = 1000;
const KILL_RUNS = 300_000;
const PAUSE_RUNS = 40_000;

interface Instance {
  readonly child: ChildProcess;
  /** The HTTP base URL (serve only). */
  readonly url: string | undefined;
  output: string;
  readonly exited: Promise<void>;
}

const instances: Instance[] = [];
afterAll(() => {
  for (const instance of instances) instance.child.kill("SIGKILL");
});

/** Starts `cancelkit <args>` from source on the test schema; resolves once it is ready. */
async function startCli(args: readonly string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<Instance> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/service/cli.ts", ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let resolveReady!: (match: RegExpMatchArray) => void;
  let rejectReady!: (error: Error) => void;
  const readyPromise = new Promise<RegExpMatchArray>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  const instance: Instance = {
    child,
    url: undefined,
    output: "",
    exited: new Promise((resolve) => child.on("exit", () => resolve())),
  };
  const onData = (chunk: string): void => {
    instance.output += chunk;
    const match = instance.output.match(ready);
    if (match !== null) resolveReady(match);
  };
  child.stdout!.setEncoding("utf8").on("data", onData);
  child.stderr!.setEncoding("utf8").on("data", onData);
  child.on("exit", (code) => rejectReady(new Error(`cancelkit ${args[0]} exited (${String(code)}) before it was ready:\n${instance.output}`)));
  instances.push(instance);
  const match = await readyPromise;
  const started = { ...instance, url: match[1] };
  instances[instances.indexOf(instance)] = started;
  return started;
}

async function waitUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (performance.now() > deadline) {
      const logs = instances.map((instance) => `--- ${instance.child.pid}:\n${instance.output.slice(-1500)}`).join("\n");
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value).slice(0, 1500)}\n${logs}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs of one function; one in `matchEvery` is the user's (the filter's), one in 11 finished. */
function runsFor(functionId: string, count: number, seed: number, matchEvery: number): RunRecord[] {
  return makeRuns(
    Array.from({ length: count }, (_, i) => ({
      environmentId: ENV,
      functionId,
      // Groups of four share a millisecond: shard cuts and page ends fall inside ties.
      startedAt: BASE + Math.floor(i / 4),
      userId: i % matchEvery === 0 ? USER : "user_other",
      status: i % 11 === 0 ? ("completed" as const) : ("sleeping" as const),
    })),
    seed,
  );
}

await describePostgres("several instances and workers on one PostgreSQL database", ({ url, newSchema }) => {
  const schema = newSchema();
  const env = { DATABASE_URL: url, CANCELKIT_POSTGRES_SCHEMA: schema, CANCELKIT_SIGNING_KEYS: JSON.stringify({ [KEY]: ENV }) };
  // The big job scans 300,000 runs and cancels one in ten (the pushdown keeps the scan fast); the
  // paused one cancels most of its runs, so that its progress is cancellations.
  const killRuns = runsFor("schedule-reminder", KILL_RUNS, 1, 10);
  const pauseRuns = runsFor("send-digest", PAUSE_RUNS, 2, 1);
  let store: PostgresRunStore;
  let a: Instance;
  let b: Instance;
  let worker: Instance;
  const serveArgs = ["serve", "--port", "0", "--no-ui", "--concurrency", "2", "--shards", "24", "--lease-ms", String(LEASE_MS), "--batch-size", String(BATCH)];

  /** Runs of `functionId` that carry `id`, read straight from the table. */
  const cancelledIds = (functionId: string, id: string): Promise<Set<string>> =>
    withClient(async (client) => {
      const { rows } = await client.query<{ id: string }>(
        `SELECT id FROM ${client.escapeIdentifier(schema)}.runs WHERE function_id = $1 AND cancellation_id = $2 AND status = 'cancelled'`,
        [functionId, id],
      );
      return new Set(rows.map((row) => row.id));
    }, url);

  beforeAll(async () => {
    store = new PostgresRunStore({ connectionString: url, schema });
    await store.migrate();
    async function* batches(runs: readonly RunRecord[]): AsyncIterable<readonly RunRecord[]> {
      for (let i = 0; i < runs.length; i += 10_000) yield runs.slice(i, i + 10_000);
    }
    await store.insertRunStream(batches([...killRuns, ...pauseRuns]));
    const listening = /listening on (http:\/\/\S+)/;
    [a, b, worker] = await Promise.all([
      startCli(serveArgs, env, listening),
      startCli(serveArgs, env, listening),
      startCli(["worker", "--concurrency", "2", "--lease-ms", String(LEASE_MS)], env, /cancelkit worker on PostgreSQL/),
    ]);
  }, 240_000);

  afterAll(async () => {
    // A graceful stop releases their shards; a stop slower than 15 s (a loaded machine) is cut short.
    for (const instance of [b, worker]) instance?.child.kill("SIGTERM");
    const stopped = Promise.all([b?.exited, worker?.exited]);
    await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    for (const instance of [b, worker]) instance?.child.kill("SIGKILL");
    await store?.close();
  }, 30_000);

  it("a job created through A, A SIGKILLed mid-job: it completes through B and the worker with the oracle's exact result; B's stream follows it to done", async () => {
    const body = { app_id: "acme-app", function_id: "schedule-reminder", started_before: BEFORE, if: `event.data.userId == '${USER}'` };
    const expected = expectedOutcome(killRuns, { environmentId: ENV, appId: "acme-app", functionId: "schedule-reminder", before: Date.parse(BEFORE), userId: USER });
    const created = await call(`${a.url}/v1/cancellations`, KEY, { body });
    expect(created.status).toBe(200);
    const id: string = created.json.id;
    const events: SseEvent[] = [];
    const streamed = readEvents(`${b.url}/v1/cancellations/${id}/events`, KEY, (event) => events.push(event));
    // Kill A while it holds a running shard and the job is under way.
    const prefixA = `${hostname()}:${a.child.pid}:`;
    const atKill = await waitUntil(
      async () => (await call(`${b.url}/v1/cancellations/${id}`, KEY)).json,
      (record) => record.shards.some((shard: any) => shard.status === "running" && shard.owner.startsWith(prefixA)) && record.counts.scanned > 0,
      120_000,
      "instance A to hold a shard",
    );
    a.child.kill("SIGKILL");
    await a.exited;
    expect(atKill.status).toBe("running");
    const heldByA = atKill.shards.map((shard: any, i: number) => ({ shard, i })).filter(({ shard }: any) => shard.status === "running" && shard.owner.startsWith(prefixA));
    expect(heldByA.length).toBeGreaterThan(0);

    const record = await waitUntil(
      async () => (await call(`${b.url}/v1/cancellations/${id}`, KEY)).json,
      (current) => current.status !== "running",
      240_000,
      "the job to end through B and the worker",
    );
    const stream = await Promise.race([streamed, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`B's event stream did not end: ${JSON.stringify(events.slice(-3))}`)), 10_000))]);
    const last = stream.events.at(-1)!;
    expect(last.event).toBe("done");
    expect(last.data).toMatchObject({ id, status: "completed", counts: expected.counts });
    // The stream showed B's and the worker's progress, in order.
    const progress = events.filter((event) => event.event === "progress").map((event) => event.data.counts.scanned as number);
    expect(progress.length).toBeGreaterThan(1);
    for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThanOrEqual(progress[i - 1]!);

    expect(record).toMatchObject({ status: "completed", counts: expected.counts, progress: null });
    expect(record.shards.every((shard: any) => shard.status === "done")).toBe(true);
    // The shards A held were finished by another owner after its lease expired (one of them at
    // least: A may have closed one between the look and the kill).
    expect(heldByA.some(({ i }: { i: number }) => !record.shards[i].owner.startsWith(prefixA))).toBe(true);
    // Exactly the oracle's runs carry the job's id: none missed, none extra, and the count of
    // cancelled runs equals the runs that carry it (no run counted twice).
    const carrying = await cancelledIds("schedule-reminder", id);
    expect(carrying.size).toBe(expected.cancel.size);
    for (const runId of expected.cancel) expect(carrying.has(runId)).toBe(true);
    expect(record.counts.cancelled).toBe(carrying.size);
  }, 400_000);

  it("pause stops progress within one batch on every worker; unpause continues; a rate bounds the throughput; the job ends exact", async () => {
    const body = { app_id: "acme-app", function_id: "send-digest", started_before: BEFORE, if: `event.data.userId == '${USER}'` };
    const expected = expectedOutcome(pauseRuns, { environmentId: ENV, appId: "acme-app", functionId: "send-digest", before: Date.parse(BEFORE), userId: USER });
    const id: string = (await call(`${b.url}/v1/cancellations`, KEY, { body })).json.id;
    const patch = async (change: unknown): Promise<void> => {
      const answer = await call(`${b.url}/v1/cancellations/${id}`, KEY, { method: "PATCH", body: change });
      expect(answer.status).toBe(200);
    };
    await waitUntil(() => cancelledIds("send-digest", id), (ids) => ids.size > 0, 60_000, "the job to start");
    await patch({ paused: true });
    const atPause = (await cancelledIds("send-digest", id)).size;
    // Every worker (two in B, two in the worker process) may land the one batch it had in
    // flight; then nothing moves. Wait well past a batch and a few looks at the record.
    const workers = 4;
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const settled = (await cancelledIds("send-digest", id)).size;
    expect(settled - atPause).toBeLessThanOrEqual(workers * BATCH);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect((await cancelledIds("send-digest", id)).size).toBe(settled);
    const paused = (await call(`${b.url}/v1/cancellations/${id}`, KEY)).json;
    expect(paused).toMatchObject({ status: "running", paused: true });
    // The workers released the paused job's shards (they serve other jobs meanwhile).
    expect(paused.shards.some((shard: any) => shard.status === "running")).toBe(false);

    // Unpause at a rate of 1,000 runs a second for the whole job: the measured throughput stays
    // under it (plus a burst: one chunk, and the batch each worker may have had ready).
    const rate = 1000;
    await patch({ paused: false, rate_per_second: rate });
    const from = { n: (await cancelledIds("send-digest", id)).size, at: performance.now() };
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const to = { n: (await cancelledIds("send-digest", id)).size, at: performance.now() };
    expect(to.n).toBeGreaterThan(from.n);
    const seconds = (to.at - from.at) / 1000;
    expect(to.n - from.n).toBeLessThanOrEqual(rate * seconds + BATCH + workers * BATCH);

    // Lift the limit: the job completes, exact.
    await patch({ rate_per_second: null });
    const done = await waitUntil(async () => (await call(`${b.url}/v1/cancellations/${id}`, KEY)).json, (record) => record.status !== "running", 120_000, "the job to end");
    expect(done).toMatchObject({ status: "completed", counts: expected.counts, paused: false, rate_per_second: null });
    const carrying = await cancelledIds("send-digest", id);
    expect(carrying.size).toBe(expected.cancel.size);
    for (const runId of expected.cancel) expect(carrying.has(runId)).toBe(true);
  }, 300_000);
});
