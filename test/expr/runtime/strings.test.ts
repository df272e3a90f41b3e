import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  charAt,
  codePointCount,
  contains,
  endsWith,
  indexOf,
  join,
  lastIndexOf,
  lowerAscii,
  quote,
  replace,
  reverse,
  split,
  startsWith,
  stringSize,
  substring,
  trim,
  upperAscii,
} from "../../../src/expr/runtime/strings.js";
import { CelError } from "../../../src/expr/values.js";
import { specCase, specError, specInt, specString } from "./spec-cases.js";

function expectError(v: unknown, code: string, message: string): void {
  expect(v).toBeInstanceOf(CelError);
  expect((v as CelError).code).toBe(code);
  expect((v as CelError).message).toBe(message);
}

/** Strings over a small alphabet mixing ASCII, BMP and astral characters, so that matches happen. */
const mixed = fc.string({ unit: fc.constantFrom("a", "b", "©", "α", "😀", "𝄞", " "), maxLength: 24 });

/** Reference model: Go's []rune view of a string. */
const runes = (s: string): string[] => Array.from(s);

function refIndexOf(s: string, sub: string, offset: number): number {
  const r = runes(s);
  const q = runes(sub);
  for (let i = offset; i + q.length <= r.length; i++) {
    if (q.every((c, j) => r[i + j] === c)) return i;
  }
  return -1;
}

function refLastIndexOf(s: string, sub: string, offset: number): number {
  const r = runes(s);
  const q = runes(sub);
  for (let i = Math.min(offset, r.length - q.length); i >= 0; i--) {
    if (q.every((c, j) => r[i + j] === c)) return i;
  }
  return -1;
}

describe("core string functions", () => {
  it("size counts code points", () => {
    expect(stringSize("")).toBe(specInt("string/size/empty"));
    expect(stringSize("A")).toBe(specInt("string/size/one_ascii"));
    expect(stringSize("ÿ")).toBe(specInt("string/size/one_unicode"));
    expect(stringSize("four")).toBe(specInt("string/size/ascii"));
    expect(stringSize("πέντε")).toBe(specInt("string/size/unicode"));
    expect(stringSize("😀a𝄞")).toBe(3n);
    expect(codePointCount("\ud83d")).toBe(1); // a lone surrogate is one code point
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        expect(codePointCount(s)).toBe(runes(s).length);
      }),
    );
  });

  it("contains, startsWith and endsWith match the string conformance cases", () => {
    expect(contains("hello", "he")).toBe(true);
    expect(contains("hello", "")).toBe(true);
    expect(contains("hello", "ol")).toBe(false);
    expect(contains("abababc", "ababc")).toBe(true);
    expect(contains("Straße", "aß")).toBe(true);
    expect(contains("🐱😀😁", "😀")).toBe(true);
    expect(contains("", "something")).toBe(false);
    expect(startsWith("foobar", "foo")).toBe(true);
    expect(startsWith("foobar", "bar")).toBe(false);
    expect(startsWith("", "foo")).toBe(false);
    expect(startsWith("завтра", "за")).toBe(true);
    expect(startsWith("🐱😀😛", "🐱")).toBe(true);
    expect(endsWith("foobar", "bar")).toBe(true);
    expect(endsWith("forté", "té")).toBe(true);
    expect(endsWith("🐱😀😛", "😛")).toBe(true);
    expect(endsWith("", "")).toBe(true);
  });
});

describe("charAt", () => {
  it("matches the conformance cases", () => {
    expect(charAt("tacocat", 3n)).toBe(specString("string_ext/char_at/middle_index"));
    expect(charAt("tacocat", 7n)).toBe(specString("string_ext/char_at/end_index"));
    expect([charAt("©αT", 0n), charAt("©αT", 1n), charAt("©αT", 2n)]).toEqual(["©", "α", "T"]);
    expectError(charAt("tacocat", 30n), "index_out_of_bounds", specError("string_ext/value_errors/charat_out_of_range"));
    expectError(charAt("tacocat", -1n), "index_out_of_bounds", "index out of range: -1");
    expect(charAt("a😀b", 1n)).toBe("😀");
    expect(charAt("a😀b", 2n)).toBe("b");
    expect(charAt("a😀b", 3n)).toBe("");
    expectError(charAt("😀😀", 3n), "index_out_of_bounds", "index out of range: 3");
  });

  it("agrees with the code-point model", () => {
    fc.assert(
      fc.property(mixed, fc.integer({ min: -2, max: 30 }), (s, i) => {
        const r = runes(s);
        const got = charAt(s, BigInt(i));
        if (i < 0 || i > r.length) expect(got).toBeInstanceOf(CelError);
        else expect(got).toBe(i === r.length ? "" : r[i]);
      }),
    );
  });
});

