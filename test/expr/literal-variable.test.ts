/**
 * A comparison with a literal must mean what the same comparison means with that value in a
 * variable. The compiler specialises operators on constant operands (`x == 'lit'` without boxing,
 * `x in [constants]` as a `Set`, orderings against a number, string tests against a constant,
 * Inngest's missing-equals-null rule on a literal `null`) and constant folding rewrites what it
 * can; the general path (both operands variables) is the reference. One property per dialect
 * guards every such shortcut: literal on either side, every operator, operands missing, null, of
 * every kind.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CompileError } from "../../src/expr/errors.js";
import { compile, type CompileOptions, type Program } from "../../src/expr/program.js";
import { CelUint } from "../../src/expr/values.js";
import { sameValue, show } from "./support/cel-values.js";

/** A literal as written in CEL and the value a variable holds to mean the same. */
interface Literal {
  readonly text: string;
  readonly value: unknown;
}

const LITERALS: readonly Literal[] = [
  { text: "null", value: null },
  { text: "true", value: true },
  { text: "false", value: false },
  { text: "''", value: "" },
  { text: "'a'", value: "a" },
  { text: "'ab'", value: "ab" },
  { text: '"b"', value: "b" },
  { text: "'1'", value: "1" },
  { text: "0", value: 0n },
  { text: "1", value: 1n },
  { text: "-1", value: -1n },
  { text: "2", value: 2n },
  { text: "0.0", value: 0 },
  { text: "1.0", value: 1 },
  { text: "1.5", value: 1.5 },
  { text: "-2.5", value: -2.5 },
  { text: "1u", value: new CelUint(1n) },
  { text: "0u", value: new CelUint(0n) },
];

/** What the non-literal operand reads: missing attributes, null and values of every kind. */
const OPERAND_VALUES: readonly unknown[] = [
  undefined, null, true, false, "", "a", "ab", "b", "1", "abc", 0, 1, 1.5, -1, -2.5, 2, Number.NaN,
  0n, 1n, 2n, -1n, new CelUint(1n), [], ["a"], [1, "a"], { a: 1 }, new Map([["a", 1]]),
];

/** The non-literal operand: a path that may be missing at any depth. */
const OPERANDS = ["event.data.x", "event.data.o.x", "event.x"];

type Template = (operand: string, other: string) => string;

/** Every operator with a literal-specialised form, the literal on the right or the left. */
const TEMPLATES: readonly Template[] = [
  ...["==", "!=", "<", "<=", ">", ">=", "+"].flatMap((op): Template[] => [(x, k) => `${x} ${op} ${k}`, (x, k) => `${k} ${op} ${x}`]),
  (x, k) => `${x} in [${k}]`,
  (x, k) => `${x} in [${k}, 'zz']`,
  (x, k) => `${x} in ['zz', ${k}, 'a']`,
  (x, k) => `${k} in ${x}`,
  (x, k) => `${x}.contains(${k})`,
  (x, k) => `${x}.startsWith(${k})`,
  (x, k) => `${x}.endsWith(${k})`,
  (x, k) => `${x}.matches(${k})`,
  (x, k) => `(${x} == ${k}) == true`,
  (x, k) => `!(${x} != ${k})`,
  (x, k) => `${x} == ${k} || ${x} != ${k}`,
  (x, k) => `${x} < ${k} && ${x} >= ${k}`,
];

/** Where the variable that holds the literal's value lives. */
const VARIABLE = "event.k";

/** A value, or the error code (compile errors as `compile: <issue codes>`). */
type Outcome = { readonly value: unknown } | { readonly error: string };

function sameOutcome(a: Outcome, b: Outcome): boolean {
  if ("value" in a && "value" in b) return sameValue(a.value, b.value);
  return "error" in a && "error" in b && a.error === b.error;
}

/** The event: the operand's value at its path (absent when undefined) and the literal's value at `k`. */
function eventWith(operand: string, value: unknown, literal: unknown): Record<string, unknown> {
  const event: Record<string, unknown> = { k: literal };
  const path = operand.split(".").slice(1);
  let at = event;
  for (const [i, key] of path.entries()) {
    if (i === path.length - 1) {
      if (value !== undefined) at[key] = value;
    } else {
      at = (at[key] ??= {}) as Record<string, unknown>;
    }
  }
  return event;
}

