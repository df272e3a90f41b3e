/**
 * PostgreSQL exact batches: the whole-slice statement (a speed-up) against the ranked statement
 * alone (the plain path), batch by batch over generated windows — same runs cancelled, same
 * counts, cursor and flags, same stored state — and the whole-slice statement really doing the
 * batches it can; both statements under a concurrent update of a candidate; and the batches that
 * commit without waiting for their WAL flush (`asyncBatchCommits`, a speed-up) against those that
 * wait (the plain path): only the batches that list no ids, the same jobs either way; and the same
 * jobs with the batches' statements prepared (a speed-up) or not.
 *
 * @module
 */
import fc from "fast-check";
import pg from "pg";
import { expect, it } from "vitest";
import { normalizeExactBatch, type CheckedExactBatch } from "../../src/stores/exact-checks.js";
import { Database } from "../../src/stores/postgres/db.js";
import { cancelExactBatch } from "../../src/stores/postgres/exact.js";
import { PostgresRunStore } from "../../src/stores/postgres.js";
import { FALSE, TRUE, atom, kindIs } from "../../src/stores/predicate.js";
import { ZERO_COUNTS, type Cursor, type ExactBatch, type ExactDecision, type OutcomeCounts, type RunRecord, type RunStatus } from "../../src/stores/types.js";
import { addCounts } from "../../src/cancel/ledger.js";
import { cancelRuns } from "../../src/cancel/index.js";
import { describePostgres, withClient } from "../support/postgres.js";
import { BASE_TIME, makeCancellation, makeRun } from "./fixtures.js";

const JOB = "01JOBWHOLESLICE00000000000";
const NOW = BASE_TIME + 1_000_000;
const STATUSES: readonly RunStatus[] = ["queued", "running", "sleeping", "waiting", "completed", "failed", "cancelled"];

/** `data.k == 'a'` matches; a missing `data.k` is an error, `data.k == 'n'` a non-boolean. */
const DECISION: ExactDecision = {
  match: atom({ k: "str", path: ["data", "k"], op: "==", value: "a" }),
  error: kindIs(["data", "k"], ["missing"]),
  nonBoolean: atom({ k: "str", path: ["data", "k"], op: "==", value: "n" }),
};

/** No `if`: every run matches, most runs are candidates. */
const EVERY_RUN: ExactDecision = { match: TRUE, error: FALSE, nonBoolean: FALSE };

/** One generated run of the window: its `data.k`, status, whether this job cancelled it, and a NUL in its event. */
const runArb: fc.Arbitrary<RunSpec> = fc.record({
  k: fc.constantFrom<string | undefined>("a", "a", "a", "b", "n", undefined),
  status: fc.constantFrom(...STATUSES),
  mine: fc.boolean(),
  nul: fc.integer({ min: 0, max: 19 }).map((n) => n === 0),
  // Several runs may share a start time: the keyset's id breaks the tie.
  gap: fc.integer({ min: 0, max: 2 }),
});

type RunSpec = { k: string | undefined; status: RunStatus; mine: boolean; nul: boolean; gap: number };

function runsOf(specs: readonly RunSpec[]): RunRecord[] {
  let at = BASE_TIME + 1;
  return specs.map((spec, i) => {
    at += spec.gap;
    // Mostly cancelled by this job; now and then changed since (a run this job cancelled is never a candidate again).
    const mine = spec.mine && (spec.status === "cancelled" || spec.gap === 2);
    const data: Record<string, unknown> = spec.k === undefined ? {} : { k: spec.k };
    // An event holding a NUL is kept as `json`, which SQL cannot judge: it stops a batch.
    if (spec.nul) data["note"] = "a\u0000b";
    return makeRun({ id: `r${String(i).padStart(3, "0")}`, startedAt: at, status: spec.status, event: { name: "e", data }, ...(mine ? { cancellationId: JOB } : {}) });
  });
}

/** A batch of the job over the tests' window, checked as the store checks it. */
function batchOf(fields: Pick<ExactBatch, "decision" | "limit" | "scanLimit" | "counts"> & Partial<Pick<ExactBatch, "after" | "listCancelled">>): CheckedExactBatch {
  return normalizeExactBatch(
    { cancellationId: JOB, window: { appId: "app", functionId: "fn", startedAfter: BASE_TIME + 1, startedBefore: BASE_TIME + 10_000 }, ...fields },
    false,
  );
}

