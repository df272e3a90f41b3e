/**
 * `GET /v1/cancellations/:id/events`: a cancellation's progress as server-sent events, until its
 * job ends.
 *
 * Two sources feed a stream:
 * - the job running in this process (a single-process store's `JobRunner`), whose every commit is
 *   a `progress` event (throttled to one per `eventIntervalMs`);
 * - the store, read every `pollMs`: a sharded job's progress is the sum of its shards' counts,
 *   whichever instance or worker does the work, so a stream on any instance follows a job that
 *   others run. The same read reports a change of the job's controls (a `control` event:
 *   `{id, paused, rate_per_second}`, also sent first) and its end (`done` with the record, or
 *   `deleted`).
 *
 * Events: `control`, `progress` (`{id, status, scanned, matched, cancelled, counts, paused, …}`),
 * then one of `done`, `deleted`, `interrupted`; then the stream closes.
 *
 * @module
 */
import type { FastifyReply } from "fastify";
import type { CancellationProgress } from "../cancel/settings.js";
import { toWireCancellation } from "../cancel/record.js";
import type { CancellationRecord, OutcomeCounts, RunStore } from "../stores/types.js";
import type { JobEvent, JobRunner } from "./jobs.js";

/** An open event stream. */
export interface EventStream {
  /** Resolves once the stream has ended. */
  readonly ended: Promise<void>;
  /** Ends the stream now. */
  end(): void;
  /**
   * The server is closing: a stream following a job run elsewhere sends the record as
   * `interrupted` (the job goes on without this instance) and ends; a stream of a job of this
   * process is ended by the job's own end event.
   */
  interrupt(): void;
}

/** What a stream takes from the server. */
export interface EventStreamContext {
  readonly store: RunStore;
  readonly jobs: JobRunner;
  /** Every open stream (the server ends them on close). */
  readonly streams: Set<EventStream>;
  /** Least time between two `progress` events, ms. */
  readonly eventIntervalMs: number;
  /** Interval of keep-alive comments, ms. */
  readonly keepAliveMs: number;
  /** How often the record is read from the store, ms. */
  readonly pollMs: number;
  /**
   * Follow a job that runs elsewhere through the store (a sharded store's jobs run on any
   * instance or worker). `false`: a job that does not run in this process is over, and the stream
   * sends the record as `done` at once.
   */
  readonly followStore: boolean;
}

/** The progress part of `GET /v1/cancellations/:id` and of `progress` events. */
export function progressBody(progress: CancellationProgress | undefined, record: CancellationRecord): Record<string, unknown> {
  const counts = progress?.counts ?? record.counts;
  return {
    scanned: counts.scanned,
    matched: counts.cancelled + counts.skipped_terminal,
    cancelled: counts.cancelled,
    counts,
    rate_per_second: progress?.ratePerSecond ?? 0,
    scanned_per_second: progress?.scannedPerSecond ?? 0,
    eta_seconds: progress?.etaSeconds ?? null,
    elapsed_ms: progress?.elapsedMs ?? 0,
  };
}

/** The controls part of a record, as `control` events carry it. */
function controlsOf(record: CancellationRecord): { readonly paused: boolean; readonly rate_per_second: number | null } {
  return { paused: record.settings?.paused === true, rate_per_second: record.settings?.ratePerSecond ?? null };
}

/** Progress as seen from the store: counts of the record, rates observed since the stream opened. */
function storedProgress(record: CancellationRecord, first: { readonly counts: OutcomeCounts; readonly at: number }): CancellationProgress {
  const elapsedMs = performance.now() - first.at;
  const seconds = elapsedMs / 1000;
  const counts = record.counts;
  return {
    cancellationId: record.id,
    scanned: counts.scanned,
    matched: counts.cancelled + counts.skipped_terminal,
    cancelled: counts.cancelled,
    counts,
    ratePerSecond: seconds > 0 ? (counts.cancelled - first.counts.cancelled) / seconds : 0,
    scannedPerSecond: seconds > 0 ? (counts.scanned - first.counts.scanned) / seconds : 0,
    etaSeconds: undefined,
    elapsedMs,
  };
}

/**
 * Streams a cancellation's events on `reply` (already hijacked) until its job ends, the record
 * is deleted, the client goes away or the server closes.
 */
