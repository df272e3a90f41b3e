/**
 * The one place the planner learns about SQL pushdown: which prefilter (if any) to hand the store
 * for a compiled `if`, and how much of the expression it decides.
 *
 * @module
 */
import type { Program } from "../expr/program.js";
import { FALSE, TRUE } from "../stores/predicate.js";
import type { ExactDecision, PushdownHint } from "../stores/types.js";
import { exactDecisionFor, pushdownFor, type PushdownCoverage } from "./pushdown.js";

export type { PushdownCoverage };

/** A prefilter for the store and its coverage. */
export interface PushdownPlan {
  /** Predicate a SQL store may apply; it selects a superset of the runs the program matches. */
  readonly hint?: PushdownHint;
  readonly coverage: PushdownCoverage;
  /**
   * Set when the `if` translates into SQL exactly (or there is none): a store with
   * `cancelExactBatch` then decides every run itself (see `exact-loop.ts`).
   */
  readonly exact?: ExactDecision;
}

/** The decision of a job without an `if`: every run matches. */
const EVERY_RUN: ExactDecision = Object.freeze({ match: TRUE, error: FALSE, nonBoolean: FALSE });

/**
 * The store prefilter for a program; without an `if` there is nothing to push down.
 *
 * The planner counts the rows a prefilter drops as `not_matched`, so the prefilter may drop only
 * rows on which the expression is exactly `false`: not rows where it errs (counted
 * `expression_error`) or yields a non-boolean (`non_boolean`). That is `pushdownFor`'s
 * `notFalse` predicate.
 */
export function planPushdown(program: Program | undefined): PushdownPlan {
  if (program === undefined) return { coverage: "none", exact: EVERY_RUN };
  const exact = exactDecisionFor(program);
  return { ...pushdownFor(program, { keep: "notFalse" }), ...(exact !== undefined ? { exact } : {}) };
}
