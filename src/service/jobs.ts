/**
 * Background cancellation jobs of the service.
 *
 * A job is {@link resumeCancellation} run on a record the service already created: the request
 * handler validates the body and stores the record (so it can answer at once), then hands the id
 * to {@link JobRunner.start}. Resuming a freshly created record is the same as running it from the
 * start, and after a restart the same call continues an unfinished record from its checkpoint.
 *
 * Each job has an `AbortController`: `DELETE` aborts it (after deleting the record, which alone
 * would stop it at the next batch; the abort also ends a wait for the rate limit), and a graceful
 * shutdown aborts every job at a batch boundary. A job stopped by a shutdown is saved with status
 * `running` again, so the next start resumes it from its checkpoint.
 *
 * One service per store: two services resuming the same record would write checkpoints over each
 * other.
 *
 * @module
 */
import { CancellationNotFoundError } from "../cancel/errors.js";
import { resumeCancellation, type CancellationProgress, type CancellationReport } from "../cancel/planner.js";
import type { CancellationStatus, RunStore } from "../stores/types.js";

/** How a job ended, as listeners see it. */
export type JobOutcome =
  /** The job ended by itself with this status (`completed`, `stopped_max_runs`, `failed`, or `aborted`). */
  | { readonly kind: "finished"; readonly status: CancellationStatus }
  /** The record was deleted; the job stopped. */
  | { readonly kind: "deleted" }
  /** The service is shutting down; the record is saved as `running` and resumes at the next start. */
  | { readonly kind: "interrupted" }
  /** The job threw; the planner saved status `failed` if the store allowed. */
  | { readonly kind: "error"; readonly error: unknown };

/** What a job listener receives. */
export type JobEvent =
  | { readonly type: "progress"; readonly progress: CancellationProgress }
  | { readonly type: "end"; readonly outcome: JobOutcome };

/** Receives a job's events; exceptions it throws are swallowed (they must not fail the job). */
export type JobListener = (event: JobEvent) => void;

/** Options of {@link JobRunner}. */
export interface JobRunnerOptions {
  /**
   * Runs per page and per cancelled batch, for a record stored without settings (a job otherwise
   * runs with its record's). Default 1000 (the planner's default).
   */
  readonly batchSize?: number;
  /** Most runs each job cancels per second, for a record stored without settings. Default: no limit. */
  readonly ratePerSecond?: number;
  /** Receives one line per job start and end, for the operator. Default: none. */
  readonly log?: (line: string) => void;
}

interface ActiveJob {
  readonly id: string;
  readonly environmentId: string;
  readonly controller: AbortController;
  readonly listeners: Set<JobListener>;
  readonly done: Promise<void>;
  progress: CancellationProgress | undefined;
}

/** Runs cancellations in the background, one job per record. */
export class JobRunner {
  readonly #store: RunStore;
  readonly #options: JobRunnerOptions;
  readonly #active = new Map<string, ActiveJob>();
  #shuttingDown = false;

  /**
   * @param store - The store holding the records and runs.
   * @param options - See {@link JobRunnerOptions}.
   */
  constructor(store: RunStore, options: JobRunnerOptions = {}) {
    this.#store = store;
    this.#options = options;
  }

  /** Whether a job for this cancellation runs in this process. */
  isActive(id: string): boolean {
    return this.#active.has(id);
  }

  /** Number of jobs running. */
  get activeCount(): number {
    return this.#active.size;
  }

  /** The last progress of a running job, or `undefined` (not running, or no batch settled yet). */
  progress(id: string): CancellationProgress | undefined {
    return this.#active.get(id)?.progress;
  }

