/**
 * Bulk cancellation: request validation (Inngest's contract), the planner, its rate limiter, the
 * wire form of a cancellation record, and sharded jobs run by several workers.
 *
 * @module
 */
export { ValidationError, ConflictError, CancellationNotFoundError, CancellationLeaseError } from "./errors.js";
export { DEFAULT_JOB_LEASE_MS } from "./job-lease.js";
export { DECISION_CODES } from "./evaluator.js";
export type { PageEvaluator } from "./evaluator.js";
export type { JobLeaseOptions } from "./job-lease.js";
export {
  validateCancellationRequest,
  parseTimestamp,
  requestHash,
  boundCompileMessage,
  STARTED_BEFORE_TOLERANCE_MS,
  MAX_EXPRESSION_MESSAGE_LENGTH,
  REQUEST_FIELDS,
} from "./request.js";
export type { CancellationRequest, ValidateOptions, PreciseInstant, ParsedTimestamp } from "./request.js";
export { toWireCancellation, formatTimestamp, parseCancellationId } from "./record.js";
export { wireTimestamp, isWireTimestamp, MIN_TIMESTAMP_MS, MAX_TIMESTAMP_MS } from "./timestamps.js";
export type { WireCancellation } from "./record.js";
export { RateLimiter } from "./rate.js";
export { cancelRuns, resumeCancellation } from "./planner.js";
export type { CancelOptions, CancellationReport } from "./planner.js";
export { DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE } from "./settings.js";
export type { ResumeOptions, CancellationProgress } from "./settings.js";
// From settings.ts, not the scan loop: the published declarations of the root entry stay clear of the job's internals.
export { DRY_RUN_SAMPLE_SIZE, CHECKPOINT_INTERVAL_MS } from "./settings.js";
export { createShardedCancellation, runWorker, DEFAULT_LEASE_MS, DEFAULT_POLL_MS } from "./workers.js";
export type {
  ShardedCancelOptions,
  ShardedCancellation,
  WorkerOptions,
  WorkerProgress,
  WorkerReport,
  ShardSession,
  ShardSessionEnd,
} from "./workers.js";
export type { PushdownCoverage } from "./pushdown-plan.js";
export { controlCancellation, validateControlRequest, CONTROL_POLL_MS, MAX_CONTROL_RATE } from "./job-control.js";
export type { ControlPatch, ControlOptions } from "./job-control.js";
export { CancellationChecker } from "./checker.js";
export type { CancellationCheckerOptions, CheckableRun } from "./checker.js";
export { requestWarnings } from "./warnings.js";
export type { RequestWarning } from "./warnings.js";
