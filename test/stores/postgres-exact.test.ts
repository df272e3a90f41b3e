/**
 * PostgreSQL exact batches: the whole-slice statement (a speed-up) against the ranked statement
 * alone (the plain path), batch by batch over generated windows — same runs cancelled, same
 * counts, cursor and flags, same stored state — and the whole-slice statement really doing the
 * batches it can.
 *
 * @module
 */
import fc from "fast-check";
import { expect, it } from "vitest";
import { normalizeExactBatch } from "../../src/stores/exact-checks.js";
import { Database } from "../../src/stores/postgres/db.js";
import { cancelExactBatch } from "../../src/stores/postgres/exact.js";
import { PostgresRunStore } from "../../src/stores/postgres.js";
import { FALSE, TRUE, atom, kindIs } from "../../src/stores/predicate.js";
import { ZERO_COUNTS, type Cursor, type ExactDecision, type OutcomeCounts, type RunRecord, type RunStatus } from "../../src/stores/types.js";
import { addCounts } from "../../src/cancel/ledger.js";
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

await describePostgres("PostgreSQL exact batches: whole slice vs ranked", ({ url, newSchema }) => {
  /** A migrated schema holding `runs` and the job, with a `Database` on it for the batches. */
  const setUp = async (runs: readonly RunRecord[]): Promise<{ store: PostgresRunStore; db: Database; schema: string }> => {
    const schema = newSchema();
    const store = new PostgresRunStore({ connectionString: url, schema, poolSize: 1 });
    await store.migrate();
    await store.insertRuns(runs);
    await store.createCancellation(makeCancellation({ id: JOB, startedAfter: BASE_TIME + 1, startedBefore: BASE_TIME + 10_000 }));
    const db = new Database({ connectionString: url, poolSize: 1, schema, now: () => NOW, onPoolError: undefined });
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
              const batch = normalizeExactBatch(
                {
                  cancellationId: JOB,
                  window: { appId: "app", functionId: "fn", startedAfter: BASE_TIME + 1, startedBefore: BASE_TIME + 10_000 },
                  ...(after !== undefined ? { after } : {}),
                  decision,
                  limit,
                  scanLimit,
                  counts,
                },
                false,
              );
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
});
