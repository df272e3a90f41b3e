/**
 * The input checks every store applies before it touches its data: each public argument of the
 * {@link RunStore} contract is validated (and, where the contract says so, normalised) here, so
 * that bad input gets a typed {@link StoreError} and never leaves a half-written batch behind.
 * `BaseRunStore` calls them; a store author does not.
 *
 * @module
 */
import {
  CANCELLATION_STATUSES,
  DEFAULT_ENVIRONMENT_ID,
  DEFAULT_LIST_LIMIT,
  MAX_EVENT_DEPTH,
  MAX_ID_LENGTH,
  MAX_LEASE_MS,
  MAX_LIST_LIMIT,
  MAX_SHARD_COUNT,
  MAX_WORKER_ID_LENGTH,
  RUN_STATUSES,
  StoreError,
  type BoundedScanQuery,
  type CancellationRecord,
  type CancellationSettings,
  type CancellationStatus,
  type Checkpoint,
  type CommitBatch,
  type Cursor,
  type OutcomeCounts,
  type RunEvent,
  type RunRecord,
  type RunStatus,
  type ScanQuery,
  type ShardCommit,
  type ShardStatus,
  type ShardWindow,
  type StoreErrorCode,
} from "./types.js";
import { JSON_KINDS, MAX_PREDICATE_SIZE } from "./predicate.js";

/**
 * Whether `value` can serve as a run or cancellation id: 1 to {@link MAX_ID_LENGTH} printable ASCII
 * characters without spaces. ASCII only, so that every store (JS `<`, SQLite `BINARY`, PostgreSQL
 * `COLLATE "C"`) orders ids the same way; ULIDs, UUIDs and most foreign ids qualify.
 */
export function isValidId(value: unknown): value is string {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_ID_LENGTH) return false;
  // A loop beats the regular expression by a wide margin on the bulk-insert path.
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x21 || code > 0x7e) return false;
  }
  return true;
}

const stringIsWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function isWellFormedString(value: string): boolean {
  return stringIsWellFormed !== undefined ? stringIsWellFormed.call(value) : !LONE_SURROGATE.test(value);
}

/** Whether `value` is a plain object (not null, not an array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A short description of a value for an error message. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") {
    const ctor = (value as { constructor?: { name?: unknown } }).constructor;
    return typeof ctor?.name === "string" && ctor.name !== "" ? `a ${ctor.name}` : "an object";
  }
  if (typeof value === "number") return Number.isNaN(value) ? "NaN" : String(value);
  if (typeof value === "string") return "a string";
  return typeof value === "bigint" ? "a bigint" : `${typeof value === "undefined" ? "undefined" : `a ${typeof value}`}`;
}

function formatPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) out += out === "" ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

class JsonShapeError extends Error {}

/**
 * Walks a JSON value: rejects what JSON cannot carry faithfully and, when `copy` is set, returns a
 * deep-frozen copy. Object properties whose value is `undefined` are dropped, as `JSON.stringify`
 * does; `-0` becomes `0`.
 */
function walkJson(
  value: unknown,
  path: (string | number)[],
  ancestors: object[],
  copy: boolean,
): unknown {
  switch (typeof value) {
    case "string":
      if (!isWellFormedString(value)) throw new JsonShapeError(`${formatPath(path)}: string holds a lone UTF-16 surrogate`);
      return value;
    case "number":
      if (!Number.isFinite(value)) throw new JsonShapeError(`${formatPath(path)}: ${describeValue(value)} is not a JSON number`);
      return value === 0 ? 0 : value;
    case "boolean":
      return value;
    case "object":
      break;
    default:
      throw new JsonShapeError(`${formatPath(path)}: ${describeValue(value)} is not a JSON value`);
  }
  if (value === null) return null;
  if (ancestors.includes(value)) throw new JsonShapeError(`${formatPath(path)}: cyclic reference`);
  if (ancestors.length >= MAX_EVENT_DEPTH) {
    throw new JsonShapeError(`${formatPath(path)}: nested deeper than ${MAX_EVENT_DEPTH} levels`);
  }
  ancestors.push(value);
  let result: unknown;
  if (Array.isArray(value)) {
    const out: unknown[] | undefined = copy ? new Array<unknown>(value.length) : undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item === undefined) throw new JsonShapeError(`${formatPath([...path, i])}: undefined is not a JSON value`);
      path.push(i);
      const walked = walkJson(item, path, ancestors, copy);
      path.pop();
      if (out !== undefined) out[i] = walked;
    }
    result = out === undefined ? value : Object.freeze(out);
  } else if (isPlainObject(value)) {
    const out: Record<string, unknown> | undefined = copy ? {} : undefined;
    // for-in allocates no key array; the own-property check skips anything inherited.
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      const item = value[key];
      if (item === undefined) continue;
      if (!isWellFormedString(key)) throw new JsonShapeError(`${formatPath(path)}: key holds a lone UTF-16 surrogate`);
      path.push(key);
      const walked = walkJson(item, path, ancestors, copy);
      path.pop();
      if (out !== undefined) {
        // A plain assignment of "__proto__" would set the prototype instead of adding the key.
        if (key === "__proto__") Object.defineProperty(out, key, { value: walked, enumerable: true, writable: true, configurable: true });
        else out[key] = walked;
      }
    }
    result = out === undefined ? value : Object.freeze(out);
  } else {
    throw new JsonShapeError(`${formatPath(path)}: ${describeValue(value)} is not a JSON value (plain objects and arrays only)`);
  }
  ancestors.pop();
  return result;
}