await describePostgres("PostgreSQL exact batches: whole slice vs ranked", ({ url, newSchema }) => {
  /** A migrated schema holding `runs` and the job, with a `Database` on it for the batches. */
  const setUp = async (runs: readonly RunRecord[], asyncBatchCommits = true): Promise<{ store: PostgresRunStore; db: Database; schema: string }> => {
    const schema = newSchema();
    const store = new PostgresRunStore({ connectionString: url, schema, poolSize: 1 });
    await store.migrate();
    await store.insertRuns(runs);
    await store.createCancellation(makeCancellation({ id: JOB, startedAfter: BASE_TIME + 1, startedBefore: BASE_TIME + 10_000 }));
    const db = new Database({ connectionString: url, poolSize: 1, schema, now: () => NOW, onPoolError: undefined, asyncBatchCommits });
    return { store, db, schema };
  };

  const stateOf = (schema: string): Promise<unknown> =>
    withClient(async (client) => {
      const runs = await client.query(`SELECT id, status, cancellation_id FROM "${schema}".runs ORDER BY id`);
      const job = await client.query(
        `SELECT scanned, cancelled, skipped_terminal, not_matched, expression_error, non_boolean, cursor_started_at, cursor_id FROM "${schema}".cancellations`,
      );
      return { runs: runs.rows, job: job.rows };
    }, url);

  it("the whole-slice statement does what the ranked statement alone does, batch by batch, and does most batches", async () => {
    const used = { "whole-slice": 0, ranked: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.array(runArb, { minLength: 0, maxLength: 30 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom(DECISION, DECISION, EVERY_RUN),
        async (specs, limit, scanLimit, decision) => {
          const runs = runsOf(specs);
          const fast = await setUp(runs);
          const plain = await setUp(runs);
          try {
            let after: Cursor | undefined;
            let counts: OutcomeCounts = ZERO_COUNTS;
            for (let step = 0; step < 40; step++) {
              const batch = batchOf({ ...(after !== undefined ? { after } : {}), decision, limit, scanLimit, counts });
              const got = await cancelExactBatch(fast.db, batch, { onStatement: (which) => (used[which] += 1) });
              const want = await cancelExactBatch(plain.db, batch, { wholeSlice: false });
              expect(got.ok && { ...got, cancelled: [...got.cancelled].sort() }).toEqual(want.ok && { ...want, cancelled: [...want.cancelled].sort() });
              expect(await stateOf(fast.schema)).toEqual(await stateOf(plain.schema));
              if (!want.ok || want.exhausted) break;
              counts = addCounts(counts, want.counts);
              after = want.cursor ?? after;
              // The caller decides a run SQL cannot judge itself: here it just steps past it.
              const undecided = runs.find((r) => r.id === want.undecided);
              if (undecided !== undefined) after = { startedAt: undecided.startedAt, id: undecided.id };
            }
          } finally {
            await Promise.all([fast.db.pool.end(), plain.db.pool.end(), fast.store.close(), plain.store.close()]);
          }
        },
      ),
      { numRuns: 60 },
    );
    // Both statements were exercised, the whole slice most.
    expect(used["whole-slice"]).toBeGreaterThan(used.ranked);
    expect(used.ranked).toBeGreaterThan(0);
  }, 120_000);

  it("a candidate another transaction updates while the batch runs is cancelled if still unfinished, counted finished if not", async () => {
    const runs = Array.from({ length: 10 }, (_, i) => makeRun({ id: `r${i}`, startedAt: BASE_TIME + 1 + i, event: { name: "e", data: { k: "a" } } }));
    for (const wholeSlice of [true, false]) {
      const { store, db, schema } = await setUp(runs);
      const other = new pg.Client({ connectionString: url });
      await other.connect();
      try {
        // Another transaction moves r4 on to `sleeping` and r6 to `completed`, and holds their row locks.
        await other.query("BEGIN");
        await other.query(`UPDATE "${schema}".runs SET status = CASE id WHEN 'r4' THEN 'sleeping' ELSE 'completed' END WHERE id IN ('r4', 'r6')`);
        const used: string[] = [];
        const batch = batchOf({ decision: DECISION, limit: 20, scanLimit: 20, counts: ZERO_COUNTS });
        // The batch's snapshot sees both unfinished; its update waits for the locks.
        const result = cancelExactBatch(db, batch, { wholeSlice, onStatement: (which) => used.push(which) });
        await waitForLockWait(url, schema);
        await other.query("COMMIT");
        const got = await result;
        expect(used).toEqual([wholeSlice ? "whole-slice" : "ranked"]);
        expect(got.ok && [...got.cancelled].sort()).toEqual(["r0", "r1", "r2", "r3", "r4", "r5", "r7", "r8", "r9"]);
        expect(got.ok && got.counts).toEqual({ ...ZERO_COUNTS, scanned: 10, cancelled: 9, skipped_terminal: 1 });
        const state = (await stateOf(schema)) as { runs: { id: string; status: string }[] };
        expect(state.runs.find((r) => r.id === "r4")?.status).toBe("cancelled");
        expect(state.runs.find((r) => r.id === "r6")?.status).toBe("completed");
      } finally {
        await other.end();
        await Promise.all([db.pool.end(), store.close()]);
      }
    }
  }, 60_000);

  it("only a batch that lists no ids commits without waiting for its flush, and only with asyncBatchCommits; the setting ends with the batch", async () => {
    const runs = Array.from({ length: 12 }, (_, i) => makeRun({ id: `r${String(i).padStart(2, "0")}`, startedAt: BASE_TIME + 1 + i, event: { name: "e", data: { k: "a" } } }));
    for (const asyncBatchCommits of [true, false]) {
      for (const listCancelled of [false, true]) {
        const { store, db, schema } = await setUp(runs, asyncBatchCommits);
        const modes = await commitModesOf(url, schema);
        try {
          const batch = batchOf({ decision: DECISION, limit: 5, scanLimit: 5, counts: ZERO_COUNTS, listCancelled });
          for (const wholeSlice of [true, false]) {
            const got = await cancelExactBatch(db, batch, { wholeSlice });
            expect(got.ok && got.counts.cancelled).toBe(5);
            // The pool's one connection is back to the server's setting once the batch committed.
            expect((await db.pool.query<{ synchronous_commit: string }>("SHOW synchronous_commit")).rows[0]?.synchronous_commit).toBe("on");
          }
          expect(await modes()).toEqual(asyncBatchCommits && !listCancelled ? ["off", "off"] : ["on", "on"]);
        } finally {
          await Promise.all([db.pool.end(), store.close()]);
        }
      }
    }
  }, 60_000);

  it("a job ends the same with and without asyncBatchCommits and preparedStatements", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(runArb, { minLength: 0, maxLength: 40 }), fc.constantFrom("event.data.k == 'a'", undefined), async (specs, expression) => {
        // No run cancelled before: the job is new.
        const runs = runsOf(specs).map(({ cancellationId: _, ...run }): RunRecord => ({ ...run, status: run.status === "cancelled" ? "completed" : run.status }));
        const ends: unknown[] = [];
        for (const [asyncBatchCommits, preparedStatements] of [
          [true, true],
          [false, false],
          [true, false],
          [false, true],
        ] as const) {
          const schema = newSchema();
          const store = new PostgresRunStore({ connectionString: url, schema, poolSize: 1, asyncBatchCommits, preparedStatements });
          try {
            await store.migrate();
            await store.insertRuns(runs);
            const report = await cancelRuns(
              store,
              {
                app_id: "app",
                function_id: "fn",
                started_after: new Date(BASE_TIME + 1).toISOString(),
                started_before: new Date(BASE_TIME + 10_000).toISOString(),
                ...(expression !== undefined ? { if: expression } : {}),
              },
              { now: NOW, batchSize: 3 },
            );
            const state = (await stateOf(schema)) as { runs: { id: string; status: string; cancellation_id: string | null }[] };
            // Each job has an id of its own.
            const runsNow = state.runs.map((r) => ({ id: r.id, status: r.status, byJob: r.cancellation_id !== null }));
            ends.push({ status: report.status, outcomes: report.outcomes, runs: runsNow });
          } finally {
            await store.close();
          }
        }
        for (const end of ends.slice(1)) expect(end).toEqual(ends[0]);
      }),
      { numRuns: 15 },
    );
  }, 120_000);
});

