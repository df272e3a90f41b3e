/**
 * The aggregate `Matcher` against the naive loop, at 1,000 / 10,000 / 100,000 / 1,000,000
 * expressions (`inngest` dialect), all in one run.
 *
 * The mix, per expression i (seeded, so every run builds the same set):
 * - 60% `event.data.userId == 'u<i>'`;
 * - 25% `event.data.userId in ['u<i>', 'u<j>', 'u<k>']` (j, k random below the set's size);
 * - 14% `event.data.amount > <k> && event.data.plan == 'pro'` (k random below 10 × size);
 * - 1% not indexable: `event.data.tags.exists(t, t.startsWith('x<i mod 10>'))` (ten distinct texts).
 * Events: `userId` random below 2 × size (half name no expression), `amount` below 50, plan `pro`
 * one time in three, tags `['y<r>']` and, one time in twenty, also `'x<d>-<r>'`: each event
 * matches a few expressions.
 *
 * Reported per size: the time of one `match` (median and p99 over the events, each timed alone),
 * heap per expression (after a full GC, the matcher alone), `add` and `remove` time per expression,
 * and in the same run the naive loop — every expression's compiled program decides the event — over
 * our programs and over `@marcbachmann/cel-js`'s (median per event). The naive loops hold one
 * compiled program per expression, about 6 KB each; above `BENCH_NAIVE_MAX` expressions (default
 * 100,000) they are not run. Every matcher answer is checked against our naive loop where it runs.
 *
 * Run: `npm run bench:matcher` (`node --expose-gc --import tsx bench/matcher.bench.ts`).
 * `BENCH_SIZES` (default `1000,10000,100000,1000000`), `BENCH_EVENTS` events timed per size
 * (default 2,000), `BENCH_NAIVE_EVENTS` events for the naive loops (default 30).
 */
import { parse as marcParse } from "@marcbachmann/cel-js";
import { Matcher } from "../src/expr/matcher/index.js";
import { compile, type Program } from "../src/expr/program.js";
import { seededRandom } from "../src/service/generate.js";

const SIZES = (process.env["BENCH_SIZES"] ?? "1000,10000,100000,1000000").split(",").map(Number);
const EVENTS = Number(process.env["BENCH_EVENTS"] ?? 2000);
const NAIVE_EVENTS = Number(process.env["BENCH_NAIVE_EVENTS"] ?? 30);
const NAIVE_MAX = Number(process.env["BENCH_NAIVE_MAX"] ?? 100_000);
const DIALECT = "inngest" as const;

if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc (npm run bench:matcher)");
const gc = globalThis.gc as () => void;

/** The expression set of one size. */
export function expressions(n: number, seed = 1): string[] {
  const random = seededRandom(seed);
  const below = (k: number) => Math.floor(random() * k);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = random();
    if (r < 0.6) out.push(`event.data.userId == 'u${i}'`);
    else if (r < 0.85) out.push(`event.data.userId in ['u${i}', 'u${below(n)}', 'u${below(n)}']`);
    else if (r < 0.99) out.push(`event.data.amount > ${below(10 * n)} && event.data.plan == 'pro'`);
    else out.push(`event.data.tags.exists(t, t.startsWith('x${i % 10}'))`);
  }
  return out;
}

