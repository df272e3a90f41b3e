/**
 * `npm run bench`: the expression suites (evaluation, compile time alone, parse), each in its own
 * process so that one suite's JIT state does not colour the next. The planner suite (`npm run bench:planner`) generates a million runs
 * and is run on its own.
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
console.log(`cancelkit benchmarks — ${new Date().toISOString()}, node ${process.version}, ${process.platform}/${process.arch}`);
for (const suite of ["expr.bench.js", "compile.bench.js", "parse.bench.js"]) {
  console.log(`\n## ${suite}\n`);
  const r = spawnSync(process.execPath, [join(here, suite)], { stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
