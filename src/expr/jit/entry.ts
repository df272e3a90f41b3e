/**
 * Entry points of their own for a program that is evaluated often.
 *
 * `Program.matches` and `Program.decide` live on the prototype: every program of the process runs
 * through the same call of its root closure, and once a process has evaluated a handful of
 * different programs that call site is megamorphic — V8 stops inlining the root and pays a generic
 * dispatch on every evaluation (a third of the time of a simple filter). A program evaluated many
 * times therefore gets entry points generated from a source text of its own: V8 shares type
 * feedback between functions compiled from identical text, so the text carries the program's serial
 * number, and each program's call of its root stays monomorphic.
 *
 * `decideUntilMatch` decides many activations in one call, for callers that scan (the planner): the
 * loop runs inside the program's own code, so the root closure is inlined into it and the
 * evaluation's setup (the context's activation, the re-entrancy flag) happens once per call rather
 * than once per item. Measured on the planner's memory-store dry run (compiled, 8 runs per
 * process): 112–136 ms per million runs against 166–233 ms with one `decide` per run, and far less
 * variance between processes.
 *
 * No expression text reaches the generated source: it is fixed apart from the serial number.
 *
 * @module
 */
import type { Ctx, Fn } from "../compiler/context.js";
import type { Decision, DecisionCounts, ItemBinding } from "../decisions.js";

/** The entry points a program swaps in for its prototype methods. */
export interface SpecialisedEntries {
  matches(activation?: Readonly<Record<string, unknown>>): boolean;
  decide(activation?: Readonly<Record<string, unknown>>): Decision;
  decideUntilMatch(items: ArrayLike<object>, from: number, binding: ItemBinding, counts: DecisionCounts): number;
}

/** What the generated entry points need from their program. */
export interface EntryParts {
  /** Holder of the root closure; read at each evaluation, since a tiered root swaps it. */
  readonly root: { readonly fn: Fn };
  /** The program's reusable context. */
  readonly ctx: Ctx;
  /** The program's general evaluation, for re-entrant calls (a getter in the activation). */
  readonly reentrant: (activation: Readonly<Record<string, unknown>>) => unknown;
  /** Converts an exception escaping the closures into an error value. */
  readonly thrownToError: (err: unknown) => unknown;
  /** The inngest dialect's missing value, which decides as `no_match`. */
  readonly unknown: unknown;
  /** The error value class. */
  readonly errorClass: abstract new (...args: never[]) => unknown;
  /** The empty activation. */
  readonly empty: Readonly<Record<string, unknown>>;
  /** The item loop one evaluation at a time, for re-entrant calls. */
  readonly reentrantUntilMatch: SpecialisedEntries["decideUntilMatch"];
}

type EntryFactory = (parts: EntryParts) => SpecialisedEntries;

let serial = 0;

/**
 * Generates a program's own `matches`, `decide` and `decideUntilMatch`, with the same results as
 * the prototype's. The caller has checked that code may be generated (`mayGenerateCode` in
 * `available.ts`); returns `undefined` if generating fails all the same.
 */
export function specialiseEntries(parts: EntryParts): SpecialisedEntries | undefined {
  serial++;
  let factory: EntryFactory;
  try {
    factory = new Function(
      `"use strict";
// cancelkit program ${serial}
return function entries(parts) {
  const root = parts.root, ctx = parts.ctx, reentrant = parts.reentrant, thrownToError = parts.thrownToError;
  const UNKNOWN = parts.unknown, CelError = parts.errorClass, EMPTY = parts.empty, reentrantUntilMatch = parts.reentrantUntilMatch;
  function value(act) {
    if (ctx.busy) return reentrant(act);
    ctx.act = act;
    ctx.cost = 0;
    ctx.now = 0;
    ctx.busy = true;
    let v;
    try {
      v = root.fn(ctx);
    } catch (err) {
      v = thrownToError(err);
    }
    ctx.busy = false;
    ctx.act = EMPTY;
    return v;
  }
  return {
    matches(act = EMPTY) {
      return value(act) === true;
    },
    decide(act = EMPTY) {
      const v = value(act);
      return v === true ? "match" : v === false || v === UNKNOWN ? "no_match" : v instanceof CelError ? "error" : "non_boolean";
    },
    decideUntilMatch(items, from, binding, counts) {
      if (ctx.busy) return reentrantUntilMatch(items, from, binding, counts);
      const variable = binding.variable, property = binding.property;
      const stopProperty = binding.stopProperty, stopValue = binding.stopValue;
      const act = {};
      act[variable] = undefined;
      let noMatch = 0, error = 0, nonBoolean = 0, i = from;
      ctx.act = act;
      ctx.busy = true;
      try {
        for (; i < items.length; i++) {
          const item = items[i];
          if (stopProperty !== undefined && item[stopProperty] === stopValue) break;
          act[variable] = item[property];
          ctx.cost = 0;
          ctx.now = 0;
          let v;
          try {
            v = root.fn(ctx);
          } catch (err) {
            v = thrownToError(err);
          }
          if (v === true) break;
          if (v === false || v === UNKNOWN) noMatch++;
          else if (v instanceof CelError) error++;
          else nonBoolean++;
        }
      } finally {
        ctx.busy = false;
        ctx.act = EMPTY;
      }
      counts.noMatch = noMatch;
      counts.error = error;
      counts.nonBoolean = nonBoolean;
      return i;
    },
  };
};`,
    )() as EntryFactory;
  } catch {
    return undefined;
  }
  return factory(parts);
}