/** Activations of one size. */
export function events(n: number, count: number, seed = 2): { event: Record<string, unknown> }[] {
  const random = seededRandom(seed);
  const below = (k: number) => Math.floor(random() * k);
  const out: { event: Record<string, unknown> }[] = [];
  for (let i = 0; i < count; i++) {
    out.push({
      event: {
        name: "app/order.created",
        ts: 1_705_000_000_000 + i,
        data: {
          userId: `u${below(2 * n)}`,
          amount: below(50),
          plan: random() < 1 / 3 ? "pro" : "free",
          tags: random() < 0.05 ? [`y${below(100)}`, `x${below(10)}-${below(100)}`] : [`y${below(100)}`],
        },
      },
    });
  }
  return out;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function median(xs: readonly number[]): number {
  return percentile([...xs].sort((a, b) => a - b), 0.5);
}

function fmt(us: number): string {
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(2)} µs`;
}

interface Row {
  size: number;
  medianUs: number;
  p99Us: number;
  bytesPerExpr: number;
  addUs: number;
  removeUs: number;
  naiveOursUs: number | undefined;
  naiveMarcUs: number | undefined;
  matchesPerEvent: number;
  stats: ReturnType<Matcher["stats"]>;
}

function runSize(n: number): Row {
  const sources = expressions(n);
  const evs = events(n, EVENTS);

  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  let matcher: Matcher | undefined = new Matcher({ dialect: DIALECT });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) matcher.add(`c${i}`, sources[i]!);
  const addUs = ((performance.now() - t0) * 1000) / n;
  gc();
  const bytesPerExpr = (process.memoryUsage().heapUsed - heapBefore) / n;
  const stats = matcher.stats();

  // Warm up, then time each match alone.
  for (let i = 0; i < Math.min(500, evs.length); i++) matcher.match(evs[i]!);
  const times: number[] = [];
  let matched = 0;
  for (const ev of evs) {
    const s = process.hrtime.bigint();
    const ids = matcher.match(ev);
    times.push(Number(process.hrtime.bigint() - s) / 1000);
    matched += ids.length;
  }
  times.sort((a, b) => a - b);

  let naiveOursUs: number | undefined;
  let naiveMarcUs: number | undefined;
  if (n <= NAIVE_MAX) {
    const programs: Program[] = sources.map((s) => compile(s, { dialect: DIALECT, cache: false }));
    const sample = evs.slice(0, NAIVE_EVENTS);
    // Same answers as the matcher, in the same order.
    for (const ev of sample) {
      const expected: string[] = [];
      for (let i = 0; i < n; i++) if (programs[i]!.decide(ev) === "match") expected.push(`c${i}`);
      const got = matcher.match(ev);
      if (expected.join() !== got.join()) throw new Error(`matcher and naive loop differ on ${JSON.stringify(ev)}: ${got.join()} vs ${expected.join()}`);
    }
    const ours: number[] = [];
    for (const ev of sample) {
      const s = performance.now();
      let k = 0;
      for (let i = 0; i < n; i++) if (programs[i]!.decide(ev) === "match") k++;
      ours.push((performance.now() - s) * 1000 + k * 0);
    }
    naiveOursUs = median(ours);
    programs.length = 0;
    gc();
    const marc = sources.map((s) => marcParse(s));
    const theirs: number[] = [];
    for (const ev of sample) {
      const s = performance.now();
      let k = 0;
      for (let i = 0; i < n; i++) {
        try {
          if (marc[i]!(ev) === true) k++;
        } catch {
          // An evaluation error is not a match.
        }
      }
      theirs.push((performance.now() - s) * 1000 + k * 0);
    }
    naiveMarcUs = median(theirs);
    marc.length = 0;
  }

  const r0 = performance.now();
  for (let i = 0; i < n; i++) matcher.remove(`c${i}`);
  const removeUs = ((performance.now() - r0) * 1000) / n;
  if (matcher.size !== 0 || matcher.stats().groups !== 0) throw new Error("matcher not empty after removing everything");
  matcher = undefined;
  gc();

  return {
    size: n,
    medianUs: percentile(times, 0.5),
    p99Us: percentile(times, 0.99),
    bytesPerExpr,
    addUs,
    removeUs,
    naiveOursUs,
    naiveMarcUs,
    matchesPerEvent: matched / evs.length,
    stats,
  };
}

const rows: Row[] = [];
for (const n of SIZES) {
  const row = runSize(n);
  rows.push(row);
  console.error(`${n}: ${JSON.stringify({ ...row, stats: undefined })} ${JSON.stringify(row.stats)}`);
}

console.log(`\nMatcher, ${DIALECT} dialect — ${new Date().toISOString()}, Node ${process.version}\n`);
console.log("| Expressions | match median | match p99 | naive loop, ours (× matcher median) | naive loop, @marcbachmann/cel-js | heap per expression | add | remove | matches per event | indexed / partly / evaluated |");
console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
for (const r of rows) {
  const naive = r.naiveOursUs === undefined ? "not run" : `${fmt(r.naiveOursUs)} (${Math.round(r.naiveOursUs / r.medianUs)}×)`;
  const marc = r.naiveMarcUs === undefined ? "not run" : fmt(r.naiveMarcUs);
  console.log(
    `| ${r.size.toLocaleString("en-US")} | ${fmt(r.medianUs)} | ${fmt(r.p99Us)} | ${naive} | ${marc} | ${Math.round(r.bytesPerExpr)} B | ${fmt(r.addUs)} | ${fmt(r.removeUs)} | ${r.matchesPerEvent.toFixed(2)} | ${r.stats.indexed} / ${r.stats.partlyIndexed} / ${r.stats.evaluated} |`,
  );
}
