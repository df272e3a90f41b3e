/**
 * The shared rate budget of a job on PostgreSQL: a token bucket row per rate-limited job
 * (`cancellation_rate_budgets`, migration 4) that every worker of the job takes from, so that a
 * job's rate is one budget for all its workers and machines rather than one per worker.
 *
 * @module
 */
import { StoreError } from "../types.js";
import { sqlState, type Database } from "./db.js";

/** Checks the numbers of a `takeRateBudget` call. @throws {@link StoreError} `invalid_option`. */
export function checkRateBudget(units: number, ratePerSecond: number, burst: number): void {
  const fine = (n: unknown, min: number): boolean => typeof n === "number" && Number.isFinite(n) && n >= min;
  if (!fine(units, 0)) throw new StoreError("invalid_option", `units must be a finite number, 0 or more, got ${String(units)}`);
  if (!fine(ratePerSecond, Number.MIN_VALUE)) throw new StoreError("invalid_option", `ratePerSecond must be a finite number above 0, got ${String(ratePerSecond)}`);
  if (!fine(burst, 1)) throw new StoreError("invalid_option", `burst must be a finite number, 1 or more, got ${String(burst)}`);
}

/**
 * Takes `units` from a job's bucket, refilled at `ratePerSecond` up to `burst` tokens by the
 * database's clock, in one `UPDATE` (a concurrent taker waits for the row lock and then sees the
 * tokens the other left: PostgreSQL re-evaluates the update on the newest row version). A missing
 * row is created full. Answers 0 when the units were granted, else how many milliseconds until
 * they will be (nothing taken). A job that no longer exists is granted at once: its next commit
 * finds it gone.
 */
export async function takeRateBudget(db: Database, cancellationId: string, units: number, ratePerSecond: number, burst: number): Promise<number> {
  const capacity = Math.max(burst, units);
  const available =
    "LEAST($4::double precision, b.tokens + $3::double precision * GREATEST(0, EXTRACT(EPOCH FROM (n.now - b.refilled_at))))";
  const take = () =>
    db.pool.query<{ tokens: number; granted: boolean }>(
      `UPDATE ${db.tables.rateBudgets} AS b SET ` +
        `tokens = ${available} - CASE WHEN ${available} >= $2 THEN $2::double precision ELSE 0 END, ` +
        `granted = ${available} >= $2, refilled_at = GREATEST(b.refilled_at, n.now) ` +
        "FROM (SELECT clock_timestamp() AS now) AS n WHERE b.cancellation_id = $1 RETURNING b.tokens, b.granted",
      [cancellationId, units, ratePerSecond, capacity],
    );
  let result = await db.retrying(take);
  if (result.rows[0] === undefined) {
    try {
      await db.pool.query(
        `INSERT INTO ${db.tables.rateBudgets} (cancellation_id, tokens, refilled_at) VALUES ($1, $2, clock_timestamp()) ON CONFLICT (cancellation_id) DO NOTHING`,
        [cancellationId, capacity],
      );
    } catch (error) {
      // The job is gone (foreign key): let its commit find out.
      if (sqlState(error) === "23503") return 0;
      throw error;
    }
    result = await db.retrying(take);
  }
  const row = result.rows[0];
  if (row === undefined || row.granted) return 0;
  return Math.max(1, Math.ceil(((units - row.tokens) / ratePerSecond) * 1000));
}
