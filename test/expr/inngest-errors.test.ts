/**
 * Evaluation errors in the `inngest` dialect: an error never turns into a match.
 *
 * JSON numbers are doubles, and CEL has no `double % int` (nor `-`, `*`, `/` of a double and an
 * int, nor `%` of doubles): `event.data.n % 3 != 0` is an error. Inngest's evaluator hands a call
 * whose argument is an error the static result it gives a missing attribute (`pkg/expressions/
 * unknown.go`: `!=` → true, `==` → false, `<` → true on the left…), so in Inngest that filter
 * decides "match" for every run. The dialect deliberately does not follow it there: an evaluation
 * error propagates (the run is counted `expression_error`), and only a *missing attribute* — the
 * unknown of an absent field, or the error of an absent map key or list element — keeps Inngest's
 * rules. See docs/library.md, "Dialects".
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Matcher } from "../../src/expr/matcher/index.js";
import { compile, type CompileOptions, type Decision } from "../../src/expr/program.js";

const inngest: CompileOptions = { dialect: "inngest" };

function decideIn(source: string, data: Record<string, unknown>, options: CompileOptions = inngest): Decision {
  return compile(source, options).decide({ event: { name: "e", data } });
}

type Row = readonly [source: string, data: Record<string, unknown>, expected: Decision];

/** One test per row: the source decides `expected` on an event with `data`. */
function itDecides(rows: readonly Row[]): void {
  for (const [source, data, expected] of rows) {
    it(`${source} → ${expected}`, () => expect(decideIn(source, data)).toBe(expected));
  }
}

/** `n` is a JSON number (a double) in every row, as in a stored event. */
const N_VALUES = [0, 1, 3, 4, 2.5] as const;

describe("inngest dialect: arithmetic on a double and an int is an error, whatever compares it", () => {
  const sources = [
    // The reported filter, and the same error under every comparison.
    "event.data.n % 3 != 0",
    "event.data.n % 3 == 0",
    "event.data.n % 3 < 1",
    "event.data.n % 3 >= 1",
    "0 != event.data.n % 3",
    "1 < event.data.n % 3",
    "event.data.n / 2 == 1.5",
    "event.data.n / 2 != 1.5",
    "event.data.n * 2 != 6",
    "event.data.n * 2 < 100",
    "event.data.n - 1 > 0",
    "event.data.n - 1 <= 0",
    "1 - event.data.n < 0",
    "2 * event.data.n == 6.0",
    "10 / event.data.n != 0.0",
    "event.data.n % 3 in [0, 1, 2]",
    "event.data.n % 3 == null",
    "event.data.n % 3 != null",
    "-(event.data.n % 3) != 0",
    // Combined with !, && and ||: the error is never absorbed by a side that does not decide.
    "!(event.data.n % 3 == 0)",
    "!(event.data.n % 3 != 0)",
    "!(event.data.n * 2 < 0)",
    "event.data.n % 3 != 0 && true",
    "true && event.data.n % 3 != 0",
    "event.data.n % 3 != 0 && false",
    "event.data.n % 3 != 0 || false",
    "false || event.data.n % 3 != 0",
    "!(event.data.n % 3 == 0 || false)",
    "!(false || event.data.n % 3 == 0)",
    "!(event.data.n - 1 < 0) && event.data.n > 0",
    "(event.data.n % 3 == 0) == false",
    "(event.data.n % 3 == 0) != true",
    "event.data.n % 3 == 0 ? false : true",
    "event.data.n / 2 ? true : true",
    "event.data.list.exists(x, x % 2 == 0)",
    "!event.data.list.exists(x, x % 2 == 0)",
    // Inngest's `exists`/`all` stop at the first element whose test fails (cel's let a later
    // element decide): 1.0 fails before 2.0 could match.
    "event.data.list.exists(x, x % 2 == 0 || x == 2.0)",
    "!event.data.list.all(x, x == 1.0 && x % 2 == 1)",
    "!event.data.list.all(x, x % 2 == 1)",
    "event.data.list.exists_one(x, x % 2 == 0) || event.data.list.exists_one(x, x % 2 != 0)",
    "event.data.list.filter(x, x % 2 == 0) != []",
  ];
  for (const source of sources) {
    it(`${source} is an error for n in ${N_VALUES.join(", ")}`, () => {
      for (const n of N_VALUES) expect(decideIn(source, { n, list: [1, 2, 3] }), `n = ${n}`).toBe("error");
    });
  }
});

describe("inngest dialect: arithmetic the checker can type is refused at compile time", () => {
  // Inngest only parses (its lifting turns the literals into variables), so it would accept these
  // and then, by the rule above, match every run; the checker rejects them (a 400 on a request).
  for (const source of ["event.data.n % 3.0 != 0.0", "size(event.data.n % 3) == 0", "1.5 % 2 == 0"]) {
    it(source, () => expect(() => compile(source, inngest)).toThrow(/found no matching overload/));
  }
});

