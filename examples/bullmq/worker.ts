/**
 * A BullMQ worker whose jobs are multi-step workflow runs, asking cancelkit before every step
 * whether the run has been cancelled — the lazy check of Inngest's executor, done by a
 * {@link CancellationChecker}. A cancelled run stops at its next step: its job fails (without
 * retries) with the cancellation's id in `failedReason` and in `job.data.cancellationId`.
 *
 * In an application, import from `cancelkit` instead of `../../src/index.js`.
 *
 * @module
 */
import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from "bullmq";
import { decodeTime } from "ulid";
import type { CancellationChecker, CheckableRun } from "../../src/index.js";

/** The data of a job: one run of a function, triggered by `event`. */
export interface RunJobData {
  /** The run's id: a ULID, whose time is the run's start (as in Inngest). */
  readonly runId: string;
  readonly appId: string;
  readonly functionId: string;
  /** Default `'default'`. */
  readonly environmentId?: string;
  /** The triggering event: the `event` of a cancellation's `if`. */
  readonly event: { readonly name: string; readonly data: Readonly<Record<string, unknown>> };
  /** Set when a cancellation stopped the run. */
  readonly cancellationId?: string;
}

/** One step of a run: `index` counts from 0. */
export type Step = (job: Job<RunJobData>, index: number) => Promise<void>;

/** Why a cancelled run's job failed; BullMQ does not retry it. */
export class RunCancelledError extends UnrecoverableError {
  constructor(readonly cancellationId: string) {
    super(`run cancelled by cancellation ${cancellationId}`);
  }
}

/** Options of {@link createRunWorker}. */
export interface RunWorkerOptions {
  readonly queueName: string;
  /** Redis connection, e.g. `{ host: "127.0.0.1", port: 6379 }`. */
  readonly connection: ConnectionOptions;
  /** Key prefix of the queue in Redis. Default BullMQ's (`bull`). */
  readonly prefix?: string;
  /** A loaded checker (`await checker.refresh()` first). */
  readonly checker: CancellationChecker;
  /** The steps every run takes, in order. */
  readonly steps: readonly Step[];
  /** Jobs processed at once. Default 50. */
  readonly concurrency?: number;
}

/** The run a job stands for, as the checker reads it. */
export function runOf(data: RunJobData): CheckableRun {
  return {
    id: data.runId,
    ...(data.environmentId !== undefined ? { environmentId: data.environmentId } : {}),
    appId: data.appId,
    functionId: data.functionId,
    startedAt: decodeTime(data.runId),
    event: data.event,
  };
}

/**
 * A worker that runs each job's steps, checking before each one. The check is synchronous and
 * in memory: it costs microseconds, not a round trip.
 */
export function createRunWorker(options: RunWorkerOptions): Worker<RunJobData> {
  const { checker, steps } = options;
  return new Worker<RunJobData>(
    options.queueName,
    async (job) => {
      const run = runOf(job.data);
      for (let i = 0; i < steps.length; i++) {
        const cancellation = checker.check(run);
        if (cancellation !== undefined) {
          await job.updateData({ ...job.data, cancellationId: cancellation.id });
          throw new RunCancelledError(cancellation.id);
        }
        await steps[i]!(job, i);
      }
    },
    {
      connection: options.connection,
      concurrency: options.concurrency ?? 50,
      ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
    },
  );
}
