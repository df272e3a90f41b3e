import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CancellationProgress } from "../../src/cancel/planner.js";
import { ProgressReporter, fitProgressBar, formatProgressLine } from "../../src/service/progress.js";

const progress = (over: Partial<CancellationProgress> = {}): CancellationProgress => ({
  cancellationId: "01HMRMPE5ZQ4AMNJ3S2N79QGRZ",
  scanned: 1_234_567,
  matched: 120_000,
  cancelled: 100_000,
  counts: { scanned: 1_234_567, cancelled: 100_000, skipped_terminal: 20_000, not_matched: 1_114_567, expression_error: 0, non_boolean: 0 },
  ratePerSecond: 5000,
  scannedPerSecond: 65_432,
  etaSeconds: 185,
  elapsedMs: 20_000,
  ...over,
});

describe("progress on narrow and odd terminals", () => {
  it("fits any width: the bar shrinks first, then scanned goes, then the bar; the rate and ETA stay from 60 columns", () => {
    expect(fitProgressBar(progress(), 120)).toMatch(/^[█░]{24} +\d+%  scanned 1,234,567  cancelled 100,000  65,432 runs\/s  ETA 3m05s$/);
    const at60 = fitProgressBar(progress(), 60);
    expect(at60).toMatch(/^[█░]{6,} +\d+%  (scanned 1,234,567  )?cancelled 100,000  65,432 runs\/s  ETA 3m05s$/);
    expect(fitProgressBar(progress(), 40)).toBe("  9%  cancelled 100,000  65,432 runs/s  ETA 3m05s".slice(0, 39));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.nat(1e12), fc.nat(1e9), fc.option(fc.double({ min: 0, max: 1e7, noNaN: true }), { nil: undefined }), (columns, scanned, rate, eta) => {
        const line = fitProgressBar(progress({ scanned, scannedPerSecond: rate, etaSeconds: eta }), columns);
        expect(line.length).toBeLessThanOrEqual(Math.max(0, columns - 1));
        if (columns >= 60) expect(line).toMatch(/ runs\/s {2}ETA (\d+s|\d+m\d\ds|\d+h\d\dm|\?)$/);
      }),
    );
  });

  it("a terminal reporting 0 columns gets plain lines, never a bare clear-line sequence", () => {
    const out: string[] = [];
    const reporter = new ProgressReporter({ stream: { write: (text: string) => out.push(text), isTTY: true, columns: 0 }, intervalMs: 0 });
    reporter.update(progress({ scanned: 1 }));
    reporter.update(progress({ scanned: 2 }));
    reporter.finish();
    expect(out).toEqual([`${formatProgressLine(progress({ scanned: 1 }))}\n`, `${formatProgressLine(progress({ scanned: 2 }))}\n`]);
  });

  it("dry runs say would cancel; the held-back last event is not printed when it repeats the counts", () => {
    expect(formatProgressLine(progress(), { dryRun: true })).toMatch(/ would_cancel=100000 /);
    expect(fitProgressBar(progress(), 100, { dryRun: true })).toContain("would cancel 100,000");
    const out: string[] = [];
    const reporter = new ProgressReporter({ stream: { write: (text: string) => out.push(text) }, tty: false, intervalMs: 60_000 });
    reporter.update(progress({ etaSeconds: 3 }));
    reporter.update(progress({ etaSeconds: 0 }));
    reporter.finish();
    expect(out).toHaveLength(1);
  });
});
