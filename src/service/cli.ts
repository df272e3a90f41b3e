#!/usr/bin/env node
/**
 * The `cancelkit` command line: the service (`serve`), cancellations from the shell (`cancel`,
 * `resume`, `list`, `show`), run files (`import`, `export`, `generate`) and expressions (`check`).
 *
 * Exit codes: 0 success; 1 the job did not complete (failed, aborted, stopped by `--max-runs`) or
 * the store failed; 2 a usage or validation error. Messages go to stderr.
 *
 * @module
 */
import { readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { CancellationNotFoundError, ValidationError } from "../cancel/errors.js";
import type { CancellationProgress, CancellationReport } from "../cancel/planner.js";
import { parseCancellationId } from "../cancel/record.js";
import { CompileError } from "../expr/errors.js";
import { DEFAULT_ENVIRONMENT_ID, type CancellationBatch, type RunStore } from "../stores/types.js";
import { DEV_ENVIRONMENT_ID, loadSigningKeys } from "./auth.js";
import { cancelSharded, registerProductionCommands } from "./cli-production.js";
import { describeFailure, followUpCommand, inFlagTerms, UsageError } from "./cli-text.js";
import { ProgressReporter, formatCount, type ProgressStream } from "./progress.js";
import type { OpenedStore } from "./store.js";

// The heavy modules (fastify, the database drivers, the expression engine, MessagePack) are
// imported by the commands that need them, so that `--help` or `check` start quickly.

/** Default SQLite file (as `store.ts`, without loading it). */
const DEFAULT_SQLITE_PATH = "./.cancelkit/cancelkit.db";
/** Where `serve` keeps its development key, beside the default database. */
const DEV_KEY_FILE = "./.cancelkit/dev-signing-key";
/** Defaults of `serve` (as `server.ts`, without loading fastify). */
const DEFAULT_HOST = "127.0.0.1";
const DEFAULT_PORT = 8288;
const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** The functions `generate` knows (as `generate.ts`). */
const GENERATED_FUNCTION_IDS = ["schedule-reminder", "send-digest", "sync-crm", "charge-invoice", "retry-payment", "send-push"];

/** Where the CLI reads and writes; the process's streams by default. */
export interface CliIo {
  readonly stdout: ProgressStream;
  readonly stderr: { write(text: string): unknown };
  readonly env: NodeJS.ProcessEnv;
  /**
   * Registers a handler for SIGINT and SIGTERM; returns a function that removes it. Default: the
   * process's signals.
   */
  readonly onSignal: (handler: (signal: NodeJS.Signals) => void) => () => void;
}

export { UsageError } from "./cli-text.js";

/** A failure whose message was already written; ends the command with `exitCode`. */
class Reported extends Error {
  override readonly name = "Reported";
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    onSignal: (handler) => {
      process.on("SIGINT", handler);
      process.on("SIGTERM", handler);
      return () => {
        process.off("SIGINT", handler);
        process.off("SIGTERM", handler);
      };
    },
  };
}

function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "cancelkit" && typeof pkg.version === "string") return pkg.version;
    } catch {
      // Not here: look one folder up.
    }
    dir = dirname(dir);
  }
  return "0.0.0";
}

// ---------------------------------------------------------------------------------------------
// Option parsers
// ---------------------------------------------------------------------------------------------

function integer(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(max === Number.MAX_SAFE_INTEGER ? `expected an integer of at least ${min}` : `expected an integer from ${min} to ${max}`);
    }
    return n;
  };
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected a positive number");
  return n;
}

/**
 * A time flag's value (see `time-flags.ts`: RFC 3339, a plain date, `now`, `-48h`, `7d`) as RFC
 * 3339 text and epoch ms; `undefined` stays `undefined`.
 */
async function timeFlag(value: string | undefined, flag: string, now: number): Promise<{ readonly text: string; readonly ms: number } | undefined> {
  if (value === undefined) return undefined;
  const { readTimeFlag } = await import("./time-flags.js");
  const read = readTimeFlag(value, now);
  if (!read.ok) throw new UsageError(`${flag}: cannot read ${JSON.stringify(value)} as a time (${read.reason})`);
  return read;
}

/** Help text of a time flag. */
const TIME_HELP = "RFC 3339, a date (2024-06-01), now, or relative (-48h, 7d)";

