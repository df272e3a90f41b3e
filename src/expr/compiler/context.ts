/**
 * The evaluation context shared by all closures of one program, and the cost budget.
 *
 * @module
 */
import { REGEX_COMPILE_COST, REGEX_SHIFT, regexFactor, SCAN_SHIFT } from "../checker/charges.js";
import { CelError } from "../values.js";

/** Evaluation limits; every field has a generous default so that only runaway expressions stop. */
export interface EvalLimits {
  /**
   * Budget of cost units per evaluation (see `docs/reliability-cost.md`): each comprehension
   * iteration is charged the nodes its body evaluates, each list or map built or scanned one unit
   * per element, each string or byte string one per 16 characters, a regular expression compiled
   * from data 4 per pattern character. A unit is a few nanoseconds of work, so the default stops
   * any evaluation within milliseconds. Default 1,000,000.
   */
  readonly maxCost?: number;
  /** Longest string or byte string an expression may build, in UTF-16 units / bytes. Default 10,000,000. */
  readonly maxStringLength?: number;
  /** Longest list or largest map an expression may build. Default 1,000,000. */
  readonly maxListLength?: number;
}

/** Default {@link EvalLimits}. */
export const DEFAULT_EVAL_LIMITS: Required<EvalLimits> = {
  maxCost: 1_000_000,
  maxStringLength: 10_000_000,
  maxListLength: 1_000_000,
};

/** Per-evaluation state. One instance per program, reused across evaluations. */
export interface Ctx {
  /** The activation: variable name → value. */
  act: Readonly<Record<string, unknown>>;
  /** Comprehension variables, by slot index assigned at compile time. */
  readonly slots: unknown[];
  /** Cost spent so far in this evaluation. */
  cost: number;
  readonly maxCost: number;
  readonly maxStringLength: number;
  readonly maxListLength: number;
  /** Evaluation time, for `now()` in the inngest dialect; fixed once per evaluation. */
  now: number;
  /** Set while an evaluation runs, so re-entrant use gets its own context. */
  busy: boolean;
}

/** A compiled node. */
export type Fn = (c: Ctx) => unknown;

/** Thrown (not returned) when the cost budget is spent, so that nested loops stop at once. */
export class CostLimitExceeded {
  constructor(
    readonly nodeId: number,
    readonly message: string,
  ) {}
}

/** Charges `units` of cost; throws {@link CostLimitExceeded} past the budget. */
export function charge(c: Ctx, units: number, nodeId: number): void {
  c.cost += units;
  if (c.cost > c.maxCost) {
    throw new CostLimitExceeded(nodeId, `evaluation cost limit of ${c.maxCost} exceeded`);
  }
}

/**
 * The context object. A class rather than an object literal: V8 tracks object literals by
 * allocation site and may allocate every later object of a site in the old generation once many
 * of its objects (here, contexts of long-lived programs) survive collections; the short-lived
 * contexts the compiler makes for constant folding would then cost full collections.
 */
class EvalContext implements Ctx {
  act: Readonly<Record<string, unknown>> = EMPTY_ACTIVATION;
  readonly slots: unknown[];
  cost = 0;
  readonly maxCost: number;
  readonly maxStringLength: number;
  readonly maxListLength: number;
  now = 0;
  busy = false;

  constructor(slotCount: number, limits: Required<EvalLimits>) {
    this.slots = new Array<unknown>(slotCount).fill(undefined);
    this.maxCost = limits.maxCost;
    this.maxStringLength = limits.maxStringLength;
    this.maxListLength = limits.maxListLength;
  }
}

/** The empty activation, shared (frozen). */
export const EMPTY_ACTIVATION: Readonly<Record<string, unknown>> = Object.freeze({});

/** Creates a context for a program needing `slotCount` comprehension slots. */
export function newCtx(slotCount: number, limits: Required<EvalLimits>): Ctx {
  return new EvalContext(slotCount, limits);
}

/** Charges the size of a value a function built, enforcing the string and list limits. */
export function chargeGrowth(c: Ctx, r: unknown, id: number): unknown {
  if (typeof r === "string") {
    if (r.length > c.maxStringLength) {
      return new CelError("cost_limit", `string length ${r.length} exceeds the limit of ${c.maxStringLength}`, id);
    }
    charge(c, r.length >> 4, id);
  } else if (Array.isArray(r)) {
    if (r.length > c.maxListLength) {
      return new CelError("cost_limit", `list length ${r.length} exceeds the limit of ${c.maxListLength}`, id);
    }
    charge(c, r.length, id);
  } else if (r instanceof Uint8Array) {
    if (r.length > c.maxStringLength) {
      return new CelError("cost_limit", `bytes length ${r.length} exceeds the limit of ${c.maxStringLength}`, id);
    }
    charge(c, r.length >> 4, id);
  }
  return r;
}

/** Charges the scan of one argument: its length for a list, `weight` units per 16 characters for a string or bytes. */
export function chargeScan(c: Ctx, v: unknown, id: number, weight = 1, lists = true): void {
  if (typeof v === "string" || v instanceof Uint8Array) {
    if (v.length >= 1 << SCAN_SHIFT) charge(c, (v.length >> SCAN_SHIFT) * weight, id);
  } else if (lists && Array.isArray(v) && v.length > 0) {
    charge(c, v.length, id);
  }
}

/**
 * Charges a call's arguments before it runs: each scanned (see {@link chargeScan}; lists only
 * when `lists`), or for a regular expression `[subject, pattern, …]` the match and, unless
 * `patternConstant` (compiled once and cached), the pattern's compilation.
 */
export function chargeArgs(
  c: Ctx,
  vals: readonly unknown[],
  regex: boolean,
  weight: number,
  lists: boolean,
  id: number,
  patternConstant = false,
): void {
  if (regex) {
    const s = vals[0];
    const p = vals[1];
    if (typeof p === "string") {
      const compile = patternConstant ? 0 : p.length * REGEX_COMPILE_COST;
      charge(c, compile + ((typeof s === "string" ? s.length : 0) >> REGEX_SHIFT) * regexFactor(p.length), id);
    }
    return;
  }
  for (let k = 0; k < vals.length; k++) chargeScan(c, vals[k], id, weight, lists);
}
