/**
 * PostgreSQL cancellation throughput: 1,000,000 runs of one function in the window (plus 150,000
 * runs of three other functions; the same generated runs as `planner.bench.ts`: realistic
 * ~400-byte events, 10% matching `event.data.userId == '…'`, 75% not finished), cancelled
 * - by the single SQL `UPDATE … WHERE …` that does the same job (the floor);
 * - by the planner with the SQL pushdown (at several batch sizes), and without it;
 * - by 1, 2 and 4 worker processes sharing one sharded job.
 *
 * Every job starts from the same data: runs a job cancelled are set back (`status = 'running'`,
 * no `cancellation_id`; they were all non-terminal), the job's records deleted, and the table
 * clustered on the window index, analysed and checkpointed (`resetPostgresRuns`). Each job runs in its own process, timed from inside (process
 * start-up excluded); worker jobs are timed from the job's creation (shard planning included) to
 * the last worker's end.
 *
 * Run: `npx tsx bench/postgres.bench.ts`. Environment:
 * - `DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`);
 * - `BENCH_RUNS` runs of the target function (default 1,000,000);
 * - `BENCH_SCHEMA` schema of the bench data (default `cancelkit_bench`; kept between runs and
 *   reused when it holds the right runs; `BENCH_DROP=1` drops it at the end);
 * - `BENCH_BATCHES` planner batch sizes with pushdown (default `1000,5000,20000`);
 * - `BENCH_BATCH` batch size of the run without pushdown and of the workers (default 5000);
 * - `BENCH_WORKERS` worker counts (default `1,2,4`), `BENCH_SHARDS` shards per job (default twice
 *   the worker count: a worker that finishes early takes another's second shard);
 * - `BENCH_JOBS` which jobs (default `raw,pushdown,nopushdown,workers`);
 * - `BENCH_REPEAT` rounds (default 3): every round runs every job once, in the same order; the
 *   table shows each job's median time and the median of its per-round ratio to that round's raw
 *   UPDATE (robust against other load on the machine, which moves both);
 * - `BENCH_PROFILE` a file prefix: the planner jobs write CPU profiles (`<prefix>-<label>.cpuprofile`).
 */
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import { cancelRuns, createShardedCancellation, runWorker, type WorkerReport } from "../src/cancel/index.js";
import { PostgresRunStore } from "../src/stores/postgres.js";
import { NOW, OTHER_RUNS, TARGET_USER, requestBody, windowOf } from "./planner.bench.js";
import { buildPostgresRuns, quotedSchema, resetPostgresRuns, withPgClient } from "./postgres-data.js";

const SELF = fileURLToPath(import.meta.url);
const URL_ = process.env["DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/test";
const SCHEMA = process.env["BENCH_SCHEMA"] ?? "cancelkit_bench";

interface JobResult {
  readonly label: string;
  readonly elapsedMs: number;
  readonly scanned: number;
  readonly cancelled: number;
  readonly pushdown?: string;
  /** Extra facts (transactions, shards, …). */
  readonly note?: string;
}

function withClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  return withPgClient(URL_, work);
}

const quoted = quotedSchema(SCHEMA);

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

/** The schema holding `planner.bench.ts`'s runs (built once, then reused). */
function build(targetRuns: number): Promise<void> {
  return buildPostgresRuns({ url: URL_, schema: SCHEMA }, targetRuns);
}

/** Puts back what a job changed and leaves the table clustered, analysed and checkpointed. */
function reset(): Promise<void> {
  return resetPostgresRuns({ url: URL_, schema: SCHEMA });
}

// ---------------------------------------------------------------------------------------------
// Jobs (each in a child process)
// ---------------------------------------------------------------------------------------------

async function profiled<T>(label: string, work: () => Promise<T>): Promise<T> {
  const prefix = process.env["BENCH_PROFILE"];
  if (prefix === undefined) return work();
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  try {
    return await work();
  } finally {
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(`${prefix}-${label.replaceAll(/[^a-z0-9]+/gi, "_")}.cpuprofile`, JSON.stringify(profile));
    session.disconnect();
  }
}

