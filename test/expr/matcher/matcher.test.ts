/**
 * The matcher's API and the cases its index must get right, one by one: order and replacement,
 * compile errors, Inngest's rules, what is indexed (and better than `inngest/expr`), and memory
 * hygiene after many adds and removes. The exhaustive check is `matcher-property.test.ts`.
 */
import { describe, expect, it } from "vitest";
import { CompileError } from "../../../src/expr/errors.js";
import { Matcher } from "../../../src/expr/matcher/index.js";
import { compile } from "../../../src/expr/program.js";
import { CelTimestamp, CelUint } from "../../../src/expr/values.js";

const E = (data: unknown, extra: Record<string, unknown> = {}) => ({ event: { name: "app/x", data, ...extra } });

/** The naive loop the matcher must equal. */
function naive(sources: ReadonlyMap<string, string>, activation: Record<string, unknown>, dialect: "cel" | "inngest"): string[] {
  return [...sources].filter(([, s]) => compile(s, { dialect }).decide(activation) === "match").map(([id]) => id);
}

describe("Matcher API", () => {
  it("returns the matching ids in the order they were added; re-adding moves an id to the end", () => {
    const m = new Matcher({ dialect: "inngest" });
    m.add("b", "event.data.userId == 'u1'");
    m.add("a", "event.data.userId in ['u1', 'u2']");
    m.add("c", "event.data.userId == 'u2'");
    expect(m.match(E({ userId: "u1" }))).toEqual(["b", "a"]);
    m.add("b", "event.data.userId != 'u3'");
    expect(m.match(E({ userId: "u1" }))).toEqual(["a", "b"]);
    expect(m.match(E({ userId: "u2" }))).toEqual(["a", "c", "b"]);
    expect(m.size).toBe(3);
    expect(m.has("a")).toBe(true);
    expect(m.remove("a")).toBe(true);
    expect(m.remove("a")).toBe(false);
    expect(m.has("a")).toBe(false);
    expect(m.match(E({ userId: "u2" }))).toEqual(["c", "b"]);
  });

  it("throws CompileError for a bad expression and keeps what the id held", () => {
    const m = new Matcher({ dialect: "inngest" });
    m.add("x", "event.data.userId == 'u1'");
    expect(() => m.add("x", "event.data.userId == ")).toThrow(CompileError);
    expect(() => m.add("y", "undeclared == 1")).toThrow(CompileError);
    expect(m.size).toBe(1);
    expect(m.match(E({ userId: "u1" }))).toEqual(["x"]);
  });

  it("rejects ids, expressions and activations of the wrong type with a TypeError", () => {
    const m = new Matcher();
    expect(() => m.add(1 as unknown as string, "true")).toThrow(TypeError);
    expect(() => m.add("x", 5 as unknown as string)).toThrow(TypeError);
    expect(() => m.match(null as unknown as Record<string, unknown>)).toThrow(TypeError);
    expect(() => new Matcher({ dialect: "sql" as "cel" })).toThrow(TypeError);
  });

  it("accepts compiled programs, each deciding in its own dialect", () => {
    const m = new Matcher();
    m.add("i", compile("event.data.missing == null", { dialect: "inngest" }));
    m.add("c", compile("event.data.missing == null"));
    // In cel a missing key is an error; in inngest it equals null.
    expect(m.match(E({}))).toEqual(["i"]);
    expect(m.stats().programs).toBe(2);
  });

  it("calls matchEach's visitor in order, and a nested match from inside an activation getter is exact", () => {
    const m = new Matcher({ dialect: "inngest" });
    m.add("a", "event.data.n > 1");
    m.add("b", "event.data.n > 2");
    const seen: string[] = [];
    m.matchEach(E({ n: 3 }), (id) => seen.push(id));
    expect(seen).toEqual(["a", "b"]);
    let inner: string[] = [];
    const activation = {
      get event() {
        inner = m.match({ event: { data: { n: 2 } } });
        return { data: { n: 5 } };
      },
    };
    expect(m.match(activation)).toEqual(["a", "b"]);
    expect(inner).toEqual(["a"]);
  });

  it("is exact for activations with dotted keys, which unchecked programs would read", () => {
    const m = new Matcher();
    const checked = compile("event.data.x == 2");
    const unchecked = compile("event.data.x == 2", { typeCheck: false });
    m.add("a", checked);
    m.add("b", unchecked);
    const act = { event: { data: { x: 1 } }, "event.data": { x: 2 } };
    // The unchecked program reads `event.data` from the dotted key.
    expect([checked.decide(act), unchecked.decide(act)]).toEqual(["no_match", "match"]);
    expect(m.match(act)).toEqual(["b"]);
  });
});

