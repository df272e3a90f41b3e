/**
 * The production commands of the `cancelkit` CLI: `worker` (a shard worker pool without HTTP, to
 * add capacity on PostgreSQL), `pause`, `unpause` and `rate` (control a running job on any store),
 * and the sharded form of `cancel` on PostgreSQL.
 *
 * @module
 */
import type { Command } from "commander";
import type { ControlPatch } from "../cancel/job-control.js";
import type { CancelOptions, CancellationReport } from "../cancel/planner.js";
import { isShardedRunStore, type RunStore } from "../stores/types.js";
import type { OpenedStore } from "./store.js";

/** Default number of shards a job created by the CLI or the service on PostgreSQL is split into. */
export const DEFAULT_SHARDS = 16;

/** The store flags of a command. */
interface StoreFlags {
  readonly db?: string;
  readonly postgres?: string;
}

/** Where the commands write and which signals stop a worker (the CLI's `CliIo`). */
export interface ProductionIo {
  readonly stdout: { write(text: string): unknown };
  readonly env: NodeJS.ProcessEnv;
  readonly onSignal: (handler: (signal: NodeJS.Signals) => void) => () => void;
}

/** What the production commands borrow from the CLI (passed in: the CLI imports this module). */
export interface ProductionCliContext {
  readonly io: ProductionIo;
  readonly withStoreOptions: (command: Command) => Command;
  /** Opens the store of `flags` for `work`, then closes it. */
  readonly withStore: <T>(flags: StoreFlags, work: (opened: OpenedStore) => Promise<T>, options: { readonly create: boolean }) => Promise<T>;
  readonly cancellationIdArgument: (text: string) => string;
  readonly integer: (min: number, max?: number) => (value: string) => number;
  /** A usage error (exit code 2). */
  readonly usageError: (message: string) => Error;
}

/**
 * Creates a sharded cancellation (PostgreSQL) and works on it in this process until it is done;
 * the worker pools of `serve` and `worker` processes on the same database share the work. An
 * idempotency key that returns an existing cancellation reports it without working on it.
 */
