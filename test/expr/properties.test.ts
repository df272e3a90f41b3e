/**
 * Properties of the public boundary of the expression engine, checked with fast-check:
 *
 * - `compile` on any string returns a Program or throws CompileError (arbitrary text, CEL token
 *   soup, generated expressions with random edits), in both dialects, and is deterministic;
 * - `evaluate` on any activation returns or throws EvalError, nothing else — for data of the
 *   generator's declared types and for ordinary data
 *   (nested arrays and objects, Maps with any keys, NaN, -0, bigint, Dates, undefined, bytes and
 *   our value classes) never with the `internal` code that marks a defect; for hostile data
 *   (cycles, throwing getters, functions, symbols, class instances, invalid dates) at least
 *   without escaping;
 * - `matches` never throws and agrees with `evaluate`; evaluating twice gives the same outcome;
 *   evaluation never mutates the activation.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CompileError, EvalError } from "../../src/expr/errors.js";
import { compile, type CompileOptions, type Program } from "../../src/expr/program.js";
import { CelDuration, CelTimestamp, CelType, CelUint } from "../../src/expr/values.js";
import { sameValue, show } from "./support/cel-values.js";
import { grammar, VARIABLES } from "./support/generators.js";

const g = grammar();
const NAMES = Object.keys(VARIABLES);
/** The generator's variables, undeclared: in `cel` every name is dyn, so any data reaches any operator. */
const CEL_UNTYPED: CompileOptions = { cache: false };
/** The same names declared dyn in the `inngest` dialect (whose default declares only event, async, vars). */
const INNGEST_UNTYPED: CompileOptions = {
  dialect: "inngest",
  cache: false,
  variables: Object.fromEntries([...NAMES, "event"].map((n) => [n, "dyn"])),
};

/** Compiles, or returns undefined for a CompileError; any other exception fails the property. */
function tryCompile(source: string, options: CompileOptions): Program | undefined {
  try {
    return compile(source, options);
  } catch (err) {
    if (err instanceof CompileError) return undefined;
    throw err;
  }
}

type Result = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly code: string; readonly message: string };

/** Evaluates; any exception but EvalError fails the property. */
function evaluate(program: Program, activation: Record<string, unknown>): Result {
  try {
    return { ok: true, value: program.evaluate(activation) };
  } catch (err) {
    if (err instanceof EvalError) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
}

function sameResult(a: Result, b: Result): boolean {
  return a.ok && b.ok ? sameValue(a.value, b.value) : !a.ok && !b.ok && a.code === b.code && a.message === b.message;
}

// ---------------------------------------------------------------------------------------------
// Sources

const TOKENS = [
  "a", "b", "i", "li", "mi", "event", "data", "x", ".", ",", "(", ")", "[", "]", "{", "}", "?", ":", "!", "-", "+", "*", "/", "%",
  "==", "!=", "<", "<=", ">", ">=", "&&", "||", "in", "true", "false", "null", "0", "1", "-9223372036854775808", "42u", "1.5", "1e3",
  "'s'", '"t"', "b'u'", "r'\\d'", "'''m'''", "has", "all", "exists", "exists_one", "map", "filter", "size", "int", "uint", "double",
  "string", "bytes", "dyn", "type", "timestamp", "duration", "matches", "contains", "startsWith", "format", "strings.quote",
  "`f-g`", "as", "if", "|", "&", "=", "@", "$", "'", '"', "\\", "\n", " ", "lowercase", "json_parse", "now", "date", "b64decode",
];

/** Strings made of CEL tokens: most are invalid, many are valid. */
const tokenSoup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 20 }).map((parts) => parts.join(" "));
const arbitraryText = fc.oneof(fc.string({ unit: "binary", maxLength: 60 }), fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 }));

/** A generated (valid) expression with a random slice cut out or a token spliced in. */
const mutated = fc
  .tuple(g.anyExpr(3), fc.nat(), fc.nat(), fc.constantFrom(...TOKENS))
  .map(([expr, at, length, token]) => {
    const text = expr.text;
    const start = at % (text.length + 1);
    const end = Math.min(text.length, start + (length % 6));
    return text.slice(0, start) + (length % 2 === 0 ? token : "") + text.slice(end);
  });

const anySource = fc.oneof(arbitraryText, tokenSoup, mutated, g.anyExpr(3).map((e) => e.text));

const DIALECT_OPTIONS: readonly CompileOptions[] = [CEL_UNTYPED, { cache: false, variables: VARIABLES }, { dialect: "inngest", cache: false }, INNGEST_UNTYPED];

