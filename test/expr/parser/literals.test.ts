/**
 * Literal decoding exactly as the CEL specification defines it: the decoded values, not only
 * their printout.
 */
import { describe, expect, it } from "vitest";
import type { Constant } from "../../../src/expr/ast.js";
import { CompileError } from "../../../src/expr/errors.js";
import { parse } from "../../../src/expr/parser/index.js";

function constant(source: string): Constant {
  const { expr } = parse(source);
  if (expr.kind !== "const") throw new Error(`${source} is not a literal but ${expr.kind}`);
  return expr.value;
}

function bytes(...values: number[]): Constant {
  return { kind: "bytes", value: Uint8Array.from(values) };
}

describe("numeric literals", () => {
  it.each<[string, Constant]>([
    ["0", { kind: "int", value: 0n }],
    ["123", { kind: "int", value: 123n }],
    ["0x1f", { kind: "int", value: 31n }],
    ["0xABCDEF", { kind: "int", value: 0xabcdefn }],
    ["-5", { kind: "int", value: -5n }],
    ["9223372036854775807", { kind: "int", value: 9223372036854775807n }],
    ["-9223372036854775808", { kind: "int", value: -9223372036854775808n }],
    ["-0x8000000000000000", { kind: "int", value: -9223372036854775808n }],
    ["0u", { kind: "uint", value: 0n }],
    ["7U", { kind: "uint", value: 7n }],
    ["0x10u", { kind: "uint", value: 16n }],
    ["18446744073709551615u", { kind: "uint", value: 18446744073709551615n }],
    ["1.0", { kind: "double", value: 1 }],
    [".25", { kind: "double", value: 0.25 }],
    ["1e2", { kind: "double", value: 100 }],
    ["1E-2", { kind: "double", value: 0.01 }],
    ["6.02e+23", { kind: "double", value: 6.02e23 }],
    ["-2.5", { kind: "double", value: -2.5 }],
    ["1e-400", { kind: "double", value: 0 }],
    ["1.7976931348623157e308", { kind: "double", value: Number.MAX_VALUE }],
  ])("%s", (source, value) => {
    expect(constant(source)).toEqual(value);
  });

  it("keeps the sign of negative zero", () => {
    const value = constant("-0.0");
    expect(value.kind === "double" && Object.is(value.value, -0)).toBe(true);
  });

  it.each([
    ["9223372036854775808", "invalid int literal"],
    ["-9223372036854775809", "invalid int literal"],
    ["0x8000000000000000", "invalid int literal"],
    ["18446744073709551616u", "invalid uint literal"],
    ["0x10000000000000000u", "invalid uint literal"],
    ["1e309", "invalid double literal"],
  ])("rejects %s: %s", (source, message) => {
    expect(() => parse(source)).toThrow(CompileError);
    try {
      parse(source);
    } catch (e) {
      expect((e as CompileError).issues).toEqual([
        { code: "invalid_literal", message, line: 1, column: 1, offset: 0, span: { start: 0, end: source.length } },
      ]);
    }
  });
});

