/**
 * The run-store conformance suite: one set of behaviours every {@link RunStore} must show, run
 * once per store (`test/stores/<store>.test.ts` call {@link describeRunStoreConformance}).
 *
 * Each test gets a fresh store from `makeStore`; afterwards the suite closes it and calls
 * `cleanup`. Tests that need many independent data sets (the property tests) reuse one store and
 * keep data sets apart by unique app ids, so a slow-to-create store stays fast.
 *
 * @module
 */
import fc from "fast-check";
import { monotonicFactory } from "ulid";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  DEFAULT_ENVIRONMENT_ID,
  StoreError,
  ZERO_COUNTS,
  compareCursor,
  isNonTerminal,
  type CancellationChange,
  type CancellationRecord,
  type Checkpoint,
  type OutcomeCounts,
  type PushdownHint,
  type RunRecord,
  type RunStatus,
  type RunStore,
} from "../../src/stores/types.js";
import { MAX_PREDICATE_SIZE, atom } from "../../src/stores/predicate.js";
import {
  BASE_TIME,
  expectedStored,
  generateRuns,
  jsonValueArb,
  makeCancellation,
  makeRun,
  runIdArb,
  scanAllPages,
  seededRandom,
  windowOracle,
} from "./fixtures.js";
import { describeLeaseConformance } from "./lease-conformance.js";
import { pollUntil } from "../support/poll.js";

/** Store-specific extras of the suite. */
export interface ConformanceOptions {
  /**
   * Builds a pushdown hint that keeps the runs whose `event.data[field]` equals the number `value`
   * (e.g. `json_extract(event, '$.data.n') = ?` for SQLite). Stores that apply pushdowns pass it,
   * to have the short-page and `prefiltered` semantics checked.
   */
  readonly pushdownNumberEquals?: (field: string, value: number) => PushdownHint;
  /** Runs per fast-check iteration of the paging property. Default 60. */
  readonly propertyRunCount?: number;
  /** fast-check iterations of the paging property. Default 60. */
  readonly propertyIterations?: number;
  /**
   * Opens a second store object on the same data, as another process would (an SQLite file, a
   * PostgreSQL schema), to check that `watchCancellations` reports its changes; closed by the
   * suite. Stores whose data nobody shares (memory, SQLite `:memory:`) leave it out.
   */
  readonly openSibling?: (store: RunStore) => Promise<RunStore>;
  /** `pollMs` for the cross-object watch test. Default 20. */
  readonly watchPollMs?: number;
}

/** Asserts that a promise rejects with a {@link StoreError} of the given code. */
async function expectStoreError(promise: Promise<unknown>, code: StoreError["code"], message?: RegExp): Promise<StoreError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, "expected a StoreError").toBeInstanceOf(StoreError);
  const error = caught as StoreError;
  expect(error.code).toBe(code);
  if (message !== undefined) expect(error.message).toMatch(message);
  return error;
}

const counts = (partial: Partial<OutcomeCounts>): OutcomeCounts => ({ ...ZERO_COUNTS, ...partial });

/** Waits (up to 15 s: a liveness bound, not a timing assertion) until `done()` holds. */
const waitUntil = pollUntil;

/**
 * Registers the conformance suite for one store.
 *
 * @param name - Shown in the `describe` title.
 * @param makeStore - Returns a fresh, empty store.
 * @param cleanup - Called after each test once the store is closed (delete files, drop schemas).
 * @param options - Store-specific extras.
 */