describe("compile", () => {
  it("returns a Program or throws CompileError for any string, in both dialects (4 × 1,500 sources)", () => {
    fc.assert(
      fc.property(anySource, (source) => {
        for (const options of DIALECT_OPTIONS) tryCompile(source, options);
      }),
      { numRuns: 1500 },
    );
  });

  it("is deterministic: the same error, or programs of the same type that evaluate alike (800 sources)", () => {
    const activation = { b: true, i: 3n, s: "abc", li: [1n, 2n], mi: { a: 1n }, d: 0.5, event: { data: { a: 1 } } };
    fc.assert(
      fc.property(anySource, (source) => {
        for (const options of [CEL_UNTYPED, INNGEST_UNTYPED]) {
          const outcome = (): string => {
            try {
              const p = compile(source, options);
              const r = evaluate(p, activation);
              return `${p.type} ${r.ok ? show(r.value) : `${r.code}: ${r.message}`}`;
            } catch (err) {
              if (err instanceof CompileError) return `CompileError ${err.message}`;
              throw err;
            }
          };
          expect(outcome()).toBe(outcome());
        }
      }),
      { numRuns: 800 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Activations

const ORDINARY_LEAVES: fc.Arbitrary<unknown>[] = [
  fc.constantFrom(Number.NaN, -0, 0, Infinity, -Infinity, undefined, null, "", "a", true, false, 2 ** 53, 0.5, -1),
  fc.double(),
  fc.integer(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.string({ unit: "binary", maxLength: 8 }),
  fc.boolean(),
  fc.date({ noInvalidDate: true }),
  fc.uint8Array({ maxLength: 4 }),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((v) => new CelUint(v)),
  fc.tuple(fc.integer({ min: -62135596800, max: 253402300799 }), fc.integer({ min: 0, max: 999_999_999 })).map(([s, n]) => new CelTimestamp(s, n)),
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map((s) => new CelDuration(s, 0)),
  fc.constantFrom("int", "string", "list", "map", "google.protobuf.Timestamp").map((n) => new CelType(n)),
];

const KEYS = fc.constantFrom("a", "b", "c", "", "data", "A", "__proto__", "constructor", "toString", "0", "key with space");

/** Ordinary data: JSON-like trees with bigint, Map (any keys), Date, bytes, NaN, undefined and our value classes. */
const ordinary: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    ...ORDINARY_LEAVES,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(KEYS, tie("value"), { maxKeys: 4 }),
    fc.array(fc.tuple(fc.oneof(KEYS, fc.bigInt({ min: -3n, max: 3n }), fc.integer({ min: -3, max: 3 }), fc.boolean(), fc.constant(Number.NaN)), tie("value")), { maxLength: 3 }).map((es) => new Map<unknown, unknown>(es)),
  ),
})).value;

function throwingGetter(): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  Object.defineProperty(o, "a", {
    enumerable: true,
    get() {
      throw new Error("getter failed");
    },
  });
  return o;
}

function cyclicList(): unknown[] {
  const l: unknown[] = [1];
  l.push(l);
  return l;
}

function cyclicMap(): Record<string, unknown> {
  const m: Record<string, unknown> = { a: 1 };
  m.b = m;
  return m;
}

/** Values no JSON has: the engine must not crash on them, though it may fail with any EvalError. */
const hostileLeaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<() => unknown>(
    () => () => 1,
    () => Symbol("s"),
    () => new Set([1, 2]),
    () => new Error("boom"),
    () => new Date(Number.NaN),
    () => new CelTimestamp(Number.NaN, 0),
    () => new CelDuration(Infinity, -5),
    () => new CelUint(-1n),
    () => new Int32Array([1, 2]),
    () => new WeakMap(),
    () => Promise.resolve(1),
    () => throwingGetter(),
    () => cyclicList(),
    () => cyclicMap(),
    () => Object.create(null),
    () => new (class Point {
      x = 1;
    })(),
    () => ({ length: 2, 0: "a", 1: "b" }),
    () => [, 1, , 2],
  ).map((make) => make()),
  ordinary,
);

const hostile: fc.Arbitrary<unknown> = fc.oneof(
  hostileLeaf,
  fc.array(hostileLeaf, { maxLength: 3 }),
  fc.dictionary(KEYS, hostileLeaf, { maxKeys: 3 }),
  fc.array(fc.tuple(fc.anything(), hostileLeaf), { maxLength: 2 }).map((es) => new Map(es)),
);

function activationOf(values: fc.Arbitrary<unknown>): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(Object.fromEntries([...NAMES, "event"].map((n) => [n, values])) as Record<string, fc.Arbitrary<unknown>>, { requiredKeys: [] });
}

