/**
 * Errors of the cancellation API, each carrying the HTTP status a service answers with.
 *
 * @module
 */

/**
 * A cancellation request that does not pass validation (HTTP 400). `message` is every failure
 * joined by a newline, as Inngest joins them (Go's `errors.Join`); `errors` lists them one by one.
 */
export class ValidationError extends Error {
  override readonly name = "ValidationError";
  /** HTTP status of the failure. */
  readonly status = 400;
  /** Every failure, in the order they were found. */
  readonly errors: readonly string[];

  constructor(errors: readonly string[]) {
    super(errors.join("\n"));
    this.errors = Object.freeze([...errors]);
  }
}

/**
 * An idempotency key reused with a different request body (HTTP 409). `cancellationId` is the
 * cancellation the key already belongs to.
 */
export class ConflictError extends Error {
  override readonly name = "ConflictError";
  /** HTTP status of the failure. */
  readonly status = 409;

  constructor(
    message: string,
    /** The cancellation already created under the key. */
    readonly cancellationId: string,
  ) {
    super(message);
  }
}

/** A cancellation id that names no cancellation of the environment (HTTP 404). */
export class CancellationNotFoundError extends Error {
  override readonly name = "CancellationNotFoundError";
  /** HTTP status of the failure. */
  readonly status = 404;

  constructor(
    /** The id that was looked up. */
    readonly cancellationId: string,
  ) {
    // Inngest's text for an unknown cancellation.
    super("Cancellation not found");
  }
}
