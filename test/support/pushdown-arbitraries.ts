/**
 * Generators shared by the pushdown property tests: events with missing keys, nulls, mixed types,
 * nested objects and arrays and tricky strings (NUL included), and `if` expressions over them in
 * both dialects, with translatable leaves and untranslatable ones.
 */
import fc from "fast-check";
import { celString } from "./cel-source.js";

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

/** Strings chosen for their traps: digits, LIKE wildcards, quotes, escapes, non-ASCII, code-point order. */
export const TRICKY_STRINGS = [
  "", "5", "5.0", "a", "ab", "abc", "A", "Z", "z", "a%", "%", "_", "a_b", "!", "!%", "x'y", 'q"k', "\\", "a\\b",
  "é", "e\u0301", "😀", "a😀", "\uffff", "\ue000", "true", "null", " ", "ab\nc",
];

/** Event strings may also hold NUL (SQLite keeps them; jsonb cannot, so the PostgreSQL table skips such events as its store does). */
export const EVENT_STRINGS = [...TRICKY_STRINGS, "a\u0000b", "\u0000", "ab\u0000"];

const stringValue = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...EVENT_STRINGS) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 4 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 3 }) },
);

const numberValue = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(0, -0, 1, 2, 3, 5, 7, -1, -7, 5.5, -1.5, 0.1, 2.5, 1e300, -1e300, 1e-300, 9007199254740992, 9007199254740994, 2 ** 60, 2 ** 64, 1e21),
  },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.integer({ min: -10, max: 10 }) },
);

const scalarValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  numberValue,
  stringValue,
);

const { jsonValue } = fc.letrec<{ jsonValue: unknown }>((tie) => ({
  jsonValue: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { weight: 5, arbitrary: scalarValue },
    { weight: 1, arbitrary: fc.array(tie("jsonValue"), { maxLength: 4 }) },
    {
      weight: 1,
      arbitrary: fc.record(
        { c: tie("jsonValue"), a: tie("jsonValue"), z: tie("jsonValue"), "x.y": scalarValue },
        { requiredKeys: [] },
      ),
    },
  ),
}));

/** `event.data.b.c` is the interesting nested path: `b` is usually an object. */
const bValue = fc.oneof(
  { weight: 3, arbitrary: fc.record({ c: jsonValue, d: scalarValue }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: jsonValue },
);

const tagsValue = fc.oneof(
  { weight: 3, arbitrary: fc.array(scalarValue, { maxLength: 5 }) },
  { weight: 1, arbitrary: jsonValue },
);

export const eventArb = fc.record(
  {
    name: fc.oneof(fc.constantFrom("app/signup", "a", "abc", "5", "", "é😀"), stringValue),
    data: fc.record(
      { a: jsonValue, b: bValue, tags: tagsValue, "x.y": jsonValue, 'q"k': scalarValue },
      { requiredKeys: [] },
    ),
    ts: numberValue,
    user: fc.record({ id: scalarValue }, { requiredKeys: [] }),
  },
  { requiredKeys: ["name", "data"] },
);

// ---------------------------------------------------------------------------------------------
// Expressions
// ---------------------------------------------------------------------------------------------


const SELECT_FIELDS = [
  "event.data.a",
  "event.data.b.c",
  "event.name",
  "event.data.tags",
  "event.data.b",
  "event.data.missing",
  "event.ts",
  "event.user.id",
  "event.data.a.c",
];
const INDEX_FIELDS = ["event['data']['a']", "event.data['x.y']", "event.data['q\"k']", "event['data'].b['c']", "event.data.a['x.y']"];
const field = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...SELECT_FIELDS) }, { weight: 1, arbitrary: fc.constantFrom(...INDEX_FIELDS) });
const hasField = fc.constantFrom(
  "event.data.a",
  "event.data.b.c",
  "event.data.tags",
  "event.data.missing.x",
  "event.data.a.c",
  "event['data']['x.y'].z",
  "event.data['q\"k'].z",
  "event.user.id",
);

