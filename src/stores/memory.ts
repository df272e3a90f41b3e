/**
 * An in-memory {@link RunStore}: for tests, embedding and benchmarks.
 *
 * Runs are kept per `(environment, app, function)` in an array sorted by `(startedAt, id)`, so a
 * scan page is two binary searches and one `slice`. Stored records are deep-frozen copies: scans
 * hand out the stored objects themselves (no per-run allocation), and nobody can change them
 * behind the store's back. A status change replaces the record object in both indexes.
 *
 * Every method runs synchronously to completion inside its promise, so each call is atomic with
 * respect to every other call: `commitBatch` needs no lock.
 *
 * @module
 */
import { BaseRunStore, type CheckedListOptions, type Idempotency, type KeyedRecord, type StopWatching } from "./base.js";
import type { CheckedScanQuery } from "./checks.js";
import type { CheckedRunLocationQuery } from "./location-checks.js";
import {
  StoreError,
  compareCursor,
  isNonTerminal,
  zeroStatusCounts,
  type CancellationLeaseResult,
  type CancellationPage,
  type CancellationRecord,
  type CancellationSettings,
  type RunLocation,
  type Checkpoint,
  type CommitBatch,
  type CommitResult,
  type CreateResult,
  type Cursor,
  type FunctionSummary,
  type RunRecord,
  type RunStatus,
  type ScanPage,
} from "./types.js";

/** Options of {@link MemoryRunStore}. */
export interface MemoryRunStoreOptions {
  /** Clock for `updatedAt` of cancellation records, epoch ms. Default `Date.now`. */
  readonly now?: () => number;
}

/** The runs of one `(environment, app, function)`. */
interface Partition {
  /** Sorted by `(startedAt, id)` unless `unsorted`; may hold replaced records while `stale`. */
  runs: RunRecord[];
  /** Some insert broke the order: sort before the next binary search. */
  unsorted: boolean;
  /** Some record in `runs` was replaced by an insert elsewhere: filter before use. */
  stale: boolean;
}