const DIALECTS: readonly { readonly name: string; readonly options: CompileOptions }[] = [
  { name: "inngest", options: { dialect: "inngest", cache: false } },
  { name: "cel", options: { dialect: "cel", cache: false, variables: { event: "dyn" } } },
];

/** Compiles once per source (programs are evaluated on many events). */
function compiler(options: CompileOptions): (source: string) => Program | string {
  const programs = new Map<string, Program | string>();
  return (source) => {
    let p = programs.get(source);
    if (p === undefined) {
      try {
        p = compile(source, options);
      } catch (error) {
        if (!(error instanceof CompileError)) throw error;
        p = `compile: ${error.issues.map((i) => i.code).join(",")}`;
      }
      programs.set(source, p);
    }
    return p;
  };
}

function run(program: Program | string, activation: Record<string, unknown>): Outcome {
  if (typeof program === "string") return { error: program };
  const r = program.evaluateResult(activation);
  return r.ok ? { value: r.value } : { error: r.error.code };
}

/** Compares one template, operand, literal and operand value; `undefined` when the literal form does not compile. */
function compare(program: (source: string) => Program | string, template: Template, operand: string, literal: Literal, value: unknown): Outcome | undefined {
  const withLiteral = template(operand, literal.text);
  const withVariable = template(operand, VARIABLE);
  const activation = { event: eventWith(operand, value, literal.value) };
  const a = run(program(withLiteral), activation);
  // A checker may reject a literal whose type it knows where it accepts the dyn variable.
  if ("error" in a && a.error.startsWith("compile:")) return undefined;
  const b = run(program(withVariable), activation);
  if (!sameOutcome(a, b)) {
    throw new Error(`${withLiteral} gives ${show(a)} but ${withVariable} gives ${show(b)} on ${show(activation.event)}`);
  }
  return a;
}

/** CEL text of a double that reads back as a double (`5` would be an int). */
function doubleText(x: number): string {
  const text = String(x);
  return /[.e]/.test(text) ? text : `${text}.0`;
}

/** Literals beyond the table: any int64, uint64, finite double, and strings of a plain alphabet. */
const generatedLiteral: fc.Arbitrary<Literal> = fc.oneof(
  fc.bigInt({ min: -(1n << 63n) + 1n, max: (1n << 63n) - 1n }).map((n) => ({ text: `${n}`, value: n })),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((n) => ({ text: `${n}u`, value: new CelUint(n) })),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => ({ text: doubleText(x), value: x })),
  fc.string({ unit: fc.constantFrom("a", "b", "1", " ", "é", "😀"), maxLength: 4 }).map((x) => ({ text: `'${x}'`, value: x })),
  fc.constantFrom(...LITERALS),
);
/** Operand values beyond the table, near the generated literals. */
const generatedValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...OPERAND_VALUES),
  fc.double(),
  fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
  fc.string({ unit: fc.constantFrom("a", "b", "1", " ", "é", "😀"), maxLength: 4 }),
);

describe("a literal operand and the same value in a variable", () => {
  for (const { name, options } of DIALECTS) {
    it(`give the same result for every operator, both sides, every table value, in the ${name} dialect`, () => {
      const program = compiler(options);
      let compared = 0;
      let values = 0;
      for (const template of TEMPLATES) {
        for (const operand of OPERANDS) {
          for (const literal of LITERALS) {
            for (const value of OPERAND_VALUES) {
              const a = compare(program, template, operand, literal, value);
              if (a === undefined) continue;
              compared++;
              if ("value" in a) values++;
            }
          }
        }
      }
      // Not vacuous: most cases compile, and many give a value rather than an error.
      const all = TEMPLATES.length * OPERANDS.length * LITERALS.length * OPERAND_VALUES.length;
      expect(compared).toBeGreaterThan(all * 0.8);
      expect(values).toBeGreaterThan(compared * 0.5);
    });

    it(`give the same result for generated literals and operand values in the ${name} dialect`, () => {
      const program = compiler(options);
      let compared = 0;
      fc.assert(
        fc.property(fc.constantFrom(...TEMPLATES), fc.constantFrom(...OPERANDS), generatedLiteral, generatedValue, (template, operand, literal, value) => {
          if (compare(program, template, operand, literal, value) !== undefined) compared++;
        }),
        { numRuns: 2000 },
      );
      expect(compared).toBeGreaterThan(name === "inngest" ? 1500 : 500);
    });
  }
});
