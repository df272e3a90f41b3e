/**
 * Paired A/B of the SQLite exact pushdown job between two checkouts, for a VM whose speed changes
 * within seconds (see RESULTS.md): both checkouts' SQLite stores are loaded into one process and
 * run the same job on the same file in alternating order, each round after its own raw `UPDATE`
 * (the floor of `pushdown.bench.ts`), and the medians of the per-round ratios to that floor are
 * reported; every job must cancel what the floor does. The planner is this checkout's; only the
 * stores differ, both opened with `checkpoints: "background"` (a checkout older than that option
 * checkpoints inline).
 *
 * Each argument is a checkout's root (run from TypeScript with tsx). The data is
 * `pushdown.bench.ts`'s SQLite file (built on the first run, then reused). A baseline from another
 * commit:
 *
 * ```sh
 * git worktree add /tmp/base <commit> && ln -s "$PWD/node_modules" /tmp/base/node_modules
 * node --import tsx bench/pushdown-ab.ts /tmp/base "$PWD"
 * ```
 *
 * `AB_ROUNDS` (default 5), `AB_FILTER` (`equality`, the default, or `all`: no `if`), `BENCH_DIR`
 * (default `.bench-data/`) and `BENCH_RUNS` (default 1,000,000: the file's size).
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { cancelRuns } from "../src/cancel/index.js";
import type { RunStore } from "../src/stores/types.js";
import { NOW } from "./planner.bench.js";
import { bodyOf, median, sqliteBench, type Filter } from "./pushdown.bench.js";

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
const filter = (process.env["AB_FILTER"] ?? "equality") as Filter;
if (filter !== "equality" && filter !== "all") throw new Error(`AB_FILTER: unknown filter ${String(filter)}`);
const rounds = Number(process.env["AB_ROUNDS"] ?? 5);
// The file, raw `UPDATE` and reset of `pushdown.bench.ts`. Closing the raw `UPDATE`'s connection,
// timed with it, checkpoints the WAL; a job's store is closed after its time is taken.
const bench = await sqliteBench(runs);

/** One job through a checkout's store; answers its time in ms and what it cancelled. */
async function job(Store: StoreClass): Promise<{ ms: number; cancelled: number }> {
  const store = new Store({ path: bench.path, checkpoints: "background" });
  const t0 = performance.now();
  const report = await cancelRuns(store, bodyOf(runs, filter), { now: NOW });
  const ms = performance.now() - t0;
  await store.close();
  if (report.status !== "completed") throw new Error(`job ended ${report.status}`);
  return { ms, cancelled: report.outcomes.cancelled };
}

const ratios: Record<"A" | "B", number[]> = { A: [], B: [] };
for (let round = 0; round < rounds; round++) {
  await bench.reset();
  const t0 = performance.now();
  const cancelled = await bench.raw(filter);
  const floorMs = performance.now() - t0;
  const line = [`round ${round + 1}: floor ${(floorMs / 1000).toFixed(2)} s`];
  for (const which of round % 2 === 0 ? (["A", "B"] as const) : (["B", "A"] as const)) {
    await bench.reset();
    const result = await job(stores[which]);
    if (result.cancelled !== cancelled) throw new Error(`${which} cancelled ${result.cancelled}, the raw UPDATE ${cancelled}`);
    ratios[which].push(result.ms / floorMs);
    line.push(`${which} ${(result.ms / 1000).toFixed(2)} s (${(result.ms / floorMs).toFixed(2)}×)`);
  }
  console.log(`${line.join(", ")}; ${cancelled} cancelled`);
}
console.log(`median of the per-round ratios to the floor (${filter}, ${rounds} rounds): A ${median(ratios.A).toFixed(2)}×, B ${median(ratios.B).toFixed(2)}×`);
