/**
 * The `inngest` dialect against Inngest's own expectations: the cases of its
 * `pkg/expressions` tests (evaluation, unknown handling, null handling, truthiness, macros) and
 * the examples of its documentation.
 */
import { describe, expect, it } from "vitest";
import { compile } from "../../src/expr/program.js";
import { CelTimestamp, CelUint } from "../../src/expr/values.js";
import { expectCompileError, expectEval, expectEvalError } from "./support/expect.js";

const inngest = { dialect: "inngest" } as const;

/** `{ event: { name: "", data } }`, the activation Inngest's tests build from `event.Event{Data}`. */
function E(data: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { event: { name: "", data, ...extra } };
}

type Row = [source: string, activation: Record<string, unknown>, expected: unknown];

describe("inngest dialect: Inngest's TestEvaluateExpression", () => {
  const rows: Row[] = [
    ["event.data.name", E({ name: "Tester McTestyFace" }), "Tester McTestyFace"],
    ["5 + 4", E({}), 9n],
    [
      "event.data.name + '-' + event.data.number + '-' + event.data.bool + '-' + event.data.list + '-' + event.data.obj + '-' + event.data.missing",
      E({ name: "hi", number: 9.1, bool: true, list: [3, "ok?", true], obj: { name: "inngest" } }),
      "hi-9.1-true-[3 ok? true]-map[name:inngest]-",
    ],
    ["event.data.name + '-' + event.data.foo", E({ name: "Tester McTestyFace" }), "Tester McTestyFace-"],
    ["uppercase(event.data.name) + ' is my name'", E({ name: "Tester McTestyFace" }), "TESTER MCTESTYFACE is my name"],
    ['b64decode("aGkgdGhlcmUh") + " - b64 data"', E({}), "hi there! - b64 data"],
    ['b64decode("aGkgdGhlcmUh") == "hi there!"', E({}), true],
    ["json_parse(b64decode(event.data.encoded)).nested.data", E({ encoded: "eyJuZXN0ZWQiOnsiZGF0YSI6InllYSJ9fQ==" }), "yea"],
    ['json_parse(b64decode(event.data.encoded)).nested.data == "yea"', E({ encoded: "eyJuZXN0ZWQiOnsiZGF0YSI6InllYSJ9fQ==" }), true],
    ["event.data == event.data", E({ nope: null, inner: { eval: "ok" } }), true],
    ["event.data.a == event.data.b", E({ a: { eval: "ok", num: 1.161 }, b: { eval: "ok", num: 1.161 } }), true],
    ["event.data.a == event.data.b", E({ a: { eval: "ok", num: 9 }, b: { eval: "ok", num: 1.161 } }), false],
    ["null > 0", E({}), false],
    ["event.data.action > 0", E({ action: null }), false],
    ["event.data.float <= null && event.data.int < null", E({ float: 3.141, int: 8 }), false],
    [
      "!((has(event.data.a) && event.data.a) || (has(event.data.b) && event.data.b) || (has(event.data.c) && event.data.c))",
      E({ a: false, b: false, c: false }),
      true,
    ],
    [
      "!((has(event.data.a) && event.data.a) || (has(event.data.b) && event.data.b) || (has(event.data.c) && event.data.c))",
      E({ a: true, b: false, c: false }),
      false,
    ],
    ["event.data.int > event.data.unknown", E({ int: 2 }), true],
    ["event.data.something == null", E({ something: "hi" }), false],
    ["event.data.float > null && event.data.int > null", E({ float: 3.141, int: 8 }), true],
    ["event.data.int > 3.141 && event.data.float <= 2", E({ int: 8, float: 1.111 }), true],
    ["event.data.something == null", E({ something: null }), true],
    ["event.data.another == null", E({}), true],
    [
      "event.first.foo == 'test' && event.second.bar != true && event.second.baz != true",
      { event: { first: { foo: "test" }, second: { foo: "test" } } },
      true,
    ],
    [
      "async.first.foo != 'test' && (async.first.bar == true || async.second.baz == true)",
      { async: { first: { foo: "test" } } },
      false,
    ],
    ["event.data.foo != '' && 'item' in event.data.issue.fields.tags", E({}), false],
    ["event.data.foo != ''", E({ foo: "hi" }), true],
    ["event['data'].foo != '' && event['data'].bar != true", E({ foo: "hi" }), true],
    ["event.data.NOPE == null", { event: { name: "", data: null } }, true],
    ["event.data.name == async.first.result.name", E({ name: "no" }), false],
    ["event.data.issue.field.another == 'another'", E({ issue: null }), false],
    ["event.data.test == true && event.data.issue.field.another != 'another'", E({ test: true, issue: null }), true],
    ["event.nonexistent.exists(x, x == 'a')", { event: {} }, false],
    ["async.first.foo == 'test' && async.first.bar != true", { async: { first: { foo: "test" } } }, true],
    ["event.data.title.matches('^[a-z\\\\d]{0,10}$')", E({ title: "nope" }), true],
    ["event.data.some.unknown.contains(event.data.title)", E({ title: "nope" }), false],
    ["'hello'.contains('llo')", E({}), true],
    ["'hello'.contains('what')", E({}), false],
    ["size(event.data.action) > 0", E({ action: "opened" }), true],
    ["size(event.data.action) == 6", E({ action: "opened" }), true],
    ["event.data.action == 'opened'", { ...E({ action: "opened" }), async: { status: "200" } }, true],
    ["int(async.status) == 200", { ...E({ action: "opened" }), async: { status: "200" } }, true],
    ["uppercase(event.priority) == 'P1'", { event: { priority: "p1" } }, true],
    ["lowercase(event.priority) == 'urgent'", { event: { priority: "URGENT" } }, true],
    ["\n  int(event.status) >= 400 &&\n  event.error == true\n", { event: { status: "400", error: true } }, true],
    ["size(event.data.tags) == 0", E({}), true],
    ["size(event.data.tags) == 1", E({}), false],
    ["size(event.data.tags) == 0", E({ tags: [] }), true],
    ["size(event.data.tags) > 2", E({ tags: ["a", "b", "c"] }), true],
    ["event.data.tags.exists(x, x == 'a')", E({ tags: ["a", "b", "c"] }), true],
    ["event.data.tags.exists(x, x == 'd' || x == 'a')", E({ tags: ["a", "b", "c"] }), true],
    ["event.data.tags.exists(x, x == 'd')", E({ tags: ["a", "b", "c"] }), false],
    ["event.data.tags.exists(x, x == 'd') == false", E({ tags: ["a", "b", "c"] }), true],
    ["event.data.issue in ['Bug', 'Issue', 'Epic'] == true", E({ issue: "Bug" }), true],
    ["event.data.issue in ['LOL', 'Issue', 'Epic'] == false", E({ issue: "Bug" }), true],
    ["event.data.nonexistent in ['LOL', 'Issue', 'Epic'] == false", E({ issue: "Bug" }), true],
    ["[1, 2, 3].all(x, x > 0) && event.status == '200'", { event: { status: "200" } }, true],
    ["async.status == 200", { event: { foo: "bar" }, async: { status: "200" } }, false],
    [
      "date(event.from) + duration('6h35m10s') == date('2020-01-01T18:35:10')",
      { event: { from: "2020-01-01T12:00:00" } },
      true,
    ],
    ["event.data.ingressId || event.data.userId", E({ ingressId: "IN_Mwj9Dm8r9QP2", userId: "u" }), "IN_Mwj9Dm8r9QP2"],
    ["event.data.ingressId || event.data.missing", E({ ingressId: "IN_Mwj9Dm8r9QP2" }), "IN_Mwj9Dm8r9QP2"],
    ["event.data.missing || event.data.userId", E({ userId: "user-123" }), "user-123"],
    ["event.data.empty || event.data.userId", E({ empty: "", userId: "user-123" }), "user-123"],
    ["event.data.a || event.data.b", E({}), false],
    ["event.data.flagA || event.data.flagB", E({ flagA: false, flagB: true }), true],
    ["event.data.flagA || event.data.flagB", E({ flagA: false, flagB: false }), false],
    ["event.data.a && event.data.b", E({ a: "first", b: "second" }), "second"],
    ["event.data.a && event.data.b", E({ a: "", b: "second" }), ""],
    [
      "event.data.primaryCandidateId ? event.data.primaryCandidateId : event.data.candidateId",
      E({ candidateId: "candidate-123" }),
      "candidate-123",
    ],
  ];
  for (const [source, activation, expected] of rows) {
    it(`${source.trim()} → ${JSON.stringify(expected, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v))}`, () => {
      expectEval(source, expected, activation, inngest);
    });
  }
});

