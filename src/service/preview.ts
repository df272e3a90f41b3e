/**
 * The exact preview of a cancellation: a dry run whose counts stream while it scans, and that
 * stops when the client goes away.
 *
 * `POST /v1/cancellations/preview` takes the create body and answers `application/x-ndjson`, one
 * JSON object per line:
 * - `{"type":"progress", "counts": {...}, "scanned_per_second", "eta_seconds", "elapsed_ms"}`
 *   while the dry run scans (at most every `intervalMs`);
 * - then `{"type":"done", "status": "completed", "counts": {...}, "sample": [run, ...], "pushdown",
 *   "elapsed_ms"}` where each sample run is `{ id, started_at, status, event }`;
 * - or `{"type":"error", "error": message, "status": 500}` when the scan failed midway.
 *
 * A body that does not validate is answered 400 in Inngest's error shape before any line is sent,
 * exactly as `POST /v1/cancellations` answers it.
 *
 * @module
 */
import type { PageEvaluator } from "../cancel/evaluator.js";
import { cancelRuns, type CancellationProgress } from "../cancel/planner.js";
import type { PushdownCoverage } from "../cancel/pushdown.js";
import { formatTimestamp } from "../cancel/record.js";
import type { OutcomeCounts, RunEvent, RunStatus, RunStore } from "../stores/types.js";

/** Progress of a dry run, as {@link previewDryRun} reports it. */
export interface DryRunProgress {
  readonly counts: OutcomeCounts;
  /** Runs decided per second so far. */
  readonly scannedPerSecond: number;
  /** Estimated seconds to go; `undefined` until it can be estimated. */
  readonly etaSeconds: number | undefined;
  readonly elapsedMs: number;
}

/** What a finished (or stopped) dry run found. */
export interface DryRunResult {
  /** `completed`, or `aborted` when the signal stopped it (the counts are then those so far). */
  readonly status: "completed" | "aborted";
  readonly counts: OutcomeCounts;
  /** Ids of up to 20 runs that would be cancelled, in scan order. */
  readonly sample: readonly string[];
  readonly pushdown: PushdownCoverage;
  readonly elapsedMs: number;
}

/** Options of {@link previewDryRun}. */
export interface DryRunOptions {
  readonly environmentId: string;
  /** The current time, epoch ms ("started_before must be in the past"). */
  readonly now: number;
  /** Stops the scan at the next page boundary. */
  readonly signal: AbortSignal;
  /** Receives the counts so far after each batch of the scan. */
  readonly onProgress: (progress: DryRunProgress) => void;
  /** Runs per scanned page. Default 1000 (the planner's). */
  readonly batchSize?: number;
  /** Where the `if` is evaluated (the server's evaluator threads). Default: inline, on this thread. */
  readonly evaluator?: PageEvaluator;
}

/**
 * The one seam through which the preview runs a dry run: the planner's dry run, its evaluation
 * handed to `options.evaluator` (the server's evaluator threads) when given, so the event loop
 * only reads pages and streams counts; an abort (the client went away) stops it at once.
 *
 * @throws ValidationError for a body that does not validate (before anything is scanned).
 */
export async function previewDryRun(store: RunStore, body: unknown, options: DryRunOptions): Promise<DryRunResult> {
  const report = await cancelRuns(store, body, {
    environmentId: options.environmentId,
    dryRun: true,
    now: options.now,
    signal: options.signal,
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    ...(options.evaluator !== undefined ? { evaluator: options.evaluator } : {}),
    onProgress: (progress: CancellationProgress) =>
      options.onProgress({
        counts: progress.counts,
        scannedPerSecond: progress.scannedPerSecond,
        etaSeconds: progress.etaSeconds,
        elapsedMs: progress.elapsedMs,
      }),
  });
  return {
    status: report.status === "aborted" ? "aborted" : "completed",
    counts: report.outcomes,
    sample: report.sample ?? [],
    pushdown: report.pushdown,
    elapsedMs: report.elapsedMs,
  };
}

/** One run of a preview's sample, in wire form. */
export interface WireSampleRun {
  readonly id: string;
  readonly started_at: string;
  readonly status: RunStatus;
  readonly event: RunEvent;
}

/** Reads the sample's runs (those still there and of this environment), in the sample's order. */
export async function sampleRuns(store: RunStore, ids: readonly string[], environmentId: string): Promise<WireSampleRun[]> {
  const runs = await Promise.all(ids.map((id) => store.getRun(id)));
  const out: WireSampleRun[] = [];
  for (const run of runs) {
    if (run === undefined || (run.environmentId ?? "default") !== environmentId) continue;
    out.push({ id: run.id, started_at: formatTimestamp(run.startedAt), status: run.status, event: run.event });
  }
  return out;
}

/** Where a preview writes its lines: the raw HTTP response. */
export interface LineSink {
  write(line: string): unknown;
  end(): unknown;
  readonly writableEnded: boolean;
  once(event: "close", listener: () => void): unknown;
  off(event: "close", listener: () => void): unknown;
}

/** Options of {@link streamPreview}. */
export interface StreamPreviewOptions extends Omit<DryRunOptions, "signal" | "onProgress"> {
  /** Least time between two `progress` lines, ms. Default 100. */
  readonly intervalMs?: number;
  /** Called when the scan fails midway (for the operator's log). */
  readonly onError?: (error: unknown) => void;
  /** Stops the scan too (the service is shutting down). Default: none. */
  readonly signal?: AbortSignal;
}

/**
 * Runs the dry run and writes its NDJSON lines to `sink`; a client that closes the response stops
 * the scan. The caller has already validated the body and written the response head.
 */
export async function streamPreview(store: RunStore, body: unknown, sink: LineSink, options: StreamPreviewOptions): Promise<void> {
  const controller = new AbortController();
  const onClose = (): void => controller.abort();
  sink.once("close", onClose);
  options.signal?.addEventListener("abort", onClose, { once: true });
  if (options.signal?.aborted === true) controller.abort();
  const intervalMs = options.intervalMs ?? 100;
  let lastAt = -Infinity;
  const send = (value: unknown): void => {
    if (!sink.writableEnded && !controller.signal.aborted) sink.write(`${JSON.stringify(value)}\n`);
  };
  try {
    const result = await previewDryRun(store, body, {
      environmentId: options.environmentId,
      now: options.now,
      signal: controller.signal,
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      ...(options.evaluator !== undefined ? { evaluator: options.evaluator } : {}),
      onProgress: (progress) => {
        const at = performance.now();
        if (at - lastAt < intervalMs) return;
        lastAt = at;
        send({
          type: "progress",
          counts: progress.counts,
          scanned_per_second: progress.scannedPerSecond,
          eta_seconds: progress.etaSeconds ?? null,
          elapsed_ms: Math.round(progress.elapsedMs),
        });
      },
    });
    if (result.status === "completed") {
      const sample = await sampleRuns(store, result.sample, options.environmentId);
      send({ type: "done", status: result.status, counts: result.counts, sample, pushdown: result.pushdown, elapsed_ms: Math.round(result.elapsedMs) });
    }
  } catch (error) {
    options.onError?.(error);
    send({ type: "error", error: "The preview failed: internal error", status: 500 });
  } finally {
    sink.off("close", onClose);
    options.signal?.removeEventListener("abort", onClose);
    if (!sink.writableEnded) sink.end();
  }
}