describe("Matcher: Inngest's rules", () => {
  const cases: [string, unknown, boolean][] = [
    // A missing attribute is unknown: equal to null only, less than everything on the left.
    ["event.data.missing == null", {}, true],
    ["event.data.missing != 'a'", {}, true],
    ["event.data.missing != null", {}, false],
    ["event.data.missing < 5", {}, true],
    ["event.data.missing > 5", {}, false],
    ["5 > event.data.missing", {}, true],
    ["event.data.missing in ['a', null]", {}, false],
    ["has(event.data.missing)", {}, false],
    ["event.data.a.b.c == null", { a: 1 }, true],
    // Mixed types compare as CEL does, or fail (false).
    ["event.data.n == 7", { n: 7.0 }, true],
    ["event.data.n > 5", { n: "7" }, false],
    ["event.data.n == '7'", { n: 7 }, false],
    // null in an ordering is the zero value of the other side.
    ["event.data.n < 5", { n: null }, true],
    ["event.data.n > -1", { n: null }, true],
    ["event.data.s < 'a'", { s: null }, true],
    ["event.data.s > ''", { s: null }, false],
    // Truthiness of && and ||.
    ["event.data.name && event.data.n == 1", { name: "x", n: 1 }, true],
    ["event.data.name && event.data.n == 1", { name: "", n: 1 }, false],
    ["event.data.name || event.data.n == 1", { name: "x", n: 1 }, false],
    ["event.data.flag || event.data.n == 1", { flag: false, n: 1 }, true],
    ["!(event.data.n == 1) || event.data.x == 2", { n: 2 }, true],
    ["!(event.data.missing > 1)", {}, true],
    ["!has(event.data.x.y)", { x: 5 }, false],
    // An evaluation error that is not a missing attribute stays an error (Inngest would answer
    // true to each of these).
    ["event.data.n % 3 != 0", { n: 3 }, false],
    ["!(event.data.n > 5)", { n: "7" }, false],
    ["!(event.data.n * 2 == 6) || event.data.x == 2", { n: 3 }, false],
  ];
  for (const [source, data, expected] of cases) {
    it(`${source} on ${JSON.stringify(data)} → ${expected}`, () => {
      expect(compile(source, { dialect: "inngest" }).decide(E(data)) === "match").toBe(expected);
      const m = new Matcher({ dialect: "inngest" });
      m.add("x", source);
      expect(m.match(E(data))).toEqual(expected ? ["x"] : []);
    });
  }
});