const SCRATCH_ANCESTORS: object[] = [];
const SCRATCH_PATH: (string | number)[] = [];
const RUN_KEYS = new Set(["id", "environmentId", "appId", "functionId", "startedAt", "status", "event", "cancellationId"]);
const EVENT_KEYS = new Set(["name", "data", "id", "ts", "user"]);
const RUN_STATUS_SET: ReadonlySet<string> = new Set(RUN_STATUSES);

/** Options of {@link normalizeRunRecord}. */
export interface NormalizeRunOptions {
  /**
   * Return a deep-frozen copy (what an in-memory store keeps). When false the returned record
   * shares `event` with the input, for stores that serialise it at once. Default `true`.
   */
  readonly copy?: boolean;
  /** How the run is named in error messages. Default `"run"`. */
  readonly label?: string;
}

/**
 * Checks that `value` is a valid {@link RunRecord} and returns it normalised: `environmentId` is
 * filled in with {@link DEFAULT_ENVIRONMENT_ID} when absent, optional fields set to `undefined` are
 * dropped. Rules: ids are {@link isValidId}; `appId`, `functionId`, `environmentId` are non-empty
 * strings; `startedAt` is a safe integer (epoch ms); `status` is a {@link RunStatus}; `event` has a
 * string `name`, a plain-object `data`, optional string `id`, finite `ts`, plain-object `user`, and
 * holds only JSON values (finite numbers, well-formed strings, booleans, null, plain objects,
 * arrays without holes) nested at most {@link MAX_EVENT_DEPTH} deep. Unknown fields are rejected.
 *
 * @throws {@link StoreError} with code `invalid_run`, naming the offending field.
 */
