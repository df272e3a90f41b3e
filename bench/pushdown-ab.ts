/**
 * Paired A/B of the SQLite exact pushdown job between two checkouts, for a VM whose speed changes
 * within seconds (see RESULTS.md): both checkouts' SQLite stores are loaded into one process and
 * run the same job on the same file in alternating order, each round after its own raw `UPDATE`
 * (the floor of `pushdown.bench.ts`), and the medians of the per-round ratios to that floor are
 * reported; every job must cancel what the floor does. The planner is this checkout's; only the
 * stores differ, both opened with `checkpoints: "background"` (a checkout older than that option
 * checkpoints inline).
 *
 * Each argument is a checkout's root (run from TypeScript with tsx). A baseline from another
 * commit, against the file `npm run bench:pushdown` builds:
 *
 * ```sh
 * git worktree add /tmp/base <commit> && ln -s "$PWD/node_modules" /tmp/base/node_modules
 * BENCH_STORES=sqlite BENCH_REPEAT=1 npm run bench:pushdown   # builds .bench-data/pushdown-1000000.db
 * node --import tsx bench/pushdown-ab.ts /tmp/base "$PWD"
 * ```
 *
 * `AB_ROUNDS` (default 5), `AB_FILTER` (`equality`, the default, or `all`: no `if`), `BENCH_DIR`
 * (default `.bench-data/`) and `BENCH_RUNS` (default 1,000,000: the file's size).
 */
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import { cancelRuns } from "../src/cancel/index.js";
import type { RunStore } from "../src/stores/types.js";
import { NOW, TARGET_USER, requestBody, windowOf } from "./planner.bench.js";

type StoreClass = new (options: { path: string; checkpoints: "background" }) => RunStore;

const [rootA, rootB] = process.argv.slice(2);
if (rootA === undefined || rootB === undefined) {
  console.error("usage: node --import tsx bench/pushdown-ab.ts <checkout A> <checkout B>");
  process.exit(2);
}
const load = async (root: string): Promise<StoreClass> =>
  ((await import(pathToFileURL(resolve(root, "src/stores/sqlite.ts")).href)) as { SqliteRunStore: StoreClass }).SqliteRunStore;
const stores: Record<"A" | "B", StoreClass> = { A: await load(rootA), B: await load(rootB) };

const runs = Number(process.env["BENCH_RUNS"] ?? 1_000_000);
const path = resolve(join(process.env["BENCH_DIR"] ?? ".bench-data", `pushdown-${runs}.db`));
const filter = (process.env["AB_FILTER"] ?? "equality") as "equality" | "all";
if (filter !== "equality" && filter !== "all") throw new Error(`AB_FILTER: unknown filter ${String(filter)}`);
const rounds = Number(process.env["AB_ROUNDS"] ?? 5);
const w = windowOf(runs);

function onFile<T>(work: (db: Database.Database) => T): T {
  const db = new Database(path, { fileMustExist: true });
  try {
    return work(db);
  } finally {
    db.close();
  }
}

/** Undoes every cancellation, as `pushdown.bench.ts` does between jobs, and warms the page cache. */
function reset(): void {
  onFile((db) => {
    db.prepare("UPDATE runs SET status = 'running', cancellation_id = NULL WHERE cancellation_id IS NOT NULL").run();
    db.prepare("DELETE FROM cancellations").run();
    db.pragma("wal_checkpoint(TRUNCATE)");
    db.prepare("SELECT count(*), sum(length(event)) FROM runs").get();
  });
}

/** The raw `UPDATE … WHERE` of `pushdown.bench.ts`; answers its time in ms and the runs it cancelled. */
function floor(): { ms: number; cancelled: number } {
  const t0 = performance.now();
  const { changes } = onFile((db) =>
    db
      .prepare(
        "UPDATE runs SET status = 'cancelled', cancellation_id = ? WHERE environment_id = 'default' AND app_id = ? AND function_id = ? " +
          "AND started_at BETWEEN ? AND ? AND status IN ('queued', 'running', 'sleeping', 'waiting')" +
          (filter === "equality" ? " AND json_extract(event, '$.data.userId') = ?" : ""),
      )
      .run("01RAWUPDATE000000000000000", "acme-app", "schedule-reminder", w.after, w.before, ...(filter === "equality" ? [TARGET_USER] : [])),
  );
  // Closing the file's last connection, timed here, checkpoints the WAL; a job's store is closed
  // after its time is taken, so WAL frames its thread has not copied yet are not timed.
  return { ms: performance.now() - t0, cancelled: changes };
}

/** One job through a checkout's store; answers its time in ms and what it cancelled. */
async function job(Store: StoreClass): Promise<{ ms: number; cancelled: number }> {
  const store = new Store({ path, checkpoints: "background" });
  const t0 = performance.now();
  const body = requestBody(runs, "equality");
  if (filter === "all") delete body["if"];
  const report = await cancelRuns(store, body, { now: NOW });
  const ms = performance.now() - t0;
  await store.close();
  if (report.status !== "completed") throw new Error(`job ended ${report.status}`);
  return { ms, cancelled: report.outcomes.cancelled };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const ratios: Record<"A" | "B", number[]> = { A: [], B: [] };
for (let round = 0; round < rounds; round++) {
  reset();
  const { ms: floorMs, cancelled } = floor();
  const line = [`round ${round + 1}: floor ${(floorMs / 1000).toFixed(2)} s`];
  for (const which of round % 2 === 0 ? (["A", "B"] as const) : (["B", "A"] as const)) {
    reset();
    const result = await job(stores[which]);
    if (result.cancelled !== cancelled) throw new Error(`${which} cancelled ${result.cancelled}, the raw UPDATE ${cancelled}`);
    ratios[which].push(result.ms / floorMs);
    line.push(`${which} ${(result.ms / 1000).toFixed(2)} s (${(result.ms / floorMs).toFixed(2)}×)`);
  }
  console.log(`${line.join(", ")}; ${cancelled} cancelled`);
}
console.log(`median of the per-round ratios to the floor (${filter}, ${rounds} rounds): A ${median(ratios.A).toFixed(2)}×, B ${median(ratios.B).toFixed(2)}×`);
