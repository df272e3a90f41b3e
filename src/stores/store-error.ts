/**
 * The error every store throws for bad input and storage failures, with its codes. A leaf module
 * (`types.ts` re-exports it), so that anything may import it without importing the contract.
 *
 * @module
 */

/** Machine-readable category of a {@link StoreError}. */
export type StoreErrorCode =
  /** A run passed to `insertRuns` (or read from a file) is not a valid `RunRecord`. */
  | "invalid_run"
  /** A scan query, id list or status argument is malformed. */
  | "invalid_query"
  /** A `CommitBatch` or `Checkpoint` is malformed. */
  | "invalid_batch"
  /** A `CancellationRecord` is malformed. */
  | "invalid_cancellation"
  /** A cancellation with the same id already exists. */
  | "duplicate_cancellation"
  /** A constructor or function option is invalid (a path, a size, a timeout). */
  | "invalid_option"
  /** The store was closed. */
  | "closed"
  /** The underlying database or file failed (busy, I/O error, not a database, newer schema). */
  | "storage"
  /** An import file is corrupt, truncated or of an unknown format. */
  | "invalid_file"
  /** The store is held by another process that must be alone on it (a second `serve` on one SQLite file). */
  | "locked";

/** The error every store throws (or rejects with) for bad input and storage failures. */
export class StoreError extends Error {
  override readonly name: string = "StoreError";
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { readonly cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}
