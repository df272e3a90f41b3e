import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { celTypeName, formatClauseCount, formatString } from "../../../src/expr/runtime/format.js";
import { expectCompileError, expectEval, expectEvalError } from "../support/expect.js";
import { parseDuration, parseTimestamp } from "../../../src/expr/runtime/time.js";
import { CelError, CelTimestamp, CelUint, TYPES } from "../../../src/expr/values.js";
import { specError, specSection, specString } from "./spec-cases.js";

const u = (v: bigint): CelUint => new CelUint(v);
const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const ts = (s: string): unknown => parseTimestamp(s);
const dur = (s: string): unknown => parseDuration(s);

/**
 * Conformance cases of `string_ext/format` and `string_ext/format_errors`, keyed by name, with
 * the format string and the arguments built from the case's CEL literals. The expected results
 * come from the conformance data itself.
 */
const CASES: Record<string, [string, unknown[]]> = {
  "no-op": ["no substitution", []],
  "mid-string substitution": ["str is %s and some more", ["filler"]],
  "percent escaping": ["%% and also %%", []],
  "substitution inside escaped percent signs": ["%%%s%%", ["text"]],
  "substitution with one escaped percent sign on the right": ["%s%%", ["percent on the right"]],
  "substitution with one escaped percent sign on the left": ["%%%s", ["percent on the left"]],
  "multiple substitutions": [
    "%d %d %d, %s %s %s, %d %d %d, %s %s %s",
    [1n, 2n, 3n, "A", "B", "C", 4n, 5n, 6n, "D", "E", "F"],
  ],
  "percent sign escape sequence support": ["%%escaped %s%%", ["percent"]],
  "fixed point formatting clause": ["%.3f", [1.2345]],
  "binary formatting clause": ["this is 5 in binary: %b", [5n]],
  "uint support for binary formatting": ["unsigned 64 in binary: %b", [u(64n)]],
  "bool support for binary formatting": ["bit set from bool: %b", [true]],
  "octal formatting clause": ["%o", [11n]],
  "uint support for octal formatting clause": ["this is an unsigned octal: %o", [u(65535n)]],
  "lowercase hexadecimal formatting clause": ["%x is 20 in hexadecimal", [30n]],
  "uppercase hexadecimal formatting clause": ["%X is 20 in hexadecimal", [30n]],
  "unsigned support for hexadecimal formatting clause": ["%X is 6000 in hexadecimal", [u(6000n)]],
  "string support with hexadecimal formatting clause": ["%x", ["Hello world!"]],
  "string support with uppercase hexadecimal formatting clause": ["%X", ["Hello world!"]],
  "byte support with hexadecimal formatting clause": ["%x", [b("byte string")]],
  "byte support with uppercase hexadecimal formatting clause": ["%X", [b("byte string")]],
  "scientific notation formatting clause": ["%.6e", [1052.032911275]],
  "default precision for fixed-point clause": ["%f", [2.71828]],
  "default precision for scientific notation": ["%e", [2.71828]],
  "NaN support for scientific notation": ["%e", [NaN]],
  "positive infinity support for scientific notation": ["%e", [Infinity]],
  "negative infinity support for scientific notation": ["%e", [-Infinity]],
  "NaN support for decimal": ["%d", [NaN]],
  "positive infinity support for decimal": ["%d", [Infinity]],
  "negative infinity support for decimal": ["%d", [-Infinity]],
  "NaN support for fixed-point": ["%f", [NaN]],
  "positive infinity support for fixed-point": ["%f", [Infinity]],
  "negative infinity support for fixed-point": ["%f", [-Infinity]],
  "uint support for decimal clause": ["%d", [u(64n)]],
  "null support for string": ["%s", [null]],
  "int support for string": ["%s", [999999999999n]],
  "bytes support for string": ["%s", [b("xyz")]],
  "type() support for string": ["%s", [TYPES.string]],
  "timestamp support for string": ["%s", [ts("2023-02-03T23:31:20+00:00")]],
  "duration support for string": ["%s", [dur("1h45m47s")]],
  "list support for string": ["%s", [["abc", 3.14, null, [9n, 8n, 7n, 6n], ts("2023-02-03T23:31:20Z")]]],
  "map support for string": [
    "%s",
    [{ key1: b("xyz"), key5: null, key2: dur("2h"), key4: true, key3: 2.71828 }],
  ],
  "map support (all key types)": [
    "%s",
    [
      new Map<unknown, unknown>([
        [1n, "value1"],
        [u(2n), "value2"],
        [true, NaN],
      ]),
    ],
  ],
  "boolean support for %s": ["%s, %s", [true, false]],
  "dyntype support for string formatting clause": ["%s", ["a string"]],
  "dyntype support for numbers with string formatting clause": ["%s, %s", [32n, 56.8]],
  "dyntype support for integer formatting clause": ["%d", [128n]],
  "dyntype support for integer formatting clause (unsigned)": ["%d", [u(256n)]],
  "dyntype support for hex formatting clause": ["%x", [22n]],
  "dyntype support for hex formatting clause (uppercase)": ["%X", [26n]],
  "dyntype support for unsigned hex formatting clause": ["%x", [u(500n)]],
  "dyntype support for fixed-point formatting clause": ["%.3f", [4.5]],
  "dyntype support for scientific notation": ["%e", [2.71828]],
  "dyntype NaN/infinity support": ["%s", [[NaN, Infinity, -Infinity]]],
  "dyntype support for timestamp": ["%s", [ts("2009-11-10T23:00:00Z")]],
  "dyntype support for duration": ["%s", [dur("8747s")]],
  "dyntype support for lists": ["%s", [[6n, 4.2, "a string"]]],
  "dyntype support for maps": [
    "%s",
    [
      new Map<unknown, unknown>([
        ["strKey", "x"],
        [6n, dur("422s")],
        [true, 42n],
      ]),
    ],
  ],
  "string substitution in a string variable": ["%s", ["filler"]],
  "multiple substitutions in a string variable": [
    "%d %d %d, %s %s %s, %d %d %d, %s %s %s",
    [1n, 2n, 3n, "A", "B", "C", 4n, 5n, 6n, "D", "E", "F"],
  ],
  "substitution inside escaped percent signs in a string variable": ["%%%s%%", ["text"]],
  "fixed point formatting clause in a string variable": ["%.3f", [1.2345]],
  "binary formatting clause in a string variable": ["%b", [5n]],
  "scientific notation formatting clause in a string variable": ["%.6e", [1052.032911275]],
  "default precision for fixed-point clause in a string variable": ["%f", [2.71828]],
  "format_%f_insignificant_zeroes_removed": ["%.0f", [123.0]],
  "format_%f_positive_round_to_whole_number": ["%.0f", [3.5001]],
  "format_%f_negative_truncate_to_whole_number": ["%.0f", [3.4999]],
  "format_%f_halfway_round_up_to_nearest_even": ["%.0f", [1.5]],
  "format_%f_halfway_truncate_to_nearest_even": ["%.0f", [2.5]],
  "format_%f_positive_round_up": ["%.3f", [123.4999]],
  "format_%f_positive_round_down": ["%.3f", [123.4994]],
  "format_%f_negative_round_up": ["%.3f", [-123.4999]],
  "format_%f_negative_round_down": ["%.3f", [-123.4994]],
  "format_%f_zero_padding": ["%.5f", [-1.2]],
};