export function normalizeRunRecord(value: unknown, options: NormalizeRunOptions = {}): RunRecord {
  const copy = options.copy ?? true;
  const label = options.label ?? "run";
  const fail = (message: string): never => {
    const id = isPlainObject(value) && typeof value["id"] === "string" ? ` (id ${JSON.stringify(value["id"].slice(0, MAX_ID_LENGTH))})` : "";
    throw new StoreError("invalid_run", `${label}${id}: ${message}`);
  };
  if (!isPlainObject(value)) return fail(`expected a run object, got ${describeValue(value)}`);
  for (const key in value) {
    if (!RUN_KEYS.has(key) && Object.hasOwn(value, key) && value[key] !== undefined) fail(`unknown field ${JSON.stringify(key)}`);
  }
  const { id, environmentId, appId, functionId, startedAt, status, event, cancellationId } = value;
  if (!isValidId(id)) fail(`id must be 1 to ${MAX_ID_LENGTH} printable ASCII characters, got ${describeValue(id)}`);
  if (environmentId !== undefined && !isNonEmptyString(environmentId)) fail(`environmentId must be a non-empty string, got ${describeValue(environmentId)}`);
  if (!isNonEmptyString(appId)) fail(`appId must be a non-empty string, got ${describeValue(appId)}`);
  if (!isNonEmptyString(functionId)) fail(`functionId must be a non-empty string, got ${describeValue(functionId)}`);
  if (typeof startedAt !== "number" || !Number.isSafeInteger(startedAt)) {
    fail(`startedAt must be an integer number of epoch milliseconds, got ${describeValue(startedAt)}`);
  }
  if (typeof status !== "string" || !RUN_STATUS_SET.has(status)) {
    fail(`status must be one of ${RUN_STATUSES.join(", ")}, got ${typeof status === "string" ? JSON.stringify(status) : describeValue(status)}`);
  }
  if (cancellationId !== undefined && !isValidId(cancellationId)) fail(`cancellationId must be a valid id, got ${describeValue(cancellationId)}`);
  if (!isPlainObject(event)) return fail(`event must be an object, got ${describeValue(event)}`);
  for (const key in event) {
    if (!EVENT_KEYS.has(key) && Object.hasOwn(event, key) && event[key] !== undefined) fail(`event: unknown field ${JSON.stringify(key)}`);
  }
  const { name, data, id: eventId, ts, user } = event;
  if (typeof name !== "string" || !isWellFormedString(name)) fail(`event.name must be a string, got ${describeValue(name)}`);
  if (!isPlainObject(data)) fail(`event.data must be an object, got ${describeValue(data)}`);
  if (eventId !== undefined && (typeof eventId !== "string" || !isWellFormedString(eventId))) fail(`event.id must be a string, got ${describeValue(eventId)}`);
  if (ts !== undefined && (typeof ts !== "number" || !Number.isFinite(ts))) fail(`event.ts must be a finite number, got ${describeValue(ts)}`);
  if (user !== undefined && !isPlainObject(user)) fail(`event.user must be an object, got ${describeValue(user)}`);

  let eventOut: RunEvent;
  try {
    // Shared scratch arrays: one walk runs at a time, and each starts by resetting them.
    const ancestors = SCRATCH_ANCESTORS;
    const path = SCRATCH_PATH;
    ancestors.length = 0;
    ancestors.push(event);
    path.length = 0;
    path.push("event", "data");
    const walkedData = walkJson(data, path, ancestors, copy) as RunEvent["data"];
    let walkedUser: RunEvent["user"];
    if (user !== undefined) {
      path.length = 0;
      path.push("event", "user");
      walkedUser = walkJson(user, path, ancestors, copy) as RunEvent["user"];
    }
    if (!copy) {
      eventOut = event as unknown as RunEvent;
    } else {
      const built: { name: string; data: RunEvent["data"]; id?: string; ts?: number; user?: Readonly<Record<string, unknown>> } = {
        name: name as string,
        data: walkedData,
      };
      if (eventId !== undefined) built.id = eventId as string;
      if (ts !== undefined) built.ts = (ts as number) === 0 ? 0 : (ts as number);
      if (walkedUser !== undefined) built.user = walkedUser;
      eventOut = Object.freeze(built) as RunEvent;
    }
  } catch (error) {
    if (error instanceof JsonShapeError) return fail(error.message);
    if (error instanceof RangeError) return fail("event nested too deeply");
    throw error;
  }
  const record: {
    id: string;
    environmentId: string;
    appId: string;
    functionId: string;
    startedAt: number;
    status: RunStatus;
    event: RunEvent;
    cancellationId?: string;
  } = {
    id: id as string,
    environmentId: (environmentId as string | undefined) ?? DEFAULT_ENVIRONMENT_ID,
    appId: appId as string,
    functionId: functionId as string,
    startedAt: startedAt as number,
    status: status as RunStatus,
    event: eventOut,
  };
  if (cancellationId !== undefined) record.cancellationId = cancellationId as string;
  return copy ? Object.freeze(record) : record;
}

/**
 * Checks the argument of `insertRuns`: an array of valid runs (see {@link normalizeRunRecord}),
 * each named `runs[i]` in errors. Every run is checked before the caller writes any.
 *
 * @throws {@link StoreError} with code `invalid_run`.
 */
export function normalizeRuns(value: unknown, options: { readonly copy: boolean }): RunRecord[] {
  if (!Array.isArray(value)) throw new StoreError("invalid_run", "runs must be an array of run records");
  const records = new Array<RunRecord>(value.length);
  for (let i = 0; i < value.length; i++) records[i] = normalizeRunRecord(value[i], { copy: options.copy, label: `runs[${i}]` });
  return records;
}

/** Whether `value` is a non-empty, well-formed string (environment, app and function ids). */
export function isNonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && isWellFormedString(value);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

const COUNT_KEYS = ["scanned", "cancelled", "skipped_terminal", "not_matched", "expression_error", "non_boolean"] as const;
const CANCELLATION_STATUS_SET: ReadonlySet<string> = new Set(CANCELLATION_STATUSES);

function checkCursor(value: unknown, where: string, fail: (message: string) => never): Cursor | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) return fail(`${where} must be a cursor object, got ${describeValue(value)}`);
  const { startedAt, id } = value;
  if (typeof startedAt !== "number" || !Number.isFinite(startedAt)) fail(`${where}.startedAt must be a finite number, got ${describeValue(startedAt)}`);
  if (!isValidId(id)) fail(`${where}.id must be a valid id, got ${describeValue(id)}`);
  return Object.freeze({ startedAt: startedAt as number, id: id as string });
}

function checkCounts(value: unknown, where: string, fail: (message: string) => never): OutcomeCounts {
  if (!isPlainObject(value)) return fail(`${where} must be an object, got ${describeValue(value)}`);
  const out: Record<string, number> = {};
  for (const key of COUNT_KEYS) {
    const n = value[key];
    if (!isCount(n)) fail(`${where}.${key} must be a non-negative integer, got ${describeValue(n)}`);
    out[key] = n as number;
  }
  return Object.freeze(out) as unknown as OutcomeCounts;
}

