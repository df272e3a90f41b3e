import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeUtf8Lossy } from "../../../src/expr/runtime/convert.js";
import {
  JSON_MAX_DEPTH,
  b64decode,
  date,
  goValueString,
  inngestConcat,
  isTruthy,
  jsonParse,
  lowercase,
  now,
  nowMinus,
  nowPlus,
  parseStr2Duration,
  uppercase,
  zeroValueLike,
} from "../../../src/expr/runtime/inngest.js";
import {
  addTimestampDuration,
  compareTimestamps,
  durationFromNanos,
  durationToNanos,
  parseDuration,
  subtractTimestamps,
} from "../../../src/expr/runtime/time.js";
import { CelDuration, CelError, CelTimestamp, CelType, CelUint, TYPES } from "../../../src/expr/values.js";

function expectError(v: unknown, code: string, message?: string): CelError {
  expect(v).toBeInstanceOf(CelError);
  const e = v as CelError;
  expect(e.code).toBe(code);
  if (message !== undefined) expect(e.message).toBe(message);
  return e;
}

function expectTimestamp(v: unknown): CelTimestamp {
  expect(v).toBeInstanceOf(CelTimestamp);
  return v as CelTimestamp;
}

/** Epoch seconds of a UTC civil time, computed by the JS Date (years ≥ 100). */
function utcSeconds(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number {
  return Date.UTC(y, mo - 1, d, h, mi, s) / 1000;
}

/** A duration from nanoseconds (test data only; always within range). */
function duration(nanos: bigint): CelDuration {
  const d = durationFromNanos(nanos);
  if (d instanceof CelError) throw new Error(d.message);
  return d;
}

// =============================================================================================
// goValueString / inngestConcat
// =============================================================================================

describe("goValueString: Go %v of cel-go native values", () => {
  it("formats scalars as Go's fmt does", () => {
    expect(goValueString("hi")).toBe("hi");
    expect(goValueString("")).toBe("");
    expect(goValueString(42n)).toBe("42");
    expect(goValueString(-9223372036854775808n)).toBe("-9223372036854775808");
    expect(goValueString(new CelUint(18446744073709551615n))).toBe("18446744073709551615");
    expect(goValueString(true)).toBe("true");
    expect(goValueString(false)).toBe("false");
    expect(goValueString(null)).toBe("NULL_VALUE");
    expect(goValueString(undefined)).toBe("NULL_VALUE");
    expect(goValueString(new Uint8Array([104, 105]))).toBe("[104 105]");
    expect(goValueString(new Uint8Array([]))).toBe("[]");
    expect(goValueString(TYPES.timestamp)).toBe("google.protobuf.Timestamp");
    expect(goValueString(new CelType("int"))).toBe("int");
    expect(goValueString(new CelError("invalid_argument", "boom"))).toBe("boom");
  });

  it("formats doubles with strconv.FormatFloat(f, 'g', -1, 64)", () => {
    const cases: [number, string][] = [
      [9.1, "9.1"],
      [2, "2"],
      [1500000, "1.5e+06"],
      [100000, "100000"],
      [999999, "999999"],
      [999999.5, "999999.5"],
      [1e6, "1e+06"],
      [1234567, "1.234567e+06"],
      [123456789, "1.23456789e+08"],
      [1e20, "1e+20"],
      [1e21, "1e+21"],
      [0.0001, "0.0001"],
      [0.00012345, "0.00012345"],
      [0.00001, "1e-05"],
      [0.1 + 0.2, "0.30000000000000004"],
      [-1.5, "-1.5"],
      [0, "0"],
      [-0, "-0"],
      [5e-324, "5e-324"],
      [1.7976931348623157e308, "1.7976931348623157e+308"],
      [2 ** 60, "1.152921504606847e+18"],
      [NaN, "NaN"],
      [Infinity, "+Inf"],
      [-Infinity, "-Inf"],
    ];
    for (const [x, s] of cases) expect(goValueString(x), String(x)).toBe(s);
  });

  it("prints doubles between 1e-4 and 1e21 as Go's %v rule says (exponent from 1e6 up)", () => {
    // Go: shortest round-trip digits (the digits of JS String(x)); exponent form when the
    // decimal exponent is < -4 or >= 6, else plain decimal.
    const reference = (x: number): string => {
      const sign = x < 0 ? "-" : "";
      const plain = String(Math.abs(x));
      if (Math.abs(x) < 1e6) return sign + plain;
      const [intPart, fracPart = ""] = plain.split(".");
      const exponent = intPart!.length - 1;
      const digits = (intPart! + fracPart).replace(/0+$/, "");
      const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
      return `${sign}${mantissa}e+${String(exponent).padStart(2, "0")}`;
    };
    const magnitude = fc.oneof(
      fc.double({ min: 1e-4, max: 1e21, noNaN: true, noDefaultInfinity: true }),
      fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }).map(Number),
      fc.bigInt({ min: 1n, max: 10n ** 21n - 1n }).map(Number),
    ).filter((m) => m < 1e21);
    fc.assert(
      fc.property(magnitude, fc.boolean(), (m, negative) => {
        const x = negative ? -m : m;
        expect(goValueString(x)).toBe(reference(x));
      }),
      { numRuns: 3000 },
    );
  });

  it("formats lists and maps recursively; null inside them is Go's <nil>", () => {
    expect(goValueString([3, "ok?", true])).toBe("[3 ok? true]");
    expect(goValueString([])).toBe("[]");
    expect(goValueString([[1n, [2.5]], {}, new Map()])).toBe("[[1 [2.5]] map[] map[]]");
    expect(goValueString({ name: "inngest" })).toBe("map[name:inngest]");
    expect(goValueString({ b: 1, a: [1, 2], c: { z: null } })).toBe("map[a:[1 2] b:1 c:map[z:<nil>]]");
    expect(goValueString([null, undefined])).toBe("[<nil> <nil>]");
    expect(goValueString([new Uint8Array([1, 2]), new CelUint(7n), 1e6])).toBe("[[1 2] 7 1e+06]");
    const nullPrototype = Object.create(null) as Record<string, unknown>;
    nullPrototype["k"] = "v";
    expect(goValueString(nullPrototype)).toBe("map[k:v]");
  });

  it("sorts map keys as Go's fmtsort: strings by code point, numbers numerically", () => {
    // JS's default sort would put U+1F600 (surrogates D83D…) before U+FFFD.
    expect(goValueString({ b: 2, "\u{1F600}": 4, a: 1, "\ufffd": 3 })).toBe(
      "map[a:1 b:2 \ufffd:3 \u{1F600}:4]",
    );
    expect(goValueString(new Map([[10n, "x"], [9n, "y"], [-1n, "z"]]))).toBe("map[-1:z 9:y 10:x]");
    expect(goValueString(new Map([[2.5, 1], [NaN, 2], [-1, 3]]))).toBe("map[NaN:2 -1:3 2.5:1]");
    expect(goValueString(new Map([[true, 1], [false, 0]]))).toBe("map[false:0 true:1]");
    expect(goValueString(new Map([[new CelUint(20n), 1], [new CelUint(3n), 2]]))).toBe("map[3:2 20:1]");
    // Keys of mixed kinds: grouped bool, int, uint, double, string.
    expect(
      goValueString(new Map<unknown, unknown>([["s", 1], [2n, 2], [true, 3], [new CelUint(1n), 4], [0.5, 5]])),
    ).toBe("map[true:3 2:2 1:4 0.5:5 s:1]");
  });

  it("formats timestamps as Go's time.Time.String() in UTC", () => {
    expect(goValueString(new CelTimestamp(utcSeconds(2020, 1, 1, 18, 35, 10), 0))).toBe(
      "2020-01-01 18:35:10 +0000 UTC",
    );
    expect(goValueString(new CelTimestamp(utcSeconds(2020, 1, 1, 18, 35, 10), 500_000_000))).toBe(
      "2020-01-01 18:35:10.5 +0000 UTC",
    );
    expect(goValueString(new CelTimestamp(0, 1))).toBe("1970-01-01 00:00:00.000000001 +0000 UTC");
    expect(goValueString(new CelTimestamp(-62135596800, 0))).toBe("0001-01-01 00:00:00 +0000 UTC");
    expect(goValueString(new CelTimestamp(253402300799, 999_999_999))).toBe(
      "9999-12-31 23:59:59.999999999 +0000 UTC",
    );
    expect(goValueString(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 60)))).toBe("2024-01-02 03:04:05.06 +0000 UTC");
    expect(goValueString(new Date(NaN))).toBe("0001-01-01 00:00:00 +0000 UTC");
    // Years 0 and -1, which date() can produce (Go prints the year with a sign and 4 digits).
    expect(goValueString(date("Jan  2 15:04:05"))).toBe("0000-01-02 15:04:05 +0000 UTC");
    expect(goValueString(date("0000-01-01T00:00:00+01:00"))).toBe("-0001-12-31 23:00:00 +0000 UTC");
    expect(goValueString([new CelTimestamp(0, 0)])).toBe("[1970-01-01 00:00:00 +0000 UTC]");
  });

  it("formats durations as Go's time.Duration.String()", () => {
    const cases: [bigint, string][] = [
      [23_710_000_000_000n, "6h35m10s"],
      [1_500_000_000n, "1.5s"],
      [0n, "0s"],
      [60_500_000_000n, "1m0.5s"],
      [500_000_000n, "500ms"],
      [1_500_000n, "1.5ms"],
      [1_000n, "1µs"],
      [1_500n, "1.5µs"],
      [1n, "1ns"],
      [999n, "999ns"],
      [-7_200_000_000_000n, "-2h0m0s"],
      [-1_500_000_000n, "-1.5s"],
      [360_000_000_000_000n, "100h0m0s"],
      [3_600_000_000_001n, "1h0m0.000000001s"],
      [9_223_372_036_854_775_807n, "2562047h47m16.854775807s"],
      [-9_223_372_036_854_775_808n, "-2562047h47m16.854775808s"],
    ];
    for (const [nanos, s] of cases) expect(goValueString(duration(nanos)), s).toBe(s);
  });

  it("formats deep nesting without recursion and cuts cycles", () => {
    let deep: unknown = 1n;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const s = goValueString(deep);
    expect(s).toBe(`${"[".repeat(100_000)}1${"]".repeat(100_000)}`);
    const cyclic: unknown[] = [1n];
    cyclic.push(cyclic);
    expect(goValueString(cyclic)).toBe("[1 <cycle>]");
    // Shared (not cyclic) sub-values print in full each time.
    const shared = [1n];
    expect(goValueString([shared, shared])).toBe("[[1] [1]]");
  });

  it("reproduces Inngest's concatenation example and the derived cases", () => {
    // event.data.name + '-' + event.data.number + '-' + event.data.bool + '-' + event.data.list
    //   + '-' + event.data.obj + '-' + event.data.missing
    const data = { name: "hi", number: 9.1, bool: true, list: [3, "ok?", true], obj: { name: "inngest" } };
    let acc: string = data.name + "-"; // string + string is ordinary CEL
    for (const operand of [data.number, data.bool, data.list, data.obj]) {
      acc = inngestConcat(acc, operand) + "-";
    }
    // `+ missing` returns the other operand (handled by the caller).
    expect(acc).toBe("hi-9.1-true-[3 ok? true]-map[name:inngest]-");

    expect(inngestConcat(1n, 1.5)).toBe("11.5");
    expect(inngestConcat(2, 1n)).toBe("21");
    expect(inngestConcat("x", null)).toBe("xNULL_VALUE");
    expect(inngestConcat(null, "x")).toBe("NULL_VALUEx");
    expect(inngestConcat("Tester-", 1500000)).toBe("Tester-1.5e+06");
    expect(inngestConcat("at ", duration(23_710_000_000_000n))).toBe("at 6h35m10s");
  });
});