  /**
   * Starts (or resumes from its checkpoint) the job of a stored record. Does nothing when its job
   * already runs, or while shutting down (the record then stays `running` and resumes at the next
   * start). Returns whether a job was started.
   */
  start(id: string, environmentId: string): boolean {
    if (this.#shuttingDown || this.#active.has(id)) return false;
    const controller = new AbortController();
    const listeners = new Set<JobListener>();
    let resolveDone!: () => void;
    const job: ActiveJob = {
      id,
      environmentId,
      controller,
      listeners,
      done: new Promise<void>((resolve) => (resolveDone = resolve)),
      progress: undefined,
    };
    this.#active.set(id, job);
    const onProgress = (progress: CancellationProgress): void => {
      job.progress = progress;
      this.#emit(job, { type: "progress", progress });
    };
    void this.#run(job, onProgress).finally(() => {
      this.#active.delete(id);
      resolveDone();
    });
    return true;
  }

  async #run(job: ActiveJob, onProgress: (progress: CancellationProgress) => void): Promise<void> {
    const { batchSize, ratePerSecond } = this.#options;
    let outcome: JobOutcome;
    try {
      // A job runs with the settings stored with its record; the service's own apply only to a
      // record stored before settings were kept (and are then stored with it).
      const stored = (await this.#store.getCancellation(job.id, job.environmentId))?.settings;
      const report: CancellationReport = await resumeCancellation(this.#store, job.id, {
        environmentId: job.environmentId,
        signal: job.controller.signal,
        onProgress,
        ...(stored === undefined && batchSize !== undefined ? { batchSize } : {}),
        ...(stored === undefined && ratePerSecond !== undefined ? { ratePerSecond } : {}),
      });
      if (report.status === "deleted") outcome = { kind: "deleted" };
      else if (report.status === "aborted" && this.#shuttingDown) outcome = (await this.#markResumable(job.id)) ? { kind: "interrupted" } : { kind: "deleted" };
      else outcome = { kind: "finished", status: report.status };
      const counts = report.outcomes;
      this.#log(
        `job ${job.id} ${outcome.kind === "finished" ? outcome.status : outcome.kind}: scanned ${counts.scanned}, cancelled ${counts.cancelled}, ` +
          `skipped_terminal ${counts.skipped_terminal}, not_matched ${counts.not_matched}, expression_error ${counts.expression_error}, non_boolean ${counts.non_boolean}`,
      );
    } catch (error) {
      // A record deleted before the job read it is not a failure.
      if (error instanceof CancellationNotFoundError) outcome = { kind: "deleted" };
      else {
        outcome = { kind: "error", error };
        this.#log(`job ${job.id} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    this.#emit(job, { type: "end", outcome });
  }

  /** Saves an aborted record as `running` again, keeping its checkpoint; false when it is gone. */
  async #markResumable(id: string): Promise<boolean> {
    try {
      const record = await this.#store.getCancellation(id);
      if (record === undefined) return false;
      if (record.status !== "aborted") return true;
      return await this.#store.updateCancellation(id, {
        ...(record.cursor !== undefined ? { cursor: record.cursor } : {}),
        counts: record.counts,
        status: "running",
      });
    } catch (error) {
      this.#log(`job ${id}: could not mark it for resumption: ${error instanceof Error ? error.message : String(error)}`);
      return true;
    }
  }

  #emit(job: ActiveJob, event: JobEvent): void {
    for (const listener of job.listeners) {
      try {
        listener(event);
      } catch {
        // A listener (an SSE stream whose client went away) must never fail the job.
      }
    }
  }

  #log(line: string): void {
    this.#options.log?.(line);
  }

  /**
   * Listens to a running job's events until it ends. Returns an unsubscribe function, or
   * `undefined` when no job for this id runs in this process.
   */
  subscribe(id: string, listener: JobListener): (() => void) | undefined {
    const job = this.#active.get(id);
    if (job === undefined) return undefined;
    job.listeners.add(listener);
    return () => job.listeners.delete(listener);
  }

  /** Aborts a running job (at its next batch boundary or rate-limit wait); false when none runs. */
  stop(id: string): boolean {
    const job = this.#active.get(id);
    if (job === undefined) return false;
    job.controller.abort();
    return true;
  }

  /** Resolves when the job (if any) has ended. */
  async waitFor(id: string): Promise<void> {
    await this.#active.get(id)?.done;
  }

  /** Resolves when no job runs. */
  async idle(): Promise<void> {
    while (this.#active.size > 0) await Promise.all([...this.#active.values()].map((job) => job.done));
  }

  /**
   * Starts the job of every record with status `running` (created, or interrupted by a crash or a
   * shutdown, and not finished), in every environment. Returns how many were started.
   */
  async resumeUnfinished(): Promise<number> {
    let started = 0;
    let after: string | undefined;
    const unfinished: { id: string; environmentId: string }[] = [];
    for (;;) {
      const page = await this.#store.listCancellations({ limit: 1000, ...(after !== undefined ? { after } : {}) });
      for (const record of page.records) if (record.status === "running") unfinished.push({ id: record.id, environmentId: record.environmentId });
      if (page.next === undefined) break;
      after = page.next;
    }
    // Oldest first, so that earlier requests go first.
    for (const { id, environmentId } of unfinished.reverse()) {
      if (this.start(id, environmentId)) {
        started++;
        this.#log(`job ${id} resumed from its checkpoint`);
      }
    }
    return started;
  }

  /**
   * Stops taking jobs, aborts every running job at a batch boundary (its checkpoint is saved and
   * its status stays resumable) and waits for all of them to end.
   */
  async shutdown(): Promise<void> {
    this.#shuttingDown = true;
    for (const job of this.#active.values()) job.controller.abort();
    await this.idle();
  }
}