const ERROR_CASES: Record<string, [string, unknown[]]> = {
  "unrecognized formatting clause": ["%a", [1n]],
  "out of bounds arg index": ["%d %d %d", [0n, 1n]],
  "string substitution is not allowed with binary clause": ["string is %b", ["abc"]],
  "duration substitution not allowed with decimal clause": ["%d", [dur("30m2s")]],
  "string substitution not allowed with octal clause": ["octal: %o", ["a string"]],
  "double substitution not allowed with hex clause": ["double is %x", [0.5]],
  "uppercase not allowed for scientific clause": ["double is %E", [0.5]],
  "null not allowed for %d": ["null: %d", [null]],
  "null not allowed for %e": ["null: %e", [null]],
  "null not allowed for %f": ["null: %f", [null]],
  "null not allowed for %x": ["null: %x", [null]],
  "null not allowed for %X": ["null: %X", [null]],
  "null not allowed for %b": ["null: %b", [null]],
  "null not allowed for %o": ["null: %o", [null]],
};

/** Conformance cases that need protobuf message values, which the runtime has no notion of. */
const NEEDS_MESSAGES = new Set(["object not allowed", "object inside list", "object inside map"]);

describe("string.format conformance cases", () => {
  it("covers every case of the format sections", () => {
    for (const c of specSection("string_ext", "format")) expect(Object.keys(CASES)).toContain(c.name);
    for (const c of specSection("string_ext", "format_errors")) {
      if (!NEEDS_MESSAGES.has(c.name)) expect(Object.keys(ERROR_CASES)).toContain(c.name);
    }
  });

  for (const [name, [format, args]] of Object.entries(CASES)) {
    it(name, () => {
      expect(formatString(format, args)).toBe(specString(`string_ext/format/${name}`));
    });
  }

  for (const [name, [format, args]] of Object.entries(ERROR_CASES)) {
    it(`error: ${name}`, () => {
      const result = formatString(format, args);
      expect(result).toBeInstanceOf(CelError);
      expect((result as CelError).code).toBe("invalid_argument");
      expect((result as CelError).message).toBe(specError(`string_ext/format_errors/${name}`));
    });
  }
});

