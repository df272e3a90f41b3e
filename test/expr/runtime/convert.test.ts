import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  addInt,
  addUint,
  bytesToString,
  decodeUtf8Lossy,
  divInt,
  divUint,
  doubleToInt,
  doubleToString,
  doubleToUint,
  goFormatFloat,
  intToDouble,
  intToString,
  intToUint,
  modInt,
  modUint,
  mulInt,
  mulUint,
  negInt,
  stringToBool,
  stringToBytes,
  stringToDouble,
  stringToInt,
  stringToUint,
  subInt,
  subUint,
  uintToDouble,
  uintToInt,
  uintToString,
} from "../../../src/expr/runtime/convert.js";
import { CelError, CelUint, INT64_MAX, INT64_MIN, UINT64_MAX } from "../../../src/expr/values.js";
import { specCase, specString } from "./spec-cases.js";

function expectError(v: unknown, code: string, message?: string): void {
  expect(v).toBeInstanceOf(CelError);
  const e = v as CelError;
  expect(e.code).toBe(code);
  if (message !== undefined) expect(e.message).toBe(message);
}

/** int64 values with extra weight on the edges where overflow happens. */
const int64 = fc.oneof(
  fc.bigInt({ min: INT64_MIN, max: INT64_MAX }),
  fc.constantFrom(INT64_MIN, INT64_MIN + 1n, -1n, 0n, 1n, INT64_MAX - 1n, INT64_MAX, 3037000499n, -3037000500n),
  fc.bigInt({ min: -5_000_000_000n, max: 5_000_000_000n }),
);
const uint64 = fc.oneof(
  fc.bigInt({ min: 0n, max: UINT64_MAX }),
  fc.constantFrom(0n, 1n, UINT64_MAX - 1n, UINT64_MAX, 4294967296n),
  fc.bigInt({ min: 0n, max: 10_000_000_000n }),
);

const inInt64 = (v: bigint): boolean => v >= INT64_MIN && v <= INT64_MAX;

describe("checked int64 arithmetic", () => {
  it("agrees with exact BigInt arithmetic or reports overflow exactly outside int64", () => {
    fc.assert(
      fc.property(int64, int64, (a, b) => {
        for (const [op, exact] of [
          [addInt, a + b],
          [subInt, a - b],
          [mulInt, a * b],
        ] as const) {
          const r = op(a, b);
          if (inInt64(exact)) expect(r).toBe(exact);
          else expectError(r, "overflow", "integer overflow");
        }
        const q = divInt(a, b);
        const m = modInt(a, b);
        if (b === 0n) {
          expectError(q, "division_by_zero", "division by zero");
          expectError(m, "modulus_by_zero", "modulus by zero");
        } else if (a === INT64_MIN && b === -1n) {
          expectError(q, "overflow");
          expectError(m, "overflow");
        } else {
          // Go truncates toward zero and the remainder takes the dividend's sign.
          expect(q).toBe(a / b);
          expect(m).toBe(a - (a / b) * b);
          expect(inInt64(q as bigint)).toBe(true);
        }
        const n = negInt(a);
        if (a === INT64_MIN) expectError(n, "overflow");
        else expect(n).toBe(-a);
      }),
      { numRuns: 2000 },
    );
  });

  it("matches the integer_math conformance cases", () => {
    expectError(addInt(INT64_MAX, 1n), "overflow");
    expectError(subInt(INT64_MIN, 1n), "overflow");
    expectError(addInt(INT64_MIN, -1n), "overflow");
    expectError(subInt(1n, -INT64_MAX), "overflow");
    expectError(negInt(INT64_MIN), "overflow");
    expectError(mulInt(INT64_MIN, -1n), "overflow");
    expectError(divInt(INT64_MIN, -1n), "overflow");
    expectError(mulInt(5000000000n, 5000000000n), "overflow");
    expectError(mulInt(-5000000000n, 5000000000n), "overflow");
    expectError(modInt(34n, 0n), "modulus_by_zero");
    expectError(divInt(15n, 0n), "division_by_zero");
    expect(divInt(-7n, 2n)).toBe(-3n);
    expect(modInt(-7n, 2n)).toBe(-1n);
    expect(modInt(7n, -2n)).toBe(1n);
  });
});