describe("inngest dialect: Inngest's cases where an error is absorbed (deliberate departure)", () => {
  // `size(null)` is an error. Inngest's decorator then gives `>` the static result of a missing
  // attribute (false); here the error propagates, so the run is an expression error rather than
  // a non-match — never a match either way. The same rule keeps `size(null) != 0` (Inngest: true)
  // and `event.data.n % 3 != 0` (Inngest: true for every event) from matching. See
  // inngest-errors.test.ts.
  const rows: [source: string, activation: Record<string, unknown>, inngest: unknown][] = [
    ["size(event.data.nope) > 0", E({ nope: null }), false],
    ["size(event.data.action) > 0", E({ action: null }), false],
  ];
  for (const [source, activation, inngestResult] of rows) {
    it(`${source} is an error (Inngest: ${String(inngestResult)})`, () => {
      expectEvalError(source, "no_such_overload", activation, inngest);
      expect(compile(source, inngest).decide(activation)).toBe("error");
    });
  }
  it("size(null) != 0 is an error, not a match", () => {
    expect(compile("size(event.data.nope) != 0", inngest).decide(E({ nope: null }))).toBe("error");
  });
});

describe("inngest dialect: unknown (missing attribute) handling", () => {
  const none = E({});
  const rows: Row[] = [
    ['event.data.missing == "foo"', none, false],
    ["event.data.missing == null", none, true],
    ["event.data.missing == 0", none, false],
    ["event.data.a == event.data.b", none, false],
    ["event.data.a != event.data.b", none, true],
    ['event.data.missing != "foo"', none, true],
    ["event.data.missing != null", none, false],
    ["event.data.missing != 0", none, true],
    ['event.data.missing != ""', none, true],
    ["event.data.missing < 5", none, true],
    ["event.data.missing <= 5", none, true],
    ["5 < event.data.missing", none, false],
    ["5 <= event.data.missing", none, false],
    ["event.data.n > event.data.missing", E({ n: 2 }), true],
    ["event.data.missing > 5", none, false],
    ["event.data.missing >= 5", none, false],
    ["5 > event.data.missing", none, true],
    ["5 >= event.data.missing", none, true],
    ["event.data.name + event.data.missing", E({ name: "hello" }), "hello"],
    ["event.data.missing + event.data.name", E({ name: "hello" }), "hello"],
    ["event.data.a + event.data.b", none, false],
    ["size(event.data.missing)", none, 0n],
    ["size(event.data.missing) > 0", none, false],
    ["size(event.data.missing) == 0", none, true],
    ['event.data.missing in ["a", "b", "c"]', none, false],
    ["event.data.nonexistent", none, false],
    ["event.data.some.unknown.contains('x')", none, false],
    ["event.data.nums.all(x, x > 0)", E({ nums: [1, 2, 3] }), true],
    ["event.data.nums.all(x, x > 1)", E({ nums: [1, 2, 3] }), false],
  ];
  for (const [source, activation, expected] of rows) {
    it(source, () => expectEval(source, expected, activation, inngest));
  }
});

