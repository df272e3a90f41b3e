/**
 * fast-check generators for the matcher's property tests: expressions built from the predicates
 * the matcher indexes (and from some it cannot), combined at any depth with `&&`, `||`, `!`, `?:`
 * and `== true`; and activations whose values set every trap the index must not fall into —
 * missing keys, nulls, numbers of every CEL kind (doubles, ints and uints near 2^53 and 2^64),
 * strings that order differently by code point than by UTF-16 unit, timestamps a nanosecond apart,
 * lists where maps are expected, `Map`s, `Date`s, class instances, null-prototype objects and
 * `undefined`.
 */
import fc from "fast-check";
import { CelDuration, CelTimestamp, CelUint } from "../../../src/expr/values.js";
import { celString } from "../../support/cel-source.js";

/** Strings chosen for their traps: empty, digits, case, non-ASCII, code-point order, escapes. */
export const TRICKY_STRINGS = [
  "", "5", "5.0", "a", "ab", "abc", "A", "Z", "z", "é", "😀", "a😀", "\uffff", "\ue000", "true", "null", " ", "x'y", "\\", "a\\b", "u1", "u2", "pro",
];


// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

const BASE_SECONDS = 1_700_000_000;

const stringValue = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...TRICKY_STRINGS) }, { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 3 }) });

const numberValue = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(0, -0, 1, 2, 3, 5, 7, -1, -7, 5.5, -1.5, 0.1, 100, 250, 1e300, -1e300, 9007199254740992, 9007199254740994, 2 ** 63, 2 ** 64, NaN, Infinity, -Infinity),
  },
  { weight: 1, arbitrary: fc.double() },
  { weight: 2, arbitrary: fc.integer({ min: -10, max: 300 }) },
);

const bigValue = fc.oneof(
  // 2^64 is beyond int64: reading it is an error (the index must leave it to the program).
  fc.constantFrom(0n, 1n, 5n, -1n, 100n, 9007199254740993n, 9223372036854775807n, -9223372036854775808n, 18446744073709551616n).map((v): unknown => v),
  fc.constantFrom(0n, 1n, 5n, 18446744073709551615n, 9007199254740993n).map((v): unknown => new CelUint(v)),
);

const timestampValue = fc.tuple(fc.integer({ min: -3, max: 3 }), fc.constantFrom(0, 1, 999_999_999, 500_000_000)).map(([s, n]) => new CelTimestamp(BASE_SECONDS + s, n));

class Custom {
  a = 1;
}

const exoticValue: fc.Arbitrary<unknown> = fc.constantFrom<() => unknown>(
  () => new Map<unknown, unknown>([["a", 1], ["c", "u1"]]),
  () => new Date(BASE_SECONDS * 1000),
  () => new Custom(),
  () => Object.assign(Object.create(null) as object, { c: "u1", a: 5 }),
  () => undefined,
  () => new Uint8Array([97]),
  () => new CelDuration(1, 0),
).map((make) => make());

export const scalarValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.boolean() },
  { weight: 4, arbitrary: numberValue },
  { weight: 4, arbitrary: stringValue },
  { weight: 1, arbitrary: bigValue },
  { weight: 1, arbitrary: timestampValue },
);

const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { weight: 8, arbitrary: scalarValue },
    { weight: 1, arbitrary: exoticValue },
    { weight: 1, arbitrary: fc.array(tie("value"), { maxLength: 3 }) },
    { weight: 2, arbitrary: fc.record({ c: tie("value"), a: tie("value"), "x.y": scalarValue }, { requiredKeys: [] }) },
  ),
}));

const dataValue = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        a: value,
        b: fc.oneof({ weight: 3, arbitrary: fc.record({ c: value }, { requiredKeys: [] }) }, { weight: 1, arbitrary: value }),
        tags: fc.oneof(fc.array(scalarValue, { maxLength: 3 }), value),
        "x.y": value,
        userId: fc.oneof(fc.constantFrom("u1", "u2", "u3", ""), value),
        amount: fc.oneof(fc.constantFrom(50, 100, 150, 250), value),
        plan: fc.oneof(fc.constantFrom("pro", "free"), value),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: value },
);

/** An event as Inngest passes it (`name`, `data`, `ts`, `user`), sometimes broken. */
export const eventValue = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record(
      { name: fc.oneof(fc.constantFrom("app/signup", ""), stringValue), data: dataValue, ts: numberValue, user: fc.record({ id: scalarValue }, { requiredKeys: [] }) },
      { requiredKeys: ["data"] },
    ),
  },
  { weight: 1, arbitrary: value },
);

/** An event whose every key is there with an ordinary value: the activations that match most. */
const plainEvent = fc.record({
  name: fc.constantFrom("app/signup", "a", ""),
  data: fc.record({
    a: scalarValue,
    b: fc.record({ c: scalarValue }),
    tags: fc.array(fc.constantFrom("a", "x", "u1"), { maxLength: 2 }),
    "x.y": scalarValue,
    userId: fc.constantFrom("u1", "u2", "u3", ""),
    amount: fc.constantFrom(50, 100, 150, 250, 5.5, -1),
    plan: fc.constantFrom("pro", "free"),
  }),
  ts: numberValue,
  user: fc.record({ id: scalarValue }),
});

