/**
 * The service side of production jobs: `PATCH /v1/cancellations/:id` (pause, unpause, re-rate a
 * job; see `cancel/job-control.ts`) and the per-shard progress `GET /v1/cancellations/:id` shows
 * for a sharded job.
 *
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { CancellationNotFoundError, ValidationError } from "../cancel/errors.js";
import { controlCancellation, validateControlRequest } from "../cancel/job-control.js";
import { formatTimestamp, parseCancellationId } from "../cancel/record.js";
import { isShardedRunStore, type RunStore, type ShardRecord } from "../stores/types.js";

/** What the control route takes from the server. */
export interface ControlRouteContext {
  readonly store: RunStore;
  /** The Bearer-key hook of the `/v1` routes. */
  readonly authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  /** The environment the hook authenticated. */
  readonly environmentOf: (request: FastifyRequest) => string;
}

/** One shard of `GET /v1/cancellations/:id`'s `shards`. */
export interface WireShard {
  /** `pending` (waiting for a worker), `running` (leased) or `done`. */
  readonly status: ShardRecord["status"];
  readonly scanned: number;
  readonly cancelled: number;
  /** The worker holding (or last holding) the lease; `null` when none. */
  readonly owner: string | null;
  /** When the lease expires (RFC 3339); `null` when not leased. */
  readonly lease_expires_at: string | null;
}

/** A shard in wire form. */
export function toWireShard(shard: ShardRecord): WireShard {
  return {
    status: shard.status,
    scanned: shard.counts.scanned,
    cancelled: shard.counts.cancelled,
    owner: shard.leaseOwner ?? null,
    lease_expires_at: shard.leaseExpiresAt === undefined ? null : formatTimestamp(shard.leaseExpiresAt),
  };
}

/** The shards of a cancellation in window order (empty for one that is not sharded, or a store that cannot shard). */
export async function wireShards(store: RunStore, id: string): Promise<WireShard[]> {
  if (!isShardedRunStore(store)) return [];
  return (await store.listShards(id)).map(toWireShard);
}

/**
 * Registers `PATCH /v1/cancellations/:id`: `{"paused": true|false}` and/or
 * `{"rate_per_second": n|null}` (n above 0). Answers the record as it stands after the change
 * (with `paused` and `rate_per_second`); 400 for a bad body, 404 for an unknown id. Every worker
 * of the job applies it before its next batch.
 */
export function registerControlRoute(app: FastifyInstance, context: ControlRouteContext): void {
  const { store, authenticate, environmentOf } = context;
  app.patch("/v1/cancellations/:id", { onRequest: authenticate }, async (request) => {
    const environmentId = environmentOf(request);
    const id = parseCancellationId((request.params as { id?: unknown }).id);
    // Inngest's text for a malformed id.
    if (id === undefined) throw new ValidationError(["Invalid cancellation ID"]);
    if (request.body === undefined) throw new ValidationError(["Invalid control request: the body is empty"]);
    let patch;
    try {
      patch = validateControlRequest(request.body);
    } catch (error) {
      if (error instanceof ValidationError) throw new ValidationError(error.errors.map((message) => `Invalid control request: ${message}`));
      throw error;
    }
    try {
      return await controlCancellation(store, id, patch, { environmentId });
    } catch (error) {
      if (error instanceof CancellationNotFoundError) throw new CancellationNotFoundError(id);
      throw error;
    }
  });
}
