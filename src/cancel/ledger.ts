/**
 * The outcome ledger of a scan: the counts of the runs whose outcome is settled (exactly the runs
 * at or before the settled cursor) and the segment of runs decided since then, not yet settled
 * because a batch holding some of them has not committed. Every run lands in exactly one count;
 * `scanned` is always their sum.
 *
 * @module
 */
import type { CancellationStatus, Checkpoint, Cursor, OutcomeCounts } from "../stores/types.js";

/** Outcomes of runs decided since the last settle point (the field names of the hot path). */
export interface Segment {
  notMatched: number;
  errors: number;
  nonBoolean: number;
  /** Matched runs found finished (or sent and not cancelled: the compare-and-set failed). */
  skipped: number;
  /** Runs this job cancelled: found cancelled by it (before a crash) or reported by a commit. */
  cancelled: number;
}

/** A segment with nothing in it. */
export function emptySegment(): Segment {
  return { notMatched: 0, errors: 0, nonBoolean: 0, skipped: 0, cancelled: 0 };
}

/** The sum of two sets of counts. */
export function addCounts(a: OutcomeCounts, b: OutcomeCounts): OutcomeCounts {
  return {
    scanned: a.scanned + b.scanned,
    cancelled: a.cancelled + b.cancelled,
    skipped_terminal: a.skipped_terminal + b.skipped_terminal,
    not_matched: a.not_matched + b.not_matched,
    expression_error: a.expression_error + b.expression_error,
    non_boolean: a.non_boolean + b.non_boolean,
  };
}

/** `a` minus `b`, count by count. */
export function subtractCounts(a: OutcomeCounts, b: OutcomeCounts): OutcomeCounts {
  return {
    scanned: a.scanned - b.scanned,
    cancelled: a.cancelled - b.cancelled,
    skipped_terminal: a.skipped_terminal - b.skipped_terminal,
    not_matched: a.not_matched - b.not_matched,
    expression_error: a.expression_error - b.expression_error,
    non_boolean: a.non_boolean - b.non_boolean,
  };
}

/** A plain cursor of a position (which may be a whole run record). */
function cursorOf(position: Cursor | undefined): Cursor | undefined {
  return position === undefined ? undefined : { startedAt: position.startedAt, id: position.id };
}

/** The counts and positions of one scan session; see the module comment. */
export class Ledger {
  readonly #known: { -readonly [K in keyof OutcomeCounts]: number };
  #cursor: Cursor | undefined;
  readonly #settledAtStart: number;
  /** Last run decided, or the position a page ended at. */
  position: Cursor | undefined;
  /** Outcomes decided since the last settle point, not in a batch in flight. */
  segment: Segment = emptySegment();
  /** Runs cancelled in this session (settled). */
  sessionCancelled = 0;

  /**
   * @param counts - Counts of the runs at or before `cursor` (earlier sessions).
   * @param cursor - Where the session starts; absent: the window's start.
   */
  constructor(counts: OutcomeCounts, cursor: Cursor | undefined) {
    this.#known = { ...counts };
    this.#cursor = cursor;
    this.position = cursor;
    this.#settledAtStart = counts.scanned;
  }

  /** Settled runs cancelled (all sessions). */
  get cancelled(): number {
    return this.#known.cancelled;
  }

  /** The settled cursor: every run at or before it is counted. */
  get cursor(): Cursor | undefined {
    return this.#cursor;
  }

  /** Runs settled in this session. */
  get sessionSettled(): number {
    return this.#known.scanned - this.#settledAtStart;
  }

  /** A copy of the settled counts. */
  counts(): OutcomeCounts {
    return { ...this.#known };
  }

  /** The settled state as a checkpoint with `status`. */
  checkpoint(status: CancellationStatus): Checkpoint {
    const cursor = cursorOf(this.#cursor);
    return cursor === undefined ? { counts: { ...this.#known }, status } : { cursor, counts: { ...this.#known }, status };
  }

  /** A copy of the settled cursor, for a report. */
  cursorCopy(): Cursor | undefined {
    return cursorOf(this.#cursor);
  }

  /** Settles everything decided (nothing may be waiting for a commit): the cursor moves to `position`. */
  settle(): void {
    this.settleSegment(this.takeSegment(), this.position);
  }

  /** Hands the segment over (to a batch in flight) and starts an empty one. */
  takeSegment(): Segment {
    const segment = this.segment;
    this.segment = emptySegment();
    return segment;
  }

  /** Adds a segment to the settled counts and moves the settled cursor to `cursor`, its end. */
  settleSegment(segment: Segment, cursor: Cursor | undefined): void {
    const known = this.#known;
    known.not_matched += segment.notMatched;
    known.expression_error += segment.errors;
    known.non_boolean += segment.nonBoolean;
    known.skipped_terminal += segment.skipped;
    known.cancelled += segment.cancelled;
    this.sessionCancelled += segment.cancelled;
    known.scanned = known.cancelled + known.skipped_terminal + known.not_matched + known.expression_error + known.non_boolean;
    this.#cursor = cursor;
  }
}

/** Records a committed batch in a segment: of `sent` runs, `cancelled` changed; the rest had finished. */
export function recordBatch(segment: Segment, sent: number, cancelled: number): void {
  segment.cancelled += cancelled;
  segment.skipped += sent - cancelled;
}
