/**
 * How a program's result is judged: one activation at a time ({@link Decision}), or many in one
 * call for a caller that scans (the planner's fast loop, `Program.decideUntilMatch`).
 *
 * @module
 */

/** How a program judged one activation; see `Program.decide`. */
export type Decision = "match" | "no_match" | "error" | "non_boolean";

/**
 * How `Program.decideUntilMatch` turns each item into an activation: the activation is
 * `{ [variable]: item[property] }`; an item whose `stopProperty` holds `stopValue` (compared with
 * `===`) stops the loop undecided.
 *
 * @internal The planner's scan loop; not part of the public API.
 */
export interface ItemBinding {
  /** The variable the expression reads, e.g. `event`. */
  readonly variable: string;
  /** The item's property bound to it, e.g. `event`. */
  readonly property: string;
  /** An item property that stops the loop when it holds `stopValue`. Default: none. */
  readonly stopProperty?: string;
  /** See `stopProperty`. */
  readonly stopValue?: unknown;
}

/**
 * Outcomes counted by `Program.decideUntilMatch`, reset at each call.
 *
 * @internal The planner's scan loop; not part of the public API.
 */
export interface DecisionCounts {
  /** Items whose result was `false` (or, in the inngest dialect, a missing value). */
  noMatch: number;
  /** Items whose evaluation ended in an error. */
  error: number;
  /** Items whose result was neither a boolean nor an error. */
  nonBoolean: number;
}

/**
 * `decideUntilMatch` one `decide` at a time: the index of the first item that matches or that the
 * binding stops, the outcomes of the items before it counted into `counts`.
 *
 * @internal
 */
export function decideOneByOne(
  decide: (activation: Readonly<Record<string, unknown>>) => Decision,
  items: ArrayLike<object>,
  from: number,
  binding: ItemBinding,
  counts: DecisionCounts,
): number {
  const { variable, property, stopProperty, stopValue } = binding;
  const activation: Record<string, unknown> = {};
  let noMatch = 0;
  let error = 0;
  let nonBoolean = 0;
  let i = from;
  for (; i < items.length; i++) {
    const item = items[i] as Record<string, unknown>;
    if (stopProperty !== undefined && item[stopProperty] === stopValue) break;
    activation[variable] = item[property];
    const decision = decide(activation);
    if (decision === "match") break;
    if (decision === "no_match") noMatch++;
    else if (decision === "error") error++;
    else nonBoolean++;
  }
  counts.noMatch = noMatch;
  counts.error = error;
  counts.nonBoolean = nonBoolean;
  return i;
}
