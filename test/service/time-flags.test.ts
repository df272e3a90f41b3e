import { describe, expect, it } from "vitest";
import { readTimeFlag } from "../../src/service/time-flags.js";

const NOW = Date.parse("2024-06-01T12:00:00.000Z");
const ms = (text: string): number | undefined => {
  const read = readTimeFlag(text, NOW);
  return read.ok ? read.ms : undefined;
};

describe("time flags", () => {
  it("now, and durations before (or with +, after) now, combinable", () => {
    expect(readTimeFlag("now", NOW)).toEqual({ ok: true, text: "2024-06-01T12:00:00.000Z", ms: NOW });
    expect(ms("-48h")).toBe(NOW - 48 * 3_600_000);
    expect(ms("48h")).toBe(NOW - 48 * 3_600_000);
    expect(ms("7d")).toBe(NOW - 7 * 86_400_000);
    expect(ms("2w")).toBe(NOW - 14 * 86_400_000);
    expect(ms("90m")).toBe(NOW - 90 * 60_000);
    expect(ms("30s")).toBe(NOW - 30_000);
    expect(ms("250ms")).toBe(NOW - 250);
    expect(ms("1d12h")).toBe(NOW - 36 * 3_600_000);
    expect(ms("+1h")).toBe(NOW + 3_600_000);
    expect(ms(" 7d ")).toBe(NOW - 7 * 86_400_000);
    expect(readTimeFlag("-48h", NOW)).toMatchObject({ text: "2024-05-30T12:00:00.000Z" });
  });

  it("a plain date is midnight UTC at its start; RFC 3339 is kept as written", () => {
    expect(readTimeFlag("2024-05-30", NOW)).toEqual({ ok: true, text: "2024-05-30T00:00:00.000Z", ms: Date.parse("2024-05-30T00:00:00Z") });
    // Sub-millisecond digits and zones stay for the planner's exact rounding.
    expect(readTimeFlag("2024-05-30T10:00:00.123456789+02:00", NOW)).toEqual({
      ok: true,
      text: "2024-05-30T10:00:00.123456789+02:00",
      ms: Date.parse("2024-05-30T08:00:00.123Z"),
    });
  });

  it("anything else is refused with a reason that lists the forms, or the timestamp's own fault", () => {
    for (const text of ["yesterday", "", "-", "7", "7 d", "1.5h", "7y", "-48H", "2024-5-30", "now-1h"]) {
      const read = readTimeFlag(text, NOW);
      expect(read.ok, text).toBe(false);
      if (!read.ok) expect(read.reason).toMatch(/^expected RFC 3339 .*a date like 2024-06-01.*now.*-48h, 7d/);
    }
    expect(readTimeFlag("2024-02-30", NOW)).toEqual({ ok: false, reason: "day out of range" });
    expect(readTimeFlag("2024-13-01T00:00:00Z", NOW)).toEqual({ ok: false, reason: "month out of range" });
    expect(readTimeFlag("2024-06-01T00:00:00", NOW)).toMatchObject({ ok: false, reason: expect.stringContaining("zone") });
    expect(readTimeFlag("99999999999999d", NOW)).toEqual({ ok: false, reason: "the time is out of range" });
  });
});
