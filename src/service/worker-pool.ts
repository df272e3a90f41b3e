/**
 * The worker pool of a service instance (or of `cancelkit worker`) on a store several processes
 * share (PostgreSQL): `concurrency` workers ({@link runWorker}) that lease shards of any sharded
 * job of the store, work through them and look for more, until the pool stops.
 *
 * Nothing is "resumed" at start: a shard whose worker died (its process killed) is simply leased
 * again by any pool once its lease expires, from its last checkpoint. Stopping the pool releases
 * the shards in hand at their next page boundary (checkpoint saved), so other pools take them at
 * once.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { PageEvaluator } from "../cancel/evaluator.js";
import { DEFAULT_LEASE_MS, runWorker, type WorkerProgress } from "../cancel/workers.js";
import type { RunStore } from "../stores/types.js";

/** Default number of workers of a pool. */
export const DEFAULT_CONCURRENCY = 2;
/** Most workers one pool runs. */
export const MAX_CONCURRENCY = 64;
/** Default pause between looks for a free shard, ms. */
export const DEFAULT_POOL_POLL_MS = 500;
/** Longest pause after a worker failed (the database away), ms; the pause doubles from `pollMs`. */
const MAX_BACKOFF_MS = 30_000;

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** Workers, 1 to 64, each working on one shard at a time. Default 2. */
  readonly concurrency?: number;
  /** Lease of a shard, ms: a dead instance's shards are taken over this long after its last renewal. Default 10,000. */
  readonly leaseMs?: number;
  /** Pause between looks for a free shard, ms. Default 500. */
  readonly pollMs?: number;
  /** Start of the workers' ids (`<prefix>:<n>`). Default `<hostname>:<pid>:<random>`. */
  readonly workerIdPrefix?: string;
  /** Receives a line per worker failure and per worker stop, for the operator. Default: none. */
  readonly log?: (line: string) => void;
  /** Receives every progress event of every worker. Default: none. */
  readonly onProgress?: (progress: WorkerProgress) => void;
  /** Where the workers evaluate the `if` (the service's worker threads, `sharedEvaluatorPool`). Default: inline. */
  readonly evaluator?: PageEvaluator;
}

/** A pool of shard workers over one store; see the module comment. */
export class WorkerPool {
  readonly #store: RunStore;
  readonly #concurrency: number;
  readonly #leaseMs: number;
  readonly #pollMs: number;
  readonly #prefix: string;
  readonly #options: WorkerPoolOptions;
  readonly #controller = new AbortController();
  #running: Promise<void>[] = [];

  /**
   * @param store - A store several processes can share (PostgreSQL).
   * @param options - See {@link WorkerPoolOptions}.
   * @throws RangeError for a bad concurrency.
   */
  constructor(store: RunStore, options: WorkerPoolOptions = {}) {
    const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
      throw new RangeError(`concurrency must be an integer from 1 to ${MAX_CONCURRENCY}, got ${String(concurrency)}`);
    }
    this.#store = store;
    this.#concurrency = concurrency;
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.#pollMs = options.pollMs ?? DEFAULT_POOL_POLL_MS;
    this.#prefix = options.workerIdPrefix ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.#options = options;
  }

  /** The ids the pool's workers lease shards under. */
  get workerIds(): readonly string[] {
    return Array.from({ length: this.#concurrency }, (_, i) => `${this.#prefix}:${i}`);
  }

  /** Whether the workers run. */
  get running(): boolean {
    return this.#running.length > 0 && !this.#controller.signal.aborted;
  }

  /** Starts the workers (once). */
  start(): void {
    if (this.#running.length > 0 || this.#controller.signal.aborted) return;
    this.#running = this.workerIds.map((workerId) => this.#loop(workerId));
  }

  /** Stops the workers at their next page boundary (shards in hand are released) and waits for them. */
  async stop(): Promise<void> {
    this.#controller.abort();
    await Promise.all(this.#running);
  }

  async #loop(workerId: string): Promise<void> {
    const signal = this.#controller.signal;
    let backoff = this.#pollMs;
    while (!signal.aborted) {
      try {
        const report = await runWorker(this.#store, {
          workerId,
          leaseMs: this.#leaseMs,
          pollMs: this.#pollMs,
          exitWhenIdle: false,
          signal,
          ...(this.#options.onProgress !== undefined ? { onProgress: this.#options.onProgress } : {}),
          ...(this.#options.evaluator !== undefined ? { evaluator: this.#options.evaluator } : {}),
        });
        this.#log(`worker ${workerId} stopped: ${report.shards.length} shard sessions, scanned ${report.scanned}, cancelled ${report.cancelled}`);
        backoff = this.#pollMs;
      } catch (error) {
        if (signal.aborted) break;
        this.#log(`worker ${workerId} failed (retrying in ${Math.round(backoff / 1000)} s): ${error instanceof Error ? error.message : String(error)}`);
        await sleep(backoff, signal);
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
      }
    }
  }

  #log(line: string): void {
    this.#options.log?.(line);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
