#!/usr/bin/env node
// Runs the property-test files (every test file that imports fast-check) for several rounds, each
// with a fresh random seed, and prints the seed of every failing round so it can be replayed with
// `FC_SEED=<seed> npx vitest run <file>`. CI runs one fixed seed (test/setup/fast-check.ts); this
// is where new seeds get explored.
//
// Usage: npm run fuzz [-- <rounds> [file-substring ...]]   (rounds default 5)
import { spawnSync } from "node:child_process";
import { randomInt } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const [roundsArg, ...filters] = process.argv.slice(2);
const rounds = roundsArg === undefined ? 5 : Number(roundsArg);
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error(`rounds must be a positive integer, got ${JSON.stringify(roundsArg)}`);
  process.exit(2);
}

function testFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return testFiles(path);
    return path.endsWith(".test.ts") && /from "fast-check"/.test(readFileSync(path, "utf8")) ? [path] : [];
  });
}

const files = testFiles("test").filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error("no property-test files match");
  process.exit(2);
}
console.log(`fuzz: ${rounds} round(s) over ${files.length} file(s)`);

const failedSeeds = [];
for (let round = 1; round <= rounds; round++) {
  const seed = randomInt(1, 2 ** 31);
  console.log(`\n--- round ${round}/${rounds}, FC_SEED=${seed}`);
  // CI is unset so that the setup file takes FC_SEED and nothing else.
  const env = { ...process.env, FC_SEED: String(seed), CI: "" };
  const result = spawnSync("npx", ["vitest", "run", "--reporter=dot", ...files], { stdio: "inherit", env });
  if (result.status !== 0) failedSeeds.push(seed);
}
if (failedSeeds.length > 0) {
  console.log(`\nfuzz: ${failedSeeds.length} of ${rounds} round(s) failed; replay with FC_SEED=${failedSeeds.join(", FC_SEED=")}`);
  process.exit(1);
}
console.log(`\nfuzz: all ${rounds} round(s) passed`);
