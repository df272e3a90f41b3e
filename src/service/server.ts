/**
 * The HTTP service: Inngest's bulk-cancellation REST API (`/v1/cancellations`) over a run store,
 * on fastify.
 *
 * Routes (all under `Authorization: Bearer <signing key>` except `/healthz`):
 * - `POST /v1/cancellations`: validates Inngest's body with Inngest's messages, stores the record
 *   and answers 200 with it at once; the job runs in the background. `?dry_run=true` answers the
 *   exact counts and a sample of run ids without writing. An `Idempotency-Key` header makes a
 *   retry return the same cancellation (another body under the same key: 409).
 * - `GET /v1/cancellations?limit=&cursor=`: the environment's cancellations, newest first,
 *   `{ "data": [...], "next_cursor": "<id>" | null }`.
 * - `GET /v1/cancellations/:id`: the record (status, counts, `paused`, `rate_per_second`), while
 *   its job runs `progress`, and a sharded job's `shards` (status, counts, lease of each).
 * - `PATCH /v1/cancellations/:id`: `{"paused": bool}` and/or `{"rate_per_second": n|null}`: pause,
 *   unpause or re-rate the job on every worker (`job-control.ts`).
 * - `DELETE /v1/cancellations/:id`: deletes the record and stops its job; `{ "ok": true }`.
 * - `GET /v1/cancellations/:id/events`: server-sent events (`control`, `progress` while the job
 *   runs, then `done` with the record, or `deleted` / `interrupted`), then the stream closes.
 * - `POST /v1/cancellations/preview`: the create body's exact dry run as NDJSON lines (counts so
 *   far while it scans, then the counts and a sample of runs with their event); closing the
 *   response stops the scan (`preview.ts`).
 * - `GET /v1/functions`: the environment's apps and functions with their runs by status and the
 *   span of their start times, `{ "data": [...] }` (`functions.ts`).
 * - `POST /v1/expressions/check`: `{ "expression", "dialect"? }` → the result type, or the
 *   compile issues with line and column (`expressions.ts`).
 * - `POST /v1/cancellations/check`: is a run (or each of up to 1,000) cancelled, by the oldest
 *   cancellation that applies to it (`check-route.ts`, the server's `CancellationChecker`).
 * - `GET /healthz`: `{ "ok": true }`.
 * - `GET /` and `GET /assets/…`: the browser UI (`ui-assets.ts`), without auth: it signs in with a
 *   key the user types and sends it as the Bearer header of its API calls.
 *
 * `createServer` composes the parts: request plumbing and errors in `http.ts`, the cancellation
 * routes in `cancellation-routes.ts` (their event streams in `event-stream.ts`), the UI's in
 * `ui-routes.ts`, the check in `check-route.ts`, background jobs in `jobs.ts`.
 *
 * Every error is Inngest's shape `{ "error": message, "data": null, "status": code }`.
 *
 * With PostgreSQL (a store several processes share) every job is sharded and any number of
 * instances serve the same database: each runs a `WorkerPool` (`worker-pool.ts`) taking shards of
 * any job, and answers for any job from the store. Memory and SQLite run each job in this process.
 *
 * A signing key sees only its environment: every store call is scoped by the key's environment
 * id, and a record of another environment answers 404 exactly like a missing one.
 *
 * @module
 */
import Fastify, { type FastifyInstance } from "fastify";
import { CancellationChecker } from "../cancel/checker.js";
import { isShardedRunStore, type RunStore } from "../stores/types.js";
import { DEV_ENVIRONMENT_ID, SigningKeys, generateDevKey } from "./auth.js";
import type { PageEvaluator } from "../cancel/evaluator.js";
import { sharedEvaluatorPool } from "./eval-pool.js";
import { registerCancellationRoutes } from "./cancellation-routes.js";
import { registerCheckRoute } from "./check-route.js";
import { EventStreams } from "./event-stream.js";
import { authenticator, environmentOf, installErrorHandler, installJsonBody, installMethodNotAllowed, sendError } from "./http.js";
import { registerControlRoute } from "./job-control.js";
import { answerClientError, frameworkErrorAnswer } from "./http-errors.js";
import { JobRunner } from "./jobs.js";
import { WorkerPool } from "./worker-pool.js";
import { defaultUiRoot, loadUiBundle, type UiBundle } from "./ui-assets.js";
import { registerUiRoutes } from "./ui-routes.js";

