/**
 * Membership among list elements under CEL equality, in linear time where CEL equality allows it,
 * and the work it costs (for the cost budget).
 *
 * CEL equality is heterogeneous for numbers (`1 == 1u == 1.0`) and not transitive past 2^53
 * (`9007199254740993 == 9007199254740992.0 == 9007199254740992`, yet the two ints differ), so it
 * is not an equivalence a hash can serve in general. It is one on the elements that have a
 * {@link hashKey}: strings, booleans, null, and numbers of magnitude below 2^53, where every int,
 * uint and double is exactly its value as a JS number. An element with a key equals exactly the
 * elements with the same key (JS `SameValueZero`, under which `0` and `-0` coincide as in CEL),
 * and never one without a key; so the keyed elements are tested through a `Set`, and only the
 * others (lists, maps, bytes, timestamps, big numbers, NaN, …) are compared pairwise with
 * `celEquals`, in the same order as the plain loops compare them. Results are exactly those of
 * the plain loops ({@link plainContains}, {@link plainDistinct}); a differential test holds them to it.
 *
 * @module
 */
import { CelOptional, CelUint } from "../values.js";
import { celEquals, isMap, mapGet, mapKeys } from "./core.js";

/** Magnitude below which an int, a uint and a double are exactly their value as a JS number. */
const EXACT = 2 ** 53;
const EXACT_BIG = BigInt(EXACT);

/** The {@link hashKey} of an element that has none. */
const NO_KEY: unique symbol = Symbol("no key");

/** Below this many pairs the plain loops are as fast as building a set, and allocate nothing. */
const PLAIN_PAIRS = 32;

/**
 * A key under which the elements CEL-equal to `v`, and only they, coincide (`SameValueZero`), or
 * {@link NO_KEY}. Keys of different kinds never coincide: a string, a number, a boolean, `null`.
 */
function hashKey(v: unknown): unknown {
  switch (typeof v) {
    case "string":
    case "boolean":
      return v;
    case "number":
      // NaN equals nothing, and a double of 2^53 or more may equal several ints.
      return v > -EXACT && v < EXACT ? v : NO_KEY;
    case "bigint":
      return v > -EXACT_BIG && v < EXACT_BIG ? Number(v) : NO_KEY;
    case "undefined":
      return null;
    case "object":
      if (v === null) return null;
      if (v instanceof CelUint) return v.value < EXACT_BIG ? Number(v.value) : NO_KEY;
      return NO_KEY;
    default:
      return NO_KEY;
  }
}

/** The elements of a list indexed for membership tests: the keys of those that have one, the others as they are. */
class ElementIndex {
  private readonly keys = new Set<unknown>();
  private readonly rest: unknown[] = [];

  constructor(list: readonly unknown[]) {
    for (const w of list) {
      const k = hashKey(w);
      if (k === NO_KEY) this.rest.push(w);
      else this.keys.add(k);
    }
  }

  /** Whether some element is CEL-equal to `v` (compared as `celEquals(v, element)`, as the plain loop does). */
  has(v: unknown): boolean {
    const k = hashKey(v);
    if (k !== NO_KEY) return this.keys.has(k);
    for (const w of this.rest) if (celEquals(v, w)) return true;
    return false;
  }
}

function plainHas(list: readonly unknown[], v: unknown): boolean {
  for (const w of list) if (celEquals(v, w)) return true;
  return false;
}

/** Whether every element of `sub` is CEL-equal to some element of `list`, by comparing every pair. */
export function plainContains(list: readonly unknown[], sub: readonly unknown[]): boolean {
  return sub.every((v) => plainHas(list, v));
}

/** The first of each group of CEL-equal elements, in order, by comparing every pair. */
export function plainDistinct(list: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const v of list) if (!out.some((w) => celEquals(v, w))) out.push(v);
  return out;
}