const stringLit = fc.oneof(fc.constantFrom(...TRICKY_STRINGS).map(celString), fc.string({ unit: "grapheme-ascii", maxLength: 3 }).map(celString));
const intLit = fc.constantFrom("0", "1", "-1", "2", "3", "5", "7", "9007199254740993", "1152921504606846976", "-9223372036854775807", "5u", "0u", "18446744073709551615u");
const doubleLit = fc.constantFrom("0.0", "-0.0", "0.1", "5.0", "5.5", "-1.5", "2.5", "1e300", "1e-300", "9007199254740994.0", "1.8446744073709552e19");
const literal = fc.oneof(
  { weight: 3, arbitrary: stringLit },
  { weight: 3, arbitrary: intLit },
  { weight: 2, arbitrary: doubleLit },
  { weight: 1, arbitrary: fc.constantFrom("true", "false", "null") },
);
const op = fc.constantFrom("==", "!=", "<", "<=", ">", ">=");

const leaf = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(field, op, literal).map(([f, o, l]) => `${f} ${o} ${l}`) },
  { weight: 2, arbitrary: fc.tuple(literal, op, field).map(([l, o, f]) => `${l} ${o} ${f}`) },
  { weight: 2, arbitrary: fc.tuple(field, fc.array(literal, { maxLength: 4 })).map(([f, ls]) => `${f} in [${ls.join(", ")}]`) },
  { weight: 1, arbitrary: fc.tuple(literal, field).map(([l, f]) => `${l} in ${f}`) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(field, fc.constantFrom("startsWith", "endsWith", "contains"), stringLit)
      .map(([f, fn, s]) => `${f}.${fn}(${s})`),
  },
  { weight: 1, arbitrary: hasField.map((f) => `has(${f})`) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(field, op, fc.oneof(intLit, doubleLit, fc.constant("null")), fc.boolean())
      .map(([f, o, l, receiver]) => (receiver ? `${f}.size() ${o} ${l}` : `size(${f}) ${o} ${l}`)),
  },
  { weight: 1, arbitrary: field },
  { weight: 1, arbitrary: fc.constantFrom("true", "false", "null", "0", '""', '"s"', "1.5") },
  // Untranslatable: each must become TRUE for its subtree. Arithmetic only on select paths: in the
  // cel dialect the checker types `event['data']['a']` as int inside `event['data']['a'] + 1`, so
  // the unguarded int addition throws on a non-int and the whole evaluation fails with an internal
  // error that `&&`/`||` cannot absorb (an engine defect, reported; it breaks `notFalse` only).
  {
    weight: 2,
    arbitrary: fc.tuple(field, field, fc.constantFrom(...SELECT_FIELDS), literal).chain(([f, g, selected, l]) =>
      fc.constantFrom(`${f}.matches("^a")`, `${f} == ${g}`, `int(${f}) == 1`, `${selected} + 1 == 2`, `[1, 2].exists(x, x == ${f})`, `string(${f}) == ${l}`, `${f}[0] == ${l}`),
    ),
  },
);

export const { expression } = fc.letrec<{ expression: string }>((tie) => ({
  expression: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { weight: 4, arbitrary: leaf },
    { weight: 1, arbitrary: tie("expression").map((e) => `!(${e})`) },
    { weight: 2, arbitrary: fc.tuple(tie("expression"), tie("expression")).map(([a, b]) => `(${a}) && (${b})`) },
    { weight: 2, arbitrary: fc.tuple(tie("expression"), tie("expression")).map(([a, b]) => `(${a}) || (${b})`) },
    {
      weight: 1,
      arbitrary: fc.tuple(tie("expression"), tie("expression"), tie("expression")).map(([c, a, b]) => `(${c}) ? (${a}) : (${b})`),
    },
    { weight: 1, arbitrary: fc.tuple(tie("expression"), fc.constantFrom("== true", "!= true", "== false", "!= false")).map(([e, t]) => `(${e}) ${t}`) },
  ),
}));

