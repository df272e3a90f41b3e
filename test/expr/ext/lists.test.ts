/**
 * The lists extension, on the cases of cel-go's `ext/lists_test.go` (those without protobuf
 * messages), plus the cost limit on `lists.range`.
 */
import { describe, expect, it } from "vitest";
import { compile } from "../../../src/expr/program.js";
import { goldenCases } from "./golden.js";

goldenCases("lists extension (cel-go's ext/lists_test.go)", ["lists"], [
  { expr: "lists.range(4) == [0,1,2,3]" },
  { expr: "lists.range(0) == []" },
  { expr: "[5,1,2,3].reverse() == [3,2,1,5]" },
  { expr: "[].reverse() == []" },
  { expr: "[1].reverse() == [1]" },
  { expr: "['are', 'you', 'as', 'bored', 'as', 'I', 'am'].reverse() == ['am', 'I', 'as', 'bored', 'as', 'you', 'are']" },
  { expr: "[false, true, true].reverse().reverse() == [false, true, true]" },
  { expr: "[1,2,3,4].slice(0, 4) == [1,2,3,4]" },
  { expr: "[1,2,3,4].slice(0, 0) == []" },
  { expr: "[1,2,3,4].slice(1, 1) == []" },
  { expr: "[1,2,3,4].slice(4, 4) == []" },
  { expr: "[1,2,3,4].slice(1, 3) == [2, 3]" },
  { expr: "[1,2,3,4].slice(3, 0)", err: "cannot slice(3, 0), start index must be less than or equal to end index" },
  { expr: "[1,2,3,4].slice(0, 10)", err: "cannot slice(0, 10), list is length 4" },
  { expr: "[1,2,3,4].slice(-5, 10)", err: "cannot slice(-5, 10), negative indexes not supported" },
  { expr: "[1,2,3,4].slice(-5, -3)", err: "cannot slice(-5, -3), negative indexes not supported" },
  { expr: "dyn([]).flatten() == []" },
  { expr: "dyn([1,2,3,4]).flatten() == [1,2,3,4]" },
  { expr: "[1,[2,[3,4]]].flatten() == [1,2,[3,4]]" },
  { expr: "[1,2,[],[],[3,4]].flatten() == [1,2,3,4]" },
  { expr: "[1,[2,[3,4]]].flatten(2) == [1,2,3,4]" },
  { expr: "[1,[2,[3,[4]]]].flatten(-1) == [1,2,3,4]", err: "level must be non-negative" },
  { expr: "[].sort() == []" },
  { expr: "[1].sort() == [1]" },
  { expr: "[4, 3, 2, 1].sort() == [1, 2, 3, 4]" },
  { expr: '["d", "a", "b", "c"].sort() == ["a", "b", "c", "d"]' },
  { expr: '["d", 3, 2, "c"].sort() == ["a", "b", "c", "d"]', err: "list elements must have the same type" },
  { expr: "[].sortBy(e, e) == []" },
  { expr: '["a"].sortBy(e, e) == ["a"]' },
  { expr: "[-3, 1, -5, -2, 4].sortBy(e, -(e * e)) == [-5, 4, -3, -2, 1]" },
  { expr: "[-3, 1, -5, -2, 4].map(e, e * 2).sortBy(e, -(e * e)) == [-10, 8, -6, -4, 2]" },
  { expr: "lists.range(3).sortBy(e, -e) == [2, 1, 0]" },
  { expr: '["a", "c", "b", "first"].sortBy(e, e == "first" ? "" : e) == ["first", "a", "b", "c"]' },
  { expr: "[].distinct() == []" },
  { expr: "[1].distinct() == [1]" },
  { expr: "[-2, 5, -2, 1, 1, 5, -2, 1].distinct() == [-2, 5, 1]" },
  { expr: "['c', 'a', 'a', 'b', 'a', 'b', 'c', 'c'].distinct() == ['c', 'a', 'b']" },
  { expr: '[1, 2.0, "c", 3, "c", 1].distinct() == [1, 2.0, "c", 3]' },
  { expr: "[1, 1.0, 2].distinct() == [1, 2]" },
  { expr: "[[1], [1], [2]].distinct() == [[1], [2]]" },
  // cel-go's runtime errors of the same file.
  { expr: "dyn({}).flatten()", err: "no such overload" },
  { expr: "dyn({}).flatten(0)", err: "no such overload" },
  { expr: "[].flatten(-1)", err: "level must be non-negative" },
  { expr: "[].flatten(dyn('1'))", err: "no such overload" },
]);

describe("lists extension: first and last (optionals)", () => {
  it("returns optionals", () => {
    expect(compile("[1, 2, 3].first().value() == 1 && [1, 2, 3].last().value() == 3 && ![].first().hasValue()", { extensions: ["lists", "optionals"] }).evaluate()).toBe(true);
  });
});

describe("lists.range and the cost budget", () => {
  it("is charged by the size of the list it builds", () => {
    const r = compile("size(lists.range(n)) > 0", { extensions: ["lists"], limits: { maxCost: 1000 } }).evaluateResult({ n: 5000n });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe("cost_limit");
    expect(compile("size(lists.range(n))", { extensions: ["lists"], limits: { maxCost: 1000 } }).evaluate({ n: 500n })).toBe(500n);
  });

  it("stops at the list length limit", () => {
    const r = compile("size(lists.range(n))", { extensions: ["lists"], limits: { maxListLength: 100 } }).evaluateResult({ n: 101n });
    expect(r.ok).toBe(false);
  });
});