/**
 * Records the `synchronous_commit` in force when each statement that updates `schema`'s
 * cancellations ends (a trigger; a batch saves its checkpoint there); returns a reader of them.
 */
async function commitModesOf(url: string, schema: string): Promise<() => Promise<string[]>> {
  const q = `"${schema}"`;
  await withClient(async (client) => {
    await client.query(`CREATE TABLE ${q}.commit_modes (n serial, mode text)`);
    await client.query(
      `CREATE FUNCTION ${q}.note_commit_mode() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ` +
        `INSERT INTO ${q}.commit_modes (mode) VALUES (current_setting('synchronous_commit')); RETURN NULL; END $$`,
    );
    await client.query(`CREATE TRIGGER note_commit_mode AFTER UPDATE ON ${q}.cancellations FOR EACH STATEMENT EXECUTE FUNCTION ${q}.note_commit_mode()`);
  }, url);
  return () => withClient(async (client) => (await client.query<{ mode: string }>(`SELECT mode FROM ${q}.commit_modes ORDER BY n`)).rows.map((r) => r.mode), url);
}

/** Waits until a statement on `schema` waits for a lock (the batch behind the other transaction). */
async function waitForLockWait(url: string, schema: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const waiting = await withClient(
      async (client) => (await client.query("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND strpos(query, $1) > 0", [`"${schema}".`])).rowCount ?? 0,
      url,
    );
    if (waiting > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("the batch never waited for the other transaction's row locks");
}
