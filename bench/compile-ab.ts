/**
 * Paired A/B of uncached compile time between two builds, for a VM whose speed changes within
 * seconds (see RESULTS.md): both builds are loaded into one process and measured in alternating
 * rounds, and the median of the per-pair ratios is reported, which a speed change between rounds
 * barely moves.
 *
 * Each argument is a directory holding a build made with `tsconfig.bench.json` (its `src/` and
 * `bench/`). A baseline from another commit:
 *
 * ```sh
 * git worktree add /tmp/base <commit> && ln -s "$PWD/node_modules" /tmp/base/node_modules
 * npx tsc -p /tmp/base/tsconfig.bench.json --outDir /tmp/base-out && ln -s "$PWD/node_modules" /tmp/base-out/node_modules
 * npx tsc -p tsconfig.bench.json && node .bench/bench/compile-ab.js /tmp/base-out "$PWD/.bench"
 * ```
 *
 * `ONLY=<text>` keeps the filters whose name contains it; `AB_ROUNDS` (default 150) and
 * `AB_PER_ROUND` (default 100) set the size.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

interface Build {
  compile(source: string, options: { cache: boolean }): unknown;
}

const [dirA, dirB] = process.argv.slice(2);
if (dirA === undefined || dirB === undefined) {
  console.error("usage: node .bench/bench/compile-ab.js <build A> <build B>");
  process.exit(2);
}
const load = async (dir: string): Promise<Build> =>
  (await import(pathToFileURL(resolve(dir, "src/expr/program.js")).href)) as Build;
const a = await load(dirA);
const b = await load(dirB);
const { FILTERS } = (await import(pathToFileURL(resolve(dirB, "bench/expr.bench.js")).href)) as {
  FILTERS: readonly { name: string; cel: string; extensions?: readonly string[] }[];
};
const only = process.env.ONLY;
// Filters that need extension libraries are left out: build A may predate them.
const filters = FILTERS.filter((f) => f.extensions === undefined && (only === undefined || f.name.includes(only)));
const ROUNDS = Number(process.env.AB_ROUNDS ?? 150);
const PER_ROUND = Number(process.env.AB_PER_ROUND ?? 100);

/** Microseconds per uncached compile of `source` over one round. */
function round(build: Build, source: string): number {
  const t0 = performance.now();
  for (let i = 0; i < PER_ROUND; i++) build.compile(source, { cache: false });
  return ((performance.now() - t0) * 1000) / PER_ROUND;
}

for (let i = 0; i < 2000; i++) {
  for (const f of filters) {
    a.compile(f.cel, { cache: false });
    b.compile(f.cel, { cache: false });
  }
}
const median = (xs: number[]): number => xs.sort((x, y) => x - y)[xs.length >> 1]!;
const rows = filters.map((f) => {
  const ra: number[] = [];
  const rb: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const ta = round(a, f.cel);
    const tb = round(b, f.cel);
    ra.push(ta);
    rb.push(tb);
    ratios.push(tb / ta);
  }
  return {
    filter: f.name,
    "A µs, median round": median(ra).toFixed(2),
    "B µs, median round": median(rb).toFixed(2),
    "B ÷ A, median of pairs": median(ratios).toFixed(3),
  };
});
console.table(rows);
