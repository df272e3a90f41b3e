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

/**
 * A job runs under another process's owner lease (HTTP 409): another process found the lease live
 * and left the job alone (`reason: "held"`), or took the job over after this process's lease
 * expired (`reason: "lost"`; this process stopped, and changed nothing after it lost the lease).
 */
export class CancellationLeaseError extends Error {
  override readonly name = "CancellationLeaseError";
  /** HTTP status of the failure. */
  readonly status = 409;

  constructor(
    /** The cancellation whose job runs elsewhere. */
    readonly cancellationId: string,
    /** `held`: the job was not started here; `lost`: it was taken over while running here. */
    readonly reason: "held" | "lost",
    /** The owner holding the lease, when known. */
    readonly owner: string | undefined,
    /** When that lease ends unless renewed, epoch ms, when known. */
    readonly expiresAt: number | undefined,
  ) {
    super(
      reason === "held"
        ? `cancellation ${cancellationId} is being run by another process (${owner ?? "unknown owner"}, lease until ${expiresAt === undefined ? "unknown" : new Date(expiresAt).toISOString()})`
        : `cancellation ${cancellationId} was taken over by another process after this one's lease expired`,
    );
  }
}
