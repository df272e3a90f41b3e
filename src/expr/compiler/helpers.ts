/**
 * Small runtime helpers used by several closure factories.
 *
 * @module
 */
import { isMap, mapSize } from "../runtime/core.js";
import { compileRegex } from "../runtime/regex.js";
import { CelError } from "../values.js";
import type { Fn } from "./context.js";

const SMALL_INTS: bigint[] = Array.from({ length: 1024 }, (_, k) => BigInt(k));

/** `BigInt(n)` without allocating for the small non-negative values sizes and counts usually are. */
export function smallInt(n: number): bigint {
  return n < 1024 ? SMALL_INTS[n]! : BigInt(n);
}

/** Number of Unicode code points of a string (CEL sizes and indexes count code points). */
export function codePointLength(s: string): number {
  let n = s.length;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c >= 0xd800 && c <= 0xdbff && k + 1 < s.length) {
      const d = s.charCodeAt(k + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        k++;
      }
    }
  }
  return n;
}

/** `size(v)` as a JS number, or -1 when `v` has no size. With `lenient`, null has size 0. */
export function sizeOf(v: unknown, lenient: boolean): number {
  if (typeof v === "string") return codePointLength(v);
  if (Array.isArray(v)) return v.length;
  if (v instanceof Uint8Array) return v.length;
  if (v === null || v === undefined) return lenient ? 0 : -1;
  if (isMap(v)) return mapSize(v);
  return -1;
}

/** Compiles a constant pattern once: a matcher, or the error RE2 gives for it. */
export function compileRegexConstant(pattern: string): ((s: string) => boolean) | CelError {
  const re = compileRegex(pattern);
  if (re instanceof CelError) return re;
  return (s) => re.matches(s);
}

/** `contains`, `startsWith` and `endsWith` on two strings, by function name. */
export function stringTest(fn: string): (s: string, t: string) => boolean {
  return fn === "contains"
    ? (s, t) => s.includes(t)
    : fn === "startsWith"
      ? (s, t) => s.startsWith(t)
      : (s, t) => s.endsWith(t);
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
