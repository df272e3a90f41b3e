/**
 * Progress output of the CLI: on a terminal, one line redrawn in place (a bar, runs scanned and
 * cancelled, the rate and the ETA); otherwise plain periodic lines that read well in a log file.
 *
 * @module
 */
import type { CancellationProgress } from "../cancel/planner.js";

/** Where progress goes: a writable text stream, with `isTTY`/`columns` when it is a terminal. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** Options of {@link ProgressReporter}. */
export interface ProgressReporterOptions {
  /** Where to write. Default `process.stdout`. */
  readonly stream?: ProgressStream;
  /** Draw the redrawn bar (true) or print plain lines (false). Default: `stream.isTTY`. */
  readonly tty?: boolean;
  /** Least time between two outputs, ms. Default 100 on a terminal, 1000 otherwise. */
  readonly intervalMs?: number;
  /** The job is a dry run: say `would cancel` rather than `cancelled`. Default `false`. */
  readonly dryRun?: boolean;
}

/** How progress is worded. */
export interface ProgressFormat {
  /** The job is a dry run: `would cancel` / `would_cancel=` rather than `cancelled`. Default `false`. */
  readonly dryRun?: boolean;
}

/** `1234567` → `1,234,567`. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** Seconds as `42s`, `3m05s` or `1h02m`; `?` when unknown. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** Share of the job done, 0 to 1, from elapsed time and ETA; `undefined` while unknown. */
export function fractionDone(progress: CancellationProgress): number | undefined {
  const eta = progress.etaSeconds;
  if (eta === undefined || !Number.isFinite(eta)) return undefined;
  const elapsed = progress.elapsedMs / 1000;
  if (eta <= 0) return 1;
  return elapsed + eta > 0 ? Math.min(1, Math.max(0, elapsed / (elapsed + eta))) : undefined;
}

/**
 * The plain progress line: `progress: scanned=… matched=… cancelled=… rate=…/s eta=…`
 * (`would_cancel=` in a dry run).
 */
export function formatProgressLine(progress: CancellationProgress, format: ProgressFormat = {}): string {
  return (
    `progress: scanned=${progress.scanned} matched=${progress.matched} ${format.dryRun === true ? "would_cancel" : "cancelled"}=${progress.cancelled} ` +
    `rate=${Math.round(progress.scannedPerSecond)}/s eta=${formatDuration(progress.etaSeconds)}`
  );
}

/** The bar of `width` cells and the percentage done (`  ?%` while unknown). */
function barParts(progress: CancellationProgress, width: number): { readonly bar: string; readonly percent: string } {
  const fraction = fractionDone(progress);
  if (fraction === undefined) return { bar: "░".repeat(width), percent: "  ?%" };
  const filled = Math.round(fraction * width);
  return { bar: "█".repeat(filled) + "░".repeat(width - filled), percent: `${String(Math.floor(fraction * 100)).padStart(3)}%` };
}

/** The counts, rate and ETA of the terminal line; `scanned` is the first part to go when space is short. */
function statusText(progress: CancellationProgress, format: ProgressFormat, withScanned: boolean): string {
  const cancelled = `${format.dryRun === true ? "would cancel" : "cancelled"} ${formatCount(progress.cancelled)}`;
  const rate = `${formatCount(progress.scannedPerSecond)} runs/s  ETA ${formatDuration(progress.etaSeconds)}`;
  return withScanned ? `scanned ${formatCount(progress.scanned)}  ${cancelled}  ${rate}` : `${cancelled}  ${rate}`;
}

/** The terminal line: a bar of `width` cells, the percentage, counts, rate and ETA. */
export function formatProgressBar(progress: CancellationProgress, width = 24, format: ProgressFormat = {}): string {
  const { bar, percent } = barParts(progress, width);
  return `${width > 0 ? `${bar} ` : ""}${percent}  ${statusText(progress, format, true)}`;
}

/** Widest bar drawn, and the narrowest worth drawing. */
const MAX_BAR_WIDTH = 24;
const MIN_BAR_WIDTH = 6;

/**
 * The terminal line fitted into `columns` (one column is left free, so the cursor never wraps):
 * the bar shrinks first, then `scanned` goes, then the bar; only then is the text cut.
 */
export function fitProgressBar(progress: CancellationProgress, columns: number, format: ProgressFormat = {}): string {
  const room = columns - 1;
  const { percent } = barParts(progress, 0);
  const texts = [true, false].map((withScanned) => `${percent}  ${statusText(progress, format, withScanned)}`);
  for (const text of texts) {
    const width = Math.min(MAX_BAR_WIDTH, room - text.length - 1);
    if (width >= MIN_BAR_WIDTH) return `${barParts(progress, width).bar} ${text}`;
  }
  for (const text of texts) if (text.length <= room) return text;
  return texts[1]!.slice(0, Math.max(0, room));
}

/** Writes progress events as a redrawn bar on a terminal, or as throttled plain lines. */
export class ProgressReporter {
  readonly #stream: ProgressStream;
  readonly #tty: boolean;
  readonly #intervalMs: number;
  #lastAt = -Infinity;
  #last: CancellationProgress | undefined;
  #lastWritten: CancellationProgress | undefined;
  #drawn = false;
  readonly #format: ProgressFormat;

  /** @param options - See {@link ProgressReporterOptions}. */
  constructor(options: ProgressReporterOptions = {}) {
    this.#stream = options.stream ?? process.stdout;
    this.#tty = options.tty ?? this.#stream.isTTY === true;
    this.#intervalMs = options.intervalMs ?? (this.#tty ? 100 : 1000);
    this.#format = { dryRun: options.dryRun === true };
  }

  /** Takes one progress event; writes it unless the previous output is too recent. */
  update(progress: CancellationProgress): void {
    this.#last = progress;
    const now = performance.now();
    if (now - this.#lastAt < this.#intervalMs) return;
    this.#lastAt = now;
    this.#write(progress);
  }

  #write(progress: CancellationProgress): void {
    this.#lastWritten = progress;
    // A terminal that reports no width (0 columns, as under `script`) gets plain lines: a line
    // cut to nothing would leave only the clear-line sequence.
    const columns = this.#stream.columns ?? 100;
    if (this.#tty && columns >= MIN_TERMINAL_COLUMNS) {
      // Carriage return, the line, then clear what a longer previous line left behind.
      this.#stream.write(`\r${fitProgressBar(progress, columns, this.#format)}\x1b[K`);
      this.#drawn = true;
    } else {
      if (this.#drawn) this.#stream.write("\n");
      this.#drawn = false;
      this.#stream.write(`${formatProgressLine(progress, this.#format)}\n`);
    }
  }

  /** Writes the last event if it was held back (and says something new), and ends the bar's line. */
  finish(): void {
    const last = this.#last;
    const written = this.#lastWritten;
    if (last !== undefined && last !== written && (written === undefined || this.#tty || !sameCounts(last, written))) this.#write(last);
    if (this.#drawn) {
      this.#stream.write("\n");
      this.#drawn = false;
    }
  }
}

/** Fewer columns than this is no terminal line worth drawing. */
const MIN_TERMINAL_COLUMNS = 20;

function sameCounts(a: CancellationProgress, b: CancellationProgress): boolean {
  return a.scanned === b.scanned && a.matched === b.matched && a.cancelled === b.cancelled;
}
