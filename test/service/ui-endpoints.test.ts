/**
 * The endpoints the browser UI needs, over real HTTP: `POST /v1/expressions/check`, the streaming
 * preview `POST /v1/cancellations/preview` (equal to the dry run, stoppable), the function filter
 * of `GET /v1/cancellations`, and the UI's static files with their security and cache headers.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { main } from "../../src/service/cli.js";
import { MemoryRunStore } from "../../src/stores/memory.js";
import type { RunRecord, RunStore } from "../../src/stores/types.js";
import { IMMUTABLE_CACHE, UI_CONTENT_SECURITY_POLICY, acceptsGzip, firstLoadBytes, loadUiBundle } from "../../src/service/ui-assets.js";
import { call, expectedOutcome, makeRuns, startServer, USER, type Running, type RunSpec } from "./helpers.js";

const KEY_A = "signkey-test-aaaaaaaaaaaaaaaa";
const KEY_B = "signkey-test-bbbbbbbbbbbbbbbb";
const KEYS = { [KEY_A]: "env-a", [KEY_B]: "env-b" };
const BEFORE = Date.parse("2024-01-22T14:22:42.130Z");
const AFTER = BEFORE - 86_400_000;

const started: Running[] = [];
afterEach(async () => {
  while (started.length > 0) await started.pop()!.server.close();
});

async function serve(store: RunStore, options: Partial<Parameters<typeof startServer>[0]> = {}): Promise<Running> {
  const running = await startServer({ store, keys: KEYS, ui: false, ...options });
  started.push(running);
  return running;
}

function windowRuns(environmentId: string, count: number, seed: number): RunRecord[] {
  const statuses = ["sleeping", "queued", "running", "waiting", "completed", "failed", "cancelled"] as const;
  const specs: RunSpec[] = [];
  for (let i = 0; i < count; i++) {
    specs.push({
      environmentId,
      startedAt: AFTER - 3_600_000 + Math.floor(((BEFORE - AFTER + 7_200_000) * i) / count),
      userId: i % 4 === 0 ? USER : `user_${i}`,
      status: statuses[i % statuses.length]!,
    });
  }
  return makeRuns(specs, seed);
}

const BODY = {
  app_id: "acme-app",
  function_id: "schedule-reminder",
  started_after: new Date(AFTER).toISOString(),
  started_before: new Date(BEFORE).toISOString(),
  if: `event.data.userId == '${USER}'`,
};

/** Reads an NDJSON response into its lines, calling `onLine` as each arrives. */
async function readLines(response: Response, onLine: (line: any) => void = () => undefined): Promise<any[]> {
  const lines: any[] = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let at: number;
    while ((at = buffer.indexOf("\n")) >= 0) {
      const line = JSON.parse(buffer.slice(0, at));
      buffer = buffer.slice(at + 1);
      lines.push(line);
      onLine(line);
    }
  }
  expect(buffer).toBe("");
  return lines;
}

