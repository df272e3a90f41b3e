/**
 * Several workers on one cancellation (PostgreSQL): shard planning (an exact partition of the
 * window's keyset range, also inside a crowded millisecond), leases (never two owners, expiry
 * hands a shard over, a stale owner's commit changes nothing), workers in one process against an
 * independent oracle, and the test: four worker processes on 200,000 runs, one killed
 * with SIGKILL midway.
 *
 * Needs the server at DATABASE_URL (see test/support/postgres.ts).
 */
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  CancellationNotFoundError,
  ConflictError,
  ValidationError,
  cancelRuns,
  createShardedCancellation,
  resumeCancellation,
  runWorker,
  type WorkerProgress,
  type WorkerReport,
} from "../../src/cancel/index.js";
import { planPushdown } from "../../src/cancel/pushdown-plan.js";
import { compile } from "../../src/expr/program.js";
import { MemoryRunStore } from "../../src/stores/memory.js";
import { PostgresRunStore } from "../../src/stores/postgres.js";
import {
  StoreError,
  ZERO_COUNTS,
  compareCursor,
  isShardedRunStore,
  type BoundedScanQuery,
  type Cursor,
  type OutcomeCounts,
  type RunRecord,
  type RunStatus,
  type ShardBounds,
  type ShardedRunStore,
} from "../../src/stores/types.js";
import { runningChildren, startJsonLineChild } from "../support/child.js";
import { pollUntil } from "../support/poll.js";
import { describePostgres, withClient } from "../support/postgres.js";
import { fixtureUlid, seededRandom, windowOracle } from "../stores/fixtures.js";
import { BASE_TIME, body, oracle, oracleCounts, type OracleEntry } from "./helpers.js";

const CHILD = fileURLToPath(new URL("./workers-child.ts", import.meta.url));
const RUN_STATUSES_MIX: readonly RunStatus[] = ["queued", "running", "running", "sleeping", "waiting", "completed", "failed", "cancelled"];

afterAll(() => {
  for (const child of runningChildren) child.kill("SIGKILL");
});

/** Every run of a shard, page by page (`limit` small to cross many page boundaries). */
async function scanShard(store: ShardedRunStore, window: Omit<BoundedScanQuery, "limit" | "after" | "until">, bounds: ShardBounds, limit = 97, pushdown?: BoundedScanQuery["pushdown"]): Promise<{ runs: RunRecord[]; prefiltered: number }> {
  const runs: RunRecord[] = [];
  let prefiltered = 0;
  let after: Cursor | undefined = bounds.after;
  for (;;) {
    const page = await store.scanRuns({
      ...window,
      limit,
      ...(after !== undefined ? { after } : {}),
      ...(bounds.until !== undefined ? { until: bounds.until } : {}),
      ...(pushdown !== undefined ? { pushdown } : {}),
    });
    runs.push(...page.runs);
    prefiltered += page.prefiltered ?? 0;
    if (page.next === undefined) return { runs, prefiltered };
    after = page.next;
  }
}

/** Runs of function `fn` whose event data drives the test expressions; many share each millisecond. */
function crowdedRuns(count: number, options: { fn?: string; seed?: number; msSpread?: number; start?: number } = {}): RunRecord[] {
  const random = seededRandom(options.seed ?? 7);
  const spread = options.msSpread ?? 40;
  const runs: RunRecord[] = [];
  for (let i = 0; i < count; i++) {
    const startedAt = (options.start ?? BASE_TIME) + Math.floor(random() * spread);
    const pick = <T,>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
    runs.push({
      id: fixtureUlid(startedAt, random),
      appId: "app",
      functionId: options.fn ?? "fn",
      startedAt,
      status: pick(RUN_STATUSES_MIX),
      event: {
        name: "test/event",
        data: {
          k: pick(["a", "b", "c"]),
          s: pick(["1", "4", "7", "x"]),
          plan: pick(["free", "pro", "team"]),
          ...(random() < 0.8 ? { v: pick<unknown>([true, false, 1, "x"]) } : {}),
          pad: "p".repeat(Math.floor(random() * 40)),
        },
      },
    });
  }
  return runs;
}

/** Counts of the runs each oracle entry stands for, plus what the store must hold afterwards. */
function expectedAfter(entries: readonly OracleEntry[], cancellationId: string): Map<string, { status: RunStatus; cancellationId: string | null }> {
  const out = new Map<string, { status: RunStatus; cancellationId: string | null }>();
  for (const { run, expected } of entries) {
    if (expected === "cancel") out.set(run.id, { status: "cancelled", cancellationId });
  }
  return out;
}

/**
 * A store whose shard commits and lease renewals wait until `release()`: a worker that has
 * stalled. `held()` counts the calls waiting.
 */
function stalledStore(store: ShardedRunStore): { readonly store: ShardedRunStore; release(): void; held(): number } {
  const delayed = new Set<PropertyKey>(["commitShardBatch", "renewShardLease"]);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let held = 0;
  const stalled = new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      const method = value as (...args: unknown[]) => unknown;
      if (!delayed.has(property)) return method.bind(target);
      return async (...args: unknown[]) => {
        held++;
        await gate;
        return method.apply(target, args);
      };
    },
  });
  return { store: stalled, release, held: () => held };
}

/**
 * Ends a shard's lease now, as the database clock passing its expiry would: the tests control
 * when a lease runs out instead of sleeping past a short one.
 */
async function expireLease(url: string, schema: string, cancellationId: string, shardNo: number): Promise<void> {
  await withClient(async (client) => {
    const { rowCount } = await client.query(
      `UPDATE ${client.escapeIdentifier(schema)}.cancellation_shards SET lease_expires_at = clock_timestamp() - interval '1 millisecond' ` +
        "WHERE cancellation_id = $1 AND shard_no = $2 AND status = 'running'",
      [cancellationId, shardNo],
    );
    expect(rowCount, "a running shard to expire").toBe(1);
  }, url);
}

