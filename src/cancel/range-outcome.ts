/**
 * How a range of a job ended, whichever loop worked through it (`scan-loop.ts` or
 * `exact-loop.ts`): one shape, so the planner and the workers read both alike.
 *
 * @module
 */
import type { Cursor, OutcomeCounts } from "../stores/types.js";

/** Why a range's loop stopped. @internal */
export type Ending = "completed" | "aborted" | "stopped_max_runs" | "deleted" | "lease_lost";

/** How a range's loop ended. @internal */
export interface RangeOutcome {
  readonly ending: Ending;
  /** Counts of exactly the runs at or before `cursor`. */
  readonly counts: OutcomeCounts;
  readonly cursor?: Cursor;
  /** Counts of the last checkpoint the range saved (its starting counts if none). */
  readonly saved: OutcomeCounts;
  /** Dry runs: up to 20 ids of runs that would be cancelled. */
  readonly sample: readonly string[];
  /** Epoch ms of the last saved checkpoint, if any. */
  readonly lastSavedAt: number | undefined;
}
