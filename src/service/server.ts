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
 * - `GET /v1/cancellations/:id`: the record (status, counts) and, while its job runs, `progress`.
 * - `DELETE /v1/cancellations/:id`: deletes the record and stops its job; `{ "ok": true }`.
 * - `GET /v1/cancellations/:id/events`: server-sent events (`progress` while the job runs, then
 *   `done` with the record, or `deleted` / `interrupted`), then the stream closes.
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
 * A signing key sees only its environment: every store call is scoped by the key's environment
 * id, and a record of another environment answers 404 exactly like a missing one.
 *
 * @module
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { monotonicFactory } from "ulid";
import { CancellationChecker } from "../cancel/checker.js";
import { CancellationNotFoundError, ConflictError, ValidationError } from "../cancel/errors.js";
import { cancelRuns, type CancellationProgress } from "../cancel/planner.js";
import { DEFAULT_BATCH_SIZE } from "../cancel/settings.js";
import { parseCancellationId, toWireCancellation, type WireCancellation } from "../cancel/record.js";
import { requestHash, validateCancellationRequest } from "../cancel/request.js";
import { requestWarnings } from "../cancel/warnings.js";
import { StoreError, ZERO_COUNTS, type CancellationRecord, type RunStore } from "../stores/types.js";
import { DEV_ENVIRONMENT_ID, SigningKeys, generateDevKey } from "./auth.js";
import { JobRunner, type JobEvent } from "./jobs.js";
import { defaultUiRoot, loadUiBundle, type UiBundle } from "./ui-assets.js";
import { registerUiRoutes } from "./ui-routes.js";
import { registerCheckRoute } from "./check-route.js";
import { answerClientError, frameworkErrorAnswer, type ErrorBody } from "./http-errors.js";
import { readJsonBody } from "./json-body.js";

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
  /** `listen()` resumes every unfinished (`running`) cancellation of the store. Default `true`. */
  readonly resume?: boolean;
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
  /** The background jobs. */
  readonly jobs: JobRunner;
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

