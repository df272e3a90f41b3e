/**
 * Expression evaluation speed: typical cancellation filters over 10,000 generated events, side by
 * side in one run with @bufbuild/cel, @marcbachmann/cel-js, cel-js and a hand-written JS function
 * per filter; plus warm parse+compile time.
 *
 * Run: `npm run bench` (or `npx tsx bench/expr.bench.ts`). `BENCH_TIME_MS` sets the time per task.
 */
import { celEnv, isCelError, parse as bufParse, plan as bufPlan } from "@bufbuild/cel";
import { strings as bufStrings } from "@bufbuild/cel/ext";
import { parse as marcParse } from "@marcbachmann/cel-js";
import { evaluate as celJsEvaluate, parse as celJsParse } from "cel-js";
import { Bench } from "tinybench";
import type { ExtensionName } from "../src/expr/dialect.js";
import { compile } from "../src/expr/program.js";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000);
const TIME_MS = Number(process.env.BENCH_TIME_MS ?? 400);

/** A deterministic pseudo-random generator, so every run sees the same events. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

type Event = Record<string, unknown>;

/** Events shaped like Inngest's: name, data, id, ts, user. About 10% match each filter. */
export function generateEvents(n: number, seed = 42): Event[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const plans = ["free", "pro", "team", "enterprise"];
  const regions = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1", "sa-east-1"];
  const out: Event[] = [];
  for (let k = 0; k < n; k++) {
    const vip = r() < 0.1;
    const tags = Array.from({ length: 1 + Math.floor(r() * 5) }, (_, j) => (vip && j === 2 ? "vip-gold" : pick(["new", "beta", "mobile", "web", "promo", "legacy"])));
    const user = r() < 0.1 ? "user_o9235hf84hf" : `user_${Math.floor(r() * 1e9).toString(36)}`;
    out.push({
      name: "app/reminder.scheduled",
      id: `01HM${k.toString(36).padStart(22, "0").toUpperCase()}`,
      ts: 1705861392000 + k * 1000,
      user: {},
      data: {
        userId: user,
        email: r() < 0.1 ? `person${k}@acme.com` : `person${k}@example.org`,
        plan: pick(plans),
        region: pick(regions),
        amount: Math.round(r() * 2000 * 100) / 100,
        tags,
        items: Array.from({ length: Math.floor(r() * 5) }, (_, j) => ({ sku: `sku-${j}`, qty: 1 + j })),
        account: { org: { team: { owner: r() < 0.1 ? "owner_42" : `owner_${Math.floor(r() * 1000)}` } } },
        // Derived from the index, not drawn: the other fields stay what earlier runs measured.
        scores: k % 10 === 0 ? [(k * 37) % 91, 95.5, (k * 53) % 91] : [(k * 37) % 91, (k * 53) % 91],
      },
    });
  }
  return out;
}

interface Filter {
  readonly name: string;
  readonly cel: string;
  readonly js: (e: any) => boolean;
  /** The extension libraries the filter needs (cancelkit's `compile` option). */
  readonly extensions?: readonly ExtensionName[];
}

export const FILTERS: readonly Filter[] = [
  {
    name: "equality on a field",
    cel: "event.data.userId == 'user_o9235hf84hf'",
    js: (e) => e.data.userId === "user_o9235hf84hf",
  },
  {
    name: "&& with in a list",
    cel: "event.data.plan == 'enterprise' && event.data.region in ['us-east-1', 'eu-west-1', 'ap-south-1']",
    js: (e) => e.data.plan === "enterprise" && ["us-east-1", "eu-west-1", "ap-south-1"].includes(e.data.region),
  },
  {
    name: "exists with startsWith",
    cel: "event.data.tags.exists(t, t.startsWith('vip'))",
    js: (e) => e.data.tags.some((t: string) => t.startsWith("vip")),
  },
  {
    name: "size() || endsWith",
    cel: "size(event.data.items) > 3 || event.data.email.endsWith('@acme.com')",
    js: (e) => e.data.items.length > 3 || e.data.email.endsWith("@acme.com"),
  },
  {
    name: "6-level field path",
    cel: "event.data.account.org.team.owner == 'owner_42'",
    js: (e) => e.data.account.org.team.owner === "owner_42",
  },
  {
    name: "ternary",
    cel: "(event.data.amount > 1800.0 ? 'high' : 'low') == 'high'",
    js: (e) => (e.data.amount > 1800 ? "high" : "low") === "high",
  },
  {
    name: "optional field with a default",
    cel: "event.data.?plan.orValue('free') == 'pro'",
    js: (e) => (e.data.plan ?? "free") === "pro",
    extensions: ["optionals"],
  },
  {
    name: "math.greatest of a list",
    cel: "math.greatest(event.data.scores) > 90",
    js: (e) => Math.max(...e.data.scores) > 90,
    extensions: ["math"],
  },
  {
    name: "matches",
    cel: "event.data.email.matches('^[a-z0-9._]+@acme\\\\.com$')",
    js: (e) => /^[a-z0-9._]+@acme\.com$/.test(e.data.email),
  },
];

