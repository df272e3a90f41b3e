/**
 * Test support for the planner: store factories, an instrumented store wrapper, and an oracle
 * that decides each run independently of the planner.
 *
 * @module
 */
import fc from "fast-check";
import { compile } from "../../src/expr/program.js";
import { MemoryRunStore } from "../../src/stores/memory.js";
import { SqliteRunStore } from "../../src/stores/sqlite.js";
import {
  DEFAULT_ENVIRONMENT_ID,
  RUN_STATUSES,
  compareCursor,
  isNonTerminal,
  type CancellationChange,
  type CancellationLeaseResult,
  type CancellationWatch,
  type WatchOptions,
  type CancellationPage,
  type CancellationRecord,
  type CancellationSettings,
  type RunLocation,
  type RunLocationQuery,
  type Checkpoint,
  type CommitBatch,
  type CommitResult,
  type CreateResult,
  type Cursor,
  type FunctionSummary,
  type OutcomeCounts,
  type RunRecord,
  type RunStatus,
  type RunStore,
  type ScanPage,
  type ScanQuery,
} from "../../src/stores/types.js";
import { BASE_TIME } from "../stores/fixtures.js";

export { BASE_TIME };

/** The stores every planner property runs against. */
export const STORE_FACTORIES: readonly { readonly name: string; readonly make: () => RunStore }[] = [
  { name: "memory", make: () => new MemoryRunStore() },
  { name: "sqlite", make: () => new SqliteRunStore({ path: ":memory:" }) },
];

/** ISO text of epoch ms. */
export const iso = (ms: number): string => new Date(ms).toISOString();

/** A request body over the default app and function. */
export function body(window: { after?: number; before: number }, expression?: string, fn = "fn"): Record<string, unknown> {
  const out: Record<string, unknown> = { app_id: "app", function_id: fn, started_before: iso(window.before) };
  if (window.after !== undefined) out["started_after"] = iso(window.after);
  if (expression !== undefined) out["if"] = expression;
  return out;
}

/** What the oracle expects for one run. */
export type Expected = "cancel" | "skipped_terminal" | "not_matched" | "expression_error" | "non_boolean";

/** One run of the window with the oracle's verdict, in `(startedAt, id)` order. */
export interface OracleEntry {
  readonly run: RunRecord;
  readonly expected: Expected;
}

/**
 * The oracle: selects the window by hand and classifies each run with `evaluateResult`
 * (cross-checked against `Program.matches`), independently of the planner's `decide` loop.
 */
export function oracle(
  runs: readonly RunRecord[],
  request: { readonly after?: number; readonly before: number; readonly expression?: string; readonly functionId?: string; readonly environmentId?: string },
): OracleEntry[] {
  const program = request.expression === undefined ? undefined : compile(request.expression, { dialect: "inngest" });
  const env = request.environmentId ?? DEFAULT_ENVIRONMENT_ID;
  const fn = request.functionId ?? "fn";
  const selected = runs
    .filter(
      (run) =>
        (run.environmentId ?? DEFAULT_ENVIRONMENT_ID) === env &&
        run.appId === "app" &&
        run.functionId === fn &&
        run.startedAt <= request.before &&
        (request.after === undefined || run.startedAt >= request.after),
    )
    .sort(compareCursor);
  return selected.map((run) => {
    let verdict: "match" | "not_matched" | "expression_error" | "non_boolean" = "match";
    if (program !== undefined) {
      const result = program.evaluateResult({ event: run.event });
      verdict = !result.ok ? "expression_error" : result.value === true ? "match" : result.value === false ? "not_matched" : "non_boolean";
      if ((verdict === "match") !== program.matches({ event: run.event })) throw new Error("oracle: matches() disagrees with evaluateResult()");
    }
    if (verdict !== "match") return { run, expected: verdict };
    return { run, expected: isNonTerminal(run.status) ? "cancel" : "skipped_terminal" };
  });
}

/** Outcome counts implied by oracle entries. */
export function oracleCounts(entries: readonly OracleEntry[]): OutcomeCounts {
  const counts = { scanned: 0, cancelled: 0, skipped_terminal: 0, not_matched: 0, expression_error: 0, non_boolean: 0 };
  for (const { expected } of entries) {
    counts.scanned++;
    if (expected === "cancel") counts.cancelled++;
    else counts[expected]++;
  }
  return counts;
}

