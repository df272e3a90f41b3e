/**
 * The request plumbing every route of the service shares: Inngest's error body, the JSON body
 * parser, the error handler that maps our errors to statuses, the Bearer-key hook and the parsers
 * of path and query parameters.
 *
 * @module
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { CancellationNotFoundError, ConflictError, ValidationError } from "../cancel/errors.js";
import { parseCancellationId } from "../cancel/record.js";
import { StoreError } from "../stores/types.js";
import type { SigningKeys } from "./auth.js";
import type { ErrorBody } from "./http-errors.js";
import { readJsonBody } from "./json-body.js";

/** Default page size of `GET /v1/cancellations`. */
export const DEFAULT_PAGE_LIMIT = 50;
/** Largest page size of `GET /v1/cancellations`. */
export const MAX_PAGE_LIMIT = 1000;
/** Longest `Idempotency-Key` accepted. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** An error answered with a given status and message. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly data: unknown = null,
  ) {
    super(message);
  }
}

/** Answers an error in Inngest's shape `{ "error", "data", "status" }`. */
export function sendError(reply: FastifyReply, status: number, message: string, data: unknown = null): FastifyReply {
  const body: ErrorBody = { error: message, data, status };
  return reply.code(status).type("application/json; charset=utf-8").send(body);
}

/** The Bearer-key hook of the `/v1` routes (answers 401 itself). */
export type Authenticate = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/** The request's environment, set by the authentication hook. */
const ENVIRONMENT = Symbol("environment");

/** A hook that authenticates the Bearer key and remembers its environment for {@link environmentOf}. */
export function authenticator(keys: SigningKeys): Authenticate {
  return async (request, reply) => {
    const result = keys.authenticate(request.headers.authorization);
    if (!result.ok) {
      reply.header("www-authenticate", 'Bearer realm="cancelkit"');
      return sendError(reply, 401, result.reason === "missing" ? "No auth found" : "Invalid signing key");
    }
    (request as unknown as Record<symbol, string>)[ENVIRONMENT] = result.environmentId;
    return undefined;
  };
}

/** The environment the {@link authenticator} hook found for the request. */
export function environmentOf(request: FastifyRequest): string {
  const environmentId = (request as unknown as Record<symbol, string | undefined>)[ENVIRONMENT];
  if (environmentId === undefined) throw new HttpError(401, "No auth found");
  return environmentId;
}

/**
 * Replaces fastify's body parsers with one JSON parser of our own (`json-body.ts`): strict UTF-8,
 * messages that echo nothing, an empty body read as none. Any other content type: an empty body is
 * no body (a DELETE sent with a client's default header); a body is 415.
 */
export function installJsonBody(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "buffer", bodyLimit }, (_request, bytes, done) => {
    // JSON.parse creates own properties only: a `__proto__` key cannot reach a prototype (it is
    // then reported as an unknown field).
    const read = readJsonBody(bytes as Buffer);
    if (read.ok) done(null, read.value);
    else done(new HttpError(400, `Invalid cancellation request: ${read.message}`), undefined);
  });
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit }, (request, bytes, done) => {
    if ((bytes as Buffer).length === 0) done(null, undefined);
    else done(unsupportedMediaType(request.headers["content-type"]), undefined);
  });
}

/** The 415 of a body that is not JSON. */
function unsupportedMediaType(type: string | undefined): HttpError {
  return new HttpError(415, `Unsupported Media Type${type === undefined ? "" : ` ${JSON.stringify(type)}`}: send a JSON body with Content-Type: application/json`);
}

/** Maps every error a handler throws (ours and fastify's) to a status and Inngest's body; the rest is a logged 500. */
export function installErrorHandler(app: FastifyInstance, options: { readonly bodyLimit: number; readonly log?: ((line: string) => void) | undefined }): void {
  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    if (error instanceof HttpError) return sendError(reply, error.status, error.message, error.data);
    if (error instanceof ValidationError) return sendError(reply, 400, error.message);
    if (error instanceof ConflictError) return sendError(reply, 409, error.message, { cancellation_id: error.cancellationId });
    if (error instanceof CancellationNotFoundError) return sendError(reply, 404, error.message);
    if (error instanceof StoreError && error.code === "closed") return sendError(reply, 503, "Service is shutting down");
    // The store refused a value the request carried (an id or a string it cannot hold).
    if (error instanceof StoreError && error.code.startsWith("invalid_")) return sendError(reply, 400, error.message);
    const code = (error as FastifyError).code;
    if (code === "FST_ERR_CTP_BODY_TOO_LARGE") return sendError(reply, 413, `Request body is too large (limit ${options.bodyLimit} bytes)`);
    if (code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") return sendError(reply, 415, unsupportedMediaType(request.headers["content-type"]).message);
    const status = (error as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) return sendError(reply, status, error.message);
    request.log.error(error);
    options.log?.(`internal error on ${request.method} ${request.url}: ${error.message}`);
    return sendError(reply, 500, "Internal server error");
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, 404, `Not found: ${request.method} ${request.url.split("?")[0]}`));
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

/** Answers 405 with an `Allow` header for the methods a known path does not answer. */
export function installMethodNotAllowed(app: FastifyInstance): void {
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
}

/** A ULID as Go's `ulid.Parse` accepts it (26 Crockford base32 characters, any case), uppercased; else `undefined`. */
export const parseUlid: (text: unknown) => string | undefined = parseCancellationId;

/** The `:id` path parameter, or 400 with Inngest's text. */
export function cancellationId(params: unknown): string {
  const id = parseUlid((params as { id?: unknown }).id);
  if (id === undefined) throw new HttpError(400, "Invalid cancellation ID");
  return id;
}

/** `?dry_run=`: `true`, `1` or empty, `false` or `0`; absent is `false`. */
export function parseDryRun(value: unknown): boolean {
  if (value === undefined) return false;
  if (value === "true" || value === "1" || value === "") return true;
  if (value === "false" || value === "0") return false;
  throw new HttpError(400, "dry_run must be true or false");
}

/** `?limit=` of a listing, from 1 to {@link MAX_PAGE_LIMIT}; absent is {@link DEFAULT_PAGE_LIMIT}. */
export function parseLimit(value: unknown): number {
  if (value === undefined) return DEFAULT_PAGE_LIMIT;
  const n = typeof value === "string" && /^\d{1,7}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_PAGE_LIMIT)) throw new HttpError(400, `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
  return n;
}

/** The `Idempotency-Key` header, checked; `undefined` when absent. */
export function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const value = request.headers["idempotency-key"];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_IDEMPOTENCY_KEY_LENGTH || !/^[\x20-\x7e]+$/.test(value)) {
    throw new HttpError(400, `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters`);
  }
  return value;
}

/** `?app_id=&function_id=` of `GET /v1/cancellations`: both or neither. */
export function functionFilter(query: Record<string, unknown>): { readonly appId: string; readonly functionId: string } | undefined {
  const appId = query["app_id"];
  const functionId = query["function_id"];
  if (appId === undefined && functionId === undefined) return undefined;
  if (typeof appId !== "string" || appId === "" || typeof functionId !== "string" || functionId === "") {
    throw new HttpError(400, "app_id and function_id filter together: give both or neither");
  }
  return { appId, functionId };
}
