/**
 * The routes of the browser UI: its files (`GET /`, `GET /assets/…`, with `ui-assets.ts`'s
 * security headers) and the API calls it needs beyond the cancellation routes —
 * `GET /v1/functions`, `POST /v1/expressions/check` and the streaming `POST
 * /v1/cancellations/preview`. `server.ts` registers them with its authentication hook, so they
 * answer exactly like the other `/v1` routes (same key, same environment scoping, same error shape).
 *
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ValidationError } from "../cancel/errors.js";
import { validateCancellationRequest } from "../cancel/request.js";
import type { RunStore } from "../stores/types.js";
import { checkExpression } from "./expressions.js";
import { toWireFunctionSummary } from "./functions.js";
import type { PageEvaluator } from "../cancel/evaluator.js";
import { streamPreview } from "./preview.js";
import { UI_SECURITY_HEADERS, acceptsGzip, type UiBundle } from "./ui-assets.js";

/** What the UI routes take from the server. */
export interface UiRouteContext {
  readonly store: RunStore;
  /** The Bearer-key hook of the `/v1` routes. */
  readonly authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  /** The environment the hook authenticated. */
  readonly environmentOf: (request: FastifyRequest) => string;
  /** Answers an error in Inngest's shape. */
  readonly sendError: (reply: FastifyReply, status: number, message: string) => FastifyReply;
  /** The clock ("started_before must be in the past"), epoch ms. */
  readonly now: () => number;
  /** The built UI, or `undefined` when there is none (its routes then say how to build it). */
  readonly ui: UiBundle | undefined;
  /** Aborted when the service shuts down: running previews stop. */
  readonly closing: AbortSignal;
  /** Runs per page of a preview's scan. Default: the planner's. */
  readonly batchSize?: number;
  /** Where a preview evaluates its `if` (the server's evaluator threads). Default: inline. */
  readonly evaluator?: PageEvaluator;
  /** The operator's log. */
  readonly log?: (line: string) => void;
}

/** Registers the UI's files and its API routes on `app`. */
export function registerUiRoutes(app: FastifyInstance, context: UiRouteContext): void {
  const { store, authenticate, environmentOf, ui } = context;

  const sendUiFile = (path: string, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    reply.headers(UI_SECURITY_HEADERS);
    if (ui === undefined) {
      return reply
        .code(503)
        .type("text/plain; charset=utf-8")
        .send("The cancelkit UI is not built: run `npm run build` (the API under /v1 works without it).\n");
    }
    const file = ui.files.get(path);
    if (file === undefined) return context.sendError(reply, 404, `Not found: ${request.method} ${path}`);
    reply.header("cache-control", file.cacheControl).header("vary", "accept-encoding").type(file.type);
    if (file.gzip !== undefined && acceptsGzip(request.headers["accept-encoding"])) return reply.header("content-encoding", "gzip").send(file.gzip);
    return reply.send(file.body);
  };
  app.get("/", async (request, reply) => sendUiFile("/", request, reply));
  app.get("/index.html", async (request, reply) => sendUiFile("/", request, reply));
  app.get("/assets/*", async (request, reply) => sendUiFile(request.url.split("?")[0]!, request, reply));

  app.get("/v1/functions", { onRequest: authenticate }, async (request) => {
    const environmentId = environmentOf(request);
    const summaries = await store.listFunctions({ environmentId });
    return { data: summaries.map(toWireFunctionSummary) };
  });

  app.post("/v1/expressions/check", { onRequest: authenticate }, async (request) => {
    environmentOf(request);
    return checkExpression(request.body);
  });

  app.post("/v1/cancellations/preview", { onRequest: authenticate }, async (request, reply) => {
    const environmentId = environmentOf(request);
    const body = request.body;
    if (body === undefined) throw new ValidationError(["Invalid cancellation request: the body is empty"]);
    const at = context.now();
    // Validation errors are answered as JSON before the stream starts.
    validateCancellationRequest(body, { now: at });
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "application/x-ndjson; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "x-accel-buffering": "no",
    });
    await streamPreview(store, body, res, {
      environmentId,
      now: at,
      signal: context.closing,
      ...(context.batchSize !== undefined ? { batchSize: context.batchSize } : {}),
      ...(context.evaluator !== undefined ? { evaluator: context.evaluator } : {}),
      onError: (error) => context.log?.(`preview failed: ${error instanceof Error ? error.message : String(error)}`),
    });
  });
}
