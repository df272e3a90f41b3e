/**
 * The matcher's contract, proved by generated cases: after any sequence of adds (of source text or
 * of compiled programs, re-adding ids), removes and matches, `match(a)` is exactly the ids whose
 * `compile(expression, options).decide(a)` is `'match'`, in the order they were added — in both
 * dialects, deciding by the index (the default) and by the programs alone (`verifyAll`).
 *
 * fast-check prints the seed and the shrunk counterexample of a failure; `FC_SEED` replays it.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Matcher } from "../../../src/expr/matcher/index.js";
import { compile, type Program } from "../../../src/expr/program.js";
import type { DialectName } from "../../../src/expr/dialect.js";
import { activation, celExpression, inngestExpression } from "./generators.js";

const RUNS = Number(process.env.MATCHER_PROPERTY_RUNS ?? 150);

type Op =
  | { readonly kind: "add"; readonly id: number; readonly expr: number; readonly asProgram: boolean }
  | { readonly kind: "remove"; readonly id: number }
  | { readonly kind: "match"; readonly activation: number };

const ID_COUNT = 12;

function opArb(expressions: number, activations: number): fc.Arbitrary<Op> {
  return fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant("add" as const),
        id: fc.nat(ID_COUNT - 1),
        expr: fc.nat(expressions - 1),
        asProgram: fc.nat(4).map((n) => n === 0),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("remove" as const), id: fc.nat(ID_COUNT - 1) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("match" as const), activation: fc.nat(activations - 1) }) },
  );
}

function tryCompile(source: string, dialect: DialectName): Program | undefined {
  try {
    return compile(source, { dialect });
  } catch {
    return undefined;
  }
}

interface Tally {
  matches: number;
  nonEmpty: number;
  indexed: number;
  partly: number;
  evaluated: number;
}

function property(dialect: DialectName, expression: fc.Arbitrary<string>, verifyAll: boolean, tally: Tally) {
  const caseArb = fc
    .record({
      sources: fc.array(expression, { minLength: 4, maxLength: 16 }),
      activations: fc.array(activation, { minLength: 4, maxLength: 12 }),
    })
    .chain(({ sources, activations }) =>
      fc.record({
        sources: fc.constant(sources),
        activations: fc.constant(activations),
        ops: fc.array(opArb(sources.length, activations.length), { minLength: 20, maxLength: 80 }),
      }),
    );
  return fc.property(caseArb, ({ sources, activations, ops }) => {
    const programs = sources.map((s) => tryCompile(s, dialect));
    const matcher = new Matcher({ dialect, verifyAll });
    /** The model: id → program, in order of (latest) addition. */
    const model = new Map<string, Program>();
    for (const op of ops) {
      if (op.kind === "add") {
        const id = `id${op.id}`;
        const program = programs[op.expr];
        const source = sources[op.expr]!;
        if (program === undefined) {
          // A compile error leaves the matcher unchanged.
          expect(() => matcher.add(id, source)).toThrow();
          continue;
        }
        matcher.add(id, op.asProgram ? program : source);
        model.delete(id);
        model.set(id, program);
      } else if (op.kind === "remove") {
        const id = `id${op.id}`;
        expect(matcher.remove(id)).toBe(model.delete(id));
      } else {
        const a = activations[op.activation]!;
        const expected = [...model].filter(([, p]) => p.decide(a) === "match").map(([id]) => id);
        const got = matcher.match(a);
        if (JSON.stringify(got) !== JSON.stringify(expected)) {
          const detail = [...model].map(([id, p]) => `${id}: ${p.source} → ${p.decide(a)}`).join("\n");
          expect(got, `activation ${describeValue(a)}\n${detail}`).toEqual(expected);
        }
        tally.matches++;
        if (expected.length > 0) tally.nonEmpty++;
      }
      expect(matcher.size).toBe(model.size);
    }
    const stats = matcher.stats();
    expect(stats.indexed + stats.partlyIndexed + stats.evaluated).toBe(stats.expressions);
    tally.indexed += stats.indexed;
    tally.partly += stats.partlyIndexed;
    tally.evaluated += stats.evaluated;
  });
}

/** JSON with bigints, Maps, Dates and `undefined` made visible. */
function describeValue(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === "bigint") return `${x}n`;
    if (x === undefined) return "<undefined>";
    if (x instanceof Map) return { "<Map>": [...x] };
    if (typeof x === "number" && !Number.isFinite(x)) return String(x);
    return x;
  });
}

function newTally(): Tally {
  return { matches: 0, nonEmpty: 0, indexed: 0, partly: 0, evaluated: 0 };
}

describe("Matcher equals the naive loop over compiled programs", () => {
  for (const dialect of ["cel", "inngest"] as const) {
    for (const verifyAll of [false, true]) {
      it(`${dialect} dialect${verifyAll ? ", verifyAll" : ""}`, () => {
        const tally = newTally();
        fc.assert(property(dialect, dialect === "cel" ? celExpression : inngestExpression, verifyAll, tally), { numRuns: verifyAll ? RUNS / 3 : RUNS, endOnFailure: process.env.MATCHER_NO_SHRINK === "1" });
        if (process.env.MATCHER_TALLY) console.log(dialect, verifyAll, tally);
        // The generators must reach the interesting cases, or the property proves little.
        expect(tally.nonEmpty).toBeGreaterThan(tally.matches / 20);
        expect(tally.indexed).toBeGreaterThan(0);
        if (!verifyAll) expect(tally.partly + tally.evaluated).toBeGreaterThan(0);
      });
    }
  }
});
