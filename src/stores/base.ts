/**
 * The one place a store's input is checked. Every store extends {@link BaseRunStore} (or
 * {@link BaseShardedRunStore}): the public methods of the contract live here, check their
 * arguments with `checks.ts` and hand the store's protected `…Checked` methods only valid,
 * normalised input. A store author writes those methods and never validates arguments again
 * (only what its database cannot hold, such as NUL characters in PostgreSQL `text`).
 *
 * Adding a method to the contract: declare it in `types.ts`, add its check to `checks.ts` if it
 * takes new kinds of input, add the public method and its abstract `…Checked` method here, and
 * implement the latter in each store; the conformance suite (`test/stores/conformance.ts`) gets
 * its behaviour.
 *
 * Every public method first calls {@link BaseRunStore.assertUsable} (closed stores reject with
 * `closed`), then checks its input, then calls the store; methods are `async`, so every failure,
 * also a synchronous one, is a rejection.
 *
 * @module
 */
import {
  checkEnvironmentOption,
  checkIdempotency,
  checkLeaseMs,
  checkListOptions,
  checkRunStatus,
  checkShardCount,
  checkShardNo,
  checkWorkerId,
  isNonEmptyString,
  isValidId,
  normalizeCancellationRecord,
  normalizeCancellationSettings,
  normalizeCheckpoint,
  normalizeCommitBatch,
  normalizeLeaseRequest,
  normalizeRunIds,
  normalizeRuns,
  normalizeScanQuery,
  normalizeShardCommit,
  normalizeShardWindow,
  type CheckedLeaseRequest,
  type CheckedScanQuery,
  type CheckedShardWindow,
} from "./checks.js";
import { normalizeRunLocationQuery, type CheckedRunLocationQuery } from "./location-checks.js";
import { checkWatchOptions, type CheckedWatchOptions } from "./watch-checks.js";
import {
  StoreError,
  type BoundedScanQuery,
  type CancellationChange,
  type CancellationLeaseResult,
  type CancellationPage,
  type CancellationRecord,
  type CancellationWatch,
  type CancellationSettings,
  type RunLocation,
  type RunLocationQuery,
  type Checkpoint,
  type CommitBatch,
  type CommitResult,
  type CreateResult,
  type FunctionSummary,
  type RunRecord,
  type RunStatus,
  type RunStore,
  type ScanPage,
  type ScanQuery,
  type ShardBounds,
  type ShardCommit,
  type ShardCommitResult,
  type ShardLeaseResult,
  type ShardRecord,
  type ShardWindow,
  type ShardedRunStore,
  type WatchOptions,
} from "./types.js";

/** An idempotency argument once checked. */
export interface Idempotency {
  readonly key: string;
  readonly requestHash: string;
}

/** `listCancellations` options once checked: the effective limit is always set. */
export interface CheckedListOptions {
  readonly environmentId?: string;
  readonly after?: string;
  readonly limit: number;
}

/** A record found under an idempotency key, with the hash of its request. */
export interface KeyedRecord {
  readonly record: CancellationRecord;
  readonly requestHash: string;
}

/** Stops what a store's `watchOthersChecked` started. */
export type StopWatching = () => Promise<void>;

/** One active `watchCancellations`. */
class Watch {
  constructor(
    private readonly listener: (change: CancellationChange) => void,
    readonly onError: ((error: unknown) => void) | undefined,
  ) {}

  stop: StopWatching | undefined = undefined;

  /** Calls the listener; its exception goes to `onError`, never to the store's caller. */
  deliver(change: CancellationChange): void {
    try {
      this.listener(change);
    } catch (error) {
      reportTo(this.onError, error);
    }
  }
}

function reportTo(onError: ((error: unknown) => void) | undefined, error: unknown): void {
  try {
    onError?.(error);
  } catch {
    // An error handler that throws has nowhere left to report to.
  }
}

/** Options of {@link BaseRunStore}'s constructor. */
export interface BaseRunStoreOptions {
  /**
   * Whether `insertRunsChecked` receives deep-frozen copies of the runs (a store that keeps the
   * objects) or runs sharing `event` with the caller's (a store that serialises them at once).
   */
  readonly copyRuns: boolean;
}

/**
 * A {@link RunStore} whose public methods check their input and call the protected `…Checked`
 * methods a store implements. See the module comment.
 */
