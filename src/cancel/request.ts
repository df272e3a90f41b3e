/**
 * Validation of a bulk-cancellation request, shaped like Inngest's `POST /v1/cancellations` body.
 *
 * What Inngest does, and what we do differently:
 * - Inngest decodes the body with Go's `encoding/json` (keys matched case-insensitively, unknown
 *   keys ignored, `null` = absent), then runs `Validate()`, which collects every failure and joins
 *   them with a newline, in this order: `app_id is required`, `function_id is required`,
 *   `started_before is required`, `started_before must be in the past` (later than now + 5 s),
 *   `started_after must be before started_before` (equal is allowed; with `started_before`
 *   missing, `started_after` is compared with Go's zero time, 0001-01-01T00:00:00Z). An `if` that
 *   does not compile is answered `invalid expression: <cel-go style message>`. We keep these texts
 *   and this order.
 * - Inngest answers any decoding problem (a body that is not an object, a wrong JSON type, a bad
 *   timestamp) with one vague `Invalid cancellation request`. We name each problem instead, and
 *   report them all, before Inngest's own messages. Keys still match ASCII-case-insensitively.
 * - Inngest silently ignores unknown fields. We reject them, naming them: a misspelt
 *   `started_afer` would otherwise widen the window to "everything before `started_before`" and
 *   cancel far more runs than intended.
 *
 * Timestamps are RFC 3339 exactly as Go's `time.Time` accepts them: `YYYY-MM-DD`, an uppercase
 * `T`, `hh:mm:ss`, an optional fraction of 1 to 9 digits after a `.`, and a zone (`Z` or
 * `±hh:mm`); no leap second. Unlike Go, the instant itself, once its offset is applied, must lie
 * in years 0001–9999 (`timestamps.ts`): a record holding another could not be written back
 * (`started_after must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z once its
 * offset is applied, got "0000-01-01T00:00:00+00:01"`). Runs start on whole milliseconds, and the window
 * is inclusive at both ends, so a bound with a sub-millisecond fraction is normalised to the
 * whole-millisecond window that holds exactly the same runs: `started_after` is rounded up
 * (a run at millisecond M is inside iff M ≥ after), `started_before` is rounded down (M ≤ before).
 * The checks above compare the exact, nanosecond, values.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { CompileError } from "../expr/errors.js";
import { compile, type Program } from "../expr/program.js";
import { ValidationError } from "./errors.js";
import { MIN_TIMESTAMP_MS, TIMESTAMP_SPAN_TEXT, parseTimestamp, type PreciseInstant } from "./timestamps.js";

// The parser lives with the formatter (one span for both); it is part of this module's API too.
export { parseTimestamp } from "./timestamps.js";
export type { PreciseInstant, ParsedTimestamp } from "./timestamps.js";

/** A validated cancellation request. */
export interface CancellationRequest {
  /** `app_id`. */
  readonly appId: string;
  /** `function_id`. */
  readonly functionId: string;
  /** Inclusive lower bound on a run's start, epoch ms (rounded up); absent when unbounded. */
  readonly startedAfter?: number;
  /** Inclusive upper bound on a run's start, epoch ms (rounded down). */
  readonly startedBefore: number;
  /** The `if` expression; absent when every run of the window is to be cancelled. */
  readonly if?: string;
  /** `if` compiled in the `inngest` dialect. */
  readonly program?: Program;
}

/** Options of {@link validateCancellationRequest}. */
export interface ValidateOptions {
  /** The current time, epoch ms, for the "must be in the past" rule. Default `Date.now()`. */
  readonly now?: number;
}

/** How far in the future `started_before` may lie (Inngest's allowance for clock drift), ms. */
export const STARTED_BEFORE_TOLERANCE_MS = 5000;

/** Longest compile-error text echoed back in `invalid expression: …`, in characters. */
export const MAX_EXPRESSION_MESSAGE_LENGTH = 4096;

/** The fields of a request, by wire name. */
export const REQUEST_FIELDS = ["app_id", "function_id", "started_after", "started_before", "if"] as const;

type RequestField = (typeof REQUEST_FIELDS)[number];

const FIELD_SET: ReadonlySet<string> = new Set(REQUEST_FIELDS);

/** Unknown fields named in one message at most; the rest are counted. */
const MAX_NAMED_UNKNOWN_FIELDS = 10;

/** Longest field name or timestamp text echoed in a message. */
const MAX_ECHO_LENGTH = 64;

/** Epoch ms of Go's zero `time.Time`, 0001-01-01T00:00:00Z. */
const GO_ZERO_TIME_MS = MIN_TIMESTAMP_MS;

const EXAMPLE_TIMESTAMP = "2024-01-22T14:22:42.130Z";

