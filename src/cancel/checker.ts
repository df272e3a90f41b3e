/**
 * `CancellationChecker`: the lazy half of bulk cancellation. An executor asks, before every step
 * of a run, whether a cancellation applies to it — as Inngest's executor does, but without reading
 * and evaluating every cancellation of the function on each step.
 *
 * The checker keeps, per `(environment, app, function)`, the store's cancellations (every stored
 * one: deleted ones are gone from the store and dry runs are never stored) in two parts: those
 * without an `if` in a {@link WindowIndex} (the oldest window holding a time, in one binary
 * search), and those with an `if` in a {@link Matcher} of the `inngest` dialect (only the `if`s the
 * event can satisfy are looked at). A check is synchronous and allocates nothing of its own.
 *
 * Staying current: the checker watches the store (`RunStore.watchCancellations`). Creations and
 * deletions through the same store object apply before the creating or deleting call resolves;
 * those of other processes apply when the store reports them — PostgreSQL by notification, within
 * milliseconds of the commit; SQLite at the first poll of its change counter after the commit,
 * so within `pollMs` (default 1 s) plus the time to reload. A watch that lost its PostgreSQL
 * connection reconnects and reloads everything.
 *
 * @module
 */
import { Matcher } from "../expr/matcher/index.js";
import { DEFAULT_ENVIRONMENT_ID, MAX_LIST_LIMIT, type CancellationChange, type CancellationRecord, type CancellationWatch, type RunStore } from "../stores/types.js";
import { compareAge, holds, WindowIndex } from "./windows.js";

/** What a check needs of a run: a `RunRecord` will do. */
export interface CheckableRun {
  /** The run's id (not used to decide; named in errors). */
  readonly id: string;
  /** Default `'default'`. */
  readonly environmentId?: string;
  readonly appId: string;
  readonly functionId: string;
  /** Start time, epoch ms (for a run id that is a ULID, the ULID's time). */
  readonly startedAt: number;
  /** The triggering event: the `event` of an `if`. */
  readonly event: unknown;
}

/** Options of {@link CancellationChecker}. */
export interface CancellationCheckerOptions {
  /** Keep only this environment's cancellations (runs of others are then never cancelled). Default: all. */
  readonly environmentId?: string;
  /** How often an SQLite store is polled for other processes' changes, ms. Default 1000. */
  readonly pollMs?: number;
  /**
   * Receives errors of the background refresh (a failed poll or reload, a lost connection) and
   * of stored `if`s that no longer compile (such a cancellation never applies). Default: none.
   */
  readonly onError?: (error: unknown) => void;
}

/** The cancellations of one function. */
class FunctionCancellations {
  readonly unconditional = new WindowIndex<CancellationRecord>();
  // Every `if` was refused at creation when too costly; a record stored before that check keeps
  // applying, each evaluation still bounded by the cost budget.
  readonly matcher = new Matcher({ dialect: "inngest", refuseCostly: false });
  readonly conditional = new Map<string, CancellationRecord>();

  get size(): number {
    return this.unconditional.size + this.conditional.size;
  }
}

/** Three-level map: environment → app → function. */
type Scopes = Map<string, Map<string, Map<string, FunctionCancellations>>>;

/**
 * Answers, for a run about to execute a step, the oldest cancellation that applies to it: same
 * environment, app and function, a window holding the run's start time (both ends inclusive), and
 * no `if` or an `if` that matches `{ event }` with Inngest's semantics.
 *
 * @example
 * ```ts
 * const checker = new CancellationChecker(store);
 * await checker.refresh();
 * // before each step:
 * const cancellation = checker.check(run);
 * if (cancellation !== undefined) stopRun(run, cancellation.id);
 * // at shutdown:
 * await checker.close();
 * ```
 */