export async function cancelSharded(store: RunStore, body: unknown, options: CancelOptions & { readonly shards?: number; readonly ratePerSecond?: number }): Promise<CancellationReport> {
  const startedAt = performance.now();
  const [{ createShardedCancellation }, { resumeCancellation }] = await Promise.all([import("../cancel/workers.js"), import("../cancel/planner.js")]);
  const created = await createShardedCancellation(store, body, {
    shards: options.shards ?? DEFAULT_SHARDS,
    ...(options.environmentId !== undefined ? { environmentId: options.environmentId } : {}),
    ...(options.idempotencyKey !== undefined ? { idempotencyKey: options.idempotencyKey } : {}),
    ...(options.now !== undefined ? { now: options.now } : {}),
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    ...(options.ratePerSecond !== undefined ? { ratePerSecond: options.ratePerSecond } : {}),
  });
  if (!created.created) {
    const record = created.cancellation;
    return { cancellation: record, outcomes: record.counts, status: record.status, pushdown: "none", dryRun: false, created: false, elapsedMs: performance.now() - startedAt };
  }
  const report = await resumeCancellation(store, created.cancellation.id, {
    ...(options.environmentId !== undefined ? { environmentId: options.environmentId } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
  });
  return { ...report, created: true };
}

/** `cancelkit pause|unpause|rate`: applies `patch` and prints the job's controls. */
async function controlCommand(context: ProductionCliContext, idText: string, patch: ControlPatch, flags: StoreFlags & { env?: string; json?: boolean }): Promise<void> {
  const id = context.cancellationIdArgument(idText);
  await context.withStore(flags, async (opened) => {
    const { controlCancellation } = await import("../cancel/job-control.js");
    const record = await controlCancellation(opened.store, id, patch, { ...(flags.env !== undefined ? { environmentId: flags.env } : {}) });
    if (flags.json === true) context.io.stdout.write(`${JSON.stringify(record)}\n`);
    else {
      const rate = record.rate_per_second === null ? "no rate limit" : `at most ${record.rate_per_second} runs/s`;
      context.io.stdout.write(`cancellation ${record.id} (${record.status}): ${record.paused ? "paused" : "not paused"}, ${rate}\n`);
    }
  }, { create: false });
}

/** `--rate`'s argument of `cancelkit rate`: a number above 0, or `off`. */
function rateArgument(context: ProductionCliContext, text: string): number | null {
  if (text.trim().toLowerCase() === "off") return null;
  const n = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : NaN;
  if (!(n > 0) || !Number.isFinite(n)) throw context.usageError(`rate must be a number above 0 (runs per second) or "off", got ${JSON.stringify(text)}`);
  return n;
}

/** `cancelkit worker`: runs a worker pool on the store until SIGINT/SIGTERM. */
async function workerCommand(context: ProductionCliContext, flags: StoreFlags & { concurrency?: number; leaseMs?: number }): Promise<void> {
  const { io } = context;
  if (flags.db !== undefined) throw context.usageError("worker needs --postgres URL (or DATABASE_URL): a SQLite store runs its jobs in its one serve process");
  await context.withStore(flags, async (opened) => {
    if (!isShardedRunStore(opened.store)) throw context.usageError("worker needs --postgres URL (or DATABASE_URL): a SQLite store runs its jobs in its one serve process");
    const [{ WorkerPool }, { sharedEvaluatorPool }] = await Promise.all([import("./worker-pool.js"), import("./eval-pool.js")]);
    const log = (line: string): void => void io.stdout.write(`${new Date().toISOString()} ${line}\n`);
    const pool = new WorkerPool(opened.store, {
      ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : {}),
      ...(flags.leaseMs !== undefined ? { leaseMs: flags.leaseMs } : {}),
      // As in serve: expressions run in worker threads, off the event loop that renews the leases.
      evaluator: sharedEvaluatorPool(),
      log,
    });
    pool.start();
    log(`cancelkit worker on PostgreSQL ${opened.location}: ${pool.workerIds.length} workers (${pool.workerIds.join(", ")}); Ctrl-C to stop`);
    await new Promise<void>((resolve) => {
      const remove = io.onSignal((signal) => {
        remove();
        log(`${signal}: stopping (shards in hand are released at their next page)…`);
        void pool.stop().then(() => {
          log("stopped");
          resolve();
        });
      });
    });
  }, { create: false });
}

/** Adds `worker`, `pause`, `unpause` and `rate` to the CLI. */
export function registerProductionCommands(program: Command, context: ProductionCliContext): void {
  const { withStoreOptions, integer } = context;
  withStoreOptions(
    program
      .command("worker")
      .description("run shard workers on every job of a PostgreSQL store, without HTTP (adds capacity beside serve)")
      .option("--concurrency <n>", "workers in this process, each on one shard at a time (default 2)", integer(1, 64))
      .option("--lease-ms <ms>", "lease of a shard: a killed worker's shards are taken over this long after (default 10000)", integer(100, 86_400_000)),
  ).action(async (flags: StoreFlags & { concurrency?: number; leaseMs?: number }) => workerCommand(context, flags));
  for (const [name, paused, description] of [
    ["pause", true, "pause a cancellation job: every worker stops before its next batch"],
    ["unpause", false, "let a paused cancellation job go on"],
  ] as const) {
    withStoreOptions(
      program
        .command(name)
        .description(description)
        .argument("<id>", "cancellation id")
        .option("--env <id>", "refuse a cancellation of another environment")
        .option("--json", "print the record as JSON"),
    ).action(async (id: string, flags: StoreFlags & { env?: string; json?: boolean }) => controlCommand(context, id, { paused }, flags));
  }
  withStoreOptions(
    program
      .command("rate")
      .description("change a cancellation job's rate limit while it runs: one budget for all its workers")
      .argument("<id>", "cancellation id")
      .argument("<rate>", 'most runs cancelled per second, or "off" for no limit')
      .option("--env <id>", "refuse a cancellation of another environment")
      .option("--json", "print the record as JSON"),
  ).action(async (id: string, rate: string, flags: StoreFlags & { env?: string; json?: boolean }) =>
    controlCommand(context, id, { ratePerSecond: rateArgument(context, rate) }, flags),
  );
}
