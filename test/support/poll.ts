/**
 * Waiting for something another process, a timer or a notification brings about: poll a
 * condition until it holds, with a deadline that is a liveness bound (a hung test fails instead of
 * running forever), never a timing assertion. Tests wait with this instead of sleeping a fixed time.
 *
 * @module
 */

/** Options of {@link pollUntil}. */
export interface PollOptions {
  /** Give up (and throw) after this long, ms. Default 15,000: generous on a loaded machine. */
  readonly timeoutMs?: number;
  /** Pause between checks, ms. Default 5. */
  readonly intervalMs?: number;
}

/**
 * Checks `condition` until it returns `true`; throws `timed out waiting for <what>` (with the last
 * value seen, when `describe` is given) after `timeoutMs`.
 *
 * @param condition - Checked at once, then after each pause; may be async.
 * @param what - Names what is awaited, for the timeout message.
 * @param describe - Describes the state at timeout (for example the last value read).
 */
export async function pollUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  options: PollOptions & { readonly describe?: () => string | Promise<string> } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const intervalMs = options.intervalMs ?? 5;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) {
      const state = options.describe === undefined ? "" : ` (last: ${await options.describe()})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${state}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Reads `read()` until `accept(value)` holds and returns that value; throws after `timeoutMs`
 * with the last value read.
 */
export async function pollFor<T>(read: () => T | Promise<T>, accept: (value: T) => boolean, what: string, options: PollOptions = {}): Promise<T> {
  let last: T | undefined;
  let seen = false;
  await pollUntil(
    async () => {
      last = await read();
      seen = true;
      return accept(last);
    },
    what,
    { ...options, describe: () => (seen ? show(last) : "nothing read") },
  );
  return last as T;
}

/** A short rendering of a value for a timeout message (bigints and cycles included). */
function show(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? `${v}n` : v)) ?? String(value);
  } catch {
    return String(value);
  }
}