type Engine = (source: string, filter: Filter) => ((event: Event) => unknown) | string;

const bufEnv = celEnv({ funcs: bufStrings });

let serial = 0;

/**
 * A function made from `body` (which returns it) with its own inline caches: the text carries a
 * serial number, since V8 shares inline caches between functions compiled from identical text.
 * Every engine's per-filter wrapper is made this way, so that no engine's wrapper is a call site
 * shared by all filters (megamorphic by the later ones), as in a real caller with one filter.
 */
function ownFunction<T>(names: readonly string[], body: string, ...values: unknown[]): T {
  return new Function(...names, `// ${++serial}\n${body}`)(...values) as T;
}

export const ENGINES: Record<string, Engine> = {
  cancelkit: (source, filter) =>
    ownFunction(
      ["p"],
      "const act = { event: undefined }; return (event) => { act.event = event; return p.matches(act); };",
      compile(source, filter.extensions === undefined ? {} : { extensions: filter.extensions }),
    ),
  "@bufbuild/cel": (source) =>
    // @bufbuild/cel reads plain objects as maps at run time.
    ownFunction(["f", "isCelError"], "return (event) => { const r = f({ event }); return isCelError(r) ? 'error' : r; };", bufPlan(bufEnv, bufParse(source)), isCelError),
  "@marcbachmann/cel-js": (source) => ownFunction(["f"], "return (event) => f({ event });", marcParse(source)),
  "cel-js": (source) => {
    const parsed = celJsParse(source);
    if (!parsed.isSuccess) return "parse error";
    return ownFunction(["evaluate", "cst"], "return (event) => evaluate(cst, { event });", celJsEvaluate, parsed.cst);
  },
};

/**
 * The timed loop of one task. Each task gets a loop function of its own (made with `new Function`
 * from a text carrying a serial number: V8 shares inline caches between functions compiled from
 * identical text), so no engine pays for a call site shared with the others, and every engine gets
 * the inlining a real caller with one filter gets. The loop counts the matches, as a real caller
 * uses each result: a loop that discards them lets V8 drop the work of an inlined filter.
 */
function evaluationLoop(fn: (event: Event) => unknown, events: readonly Event[]): () => number {
  const make = new Function(
    "fn",
    "events",
    `// task ${++serial}
return function loop() { let n = 0; for (let k = 0; k < events.length; k++) if (fn(events[k]) === true) n++; return n; };`,
  ) as (f: typeof fn, e: readonly Event[]) => () => number;
  return make(fn, events);
}

function fmt(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(0);
}