function checkCancellationStatus(value: unknown, where: string, fail: (message: string) => never): CancellationStatus {
  if (typeof value !== "string" || !CANCELLATION_STATUS_SET.has(value)) {
    fail(`${where} must be one of ${CANCELLATION_STATUSES.join(", ")}, got ${typeof value === "string" ? JSON.stringify(value) : describeValue(value)}`);
  }
  return value as CancellationStatus;
}

/**
 * Checks a {@link Checkpoint}; returns a frozen copy.
 *
 * @throws {@link StoreError} with code `invalid_batch`.
 */
export function normalizeCheckpoint(value: unknown): Checkpoint {
  const fail = (message: string): never => {
    throw new StoreError("invalid_batch", `checkpoint: ${message}`);
  };
  if (!isPlainObject(value)) return fail(`expected an object, got ${describeValue(value)}`);
  const cursor = checkCursor(value["cursor"], "cursor", fail);
  const counts = checkCounts(value["counts"], "counts", fail);
  const status = checkCancellationStatus(value["status"], "status", fail);
  return Object.freeze(cursor === undefined ? { counts, status } : { cursor, counts, status });
}

/**
 * Checks a {@link CommitBatch}; returns a copy whose `runIds` has no duplicates.
 *
 * @throws {@link StoreError} with code `invalid_batch`.
 */
export function normalizeCommitBatch(value: unknown): CommitBatch {
  const fail = (message: string): never => {
    throw new StoreError("invalid_batch", `commit batch: ${message}`);
  };
  if (!isPlainObject(value)) return fail(`expected an object, got ${describeValue(value)}`);
  const { cancellationId, runIds, checkpoint } = value;
  if (!isValidId(cancellationId)) fail(`cancellationId must be a valid id, got ${describeValue(cancellationId)}`);
  if (!Array.isArray(runIds)) return fail(`runIds must be an array, got ${describeValue(runIds)}`);
  const unique = new Set<string>();
  for (let i = 0; i < runIds.length; i++) {
    const runId: unknown = runIds[i];
    if (!isValidId(runId)) fail(`runIds[${i}] must be a valid id, got ${describeValue(runId)}`);
    unique.add(runId as string);
  }
  return { cancellationId: cancellationId as string, runIds: [...unique], checkpoint: normalizeCheckpoint(checkpoint) };
}

function checkSettings(value: unknown, where: string, fail: (message: string) => never): CancellationSettings {
  if (!isPlainObject(value)) return fail(`${where} must be an object, got ${describeValue(value)}`);
  const { batchSize, ratePerSecond, maxRuns, paused } = value;
  if (typeof batchSize !== "number" || !Number.isSafeInteger(batchSize) || batchSize < 1) {
    fail(`${where}.batchSize must be a positive integer, got ${describeValue(batchSize)}`);
  }
  if (ratePerSecond !== undefined && (typeof ratePerSecond !== "number" || !Number.isFinite(ratePerSecond) || ratePerSecond < 0)) {
    fail(`${where}.ratePerSecond must be a finite number, 0 or more (absent for no limit), got ${describeValue(ratePerSecond)}`);
  }
  if (maxRuns !== undefined && !isCount(maxRuns)) fail(`${where}.maxRuns must be a non-negative integer (absent for no cap), got ${describeValue(maxRuns)}`);
  if (paused !== undefined && typeof paused !== "boolean") fail(`${where}.paused must be a boolean (absent: not paused), got ${describeValue(paused)}`);
  const out: { -readonly [K in keyof CancellationSettings]: CancellationSettings[K] } = { batchSize: batchSize as number };
  if (ratePerSecond !== undefined) out.ratePerSecond = ratePerSecond as number;
  if (maxRuns !== undefined) out.maxRuns = maxRuns as number;
  // Only a pause is kept: `paused: false` is the same as none, so a record reads back the same.
  if (paused === true) out.paused = true;
  return Object.freeze(out);
}

/**
 * Checks {@link CancellationSettings}; returns a frozen copy without `undefined` fields.
 *
 * @throws {@link StoreError} with code `invalid_cancellation`.
 */
export function normalizeCancellationSettings(value: unknown): CancellationSettings {
  return checkSettings(value, "settings", (message) => {
    throw new StoreError("invalid_cancellation", `cancellation settings: ${message}`);
  });
}

/**
 * Checks a {@link CancellationRecord}; returns a frozen copy without `undefined` optional fields.
 *
 * @throws {@link StoreError} with code `invalid_cancellation`.
 */
