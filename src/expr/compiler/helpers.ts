/**
 * Small runtime helpers used by several closure factories.
 *
 * @module
 */
import { compileRegex } from "../runtime/regex.js";
import { CelError } from "../values.js";
import type { Fn } from "./context.js";

/** Compiles a constant pattern once: a matcher, or the error RE2 gives for it. */
export function compileRegexConstant(pattern: string): ((s: string) => boolean) | CelError {
  const re = compileRegex(pattern);
  if (re instanceof CelError) return re;
  return (s) => re.matches(s);
}

/**
 * For `a OP b` where one side is a constant: the constant and the other side (the right side's
 * constant wins when both are); `undefined` when neither is.
 */
export function constantOperand<E>(
  left: E,
  right: E,
  constOf: (e: E) => { readonly value: unknown } | undefined,
): { readonly constant: { readonly value: unknown }; readonly other: E } | undefined {
  const rc = constOf(right);
  if (rc !== undefined) return { constant: rc, other: left };
  const lc = constOf(left);
  return lc === undefined ? undefined : { constant: lc, other: right };
}

/** A closure returning `v`. */
export function constFn(v: unknown): Fn {
  return () => v;
}

/** An error value without a node gets node `id` (the call that failed). */
export function attachNode(r: unknown, id: number): unknown {
  return r instanceof CelError && r.nodeId === 0 ? new CelError(r.code, r.message, id) : r;
}
