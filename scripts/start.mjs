#!/usr/bin/env node
/**
 * `npm start`: builds `dist/` if it is missing or stale, then runs `cancelkit serve --demo` (extra
 * arguments are passed on: `npm start -- --port 9000`).
 */
import { pathToFileURL } from "node:url";
import { BUILT_CLI, ensureBuild } from "./ensure-build.mjs";

const { ok } = ensureBuild();
if (!ok) {
  process.stderr.write("cancelkit: the build failed (see above)\n");
  process.exit(1);
}
const { main } = await import(pathToFileURL(BUILT_CLI).href);
process.exitCode = await main(["serve", "--demo", ...process.argv.slice(2)]);
