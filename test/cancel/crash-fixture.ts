/**
 * Shared data of the crash test: the run set, the request and the job settings.
 *
 * @module
 */
import type { RunRecord } from "../../src/stores/types.js";
import { BASE_TIME, generateRuns } from "../stores/fixtures.js";

/** Runs in the test database: two thirds in the function the request targets. */
export function crashRuns(): RunRecord[] {
  return generateRuns({ count: 50_000, seed: 7, functionId: ["fn", "fn", "other"], spreadMs: 20_000 });
}

/** Pro-plan runs of `fn` in the first 15 of the 20 seconds the runs span. */
export const CRASH_BODY = {
  app_id: "app",
  function_id: "fn",
  started_after: new Date(BASE_TIME + 1000).toISOString(),
  started_before: new Date(BASE_TIME + 16_000).toISOString(),
  if: "event.data.plan == 'pro' && event.data.region != 'sa-east-1'",
};

/** Runs per page and batch. */
export const CRASH_BATCH_SIZE = 500;

/** A fixed creation time well after the window. */
export const CRASH_NOW = BASE_TIME + 86_400_000;
