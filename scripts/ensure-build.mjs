#!/usr/bin/env node
/**
 * Builds `dist/` when it is missing or older than the sources: `tsc -p tsconfig.build.json` when a
 * file under `src/` (but `src/ui/`), `tsconfig*.json` or `package.json` is newer than the built CLI;
 * the browser UI (`vite build --config vite.ui.config.ts` into `dist/ui/`) when a file under
 * `src/ui/`, `vite.ui.config.ts` or `package.json` is newer than `dist/ui/index.html`.
 *
 * Usage: `node scripts/ensure-build.mjs [--clean] [--allow-type-errors] [--if-typescript]` (exit
 * code 0 when dist is fresh or was built), or `import { ensureBuild } from "./scripts/ensure-build.mjs"`.
 *
 * - `--clean` removes `dist/` and builds afresh (`npm pack`'s `prepack`: no file of a deleted or
 *   moved source may reach the package).
 * - `--allow-type-errors` accepts a build tsc emitted despite type errors (`npm install`'s
 *   `prepare`: an install should not fail on a work-in-progress type error; `npm test` reports it).
 * - `--if-typescript` skips the build with a note when TypeScript is not installed (an install
 *   without dev dependencies).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The repository root (this file lives in `scripts/`). */
export const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

/** The built CLI, whose time stamp stands for the whole build (tsc rewrites every output). */
export const BUILT_CLI = join(ROOT, "dist", "src", "service", "cli.js");

/** The built UI's page, whose time stamp stands for the UI build. */
export const BUILT_UI_INDEX = join(ROOT, "dist", "ui", "index.html");

function newestMtime(path, skip = undefined) {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of readdirSync(path)) {
    const child = join(path, entry);
    if (child !== skip) newest = Math.max(newest, newestMtime(child, skip));
  }
  return newest;
}

/** Whether the compiled service in `dist/src/` is missing or older than its sources. */
export function isServiceBuildStale(root = ROOT) {
  const cli = join(root, "dist", "src", "service", "cli.js");
  if (!existsSync(cli)) return true;
  const built = statSync(cli).mtimeMs;
  const inputs = [join(root, "src"), join(root, "tsconfig.json"), join(root, "tsconfig.build.json"), join(root, "package.json")];
  return inputs.some((input) => existsSync(input) && newestMtime(input, join(root, "src", "ui")) > built);
}

/** Whether the built UI in `dist/ui/` is missing or older than its sources. */
export function isUiBuildStale(root = ROOT) {
  const index = join(root, "dist", "ui", "index.html");
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  const inputs = [join(root, "src", "ui"), join(root, "vite.ui.config.ts"), join(root, "package.json")];
  return inputs.some((input) => existsSync(input) && newestMtime(input) > built);
}

/** Whether `dist/` (the service or the UI) is missing or older than the sources. */
export function isBuildStale(root = ROOT) {
  return isServiceBuildStale(root) || isUiBuildStale(root);
}

/**
 * Builds the browser UI with Vite into `outDir` (default `dist/ui/`).
 *
 * @param {{ root?: string, outDir?: string }} [options]
 * @returns {{ ok: boolean, output: string }}
 */
export function buildUi(options = {}) {
  const root = options.root ?? ROOT;
  const vite = join(root, "node_modules", "vite", "bin", "vite.js");
  const args = [vite, "build", "--config", "vite.ui.config.ts", ...(options.outDir !== undefined ? ["--outDir", options.outDir] : [])];
  const result = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8" });
  return { ok: result.status === 0, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}

/**
 * Builds when stale.
 *
 * @param {{ root?: string, log?: (line: string) => void, allowTypeErrors?: boolean }} [options]
 *   `allowTypeErrors`: accept a build that tsc emitted despite type errors (the type check is
 *   `npm run typecheck`'s job). Default false.
 * @returns {{ built: boolean, ok: boolean, output: string }}
 */
export function ensureBuild(options = {}) {
  const root = options.root ?? ROOT;
  const log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  const serviceStale = isServiceBuildStale(root);
  const uiStale = isUiBuildStale(root);
  if (!serviceStale && !uiStale) return { built: false, ok: true, output: "" };
  let ok = true;
  let output = "";
  if (serviceStale) {
    log("cancelkit: building dist/ (tsc -p tsconfig.build.json)…");
    const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
    const result = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: root, encoding: "utf8" });
    output += `${result.stdout ?? ""}${result.stderr ?? ""}`;
    const emitted = existsSync(join(root, "dist", "src", "service", "cli.js")) && !isServiceBuildStale(root);
    ok = result.status === 0 || (options.allowTypeErrors === true && emitted);
    if (!ok || result.status !== 0) log(output.trim());
  }
  if (uiStale) {
    log("cancelkit: building the UI into dist/ui/ (vite build)…");
    const ui = buildUi({ root });
    output += ui.output;
    if (!ui.ok) {
      log(ui.output.trim());
      ok = false;
    }
  }
  return { built: true, ok, output };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const flags = new Set(process.argv.slice(2));
  for (const flag of flags) {
    if (!["--clean", "--allow-type-errors", "--if-typescript"].includes(flag)) {
      process.stderr.write(`ensure-build: unknown option ${flag}\n`);
      process.exit(2);
    }
  }
  if (flags.has("--if-typescript") && !existsSync(join(ROOT, "node_modules", "typescript", "bin", "tsc"))) {
    process.stderr.write("cancelkit: TypeScript is not installed (dev dependencies omitted?): dist/ not built\n");
  } else {
    if (flags.has("--clean")) rmSync(join(ROOT, "dist"), { recursive: true, force: true });
    const { ok } = ensureBuild({ allowTypeErrors: flags.has("--allow-type-errors") });
    process.exitCode = ok ? 0 : 1;
  }
}
