/**
 * Test support: the `cancelkit` CLI as a child process — the built binary run to its end (its
 * stdout, stderr and exit code), and `serve` from the sources until it prints its address. Every
 * child is registered in {@link runningChildren}, so a test file's `afterAll` can kill what is
 * left when a test fails early.
 *
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { BUILT_CLI, ROOT, ensureBuild } from "../../scripts/ensure-build.mjs";
import { runningChildren } from "./child.js";

export { BUILT_CLI };

/** What a child CLI reads of the environment, blanked: the developer's database and signing keys stay out of tests. */
export const ISOLATED_ENV: Readonly<NodeJS.ProcessEnv> = { DATABASE_URL: "", CANCELKIT_SIGNING_KEYS: "" };

/**
 * Builds `dist/` when it is missing or stale (for a `beforeAll`; allow it minutes on a loaded
 * machine: tsc and the UI bundle). Type errors do not stop it: the typecheck reports those.
 */
export function ensureBuiltCli(): void {
  const result = ensureBuild({ allowTypeErrors: true, log: () => undefined });
  if (!result.ok) throw new Error(`build failed:\n${result.output}`);
}

/** How a CLI run ended, with everything it printed. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link startBuiltCli}. */
export interface BuiltCliOptions {
  /** Working directory (relative paths among the arguments are read from it). */
  readonly cwd: string;
  /** Added to the test's environment and {@link ISOLATED_ENV}. Default: nothing more. */
  readonly env?: NodeJS.ProcessEnv;
  /** Sees all of stdout so far on each chunk, with the child (to signal it, say). Default: none. */
  readonly onStdout?: (all: string, child: ChildProcess) => void;
}

/**
 * Starts the built CLI (`node dist/src/service/cli.js <args>`, stdout a pipe, so progress comes as
 * plain lines); `done` resolves when it has exited and its output is closed.
 */
export function startBuiltCli(args: readonly string[], options: BuiltCliOptions): { readonly child: ChildProcess; readonly done: Promise<CliResult> } {
  const child = spawn(process.execPath, [BUILT_CLI, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...ISOLATED_ENV, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  runningChildren.add(child);
  let stdout = "";
  let stderr = "";
  const done = new Promise<CliResult>((resolve, reject) => {
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      options.onStdout?.(stdout, child);
    });
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      runningChildren.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, done };
}

/** Runs the built CLI to its end; see {@link startBuiltCli}. */
export function runBuiltCli(args: readonly string[], options: BuiltCliOptions): Promise<CliResult> {
  return startBuiltCli(args, options).done;
}

/** A `cancelkit serve` child (see {@link serveFromSources}). */
export interface ServeChild {
  readonly child: ChildProcess;
  /** The base URL, once it prints `listening on …` and `Press Ctrl-C to stop.`; rejects if it exits first. */
  readonly listening: Promise<string>;
  /** Its exit code, and all it printed on stderr. */
  readonly exited: Promise<{ readonly code: number | null; readonly stderr: string }>;
}

/**
 * Starts `cancelkit serve --db <db> --port 0 --no-ui --keys-file <keysFile>` from the sources
 * (through tsx, from the repository root; give absolute paths). `listening` resolves only after
 * the banner's last line, because the process handles signals from then on.
 */
export function serveFromSources(db: string, keysFile: string): ServeChild {
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "src/service/cli.ts"), "serve", "--db", db, "--port", "0", "--no-ui", "--keys-file", keysFile], {
    // From the repository (tsx resolves there).
    cwd: ROOT,
    env: { ...process.env, ...ISOLATED_ENV },
    stdio: ["ignore", "pipe", "pipe"],
  });
  runningChildren.add(child);
  let stdout = "";
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on("close", (code) => {
      runningChildren.delete(child);
      resolve({ code, stderr });
    }),
  );
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match !== null && stdout.includes("Press Ctrl-C to stop.")) resolve(match[1]!);
    });
    void exited.then(({ code }) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
  // A test that never awaits it (the child is meant to fail) leaves no unhandled rejection.
  listening.catch(() => undefined);
  return { child, listening, exited };
}