describe("Matcher: what is indexed", () => {
  function kind(source: string, dialect: "cel" | "inngest" = "inngest"): string {
    const m = new Matcher({ dialect });
    m.add("x", source);
    const s = m.stats();
    return s.indexed === 1 ? "indexed" : s.partlyIndexed === 1 ? "partly" : "evaluated";
  }

  it("indexes equality, membership, orderings, has and != on paths, at any depth of && and ||", () => {
    for (const source of [
      "event.data.userId == 'u1'",
      "'u1' == event.data.userId",
      "event.data.userId == ''",
      "event.data.flag == true",
      "event.data.x == null",
      "event.data.n in [1, 2.5, 3u]",
      "event.data.userId in ['u1', 'u2']",
      "event.data.amount > 100 && event.data.plan == 'pro'",
      "event.data.n != 5",
      "event.data.x != null",
      "has(event.data.x)",
      "event.data.s >= 'm'",
      "(event.data.a == 1 || (event.data.b == 2 && (event.data.c == 3 || event.data.d == 4))) && event.data.e < 10",
      "!(event.data.a != 1 || event.data.b != 2)",
      "event.data.a == 1 ? event.data.b == 2 : event.data.c == 3",
      "event.data.flag",
      "(event.data.a == 1 || event.data.b == 2) == true",
    ]) {
      expect([source, kind(source)]).toEqual([source, "indexed"]);
    }
    expect(kind("event.ts > timestamp('2024-01-01T00:00:00Z')", "cel")).toBe("indexed");
    expect(kind("event['data']['userId'] == 'u1'", "cel")).toBe("indexed");
  });

  it("indexes a conjunction on its indexable part and leaves the rest to the program", () => {
    expect(kind("event.data.userId == 'u1' && event.data.tags.exists(t, t.startsWith('x'))")).toBe("partly");
    expect(kind("event.data.userId == 'u1' && event.data.a == event.data.b")).toBe("partly");
  });

  it("evaluates what it cannot narrow", () => {
    expect(kind("event.data.tags.exists(t, t.startsWith('x'))")).toBe("evaluated");
    expect(kind("event.data.a == event.data.b")).toBe("evaluated");
    expect(kind("event.data.userId == 'u1' || lowercase(event.data.name) == 'x'")).toBe("evaluated");
  });

  it("answers from the index without the program for sufficient alternatives", () => {
    const m = new Matcher({ dialect: "inngest" });
    for (let i = 0; i < 10; i++) m.add(`c${i}`, `event.data.userId == 'u${i}' || (event.data.amount > ${i * 10} && event.data.plan == 'pro')`);
    expect(m.stats()).toMatchObject({ indexed: 10, programs: 0 });
    expect(m.match(E({ userId: "u3", amount: 25, plan: "pro" }))).toEqual(["c0", "c1", "c2", "c3"]);
    const all = new Matcher({ dialect: "inngest", verifyAll: true });
    for (let i = 0; i < 10; i++) all.add(`c${i}`, `event.data.userId == 'u${i}' || (event.data.amount > ${i * 10} && event.data.plan == 'pro')`);
    expect(all.stats()).toMatchObject({ partlyIndexed: 10, programs: 10 });
    expect(all.match(E({ userId: "u3", amount: 25, plan: "pro" }))).toEqual(["c0", "c1", "c2", "c3"]);
  });

  it("shares one compiled program between ids of one expression", () => {
    const m = new Matcher({ dialect: "inngest" });
    for (let i = 0; i < 50; i++) m.add(`c${i}`, "event.data.userId == 'u1' && size(event.data.tags) > 0");
    expect(m.stats().programs).toBe(1);
    m.add("c0", "event.data.userId == 'u1' && size(event.data.tags) > 1");
    expect(m.stats().programs).toBe(2);
    for (let i = 0; i < 50; i++) m.remove(`c${i}`);
    expect(m.stats().programs).toBe(0);
  });
});

