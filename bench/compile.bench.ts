/**
 * Warm compile time of the expression suite's filters in a process that does nothing else: the
 * figure the compile goal (under 10 µs, program cache off) is about, without the heap of the other
 * suites (10,000 events held by five engines), whose collections the compiles in `expr.bench`
 * share. 2,000 warm-up compiles of all filters, then per filter 15 rounds of 500 compiles; the
 * best round and the median round are shown, with parse alone, and then (after their own warm-up)
 * with fast paths generated at compile time.
 */
import { compile } from "../src/expr/program.js";
import { parse } from "../src/expr/parser/index.js";
import { FILTERS } from "./expr.bench.js";

/** The extensions option of a filter that needs extension libraries. */
function ext(filter: (typeof FILTERS)[number]): { extensions?: NonNullable<(typeof FILTERS)[number]["extensions"]> } {
  return filter.extensions === undefined ? {} : { extensions: filter.extensions };
}

const ROUNDS = 15;
const PER_ROUND = 500;

/** Microseconds per call of `f` in each of the rounds. */
function rounds(f: () => unknown): number[] {
  const out: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < PER_ROUND; i++) f();
    out.push(((performance.now() - t0) * 1000) / PER_ROUND);
  }
  return out.sort((a, b) => a - b);
}

function main(): void {
  // Default options first, warmed up and measured before any compile with fast paths at compile
  // time: in one process, those (code generation) slowed the later default compiles, and even
  // parsing, by about 1.6× (measured 2026-11-29), which is not what a service compiling with the
  // defaults sees.
  for (let i = 0; i < 2000; i++) for (const filter of FILTERS) compile(filter.cel, { cache: false, ...ext(filter) });
  const uncached = FILTERS.map((filter) => rounds(() => compile(filter.cel, { cache: false, ...ext(filter) })));
  const parsed = FILTERS.map((filter) => rounds(() => parse(filter.cel)));
  for (let i = 0; i < 2000; i++) for (const filter of FILTERS) compile(filter.cel, { cache: false, fastPaths: true, ...ext(filter) });
  const eager = FILTERS.map((filter) => rounds(() => compile(filter.cel, { cache: false, fastPaths: true, ...ext(filter) })));
  const show = (xs: number[]): string => `${xs[0]!.toFixed(1)} (median ${xs[ROUNDS >> 1]!.toFixed(1)})`;
  console.table(
    FILTERS.map((filter, k) => ({
      filter: filter.name,
      "compile µs, best (median) round": show(uncached[k]!),
      "parse alone (µs)": show(parsed[k]!),
      "fast paths at compile time (µs)": show(eager[k]!),
    })),
  );
}

main();
