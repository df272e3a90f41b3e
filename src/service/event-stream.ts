/**
 * `GET /v1/cancellations/:id/events`: a cancellation's progress as server-sent events. While its
 * job runs the stream sends `progress` (at most one per interval, the latest held back), then
 * `done` with the record (or `deleted`, or `interrupted` when the service shuts down) and closes.
 *
 * Two sources feed a stream: the job running in this process (a single-process store's
 * `JobRunner`), and the store, read every `pollMs`. A sharded job (PostgreSQL) runs on any instance
 * or worker: its progress is the sum of its shards' counts in the store, so a stream on any
 * instance follows a job that others run, and ends with `done` when the store says it ended. The
 * same read reports a change of the job's controls as a `control` event (`{id, paused,
 * rate_per_second}`, also sent first); `progress` events carry `paused`.
 *
 * @module
 */
import type { FastifyReply } from "fastify";
import type { CancellationProgress } from "../cancel/planner.js";
import { toWireCancellation } from "../cancel/record.js";
import type { CancellationRecord, OutcomeCounts, RunStore } from "../stores/types.js";
import type { JobEvent, JobRunner } from "./jobs.js";

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

/** Options of {@link EventStreams}. */
export interface EventStreamOptions {
  readonly store: RunStore;
  readonly jobs: JobRunner;
  /** Least time between two `progress` events of one stream, ms. */
  readonly eventIntervalMs: number;
  /** Interval of keep-alive comments, ms. */
  readonly keepAliveMs: number;
  /** How often a stream reads the record from the store (controls; a job run elsewhere), ms. */
  readonly pollMs: number;
  /**
   * Follow a job that runs elsewhere through the store (a sharded store's jobs run on any
   * instance or worker). `false`: a job that does not run in this process is over, and the stream
   * sends the record as `done` at once.
   */
  readonly followStore: boolean;
}

/** One open stream. */
interface EventStream {
  /** Resolves once the stream has ended. */
  readonly ended: Promise<void>;
  /** Ends the stream now. */
  end(): void;
  /** The server is closing: a stream following the store sends `interrupted` and ends (the job goes on elsewhere). */
  interrupt(): void;
}

/** The open event streams of a server. */
export class EventStreams {
  readonly #options: EventStreamOptions;
  readonly #open = new Set<EventStream>();

  constructor(options: EventStreamOptions) {
    this.#options = options;
  }