/** The 415 of a body that is not JSON. */
function unsupportedMediaType(type: string | undefined): HttpError {
  return new HttpError(415, `Unsupported Media Type${type === undefined ? "" : ` ${JSON.stringify(type)}`}: send a JSON body with Content-Type: application/json`);
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

/** The progress part of `GET /v1/cancellations/:id` and of `progress` events. */
function progressBody(progress: CancellationProgress | undefined, record: CancellationRecord): Record<string, unknown> {
  const counts = progress?.counts ?? record.counts;
  return {
    scanned: counts.scanned,
    matched: counts.cancelled + counts.skipped_terminal,
    cancelled: counts.cancelled,
    counts,
    rate_per_second: progress?.ratePerSecond ?? 0,
    scanned_per_second: progress?.scannedPerSecond ?? 0,
    eta_seconds: progress?.etaSeconds ?? null,
    elapsed_ms: progress?.elapsedMs ?? 0,
  };
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
  { url: "/v1/cancellations/:id", methods: ["GET", "HEAD", "DELETE"] },
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

/** An open event stream. */
interface EventStream {
  /** Resolves once the stream has ended. */
  readonly ended: Promise<void>;
  /** Ends the stream now. */
  end(): void;
}

/**
 * Creates the service over a store. Call `listen()` to serve, `close()` to shut down.
 *
 * @param options - See {@link ServerOptions}.
 * @throws RangeError for a bad `bodyLimit`.
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
  const newId = monotonicFactory();
  const streams = new Set<EventStream>();
  const uiRoot = options.ui === false ? undefined : (options.ui ?? defaultUiRoot());
  const uiBundle: UiBundle | undefined = uiRoot === undefined ? undefined : loadUiBundle(uiRoot);
  /** Aborted by `close()`: stops running previews. */
  const closingController = new AbortController();
  let closing = false;
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

  // One JSON parser of our own (`json-body.ts`): strict UTF-8, messages that echo nothing, an empty
  // body read as none; and no body on other content types (415).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "buffer", bodyLimit }, (_request, bytes, done) => {
    const read = readJsonBody(bytes as Buffer);
    if (read.ok) done(null, read.value);
    else done(new HttpError(400, `Invalid cancellation request: ${read.message}`), undefined);
  });
  // Any other content type: an empty body is no body (a DELETE sent with a client's default
  // header); a body is 415.
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit }, (request, bytes, done) => {
    if ((bytes as Buffer).length === 0) done(null, undefined);
    else done(unsupportedMediaType(request.headers["content-type"]), undefined);
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
    if (code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") return sendError(reply, 415, unsupportedMediaType(request.headers["content-type"]).message);
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
    if (key === undefined) {
      await store.createCancellation(draft);
    } else {
      const hash = requestHash(validated);
      const result = await store.createCancellation(draft, { key, requestHash: hash });
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
        if (record.status === "running") jobs.start(record.id, environmentId);
        return { ...toWireCancellation(record), warnings };
      }
    }
    jobs.start(record.id, environmentId);
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
    const active = jobs.isActive(id);
    const progress = active ? jobs.progress(id) : undefined;
    // The stored counts trail a running job by one batch (each checkpoint is saved with the next
    // batch); the job's own counts are just as exact and current.
    const counts = progress !== undefined && progress.counts.scanned >= record.counts.scanned ? progress.counts : record.counts;
    const wire: WireCancellation & { progress: Record<string, unknown> | null } = {
      ...toWireCancellation({ ...record, counts }),
      progress: active ? progressBody(progress, record) : null,
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
    openEventStream(reply, id, environmentId, record);
  });

  /** Streams a cancellation's progress as server-sent events, until its job ends. */
  const openEventStream = (reply: FastifyReply, id: string, environmentId: string, record: CancellationRecord): void => {
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    let finished = false;
    let resolveEnded!: () => void;
    const ended = new Promise<void>((resolve) => (resolveEnded = resolve));
    let lastSentAt = -Infinity;
    let held: CancellationProgress | undefined;
    let holdTimer: NodeJS.Timeout | undefined;
    let unsubscribe: (() => void) | undefined;
    const write = (event: string, data: unknown): void => {
      if (!finished) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const keepAlive = setInterval(() => {
      if (!finished) res.write(": keep-alive\n\n");
    }, keepAliveMs);
    keepAlive.unref();
    const stream: EventStream = {
      ended,
      end: () => {
        if (finished) return;
        finished = true;
        clearInterval(keepAlive);
        if (holdTimer !== undefined) clearTimeout(holdTimer);
        unsubscribe?.();
        streams.delete(stream);
        res.end();
        resolveEnded();
      },
    };
    streams.add(stream);
    // The response's `close`: the client went away (the request's fires once its body is read).
    res.once("close", stream.end);

    const sendProgress = (progress: CancellationProgress): void => {
      lastSentAt = performance.now();
      held = undefined;
      write("progress", { id, status: "running", ...progressBody(progress, record) });
    };
    /** Sends the record as it stands now under `event`, then ends the stream. */
    const finish = async (event: "done" | "interrupted"): Promise<void> => {
      try {
        const current = await store.getCancellation(id, environmentId);
        if (current === undefined) write("deleted", { id });
        else write(event, toWireCancellation(current));
      } catch {
        // The store is closing: nothing more to say.
      }
      stream.end();
    };
    const onEvent = (event: JobEvent): void => {
      if (finished) return;
      if (event.type === "progress") {
        const wait = eventIntervalMs - (performance.now() - lastSentAt);
        if (wait <= 0) sendProgress(event.progress);
        else {
          held = event.progress;
          holdTimer ??= setTimeout(() => {
            holdTimer = undefined;
            if (held !== undefined && !finished) sendProgress(held);
          }, wait);
        }
        return;
      }
      if (holdTimer !== undefined) clearTimeout(holdTimer);
      holdTimer = undefined;
      const outcome = event.outcome;
      if (outcome.kind === "deleted") {
        write("deleted", { id });
        stream.end();
      } else void finish(outcome.kind === "interrupted" ? "interrupted" : "done");
    };
    unsubscribe = jobs.subscribe(id, onEvent);
    if (unsubscribe === undefined) {
      // No job runs: the record (read again, after the job ended if one just did) is final.
      void finish("done");
      return;
    }
    write("progress", { id, status: "running", ...progressBody(jobs.progress(id), record) });
    lastSentAt = performance.now();
  };

  const server: CancelkitServer = {
    app,
    jobs,
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
      if (options.resume ?? true) await jobs.resumeUnfinished();
      return `http://${shownHost}:${port}`;
    },
    close() {
      closed ??= (async () => {
        closing = true;
        closingController.abort();
        await jobs.shutdown();
        // Streams of jobs that just ended are sending their last event.
        const pending = [...streams].map((stream) => stream.ended);
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
