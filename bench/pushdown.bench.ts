/**
 * Exact pushdown vs the database's own speed: a cancellation whose `if` translates into SQL
 * exactly (`event.data.userId == '…'`, 10% of the runs, 75% of those not finished), at the
 * default batch size (1000), on PostgreSQL and SQLite, against
 * - the single raw `UPDATE … WHERE …` that does the same (the floor; goal: the exact job within
 *   1.25× of it), and
 * - the same job through the scan loop with the superset prefilter (the store's exact batches
 *   hidden; goal: within 2×).
 * A second filter, no `if` at all (every unfinished run of the window: 75%), shows the case where
 * the writes dominate. The data are `planner.bench.ts`'s: the target function's runs plus 150,000
 * runs of three others.
 *
 * Each round runs every job once on the same data: before each job, the runs a job cancelled are
 * set back (`status = 'running'`, no `cancellation_id`; they were all non-terminal) and the
 * records deleted, PostgreSQL's table clustered on the window index (a job without an `if`
 * moves rows out of key order), analysed and checkpointed, SQLite's WAL
 * checkpointed. Times are medians of the rounds; ratios are medians of the per-round ratios to
 * that round's raw `UPDATE` (robust against other load on the machine, which moves both).
 *
 * Run: `npm run bench:pushdown`. Environment:
 * - `DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`);
 * - `BENCH_RUNS` runs of the target function (default 1,000,000; `BENCH_10M=1` for 10,000,000);
 * - `BENCH_STORES` (default `postgres,sqlite`); `BENCH_FILTERS` (default `equality,all`);
 *   `BENCH_PATHS` the jobs measured against the floor (default `exact,superset`);
 *   `BENCH_REPEAT` rounds (default 3);
 * - `BENCH_SCHEMA` PostgreSQL schema of the data (default `cancelkit_bench_pushdown`, kept and
 *   reused when it holds the right runs); `BENCH_DIR` where the SQLite file goes (default
 *   `.bench-data/`, kept and reused likewise; built again when it holds another number of runs).
 */
import { mkdirSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import type pg from "pg";
import { cancelRuns } from "../src/cancel/index.js";
import { PostgresRunStore } from "../src/stores/postgres.js";
import { SqliteRunStore } from "../src/stores/sqlite.js";
import type { RunStore } from "../src/stores/types.js";
import { NOW, OTHER_RUNS, TARGET_USER, buildSqlite, requestBody, windowOf } from "./planner.bench.js";
import { buildPostgresRuns, quotedSchema, resetPostgresRuns, withPgClient } from "./postgres-data.js";
import { withoutExactBatches } from "../test/support/without-exact.js";

const SELF = fileURLToPath(import.meta.url);
const URL_ = process.env["DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/test";
const SCHEMA = process.env["BENCH_SCHEMA"] ?? "cancelkit_bench_pushdown";
const QUOTED = quotedSchema(SCHEMA);
const NON_TERMINAL = "('queued', 'running', 'sleeping', 'waiting')";

interface JobResult {
  readonly label: string;
  readonly elapsedMs: number;
  readonly cancelled: number;
}

/** One store's data, jobs and reset. */
export interface Bench {
  readonly name: string;
  open(): Promise<RunStore>;
  raw(filter: Filter): Promise<number>;
  reset(): Promise<void>;
}

/**
 * The filters measured: `equality` is `event.data.userId == '…'` (10% of the runs); `all` has no
 * `if` (every run of the window not finished: 75%), where the writes dominate.
 */
export type Filter = "equality" | "all";

/** The job's request body for a filter. */
export function bodyOf(targetRuns: number, filter: Filter): Record<string, unknown> {
  const body = requestBody(targetRuns, "equality");
  if (filter === "all") delete body["if"];
  return body;
}

function withClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  return withPgClient(URL_, work);
}

async function postgresBench(targetRuns: number): Promise<Bench> {
  const open = async (): Promise<RunStore> => {
    const store = new PostgresRunStore({ connectionString: URL_, schema: SCHEMA, poolSize: 2 });
    await store.migrate();
    return store;
  };
  await buildPostgresRuns({ url: URL_, schema: SCHEMA }, targetRuns);
  const w = windowOf(targetRuns);
  return {
    name: "PostgreSQL",
    open,
    raw: (filter) =>
      withClient(async (c) => {
        const result = await c.query(
          `UPDATE ${QUOTED}.runs SET status = 'cancelled', cancellation_id = $1 WHERE environment_id = 'default' AND app_id = $2 ` +
            `AND function_id = $3 AND started_at BETWEEN $4 AND $5 AND status IN ${NON_TERMINAL}` +
            (filter === "equality" ? " AND event -> 'data' ->> 'userId' = $6" : ""),
          ["01RAWUPDATE000000000000000", "acme-app", "schedule-reminder", w.after, w.before, ...(filter === "equality" ? [TARGET_USER] : [])],
        );
        return result.rowCount ?? 0;
      }),
    reset: () => resetPostgresRuns({ url: URL_, schema: SCHEMA }),
  };
}

/** The SQLite file of `targetRuns` runs (built unless `BENCH_DIR` already holds it), its raw `UPDATE` and reset. */
export async function sqliteBench(targetRuns: number): Promise<Bench & { readonly path: string }> {
  const dir = process.env["BENCH_DIR"] ?? ".bench-data";
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `pushdown-${targetRuns}.db`);
  await buildSqlite(path, targetRuns);
  const w = windowOf(targetRuns);
  const onFile = <T>(work: (db: Database.Database) => T): T => {
    const db = new Database(path);
    try {
      return work(db);
    } finally {
      db.close();
    }
  };
  return {
    name: "SQLite",
    path,
    // As `cancelkit serve` opens it (checkpoints on a thread of their own).
    open: async () => new SqliteRunStore({ path, checkpoints: "background" }),
    raw: async (filter) =>
      onFile(
        (db) =>
          db
            .prepare(
              `UPDATE runs SET status = 'cancelled', cancellation_id = ? WHERE environment_id = 'default' AND app_id = ? AND function_id = ? ` +
                `AND started_at BETWEEN ? AND ? AND status IN ${NON_TERMINAL}` +
                (filter === "equality" ? " AND json_extract(event, '$.data.userId') = ?" : ""),
            )
            .run("01RAWUPDATE000000000000000", "acme-app", "schedule-reminder", w.after, w.before, ...(filter === "equality" ? [TARGET_USER] : [])).changes,
      ),
    reset: async () =>
      onFile((db) => {
        db.prepare("UPDATE runs SET status = 'running', cancellation_id = NULL WHERE cancellation_id IS NOT NULL").run();
        db.prepare("DELETE FROM cancellations").run();
        db.pragma("wal_checkpoint(TRUNCATE)");
        db.prepare("SELECT count(*), sum(length(event)) FROM runs").get();
      }),
  };
}