async function main(): Promise<void> {
  const events = generateEvents(EVENTS);
  console.log(`node ${process.version}, ${EVENTS} events, ${TIME_MS} ms per task`);
  const rows: Record<string, string | number>[] = [];
  const ratios: { vsBest: number; vsJs: number }[] = [];
  for (const filter of FILTERS) {
    const bench = new Bench({ time: TIME_MS, warmupTime: 100 });
    const expected = events.filter(filter.js).length;
    const results: Record<string, number | string> = {};
    const tasks: [string, () => void][] = [["hand-written JS", evaluationLoop(filter.js, events)]];
    for (const [name, make] of Object.entries(ENGINES)) {
      let f: ReturnType<Engine>;
      try {
        f = make(filter.cel, filter);
      } catch (err) {
        results[name] = `fails: ${(err as Error).message.split("\n")[0]!.slice(0, 40)}`;
        continue;
      }
      if (typeof f === "string") {
        results[name] = f;
        continue;
      }
      const fn = f;
      let count = 0;
      let broken = "";
      for (const e of events) {
        let v: unknown;
        try {
          v = fn(e);
        } catch (err) {
          broken = `throws: ${(err as Error).message.slice(0, 40)}`;
          break;
        }
        if (v === true) count++;
      }
      if (broken !== "" || count !== expected) {
        results[name] = broken || `wrong: ${count}/${expected} matches`;
        continue;
      }
      tasks.push([name, evaluationLoop(fn, events)]);
    }
    for (const [name, fn] of tasks) bench.add(name, fn);
    await bench.run();
    for (const task of bench.tasks) {
      const r = task.result as { throughput?: { mean: number } };
      results[task.name] = (r.throughput?.mean ?? 0) * events.length;
    }
    const ours = results.cancelkit as number;
    const others = Object.entries(results).filter(
      ([k, v]) => k !== "cancelkit" && k !== "hand-written JS" && typeof v === "number",
    ) as [string, number][];
    // A filter no other engine runs (the extension filters) has no "fastest other".
    const best = others.length === 0 ? undefined : Math.max(...others.map(([, v]) => v));
    const jsRate = results["hand-written JS"] as number;
    ratios.push({ vsBest: best === undefined ? Number.NaN : ours / best, vsJs: jsRate / ours });
    const row: Record<string, string | number> = { filter: filter.name, matches: expected };
    for (const [k, v] of Object.entries(results)) row[k] = typeof v === "number" ? `${fmt(v)}/s` : v;
    row["× fastest other"] = best === undefined ? "none runs it" : (ours / best).toFixed(1);
    row["JS ÷ ours"] = (jsRate / ours).toFixed(2);
    rows.push(row);
  }
  console.table(rows);
  const geo = (all: number[]): number => {
    const xs = all.filter((x) => !Number.isNaN(x));
    return Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
  };
  console.log(
    `geometric mean: ${geo(ratios.map((r) => r.vsBest)).toFixed(2)}× the fastest other engine; hand-written JS is ${geo(ratios.map((r) => r.vsJs)).toFixed(2)}× ours`,
  );

  // Warm parse + check + compile: with the program cache off (every call does all the work),
  // with fast paths generated at compile time as well, and with the cache on (a repeated source).
  const variants = {
    "compile µs (uncached)": { cache: false },
    "with fast paths at compile time (µs)": { cache: false, fastPaths: true },
    "cached (µs)": {},
  } as const;
  // One variant at a time, the default options first: compiles with fast paths at compile time
  // (code generation) slowed later compiles in the same process (see bench/compile.bench.ts).
  const compileBenches = new Map<string, Bench>();
  for (const [label, options] of Object.entries(variants)) {
    const bench = new Bench({ time: TIME_MS, warmupTime: 100 });
    for (const filter of FILTERS) {
      const withExtensions = filter.extensions === undefined ? options : { ...options, extensions: filter.extensions };
      bench.add(filter.name, () => void compile(filter.cel, withExtensions));
    }
    await bench.run();
    compileBenches.set(label, bench);
  }
  const latency = (filterName: string, label: string): { mean: string; median: string } => {
    const r = compileBenches.get(label)?.getTask(filterName)?.result as { latency?: { mean: number; p50?: number } } | undefined;
    return { mean: ((r?.latency?.mean ?? 0) * 1000).toFixed(2), median: ((r?.latency?.p50 ?? 0) * 1000).toFixed(2) };
  };
  console.table(
    FILTERS.map((filter) => {
      const row: Record<string, string> = { filter: filter.name };
      for (const label of Object.keys(variants)) {
        const { mean, median } = latency(filter.name, label);
        row[label] = `${mean} (median ${median})`;
      }
      return row;
    }),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main();
}
