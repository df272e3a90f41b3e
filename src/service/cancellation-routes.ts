/**
 * The cancellation routes of Inngest's REST API: `POST /v1/cancellations` (create, or `?dry_run=true`),
 * `GET /v1/cancellations` (the environment's, newest first, paged), `GET /v1/cancellations/:id`,
 * `DELETE /v1/cancellations/:id` and the event stream `GET /v1/cancellations/:id/events`.
 *
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { monotonicFactory } from "ulid";
import { CancellationNotFoundError, ConflictError } from "../cancel/errors.js";
import type { PageEvaluator } from "../cancel/evaluator.js";
import { cancelRuns } from "../cancel/planner.js";
import { toWireCancellation, type WireCancellation } from "../cancel/record.js";
import { requestHash, validateCancellationRequest, type CancellationRequest } from "../cancel/request.js";
import { DEFAULT_BATCH_SIZE } from "../cancel/settings.js";
import { requestWarnings } from "../cancel/warnings.js";
import { ZERO_COUNTS, isShardedRunStore, type CancellationRecord, type CreateResult, type RunStore } from "../stores/types.js";
import { progressBody, type EventStreams } from "./event-stream.js";
import {
  HttpError,
  MAX_PAGE_LIMIT,
  cancellationId,
  environmentOf,
  functionFilter,
  idempotencyKeyOf,
  parseDryRun,
  parseLimit,
  parseUlid,
  type Authenticate,
} from "./http.js";
import { wireShards, type WireShard } from "./job-control.js";
import type { JobRunner } from "./jobs.js";

/** What the cancellation routes take from the server. */
export interface CancellationRouteContext {
  readonly store: RunStore;
  readonly jobs: JobRunner;
  readonly streams: EventStreams;
  readonly authenticate: Authenticate;
  /** The clock, epoch ms. */
  readonly now: () => number;
  /** Batch size stored with each new job. */
  readonly batchSize: number | undefined;
  /** Rate stored with each new job. */
  readonly ratePerSecond: number | undefined;
  /** On a store several processes share: how many shards each new job is split into. */
  readonly shards: number;
  /** Where a dry run evaluates its `if` (the server's evaluator threads); `undefined`: inline. */
  readonly evaluator: PageEvaluator | undefined;
}

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

/** Registers the cancellation routes on `app`. */
export function registerCancellationRoutes(app: FastifyInstance, context: CancellationRouteContext): void {
  const { store, jobs, authenticate } = context;
  const newId = monotonicFactory();

  app.post("/v1/cancellations", { onRequest: authenticate, schema: { body: CREATE_BODY_SCHEMA }, attachValidation: true }, async (request, reply) => {
    const environmentId = environmentOf(request);
    const dryRun = parseDryRun((request.query as Record<string, unknown>)["dry_run"]);
    const key = idempotencyKeyOf(request);
    const body = request.body;
    if (body === undefined) throw new HttpError(400, "Invalid cancellation request: the body is empty");
    const at = context.now();
    // The planner's texts are the contract; the schema only marks the body's shape.
    const validated = validateCancellationRequest(body, { now: at });
    if (request.validationError !== undefined) throw new HttpError(400, `Invalid cancellation request: ${request.validationError.message}`);
    // What a valid request will likely not do as meant (an empty window, a non-boolean `if`).
    const warnings = (await requestWarnings(store, validated, environmentId)).map((warning) => warning.message);
    if (dryRun) return { ...(await dryRunBody(store, body, environmentId, at, reply, context.evaluator)), warnings };
    const created = await createRecord(context, newId(at), validated, environmentId, at, key);
    if (created.replayed) {
      reply.header("idempotent-replayed", "true");
      // A replay never starts a job: the record's job runs under its owner's lease, here or in
      // another process, and an unfinished one nobody runs is taken over by the runner's look for
      // unowned jobs (`JobRunner.resumeUnfinished`).
    } else if (!isShardedRunStore(store)) jobs.start(created.record.id, environmentId);
    // A sharded job (PostgreSQL) runs on the worker pools of every instance: nothing to start.
    return { ...toWireCancellation(created.record), warnings };
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
    const active = jobs.isActive(id) || (isShardedRunStore(store) && record.status === "running");
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

  app.get("/v1/cancellations/:id/events", { onRequest: authenticate, exposeHeadRoute: false }, async (request: FastifyRequest, reply) => {
    const environmentId = environmentOf(request);
    const id = cancellationId(request.params);
    const record = await store.getCancellation(id, environmentId);
    if (record === undefined) throw new CancellationNotFoundError(id);
    reply.hijack();
    context.streams.open(reply, id, environmentId, record);
  });
}

/** `?dry_run=true`: the exact counts and a sample, written nowhere; a client that goes away stops the scan. */
async function dryRunBody(
  store: RunStore,
  body: unknown,
  environmentId: string,
  at: number,
  reply: FastifyReply,
  evaluator: PageEvaluator | undefined,
): Promise<Record<string, unknown>> {
  // The response's `close`, not the request's: the request emits `close` as soon as its body has been read.
  const controller = new AbortController();
  const abort = (): void => {
    if (!reply.raw.writableEnded) controller.abort();
  };
  reply.raw.once("close", abort);
  try {
    const report = await cancelRuns(store, body, { environmentId, dryRun: true, now: at, signal: controller.signal, ...(evaluator !== undefined ? { evaluator } : {}) });
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
    return { dry_run: true, ...fields, counts: report.outcomes, sample: report.sample ?? [] };
  } finally {
    reply.raw.off("close", abort);
  }
}

/**
 * Stores the record of a validated request, or with an `Idempotency-Key` finds the one stored
 * before under it (`replayed`); the same key with another request is a 409.
 */
async function createRecord(
  context: CancellationRouteContext,
  id: string,
  validated: CancellationRequest,
  environmentId: string,
  at: number,
  key: string | undefined,
): Promise<{ readonly record: CancellationRecord; readonly replayed: boolean }> {
  const draft: CancellationRecord = {
    id,
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
    settings: { batchSize: context.batchSize ?? DEFAULT_BATCH_SIZE, ...(context.ratePerSecond !== undefined ? { ratePerSecond: context.ratePerSecond } : {}) },
  };
  // On a shared store the job is split into shards that the worker pools of every instance take.
  const store = context.store;
  const create = (idempotency?: { key: string; requestHash: string }): Promise<CreateResult> =>
    isShardedRunStore(store) ? store.createShardedCancellation(draft, context.shards, idempotency) : store.createCancellation(draft, idempotency);
  if (key === undefined) {
    await create();
    return { record: draft, replayed: false };
  }
  const hash = requestHash(validated);
  const result = await create({ key, requestHash: hash });
  if (result.created) return { record: draft, replayed: false };
  if (result.requestHash !== hash) {
    throw new ConflictError(`Idempotency-Key ${JSON.stringify(key)} was already used for another request (cancellation ${result.record.id})`, result.record.id);
  }
  return { record: result.record, replayed: true };
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