describe("checked uint64 arithmetic", () => {
  it("agrees with exact BigInt arithmetic or reports overflow exactly outside uint64", () => {
    fc.assert(
      fc.property(uint64, uint64, (a, b) => {
        const ua = new CelUint(a);
        const ub = new CelUint(b);
        for (const [op, exact] of [
          [addUint, a + b],
          [subUint, a - b],
          [mulUint, a * b],
        ] as const) {
          const r = op(ua, ub);
          if (exact >= 0n && exact <= UINT64_MAX) expect((r as CelUint).value).toBe(exact);
          else expectError(r, "overflow", "unsigned integer overflow");
        }
        if (b === 0n) {
          expectError(divUint(ua, ub), "division_by_zero");
          expectError(modUint(ua, ub), "modulus_by_zero");
        } else {
          expect((divUint(ua, ub) as CelUint).value).toBe(a / b);
          expect((modUint(ua, ub) as CelUint).value).toBe(a % b);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("overflows like the conformance cases", () => {
    expectError(addUint(new CelUint(UINT64_MAX), new CelUint(1n)), "overflow");
    expectError(subUint(new CelUint(0n), new CelUint(1n)), "overflow");
    expectError(mulUint(new CelUint(5000000000n), new CelUint(5000000000n)), "overflow");
  });
});

describe("numeric conversions", () => {
  it("int(double) truncates and rejects the int64 boundaries exclusively", () => {
    expect(doubleToInt(-123.456)).toBe(-123n);
    expect(doubleToInt(1.9)).toBe(1n);
    expect(doubleToInt(-7.9)).toBe(-7n);
    expect(doubleToInt(11.5)).toBe(11n);
    expect(doubleToInt(-3.5)).toBe(-3n);
    expect(doubleToInt(Number(36028797018963968n))).toBe(36028797018963968n);
    expect(doubleToInt(Number(36028797018963969n))).toBe(36028797018963968n);
    expect(doubleToInt(-0)).toBe(0n);
    // double(2^63-1) rounds to 2^63; -2^63 is rejected by cel-go's `v <= MinInt64` check.
    expectError(doubleToInt(9223372036854775807), "overflow", "integer overflow");
    expectError(doubleToInt(-9223372036854775808), "overflow");
    expectError(doubleToInt(1e99), "overflow");
    expectError(doubleToInt(NaN), "overflow");
    expectError(doubleToInt(Infinity), "overflow");
    expect(doubleToInt(-9223372036854774784)).toBe(-9223372036854774784n); // largest double below 2^63 in magnitude
  });

  it("int(double) agrees with truncation for every double strictly inside (-2^63, 2^63)", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (v) => {
        const r = doubleToInt(v);
        if (v > -(2 ** 63) && v < 2 ** 63) expect(r).toBe(BigInt(Math.trunc(v)));
        else expectError(r, "overflow");
      }),
    );
  });

  it("uint(double) truncates and rejects negatives (even -0.5) and 2^64", () => {
    expect((doubleToUint(3.14159265) as CelUint).value).toBe(3n);
    expect((doubleToUint(25.5) as CelUint).value).toBe(25n);
    expect((doubleToUint(-0) as CelUint).value).toBe(0n);
    expect((doubleToUint(Number(36028797018963969n)) as CelUint).value).toBe(36028797018963968n);
    expectError(doubleToUint(-0.5), "overflow", "unsigned integer overflow");
    expectError(doubleToUint(6.022e23), "overflow");
    expectError(doubleToUint(18446744073709551615), "overflow");
    expectError(doubleToUint(NaN), "overflow");
  });

  it("converts between int and uint with range checks", () => {
    expect((intToUint(1729n) as CelUint).value).toBe(1729n);
    expect((intToUint(INT64_MAX) as CelUint).value).toBe(INT64_MAX);
    expectError(intToUint(-1n), "overflow", "unsigned integer overflow");
    expect(uintToInt(new CelUint(42n))).toBe(42n);
    expect(uintToInt(new CelUint(INT64_MAX))).toBe(INT64_MAX);
    expectError(uintToInt(new CelUint(UINT64_MAX)), "overflow", "integer overflow");
  });

  it("converts int and uint to the nearest double", () => {
    expect(intToDouble(1000000000000n)).toBe(1e12);
    expect(intToDouble(-9007199254740992n)).toBe(-9.007199254740992e15);
    expect(intToDouble(INT64_MAX)).toBe(9.223372036854775807e18);
    expect(uintToDouble(new CelUint(UINT64_MAX))).toBe(1.8446744073709551615e19);
  });
});

describe("string to number", () => {
  it("int(string) accepts Go's ParseInt base-10 syntax only", () => {
    expect(stringToInt("987")).toBe(987n);
    expect(stringToInt("-456")).toBe(-456n);
    expect(stringToInt("+5")).toBe(5n);
    expect(stringToInt("-9223372036854775808")).toBe(INT64_MIN);
    expect(stringToInt("9223372036854775807")).toBe(INT64_MAX);
    expect(stringToInt("-00000000000000000000000042")).toBe(-42n); // leading zeros are fine in Go
    expectError(stringToInt("9".repeat(200_000)), "type_conversion");
    expect((stringToUint("000000000000000000000000018446744073709551615") as CelUint).value).toBe(UINT64_MAX);
    for (const bad of ["", "-", "+", " 1", "1 ", "1_000", "0x10", "1.0", "9223372036854775808", "abc", "١"]) {
      expectError(stringToInt(bad), "type_conversion", "type conversion error from 'string' to 'int'");
    }
  });

  it("uint(string) accepts digits only", () => {
    expect((stringToUint("300") as CelUint).value).toBe(300n);
    expect((stringToUint("18446744073709551615") as CelUint).value).toBe(UINT64_MAX);
    for (const bad of ["", "+1", "-0", "18446744073709551616", "1u"]) {
      expectError(stringToUint(bad), "type_conversion", "type conversion error from 'string' to 'uint'");
    }
  });

  it("round-trips every int64 through its decimal text", () => {
    fc.assert(
      fc.property(int64, (v) => {
        expect(stringToInt(v.toString())).toBe(v);
      }),
    );
  });

  it("double(string) follows Go's ParseFloat, including the conversions conformance cases", () => {
    const cases: [string, number][] = [
      ["0", 0],
      ["0.0", 0],
      ["123", 123],
      ["123.456", 123.456],
      ["-987.654", -987.654],
      ["6.02214e23", 6.02214e23],
      ["1.38e-23", 1.38e-23],
      ["-84.32e7", -8.432e8],
      ["-5.43e-21", -5.43e-21],
      [".5", 0.5],
      ["5.", 5],
      ["1E3", 1000],
      ["1_000.5", 1000.5],
      ["0x1p-2", 0.25],
      ["0x1.8p1", 3],
      ["-0x10p0", -16],
      ["1e-400", 0],
      ["inf", Infinity],
      ["+Inf", Infinity],
      ["-Infinity", -Infinity],
      ["INFINITY", Infinity],
    ];
    for (const [text, value] of cases) expect(stringToDouble(text)).toBe(value);
    expect(Object.is(stringToDouble("-0.0"), -0)).toBe(true);
    expect(stringToDouble("NaN")).toBeNaN();
    expect(stringToDouble("nan")).toBeNaN();
    for (const bad of ["", "+nan", "-nan", "infin", "1e400", "-1e400", "1e", "1e+", ".", "_1", "1__0", "1_", " 1", "1 ", "0x1", "1.2.3", "abc", "1f"]) {
      expectError(stringToDouble(bad), "type_conversion", "type conversion error from 'string' to 'double'");
    }
  });

  it("parses back every double printed by JS", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (v) => {
        // String(-0) is "0": compare -0 through its Go spelling instead.
        const text = Object.is(v, -0) ? "-0" : String(v);
        expect(stringToDouble(text)).toBe(v);
        if (!Object.is(v, -0)) expect(stringToDouble(v.toExponential())).toBe(v);
      }),
    );
  });

  it("bool(string) accepts exactly Go's ParseBool spellings", () => {
    for (const t of ["1", "t", "T", "true", "TRUE", "True"]) expect(stringToBool(t)).toBe(true);
    for (const f of ["0", "f", "F", "false", "FALSE", "False"]) expect(stringToBool(f)).toBe(false);
    for (const bad of ["TrUe", "FaLsE", "yes", "", " true", "2"]) {
      expectError(stringToBool(bad), "type_conversion", "type conversion error from 'string' to 'bool'");
    }
  });
});

