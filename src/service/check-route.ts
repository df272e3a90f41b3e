/**
 * `POST /v1/cancellations/check`: is this run cancelled? The question an executor asks before each
 * step, answered by the server's {@link CancellationChecker} (current with every cancellation the
 * server creates or deletes, and with other processes' through the store's watch).
 *
 * Body: one run `{"app_id", "function_id", "run_id", "event"}`, or `{"runs": [run, …]}` with 1 to
 * {@link MAX_CHECK_RUNS}. The run's start time is its ULID's time, as in Inngest; its environment
 * is the signing key's. Answer: `{"cancelled": bool, "cancellation_id": "<ULID>" | null}`, or for
 * the batch form `{"runs": [{"run_id", "cancelled", "cancellation_id"}, …]}` in request order.
 *
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { decodeTime } from "ulid";
import type { CancellationChecker } from "../cancel/checker.js";
import { ValidationError } from "../cancel/errors.js";

/** Most runs one batch request may check. */
export const MAX_CHECK_RUNS = 1000;

/** One answer of the check route. */
export interface WireCheck {
  readonly cancelled: boolean;
  readonly cancellation_id: string | null;
}

/** What the route takes from the server. */
export interface CheckRouteContext {
  /** The server's checker; `ready()` resolves once it has loaded the store. */
  readonly checker: CancellationChecker;
  readonly ready: () => Promise<void>;
  /** The Bearer-key hook of the `/v1` routes. */
  readonly authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  /** The environment the hook authenticated. */
  readonly environmentOf: (request: FastifyRequest) => string;
}

const RUN_FIELDS = ["app_id", "function_id", "run_id", "event"] as const;
const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/i;

/** A run of a check request once validated. */
interface CheckRequestRun {
  readonly appId: string;
  readonly functionId: string;
  readonly runId: string;
  readonly event: Readonly<Record<string, unknown>>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Validates one run; its problems are pushed to `errors`, each prefixed with `where`. */
function validateRun(value: unknown, where: string, errors: string[]): CheckRequestRun | undefined {
  if (!isObject(value)) {
    errors.push(`${where}a run must be a JSON object`);
    return undefined;
  }
  const before = errors.length;
  for (const name of Object.keys(value)) {
    if (!(RUN_FIELDS as readonly string[]).includes(name)) errors.push(`${where}unknown field ${JSON.stringify(name)}`);
  }
  const text = (name: "app_id" | "function_id"): string | undefined => {
    const v = value[name];
    if (v === undefined || v === null || v === "") errors.push(`${where}${name} is required`);
    else if (typeof v !== "string") errors.push(`${where}${name} must be a string`);
    else return v;
    return undefined;
  };
  const appId = text("app_id");
  const functionId = text("function_id");
  const runId = value["run_id"];
  if (runId === undefined || runId === null || runId === "") errors.push(`${where}run_id is required`);
  else if (typeof runId !== "string" || !ULID.test(runId)) errors.push(`${where}run_id must be a ULID`);
  const event = value["event"];
  if (event === undefined || event === null) errors.push(`${where}event is required`);
  else if (!isObject(event)) errors.push(`${where}event must be a JSON object`);
  if (errors.length > before) return undefined;
  return { appId: appId!, functionId: functionId!, runId: (runId as string).toUpperCase(), event: event as Record<string, unknown> };
}

/**
 * Reads a check body: one run, or `{ runs: [...] }`.
 *
 * @throws {@link ValidationError} listing every problem (Inngest's style: one per line).
 */
export function parseCheckBody(body: unknown): { readonly batch: boolean; readonly runs: readonly CheckRequestRun[] } {
  if (!isObject(body)) throw new ValidationError(["the body must be a JSON object"]);
  const errors: string[] = [];
  if (!("runs" in body)) {
    const run = validateRun(body, "", errors);
    if (run === undefined) throw new ValidationError(errors);
    return { batch: false, runs: [run] };
  }
  for (const name of Object.keys(body)) if (name !== "runs") errors.push(`unknown field ${JSON.stringify(name)} (a batch has only "runs")`);
  const list = body["runs"];
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_CHECK_RUNS) {
    throw new ValidationError([...errors, `runs must be an array of 1 to ${MAX_CHECK_RUNS} runs`]);
  }
  const runs: CheckRequestRun[] = [];
  list.forEach((value, i) => {
    const run = validateRun(value, `runs[${i}]: `, errors);
    if (run !== undefined) runs.push(run);
  });
  if (errors.length > 0) throw new ValidationError(errors.slice(0, 100).concat(errors.length > 100 ? [`… and ${errors.length - 100} more`] : []));
  return { batch: true, runs };
}

/** Registers `POST /v1/cancellations/check` on `app`. */
export function registerCheckRoute(app: FastifyInstance, context: CheckRouteContext): void {
  const { checker, authenticate, environmentOf } = context;
  app.post("/v1/cancellations/check", { onRequest: authenticate }, async (request) => {
    const environmentId = environmentOf(request);
    const parsed = parseCheckBody(request.body);
    await context.ready();
    const answers = parsed.runs.map((run): WireCheck & { readonly run_id: string } => {
      const cancellation = checker.check({
        id: run.runId,
        environmentId,
        appId: run.appId,
        functionId: run.functionId,
        startedAt: decodeTime(run.runId),
        event: run.event,
      });
      return { run_id: run.runId, cancelled: cancellation !== undefined, cancellation_id: cancellation?.id ?? null };
    });
    if (!parsed.batch) {
      const { cancelled, cancellation_id } = answers[0]!;
      return { cancelled, cancellation_id };
    }
    return { runs: answers };
  });
}