// =============================================================================================
// isTruthy / zeroValueLike
// =============================================================================================

/** Arbitrary CEL runtime values of every kind, with weight on the falsy candidates. */
const celValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(null, undefined, false, true, "", 0n, 0, -0, NaN, new CelUint(0n), [], {}),
  fc.string(),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((v) => new CelUint(v)),
  fc.double(),
  fc.uint8Array({ maxLength: 3 }).map((b) => new Uint8Array(b)),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.integer(), { maxKeys: 3 }),
  fc.integer({ min: -1e9, max: 1e9 }).map((s) => new CelTimestamp(s, 0)),
  fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }).map((n) => duration(n)),
  fc.string().map((m) => new CelError("invalid_argument", m)),
  fc.date({ noInvalidDate: true }),
);

describe("isTruthy", () => {
  it("follows Inngest's table", () => {
    for (const v of [null, undefined, false, "", 0n, 0, -0, new CelUint(0n), new CelError("x", "y")]) {
      expect(isTruthy(v), String(v)).toBe(false);
    }
    for (const v of [
      true,
      "0",
      " ",
      1n,
      -1n,
      0.5,
      -1,
      NaN,
      Infinity,
      new CelUint(1n),
      [],
      {},
      new Map(),
      new Uint8Array(0),
      new CelTimestamp(0, 0),
      new Date(0),
      duration(0n),
      TYPES.int,
    ]) {
      expect(isTruthy(v), String(v)).toBe(true);
    }
  });

  it("agrees with a reference on arbitrary values", () => {
    const reference = (v: unknown): boolean => {
      if (v === null || v === undefined || v instanceof CelError) return false;
      if (typeof v === "boolean") return v;
      if (typeof v === "string") return v.length > 0;
      if (typeof v === "bigint") return v !== 0n;
      if (typeof v === "number") return !(v === 0);
      if (v instanceof CelUint) return v.value !== 0n;
      return true;
    };
    fc.assert(
      fc.property(celValue, (v) => {
        expect(isTruthy(v)).toBe(reference(v));
      }),
      { numRuns: 1000 },
    );
  });
});

