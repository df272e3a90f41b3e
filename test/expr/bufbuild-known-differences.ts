/**
 * Disagreements between `@bufbuild/cel` (0.6.x) and CEL where `@bufbuild/cel` is wrong, found by
 * the differential fuzzer and the conformance corpus (test/expr/differential.test.ts).
 *
 * Each entry has the place CEL's behaviour is defined (cel-spec langdef.md, the conformance
 * data, or, where the spec leaves a detail open, cel-go — the reference implementation — which
 * the entry then says), a minimal expression, and the correct outcome, which our engine gives.
 * differential.test.ts asserts that every entry still holds on both sides: when `@bufbuild/cel`
 * fixes one, the test fails and the entry must go (with the generator tag it excuses, if unused).
 *
 * `tag` names the generator production (`TAGS` in support/generators.ts) whose disagreements
 * this entry explains; the fuzzer skips, and counts, disagreements on expressions using it.
 */
import { TAGS } from "./support/generators.js";
import { CelTimestamp, CelUint } from "../../src/expr/values.js";

/** The correct outcome of an expression: a value in our model, or an evaluation error. */
export type Expected = { readonly value: unknown } | { readonly error: true };

/** One way in which `@bufbuild/cel` deviates from CEL. */
export interface KnownDifference {
  /** Short stable name. */
  readonly id: string;
  /** What `@bufbuild/cel` does instead. */
  readonly bufbuild: string;
  /** Where CEL defines the behaviour. */
  readonly reference: string;
  /** A minimal expression showing it (no variables). */
  readonly expr: string;
  /** The correct outcome (ours). */
  readonly expected: Expected;
  /** The generator production it explains, if the fuzzer can reach it. */
  readonly tag?: string;
}

const LANGDEF = "cel-spec doc/langdef.md";
const STRINGS_EXT = "cel-go ext/README.md (the strings extension's specification)";