export function normalizeCancellationRecord(value: unknown): CancellationRecord {
  const fail = (message: string): never => {
    throw new StoreError("invalid_cancellation", `cancellation record: ${message}`);
  };
  if (!isPlainObject(value)) return fail(`expected an object, got ${describeValue(value)}`);
  const v = value;
  if (!isValidId(v["id"])) fail(`id must be a valid id, got ${describeValue(v["id"])}`);
  for (const key of ["environmentId", "appId", "functionId"] as const) {
    if (!isNonEmptyString(v[key])) fail(`${key} must be a non-empty string, got ${describeValue(v[key])}`);
  }
  for (const key of ["startedBefore", "createdAt", "updatedAt"] as const) {
    if (typeof v[key] !== "number" || !Number.isFinite(v[key])) fail(`${key} must be a finite number, got ${describeValue(v[key])}`);
  }
  if (v["startedAfter"] !== undefined && (typeof v["startedAfter"] !== "number" || !Number.isFinite(v["startedAfter"]))) {
    fail(`startedAfter must be a finite number, got ${describeValue(v["startedAfter"])}`);
  }
  if (v["if"] !== undefined && (typeof v["if"] !== "string" || !isWellFormedString(v["if"]))) fail(`if must be a string, got ${describeValue(v["if"])}`);
  const status = checkCancellationStatus(v["status"], "status", fail);
  const counts = checkCounts(v["counts"], "counts", fail);
  const cursor = checkCursor(v["cursor"], "cursor", fail);
  const settings = v["settings"] === undefined ? undefined : checkSettings(v["settings"], "settings", fail);
  const out: {
    -readonly [K in keyof CancellationRecord]: CancellationRecord[K];
  } = {
    id: v["id"] as string,
    environmentId: v["environmentId"] as string,
    appId: v["appId"] as string,
    functionId: v["functionId"] as string,
    startedBefore: v["startedBefore"] as number,
    createdAt: v["createdAt"] as number,
    status,
    counts,
    updatedAt: v["updatedAt"] as number,
  };
  if (v["startedAfter"] !== undefined) out.startedAfter = v["startedAfter"] as number;
  if (v["if"] !== undefined) out.if = v["if"] as string;
  if (cursor !== undefined) out.cursor = cursor;
  if (settings !== undefined) out.settings = settings;
  return Object.freeze(out);
}

/** A scan query once checked: `environmentId` filled in, `after` and `until` valid cursors. */
export type CheckedScanQuery = BoundedScanQuery & { readonly environmentId: string };

/**
 * Checks a {@link ScanQuery} (also its optional `until`, which only a {@link ShardedRunStore}
 * honours). Returns it with `environmentId` filled in.
 *
 * @throws {@link StoreError} with code `invalid_query`.
 */
export function normalizeScanQuery(value: unknown): CheckedScanQuery {
  const fail = (message: string): never => {
    throw new StoreError("invalid_query", `scan query: ${message}`);
  };
  if (!isPlainObject(value)) return fail(`expected an object, got ${describeValue(value)}`);
  const q = value as unknown as BoundedScanQuery;
  if (q.environmentId !== undefined && !isNonEmptyString(q.environmentId)) fail(`environmentId must be a non-empty string, got ${describeValue(q.environmentId)}`);
  if (!isNonEmptyString(q.appId)) fail(`appId must be a non-empty string, got ${describeValue(q.appId)}`);
  if (!isNonEmptyString(q.functionId)) fail(`functionId must be a non-empty string, got ${describeValue(q.functionId)}`);
  if (typeof q.startedBefore !== "number" || Number.isNaN(q.startedBefore)) fail(`startedBefore must be a number, got ${describeValue(q.startedBefore)}`);
  if (q.startedAfter !== undefined && (typeof q.startedAfter !== "number" || Number.isNaN(q.startedAfter))) {
    fail(`startedAfter must be a number, got ${describeValue(q.startedAfter)}`);
  }
  if (!Number.isSafeInteger(q.limit) || q.limit < 1) fail(`limit must be a positive integer, got ${describeValue(q.limit)}`);
  checkCursor(q.after, "after", fail);
  checkCursor(q.until, "until", fail);
  if (q.pushdown !== undefined) {
    if (!isPlainObject(q.pushdown)) fail(`pushdown must be an object, got ${describeValue(q.pushdown)}`);
    checkPredicate(q.pushdown.predicate, fail);
  }
  return q.environmentId === undefined ? { ...q, environmentId: DEFAULT_ENVIRONMENT_ID } : (q as CheckedScanQuery);
}

const PREDICATE_ATOMS: ReadonlySet<string> = new Set(["kind", "num", "numIn", "str", "strIn", "prefix", "suffix", "contains", "len", "elem"]);
const CMP_OPS: ReadonlySet<string> = new Set(["==", "!=", "<", "<=", ">", ">="]);
const JSON_KIND_SET: ReadonlySet<string> = new Set(JSON_KINDS);
const LEN_OF: ReadonlySet<string> = new Set(["string", "array", "object"]);