export class CancellationChecker {
  private readonly scopes: Scopes = new Map();
  private readonly held = new Map<string, { readonly record: CancellationRecord; readonly scope: FunctionCancellations }>();
  private watch: CancellationWatch | undefined;
  private loaded = false;
  private closed = false;
  /** Changes received while a reload lists the store: replayed on top of its result. */
  private replay: CancellationChange[] | undefined;
  private reloading: Promise<void> | undefined;
  private reloadAgain = false;
  // The state of the check in progress, read by the matcher's visitor (allocated once).
  private readonly activation: { event: unknown } = { event: undefined };
  private current: FunctionCancellations | undefined;
  private time = 0;
  private best: CancellationRecord | undefined;
  private readonly visit = (id: string): void => {
    const record = this.current!.conditional.get(id);
    if (record !== undefined && holds(record, this.time) && (this.best === undefined || compareAge(record, this.best) < 0)) this.best = record;
  };

  constructor(
    private readonly store: RunStore,
    private readonly options: CancellationCheckerOptions = {},
  ) {
    if (typeof store !== "object" || store === null || typeof store.watchCancellations !== "function") {
      throw new TypeError("CancellationChecker needs a RunStore");
    }
    const { environmentId, pollMs, onError } = options;
    if (environmentId !== undefined && (typeof environmentId !== "string" || environmentId === "")) {
      throw new TypeError("CancellationChecker: environmentId must be a non-empty string");
    }
    if (pollMs !== undefined && (!Number.isSafeInteger(pollMs) || pollMs < 10)) throw new TypeError("CancellationChecker: pollMs must be an integer of at least 10");
    if (onError !== undefined && typeof onError !== "function") throw new TypeError("CancellationChecker: onError must be a function");
  }

  /** Cancellations held (those whose `if` does not compile are not). */
  get size(): number {
    return this.held.size;
  }

  /**
   * Loads the store's cancellations, replacing what the checker held, and starts watching the
   * store (the first time). Call it once before the first {@link check}; the checker then stays
   * current by itself. Rejects when the store cannot be read.
   */
  async refresh(): Promise<void> {
    if (this.closed) throw new Error("CancellationChecker is closed");
    if (this.watch === undefined) {
      // Watch first: a change committed while the store is listed is then not missed.
      this.watch = await this.store.watchCancellations((change) => this.onChange(change), {
        ...(this.options.pollMs !== undefined ? { pollMs: this.options.pollMs } : {}),
        onError: (error) => this.report(error),
      });
      if (this.closed) {
        await this.watch.close();
        return;
      }
    }
    await this.reload();
  }

  /**
   * The oldest cancellation that applies to `run`, or `undefined`. Synchronous: call it before
   * every step.
   *
   * @throws Error before the first {@link refresh} or after {@link close}; TypeError for a run
   * without string `appId`/`functionId` and a finite `startedAt`.
   */
  check(run: CheckableRun): CancellationRecord | undefined {
    if (!this.loaded || this.closed) throw new Error(this.closed ? "CancellationChecker is closed" : "CancellationChecker: call refresh() before check()");
    if (typeof run !== "object" || run === null || typeof run.appId !== "string" || typeof run.functionId !== "string" || !Number.isFinite(run.startedAt)) {
      throw new TypeError("CancellationChecker.check needs a run with string appId and functionId and a finite startedAt");
    }
    const environmentId = run.environmentId ?? DEFAULT_ENVIRONMENT_ID;
    const scope = this.scopes.get(environmentId)?.get(run.appId)?.get(run.functionId);
    if (scope === undefined) return undefined;
    const t = run.startedAt;
    let best = scope.unconditional.oldestHolding(t);
    if (scope.conditional.size > 0) {
      this.current = scope;
      this.time = t;
      this.best = best;
      this.activation.event = run.event;
      try {
        scope.matcher.matchEach(this.activation, this.visit);
        best = this.best;
      } finally {
        this.activation.event = undefined;
        this.current = undefined;
        this.best = undefined;
      }
    }
    return best;
  }

