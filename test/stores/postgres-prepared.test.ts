/**
 * The PostgreSQL store's prepared statements (`Database.queryPrepared`): each connection prepares
 * a statement once and keeps no more than its cap, retiring itself once full, and a failed
 * statement takes its connection with it; the statements still answer as unprepared ones do.
 *
 * @module
 */
import { expect, it } from "vitest";
import { Database } from "../../src/stores/postgres/db.js";
import { describePostgres } from "../support/postgres.js";

await describePostgres("PostgreSQL prepared statements", ({ url, newSchema }) => {
  const open = (preparedStatements: boolean): Database =>
    new Database({ connectionString: url, poolSize: 1, schema: newSchema(), now: Date.now, onPoolError: undefined, asyncBatchCommits: true, preparedStatements, maxPreparedPerConnection: 3 });

  /** The statement of shape `k`: the same text for the same `k`. */
  const shape = (k: number): string => `SELECT $1::integer + ${k} AS n, pg_backend_pid() AS pid, (SELECT count(*)::integer FROM pg_prepared_statements) AS prepared`;

  it("a connection prepares each statement once and holds no more than its cap, then is replaced; answers are those of unprepared statements", async () => {
    const prepared = open(true);
    const plain = open(false);
    try {
      const pids = new Set<number>();
      // Shapes 0-2 fill the first connection; shape 0 again is served prepared; shape 3 retires it.
      const seen: { k: number; prepared: number }[] = [];
      for (const k of [0, 1, 2, 0, 1, 3, 0, 4, 5, 6]) {
        const got = await prepared.queryPrepared<{ n: number; pid: number; prepared: number }>(shape(k), [10]);
        const want = await plain.queryPrepared<{ n: number }>(shape(k), [10]);
        expect(got.rows[0]?.n).toBe(want.rows[0]?.n);
        expect(got.rows[0]?.n).toBe(10 + k);
        pids.add(got.rows[0]!.pid);
        seen.push({ k, prepared: got.rows[0]!.prepared });
      }
      // Counted while the statement runs: the statement itself is prepared by then, except on a full connection.
      expect(seen.map((s) => s.prepared)).toEqual([1, 2, 3, 3, 3, 3, 1, 2, 3, 3]);
      // Retired after shape 3 and after shape 6.
      expect(pids.size).toBe(2);
      const after = await prepared.queryPrepared<{ pid: number; prepared: number }>(shape(7), [1]);
      expect(pids.has(after.rows[0]!.pid)).toBe(false);
      expect(after.rows[0]?.prepared).toBe(1);
    } finally {
      await Promise.all([prepared.pool.end(), plain.pool.end()]);
    }
  });

  it("a statement that fails rejects, and the next one runs on a fresh connection", async () => {
    const db = open(true);
    try {
      const first = await db.queryPrepared<{ pid: number }>("SELECT pg_backend_pid() AS pid WHERE $1::integer > 0", [1]);
      await expect(db.queryPrepared("SELECT 1 / $1::integer AS n", [0])).rejects.toThrow(/division by zero/);
      const next = await db.queryPrepared<{ pid: number }>("SELECT pg_backend_pid() AS pid WHERE $1::integer > 0", [1]);
      expect(next.rows[0]?.pid).not.toBe(first.rows[0]?.pid);
    } finally {
      await db.pool.end();
    }
  });
});