function compareInstants(a: PreciseInstant, b: PreciseInstant): number {
  return a.ms !== b.ms ? (a.ms < b.ms ? -1 : 1) : a.nanos - b.nanos;
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "string":
      return "a string";
    case "number":
      return Number.isFinite(value) ? "a number" : `${String(value)} (not a JSON number)`;
    case "boolean":
      return "a boolean";
    case "bigint":
      return "a bigint (not a JSON value)";
    case "undefined":
      return "undefined";
    case "object": {
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto === Object.prototype || proto === null) return "an object";
      const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
      return typeof name === "string" && name !== "" ? `a ${name} (not a JSON value)` : "an object (not a JSON value)";
    }
    default:
      return `a ${typeof value} (not a JSON value)`;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function echo(text: string): string {
  const cut = text.length > MAX_ECHO_LENGTH ? `${text.slice(0, MAX_ECHO_LENGTH)}…` : text;
  return JSON.stringify(cut);
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function asciiLower(key: string): string {
  // Go matches keys with Unicode case folding; ASCII folding covers every real client and keeps
  // look-alike characters from selecting a field.
  return /^[\x20-\x7e]*$/.test(key) ? key.toLowerCase() : key;
}

/**
 * Shrinks a cel-go style compile-error text to at most {@link MAX_EXPRESSION_MESSAGE_LENGTH}
 * characters: a huge expression on one line would otherwise be echoed back whole. Short messages
 * are returned unchanged; long ones keep the first issues, each with a window of its source line
 * around the caret.
 */
export function boundCompileMessage(error: CompileError): string {
  if (error.message.length <= MAX_EXPRESSION_MESSAGE_LENGTH) return error.message;
  const lines = error.source.split("\n");
  const parts: string[] = [];
  let length = 0;
  let shown = 0;
  for (const issue of error.issues) {
    const header = `ERROR: <input>:${issue.line}:${issue.column}: ${truncate(issue.message, 512)}`;
    let part = header;
    if (issue.offset >= 0) {
      const codePoints = Array.from((lines[issue.line - 1] ?? "").replaceAll("\t", " "));
      const at = issue.column - 1;
      const from = Math.max(0, at - 60);
      const to = Math.min(codePoints.length, at + 60);
      const prefix = from > 0 ? "…" : "";
      const suffix = to < codePoints.length ? "…" : "";
      let indicator = prefix === "" ? "" : ".";
      for (let i = from; i < at && i < codePoints.length; i++) indicator += codePoints[i]!.codePointAt(0)! > 0x7f ? "\uff0e" : ".";
      indicator += (codePoints[at]?.codePointAt(0) ?? 0) > 0x7f ? "\uff3e" : "^";
      part += `\n | ${prefix}${codePoints.slice(from, to).join("")}${suffix}\n | ${indicator}`;
    }
    if (length + part.length + 1 > MAX_EXPRESSION_MESSAGE_LENGTH - 64) break;
    parts.push(part);
    length += part.length + 1;
    shown++;
  }
  if (shown < error.issues.length) parts.push(`${error.issues.length - shown} more errors were truncated`);
  return parts.join("\n");
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * Validates a cancellation request body (the parsed JSON value) as Inngest does, with clearer
 * messages for what Inngest reports only as `Invalid cancellation request` (see the module notes),
 * and compiles its `if` in the `inngest` dialect.
 *
 * @param body - The parsed request body.
 * @param options - See {@link ValidateOptions}.
 * @returns The typed request, bounds normalised to whole milliseconds.
 * @throws {@link ValidationError} listing every failure: first the shape problems (not an object,
 * unknown or repeated fields, wrong JSON types, unparseable timestamps), then Inngest's messages
 * in Inngest's order, then `invalid expression: …`.
 */
export function validateCancellationRequest(body: unknown, options: ValidateOptions = {}): CancellationRequest {
  const now = options.now ?? Date.now();
  if (typeof now !== "number" || !Number.isFinite(now)) throw new TypeError("validateCancellationRequest: options.now must be a finite number of epoch ms");
  if (!isPlainObject(body)) throw new ValidationError([`request body must be a JSON object, got ${describeValue(body)}`]);

  const shape: string[] = [];
  const values = new Map<RequestField, unknown>();
  const seenAs = new Map<RequestField, string[]>();
  const unknown: string[] = [];
  let unknownCount = 0;
  for (const key of Object.keys(body)) {
    const descriptor = Object.getOwnPropertyDescriptor(body, key)!;
    const value: unknown = "value" in descriptor ? descriptor.value : undefined;
    if (!("value" in descriptor)) {
      shape.push(`field ${echo(key)} must be a plain value, not an accessor`);
      continue;
    }
    // JSON.stringify drops undefined members: treat them as absent.
    if (value === undefined) continue;
    const folded = asciiLower(key);
    if (!FIELD_SET.has(folded)) {
      unknownCount++;
      if (unknown.length < MAX_NAMED_UNKNOWN_FIELDS) unknown.push(echo(key));
      continue;
    }
    const field = folded as RequestField;
    const spellings = seenAs.get(field);
    if (spellings === undefined) seenAs.set(field, [key]);
    else spellings.push(key);
    values.set(field, value);
  }
  if (unknownCount > 0) {
    const more = unknownCount > unknown.length ? ` and ${unknownCount - unknown.length} more` : "";
    shape.push(
      `unknown field${unknownCount > 1 ? "s" : ""} ${unknown.join(", ")}${more} (accepted: ${REQUEST_FIELDS.join(", ")})`,
    );
  }
  for (const [field, spellings] of seenAs) {
    if (spellings.length > 1) shape.push(`${field} given more than once (as ${spellings.map(echo).join(", ")})`);
  }

  // Each field is undefined when absent or null (Go's zero value), or `invalid` when its shape was wrong.
  const invalid = Symbol("invalid");
  const stringField = (field: "app_id" | "function_id" | "if"): string | undefined | typeof invalid => {
    const value = values.get(field);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") {
      shape.push(`${field} must be a string, got ${describeValue(value)}`);
      return invalid;
    }
    if (LONE_SURROGATE.test(value)) {
      shape.push(`${field} is not well-formed Unicode (it holds a lone surrogate)`);
      return invalid;
    }
    return value;
  };
  const timeField = (field: "started_after" | "started_before"): PreciseInstant | undefined | typeof invalid => {
    const value = values.get(field);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") {
      shape.push(`${field} must be an RFC 3339 timestamp string, got ${describeValue(value)}`);
      return invalid;
    }
    const parsed = parseTimestamp(value);
    if (!parsed.ok && parsed.outOfRange === true) {
      shape.push(`${field} must be ${TIMESTAMP_SPAN_TEXT} once its offset is applied, got ${echo(value)}`);
      return invalid;
    }
    if (!parsed.ok) {
      shape.push(`${field} is not an RFC 3339 timestamp: ${echo(value)} (${parsed.reason}; for example ${EXAMPLE_TIMESTAMP})`);
      return invalid;
    }
    return parsed.instant;
  };
  const appId = stringField("app_id");
  const functionId = stringField("function_id");
  const startedAfter = timeField("started_after");
  const startedBefore = timeField("started_before");
  const ifSource = stringField("if");

  const errors = shape;
  if (appId === undefined || appId === "") errors.push("app_id is required");
  if (functionId === undefined || functionId === "") errors.push("function_id is required");
  if (startedBefore === undefined) errors.push("started_before is required");
  const limit: PreciseInstant = { ms: now + STARTED_BEFORE_TOLERANCE_MS, nanos: 0 };
  if (startedBefore !== undefined && startedBefore !== invalid && compareInstants(startedBefore, limit) > 0) {
    errors.push("started_before must be in the past");
  }
  if (startedAfter !== undefined && startedAfter !== invalid && startedBefore !== invalid) {
    const before = startedBefore ?? { ms: GO_ZERO_TIME_MS, nanos: 0 };
    if (compareInstants(startedAfter, before) > 0) errors.push("started_after must be before started_before");
  }
  let program: Program | undefined;
  if (typeof ifSource === "string") {
    try {
      // An `if` whose worst case per run exceeds the cost budget is refused here, before any job exists.
      program = compileIf(ifSource);
    } catch (error) {
      if (error instanceof CompileError) errors.push(`invalid expression: ${boundCompileMessage(error)}`);
      else if (error instanceof RangeError) errors.push("invalid expression: the expression is nested too deeply");
      else throw error;
    }
  }
  if (errors.length > 0) throw new ValidationError(errors);

  const request: {
    appId: string;
    functionId: string;
    startedAfter?: number;
    startedBefore: number;
    if?: string;
    program?: Program;
  } = {
    appId: appId as string,
    functionId: functionId as string,
    startedBefore: (startedBefore as PreciseInstant).ms,
  };
  if (startedAfter !== undefined) {
    const after = startedAfter as PreciseInstant;
    request.startedAfter = after.nanos > 0 ? after.ms + 1 : after.ms;
  }
  if (typeof ifSource === "string") {
    request.if = ifSource;
    request.program = program!;
  }
  return Object.freeze(request);
}

/**
 * Compiles an `if` expression as a cancellation request does (dialect `inngest`, its limits, an
 * expression whose estimated worst case exceeds the cost budget refused): the one place that says
 * how, so that an evaluator thread (`service/eval-pool.ts`) compiles the very program the request
 * was validated with.
 *
 * @throws CompileError for an expression that does not compile or is too costly.
 */
export function compileIf(source: string): Program {
  return compile(source, { dialect: "inngest", refuseCostly: true });
}

/**
 * Hash of a validated request, for idempotency keys: SHA-256 (hex) of its normalised form (app,
 * function, whole-millisecond bounds, expression), so bodies that select the same runs the same
 * way (`…T15:00:00+01:00` and `…T14:00:00Z`, say) hash alike.
 */
export function requestHash(request: CancellationRequest): string {
  const normal = JSON.stringify([request.appId, request.functionId, request.startedAfter ?? null, request.startedBefore, request.if ?? null]);
  return createHash("sha256").update(normal).digest("hex");
}
