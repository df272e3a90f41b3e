#!/usr/bin/env node
/**
 * Builds `dist/` with `tsc -p tsconfig.build.json` when it is missing or older than the sources
 * (any file under `src/`, `tsconfig*.json` or `package.json` newer than the built CLI).
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

function newestMtime(path) {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Whether `dist/` is missing or older than the sources. */
export function isBuildStale(root = ROOT) {
  const cli = join(root, "dist", "src", "service", "cli.js");
  if (!existsSync(cli)) return true;
  const built = statSync(cli).mtimeMs;
  const inputs = [join(root, "src"), join(root, "tsconfig.json"), join(root, "tsconfig.build.json"), join(root, "package.json")];
  return inputs.some((input) => existsSync(input) && newestMtime(input) > built);
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
  if (!isBuildStale(root)) return { built: false, ok: true, output: "" };
  log("cancelkit: building dist/ (tsc -p tsconfig.build.json)…");
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  const result = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: root, encoding: "utf8" });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  const emitted = existsSync(join(root, "dist", "src", "service", "cli.js")) && !isBuildStale(root);
  const ok = result.status === 0 || (options.allowTypeErrors === true && emitted);
  if (!ok || result.status !== 0) log(output.trim());
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