/** An activation: mostly `{ event }`, sometimes with another variable, a missing `event`, or a dotted key. */
export const activation: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  { weight: 8, arbitrary: eventValue.map((event) => ({ event })) },
  { weight: 8, arbitrary: plainEvent.map((event) => ({ event })) },
  { weight: 2, arbitrary: fc.tuple(eventValue, value).map(([event, x]) => ({ event, x })) },
  { weight: 1, arbitrary: fc.constant({}) },
  { weight: 1, arbitrary: fc.tuple(eventValue, dataValue).map(([event, data]) => ({ event, "event.data": data })) },
);

// ---------------------------------------------------------------------------------------------
// Expressions
// ---------------------------------------------------------------------------------------------

const SELECT_PATHS = [
  "event.data.a",
  "event.data.b.c",
  "event.name",
  "event.data.tags",
  "event.data.missing",
  "event.ts",
  "event.user.id",
  "event.data.a.c",
  "event.data.userId",
  "event.data.amount",
  "event.data.plan",
];
/** Index steps: indexed in `cel`; `inngest` evaluates them through a generic call. */
const INDEX_PATHS = ["event['data']['a']", "event.data['x.y']", "event['data'].b['c']", "event.data.a['c']"];
/** A variable besides `event` (declared as `dyn` only in `cel`). */
const OTHER_PATHS = ["x", "x.c"];

const stringLit = fc.oneof(fc.constantFrom(...TRICKY_STRINGS).map(celString), fc.string({ unit: "grapheme-ascii", maxLength: 2 }).map(celString));
const numberLit = fc.constantFrom(
  "0", "1", "-1", "2", "5", "7", "100", "150", "9007199254740992", "9007199254740993", "9007199254740995", "-9223372036854775807", "5u", "0u", "18446744073709551615u",
  "0.0", "-0.0", "0.1", "5.0", "5.5", "-1.5", "100.0", "1e300", "9007199254740994.0", "1.8446744073709552e19",
);
const timestampLit = fc
  .tuple(fc.integer({ min: -3, max: 3 }), fc.constantFrom("", ".000000001", ".5", ".999999999"))
  .map(([s, frac]) => `timestamp("${new Date((BASE_SECONDS + s) * 1000).toISOString().slice(0, 19)}${frac}Z")`);
const literal = fc.oneof(
  { weight: 4, arbitrary: stringLit },
  { weight: 4, arbitrary: numberLit },
  { weight: 1, arbitrary: timestampLit },
  { weight: 2, arbitrary: fc.constantFrom("true", "false", "null") },
);
const op = fc.constantFrom("==", "!=", "<", "<=", ">", ">=");

function expressions(paths: readonly string[]): fc.Arbitrary<string> {
  const path = fc.constantFrom(...paths);
  const leaf = fc.oneof(
    { weight: 8, arbitrary: fc.tuple(path, op, literal).map(([p, o, l]) => `${p} ${o} ${l}`) },
    { weight: 2, arbitrary: fc.tuple(literal, op, path).map(([l, o, p]) => `${l} ${o} ${p}`) },
    { weight: 3, arbitrary: fc.tuple(path, fc.array(literal, { maxLength: 4 })).map(([p, ls]) => `${p} in [${ls.join(", ")}]`) },
    { weight: 2, arbitrary: path.map((p) => `has(${p})`) },
    { weight: 1, arbitrary: path },
    { weight: 1, arbitrary: fc.constantFrom("true", "false", "null", "1", '"s"') },
    // Not indexable: evaluated.
    {
      weight: 2,
      arbitrary: fc.tuple(path, path, stringLit).chain(([p, q, s]) =>
        fc.constantFrom(`${p}.startsWith(${s})`, `${p} == ${q}`, `size(${p}) > 1`, `event.data.tags.exists(t, t == ${s})`, `string(${p}) == ${s}`),
      ),
    },
    // Evaluation errors that are not missing attributes: arithmetic on a double and an int (every
    // JSON number is a double), division by zero. They must stay errors through `!`, `||`, `?:`.
    {
      weight: 2,
      arbitrary: fc.tuple(path, op, numberLit).chain(([p, o, n]) =>
        fc.constantFrom(`${p} % 3 ${o} ${n}`, `${p} - 1 ${o} ${n}`, `${p} * 2.0 ${o} ${n}`, `int(${p}) / 0 ${o} ${n}`, `${p} % 3 in [0, 1]`),
      ),
    },
  );
  const { expression } = fc.letrec<{ expression: string }>((tie) => ({
    expression: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      { weight: 5, arbitrary: leaf },
      { weight: 1, arbitrary: tie("expression").map((e) => `!(${e})`) },
      { weight: 3, arbitrary: fc.tuple(tie("expression"), tie("expression")).map(([a, b]) => `(${a}) && (${b})`) },
      { weight: 3, arbitrary: fc.tuple(tie("expression"), tie("expression")).map(([a, b]) => `(${a}) || (${b})`) },
      { weight: 1, arbitrary: fc.tuple(tie("expression"), tie("expression"), tie("expression")).map(([c, a, b]) => `(${c}) ? (${a}) : (${b})`) },
      { weight: 1, arbitrary: fc.tuple(tie("expression"), fc.constantFrom("== true", "== false", "!= true")).map(([e, t]) => `(${e}) ${t}`) },
    ),
  }));
  return expression;
}

/** Expressions of the `cel` dialect (every name a `dyn` variable). */
export const celExpression = expressions([...SELECT_PATHS, ...SELECT_PATHS, ...INDEX_PATHS, ...OTHER_PATHS]);
/** Expressions of the `inngest` dialect (`event`, `async`, `vars`). */
export const inngestExpression = expressions([...SELECT_PATHS, ...SELECT_PATHS, ...INDEX_PATHS]);