/** The database clock, and a shard's lease expiry, in ms since the epoch. */
async function leaseClock(url: string, schema: string, cancellationId: string, shardNo: number): Promise<{ now: number; expires: number | null }> {
  return withClient(async (client) => {
    const { rows } = await client.query<{ now: Date; expires: Date | null }>(
      `SELECT clock_timestamp() AS now, lease_expires_at AS expires FROM ${client.escapeIdentifier(schema)}.cancellation_shards ` +
        "WHERE cancellation_id = $1 AND shard_no = $2",
      [cancellationId, shardNo],
    );
    return { now: rows[0]!.now.getTime(), expires: rows[0]!.expires?.getTime() ?? null };
  }, url);
}

/** Status and cancellation id of every run of a schema, by run id (one query). */
async function storedStates(url: string, schema: string): Promise<Map<string, { status: RunStatus; cancellationId: string | null }>> {
  return withClient(async (client) => {
    const { rows } = await client.query<{ id: string; status: RunStatus; cancellation_id: string | null }>(
      `SELECT id, status, cancellation_id FROM ${client.escapeIdentifier(schema)}.runs`,
    );
    return new Map(rows.map((row) => [row.id, { status: row.status, cancellationId: row.cancellation_id }]));
  }, url);
}

/** Runs whose stored state differs from the oracle's: its runs cancelled by the job, the rest as inserted. */
function mismatches(runs: readonly RunRecord[], entries: readonly OracleEntry[], cancellationId: string, stored: Map<string, { status: RunStatus; cancellationId: string | null }>): string[] {
  const want = expectedAfter(entries, cancellationId);
  const wrong: string[] = [];
  for (const run of runs) {
    const row = stored.get(run.id);
    const target = want.get(run.id) ?? { status: run.status, cancellationId: run.cancellationId ?? null };
    if (row === undefined || row.status !== target.status || row.cancellationId !== target.cancellationId) wrong.push(run.id);
  }
  return wrong;
}

function sum(counts: readonly OutcomeCounts[]): OutcomeCounts {
  const out = { ...ZERO_COUNTS };
  for (const c of counts) for (const key of Object.keys(out) as (keyof OutcomeCounts)[]) out[key] += c[key];
  return out;
}

