/**
 * The Bulk Cancellation UI in real Chromium, against the service over loopback: sign in (right
 * and wrong key), functions, the expression error at its column, the preview equal to the API's
 * dry run, submit and follow to `completed`, delete, history, the XSS case, keyboard-only
 * creation, no CSP violation, and axe-core on every page. Screenshots go to `.screenshots/ui/`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import { main, type CliIo } from "../../src/service/cli.js";
import { DEMO_APP_ID, DEMO_EXPRESSION, DEMO_FUNCTION_ID, loadDemoData } from "../../src/service/demo.js";
import { createServer, type CancelkitServer } from "../../src/service/server.js";
import { firstLoadBytes, loadUiBundle } from "../../src/service/ui-assets.js";
import { MemoryRunStore } from "../../src/stores/memory.js";
import type { RunRecord } from "../../src/stores/types.js";
import { buildUiForTest, describeBrowser, launchChromium, screenshot, seriousAxeViolations, type LaunchedBrowser } from "../support/browser.js";
import { call } from "../service/helpers.js";

const KEY = "signkey-ui-test-0123456789abcdef";
const ENV = "ui-env";
const XSS = "<img src=x onerror=alert(1)>";
const XSS_FUNCTION = "render-profile";
const NOW = Date.now();

describeBrowser("the UI in Chromium", () => {
  let ui: { dir: string; remove(): void };
  let browser: LaunchedBrowser;
  let server: CancelkitServer;
  let store: MemoryRunStore;
  let url: string;
  let page: Page;
  /** Console errors and uncaught exceptions of the current page (CSP refusals show here). */
  let problems: string[];
  let dialogs: string[];

  beforeAll(async () => {
    ui = buildUiForTest();
    store = new MemoryRunStore();
    await loadDemoData(store, { environmentId: ENV, now: NOW });
    const xssRuns: RunRecord[] = [0, 1, 2].map((i) => ({
      id: `01HXSS0000000000000000000${i}`,
      environmentId: ENV,
      appId: DEMO_APP_ID,
      functionId: XSS_FUNCTION,
      startedAt: NOW - 3_600_000 + i,
      status: "running",
      event: { name: "profile/updated", data: { bio: XSS, html: `</code><script>alert(2)</script>` } },
    }));
    await store.insertRuns(xssRuns);
    server = createServer({ store, keys: { [KEY]: ENV }, ui: ui.dir, batchSize: 200 });
    url = await server.listen({ host: "127.0.0.1", port: 0 });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    ui?.remove();
  });

  beforeEach(async () => {
    page = await browser.context.newPage();
    problems = [];
    dialogs = [];
    page.on("console", (message) => {
      // A wrong key's 401 is logged by the browser as a failed resource: expected, not a problem.
      if (message.type() === "error" && !/status of 40[14]/.test(message.text())) problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
  });

  afterEach(async () => {
    await page.close();
    // No CSP refusal, no uncaught error, no alert() on any page of any test.
    expect(problems).toEqual([]);
    expect(dialogs).toEqual([]);
  });

  async function expectAccessible(name: string): Promise<void> {
    expect(await seriousAxeViolations(page), `axe on ${name}`).toEqual([]);
  }

  async function signIn(): Promise<void> {
    await page.goto(`${url}/`);
    await page.getByTestId("key-input").fill(KEY);
    await page.getByTestId("key-submit").click();
    await page.getByRole("heading", { name: "Functions" }).waitFor();
  }

  /** The preview's final state; fails on an error state. */
  async function previewDone(): Promise<number> {
    await page.locator('[data-testid="preview"][data-state="done"], [data-testid="preview"][data-state="error"]').waitFor();
    expect(await page.getByTestId("preview").getAttribute("data-state")).toBe("done");
    return Number(await page.getByTestId("preview-count").textContent());
  }

  /** The window of the demo request as the `datetime-local` inputs show it (UTC, to the second). */
  function local(ms: number): string {
    return new Date(ms).toISOString().slice(0, 19);
  }

  /** The request body the create page sends for a window (seconds, as the inputs hold them). */
  function bodyFor(fn: string, after: number, before: number, expression?: string): Record<string, string> {
    const second = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString();
    return { app_id: DEMO_APP_ID, function_id: fn, started_after: second(after), started_before: second(before), ...(expression !== undefined ? { if: expression } : {}) };
  }

  it("serves the page with its security headers and long-lived caching for hashed assets", async () => {
    const response = await page.goto(`${url}/`);
    const headers = response!.headers();
    expect(headers["content-security-policy"]).toContain("script-src 'self'");
    expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(headers["x-content-type-options"]).toBe("nosniff");
    expect(headers["referrer-policy"]).toBe("no-referrer");
    const scripts = await page.locator("script[src]").evaluateAll((elements) => elements.map((element) => (element as unknown as { src: string }).src));
    expect(scripts).toHaveLength(1);
    const asset = await fetch(scripts[0]!);
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    // No inline script anywhere in the page, and the CSP refuses one that something injects.
    expect(await page.locator("script:not([src])").count()).toBe(0);
    await page.evaluate(`{ const s = document.createElement("script"); s.textContent = "window.injected = 1"; document.head.appendChild(s); }`);
    await expect.poll(() => problems.some((text) => text.includes("Content Security Policy"))).toBe(true);
    expect(await page.evaluate("window.injected")).toBeUndefined();
    problems.length = 0;
  });

  it("keeps the first load small: under 40 KiB gzip for the page and every asset it links", () => {
    const sizes = firstLoadBytes(loadUiBundle(ui.dir)!);
    expect(sizes.files.some((file) => file.endsWith(".js"))).toBe(true);
    expect(sizes.files.some((file) => file.endsWith(".css"))).toBe(true);
    expect(sizes.gzip).toBeLessThan(40 * 1024);
  });

  it("has an axe check that does report a serious violation (the check is not vacuous)", async () => {
    await page.setContent(`<html lang="en"><head><title>t</title></head><body><main><h1>t</h1><img src="data:,"><input type="text"></main></body></html>`);
    const ids = (await seriousAxeViolations(page)).map((violation) => violation.id).sort();
    expect(ids).toEqual(["image-alt", "label"]);
  });

  it("signs in with the right key and refuses a wrong one", async () => {
    await page.goto(`${url}/`);
    await page.getByTestId("key-input").waitFor();
    await expectAccessible("sign-in page");
    await screenshot(page, "sign-in");
    await page.getByTestId("key-input").fill("signkey-wrong-000000");
    await page.getByTestId("key-submit").click();
    await expect(page.getByRole("alert").textContent()).resolves.toContain("Invalid signing key");
    await expectAccessible("sign-in page with an error");
    await page.getByTestId("key-input").fill(KEY);
    await page.getByTestId("key-submit").click();
    await page.getByRole("heading", { name: "Functions" }).waitFor();
    // The key lives in this tab's sessionStorage only: no cookie.
    expect(await page.evaluate("document.cookie")).toBe("");
    expect(await page.evaluate('sessionStorage.getItem("cancelkit.signing-key")')).toBe(KEY);
    // The functions with their runs by status.
    const table = page.getByTestId("functions-table");
    await table.waitFor();
    const row = table.locator("tr", { hasText: DEMO_FUNCTION_ID });
    await expect(row.count()).resolves.toBe(1);
    const api = await call(`${url}/v1/functions`, KEY);
    const demo = api.json.data.find((entry: any) => entry.function_id === DEMO_FUNCTION_ID);
    const cells = await row.locator("td").allTextContents();
    expect(cells[0]).toBe(DEMO_APP_ID);
    expect(cells[2]!.replace(/,/g, "")).toBe(String(demo.runs.running ?? 0));
    await expectAccessible("functions page");
    await screenshot(page, "functions");
    // A reload keeps the session; signing out forgets the key.
    await page.reload();
    await page.getByRole("heading", { name: "Functions" }).waitFor();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByTestId("key-input").waitFor();
    expect(await page.evaluate('sessionStorage.getItem("cancelkit.signing-key")')).toBeNull();
  });

  it("shows a bad expression's error at its line and column, and the type of a good one", async () => {
    await signIn();
    await page.getByTestId("new-cancellation").click();
    const input = page.getByTestId("expression-input");
    await input.fill("event.data.userId ==");
    const error = page.getByTestId("expression-error");
    await error.waitFor();
    const text = (await error.textContent())!;
    expect(text).toContain("ERROR: <input>:1:21:");
    expect(text).toContain(` | event.data.userId ==\n | ${".".repeat(20)}^`);
    expect(await input.getAttribute("aria-invalid")).toBe("true");
    await expectAccessible("create page with an expression error");
    await screenshot(page, "create-expression-error");
    // "Go to" selects the error's position in the editor.
    await page.getByRole("button", { name: /Go to line 1, column 21/ }).click();
    expect(await input.evaluate((element) => (element as unknown as { selectionStart: number }).selectionStart)).toBe(20);
    await input.fill("event.data.userId == 'x'");
    await page.getByTestId("expression-type").waitFor();
    expect(await page.getByTestId("expression-type").textContent()).toContain("bool");
    expect(await page.getByTestId("expression-error").count()).toBe(0);
  });

  it("previews exactly what the API's dry run counts, submits, and follows the job to completed", async () => {
    await signIn();
    await page.getByTestId("new-cancellation").click();
    await page.getByTestId("app-select").selectOption(DEMO_APP_ID);
    await page.getByTestId("function-select").selectOption(DEMO_FUNCTION_ID);
    const after = NOW - 48 * 3_600_000;
    const before = NOW;
    await page.getByTestId("started-after").fill(local(after));
    await page.getByTestId("started-before").fill(local(before));
    await page.getByTestId("expression-input").fill(DEMO_EXPRESSION);
    const count = await previewDone();
    const body = bodyFor(DEMO_FUNCTION_ID, after, before, DEMO_EXPRESSION);
    const dry = await call(`${url}/v1/cancellations?dry_run=true`, KEY, { body });
    expect(dry.status).toBe(200);
    expect(count).toBe(dry.json.counts.cancelled);
    expect(count).toBeGreaterThan(0);
    expect(Number(await page.getByTestId("preview-finished").textContent())).toBe(dry.json.counts.skipped_terminal);
    expect(Number(await page.getByTestId("preview-not-matched").textContent())).toBe(dry.json.counts.not_matched);
    // The sample: runs to be cancelled, with their start time and event data.
    const sample = page.getByTestId("preview-sample");
    await expect(sample.locator("tbody tr").count()).resolves.toBe(Math.min(20, count));
    expect(await sample.locator("tbody tr").first().textContent()).toContain("user_o9235hf84hf");
    await expectAccessible("create page with a preview");
    await screenshot(page, "create-preview");
    // The README's picture: the top of the create page with its live preview.
    await page.getByTestId("expression-input").blur();
    await screenshot(page, "create-preview-viewport", { fullPage: false });

    await page.getByTestId("submit-cancellation").click();
    const confirm = page.getByTestId("confirm-submit");
    await confirm.waitFor();
    expect(await page.locator("dialog[open]").textContent()).toContain(`This cancels ${count.toLocaleString("en-US")} runs`);
    await expectAccessible("submit confirmation");
    await confirm.click();
    await page.waitForURL(/#\/cancellations\/[0-9A-Z]{26}$/);
    const id = page.url().split("/").at(-1)!;
    await page.locator('[data-testid="cancellation-status"]', { hasText: "completed" }).waitFor();
    expect(Number(await page.getByTestId("count-cancelled").textContent())).toBe(count);
    const record = await call(`${url}/v1/cancellations/${id}`, KEY);
    expect(record.json.status).toBe("completed");
    expect(record.json.counts).toEqual(dry.json.counts);
    for (const key of ["scanned", "skipped_terminal", "not_matched", "expression_error", "non_boolean"] as const) {
      expect(Number(await page.getByTestId(`count-${key.replace("_", "-")}`).textContent()), key).toBe(record.json.counts[key]);
    }
    expect(await page.getByTestId("cancellation-expression").textContent()).toBe(DEMO_EXPRESSION);
    await expectAccessible("detail page");
    await screenshot(page, "detail-completed");
  });

  /**
   * Holds every page the store reads after the first `free` ones until `release()`, so that a job
   * or a preview is still running when the page looks at it, however slow the machine (a fixed
   * delay per page alone would race the browser). Each page first waits `delayMs`. `restore()`
   * releases and puts the store back.
   */
  function holdScans(free: number, delayMs = 0): { release(): void; restore(): void } {
    const scanRuns = store.scanRuns.bind(store);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let pages = 0;
    store.scanRuns = async (query) => {
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (++pages > free) await gate;
      return scanRuns(query);
    };
    return {
      release,
      restore: () => {
        release();
        store.scanRuns = scanRuns;
      },
    };
  }

  it("shows a running job's progress live from its event stream, then its outcome", async () => {
    // Nothing matches, so the job saves its counts once a second (not per batch). Of its 16 reads
    // (the creation's probe, then 15 pages) 12 slow ones go through, so some 3 s of checkpoints,
    // then the job waits until the page has shown it running with counts.
    const held = holdScans(12, 300);
    try {
      await signIn();
      // About 15 pages of 200 runs. Nothing matches, so later tests keep their runs.
      const created = await call(`${url}/v1/cancellations`, KEY, { body: bodyFor(DEMO_FUNCTION_ID, NOW - 7 * 86_400_000, NOW - 1000, "event.data.userId == 'nobody'") });
      expect(created.status).toBe(200);
      const stream = page.waitForRequest((request) => request.url().endsWith(`/v1/cancellations/${created.json.id}/events`));
      await page.goto(`${url}/#/cancellations/${created.json.id}`);
      await page.locator('[data-testid="cancellation-status"]', { hasText: "running" }).waitFor();
      await stream;
      // Counts and the bar move while the job runs (from the events, not from a reload).
      const scanned = async (): Promise<number> => Number(await page.getByTestId("count-scanned").textContent());
      await expect.poll(scanned, { timeout: 20_000 }).toBeGreaterThan(0);
      await expectAccessible("detail page of a running job");
      await screenshot(page, "detail-running");
      expect(await page.getByTestId("cancellation-progress").textContent()).not.toBeNull();
      held.release();
      await page.locator('[data-testid="cancellation-status"]', { hasText: "completed" }).waitFor({ timeout: 30_000 });
      const record = await call(`${url}/v1/cancellations/${created.json.id}`, KEY);
      expect(await scanned()).toBe(record.json.counts.scanned);
      expect(Number(await page.getByTestId("count-cancelled").textContent())).toBe(record.json.counts.cancelled);
      expect(await page.getByTestId("cancellation-progress").getAttribute("value")).toBe("1");
    } finally {
      held.restore();
    }
  });

  it("disables submit when nothing would be cancelled", async () => {
    await signIn();
    await page.goto(`${url}/#/new?app=${DEMO_APP_ID}&function=${DEMO_FUNCTION_ID}&hours=48&if=${encodeURIComponent("event.data.userId == 'nobody'")}`);
    expect(await previewDone()).toBe(0);
    expect(await page.getByTestId("submit-cancellation").isDisabled()).toBe(true);
  });

  it("stops a preview on request and keeps the count so far", async () => {
    // One page goes through, then the preview waits: it is still counting when Stop is pressed.
    const held = holdScans(1);
    try {
      await signIn();
      await page.goto(`${url}/#/new?app=${DEMO_APP_ID}&function=${DEMO_FUNCTION_ID}&hours=168`);
      await page.locator('[data-testid="preview"][data-state="running"]').waitFor();
      await page.getByTestId("preview-stop").click();
      await page.locator('[data-testid="preview"][data-state="stopped"]').waitFor();
      expect(await page.getByTestId("preview").textContent()).toContain("preview stopped after");
      await expectAccessible("create page with a stopped preview");
    } finally {
      held.restore();
    }
  });

  it("deletes a cancellation after a confirmation that says cancelled runs stay cancelled", async () => {
    const created = await call(`${url}/v1/cancellations`, KEY, { body: bodyFor("send-digest", NOW - 7 * 86_400_000, NOW - 1000) });
    expect(created.status).toBe(200);
    await server.jobs.waitFor(created.json.id);
    const cancelled = (await call(`${url}/v1/cancellations/${created.json.id}`, KEY)).json.counts.cancelled;
    const page1 = await store.scanRuns({ environmentId: ENV, appId: DEMO_APP_ID, functionId: "send-digest", startedBefore: NOW, limit: 100_000 });
    const cancelledRuns = page1.runs.filter((run) => run.cancellationId === created.json.id);
    expect(cancelledRuns.length).toBe(cancelled);
    expect(cancelled).toBeGreaterThan(0);
    await signIn();
    await page.goto(`${url}/#/cancellations/${created.json.id}`);
    await page.locator('[data-testid="cancellation-status"]', { hasText: "completed" }).waitFor();
    await page.getByTestId("delete-cancellation").click();
    await page.getByTestId("confirm-delete").waitFor();
    expect(await page.locator("dialog[open]").textContent()).toContain("runs already cancelled: they stay cancelled");
    await expectAccessible("delete confirmation");
    await page.getByTestId("confirm-delete").click();
    await page.getByTestId("deleted-notice").waitFor();
    expect((await call(`${url}/v1/cancellations/${created.json.id}`, KEY)).status).toBe(404);
    // The runs it cancelled stay cancelled.
    for (const run of cancelledRuns) expect((await store.getRun(run.id))?.status).toBe("cancelled");
  });

  it("lists the history newest first, filters it by function, and opens a row's detail", async () => {
    const ids: string[] = [];
    for (const fn of ["sync-crm", "charge-invoice", "sync-crm"]) {
      const created = await call(`${url}/v1/cancellations`, KEY, { body: bodyFor(fn, NOW - 86_400_000, NOW - 1000, "event.data.userId == 'nobody'") });
      ids.push(created.json.id);
      await server.jobs.waitFor(created.json.id);
    }
    await signIn();
    await page.getByRole("link", { name: "History" }).first().click();
    await page.getByTestId("history-table").waitFor();
    const all = await call(`${url}/v1/cancellations?limit=20`, KEY);
    const shown = await page.getByTestId("history-row").locator("td:last-child").allTextContents();
    expect(shown).toEqual(all.json.data.map((record: any) => record.id));
    expect(shown.indexOf(ids[2]!)).toBeLessThan(shown.indexOf(ids[0]!));
    await expectAccessible("history page");
    await screenshot(page, "history");
    await page.getByTestId("history-filter").selectOption({ label: `${DEMO_APP_ID} / sync-crm` });
    await page.waitForURL(/function=sync-crm/);
    await page.locator('[data-testid="history-row"]').first().waitFor();
    await expect(page.getByTestId("history-row").locator("td:last-child").allTextContents()).resolves.toEqual([ids[2], ids[0]]);
    // Paging: with more than a page (20) of this function's cancellations, "Older" shows the API's next page.
    for (let i = 0; i < 19; i++) {
      const extra = await call(`${url}/v1/cancellations`, KEY, { body: bodyFor("sync-crm", NOW - 60_000, NOW - 1000, "event.data.userId == 'nobody'") });
      await server.jobs.waitFor(extra.json.id);
    }
    const pageOf = async (cursor?: string): Promise<any> =>
      (await call(`${url}/v1/cancellations?limit=20&app_id=${DEMO_APP_ID}&function_id=sync-crm${cursor === undefined ? "" : `&cursor=${cursor}`}`, KEY)).json;
    const firstPage = await pageOf();
    const secondPage = await pageOf(firstPage.next_cursor);
    expect(secondPage.data.map((record: any) => record.id)).toEqual([ids[0]]);
    const shownIds = () => page.getByTestId("history-row").locator("td:last-child").allTextContents();
    await page.reload();
    await expect.poll(shownIds).toEqual(firstPage.data.map((record: any) => record.id));
    await page.getByTestId("history-older").click();
    await expect.poll(shownIds).toEqual([ids[0]]);
    expect(await page.getByTestId("history-older").isDisabled()).toBe(true);
    await page.getByRole("button", { name: "Newer" }).click();
    await expect.poll(shownIds).toEqual(firstPage.data.map((record: any) => record.id));
    await page.getByTestId("history-older").click();
    await expect.poll(shownIds).toEqual([ids[0]]);
    await page.getByRole("link", { name: ids[0]! }).click();
    await page.locator('[data-testid="cancellation-status"]', { hasText: "completed" }).waitFor();
    expect(page.url()).toContain(`#/cancellations/${ids[0]}`);
  });

  it("says which values of a partly unreadable record cannot be shown, and shows the rest", async () => {
    // A record stored before timestamps were checked, with a creation time past year 9999.
    const id = "01JQ0000000000000000000000";
    await store.createCancellation({
      id,
      environmentId: ENV,
      appId: DEMO_APP_ID,
      functionId: XSS_FUNCTION,
      startedBefore: NOW - 1000,
      createdAt: 253_402_300_800_000,
      updatedAt: NOW,
      status: "completed",
      counts: { scanned: 3, cancelled: 0, skipped_terminal: 0, not_matched: 3, expression_error: 0, non_boolean: 0 },
    });
    await signIn();
    await page.goto(`${url}/#/cancellations/${id}`);
    const note = page.getByTestId("cancellation-unreadable");
    await note.waitFor();
    expect(await note.textContent()).toMatch(/created_at: the stored value 253402300800000 \(epoch ms\) lies outside years 0001-9999/);
    // The value that cannot be shown is a placeholder, not a made-up date.
    expect(await page.locator('dt:text-is("Created") + dd').textContent()).toBe("—");
    expect(await page.getByTestId("cancellation-status").textContent()).toBe("completed");
    expect(await page.locator("main").textContent()).toContain(XSS_FUNCTION);
  });

  it("renders event data and expressions holding HTML as text", async () => {
    await signIn();
    const expression = `event.data.bio == '${XSS}' || event.data.bio == "</pre><script>alert(3)</script>"`;
    await page.goto(`${url}/#/new?app=${DEMO_APP_ID}&function=${XSS_FUNCTION}&hours=2&if=${encodeURIComponent(expression)}`);
    expect(await previewDone()).toBe(3);
    const sample = page.getByTestId("preview-sample");
    expect(await sample.textContent()).toContain(XSS);
    expect(await sample.textContent()).toContain("<script>alert(2)</script>");
    // Nothing of the data became an element.
    expect(await page.locator("main img, main script").count()).toBe(0);
    await screenshot(page, "create-xss");
    await page.getByTestId("submit-cancellation").click();
    await page.getByTestId("confirm-submit").click();
    await page.locator('[data-testid="cancellation-status"]', { hasText: "completed" }).waitFor();
    expect(await page.getByTestId("cancellation-expression").textContent()).toBe(expression);
    expect(await page.locator("main img, main script").count()).toBe(0);
    await page.getByRole("link", { name: "History" }).first().click();
    await page.getByTestId("history-table").waitFor();
    expect(await page.getByTestId("history-table").textContent()).toContain(XSS);
    expect(await page.locator("main img, main script").count()).toBe(0);
  });

  it("lets a newcomer follow what `serve --demo` prints: sign in, preview the exact count, submit, watch it complete", async () => {
    const dbDir = mkdtempSync(join(tmpdir(), "cancelkit-newcomer-"));
    let stdout = "";
    let stop: ((signal: NodeJS.Signals) => void) | undefined;
    const io: CliIo = {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stdout += text) },
      env: { PATH: process.env["PATH"] ?? "" },
      onSignal: (handler) => {
        stop = handler;
        return () => (stop = undefined);
      },
    };
    const exited = main(["serve", "--demo", "--port", "0", "--db", join(dbDir, "demo.db"), "--ui-dir", ui.dir], io);
    try {
      await expect.poll(() => stdout.includes("Press Ctrl-C to stop."), { timeout: 20_000 }).toBe(true);
      const key = /^ {2}(signkey-dev-[0-9a-f]{32})$/m.exec(stdout)![1]!;
      const address = /^Browser UI: (http:\/\/\S+\/) /m.exec(stdout)![1]!;
      const link = /^ {2}(http:\/\/\S+\/#\/new\?\S+)$/m.exec(stdout)![1]!;
      const printed = Number(/(\d+) will be cancelled/.exec(stdout)![1]);
      expect(printed).toBeGreaterThan(0);
      await page.goto(address);
      await page.getByTestId("key-input").fill(key);
      await page.getByTestId("key-submit").click();
      await page.getByRole("heading", { name: "Functions" }).waitFor();
      await page.goto(link);
      expect(await page.getByTestId("app-select").inputValue()).toBe(DEMO_APP_ID);
      expect(await page.getByTestId("function-select").inputValue()).toBe(DEMO_FUNCTION_ID);
      expect(await page.getByTestId("expression-input").inputValue()).toBe(DEMO_EXPRESSION);
      expect(await previewDone()).toBe(printed);
      await page.getByTestId("submit-cancellation").click();
      await page.getByTestId("confirm-submit").click();
      await page.locator('[data-testid="cancellation-status"]', { hasText: "completed" }).waitFor();
      expect(Number(await page.getByTestId("count-cancelled").textContent())).toBe(printed);
    } finally {
      stop?.("SIGTERM");
      expect(await exited).toBe(0);
      rmSync(dbDir, { recursive: true, force: true });
    }
  });

  it("creates a cancellation with the keyboard alone", async () => {
    await signIn();
    const focused = (): Promise<string | undefined> => page.evaluate("document.activeElement?.dataset.testid");
    /** Presses Tab until the element with this test id has the focus. */
    const tabTo = async (testId: string): Promise<void> => {
      for (let i = 0; i < 40; i++) {
        if ((await focused()) === testId) return;
        await page.keyboard.press("Tab");
      }
      throw new Error(`Tab never reached ${testId}`);
    };
    await tabTo("new-cancellation");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "New cancellation" }).waitFor();
    await tabTo("app-select");
    // The apps arrive after the page; a user sees them before pressing a key (CI once pressed
    // ArrowDown on a select holding only its placeholder).
    await page.getByTestId("app-select").locator("option", { hasText: DEMO_APP_ID }).waitFor({ state: "attached" });
    // A closed select takes its options from the arrow keys.
    await page.keyboard.press("ArrowDown");
    expect(await page.getByTestId("app-select").inputValue()).toBe(DEMO_APP_ID);
    await tabTo("function-select");
    await page.getByTestId("function-select").locator("option", { hasText: DEMO_FUNCTION_ID }).waitFor({ state: "attached" });
    const options = await page.getByTestId("function-select").locator("option").allTextContents();
    for (let i = 0; i < options.indexOf(DEMO_FUNCTION_ID); i++) await page.keyboard.press("ArrowDown");
    expect(await page.getByTestId("function-select").inputValue()).toBe(DEMO_FUNCTION_ID);
    // The quick range "Last 7 days", then the expression.
    for (let i = 0; i < 40 && (await page.evaluate("document.activeElement?.textContent")) !== "Last 7 days"; i++) await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await tabTo("expression-input");
    await page.keyboard.type("event.data.userId != 'user_o9235hf84hf'");
    const count = await previewDone();
    expect(count).toBeGreaterThan(0);
    await tabTo("submit-cancellation");
    await page.keyboard.press("Enter");
    await page.getByTestId("confirm-submit").waitFor();
    // The dialog focuses its safe button; the confirm button is one Shift+Tab away.
    await page.keyboard.press("Shift+Tab");
    expect(await focused()).toBe("confirm-submit");
    await page.keyboard.press("Enter");
    await page.locator('[data-testid="cancellation-status"]', { hasText: "completed" }).waitFor();
    expect(Number(await page.getByTestId("count-cancelled").textContent())).toBe(count);
  });
});
