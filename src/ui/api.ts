/**
 * The UI's client of the `/v1` API: every call carries the signing key as a Bearer header (no
 * cookie, so no cross-site request can act for the user). The key lives in `sessionStorage`:
 * this tab only, gone when it closes.
 */

const KEY_STORAGE = "cancelkit.signing-key";

/** The signing key of this tab, if signed in. */
export function storedKey(): string | undefined {
  try {
    return sessionStorage.getItem(KEY_STORAGE) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Keeps the key for this tab, or forgets it. */
export function storeKey(key: string | undefined): void {
  try {
    if (key === undefined) sessionStorage.removeItem(KEY_STORAGE);
    else sessionStorage.setItem(KEY_STORAGE, key);
  } catch {
    // Storage disabled: the key lives as long as the page.
  }
}

/** An API error: its HTTP status and the service's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Outcome counts of a cancellation or a preview. */
export interface Counts {
  readonly scanned: number;
  readonly cancelled: number;
  readonly skipped_terminal: number;
  readonly not_matched: number;
  readonly expression_error: number;
  readonly non_boolean: number;
}

/** A cancellation record as the API answers it. */
export interface Cancellation {
  readonly id: string;
  readonly environment_id: string;
  readonly app_id: string;
  readonly function_id: string;
  readonly started_after: string | null;
  /** `null` only on a record whose stored value cannot be written (see `unreadable`). */
  readonly started_before: string | null;
  readonly if: string | null;
  /** `null` only on a record whose stored value cannot be written (see `unreadable`). */
  readonly created_at: string | null;
  /** `null` only on a record whose stored value cannot be written (see `unreadable`). */
  readonly updated_at: string | null;
  /** Which stored values of the record cannot be written as RFC 3339, and why. */
  readonly unreadable?: string;
  readonly status: string;
  readonly counts: Counts;
  readonly progress?: Progress | null;
}

/** The progress part of a running cancellation. */
export interface Progress {
  readonly scanned: number;
  readonly cancelled: number;
  readonly counts: Counts;
  readonly rate_per_second: number;
  readonly scanned_per_second: number;
  readonly eta_seconds: number | null;
  readonly elapsed_ms: number;
}

/** Runs of one function by status, and the time span of their start times. */
export interface FunctionSummary {
  readonly app_id: string;
  readonly function_id: string;
  readonly runs: Readonly<Record<string, number>>;
  readonly total: number;
  readonly first_started_at: string | null;
  readonly last_started_at: string | null;
}

/** The answer of `POST /v1/expressions/check`. */
export type ExpressionCheck =
  | { readonly valid: true; readonly type: string; readonly warning: string | null }
  | { readonly valid: false; readonly message: string; readonly issues: readonly ExpressionIssue[] };

/** One compile issue. */
export interface ExpressionIssue {
  readonly code: string;
  readonly message: string;
  readonly line: number;
  readonly column: number;
  readonly start: number;
  readonly end: number;
}

/** One run of a preview's sample. */
export interface SampleRun {
  readonly id: string;
  readonly started_at: string;
  readonly status: string;
  readonly event: { readonly name?: unknown; readonly data?: unknown };
}

/** A line of the preview stream. */
export type PreviewLine =
  | { readonly type: "progress"; readonly counts: Counts; readonly scanned_per_second: number; readonly eta_seconds: number | null }
  | { readonly type: "done"; readonly counts: Counts; readonly sample: readonly SampleRun[]; readonly elapsed_ms: number }
  | { readonly type: "error"; readonly error: string };

/** The body of a cancellation request (Inngest's wire names). */
export interface CancellationBody {
  readonly app_id: string;
  readonly function_id: string;
  readonly started_after?: string;
  readonly started_before: string;
  readonly if?: string;
}

/** Called when the service says the key is not (or no longer) valid. */
let onUnauthorized: (() => void) | undefined;

/** Sets what to do when a call answers 401 (sign out). */
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

async function send(path: string, init: RequestInit & { key?: string } = {}): Promise<Response> {
  const key = init.key ?? storedKey();
  const headers = new Headers(init.headers);
  if (key !== undefined) headers.set("authorization", `Bearer ${key}`);
  if (init.body !== undefined) headers.set("content-type", "application/json");
  const response = await fetch(`./v1${path}`, { ...init, headers, cache: "no-store", credentials: "omit" });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = (await response.json()) as { error?: unknown };
      if (typeof body.error === "string") message = body.error;
    } catch {
      // Not JSON: keep the status line.
    }
    if (response.status === 401 && init.key === undefined) onUnauthorized?.();
    throw new ApiError(response.status, message);
  }
  return response;
}