describe("string.format beyond the conformance data", () => {
  it("accepts ints and uints in %f and %e and doubles in %d (cel-spec strings document)", () => {
    expect(formatString("%f", [2n])).toBe("2.000000");
    expect(formatString("%f", [u(3n)])).toBe("3.000000");
    expect(formatString("%e", [2n])).toBe("2.000000e+00");
    expect(formatString("%e", [u(3n)])).toBe("3.000000e+00");
    expect(formatString("%d", [3.14])).toBe("3.14");
    expect(formatString("%.1f", [3.14])).toBe("3.1");
    expect(formatString("%.1e", [-3.14])).toBe("-3.1e+00");
    expect(formatString("%.0e", [2.5])).toBe("2e+00");
  });

  it("prints doubles in %s without exponents and negative numbers in every base", () => {
    expect(formatString("%s", [1e100])).toBe(`1${"0".repeat(100)}`);
    expect(formatString("%s", [1e-7])).toBe("0.0000001");
    expect(formatString("%s", [-0])).toBe("-0");
    expect(formatString("%x %X %o %b", [-255n, -255n, -8n, -5n])).toBe("-ff -FF -10 -101");
    expect(formatString("%x", [u(18446744073709551615n)])).toBe("ffffffffffffffff");
    expect(formatString("%x", ["😀"])).toBe("f09f9880");
  });

  it("formats nested values, sorting map keys by code point", () => {
    expect(formatString("%s", [[[], {}, new Map()]])).toBe("[[], {}, {}]");
    expect(formatString("%s", [{ b: [1n, { z: 1n, a: 2n }], a: "x" }])).toBe("{a: x, b: [1, {a: 2, z: 1}]}");
    // U+FF5E sorts below U+1F600 in UTF-8 although its UTF-16 unit is larger than a surrogate.
    expect(formatString("%s", [{ "\u{1F600}": 1n, "\uff5e": 2n }])).toBe("{\uff5e: 2, \u{1F600}: 1}");
    expect(formatString("%s", [[TYPES.int, TYPES.timestamp, u(7n), true]])).toBe("[int, google.protobuf.Timestamp, 7, true]");
    expect(formatString("%s", [new Date(Date.UTC(2020, 0, 2))])).toBe("2020-01-02T00:00:00Z");
    expect(formatString("%s", [new CelTimestamp(0, 1)])).toBe("1970-01-01T00:00:00.000000001Z");
  });

  it("replaces invalid UTF-8 in bytes with one U+FFFD per run", () => {
    expect(formatString("%s", [new Uint8Array([0x61, 0xff, 0xfe, 0x62])])).toBe("a\ufffdb");
  });

  it("reports clause syntax errors", () => {
    const err = (format: string, args: unknown[] = [1n]): string => (formatString(format, args) as CelError).message;
    expect(err("%")).toBe("unexpected end of string");
    expect(err("%", [])).toBe("index 0 out of range");
    expect(err("%.")).toBe("could not parse formatting clause: error while parsing precision: could not find end of precision specifier");
    expect(err("%.3")).toBe("could not parse formatting clause: error while parsing precision: could not find end of precision specifier");
    expect(err("%.f")).toBe(
      'could not parse formatting clause: error while parsing precision: error while converting precision to integer: strconv.Atoi: parsing "": invalid syntax',
    );
    expect(err("%.101f")).toBe("could not parse formatting clause: error while parsing precision: precision 101 exceeds maximum allowed precision 100");
    expect(err("%é")).toBe('could not parse formatting clause: unrecognized formatting clause "\u00c3"');
    expect(formatString("%.100f", [1n])).toBe(`1.${"0".repeat(100)}`);
    expect(formatString("%.00000000000000000000002f", [1n])).toBe("1.00");
    expect(err(`%.${"9".repeat(30)}f`)).toBe(
      `could not parse formatting clause: error while parsing precision: error while converting precision to integer: strconv.Atoi: parsing "${"9".repeat(30)}": value out of range`,
    );
    expect(formatString("%.3s|%.2d", ["abc", 5n])).toBe("abc|5");
  });

  it("ignores surplus arguments and keeps literal text intact", () => {
    expect(formatString("a%%b", [1n, 2n])).toBe("a%b");
    expect(formatString("😀%s😀", ["x", "y"])).toBe("😀x😀");
  });

  it("rejects values that are not CEL values", () => {
    class Opaque {}
    const result = formatString("%s", [[1n, new Opaque()]]);
    expect((result as CelError).message).toBe(
      "error during formatting: string clause can only be used on strings, bools, bytes, ints, doubles, maps, lists, types, durations, and timestamps, was given Opaque",
    );
    expect(celTypeName(new Opaque())).toBe("Opaque");
  });

  it("stops at very deep nesting instead of overflowing the stack", () => {
    let deep: unknown = [];
    for (let i = 0; i < 5000; i++) deep = [deep];
    const result = formatString("%s", [deep]);
    expect(result).toBeInstanceOf(CelError);
    expect((result as CelError).message).toBe("error during formatting: value nested too deeply");
  });

  it("%d, %x, %o and %b agree with BigInt for every int", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), (v) => {
        expect(formatString("%d|%x|%X|%o|%b|%s", [v, v, v, v, v, v])).toBe(
          [v.toString(), v.toString(16), v.toString(16).toUpperCase(), v.toString(8), v.toString(2), v.toString()].join("|"),
        );
      }),
    );
  });

  it("never throws, whatever the format string", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("%", ".", "1", "0", "s", "d", "f", "e", "x", "X", "o", "b", "a", "é") }), (format) => {
        const result = formatString(format, [1n, 2.5, "s", true]);
        expect(typeof result === "string" || result instanceof CelError).toBe(true);
      }),
    );
  });
});

