/**
 * Parse speed of typical cancellation filters: microseconds per `parse` call once warm (lexing,
 * parsing, macro expansion and the span table, no checking or compiling).
 *
 * Run: `npx tsx bench/parse.bench.ts`. `BENCH_TIME_MS` sets the time per filter (default 1000).
 */
import { Bench } from "tinybench";
import { parse } from "../src/expr/parser/index.js";

const TIME_MS = Number(process.env.BENCH_TIME_MS ?? 1000);

const FILTERS: readonly string[] = [
  "event.data.userId == 'user_o9235hf84hf'",
  "event.data.billingPlan == 'enterprise' && event.data.amount > 1000",
  "event.data.tags.exists(x, x == 'd' || x == 'a')",
  "event.name == 'app/reminder.scheduled' && event.data.region in ['us-east-1', 'eu-west-1'] && !(event.data.plan == 'free')",
  "has(event.data.account.org) && event.data.account.org.team.owner.startsWith('owner_4') ? event.data.amount * 1.2 > 500.0 : false",
];

const bench = new Bench({ time: TIME_MS, warmupTime: 200 });
for (const filter of FILTERS) {
  // Fail loudly rather than time an error path.
  parse(filter);
  bench.add(filter, () => {
    parse(filter);
  });
}
await bench.run();

console.table(
  bench.tasks.map((task) => {
    const result = task.result as { latency?: { mean: number; p50?: number } };
    return {
      filter: task.name.length > 70 ? `${task.name.slice(0, 67)}...` : task.name,
      "µs / parse (mean)": ((result.latency?.mean ?? NaN) * 1000).toFixed(2),
      "µs / parse (median)": ((result.latency?.p50 ?? NaN) * 1000).toFixed(2),
    };
  }),
);