async function job(bench: Bench, targetRuns: number, filter: Filter, exact: boolean): Promise<JobResult> {
  const store = await bench.open();
  const t0 = performance.now();
  const report = await cancelRuns(exact ? store : withoutExactBatches(store), bodyOf(targetRuns, filter), { now: NOW });
  const elapsedMs = performance.now() - t0;
  await store.close();
  if (report.status !== "completed") throw new Error(`job ended ${report.status}`);
  return { label: exact ? "exact pushdown job" : "superset path", elapsedMs, cancelled: report.outcomes.cancelled };
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  const targetRuns = Number(process.env["BENCH_RUNS"] ?? (process.env["BENCH_10M"] === "1" ? 10_000_000 : 1_000_000));
  const stores = (process.env["BENCH_STORES"] ?? "postgres,sqlite").split(",");
  const rounds = Number(process.env["BENCH_REPEAT"] ?? 3);
  const version = await withClient(async (c) => (await c.query<{ server_version: string }>("SHOW server_version")).rows[0]!.server_version).catch(() => "unreachable");
  console.error(
    `${new Date().toISOString()}: node ${process.version}, PostgreSQL ${version}, SQLite ${new Database(":memory:").prepare("SELECT sqlite_version()").pluck().get() as string}, ` +
      `${cpus().length} CPUs, ${Math.round(totalmem() / 2 ** 30)} GB RAM; ${targetRuns.toLocaleString("en-US")} runs in the window (+${OTHER_RUNS.toLocaleString("en-US")} of other functions)`,
  );
  const filters = (process.env["BENCH_FILTERS"] ?? "equality,all").split(",") as Filter[];
  const paths = (process.env["BENCH_PATHS"] ?? "exact,superset").split(",");
  for (const path of paths) if (path !== "exact" && path !== "superset") throw new Error(`BENCH_PATHS: unknown path ${path}`);
  const lines: string[] = [];
  for (const name of stores) {
    const bench = name === "postgres" ? await postgresBench(targetRuns) : await sqliteBench(targetRuns);
    for (const filter of filters) {
      const times: Record<"raw" | "exact" | "superset", number[]> = { raw: [], exact: [], superset: [] };
      const ratios: Record<"exact" | "superset", number[]> = { exact: [], superset: [] };
      let cancelled = 0;
      for (let round = 0; round < rounds; round++) {
        await bench.reset();
        const t0 = performance.now();
        cancelled = await bench.raw(filter);
        const raw = performance.now() - t0;
        times.raw.push(raw);
        for (const exact of paths.map((path) => path === "exact")) {
          await bench.reset();
          const result = await job(bench, targetRuns, filter, exact);
          if (result.cancelled !== cancelled) throw new Error(`${result.label} cancelled ${result.cancelled}, the raw UPDATE ${cancelled}`);
          times[exact ? "exact" : "superset"].push(result.elapsedMs);
          ratios[exact ? "exact" : "superset"].push(result.elapsedMs / raw);
        }
        console.error(
          `  ${bench.name} ${filter} round ${round + 1}: raw ${(raw / 1000).toFixed(2)} s, exact ${((times.exact.at(-1) ?? NaN) / 1000).toFixed(2)} s, ` +
            `scan loop ${((times.superset.at(-1) ?? NaN) / 1000).toFixed(2)} s (load ${loadavg()[0]!.toFixed(2)})`,
        );
      }
      await bench.reset();
      const all = (xs: readonly number[]): string => `${(median(xs) / 1000).toFixed(2)} s (${xs.map((x) => (x / 1000).toFixed(2)).join(" / ")})`;
      const what = `${bench.name}, ${targetRuns.toLocaleString("en-US")} runs, ${filter === "equality" ? "`event.data.userId == …` (10%)" : "no `if`"}`;
      lines.push(`| ${what}: raw \`UPDATE … WHERE\` (floor), ${cancelled.toLocaleString("en-US")} cancelled | ${all(times.raw)} | | |`);
      if (paths.includes("exact")) lines.push(`| ${what}: exact pushdown job, batch 1000 | ${all(times.exact)} | **${median(ratios.exact).toFixed(2)}×** | ≤ 1.25× |`);
      // The scan loop without an `if` has no prefilter to speak of: its row is the plain scan loop.
      const loop = filter === "equality" ? "superset prefilter + scan loop, batch 1000" : "scan loop (no prefilter), batch 1000";
      if (paths.includes("superset")) lines.push(`| ${what}: ${loop} | ${all(times.superset)} | **${median(ratios.superset).toFixed(2)}×** | ${filter === "equality" ? "≤ 2×" : ""} |`);
    }
  }
  console.log(`\n${rounds} rounds; time: median (each round); ratio: median of the per-round ratios to the raw UPDATE\n`);
  console.log("| Figure | Time | vs raw UPDATE | Goal |");
  console.log("|---|---:|---:|---|");
  for (const line of lines) console.log(line);
}

if (process.argv[1] !== undefined && fileURLToPath(new URL(`file://${process.argv[1]}`)) === SELF) await main();