/** A string a predicate may carry: well-formed, without NUL (PostgreSQL text cannot bind one). */
function isPredicateString(value: unknown): value is string {
  return typeof value === "string" && !value.includes("\u0000") && isWellFormedString(value);
}

function isPredicateNumber(value: unknown): value is number {
  return typeof value === "number" && !Number.isNaN(value);
}

/**
 * Checks a pushdown predicate (`predicate.ts`): its node kinds, atom fields and values, and at
 * most {@link MAX_PREDICATE_SIZE} nodes with shared subtrees unfolded (which also bounds its
 * depth). The `size` fields the constructors set are not trusted, so not required.
 */
function checkPredicate(value: unknown, fail: (message: string) => never): void {
  let nodes = 0;
  const visit = (p: unknown, where: string): void => {
    if (++nodes > MAX_PREDICATE_SIZE) fail(`pushdown.predicate has more than ${MAX_PREDICATE_SIZE} nodes`);
    if (!isPlainObject(p)) return fail(`${where} must be a predicate object, got ${describeValue(p)}`);
    switch (p["k"]) {
      case "true":
      case "false":
      case "unknown":
        return;
      case "atom":
      case "not":
        return checkAtom(p["atom"], `${where}.atom`, fail);
      case "and":
      case "or": {
        const xs = p["xs"];
        if (!Array.isArray(xs) || xs.length === 0) return fail(`${where}.xs must be a non-empty array`);
        for (let i = 0; i < xs.length; i++) visit(xs[i], `${where}.xs[${i}]`);
        return;
      }
      default:
        return fail(`${where}.k must be one of true, false, unknown, atom, not, and, or, got ${describeValue(p["k"])}`);
    }
  };
  visit(value, "pushdown.predicate");
}

function checkAtom(a: unknown, where: string, fail: (message: string) => never): void {
  if (!isPlainObject(a)) return fail(`${where} must be an atom object, got ${describeValue(a)}`);
  const k = a["k"];
  if (typeof k !== "string" || !PREDICATE_ATOMS.has(k)) return fail(`${where}.k is not an atom kind, got ${describeValue(k)}`);
  const path = a["path"];
  if (!Array.isArray(path) || !path.every(isPredicateString)) fail(`${where}.path must be an array of strings without NUL`);
  const { op, value, values } = a;
  if ((k === "num" || k === "str" || k === "len") && (typeof op !== "string" || !CMP_OPS.has(op))) fail(`${where}.op must be a comparison operator`);
  switch (k) {
    case "kind": {
      const kinds = a["kinds"];
      if (!Array.isArray(kinds) || kinds.length === 0 || kinds.length >= JSON_KINDS.length || new Set(kinds).size !== kinds.length || !kinds.every((x) => JSON_KIND_SET.has(x as string))) {
        fail(`${where}.kinds must name distinct JSON kinds, some but not all`);
      }
      return;
    }
    case "num":
      if (!isPredicateNumber(value)) fail(`${where}.value must be a number other than NaN`);
      return;
    case "len":
      if (typeof a["of"] !== "string" || !LEN_OF.has(a["of"])) fail(`${where}.of must be string, array or object`);
      if (!isPredicateNumber(value)) fail(`${where}.value must be a number other than NaN`);
      return;
    case "numIn":
      if (!Array.isArray(values) || values.length === 0 || !values.every(isPredicateNumber)) fail(`${where}.values must be a non-empty array of numbers other than NaN`);
      return;
    case "str":
      if (!isPredicateString(value)) fail(`${where}.value must be a string without NUL`);
      return;
    case "strIn":
      if (!Array.isArray(values) || values.length === 0 || !values.every(isPredicateString)) fail(`${where}.values must be a non-empty array of strings without NUL`);
      return;
    case "elem":
      if (!(value === null || typeof value === "boolean" || isPredicateNumber(value) || isPredicateString(value))) {
        fail(`${where}.value must be null, a boolean, a number or a string`);
      }
      return;
    default:
      // prefix, suffix, contains
      if (!isPredicateString(value) || value === "") fail(`${where}.value must be a non-empty string without NUL`);
  }
}

/**
 * Checks a list of run ids (for `setRunStatus`); returns them without duplicates.
 *
 * @throws {@link StoreError} with code `invalid_query`.
 */
export function normalizeRunIds(value: unknown): string[] {
  if (!Array.isArray(value)) throw new StoreError("invalid_query", `run ids must be an array, got ${describeValue(value)}`);
  const unique = new Set<string>();
  for (let i = 0; i < value.length; i++) {
    const id: unknown = value[i];
    if (!isValidId(id)) throw new StoreError("invalid_query", `run ids[${i}] must be a valid id, got ${describeValue(id)}`);
    unique.add(id);
  }
  return [...unique];
}

/**
 * Checks a run status argument.
 *
 * @throws {@link StoreError} with code `invalid_query`.
 */