/** A cancellation id as the API reads it; `Invalid cancellation ID` (exit 2) otherwise, as the API answers. */
function cancellationIdArgument(text: string): string {
  const id = parseCancellationId(text);
  if (id === undefined) throw new UsageError(`Invalid cancellation ID: ${JSON.stringify(text)} (expected a ULID like 01HMRMPE5ZQ4AMNJ3S2N79QGRZ)`);
  return id;
}

interface StoreFlags {
  readonly db?: string;
  readonly postgres?: string;
}

function withStoreOptions(command: Command): Command {
  return command
    .option("--db <path>", `SQLite file (default ${DEFAULT_SQLITE_PATH})`)
    .option("--postgres <url>", "PostgreSQL URL (default: $DATABASE_URL; wins over the SQLite default)");
}

/**
 * Opens the store of `flags` for `work`, then closes it. Only commands that fill a store pass
 * `create: true`; the others refuse a SQLite path that does not exist, rather than read an empty
 * store that a typo just created.
 */
async function withStore<T>(flags: StoreFlags, io: CliIo, work: (opened: OpenedStore) => Promise<T>, options: { readonly create: boolean }): Promise<T> {
  if (flags.db !== undefined && flags.postgres !== undefined) throw new UsageError("give either --db or --postgres, not both");
  const { openStore } = await import("./store.js");
  const opened = await openStore({
    ...(flags.db !== undefined ? { db: flags.db } : {}),
    ...(flags.postgres !== undefined ? { postgres: flags.postgres } : {}),
    env: io.env,
    create: options.create,
  });
  try {
    return await work(opened);
  } finally {
    await opened.store.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

function countsLine(counts: CancellationReport["outcomes"], dryRun = false): string {
  return (
    `scanned ${counts.scanned}, ${dryRun ? "would cancel" : "cancelled"} ${counts.cancelled}, skipped_terminal ${counts.skipped_terminal}, ` +
    `not_matched ${counts.not_matched}, expression_error ${counts.expression_error}, non_boolean ${counts.non_boolean}`
  );
}

/** Prints a job's report; throws {@link Reported} (exit code 1) when it did not complete. */
function reportJob(report: CancellationReport, io: CliIo, json: boolean, maxRuns: number | undefined, store: StoreFlags): void {
  const id = report.cancellation.id;
  if (report.dryRun) {
    if (json) io.stdout.write(`${JSON.stringify({ dry_run: true, counts: report.outcomes, sample: report.sample ?? [] })}\n`);
    else {
      io.stdout.write(`dry run: would cancel ${report.outcomes.cancelled} runs (nothing was written)\n`);
      io.stdout.write(`${countsLine(report.outcomes, true)}\n`);
      if ((report.sample ?? []).length > 0) io.stdout.write(`sample: ${(report.sample ?? []).join(" ")}\n`);
    }
    return;
  }
  if (json) io.stdout.write(`${JSON.stringify(report.cancellation)}\n`);
  else {
    io.stdout.write(`cancellation ${id} ${report.status} in ${(report.elapsedMs / 1000).toFixed(1)} s\n`);
    io.stdout.write(`${countsLine(report.outcomes)}\n`);
  }
  switch (report.status) {
    case "completed":
      return;
    case "stopped_max_runs":
      io.stderr.write(
        `cancelkit: cancellation ${id} stopped after cancelling ${report.outcomes.cancelled} runs (--max-runs ${report.cancellation.max_runs ?? maxRuns ?? "?"}); ` +
          `continue with: ${followUpCommand(["resume", id, "--max-runs", "<higher>"], store)}\n`,
      );
      break;
    case "aborted":
      io.stderr.write(`cancelkit: cancellation ${id} was interrupted; continue with: ${followUpCommand(["resume", id], store)}\n`);
      break;
    case "deleted":
      io.stderr.write(`cancelkit: cancellation ${id} was deleted while it ran\n`);
      break;
    default:
      io.stderr.write(`cancelkit: cancellation ${id} ended with status ${report.status}\n`);
  }
  throw new Reported(1);
}

interface JobFlags extends StoreFlags {
  readonly env: string;
  readonly dryRun?: boolean;
  readonly batchesOut?: string;
  readonly batchSize?: number;
  readonly rate?: number;
  readonly maxRuns?: number;
  readonly json?: boolean;
  readonly progressInterval?: number;
}

/** Runs a planner call with a progress reporter and Ctrl-C turning into an abort. */
async function runJob(
  io: CliIo,
  flags: JobFlags,
  start: (options: {
    signal: AbortSignal;
    onProgress: (progress: CancellationProgress) => void;
    onBatch?: (batch: CancellationBatch) => Promise<void>;
  }) => Promise<CancellationReport>,
): Promise<void> {
  // --batches-out: every committed batch is appended to a MessagePack stream for a downstream consumer.
  const batchWriter =
    flags.batchesOut === undefined ? undefined : await (await import("../formats/msgpack.js")).CancellationBatchWriter.open(flags.batchesOut);
  const controller = new AbortController();
  const removeSignal = io.onSignal(() => {
    if (controller.signal.aborted) return;
    io.stderr.write("\ncancelkit: stopping at the next batch (the checkpoint is saved)…\n");
    controller.abort();
  });
  const reporter =
    flags.json === true
      ? undefined
      : new ProgressReporter({ stream: io.stdout, dryRun: flags.dryRun === true, ...(flags.progressInterval !== undefined ? { intervalMs: flags.progressInterval } : {}) });
  try {
    const report = await start({
      signal: controller.signal,
      onProgress: (progress) => reporter?.update(progress),
      ...(batchWriter !== undefined ? { onBatch: (batch: CancellationBatch) => batchWriter.write(batch) } : {}),
    });
    reporter?.finish();
    reportJob(report, io, flags.json === true, flags.maxRuns, flags);
  } finally {
    reporter?.finish();
    removeSignal();
    await batchWriter?.close();
  }
}

function jobOptions(flags: JobFlags): { batchSize?: number; ratePerSecond?: number; maxRuns?: number } {
  return {
    ...(flags.batchSize !== undefined ? { batchSize: flags.batchSize } : {}),
    ...(flags.rate !== undefined ? { ratePerSecond: flags.rate } : {}),
    ...(flags.maxRuns !== undefined ? { maxRuns: flags.maxRuns } : {}),
  };
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + " ".repeat(width - text.length);
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

function addJobOptions(command: Command, env: Option): Command {
  return command
    .addOption(env)
    .option("--batch-size <n>", "runs per page and per cancelled batch (default 1000)", integer(1, 100_000))
    .option("--rate <n>", "most runs cancelled per second (default: no limit)", positiveNumber)
    .option("--max-runs <n>", "stop before cancelling more than this many runs", integer(0))
    .option("--progress-interval <ms>", "least time between two progress outputs (default 100 on a terminal, 1000 otherwise)", integer(0))
    .option("--batches-out <file>", "append each committed batch of cancelled run ids to this MessagePack stream (cancelkit.cancellation-batches)")
    .option("--json", "print the final record as JSON (no progress output)");
}

async function serveCommand(
  io: CliIo,
  flags: StoreFlags & {
    host: string;
    port: number;
    demo?: boolean;
    keysFile?: string;
    bodyLimit: number;
    batchSize?: number;
    rate?: number;
    verbose?: boolean;
    ui: boolean;
    uiDir?: string;
    concurrency?: number;
    shards?: number;
    leaseMs?: number;
  },
): Promise<void> {
  if (flags.ui === false && flags.uiDir !== undefined) throw new UsageError("give either --ui-dir or --no-ui, not both");
  if (flags.db !== undefined && flags.postgres !== undefined) throw new UsageError("give either --db or --postgres, not both");
  const loaded = await loadSigningKeys({ ...(flags.keysFile !== undefined ? { keysFile: flags.keysFile } : {}), env: io.env, devKeyFile: DEV_KEY_FILE });
  const [{ openStore }, { createServer }, { demoInstructions, demoRequestBody, demoUiLink, loadDemoData, previewDemoRequest, DEMO_APP_ID, DEMO_FUNCTION_ID }] = await Promise.all([
    import("./store.js"),
    import("./server.js"),
    import("./demo.js"),
  ]);
  // One serve per SQLite file: a second one would run the same jobs (`exclusive`).
  const opened = await openStore({
    ...(flags.db !== undefined ? { db: flags.db } : {}),
    ...(flags.postgres !== undefined ? { postgres: flags.postgres } : {}),
    env: io.env,
    exclusive: "cancelkit serve",
  });
  const log = (line: string): void => {
    io.stdout.write(`${new Date().toISOString()} ${line}\n`);
  };
  const server = createServer({
    store: opened.store,
    closeStore: true,
    keys: loaded.keys,
    bodyLimit: flags.bodyLimit,
    log,
    logger: flags.verbose === true,
    ...(flags.batchSize !== undefined ? { batchSize: flags.batchSize } : {}),
    ...(flags.rate !== undefined ? { ratePerSecond: flags.rate } : {}),
    ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : {}),
    ...(flags.shards !== undefined ? { shards: flags.shards } : {}),
    ...(flags.leaseMs !== undefined ? { leaseMs: flags.leaseMs } : {}),
    ...(flags.ui === false ? { ui: false as const } : flags.uiDir !== undefined ? { ui: flags.uiDir } : {}),
  });
  if (flags.uiDir !== undefined && !server.ui) {
    await server.close();
    throw new UsageError(`--ui-dir ${flags.uiDir}: no built UI there (index.html and assets/ are missing; npm run build writes dist/ui)`);
  }
  // The demo goes to the generated key's environment, else to the first configured key's.
  const demoEnvironment = loaded.devKey !== undefined ? DEV_ENVIRONMENT_ID : (loaded.keys.environments[0] ?? DEV_ENVIRONMENT_ID);
  let demoText: string | undefined;
  let url: string;
  try {
    if (flags.demo === true) {
      const load = await loadDemoData(opened.store, { environmentId: demoEnvironment });
      demoText = load.loaded
        ? `Demo: loaded ${formatCount(load.inserted)} runs into environment "${demoEnvironment}" (app ${DEMO_APP_ID}, function ${DEMO_FUNCTION_ID} and a few others, over the last 3 days).`
        : `Demo: environment "${demoEnvironment}" already holds the demo runs (runs cancelled earlier stay cancelled; ` +
          `${opened.kind === "sqlite" ? `delete ${opened.location}` : "use a fresh database"} to start over).`;
    }
    url = await server.listen({ host: flags.host, port: flags.port });
  } catch (error) {
    // Closes the store too.
    await server.close();
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") throw new Error(`port ${flags.port} on ${flags.host} is already in use (choose another with --port)`);
    throw error;
  }
  const out = (text = ""): void => void io.stdout.write(`${text}\n`);
  // The handler is in place before the address is printed: a supervisor that signals as soon as it
  // reads it gets a graceful shutdown, not the default action.
  const stopped = new Promise<void>((resolve, reject) => {
    let stopping = false;
    const remove = io.onSignal((signal) => {
      if (stopping) {
        io.stderr.write("cancelkit: second signal, exiting at once\n");
        process.exit(1);
      }
      stopping = true;
      out(`${signal}: shutting down (running jobs stop at a batch boundary and resume at the next start)…`);
      server.close().then(
        () => {
          remove();
          out("stopped");
          resolve();
        },
        (error: unknown) => {
          remove();
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  });
  // Awaited below, after the banner; a shutdown failing meanwhile must not count as unhandled.
  stopped.catch(() => undefined);
  out(`cancelkit ${packageVersion()} listening on ${url}`);
  out(`Store: ${opened.kind === "sqlite" ? "SQLite" : "PostgreSQL"} ${opened.location}`);
  if (server.ui) out(`Browser UI: ${url}/ (sign in with a signing key)`);
  else if (flags.ui !== false) out("Browser UI: not built (run `npm run build`); the API under /v1 works without it");
  if (loaded.devKey !== undefined) {
    out(
      `No signing keys configured: ${loaded.devKeyReused === true ? "the" : "generated a"} development key for environment "${DEV_ENVIRONMENT_ID}" ` +
        `(kept in ${DEV_KEY_FILE} for the next start; delete it for a new one):`,
    );
    out(`  ${loaded.devKey}`);
  } else {
    out(`Signing keys: ${loaded.keys.size} from ${loaded.source}, environments ${loaded.keys.environments.map((e) => JSON.stringify(e)).join(", ")}`);
  }
  if (demoText !== undefined) {
    out();
    out(demoText);
    const body = demoRequestBody();
    const expected = await previewDemoRequest(opened.store, demoEnvironment, body);
    // A configured key is a secret: show a placeholder rather than print it.
    const key = loaded.devKey ?? `<a signing key of environment ${demoEnvironment}>`;
    out();
    if (server.ui) {
      out(`In a browser: open ${url}/, sign in with the key above, then open the demo cancellation, prefilled with its live preview:`);
      out(`  ${demoUiLink(url, body)}`);
      out("or from the shell:");
      out();
    }
    out(demoInstructions({ url, key, body, expected }));
  }
  out();
  out("Press Ctrl-C to stop.");

  await stopped;
}

async function cancelCommand(
  io: CliIo,
  flags: JobFlags & { app?: string; function?: string; after?: string; before?: string; if?: string; idempotencyKey?: string },
  now: number,
): Promise<void> {
  const body: Record<string, string> = {};
  const after = await timeFlag(flags.after, "--after", now);
  const before = await timeFlag(flags.before, "--before", now);
  if (flags.app !== undefined) body["app_id"] = flags.app;
  if (flags.function !== undefined) body["function_id"] = flags.function;
  if (after !== undefined) body["started_after"] = after.text;
  if (before !== undefined) body["started_before"] = before.text;
  if (flags.if !== undefined) body["if"] = flags.if;
  const { cancelRuns } = await import("../cancel/planner.js");
  const { validateCancellationRequest } = await import("../cancel/request.js");
  const { requestWarnings } = await import("../cancel/warnings.js");
  let request: Awaited<ReturnType<typeof validateCancellationRequest>>;
  try {
    request = validateCancellationRequest(body);
  } catch (error) {
    // The same checks the planner makes, reported in the terms of the flags.
    if (error instanceof ValidationError) throw new UsageError(error.errors.map(inFlagTerms).join("\n"));
    throw error;
  }
  await withStore(flags, io, async (opened) => {
    // A window that holds nothing to cancel is most often a forgotten --env or a misspelt name.
    for (const warning of await requestWarnings(opened.store, request, flags.env)) {
      const only = warning.environments?.length === 1 ? ` (add --env ${warning.environments[0]})` : "";
      io.stderr.write(`cancelkit: warning: ${warning.message.replace(/^the if expression/, "the --if expression")}${only}\n`);
    }
    // On PostgreSQL a job is sharded, so that serve and worker processes share it (except the
    // forms a sharded job lacks: a dry run, --max-runs, --batches-out).
    const sharded = opened.kind === "postgres" && flags.dryRun !== true && flags.maxRuns === undefined && flags.batchesOut === undefined;
    await runJob(io, flags, ({ signal, onProgress, onBatch }) =>
      (sharded ? cancelSharded : cancelRuns)(opened.store, body, {
        environmentId: flags.env,
        signal,
        onProgress,
        ...(onBatch !== undefined ? { onBatch } : {}),
        dryRun: flags.dryRun === true,
        ...(flags.idempotencyKey !== undefined ? { idempotencyKey: flags.idempotencyKey } : {}),
        ...jobOptions(flags),
      }),
    );
  }, { create: false });
}

/** The environment of cancellation `id`; with `expected`, a record of another environment is not found (as the API answers). */
async function findRecordEnvironment(store: RunStore, id: string, expected: string | undefined): Promise<string> {
  const record = await store.getCancellation(id, expected);
  if (record === undefined) {
    if (expected !== undefined && (await store.getCancellation(id)) !== undefined) {
      throw new UsageError(`cancellation ${id} is not in environment ${JSON.stringify(expected)} (leave out --env to resume it in its own)`);
    }
    throw new CancellationNotFoundError(id);
  }
  return record.environmentId;
}

async function resumeCommand(io: CliIo, idText: string, flags: Omit<JobFlags, "env"> & { env?: string }): Promise<void> {
  const id = cancellationIdArgument(idText);
  const { resumeCancellation } = await import("../cancel/planner.js");
  await withStore(flags, io, async (opened) => {
    const environmentId = await findRecordEnvironment(opened.store, id, flags.env);
    await runJob(io, { ...flags, env: environmentId }, ({ signal, onProgress, onBatch }) =>
      resumeCancellation(opened.store, id, {
        environmentId,
        signal,
        onProgress,
        ...(onBatch !== undefined ? { onBatch } : {}),
        ...jobOptions({ ...flags, env: environmentId }),
      }),
    );
  }, { create: false });
}

async function listCommand(io: CliIo, flags: StoreFlags & { env?: string; limit: number; cursor?: string; json?: boolean }): Promise<void> {
  const { toWireCancellation } = await import("../cancel/record.js");
  const cursor = flags.cursor === undefined ? undefined : parseCancellationId(flags.cursor);
  if (flags.cursor !== undefined && cursor === undefined) throw new UsageError(`Invalid cursor: ${JSON.stringify(flags.cursor)} (expected the id a previous page printed)`);
  await withStore(flags, io, async (opened) => {
    const page = await opened.store.listCancellations({
      limit: flags.limit,
      ...(flags.env !== undefined ? { environmentId: flags.env } : {}),
      ...(cursor !== undefined ? { after: cursor } : {}),
    });
    if (flags.json === true) {
      for (const record of page.records) io.stdout.write(`${JSON.stringify(toWireCancellation(record))}\n`);
    } else if (page.records.length === 0) {
      io.stdout.write("no cancellations\n");
    } else {
      const rows = [["ID", "ENVIRONMENT", "APP", "FUNCTION", "STATUS", "SCANNED", "CANCELLED", "CREATED"]];
      for (const record of page.records) {
        // A record holding a value the wire cannot carry is listed all the same, and named.
        const wire = toWireCancellation(record);
        if (wire.unreadable !== undefined) io.stderr.write(`cancelkit: warning: cancellation ${record.id} is unreadable: ${wire.unreadable}\n`);
        rows.push([record.id, record.environmentId, record.appId, record.functionId, record.status, String(record.counts.scanned), String(record.counts.cancelled), wire.created_at ?? "-"]);
      }
      const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
      for (const row of rows) io.stdout.write(`${row.map((cell, column) => pad(cell, widths[column]!)).join("  ").trimEnd()}\n`);
    }
    if (page.next !== undefined && flags.json !== true) {
      const args = ["list", ...(flags.env !== undefined ? ["--env", flags.env] : []), ...(flags.limit !== DEFAULT_LIST_LIMIT ? ["--limit", String(flags.limit)] : [])];
      io.stdout.write(`more: ${followUpCommand([...args, "--cursor", page.next], flags)}\n`);
    }
  }, { create: false });
}

async function showCommand(io: CliIo, idText: string, flags: StoreFlags): Promise<void> {
  const id = cancellationIdArgument(idText);
  const { toWireCancellation } = await import("../cancel/record.js");
  await withStore(flags, io, async (opened) => {
    const record = await opened.store.getCancellation(id);
    if (record === undefined) throw new CancellationNotFoundError(id);
    io.stdout.write(`${JSON.stringify(toWireCancellation(record), null, 2)}\n`);
  }, { create: false });
}

async function importCommand(io: CliIo, file: string, flags: StoreFlags & { batchSize?: number }): Promise<void> {
  const { importRuns } = await import("../formats/msgpack.js");
  await withStore(flags, io, async (opened) => {
    const started = performance.now();
    const { imported } = await importRuns(opened.store, file, { ...(flags.batchSize !== undefined ? { batchSize: flags.batchSize } : {}) });
    io.stdout.write(`imported ${imported} runs from ${file} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }, { create: true });
}

async function exportCommand(
  io: CliIo,
  file: string,
  flags: StoreFlags & { app: string; function: string; after?: string; before?: string; env: string },
  now: number,
): Promise<void> {
  const after = (await timeFlag(flags.after, "--after", now))?.ms;
  const before = (await timeFlag(flags.before, "--before", now))?.ms;
  const { exportRuns } = await import("../formats/msgpack.js");
  await withStore(flags, io, async (opened) => {
    const { exported } = await exportRuns(
      opened.store,
      {
        environmentId: flags.env,
        appId: flags.app,
        functionId: flags.function,
        ...(after !== undefined ? { startedAfter: after } : {}),
        ...(before !== undefined ? { startedBefore: before } : {}),
      },
      file,
    );
    io.stdout.write(`exported ${exported} runs to ${file}\n`);
  }, { create: false });
}

async function generateCommand(
  io: CliIo,
  flags: { runs: number; out: string; seed: number; days: number; env: string; end?: string; function?: string[] },
  now: number,
): Promise<void> {
  const started = performance.now();
  const end = (await timeFlag(flags.end, "--end", now))?.ms;
  const { generateRuns, writeRunFile } = await import("./generate.js");
  const runs = generateRuns({
    count: flags.runs,
    seed: flags.seed,
    spanMs: flags.days * 86_400_000,
    environmentId: flags.env,
    ...(end !== undefined ? { end } : {}),
    ...(flags.function !== undefined ? { functions: flags.function } : {}),
  });
  const { written } = await writeRunFile(flags.out, runs);
  const bytes = statSync(flags.out).size;
  io.stdout.write(
    `generated ${written} runs into ${flags.out} (${(bytes / 1_048_576).toFixed(1)} MiB) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
}

async function checkCommand(io: CliIo, expression: string, flags: { dialect: "cel" | "inngest" }): Promise<void> {
  const { compile } = await import("../expr/program.js");
  let type: string;
  try {
    type = compile(expression, { dialect: flags.dialect, cache: false, refuseCostly: true }).type;
  } catch (error) {
    if (!(error instanceof CompileError)) throw error;
    // cel-go's format as is: `ERROR: <input>:line:column: message`, the source line, the caret.
    io.stderr.write(`${error.message}\n`);
    throw new Reported(2);
  }
  io.stdout.write(`${type}\n`);
  // `dyn` may be a bool at run time; any other type never is.
  if (type !== "bool" && type !== "dyn") {
    io.stderr.write(
      `cancelkit: the type is ${type}, not bool: as a filter (cancel --if, the API's "if") it matches no run, each is counted non_boolean\n`,
    );
    throw new Reported(2);
  }
}

/** Default `--limit` of `list`. */
const DEFAULT_LIST_LIMIT = 50;

function buildProgram(io: CliIo): Command {
  // `now` and relative times count from one instant for every flag of the command.
  const now = Date.now();
  const program = new Command();
  program
    .name("cancelkit")
    .description("Bulk cancellation of workflow runs filtered by CEL expressions (Inngest's /v1/cancellations)")
    .version(packageVersion())
    .exitOverride()
    .configureOutput({ writeOut: (text) => void io.stdout.write(text), writeErr: (text) => void io.stderr.write(text) })
    .showHelpAfterError("(run with --help for usage)");

  withStoreOptions(
    program
      .command("serve")
      .description("run the HTTP service (Inngest's POST/GET/DELETE /v1/cancellations)")
      .option("--host <host>", "address to listen on", DEFAULT_HOST)
      .option("--port <port>", "port to listen on", integer(0, 65_535), DEFAULT_PORT)
      .option("--demo", "load the demo runs (into environment dev, or the first configured key's) when absent, and print a ready-to-paste curl")
      .option("--keys-file <path>", 'signing keys, JSON { "<key>": "<environment>" } (default: $CANCELKIT_SIGNING_KEYS, else a generated dev key)')
      .option("--body-limit <bytes>", "largest request body", integer(1), DEFAULT_BODY_LIMIT)
      .option("--batch-size <n>", "runs per page and per cancelled batch of each job (default 1000)", integer(1, 100_000))
      .option("--rate <n>", "most runs each job cancels per second (default: no limit)", positiveNumber)
      .option("--concurrency <n>", "PostgreSQL: shard workers of this instance, 0 for none (default 2)", integer(0, 64))
      .option("--shards <n>", "PostgreSQL: shards each new job is split into (default 16)", integer(1, 1000))
      .option("--lease-ms <ms>", "PostgreSQL: lease of a shard (default 10000)", integer(100, 86_400_000))
      .option("--verbose", "log every request")
      .option("--ui-dir <dir>", "serve the browser UI from this folder (default: the package's built UI, dist/ui)")
      .option("--no-ui", "serve no browser UI (the API only)"),
  ).action(async (flags) => serveCommand(io, flags));

  withStoreOptions(
    addJobOptions(
      program
        .command("cancel")
        .description("cancel the runs of a function in a window, optionally filtered by an `if` expression")
        .option("--app <id>", "app_id")
        .option("--function <id>", "function_id")
        .option("--after <time>", `started_after, inclusive: ${TIME_HELP}`)
        .option("--before <time>", `started_before, inclusive: ${TIME_HELP}`)
        .option("--if <expression>", "CEL expression over `event` (Inngest dialect)")
        .option("--dry-run", "count what would be cancelled and show a sample; write nothing")
        .option("--idempotency-key <key>", "same key and request: the same cancellation"),
      new Option("--env <id>", "environment").default(DEFAULT_ENVIRONMENT_ID),
    ),
  ).action(async (flags) => cancelCommand(io, flags, now));

  withStoreOptions(
    addJobOptions(
      program.command("resume").description("continue an interrupted cancellation from its checkpoint").argument("<id>", "cancellation id"),
      new Option("--env <id>", "refuse a cancellation of another environment (default: resume it in its own)"),
    ),
  ).action(async (id: string, flags) => resumeCommand(io, id, flags));

  withStoreOptions(
    program
      .command("list")
      .description("list cancellations, newest first")
      .option("--env <id>", "only this environment (default: all)")
      .option("--limit <n>", "most records", integer(1, 1000), DEFAULT_LIST_LIMIT)
      .option("--cursor <id>", "continue after this id (from a previous page)")
      .option("--json", "one JSON record per line"),
  ).action(async (flags) => listCommand(io, flags));

  withStoreOptions(program.command("show").description("print a cancellation as JSON").argument("<id>", "cancellation id")).action(
    async (id: string, flags) => showCommand(io, id, flags),
  );

  withStoreOptions(
    program
      .command("import")
      .description("import runs from a MessagePack run file (JSON Lines for .jsonl/.ndjson)")
      .argument("<file>", "run file")
      .option("--batch-size <n>", "runs per insert (default 1000)", integer(1, 100_000)),
  ).action(async (file: string, flags) => importCommand(io, file, flags));

  withStoreOptions(
    program
      .command("export")
      .description("export one function's runs to a MessagePack run file (JSON Lines for .jsonl/.ndjson)")
      .argument("<file>", "output file")
      .requiredOption("--app <id>", "app_id")
      .requiredOption("--function <id>", "function_id")
      .option("--after <time>", `runs started at or after: ${TIME_HELP}`)
      .option("--before <time>", `runs started at or before: ${TIME_HELP}`)
      .option("--env <id>", "environment", DEFAULT_ENVIRONMENT_ID),
  ).action(async (file: string, flags) => exportCommand(io, file, flags, now));

  program
    .command("generate")
    .description(`write realistic synthetic runs (${GENERATED_FUNCTION_IDS.length} functions of 3 apps) to a run file`)
    .requiredOption("--runs <n>", "number of runs", integer(0))
    .requiredOption("--out <file>", "output file (.jsonl/.ndjson: JSON Lines, else MessagePack)")
    .option("--seed <n>", "seed of the pseudo-random data", integer(0, 2 ** 32 - 1), 1)
    .option("--days <n>", "start times spread over this many days before --end", positiveNumber, 7)
    .option("--end <time>", `latest start time: ${TIME_HELP} (default now)`)
    .option("--env <id>", "environment of the runs", DEFAULT_ENVIRONMENT_ID)
    .addOption(
      new Option("--function <id...>", "only these functions").choices(GENERATED_FUNCTION_IDS),
    )
    .action(async (flags) => generateCommand(io, flags, now));

  program
    .command("check")
    .description("compile an expression: print its result type, or the compile errors (exit 2 also when the type cannot be a filter's bool)")
    .argument("<expression>", "CEL expression")
    .addOption(new Option("--dialect <dialect>", "cel (the specification) or inngest (Inngest's if)").choices(["cel", "inngest"]).default("inngest"))
    .action(async (expression: string, flags: { dialect: "cel" | "inngest" }) => checkCommand(io, expression, flags));

  registerProductionCommands(program, {
    io,
    withStoreOptions,
    withStore: (flags, work, options) => withStore(flags, io, work, options),
    cancellationIdArgument,
    integer,
    usageError: (message) => new UsageError(message),
  });
  return program;
}

/**
 * Runs the CLI with arguments (without `node` and the script).
 *
 * @param argv - The arguments, e.g. `['cancel', '--app', 'acme-app', …]`.
 * @param io - Streams, environment and signals. Default: the process's.
 * @returns The exit code: 0 success, 1 job or store failure, 2 usage or validation error.
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its message.
      return error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help" ? 0 : 2;
    }
    if (error instanceof Reported) return error.exitCode;
    const failure = describeFailure(error);
    // Only the first line is prefixed: later lines may be a source line and its caret.
    io.stderr.write(`cancelkit: ${failure.message}\n`);
    return failure.code;
  }
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`cancelkit: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
