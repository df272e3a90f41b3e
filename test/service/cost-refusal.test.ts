/**
 * Costly expressions over real HTTP: a generated family of `if`s whose worst case per run exceeds
 * the cost budget is refused with Inngest's 400 `invalid expression: …` by the create request, its
 * dry run and the preview, before anything is stored; the expression check says why and reports the
 * estimate of the expressions it accepts; ordinary filters are still accepted.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../src/expr/program.js";
import { MemoryRunStore } from "../../src/stores/memory.js";
import { call, startServer, type Running, USER } from "./helpers.js";

const KEY = "signkey-test-cccccccccccccccc";
const BEFORE = "2024-01-22T14:22:42.130Z";

let running: Running;
let store: MemoryRunStore;
beforeAll(async () => {
  store = new MemoryRunStore();
  running = await startServer({ store, keys: { [KEY]: "env-c" }, ui: false });
});
afterAll(async () => {
  await running.server.close();
});

const body = (condition: string) => ({ app_id: "acme-app", function_id: "schedule-reminder", started_before: BEFORE, if: condition });

const PATHS = ["event.data.a", "event.data.items", "event.data.s", "event.data.tags"];
const TEN = "[1,2,3,4,5,6,7,8,9,10]";

/**
 * Expressions that are valid but whose worst case per run is far over the budget: deep loops over
 * constant lists around a read of the event, loops over two independent inputs, a pattern built
 * from data, string scans of the event inside loops.
 */
const costly: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.integer({ min: 11, max: 16 }), fc.constantFrom(...PATHS)).map(([depth, path]) => {
    let source = `${path} == 1`;
    for (let k = depth; k >= 1; k--) source = `[1,2,3,4].exists(x${k}, ${source})`;
    return source;
  }),
  fc.tuple(fc.integer({ min: 13, max: 16 }), fc.constantFrom(...PATHS)).map(([depth, path]) => {
    let source = path;
    for (let k = depth; k >= 1; k--) source = `[1,2,3].map(x${k}, ${source})`;
    return `${source} == []`;
  }),
  fc.tuple(fc.constantFrom(...PATHS), fc.constantFrom(...PATHS), fc.constantFrom("==", "!=")).map(
    ([a, b, op]) => `${a}.exists(x, ${b === a ? "event.data.other" : b}.exists(y, x ${op} y))`,
  ),
  fc.tuple(fc.constantFrom(...PATHS), fc.constantFrom(...PATHS)).map(([a, b]) => `${a}.matches(${b})`),
  fc.tuple(fc.constantFrom(...PATHS), fc.constantFrom("contains", "matches", "indexOf")).map(
    ([path, fn]) => `${TEN}.all(a, ${TEN}.all(b, ${TEN}.all(c, ${path}.${fn}('zz'))))`,
  ),
);

describe("costly if expressions", () => {
  it("are refused by create, dry run, preview and check with a 400 and nothing stored", async () => {
    const { url } = running;
    await fc.assert(
      fc.asyncProperty(costly, async (condition) => {
        // Valid: only its cost is wrong.
        compile(condition, { dialect: "inngest" });
        const created = await call(`${url}/v1/cancellations`, KEY, { body: body(condition) });
        expect(created.status, condition).toBe(400);
        expect(created.json).toMatchObject({ data: null, status: 400 });
        expect(created.json.error).toMatch(/^invalid expression: ERROR: <input>:\d+:\d+: expression too costly: its worst case is an estimated/);
        const dry = await call(`${url}/v1/cancellations?dry_run=true`, KEY, { body: body(condition) });
        expect(dry.status).toBe(400);
        expect(dry.json.error).toBe(created.json.error);
        const preview = await call(`${url}/v1/cancellations/preview`, KEY, { body: body(condition) });
        expect(preview.status).toBe(400);
        expect(preview.json.error).toBe(created.json.error);
        const check = await call(`${url}/v1/expressions/check`, KEY, { body: { expression: condition } });
        expect(check.status).toBe(200);
        expect(check.json).toMatchObject({ valid: false, issues: [{ code: "limit_exceeded" }] });
        expect(check.json.issues[0].message).toMatch(/^expression too costly/);
      }),
      { numRuns: 40 },
    );
    expect((await call(`${url}/v1/cancellations`, KEY)).json).toEqual({ data: [], next_cursor: null });
    expect(await store.listCancellations({ environmentId: "env-c", limit: 10 })).toMatchObject({ records: [] });
  });

  it("leave ordinary filters accepted, the check reporting their estimate", async () => {
    const { url } = running;
    const ordinary = [
      `event.data.userId == '${USER}'`,
      "event.data.amount > 1000 && event.data.plan == 'pro'",
      "event.data.items.exists(i, i.sku == 'x' && i.qty > 100)",
      "event.data.items.all(i, i.tags.exists(t, t == 'vip'))",
      "lowercase(event.data.email).endsWith('@example.com')",
    ];
    for (const condition of ordinary) {
      const dry = await call(`${url}/v1/cancellations?dry_run=true`, KEY, { body: body(condition) });
      expect(dry.status, condition).toBe(200);
      const check = await call(`${url}/v1/expressions/check`, KEY, { body: { expression: condition } });
      expect(check.json.valid).toBe(true);
      expect(check.json.cost.limit).toBe(1_000_000);
      expect(check.json.cost.max).toBeLessThanOrEqual(check.json.cost.limit);
      expect(check.json.cost.min).toBeLessThanOrEqual(check.json.cost.max);
    }
    const simple = await call(`${url}/v1/expressions/check`, KEY, { body: { expression: `event.data.userId == '${USER}'` } });
    expect(simple.json.cost).toEqual({ min: 4, max: 4, limit: 1_000_000 });
  });
});