export function openEventStream(context: EventStreamContext, reply: FastifyReply, id: string, environmentId: string, record: CancellationRecord): void {
  const { store, jobs, streams, eventIntervalMs, keepAliveMs, pollMs, followStore } = context;
  const res = reply.raw;
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  let finished = false;
  let resolveEnded!: () => void;
  const ended = new Promise<void>((resolve) => (resolveEnded = resolve));
  let lastSentAt = -Infinity;
  let held: CancellationProgress | undefined;
  let holdTimer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  let pollTimer: NodeJS.Timeout | undefined;
  let current = record;
  let controls = JSON.stringify(controlsOf(record));
  let lastCounts = JSON.stringify(record.counts);
  const first = { counts: record.counts, at: performance.now() };
  const write = (event: string, data: unknown): void => {
    if (!finished) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const keepAlive = setInterval(() => {
    if (!finished) res.write(": keep-alive\n\n");
  }, keepAliveMs);
  keepAlive.unref();
  const stream: EventStream = {
    ended,
    end: () => {
      if (finished) return;
      finished = true;
      clearInterval(keepAlive);
      if (holdTimer !== undefined) clearTimeout(holdTimer);
      if (pollTimer !== undefined) clearTimeout(pollTimer);
      unsubscribe?.();
      streams.delete(stream);
      res.end();
      resolveEnded();
    },
    interrupt: () => {
      if (unsubscribe === undefined && !finished) void finish("interrupted");
    },
  };
  streams.add(stream);
  // The response's `close`: the client went away (the request's fires once its body is read).
  res.once("close", stream.end);

  const progressEvent = (progress: CancellationProgress | undefined): Record<string, unknown> => ({
    id,
    status: "running",
    ...progressBody(progress, current),
    paused: current.settings?.paused === true,
  });
  const sendProgress = (progress: CancellationProgress | undefined): void => {
    lastSentAt = performance.now();
    held = undefined;
    write("progress", progressEvent(progress));
  };
  /** Sends the record as it stands now under `event`, then ends the stream. */
  const finish = async (event: "done" | "interrupted"): Promise<void> => {
    try {
      const now = await store.getCancellation(id, environmentId);
      if (now === undefined) write("deleted", { id });
      else write(event, toWireCancellation(now));
    } catch {
      // The store is closing: nothing more to say.
    }
    stream.end();
  };
  const onEvent = (event: JobEvent): void => {
    if (finished) return;
    if (event.type === "progress") {
      const wait = eventIntervalMs - (performance.now() - lastSentAt);
      if (wait <= 0) sendProgress(event.progress);
      else {
        held = event.progress;
        holdTimer ??= setTimeout(() => {
          holdTimer = undefined;
          if (held !== undefined && !finished) sendProgress(held);
        }, wait);
      }
      return;
    }
    if (holdTimer !== undefined) clearTimeout(holdTimer);
    holdTimer = undefined;
    const outcome = event.outcome;
    if (outcome.kind === "deleted") {
      write("deleted", { id });
      stream.end();
    } else void finish(outcome.kind === "interrupted" ? "interrupted" : "done");
  };

  /** Reads the record: reports control changes, and, for a job not running here, progress and the end. */
  const poll = async (): Promise<void> => {
    pollTimer = undefined;
    if (finished) return;
    let now: CancellationRecord | undefined;
    try {
      now = await store.getCancellation(id, environmentId);
    } catch {
      // A failed read (the database away for a moment) is retried at the next poll.
      now = current;
    }
    if (finished) return;
    if (now === undefined) {
      write("deleted", { id });
      stream.end();
      return;
    }
    current = now;
    const nowControls = JSON.stringify(controlsOf(now));
    if (nowControls !== controls) {
      controls = nowControls;
      write("control", { id, ...controlsOf(now) });
    }
    if (unsubscribe === undefined) {
      const counts = JSON.stringify(now.counts);
      if (counts !== lastCounts) {
        lastCounts = counts;
        sendProgress(storedProgress(now, first));
      }
      if (now.status !== "running") {
        write("done", toWireCancellation(now));
        stream.end();
        return;
      }
    }
    pollTimer = setTimeout(() => void poll(), pollMs);
  };

  unsubscribe = jobs.subscribe(id, onEvent);
  if (unsubscribe === undefined && (record.status !== "running" || !followStore)) {
    // No job runs and the record is final (read again, after the job ended if one just did).
    void finish("done");
    return;
  }
  write("control", { id, ...controlsOf(record) });
  sendProgress(unsubscribe !== undefined ? jobs.progress(id) : undefined);
  pollTimer = setTimeout(() => void poll(), pollMs);
}
