/**
 * Membership under CEL equality through a hash set (`runtime/element-set.ts`) gives exactly what
 * comparing every pair gives, on values chosen where CEL equality is hardest to hash: numbers of
 * the three kinds on both sides of 2^53 (where it stops being transitive), NaN, -0, and values
 * that have no key (lists, maps, bytes, optionals, timestamps).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { containsAll, containsAny, distinctElements, membershipCost, plainContains, plainDistinct } from "../../../src/expr/runtime/element-set.js";
import { CelDuration, CelOptional, CelUint } from "../../../src/expr/values.js";

const BIG = 2n ** 53n;

/** Numbers that are equal across kinds, or nearly: small ones, and ones around 2^53 and 2^63. */
const numbers: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: -3, max: 3 }).chain((k) => fc.constantFrom<unknown>(k, BigInt(k), k + 0.5, k >= 0 ? new CelUint(BigInt(k)) : -0)),
  fc.bigInt({ min: BIG - 3n, max: BIG + 3n }).chain((k) => fc.constantFrom<unknown>(k, -k, new CelUint(k), Number(k), -Number(k))),
  fc.constantFrom<unknown>(Number.NaN, Infinity, -Infinity, 2 ** 63, 2n ** 63n - 1n, new CelUint(2n ** 63n), 9007199254740993n, 9007199254740992),
);

const scalars: fc.Arbitrary<unknown> = fc.oneof(
  numbers,
  fc.constantFrom<unknown>("", "a", "1", "b", true, false, null, undefined),
  fc.constantFrom<unknown>(new Uint8Array([1]), new Uint8Array([1]), new CelDuration(1, 0), CelOptional.NONE),
);

const elements: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalars,
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom("a", "b"), tie("value"), { maxKeys: 2 }),
    tie("value").map((v) => CelOptional.of(v)),
  ),
})).value;

/**
 * Lists long enough (and short enough) to take both the plain and the hashed paths: `size: "max"`
 * lets lengths reach 24 (fast-check's default size stops at 10, where every pair of lists stays
 * under the 32 pairs that take the plain loops).
 */
const lists = fc.array(elements, { maxLength: 24, size: "max" });

describe("membership through a hash set", () => {
  it("gives what comparing every pair gives", () => {
    fc.assert(
      fc.property(lists, lists, (a, b) => {
        expect(containsAll(a, b)).toBe(plainContains(a, b));
        expect(containsAny(a, b)).toBe(b.some((v) => plainContains(a, [v])));
        const distinct = distinctElements(a);
        const plain = plainDistinct(a);
        // The same elements, by identity, in the same order.
        expect(distinct.length).toBe(plain.length);
        distinct.forEach((v, k) => expect(Object.is(v, plain[k])).toBe(true));
      }),
      { numRuns: 2000 },
    );
  });

  it("keeps CEL's non-transitive equality past 2^53", () => {
    const ints = Array.from({ length: 40 }, (_, k) => BIG + BigInt(k));
    // Every int from 2^53 to 2^53 + 39 equals some double near it, but they are 40 distinct ints.
    expect(distinctElements(ints)).toHaveLength(40);
    expect(containsAll(ints.map(Number), ints)).toBe(true);
    expect(containsAll(ints.slice(0, 20), ints)).toBe(false);
  });
});

describe("the work it costs", () => {
  it("is linear for keyed elements and quadratic for the others", () => {
    const keyed = (n: number): unknown[] => Array.from({ length: n }, (_, k) => k);
    const unkeyed = (n: number): unknown[] => Array.from({ length: n }, (_, k) => [k]);
    expect(membershipCost(keyed(2000), keyed(2000))).toBe(4000);
    expect(membershipCost(unkeyed(2000), unkeyed(2000))).toBeGreaterThan(2000 * 2000);
  });
});