/** Ids of every run a cancellation marked, sorted. */
export async function cancelledBy(store: RunStore, runs: readonly RunRecord[], cancellationId: string): Promise<string[]> {
  const ids: string[] = [];
  for (const run of runs) {
    const stored = await store.getRun(run.id);
    if (stored?.cancellationId === cancellationId) {
      if (stored.status !== "cancelled") throw new Error(`run ${run.id} carries the cancellation id but is ${stored.status}`);
      ids.push(run.id);
    }
  }
  return ids.sort();
}

/** Statuses of every run, by id. */
export async function statusesOf(store: RunStore, runs: readonly RunRecord[]): Promise<Map<string, RunStatus>> {
  const out = new Map<string, RunStatus>();
  for (const run of runs) out.set(run.id, (await store.getRun(run.id))!.status);
  return out;
}

/** Hooks of {@link HookedStore}. */
export interface StoreHooks {
  /** After a page is read, before the planner gets it; may change the store or the page. */
  afterScan?(query: ScanQuery, page: ScanPage, inner: RunStore): Promise<ScanPage | void> | ScanPage | void;
  /** Before a batch is committed; may throw. */
  beforeCommit?(batch: CommitBatch, inner: RunStore): Promise<void> | void;
  /** After a batch is committed; may throw (the commit has happened: a lost acknowledgement). */
  afterCommit?(batch: CommitBatch, result: CommitResult, inner: RunStore): Promise<void> | void;
}

/** A store that delegates to another, with hooks and instrumentation. */
export class HookedStore implements RunStore {
  /** Largest page handed to the planner and largest `limit` it asked for. */
  maxPageRuns = 0;
  maxLimit = 0;
  /** Most scans running at once. */
  maxScansInFlight = 0;
  scans = 0;
  commits: CommitBatch[] = [];
  #inFlight = 0;

  constructor(
    readonly inner: RunStore,
    readonly hooks: StoreHooks = {},
  ) {}