describe("zeroValueLike", () => {
  it("gives the zero value of int, uint, double and string, and nothing for other kinds", () => {
    expect(zeroValueLike(5n)).toBe(0n);
    expect(zeroValueLike(-5n)).toBe(0n);
    const u = zeroValueLike(new CelUint(5n));
    expect(u).toBeInstanceOf(CelUint);
    expect((u as CelUint).value).toBe(0n);
    expect(Object.is(zeroValueLike(3.14), 0)).toBe(true);
    expect(zeroValueLike(NaN)).toBe(0);
    expect(zeroValueLike("foo")).toBe("");
    for (const v of [null, undefined, true, false, [], {}, new Uint8Array(0), new CelTimestamp(0, 0), duration(1n)]) {
      expect(zeroValueLike(v)).toBeUndefined();
    }
  });
});

// =============================================================================================
// lowercase / uppercase
// =============================================================================================

describe("lowercase / uppercase (Go strings.ToLower / ToUpper)", () => {
  it("maps ASCII and ordinary Unicode letters", () => {
    expect(uppercase("Tester McTestyFace")).toBe("TESTER MCTESTYFACE");
    expect(uppercase("p1")).toBe("P1");
    expect(lowercase("URGENT")).toBe("urgent");
    expect(lowercase("ÀÉÎÕÜ")).toBe("àéîõü");
    expect(uppercase("àéîõü")).toBe("ÀÉÎÕÜ");
    expect(uppercase("\u{10428}")).toBe("\u{10400}"); // Deseret, outside the BMP
    expect(lowercase("\u{10400}")).toBe("\u{10428}");
    expect(uppercase("ı")).toBe("I"); // dotless i
    expect(uppercase("ſ")).toBe("S"); // long s
    expect(lowercase("\u212a")).toBe("k"); // Kelvin sign
    expect(uppercase("ǅ")).toBe("Ǆ");
    expect(lowercase("ǅ")).toBe("ǆ");
  });

  it("uses simple one-to-one mappings where JS expands or looks at context", () => {
    expect(uppercase("straße")).toBe("STRAßE");
    expect(uppercase("ß")).toBe("ß");
    expect(uppercase("ﬁ")).toBe("ﬁ");
    expect(uppercase("ŉ")).toBe("ŉ");
    expect(uppercase("ΐ")).toBe("ΐ");
    expect(uppercase("ᾳ")).toBe("ᾼ");
    expect(uppercase("ᾀ")).toBe("ᾈ");
    expect(uppercase("ᾧ")).toBe("ᾯ");
    expect(uppercase("ῳ")).toBe("ῼ");
    expect(uppercase("ᾈ")).toBe("ᾈ"); // titlecase: no simple uppercase
    expect(uppercase("abc ßx ﬀ y")).toBe("ABC ßX ﬀ Y");
    expect(lowercase("İSTANBUL")).toBe("istanbul");
    expect(lowercase("ΟΔΟΣ")).toBe("οδοσ"); // never final ς
    expect(lowercase("ΣΑΣ ΣΑΣ")).toBe("σασ σασ");
  });

  it("never changes the number of code points (one code point maps to one)", () => {
    const failures: string[] = [];
    for (let c = 0; c < 0x110000; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue;
      const ch = String.fromCodePoint(c);
      const up = uppercase(ch);
      const low = lowercase(ch);
      if ([...up].length !== 1 || [...low].length !== 1) failures.push(c.toString(16));
    }
    expect(failures).toEqual([]);
  });

  it("maps each code point with a multi-character JS uppercase to itself or to a character lowering to it", () => {
    for (let c = 0; c < 0x10000; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue;
      const ch = String.fromCharCode(c);
      if ([...ch.toUpperCase()].length === 1) {
        expect(uppercase(ch)).toBe(ch.toUpperCase());
        continue;
      }
      const up = uppercase(ch);
      if (up !== ch) expect(up.toLowerCase(), c.toString(16)).toBe(ch);
    }
  });

  it("agrees with JS on strings without special casings; replaces lone surrogates", () => {
    const plain = fc.string({ unit: "grapheme" }).filter((s) => !/[\u0130\u03a3]/.test(s));
    fc.assert(
      fc.property(plain, (s) => {
        expect(lowercase(s)).toBe(s.toLowerCase());
        if ([...s].every((ch) => [...ch.toUpperCase()].length === 1)) expect(uppercase(s)).toBe(s.toUpperCase());
      }),
      { numRuns: 500 },
    );
    expect(lowercase("A\ud800B")).toBe("a\ufffdb");
    expect(uppercase("a\udc00b")).toBe("A\ufffdB");
    expect(uppercase("\u{1F600}x")).toBe("\u{1F600}X");
  });

  it("returns the empty string for a non-string argument", () => {
    for (const v of [5n, 5, null, undefined, true, ["A"], { a: "A" }, new Uint8Array([65])]) {
      expect(lowercase(v)).toBe("");
      expect(uppercase(v)).toBe("");
    }
  });
});