export function checkRunStatus(value: unknown): RunStatus {
  if (typeof value !== "string" || !RUN_STATUS_SET.has(value)) {
    throw new StoreError("invalid_query", `status must be one of ${RUN_STATUSES.join(", ")}, got ${typeof value === "string" ? JSON.stringify(value) : describeValue(value)}`);
  }
  return value as RunStatus;
}

/**
 * Checks the idempotency argument of `createCancellation`.
 *
 * @throws {@link StoreError} with code `invalid_cancellation`.
 */
export function checkIdempotency(
  idempotency: unknown,
): asserts idempotency is { readonly key: string; readonly requestHash: string } {
  const value = idempotency as { key?: unknown; requestHash?: unknown } | null;
  if (
    typeof value !== "object" ||
    value === null ||
    !isNonEmptyString(value.key) ||
    typeof value.requestHash !== "string"
  ) {
    throw new StoreError("invalid_cancellation", "idempotency must be { key: non-empty string, requestHash: string }");
  }
}

/**
 * Checks `listCancellations` options; returns the effective limit ({@link DEFAULT_LIST_LIMIT} by
 * default, at most {@link MAX_LIST_LIMIT}).
 *
 * @throws {@link StoreError} with code `invalid_query`.
 */
export function checkListOptions(options: unknown): number {
  if (!isPlainObject(options)) throw new StoreError("invalid_query", `list options must be an object, got ${describeValue(options)}`);
  const { limit = DEFAULT_LIST_LIMIT, after, environmentId } = options;
  if (typeof limit !== "number" || !Number.isSafeInteger(limit) || limit < 1) {
    throw new StoreError("invalid_query", `limit must be a positive integer, got ${describeValue(limit)}`);
  }
  if (after !== undefined && !isValidId(after)) throw new StoreError("invalid_query", `after must be a cancellation id, got ${describeValue(after)}`);
  if (environmentId !== undefined && !isNonEmptyString(environmentId)) {
    throw new StoreError("invalid_query", `environmentId must be a non-empty string, got ${describeValue(environmentId)}`);
  }
  return Math.min(limit, MAX_LIST_LIMIT);
}

/**
 * Checks the options of `listFunctions` and answers the environment id (default `'default'`).
 *
 * @throws {@link StoreError} with code `invalid_query`.
 */
export function checkEnvironmentOption(options: unknown): string {
  if (!isPlainObject(options)) throw new StoreError("invalid_query", `options must be an object, got ${describeValue(options)}`);
  const { environmentId } = options;
  if (environmentId !== undefined && !isNonEmptyString(environmentId)) {
    throw new StoreError("invalid_query", `environmentId must be a non-empty string, got ${describeValue(environmentId)}`);
  }
  return environmentId ?? DEFAULT_ENVIRONMENT_ID;
}

// ---------------------------------------------------------------------------------------------
// Sharded cancellations ({@link ShardedRunStore}).
// ---------------------------------------------------------------------------------------------

const SHARD_STATUSES: ReadonlySet<string> = new Set<ShardStatus>(["pending", "running", "done"]);

/**
 * Checks the shard count of `planShards` and `createShardedCancellation`: 1 to {@link MAX_SHARD_COUNT}.
 *
 * @throws {@link StoreError} with code `invalid_option`.
 */
export function checkShardCount(count: unknown): number {
  if (typeof count !== "number" || !Number.isSafeInteger(count) || count < 1 || count > MAX_SHARD_COUNT) {
    throw new StoreError("invalid_option", `shard count must be an integer from 1 to ${MAX_SHARD_COUNT}, got ${String(count)}`);
  }
  return count;
}

/**
 * Checks a worker id: 1 to {@link MAX_WORKER_ID_LENGTH} characters without NUL.
 *
 * @throws {@link StoreError} with the given code.
 */
export function checkWorkerId(workerId: unknown, code: StoreErrorCode, what = "workerId"): string {
  if (typeof workerId !== "string" || workerId.length === 0 || workerId.length > MAX_WORKER_ID_LENGTH || workerId.includes("\u0000")) {
    throw new StoreError(
      code,
      `${what} must be a string of 1 to ${MAX_WORKER_ID_LENGTH} characters without NUL, got ${typeof workerId === "string" ? JSON.stringify(workerId.slice(0, 40)) : typeof workerId}`,
    );
  }
  return workerId;
}

/**
 * Checks a lease length: an integer from 1 to {@link MAX_LEASE_MS}.
 *
 * @throws {@link StoreError} with the given code.
 */
export function checkLeaseMs(leaseMs: unknown, code: StoreErrorCode): number {
  if (typeof leaseMs !== "number" || !Number.isSafeInteger(leaseMs) || leaseMs < 1 || leaseMs > MAX_LEASE_MS) {
    throw new StoreError(code, `leaseMs must be an integer from 1 to ${MAX_LEASE_MS}, got ${String(leaseMs)}`);
  }
  return leaseMs;
}