describe("indexOf and lastIndexOf", () => {
  it("match the index_of conformance cases", () => {
    expect(indexOf("tacocat", "")).toBe(0n);
    expect(indexOf("tacocat", "ac")).toBe(1n);
    expect(indexOf("tacocat", "none")).toBe(-1n);
    expect(indexOf("tacocat", "", 3n)).toBe(3n);
    expect(indexOf("tacocat", "a", 3n)).toBe(5n);
    expect(indexOf("tacocat", "at", 3n)).toBe(5n);
    expect(indexOf("ta©o©αT", "©")).toBe(2n);
    expect(indexOf("ta©o©αT", "©", 3n)).toBe(4n);
    expect(indexOf("ta©o©αT", "©αT", 3n)).toBe(4n);
    expect(indexOf("ta©o©αT", "©α", 5n)).toBe(-1n);
    expect(indexOf("ijk", "k")).toBe(2n);
    expect(indexOf("hello wello", "hello wello")).toBe(0n);
    expect(indexOf("hello wello", "ello", 6n)).toBe(7n);
    expect(indexOf("hello wello", "elbo room!!")).toBe(-1n);
    expectError(indexOf("tacocat", "a", 30n), "index_out_of_bounds", specError("string_ext/value_errors/indexof_out_of_range"));
    expectError(indexOf("tacocat", "a", -1n), "index_out_of_bounds", "index out of range: -1");
  });

  it("match the last_index_of conformance cases", () => {
    expect(lastIndexOf("", "@@")).toBe(-1n);
    expect(lastIndexOf("tacocat", "")).toBe(7n);
    expect(lastIndexOf("tacocat", "at")).toBe(5n);
    expect(lastIndexOf("tacocat", "none")).toBe(-1n);
    expect(lastIndexOf("tacocat", "", 3n)).toBe(3n);
    expect(lastIndexOf("tacocat", "a", 3n)).toBe(1n);
    expect(lastIndexOf("ta©o©αT", "©")).toBe(4n);
    expect(lastIndexOf("ta©o©αT", "©", 3n)).toBe(2n);
    expect(lastIndexOf("ta©o©αT", "©α", 4n)).toBe(4n);
    expect(lastIndexOf("hello wello", "ello", 6n)).toBe(1n);
    expect(lastIndexOf("hello wello", "low")).toBe(-1n);
    expect(lastIndexOf("hello wello", "elbo room!!")).toBe(-1n);
    expect(lastIndexOf("hello wello", "hello wello")).toBe(0n);
    expect(lastIndexOf("bananananana", "nana", 7n)).toBe(6n);
    expectError(lastIndexOf("tacocat", "a", -1n), "index_out_of_bounds", specError("string_ext/value_errors/lastindexof_negative_index"));
    expectError(lastIndexOf("tacocat", "a", 30n), "index_out_of_bounds", specError("string_ext/value_errors/lastindexof_out_of_range"));
  });

  it("agree with a code-point reference model, astral characters included", () => {
    fc.assert(
      fc.property(mixed, mixed, fc.integer({ min: 0, max: 26 }), (s, sub, offset) => {
        const n = runes(s).length;
        expect(indexOf(s, sub)).toBe(BigInt(refIndexOf(s, sub, 0)));
        const expectedLast = sub === "" ? n : refLastIndexOf(s, sub, n);
        expect(lastIndexOf(s, sub)).toBe(BigInt(expectedLast));
        const i = indexOf(s, sub, BigInt(offset));
        const l = lastIndexOf(s, sub, BigInt(offset));
        if (offset > n) {
          expect(i).toBeInstanceOf(CelError);
          expect(l).toBeInstanceOf(CelError);
          return;
        }
        expect(i).toBe(BigInt(sub === "" ? offset : refIndexOf(s, sub, offset)));
        expect(l).toBe(BigInt(sub === "" ? offset : refLastIndexOf(s, sub, offset)));
        // whatever indexOf finds, substring reads back
        if (typeof i === "bigint" && i >= 0n) {
          expect(substring(s, i, i + BigInt(runes(sub).length))).toBe(sub);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe("substring", () => {
  it("matches the conformance cases", () => {
    expect(substring("tacocat", 4n)).toBe("cat");
    expect(substring("tacocat", 7n)).toBe("");
    expect(substring("tacocat", 0n, 4n)).toBe("taco");
    expect(substring("tacocat", 4n, 4n)).toBe("");
    expect(substring("ta©o©αT", 2n, 6n)).toBe("©o©α");
    expect(substring("ta©o©αT", 7n, 7n)).toBe("");
    const base = "string_ext/value_errors/";
    expectError(substring("tacocat", 40n), "index_out_of_bounds", specError(`${base}substring_out_of_range`));
    expectError(substring("tacocat", -1n), "index_out_of_bounds", specError(`${base}substring_negative_index`));
    expectError(substring("tacocat", 1n, 50n), "index_out_of_bounds", specError(`${base}substring_end_index_out_of_range`));
    expectError(substring("tacocat", 49n, 50n), "index_out_of_bounds", specError(`${base}substring_begin_index_out_of_range`));
    expectError(substring("tacocat", 4n, 3n), "index_out_of_bounds", specError(`${base}substring_end_index_greater_than_begin_index`));
    expectError(substring("😀😀", 0n, 3n), "index_out_of_bounds", "index out of range: 3");
  });

  it("agrees with slicing code points", () => {
    fc.assert(
      fc.property(mixed, fc.integer({ min: -1, max: 26 }), fc.integer({ min: -1, max: 26 }), (s, a, b) => {
        const r = runes(s);
        const got = substring(s, BigInt(a), BigInt(b));
        if (a > b || a < 0 || a > r.length || b > r.length) expect(got).toBeInstanceOf(CelError);
        else expect(got).toBe(r.slice(a, b).join(""));
        const tail = substring(s, BigInt(a));
        if (a < 0 || a > r.length) expect(tail).toBeInstanceOf(CelError);
        else expect(tail).toBe(r.slice(a).join(""));
      }),
      { numRuns: 1000 },
    );
  });
});

describe("case mapping", () => {
  it("changes ASCII letters only", () => {
    expect(lowerAscii("TacoCat")).toBe("tacocat");
    expect(lowerAscii("TacoCÆt")).toBe("tacocÆt");
    expect(lowerAscii("TacoCÆt Xii")).toBe("tacocÆt xii");
    expect(upperAscii("tacoCat")).toBe("TACOCAT");
    expect(upperAscii("tacoCαt")).toBe("TACOCαT");
    expect(upperAscii("TacoCÆt Xii")).toBe("TACOCÆT XII");
    expect(lowerAscii("\u01c5 \u0130 \u212a")).toBe("\u01c5 \u0130 \u212a"); // Ǆ-like, dotted İ, Kelvin sign
    expect(upperAscii("\u017f \u0131")).toBe("\u017f \u0131"); // long s and dotless i stay
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        const lower = lowerAscii(s);
        const upper = upperAscii(s);
        expect(lower.length).toBe(s.length);
        for (let i = 0; i < s.length; i++) {
          const c = s.charCodeAt(i);
          expect(lower.charCodeAt(i)).toBe(c >= 65 && c <= 90 ? c + 32 : c);
          expect(upper.charCodeAt(i)).toBe(c >= 97 && c <= 122 ? c - 32 : c);
        }
      }),
    );
  });
});

describe("replace", () => {
  it("matches the conformance and cel-go documentation cases", () => {
    expect(replace("12 days 12 hours", "{0}", "2")).toBe("12 days 12 hours");
    expect(replace("{0} days {0} hours", "{0}", "2")).toBe("2 days 2 hours");
    expect(replace(replace("{0} days {0} hours", "{0}", "2", 1n), "{0}", "23")).toBe("2 days 23 hours");
    expect(replace("1 ©αT taco", "αT", "o©α")).toBe("1 ©o©α taco");
    expect(replace("hello hello", "he", "we", -1n)).toBe("wello wello");
    expect(replace("hello hello", "he", "we", 1n)).toBe("wello hello");
    expect(replace("hello hello", "he", "we", 0n)).toBe("hello hello");
    expect(replace("hello hello", "", "_")).toBe("_h_e_l_l_o_ _h_e_l_l_o_");
    expect(replace("hello hello", "h", "")).toBe("ello ello");
    expect(replace("a😀b", "", "-")).toBe("-a-😀-b-");
    expect(replace("a😀b", "", "-", 2n)).toBe("-a-😀b");
    expect(replace("aaa", "a", "$&$1", 2n)).toBe("$&$1$&$1a"); // no JS replacement patterns
    expect(replace("aaa", "a", "$&")).toBe("$&$&$&");
  });

  it("replaces at most n occurrences left to right", () => {
    fc.assert(
      fc.property(mixed, fc.constantFrom("a", "©", "😀", "ab", " "), fc.constantFrom("", "X", "😀😀"), fc.integer({ min: -1, max: 5 }), (s, old, nu, n) => {
        const parts = s.split(old);
        const k = n < 0 ? parts.length - 1 : Math.min(n, parts.length - 1);
        const expected = parts.slice(0, k + 1).join(nu) + (k + 1 < parts.length ? old + parts.slice(k + 1).join(old) : "");
        expect(replace(s, old, nu, BigInt(n))).toBe(expected);
      }),
    );
  });
});

describe("split", () => {
  it("matches the conformance cases and Go's SplitN", () => {
    expect(split("hello world", " ")).toEqual(["hello", "world"]);
    expect(split("hello world events!", " ", 0n)).toEqual([]);
    expect(split("hello world events!", " ", 1n)).toEqual(["hello world events!"]);
    expect(split("hello hello hello", " ", 2n)).toEqual(["hello", "hello hello"]);
    expect(split("o©o©o©o", "©", -1n)).toEqual(["o", "o", "o", "o"]);
    expect(split("", ",")).toEqual([""]);
    expect(split("", "")).toEqual([]);
    expect(split("a😀b", "")).toEqual(["a", "😀", "b"]);
    expect(split("a😀b", "", 2n)).toEqual(["a", "😀b"]);
    expect(split("a,b,", ",")).toEqual(["a", "b", ""]);
  });

  it("joining the pieces gives the string back", () => {
    fc.assert(
      fc.property(mixed, fc.constantFrom("", "a", "😀", "©α", " "), fc.integer({ min: -1, max: 6 }), (s, sep, n) => {
        const pieces = split(s, sep, BigInt(n));
        if (n === 0) {
          expect(pieces).toEqual([]);
          return;
        }
        if (n > 0) expect(pieces.length).toBeLessThanOrEqual(n);
        if (s !== "" || sep !== "") expect(pieces.join(sep)).toBe(s);
        if (sep === "" && n < 0) expect(pieces).toEqual(runes(s));
      }),
    );
  });
});

describe("trim", () => {
  it("removes Go's white space and keeps zero-width characters", () => {
    expect(trim(" \f\n\r\t\vtext  ")).toBe("text");
    expect(trim("\u0085\u00a0\u1680text")).toBe("text");
    expect(trim("text\u2000\u2001\u2002\u2003\u2004\u2004\u2006\u2007\u2008\u2009")).toBe("text");
    expect(trim("\u200atext\u2028\u2029\u202F\u205F\u3000")).toBe("text");
    const noTrim = "\u180etext\u200b\u200c\u200d\u2060\ufeff";
    expect(trim(noTrim)).toBe(noTrim);
    expect(specCase("string_ext/trim/unicode_no_trim").expr).toContain("\\u180etext");
    expect(trim("   ")).toBe("");
    expect(trim("a b")).toBe("a b");
  });
});

describe("join", () => {
  it("concatenates strings with an optional separator", () => {
    expect(join(["x", "y"])).toBe("xy");
    expect(join(["x", "y"], "-")).toBe("x-y");
    expect(join([])).toBe("");
    expect(join([], "-")).toBe("");
    expect(join(["😀"], "-")).toBe("😀");
    expectError(join(["a", 1n]), "invalid_argument", "join: invalid input: 1");
  });
});

describe("quote", () => {
  it("matches the quote conformance cases", () => {
    const cases: [string, string][] = [
      ["first\nsecond", '"first\\nsecond"'],
      ["bell\u0007", '"bell\\a"'],
      ["\bbackspace", '"\\bbackspace"'],
      ["\fform feed", '"\\fform feed"'],
      ["carriage \r return", '"carriage \\r return"'],
      ["horizontal tab\t", '"horizontal tab\\t"'],
      ["vertical \v tab", '"vertical \\v tab"'],
      ["double \\\\ slash", '"double \\\\\\\\ slash"'],
      ["two escape sequences \\a\\n", '"two escape sequences \\\\a\\\\n"'],
      ["verbatim", '"verbatim"'],
      ["ends with \\", '"ends with \\\\"'],
      ["\\ starts with", '"\\\\ starts with"'],
      ["printable unicode😀", '"printable unicode😀"'],
      ['mid string " quote', '"mid string \\" quote"'],
      ['single-quote with "double quote"', '"single-quote with \\"double quote\\""'],
      ["size('ÿ')", "\"size('ÿ')\""],
      ["завтра", '"завтра"'],
      ["ta©o©αT", '"ta©o©αT"'],
      ["", '""'],
      ["a\ud800b", '"a\ufffdb"'],
    ];
    for (const [input, output] of cases) expect(quote(input)).toBe(output);
    expect(quote("\u{1F431}\u{1F600}\u{1F61B}")).toBe(specString("string_ext/quote/unicode_code_points"));
    expect(quote("")).toBe(specString("string_ext/quote/empty_quote"));
  });

  it("is undone by JSON parsing when no CEL-only escape is involved", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s)), (s) => {
        expect(JSON.parse(quote(s))).toBe(s);
      }),
    );
  });
});

describe("reverse", () => {
  it("reverses code points", () => {
    expect(reverse("")).toBe("");
    expect(reverse("☺")).toBe("☺");
    expect(reverse("Ta©oCαt")).toBe("tαCo©aT");
    expect(reverse("gums")).toBe("smug");
    expect(reverse("a😀b")).toBe("b😀a");
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        expect(reverse(s)).toBe(runes(s).reverse().join(""));
        expect(reverse(reverse(s))).toBe(s);
      }),
    );
  });
});