// =============================================================================================
// b64decode
// =============================================================================================

describe("b64decode (Go base64.StdEncoding.DecodeString, error ignored)", () => {
  it("decodes standard base64", () => {
    expect(b64decode("aGkgdGhlcmUh")).toBe("hi there!");
    expect(b64decode("eyJuZXN0ZWQiOnsiZGF0YSI6InllYSJ9fQ==")).toBe('{"nested":{"data":"yea"}}');
    expect(b64decode("aGk=")).toBe("hi");
    expect(b64decode("aA==")).toBe("h");
    expect(b64decode("")).toBe("");
    expect(b64decode("4pyTIMOgIGxhIG1vZGU=")).toBe("✓ à la mode");
  });

  it("skips \\r and \\n anywhere", () => {
    expect(b64decode("aGkg\ndGhl\r\ncmUh")).toBe("hi there!");
    expect(b64decode("a\nG\nk\n=\n")).toBe("hi");
    expect(b64decode("aA=\n=")).toBe("h");
    expect(b64decode("\n\r\n")).toBe("");
  });

  it("keeps the bytes decoded before the first error", () => {
    expect(b64decode("aGkgdGhlcmU")).toBe("hi the"); // last quantum unpadded
    expect(b64decode("aGk")).toBe("");
    expect(b64decode("aGk=!!")).toBe("hi"); // trailing garbage after padding
    expect(b64decode("aGk=aGk=")).toBe("hi");
    expect(b64decode("aGkgdG!ocmUh")).toBe("hi "); // invalid character in the second quantum
    expect(b64decode("!!!")).toBe("");
    expect(b64decode("aA=")).toBe(""); // not enough padding
    expect(b64decode("aA=x")).toBe(""); // incorrect padding
    expect(b64decode("a===")).toBe("");
    expect(b64decode("=")).toBe("");
    expect(b64decode("aGk\u00e9")).toBe(""); // non-ASCII is never in the alphabet
    expect(b64decode("a-_A")).toBe(""); // URL-safe alphabet is not accepted
    expect(b64decode("aGk= ")).toBe("hi"); // a space is garbage too
  });

  it("accepts non-zero trailing bits (the encoding is not strict)", () => {
    expect(b64decode("aB==")).toBe("h");
    expect(b64decode("aGl=")).toBe("hi");
  });

  it("turns bytes that are not UTF-8 into U+FFFD", () => {
    expect(b64decode("/w==")).toBe("\ufffd");
    expect(b64decode("aP8=")).toBe("h\ufffd");
  });

  it("returns the empty string for a non-string argument", () => {
    for (const v of [5n, null, undefined, new Uint8Array([1]), ["aGk="]]) expect(b64decode(v)).toBe("");
  });

  it("round-trips Node's base64 encoding of any bytes, with newlines anywhere", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.array(fc.nat(), { maxLength: 4 }), (bytes, cuts) => {
        let encoded = Buffer.from(bytes).toString("base64");
        for (const cut of cuts) {
          const at = cut % (encoded.length + 1);
          encoded = `${encoded.slice(0, at)}${cut % 2 === 0 ? "\n" : "\r\n"}${encoded.slice(at)}`;
        }
        expect(b64decode(encoded)).toBe(decodeUtf8Lossy(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it("never throws and decodes a prefix of what a valid input would give", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const r = b64decode(s);
        expect(typeof r).toBe("string");
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 3, maxLength: 30 }), fc.nat(), (bytes, n) => {
        // Corrupt one character: the result is the text of the whole quanta before it.
        const encoded = Buffer.from(bytes).toString("base64");
        const at = n % encoded.length;
        const corrupted = `${encoded.slice(0, at)}!${encoded.slice(at + 1)}`;
        const wholeQuanta = Math.floor(at / 4);
        expect(b64decode(corrupted)).toBe(decodeUtf8Lossy(bytes.subarray(0, wholeQuanta * 3)));
      }),
      { numRuns: 300 },
    );
  });
});

