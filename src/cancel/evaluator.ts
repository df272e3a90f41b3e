/**
 * The evaluation seam of the scan loop: how a page of runs is decided by the compiled `if`.
 *
 * By default (the library) the loop decides each page inline, on the calling thread, through the
 * program's fast loop (`Program.decideUntilMatch`). A {@link PageEvaluator} (`ResumeOptions.evaluator`)
 * decides a whole page elsewhere instead (the service's worker threads, `service/eval-pool.ts`),
 * and the loop then walks the answer ({@link PageDecisions}) exactly as it walks the program: the
 * same outcomes, counts and stops, so the two paths are interchangeable (a differential test
 * checks it). An evaluator that is aborted drops the page undecided; the job stops as at a page
 * boundary.
 *
 * @module
 */
import type { DecisionCounts, ItemBinding, Program } from "../expr/program.js";
import type { RunRecord } from "../stores/types.js";

/** What the scan loop asks of a page's decisions: the program's fast loop, or a decided page. @internal */
export interface PageDecider {
  /** As `Program.decideUntilMatch`. */
  decideUntilMatch(items: ArrayLike<object>, from: number, binding: ItemBinding, counts: DecisionCounts): number;
}

/** Decision codes of a decided page, one byte per run. */
export const DECISION_CODES = { no_match: 0, match: 1, error: 2, non_boolean: 3 } as const;

/**
 * Decides the runs of a page elsewhere than on the scan loop's thread.
 *
 * `decide` answers one {@link DECISION_CODES} code per run of `runs`, in order: the decision of
 * `program` on the activation `{ event: run.event }` (as `Program.decide`). It rejects with an
 * error named `AbortError` when `signal` aborts first (promptly, also in the middle of a costly
 * page), and with any other error when evaluation could not be done (then the job fails).
 */
export interface PageEvaluator {
  decide(program: Program, runs: readonly RunRecord[], signal: AbortSignal | undefined): Promise<Uint8Array>;
}

/**
 * A page decided elsewhere, walked as the program's fast loop walks runs: from `from`, counts the
 * outcomes of the runs before the first one that matches or that the binding stops, and returns its
 * index (or the page's length). @internal
 */
export class PageDecisions implements PageDecider {
  readonly #codes: Uint8Array;

  /** @param codes - One {@link DECISION_CODES} code per run of the page. */
  constructor(codes: Uint8Array) {
    this.#codes = codes;
  }

  decideUntilMatch(items: ArrayLike<object>, from: number, binding: ItemBinding, counts: DecisionCounts): number {
    const codes = this.#codes;
    const { stopProperty, stopValue } = binding;
    let noMatch = 0;
    let error = 0;
    let nonBoolean = 0;
    let i = from;
    for (; i < items.length; i++) {
      if (stopProperty !== undefined && (items[i] as Record<string, unknown>)[stopProperty] === stopValue) break;
      const code = codes[i];
      if (code === DECISION_CODES.match) break;
      if (code === DECISION_CODES.no_match) noMatch++;
      else if (code === DECISION_CODES.error) error++;
      else nonBoolean++;
    }
    counts.noMatch = noMatch;
    counts.error = error;
    counts.nonBoolean = nonBoolean;
    return i;
  }
}

/** Whether an error is an abort (`AbortError`, as `AbortSignal` and `fetch` name it). @internal */
export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError";
}

/**
 * Decides a page inline with `Program.decide`, into {@link DECISION_CODES}: what an evaluator
 * thread runs, and the reference its answers are compared with.
 */
export function decidePageCodes(program: Program, events: readonly unknown[]): Uint8Array {
  const codes = new Uint8Array(events.length);
  const activation: { event: unknown } = { event: undefined };
  for (let i = 0; i < events.length; i++) {
    activation.event = events[i];
    codes[i] = DECISION_CODES[program.decide(activation)];
  }
  return codes;
}
