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
 *   runs, then `done` with the record, or `deleted` / `interrupted`), then the stream closes
 *   (`event-stream.ts`; a sharded job's progress is read from the store, whoever runs it).
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
 * Every error is Inngest's shape `{ "error": message, "data": null, "status": code }`.
 *
 * With PostgreSQL (a store several processes share) every job is sharded and any number of
 * instances serve the same database: each runs a `WorkerPool` taking shards of any job, and
 * answers for any job from the store. Memory and SQLite run each job in this process (`jobs.ts`).
 *
 * A signing key sees only its environment: every store call is scoped by the key's environment
 * id, and a record of another environment answers 404 exactly like a missing one.
 *
 * @module
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { monotonicFactory } from "ulid";
import { CancellationChecker } from "../cancel/checker.js";
import { CancellationNotFoundError, ConflictError, ValidationError } from "../cancel/errors.js";
import { cancelRuns } from "../cancel/planner.js";
import { DEFAULT_BATCH_SIZE } from "../cancel/settings.js";
import { parseCancellationId, toWireCancellation, type WireCancellation } from "../cancel/record.js";
import { requestHash, validateCancellationRequest } from "../cancel/request.js";
import { requestWarnings } from "../cancel/warnings.js";
import { StoreError, ZERO_COUNTS, isShardedRunStore, type CancellationRecord, type CreateResult, type RunStore } from "../stores/types.js";
import { DEV_ENVIRONMENT_ID, SigningKeys, generateDevKey } from "./auth.js";
import { openEventStream, progressBody, type EventStream } from "./event-stream.js";
import { registerControlRoute, wireShards, type WireShard } from "./job-control.js";
import { JobRunner } from "./jobs.js";
import { WorkerPool } from "./worker-pool.js";
import { defaultUiRoot, loadUiBundle, type UiBundle } from "./ui-assets.js";
import { registerUiRoutes } from "./ui-routes.js";
import { registerCheckRoute } from "./check-route.js";

/** Default largest request body, bytes (1 MiB). */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** Default page size of `GET /v1/cancellations`. */
export const DEFAULT_PAGE_LIMIT = 50;
/** Largest page size of `GET /v1/cancellations`. */
export const MAX_PAGE_LIMIT = 1000;
/** Default port of `cancelkit serve` (the Inngest dev server's). */
export const DEFAULT_PORT = 8288;
/** Default host of `cancelkit serve`: loopback only. */
export const DEFAULT_HOST = "127.0.0.1";
/** Longest `Idempotency-Key` accepted. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

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
   * `listen()` resumes every unfinished (`running`) cancellation of a single-process store
   * (memory, SQLite). A shared store's (PostgreSQL) jobs are sharded and need no resuming: the
   * worker pools of all instances lease their shards. Default `true`.
   */
  readonly resume?: boolean;
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
  /** How often an event stream reads a job run elsewhere from the store, ms. Default 250. */
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

/** Inngest's error body. */
interface ErrorBody {
  readonly error: string;
  readonly data: unknown;
  readonly status: number;
}

/** An error answered with a given status and message. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly data: unknown = null,
  ) {
    super(message);
  }
}

/** A ULID as Go's `ulid.Parse` accepts it (26 Crockford base32 characters, any case), uppercased; else `undefined`. */
export const parseUlid: (text: unknown) => string | undefined = parseCancellationId;

function cancellationId(params: unknown): string {
  const id = parseUlid((params as { id?: unknown }).id);
  // Inngest's text.
  if (id === undefined) throw new HttpError(400, "Invalid cancellation ID");
  return id;
}

function parseDryRun(value: unknown): boolean {
  if (value === undefined) return false;
  if (value === "true" || value === "1" || value === "") return true;
  if (value === "false" || value === "0") return false;
  throw new HttpError(400, "dry_run must be true or false");
}

function parseLimit(value: unknown): number {
  if (value === undefined) return DEFAULT_PAGE_LIMIT;
  const n = typeof value === "string" && /^\d{1,7}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_PAGE_LIMIT)) throw new HttpError(400, `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
  return n;
}

function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const value = request.headers["idempotency-key"];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_IDEMPOTENCY_KEY_LENGTH || !/^[\x20-\x7e]+$/.test(value)) {
    throw new HttpError(400, `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters`);
  }
  return value;
}

/** `?app_id=&function_id=` of `GET /v1/cancellations`: both or neither. */
function functionFilter(query: Record<string, unknown>): { readonly appId: string; readonly functionId: string } | undefined {
  const appId = query["app_id"];
  const functionId = query["function_id"];
  if (appId === undefined && functionId === undefined) return undefined;
  if (typeof appId !== "string" || appId === "" || typeof functionId !== "string" || functionId === "") {
    throw new HttpError(400, "app_id and function_id filter together: give both or neither");
  }
  return { appId, functionId };
}

/**
 * A page of one function's cancellations, newest first: reads the environment's pages until
 * `limit` records of the function are found; the cursor is the last record read, so paging goes
 * on exactly where this page stopped.
 */
async function listCancellationsOf(
  store: RunStore,
  environmentId: string,
  filter: { readonly appId: string; readonly functionId: string },
  limit: number,
  after: string | undefined,
): Promise<{ records: CancellationRecord[]; next?: string }> {
  const records: CancellationRecord[] = [];
  let cursor = after;
  for (;;) {
    const page = await store.listCancellations({ environmentId, limit: MAX_PAGE_LIMIT, ...(cursor !== undefined ? { after: cursor } : {}) });
    for (const record of page.records) {
      if (record.appId === filter.appId && record.functionId === filter.functionId) {
        records.push(record);
        // The page is full: the next one starts after this record.
        if (records.length === limit) return { records, ...(record.id !== page.records.at(-1)?.id || page.next !== undefined ? { next: record.id } : {}) };
      }
    }
    if (page.next === undefined) return { records };
    cursor = page.next;
  }
}

/** The request's environment, set by the authentication hook. */
const ENVIRONMENT = Symbol("environment");

function environmentOf(request: FastifyRequest): string {
  const environmentId = (request as unknown as Record<symbol, string | undefined>)[ENVIRONMENT];
  if (environmentId === undefined) throw new HttpError(401, "No auth found");
  return environmentId;
}

/** The routes and the methods each answers; any other method gets 405. */
const ROUTES: readonly { readonly url: string; readonly methods: readonly string[] }[] = [
  { url: "/healthz", methods: ["GET", "HEAD"] },
  { url: "/v1/cancellations", methods: ["GET", "HEAD", "POST"] },
  { url: "/v1/cancellations/:id", methods: ["GET", "HEAD", "DELETE", "PATCH"] },
  { url: "/v1/cancellations/:id/events", methods: ["GET"] },
  { url: "/v1/cancellations/preview", methods: ["POST"] },
  { url: "/v1/cancellations/check", methods: ["POST"] },
  { url: "/v1/expressions/check", methods: ["POST"] },
  { url: "/v1/functions", methods: ["GET", "HEAD"] },
  { url: "/", methods: ["GET", "HEAD"] },
  { url: "/index.html", methods: ["GET", "HEAD"] },
  { url: "/assets/*", methods: ["GET", "HEAD"] },
];
const ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

/** The JSON schema of the create body: the shape only; the field rules and their texts are the planner's. */
const CREATE_BODY_SCHEMA = {
  type: "object",
  description: "Inngest's bulk-cancellation request; fields are checked by validateCancellationRequest",
  properties: {
    app_id: {},
    function_id: {},
    started_after: {},
    started_before: {},
    if: {},
  },
} as const;

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
  const eventIntervalMs = options.eventIntervalMs ?? 100;
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  let devKey: string | undefined;
  let keys: SigningKeys;
  if (options.keys instanceof SigningKeys) keys = options.keys;
  else if (options.keys !== undefined && Object.keys(options.keys).length > 0) keys = new SigningKeys(options.keys);
  else {
    devKey = generateDevKey();
    keys = new SigningKeys([[devKey, DEV_ENVIRONMENT_ID]], "generated");
  }
  const jobs = new JobRunner(store, {
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    ...(options.ratePerSecond !== undefined ? { ratePerSecond: options.ratePerSecond } : {}),
    ...(options.log !== undefined ? { log: options.log } : {}),
  });
  /** A store several processes share runs every job sharded, on the worker pools of all instances. */
  const sharded = isShardedRunStore(store) ? store : undefined;
  const shardCount = options.shards ?? 16;
  if (!Number.isSafeInteger(shardCount) || shardCount < 1 || shardCount > 1000) throw new RangeError(`shards must be an integer from 1 to 1000, got ${String(shardCount)}`);
  const concurrency = options.concurrency ?? 2;
  const pool =
    sharded === undefined || concurrency === 0
      ? undefined
      : new WorkerPool(sharded, { concurrency, ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}), ...(options.log !== undefined ? { log: options.log } : {}) });
  const newId = monotonicFactory();
  const streams = new Set<EventStream>();
  const uiRoot = options.ui === false ? undefined : (options.ui ?? defaultUiRoot());
  const uiBundle: UiBundle | undefined = uiRoot === undefined ? undefined : loadUiBundle(uiRoot);
  /** Aborted by `close()`: stops running previews. */
  const closingController = new AbortController();
  let closing = false;
  let closed: Promise<void> | undefined;

  const app = Fastify({ bodyLimit, logger: options.logger ?? false });
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

  // One JSON parser of our own: exact messages, and no body on other content types (415).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "string", bodyLimit }, (_request, text, done) => {
    if (text === "") {
      done(new HttpError(400, "Invalid cancellation request: the body is empty"), undefined);
      return;
    }
    try {
      // JSON.parse creates own properties only: a `__proto__` key cannot reach a prototype (it is
      // then reported as an unknown field).
      done(null, JSON.parse(text as string));
    } catch (error) {
      done(new HttpError(400, `Invalid cancellation request: malformed JSON: ${(error as Error).message}`), undefined);
    }
  });

  const sendError = (reply: FastifyReply, status: number, message: string, data: unknown = null): FastifyReply => {
    const body: ErrorBody = { error: message, data, status };
    return reply.code(status).type("application/json; charset=utf-8").send(body);
  };

  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    if (error instanceof HttpError) return sendError(reply, error.status, error.message, error.data);
    if (error instanceof ValidationError) return sendError(reply, 400, error.message);
    if (error instanceof ConflictError) return sendError(reply, 409, error.message, { cancellation_id: error.cancellationId });
    if (error instanceof CancellationNotFoundError) return sendError(reply, 404, error.message);
    if (error instanceof StoreError && error.code === "closed") return sendError(reply, 503, "Service is shutting down");
    // The store refused a value the request carried (an id or a string it cannot hold).
    if (error instanceof StoreError && error.code.startsWith("invalid_")) return sendError(reply, 400, error.message);
    const code = (error as FastifyError).code;
    if (code === "FST_ERR_CTP_BODY_TOO_LARGE") return sendError(reply, 413, `Request body is too large (limit ${bodyLimit} bytes)`);
    if (code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      const type = request.headers["content-type"];
      return sendError(reply, 415, `Unsupported Media Type${type === undefined ? "" : ` ${JSON.stringify(type)}`}: send a JSON body with Content-Type: application/json`);
    }
    const status = (error as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) return sendError(reply, status, error.message);
    request.log.error(error);
    options.log?.(`internal error on ${request.method} ${request.url}: ${error.message}`);
    return sendError(reply, 500, "Internal server error");
  });

  app.setNotFoundHandler((request, reply) => sendError(reply, 404, `Not found: ${request.method} ${request.url.split("?")[0]}`));

  app.addHook("onRequest", async (request, reply) => {
    if (closing) return sendError(reply, 503, "Service is shutting down");
    return undefined;
  });

  const authenticate = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const result = keys.authenticate(request.headers.authorization);
    if (!result.ok) {
      reply.header("www-authenticate", 'Bearer realm="cancelkit"');
      return sendError(reply, 401, result.reason === "missing" ? "No auth found" : "Invalid signing key");
    }
    (request as unknown as Record<symbol, string>)[ENVIRONMENT] = result.environmentId;
    return undefined;
  };

  // 405 for the methods a known path does not answer.
  for (const route of ROUTES) {
    const allow = route.methods.join(", ");
    const others = ALL_METHODS.filter((method) => !route.methods.includes(method));
    app.route({
      method: others,
      url: route.url,
      handler: async (request, reply) => {
        reply.header("allow", allow);
        return sendError(reply, 405, `Method ${request.method} not allowed on ${route.url} (allowed: ${allow})`);
      },
    });
  }

  app.get("/healthz", async () => ({ ok: true }));

  registerUiRoutes(app, {
    store,
    authenticate,
    environmentOf,
    sendError,
    now,
    ui: uiBundle,
    closing: closingController.signal,
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    ...(options.log !== undefined ? { log: options.log } : {}),
  });

  registerCheckRoute(app, { checker, ready: checkerLoaded, authenticate, environmentOf });
  registerControlRoute(app, { store, authenticate, environmentOf });

  app.post("/v1/cancellations", { onRequest: authenticate, schema: { body: CREATE_BODY_SCHEMA }, attachValidation: true }, async (request, reply) => {
    const environmentId = environmentOf(request);
    const query = request.query as Record<string, unknown>;
    const dryRun = parseDryRun(query["dry_run"]);
    const key = idempotencyKeyOf(request);
    const body = request.body;
    if (body === undefined) throw new HttpError(400, "Invalid cancellation request: the body is empty");
    const at = now();
    // The planner's texts are the contract; the schema only marks the body's shape.
    const validated = validateCancellationRequest(body, { now: at });
    if (request.validationError !== undefined) throw new HttpError(400, `Invalid cancellation request: ${request.validationError.message}`);
    // What a valid request will likely not do as meant (an empty window, a non-boolean `if`).
    const warnings = (await requestWarnings(store, validated, environmentId)).map((warning) => warning.message);

    if (dryRun) {
      // A client that goes away stops the scan. (The response's `close`, not the request's: the
      // request emits `close` as soon as its body has been read.)
      const controller = new AbortController();
      const abort = (): void => {
        if (!reply.raw.writableEnded) controller.abort();
      };
      reply.raw.once("close", abort);
      try {
        const report = await cancelRuns(store, body, { environmentId, dryRun: true, now: at, signal: controller.signal });
        const {
          id: _id,
          created_at: _created,
          updated_at: _updated,
          status: _status,
          counts: _counts,
          batch_size: _batchSize,
          rate_per_second: _rate,
          max_runs: _maxRuns,
          paused: _paused,
          ...fields
        } = report.cancellation;
        return {
          dry_run: true,
          ...fields,
          counts: report.outcomes,
          sample: report.sample ?? [],
          warnings,
        };
      } finally {
        reply.raw.off("close", abort);
      }
    }

    const draft: CancellationRecord = {
      id: newId(at),
      environmentId,
      appId: validated.appId,
      functionId: validated.functionId,
      ...(validated.startedAfter !== undefined ? { startedAfter: validated.startedAfter } : {}),
      startedBefore: validated.startedBefore,
      ...(validated.if !== undefined ? { if: validated.if } : {}),
      createdAt: at,
      updatedAt: at,
      status: "running",
      counts: ZERO_COUNTS,
      // The job's settings travel with the record: a restart resumes it with them.
      settings: { batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE, ...(options.ratePerSecond !== undefined ? { ratePerSecond: options.ratePerSecond } : {}) },
    };
    let record = draft;
    // On a shared store the job is split into shards that the worker pools of every instance take.
    const create = (idempotency?: { key: string; requestHash: string }): Promise<CreateResult> =>
      sharded !== undefined ? sharded.createShardedCancellation(draft, shardCount, idempotency) : store.createCancellation(draft, idempotency);
    if (key === undefined) {
      await create();
    } else {
      const hash = requestHash(validated);
      const result = await create({ key, requestHash: hash });
      if (!result.created) {
        if (result.requestHash !== hash) {
          throw new ConflictError(
            `Idempotency-Key ${JSON.stringify(key)} was already used for another request (cancellation ${result.record.id})`,
            result.record.id,
          );
        }
        record = result.record;
        reply.header("idempotent-replayed", "true");
        // An unfinished record whose job does not run here (say, created just before a shutdown).
        if (record.status === "running" && sharded === undefined) jobs.start(record.id, environmentId);
        return { ...toWireCancellation(record), warnings };
      }
    }
    if (sharded === undefined) jobs.start(record.id, environmentId);
    return { ...toWireCancellation(record), warnings };
  });

  app.get("/v1/cancellations", { onRequest: authenticate }, async (request) => {
    const environmentId = environmentOf(request);
    const query = request.query as Record<string, unknown>;
    const limit = parseLimit(query["limit"]);
    let after: string | undefined;
    if (query["cursor"] !== undefined && query["cursor"] !== "") {
      after = parseUlid(query["cursor"]);
      if (after === undefined) throw new HttpError(400, "Invalid cursor");
    }
    const filter = functionFilter(query);
    const page = filter === undefined
      ? await store.listCancellations({ environmentId, limit, ...(after !== undefined ? { after } : {}) })
      : await listCancellationsOf(store, environmentId, filter, limit, after);
    return { data: page.records.map(toWireCancellation), next_cursor: page.next ?? null };
  });

  app.get("/v1/cancellations/:id", { onRequest: authenticate }, async (request) => {
    const environmentId = environmentOf(request);
    const id = cancellationId(request.params);
    const record = await store.getCancellation(id, environmentId);
    if (record === undefined) throw new CancellationNotFoundError(id);
    // A sharded job runs on any instance: its progress is the store's (the sum of its shards).
    const active = jobs.isActive(id) || (sharded !== undefined && record.status === "running");
    const progress = jobs.isActive(id) ? jobs.progress(id) : undefined;
    // The stored counts trail a running job by one batch (each checkpoint is saved with the next
    // batch); the job's own counts are just as exact and current.
    const counts = progress !== undefined && progress.counts.scanned >= record.counts.scanned ? progress.counts : record.counts;
    const wire: WireCancellation & { progress: Record<string, unknown> | null; shards: WireShard[] } = {
      ...toWireCancellation({ ...record, counts }),
      progress: active ? progressBody(progress, record) : null,
      shards: await wireShards(store, id),
    };
    return wire;
  });

  app.delete("/v1/cancellations/:id", { onRequest: authenticate }, async (request) => {
    const environmentId = environmentOf(request);
    const id = cancellationId(request.params);
    // Deleting the record alone stops the job at its next batch; the abort also ends a rate-limit wait.
    if (!(await store.deleteCancellation(id, environmentId))) throw new CancellationNotFoundError(id);
    jobs.stop(id);
    return { ok: true };
  });

  app.get("/v1/cancellations/:id/events", { onRequest: authenticate, exposeHeadRoute: false }, async (request, reply) => {
    const environmentId = environmentOf(request);
    const id = cancellationId(request.params);
    const record = await store.getCancellation(id, environmentId);
    if (record === undefined) throw new CancellationNotFoundError(id);
    reply.hijack();
    openEventStream(
      { store, jobs, streams, eventIntervalMs, keepAliveMs, pollMs: options.storePollMs ?? 250, followStore: sharded !== undefined },
      reply,
      id,
      environmentId,
      record,
    );
  });

  const server: CancelkitServer = {
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
        closing = true;
        closingController.abort();
        await Promise.all([jobs.shutdown(), pool?.stop()]);
        // Streams of jobs that just ended are sending their last event.
        const pending = [...streams].map((stream) => stream.ended);
        for (const stream of [...streams]) stream.interrupt();
        await Promise.race([Promise.all(pending), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
        for (const stream of [...streams]) stream.end();
        await app.close();
        await checker.close();
        if (options.closeStore === true) await store.close();
      })();
      return closed;
    },
  };
  return server;
}
