/**
 * RFC 3339 edge cases for property tests, and an oracle for them written without the parser under
 * test: `Date` arithmetic and `Date.parse` of the span's ends.
 *
 * @module
 */
import fc from "fast-check";

const two = (n: number): string => String(n).padStart(2, "0");

/** A zone: `Z`, `z`, or `±hh:mm` with hours 0–24 and minutes 0–60 (the ends ±23:59 often). */
const zone: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("Z", "z", "+23:59", "-23:59", "+00:01", "-00:01"),
  fc
    .record({ sign: fc.constantFrom("+", "-"), hours: fc.oneof(fc.constantFrom(0, 23, 24), fc.integer({ min: 0, max: 24 })), minutes: fc.oneof(fc.constantFrom(0, 59, 60), fc.integer({ min: 0, max: 60 })) })
    .map(({ sign, hours, minutes }) => `${sign}${two(hours)}:${two(minutes)}`),
);

/**
 * Timestamp-shaped text around every edge: years 0000, 0001, 9999 and any other, months 0–13,
 * days 0–32, hours 0–24, minutes 0–60, seconds 0–61 (`60` often), 0 to 10 fractional digits (and
 * a bare `.`), upper- and lower-case `T`/`Z` (and a space), offsets up to ±24:60.
 */
export const rfc3339Text: fc.Arbitrary<string> = fc
  .record({
    year: fc.oneof(fc.constantFrom(0, 1, 9999, 1970), fc.integer({ min: 0, max: 9999 })),
    month: fc.oneof(fc.constantFrom(1, 2, 12), fc.integer({ min: 0, max: 13 })),
    day: fc.oneof(fc.constantFrom(1, 28, 29, 31), fc.integer({ min: 0, max: 32 })),
    hour: fc.oneof(fc.constantFrom(0, 23), fc.integer({ min: 0, max: 24 })),
    minute: fc.oneof(fc.constantFrom(0, 59), fc.integer({ min: 0, max: 60 })),
    second: fc.oneof(fc.constantFrom(0, 59, 60), fc.integer({ min: 0, max: 61 })),
    fraction: fc.oneof(fc.constant(undefined), fc.constantFrom("999999999", "999", "000000001"), fc.stringMatching(/^[0-9]{0,10}$/)),
    t: fc.constantFrom("T", "T", "T", "t", " "),
    zone,
  })
  .map(
    ({ year, month, day, hour, minute, second, fraction, t, zone }) =>
      `${String(year).padStart(4, "0")}-${two(month)}-${two(day)}${t}${two(hour)}:${two(minute)}:${two(second)}${fraction === undefined ? "" : `.${fraction}`}${zone}`,
  );

/** First and last instant of the span the service takes, from `Date.parse` (epoch ms). */
export const SPAN = { min: Date.parse("0001-01-01T00:00:00.000Z"), max: Date.parse("9999-12-31T23:59:59.999Z") } as const;

const STRICT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * The instant the service must take `text` for, or `undefined` when it must refuse it: Go's
 * RFC 3339 (upper-case `T` and `Z`, no leap second, 1–9 fractional digits, offsets to ±23:59),
 * inside {@link SPAN} once the offset is applied.
 */
export function expectedInstant(text: string): { readonly ms: number; readonly nanos: number } | undefined {
  const m = STRICT.exec(text);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  // An impossible date (month 13, 31 April, 29 February of a common year) rolls over.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  date.setUTCHours(hour, minute, second, 0);
  let offset = 0;
  if (m[8] !== "Z") {
    const hours = Number(m[10]);
    const minutes = Number(m[11]);
    if (hours > 23 || minutes > 59) return undefined;
    offset = (m[9] === "-" ? -1 : 1) * (hours * 60 + minutes);
  }
  const fraction = Number((m[7] ?? "").padEnd(9, "0"));
  const ms = date.getTime() - offset * 60_000 + Math.floor(fraction / 1_000_000);
  const nanos = fraction % 1_000_000;
  if (ms < SPAN.min || ms > SPAN.max || (ms === SPAN.max && nanos > 0)) return undefined;
  return { ms, nanos };
}
