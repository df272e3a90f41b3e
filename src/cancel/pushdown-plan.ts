/**
 * The one place the planner learns about SQL pushdown: which prefilter (if any) to hand the store
 * for a compiled `if`, and how much of the expression it decides.
 *
 * @module
 */
import type { Program } from "../expr/program.js";
import type { PushdownHint } from "../stores/types.js";
import { pushdownFor, type PushdownCoverage } from "./pushdown.js";

export type { PushdownCoverage };

/** A prefilter for the store and its coverage. */
export interface PushdownPlan {
  /** Predicate a SQL store may apply; it selects a superset of the runs the program matches. */
  readonly hint?: PushdownHint;
  readonly coverage: PushdownCoverage;
}

/**
 * The store prefilter for a program; without an `if` there is nothing to push down.
 *
 * The planner counts the rows a prefilter drops as `not_matched`, so a prefilter may drop only
 * rows on which the expression is `false`. `pushdownFor` gives a superset of the rows where it is
 * `true`: the rows it drops may also be rows where the expression yields a non-boolean (a
 * `dyn`-typed expression such as `event.data.flag`) or an error (`x.startsWith('a')` with `x` a
 * number). Expressions not typed `bool` are therefore not pushed down, which rules out the
 * non-booleans; the error case remains until the translator offers a "not false" predicate.
 */
export function planPushdown(program: Program | undefined): PushdownPlan {
  if (program === undefined || program.type !== "bool") return { coverage: "none" };
  return pushdownFor(program);
}
