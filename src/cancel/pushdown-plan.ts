/**
 * The one place the planner learns about SQL pushdown: which prefilter (if any) to hand the store
 * for a compiled `if`, and how much of the expression it decides.
 *
 * @module
 */
import type { Program } from "../expr/program.js";
import type { PushdownHint } from "../stores/types.js";

/** How much of the `if` the store's prefilter decides: all of it, a superset, or nothing. */
export type PushdownCoverage = "full" | "partial" | "none";

/** A prefilter for the store and its coverage. */
export interface PushdownPlan {
  /** Predicate a SQL store may apply; it selects a superset of the runs the program matches. */
  readonly hint?: PushdownHint;
  readonly coverage: PushdownCoverage;
}

/** The store prefilter for a program; without an `if` there is nothing to push down. */
export function planPushdown(program: Program | undefined): PushdownPlan {
  // Wired to `pushdownFor` of ./pushdown.js once that translator exists.
  void program;
  return { coverage: "none" };
}