// =============================================================================================
// jsonParse
// =============================================================================================

/** A plain-object copy for deep equality with ordinary literals. */
function plain(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v));
}

describe("jsonParse (Go json.Unmarshal into map[string]any, error ignored)", () => {
  it("parses a JSON object into a map; numbers are doubles", () => {
    const r = jsonParse('{"nested":{"data":"yea"},"n":1,"f":1.5,"l":[1,"a",null,true,{"x":2}],"z":null}');
    expect(plain(r)).toEqual({ nested: { data: "yea" }, n: 1, f: 1.5, l: [1, "a", null, true, { x: 2 }], z: null });
    expect(typeof r["n"]).toBe("number");
    expect((jsonParse('{"a":1}') as { a: unknown }).a).toBe(1);
    expect(plain(jsonParse(' \n{"a":1}\t'))).toEqual({ a: 1 });
    expect(plain(jsonParse('{"a":1,"a":2}'))).toEqual({ a: 2 });
  });

  it("gives an empty map for anything but a top-level JSON object", () => {
    for (const v of ["[1,2]", '"x"', "1", "true", "null", "", "nope", "{", '{"a":1,}', "{'a':1}", "\ufeff{}", 5n, null, undefined, { a: 1 }]) {
      const r = jsonParse(v);
      expect(Object.keys(r), String(v)).toEqual([]);
      expect(Object.getPrototypeOf(r)).toBe(null);
    }
  });

  it("builds null-prototype maps, so __proto__ is ordinary data", () => {
    const r = jsonParse('{"__proto__":{"polluted":true},"constructor":1,"inner":{"__proto__":[1]}}');
    expect(Object.getPrototypeOf(r)).toBe(null);
    expect(Object.keys(r).sort()).toEqual(["__proto__", "constructor", "inner"]);
    expect(Object.hasOwn(r, "__proto__")).toBe(true);
    expect((r["__proto__"] as Record<string, unknown>)["polluted"]).toBe(true);
    expect(r["constructor"]).toBe(1);
    const inner = r["inner"] as Record<string, unknown>;
    expect(Object.getPrototypeOf(inner)).toBe(null);
    expect(inner["__proto__"]).toEqual([1]);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    expect(jsonParse("{}")["toString"]).toBeUndefined();
  });

  it("follows Go's decoding of strings and out-of-range numbers", () => {
    const r = jsonParse('{"lone":"a\\ud800b","pair":"\\ud83d\\ude00","big":1e400,"small":1e-400,"neg":-0,"k\\udc00":1}');
    expect(r["lone"]).toBe("a\ufffdb");
    expect(r["pair"]).toBe("\u{1F600}");
    expect(r["big"]).toBe(null);
    expect(r["small"]).toBe(0);
    expect(Object.is(r["neg"], -0)).toBe(true);
    expect(r["k\ufffd"]).toBe(1);
  });

  it("accepts nesting up to Go's limit and gives {} beyond it", () => {
    const nested = (depth: number): string => `${"[".repeat(depth - 1)}${"]".repeat(depth - 1)}`;
    const atLimit = `{"a":${nested(JSON_MAX_DEPTH)}}`; // the object counts as one level
    let node: unknown = jsonParse(atLimit)["a"];
    let levels = 1;
    while (Array.isArray(node) && node.length > 0) {
      node = node[0];
      levels++;
    }
    expect(levels).toBe(JSON_MAX_DEPTH - 1);
    expect(Object.keys(jsonParse(`{"a":${nested(JSON_MAX_DEPTH + 1)}}`))).toEqual([]);
    expect(Object.keys(jsonParse(`{"a":${"[".repeat(200_000)}${"]".repeat(200_000)}}`))).toEqual([]);
    // Brackets inside strings do not count.
    expect(plain(jsonParse(`{"s":"${"[".repeat(20_000)}\\"{"}`))).toEqual({ s: `${"[".repeat(20_000)}"{` });
  });

  it("never throws on arbitrary strings, and round-trips JSON objects", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.json().map((j) => j.slice(0, Math.floor(j.length / 2)))), (s) => {
        const r = jsonParse(s);
        expect(Object.getPrototypeOf(r)).toBe(null);
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (o) => {
        expect(plain(jsonParse(JSON.stringify(o)))).toEqual(plain(o));
      }),
      { numRuns: 300 },
    );
  });
});

// =============================================================================================
// date
// =============================================================================================

function secondsOf(v: unknown): number {
  return expectTimestamp(v).seconds;
}