async function rawJob(targetRuns: number): Promise<JobResult> {
  const w = windowOf(targetRuns);
  return withClient(async (client) => {
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${quoted}.runs WHERE environment_id = 'default' AND app_id = 'acme-app' AND function_id = 'schedule-reminder' AND started_at BETWEEN $1 AND $2`,
      [w.after, w.before],
    );
    const t0 = performance.now();
    const result = await client.query(
      `UPDATE ${quoted}.runs SET status = 'cancelled', cancellation_id = $1
       WHERE environment_id = 'default' AND app_id = $2 AND function_id = $3 AND started_at BETWEEN $4 AND $5
         AND status IN ('queued', 'running', 'sleeping', 'waiting')
         AND event -> 'data' ->> 'userId' = $6`,
      ["01RAWUPDATE000000000000000", "acme-app", "schedule-reminder", w.after, w.before, TARGET_USER],
    );
    const elapsedMs = performance.now() - t0;
    return { label: "raw SQL UPDATE (floor)", elapsedMs, scanned: Number(rows[0]!.n), cancelled: result.rowCount ?? 0 };
  });
}

async function plannerJob(targetRuns: number, batchSize: number, pushdown: boolean): Promise<JobResult> {
  const store = new PostgresRunStore({ connectionString: URL_, schema: SCHEMA, poolSize: 2 });
  await store.migrate();
  let commits = 0;
  const label = `planner, ${pushdown ? "pushdown" : "no pushdown"}, batch ${batchSize}`;
  const t0 = performance.now();
  const report = await profiled(label, () =>
    cancelRuns(store, requestBody(targetRuns, "equality"), { batchSize, now: NOW, pushdown, onProgress: () => (commits += 1) }),
  );
  const elapsedMs = performance.now() - t0;
  await store.close();
  return { label, elapsedMs, scanned: report.outcomes.scanned, cancelled: report.outcomes.cancelled, pushdown: report.pushdown, note: `${commits} checkpoints` };
}

/** A worker process: ready, then runs the job named on stdin and prints its report. */
async function workerChild(batchSize: number, workerId: string): Promise<void> {
  const store = new PostgresRunStore({ connectionString: URL_, schema: SCHEMA, poolSize: 2 });
  await store.migrate();
  process.stdout.write("ready\n");
  const id = await new Promise<string>((resolve) => {
    let text = "";
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk: string) => {
      text += chunk;
      if (text.includes("\n")) resolve(text.trim());
    });
  });
  const report = await runWorker(store, { cancellationId: id, workerId, batchSize, pollMs: 100 });
  await store.close();
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

async function workersJob(targetRuns: number, workers: number, shards: number, batchSize: number): Promise<JobResult> {
  const children = Array.from({ length: workers }, (_, i) =>
    spawn(process.execPath, ["--import", "tsx", SELF, "--child", "worker", String(targetRuns), String(batchSize), `bench-${i}`], {
      stdio: ["pipe", "pipe", "inherit"],
    }),
  );
  const lines = children.map((child) => {
    child.stdout.setEncoding("utf8");
    let buffer = "";
    const waiting: ((line: string) => void)[] = [];
    const queued: string[] = [];
    child.stdout.on("data", (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        const next = waiting.shift();
        if (next !== undefined) next(line);
        else queued.push(line);
      }
    });
    return (): Promise<string> => (queued.length > 0 ? Promise.resolve(queued.shift()!) : new Promise((resolve) => waiting.push(resolve)));
  });
  await Promise.all(lines.map((next) => next()));
  const store = new PostgresRunStore({ connectionString: URL_, schema: SCHEMA, poolSize: 2 });
  await store.migrate();
  const t0 = performance.now();
  const { cancellation, shards: made } = await createShardedCancellation(store, requestBody(targetRuns, "equality"), { shards, now: NOW });
  const planned = performance.now() - t0;
  for (const child of children) child.stdin.end(`${cancellation.id}\n`);
  const reports = (await Promise.all(lines.map((next) => next()))).map((line) => JSON.parse(line) as WorkerReport);
  const elapsedMs = performance.now() - t0;
  const job = (await store.getCancellation(cancellation.id))!;
  await store.close();
  if (job.status !== "completed") throw new Error(`sharded job ended ${job.status}`);
  const perWorker = reports.map((r) => r.shards.length).join("/");
  return {
    label: `${workers} worker${workers === 1 ? "" : "s"} (processes), ${made} shards, batch ${batchSize}`,
    elapsedMs,
    scanned: job.counts.scanned,
    cancelled: job.counts.cancelled,
    pushdown: "partial",
    note: `shard planning ${planned.toFixed(0)} ms; shards per worker ${perWorker}`,
  };
}

async function childMain(args: readonly string[]): Promise<void> {
  const [kind, runsText, a, b] = args;
  const targetRuns = Number(runsText);
  if (kind === "worker") return workerChild(Number(a), b!);
  let result: JobResult;
  if (kind === "raw") result = await rawJob(targetRuns);
  else if (kind === "planner") result = await plannerJob(targetRuns, Number(a), b === "pushdown");
  else throw new Error(`unknown child job ${String(kind)}`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function inChild(args: readonly string[]): JobResult {
  const out = spawnSync(process.execPath, ["--import", "tsx", SELF, "--child", ...args], { encoding: "utf8", maxBuffer: 1 << 24 });
  if (out.status !== 0) throw new Error(`child ${args.join(" ")} failed: ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split("\n").pop()!) as JobResult;
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** One table row: the job's runs (all rounds) and the floor of each round. */
function row(runs: readonly JobResult[], floors: readonly (JobResult | undefined)[]): string {
  const r = runs[0]!;
  const ms = median(runs.map((x) => x.elapsedMs));
  const perSecond = (n: number): string => (ms > 0 ? Math.round((n * 1000) / ms).toLocaleString("en-US") : "–");
  const ratios = runs.flatMap((x, i) => (floors[i] === undefined || floors[i] === x ? [] : [x.elapsedMs / floors[i]!.elapsedMs]));
  const ratio = ratios.length === 0 ? "" : `${median(ratios).toFixed(2)}×`;
  const all = runs.map((x) => (x.elapsedMs / 1000).toFixed(2)).join(" / ");
  return `| ${r.label} | ${r.scanned.toLocaleString("en-US")} | ${r.cancelled.toLocaleString("en-US")} | ${(ms / 1000).toFixed(2)} s (${all}) | ${perSecond(r.scanned)} | ${perSecond(r.cancelled)} | ${ratio} | ${r.note ?? ""} |`;
}

async function main(): Promise<void> {
  const targetRuns = Number(process.env["BENCH_RUNS"] ?? 1_000_000);
  const batches = (process.env["BENCH_BATCHES"] ?? "1000,5000,20000").split(",").map(Number);
  const batch = Number(process.env["BENCH_BATCH"] ?? 5000);
  const workerCounts = (process.env["BENCH_WORKERS"] ?? "1,2,4").split(",").map(Number);
  const shardsFor = (workers: number): number => Number(process.env["BENCH_SHARDS"] ?? 2 * workers);
  const jobs = (process.env["BENCH_JOBS"] ?? "raw,pushdown,nopushdown,workers").split(",");
  const rounds = Number(process.env["BENCH_REPEAT"] ?? 3);
  const version = await withClient(async (client) => (await client.query<{ server_version: string }>("SHOW server_version")).rows[0]!.server_version);
  console.error(
    `node ${process.version}, PostgreSQL ${version}, ${cpus().length} CPUs, ${Math.round(totalmem() / 2 ** 30)} GB RAM; ` +
      `${targetRuns.toLocaleString("en-US")} runs in the window (+${OTHER_RUNS.toLocaleString("en-US")} of other functions)`,
  );
  await build(targetRuns);
  /** Results by job label, one per round, and the floor of each round. */
  const results = new Map<string, JobResult[]>();
  const floors: (JobResult | undefined)[] = [];
  const record = (result: JobResult): JobResult => {
    console.error(`  ${result.label}: ${(result.elapsedMs / 1000).toFixed(2)} s (load ${loadavg()[0]!.toFixed(2)})`);
    const list = results.get(result.label) ?? [];
    list.push(result);
    results.set(result.label, list);
    return result;
  };
  const run = async (args: readonly string[]): Promise<JobResult> => {
    await reset();
    return record(inChild(args));
  };
  for (let round = 0; round < rounds; round++) {
    console.error(`round ${round + 1} of ${rounds}`);
    floors.push(jobs.includes("raw") ? await run(["raw", String(targetRuns)]) : undefined);
    if (jobs.includes("pushdown")) for (const size of batches) await run(["planner", String(targetRuns), String(size), "pushdown"]);
    if (jobs.includes("nopushdown")) await run(["planner", String(targetRuns), String(batch), "none"]);
    if (jobs.includes("workers")) {
      for (const workers of workerCounts) {
        await reset();
        record(await workersJob(targetRuns, workers, shardsFor(workers), batch));
      }
    }
  }
  await reset();
  console.log(`\n${rounds} rounds; time: median (each round); ratio: median of the per-round ratios to the raw UPDATE`);
  console.log("\n| Job | Scanned | Cancelled | Time | Scanned/s | Cancelled/s | vs raw UPDATE | Notes |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---|");
  for (const runs of results.values()) console.log(row(runs, floors));
  if (process.env["BENCH_DROP"] === "1") await withClient((client) => client.query(`DROP SCHEMA ${quoted} CASCADE`));
}

if (process.argv[1] !== undefined && fileURLToPath(new URL(`file://${process.argv[1]}`)) === SELF) {
  const childAt = process.argv.indexOf("--child");
  if (childAt >= 0) await childMain(process.argv.slice(childAt + 1));
  else await main();
}