describe("Matcher: values at the edges", () => {
  const traps: [string, Record<string, unknown>][] = [
    // Integers beyond 2^53 share a double key but differ.
    ["event.data.a != 9007199254740992", E({ a: 9007199254740993n })],
    ["event.data.a == 9007199254740992", E({ a: 9007199254740993n })],
    ["event.data.a == 9007199254740992.0", E({ a: 9007199254740993n })],
    ["event.data.a > 9007199254740992", E({ a: 9007199254740993n })],
    ["event.data.a == 5u", E({ a: 5 })],
    ["event.data.a == 5u", E({ a: new CelUint(5n) })],
    ["event.data.a != 5", E({ a: -0 })],
    // An int beyond int64 is an error where a program reads it.
    ["event.data.a != 5", E({ a: 18446744073709551616n })],
    ["!(event.data.a == 5)", E({ a: 18446744073709551616n })],
    // Code-point order: U+E000 sorts before U+1F600 (a surrogate pair), unlike UTF-16 order.
    ["event.data.s < '😀'", E({ s: "\ue000" })],
    ["event.data.s > '\ue000'", E({ s: "😀" })],
    // Timestamps a nanosecond apart.
    ["event.data.t > timestamp('2023-11-14T22:13:20.000000001Z')", E({ t: new CelTimestamp(1_700_000_000, 1) })],
    ["event.data.t >= timestamp('2023-11-14T22:13:20.000000001Z')", E({ t: new CelTimestamp(1_700_000_000, 1) })],
    ["event.data.t < timestamp('2023-11-14T22:13:20.000000001Z')", E({ t: new CelTimestamp(1_700_000_000, 0) })],
    ["event.data.t < timestamp('2023-11-14T22:13:20Z')", E({ t: new Date(1_699_999_999_000) })],
    // Containers the reader does not model.
    ["event.data.a == 1", E(new Map([["a", 1]]))],
    ["has(event.data.a)", E(new Map([["a", undefined]]))],
    ["event.data.a != 1", E({ a: new Map() })],
    ["event.data.a.b == 1", E({ a: Object.assign(Object.create(null) as object, { b: 1 }) })],
    ["event.data.a == null", E({ a: undefined })],
    ["event.data.x == 1", { event: { data: { x: 1 } }, "event.data": { x: 2 } }],
  ];
  for (const dialect of ["cel", "inngest"] as const) {
    it(`equals the programs in ${dialect}`, () => {
      for (const [source, activation] of traps) {
        const m = new Matcher({ dialect });
        m.add("x", source);
        expect([source, m.match(activation)]).toEqual([source, naive(new Map([["x", source]]), activation, dialect)]);
      }
    });
  }
});

describe("Matcher: memory and updates", () => {
  it("after 100,000 adds and removes one by one, nothing is left to scan and matching is as before", () => {
    const m = new Matcher({ dialect: "inngest" });
    const shapes = [
      (i: number) => `event.data.userId == 'u${i}'`,
      (i: number) => `event.data.userId in ['u${i}', 'v${i}']`,
      (i: number) => `event.data.amount > ${i} && event.data.plan == 'pro'`,
      (i: number) => `event.data.n != ${i}`,
      (i: number) => `event.data.userId == 'u${i}' && size(event.data.tags) > 0`,
      (i: number) => `event.data.tags.exists(t, t == 'x${i % 7}')`,
    ];
    const keep = new Map<string, string>();
    for (let i = 0; i < 6; i++) {
      const source = shapes[i]!(i);
      m.add(`keep${i}`, source);
      keep.set(`keep${i}`, source);
    }
    const probe = { event: { data: { userId: "u0", amount: 3, plan: "pro", n: 1, tags: ["x0"] } } };
    const before = m.match(probe);
    expect(before).toEqual(naive(keep, probe, "inngest"));
    const baseline = { groups: m.stats().groups, paths: m.pathCount };

    const N = 100_000;
    for (let i = 0; i < N; i++) {
      m.add(`t${i}`, shapes[i % shapes.length]!(i + 10));
      if (i % 3 === 2) m.remove(`t${i - 1}`);
      if (i % 10_000 === 0) m.match(probe);
    }
    expect(m.size).toBe(6 + N - Math.floor(N / 3));
    for (let i = 0; i < N; i++) m.remove(`t${i}`);
    expect(m.size).toBe(6);
    expect(m.match(probe)).toEqual(before);
    const after = m.stats();
    expect({ groups: after.groups, paths: m.pathCount }).toEqual(baseline);
    expect(after).toMatchObject({ expressions: 6, indexed: 4, partlyIndexed: 1, evaluated: 1, programs: 2 });
    // One filing each, two for the `in` list.
    expect(m.storedAlternatives()).toBe(6);
  });
});
