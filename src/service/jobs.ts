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
 * One owner per job: a job runs under an owner lease in the store (`ResumeOptions.lease`, this
 * runner's {@link JobRunnerOptions.owner}). A record whose lease another process holds is left
 * alone; one whose owner stopped renewing (a crash) is taken over once the lease has expired, by
 * the periodic look for unowned jobs that {@link JobRunner.resumeUnfinished} starts. A shutdown
 * saves its jobs as `running` under the lease and releases it, so the next process takes them at
 * once. See `docs/reliability-jobs.md`.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { CancellationLeaseError, CancellationNotFoundError } from "../cancel/errors.js";
import type { PageEvaluator } from "../cancel/evaluator.js";
import { DEFAULT_JOB_LEASE_MS } from "../cancel/job-lease.js";
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
  /** Another process holds the job's owner lease (or took the job over): it runs there. */
  | { readonly kind: "elsewhere" }
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
  /**
   * This runner's owner id in job leases: unique among the processes sharing the store. Default
   * `<host>:<pid>:<8 random hex digits>`.
   */
  readonly owner?: string;
  /** Length of a job's owner lease, ms (renewed every third of it). Default 30000. */
  readonly leaseMs?: number;
  /**
   * How often {@link JobRunner.resumeUnfinished} looks again for unfinished jobs nobody runs (an
   * owner that crashed: its lease has expired), ms; 0 looks only once. Default: `leaseMs`.
   */
  readonly takeoverMs?: number;
  /**
   * Where jobs evaluate their `if` (the server's `EvaluatorPool`: worker threads, so that the
   * HTTP event loop never does). Default: inline, on this thread.
   */
  readonly evaluator?: PageEvaluator;
}

/** A process-unique owner id: host, process id and a random part (a restarted process is a new owner). */
function defaultOwner(): string {
  return `${hostname().slice(0, 100)}:${process.pid}:${randomBytes(4).toString("hex")}`;
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
  /** This runner's owner id in job leases. */
  readonly owner: string;
  readonly #leaseMs: number;
  #takeoverTimer: NodeJS.Timeout | undefined;
  /** Jobs found running elsewhere, so that the periodic look logs each once. */
  readonly #elsewhere = new Set<string>();

  /**
   * @param store - The store holding the records and runs.
   * @param options - See {@link JobRunnerOptions}.
   */
  constructor(store: RunStore, options: JobRunnerOptions = {}) {
    this.#store = store;
    this.#options = options;
    this.owner = options.owner ?? defaultOwner();
    this.#leaseMs = options.leaseMs ?? DEFAULT_JOB_LEASE_MS;
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
        lease: { owner: this.owner, leaseMs: this.#leaseMs },
        ...(this.#options.evaluator !== undefined ? { evaluator: this.#options.evaluator } : {}),
        // A shutdown's abort saves the job as `running`, under its lease, to go on at the next start.
        abortStatus: "running",
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
      else if (error instanceof CancellationLeaseError) {
        outcome = { kind: "elsewhere" };
        if (!this.#elsewhere.has(job.id)) this.#log(`job ${job.id}: ${error.message}; left alone`);
        this.#elsewhere.add(job.id);
      } else {
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
   * shutdown, and not finished), in every environment, whose owner lease is free or expired (a
   * job another live process runs is left alone). Then looks again every `takeoverMs` (until
   * {@link JobRunner.shutdown}), to take over the jobs of a process that stopped renewing its
   * leases. Returns how many were started by this first look.
   */
  async resumeUnfinished(): Promise<number> {
    const started = await this.#startUnowned();
    const every = this.#options.takeoverMs ?? this.#leaseMs;
    if (every > 0 && this.#takeoverTimer === undefined && !this.#shuttingDown) {
      this.#takeoverTimer = setInterval(() => {
        this.#startUnowned().catch((error: unknown) => this.#log(`looking for unowned jobs failed: ${error instanceof Error ? error.message : String(error)}`));
      }, every);
      this.#takeoverTimer.unref();
    }
    return started;
  }

  /** One look for unfinished jobs nobody runs; returns how many were started. */
  async #startUnowned(): Promise<number> {
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
      if (this.#shuttingDown || this.#active.has(id)) continue;
      // Taking the lease here (the job renews it as its own) leaves a job run elsewhere alone
      // without showing it as active in this process even for a moment.
      const lease = await this.#store.leaseCancellation(id, this.owner, this.#leaseMs);
      if (!lease.ok) {
        if (lease.reason === "held" && !this.#elsewhere.has(id)) {
          this.#elsewhere.add(id);
          this.#log(`job ${id} is run by ${lease.owner}; left alone`);
        }
        continue;
      }
      if (this.start(id, environmentId)) {
        started++;
        this.#elsewhere.delete(id);
        this.#log(`job ${id} resumed from its checkpoint`);
      } else await this.#store.releaseCancellation(id, this.owner);
    }
    return started;
  }

  /**
   * Stops taking jobs, aborts every running job at a batch boundary (its checkpoint is saved and
   * its status stays resumable) and waits for all of them to end.
   */
  async shutdown(): Promise<void> {
    this.#shuttingDown = true;
    if (this.#takeoverTimer !== undefined) clearInterval(this.#takeoverTimer);
    for (const job of this.#active.values()) job.controller.abort();
    await this.idle();
  }
}