await describePostgres("sharded cancellations and workers (PostgreSQL)", ({ url, newSchema }) => {
  async function freshStore(poolSize = 4, schema = newSchema()): Promise<PostgresRunStore> {
    const store = new PostgresRunStore({ connectionString: url, schema, poolSize });
    await store.migrate();
    return store;
  }

  describe("planShards", () => {
    it("partitions the window exactly into shards of equal run counts (±1), also inside a crowded millisecond, for any shard count", async () => {
      const store = await freshStore();
      let iteration = 0;
      try {
        await fc.assert(
          fc.asyncProperty(
            fc.record({
              clusters: fc.array(fc.record({ t: fc.integer({ min: 0, max: 30 }), n: fc.integer({ min: 1, max: 40 }) }), { maxLength: 12 }),
              burst: fc.option(fc.record({ t: fc.integer({ min: 0, max: 30 }), n: fc.integer({ min: 300, max: 2500 }) }), { nil: undefined }),
              count: fc.integer({ min: 1, max: 14 }),
              after: fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined }),
              before: fc.integer({ min: 10, max: 32 }),
              seed: fc.integer({ min: 1, max: 1_000_000 }),
            }),
            async ({ clusters, burst, count, after, before, seed }) => {
              iteration += 1;
              const fn = `part${iteration}`;
              const random = seededRandom(seed);
              const make = (t: number): RunRecord => ({
                id: fixtureUlid(BASE_TIME + t, random),
                appId: "app",
                functionId: fn,
                startedAt: BASE_TIME + t,
                status: "running",
                event: { name: "e", data: {} },
              });
              const runs: RunRecord[] = [];
              for (const { t, n } of [...clusters, ...(burst !== undefined ? [burst] : [])]) for (let i = 0; i < n; i++) runs.push(make(t));
              // Neighbours that must stay out: another function in the window.
              runs.push({ ...make(15), functionId: `${fn}-other` });
              await store.insertRuns(runs);
              const window = { appId: "app", functionId: fn, ...(after !== undefined ? { startedAfter: BASE_TIME + after } : {}), startedBefore: BASE_TIME + before };
              const expected = windowOracle(runs, window);
              const bounds = await store.planShards(window, count);

              const k = Math.max(1, Math.min(count, expected.length));
              expect(bounds).toHaveLength(k);
              expect(bounds[0]!.after).toBeUndefined();
              expect(bounds[k - 1]!.until).toBeUndefined();
              for (let j = 1; j < k; j++) expect(bounds[j]!.after).toEqual(bounds[j - 1]!.until);

              const check = async (oracleRuns: readonly RunRecord[], equalSizes: boolean): Promise<void> => {
                const seen: RunRecord[] = [];
                for (const shard of bounds) {
                  const { runs: inShard } = await scanShard(store, window, shard);
                  if (equalSizes) {
                    expect(inShard.length).toBeGreaterThanOrEqual(Math.floor(oracleRuns.length / k));
                    expect(inShard.length).toBeLessThanOrEqual(Math.ceil(oracleRuns.length / k));
                  }
                  seen.push(...inShard);
                }
                // Concatenated in shard order: exactly the window, each run once, in keyset order.
                expect(seen.map((r) => r.id)).toEqual(oracleRuns.map((r) => r.id));
              };
              await check(expected, true);

              // Runs started later at the cut positions' milliseconds and at the window's edges
              // still fall in exactly one shard.
              const later: RunRecord[] = [];
              for (const shard of bounds) if (shard.until !== undefined) for (let i = 0; i < 5; i++) later.push(make(shard.until.startedAt - BASE_TIME));
              later.push(make(before), make(after ?? 0), make(before + 1));
              await store.insertRuns(later);
              await check(windowOracle([...runs, ...later], window), false);
            },
          ),
          { numRuns: 25 },
        );
      } finally {
        await store.close();
      }
    }, 60_000);

    it("a shard scan with a pushdown prefilter stops at the shard's end: kept plus dropped rows are the shard's", async () => {
      const store = await freshStore();
      try {
        const runs = crowdedRuns(3000, { msSpread: 3 });
        await store.insertRuns(runs);
        const window = { appId: "app", functionId: "fn", startedBefore: BASE_TIME + 10 };
        const bounds = await store.planShards(window, 5);
        expect(bounds).toHaveLength(5);
        const program = compile("event.data.k == 'a'", { dialect: "inngest" });
        const hint = planPushdown(program).hint;
        expect(hint?.predicate).toBeDefined();
        let total = 0;
        for (const shard of bounds) {
          const plain = await scanShard(store, window, shard, 50);
          const filtered = await scanShard(store, window, shard, 50, hint);
          expect(filtered.runs.length + filtered.prefiltered).toBe(plain.runs.length);
          expect(filtered.runs.map((r) => r.id)).toEqual(plain.runs.filter((r) => program.matches({ event: r.event })).map((r) => r.id));
          total += plain.runs.length;
        }
        expect(total).toBe(3000);
      } finally {
        await store.close();
      }
    });

    it("rejects bad shard counts and a malformed until bound with typed errors", async () => {
      const store = await freshStore();
      try {
        for (const bad of [0, -1, 1.5, 1001, Number.NaN]) {
          await expect(store.planShards({ appId: "app", functionId: "fn", startedBefore: BASE_TIME }, bad)).rejects.toMatchObject({ code: "invalid_option" });
        }
        await expect(
          store.scanRuns({ appId: "app", functionId: "fn", startedBefore: BASE_TIME, limit: 5, until: { startedAt: Number.NaN, id: "x" } }),
        ).rejects.toMatchObject({ code: "invalid_query" });
        expect(await store.planShards({ appId: "app", functionId: "none", startedBefore: BASE_TIME }, 8)).toEqual([{}]);
      } finally {
        await store.close();
      }
    });
  });

  describe("leases", () => {
    it("never hands one shard to two workers, also when many ask at once from several pools", async () => {
      const schema = newSchema();
      const stores = [await freshStore(3, schema), await freshStore(3, schema)];
      try {
        await stores[0]!.insertRuns(crowdedRuns(2000));
        const { cancellation, shards } = await createShardedCancellation(stores[0]!, body({ before: BASE_TIME + 100 }), { shards: 10 });
        expect(shards).toBe(10);
        const asks = await Promise.all(
          Array.from({ length: 30 }, (_, i) => stores[i % 2]!.leaseShard({ workerId: `w${i}`, leaseMs: 60_000, cancellationId: cancellation.id })),
        );
        const leased = asks.filter((a) => a.lease !== undefined).map((a) => a.lease!.shard);
        expect(leased).toHaveLength(10);
        expect(new Set(leased.map((s) => s.shardNo)).size).toBe(10);
        for (const shard of leased) expect(shard.status).toBe("running");
        // Nothing free is left, and the shards held by others are reported as unfinished.
        const late = await stores[1]!.leaseShard({ workerId: "late", leaseMs: 1000, cancellationId: cancellation.id });
        expect(late).toEqual({ unfinished: 10 });
        const listed = await stores[1]!.listShards(cancellation.id);
        expect(listed.map((s) => `${s.shardNo}:${s.leaseOwner}`).sort()).toEqual(leased.map((s) => `${s.shardNo}:${s.leaseOwner}`).sort());
        expect(new Set(listed.map((s) => s.leaseOwner)).size).toBe(10);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    it("an expired lease passes to another worker; the old owner's commit and renewal are refused and change nothing", async () => {
      const store = await freshStore();
      try {
        const runs = crowdedRuns(200);
        await store.insertRuns(runs);
        const { cancellation } = await createShardedCancellation(store, body({ before: BASE_TIME + 100 }), { shards: 2 });
        // A lease lasts leaseMs by the database clock, from the moment it is taken or renewed.
        const before = await leaseClock(url, store.schema, cancellation.id, 0);
        const first = await store.leaseShard({ workerId: "old", leaseMs: 60_000, cancellationId: cancellation.id });
        const leased = await leaseClock(url, store.schema, cancellation.id, 0);
        expect(first.lease?.shard.shardNo).toBe(0);
        expect(first.unfinished).toBe(1);
        expect(first.lease!.record.id).toBe(cancellation.id);
        expect(leased.expires).toBeGreaterThanOrEqual(before.now + 60_000);
        expect(leased.expires).toBeLessThanOrEqual(leased.now + 60_000);
        expect(await store.renewShardLease(cancellation.id, 0, "old", 90_000)).toBe(true);
        const renewed = await leaseClock(url, store.schema, cancellation.id, 0);
        expect(renewed.expires).toBeGreaterThanOrEqual(leased.now + 90_000);
        expect(renewed.expires).toBeLessThanOrEqual(renewed.now + 90_000);
        const second = await store.leaseShard({ workerId: "other", leaseMs: 60_000, cancellationId: cancellation.id });
        expect(second.lease?.shard.shardNo).toBe(1);
        // Shard 0's lease is live: nothing to take.
        expect((await store.leaseShard({ workerId: "new", leaseMs: 60_000, cancellationId: cancellation.id })).lease).toBeUndefined();
        // The old owner stops renewing and its lease runs out.
        await expireLease(url, store.schema, cancellation.id, 0);
        const taken = await store.leaseShard({ workerId: "new", leaseMs: 60_000, cancellationId: cancellation.id });
        expect(taken.lease?.shard.shardNo).toBe(0);
        expect(taken.lease?.shard.leaseOwner).toBe("new");

        const victim = runs.find((r) => r.status === "running" && compareCursor(r, first.lease!.shard.until!) <= 0)!;
        const stale = await store.commitShardBatch({
          cancellationId: cancellation.id,
          shardNo: 0,
          workerId: "old",
          leaseMs: 60_000,
          runIds: [victim.id],
          checkpoint: { counts: { ...ZERO_COUNTS, scanned: 1, cancelled: 1 }, status: "running" },
        });
        expect(stale).toEqual({ ok: false, reason: "lease_lost" });
        expect((await store.getRun(victim.id))!.status).toBe("running");
        expect(await store.renewShardLease(cancellation.id, 0, "old", 60_000)).toBe(false);
        expect((await store.listShards(cancellation.id))[0]!.counts).toEqual(ZERO_COUNTS);

        const fresh = await store.commitShardBatch({
          cancellationId: cancellation.id,
          shardNo: 0,
          workerId: "new",
          leaseMs: 60_000,
          runIds: [victim.id],
          checkpoint: { counts: ZERO_COUNTS, status: "running" },
        });
        expect(fresh).toEqual({ ok: true, cancelled: [victim.id] });
        expect(await store.getRun(victim.id)).toMatchObject({ status: "cancelled", cancellationId: cancellation.id });
      } finally {
        await store.close();
      }
    });

    it("a released shard is leased again at once with its checkpoint; done shards never are; the job completes with the sum of its shards' counts", async () => {
      const store = await freshStore();
      try {
        await store.insertRuns(crowdedRuns(300));
        const { cancellation } = await createShardedCancellation(store, body({ before: BASE_TIME + 100 }), { shards: 3 });
        const id = cancellation.id;
        const countsOf = (n: number): OutcomeCounts => ({ scanned: n, cancelled: n, skipped_terminal: 0, not_matched: 0, expression_error: 0, non_boolean: 0 });
        const a = (await store.leaseShard({ workerId: "a", leaseMs: 60_000, cancellationId: id })).lease!.shard;
        const cursor = { startedAt: BASE_TIME + 1, id: "0".repeat(26) };
        expect(await store.commitShardBatch({ cancellationId: id, shardNo: a.shardNo, workerId: "a", leaseMs: 1, runIds: [], checkpoint: { cursor, counts: countsOf(4), status: "pending" } })).toEqual({ ok: true, cancelled: [] });
        const again = (await store.leaseShard({ workerId: "b", leaseMs: 60_000, cancellationId: id })).lease!.shard;
        expect(again.shardNo).toBe(a.shardNo);
        expect(again.cursor).toEqual(cursor);
        expect(again.counts).toEqual(countsOf(4));
        const close = (shardNo: number, worker: string, n: number) =>
          store.commitShardBatch({ cancellationId: id, shardNo, workerId: worker, leaseMs: 1000, runIds: [], checkpoint: { counts: countsOf(n), status: "done" } });
        expect((await close(again.shardNo, "b", 10)).ok).toBe(true);
        expect((await store.getCancellation(id))!.status).toBe("running");
        const rest = await Promise.all([store.leaseShard({ workerId: "c", leaseMs: 60_000, cancellationId: id }), store.leaseShard({ workerId: "d", leaseMs: 60_000, cancellationId: id })]);
        // The last two shards close at once: the job still completes (no write skew).
        await Promise.all([close(rest[0].lease!.shard.shardNo, "c", 20), close(rest[1].lease!.shard.shardNo, "d", 30)]);
        const job = (await store.getCancellation(id))!;
        expect(job.status).toBe("completed");
        expect(job.counts).toEqual(countsOf(60));
        expect((await store.listCancellations()).records.find((r) => r.id === id)!.counts).toEqual(countsOf(60));
        expect(await store.leaseShard({ workerId: "e", leaseMs: 1000, cancellationId: id })).toEqual({ unfinished: 0 });
        // A closed shard cannot be written again by its last owner.
        expect(await close(again.shardNo, "b", 99)).toEqual({ ok: false, reason: "lease_lost" });
      } finally {
        await store.close();
      }
    });

    it("deleting the cancellation deletes its shards: commits answer gone", async () => {
      const store = await freshStore();
      try {
        const runs = crowdedRuns(100);
        await store.insertRuns(runs);
        const { cancellation } = await createShardedCancellation(store, body({ before: BASE_TIME + 100 }), { shards: 2 });
        await store.leaseShard({ workerId: "a", leaseMs: 60_000, cancellationId: cancellation.id });
        expect(await store.deleteCancellation(cancellation.id)).toBe(true);
        expect(await store.listShards(cancellation.id)).toEqual([]);
        const victim = runs.find((r) => r.status === "running")!;
        for (const status of ["running", "done"] as const) {
          expect(
            await store.commitShardBatch({ cancellationId: cancellation.id, shardNo: 0, workerId: "a", leaseMs: 1000, runIds: [victim.id], checkpoint: { counts: ZERO_COUNTS, status } }),
          ).toEqual({ ok: false, reason: "gone" });
        }
        expect((await store.getRun(victim.id))!.status).toBe("running");
      } finally {
        await store.close();
      }
    });

    it("rejects malformed lease and commit arguments with typed errors", async () => {
      const store = await freshStore();
      try {
        const bad: [Promise<unknown>, string][] = [
          [store.leaseShard({ workerId: "", leaseMs: 1000 }), "invalid_option"],
          [store.leaseShard({ workerId: "w", leaseMs: 0 }), "invalid_option"],
          [store.leaseShard({ workerId: "w\u0000", leaseMs: 1000 }), "invalid_option"],
          [store.renewShardLease("X", -1, "w", 1000), "invalid_option"],
          [store.commitShardBatch({ cancellationId: "X", shardNo: 0, workerId: "w", leaseMs: 1000, runIds: [], checkpoint: { counts: ZERO_COUNTS, status: "bogus" as "done" } }), "invalid_batch"],
          [store.commitShardBatch({ cancellationId: "X", shardNo: 0, workerId: "w", leaseMs: 1000, runIds: ["bad id"], checkpoint: { counts: ZERO_COUNTS, status: "running" } }), "invalid_batch"],
          [store.commitShardBatch({ cancellationId: "X", shardNo: 0, workerId: "w", leaseMs: 1000, runIds: [], checkpoint: { counts: { ...ZERO_COUNTS, scanned: -1 }, status: "running" } }), "invalid_batch"],
        ];
        for (const [promise, code] of bad) {
          const error = await promise.then(() => undefined, (e: unknown) => e);
          expect(error).toBeInstanceOf(StoreError);
          expect((error as StoreError).code).toBe(code);
        }
        expect(await store.leaseShard({ workerId: "w", leaseMs: 1000, cancellationId: "not an id" })).toEqual({ unfinished: 0 });
      } finally {
        await store.close();
      }
    });
  });

  describe("runWorker", () => {
    const expressions = ["event.data.k == 'a' || int(event.data.s) >= 5", "event.data.plan == 'pro' && int(event.data.s) > 3", "event.data.v", undefined];
    for (const expression of expressions) {
      it(`two workers cancel exactly the oracle's runs, each once, with exact counts (${expression ?? "no if"})`, async () => {
        const schema = newSchema();
        const stores = [await freshStore(3, schema), await freshStore(3, schema)];
        try {
          const runs = [...crowdedRuns(4000, { seed: 11 }), ...crowdedRuns(300, { fn: "other", seed: 12 })];
          await stores[0]!.insertRuns(runs);
          const window = { after: BASE_TIME + 3, before: BASE_TIME + 35 };
          const { cancellation } = await createShardedCancellation(stores[0]!, body(window, expression), { shards: 7 });
          const reports = await Promise.all(
            stores.map((store, i) => runWorker(store, { workerId: `w${i}`, cancellationId: cancellation.id, batchSize: 64, leaseMs: 5000, pollMs: 50 })),
          );
          const entries = oracle(runs, { ...window, ...(expression !== undefined ? { expression } : {}) });
          const expected = oracleCounts(entries);
          const job = (await stores[1]!.getCancellation(cancellation.id))!;
          expect(job.status).toBe("completed");
          expect(job.counts).toEqual(expected);
          expect(sum(reports.flatMap((r) => r.shards.map((s) => s.counts)))).toEqual(expected);
          expect(reports.reduce((n, r) => n + r.cancelled, 0)).toBe(expected.cancelled);
          expect(reports.flatMap((r) => r.shards.map((s) => s.shardNo)).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6]);
          for (const report of reports) expect(report.status).toBe("idle");
          expect(mismatches(runs, entries, cancellation.id, await storedStates(url, schema))).toEqual([]);
        } finally {
          await Promise.all(stores.map((s) => s.close()));
        }
      }, 30_000);
    }

    it("an aborted worker saves its checkpoint and releases its shard; another finishes the job exactly", async () => {
      const store = await freshStore();
      try {
        const runs = crowdedRuns(3000, { seed: 21 });
        await store.insertRuns(runs);
        const window = { before: BASE_TIME + 100 };
        const expression = "event.data.k != 'c'";
        const { cancellation } = await createShardedCancellation(store, body(window, expression), { shards: 2 });
        const controller = new AbortController();
        let events = 0;
        const first = await runWorker(store, {
          workerId: "first",
          cancellationId: cancellation.id,
          batchSize: 50,
          signal: controller.signal,
          onProgress: () => {
            events += 1;
            if (events === 3) controller.abort();
          },
        });
        expect(first.status).toBe("aborted");
        expect(first.shards).toHaveLength(1);
        expect(first.shards[0]!.end).toBe("released");
        const shard = (await store.listShards(cancellation.id))[first.shards[0]!.shardNo]!;
        expect(shard.status).toBe("pending");
        expect(shard.leaseOwner).toBeUndefined();
        expect(shard.counts.scanned).toBeGreaterThan(0);
        expect(shard.counts).toEqual(first.shards[0]!.counts);
        expect((await store.getCancellation(cancellation.id))!.status).toBe("running");

        const second = await runWorker(store, { workerId: "second", cancellationId: cancellation.id, batchSize: 50 });
        expect(second.shards.map((s) => s.end)).toEqual(["done", "done"]);
        const entries = oracle(runs, { ...window, expression });
        const job = (await store.getCancellation(cancellation.id))!;
        expect(job.status).toBe("completed");
        expect(job.counts).toEqual(oracleCounts(entries));
        expect(first.cancelled + second.cancelled).toBe(job.counts.cancelled);
      } finally {
        await store.close();
      }
    });

    it("a stalled worker loses its shard when its lease expires; its late commit is refused; the counts stay exact", async () => {
      const schema = newSchema();
      const fast = await freshStore(3, schema);
      const slow = await freshStore(3, schema);
      try {
        const runs = crowdedRuns(3000, { seed: 31 });
        await fast.insertRuns(runs);
        const window = { before: BASE_TIME + 100 };
        const expression = "event.data.plan != 'free'";
        const { cancellation } = await createShardedCancellation(fast, body(window, expression), { shards: 1 });
        // The stalled worker leases the shard, scans a page, and hangs in its first commit.
        const stalled = stalledStore(slow);
        const stalledRun = runWorker(stalled.store, { workerId: "stalled", cancellationId: cancellation.id, batchSize: 100, leaseMs: 60_000, pollMs: 50 });
        await pollUntil(() => stalled.held() > 0, "the stalled worker's first commit");
        expect((await fast.listShards(cancellation.id))[0]).toMatchObject({ status: "running", leaseOwner: "stalled" });
        // Its lease runs out while it hangs; another worker takes the shard and finishes it.
        await expireLease(url, schema, cancellation.id, 0);
        const taker = await runWorker(fast, { workerId: "taker", cancellationId: cancellation.id, batchSize: 100, leaseMs: 60_000, pollMs: 50 });
        // Then the stalled worker's commit (and any renewal) arrives, late.
        stalled.release();
        const stalledReport = await stalledRun;
        expect(stalledReport.shards).toEqual([expect.objectContaining({ shardNo: 0, end: "lease_lost", scanned: 0, cancelled: 0 })]);
        expect(taker.shards).toEqual([expect.objectContaining({ shardNo: 0, end: "done" })]);
        const entries = oracle(runs, { ...window, expression });
        const job = (await fast.getCancellation(cancellation.id))!;
        expect(job.counts).toEqual(oracleCounts(entries));
        expect(job.status).toBe("completed");
      } finally {
        await Promise.all([fast.close(), slow.close()]);
      }
    });

    it("deleting the cancellation stops every worker at its next commit; runs already cancelled stay cancelled", async () => {
      const schema = newSchema();
      const stores = [await freshStore(3, schema), await freshStore(3, schema)];
      try {
        const runs = crowdedRuns(3000, { seed: 41, msSpread: 400 });
        await stores[0]!.insertRuns(runs);
        const { cancellation } = await createShardedCancellation(stores[0]!, body({ before: BASE_TIME + 1000 }), { shards: 4 });
        let deleted = false;
        const onProgress = (p: WorkerProgress): void => {
          if (!deleted && p.cancelled >= 40) {
            deleted = true;
            void stores[0]!.deleteCancellation(cancellation.id);
          }
        };
        const reports = await Promise.all(
          stores.map((store, i) => runWorker(store, { workerId: `d${i}`, cancellationId: cancellation.id, batchSize: 20, ratePerSecond: 400, onProgress })),
        );
        expect(deleted).toBe(true);
        expect(reports.flatMap((r) => r.shards.map((s) => s.end))).toContain("deleted");
        expect(reports.flatMap((r) => r.shards.map((s) => s.end))).not.toContain("done");
        expect(await stores[0]!.getCancellation(cancellation.id)).toBeUndefined();
        const marked = (await Promise.all(runs.map((r) => stores[0]!.getRun(r.id)))).filter((r) => r!.cancellationId === cancellation.id);
        expect(marked.length).toBeGreaterThan(0);
        expect(marked.length).toBeLessThan(runs.filter((r) => r.status !== "completed" && r.status !== "failed" && r.status !== "cancelled").length);
        for (const run of marked) expect(run!.status).toBe("cancelled");
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    it("resumeCancellation of a sharded job joins it as a worker and reports the whole job", async () => {
      const store = await freshStore();
      try {
        const runs = crowdedRuns(2000, { seed: 51 });
        await store.insertRuns(runs);
        const window = { before: BASE_TIME + 100 };
        const expression = "event.data.k == 'b'";
        const { cancellation } = await createShardedCancellation(store, body(window, expression), { shards: 3 });
        const progress: number[] = [];
        const report = await resumeCancellation(store, cancellation.id, { batchSize: 100, onProgress: (p) => progress.push(p.scanned) });
        const expected = oracleCounts(oracle(runs, { ...window, expression }));
        expect(report.status).toBe("completed");
        expect(report.created).toBe(false);
        expect(report.outcomes).toEqual(expected);
        expect(report.cancellation.status).toBe("completed");
        expect(progress.length).toBeGreaterThan(0);
        expect(progress[progress.length - 1]).toBe(expected.scanned);
        await expect(resumeCancellation(store, (await createShardedCancellation(store, body(window), { shards: 2 })).cancellation.id, { dryRun: true })).rejects.toThrow(TypeError);
      } finally {
        await store.close();
      }
    });

    it("createShardedCancellation validates like cancelRuns, keeps idempotency keys, and refuses stores that cannot be shared", async () => {
      const store = await freshStore();
      try {
        await expect(createShardedCancellation(store, { app_id: "app" }, { shards: 2 })).rejects.toThrow(ValidationError);
        await expect(createShardedCancellation(store, body({ before: BASE_TIME }, "event.data.k =="), { shards: 2 })).rejects.toThrow(/invalid expression/);
        for (const shards of [0, 1001, 2.5, Number.NaN]) {
          await expect(createShardedCancellation(store, body({ before: BASE_TIME }), { shards })).rejects.toThrow(RangeError);
        }
        await expect(createShardedCancellation(new MemoryRunStore(), body({ before: BASE_TIME }), { shards: 2 })).rejects.toThrow(/cannot share a job/);
        await expect(runWorker(new MemoryRunStore())).rejects.toThrow(/cannot share a job/);
        expect(isShardedRunStore(store)).toBe(true);
        expect(isShardedRunStore(new MemoryRunStore())).toBe(false);

        await store.insertRuns(crowdedRuns(500));
        const first = await createShardedCancellation(store, body({ before: BASE_TIME + 100 }), { shards: 4, idempotencyKey: "k1" });
        expect(first).toMatchObject({ shards: 4, created: true });
        const again = await createShardedCancellation(store, body({ before: BASE_TIME + 100 }), { shards: 4, idempotencyKey: "k1" });
        expect(again).toEqual({ ...first, created: false });
        await expect(createShardedCancellation(store, body({ before: BASE_TIME + 99 }), { shards: 4, idempotencyKey: "k1" })).rejects.toThrow(ConflictError);
        // A key first used by cancelRuns names an unsharded job.
        const plain = await cancelRuns(store, body({ before: BASE_TIME + 1 }, "false"), { idempotencyKey: "k2" });
        expect(await createShardedCancellation(store, body({ before: BASE_TIME + 1 }, "false"), { shards: 3, idempotencyKey: "k2" })).toMatchObject({
          shards: 0,
          created: false,
          cancellation: { id: plain.cancellation.id },
        });
        await expect(runWorker(store, { cancellationId: plain.cancellation.id })).rejects.toThrow(/is not sharded/);
        // An empty window: one shard, completed by the first worker.
        const empty = await createShardedCancellation(store, body({ after: BASE_TIME - 1000, before: BASE_TIME - 500 }), { shards: 8 });
        expect(empty.shards).toBe(1);
        const report: WorkerReport = await runWorker(store, { cancellationId: empty.cancellation.id });
        expect(report.shards.map((s) => s.end)).toEqual(["done"]);
        expect((await store.getCancellation(empty.cancellation.id))!).toMatchObject({ status: "completed", counts: ZERO_COUNTS });
      } finally {
        await store.close();
      }
    });

    it("rejects bad worker options and unknown cancellations with typed errors", async () => {
      const store = await freshStore();
      try {
        for (const [options, error] of [
          [{ leaseMs: 0 }, RangeError],
          [{ leaseMs: 1.5 }, RangeError],
          [{ pollMs: -1 }, RangeError],
          [{ batchSize: 0 }, RangeError],
          [{ workerId: "" }, TypeError],
          [{ exitWhenIdle: "yes" }, TypeError],
          [{ pushdown: 1 }, TypeError],
          [{ cancellationId: "" }, TypeError],
        ] as const) {
          await expect(runWorker(store, options as never)).rejects.toThrow(error);
        }
        await expect(runWorker(store, { cancellationId: "01UNKNOWN" })).rejects.toThrow(CancellationNotFoundError);
        // Nothing to do anywhere: an idle worker returns at once.
        expect(await runWorker(store, { environmentId: "nowhere" })).toMatchObject({ status: "idle", shards: [], scanned: 0 });
      } finally {
        await store.close();
      }
    });
  });

  describe("four worker processes, one killed with SIGKILL midway (200,000 runs)", () => {
    interface ChildLine {
      readonly progress?: { readonly shardNo: number; readonly counts: OutcomeCounts; readonly done: boolean };
      readonly report?: WorkerReport;
    }

    const startChild = (args: readonly string[], onLine: (line: ChildLine) => boolean) => startJsonLineChild<ChildLine>(CHILD, args, onLine);

    it("cancels every matching run exactly once, changes no other run, and ends with exact counts", async () => {
      const schema = newSchema();
      const store = await freshStore(4, schema);
      try {
        const began = performance.now();
        // 200,000 runs of the job's function, ten per millisecond and a burst of 6,000 in one
        // millisecond (shard cuts fall inside it); plus runs just outside the window and runs of
        // another function inside it, which must not change.
        const random = seededRandom(2024);
        const runs: RunRecord[] = [];
        const windowStart = BASE_TIME + 1000;
        const burstAt = windowStart + 9000;
        const pick = <T,>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
        const make = (functionId: string, startedAt: number, i: number): RunRecord => ({
          id: fixtureUlid(startedAt, random),
          appId: "app",
          functionId,
          startedAt,
          status: pick(RUN_STATUSES_MIX),
          event: {
            name: "app/order.created",
            id: `evt-${functionId}-${i}`,
            data: {
              plan: pick(["free", "pro", "team"]),
              s: pick(["1", "4", "7", "x"]),
              // An invalid pattern makes `matches` an evaluation error: counted, never fatal.
              r: pick(["^[47]", "^1", "["]),
              amount: Math.round(random() * 10_000) / 100,
              region: pick(["eu", "us", "ap"]),
            },
          },
        });
        for (let i = 0; i < 194_000; i++) runs.push(make("fn", windowStart + Math.floor(i / 10), i));
        for (let i = 0; i < 6000; i++) runs.push(make("fn", burstAt, 194_000 + i));
        for (let i = 0; i < 3000; i++) runs.push(make("fn", windowStart - 1 - (i % 500), i), make("fn", windowStart + 19_401 + (i % 500), i));
        for (let i = 0; i < 4000; i++) runs.push(make("other", windowStart + i * 4, i));
        for (let from = 0; from < runs.length; from += 25_000) await store.insertRuns(runs.slice(from, from + 25_000));
        const window = { after: windowStart, before: windowStart + 19_400 };
        // Partly pushed down (the plan), partly decided by the closure (the pattern the data
        // chooses; a pattern read whole from the data would be refused as too costly).
        const expression =
          "event.data.plan == 'pro' && event.data.s.matches(event.data.r == '^1' ? '^1' : event.data.r == '[' ? '[' : '^[47]')";
        const entries = oracle(runs, { ...window, expression });
        const expected = oracleCounts(entries);
        expect(expected.scanned).toBe(200_000);
        expect(expected.cancelled).toBeGreaterThan(5_000);
        expect(expected.skipped_terminal).toBeGreaterThan(1_000);
        expect(expected.expression_error).toBeGreaterThan(5_000);
        const { cancellation, shards } = await createShardedCancellation(store, body(window, expression), { shards: 8 });
        expect(shards).toBe(8);
        const setupMs = performance.now() - began;

        const t0 = performance.now();
        let killedShard: number | undefined;
        let atKill: ReturnType<typeof inspectShard> | undefined;
        /**
         * The shard as the kill left it (read at once: no one can take it over before its 2 s
         * lease expires), and the runs the dead worker cancelled past its saved checkpoint.
         */
        const inspectShard = async (shardNo: number) => {
          const shard = (await store.listShards(cancellation.id))[shardNo]!;
          const from = shard.cursor ?? shard.after;
          const cancelledRuns = await withClient(async (client) => {
            const { rows } = await client.query<{ id: string; started_at: string }>(
              `SELECT id, started_at FROM ${client.escapeIdentifier(schema)}.runs WHERE cancellation_id = $1`,
              [cancellation.id],
            );
            return rows.map((row) => ({ id: row.id, startedAt: Number(row.started_at) }));
          }, url);
          const pastCheckpoint = cancelledRuns.filter(
            (run) => (from === undefined || compareCursor(run, from) > 0) && (shard.until === undefined || compareCursor(run, shard.until) <= 0),
          ).length;
          return { shard, pastCheckpoint };
        };
        let victimEvents = 0;
        const victimShardEvents = new Map<number, number>();
        const workers = Array.from({ length: 4 }, (_, i) =>
          startChild([url, schema, cancellation.id, `worker-${i}`, "2000", "200"], (line) => {
            if (i !== 0 || line.progress === undefined || killedShard !== undefined) return false;
            victimEvents += 1;
            const { shardNo, counts, done } = line.progress;
            const seen = (victimShardEvents.get(shardNo) ?? 0) + 1;
            victimShardEvents.set(shardNo, seen);
            // Midway through a shard: a few batches of it committed (so its saved checkpoint has
            // moved), runs cancelled, the shard not finished.
            if (seen >= 3 && counts.cancelled > 0 && !done) {
              killedShard = shardNo;
              atKill = inspectShard(shardNo);
              return true;
            }
            return false;
          }),
        );
        const results = await Promise.all(workers.map((w) => w.done));
        const elapsedMs = performance.now() - t0;

        const describeLines = (lines: readonly ChildLine[]): string => JSON.stringify(lines.map((l) => (l.progress !== undefined ? [l.progress.shardNo, l.progress.counts.scanned, l.progress.done] : "report")));
        expect(results[0]!.signal, `worker-0 was not killed: ${describeLines(results[0]!.lines)} ${results[0]!.stderr}`).toBe("SIGKILL");
        expect(results[0]!.lines.some((l) => l.report !== undefined)).toBe(false);
        expect(killedShard).toBeDefined();
        const killed = await atKill!;
        expect(killed.shard).toMatchObject({ status: "running", leaseOwner: "worker-0" });
        expect(killed.shard.counts.scanned).toBeGreaterThan(0);
        const reports: WorkerReport[] = [];
        for (const result of results.slice(1)) {
          expect(result.stderr).toBe("");
          expect(result.code).toBe(0);
          reports.push(result.lines.find((l) => l.report !== undefined)!.report!);
        }
        // The killed worker's shard was finished by another, from the checkpoint it left.
        const takeover = reports.flatMap((r) => r.shards).find((s) => s.shardNo === killedShard);
        expect(takeover).toBeDefined();
        expect(takeover!.end).toBe("done");
        expect(takeover!.scanned).toBeLessThan(takeover!.counts.scanned);

        const job = (await store.getCancellation(cancellation.id))!;
        expect(job.status).toBe("completed");
        expect(job.counts).toEqual(expected);
        const shardRows = await store.listShards(cancellation.id);
        expect(shardRows.every((s) => s.status === "done")).toBe(true);
        expect(sum(shardRows.map((s) => s.counts))).toEqual(expected);

        // Every run, read back: the oracle's runs cancelled by this job, every other run as inserted.
        const stored = await storedStates(url, schema);
        expect(stored.size).toBe(runs.length);
        expect(mismatches(runs, entries, cancellation.id, stored)).toEqual([]);
        expect(runs.filter((run) => stored.get(run.id)!.status !== run.status)).toHaveLength(expected.cancelled);

        console.info(
          `worker-kill test: 4 workers, 8 shards, lease 2 s; worker-0 SIGKILLed in shard ${killedShard} after ${victimEvents} progress events; ` +
            `its checkpoint then: ${killed.shard.counts.scanned} scanned, ${killed.shard.counts.cancelled} cancelled, ${killed.pastCheckpoint} runs cancelled past it (the unsettled batch); ` +
            `shard ${killedShard} resumed by ${reports.find((r) => r.shards.some((s) => s.shardNo === killedShard))!.workerId} at ${takeover!.counts.scanned - takeover!.scanned} of ${takeover!.counts.scanned} runs; ` +
            `job ${JSON.stringify(job.counts)}; workers ${elapsedMs.toFixed(0)} ms (setup ${setupMs.toFixed(0)} ms)`,
        );
      } finally {
        for (const child of runningChildren) child.kill("SIGKILL");
        await store.close();
      }
    }, 120_000);
  });
});