  /** Streams a cancellation's progress on a hijacked reply, until its job ends or the client goes away. */
  open(reply: FastifyReply, id: string, environmentId: string, record: CancellationRecord): void {
    const { store, jobs } = this.#options;
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    const stream = this.#track(res);
    const write = (event: string, data: unknown): void => {
      if (!stream.finished) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    let current = record;
    const progress = new ThrottledProgress(this.#options.eventIntervalMs, (latest) =>
      write("progress", { id, status: "running", ...progressBody(latest, current), paused: current.settings?.paused === true }),
    );
    stream.onEnd(() => progress.cancel());
    /** Sends the record as it stands now under `event`, then ends the stream. */
    const finish = async (event: "done" | "interrupted"): Promise<void> => {
      try {
        const current = await store.getCancellation(id, environmentId);
        if (current === undefined) write("deleted", { id });
        else write(event, toWireCancellation(current));
      } catch {
        // The store is closing: nothing more to say.
      }
      stream.end();
    };
    const onEvent = (event: JobEvent): void => {
      if (stream.finished) return;
      if (event.type === "progress") return progress.offer(event.progress);
      progress.cancel();
      const outcome = event.outcome;
      if (outcome.kind === "deleted") {
        write("deleted", { id });
        stream.end();
      } else void finish(outcome.kind === "interrupted" ? "interrupted" : "done");
    };
    const unsubscribe = jobs.subscribe(id, onEvent);
    const followStore = unsubscribe === undefined && this.#options.followStore && record.status === "running";
    if (unsubscribe === undefined && !followStore) {
      // No job runs: the record (read again, after the job ended if one just did) is final.
      void finish("done");
      return;
    }
    if (unsubscribe !== undefined) stream.onEnd(unsubscribe);
    else stream.interruptWith(() => void finish("interrupted"));
    write("control", { id, ...controlsOf(record) });
    progress.send(unsubscribe !== undefined ? jobs.progress(id) : undefined);
    // The store: controls always; for a job run elsewhere, its progress and its end too.
    let controls = JSON.stringify(controlsOf(record));
    let counts = JSON.stringify(record.counts);
    const first = { counts: record.counts, at: performance.now() };
    let timer: NodeJS.Timeout | undefined;
    const poll = async (): Promise<void> => {
      timer = undefined;
      let now: CancellationRecord | undefined;
      try {
        now = await store.getCancellation(id, environmentId);
      } catch {
        // A failed read (the database away for a moment) is retried at the next poll.
        now = current;
      }
      if (stream.finished) return;
      if (now === undefined) {
        write("deleted", { id });
        return stream.end();
      }
      current = now;
      const nowControls = JSON.stringify(controlsOf(now));
      if (nowControls !== controls) {
        controls = nowControls;
        write("control", { id, ...controlsOf(now) });
      }
      if (followStore) {
        const nowCounts = JSON.stringify(now.counts);
        if (nowCounts !== counts) {
          counts = nowCounts;
          progress.offer(storedProgress(now, first));
        }
        if (now.status !== "running") {
          progress.cancel();
          write("done", toWireCancellation(now));
          return stream.end();
        }
      }
      timer = setTimeout(() => void poll(), this.#options.pollMs);
    };
    timer = setTimeout(() => void poll(), this.#options.pollMs);
    stream.onEnd(() => {
      if (timer !== undefined) clearTimeout(timer);
    });
  }

  /** The server is closing: streams following the store send `interrupted` (their job goes on elsewhere). */
  interruptAll(): void {
    for (const stream of [...this.#open]) stream.interrupt();
  }

  /** Waits up to `graceMs` for streams sending their last event, then ends the rest. */
  async closeAll(graceMs: number): Promise<void> {
    const pending = [...this.#open].map((stream) => stream.ended);
    await Promise.race([Promise.all(pending), new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
    for (const stream of [...this.#open]) stream.end();
  }

  /** Registers a stream on `res` with its keep-alive comments; it ends when the client goes away. */
  #track(res: FastifyReply["raw"]): EventStream & { readonly finished: boolean; onEnd(fn: () => void): void; interruptWith(fn: () => void): void } {
    let finished = false;
    let onInterrupt: (() => void) | undefined;
    let resolveEnded!: () => void;
    const ended = new Promise<void>((resolve) => (resolveEnded = resolve));
    const cleanups: (() => void)[] = [];
    const keepAlive = setInterval(() => {
      if (!finished) res.write(": keep-alive\n\n");
    }, this.#options.keepAliveMs);
    keepAlive.unref();
    const stream = {
      ended,
      get finished() {
        return finished;
      },
      onEnd: (fn: () => void) => void cleanups.push(fn),
      interruptWith: (fn: () => void) => {
        onInterrupt = fn;
      },
      interrupt: () => {
        if (!finished) onInterrupt?.();
      },
      end: () => {
        if (finished) return;
        finished = true;
        clearInterval(keepAlive);
        for (const fn of cleanups) fn();
        this.#open.delete(stream);
        res.end();
        resolveEnded();
      },
    };
    this.#open.add(stream);
    // The response's `close`: the client went away (the request's fires once its body is read).
    res.once("close", stream.end);
    return stream;
  }
}

/** The controls part of a record, as `control` events carry it. */
function controlsOf(record: CancellationRecord): { readonly paused: boolean; readonly rate_per_second: number | null } {
  return { paused: record.settings?.paused === true, rate_per_second: record.settings?.ratePerSecond ?? null };
}

/** Progress as seen from the store: the record's counts, rates observed since the stream opened. */
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

/** Sends progress at most once per interval; a report that comes sooner is held and sent when the interval ends (only the latest). */
class ThrottledProgress {
  #lastSentAt = -Infinity;
  #held: CancellationProgress | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly sink: (progress: CancellationProgress | undefined) => void,
  ) {}

  /** Sends now, whatever the interval. */
  send(progress: CancellationProgress | undefined): void {
    this.#lastSentAt = performance.now();
    this.#held = undefined;
    this.sink(progress);
  }

  /** Sends now if the interval has passed, else holds it for the end of the interval. */
  offer(progress: CancellationProgress): void {
    const wait = this.intervalMs - (performance.now() - this.#lastSentAt);
    if (wait <= 0) return this.send(progress);
    this.#held = progress;
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      if (this.#held !== undefined) this.send(this.#held);
    }, wait);
  }

  /** Drops a held report. */
  cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#held = undefined;
  }
}
