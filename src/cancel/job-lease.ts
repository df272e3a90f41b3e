/**
 * The owner lease a job runs under ({@link JobLease}): one process runs a cancellation's job at a
 * time. The job takes the lease in the store before its first page, renews it while it runs,
 * names its owner in every batch (so that a process that lost its lease can change nothing), and
 * releases it when it ends, so that the next process can take the job at once.
 *
 * @module
 */
import type { RunStore } from "../stores/types.js";
import { CancellationLeaseError, CancellationNotFoundError } from "./errors.js";

/** Default length of a job's owner lease, ms: renewed every third of it while the job runs. */
export const DEFAULT_JOB_LEASE_MS = 30_000;

/** Options of a job's owner lease (`ResumeOptions.lease`). */
export interface JobLeaseOptions {
  /** This process's owner id: 1 to 200 characters, unique among the processes sharing the store. */
  readonly owner: string;
  /** Length of the lease, ms, 3 to 86,400,000: a process that stops renewing loses the job after it. Default {@link DEFAULT_JOB_LEASE_MS}. */
  readonly leaseMs?: number;
}

/** Checks lease options. @internal */
export function readLeaseOptions(lease: unknown, caller: string): { readonly owner: string; readonly leaseMs: number } | undefined {
  if (lease === undefined) return undefined;
  if (typeof lease !== "object" || lease === null) throw new TypeError(`${caller}: lease must be an object { owner, leaseMs? }`);
  const { owner, leaseMs } = lease as { owner?: unknown; leaseMs?: unknown };
  if (typeof owner !== "string" || owner.length === 0 || owner.length > 200) throw new TypeError(`${caller}: lease.owner must be a string of 1 to 200 characters`);
  const ms = leaseMs ?? DEFAULT_JOB_LEASE_MS;
  if (typeof ms !== "number" || !Number.isSafeInteger(ms) || ms < 3 || ms > 86_400_000) {
    throw new RangeError(`${caller}: lease.leaseMs must be an integer from 3 to 86400000, got ${String(ms)}`);
  }
  return { owner, leaseMs: ms };
}

/** A held owner lease of one job, renewed in the background until {@link JobLease.end}. @internal */
export class JobLease {
  readonly #store: RunStore;
  readonly #id: string;
  readonly #leaseMs: number;
  readonly #lost = new AbortController();
  readonly #timer: NodeJS.Timeout;
  #ended = false;

  private constructor(store: RunStore, id: string, readonly owner: string, leaseMs: number) {
    this.#store = store;
    this.#id = id;
    this.#leaseMs = leaseMs;
    this.#timer = setInterval(() => void this.#renew(), Math.max(1, Math.floor(leaseMs / 3)));
    // A job's own work keeps the process alive; the renewal must not.
    this.#timer.unref();
  }

  /**
   * Takes the lease of job `id` for `owner`.
   *
   * @throws {@link CancellationLeaseError} (`held`) when another owner's lease is live;
   *   {@link CancellationNotFoundError} when the record is gone.
   */
  static async take(store: RunStore, id: string, options: { readonly owner: string; readonly leaseMs: number }): Promise<JobLease> {
    const result = await store.leaseCancellation(id, options.owner, options.leaseMs);
    if (!result.ok) {
      if (result.reason === "gone") throw new CancellationNotFoundError(id);
      throw new CancellationLeaseError(id, "held", result.owner, result.expiresAt);
    }
    return new JobLease(store, id, options.owner, options.leaseMs);
  }

  /** Aborted when a renewal finds the lease taken over (or the record gone): the job must stop. */
  get lost(): AbortSignal {
    return this.#lost.signal;
  }

  async #renew(): Promise<void> {
    if (this.#ended) return;
    try {
      const result = await this.#store.leaseCancellation(this.#id, this.owner, this.#leaseMs);
      if (!result.ok) this.#lost.abort(new CancellationLeaseError(this.#id, "lost", result.reason === "held" ? result.owner : undefined, undefined));
    } catch {
      // A failing store: the next renewal tries again; should the lease expire meanwhile and
      // another process take the job, this one's batches change nothing (they name their owner).
    }
  }

  /** Stops renewing and releases the lease (best effort: an unreleased lease just expires). */
  async end(): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#timer);
    if (this.#lost.signal.aborted) return;
    await this.#store.releaseCancellation(this.#id, this.owner).catch(() => false);
  }
}