describe("date()", () => {
  it("reproduces Inngest's examples", () => {
    // date(event.from) + duration('6h35m10s') == date('2020-01-01T18:35:10')
    const from = expectTimestamp(date("2020-01-01T12:00:00"));
    const sum = addTimestampDuration(from, expectDuration(parseDuration("6h35m10s")));
    expect(compareTimestamps(expectTimestamp(sum), expectTimestamp(date("2020-01-01T18:35:10")))).toBe(0);
    expect(date("2024-01-02")).toEqual(date("2024-01-02T00:00:00Z"));
    expect(date(1700000000n)).toEqual(date(1700000000000n));
    expect(date(1700000000n)).toEqual(date(1700000000000000000n));
    expect(secondsOf(date(1700000000n))).toBe(1700000000);
  });

  it("parses every layout of pkg/dateutil", () => {
    const t = utcSeconds(2006, 1, 2, 15, 4, 5);
    const cases: [string, number, number?][] = [
      ["2006-01-02T15:04:05Z", t], // RFC3339
      ["2006-01-02T15:04:05.123456789Z", t, 123_456_789],
      ["2006-01-02T15:04:05-07:00", t + 7 * 3600],
      ["2006-01-02T15:04:05+05:30", t - 5.5 * 3600],
      ["2006-01-02T15:04:05", t], // no zone: UTC
      ["2006-01-02T15:04:05.5", t, 500_000_000],
      ["Mon, 02 Jan 2006 15:04:05 UTC", t], // RFC1123
      ["02 Jan 06 15:04 UTC", t - 5], // RFC822
      ["02 Jan 06 15:04 -0700", t - 5 + 7 * 3600], // RFC822Z
      ["Monday, 02-Jan-06 15:04:05 UTC", t], // RFC850
      ["Mon Jan 02 15:04:05 -0700 2006", t + 7 * 3600], // RubyDate
      ["Mon Jan  2 15:04:05 UTC 2006", t], // UnixDate
      ["Mon Jan  2 15:04:05 2006", t], // ANSIC
      ["Mon Jan 12 15:04:05 2006", t + 10 * 86400],
      ["2006-01-02", utcSeconds(2006, 1, 2)],
      ["2006-01-02 15:04:05.999999999 -0700 MST", t + 7 * 3600, 999_999_999], // Go's Time.String()
      ["2006-01-02 15:04:05 +0000 UTC", t],
    ];
    for (const [input, seconds, nanos = 0] of cases) {
      const r = expectTimestamp(date(input));
      expect([r.seconds, r.nanos], input).toEqual([seconds, nanos]);
    }
  });

  it("gives year 0 for the Stamp layouts, which have no year", () => {
    const year0 = (month: number, day: number, h: number, m: number, s: number): number => {
      const d = new Date(0);
      d.setUTCFullYear(0, month - 1, day);
      d.setUTCHours(h, m, s, 0);
      return d.getTime() / 1000;
    };
    expect(secondsOf(date("Jan  2 15:04:05"))).toBe(year0(1, 2, 15, 4, 5));
    expect(secondsOf(date("Feb 29 00:00:00"))).toBe(year0(2, 29, 0, 0, 0)); // year 0 is a leap year
    const milli = expectTimestamp(date("Dec 31 23:59:59.123"));
    expect([milli.seconds, milli.nanos]).toEqual([year0(12, 31, 23, 59, 59), 123_000_000]);
  });

  it("applies Go's zone rules with a UTC Local", () => {
    const t = utcSeconds(2006, 1, 2, 15, 4, 5);
    expect(secondsOf(date("Mon, 02 Jan 2006 15:04:05 EST"))).toBe(t); // unknown abbreviation: offset 0
    expect(secondsOf(date("Mon, 02 Jan 2006 15:04:05 GMT"))).toBe(t);
    expect(secondsOf(date("Mon, 02 Jan 2006 15:04:05 GMT+3"))).toBe(t - 3 * 3600);
    expect(secondsOf(date("Mon, 02 Jan 2006 15:04:05 GMT-11"))).toBe(t + 11 * 3600);
    expect(secondsOf(date("Mon, 02 Jan 2006 15:04:05 +03"))).toBe(t); // named like an offset, counted as 0
    expect(secondsOf(date("Mon, 02 Jan 2006 15:04:05 CEST"))).toBe(t);
    expect(secondsOf(date("Mon, 02 Jan 2006 15:04:05 ChST"))).toBe(t);
    expect(date("Mon, 02 Jan 2006 15:04:05 ABCDEF")).toBeInstanceOf(CelError); // 6 letters: no zone
    expect(date("Mon, 02 Jan 2006 15:04:05 ABCD")).toBeInstanceOf(CelError); // 4 letters need a final T
    expect(date("Mon, 02 Jan 2006 15:04:05 GMT+24")).toBeInstanceOf(CelError);
    // "UTC" wins over a numeric offset in the same string; other names do not.
    expect(secondsOf(date("2006-01-02 15:04:05 +0100 UTC"))).toBe(t);
    expect(secondsOf(date("2006-01-02 15:04:05 +0100 CET"))).toBe(t - 3600);
    expect(secondsOf(date("2006-01-02T15:04:05+24:00"))).toBe(t - 24 * 3600);
  });

  it("follows Go's lenient parsing details", () => {
    const t = utcSeconds(2020, 1, 1, 1, 2, 3);
    expect(secondsOf(date("2020-01-01T1:02:03Z"))).toBe(t); // one-digit hour
    expect(expectTimestamp(date("2020-01-01T01:02:03,25Z")).nanos).toBe(250_000_000); // comma fraction
    expect(expectTimestamp(date("2020-01-01T01:02:03.1234567891234Z")).nanos).toBe(123_456_789);
    expect(secondsOf(date("wed, 01 JAN 2020 01:02:03 UTC"))).toBe(t); // names are case-insensitive
    expect(secondsOf(date("Sun, 01 Jan 2020 01:02:03 UTC"))).toBe(t); // the weekday is not checked
    expect(secondsOf(date("Wed,   01   Jan 2020 01:02:03 UTC"))).toBe(t); // a space matches a run
    expect(expectTimestamp(date("Wed, 01 Jan 2020 01:02:03.5 UTC")).nanos).toBe(500_000_000);
    expect(secondsOf(date("01 Jan 69 00:00 UTC"))).toBe(utcSeconds(1969, 1, 1));
    expect(secondsOf(date("01 Jan 68 00:00 UTC"))).toBe(utcSeconds(2068, 1, 1));
    expect(secondsOf(date("2024-02-29"))).toBe(utcSeconds(2024, 2, 29));
  });

  it("rejects what every layout rejects, quoting the input", () => {
    for (const s of [
      "",
      "tomorrow",
      "2023-02-29",
      "2024-13-01",
      "2024-01-32",
      "2020-01-01T24:00:00Z",
      "2020-01-01T12:60:00Z",
      "2020-01-01T12:00:60Z",
      "2024-01-02 ",
      "2024-01-02T00:00:00Z ",
      "2024-1-02",
      "20240102",
      "2024-01-02T00:00:00+2400",
    ]) {
      expectError(date(s), "invalid_argument", `date(): unknown date format: ${JSON.stringify(s)}`);
    }
    // A fraction of any length after the seconds is accepted by Stamp itself.
    expect(expectTimestamp(date("Jan  2 15:04:05.12")).nanos).toBe(120_000_000);
  });

  it("reads ints as unix seconds, milliseconds or nanoseconds from 2000-01-01", () => {
    expectError(date(946684799n), "invalid_argument");
    expectError(date(0n), "invalid_argument");
    expectError(date(-1n), "invalid_argument");
    expect(secondsOf(date(946684800n))).toBe(utcSeconds(2000, 1, 1));
    expect(secondsOf(date(9999999998n))).toBe(9999999998);
    const ms = expectTimestamp(date(9999999999n)); // from here: milliseconds
    expect([ms.seconds, ms.nanos]).toEqual([9999999, 999_000_000]);
    const ms2 = expectTimestamp(date(1700000000123n));
    expect([ms2.seconds, ms2.nanos]).toEqual([1700000000, 123_000_000]);
    const ns = expectTimestamp(date(9999999999999n)); // from here: nanoseconds
    expect([ns.seconds, ns.nanos]).toEqual([9999, 999_999_999]);
    const max = expectTimestamp(date(9223372036854775807n));
    expect([max.seconds, max.nanos]).toEqual([9223372036, 854_775_807]);
    // Go multiplies milliseconds by 10^6 in int64: 9999999999998 ms wraps to a negative time.
    const wrapped = expectTimestamp(date(9999999999998n));
    expect([wrapped.seconds, wrapped.nanos]).toEqual([-8446744074, 288_448_384]);
  });

  it("refuses doubles and every other kind", () => {
    expectError(date(1700000000), "invalid_argument", "date() expects a string or an int, got double");
    expectError(date(1.5), "invalid_argument", "date() expects a string or an int, got double");
    expectError(date(null), "invalid_argument", "date() expects a string or an int, got null_type");
    expectError(date(new CelUint(1700000000n)), "invalid_argument", "date() expects a string or an int, got uint");
    expectError(date(true), "invalid_argument");
    expectError(date(new CelTimestamp(0, 0)), "invalid_argument");
    expectError(date(["2024-01-02"]), "invalid_argument");
  });

  it("never throws on arbitrary strings and agrees with RFC 3339 output of JS Dates", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const r = date(s);
        expect(r instanceof CelTimestamp || r instanceof CelError).toBe(true);
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(
        fc.date({ min: new Date("1000-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true }),
        (d) => {
          const r = expectTimestamp(date(d.toISOString()));
          expect(r.seconds * 1000 + r.nanos / 1e6).toBe(d.getTime());
        },
      ),
      { numRuns: 300 },
    );
  });
});

function expectDuration(v: unknown): CelDuration {
  expect(v).toBeInstanceOf(CelDuration);
  return v as CelDuration;
}

// =============================================================================================
// now, now_plus, now_minus
// =============================================================================================

describe("now / nowPlus / nowMinus", () => {
  const NOW = Date.UTC(2024, 5, 1, 12, 0, 0, 250);

  it("now() is the given clock reading", () => {
    const t = expectTimestamp(now(NOW));
    expect([t.seconds, t.nanos]).toEqual([NOW / 1000 - 0.25, 250_000_000]);
    const f = expectTimestamp(now(1.5));
    expect([f.seconds, f.nanos]).toEqual([0, 1_500_000]);
    const neg = expectTimestamp(now(-1));
    expect([neg.seconds, neg.nanos]).toEqual([-1, 999_000_000]);
    expectError(now(NaN), "invalid_argument");
    expectError(now(Infinity), "invalid_argument");
    expectError(now(1e20), "overflow");
  });

  /** nowPlus(NOW, s) - now(NOW) in nanoseconds. */
  const shift = (s: string, fn = nowPlus): bigint => {
    const r = expectTimestamp(fn(NOW, s));
    const d = subtractTimestamps(r, expectTimestamp(now(NOW)));
    return durationToNanos(expectDuration(d));
  };

  it("accepts the str2duration units, signs, fractions and sequences", () => {
    const cases: [string, bigint][] = [
      ["1ns", 1n],
      ["1us", 1_000n],
      ["1µs", 1_000n],
      ["1μs", 1_000n],
      ["1ms", 1_000_000n],
      ["1s", 1_000_000_000n],
      ["1m", 60_000_000_000n],
      ["1h", 3_600_000_000_000n],
      ["1d", 86_400_000_000_000n],
      ["1w", 604_800_000_000_000n],
      ["1.5h", 5_400_000_000_000n],
      [".5s", 500_000_000n],
      ["1.s", 1_000_000_000n],
      ["1d2h30m", 95_400_000_000_000n],
      ["2w1d", 1_296_000_000_000_000n],
      ["1h1h", 7_200_000_000_000n],
      ["-1h", -3_600_000_000_000n],
      ["+1h", 3_600_000_000_000n],
      ["0", 0n],
      ["-0", 0n],
      ["+0", 0n],
      ["0s", 0n],
      ["1.000000001s", 1_000_000_001n],
      ["0.1s", 100_000_000n],
    ];
    for (const [s, nanos] of cases) expect(shift(s), s).toBe(nanos);
    expect(shift("1d", nowMinus)).toBe(-86_400_000_000_000n);
    expect(shift("-1.5h", nowMinus)).toBe(5_400_000_000_000n);
    // The largest duration (2^63-1 ns, about 292 years).
    const max = 9_223_372_036_854_775_807n;
    expect(parseStr2Duration("9223372036854775807ns")).toBe(max);
    expect(nowPlus(NOW, "9223372036854775807ns")).toEqual(
      addTimestampDuration(expectTimestamp(now(NOW)), duration(max)),
    );
    expect(nowMinus(NOW, "9223372036854775807ns")).toEqual(
      addTimestampDuration(expectTimestamp(now(NOW)), duration(-max)),
    );
  });

  it("rejects bad durations with the library's message", () => {
    const cases: [string, string][] = [
      ["", 'time: invalid duration ""'],
      ["+", 'time: invalid duration "+"'],
      ["1", 'time: missing unit in duration "1"'],
      ["1.5", 'time: missing unit in duration "1.5"'],
      ["d", 'time: invalid duration "d"'],
      [".s", 'time: invalid duration ".s"'],
      ["1y", 'time: unknown unit "y" in duration "1y"'],
      ["1h 30m", 'time: unknown unit "h " in duration "1h 30m"'],
      ["1H", 'time: unknown unit "H" in duration "1H"'],
      ["9223372036854775808ns", 'time: invalid duration "9223372036854775808ns"'],
      ["4611686018427387904ns4611686018427387904ns", 'time: invalid duration "4611686018427387904ns4611686018427387904ns"'],
      ["106752d", 'time: invalid duration "106752d"'],
    ];
    for (const [s, message] of cases) {
      expect(parseStr2Duration(s), s).toBe(message);
      expectError(nowPlus(NOW, s), "invalid_argument", `now_plus(): ${message}`);
      expectError(nowMinus(NOW, s), "invalid_argument", `now_minus(): ${message}`);
    }
    expectError(nowPlus(NOW, 5n), "invalid_argument", "now_plus() expects a string, got int");
    expectError(nowMinus(NOW, null), "invalid_argument", "now_minus() expects a string, got null_type");
    expectError(nowPlus(NOW, duration(1n)), "invalid_argument");
  });

  it("reports results outside years 1–9999 as overflow", () => {
    const end = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
    expect(nowPlus(end, "999999ns")).toBeInstanceOf(CelTimestamp);
    expectError(nowPlus(end, "1ms"), "overflow");
    expectError(nowMinus(-62135596800000, "1ns"), "overflow");
    expectError(nowPlus(NaN, "1s"), "invalid_argument");
  });

  it("agrees with Go's time.ParseDuration where the grammars overlap", () => {
    const component = fc.tuple(
      fc.oneof(fc.nat({ max: 1000 }).map(String), fc.constant("")),
      fc.oneof(fc.constant(""), fc.nat({ max: 999_999 }).map((n) => `.${n}`)),
      fc.constantFrom("ns", "us", "µs", "μs", "ms", "s", "m", "h"),
    );
    const durationText = fc
      .tuple(fc.constantFrom("", "-", "+"), fc.array(component, { minLength: 1, maxLength: 4 }))
      .map(([sign, parts]) => sign + parts.map((p) => p.join("")).join(""));
    fc.assert(
      fc.property(durationText, (s) => {
        const ours = parseStr2Duration(s);
        const go = parseDuration(s);
        if (go instanceof CelError) expect(typeof ours).toBe("string");
        else expect(ours).toBe(durationToNanos(go));
      }),
      { numRuns: 1000 },
    );
  });

  it("nowMinus undoes nowPlus", () => {
    // Durations in whole milliseconds, so the shifted time is again a millisecond clock reading.
    const part = fc.tuple(fc.nat({ max: 500 }), fc.constantFrom("ms", "s", "m", "h", "d", "w"));
    const text = fc.array(part, { minLength: 1, maxLength: 3 }).map((ps) => ps.map(([n, u]) => `${n}${u}`).join(""));
    const clock = fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2500, 0, 1) });
    fc.assert(
      fc.property(clock, text, fc.boolean(), (nowMs, d, negative) => {
        const s = negative ? `-${d}` : d;
        const forward = expectTimestamp(nowPlus(nowMs, s));
        expect(forward.nanos % 1_000_000).toBe(0);
        const back = expectTimestamp(nowMinus(forward.toMillis(), s));
        expect(back).toEqual(expectTimestamp(now(nowMs)));
        // And now_plus(-d) is now_minus(d).
        expect(nowPlus(nowMs, s.startsWith("-") ? s.slice(1) : `-${s}`)).toEqual(nowMinus(nowMs, s));
      }),
      { numRuns: 500 },
    );
  });
});