/** Whether every element of `sub` is CEL-equal to some element of `list`. */
export function containsAll(list: readonly unknown[], sub: readonly unknown[]): boolean {
  if (list.length * sub.length <= PLAIN_PAIRS) return plainContains(list, sub);
  const index = new ElementIndex(list);
  for (const v of sub) if (!index.has(v)) return false;
  return true;
}

/** Whether some element of `a` is CEL-equal to some element of `b`. */
export function containsAny(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length * b.length <= PLAIN_PAIRS) return a.some((v) => plainHas(b, v));
  const index = new ElementIndex(b);
  for (const v of a) if (index.has(v)) return true;
  return false;
}

/** The first of each group of CEL-equal elements, in order (what {@link plainDistinct} gives). */
export function distinctElements(list: readonly unknown[]): unknown[] {
  if (list.length * list.length <= PLAIN_PAIRS) return plainDistinct(list);
  const seen = new Set<unknown>();
  // Kept elements without a key: only they can equal a later element without a key.
  const kept: unknown[] = [];
  const out: unknown[] = [];
  for (const v of list) {
    const k = hashKey(v);
    if (k !== NO_KEY) {
      if (seen.has(k)) continue;
      seen.add(k);
    } else {
      if (kept.some((w) => celEquals(v, w))) continue;
      kept.push(v);
    }
    out.push(v);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The work, in cost units

/**
 * The most work one `celEquals(x, y)` with `y` this value may take: one unit per value it may
 * visit (a map entry counts its key too), and a string or bytes one more per 16 characters, as
 * scans are charged. It is also the work of computing it.
 */
function equalityWeight(v: unknown): number {
  if (typeof v === "string") return 1 + (v.length >> 4);
  if (typeof v !== "object" || v === null) return 1;
  if (Array.isArray(v)) {
    let w = 1;
    for (const x of v) w += equalityWeight(x);
    return w;
  }
  if (v instanceof Uint8Array) return 1 + (v.length >> 4);
  if (v instanceof CelOptional) return v.hasValue ? 1 + equalityWeight(v.value) : 1;
  if (isMap(v)) {
    let w = 1;
    for (const k of mapKeys(v)) w += 1 + equalityWeight(mapGet(v, k));
    return w;
  }
  return 1;
}

/** The elements of `list` that have no hash key (one pass; most lists have none). */
function unkeyedOf(list: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const v of list) if (hashKey(v) === NO_KEY) out.push(v);
  return out;
}

function weightOf(values: readonly unknown[]): number {
  let weight = 0;
  for (const v of values) weight += equalityWeight(v);
  return weight;
}

/**
 * Units of work of testing the elements of one list for membership in the other
 * ({@link containsAll}, {@link containsAny}, either way round): one per element of either (its key),
 * and when both have elements without a key, their weights (computed once) and the pairwise
 * comparisons among them, each bounded by the weight of one side: `min(na·Wb, nb·Wa)`.
 */
export function membershipCost(a: readonly unknown[], b: readonly unknown[]): number {
  const units = a.length + b.length;
  const ua = unkeyedOf(a);
  if (ua.length === 0) return units;
  const ub = unkeyedOf(b);
  if (ub.length === 0) return units;
  const wa = weightOf(ua);
  const wb = weightOf(ub);
  return units + wa + wb + Math.min(ua.length * wb, ub.length * wa);
}

/**
 * Units of work of {@link distinctElements}: one per element, and for the elements without a key
 * their weights and the comparison of each with those kept before it (at most `n·W`).
 */
export function distinctCost(list: readonly unknown[]): number {
  const u = unkeyedOf(list);
  // Weights only when there are comparisons to weigh: computing them reads the elements through.
  if (u.length < 2) return list.length;
  const weight = weightOf(u);
  return list.length + weight + u.length * weight;
}

/** Units of work of sorting `n` elements: at most `n·⌈log2 n⌉` comparisons. */
export function sortCost(n: number): number {
  return n < 2 ? 0 : n * Math.ceil(Math.log2(n));
}
