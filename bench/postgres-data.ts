/**
 * The PostgreSQL side of the benchmarks' data, shared by `postgres.bench.ts` and
 * `pushdown.bench.ts`: a schema holding `planner.bench.ts`'s runs (built once, reused while it
 * holds the right number of runs), and the reset between two jobs that makes every job start
 * from the same table.
 *
 * @module
 */
import pg from "pg";
import { PostgresRunStore } from "../src/stores/postgres.js";
import { OTHER_RUNS, runChunks } from "./planner.bench.js";

/** Where a benchmark's runs live: the server and the schema. */
export interface BenchSchema {
  readonly url: string;
  readonly schema: string;
}

/** A schema name as a quoted SQL identifier. */
export function quotedSchema(schema: string): string {
  return `"${schema.replaceAll('"', '""')}"`;
}

/** Runs `work` on a fresh client of `url`, ended afterwards. */
export async function withPgClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Leaves the schema holding the runs of `runChunks(targetRuns)` (the target function's runs plus
 * {@link OTHER_RUNS} of three others): kept when it holds that many runs already, else emptied and
 * filled (minutes for a million runs).
 */
export async function buildPostgresRuns(at: BenchSchema, targetRuns: number): Promise<void> {
  const quoted = quotedSchema(at.schema);
  const store = new PostgresRunStore({ connectionString: at.url, schema: at.schema, poolSize: 2 });
  await store.migrate();
  try {
    const count = await withPgClient(at.url, async (client) => {
      const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoted}.runs`);
      return Number(rows[0]!.n);
    });
    if (count === targetRuns + OTHER_RUNS) return;
    await withPgClient(at.url, (client) => client.query(`TRUNCATE ${quoted}.runs, ${quoted}.cancellations CASCADE`));
    const t0 = performance.now();
    for (const chunk of runChunks(targetRuns)) await store.insertRuns(chunk);
    console.error(`built ${at.schema}: ${(targetRuns + OTHER_RUNS).toLocaleString("en-US")} runs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    await store.close();
  }
}

/**
 * Puts back what a job changed (every run a job cancelled was non-terminal: `running` again, no
 * `cancellation_id`; no records) and leaves the table clustered, analysed and checkpointed, its
 * cache warmed alike for every job. Updating most runs (a job without an `if`, and its reset)
 * moves rows to other pages and leaves the heap out of start order; so the table is clustered on
 * the window index before every job, and every job starts from the same layout (the raw `UPDATE`'s
 * sequential scan hardly cares; the jobs' keyset scans read the heap in key order).
 */
export async function resetPostgresRuns(at: BenchSchema): Promise<void> {
  const quoted = quotedSchema(at.schema);
  await withPgClient(at.url, async (client) => {
    await client.query(`UPDATE ${quoted}.runs SET status = 'running', cancellation_id = NULL WHERE cancellation_id IS NOT NULL`);
    await client.query(`DELETE FROM ${quoted}.cancellations`);
    await client.query(`VACUUM (ANALYZE) ${quoted}.cancellations`);
    await client.query(`CLUSTER ${quoted}.runs USING runs_window_idx`);
    await client.query(`ANALYZE ${quoted}.runs`);
    await client.query("CHECKPOINT");
    // Warm the cache alike for every job: one pass over the table and the window index.
    await client.query(`SELECT count(*), sum(length(event::text)) FROM ${quoted}.runs`);
  });
}