export { DEFAULT_PAGE_LIMIT, MAX_IDEMPOTENCY_KEY_LENGTH, MAX_PAGE_LIMIT, parseUlid } from "./http.js";

/** Default largest request body, bytes (1 MiB). */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** Default port of `cancelkit serve` (the Inngest dev server's). */
export const DEFAULT_PORT = 8288;
/** Default host of `cancelkit serve`: loopback only. */
export const DEFAULT_HOST = "127.0.0.1";

/** Options of {@link createServer}. */
export interface ServerOptions {
  /** The run store. */
  readonly store: RunStore;
  /** Close the store when the server closes. Default `false`. */
  readonly closeStore?: boolean;
  /**
   * Signing keys (key → environment id). Default: none, and a development key
   * (`signkey-dev-<hex>`, environment `dev`) is generated; read it from {@link CancelkitServer.devKey}.
   */
  readonly keys?: SigningKeys | Readonly<Record<string, string>>;
  /** Largest request body, bytes; a larger one is answered 413. Default 1 MiB. */
  readonly bodyLimit?: number;
  /**
   * Runs per page and per cancelled batch of each new job, stored with its record (a restart
   * resumes a job with its own settings). Default 1000.
   */
  readonly batchSize?: number;
  /** Most runs each new job cancels per second, stored with its record. Default: no limit. */
  readonly ratePerSecond?: number;
  /**
   * `listen()` resumes every unfinished (`running`) cancellation of a single-process store (memory,
   * SQLite) whose owner lease is free or expired, and looks again every `lease.takeoverMs`. A
   * shared store's (PostgreSQL) jobs are sharded and need no resuming: the worker pools of all
   * instances lease their shards. Default `true`.
   */
  readonly resume?: boolean;
  /**
   * Job owner leases (see `JobRunnerOptions`): this server's owner id (default host, pid and a
   * random part), the lease length (default 30000 ms) and how often unowned jobs are looked for
   * (default the lease length).
   */
  readonly lease?: { readonly owner?: string; readonly leaseMs?: number; readonly takeoverMs?: number };
  /**
   * Where jobs, dry runs and previews evaluate their `if`: the process's shared pool of worker
   * threads by default (`sharedEvaluatorPool`), so that the event loop never runs an expression;
   * another `PageEvaluator`, or `false` for inline evaluation on the event loop.
   */
  readonly evaluator?: PageEvaluator | false;
  /**
   * On a store several processes share (PostgreSQL): how many shards each new job's window is
   * split into (1 to 1000; fewer when it holds fewer runs). Default 16.
   */
  readonly shards?: number;
  /**
   * On a store several processes share (PostgreSQL): how many workers this instance runs on
   * shards of any job of the store, from `listen()` to `close()`; 0 runs none (the instance only
   * answers requests, `cancelkit worker` processes do the work). Default 2.
   */
  readonly concurrency?: number;
  /** Lease of a shard taken by this instance's workers, ms (see `WorkerPool`). Default 10,000. */
  readonly leaseMs?: number;
  /** How often an event stream reads its record from the store (controls; a job run elsewhere), ms. Default 250. */
  readonly storePollMs?: number;
  /** Receives a line per job start and end (for an operator's console). Default: none. */
  readonly log?: (line: string) => void;
  /** fastify's request logger. Default `false`. */
  readonly logger?: boolean;
  /** Clock, epoch ms: "started_before must be in the past" and `created_at`. Default `Date.now`. */
  readonly now?: () => number;
  /** Least time between two `progress` events of one event stream, ms. Default 100. */
  readonly eventIntervalMs?: number;
  /** Interval of keep-alive comments on an event stream, ms. Default 15000. */
  readonly keepAliveMs?: number;
  /**
   * The browser UI: a folder holding the built `index.html` and `assets/`, or `false` for none.
   * Default: the package's built UI (`dist/ui/`), when it is there.
   */
  readonly ui?: string | false;
}

/** A running (or ready) service. */
export interface CancelkitServer {
  /** The fastify instance (for `inject` in tests, or to add routes). */
  readonly app: FastifyInstance;
  /** The background jobs of a single-process store (memory, SQLite). */
  readonly jobs: JobRunner;
  /** The shard workers of a shared store (PostgreSQL), running from `listen()` to `close()`; `undefined` otherwise or with `concurrency: 0`. */
  readonly pool: WorkerPool | undefined;
  /** The signing keys in use. */
  readonly keys: SigningKeys;
  /** The generated development key (environment `dev`) when no keys were given. */
  readonly devKey: string | undefined;
  /** Whether the browser UI is served (its built files were found). */
  readonly ui: boolean;
  /**
   * The checker behind `POST /v1/cancellations/check`, current with every cancellation this
   * server creates or deletes; loaded by `listen()` (or by the first check request).
   */
  readonly checker: CancellationChecker;
  /**
   * Starts listening, then resumes unfinished cancellations (unless `resume: false`).
   *
   * @param options - Default host `127.0.0.1`, port 8288; port 0 picks a free one.
   * @returns The base URL, e.g. `http://127.0.0.1:8288`.
   */
  listen(options?: { readonly host?: string; readonly port?: number }): Promise<string>;
  /**
   * Graceful shutdown: answers new requests 503, aborts running jobs at a batch boundary (their
   * checkpoints are saved and they resume at the next start), ends event streams, stops
   * listening, and closes the store if `closeStore`. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Creates the service over a store. Call `listen()` to serve, `close()` to shut down.
 *
 * @param options - See {@link ServerOptions}.
 * @throws RangeError for a bad `bodyLimit`, `shards` or `concurrency`.
 */
export function createServer(options: ServerOptions): CancelkitServer {
  const store = options.store;
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  if (!Number.isSafeInteger(bodyLimit) || bodyLimit < 1) throw new RangeError("bodyLimit must be a positive integer number of bytes");
  const now = options.now ?? Date.now;
  const { keys, devKey } = signingKeysOf(options.keys);
  const evaluator: PageEvaluator | undefined =
    options.evaluator === undefined ? sharedEvaluatorPool() : options.evaluator === false ? undefined : options.evaluator;
  const jobs = new JobRunner(store, {
    ...(evaluator !== undefined ? { evaluator } : {}),
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    ...(options.ratePerSecond !== undefined ? { ratePerSecond: options.ratePerSecond } : {}),
    ...(options.log !== undefined ? { log: options.log } : {}),
    ...options.lease,
  });
  /** A store several processes share runs every job sharded, on the worker pools of all instances. */
  const sharded = isShardedRunStore(store) ? store : undefined;
  const shards = options.shards ?? 16;
  if (!Number.isSafeInteger(shards) || shards < 1 || shards > 1000) throw new RangeError(`shards must be an integer from 1 to 1000, got ${String(shards)}`);
  const concurrency = options.concurrency ?? 2;
  const pool =
    sharded === undefined || concurrency === 0
      ? undefined
      : new WorkerPool(sharded, {
          concurrency,
          ...(evaluator !== undefined ? { evaluator } : {}),
          ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
          ...(options.log !== undefined ? { log: options.log } : {}),
        });
  const streams = new EventStreams({
    store,
    jobs,
    eventIntervalMs: options.eventIntervalMs ?? 100,
    keepAliveMs: options.keepAliveMs ?? 15_000,
    pollMs: options.storePollMs ?? 250,
    followStore: sharded !== undefined,
  });
  const uiRoot = options.ui === false ? undefined : (options.ui ?? defaultUiRoot());
  const uiBundle: UiBundle | undefined = uiRoot === undefined ? undefined : loadUiBundle(uiRoot);
  /** Aborted by `close()`: stops running previews. */
  const closingController = new AbortController();
  let closed: Promise<void> | undefined;

  const app = Fastify({
    bodyLimit,
    logger: options.logger ?? false,
    // Errors before any handler answer in Inngest's shape too (`http-errors.ts`).
    clientErrorHandler: answerClientError,
    frameworkErrors: (error, _request, reply) => {
      const answer = frameworkErrorAnswer(error);
      return sendError(reply, answer.status, answer.error);
    },
  });
  const checker = new CancellationChecker(store, {
    onError: (error) => options.log?.(`cancellation checker: ${error instanceof Error ? error.message : String(error)}`),
  });
  let checkerReady: Promise<void> | undefined;
  const checkerLoaded = (): Promise<void> => {
    checkerReady ??= checker.refresh().catch((error: unknown) => {
      // The next request tries again.
      checkerReady = undefined;
      throw error;
    });
    return checkerReady;
  };

  installJsonBody(app, bodyLimit);
  installErrorHandler(app, { bodyLimit, log: options.log });
  app.addHook("onRequest", async (_request, reply) => {
    if (closingController.signal.aborted) return sendError(reply, 503, "Service is shutting down");
    return undefined;
  });
  installMethodNotAllowed(app);
  const authenticate = authenticator(keys);

  app.get("/healthz", async () => ({ ok: true }));
  registerUiRoutes(app, {
    store,
    authenticate,
    environmentOf,
    sendError,
    now,
    ui: uiBundle,
    closing: closingController.signal,
    ...(evaluator !== undefined ? { evaluator } : {}),
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    ...(options.log !== undefined ? { log: options.log } : {}),
  });
  registerCheckRoute(app, { checker, ready: checkerLoaded, authenticate, environmentOf });
  registerCancellationRoutes(app, { store, jobs, streams, authenticate, now, batchSize: options.batchSize, ratePerSecond: options.ratePerSecond, evaluator, shards });
  registerControlRoute(app, { store, authenticate, environmentOf });

  return {
    app,
    jobs,
    pool,
    keys,
    devKey,
    ui: uiBundle !== undefined,
    checker,
    async listen(listenOptions = {}) {
      const host = listenOptions.host ?? DEFAULT_HOST;
      await checkerLoaded();
      await app.listen({ host, port: listenOptions.port ?? DEFAULT_PORT });
      const address = app.server.address();
      const port = typeof address === "object" && address !== null ? address.port : (listenOptions.port ?? DEFAULT_PORT);
      const shownHost = host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host;
      if (sharded === undefined && (options.resume ?? true)) await jobs.resumeUnfinished();
      pool?.start();
      return `http://${shownHost}:${port}`;
    },
    close() {
      closed ??= (async () => {
        closingController.abort();
        await Promise.all([jobs.shutdown(), pool?.stop()]);
        // Streams following jobs that run elsewhere say so; those of jobs that just ended here are sending their last event.
        streams.interruptAll();
        await streams.closeAll(2000);
        await app.close();
        await checker.close();
        if (options.closeStore === true) await store.close();
      })();
      return closed;
    },
  };
}

/** The given signing keys, or a generated development key (environment `dev`) when none are given. */
function signingKeysOf(given: ServerOptions["keys"]): { readonly keys: SigningKeys; readonly devKey: string | undefined } {
  if (given instanceof SigningKeys) return { keys: given, devKey: undefined };
  if (given !== undefined && Object.keys(given).length > 0) return { keys: new SigningKeys(given), devKey: undefined };
  const devKey = generateDevKey();
  return { keys: new SigningKeys([[devKey, DEV_ENVIRONMENT_ID]], "generated"), devKey };
}