export const KNOWN_DIFFERENCES: readonly KnownDifference[] = [
  // --- Standard functions --------------------------------------------------------------------
  {
    id: "matches-global-overload",
    bufbuild: "no overload `matches(string, string)`, only the receiver form",
    reference: `${LANGDEF}, "matches": signatures \`matches(string, string) -> bool\` and \`string.matches(string) -> bool\``,
    expr: "matches('abc', '^a')",
    expected: { value: true },
  },
  {
    id: "uint-division-above-int64",
    bufbuild: "`uint / uint` with a quotient above 2^63-1 fails with 'int overflow'",
    reference: `${LANGDEF}, "Overflow": only results outside the uint range are errors`,
    expr: "18446744073709551615u / 1u",
    expected: { value: new CelUint(18446744073709551615n) },
    tag: TAGS.uintDivide,
  },
  {
    id: "int-modulo-min-by-minus-one",
    bufbuild: "`-9223372036854775808 % -1` is 0",
    reference:
      `${LANGDEF}, "Overflow" leaves this remainder open; cel-go (common/types/overflow.go, moduloInt64Checked) ` +
      "reports an int overflow, as for the quotient of the same operands",
    expr: "-9223372036854775808 % -1",
    expected: { error: true },
    tag: TAGS.intModulo,
  },
  {
    id: "heterogeneous-equality-exact",
    bufbuild: "int/uint vs double equality is exact while its ordering is lossy, so a pair can be <=, >= and !=",
    reference:
      `${LANGDEF}, "Numbers": x and y are equal iff !(x < y || x > y); conformance comparisons/lte_literal/lte_dyn_int_big_double ` +
      "and comparisons/gte_literal/gte_dyn_int_big_lossy_double make both orderings true for this pair",
    expr: "dyn(9223372036854775807) == 9223372036854775808.0",
    expected: { value: true },
    tag: TAGS.lossyEquality,
  },

  // --- Conversions ---------------------------------------------------------------------------
  {
    id: "int-of-empty-string",
    bufbuild: "`int('')` is 0 (JavaScript `BigInt('')`)",
    reference: `${LANGDEF}, "int": \`int("123") // 123 (if successful, otherwise an error)\``,
    expr: "int('')",
    expected: { error: true },
    tag: TAGS.numberOfString,
  },
  {
    id: "uint-of-empty-string",
    bufbuild: "`uint('')` is 0u",
    reference: `${LANGDEF}, "uint" (type conversion from string, an error when it fails)`,
    expr: "uint('')",
    expected: { error: true },
    tag: TAGS.numberOfString,
  },
  {
    id: "int-of-padded-string",
    bufbuild: "`int(' 1')` is 1 (JavaScript `BigInt` trims whitespace)",
    reference: `${LANGDEF}, "int"; cel-go parses with strconv.ParseInt(s, 10, 64), which rejects spaces`,
    expr: "int(' 1')",
    expected: { error: true },
    tag: TAGS.numberOfString,
  },
  {
    id: "int-of-hex-string",
    bufbuild: "`int('0x10')` is 16 (JavaScript `BigInt` syntax)",
    reference: `${LANGDEF}, "int": base 10 ("converts ... to base 10 representation" and back); cel-go strconv.ParseInt(s, 10, 64)`,
    expr: "int('0x10')",
    expected: { error: true },
    tag: TAGS.numberOfString,
  },
  {
    id: "bool-of-capital-t-f",
    bufbuild: "`bool('T')` and `bool('F')` fail ('Unable to convert string')",
    reference: `${LANGDEF}, "bool" leaves the accepted spellings open; cel-go (common/types/string.go) uses Go's strconv.ParseBool, which accepts 1 t T TRUE true True and 0 f F FALSE false False`,
    expr: "bool('F')",
    expected: { value: false },
    tag: TAGS.boolOfString,
  },
  {
    id: "double-of-garbage",
    bufbuild: "`double('abc')` is NaN (JavaScript `Number`)",
    reference: `${LANGDEF}, "double": \`double("3.14") // 3.14 (if successful, otherwise an error)\``,
    expr: "double('abc')",
    expected: { error: true },
    tag: TAGS.numberOfString,
  },
  {
    id: "double-of-empty-string",
    bufbuild: "`double('')` is 0",
    reference: `${LANGDEF}, "double" (an error when the conversion fails)`,
    expr: "double('')",
    expected: { error: true },
    tag: TAGS.numberOfString,
  },
  {
    id: "double-out-of-range",
    bufbuild: "`double('1e400')` is +Infinity",
    reference: `${LANGDEF}, "Overflow": "An error is also raised for conversions which exceed the range of the target type"`,
    expr: "double('1e400')",
    expected: { error: true },
    tag: TAGS.numberOfString,
  },
  {
    id: "double-of-inf",
    bufbuild: "`double('inf')` is NaN while `double('Infinity')` is +Infinity",
    reference: "cel-go string_to_double: strconv.ParseFloat, which reads inf/infinity/nan in any case",
    expr: "double('inf')",
    expected: { value: Infinity },
    tag: TAGS.numberOfString,
  },
  {
    id: "string-of-double-exponent",
    bufbuild: "`string(double)` uses JavaScript number formatting: `string(1e6)` is '1000000'",
    reference: "cel-go double_to_string: fmt %g, which gives '1e+06' (langdef leaves the format open)",
    expr: "string(1e6)",
    expected: { value: "1e+06" },
    tag: TAGS.stringOfDouble,
  },
  {
    id: "string-of-negative-zero",
    bufbuild: "`string(-0.0)` is '0'",
    reference: "cel-go double_to_string: fmt %g keeps the sign of zero",
    expr: "string(-0.0)",
    expected: { value: "-0" },
    tag: TAGS.stringOfDouble,
  },
  {
    id: "string-of-duration-padding",
    bufbuild: "`string(duration)` prints protobuf JSON: '1.500s'",
    reference: `${LANGDEF}, "string": "seconds and fractional seconds with an 's' suffix", example \`string(duration('1m1ms')) // "60.001s"\`; cel-go prints '1.5s'`,
    expr: "string(duration('1.5s'))",
    expected: { value: "1.5s" },
    tag: TAGS.stringOfTime,
  },
  {
    id: "string-of-timestamp-padding",
    bufbuild: "`string(timestamp)` prints protobuf JSON: '2020-01-01T00:00:00.500Z'",
    reference: `${LANGDEF}, "string": RFC 3339; cel-go uses time.RFC3339Nano, which drops trailing zeros`,
    expr: "string(timestamp('2020-01-01T00:00:00.5Z'))",
    expected: { value: "2020-01-01T00:00:00.5Z" },
    tag: TAGS.stringOfTime,
  },
  {
    id: "int-of-duration-seconds",
    bufbuild: "`int(duration)` gives seconds",
    reference: "cel-go duration_to_int64 gives nanoseconds (langdef lists no int(duration) overload)",
    expr: "int(duration('1s'))",
    expected: { value: 1_000_000_000n },
    tag: TAGS.intOfDuration,
  },

  // --- Timestamps and durations --------------------------------------------------------------
  {
    id: "timestamp-of-int-milliseconds",
    bufbuild: "`timestamp(int)` reads milliseconds",
    reference: `cel-go int64_to_timestamp reads Unix seconds, the inverse of ${LANGDEF} \`int(google.protobuf.Timestamp) -> int\` ("seconds since Unix epoch")`,
    expr: "timestamp(1) == timestamp('1970-01-01T00:00:01Z')",
    expected: { value: true },
    tag: TAGS.timestampOfInt,
  },
  {
    id: "timestamp-of-int-range",
    bufbuild: "`timestamp(253402300800)` is a timestamp in 1978 (milliseconds, no range check)",
    reference: `${LANGDEF}, "Overflow": timestamps are limited to ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z"]`,
    expr: "timestamp(253402300800)",
    expected: { error: true },
    tag: TAGS.timestampOfInt,
  },
  {
    id: "timestamp-day-out-of-range",
    bufbuild: "`timestamp('2020-02-30T00:00:00Z')` rolls over to March 1",
    reference: `${LANGDEF}, "timestamp": "according to RFC3339"; RFC 3339 §5.7 bounds date-mday by month and year`,
    expr: "timestamp('2020-02-30T00:00:00Z')",
    expected: { error: true },
    tag: TAGS.timeOfString,
  },
  {
    id: "timestamp-hour-24",
    bufbuild: "`timestamp('2020-01-01T24:00:00Z')` is the next midnight",
    reference: `${LANGDEF}, "timestamp": RFC 3339; RFC 3339 §5.6 time-hour is 00-23`,
    expr: "timestamp('2020-01-01T24:00:00Z')",
    expected: { error: true },
    tag: TAGS.timeOfString,
  },
  {
    id: "timestamp-long-fraction",
    bufbuild: "a fraction of more than 9 digits is rejected",
    reference: `${LANGDEF}, "timestamp": RFC 3339; RFC 3339 §5.6 time-secfrac is "." 1*DIGIT (cel-go truncates to nanoseconds)`,
    expr: "timestamp('1970-01-01T00:00:00.0000000001Z')",
    expected: { value: new CelTimestamp(0, 0) },
    tag: TAGS.timeOfString,
  },
  {
    id: "duration-of-empty-string",
    bufbuild: "`duration('')` is 0s",
    reference: `${LANGDEF}, "duration": duration strings are numbers with unit suffixes, or "0"`,
    expr: "duration('')",
    expected: { error: true },
    tag: TAGS.timeOfString,
  },
  {
    id: "timestamp-accessor-rounding-milliseconds",
    bufbuild: "accessors work on a JavaScript Date rounded to the millisecond: .9999 s has 0 milliseconds",
    reference: `${LANGDEF}, "getMilliseconds": milliseconds 0-999 of the timestamp (truncated, as cel-go)`,
    expr: "timestamp('2000-01-01T00:00:00.9999Z').getMilliseconds()",
    expected: { value: 999n },
    tag: TAGS.timestampAccessor,
  },
  {
    id: "timestamp-accessor-rounding-carry",
    bufbuild: "the rounding carries into the other fields: 23:59:59.9999 has 0 seconds",
    reference: `${LANGDEF}, "getSeconds": seconds 0-59 of the timestamp`,
    expr: "timestamp('2000-01-01T23:59:59.9999Z').getSeconds()",
    expected: { value: 59n },
    tag: TAGS.timestampAccessor,
  },

  // --- Syntax and literals -------------------------------------------------------------------
  {
    id: "quoted-field-names",
    bufbuild: "backquoted field names (`m.`content-type``) do not parse",
    reference: "conformance fields/quoted_map_fields/* (field_access_dash and five more); cel-spec CEL.g4 escapedIdent",
    expr: "{'content-type': 1}.`content-type`",
    expected: { value: 1n },
  },
  {
    id: "map-literal-repeated-numeric-key",
    bufbuild: "`{0: 1, 0u: 2}` keeps both entries although the keys are equal",
    reference: "conformance fields/qualified_identifier_resolution/map_value_repeat_key_heterogeneous (an error)",
    expr: "{0: 1, 0u: 2}[0.0]",
    expected: { error: true },
  },
  {
    id: "bytes-literal-astral",
    bufbuild: "a character outside the BMP in a bytes literal becomes two U+FFFD",
    reference: `${LANGDEF}, "String and Bytes Values": "The bytes literal is the sequence of bytes given by the UTF-8 representation of the string literal"`,
    expr: "b'😀' == b'\\xf0\\x9f\\x98\\x80'",
    expected: { value: true },
  },

  // --- Strings extension ---------------------------------------------------------------------
  {
    id: "charAt-utf16",
    bufbuild: "strings-extension positions count UTF-16 units, so charAt splits a surrogate pair",
    reference: `${STRINGS_EXT}, "CharAt": positions are characters (code points, as size() counts them)`,
    expr: "'😀a'.charAt(1)",
    expected: { value: "a" },
  },
  {
    id: "indexOf-utf16",
    bufbuild: "indexOf returns a UTF-16 offset",
    reference: `${STRINGS_EXT}, "IndexOf": the index of the first occurrence, in characters`,
    expr: "'a😀b'.indexOf('b')",
    expected: { value: 2n },
  },
  {
    id: "lastIndexOf-utf16",
    bufbuild: "lastIndexOf returns a UTF-16 offset",
    reference: `${STRINGS_EXT}, "LastIndexOf"`,
    expr: "'a😀b'.lastIndexOf('b')",
    expected: { value: 2n },
  },
  {
    id: "substring-utf16",
    bufbuild: "substring cuts at UTF-16 offsets, leaving a lone surrogate",
    reference: `${STRINGS_EXT}, "Substring": "character positions"`,
    expr: "'😀ab'.substring(1)",
    expected: { value: "ab" },
  },
  {
    id: "indexOf-offset-at-end",
    bufbuild: "an offset equal to the length is an error",
    reference: `${STRINGS_EXT}, "IndexOf": an offset past the last match position finds nothing ('hello mellow'.indexOf('ello', 20) is -1 in the current text); only negative offsets are errors`,
    expr: "'abc'.indexOf('c', 3)",
    expected: { value: -1n },
    tag: TAGS.indexOfOffset,
  },
  {
    id: "replace-empty-search",
    bufbuild: "replacing '' inserts the replacement at the start only ('xxab')",
    reference: `${STRINGS_EXT}, "Replace"; cel-go uses strings.Replace, where '' matches before every character and at the end`,
    expr: "'ab'.replace('', 'x')",
    expected: { value: "xaxbx" },
    tag: TAGS.replace,
  },
  {
    id: "replace-empty-search-limit",
    bufbuild: "with a limit, replacing '' inserts the replacement `limit` times at the start; a limit of 10^7 runs for minutes",
    reference: `${STRINGS_EXT}, "Replace": the limit caps the number of replacements; '' matches before every character and at the end`,
    expr: "'ab'.replace('', 'x', 5)",
    expected: { value: "xaxbx" },
    tag: TAGS.replace,
  },
  {
    id: "split-empty-separator-limit",
    bufbuild: "with an empty separator and a limit, the last piece loses the rest of the string",
    reference: `${STRINGS_EXT}, "Split": with limit n the result has at most n pieces, the last holding the remainder ('hello hello hello'.split(' ', 2) is ['hello', 'hello hello'])`,
    expr: "'abc'.split('', 2)",
    expected: { value: ["a", "bc"] },
    tag: TAGS.split,
  },
  {
    id: "split-huge-limit",
    bufbuild: "a limit near the int64 maximum (or minimum) gives an empty list",
    reference: `${STRINGS_EXT}, "Split": a limit larger than the number of pieces splits everything`,
    expr: "'ab'.split('x', 9223372036854775807)",
    expected: { value: ["ab"] },
    tag: TAGS.split,
  },
  {
    id: "quote-nul",
    bufbuild: "strings.quote writes NUL as `\\0`, which is not a CEL escape, so the result cannot be read back",
    reference: `${STRINGS_EXT}, "Quote"; cel-go escapes only \\a \\b \\f \\n \\r \\t \\v \\\\ and \\" and keeps other characters`,
    expr: "strings.quote('\\x00') == '\"\\x00\"'",
    expected: { value: true },
    tag: TAGS.quote,
  },
  {
    id: "format-decimal-double",
    bufbuild: "`%d` rejects a finite double",
    reference:
      "conformance string_ext/format 'NaN support for decimal' and the infinity cases pass doubles to %d; cel-go formats finite ones as " +
      "strconv 'f' (cel-spec doc/extensions/strings.md's table lists only int and uint for %d, so this one rests on the conformance data)",
    expr: "'%d'.format([1.5])",
    expected: { value: "1.5" },
    tag: TAGS.format,
  },
  {
    id: "format-duration",
    bufbuild: "`%s` of a duration prints protobuf JSON ('1.500s')",
    reference: 'cel-spec doc/extensions/strings.md, %s of duration: "as if the value was converted to double and then formatted as %ds"',
    expr: "'%s'.format([duration('1.5s')])",
    expected: { value: "1.5s" },
    tag: TAGS.format,
  },
  {
    id: "format-timestamp-padding",
    bufbuild: "`%s` of a timestamp prints protobuf JSON ('2020-01-01T00:00:00.500Z')",
    reference: "cel-spec doc/extensions/strings.md, %s of timestamp: RFC 3339 in UTC; cel-go formats it as string(timestamp), RFC3339Nano without trailing zeros",
    expr: "'%s'.format([timestamp('2020-01-01T00:00:00.5Z')])",
    expected: { value: "2020-01-01T00:00:00.5Z" },
    tag: TAGS.format,
  },
  {
    id: "format-invalid-utf8-run",
    bufbuild: "each invalid UTF-8 sequence of bytes becomes its own U+FFFD",
    reference: 'cel-spec doc/extensions/strings.md, %s of bytes: "Multiple adjacent invalid UTF-8 sequences must be replaced with a single \\ufffd"',
    expr: "'%s'.format([b'\\xff\\xcd\\x79'])",
    expected: { value: "\ufffdy" },
    tag: TAGS.format,
  },
  {
    id: "format-map-key-order",
    bufbuild: "map entries are sorted by locale ('a' before 'B')",
    reference: 'cel-spec doc/extensions/strings.md, %s of map: entries "sorted by the formatted keys in ascending order"',
    expr: "'%s'.format([{'a': 1, 'B': 2}])",
    expected: { value: "{B: 2, a: 1}" },
    tag: TAGS.format,
  },
];

/**
 * The conformance cases (core suites, without protobuf messages) `@bufbuild/cel` gets wrong, by
 * suite/section/name; differential.test.ts asserts this is exactly the set it fails.
 */
export const BUFBUILD_CONFORMANCE_FAILURES: readonly string[] = [
  "fields/quoted_map_fields/field_access_slash",
  "fields/quoted_map_fields/field_access_dash",
  "fields/quoted_map_fields/field_access_dot",
  "fields/quoted_map_fields/has_field_slash",
  "fields/quoted_map_fields/has_field_dash",
  "fields/quoted_map_fields/has_field_dot",
  "fields/qualified_identifier_resolution/map_value_repeat_key_heterogeneous",
];