  insertRuns(runs: readonly RunRecord[]): Promise<void> {
    return this.inner.insertRuns(runs);
  }
  insertRunStream(batches: AsyncIterable<readonly RunRecord[]>): Promise<number> {
    return this.inner.insertRunStream(batches);
  }
  listRunLocations(query: RunLocationQuery): Promise<RunLocation[]> {
    return this.inner.listRunLocations(query);
  }
  leaseCancellation(id: string, owner: string, leaseMs: number): Promise<CancellationLeaseResult> {
    return this.inner.leaseCancellation(id, owner, leaseMs);
  }
  releaseCancellation(id: string, owner: string): Promise<boolean> {
    return this.inner.releaseCancellation(id, owner);
  }
  getRun(id: string): Promise<RunRecord | undefined> {
    return this.inner.getRun(id);
  }
  setRunStatus(ids: readonly string[], status: RunStatus, options?: { readonly force?: boolean }): Promise<number> {
    return this.inner.setRunStatus(ids, status, options);
  }
  listFunctions(options?: { readonly environmentId?: string }): Promise<FunctionSummary[]> {
    return this.inner.listFunctions(options);
  }
  async scanRuns(query: ScanQuery): Promise<ScanPage> {
    this.#inFlight++;
    this.maxScansInFlight = Math.max(this.maxScansInFlight, this.#inFlight);
    try {
      this.scans++;
      this.maxLimit = Math.max(this.maxLimit, query.limit);
      let page = await this.inner.scanRuns(query);
      const changed = await this.hooks.afterScan?.(query, page, this.inner);
      if (changed !== undefined) page = changed;
      this.maxPageRuns = Math.max(this.maxPageRuns, page.runs.length);
      return page;
    } finally {
      this.#inFlight--;
    }
  }
  async commitBatch(batch: CommitBatch): Promise<CommitResult> {
    await this.hooks.beforeCommit?.(batch, this.inner);
    const result = await this.inner.commitBatch(batch);
    this.commits.push(batch);
    await this.hooks.afterCommit?.(batch, result, this.inner);
    return result;
  }
  createCancellation(record: CancellationRecord, idempotency?: { readonly key: string; readonly requestHash: string }): Promise<CreateResult> {
    return this.inner.createCancellation(record, idempotency);
  }
  getCancellation(id: string, environmentId?: string): Promise<CancellationRecord | undefined> {
    return this.inner.getCancellation(id, environmentId);
  }
  listCancellations(options?: { readonly environmentId?: string; readonly limit?: number; readonly after?: string }): Promise<CancellationPage> {
    return this.inner.listCancellations(options);
  }
  updateCancellation(id: string, checkpoint: Checkpoint): Promise<boolean> {
    return this.inner.updateCancellation(id, checkpoint);
  }
  updateCancellationSettings(id: string, settings: CancellationSettings): Promise<boolean> {
    return this.inner.updateCancellationSettings(id, settings);
  }
  deleteCancellation(id: string, environmentId?: string): Promise<boolean> {
    return this.inner.deleteCancellation(id, environmentId);
  }
  findByIdempotencyKey(environmentId: string, key: string): Promise<{ readonly record: CancellationRecord; readonly requestHash: string } | undefined> {
    return this.inner.findByIdempotencyKey(environmentId, key);
  }
  watchCancellations(listener: (change: CancellationChange) => void, options?: WatchOptions): Promise<CancellationWatch> {
    return this.inner.watchCancellations(listener, options);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * `event.data.k.matches(event.data.r)` for the patterns the runs hold (`^a`, `^b`, `^[ab]`, and `[`,
 * an evaluation error), the pattern chosen by the data: a pattern read whole from the data is
 * refused as too costly to evaluate (see docs/reliability-cost.md).
 */
export const PATTERN_FROM_DATA =
  "event.data.k.matches(event.data.r == '^a' ? '^a' : event.data.r == '^b' ? '^b' : event.data.r == '[' ? '[' : '^[ab]')";

/** Expressions the properties draw from: equality, regex, evaluation errors, non-booleans, none. */
export const EXPRESSIONS: readonly (string | undefined)[] = [
  undefined,
  "event.data.k == 'a'",
  "event.data.k.matches('^[ab]$')",
  "int(event.data.s) > 3",
  PATTERN_FROM_DATA,
  "event.data.v",
  "event.data.k == 'a' || int(event.data.s) >= 5",
];

/** A small run for property tests; `t` is the offset from {@link BASE_TIME}. */
export interface RunSpec {
  readonly t: number;
  readonly k: string;
  readonly s: string;
  /** A regular expression, or `[` (invalid: an evaluation error). */
  readonly r: string;
  readonly v: unknown;
  readonly status: RunStatus;
  readonly fn: string;
  readonly env: string;
  readonly salt: string;
}

/** Runs crowded into a few milliseconds (ties at page boundaries), some of other functions and environments. */
export const runSpecArb: fc.Arbitrary<RunSpec> = fc.record({
  t: fc.integer({ min: 0, max: 4 }),
  k: fc.constantFrom("a", "b", "c"),
  s: fc.constantFrom("1", "4", "7", "x"),
  r: fc.constantFrom("^a", "^[ab]", "["),
  v: fc.constantFrom<unknown>(true, false, 1, "x", null),
  status: fc.constantFrom(...RUN_STATUSES),
  fn: fc.constantFrom("fn", "fn", "fn", "other"),
  env: fc.constantFrom(DEFAULT_ENVIRONMENT_ID, DEFAULT_ENVIRONMENT_ID, DEFAULT_ENVIRONMENT_ID, "staging"),
  salt: fc.string({ unit: fc.constantFrom(..."0123456789ABCDEFGHJKMNPQRSTVWXYZ"), minLength: 1, maxLength: 3 }),
});

/** Builds runs from specs; ids are unique and sort in no relation to the spec order. */
export function runsFromSpecs(specs: readonly RunSpec[]): RunRecord[] {
  return specs.map((spec, i) => ({
    id: `${spec.salt}${String(i).padStart(4, "0")}`,
    environmentId: spec.env,
    appId: "app",
    functionId: spec.fn,
    startedAt: BASE_TIME + spec.t,
    status: spec.status,
    event: { name: "test/event", data: { k: spec.k, s: spec.s, r: spec.r, ...(spec.v === null ? {} : { v: spec.v }) } },
  }));
}

/** A window over the crowded milliseconds: bounds may coincide, `after` may be absent. */
export const windowArb: fc.Arbitrary<{ after?: number; before: number }> = fc
  .tuple(fc.option(fc.integer({ min: -1, max: 5 }), { nil: undefined }), fc.integer({ min: -1, max: 5 }))
  .map(([a, b]) => {
    if (a === undefined) return { before: BASE_TIME + b };
    const [lo, hi] = a <= b ? [a, b] : [b, a];
    return { after: BASE_TIME + lo, before: BASE_TIME + hi };
  });

/** Whether a run lies at or before a cursor. */
export function atOrBefore(run: RunRecord, cursor: Cursor | undefined): boolean {
  return cursor !== undefined && compareCursor(run, cursor) <= 0;
}