describe("inngest dialect: a missing attribute against a variable holding null", () => {
  // Both operands are variables here, so neither the literal-null shortcut nor constant folding
  // decides: the variable/variable branch of the dialect's equality must apply the rule itself.
  const nul = E({ nul: null, s: "x", n: 1 });
  const rows: Row[] = [
    ["event.data.missing == event.data.nul", nul, true],
    ["event.data.nul == event.data.missing", nul, true],
    ["event.data.missing != event.data.nul", nul, false],
    ["event.data.nul != event.data.missing", nul, false],
    ["event.data.missing.deeper == event.data.nul", nul, true],
    ["event.data.nul == event.data.missing.deeper", nul, true],
    ["event.data.missing.deeper != event.data.nul", nul, false],
    ["async.missing == event.data.nul", nul, true],
    ["event.data.nul == vars.missing", { ...nul, vars: {} }, true],
    ["event.data.missing == event.data.s", nul, false],
    ["event.data.s == event.data.missing", nul, false],
    ["event.data.missing != event.data.s", nul, true],
    ["event.data.n != event.data.missing", nul, true],
    ["event.data.nul == event.data.nul", nul, true],
    ["event.data.nul != event.data.nul", nul, false],
    ["event.data.missing == event.data.nul && event.data.nul == event.data.missing", nul, true],
    ["!(event.data.missing != event.data.nul)", nul, true],
  ];
  for (const [source, activation, expected] of rows) {
    it(source, () => expectEval(source, expected, activation, inngest));
  }
});