async function json<T>(path: string, init: RequestInit & { key?: string } = {}): Promise<T> {
  return (await (await send(path, init)).json()) as T;
}

/** Checks a key by listing one cancellation with it; throws {@link ApiError} 401 for a wrong key. */
export async function verifyKey(key: string): Promise<void> {
  await send("/cancellations?limit=1", { key });
}

/** The functions of the environment with their runs by status. */
export async function listFunctions(signal?: AbortSignal): Promise<FunctionSummary[]> {
  return (await json<{ data: FunctionSummary[] }>("/functions", signal !== undefined ? { signal } : {})).data;
}

/** A page of cancellations, newest first. */
export async function listCancellations(options: {
  readonly limit: number;
  readonly cursor?: string;
  readonly appId?: string;
  readonly functionId?: string;
}): Promise<{ data: Cancellation[]; next_cursor: string | null }> {
  const query = new URLSearchParams({ limit: String(options.limit) });
  if (options.cursor !== undefined) query.set("cursor", options.cursor);
  if (options.appId !== undefined) query.set("app_id", options.appId);
  if (options.functionId !== undefined) query.set("function_id", options.functionId);
  return json(`/cancellations?${query.toString()}`);
}

/** One cancellation (with `progress` while its job runs). */
export async function getCancellation(id: string): Promise<Cancellation> {
  return json(`/cancellations/${encodeURIComponent(id)}`);
}

/** Creates a cancellation; the idempotency key makes a repeated click create it once. */
export async function createCancellation(body: CancellationBody, idempotencyKey: string): Promise<Cancellation> {
  return json("/cancellations", { method: "POST", body: JSON.stringify(body), headers: { "idempotency-key": idempotencyKey } });
}

/** Deletes a cancellation (runs it cancelled stay cancelled). */
export async function deleteCancellation(id: string): Promise<void> {
  await send(`/cancellations/${encodeURIComponent(id)}`, { method: "DELETE" });
}

/** Compiles an expression on the service. */
export async function checkExpression(expression: string, signal: AbortSignal): Promise<ExpressionCheck> {
  return json("/expressions/check", { method: "POST", body: JSON.stringify({ expression, dialect: "inngest" }), signal });
}

/** Reads a response body line by line (NDJSON), or block by block for server-sent events. */
async function readChunks(response: Response, separator: string, onChunk: (chunk: string) => void): Promise<void> {
  if (response.body === null) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let at: number;
    while ((at = buffer.indexOf(separator)) >= 0) {
      const chunk = buffer.slice(0, at);
      buffer = buffer.slice(at + separator.length);
      if (chunk.trim() !== "") onChunk(chunk);
    }
  }
  if (buffer.trim() !== "") onChunk(buffer);
}

/** Streams the exact preview of a request; aborting the signal stops the scan on the service. */
export async function preview(body: CancellationBody, signal: AbortSignal, onLine: (line: PreviewLine) => void): Promise<void> {
  const response = await send("/cancellations/preview", { method: "POST", body: JSON.stringify(body), signal });
  await readChunks(response, "\n", (line) => onLine(JSON.parse(line) as PreviewLine));
}

/** One server-sent event of `GET /v1/cancellations/:id/events`. */
export interface JobEvent {
  readonly event: string;
  readonly data: unknown;
}

/**
 * Follows a cancellation's server-sent events until the stream ends. (`EventSource` cannot send an
 * `Authorization` header, so the stream is read with `fetch`.)
 */
export async function followEvents(id: string, signal: AbortSignal, onEvent: (event: JobEvent) => void): Promise<void> {
  const response = await send(`/cancellations/${encodeURIComponent(id)}/events`, { signal, headers: { accept: "text/event-stream" } });
  await readChunks(response, "\n\n", (block) => {
    let name = "message";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) name = line.slice(7);
      else if (line.startsWith("data: ")) data.push(line.slice(6));
    }
    if (data.length > 0) onEvent({ event: name, data: JSON.parse(data.join("\n")) });
  });
}