/** Filters in the shape of cancellation expressions, for the compiler's fast paths. */
const FILTERS = [
  "event.data.a == 'x'",
  "event.data.a.b.c.d.e.f == 1",
  "event.data.a in [1, 'a', 2.5, true]",
  "event.data.a.startsWith('a') && event.data.b > 3",
  "event.data.tags.exists(t, t.startsWith('x') || t == 'd')",
  "size(event.data.tags) == 0 || event.data.name.endsWith('z')",
  "event.data.a ? event.data.b : event.data.c",
  "event.data.title.matches('^[a-z]{0,10}$')",
  "event.data.a + event.data.b > event.data.c",
  "int(event.data.a) == 200 || double(event.data.b) < 1.5",
  "has(event.data.a) && !has(event.data.b.c)",
  "event.data.list.map(x, x * 2).filter(x, x > 2).size() > 0",
  "event.data.a == event.data",
  "event.data.a.b[0].c['d'] == event.data.e",
  "string(event.data.a).contains('1')",
  "type(event.data.a) == int || type(event.data.a) == map",
  "event.data.a.all(k, event.data.a[k] != null)",
  "event.data.a.size() + event.data.b.indexOf('x') >= 0",
  "timestamp(event.data.ts) < timestamp('2030-01-01T00:00:00Z')",
  "'%s and %d'.format([event.data.a, event.data.b])",
];

/** Programs: generated expressions over the generator's names, and filters over `event`. */
const programs: fc.Arbitrary<Program> = fc
  .oneof(
    { weight: 3, arbitrary: fc.tuple(g.anyExpr(3).map((e) => e.text), fc.constantFrom(CEL_UNTYPED, INNGEST_UNTYPED)) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...FILTERS), fc.constantFrom(CEL_UNTYPED, { dialect: "inngest", cache: false } as CompileOptions)) },
  )
  .map(([source, options]) => tryCompile(source, options))
  .filter((p): p is Program => p !== undefined);

/** A structural fingerprint of a value: kinds, own keys and values, Map entry order, Date times, prototypes. */
function fingerprint(v: unknown, seen = new Map<object, number>()): string {
  switch (typeof v) {
    case "number":
      return Object.is(v, -0) ? "-0" : String(v);
    case "bigint":
      return `${v}n`;
    case "string":
      return JSON.stringify(v);
    case "undefined":
    case "boolean":
    case "symbol":
    case "function":
      return String(typeof v === "function" ? "fn" : v === undefined ? "undefined" : String(v));
    default:
      break;
  }
  if (v === null) return "null";
  const o = v as object;
  const id = seen.get(o);
  if (id !== undefined) return `#${id}`;
  seen.set(o, seen.size);
  const proto = Object.getPrototypeOf(o) as { constructor?: { name?: string } } | null;
  const name = proto === null ? "null-proto" : (proto.constructor?.name ?? "?");
  const parts: string[] = [];
  if (o instanceof Date) parts.push(String(o.getTime()));
  if (o instanceof Map) for (const [k, w] of o) parts.push(`${fingerprint(k, seen)}=>${fingerprint(w, seen)}`);
  if (o instanceof Set) for (const k of o) parts.push(fingerprint(k, seen));
  if (ArrayBuffer.isView(o)) parts.push(Array.from(o as Uint8Array).join(","));
  for (const key of Reflect.ownKeys(o)) {
    const desc = Object.getOwnPropertyDescriptor(o, key)!;
    const shown = "value" in desc ? fingerprint(desc.value, seen) : "accessor";
    parts.push(`${String(key)}:${shown}`);
  }
  return `${name}{${parts.join(";")}}`;
}

describe("evaluate and matches", () => {
  it("on ordinary data: a value or an EvalError that is not internal; matches agrees; repeatable; no mutation (1,500 cases)", () => {
    fc.assert(
      fc.property(programs, fc.oneof(g.activation, activationOf(ordinary)), (program, activation) => {
        const before = fingerprint(activation);
        const first = evaluate(program, activation);
        if (!first.ok) expect(first.code, `${program.source}: ${first.message}`).not.toBe("internal");
        const second = evaluate(program, activation);
        expect(sameResult(first, second), `${program.source} evaluated twice`).toBe(true);
        const matched = program.matches(activation);
        expect(matched).toBe(first.ok && first.value === true);
        expect(fingerprint(activation), `${program.source} changed its activation`).toBe(before);
      }),
      { numRuns: 1500 },
    );
  });

  it("on hostile data: a value or an EvalError, matches returns a boolean, no mutation (800 cases)", () => {
    fc.assert(
      fc.property(programs, activationOf(hostile), (program, activation) => {
        const before = fingerprint(activation);
        evaluate(program, activation);
        expect(typeof program.matches(activation)).toBe("boolean");
        expect(program.decide(activation)).toMatch(/^(match|no_match|error|non_boolean)$/);
        expect(fingerprint(activation), `${program.source} changed its activation`).toBe(before);
      }),
      { numRuns: 800 },
    );
  });

  it("matches never throws, even for an activation that is not an object", () => {
    const program = compile("event.data.a == 1 || x > 2", { cache: false });
    for (const activation of [null, undefined, 1, "s", [], new Map(), Object.create(null), cyclicMap()]) {
      expect(program.matches(activation as unknown as Record<string, unknown>)).toBe(false);
    }
  });
});