function previewRequest(url: string, key: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}/v1/cancellations/preview`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    ...(signal !== undefined ? { signal } : {}),
  });
}

describe("POST /v1/expressions/check", () => {
  it("answers the result type of a valid expression (inngest dialect by default)", async () => {
    const { url } = await serve(new MemoryRunStore());
    const ok = await call(`${url}/v1/expressions/check`, KEY_A, { body: { expression: `event.data.userId == '${USER}'` } });
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ valid: true, dialect: "inngest", type: "bool", warning: null, cost: { min: 4, max: 4, limit: 1_000_000 } });
    // A non-boolean type compiles, with a warning that every run would count as non_boolean.
    const int = await call(`${url}/v1/expressions/check`, KEY_A, { body: { expression: "1 + 2", dialect: "cel" } });
    expect(int.json).toMatchObject({ valid: true, dialect: "cel", type: "int" });
    expect(int.json.warning).toContain("non_boolean");
  });

  it("answers every issue with its line and column and cel-go's text with the caret", async () => {
    const { url } = await serve(new MemoryRunStore());
    const expression = "event.data.userId ==\n  'a' && event.data.n >";
    const bad = await call(`${url}/v1/expressions/check`, KEY_A, { body: { expression } });
    expect(bad.status).toBe(200);
    expect(bad.json.valid).toBe(false);
    expect(bad.json.issues.length).toBeGreaterThan(0);
    const issue = bad.json.issues[0];
    expect(issue.code).toBe("syntax");
    expect(issue.line).toBe(2);
    expect(issue.column).toBe(24);
    expect(bad.json.message).toContain("ERROR: <input>:2:24:");
    expect(bad.json.message).toContain(` | ${"  'a' && event.data.n >"}\n | ${".".repeat(23)}^`);
    // Offsets index the expression text (UTF-16), so an editor can select the span.
    expect(issue.start).toBe(expression.length);

    const undeclared = await call(`${url}/v1/expressions/check`, KEY_A, { body: { expression: "nope == 1" } });
    expect(undeclared.json.valid).toBe(false);
    expect(undeclared.json.issues[0]).toMatchObject({ code: "undeclared_reference", line: 1, column: 1, start: 0 });
    // In the cel dialect every name is a dyn variable: the same text compiles.
    const cel = await call(`${url}/v1/expressions/check`, KEY_A, { body: { expression: "nope == 1", dialect: "cel" } });
    expect(cel.json).toMatchObject({ valid: true, type: "bool" });
  });

  it("answers 400 for a body that is not an expression to check, and 401 without a key", async () => {
    const { url } = await serve(new MemoryRunStore());
    const missing = await call(`${url}/v1/expressions/check`, KEY_A, { body: {} });
    expect(missing.status).toBe(400);
    expect(missing.json).toEqual({ error: "expression is required", data: null, status: 400 });
    const wrong = await call(`${url}/v1/expressions/check`, KEY_A, { body: { expression: 1, dialect: "go", extra: true } });
    expect(wrong.status).toBe(400);
    expect(wrong.json.error.split("\n")).toEqual(['unknown field "extra"', "expression must be a string", 'dialect must be one of "inngest", "cel"']);
    const array = await call(`${url}/v1/expressions/check`, KEY_A, { body: [] });
    expect(array.status).toBe(400);
    const anonymous = await call(`${url}/v1/expressions/check`, undefined, { body: { expression: "true" } });
    expect(anonymous.status).toBe(401);
    const get = await call(`${url}/v1/expressions/check`, KEY_A);
    expect(get.status).toBe(405);
  });

  it("reports an expression nested past the parser's limit as an issue, not a crash", async () => {
    const { url } = await serve(new MemoryRunStore());
    const deep = `${"(".repeat(300)}true${")".repeat(300)}`;
    const response = await call(`${url}/v1/expressions/check`, KEY_A, { body: { expression: deep } });
    expect(response.status).toBe(200);
    expect(response.json.valid).toBe(false);
    expect(response.json.issues.length).toBeGreaterThan(0);
    const health = await call(`${url}/healthz`, undefined);
    expect(health.status).toBe(200);
  });
});

describe("POST /v1/cancellations/preview", () => {
  it("streams counts and ends with exactly the dry run's counts and a sample of runs with their events", async () => {
    const store = new MemoryRunStore();
    const runs = [...windowRuns("env-a", 700, 1), ...windowRuns("env-b", 50, 2)];
    await store.insertRuns(runs);
    const { url } = await serve(store, { batchSize: 50 });
    const response = await previewRequest(url, KEY_A, BODY);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/x-ndjson; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-store");
    const lines = await readLines(response);
    const done = lines.at(-1);
    expect(done.type).toBe("done");
    const expected = expectedOutcome(runs, { environmentId: "env-a", appId: "acme-app", functionId: "schedule-reminder", after: AFTER, before: BEFORE, userId: USER });
    expect(done.counts).toEqual(expected.counts);
    expect(expected.counts.cancelled).toBeGreaterThan(20);
    // The same request's dry run says the same.
    const dry = await call(`${url}/v1/cancellations?dry_run=true`, KEY_A, { body: BODY });
    expect(dry.json.counts).toEqual(done.counts);
    // The sample: the first 20 runs to cancel in scan order, with start time, status and event.
    const toCancel = runs.filter((run) => expected.cancel.has(run.id)).sort((a, b) => a.startedAt - b.startedAt || (a.id < b.id ? -1 : 1));
    expect(done.sample.map((run: any) => run.id)).toEqual(toCancel.slice(0, 20).map((run) => run.id));
    const first = toCancel[0]!;
    expect(done.sample[0]).toEqual({ id: first.id, started_at: new Date(first.startedAt).toISOString(), status: first.status, event: first.event });
    // Progress lines come before it, their counts never decreasing.
    for (const line of lines.slice(0, -1)) expect(line.type).toBe("progress");
    let scanned = 0;
    for (const line of lines) {
      expect(line.counts.scanned).toBeGreaterThanOrEqual(scanned);
      scanned = line.counts.scanned;
    }
    // Nothing was written.
    for (const run of runs) expect((await store.getRun(run.id))!.status).toBe(run.status);
    expect((await store.listCancellations({})).records).toEqual([]);
  });

  it("answers a request that does not validate with 400 in Inngest's shape, before any line", async () => {
    const { url } = await serve(new MemoryRunStore());
    const response = await previewRequest(url, KEY_A, { ...BODY, app_id: "", if: "event.data.userId ==" });
    expect(response.status).toBe(400);
    const body = (await response.json()) as any;
    expect(body.status).toBe(400);
    expect(body.error).toContain("app_id is required");
    expect(body.error).toContain("invalid expression: ERROR: <input>:1:21:");
    const future = await previewRequest(url, KEY_A, { ...BODY, started_before: new Date(Date.now() + 3_600_000).toISOString() });
    expect(future.status).toBe(400);
    expect(((await future.json()) as any).error).toBe("started_before must be in the past");
    const anonymous = await previewRequest(url, "signkey-wrong", BODY);
    expect(anonymous.status).toBe(401);
  });

  it("sees only the key's environment", async () => {
    const store = new MemoryRunStore();
    await store.insertRuns([...windowRuns("env-a", 70, 1), ...windowRuns("env-b", 140, 2)]);
    const { url } = await serve(store);
    const a = (await readLines(await previewRequest(url, KEY_A, BODY))).at(-1);
    const b = (await readLines(await previewRequest(url, KEY_B, BODY))).at(-1);
    expect(a.counts.scanned).toBeGreaterThan(0);
    expect(b.counts.scanned).toBeGreaterThan(a.counts.scanned);
    for (const run of b.sample) expect((await store.getRun(run.id))!.environmentId).toBe("env-b");
  });

  it("stops scanning when the client goes away", async () => {
    const store = new MemoryRunStore();
    await store.insertRuns(windowRuns("env-a", 20_000, 3));
    let pages = 0;
    let pagesAtAbort = -1;
    const scanRuns = store.scanRuns.bind(store);
    // Counts the pages the preview reads, and slows each one so the abort lands mid-window.
    store.scanRuns = async (query) => {
      pages++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return scanRuns(query);
    };
    const { url } = await serve(store, { batchSize: 100 });
    // node:http rather than fetch: after an abort, undici opens a spare connection that would
    // hold the server's close until its header timeout.
    const lines: any[] = [];
    await new Promise<void>((resolve, reject) => {
      const request = httpRequest(`${url}/v1/cancellations/preview`, {
        method: "POST",
        headers: { authorization: `Bearer ${KEY_A}`, "content-type": "application/json" },
        agent: false,
      });
      request.on("error", (error) => (lines.length >= 2 ? resolve() : reject(error)));
      request.on("response", (response) => {
        let buffer = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          buffer += chunk;
          let at: number;
          while ((at = buffer.indexOf("\n")) >= 0) {
            lines.push(JSON.parse(buffer.slice(0, at)));
            buffer = buffer.slice(at + 1);
            if (lines.length === 2) {
              pagesAtAbort = pages;
              request.destroy();
              resolve();
            }
          }
        });
        response.on("end", () => reject(new Error("the preview ended before the abort")));
      });
      request.end(JSON.stringify({ ...BODY, if: "event.data.n >= 0" }));
    });
    expect(lines.every((line) => line.type === "progress")).toBe(true);
    // The scan stops within a page or two of the abort instead of reading all 200 pages.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = pages;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(pages).toBe(after);
    expect(pages).toBeLessThan(pagesAtAbort + 5);
    expect(pages).toBeLessThan(200);
  });
});

describe("GET /v1/cancellations?app_id=&function_id=", () => {
  it("lists one function's cancellations, newest first, paging across the others", async () => {
    const store = new MemoryRunStore();
    const { url } = await serve(store);
    const ids: { id: string; fn: string }[] = [];
    for (let i = 0; i < 9; i++) {
      const fn = i % 3 === 0 ? "send-digest" : "schedule-reminder";
      const created = await call(`${url}/v1/cancellations`, KEY_A, { body: { ...BODY, function_id: fn } });
      expect(created.status).toBe(200);
      ids.push({ id: created.json.id, fn });
    }
    const wanted = ids.filter((entry) => entry.fn === "send-digest").map((entry) => entry.id).reverse();
    const first = await call(`${url}/v1/cancellations?app_id=acme-app&function_id=send-digest&limit=2`, KEY_A);
    expect(first.json.data.map((record: any) => record.id)).toEqual(wanted.slice(0, 2));
    expect(first.json.next_cursor).toBe(wanted[1]);
    const second = await call(`${url}/v1/cancellations?app_id=acme-app&function_id=send-digest&limit=2&cursor=${first.json.next_cursor}`, KEY_A);
    expect(second.json.data.map((record: any) => record.id)).toEqual(wanted.slice(2));
    expect(second.json.next_cursor).toBeNull();
    // Another environment's key sees none of them.
    const other = await call(`${url}/v1/cancellations?app_id=acme-app&function_id=send-digest`, KEY_B);
    expect(other.json.data).toEqual([]);
    const half = await call(`${url}/v1/cancellations?app_id=acme-app`, KEY_A);
    expect(half.status).toBe(400);
    expect(half.json.error).toBe("app_id and function_id filter together: give both or neither");
  });
});

describe("the UI's files", () => {
  const dir = mkdtempSync(join(tmpdir(), "cancelkit-ui-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "assets"));
  const script = `console.log(${JSON.stringify("x".repeat(2000))});\n`;
  writeFileSync(join(dir, "index.html"), `<!doctype html><html><head><script type="module" src="./assets/app-1234abcd.js"></script></head><body></body></html>`);
  writeFileSync(join(dir, "assets", "app-1234abcd.js"), script);

  it("answers index.html and hashed assets with strict security headers and the right caching", async () => {
    const { url } = await serve(new MemoryRunStore(), { ui: dir });
    for (const path of ["/", "/index.html"]) {
      const page = await fetch(`${url}${path}`);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(page.headers.get("cache-control")).toBe("no-cache");
      expect(page.headers.get("content-security-policy")).toBe(UI_CONTENT_SECURITY_POLICY);
      expect(page.headers.get("x-content-type-options")).toBe("nosniff");
      expect(page.headers.get("referrer-policy")).toBe("no-referrer");
      expect(page.headers.get("x-frame-options")).toBe("DENY");
      expect(await page.text()).toContain("app-1234abcd.js");
    }
    const csp = UI_CONTENT_SECURITY_POLICY;
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    const asset = await fetch(`${url}/assets/app-1234abcd.js`, { headers: { "accept-encoding": "gzip" } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get("cache-control")).toBe(IMMUTABLE_CACHE);
    expect(asset.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(asset.headers.get("content-encoding")).toBe("gzip");
    expect(asset.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await asset.text()).toBe(script);
    const missing = await fetch(`${url}/assets/nope.js`);
    expect(missing.status).toBe(404);
    const post = await fetch(`${url}/`, { method: "POST" });
    expect(post.status).toBe(405);
    // The API still answers JSON errors, and needs its key.
    expect((await call(`${url}/v1/cancellations`, undefined)).status).toBe(401);
  });

  it("says how to build the UI when it is not built", async () => {
    const { url } = await serve(new MemoryRunStore(), { ui: join(dir, "missing") });
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(503);
    expect(await page.text()).toContain("npm run build");
    expect(page.headers.get("content-security-policy")).toBe(UI_CONTENT_SECURITY_POLICY);
  });

  it("measures the first load: the page and the assets it links, gzip-compressed", () => {
    const bundle = loadUiBundle(dir)!;
    const sizes = firstLoadBytes(bundle);
    expect(sizes.files).toEqual(["/", "/assets/app-1234abcd.js"]);
    expect(sizes.raw).toBe(bundle.files.get("/")!.body.length + script.length);
    expect(sizes.gzip).toBeLessThan(sizes.raw);
  });

  it("reads Accept-Encoding", () => {
    expect(acceptsGzip("gzip, deflate, br")).toBe(true);
    expect(acceptsGzip("br;q=1.0, gzip;q=0")).toBe(false);
    expect(acceptsGzip("*")).toBe(true);
    expect(acceptsGzip(undefined)).toBe(false);
    expect(acceptsGzip("identity")).toBe(false);
  });
});

describe("cancelkit serve's UI flags", () => {
  it("refuses --ui-dir with --no-ui, and a --ui-dir that holds no built UI, with a usage error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cancelkit-ui-flags-"));
    try {
      const run = async (argv: string[]): Promise<{ code: number; stderr: string }> => {
        let stderr = "";
        const code = await main(argv, {
          stdout: { write: () => true },
          stderr: { write: (text: string) => (stderr += text) },
          env: {},
          onSignal: () => () => undefined,
        });
        return { code, stderr };
      };
      expect(await run(["serve", "--port", "0", "--db", join(dir, "a.db"), "--no-ui", "--ui-dir", dir])).toEqual({
        code: 2,
        stderr: "cancelkit: give either --ui-dir or --no-ui, not both\n",
      });
      const empty = await run(["serve", "--port", "0", "--db", join(dir, "b.db"), "--ui-dir", join(dir, "nothing")]);
      expect(empty.code).toBe(2);
      expect(empty.stderr).toContain("no built UI there");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