/**
 * Checks a shard number: an integer from 0 to {@link MAX_SHARD_COUNT} − 1.
 *
 * @throws {@link StoreError} with the given code.
 */
export function checkShardNo(shardNo: unknown, code: StoreErrorCode): number {
  if (typeof shardNo !== "number" || !Number.isSafeInteger(shardNo) || shardNo < 0 || shardNo >= MAX_SHARD_COUNT) {
    throw new StoreError(code, `shardNo must be an integer from 0 to ${MAX_SHARD_COUNT - 1}, got ${String(shardNo)}`);
  }
  return shardNo;
}

/** A shard window once checked: `environmentId` filled in. */
export type CheckedShardWindow = ShardWindow & { readonly environmentId: string };

/**
 * Checks the window of `planShards` (as a scan query's window).
 *
 * @throws {@link StoreError} with code `invalid_query`.
 */
export function normalizeShardWindow(window: unknown): CheckedShardWindow {
  if (!isPlainObject(window)) throw new StoreError("invalid_query", `shard window: expected an object, got ${describeValue(window)}`);
  const w = window as unknown as ShardWindow;
  const q = normalizeScanQuery({
    ...(w.environmentId !== undefined ? { environmentId: w.environmentId } : {}),
    appId: w.appId,
    functionId: w.functionId,
    ...(w.startedAfter !== undefined ? { startedAfter: w.startedAfter } : {}),
    startedBefore: w.startedBefore,
    limit: 1,
  });
  return {
    environmentId: q.environmentId,
    appId: q.appId,
    functionId: q.functionId,
    ...(q.startedAfter !== undefined ? { startedAfter: q.startedAfter } : {}),
    startedBefore: q.startedBefore,
  };
}

/**
 * Checks a {@link ShardCommit}; returns a copy whose `runIds` has no duplicates.
 *
 * @throws {@link StoreError} with code `invalid_batch`.
 */
export function normalizeShardCommit(commit: unknown): ShardCommit {
  if (!isPlainObject(commit)) throw new StoreError("invalid_batch", "shard commit must be an object");
  const { cancellationId, shardNo, workerId, leaseMs } = commit;
  if (!isValidId(cancellationId)) throw new StoreError("invalid_batch", "shard commit: cancellationId must be a valid id");
  checkShardNo(shardNo, "invalid_batch");
  checkWorkerId(workerId, "invalid_batch");
  checkLeaseMs(leaseMs, "invalid_batch");
  const checkpoint = commit["checkpoint"];
  const status: unknown = isPlainObject(checkpoint) ? checkpoint["status"] : undefined;
  if (typeof status !== "string" || !SHARD_STATUSES.has(status)) {
    throw new StoreError("invalid_batch", `shard commit: checkpoint.status must be pending, running or done, got ${JSON.stringify(status)}`);
  }
  // The batch checks cover ids, cursor and counts (the shard status is checked above).
  const b = normalizeCommitBatch({ cancellationId, runIds: commit["runIds"], checkpoint: { ...(checkpoint as object), status: "running" } });
  const { cursor, counts } = b.checkpoint;
  return {
    cancellationId: b.cancellationId,
    shardNo: shardNo as number,
    workerId: workerId as string,
    leaseMs: leaseMs as number,
    runIds: b.runIds,
    checkpoint: { ...(cursor !== undefined ? { cursor } : {}), counts, status: status as ShardStatus },
  };
}

/** A lease request of `leaseShard` once checked. */
export interface CheckedLeaseRequest {
  readonly workerId: string;
  readonly leaseMs: number;
  readonly cancellationId?: string;
  readonly environmentId?: string;
}

/**
 * Checks the request of `leaseShard`. Returns `undefined` when its scope (`cancellationId`,
 * `environmentId`) can name no stored job, so nothing can be leased.
 *
 * @throws {@link StoreError} with code `invalid_option` for a bad worker id or lease.
 */
export function normalizeLeaseRequest(request: unknown): CheckedLeaseRequest | undefined {
  if (!isPlainObject(request)) throw new StoreError("invalid_option", "leaseShard: request must be an object");
  const workerId = checkWorkerId(request["workerId"], "invalid_option");
  const leaseMs = checkLeaseMs(request["leaseMs"], "invalid_option");
  const { cancellationId, environmentId } = request;
  if (cancellationId !== undefined && !isValidId(cancellationId)) return undefined;
  if (environmentId !== undefined && !isNonEmptyString(environmentId)) return undefined;
  return {
    workerId,
    leaseMs,
    ...(cancellationId !== undefined ? { cancellationId } : {}),
    ...(environmentId !== undefined ? { environmentId } : {}),
  };
}