describe("inngest dialect: null and mixed types", () => {
  const none = E({});
  const rows: Row[] = [
    ['null == "foo"', none, false],
    ['"foo" == null', none, false],
    ['null != "foo"', none, true],
    ['"foo" != null', none, true],
    ['null < "foo"', none, true],
    ['"foo" < null', none, false],
    ["null < uint(5)", none, true],
    ["null < 5", none, true],
    ["5 < null", none, false],
    ["null > 0", none, false],
    ["5 > null", none, true],
    ["null <= 0", none, true],
    ["null >= 1", none, false],
    ["null < 0.5", none, true],
    ["event.data.float > null", E({ float: 3.141 }), true],
    ["event.data.n > null", E({ n: 8 }), true],
    ["event.data.float <= null", E({ float: 3.141 }), false],
    ["1 == 1.0", none, true],
    ["event.data.n == 2", E({ n: 2 }), true],
    ["'hi' + 9.1", none, "hi9.1"],
    ["1 + 1.5", none, "11.5"],
    ["event.data.n + 1.0", E({ n: 2 }), 3],
    ["'x' + null", none, "xNULL_VALUE"],
    ["event.data.name + '-' + event.data.amt", E({ name: "n", amt: 1500000 }), "n-1.5e+06"],
  ];
  for (const [source, activation, expected] of rows) {
    it(source, () => expectEval(source, expected, activation, inngest));
  }
  it("ordering a string with a number is an error", () => {
    expectEvalError("'a' < 1", "no_such_overload", {}, inngest);
  });
});

describe("inngest dialect: truthiness of || && and ?:", () => {
  const rows: Row[] = [
    ["event.data.a || event.data.b", E({ a: "first", b: "second" }), "first"],
    ["event.data.a || event.data.b", E({ a: "", b: "second" }), "second"],
    ["event.data.missing || event.data.b", E({ b: "found" }), "found"],
    ["event.data.zero || event.data.name", E({ zero: 0, name: "hi" }), "hi"],
    ["null || event.data.b", E({ b: "fallback" }), "fallback"],
    ["event.data.f || false", E({ f: 3.14 }), 3.14],
    ["event.data.f || event.data.b", E({ f: 0.0, b: "yes" }), "yes"],
    ["false || event.data.list", E({ list: ["a"] }), ["a"]],
    ["uint(5) || false", E({}), new CelUint(5n)],
    ["uint(0) || event.data.b", E({ b: "yes" }), "yes"],
    ["false || true", E({}), true],
    ["event.data.a && event.data.b", E({ a: "first", b: "" }), ""],
    ["event.data.missing && event.data.b", E({ b: "x" }), false],
    ["true && false", E({}), false],
  ];
  for (const [source, activation, expected] of rows) {
    it(source, () => expectEval(source, expected, activation, inngest));
  }
  for (const [value, result] of [
    [undefined, "falsy"],
    [null, "falsy"],
    [false, "falsy"],
    ["", "falsy"],
    [0, "falsy"],
    [true, "truthy"],
    ["candidate-123", "truthy"],
    [[], "truthy"],
  ] as const) {
    it(`event.data.value ? … with value ${JSON.stringify(value)}`, () => {
      const data = value === undefined ? {} : { value };
      expectEval('event.data.value ? "truthy" : "falsy"', result, E(data), inngest);
    });
  }
});

