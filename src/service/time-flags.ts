/**
 * The CLI's time flags (`--after`, `--before`, `--end`): an RFC 3339 timestamp, a plain date, or a
 * time relative to now.
 *
 * @module
 */
import { formatTimestamp } from "../cancel/record.js";
import { parseTimestamp } from "../cancel/request.js";
import { isWireTimestamp } from "../cancel/timestamps.js";

/** What a time flag accepts, for help texts and error messages. */
export const TIME_FLAG_FORMS =
  "RFC 3339 like 2024-06-01T12:00:00Z, a date like 2024-06-01 (midnight UTC), now, or a time before now like -48h, 7d, 90m, 1d12h";

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const RELATIVE = /^([+-]?)((?:\d+(?:ms|s|m|h|d|w))+)$/;
const RELATIVE_PART = /(\d+)(ms|s|m|h|d|w)/g;
const PLAIN_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A time flag's value, read. */
export type TimeFlagValue =
  | { readonly ok: true; readonly text: string; readonly ms: number }
  | { readonly ok: false; readonly reason: string };

/**
 * Reads a time flag. An RFC 3339 timestamp is kept as written (with its sub-millisecond digits);
 * the other forms become a timestamp in milliseconds:
 *
 * - `now`;
 * - a duration before now, `-48h` or `48h` (a leading `+` means after now), in `ms`, `s`, `m`,
 *   `h`, `d` (24 h) and `w` (7 d), combinable (`1d12h`);
 * - a plain date `YYYY-MM-DD`: midnight UTC at the start of that day.
 *
 * @param text - The flag's value.
 * @param now - Epoch milliseconds that `now` and relative times count from.
 */
export function readTimeFlag(text: string, now: number): TimeFlagValue {
  const value = text.trim();
  if (value === "now") return { ok: true, text: formatTimestamp(now), ms: now };
  const relative = RELATIVE.exec(value);
  if (relative !== null) {
    let span = 0;
    for (const part of relative[2]!.matchAll(RELATIVE_PART)) span += Number(part[1]) * UNIT_MS[part[2]!]!;
    const ms = relative[1] === "+" ? now + span : now - span;
    if (!Number.isSafeInteger(span) || !isWireTimestamp(ms)) return { ok: false, reason: "the time is out of range" };
    return { ok: true, text: formatTimestamp(ms), ms };
  }
  const date = PLAIN_DATE.exec(value);
  if (date !== null) {
    const parsed = parseTimestamp(`${value}T00:00:00Z`);
    if (!parsed.ok) return { ok: false, reason: parsed.reason };
    return { ok: true, text: formatTimestamp(parsed.instant.ms), ms: parsed.instant.ms };
  }
  const parsed = parseTimestamp(value);
  if (parsed.ok) return { ok: true, text: value, ms: parsed.instant.ms };
  // Only a value that looks like a timestamp gets the RFC 3339 parser's reason.
  return { ok: false, reason: /^\d{4}-\d{2}-\d{2}[Tt ]/.test(value) ? parsed.reason : `expected ${TIME_FLAG_FORMS}` };
}
