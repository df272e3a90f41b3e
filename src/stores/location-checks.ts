/**
 * Input checks of {@link RunStore.listRunLocations}.
 *
 * @module
 */
import { describeValue, isPlainObject } from "./checks.js";
import { StoreError, type RunLocationQuery, type RunStore } from "./types.js";

/** A {@link RunLocationQuery} once checked: the limit set. */
export interface CheckedRunLocationQuery {
  readonly startedAfter?: number;
  readonly startedBefore: number;
  readonly limit: number;
}

/**
 * Checks a {@link RunLocationQuery}; fills in the default limit (100).
 *
 * @throws {@link StoreError} with code `invalid_query`.
 */
export function normalizeRunLocationQuery(value: unknown): CheckedRunLocationQuery {
  const fail = (message: string): never => {
    throw new StoreError("invalid_query", `run location query: ${message}`);
  };
  if (!isPlainObject(value)) return fail(`expected an object, got ${describeValue(value)}`);
  const { startedAfter, startedBefore, limit } = value;
  if (typeof startedBefore !== "number" || !Number.isFinite(startedBefore)) fail(`startedBefore must be a finite number, got ${describeValue(startedBefore)}`);
  if (startedAfter !== undefined && (typeof startedAfter !== "number" || !Number.isFinite(startedAfter))) {
    fail(`startedAfter must be a finite number, got ${describeValue(startedAfter)}`);
  }
  if (limit !== undefined && (typeof limit !== "number" || !Number.isSafeInteger(limit) || limit < 1 || limit > 1000)) {
    fail(`limit must be an integer from 1 to 1000, got ${describeValue(limit)}`);
  }
  return {
    ...(startedAfter !== undefined ? { startedAfter: startedAfter as number } : {}),
    startedBefore: startedBefore as number,
    limit: (limit as number | undefined) ?? 100,
  };
}