describe("inngest dialect: strings and booleans in arithmetic are errors too", () => {
  const rows: Row[] = [
    ["event.data.s - 1 != 0", { s: "a" }, "error"],
    ["event.data.s * 2 == 'aa'", { s: "a" }, "error"],
    ["event.data.s % 2 < 1", { s: "3" }, "error"],
    ["event.data.b / 1 != 0", { b: true }, "error"],
    ["-event.data.s != ''", { s: "a" }, "error"],
    ["!(event.data.s * 2 == 'aa')", { s: "a" }, "error"],
    // Ordering a string with a number is an error, so is its negation.
    ["!(event.data.s < 1)", { s: "a" }, "error"],
    ["(event.data.s < 1) != true", { s: "a" }, "error"],
  ];
  itDecides(rows);
});

describe("inngest dialect: division and modulus by zero", () => {
  const rows: Row[] = [
    ["int(event.data.n) / 0 != 1", { n: 3 }, "error"],
    ["int(event.data.n) / 0 == 1", { n: 3 }, "error"],
    ["int(event.data.n) % 0 != 1", { n: 3 }, "error"],
    ["!(int(event.data.n) % 0 == 1)", { n: 3 }, "error"],
    ["event.data.k / event.data.z > 0 || false", { k: 3n, z: 0n }, "error"],
    ["event.data.k % event.data.z < 1", { k: 3n, z: 0n }, "error"],
    // A double divided by zero is an infinity, not an error (CEL and Go alike).
    ["event.data.n / 0.0 > 1.0", { n: 3 }, "match"],
    // And a double divided by the int 0 is the mixed-type error again.
    ["event.data.n / 0 != 1", { n: 3 }, "error"],
  ];
  itDecides(rows);
});

describe("inngest dialect: what still decides", () => {
  const rows: Row[] = [
    // Well-typed arithmetic works: convert with int(), or use double literals.
    ["int(event.data.n) % 3 != 0", { n: 3 }, "no_match"],
    ["int(event.data.n) % 3 != 0", { n: 4 }, "match"],
    ["event.data.n / 2.0 == 1.5", { n: 3 }, "match"],
    ["event.data.n * 2.0 != 6.0", { n: 3 }, "no_match"],
    ["event.data.n - 1.0 > 0.0", { n: 3 }, "match"],
    // A side that decides absorbs the other's error, as CEL's `||` and `&&` do.
    ["event.data.n % 3 != 0 || true", { n: 3 }, "match"],
    ["true || event.data.n % 3 != 0", { n: 3 }, "match"],
    ["false && event.data.n % 3 != 0", { n: 3 }, "no_match"],
    // Inngest's documented `+`: operands of two kinds concatenate as Go prints them.
    ["event.data.n + 1 == '31'", { n: 3 }, "match"],
    // A missing attribute keeps Inngest's rules (an absent key or element included).
    ["event.data.missing != 0", {}, "match"],
    ["event.data['missing'] != 'x'", {}, "match"],
    ["event.data.list[5] != 1", { list: [1] }, "match"],
    ["!(event.data['missing'] == 'x')", {}, "match"],
    ["event.data['missing'] == 'x' || true", {}, "match"],
  ];
  itDecides(rows);
});

describe("inngest dialect: the Matcher agrees on error-producing filters", () => {
  it("never returns an expression whose evaluation errs", () => {
    const sources = ["event.data.n % 3 != 0", "!(event.data.n % 3 == 0)", "event.data.n * 2 < 100", "event.data.n - 1 > 0 || false", "int(event.data.n) % 3 != 0"];
    const m = new Matcher({ dialect: "inngest" });
    sources.forEach((s, i) => m.add(`e${i}`, s));
    for (const n of N_VALUES) {
      const activation = { event: { name: "e", data: { n } } };
      const expected = sources.flatMap((s, i) => (compile(s, inngest).decide(activation) === "match" ? [`e${i}`] : []));
      expect(m.match(activation)).toEqual(expected);
      expect(expected.every((id) => id === "e4")).toBe(true);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------------------------

/**
 * Expressions over fields that are always present (so no error is a missing attribute) and that
 * steer clear of what Inngest documents as lenient: operands of `&&`, `||`, `!` and the `?:`
 * condition are boolean expressions (no truthiness), there is no `+` (mixed kinds concatenate),
 * no `null` (an ordering against null compares with a zero value, `size(null)` is 0), and string
 * literals have no escapes (Inngest takes them verbatim). What is left fails where CEL fails:
 * arithmetic on mixed or wrong kinds, division and modulus by zero, int overflow, orderings across
 * kinds, string functions and `size` on numbers, `in` a non-container, failed conversions.
 */
const FIELDS = ["event.data.a", "event.data.b", "event.data.c"];
const field = fc.constantFrom(...FIELDS);
const numberLiteral = fc.constantFrom("0", "1", "2", "3", "-1", "9223372036854775807", "0.0", "1.5", "2.0", "-0.5", "3u");
const stringLiteral = fc.constantFrom("''", "'a'", "'ab'", "'3'", "'1.5'");
const literal = fc.oneof({ weight: 3, arbitrary: numberLiteral }, { weight: 1, arbitrary: stringLiteral }, { weight: 1, arbitrary: fc.constantFrom("true", "false") });

const { value: valueExpr } = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { weight: 4, arbitrary: field },
    { weight: 2, arbitrary: numberLiteral },
    { weight: 4, arbitrary: fc.tuple(tie("value"), fc.constantFrom("-", "*", "/", "%"), tie("value")).map(([a, o, b]) => `(${a} ${o} ${b})`) },
    { weight: 1, arbitrary: tie("value").map((a) => `-(${a})`) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom("int", "double", "uint", "string", "size"), tie("value")).map(([f, a]) => `${f}(${a})`) },
  ),
}));

