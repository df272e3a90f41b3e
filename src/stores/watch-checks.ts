/**
 * Input checks of {@link RunStore.watchCancellations}.
 *
 * @module
 */
import { describeValue, isPlainObject } from "./checks.js";
import { DEFAULT_WATCH_POLL_MS, StoreError, type RunStore } from "./types.js";

/** `watchCancellations` options once checked. */
export interface CheckedWatchOptions {
  readonly pollMs: number;
  readonly onError: ((error: unknown) => void) | undefined;
}

/**
 * Checks the options of `watchCancellations`: `pollMs` an integer from 10 to 3,600,000 (default
 * {@link DEFAULT_WATCH_POLL_MS}), `onError` a function.
 *
 * @throws {@link StoreError} with code `invalid_option`.
 */
export function checkWatchOptions(options: unknown): CheckedWatchOptions {
  if (!isPlainObject(options)) throw new StoreError("invalid_option", `options must be an object, got ${describeValue(options)}`);
  const { pollMs, onError } = options;
  if (pollMs !== undefined && (typeof pollMs !== "number" || !Number.isSafeInteger(pollMs) || pollMs < 10 || pollMs > 3_600_000)) {
    throw new StoreError("invalid_option", `pollMs must be an integer from 10 to 3600000, got ${describeValue(pollMs)}`);
  }
  if (onError !== undefined && typeof onError !== "function") {
    throw new StoreError("invalid_option", `onError must be a function, got ${describeValue(onError)}`);
  }
  return { pollMs: (pollMs as number | undefined) ?? DEFAULT_WATCH_POLL_MS, onError: onError as ((error: unknown) => void) | undefined };
}