describe("string.format argument count at compile time (cel-go's format validator)", () => {
  it("counts the clauses a format string consumes", () => {
    expect(formatClauseCount("")).toBe(0);
    expect(formatClauseCount("100%% sure")).toBe(0);
    expect(formatClauseCount("%s and %.2f of %d%%")).toBe(3);
    expect(formatClauseCount("%j")).toBeUndefined();
    expect(formatClauseCount("trailing %")).toBeUndefined();
    expect(formatClauseCount("%.f")).toBeUndefined();
  });

  it("rejects a literal format string given a list literal with more elements than clauses", () => {
    const e = expectCompileError("'%s %s'.format(['abc', 'def', 'ghi'])", "too many arguments supplied to string.format (expected 2, got 3)");
    expect(e.issues[0]?.code).toBe("invalid_argument");
    expect(e.message).toMatch(/^ERROR: <input>:1:\d+: too many arguments/);
    expectCompileError("'no clauses'.format([1])", "(expected 0, got 1)");
    expectCompileError("'%d%%'.format([1, 2])", "(expected 1, got 2)", { dialect: "inngest" });
  });

  it("leaves other calls to run time: exact counts, too few, bad clauses, lists that are not literals", () => {
    expectEval("'%s %s'.format(['abc', 'def'])", "abc def");
    expectEvalError("'%s %s'.format(['abc'])", "invalid_argument");
    expectEvalError("'%j'.format([1, 2])", "invalid_argument");
    // cel-go checks only list literals; a list from data with surplus elements formats the first ones.
    expectEval("'%s'.format(l)", "a", { l: ["a", "b"] });
  });
});