export function describeRunStoreConformance(
  name: string,
  makeStore: () => Promise<RunStore>,
  cleanup?: (store: RunStore) => Promise<void> | void,
  options: ConformanceOptions = {},
): void {
  describeLeaseConformance(name, makeStore, cleanup, options.openSibling !== undefined ? { openSibling: options.openSibling } : {});
  describe(`RunStore conformance: ${name}`, () => {
    let store: RunStore;
    const nextUlid = monotonicFactory();

    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
      await cleanup?.(store);
    });

    describe("runs", () => {
      it("round-trips runs: nested data, unicode, numbers, nulls, optional event fields", async () => {
        const rich = makeRun({
          id: "01HZZZZZZZZZZZZZZZZZZZZZZ1",
          environmentId: "prod",
          appId: "shop 🛒",
          functionId: "fn/with/slashes",
          startedAt: BASE_TIME + 17,
          status: "sleeping",
          event: {
            name: "app/order.créé",
            id: "evt_1",
            ts: 1_700_000_000_123,
            user: { email: "ü@example.com", roles: ["a", "b"] },
            data: {
              text: "naïve café — 東京 😁 \n\t\"quoted\" \\ \u001f",
              int: 42,
              negative: -7,
              float: 0.1 + 0.2,
              big: 1e300,
              tiny: 5e-324,
              maxSafe: Number.MAX_SAFE_INTEGER,
              zero: 0,
              bool: false,
              nothing: null,
              empty: {},
              emptyList: [],
              nested: { deep: { deeper: { deepest: [1, "two", null, { three: [3.5] }] } } },
              list: [null, true, "x", 1.5, [[]]],
              "key with spaces": 1,
              "": "empty key",
              // A computed key makes an own property; a literal `__proto__:` would set the prototype.
              ["__proto__"]: { polluted: true },
            },
          },
          cancellationId: "01HCANCELLATIONXXXXXXXXXXX",
        });
        const plain = makeRun({ id: "01HPLAIN", status: "completed" });
        await store.insertRuns([rich, plain]);
        const gotRich = await store.getRun(rich.id);
        expect(gotRich).toEqual(rich);
        const data = gotRich!.event.data as Record<string, unknown>;
        expect(Object.is(data["float"], 0.1 + 0.2) && Object.is(data["tiny"], 5e-324) && Object.is(data["big"], 1e300)).toBe(true);
        expect(Object.getPrototypeOf(gotRich!.event.data)).toBe(Object.prototype);
        expect(Object.prototype.hasOwnProperty.call(gotRich!.event.data, "__proto__")).toBe(true);
        expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
        // environmentId is filled in with the default; absent optional fields stay absent.
        const gotPlain = await store.getRun(plain.id);
        expect(gotPlain).toEqual(expectedStored(plain));
        expect(gotPlain).not.toHaveProperty("cancellationId");
        expect(gotPlain!.event).not.toHaveProperty("id");
        expect(await store.getRun("01HMISSING")).toBeUndefined();
      });

      it("round-trips arbitrary JSON event data (property)", async () => {
        let n = 0;
        await fc.assert(
          fc.asyncProperty(fc.dictionary(fc.string({ maxLength: 8 }), jsonValueArb, { maxKeys: 6 }), async (data) => {
            const run = makeRun({ id: `PROP-${n++}`, event: { name: "p", data } });
            await store.insertRuns([run]);
            const got = await store.getRun(run.id);
            expect(JSON.parse(JSON.stringify(got!.event.data))).toEqual(JSON.parse(JSON.stringify(data)));
          }),
          { numRuns: 60 },
        );
      });

      it("stores a NUL character inside strings", async () => {
        const run = makeRun({ id: "NUL", event: { name: "e\u0000", data: { s: "a\u0000b", ["k\u0000"]: 1 } } });
        await store.insertRuns([run]);
        expect(await store.getRun("NUL")).toEqual(expectedStored(run));
      });

      it("drops object properties whose value is undefined, as JSON does", async () => {
        const run = makeRun({ id: "UNDEF", event: { name: "e", data: { a: 1, b: undefined } } });
        await store.insertRuns([run]);
        expect((await store.getRun("UNDEF"))!.event.data).toEqual({ a: 1 });
        expect((await store.getRun("UNDEF"))!.event.data).not.toHaveProperty("b");
      });

      it("keeps its own copy: mutating inserted or returned objects does not change the store", async () => {
        const data: Record<string, unknown> = { n: 1, nested: { list: [1, 2] } };
        const run = { ...makeRun({ id: "COPY-1" }), event: { name: "e", data } };
        await store.insertRuns([run]);
        data["n"] = 2;
        (data["nested"] as { list: number[] }).list.push(3);
        (run as { status: RunStatus }).status = "completed";
        const got = await store.getRun("COPY-1");
        expect(got!.event.data).toEqual({ n: 1, nested: { list: [1, 2] } });
        expect(got!.status).toBe("running");
        try {
          (got as { status: RunStatus }).status = "failed";
          ((got!.event.data as Record<string, unknown>)["nested"] as { list: number[] }).list.push(9);
        } catch {
          // Frozen records refuse mutation; either way the store must be unchanged.
        }
        const again = await store.getRun("COPY-1");
        expect(again!.status).toBe("running");
        expect(again!.event.data).toEqual({ n: 1, nested: { list: [1, 2] } });
      });

      it("replaces a run inserted again under the same id, also across functions", async () => {
        await store.insertRuns([makeRun({ id: "R1", functionId: "a", startedAt: BASE_TIME })]);
        await store.insertRuns([makeRun({ id: "R1", functionId: "b", startedAt: BASE_TIME + 5, status: "queued" })]);
        expect((await store.getRun("R1"))!.functionId).toBe("b");
        const a = await store.scanRuns({ appId: "app", functionId: "a", startedBefore: BASE_TIME + 10, limit: 10 });
        const b = await store.scanRuns({ appId: "app", functionId: "b", startedBefore: BASE_TIME + 10, limit: 10 });
        expect(a.runs).toEqual([]);
        expect(b.runs.map((r) => [r.id, r.startedAt, r.status])).toEqual([["R1", BASE_TIME + 5, "queued"]]);
        // Replacing within one call: the last occurrence wins.
        await store.insertRuns([makeRun({ id: "R2", status: "queued" }), makeRun({ id: "R2", status: "failed" })]);
        expect((await store.getRun("R2"))!.status).toBe("failed");
        const all = await scanAllPages(store, { appId: "app", functionId: "fn", startedBefore: BASE_TIME + 10, limit: 1 });
        expect(all.runs.map((r) => r.id)).toEqual(["R2"]);
      });

      describe("insertRunStream (all or nothing)", () => {
        async function* yieldAll(batches: readonly (readonly RunRecord[])[], failAfter?: { readonly count: number; readonly error: unknown }) {
          let n = 0;
          for (const batch of batches) {
            if (failAfter !== undefined && n === failAfter.count) throw failAfter.error;
            // A turn of the event loop between batches, as a file reader gives.
            await new Promise((resolve) => setImmediate(resolve));
            yield batch;
            n++;
          }
          if (failAfter !== undefined && n === failAfter.count) throw failAfter.error;
        }
        const runsOf = (prefix: string, count: number, from = 0) =>
          Array.from({ length: count }, (_, i) => makeRun({ id: `${prefix}${String(from + i).padStart(5, "0")}`, startedAt: BASE_TIME + ((from + i) % 7) }));
        const windowIds = async () => (await scanAllPages(store, { appId: "app", functionId: "fn", startedBefore: BASE_TIME + 10, limit: 500 })).runs.map((r) => r.id).sort();

        it("inserts every batch, the last of two runs with one id winning, and returns how many were given", async () => {
          await store.insertRuns([makeRun({ id: "OLD", status: "queued" })]);
          const batches = [runsOf("S", 700), runsOf("S", 700, 700), [makeRun({ id: "S00003", status: "failed" }), makeRun({ id: "OLD", status: "completed" })]];
          expect(await store.insertRunStream(yieldAll(batches))).toBe(1402);
          expect((await windowIds()).length).toBe(1401);
          expect((await store.getRun("S00003"))!.status).toBe("failed");
          expect((await store.getRun("OLD"))!.status).toBe("completed");
          expect(await store.insertRunStream(yieldAll([]))).toBe(0);
        });

        it("leaves the store as it was when the input fails midway, passing its error on", async () => {
          await store.insertRuns([makeRun({ id: "KEEP", status: "queued" })]);
          const failure = new Error("the file ends in the middle of record 1401");
          const caught = await store
            .insertRunStream(yieldAll([runsOf("F", 700), [...runsOf("F", 699, 700), makeRun({ id: "KEEP", status: "failed" })], runsOf("F", 10, 1399)], { count: 2, error: failure }))
            .catch((error: unknown) => error);
          expect(caught).toBe(failure);
          expect(await windowIds()).toEqual(["KEEP"]);
          expect((await store.getRun("KEEP"))!.status).toBe("queued");
          // The store goes on working, and a later stream of the same runs goes in whole.
          expect(await store.insertRunStream(yieldAll([runsOf("F", 5)]))).toBe(5);
          expect((await windowIds()).length).toBe(6);
        });

        it("rolls back when a later batch holds an invalid run, with the run's error", async () => {
          const error = await expectStoreError(
            store.insertRunStream(yieldAll([runsOf("V", 300), [makeRun({ id: "V99999" }), { ...makeRun({ id: "BAD" }), status: "paused" } as unknown as RunRecord]])),
            "invalid_run",
            /status must be one of/,
          );
          expect(error.message).toMatch(/runs\[1\]/);
          expect(await windowIds()).toEqual([]);
          await expectStoreError(store.insertRunStream([runsOf("X", 1)] as never), "invalid_run", /async iterable/);
        });

        it("shows none of its runs to readers until it ends, and keeps other writers' runs when it fails", async () => {
          let release!: () => void;
          const gate = new Promise<void>((resolve) => (release = resolve));
          const failure = new Error("stop");
          // Set once the store asks for the second chunk, so it has taken the first one in.
          let firstTaken = false;
          const stream = store
            .insertRunStream(
              (async function* () {
                yield runsOf("W", 200);
                firstTaken = true;
                await gate;
                throw failure;
              })(),
            )
            .catch((error: unknown) => error);
          await pollUntil(() => firstTaken, "the stream to take its first chunk");
          expect(await windowIds()).toEqual([]);
          await store.insertRuns([makeRun({ id: "OTHER" })]);
          release();
          expect(await stream).toBe(failure);
          expect(await windowIds()).toEqual(["OTHER"]);
        });
      });

      it("accepts an empty insert", async () => {
        await store.insertRuns([]);
        expect(await store.getRun("X")).toBeUndefined();
      });

      const badRuns: [string, unknown, RegExp][] = [
        ["a non-object", 42, /expected a run object/],
        ["a missing id", { ...makeRun({ id: "x" }), id: undefined }, /id must be/],
        ["an id with a space", makeRun({ id: "has space" }), /id must be/],
        ["a non-ASCII id", makeRun({ id: "ünïcode" }), /id must be/],
        ["a too long id", makeRun({ id: "x".repeat(129) }), /id must be/],
        ["an empty appId", makeRun({ id: "x", appId: "" }), /appId must be a non-empty string/],
        ["a numeric functionId", { ...makeRun({ id: "x" }), functionId: 7 }, /functionId must be a non-empty string/],
        ["a string startedAt", { ...makeRun({ id: "x" }), startedAt: "2024-01-01" }, /startedAt must be an integer/],
        ["a fractional startedAt", makeRun({ id: "x", startedAt: 1.5 }), /startedAt must be an integer/],
        ["a NaN startedAt", makeRun({ id: "x", startedAt: Number.NaN }), /startedAt must be an integer.*NaN/],
        ["an unknown status", { ...makeRun({ id: "x" }), status: "paused" }, /status must be one of/],
        ["an unknown field", { ...makeRun({ id: "x" }), output: 1 }, /unknown field "output"/],
        ["a missing event", { ...makeRun({ id: "x" }), event: undefined }, /event must be an object/],
        ["an event without data", { ...makeRun({ id: "x" }), event: { name: "e" } }, /event\.data must be an object/],
        ["an event name that is not a string", { ...makeRun({ id: "x" }), event: { name: 1, data: {} } }, /event\.name must be a string/],
        ["a NaN in data", makeRun({ id: "x", event: { name: "e", data: { a: { b: [1, Number.NaN] } } } }), /event\.data\.a\.b\[1\]: NaN is not a JSON number/],
        ["an Infinity in data", makeRun({ id: "x", event: { name: "e", data: { v: Infinity } } }), /event\.data\.v: Infinity is not a JSON number/],
        ["a bigint in data", makeRun({ id: "x", event: { name: "e", data: { v: 10n } } }), /a bigint is not a JSON value/],
        ["a function in data", makeRun({ id: "x", event: { name: "e", data: { f: () => 1 } } }), /a function is not a JSON value/],
        ["a Date in data", makeRun({ id: "x", event: { name: "e", data: { d: new Date(0) } } }), /a Date is not a JSON value/],
        ["a Map in data", makeRun({ id: "x", event: { name: "e", data: { m: new Map() } } }), /a Map is not a JSON value/],
        ["undefined in an array", makeRun({ id: "x", event: { name: "e", data: { l: [1, undefined] } } }), /event\.data\.l\[1\]: undefined/],
        ["a lone surrogate", makeRun({ id: "x", event: { name: "e", data: { s: "\ud800" } } }), /lone UTF-16 surrogate/],
        ["a user that is not an object", { ...makeRun({ id: "x" }), event: { name: "e", data: {}, user: "u" } }, /event\.user must be an object/],
        ["a ts that is not a number", { ...makeRun({ id: "x" }), event: { name: "e", data: {}, ts: "now" } }, /event\.ts must be a finite number/],
      ];
      for (const [what, bad, message] of badRuns) {
        it(`rejects ${what} with a typed error and writes nothing of the batch`, async () => {
          const good = makeRun({ id: "GOOD-BEFORE" });
          const error = await expectStoreError(store.insertRuns([good, bad as RunRecord]), "invalid_run", message);
          expect(error.message).toMatch(/^runs\[1\]/);
          expect(await store.getRun("GOOD-BEFORE")).toBeUndefined();
        });
      }

      it("rejects cyclic and too deeply nested data", async () => {
        const cyclic: Record<string, unknown> = { a: 1 };
        cyclic["self"] = cyclic;
        await expectStoreError(store.insertRuns([makeRun({ id: "C", event: { name: "e", data: cyclic } })]), "invalid_run", /cyclic/);
        let deep: unknown = 1;
        for (let i = 0; i < 150; i++) deep = [deep];
        await expectStoreError(store.insertRuns([makeRun({ id: "D", event: { name: "e", data: { deep } } })]), "invalid_run", /nested deeper/);
        let ok: unknown = 1;
        for (let i = 0; i < 90; i++) ok = { x: ok };
        await store.insertRuns([makeRun({ id: "OK", event: { name: "e", data: { ok } } })]);
        expect(JSON.stringify((await store.getRun("OK"))!.event.data)).toBe(JSON.stringify({ ok }));
      });

      it("rejects a non-array argument", async () => {
        await expectStoreError(store.insertRuns("nope" as unknown as RunRecord[]), "invalid_run", /array/);
      });
    });

    describe("scanRuns", () => {
      it("returns a window in (startedAt, id) order, never skipping or repeating across pages, for any page size", async () => {
        // 3,000 runs in 4 milliseconds: thousands tie on startedAt across every page boundary.
        const runs = generateRuns({ count: 3000, seed: 7, spreadMs: 4, statuses: ["running", "completed"] });
        const random = seededRandom(70);
        const shuffled = runs.map((run) => ({ run, key: random() })).sort((a, b) => a.key - b.key).map((x) => x.run);
        await store.insertRuns(shuffled);
        const query = { appId: "app", functionId: "fn", startedAfter: BASE_TIME, startedBefore: BASE_TIME + 3 };
        const expected = windowOracle(runs, query).map((r) => r.id);
        expect(expected.length).toBe(3000);
        for (const limit of [1, 7, 999, 1000, 1001, 2999, 3000, 5000]) {
          if (limit === 1) {
            // Page size 1 over 3,000 runs costs 3,000 round trips; check the first 400 only.
            let after: RunRecord | undefined;
            const seen: string[] = [];
            for (let i = 0; i < 400; i++) {
              const page = await store.scanRuns(after === undefined ? { ...query, limit } : { ...query, limit, after });
              expect(page.runs.length).toBe(1);
              seen.push(page.runs[0]!.id);
              after = page.runs[0];
            }
            expect(seen).toEqual(expected.slice(0, 400));
            continue;
          }
          const { runs: got, pages } = await scanAllPages(store, { ...query, limit });
          expect(got.map((r) => r.id), `limit ${limit}`).toEqual(expected);
          for (const page of pages.slice(0, -1)) expect(page.runs.length).toBe(limit);
          expect(pages.length).toBe(Math.max(1, Math.ceil(3000 / limit)));
        }
      });

      it("reports the exhausted window with next absent, and a full last page needs no extra call", async () => {
        const runs = generateRuns({ count: 10, seed: 3, spreadMs: 2 });
        await store.insertRuns(runs);
        const query = { appId: "app", functionId: "fn", startedBefore: BASE_TIME + 10 };
        const exact = await store.scanRuns({ ...query, limit: 10 });
        expect(exact.runs.length).toBe(10);
        expect(exact.next).toBeUndefined();
        const first = await store.scanRuns({ ...query, limit: 4 });
        expect(first.next).toEqual({ startedAt: first.runs[3]!.startedAt, id: first.runs[3]!.id });
        const last = windowOracle(runs, query).at(-1)!;
        const after = await store.scanRuns({ ...query, limit: 4, after: { startedAt: last.startedAt, id: last.id } });
        expect(after).toEqual({ runs: [] });
        const empty = await store.scanRuns({ ...query, functionId: "nothing-here", limit: 4 });
        expect(empty.runs).toEqual([]);
        expect(empty.next).toBeUndefined();
      });

      it("includes both window bounds", async () => {
        const at = (id: string, startedAt: number) => makeRun({ id, startedAt });
        await store.insertRuns([
          at("A-before", BASE_TIME - 1),
          at("B-lower", BASE_TIME),
          at("C-lower", BASE_TIME),
          at("D-mid", BASE_TIME + 50),
          at("E-upper", BASE_TIME + 100),
          at("F-upper", BASE_TIME + 100),
          at("G-after", BASE_TIME + 101),
        ]);
        const ids = async (startedAfter: number | undefined, startedBefore: number) =>
          (
            await scanAllPages(store, {
              appId: "app",
              functionId: "fn",
              startedBefore,
              limit: 2,
              ...(startedAfter === undefined ? {} : { startedAfter }),
            })
          ).runs.map((r) => r.id);
        expect(await ids(BASE_TIME, BASE_TIME + 100)).toEqual(["B-lower", "C-lower", "D-mid", "E-upper", "F-upper"]);
        expect(await ids(BASE_TIME + 100, BASE_TIME + 100)).toEqual(["E-upper", "F-upper"]);
        expect(await ids(undefined, BASE_TIME)).toEqual(["A-before", "B-lower", "C-lower"]);
        expect(await ids(BASE_TIME + 101, BASE_TIME + 100)).toEqual([]);
        expect(await ids(BASE_TIME + 0.5, BASE_TIME + 100.5)).toEqual(["D-mid", "E-upper", "F-upper"]);
      });

      it("handles negative and far-apart start times", async () => {
        await store.insertRuns([
          makeRun({ id: "NEG", startedAt: -5_000 }),
          makeRun({ id: "ZERO", startedAt: 0 }),
          makeRun({ id: "MAX", startedAt: Number.MAX_SAFE_INTEGER }),
        ]);
        const all = await scanAllPages(store, { appId: "app", functionId: "fn", startedBefore: Number.MAX_SAFE_INTEGER, limit: 1 });
        expect(all.runs.map((r) => r.id)).toEqual(["NEG", "ZERO", "MAX"]);
      });

      it("keeps environments, apps and functions apart", async () => {
        const envs = ["default", "staging"];
        const apps = ["app", "app2"];
        const fns = ["fn", "fn2"];
        const runs: RunRecord[] = [];
        let i = 0;
        for (const environmentId of envs) {
          for (const appId of apps) {
            for (const functionId of fns) {
              for (let k = 0; k < 5; k++) {
                runs.push(makeRun({ id: `ISO-${String(i++).padStart(3, "0")}`, environmentId, appId, functionId, startedAt: BASE_TIME + k }));
              }
            }
          }
        }
        // One run without environmentId lands in the default environment.
        runs.push({ ...makeRun({ id: "ISO-NOENV", startedAt: BASE_TIME + 2 }) });
        await store.insertRuns(runs);
        for (const environmentId of [undefined, ...envs]) {
          for (const appId of apps) {
            for (const functionId of fns) {
              const query = { appId, functionId, startedBefore: BASE_TIME + 100, ...(environmentId === undefined ? {} : { environmentId }) };
              const got = await scanAllPages(store, { ...query, limit: 3 });
              expect(got.runs.map((r) => r.id)).toEqual(windowOracle(runs, query).map((r) => r.id));
              for (const run of got.runs) {
                expect(run.environmentId).toBe(environmentId ?? DEFAULT_ENVIRONMENT_ID);
                expect(run.appId).toBe(appId);
                expect(run.functionId).toBe(functionId);
              }
            }
          }
        }
        const other = await store.scanRuns({ environmentId: "prod", appId: "app", functionId: "fn", startedBefore: BASE_TIME + 100, limit: 100 });
        expect(other.runs).toEqual([]);
      });

      it("resumes from a cursor that names no stored run, and from a cursor before the window", async () => {
        await store.insertRuns([
          makeRun({ id: "B", startedAt: BASE_TIME }),
          makeRun({ id: "D", startedAt: BASE_TIME }),
          makeRun({ id: "A", startedAt: BASE_TIME + 1 }),
          makeRun({ id: "Z", startedAt: BASE_TIME + 2 }),
        ]);
        const base = { appId: "app", functionId: "fn", startedBefore: BASE_TIME + 2, limit: 10 };
        const ids = async (after: { startedAt: number; id: string }, startedAfter?: number) =>
          (await store.scanRuns({ ...base, after, ...(startedAfter === undefined ? {} : { startedAfter }) })).runs.map((r) => r.id);
        expect(await ids({ startedAt: BASE_TIME, id: "C" })).toEqual(["D", "A", "Z"]);
        expect(await ids({ startedAt: BASE_TIME, id: "D" })).toEqual(["A", "Z"]);
        expect(await ids({ startedAt: BASE_TIME, id: "~" })).toEqual(["A", "Z"]);
        expect(await ids({ startedAt: BASE_TIME + 1, id: "0" })).toEqual(["A", "Z"]);
        expect(await ids({ startedAt: BASE_TIME - 100, id: "Z" }, BASE_TIME + 1)).toEqual(["A", "Z"]);
        expect(await ids({ startedAt: BASE_TIME + 2, id: "Z" })).toEqual([]);
      });

      it("sees status changes and returns each run's latest state", async () => {
        await store.insertRuns([makeRun({ id: "S1" }), makeRun({ id: "S2", startedAt: BASE_TIME + 1 })]);
        await store.setRunStatus(["S2"], "completed");
        const page = await store.scanRuns({ appId: "app", functionId: "fn", startedBefore: BASE_TIME + 5, limit: 5 });
        expect(page.runs.map((r) => [r.id, r.status])).toEqual([
          ["S1", "running"],
          ["S2", "completed"],
        ]);
      });

      it("rejects malformed queries with a typed error", async () => {
        const base = { appId: "app", functionId: "fn", startedBefore: BASE_TIME, limit: 10 };
        await expectStoreError(store.scanRuns({ ...base, limit: 0 }), "invalid_query", /limit/);
        await expectStoreError(store.scanRuns({ ...base, limit: 1.5 }), "invalid_query", /limit/);
        await expectStoreError(store.scanRuns({ ...base, startedBefore: Number.NaN }), "invalid_query", /startedBefore/);
        await expectStoreError(store.scanRuns({ ...base, appId: "" }), "invalid_query", /appId/);
        await expectStoreError(store.scanRuns({ ...base, after: { startedAt: 1, id: "" } }), "invalid_query", /after\.id/);
        await expectStoreError(store.scanRuns({ ...base, after: { startedAt: Number.NaN, id: "x" } }), "invalid_query", /after\.startedAt/);
      });

      it("accepts a pushdown predicate tree and rejects a malformed one with a typed error", async () => {
        await store.insertRuns([makeRun({ id: "A", event: { name: "e", data: { n: 1 } } }), makeRun({ id: "B", event: { name: "e", data: { n: 2 } } })]);
        const base = { appId: "app", functionId: "fn", startedBefore: BASE_TIME, limit: 10 };
        // Every store may apply or ignore a valid hint; what it reads is kept or counted as dropped.
        const page = await store.scanRuns({ ...base, pushdown: { predicate: atom({ k: "num", path: ["data", "n"], op: "==", value: 1 }) } });
        expect(page.runs.map((r) => r.id)).toContain("A");
        expect(page.runs.length + (page.prefiltered ?? 0)).toBe(2);
        const bad = (predicate: unknown): Promise<unknown> => store.scanRuns({ ...base, pushdown: { predicate } as unknown as PushdownHint });
        const numAtom = (extra: Record<string, unknown>): unknown => ({ k: "atom", atom: { k: "num", path: ["data", "n"], op: "==", value: 1, ...extra } });
        await expectStoreError(bad(undefined), "invalid_query", /pushdown\.predicate must be a predicate object/);
        await expectStoreError(bad({ k: "nope" }), "invalid_query", /pushdown\.predicate\.k/);
        await expectStoreError(bad(numAtom({ op: "~" })), "invalid_query", /op/);
        await expectStoreError(bad(numAtom({ value: Number.NaN })), "invalid_query", /value/);
        await expectStoreError(bad(numAtom({ path: ["data", "a\u0000b"] })), "invalid_query", /path/);
        await expectStoreError(bad({ k: "atom", atom: { k: "kind", path: ["x"], kinds: [] } }), "invalid_query", /kinds/);
        await expectStoreError(bad({ k: "atom", atom: { k: "strIn", path: ["x"], values: [] } }), "invalid_query", /values/);
        await expectStoreError(bad({ k: "atom", atom: { k: "prefix", path: ["x"], value: "" } }), "invalid_query", /value/);
        await expectStoreError(bad({ k: "or", xs: [] }), "invalid_query", /xs/);
        await expectStoreError(bad({ k: "or", xs: Array.from({ length: MAX_PREDICATE_SIZE }, () => numAtom({})) }), "invalid_query", /more than/);
        const cyclic: { k: string; xs: unknown[] } = { k: "and", xs: [] };
        cyclic.xs.push(cyclic, cyclic);
        await expectStoreError(bad(cyclic), "invalid_query", /more than/);
      });

      it("pages any window of any run set exactly in (startedAt, id) order (property)", async () => {
        let iteration = 0;
        const runCount = options.propertyRunCount ?? 60;
        const runArb = fc.record({
          id: runIdArb,
          environmentId: fc.constantFrom("default", "other"),
          functionId: fc.constantFrom("f1", "f2"),
          startedAt: fc.integer({ min: 0, max: 12 }),
          status: fc.constantFrom<RunStatus>("running", "completed", "queued"),
        });
        await fc.assert(
          fc.asyncProperty(
            fc.array(runArb, { maxLength: runCount }),
            fc.integer({ min: 1, max: 25 }),
            fc.option(fc.integer({ min: -1, max: 13 }), { nil: undefined }),
            fc.integer({ min: -1, max: 13 }),
            fc.constantFrom("default", "other"),
            async (specs, limit, startedAfter, startedBefore, environmentId) => {
              const appId = `prop-app-${iteration++}`;
              const runs = specs.map((s) =>
                makeRun({ ...s, appId, startedAt: BASE_TIME + s.startedAt, event: { name: "e", data: { k: s.id } } }),
              );
              await store.insertRuns(runs);
              const query = {
                environmentId,
                appId,
                functionId: "f1",
                startedBefore: BASE_TIME + startedBefore,
                ...(startedAfter === undefined ? {} : { startedAfter: BASE_TIME + startedAfter }),
              };
              const { runs: got } = await scanAllPages(store, { ...query, limit }, 10_000);
              const expected = windowOracle(runs, query);
              expect(got.map((r) => r.id)).toEqual(expected.map((r) => r.id));
              expect(got.map((r) => r.status)).toEqual(expected.map((r) => r.status));
              for (let i = 1; i < got.length; i++) expect(compareCursor(got[i - 1]!, got[i]!)).toBeLessThan(0);
            },
          ),
          { numRuns: options.propertyIterations ?? 60 },
        );
      });

      if (options.pushdownNumberEquals !== undefined) {
        const pushdownNumberEquals = options.pushdownNumberEquals;
        it("applies a pushdown: short pages, next past dropped rows, prefiltered counts, nothing matching skipped", async () => {
          const random = seededRandom(11);
          const runs: RunRecord[] = [];
          for (let i = 0; i < 500; i++) {
            runs.push(
              makeRun({
                id: `PD-${String(i).padStart(4, "0")}`,
                startedAt: BASE_TIME + Math.floor(random() * 5),
                event: { name: "e", data: { n: Math.floor(random() * 10) } },
              }),
            );
          }
          // The last rows of the window do not match: the scan must still end.
          runs.push(makeRun({ id: "PD-LAST", startedAt: BASE_TIME + 9, event: { name: "e", data: { n: 99 } } }));
          await store.insertRuns(runs);
          const query = { appId: "app", functionId: "fn", startedBefore: BASE_TIME + 9, pushdown: pushdownNumberEquals("n", 3) };
          const window = windowOracle(runs, query);
          const expected = window.filter((r) => (r.event.data as { n: number }).n === 3).map((r) => r.id);
          expect(expected.length).toBeGreaterThan(20);
          expect(window.length).toBe(501);
          // 167 and 501 divide the window: the last page is full and no page follows it.
          for (const limit of [1, 13, 100, 167, 501, 1000]) {
            const { runs: got, pages } = await scanAllPages(store, { ...query, limit }, 10_000);
            expect(got.map((r) => r.id), `limit ${limit}`).toEqual(expected);
            const dropped = pages.reduce((sum, page) => sum + (page.prefiltered ?? 0), 0);
            expect(dropped + got.length).toBe(window.length);
            for (const page of pages) expect(page.runs.length + (page.prefiltered ?? 0)).toBeLessThanOrEqual(limit);
            if (limit === 167 || limit === 501) expect(pages.length, `limit ${limit}`).toBe(501 / limit);
          }
          // A pushdown nothing matches still pages to the end.
          const none = await scanAllPages(store, { ...query, pushdown: pushdownNumberEquals("n", 12345), limit: 50 }, 10_000);
          expect(none.runs).toEqual([]);
          expect(none.pages.reduce((sum, page) => sum + (page.prefiltered ?? 0), 0)).toBe(window.length);
        });
      }
    });

    describe("listRunLocations", () => {
      it("names each environment, app and function with runs in the window, bounds included, in order, up to the limit", async () => {
        await store.insertRuns([
          makeRun({ id: "L1", environmentId: "dev", appId: "acme", functionId: "remind", startedAt: BASE_TIME + 10 }),
          makeRun({ id: "L2", environmentId: "dev", appId: "acme", functionId: "digest", startedAt: BASE_TIME + 20, status: "completed" }),
          makeRun({ id: "L3", environmentId: "dev", appId: "acme", functionId: "late", startedAt: BASE_TIME + 21 }),
          makeRun({ id: "L4", environmentId: "prod", appId: "acme", functionId: "remind", startedAt: BASE_TIME }),
          makeRun({ id: "L5", environmentId: "prod", appId: "billing", functionId: "charge", startedAt: BASE_TIME - 1 }),
          makeRun({ id: "L6", environmentId: "default", appId: "acme", functionId: "remind", startedAt: BASE_TIME + 15 }),
        ]);
        const window = { startedAfter: BASE_TIME, startedBefore: BASE_TIME + 20 };
        expect(await store.listRunLocations(window)).toEqual([
          { environmentId: "default", appId: "acme", functionId: "remind" },
          { environmentId: "dev", appId: "acme", functionId: "digest" },
          { environmentId: "dev", appId: "acme", functionId: "remind" },
          { environmentId: "prod", appId: "acme", functionId: "remind" },
        ]);
        expect(await store.listRunLocations({ ...window, limit: 2 })).toHaveLength(2);
        expect((await store.listRunLocations({ startedBefore: BASE_TIME + 100 })).map((l) => l.functionId)).toEqual(["remind", "digest", "late", "remind", "remind", "charge"]);
        expect(await store.listRunLocations({ startedAfter: BASE_TIME + 22, startedBefore: BASE_TIME + 100 })).toEqual([]);
        await expectStoreError(store.listRunLocations({ startedBefore: Number.NaN }), "invalid_query", /startedBefore/);
        await expectStoreError(store.listRunLocations({ startedBefore: 1, limit: 0 }), "invalid_query", /limit/);
        await expectStoreError(store.listRunLocations({ startedBefore: 1, limit: 1001 }), "invalid_query", /limit/);
      });

      it("equals an oracle over any runs and window (property)", async () => {
        const names = ["a", "b", "é", "z"];
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.record({ e: fc.constantFrom(...names), a: fc.constantFrom(...names), f: fc.constantFrom(...names), t: fc.integer({ min: 0, max: 50 }) }), { maxLength: 40 }),
            fc.integer({ min: 0, max: 50 }),
            fc.integer({ min: 0, max: 50 }),
            fc.integer({ min: 1, max: 70 }),
            async (specs, from, to, limit) => {
              const local = await makeStore();
              try {
                await local.insertRuns(specs.map((r, i) => makeRun({ id: `P${i}`, environmentId: r.e, appId: r.a, functionId: r.f, startedAt: BASE_TIME + r.t })));
                const key = (r: { e: string; a: string; f: string }) => JSON.stringify([r.e, r.a, r.f]);
                const inWindow = new Map<string, { environmentId: string; appId: string; functionId: string }>();
                for (const r of specs) if (r.t >= from && r.t <= to) inWindow.set(key(r), { environmentId: r.e, appId: r.a, functionId: r.f });
                const bytes = (l: { environmentId: string; appId: string; functionId: string }) => [l.environmentId, l.appId, l.functionId].map((x) => Buffer.from(x));
                const expected = [...inWindow.values()]
                  .sort((x, y) => {
                    const [bx, by] = [bytes(x), bytes(y)];
                    for (let i = 0; i < 3; i++) {
                      const c = Buffer.compare(bx[i]!, by[i]!);
                      if (c !== 0) return c;
                    }
                    return 0;
                  })
                  .slice(0, limit);
                expect(await local.listRunLocations({ startedAfter: BASE_TIME + from, startedBefore: BASE_TIME + to, limit })).toEqual(expected);
              } finally {
                await local.close();
                await cleanup?.(local);
              }
            },
          ),
          { numRuns: 15 },
        );
      });
    });

    describe("listFunctions", () => {
      /** The oracle: the latest version of each run, grouped by function, in byte order of the ids. */
      function functionsOracle(runs: readonly RunRecord[], environmentId: string) {
        const latest = new Map<string, RunRecord>();
        for (const run of runs) latest.set(run.id, run);
        const groups = new Map<string, RunRecord[]>();
        for (const run of latest.values()) {
          if ((run.environmentId ?? DEFAULT_ENVIRONMENT_ID) !== environmentId) continue;
          const key = JSON.stringify([run.appId, run.functionId]);
          groups.set(key, [...(groups.get(key) ?? []), run]);
        }
        const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
        return [...groups.values()]
          .map((group) => {
            const runsByStatus = { queued: 0, running: 0, sleeping: 0, waiting: 0, completed: 0, failed: 0, cancelled: 0 };
            for (const run of group) runsByStatus[run.status]++;
            return {
              appId: group[0]!.appId,
              functionId: group[0]!.functionId,
              runs: runsByStatus,
              total: group.length,
              firstStartedAt: Math.min(...group.map((run) => run.startedAt)),
              lastStartedAt: Math.max(...group.map((run) => run.startedAt)),
            };
          })
          .sort((a, b) => byteOrder(a.appId, b.appId) || byteOrder(a.functionId, b.functionId));
      }

      it("counts each function's runs by status with the span of their start times, per environment", async () => {
        const runs = [
          makeRun({ id: "A1", appId: "shop", functionId: "charge", startedAt: BASE_TIME + 5, status: "running" }),
          makeRun({ id: "A2", appId: "shop", functionId: "charge", startedAt: BASE_TIME - 9, status: "completed" }),
          makeRun({ id: "A3", appId: "shop", functionId: "charge", startedAt: BASE_TIME + 70, status: "running" }),
          makeRun({ id: "B1", appId: "shop", functionId: "Refund", startedAt: BASE_TIME, status: "queued" }),
          makeRun({ id: "C1", appId: "blog", functionId: "publish", startedAt: BASE_TIME + 1, status: "cancelled" }),
          makeRun({ id: "E1", environmentId: "prod", appId: "shop", functionId: "charge", startedAt: BASE_TIME + 3, status: "waiting" }),
        ];
        await store.insertRuns(runs);
        const zero = { queued: 0, running: 0, sleeping: 0, waiting: 0, completed: 0, failed: 0, cancelled: 0 };
        expect(await store.listFunctions()).toEqual([
          { appId: "blog", functionId: "publish", runs: { ...zero, cancelled: 1 }, total: 1, firstStartedAt: BASE_TIME + 1, lastStartedAt: BASE_TIME + 1 },
          // Byte order: upper case before lower case.
          { appId: "shop", functionId: "Refund", runs: { ...zero, queued: 1 }, total: 1, firstStartedAt: BASE_TIME, lastStartedAt: BASE_TIME },
          { appId: "shop", functionId: "charge", runs: { ...zero, running: 2, completed: 1 }, total: 3, firstStartedAt: BASE_TIME - 9, lastStartedAt: BASE_TIME + 70 },
        ]);
        expect(await store.listFunctions({ environmentId: "prod" })).toEqual([
          { appId: "shop", functionId: "charge", runs: { ...zero, waiting: 1 }, total: 1, firstStartedAt: BASE_TIME + 3, lastStartedAt: BASE_TIME + 3 },
        ]);
        expect(await store.listFunctions({ environmentId: "staging" })).toEqual([]);
        // Status changes and replaced runs move between the counts.
        await store.setRunStatus(["A1"], "failed");
        await store.insertRuns([makeRun({ id: "C1", appId: "shop", functionId: "charge", startedAt: BASE_TIME + 80, status: "sleeping" })]);
        const after = await store.listFunctions();
        expect(after.map((entry) => entry.functionId)).toEqual(["Refund", "charge"]);
        expect(after[1]).toEqual({ appId: "shop", functionId: "charge", runs: { ...zero, running: 1, failed: 1, completed: 1, sleeping: 1 }, total: 4, firstStartedAt: BASE_TIME - 9, lastStartedAt: BASE_TIME + 80 });
      });

      it("rejects bad options", async () => {
        await expectStoreError(store.listFunctions({ environmentId: "" }), "invalid_query", /environmentId/);
        await expectStoreError(store.listFunctions(null as unknown as {}), "invalid_query");
      });

      it("equals the oracle on random run sets (property)", async () => {
        const statuses: readonly RunStatus[] = ["queued", "running", "sleeping", "waiting", "completed", "failed", "cancelled"];
        let round = 0;
        await fc.assert(
          fc.asyncProperty(
            fc.array(
              fc.record({
                env: fc.constantFrom("e1", "e2"),
                app: fc.constantFrom("a", "B", "a-b", "ä"),
                fn: fc.constantFrom("f", "F", "f.1", "g"),
                offset: fc.integer({ min: -1_000_000, max: 1_000_000 }),
                status: fc.constantFrom(...statuses),
                id: fc.integer({ min: 0, max: 60 }),
              }),
              { maxLength: 80 },
            ),
            async (specs) => {
              // A fresh environment pair per round keeps the rounds apart in one store.
              round++;
              const runs = specs.map((spec) =>
                makeRun({
                  id: `R${round}X${spec.id}`,
                  environmentId: `${spec.env}-${round}`,
                  appId: spec.app,
                  functionId: spec.fn,
                  startedAt: BASE_TIME + spec.offset,
                  status: spec.status,
                }),
              );
              // Later specs with the same id replace earlier ones, as inserts do.
              for (const run of runs) await store.insertRuns([run]);
              for (const env of ["e1", "e2"]) {
                expect(await store.listFunctions({ environmentId: `${env}-${round}` })).toEqual(functionsOracle(runs, `${env}-${round}`));
              }
            },
          ),
          { numRuns: 25 },
        );
      });
    });

    describe("setRunStatus", () => {
      it("changes non-terminal runs, leaves terminal ones unless forced, and counts changes", async () => {
        await store.insertRuns([
          makeRun({ id: "Q", status: "queued" }),
          makeRun({ id: "R", status: "running" }),
          makeRun({ id: "C", status: "completed" }),
          makeRun({ id: "X", status: "cancelled", cancellationId: "01HCANCEL" }),
        ]);
        expect(await store.setRunStatus(["Q", "R", "C", "X", "NOPE", "Q"], "failed")).toBe(2);
        expect((await store.getRun("Q"))!.status).toBe("failed");
        expect((await store.getRun("C"))!.status).toBe("completed");
        expect((await store.getRun("X"))!.status).toBe("cancelled");
        expect(await store.setRunStatus(["C", "X"], "running", { force: true })).toBe(2);
        const revived = await store.getRun("X");
        expect(revived!.status).toBe("running");
        expect(revived).not.toHaveProperty("cancellationId");
        expect(await store.setRunStatus(["C"], "running")).toBe(0);
        expect(await store.setRunStatus([], "running")).toBe(0);
      });

      it("rejects bad arguments", async () => {
        await expectStoreError(store.setRunStatus(["a"], "paused" as RunStatus), "invalid_query", /status must be one of/);
        await expectStoreError(store.setRunStatus([1 as unknown as string], "failed"), "invalid_query", /ids\[0\]/);
      });
    });

    describe("commitBatch", () => {
      async function seedCancellation(overrides: Partial<CancellationRecord> = {}): Promise<CancellationRecord> {
        const record = makeCancellation({ id: nextUlid(), ...overrides });
        const result = await store.createCancellation(record);
        expect(result.created).toBe(true);
        return result.record;
      }

      it("cancels exactly the non-terminal runs (compare-and-set) and records the cancellation id", async () => {
        const statuses: RunStatus[] = ["queued", "running", "sleeping", "waiting", "completed", "failed", "cancelled"];
        await store.insertRuns(
          statuses.map((status, i) => makeRun({ id: `CB-${status}`, startedAt: BASE_TIME + i, status, ...(status === "cancelled" ? { cancellationId: "01HOLDCANCEL" } : {}) })),
        );
        const record = await seedCancellation();
        const checkpoint = { cursor: { startedAt: BASE_TIME + 6, id: "CB-cancelled" }, counts: counts({ scanned: 7, cancelled: 4, skipped_terminal: 3 }), status: "running" as const };
        const result = await store.commitBatch({
          cancellationId: record.id,
          runIds: [...statuses.map((s) => `CB-${s}`), "CB-unknown", "CB-queued"],
          checkpoint,
        });
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        expect([...result.cancelled].sort()).toEqual(["CB-queued", "CB-running", "CB-sleeping", "CB-waiting"]);
        for (const status of statuses) {
          const run = (await store.getRun(`CB-${status}`))!;
          if (isNonTerminal(status)) {
            expect(run.status).toBe("cancelled");
            expect(run.cancellationId).toBe(record.id);
          } else {
            expect(run.status).toBe(status);
            expect(run.cancellationId).toBe(status === "cancelled" ? "01HOLDCANCEL" : undefined);
          }
          // The event is untouched by the status change.
          expect(run.event).toEqual(makeRun({ id: "x" }).event);
        }
        // A second commit of the same ids changes nothing more.
        const again = await store.commitBatch({ cancellationId: record.id, runIds: statuses.map((s) => `CB-${s}`), checkpoint });
        expect(again).toEqual({ ok: true, cancelled: [] });
      });

      it("saves the checkpoint with the batch; an absent cursor keeps the saved one", async () => {
        const record = await seedCancellation();
        await store.insertRuns([makeRun({ id: "CP-1" })]);
        const cursor = { startedAt: BASE_TIME, id: "CP-1" };
        const c1 = counts({ scanned: 1, cancelled: 1 });
        expect(await store.commitBatch({ cancellationId: record.id, runIds: ["CP-1"], checkpoint: { cursor, counts: c1, status: "running" } })).toEqual({
          ok: true,
          cancelled: ["CP-1"],
        });
        const saved = (await store.getCancellation(record.id))!;
        expect(saved.cursor).toEqual(cursor);
        expect(saved.counts).toEqual(c1);
        expect(saved.status).toBe("running");
        expect(saved.updatedAt).toBeGreaterThanOrEqual(record.updatedAt);
        const c2 = counts({ scanned: 1, cancelled: 1 });
        await store.commitBatch({ cancellationId: record.id, runIds: [], checkpoint: { counts: c2, status: "completed" } });
        const finished = (await store.getCancellation(record.id))!;
        expect(finished.cursor).toEqual(cursor);
        expect(finished.status).toBe("completed");
        // The rest of the record is unchanged.
        expect({ ...finished, cursor: undefined, counts: undefined, status: undefined, updatedAt: undefined }).toEqual({
          ...record,
          cursor: undefined,
          counts: undefined,
          status: undefined,
          updatedAt: undefined,
        });
      });

      it("cancels only runs of the record's environment, app and function", async () => {
        const record = await seedCancellation({ environmentId: "prod", appId: "app", functionId: "fn" });
        await store.insertRuns([
          makeRun({ id: "SC-own", environmentId: "prod" }),
          makeRun({ id: "SC-env", environmentId: "default" }),
          makeRun({ id: "SC-app", environmentId: "prod", appId: "other" }),
          makeRun({ id: "SC-fn", environmentId: "prod", functionId: "other" }),
        ]);
        const result = await store.commitBatch({
          cancellationId: record.id,
          runIds: ["SC-own", "SC-env", "SC-app", "SC-fn"],
          checkpoint: { counts: ZERO_COUNTS, status: "running" },
        });
        expect(result).toEqual({ ok: true, cancelled: ["SC-own"] });
        for (const id of ["SC-env", "SC-app", "SC-fn"]) expect((await store.getRun(id))!.status).toBe("running");
      });

      it("returns gone and changes nothing after the record was deleted", async () => {
        const record = await seedCancellation();
        await store.insertRuns([makeRun({ id: "G-1" }), makeRun({ id: "G-2" })]);
        await store.commitBatch({ cancellationId: record.id, runIds: ["G-1"], checkpoint: { counts: counts({ scanned: 1, cancelled: 1 }), status: "running" } });
        expect(await store.deleteCancellation(record.id)).toBe(true);
        const result = await store.commitBatch({ cancellationId: record.id, runIds: ["G-2"], checkpoint: { counts: ZERO_COUNTS, status: "running" } });
        expect(result).toEqual({ ok: false, reason: "gone" });
        expect((await store.getRun("G-2"))!.status).toBe("running");
        // Runs it already cancelled stay cancelled.
        expect((await store.getRun("G-1"))!).toMatchObject({ status: "cancelled", cancellationId: record.id });
        expect(await store.getCancellation(record.id)).toBeUndefined();
        expect(await store.commitBatch({ cancellationId: "01HNEVEREXISTED", runIds: [], checkpoint: { counts: ZERO_COUNTS, status: "running" } })).toEqual({
          ok: false,
          reason: "gone",
        });
      });

      it("never cancels one run twice under concurrent overlapping batches", async () => {
        const runs = generateRuns({ count: 400, seed: 5, statuses: ["running", "queued", "completed"] });
        await store.insertRuns(runs);
        const records = [await seedCancellation(), await seedCancellation(), await seedCancellation()];
        const random = seededRandom(99);
        const batches: { cancellationId: string; runIds: string[]; checkpoint: Checkpoint }[] = [];
        for (let i = 0; i < 30; i++) {
          const ids = runs.filter(() => random() < 0.2).map((r) => r.id);
          batches.push({ cancellationId: records[i % 3]!.id, runIds: ids, checkpoint: { counts: ZERO_COUNTS, status: "running" as const } });
        }
        const results = await Promise.all(batches.map((batch) => store.commitBatch(batch)));
        const cancelledBy = new Map<string, string>();
        results.forEach((result, i) => {
          expect(result.ok).toBe(true);
          if (!result.ok) return;
          for (const id of result.cancelled) {
            expect(cancelledBy.has(id), `run ${id} cancelled twice`).toBe(false);
            cancelledBy.set(id, batches[i]!.cancellationId);
          }
        });
        const requested = new Set(batches.flatMap((b) => b.runIds));
        for (const run of runs) {
          const stored = (await store.getRun(run.id))!;
          if (requested.has(run.id) && isNonTerminal(run.status)) {
            expect(stored.status).toBe("cancelled");
            expect(stored.cancellationId).toBe(cancelledBy.get(run.id));
          } else {
            expect(stored.status).toBe(run.status);
            expect(cancelledBy.has(run.id)).toBe(false);
          }
        }
      });

      it("does not overwrite a run finished just before the batch (concurrent completion)", async () => {
        const record = await seedCancellation();
        await store.insertRuns([makeRun({ id: "F-1" }), makeRun({ id: "F-2" })]);
        const [finished, result] = await Promise.all([
          store.setRunStatus(["F-1"], "completed"),
          store.commitBatch({ cancellationId: record.id, runIds: ["F-1", "F-2"], checkpoint: { counts: ZERO_COUNTS, status: "running" } }),
        ]);
        expect(result.ok).toBe(true);
        const f1 = (await store.getRun("F-1"))!;
        // Whichever came first wins; the run is never both completed by its executor and cancelled.
        if (finished === 1) {
          expect(f1.status).toBe("completed");
          expect(result.ok && result.cancelled.includes("F-1")).toBe(false);
        } else {
          expect(f1.status).toBe("cancelled");
          expect(result.ok && result.cancelled.includes("F-1")).toBe(true);
        }
        expect((await store.getRun("F-2"))!.status).toBe("cancelled");
      });

      it("rejects malformed batches with a typed error and changes nothing", async () => {
        const record = await seedCancellation();
        await store.insertRuns([makeRun({ id: "M-1" })]);
        await expectStoreError(
          store.commitBatch({ cancellationId: record.id, runIds: ["M-1", 5 as unknown as string], checkpoint: { counts: ZERO_COUNTS, status: "running" } }),
          "invalid_batch",
          /runIds\[1\]/,
        );
        await expectStoreError(
          store.commitBatch({ cancellationId: record.id, runIds: ["M-1"], checkpoint: { counts: { ...ZERO_COUNTS, scanned: -1 }, status: "running" } }),
          "invalid_batch",
          /counts\.scanned/,
        );
        await expectStoreError(
          store.commitBatch({ cancellationId: record.id, runIds: ["M-1"], checkpoint: { counts: ZERO_COUNTS, status: "sleeping" as "running" } }),
          "invalid_batch",
          /status/,
        );
        expect((await store.getRun("M-1"))!.status).toBe("running");
      });

      it("handles batches larger than a SQL variable limit", async () => {
        const runs = generateRuns({ count: 5000, seed: 8, statuses: ["running"] });
        await store.insertRuns(runs);
        const record = await seedCancellation();
        const ids = runs.map((r) => r.id);
        const result = await store.commitBatch({ cancellationId: record.id, runIds: [...ids, ...ids.slice(0, 100)], checkpoint: { counts: ZERO_COUNTS, status: "running" } });
        expect(result.ok && [...result.cancelled].sort()).toEqual([...ids].sort());
      });
    });

    describe("cancellation records", () => {
      it("creates, gets and updates a record", async () => {
        const record = makeCancellation({ id: nextUlid(), startedAfter: BASE_TIME - 10, if: "event.data.plan == 'free'" });
        const created = await store.createCancellation(record);
        expect(created).toEqual({ created: true, record });
        expect(await store.getCancellation(record.id)).toEqual(record);
        expect(await store.getCancellation(record.id, "default")).toEqual(record);
        expect(await store.getCancellation(record.id, "other")).toBeUndefined();
        const checkpoint = { cursor: { startedAt: BASE_TIME, id: "R" }, counts: counts({ scanned: 3, not_matched: 3 }), status: "aborted" as const };
        expect(await store.updateCancellation(record.id, checkpoint)).toBe(true);
        expect(await store.getCancellation(record.id)).toMatchObject(checkpoint);
        expect(await store.updateCancellation("01HNOTHERE", checkpoint)).toBe(false);
        const plain = makeCancellation({ id: nextUlid() });
        await store.createCancellation(plain);
        const got = await store.getCancellation(plain.id);
        expect(got).toEqual(plain);
        expect(got).not.toHaveProperty("startedAfter");
        expect(got).not.toHaveProperty("if");
        expect(got).not.toHaveProperty("cursor");
      });

      it("keeps a job's settings with its record, replaces them alone, and refuses malformed ones", async () => {
        const settings = { batchSize: 250, ratePerSecond: 1500.5, maxRuns: 40 };
        const record = makeCancellation({ id: nextUlid(), settings });
        await store.createCancellation(record);
        expect((await store.getCancellation(record.id))?.settings).toEqual(settings);
        // Without a rate or a cap, the keys are absent (not undefined, not null).
        const checkpoint = { cursor: { startedAt: BASE_TIME, id: "R" }, counts: counts({ scanned: 2, cancelled: 2 }), status: "stopped_max_runs" as const };
        await store.updateCancellation(record.id, checkpoint);
        expect(await store.updateCancellationSettings(record.id, { batchSize: 10 })).toBe(true);
        const updated = (await store.getCancellation(record.id))!;
        expect(updated.settings).toEqual({ batchSize: 10 });
        expect(Object.keys(updated.settings!)).toEqual(["batchSize"]);
        // The checkpoint is untouched; the record's other fields too.
        expect(updated).toMatchObject({ ...checkpoint, appId: record.appId, createdAt: record.createdAt });
        expect(updated.updatedAt).toBeGreaterThanOrEqual(record.updatedAt);
        expect((await store.listCancellations()).records.find((r) => r.id === record.id)?.settings).toEqual({ batchSize: 10 });
        expect(await store.updateCancellationSettings(record.id, { batchSize: 1, ratePerSecond: 0, maxRuns: 0 })).toBe(true);
        expect((await store.getCancellation(record.id))?.settings).toEqual({ batchSize: 1, ratePerSecond: 0, maxRuns: 0 });
        expect(await store.updateCancellationSettings(nextUlid(), { batchSize: 10 })).toBe(false);
        for (const bad of [{ batchSize: 0 }, { batchSize: 1.5 }, { batchSize: 5, ratePerSecond: -1 }, { batchSize: 5, ratePerSecond: Number.POSITIVE_INFINITY }, { batchSize: 5, ratePerSecond: Number.NaN }, { batchSize: 5, maxRuns: -1 }, { batchSize: 5, maxRuns: 2.5 }, null, "1000"]) {
          await expectStoreError(store.updateCancellationSettings(record.id, bad as never), "invalid_cancellation", /settings/);
          await expectStoreError(store.createCancellation({ ...record, id: nextUlid(), settings: bad as never }), "invalid_cancellation", /settings/);
        }
        expect((await store.getCancellation(record.id))?.settings).toEqual({ batchSize: 1, ratePerSecond: 0, maxRuns: 0 });
      });

      it("rejects a duplicate id and a malformed record", async () => {
        const record = makeCancellation({ id: nextUlid() });
        await store.createCancellation(record);
        await expectStoreError(store.createCancellation(record), "duplicate_cancellation");
        await expectStoreError(store.createCancellation({ ...record, id: nextUlid(), status: "done" as "running" }), "invalid_cancellation", /status/);
        await expectStoreError(store.createCancellation({ ...record, id: nextUlid(), startedBefore: Number.NaN }), "invalid_cancellation", /startedBefore/);
        await expectStoreError(store.updateCancellation(record.id, { counts: ZERO_COUNTS, status: "nope" as "running" }), "invalid_batch", /status/);
      });

      it("returns the first record for a repeated idempotency key, scoped by environment", async () => {
        const first = makeCancellation({ id: nextUlid() });
        const key = { key: "idem-1", requestHash: "hash-a" };
        expect(await store.createCancellation(first, key)).toEqual({ created: true, record: first });
        const second = makeCancellation({ id: nextUlid(), if: "true" });
        expect(await store.createCancellation(second, { key: "idem-1", requestHash: "hash-b" })).toEqual({
          created: false,
          record: first,
          requestHash: "hash-a",
        });
        expect(await store.getCancellation(second.id)).toBeUndefined();
        expect(await store.findByIdempotencyKey("default", "idem-1")).toEqual({ record: first, requestHash: "hash-a" });
        expect(await store.findByIdempotencyKey("staging", "idem-1")).toBeUndefined();
        expect(await store.findByIdempotencyKey("default", "idem-2")).toBeUndefined();
        // The same key in another environment is another cancellation.
        const staging = makeCancellation({ id: nextUlid(), environmentId: "staging" });
        expect(await store.createCancellation(staging, key)).toEqual({ created: true, record: staging });
        // The lookup sees the record's latest state.
        await store.updateCancellation(first.id, { counts: counts({ scanned: 2, not_matched: 2 }), status: "completed" });
        expect((await store.findByIdempotencyKey("default", "idem-1"))!.record.status).toBe("completed");
      });

      it("creates one record for concurrent creates under one key", async () => {
        const records = Array.from({ length: 8 }, () => makeCancellation({ id: nextUlid() }));
        const results = await Promise.all(records.map((r, i) => store.createCancellation(r, { key: "race", requestHash: `h${i}` })));
        const created = results.filter((r) => r.created);
        expect(created.length).toBe(1);
        for (const result of results) expect(result.record.id).toBe(created[0]!.record.id);
        const page = await store.listCancellations();
        expect(page.records.map((r) => r.id)).toEqual([created[0]!.record.id]);
      });

      it("frees the idempotency key when the record is deleted", async () => {
        const first = makeCancellation({ id: nextUlid() });
        await store.createCancellation(first, { key: "k", requestHash: "h" });
        expect(await store.deleteCancellation(first.id, "staging")).toBe(false);
        expect(await store.getCancellation(first.id)).toEqual(first);
        expect(await store.deleteCancellation(first.id, "default")).toBe(true);
        expect(await store.deleteCancellation(first.id)).toBe(false);
        expect(await store.findByIdempotencyKey("default", "k")).toBeUndefined();
        const second = makeCancellation({ id: nextUlid() });
        expect(await store.createCancellation(second, { key: "k", requestHash: "h2" })).toEqual({ created: true, record: second });
      });

      it("lists newest first by id, scoped by environment, paging with after", async () => {
        const ids: string[] = [];
        for (let i = 0; i < 23; i++) {
          const id = nextUlid();
          ids.push(id);
          await store.createCancellation(makeCancellation({ id, environmentId: i % 3 === 0 ? "staging" : "default" }));
        }
        const newestFirst = [...ids].reverse();
        const all = await store.listCancellations({ limit: 100 });
        expect(all.records.map((r) => r.id)).toEqual(newestFirst);
        expect(all.next).toBeUndefined();
        const defaultIds = newestFirst.filter((_, i) => (22 - i) % 3 !== 0);
        const paged: string[] = [];
        let after: string | undefined;
        for (let i = 0; i < 20; i++) {
          const page = await store.listCancellations({ environmentId: "default", limit: 4, ...(after === undefined ? {} : { after }) });
          expect(page.records.length).toBeLessThanOrEqual(4);
          paged.push(...page.records.map((r) => r.id));
          for (const r of page.records) expect(r.environmentId).toBe("default");
          if (page.next === undefined) break;
          after = page.next;
        }
        expect(paged).toEqual(defaultIds);
        const exact = await store.listCancellations({ environmentId: "staging", limit: 8 });
        expect(exact.records.length).toBe(8);
        expect(exact.next).toBeUndefined();
        expect((await store.listCancellations({ environmentId: "nowhere" })).records).toEqual([]);
        // after a ULID that names no record: strictly older ones.
        const middle = (await store.listCancellations({ after: newestFirst[10]! + "0", limit: 100 })).records.map((r) => r.id);
        expect(middle).toEqual(newestFirst.slice(10));
        // The default limit returns at most 100 records.
        expect((await store.listCancellations()).records.length).toBe(23);
      });
    });

    describe("watchCancellations", () => {
      const kinds = (changes: readonly CancellationChange[]) =>
        changes.map((c) => (c.kind === "created" ? `created ${c.record.id}` : c.kind === "deleted" ? `deleted ${c.id}` : "reload"));

      it("reports its own creations and deletions at once, before the call resolves, and nothing else", async () => {
        const changes: CancellationChange[] = [];
        const watch = await store.watchCancellations((c) => changes.push(c));
        const a = makeCancellation({ id: nextUlid(), if: "event.data.k == 'a'" });
        const b = makeCancellation({ id: nextUlid(), environmentId: "other" });
        await store.createCancellation(a);
        expect(kinds(changes)).toEqual([`created ${a.id}`]);
        expect(changes[0]!.kind === "created" && changes[0]!.record).toEqual(a);
        await store.createCancellation(b, { key: "k", requestHash: "h" });
        // A replay under the same key, a duplicate id, a checkpoint and a miss change nothing.
        await store.createCancellation(makeCancellation({ id: nextUlid(), environmentId: "other" }), { key: "k", requestHash: "h" });
        await expectStoreError(store.createCancellation(a), "duplicate_cancellation");
        await store.updateCancellation(a.id, { counts: counts({ scanned: 1, not_matched: 1 }), status: "completed" });
        expect(await store.deleteCancellation(nextUlid())).toBe(false);
        expect(await store.deleteCancellation(b.id, "wrong-environment")).toBe(false);
        expect(kinds(changes)).toEqual([`created ${a.id}`, `created ${b.id}`]);
        expect(await store.deleteCancellation(b.id)).toBe(true);
        expect(kinds(changes)).toEqual([`created ${a.id}`, `created ${b.id}`, `deleted ${b.id}`]);
        await watch.close();
        await watch.close();
        await store.deleteCancellation(a.id);
        expect(changes).toHaveLength(3);
      });

      it("keeps a listener that throws away from the store's caller, and reports it to onError", async () => {
        const errors: unknown[] = [];
        const seen: string[] = [];
        const w1 = await store.watchCancellations(
          () => {
            throw new Error("listener failed");
          },
          { onError: (e) => errors.push(e) },
        );
        const w2 = await store.watchCancellations((c) => seen.push(c.kind));
        const a = makeCancellation({ id: nextUlid() });
        const result = await store.createCancellation(a);
        expect(result.created).toBe(true);
        expect(seen).toEqual(["created"]);
        expect(errors).toHaveLength(1);
        expect((errors[0] as Error).message).toBe("listener failed");
        await w1.close();
        await w2.close();
      });

      it("rejects bad options and listeners with invalid_option, and stops every watch on close", async () => {
        await expectStoreError(store.watchCancellations(() => {}, { pollMs: 0 }), "invalid_option");
        await expectStoreError(store.watchCancellations(() => {}, { pollMs: 1.5 }), "invalid_option");
        await expectStoreError(store.watchCancellations(() => {}, { onError: 5 as never }), "invalid_option");
        await expectStoreError(store.watchCancellations("nope" as never), "invalid_option");
        const changes: CancellationChange[] = [];
        await store.watchCancellations((c) => changes.push(c));
        await store.close();
        await expectStoreError(store.watchCancellations(() => {}), "closed");
        expect(changes).toEqual([]);
      });

      if (options.openSibling !== undefined) {
        const openSibling = options.openSibling;
        it("reports the creations and deletions of another store object on the same data", async () => {
          const sibling = await openSibling(store);
          try {
            const changes: CancellationChange[] = [];
            const watch = await store.watchCancellations((c) => changes.push(c), { pollMs: options.watchPollMs ?? 20 });
            const a = makeCancellation({ id: nextUlid(), if: "event.data.k == 'a'" });
            await sibling.createCancellation(a);
            // A store reports `created` with the record, or `reload` (it only knows that something changed).
            const sawCreation = () => changes.some((c) => c.kind === "reload" || (c.kind === "created" && c.record.id === a.id));
            await waitUntil(sawCreation, "the sibling's creation");
            const created = changes.find((c) => c.kind === "created");
            if (created?.kind === "created") expect(created.record).toEqual(a);
            changes.length = 0;
            await sibling.deleteCancellation(a.id);
            await waitUntil(() => changes.some((c) => c.kind === "reload" || (c.kind === "deleted" && c.id === a.id)), "the sibling's deletion");
            await watch.close();
          } finally {
            await sibling.close();
          }
        });
      }
    });

    describe("lifecycle", () => {
      it("closes idempotently and rejects calls after close with a typed error", async () => {
        await store.close();
        await store.close();
        await expectStoreError(store.getRun("x"), "closed");
        await expectStoreError(store.insertRuns([makeRun({ id: "x" })]), "closed");
        await expectStoreError(store.scanRuns({ appId: "a", functionId: "f", startedBefore: 1, limit: 1 }), "closed");
      });
    });
  });
}
