/**
 * Issue 12, item 2: a stored record that holds what no valid request can create — here `NaN`
 * bounds and creation time, which PostgreSQL's `double precision` holds — never disturbs the lazy
 * check of the other cancellations of its function: it is reported and never applies.
 */
import { monotonicFactory } from "ulid";
import { expect, it } from "vitest";
import { CancellationChecker } from "../../src/cancel/checker.js";
import { PostgresRunStore } from "../../src/stores/postgres.js";
import { DEFAULT_ENVIRONMENT_ID, ZERO_COUNTS, type CancellationRecord } from "../../src/stores/types.js";
import { describePostgres, withClient } from "../support/postgres.js";

const T0 = 1_700_000_000_000;
const nextId = monotonicFactory();

function cancellation(startedAfter: number | undefined, startedBefore: number, createdAt: number): CancellationRecord {
  return {
    id: nextId(createdAt),
    environmentId: DEFAULT_ENVIRONMENT_ID,
    appId: "app",
    functionId: "fn",
    ...(startedAfter !== undefined ? { startedAfter } : {}),
    startedBefore,
    createdAt,
    updatedAt: createdAt,
    status: "completed",
    counts: ZERO_COUNTS,
  };
}

await describePostgres("CancellationChecker with a poisoned record in the store", ({ url, newSchema }) => {
  it("skips and reports the record; every other cancellation answers exactly as before", async () => {
    const store = new PostgresRunStore({ connectionString: url, schema: newSchema(), poolSize: 2 });
    await store.migrate();
    const errors: string[] = [];
    const checker = new CancellationChecker(store, { onError: (error) => errors.push(error instanceof Error ? error.message : String(error)) });
    try {
      // Nested windows created from the narrowest (oldest) to the widest, and poisoned records
      // among them, so that each answer depends on a correctly ordered index.
      const good: CancellationRecord[] = [];
      for (let i = 0; i < 6; i++) good.push(cancellation(T0 - (i + 1) * 1000, T0 + (i + 1) * 1000, T0 + 100_000 + i));
      const poisoned = [cancellation(T0 - 500, T0 + 500, T0 + 50_000), cancellation(undefined, T0 + 3500, T0 + 50_001), cancellation(T0 - 2500, T0 + 2500, T0 + 50_002)];
      for (const record of [...good, ...poisoned]) await store.createCancellation(record);
      await withClient(async (client) => {
        const table = `${client.escapeIdentifier(store.schema)}.cancellations`;
        await client.query(`UPDATE ${table} SET started_after = 'NaN', created_at = 'NaN' WHERE id = $1`, [poisoned[0]!.id]);
        await client.query(`UPDATE ${table} SET started_before = 'NaN' WHERE id = $1`, [poisoned[1]!.id]);
        await client.query(`UPDATE ${table} SET created_at = 'NaN', started_before = 'Infinity' WHERE id = $1`, [poisoned[2]!.id]);
      }, url);
      await checker.refresh();
      for (let t = T0 - 7000; t <= T0 + 7000; t += 250) {
        const expected = good.find((record) => record.startedAfter! <= t && t <= record.startedBefore);
        const answer = checker.check({ id: "run", appId: "app", functionId: "fn", startedAt: t, event: {} });
        expect(answer?.id, `t = T0 ${t - T0 >= 0 ? "+" : ""}${t - T0}`).toBe(expected?.id);
      }
      expect(errors.sort()).toEqual(poisoned.map((record) => `cancellation ${record.id}: its window or creation time is not a finite number, so it never applies`).sort());
    } finally {
      await checker.close();
      await store.close();
    }
  });
});
