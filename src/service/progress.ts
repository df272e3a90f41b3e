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

/** The plain progress line: `progress: scanned=… matched=… cancelled=… rate=…/s eta=…`. */
export function formatProgressLine(progress: CancellationProgress): string {
  return (
    `progress: scanned=${progress.scanned} matched=${progress.matched} cancelled=${progress.cancelled} ` +
    `rate=${Math.round(progress.scannedPerSecond)}/s eta=${formatDuration(progress.etaSeconds)}`
  );
}

/** The terminal line: a bar of `width` cells, the percentage, counts, rate and ETA. */
export function formatProgressBar(progress: CancellationProgress, width = 24): string {
  const fraction = fractionDone(progress);
  let bar: string;
  let percent: string;
  if (fraction === undefined) {
    bar = "░".repeat(width);
    percent = "  ?%";
  } else {
    const filled = Math.round(fraction * width);
    bar = "█".repeat(filled) + "░".repeat(width - filled);
    percent = `${String(Math.floor(fraction * 100)).padStart(3)}%`;
  }
  return (
    `${bar} ${percent}  scanned ${formatCount(progress.scanned)}  cancelled ${formatCount(progress.cancelled)}  ` +
    `${formatCount(progress.scannedPerSecond)} runs/s  ETA ${formatDuration(progress.etaSeconds)}`
  );
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

  /** @param options - See {@link ProgressReporterOptions}. */
  constructor(options: ProgressReporterOptions = {}) {
    this.#stream = options.stream ?? process.stdout;
    this.#tty = options.tty ?? this.#stream.isTTY === true;
    this.#intervalMs = options.intervalMs ?? (this.#tty ? 100 : 1000);
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
    if (this.#tty) {
      const columns = this.#stream.columns ?? 100;
      let line = formatProgressBar(progress, columns >= 100 ? 24 : 12);
      if (line.length > columns - 1) line = line.slice(0, Math.max(0, columns - 1));
      // Carriage return, the line, then clear what a longer previous line left behind.
      this.#stream.write(`\r${line}\x1b[K`);
      this.#drawn = true;
    } else {
      this.#stream.write(`${formatProgressLine(progress)}\n`);
    }
  }

  /** Writes the last event if it was held back, and ends the bar's line. */
  finish(): void {
    if (this.#last !== undefined && this.#last !== this.#lastWritten) this.#write(this.#last);
    if (this.#drawn) {
      this.#stream.write("\n");
      this.#drawn = false;
    }
  }
}
