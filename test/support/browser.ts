/**
 * Real-browser tests: Debian's Chromium (`/usr/bin/chromium`, or `CHROMIUM_PATH`) driven by
 * `playwright-core`, headless, with a fresh profile, and without the background services that
 * would try to reach outside hosts. Missing Chromium: a loud warning and `describe.skip` locally;
 * under `CI=true`, a failing test (`.ci/run` installs it).
 *
 * Also: the UI built into a private folder (the same Vite config as `npm run build`), axe-core
 * injected into a page, and screenshots under the git-ignored `.screenshots/ui/`.
 *
 * @module
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { describe, it } from "vitest";
import { ROOT, buildUi } from "../../scripts/ensure-build.mjs";
import { isCI } from "./ci.js";

/** The Chromium binary: `CHROMIUM_PATH`, else Debian's. */
export const CHROMIUM_PATH = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";

/** Flags of every launch: no sandbox (root in a container), no GPU, no traffic to outside hosts. */
export const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
] as const;

/** Time limit of each browser test, ms (vitest's default of 30 s is tight on a busy 2-core machine). */
export const BROWSER_TEST_TIMEOUT_MS = 120_000;

/** Where the tests write screenshots (git-ignored). */
export const SCREENSHOT_DIR = join(ROOT, ".screenshots", "ui");

/**
 * Declares a suite that needs Chromium. Present: runs `body`. Missing: a loud warning and
 * `describe.skip` locally; under `CI=true`, a failing test.
 */
export function describeBrowser(name: string, body: () => void): void {
  if (existsSync(CHROMIUM_PATH)) {
    // A page flow waits on a real browser and a real server: generous room on a loaded machine.
    describe(name, { timeout: BROWSER_TEST_TIMEOUT_MS }, body);
    return;
  }
  const message = `Chromium is not at ${CHROMIUM_PATH}`;
  if (isCI()) {
    describe(name, () => {
      it("needs Chromium (CI=true never skips)", () => {
        throw new Error(`${message}. Install it: apt-get install -y chromium (or set CHROMIUM_PATH)`);
      });
    });
    return;
  }
  console.warn(
    `\n${"!".repeat(78)}\n!! SKIPPING "${name}": ${message}.\n` +
      `!! Install it with apt-get install -y chromium (or set CHROMIUM_PATH); under CI=true this fails instead.\n${"!".repeat(78)}\n`,
  );
  describe.skip(name, body);
}

/** A launched browser with its fresh profile folder. */
export interface LaunchedBrowser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Launches Chromium headless with a fresh `--user-data-dir` (Playwright's persistent context over a new folder). */
export async function launchChromium(): Promise<LaunchedBrowser> {
  const profile = mkdtempSync(join(tmpdir(), "cancelkit-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_FLAGS],
    viewport: { width: 1280, height: 900 },
    locale: "en-GB",
    timezoneId: "UTC",
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Builds the UI into a fresh folder (so that a parallel `npm run build` cannot empty it mid-test). */
export function buildUiForTest(): { readonly dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "cancelkit-ui-build-"));
  const result = buildUi({ outDir: dir });
  if (!result.ok) throw new Error(`vite build failed:\n${result.output}`);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const require = createRequire(import.meta.url);
let axeSource: string | undefined;

/** An axe-core violation, as the tests report it. */
export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly targets: readonly string[];
}

/**
 * Runs axe-core in the page and answers its serious and critical violations. The script is
 * evaluated through the DevTools protocol, which the page's CSP does not govern (an injected
 * `<script>` would be refused, as it should be).
 */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: any[] }> } }).axe;
    const result = await axe.run((globalThis as unknown as { document: unknown }).document, { resultTypes: ["violations"] });
    return result.violations.map((violation) => ({
      id: violation.id as string,
      impact: (violation.impact ?? null) as string | null,
      help: violation.help as string,
      targets: (violation.nodes as { target: string[] }[]).map((node) => node.target.join(" ")),
    }));
  });
  return violations.filter((violation) => violation.impact === "serious" || violation.impact === "critical");
}

/** Writes a screenshot (full page unless `fullPage: false`) to `.screenshots/ui/<name>.png`; answers the path. */
export async function screenshot(page: Page, name: string, options: { readonly fullPage?: boolean } = {}): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: options.fullPage ?? true });
  return path;
}