describe("inngest dialect: functions", () => {
  it("now() is one instant per evaluation and now_minus/now_plus bracket it", () => {
    const p = compile("now_minus('1d') < now() && now() < now_plus('1h')", inngest);
    expect(p.evaluate({})).toBe(true);
  });
  it("date() accepts strings and integer epochs, not doubles", () => {
    expectEval("date('2024-01-02') == date('2024-01-02T00:00:00Z')", true, {}, inngest);
    expectEval("date(1700000000) == date(1700000000000)", true, {}, inngest);
    // A JSON number is a double: date() rejects it, and the error propagates through the
    // comparison (Inngest fails the whole evaluation here too: its date() returns nil).
    expectEvalError("date(event.ts)", "invalid_argument", { event: { ts: 1700000000000 } }, inngest);
    expectEvalError("date(event.ts) > now_minus('1d')", "invalid_argument", { event: { ts: 1700000000000 } }, inngest);
  });
  it("date() returns a timestamp", () => {
    expectEval("date('2020-01-01T00:00:00Z')", new CelTimestamp(1577836800, 0), {}, inngest);
  });
  it("lowercase of a non-string is empty, json_parse of a non-object is an empty map", () => {
    expectEval("lowercase(event.data.n)", "", E({ n: 5 }), inngest);
    expectEval("size(json_parse('[1,2]'))", 0n, {}, inngest);
    expectEval("json_parse('{\"a\":1}').a", 1, {}, inngest);
  });
  it("the strings extension is available (inngest/inngest#1704 asks for substring)", () => {
    expectEval("event.data.id.substring(0, 4) == 'user'", true, E({ id: "user_123" }), inngest);
  });
});

describe("inngest dialect: declarations", () => {
  it("declares event, async and vars; other names are undeclared", () => {
    expectCompileError("user.email == 'x'", "undeclared reference to 'user'", inngest);
  });
  it("still rejects type errors outside the loosened operators", () => {
    expectCompileError("size(1) == 0", "found no matching overload for 'size'", inngest);
  });
  it("accepts mixed-type comparisons the cel dialect rejects", () => {
    expectCompileError("1 == 'a'", "found no matching overload for '_==_'");
    expectEval("1 == 'a'", false, {}, inngest);
  });
});

describe("inngest dialect: lifted string literals", () => {
  it("takes quoted strings verbatim, as Inngest's literal lifting does", () => {
    // The CEL source text is event.data.title.matches('\w'): an invalid escape in CEL.
    expectEval("event.data.title.matches('\\w')", true, E({ title: "nope" }), inngest);
    expectCompileError("'nope'.matches('\\w')", "Syntax error");
    // '^[a-z\\d]{0,10}$' keeps both backslashes: the class is a-z, backslash and d.
    expectEval("'^[a-z\\\\d]{0,10}$'.size()", 16n, {}, inngest);
    expectEval("event.data.s == 'a\\\"b'", true, E({ s: 'a\\"b' }), inngest);
    expectEval("event.data.s == 'a\\nb'", true, E({ s: "a\\nb" }), inngest);
  });
  it("decodes escapes in triple-quoted and raw strings, and everywhere when the text mentions vars.", () => {
    expectEval("'''a\\nb''' == event.data.s", true, E({ s: "a\nb" }), inngest);
    expectEval("r'a\\nb'.size()", 4n, {}, inngest);
    expectEval("vars.x == null && event.data.s == 'a\\nb'", true, { ...E({ s: "a\nb" }), vars: {} }, inngest);
  });
});