export abstract class BaseRunStore implements RunStore {
  readonly #copyRuns: boolean;
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly #watches = new Set<Watch>();

  /** @param options - See {@link BaseRunStoreOptions}. */
  protected constructor(options: BaseRunStoreOptions) {
    this.#copyRuns = options.copyRuns;
  }

  /** Whether `close()` was called. */
  protected get closed(): boolean {
    return this.#closed;
  }

  /**
   * Throws when the store cannot serve a call; every public method calls it first. Rejects with
   * `closed` after `close()`; a store may add its own conditions (PostgreSQL: migrated).
   */
  protected assertUsable(): void {
    if (this.#closed) throw new StoreError("closed", "the run store is closed");
  }

  /** {@inheritDoc RunStore.insertRuns} */
  async insertRuns(runs: readonly RunRecord[]): Promise<void> {
    this.assertUsable();
    return this.insertRunsChecked(normalizeRuns(runs, { copy: this.#copyRuns }));
  }

  /** {@inheritDoc RunStore.insertRunStream} */
  async insertRunStream(batches: AsyncIterable<readonly RunRecord[]>): Promise<number> {
    this.assertUsable();
    if (typeof (batches as Partial<AsyncIterable<unknown>> | null)?.[Symbol.asyncIterator] !== "function") {
      throw new StoreError("invalid_run", "insertRunStream: expected an async iterable of run arrays");
    }
    const copy = this.#copyRuns;
    // An error of the input (the iterable's own, or an invalid run) reaches the caller as it was
    // thrown, not as the store's failure: the store only rolls back.
    let inputError: { readonly error: unknown } | undefined;
    const checked = (async function* () {
      try {
        for await (const batch of batches) yield normalizeRuns(batch, { copy });
      } catch (error) {
        inputError = { error };
        throw error;
      }
    })();
    try {
      return await this.insertRunStreamChecked(checked);
    } catch (error) {
      throw inputError !== undefined ? inputError.error : error;
    }
  }

  /** {@inheritDoc RunStore.listRunLocations} */
  async listRunLocations(query: RunLocationQuery): Promise<RunLocation[]> {
    this.assertUsable();
    return this.listRunLocationsChecked(normalizeRunLocationQuery(query));
  }

  /** {@inheritDoc RunStore.getRun} */
  async getRun(id: string): Promise<RunRecord | undefined> {
    this.assertUsable();
    // No stored run has an invalid id.
    if (!isValidId(id)) return undefined;
    return this.getRunChecked(id);
  }

  /** {@inheritDoc RunStore.setRunStatus} */
  async setRunStatus(ids: readonly string[], status: RunStatus, options: { readonly force?: boolean } = {}): Promise<number> {
    this.assertUsable();
    const unique = normalizeRunIds(ids);
    checkRunStatus(status);
    return this.setRunStatusChecked(unique, status, options?.force === true);
  }

  /** {@inheritDoc RunStore.scanRuns} */
  async scanRuns(query: ScanQuery): Promise<ScanPage> {
    this.assertUsable();
    return this.scanRunsChecked(normalizeScanQuery(query));
  }

  /** {@inheritDoc RunStore.listFunctions} */
  async listFunctions(options: { readonly environmentId?: string } = {}): Promise<FunctionSummary[]> {
    this.assertUsable();
    return this.listFunctionsChecked(checkEnvironmentOption(options));
  }

  /** {@inheritDoc RunStore.commitBatch} */
  async commitBatch(batch: CommitBatch): Promise<CommitResult> {
    this.assertUsable();
    const checked = normalizeCommitBatch(batch);
    const owner = (batch as { readonly owner?: unknown }).owner;
    return this.commitBatchChecked(owner === undefined ? checked : { ...checked, owner: checkWorkerId(owner, "invalid_batch", "owner") });
  }

  /** {@inheritDoc RunStore.leaseCancellation} */
  async leaseCancellation(id: string, owner: string, leaseMs: number): Promise<CancellationLeaseResult> {
    this.assertUsable();
    checkWorkerId(owner, "invalid_option");
    checkLeaseMs(leaseMs, "invalid_option");
    if (!isValidId(id)) return { ok: false, reason: "gone" };
    return this.leaseCancellationChecked(id, owner, leaseMs);
  }

  /** {@inheritDoc RunStore.releaseCancellation} */
  async releaseCancellation(id: string, owner: string): Promise<boolean> {
    this.assertUsable();
    checkWorkerId(owner, "invalid_option");
    if (!isValidId(id)) return false;
    return this.releaseCancellationChecked(id, owner);
  }

  /** {@inheritDoc RunStore.createCancellation} */
  async createCancellation(record: CancellationRecord, idempotency?: Idempotency): Promise<CreateResult> {
    this.assertUsable();
    const valid = normalizeCancellationRecord(record);
    if (idempotency !== undefined) checkIdempotency(idempotency);
    const result = await this.createCancellationChecked(valid, idempotency);
    if (result.created) this.cancellationsChanged({ kind: "created", record: result.record });
    return result;
  }

  /** {@inheritDoc RunStore.getCancellation} */
  async getCancellation(id: string, environmentId?: string): Promise<CancellationRecord | undefined> {
    this.assertUsable();
    if (!isValidId(id) || (environmentId !== undefined && !isNonEmptyString(environmentId))) return undefined;
    return this.getCancellationChecked(id, environmentId);
  }

  /** {@inheritDoc RunStore.listCancellations} */
  async listCancellations(
    options: { readonly environmentId?: string; readonly limit?: number; readonly after?: string } = {},
  ): Promise<CancellationPage> {
    this.assertUsable();
    const limit = checkListOptions(options);
    return this.listCancellationsChecked({
      ...(options.environmentId !== undefined ? { environmentId: options.environmentId } : {}),
      ...(options.after !== undefined ? { after: options.after } : {}),
      limit,
    });
  }

  /** {@inheritDoc RunStore.updateCancellation} */
  async updateCancellation(id: string, checkpoint: Checkpoint): Promise<boolean> {
    this.assertUsable();
    const valid = normalizeCheckpoint(checkpoint);
    if (!isValidId(id)) return false;
    return this.updateCancellationChecked(id, valid);
  }

  /** {@inheritDoc RunStore.updateCancellationSettings} */
  async updateCancellationSettings(id: string, settings: CancellationSettings): Promise<boolean> {
    this.assertUsable();
    const valid = normalizeCancellationSettings(settings);
    if (!isValidId(id)) return false;
    return this.updateCancellationSettingsChecked(id, valid);
  }

  /** {@inheritDoc RunStore.deleteCancellation} */
  async deleteCancellation(id: string, environmentId?: string): Promise<boolean> {
    this.assertUsable();
    if (!isValidId(id) || (environmentId !== undefined && !isNonEmptyString(environmentId))) return false;
    const deleted = await this.deleteCancellationChecked(id, environmentId);
    if (deleted) this.cancellationsChanged({ kind: "deleted", id });
    return deleted;
  }

  /** {@inheritDoc RunStore.findByIdempotencyKey} */
  async findByIdempotencyKey(environmentId: string, key: string): Promise<KeyedRecord | undefined> {
    this.assertUsable();
    if (typeof environmentId !== "string" || typeof key !== "string") return undefined;
    return this.findByIdempotencyKeyChecked(environmentId, key);
  }

  /** {@inheritDoc RunStore.watchCancellations} */
  async watchCancellations(listener: (change: CancellationChange) => void, options: WatchOptions = {}): Promise<CancellationWatch> {
    this.assertUsable();
    if (typeof listener !== "function") throw new StoreError("invalid_option", "watchCancellations needs a listener function");
    const checked = checkWatchOptions(options);
    const watch = new Watch(listener, checked.onError);
    // Registered first: a change made while the store starts watching others is not missed.
    this.#watches.add(watch);
    try {
      watch.stop = await this.watchOthersChecked((change) => watch.deliver(change), checked);
    } catch (error) {
      this.#watches.delete(watch);
      throw error;
    }
    if (this.#closed) await this.#stopWatch(watch);
    return { close: () => this.#stopWatch(watch) };
  }

  async #stopWatch(watch: Watch): Promise<void> {
    if (!this.#watches.delete(watch)) return;
    const stop = watch.stop;
    watch.stop = undefined;
    try {
      await stop?.();
    } catch (error) {
      reportTo(watch.onError, error);
    }
  }

  /**
   * Reports a change made through this store object to every watch, synchronously. The base
   * class calls it after `createCancellation` and `deleteCancellation`; a store calls it for other
   * ways it creates cancellations (`createShardedCancellation`).
   */
  protected cancellationsChanged(change: CancellationChange): void {
    for (const watch of this.#watches) watch.deliver(change);
  }

  /**
   * Releases the store's resources ({@link closeChecked}) once, after stopping every watch; later
   * calls of any method reject with a `closed` {@link StoreError}. Idempotent: every call waits for
   * the same release.
   */
  async close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#closed = true;
      this.#closing = (async () => {
        await Promise.all([...this.#watches].map((watch) => this.#stopWatch(watch)));
        await this.closeChecked();
      })();
    }
    return this.#closing;
  }

  /**
   * Starts watching for changes to cancellations made by other store objects and processes, each
   * reported through `emit` (see {@link RunStore.watchCancellations}; changes made through this
   * object are reported by the base class). Resolves once changes committed from then on will be
   * reported, with the function that stops it. A store that shares its data with nobody (the
   * memory store) returns a no-op.
   */
  protected abstract watchOthersChecked(emit: (change: CancellationChange) => void, options: CheckedWatchOptions): Promise<StopWatching>;
  /** Stores valid runs (each replacing a stored run with its id; a later duplicate wins). */
  protected abstract insertRunsChecked(runs: readonly RunRecord[]): Promise<void>;
  /** As {@link RunStore.insertRunStream}, with batches of valid runs (an invalid one throws while iterating). */
  protected abstract insertRunStreamChecked(batches: AsyncIterable<readonly RunRecord[]>): Promise<number>;
  /** The run with a valid id, or `undefined`. */
  protected abstract getRunChecked(id: string): Promise<RunRecord | undefined>;
  /** As {@link RunStore.setRunStatus}, with distinct valid ids and a valid status. */
  protected abstract setRunStatusChecked(ids: readonly string[], status: RunStatus, force: boolean): Promise<number>;
  /** As {@link RunStore.listRunLocations}, with a checked query (its `limit` set). */
  protected abstract listRunLocationsChecked(query: CheckedRunLocationQuery): Promise<RunLocation[]>;
  /** As {@link RunStore.scanRuns}, with a checked query. */
  protected abstract scanRunsChecked(query: CheckedScanQuery): Promise<ScanPage>;
  /** As {@link RunStore.listFunctions}, for a valid environment id. */
  protected abstract listFunctionsChecked(environmentId: string): Promise<FunctionSummary[]>;
  /** As {@link RunStore.commitBatch}, with a checked batch (distinct run ids). */
  protected abstract commitBatchChecked(batch: CommitBatch): Promise<CommitResult>;
  /**
   * As {@link RunStore.leaseCancellation}, with a valid id, owner and lease length: one atomic step
   * (take when free, expired or already `owner`'s; else report the holder).
   */
  protected abstract leaseCancellationChecked(id: string, owner: string, leaseMs: number): Promise<CancellationLeaseResult>;
  /** As {@link RunStore.releaseCancellation}, with a valid id and owner. */
  protected abstract releaseCancellationChecked(id: string, owner: string): Promise<boolean>;
  /** As {@link RunStore.createCancellation}, with a checked record (frozen) and idempotency. */
  protected abstract createCancellationChecked(record: CancellationRecord, idempotency: Idempotency | undefined): Promise<CreateResult>;
  /** As {@link RunStore.getCancellation}, with a valid id and, if given, a non-empty environment. */
  protected abstract getCancellationChecked(id: string, environmentId: string | undefined): Promise<CancellationRecord | undefined>;
  /** As {@link RunStore.listCancellations}, with checked options. */
  protected abstract listCancellationsChecked(options: CheckedListOptions): Promise<CancellationPage>;
  /** As {@link RunStore.updateCancellation}, with a valid id and a checked checkpoint. */
  protected abstract updateCancellationChecked(id: string, checkpoint: Checkpoint): Promise<boolean>;
  /** As {@link RunStore.updateCancellationSettings}, with a valid id and checked (frozen) settings. */
  protected abstract updateCancellationSettingsChecked(id: string, settings: CancellationSettings): Promise<boolean>;
  /** As {@link RunStore.deleteCancellation}, with a valid id and, if given, a non-empty environment. */
  protected abstract deleteCancellationChecked(id: string, environmentId: string | undefined): Promise<boolean>;
  /** As {@link RunStore.findByIdempotencyKey}, with strings. */
  protected abstract findByIdempotencyKeyChecked(environmentId: string, key: string): Promise<KeyedRecord | undefined>;
  /** Releases connections, file handles or memory; called once. */
  protected abstract closeChecked(): Promise<void>;
}

/**
 * A {@link BaseRunStore} that also checks the input of the {@link ShardedRunStore} methods.
 */
export abstract class BaseShardedRunStore extends BaseRunStore implements ShardedRunStore {
  /** {@inheritDoc ShardedRunStore.scanRuns} */
  override async scanRuns(query: BoundedScanQuery): Promise<ScanPage> {
    return super.scanRuns(query);
  }

  /** {@inheritDoc ShardedRunStore.planShards} */
  async planShards(window: ShardWindow, count: number): Promise<ShardBounds[]> {
    this.assertUsable();
    const k = checkShardCount(count);
    return this.planShardsChecked(normalizeShardWindow(window), k);
  }

  /** {@inheritDoc ShardedRunStore.createShardedCancellation} */
  async createShardedCancellation(record: CancellationRecord, count: number, idempotency?: Idempotency): Promise<CreateResult> {
    this.assertUsable();
    const k = checkShardCount(count);
    const valid = normalizeCancellationRecord(record);
    if (idempotency !== undefined) checkIdempotency(idempotency);
    const result = await this.createShardedCancellationChecked(valid, k, idempotency);
    if (result.created) this.cancellationsChanged({ kind: "created", record: result.record });
    return result;
  }

  /** {@inheritDoc ShardedRunStore.leaseShard} */
  async leaseShard(request: {
    readonly workerId: string;
    readonly leaseMs: number;
    readonly cancellationId?: string;
    readonly environmentId?: string;
  }): Promise<ShardLeaseResult> {
    this.assertUsable();
    const valid = normalizeLeaseRequest(request);
    return valid === undefined ? { unfinished: 0 } : this.leaseShardChecked(valid);
  }

  /** {@inheritDoc ShardedRunStore.renewShardLease} */
  async renewShardLease(cancellationId: string, shardNo: number, workerId: string, leaseMs: number): Promise<boolean> {
    this.assertUsable();
    checkShardNo(shardNo, "invalid_option");
    checkWorkerId(workerId, "invalid_option");
    checkLeaseMs(leaseMs, "invalid_option");
    if (!isValidId(cancellationId)) return false;
    return this.renewShardLeaseChecked(cancellationId, shardNo, workerId, leaseMs);
  }

  /** {@inheritDoc ShardedRunStore.commitShardBatch} */
  async commitShardBatch(commit: ShardCommit): Promise<ShardCommitResult> {
    this.assertUsable();
    return this.commitShardBatchChecked(normalizeShardCommit(commit));
  }

  /** {@inheritDoc ShardedRunStore.listShards} */
  async listShards(cancellationId: string): Promise<ShardRecord[]> {
    this.assertUsable();
    if (!isValidId(cancellationId)) return [];
    return this.listShardsChecked(cancellationId);
  }

  /** As {@link ShardedRunStore.planShards}, with a checked window and count. */
  protected abstract planShardsChecked(window: CheckedShardWindow, count: number): Promise<ShardBounds[]>;
  /** As {@link ShardedRunStore.createShardedCancellation}, with checked arguments. */
  protected abstract createShardedCancellationChecked(
    record: CancellationRecord,
    count: number,
    idempotency: Idempotency | undefined,
  ): Promise<CreateResult>;
  /** As {@link ShardedRunStore.leaseShard}, with a checked request. */
  protected abstract leaseShardChecked(request: CheckedLeaseRequest): Promise<ShardLeaseResult>;
  /** As {@link ShardedRunStore.renewShardLease}, with checked arguments. */
  protected abstract renewShardLeaseChecked(cancellationId: string, shardNo: number, workerId: string, leaseMs: number): Promise<boolean>;
  /** As {@link ShardedRunStore.commitShardBatch}, with a checked commit (distinct run ids). */
  protected abstract commitShardBatchChecked(commit: ShardCommit): Promise<ShardCommitResult>;
  /** As {@link ShardedRunStore.listShards}, with a valid id. */
  protected abstract listShardsChecked(cancellationId: string): Promise<ShardRecord[]>;
}
