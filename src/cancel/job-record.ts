/**
 * A cancellation record and the request it stands for, both ways: the record a validated request
 * starts as, and the request (its `if` compiled again) a stored record stands for.
 *
 * @module
 */
import { monotonicFactory } from "ulid";
import { CompileError } from "../expr/errors.js";
import { compile, type Program } from "../expr/program.js";
import { ZERO_COUNTS, type CancellationRecord, type ShardWindow } from "../stores/types.js";
import { ValidationError } from "./errors.js";
import { boundCompileMessage, type CancellationRequest } from "./request.js";

const newUlid = monotonicFactory();

/** A new record for a validated request: a fresh ULID, status `running`, zero counts. @internal */
export function draftRecord(request: CancellationRequest, environmentId: string, now: number): CancellationRecord {
  return {
    id: newUlid(now),
    environmentId,
    appId: request.appId,
    functionId: request.functionId,
    ...(request.startedAfter !== undefined ? { startedAfter: request.startedAfter } : {}),
    startedBefore: request.startedBefore,
    ...(request.if !== undefined ? { if: request.if } : {}),
    createdAt: now,
    updatedAt: now,
    status: "running",
    counts: ZERO_COUNTS,
  };
}

/**
 * The request a stored record stands for, its `if` compiled again. @internal
 *
 * @throws {@link ValidationError} when the stored `if` no longer compiles.
 */
export function requestOfRecord(record: CancellationRecord): CancellationRequest {
  let program: Program | undefined;
  if (record.if !== undefined) {
    try {
      program = compile(record.if, { dialect: "inngest" });
    } catch (error) {
      if (error instanceof CompileError) throw new ValidationError([`invalid expression: ${boundCompileMessage(error)}`]);
      throw error;
    }
  }
  return {
    appId: record.appId,
    functionId: record.functionId,
    ...(record.startedAfter !== undefined ? { startedAfter: record.startedAfter } : {}),
    startedBefore: record.startedBefore,
    ...(record.if !== undefined ? { if: record.if } : {}),
    ...(program !== undefined ? { program } : {}),
  };
}

/** The window of a record: the runs its job scans (and a sharded job splits). @internal */
export function windowOf(record: CancellationRecord): ShardWindow {
  return {
    environmentId: record.environmentId,
    appId: record.appId,
    functionId: record.functionId,
    ...(record.startedAfter !== undefined ? { startedAfter: record.startedAfter } : {}),
    startedBefore: record.startedBefore,
  };
}