  /** Stops watching the store and drops what the checker held; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const watch = this.watch;
    this.watch = undefined;
    await watch?.close();
    this.scopes.clear();
    this.held.clear();
  }

  // -- keeping current -------------------------------------------------------------------------

  private onChange(change: CancellationChange): void {
    if (this.closed) return;
    if (change.kind === "reload") {
      this.reload().catch((error: unknown) => this.report(error));
      return;
    }
    this.apply(change);
    this.replay?.push(change);
  }

  private apply(change: CancellationChange): void {
    if (change.kind === "created") this.add(change.record);
    else if (change.kind === "deleted") this.remove(change.id);
  }

  /** Lists the store and makes the checker hold exactly what it lists (one reload at a time). */
  private async reload(): Promise<void> {
    if (this.reloading !== undefined) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      try {
        do {
          this.reloadAgain = false;
          await this.reloadOnce();
        } while (this.reloadAgain && !this.closed);
      } finally {
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }

  private async reloadOnce(): Promise<void> {
    const replay: CancellationChange[] = [];
    this.replay = replay;
    try {
      const listed = new Map<string, CancellationRecord>();
      let after: string | undefined;
      do {
        const page = await this.store.listCancellations({
          limit: MAX_LIST_LIMIT,
          ...(this.options.environmentId !== undefined ? { environmentId: this.options.environmentId } : {}),
          ...(after !== undefined ? { after } : {}),
        });
        for (const record of page.records) listed.set(record.id, record);
        after = page.next;
      } while (after !== undefined && !this.closed);
      if (this.closed) return;
      // In one go (no await): checks never see a half-applied state.
      for (const id of [...this.held.keys()]) if (!listed.has(id)) this.remove(id);
      for (const record of listed.values()) this.add(record);
      // Changes reported during the listing may predate or postdate it: applying them again on
      // top is right either way.
      for (const change of replay) this.apply(change);
      this.loaded = true;
    } finally {
      this.replay = undefined;
    }
  }

  private add(record: CancellationRecord): void {
    if (this.held.has(record.id)) return;
    if (this.options.environmentId !== undefined && record.environmentId !== this.options.environmentId) return;
    // No request creates such a record, but a store can hold one (a value written by hand):
    // a NaN would disorder the window index of every other cancellation of the function.
    if (!isFiniteWindow(record)) {
      this.report(new Error(`cancellation ${record.id}: its window or creation time is not a finite number, so it never applies`));
      return;
    }
    let apps = this.scopes.get(record.environmentId);
    if (apps === undefined) this.scopes.set(record.environmentId, (apps = new Map()));
    let functions = apps.get(record.appId);
    if (functions === undefined) apps.set(record.appId, (functions = new Map()));
    let scope = functions.get(record.functionId);
    const created = scope === undefined;
    scope ??= new FunctionCancellations();
    if (record.if === undefined) scope.unconditional.add(record);
    else {
      try {
        scope.matcher.add(record.id, record.if);
      } catch (error) {
        this.report(new Error(`cancellation ${record.id}: its if no longer compiles, so it never applies: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
        if (functions.size === 0) apps.delete(record.appId);
        if (apps.size === 0) this.scopes.delete(record.environmentId);
        return;
      }
      scope.conditional.set(record.id, record);
    }
    if (created) functions.set(record.functionId, scope);
    this.held.set(record.id, { record, scope });
  }

  private remove(id: string): void {
    const held = this.held.get(id);
    if (held === undefined) return;
    this.held.delete(id);
    const { record, scope } = held;
    if (record.if === undefined) scope.unconditional.remove(id);
    else {
      scope.matcher.remove(id);
      scope.conditional.delete(id);
    }
    if (scope.size > 0) return;
    const apps = this.scopes.get(record.environmentId)!;
    const functions = apps.get(record.appId)!;
    functions.delete(record.functionId);
    if (functions.size === 0) apps.delete(record.appId);
    if (apps.size === 0) this.scopes.delete(record.environmentId);
  }

  private report(error: unknown): void {
    try {
      this.options.onError?.(error);
    } catch {
      // An error handler that throws has nowhere left to report to.
    }
  }
}

/** Whether a record's bounds and creation time are finite numbers (what the window index orders by). */
function isFiniteWindow(record: CancellationRecord): boolean {
  return Number.isFinite(record.startedBefore) && Number.isFinite(record.createdAt) && (record.startedAfter === undefined || Number.isFinite(record.startedAfter));
}
