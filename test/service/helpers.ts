/**
 * Test support for the service: servers on loopback, authenticated requests, a server-sent-events
 * reader, runs built by hand and an oracle that selects them without the planner or the CEL engine.
 *
 * @module
 */
import { createServer, type CancelkitServer, type ServerOptions } from "../../src/service/server.js";
import { ulidAt, seededRandom } from "../../src/service/generate.js";
import type { OutcomeCounts, RunRecord, RunStatus, RunStore } from "../../src/stores/types.js";
import { pollFor } from "../support/poll.js";

/** The user of Inngest's example. */
export const USER = "user_o9235hf84hf";

/** A started server and its URL. */
export interface Running {
  readonly server: CancelkitServer;
  readonly url: string;
}

/** Starts a server on 127.0.0.1 with a free port. */
export async function startServer(options: ServerOptions): Promise<Running> {
  const server = createServer(options);
  const url = await server.listen({ host: "127.0.0.1", port: 0 });
  return { server, url };
}

/** A `fetch` with a bearer key and, for objects, a JSON body. */
export async function call(
  url: string,
  key: string | undefined,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; json: any; text: string }> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  if (key !== undefined) headers["authorization"] = `Bearer ${key}`;
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === "string" ? init.body : JSON.stringify(init.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(url, { method: init.method ?? (body === undefined ? "GET" : "POST"), headers, ...(body !== undefined ? { body } : {}) });
  const text = await response.text();
  let json: any;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
}

/** One server-sent event. */
export interface SseEvent {
  readonly event: string;
  readonly data: any;
}

/** Reads an event stream until the server closes it; `onEvent` sees each event as it arrives. */
export async function readEvents(url: string, key: string, onEvent: (event: SseEvent) => void = () => undefined): Promise<{ status: number; contentType: string | null; events: SseEvent[] }> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
  const events: SseEvent[] = [];
  if (response.body === null) return { status: response.status, contentType: response.headers.get("content-type"), events };
  const decoder = new TextDecoder();
  let buffer = "";
  const reader = response.body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let boundary: number;
    while ((boundary = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      let name = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) name = line.slice(7);
        else if (line.startsWith("data: ")) data.push(line.slice(6));
      }
      if (data.length === 0) continue;
      const event = { event: name, data: JSON.parse(data.join("\n")) };
      events.push(event);
      onEvent(event);
    }
  }
  return { status: response.status, contentType: response.headers.get("content-type"), events };
}

/** Polls `GET /v1/cancellations/:id` until `until` holds (or a timeout). */
export async function pollCancellation(url: string, key: string, id: string, until: (record: any) => boolean, timeoutMs = 20_000): Promise<any> {
  const answer = await pollFor(
    () => call(`${url}/v1/cancellations/${id}`, key),
    ({ status, json }) => status === 200 && until(json),
    `cancellation ${id}`,
    { timeoutMs, intervalMs: 20 },
  );
  return answer.json;
}

/** What a test run looks like before it becomes a {@link RunRecord}. */
export interface RunSpec {
  readonly environmentId?: string;
  readonly appId?: string;
  readonly functionId?: string;
  readonly startedAt: number;
  readonly userId: string;
  readonly status?: RunStatus;
}

/** Builds runs with reproducible ULIDs. */
export function makeRuns(specs: readonly RunSpec[], seed = 1): RunRecord[] {
  const random = seededRandom(seed);
  return specs.map((spec, index) => ({
    id: ulidAt(spec.startedAt, random),
    environmentId: spec.environmentId ?? "dev",
    appId: spec.appId ?? "acme-app",
    functionId: spec.functionId ?? "schedule-reminder",
    startedAt: spec.startedAt,
    status: spec.status ?? "sleeping",
    event: { name: "app/reminder.scheduled", data: { userId: spec.userId, n: index }, ts: spec.startedAt },
  }));
}

/** The oracle's selection: the runs a request must scan and, of those, the ones it must cancel. */
export function expectedOutcome(
  runs: readonly RunRecord[],
  request: { environmentId: string; appId: string; functionId: string; after?: number; before: number; userId?: string },
): { counts: OutcomeCounts; cancel: Set<string> } {
  const scanned = runs.filter(
    (run) =>
      run.environmentId === request.environmentId &&
      run.appId === request.appId &&
      run.functionId === request.functionId &&
      run.startedAt <= request.before &&
      (request.after === undefined || run.startedAt >= request.after),
  );
  const matched = scanned.filter((run) => request.userId === undefined || (run.event.data as { userId?: string }).userId === request.userId);
  const finished = (run: RunRecord): boolean => run.status === "completed" || run.status === "failed" || run.status === "cancelled";
  const cancel = new Set(matched.filter((run) => !finished(run)).map((run) => run.id));
  return {
    cancel,
    counts: {
      scanned: scanned.length,
      cancelled: cancel.size,
      skipped_terminal: matched.length - cancel.size,
      not_matched: scanned.length - matched.length,
      expression_error: 0,
      non_boolean: 0,
    },
  };
}

/** Ids of the runs (of the given ones) that the store now has as cancelled by `cancellationId`. */
export async function cancelledBy(store: RunStore, runs: readonly RunRecord[], cancellationId: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const run of runs) {
    const now = await store.getRun(run.id);
    if (now?.status === "cancelled" && now.cancellationId === cancellationId) out.add(run.id);
  }
  return out;
}
