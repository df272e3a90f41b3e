/**
 * A field path read from a global variable (`event.data.user.id`) goes through a generated
 * accessor for plain objects, and through the general closures (built when first needed) for
 * everything else: maps, missing keys, nulls, scalars. Both must give what the path gives when
 * it is resolved at evaluation time (`typeCheck: false`, which uses no accessor), however the
 * shapes of the data alternate from one evaluation to the next.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EvalError } from "../../../src/expr/errors.js";
import { compile, type Program } from "../../../src/expr/program.js";

function outcome(program: Program, activation: Record<string, unknown>): unknown {
  try {
    return { value: program.evaluate(activation) };
  } catch (e) {
    if (e instanceof EvalError) return { error: e.code };
    throw e;
  }
}

const leaf = fc.constantFrom<unknown>("u1", "u2", 1n, null, true);
/** A value at one step of the path: a plain object or a map holding `key`, or something else. */
function level(key: string, inner: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: inner.map((v) => ({ [key]: v, other: 1 })) },
    { weight: 2, arbitrary: inner.map((v) => new Map<string, unknown>([[key, v]])) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>({}, null, "text", 7n, new Map()) },
  );
}
const event = level("data", level("user", level("id", leaf)));

describe("field paths from a global variable", () => {
  for (const dialect of ["cel", "inngest"] as const) {
    it(`agree with paths resolved at evaluation time, over alternating shapes (${dialect})`, () => {
      for (const source of ["event.data.user.id == 'u1'", "event.data.user.id", "has(event.data.user) ? event.data.user.id : 'none'"]) {
        const program = compile(source, { dialect, cache: false });
        const reference = compile(source, { dialect, cache: false, typeCheck: false });
        fc.assert(
          fc.property(fc.array(event, { minLength: 1, maxLength: 8 }), (events) => {
            // One program over a sequence: the general closures are built at the first shape
            // that needs them and then reused.
            for (const e of events) expect(outcome(program, { event: e }), source).toEqual(outcome(reference, { event: e }));
          }),
          { numRuns: 300 },
        );
      }
    });
  }

  it("reads plain objects, then maps, then plain objects again", () => {
    const program = compile("event.data.user.id == 'u1'", { cache: false });
    expect(program.evaluate({ event: { data: { user: { id: "u1" } } } })).toBe(true);
    expect(program.evaluate({ event: new Map([["data", { user: new Map([["id", "u1"]]) }]]) })).toBe(true);
    expect(() => program.evaluate({ event: { data: {} } })).toThrow(/no such key: user/);
    expect(program.evaluate({ event: { data: { user: { id: "u2" } } } })).toBe(false);
  });
});