describe("string(double) as cel-go's %g", () => {
  it("prints the conformance values", () => {
    expect(doubleToString(123.456)).toBe(specString("conversions/string/double"));
    expect(doubleToString(-4.5e-3)).toBe(specString("conversions/string/double_hard"));
  });

  it("uses Go's exponent thresholds and spelling", () => {
    const cases: [number, string][] = [
      [1.5, "1.5"],
      [0, "0"],
      [-0, "-0"],
      [1e100, "1e+100"],
      [1e6, "1e+06"],
      [999999, "999999"],
      [123456789, "1.23456789e+08"],
      [0.0001, "0.0001"],
      [0.00001, "1e-05"],
      [-1.23e4, "-12300"],
      [5e-324, "5e-324"],
      [1.7976931348623157e308, "1.7976931348623157e+308"],
      [Infinity, "+Inf"],
      [-Infinity, "-Inf"],
      [NaN, "NaN"],
      [0.1 + 0.2, "0.30000000000000004"],
    ];
    for (const [v, text] of cases) expect(doubleToString(v)).toBe(text);
  });

  it("round-trips and chooses the exponent form exactly when the exponent is < -4 or >= 6", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (v) => {
        const text = doubleToString(v);
        expect(Number(text)).toBe(v);
        if (v === 0) return;
        const exponent = Math.floor(Math.log10(Math.abs(v)));
        // log10 can be off by one right at powers of ten; compare against the printed exponent.
        const match = /e([+-]\d+)$/.exec(text);
        if (match !== null) {
          const e = Number(match[1]);
          expect(e < -4 || e >= 6).toBe(true);
          expect(match[1]!.length).toBeGreaterThanOrEqual(3); // sign and at least two digits
        } else {
          expect(exponent >= -5 && exponent <= 6).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("prints ints and uints in decimal", () => {
    expect(intToString(123n)).toBe(specString("conversions/string/int"));
    expect(intToString(-456n)).toBe(specString("conversions/string/int_neg"));
    expect(uintToString(new CelUint(9876n))).toBe(specString("conversions/string/uint"));
  });
});

/** Whether `x × 10^k` lies exactly halfway between two integers (checked with exact rationals). */
function isExactTie(x: number, k: number): boolean {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const hi = view.getUint32(0);
  const field = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(view.getUint32(4));
  let e = -1074;
  if (field !== 0) {
    mantissa |= 1n << 52n;
    e = field - 1075;
  }
  let num = mantissa * 2n;
  let den = 1n;
  if (e >= 0) num <<= BigInt(e);
  else den <<= BigInt(-e);
  if (k >= 0) num *= 10n ** BigInt(k);
  else den *= 10n ** BigInt(-k);
  return num % den === 0n && (num / den) % 2n === 1n;
}

describe("Go fixed-precision float formatting", () => {
  it("agrees with toFixed except on exact ties, which round half to even", () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e20, max: 1e20, noNaN: true }),
        fc.integer({ min: 0, max: 20 }),
        (v, p) => {
          const ours = goFormatFloat(v, "f", p);
          const js = v.toFixed(p);
          if (ours === js) return;
          // -0 keeps its sign in Go ("-0.00") where toFixed prints "0.00".
          if (Object.is(v, -0)) return;
          expect(isExactTie(v, p)).toBe(true);
          const lastDigit = ours.replace(".", "").at(-1)!;
          expect(Number(lastDigit) % 2).toBe(0);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("rounds exact ties half to even and everything else to nearest", () => {
    expect(goFormatFloat(1.5, "f", 0)).toBe("2");
    expect(goFormatFloat(2.5, "f", 0)).toBe("2");
    expect(goFormatFloat(0.5, "f", 0)).toBe("0");
    expect(goFormatFloat(0.125, "f", 2)).toBe("0.12");
    expect(goFormatFloat(0.375, "f", 2)).toBe("0.38");
    expect(goFormatFloat(1.2345, "f", 3)).toBe("1.234"); // 1.2345 is below the tie as a double
    expect(goFormatFloat(-1.2, "f", 5)).toBe("-1.20000");
    expect(goFormatFloat(9.995, "f", 2)).toBe("9.99");
    expect(goFormatFloat(9.9999, "f", 2)).toBe("10.00");
    expect(goFormatFloat(-0, "f", 2)).toBe("-0.00");
    expect(goFormatFloat(1e21, "f", 1)).toBe("1000000000000000000000.0");
  });

  it("prints %e with at least two exponent digits and half-even ties", () => {
    expect(goFormatFloat(1052.032911275, "e", 6)).toBe("1.052033e+03");
    expect(goFormatFloat(2.71828, "e", 6)).toBe("2.718280e+00");
    expect(goFormatFloat(0, "e", 6)).toBe("0.000000e+00");
    expect(goFormatFloat(1e100, "e", 2)).toBe("1.00e+100");
    expect(goFormatFloat(1.25e-7, "e", 1)).toBe("1.2e-07");
    expect(goFormatFloat(2.5, "e", 0)).toBe("2e+00");
    expect(goFormatFloat(3.5, "e", 0)).toBe("4e+00");
    expect(goFormatFloat(123456, "e", 2)).toBe("1.23e+05");
  });

  it("agrees with toExponential except on exact ties", () => {
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true }).filter((v) => v !== 0),
        fc.integer({ min: 0, max: 20 }),
        (v, p) => {
          const ours = goFormatFloat(v, "e", p);
          const js = v.toExponential(p).replace(/e([+-])(\d)$/, "e$10$2");
          if (ours === js) return;
          const exponent = Number(/e([+-]\d+)$/.exec(js)![1]);
          expect(isExactTie(v, p - exponent)).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("bytes and strings", () => {
  it("string(bytes) requires valid UTF-8", () => {
    expect(bytesToString(new TextEncoder().encode("abc"))).toBe("abc");
    expect(bytesToString(new Uint8Array([0o303, 0o277]))).toBe(specString("conversions/string/bytes_unicode"));
    expect(bytesToString(new Uint8Array([0xef, 0xbb, 0xbf, 0x41]))).toBe("\ufeffA");
    const invalid = [[0, 0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]];
    for (const bytes of invalid) {
      expectError(bytesToString(new Uint8Array(bytes)), "invalid_argument", "invalid UTF-8 in bytes, cannot convert to string");
    }
    expect(specCase("conversions/string/bytes_invalid").evalError?.errors[0]?.message).toBe("invalid UTF-8");
  });

  it("bytes(string) is the UTF-8 encoding and round-trips", () => {
    expect(Array.from(stringToBytes("ÿ"))).toEqual([0o303, 0o277]);
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        expect(bytesToString(stringToBytes(s))).toBe(s);
      }),
    );
  });

  it("lossy decoding replaces each run of invalid bytes by one U+FFFD", () => {
    expect(decodeUtf8Lossy(new Uint8Array([0x61, 0xff, 0xfe, 0x62, 0xc3]))).toBe("a\ufffdb\ufffd");
    expect(decodeUtf8Lossy(new TextEncoder().encode("π😀"))).toBe("π😀");
  });
});