describe("string literals", () => {
  it.each<[string, string]>([
    ["''", ""],
    ['""', ""],
    ["'''x''x'''", "x''x"],
    ["'\"\"'", '""'],
    ['"\\""', '"'],
    ['"\\\\"', "\\"],
    ['r"\\\\"', "\\\\"],
    ["r'\\n\\t'", "\\n\\t"],
    ['R"""a\\"b"""', 'a\\"b'],
    ["'\\a\\b\\f\\n\\r\\t\\v'", "\x07\b\f\n\r\t\v"],
    ["'\\\\\\'\\\"\\`\\?'", "\\'\"`?"],
    ["'\\x41\\X61\\xe9\\xFF'", "Aaéÿ"],
    ["'\\000\\101\\377'", "\x00Aÿ"],
    ["'\\u00e9\\u2764\\uFFFB'", "é❤\ufffb"],
    ["'\\U0001F600\\U00000041'", "😀A"],
    ["'\\U00088888'", "\u{88888}"],
    ['"\\303\\277"', "Ã¿"],
    ["'''line 1\nline 2'''", "line 1\nline 2"],
    ["'''a\r\nb\rc'''", "a\nb\nc"],
    ["r'''a\r\nb'''", "a\nb"],
    ["'🙂 ünïcødé'", "🙂 ünïcødé"],
    ["\"'\"", "'"],
  ])("%s", (source, value) => {
    expect(constant(source)).toEqual({ kind: "string", value });
  });

  it.each([
    ["'\\ud800'", "invalid unicode code point"],
    ["'\\uDFFF'", "invalid unicode code point"],
    ["'\\U0000D83D'", "invalid unicode code point"],
    ["'\\U00110000'", "invalid unicode code point"],
  ])("rejects %s: %s", (source, message) => {
    try {
      parse(source);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(CompileError);
      expect((e as CompileError).issues.map((i) => [i.code, i.message])).toEqual([["invalid_literal", message]]);
    }
  });

  it.each(["'\\s'", "'\\x4'", "'\\u123'", "'\\U1234567'", "'\\400'", "'\\08'", "'a\nb'", "'abc", "'\\'"])(
    "rejects the malformed %j as a token recognition error",
    (source) => {
      try {
        parse(source);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(CompileError);
        expect((e as CompileError).issues[0]!.message).toMatch(/^Syntax error: token recognition error at: '/);
      }
    },
  );
});

describe("bytes literals", () => {
  it.each<[string, Constant]>([
    ["b''", bytes()],
    ["b'abc'", bytes(97, 98, 99)],
    ["B'abc'", bytes(97, 98, 99)],
    ["b'ÿ'", bytes(0xc3, 0xbf)],
    ["b'\\303\\277'", bytes(0xc3, 0xbf)],
    ["b'\\377'", bytes(0xff)],
    ["b'\\xff\\XfF'", bytes(0xff, 0xff)],
    ["b'\\a\\b\\f\\n\\r\\t\\v\\\\\\'\\\"\\`\\?'", bytes(7, 8, 12, 10, 13, 9, 11, 92, 39, 34, 96, 63)],
    ["b'😀'", bytes(0xf0, 0x9f, 0x98, 0x80)],
    ["br'\\x00'", bytes(92, 120, 48, 48)],
    ["bR'''\\n'''", bytes(92, 110)],
    ["b'''a\r\nb'''", bytes(97, 10, 98)],
  ])("%s", (source, value) => {
    expect(constant(source)).toEqual(value);
  });

  it("decodes \\u in bytes as the UTF-8 of its code point, as the language definition allows (cel-go rejects it)", () => {
    expect(constant("b'\\u0041\\u00ff'")).toEqual(bytes(0x41, 0xc3, 0xbf));
  });

  it("rejects a surrogate escape in bytes as in strings", () => {
    expect(() => parse("b'\\ud800'")).toThrow(/invalid unicode code point/);
  });

  it.each(["b'\\U00000041'"])("rejects %s", (source) => {
    try {
      parse(source);
      expect.unreachable();
    } catch (e) {
      expect((e as CompileError).issues.map((i) => i.message)).toEqual(["unable to unescape string"]);
    }
  });
});

describe("other literals", () => {
  it.each<[string, Constant]>([
    ["true", { kind: "bool", value: true }],
    ["false", { kind: "bool", value: false }],
    ["null", { kind: "null" }],
  ])("%s", (source, value) => {
    expect(constant(source)).toEqual(value);
  });

  it("keeps keyword prefixes as identifiers", () => {
    expect(parse("truex").expr).toMatchObject({ kind: "ident", name: "truex" });
    expect(parse("nullable").expr).toMatchObject({ kind: "ident", name: "nullable" });
    expect(parse("inner").expr).toMatchObject({ kind: "ident", name: "inner" });
    expect(parse("bar").expr).toMatchObject({ kind: "ident", name: "bar" });
    expect(parse("r").expr).toMatchObject({ kind: "ident", name: "r" });
  });
});
