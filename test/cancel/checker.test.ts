/**
 * `CancellationChecker`: the lazy check an executor makes before each step. Its semantics one case
 * at a time, then a property against a plain reference (every stored cancellation, its window, its
 * `if` compiled alone, the oldest that applies) with creations and deletions interleaved, then how
 * it stays current: at once in one process, by polling across SQLite processes (with its bound),
 * by notification across PostgreSQL processes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { monotonicFactory } from "ulid";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { CancellationChecker, type CheckableRun } from "../../src/cancel/checker.js";
import { WindowIndex, compareAge, holds } from "../../src/cancel/windows.js";
import { compile } from "../../src/expr/program.js";
import { MemoryRunStore } from "../../src/stores/memory.js";
import { PostgresRunStore } from "../../src/stores/postgres.js";
import { SqliteRunStore } from "../../src/stores/sqlite.js";
import { DEFAULT_ENVIRONMENT_ID, ZERO_COUNTS, type CancellationRecord, type RunStore } from "../../src/stores/types.js";
import { pollUntil } from "../support/poll.js";
import { describePostgres } from "../support/postgres.js";

const T0 = 1_700_000_000_000;
const nextId = monotonicFactory();

function cancellation(overrides: Partial<CancellationRecord> = {}): CancellationRecord {
  return {
    id: nextId(),
    environmentId: DEFAULT_ENVIRONMENT_ID,
    appId: "app",
    functionId: "fn",
    startedAfter: T0,
    startedBefore: T0 + 1000,
    createdAt: T0 + 2000,
    updatedAt: T0 + 2000,
    status: "running",
    counts: ZERO_COUNTS,
    ...overrides,
  };
}

function run(overrides: Partial<CheckableRun> = {}): CheckableRun {
  return { id: "r", appId: "app", functionId: "fn", startedAt: T0 + 500, event: { name: "e", data: { userId: "u1" } }, ...overrides };
}

async function loaded(store: RunStore, options = {}): Promise<CancellationChecker> {
  const checker = new CancellationChecker(store, options);
  await checker.refresh();
  return checker;
}

describe("CancellationChecker semantics", () => {
  it("applies a window inclusive at both ends on startedAt, without a lower bound when there is none", async () => {
    const store = new MemoryRunStore();
    const c = cancellation();
    await store.createCancellation(c);
    const open = cancellation({ functionId: "open" });
    delete (open as { startedAfter?: number }).startedAfter;
    await store.createCancellation(open);
    const checker = await loaded(store);
    expect(checker.check(run({ startedAt: T0 }))?.id).toBe(c.id);
    expect(checker.check(run({ startedAt: T0 + 1000 }))?.id).toBe(c.id);
    expect(checker.check(run({ startedAt: T0 - 1 }))).toBeUndefined();
    expect(checker.check(run({ startedAt: T0 + 1001 }))).toBeUndefined();
    expect(checker.check(run({ functionId: "open", startedAt: -1e15 }))?.id).toBe(open.id);
    expect(checker.check(run({ functionId: "open", startedAt: T0 + 1001 }))).toBeUndefined();
    await checker.close();
  });

  it("answers the oldest cancellation that applies, with or without an if", async () => {
    const store = new MemoryRunStore();
    const newest = cancellation({ createdAt: T0 + 5000 });
    const olderIf = cancellation({ createdAt: T0 + 4000, if: "event.data.userId == 'u1'" });
    const oldestOtherUser = cancellation({ createdAt: T0 + 3000, if: "event.data.userId == 'u2'" });
    for (const c of [newest, olderIf, oldestOtherUser]) await store.createCancellation(c);
    const checker = await loaded(store);
    expect(checker.check(run())?.id).toBe(olderIf.id);
    expect(checker.check(run({ event: { data: { userId: "u2" } } }))?.id).toBe(oldestOtherUser.id);
    expect(checker.check(run({ event: { data: { userId: "u3" } } }))?.id).toBe(newest.id);
    // Same creation time: the smaller id is older.
    const tie = cancellation({ createdAt: T0 + 5000 });
    const c2 = await store.createCancellation({ ...tie, id: "00000000000000000000000000" });
    expect(c2.created).toBe(true);
    expect(checker.check(run({ event: { data: { userId: "u3" } } }))?.id).toBe("00000000000000000000000000");
    await checker.close();
  });

  it("decides the if with Inngest's rules on { event } and keeps environments, apps and functions apart", async () => {
    const store = new MemoryRunStore();
    const missing = cancellation({ if: "event.data.plan == null" });
    const other = cancellation({ environmentId: "prod", if: "event.data.userId == 'u1'" });
    await store.createCancellation(missing);
    await store.createCancellation(other);
    const checker = await loaded(store);
    expect(checker.check(run())?.id).toBe(missing.id);
    expect(checker.check(run({ event: { data: { plan: "pro" } } }))).toBeUndefined();
    expect(checker.check(run({ environmentId: "prod" }))?.id).toBe(other.id);
    expect(checker.check(run({ environmentId: "prod", event: { data: { userId: "u2" } } }))).toBeUndefined();
    expect(checker.check(run({ appId: "other" }))).toBeUndefined();
    expect(checker.check(run({ functionId: "other" }))).toBeUndefined();
    // A non-boolean or failing if never applies.
    await store.createCancellation(cancellation({ functionId: "f2", if: "event.data.userId" }));
    await store.createCancellation(cancellation({ functionId: "f2", if: "int(event.data.userId) > 1" }));
    expect(checker.check(run({ functionId: "f2" }))).toBeUndefined();
    await checker.close();
  });

  it("keeps only its environment when given one", async () => {
    const store = new MemoryRunStore();
    await store.createCancellation(cancellation({ environmentId: "prod" }));
    await store.createCancellation(cancellation());
    const checker = await loaded(store, { environmentId: "prod" });
    expect(checker.size).toBe(1);
    expect(checker.check(run({ environmentId: "prod" }))).toBeDefined();
    expect(checker.check(run())).toBeUndefined();
    await checker.close();
  });

  it("reports an if that no longer compiles and never applies it", async () => {
    const store = new MemoryRunStore();
    const errors: unknown[] = [];
    // Stored by hand: the planner would have refused it.
    const bad = cancellation({ if: "event.data.userId ==" });
    await store.createCancellation(bad);
    const checker = await loaded(store, { onError: (e: unknown) => errors.push(e) });
    expect(checker.size).toBe(0);
    expect(checker.check(run())).toBeUndefined();
    expect(String(errors[0])).toContain(bad.id);
    await checker.close();
  });

  it("refuses to check before refresh() and after close(), and rejects malformed runs", async () => {
    const store = new MemoryRunStore();
    const checker = new CancellationChecker(store);
    expect(() => checker.check(run())).toThrow(/refresh/);
    await checker.refresh();
    expect(() => checker.check({ ...run(), startedAt: Number.NaN })).toThrow(TypeError);
    expect(() => checker.check({ ...run(), appId: 5 as unknown as string })).toThrow(TypeError);
    await checker.close();
    await checker.close();
    expect(() => checker.check(run())).toThrow(/closed/);
    await expect(checker.refresh()).rejects.toThrow(/closed/);
    expect(() => new CancellationChecker({} as RunStore)).toThrow(TypeError);
    expect(() => new CancellationChecker(store, { pollMs: 1 })).toThrow(TypeError);
  });
});

describe("CancellationChecker against a plain reference", () => {
  const IFS = [
    undefined,
    undefined,
    "event.data.userId == 'u1'",
    "event.data.userId == 'u2'",
    "event.data.userId in ['u1', 'u3']",
    "event.data.amount > 100",
    "event.data.amount > 100 && event.data.plan == 'pro'",
    "event.data.missing == null",
    "event.data.tags.exists(t, t == 'vip')",
    "event.data.userId",
  ];
  const windowArb = fc.tuple(fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }), fc.integer({ min: 0, max: 20 })).map(([a, b]) => {
    const lo = a === undefined ? undefined : Math.min(a, b);
    return { startedAfter: lo === undefined ? undefined : T0 + lo * 10, startedBefore: T0 + Math.max(a ?? b, b) * 10 };
  });
  const recordArb = fc.record({
    window: windowArb,
    createdAt: fc.integer({ min: 0, max: 5 }),
    fn: fc.constantFrom("f1", "f2"),
    env: fc.constantFrom(DEFAULT_ENVIRONMENT_ID, "prod"),
    if: fc.constantFrom(...IFS),
  });
  const runArb = fc.record({
    t: fc.integer({ min: -1, max: 21 }),
    fn: fc.constantFrom("f1", "f2"),
    env: fc.constantFrom(undefined, "prod"),
    userId: fc.constantFrom("u1", "u2", "u3"),
    amount: fc.constantFrom(50, 150),
    plan: fc.constantFrom("pro", "free"),
    tags: fc.constantFrom([], ["vip"]),
  });
  const opArb = fc.oneof(
    { weight: 3, arbitrary: recordArb.map((r) => ({ kind: "create" as const, r })) },
    { weight: 1, arbitrary: fc.nat(20).map((i) => ({ kind: "delete" as const, i })) },
    { weight: 4, arbitrary: runArb.map((r) => ({ kind: "check" as const, r })) },
  );

  function reference(records: readonly CancellationRecord[], r: CheckableRun): CancellationRecord | undefined {
    let best: CancellationRecord | undefined;
    for (const c of records) {
      if (c.environmentId !== (r.environmentId ?? DEFAULT_ENVIRONMENT_ID) || c.appId !== r.appId || c.functionId !== r.functionId) continue;
      if (!holds(c, r.startedAt)) continue;
      if (c.if !== undefined && compile(c.if, { dialect: "inngest" }).decide({ event: r.event }) !== "match") continue;
      if (best === undefined || compareAge(c, best) < 0) best = c;
    }
    return best;
  }

  it("check equals the reference after any creations and deletions", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
        const store = new MemoryRunStore();
        const checker = await loaded(store);
        const live: CancellationRecord[] = [];
        for (const op of ops) {
          if (op.kind === "create") {
            const { window, createdAt, fn, env, if: expr } = op.r;
            const record = cancellation({
              environmentId: env,
              functionId: fn,
              startedBefore: window.startedBefore,
              createdAt: T0 + createdAt,
              ...(expr !== undefined ? { if: expr } : {}),
            });
            if (window.startedAfter === undefined) delete (record as { startedAfter?: number }).startedAfter;
            else (record as { startedAfter?: number }).startedAfter = window.startedAfter;
            await store.createCancellation(record);
            live.push(record);
          } else if (op.kind === "delete") {
            if (live.length === 0) continue;
            const [gone] = live.splice(op.i % live.length, 1);
            await store.deleteCancellation(gone!.id);
          } else {
            const { t, fn, env, userId, amount, plan, tags } = op.r;
            const r = run({ functionId: fn, startedAt: T0 + t * 10, event: { name: "e", data: { userId, amount, plan, tags } }, ...(env !== undefined ? { environmentId: env } : {}) });
            expect(checker.check(r)?.id).toBe(reference(live, r)?.id);
          }
        }
        expect(checker.size).toBe(live.length);
        await checker.close();
      }),
      { numRuns: 150 },
    );
  });

  it("WindowIndex.oldestHolding equals a scan of every window", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(windowArb, fc.integer({ min: 0, max: 5 }), fc.boolean()), { maxLength: 30 }), fc.array(fc.integer({ min: -1, max: 21 }), { minLength: 1, maxLength: 10 }), (specs, times) => {
        const index = new WindowIndex<CancellationRecord>();
        const live: CancellationRecord[] = [];
        for (const [window, createdAt, removeOne] of specs) {
          const c = cancellation({ startedBefore: window.startedBefore, createdAt });
          if (window.startedAfter === undefined) delete (c as { startedAfter?: number }).startedAfter;
          else (c as { startedAfter?: number }).startedAfter = window.startedAfter;
          index.add(c);
          live.push(c);
          if (removeOne && live.length > 1) index.remove(live.shift()!.id);
          for (const t of times) {
            const expected = live.filter((w) => holds(w, T0 + t * 10)).sort(compareAge)[0];
            expect(index.oldestHolding(T0 + t * 10)?.id).toBe(expected?.id);
          }
        }
      }),
    );
  });
});

describe("CancellationChecker stays current", () => {
  const dir = mkdtempSync(join(tmpdir(), "cancelkit-checker-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => {
    vi.useRealTimers();
  });

  it("sees creations and deletions through the same store object at once", async () => {
    for (const store of [new MemoryRunStore(), new SqliteRunStore({ path: join(dir, "same.db") })]) {
      const checker = await loaded(store);
      expect(checker.check(run())).toBeUndefined();
      const c = cancellation({ if: "event.data.userId == 'u1'" });
      await store.createCancellation(c);
      expect(checker.check(run())?.id).toBe(c.id);
      await store.deleteCancellation(c.id);
      expect(checker.check(run())).toBeUndefined();
      await checker.close();
      await store.close();
    }
  });

  it("SQLite: another process's creation applies at the first poll after it, so within pollMs", async () => {
    const path = join(dir, "two.db");
    const mine = new SqliteRunStore({ path });
    const theirs = new SqliteRunStore({ path });
    vi.useFakeTimers();
    const checker = await loaded(mine, { pollMs: 1000 });
    try {
      const c = cancellation({ if: "event.data.userId == 'u1'" });
      await theirs.createCancellation(c);
      await vi.advanceTimersByTimeAsync(999);
      // Stale until the poll: the documented bound.
      expect(checker.check(run())).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      expect(checker.check(run())?.id).toBe(c.id);
      await theirs.deleteCancellation(c.id);
      await vi.advanceTimersByTimeAsync(1000);
      expect(checker.check(run())).toBeUndefined();
    } finally {
      await checker.close();
      await theirs.close();
      await mine.close();
    }
  });

  it("SQLite: a reload keeps changes made while it lists the store", async () => {
    const path = join(dir, "reload.db");
    const mine = new SqliteRunStore({ path });
    const theirs = new SqliteRunStore({ path });
    vi.useFakeTimers();
    const checker = await loaded(mine, { pollMs: 100 });
    try {
      const a = cancellation();
      await theirs.createCancellation(a);
      // The poll starts a reload; a local creation lands before it finishes listing.
      vi.advanceTimersByTime(100);
      const b = cancellation({ functionId: "other" });
      await mine.createCancellation(b);
      await vi.advanceTimersByTimeAsync(0);
      expect(checker.check(run())?.id).toBe(a.id);
      expect(checker.check(run({ functionId: "other" }))?.id).toBe(b.id);
      expect(checker.size).toBe(2);
    } finally {
      await checker.close();
      await theirs.close();
      await mine.close();
    }
  });
});

await describePostgres("CancellationChecker on PostgreSQL", ({ url, newSchema }) => {
  it("sees another process's creation and deletion when the notification arrives", async () => {
    const schema = newSchema();
    const mine = new PostgresRunStore({ connectionString: url, schema, poolSize: 2 });
    await mine.migrate();
    const theirs = new PostgresRunStore({ connectionString: url, schema, poolSize: 2 });
    await theirs.migrate();
    const checker = await loaded(mine);
    const waitFor = (done: () => boolean) => pollUntil(done, "the notification");
    try {
      const c = cancellation({ if: "event.data.userId == 'u1'" });
      await theirs.createCancellation(c);
      await waitFor(() => checker.check(run())?.id === c.id);
      await theirs.deleteCancellation(c.id);
      await waitFor(() => checker.check(run()) === undefined);
      // Its own changes apply at once.
      const own = cancellation();
      await mine.createCancellation(own);
      expect(checker.check(run())?.id).toBe(own.id);
    } finally {
      await checker.close();
      await theirs.close();
      await mine.close();
    }
  });
});