const relation = fc.constantFrom("==", "!=", "<", "<=", ">", ">=");
const { bool: boolExpr } = fc.letrec<{ bool: string }>((tie) => ({
  bool: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { weight: 6, arbitrary: fc.tuple(valueExpr, relation, fc.oneof(valueExpr, literal)).map(([a, o, b]) => `${a} ${o} ${b}`) },
    { weight: 1, arbitrary: fc.tuple(valueExpr, fc.array(literal, { maxLength: 3 })).map(([a, ls]) => `${a} in [${ls.join(", ")}]`) },
    { weight: 1, arbitrary: fc.tuple(literal, field).map(([l, f]) => `${l} in ${f}`) },
    { weight: 1, arbitrary: fc.tuple(field, fc.constantFrom("startsWith", "endsWith", "contains"), stringLiteral).map(([f, m, s]) => `${f}.${m}(${s})`) },
    { weight: 1, arbitrary: fc.tuple(field, fc.constantFrom("exists", "all"), relation, numberLiteral).map(([f, m, o, n]) => `${f}.${m}(x, x % 2 ${o} ${n})`) },
    { weight: 1, arbitrary: fc.constantFrom("true", "false") },
    { weight: 2, arbitrary: tie("bool").map((a) => `!(${a})`) },
    { weight: 3, arbitrary: fc.tuple(tie("bool"), fc.constantFrom("&&", "||"), tie("bool")).map(([a, o, b]) => `(${a}) ${o} (${b})`) },
    { weight: 1, arbitrary: fc.tuple(tie("bool"), tie("bool"), tie("bool")).map(([c, a, b]) => `(${c}) ? (${a}) : (${b})`) },
    { weight: 1, arbitrary: fc.tuple(tie("bool"), fc.constantFrom("== true", "== false", "!= true", "!= false")).map(([a, t]) => `(${a}) ${t}`) },
  ),
}));

/** Field values: JSON numbers (doubles), ints (bigint), strings, booleans and lists, never null. */
const fieldValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(0, 1, 2, 3, 4, -1, 2.5, -0, 1e300, NaN, Infinity) },
  { weight: 2, arbitrary: fc.constantFrom(0n, 1n, 3n, -1n, 9223372036854775807n) },
  { weight: 2, arbitrary: fc.constantFrom("", "a", "3", "1.5") },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(1, 2, 3, "a"), { maxLength: 3 }) },
);
const dataArb = fc.record({ a: fieldValue, b: fieldValue, c: fieldValue });

function tryDecide(source: string, options: CompileOptions, activation: Record<string, unknown>): Decision | undefined {
  let program;
  try {
    program = compile(source, options);
  } catch {
    return undefined;
  }
  return program.decide(activation);
}

describe("inngest dialect: an evaluation error never decides a match (property)", () => {
  it("where the cel dialect errs, inngest does not match; elsewhere it decides as cel or errs", () => {
    const tally = { compared: 0, celErrors: 0, matches: 0 };
    fc.assert(
      fc.property(boolExpr, dataArb, (source, data) => {
        const activation = { event: { name: "e", data } };
        const cel = tryDecide(source, {}, activation);
        const ing = tryDecide(source, inngest, activation);
        if (cel === undefined || ing === undefined) return;
        tally.compared++;
        if (cel === "error") tally.celErrors++;
        if (ing === "match") tally.matches++;
        // The brief's property, that a cel error (none of these is a missing attribute) is never a
        // match, follows from a stronger one for these expressions: the same decision, or an error
        // where cel's `&&` absorbs one (`err && false` is false in cel; Inngest's `&&` returns the falsy error).
        expect(ing === cel || ing === "error", `${source}: cel ${cel}, inngest ${ing}`).toBe(true);
        // Generated fast paths decide as the closures do.
        expect(tryDecide(source, { ...inngest, fastPaths: true, cache: false }, activation), source).toBe(ing);
      }),
      { numRuns: 600 },
    );
    // The generator must reach both errors and matches, or the property proves little.
    expect(tally.celErrors).toBeGreaterThan(tally.compared / 10);
    expect(tally.matches).toBeGreaterThan(tally.compared / 20);
  });
});
