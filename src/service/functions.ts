/**
 * `GET /v1/functions`: every app and function of the key's environment with its runs by status and
 * the span of their start times, from the store's `listFunctions` (one SQL `GROUP BY` in the SQL
 * stores). The UI's function list and its app and function pickers read it.
 *
 * @module
 */
import { wireTimestamp } from "../cancel/timestamps.js";
import type { FunctionSummary, RunStatus } from "../stores/types.js";

/** One function in wire form. */
export interface WireFunctionSummary {
  readonly app_id: string;
  readonly function_id: string;
  /** Runs per status; every status is present (0 when none). */
  readonly runs: Readonly<Record<RunStatus, number>>;
  /** All runs of the function. */
  readonly total: number;
  /**
   * Start time of its earliest and latest run, RFC 3339; `null` for a start time outside years
   * 0001–9999 (a store takes any integer epoch ms; such a run never falls in a valid window).
   */
  readonly first_started_at: string | null;
  readonly last_started_at: string | null;
}

/** A store summary in wire form. */
export function toWireFunctionSummary(summary: FunctionSummary): WireFunctionSummary {
  return {
    app_id: summary.appId,
    function_id: summary.functionId,
    runs: { ...summary.runs },
    total: summary.total,
    first_started_at: wireTimestamp(summary.firstStartedAt),
    last_started_at: wireTimestamp(summary.lastStartedAt),
  };
}