/** Orders names by UTF-16 code units: the UTF-8 byte order of SQL `COLLATE "C"` and SQLite's `BINARY` for every character outside U+E000–U+FFFF vs. astral planes. */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** First index whose run starts at or after `time`. */
function lowerBoundTime(runs: readonly RunRecord[], time: number): number {
  let lo = 0;
  let hi = runs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (runs[mid]!.startedAt < time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Compares strings by code points (the order of their UTF-8 bytes), not by UTF-16 units. */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

/** First index whose run starts after `time`. */
function upperBoundTime(runs: readonly RunRecord[], time: number): number {
  let lo = 0;
  let hi = runs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (runs[mid]!.startedAt <= time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose run lies strictly after `cursor` in `(startedAt, id)` order. */
function upperBoundCursor(runs: readonly RunRecord[], cursor: Cursor): number {
  let lo = 0;
  let hi = runs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareCursor(runs[mid]!, cursor) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A stored run with a new status; `cancellationId` only when the new status is `cancelled`. */
function withStatus(run: RunRecord, status: RunStatus, cancellationId: string | undefined): RunRecord {
  const next: {
    id: string;
    environmentId?: string;
    appId: string;
    functionId: string;
    startedAt: number;
    status: RunStatus;
    event: RunRecord["event"];
    cancellationId?: string;
  } = {
    id: run.id,
    environmentId: run.environmentId!,
    appId: run.appId,
    functionId: run.functionId,
    startedAt: run.startedAt,
    status,
    event: run.event,
  };
  if (status === "cancelled" && cancellationId !== undefined) next.cancellationId = cancellationId;
  return Object.freeze(next);
}

function applyCheckpoint(record: CancellationRecord, checkpoint: Checkpoint, now: number): CancellationRecord {
  const cursor = checkpoint.cursor ?? record.cursor;
  const next = {
    ...record,
    status: checkpoint.status,
    counts: checkpoint.counts,
    updatedAt: Math.max(record.updatedAt, now),
  };
  return Object.freeze(cursor === undefined ? next : { ...next, cursor });
}

/**
 * A {@link RunStore} held in process memory. Fast: a scan page costs two binary searches and a
 * `slice` of stored (frozen) records.
 *
 * Idempotency keys are scoped by environment; deleting a cancellation frees its key, so the key
 * can start a new cancellation afterwards.
 */
export class MemoryRunStore extends BaseRunStore {
  readonly #now: () => number;
  #runsById = new Map<string, RunRecord>();
  /** environment → app → function → partition. */
  #partitions = new Map<string, Map<string, Map<string, Partition>>>();
  #cancellations = new Map<string, CancellationRecord>();
  /** `JSON.stringify([environmentId, key])` → the record created under it and its request hash. */
  #idempotency = new Map<string, { readonly id: string; readonly requestHash: string }>();
  /** Cancellation id → its idempotency map key, to free the key on delete. */
  #keyOfCancellation = new Map<string, string>();
  /** Cancellation id → the owner lease of its job (see `leaseCancellation`). */
  #leases = new Map<string, { readonly owner: string; readonly expiresAt: number }>();
  /** Cancellation ids newest first; rebuilt lazily after a create or delete. */
  #sortedCancellationIds: string[] | undefined = [];

  /** @param options - See {@link MemoryRunStoreOptions}. */
  constructor(options: MemoryRunStoreOptions = {}) {
    // Scans hand out the stored objects, so the store keeps frozen copies of what it is given.
    super({ copyRuns: true });
    this.#now = options.now ?? Date.now;
  }

  /** Number of runs stored. */
  get runCount(): number {
    return this.#runsById.size;
  }

  #partitionOf(run: RunRecord): Partition {
    let apps = this.#partitions.get(run.environmentId!);
    if (apps === undefined) {
      apps = new Map();
      this.#partitions.set(run.environmentId!, apps);
    }
    let functions = apps.get(run.appId);
    if (functions === undefined) {
      functions = new Map();
      apps.set(run.appId, functions);
    }
    let partition = functions.get(run.functionId);
    if (partition === undefined) {
      partition = { runs: [], unsorted: false, stale: false };
      functions.set(run.functionId, partition);
    }
    return partition;
  }

  /** Drops replaced records and restores the order. */
  #ready(partition: Partition): Partition {
    if (partition.stale) {
      const byId = this.#runsById;
      partition.runs = partition.runs.filter((run) => byId.get(run.id) === run);
      partition.stale = false;
    }
    if (partition.unsorted) {
      partition.runs.sort(compareCursor);
      partition.unsorted = false;
    }
    return partition;
  }

  /** Swaps a stored record for its new version in both indexes. */
  #replace(old: RunRecord, next: RunRecord): void {
    this.#runsById.set(next.id, next);
    const partition = this.#ready(this.#partitionOf(old));
    const runs = partition.runs;
    const index = upperBoundCursor(runs, old) - 1;
    if (index < 0 || runs[index] !== old) throw new Error(`memory store index out of sync for run ${old.id}`);
    runs[index] = next;
  }

  protected override async insertRunStreamChecked(batches: AsyncIterable<readonly RunRecord[]>): Promise<number> {
    // All or nothing: the runs are held until the stream ends (this store keeps them in memory anyway).
    const all: RunRecord[] = [];
    for await (const batch of batches) for (const run of batch) all.push(run);
    await this.insertRunsChecked(all);
    return all.length;
  }

  protected override async insertRunsChecked(records: readonly RunRecord[]): Promise<void> {
    let previous: RunRecord | undefined;
    let partition: Partition | undefined;
    for (const record of records) {
      const old = this.#runsById.get(record.id);
      if (old !== undefined) this.#partitionOf(old).stale = true;
      this.#runsById.set(record.id, record);
      // Bulk inserts mostly stay in one function: skip the three map lookups then.
      if (
        partition === undefined ||
        previous!.functionId !== record.functionId ||
        previous!.appId !== record.appId ||
        previous!.environmentId !== record.environmentId
      ) {
        partition = this.#partitionOf(record);
      }
      previous = record;
      const list = partition.runs;
      if (!partition.unsorted && list.length > 0 && compareCursor(list[list.length - 1]!, record) >= 0) partition.unsorted = true;
      list.push(record);
    }
  }

  protected override async getRunChecked(id: string): Promise<RunRecord | undefined> {
    return this.#runsById.get(id);
  }

  protected override async setRunStatusChecked(ids: readonly string[], status: RunStatus, force: boolean): Promise<number> {
    let changed = 0;
    for (const id of ids) {
      const run = this.#runsById.get(id);
      if (run === undefined || run.status === status) continue;
      if (!isNonTerminal(run.status) && !force) continue;
      this.#replace(run, withStatus(run, status, run.cancellationId));
      changed++;
    }
    return changed;
  }

  protected override async listRunLocationsChecked(q: CheckedRunLocationQuery): Promise<RunLocation[]> {
    const out: RunLocation[] = [];
    // Code point order, which is the byte order of UTF-8 that the SQL stores sort by.
    const sorted = <T>(map: Map<string, T>): [string, T][] => [...map.entries()].sort(([a], [b]) => compareCodePoints(a, b));
    for (const [environmentId, apps] of sorted(this.#partitions)) {
      for (const [appId, functions] of sorted(apps)) {
        for (const [functionId, partition] of sorted(functions)) {
          const runs = this.#ready(partition).runs;
          const start = q.startedAfter === undefined ? 0 : lowerBoundTime(runs, q.startedAfter);
          if (start < upperBoundTime(runs, q.startedBefore)) {
            out.push({ environmentId, appId, functionId });
            if (out.length === q.limit) return out;
          }
        }
      }
    }
    return out;
  }

  protected override async scanRunsChecked(q: CheckedScanQuery): Promise<ScanPage> {
    const stored = this.#partitions.get(q.environmentId)?.get(q.appId)?.get(q.functionId);
    if (stored === undefined) return { runs: [] };
    const runs = this.#ready(stored).runs;
    let start = q.startedAfter === undefined ? 0 : lowerBoundTime(runs, q.startedAfter);
    if (q.after !== undefined) start = Math.max(start, upperBoundCursor(runs, q.after));
    const end = upperBoundTime(runs, q.startedBefore);
    if (start >= end) return { runs: [] };
    const stop = Math.min(end, start + q.limit);
    const page = runs.slice(start, stop);
    if (stop === end) return { runs: page };
    const last = page[page.length - 1]!;
    return { runs: page, next: { startedAt: last.startedAt, id: last.id } };
  }

  /** Names sorted in byte order, as the SQL stores sort them. */
  protected override async listFunctionsChecked(environmentId: string): Promise<FunctionSummary[]> {
    const out: FunctionSummary[] = [];
    const apps = this.#partitions.get(environmentId);
    if (apps === undefined) return out;
    for (const appId of [...apps.keys()].sort(byteOrder)) {
      const functions = apps.get(appId)!;
      for (const functionId of [...functions.keys()].sort(byteOrder)) {
        const runs = this.#ready(functions.get(functionId)!).runs;
        if (runs.length === 0) continue;
        const counts = zeroStatusCounts();
        for (const run of runs) counts[run.status]++;
        out.push({ appId, functionId, runs: counts, total: runs.length, firstStartedAt: runs[0]!.startedAt, lastStartedAt: runs[runs.length - 1]!.startedAt });
      }
    }
    return out;
  }

  protected override async commitBatchChecked(b: CommitBatch): Promise<CommitResult> {
    const record = this.#cancellations.get(b.cancellationId);
    if (record === undefined) return { ok: false, reason: "gone" };
    if (b.owner !== undefined && this.#leases.get(b.cancellationId)?.owner !== b.owner) return { ok: false, reason: "lease_lost" };
    const cancelled: string[] = [];
    for (const id of b.runIds) {
      const run = this.#runsById.get(id);
      if (
        run === undefined ||
        !isNonTerminal(run.status) ||
        run.functionId !== record.functionId ||
        run.appId !== record.appId ||
        run.environmentId !== record.environmentId
      ) {
        continue;
      }
      this.#replace(run, withStatus(run, "cancelled", record.id));
      cancelled.push(id);
    }
    this.#cancellations.set(record.id, applyCheckpoint(record, b.checkpoint, this.#now()));
    return { ok: true, cancelled };
  }

  protected override async createCancellationChecked(stored: CancellationRecord, idempotency: Idempotency | undefined): Promise<CreateResult> {
    let mapKey: string | undefined;
    if (idempotency !== undefined) {
      mapKey = JSON.stringify([stored.environmentId, idempotency.key]);
      const existing = this.#idempotency.get(mapKey);
      if (existing !== undefined) {
        return { created: false, record: this.#cancellations.get(existing.id)!, requestHash: existing.requestHash };
      }
    }
    if (this.#cancellations.has(stored.id)) {
      throw new StoreError("duplicate_cancellation", `a cancellation with id ${stored.id} already exists`);
    }
    this.#cancellations.set(stored.id, stored);
    this.#sortedCancellationIds = undefined;
    if (mapKey !== undefined && idempotency !== undefined) {
      this.#idempotency.set(mapKey, { id: stored.id, requestHash: idempotency.requestHash });
      this.#keyOfCancellation.set(stored.id, mapKey);
    }
    return { created: true, record: stored };
  }

  protected override async getCancellationChecked(id: string, environmentId: string | undefined): Promise<CancellationRecord | undefined> {
    const record = this.#cancellations.get(id);
    if (record === undefined || (environmentId !== undefined && record.environmentId !== environmentId)) return undefined;
    return record;
  }

  protected override async listCancellationsChecked(options: CheckedListOptions): Promise<CancellationPage> {
    const limit = options.limit;
    this.#sortedCancellationIds ??= [...this.#cancellations.keys()].sort().reverse();
    const ids = this.#sortedCancellationIds;
    let start = 0;
    if (options.after !== undefined) {
      // ids are sorted descending: find the first id strictly below `after`.
      const after = options.after;
      let lo = 0;
      let hi = ids.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (ids[mid]! >= after) lo = mid + 1;
        else hi = mid;
      }
      start = lo;
    }
    const records: CancellationRecord[] = [];
    for (let i = start; i < ids.length; i++) {
      const record = this.#cancellations.get(ids[i]!)!;
      if (options.environmentId !== undefined && record.environmentId !== options.environmentId) continue;
      if (records.length === limit) return { records, next: records[records.length - 1]!.id };
      records.push(record);
    }
    return { records };
  }

  protected override async updateCancellationChecked(id: string, next: Checkpoint): Promise<boolean> {
    const record = this.#cancellations.get(id);
    if (record === undefined) return false;
    this.#cancellations.set(id, applyCheckpoint(record, next, this.#now()));
    return true;
  }

  protected override async updateCancellationSettingsChecked(id: string, settings: CancellationSettings): Promise<boolean> {
    const record = this.#cancellations.get(id);
    if (record === undefined) return false;
    this.#cancellations.set(id, Object.freeze({ ...record, settings, updatedAt: Math.max(record.updatedAt, this.#now()) }));
    return true;
  }

  protected override async deleteCancellationChecked(id: string, environmentId: string | undefined): Promise<boolean> {
    const record = this.#cancellations.get(id);
    if (record === undefined || (environmentId !== undefined && record.environmentId !== environmentId)) return false;
    this.#cancellations.delete(id);
    this.#leases.delete(id);
    this.#sortedCancellationIds = undefined;
    const mapKey = this.#keyOfCancellation.get(id);
    if (mapKey !== undefined) {
      this.#idempotency.delete(mapKey);
      this.#keyOfCancellation.delete(id);
    }
    return true;
  }

  protected override async leaseCancellationChecked(id: string, owner: string, leaseMs: number): Promise<CancellationLeaseResult> {
    if (!this.#cancellations.has(id)) return { ok: false, reason: "gone" };
    const now = this.#now();
    const held = this.#leases.get(id);
    if (held !== undefined && held.owner !== owner && held.expiresAt >= now) return { ok: false, reason: "held", owner: held.owner, expiresAt: held.expiresAt };
    const expiresAt = now + leaseMs;
    this.#leases.set(id, { owner, expiresAt });
    return { ok: true, expiresAt };
  }

  protected override async releaseCancellationChecked(id: string, owner: string): Promise<boolean> {
    if (this.#leases.get(id)?.owner !== owner) return false;
    this.#leases.delete(id);
    return true;
  }

  protected override async findByIdempotencyKeyChecked(environmentId: string, key: string): Promise<KeyedRecord | undefined> {
    const entry = this.#idempotency.get(JSON.stringify([environmentId, key]));
    if (entry === undefined) return undefined;
    return { record: this.#cancellations.get(entry.id)!, requestHash: entry.requestHash };
  }

  /** Drops every run and record. */
  /** Nobody else writes to this store's data: only its own changes are reported. */
  protected override async watchOthersChecked(): Promise<StopWatching> {
    return async () => {};
  }

  protected override async closeChecked(): Promise<void> {
    this.#runsById = new Map();
    this.#partitions = new Map();
    this.#cancellations = new Map();
    this.#idempotency = new Map();
    this.#keyOfCancellation = new Map();
  }
}
