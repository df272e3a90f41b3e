/**
 * Golden tables: expressions and the tree the parser builds, printed with node ids (`^#id#`)
 * and with the macro calls it records. Reviewed by hand; regenerate only for a deliberate change.
 */
import type { ParseOptions } from "../../../src/expr/parser/index.js";

export interface AstGolden {
  readonly input: string;
  readonly note: string;
  readonly options?: ParseOptions;
  readonly ast: string;
  readonly macroCalls?: string;
}

export const AST_GOLDEN: readonly AstGolden[] = [
  {
    input: "a",
    note: "identifier",
    ast: `a^#1#`,
  },
  {
    input: ".a",
    note: "identifier resolved from the root scope",
    ast: `.a^#1#`,
  },
  {
    input: "a.b.c",
    note: "field selection chain",
    ast: `a^#1#.b^#2#.c^#3#`,
  },
  {
    input: "a.b(c, d)",
    note: "receiver call",
    ast: `a^#1#.b(
  c^#3#,
  d^#4#
)^#2#`,
  },
  {
    input: "f()",
    note: "global call without arguments",
    ast: `f()^#1#`,
  },
  {
    input: ".f(x)",
    note: "global call from the root scope",
    ast: `.f(
  x^#2#
)^#1#`,
  },
  {
    input: "a[0]",
    note: "index",
    ast: `_[_](
  a^#1#,
  0^#3#
)^#2#`,
  },
  {
    input: "[1, 2] [0]",
    note: "index of a list literal",
    ast: `_[_](
  [
    1^#2#,
    2^#3#
  ]^#1#,
  0^#5#
)^#4#`,
  },
  {
    input: "a.`b-c`",
    note: "backquoted field name",
    ast: `a^#1#.b-c^#2#`,
  },
  {
    input: "a.?b",
    note: "optional selection",
    options: {enableOptionalSyntax: true},
    ast: `_?._(
  a^#1#,
  "b"^#2#
)^#3#`,
  },
  {
    input: "a[?0]",
    note: "optional index",
    options: {enableOptionalSyntax: true},
    ast: `_[?_](
  a^#1#,
  0^#3#
)^#2#`,
  },
  {
    input: "[1, ?x]",
    note: "optional list element",
    options: {enableOptionalSyntax: true},
    ast: `[
  1^#2#,
  x^#3#
]^#1#`,
  },
  {
    input: "{?'k': v}",
    note: "optional map entry",
    options: {enableOptionalSyntax: true},
    ast: `{
  ?"k"^#2#:v^#4#^#3#
}^#1#`,
  },
  {
    input: "Msg{?f: 1}",
    note: "optional message field",
    options: {enableOptionalSyntax: true},
    ast: `Msg{
  ?f:1^#3#^#2#
}^#1#`,
  },
  {
    input: "pkg.Msg{a: 1, `b-c`: 2,}",
    note: "message construction, backquoted field, trailing comma",
    ast: `pkg.Msg{
  a:1^#3#^#2#,
  b-c:2^#5#^#4#
}^#1#`,
  },
  {
    input: ".pkg.Msg{}",
    note: "message type from the root scope",
    ast: `.pkg.Msg{}^#1#`,
  },
  {
    input: "Msg{if: 1}",
    note: "reserved word as a message field",
    ast: `Msg{
  if:1^#3#^#2#
}^#1#`,
  },
  {
    input: "{}",
    note: "empty map",
    ast: `{}^#1#`,
  },
  {
    input: "{'a': 1, 2: b,}",
    note: "map literal with trailing comma",
    ast: `{
  "a"^#2#:1^#4#^#3#,
  2^#5#:b^#7#^#6#
}^#1#`,
  },
  {
    input: "[]",
    note: "empty list",
    ast: `[]^#1#`,
  },
  {
    input: "[1, 2,]",
    note: "list literal with trailing comma",
    ast: `[
  1^#2#,
  2^#3#
]^#1#`,
  },
  {
    input: "[,]",
    note: "an empty list may be written with a lone comma, as in CEL.g4",
    ast: `[]^#1#`,
  },
  {
    input: "(a)",
    note: "parentheses make no node",
    ast: `a^#1#`,
  },
  {
    input: "a ? b : c ? d : e",
    note: "conditional chain nests to the right",
    ast: `_?_:_(
  a^#1#,
  b^#3#,
  _?_:_(
    c^#4#,
    d^#6#,
    e^#7#
  )^#5#
)^#2#`,
  },
  {
    input: "a || b && c",
    note: "&& binds tighter than ||",
    ast: `_||_(
  a^#1#,
  _&&_(
    b^#3#,
    c^#5#
  )^#4#
)^#2#`,
  },
  {
    input: "a && b && c && d && e",
    note: "&& chain balanced like cel-go",
    ast: `_&&_(
  _&&_(
    _&&_(
      a^#1#,
      b^#3#
    )^#2#,
    c^#5#
  )^#4#,
  _&&_(
    d^#7#,
    e^#9#
  )^#8#
)^#6#`,
  },
  {
    input: "a == b != c",
    note: "relations associate to the left",
    ast: `_!=_(
  _==_(
    a^#1#,
    b^#3#
  )^#2#,
  c^#5#
)^#4#`,
  },
  {
    input: "a < b <= c > d >= e in f",
    note: "every relation operator",
    ast: `@in(
  _>=_(
    _>_(
      _<=_(
        _<_(
          a^#1#,
          b^#3#
        )^#2#,
        c^#5#
      )^#4#,
      d^#7#
    )^#6#,
    e^#9#
  )^#8#,
  f^#11#
)^#10#`,
  },
  {
    input: "a + b - c * d / e % f",
    note: "every arithmetic operator and their precedence",
    ast: `_-_(
  _+_(
    a^#1#,
    b^#3#
  )^#2#,
  _%_(
    _/_(
      _*_(
        c^#5#,
        d^#7#
      )^#6#,
      e^#9#
    )^#8#,
    f^#11#
  )^#10#
)^#4#`,
  },
  {
    input: "a in [1, 2]",
    note: "in operator",
    ast: `@in(
  a^#1#,
  [
    1^#4#,
    2^#5#
  ]^#3#
)^#2#`,
  },
  {
    input: "!a",
    note: "logical not",
    ast: `!_(
  a^#1#
)^#2#`,
  },
  {
    input: "!!a",
    note: "an even number of ! cancels out",
    ast: `a^#1#`,
  },
  {
    input: "!!!a",
    note: "an odd number of ! is one negation",
    ast: `!_(
  a^#1#
)^#2#`,
  },
  {
    input: "-a",
    note: "arithmetic negation",
    ast: `-_(
  a^#1#
)^#2#`,
  },
  {
    input: "--a",
    note: "an even number of - cancels out",
    ast: `a^#1#`,
  },
  {
    input: "-1",
    note: "a minus folds into an int literal",
    ast: `-1^#1#`,
  },
  {
    input: "--1",
    note: "two minuses cancel out; the literal stays positive",
    ast: `1^#1#`,
  },
  {
    input: "---1",
    note: "three minuses: one negation of a positive literal",
    ast: `-_(
  1^#1#
)^#2#`,
  },
  {
    input: "-1.5",
    note: "a minus folds into a double literal",
    ast: `-1.5^#1#`,
  },
  {
    input: "!-1",
    note: "not of a negative literal",
    ast: `!_(
  -1^#1#
)^#2#`,
  },
  {
    input: "-(1)",
    note: "negation of a parenthesised literal is a call",
    ast: `-_(
  1^#1#
)^#2#`,
  },
  {
    input: "-1u",
    note: "uint literals take no sign: negation call",
    ast: `-_(
  1u^#1#
)^#2#`,
  },
  {
    input: "-a.b",
    note: "negation applies to the whole member expression",
    ast: `-_(
  a^#1#.b^#2#
)^#3#`,
  },
  {
    input: "-1.abs()",
    note: "the sign belongs to the literal, the call to its result",
    ast: `-1^#1#.abs()^#2#`,
  },
  {
    input: "4--4",
    note: "subtraction of a negative literal",
    ast: `_-_(
  4^#1#,
  -4^#3#
)^#2#`,
  },
  {
    input: "0",
    note: "zero",
    ast: `0^#1#`,
  },
  {
    input: "42",
    note: "decimal int",
    ast: `42^#1#`,
  },
  {
    input: "0x2A",
    note: "hexadecimal int",
    ast: `42^#1#`,
  },
  {
    input: "9223372036854775807",
    note: "largest int",
    ast: `9223372036854775807^#1#`,
  },
  {
    input: "-9223372036854775808",
    note: "smallest int",
    ast: `-9223372036854775808^#1#`,
  },
  {
    input: "-0x8000000000000000",
    note: "smallest int in hex",
    ast: `-9223372036854775808^#1#`,
  },
  {
    input: "0u",
    note: "uint",
    ast: `0u^#1#`,
  },
  {
    input: "18446744073709551615u",
    note: "largest uint",
    ast: `18446744073709551615u^#1#`,
  },
  {
    input: "0xFFu",
    note: "hexadecimal uint",
    ast: `255u^#1#`,
  },
  {
    input: "1.5",
    note: "double",
    ast: `1.5^#1#`,
  },
  {
    input: ".5",
    note: "double with a leading dot",
    ast: `0.5^#1#`,
  },
  {
    input: "1e3",
    note: "double with an exponent only",
    ast: `1000^#1#`,
  },
  {
    input: "1.5e-3",
    note: "double with a negative exponent",
    ast: `0.0015^#1#`,
  },
  {
    input: "2E+2",
    note: "double with an upper-case exponent and a sign",
    ast: `200^#1#`,
  },
  {
    input: "-0.0",
    note: "negative zero",
    ast: `-0^#1#`,
  },
  {
    input: "true",
    note: "true",
    ast: `true^#1#`,
  },
  {
    input: "false",
    note: "false",
    ast: `false^#1#`,
  },
  {
    input: "null",
    note: "null",
    ast: `null^#1#`,
  },
  {
    input: "'a'",
    note: "single-quoted string",
    ast: `"a"^#1#`,
  },
  {
    input: "\"a\"",
    note: "double-quoted string",
    ast: `"a"^#1#`,
  },
  {
    input: "'''a'b'''",
    note: "triple single-quoted string",
    ast: `"a'b"^#1#`,
  },
  {
    input: "\"\"\"a\"b\"\"\"",
    note: "triple double-quoted string",
    ast: `"a\\"b"^#1#`,
  },
  {
    input: "r'\\n'",
    note: "raw string keeps the backslash",
    ast: `"\\\\n"^#1#`,
  },
  {
    input: "R\"\\d\"",
    note: "upper-case raw prefix",
    ast: `"\\\\d"^#1#`,
  },
  {
    input: "r'''x'''",
    note: "raw triple-quoted string",
    ast: `"x"^#1#`,
  },
  {
    input: "'\\a\\b\\f\\n\\r\\t\\v\\\\\\'\\\"\\`\\?'",
    note: "every named escape",
    ast: `"\\a\\b\\f\\n\\r\\t\\v\\\\'\\"\`?"^#1#`,
  },
  {
    input: "'\\x41\\X42'",
    note: "hex escapes are code points in strings",
    ast: `"AB"^#1#`,
  },
  {
    input: "'\\101'",
    note: "octal escape",
    ast: `"A"^#1#`,
  },
  {
    input: "'\\u00e9'",
    note: "\\u escape",
    ast: `"é"^#1#`,
  },
  {
    input: "'\\U0001F600'",
    note: "\\U escape beyond the BMP",
    ast: `"😀"^#1#`,
  },
  {
    input: "'''a\r\nb'''",
    note: "line endings inside a literal become \\n",
    ast: `"a\\nb"^#1#`,
  },
  {
    input: "'é😀'",
    note: "non-ASCII text",
    ast: `"é😀"^#1#`,
  },
  {
    input: "b'abc'",
    note: "bytes",
    ast: `b"abc"^#1#`,
  },
  {
    input: "B\"\\xff\\377\"",
    note: "hex and octal escapes are octets in bytes",
    ast: `b"\\xff\\xff"^#1#`,
  },
  {
    input: "b'ÿ'",
    note: "bytes of text are its UTF-8",
    ast: `b"ÿ"^#1#`,
  },
  {
    input: "br'\\x'",
    note: "raw bytes",
    ast: `b"\\\\x"^#1#`,
  },
  {
    input: "b'''\n'''",
    note: "triple-quoted bytes",
    ast: `b"\\n"^#1#`,
  },
  {
    input: "has(a.b)",
    note: "has() becomes a presence test",
    ast: `a^#2#.b~test-only~^#1#`,
    macroCalls: `1: has(
  a^#2#.b^#3#
)^#1#`,
  },
  {
    input: "a.all(x, x > 0)",
    note: "all()",
    ast: `__comprehension__(
  // Variable
  x,
  // Target
  a^#1#,
  // Accumulator
  @result,
  // Init
  true^#7#,
  // LoopCondition
  @not_strictly_false(
    @result^#9#
  )^#8#,
  // LoopStep
  _&&_(
    @result^#10#,
    _>_(
      x^#4#,
      0^#6#
    )^#5#
  )^#11#,
  // Result
  @result^#12#)^#2#`,
    macroCalls: `2: a^#1#.all(
  x^#3#,
  _>_(
    x^#4#,
    0^#6#
  )^#5#
)^#2#`,
  },
  {
    input: "a.exists(x, x)",
    note: "exists()",
    ast: `__comprehension__(
  // Variable
  x,
  // Target
  a^#1#,
  // Accumulator
  @result,
  // Init
  false^#5#,
  // LoopCondition
  @not_strictly_false(
    !_(
      @result^#7#
    )^#6#
  )^#8#,
  // LoopStep
  _||_(
    @result^#9#,
    x^#4#
  )^#10#,
  // Result
  @result^#11#)^#2#`,
    macroCalls: `2: a^#1#.exists(
  x^#3#,
  x^#4#
)^#2#`,
  },
  {
    input: "a.exists_one(x, x)",
    note: "exists_one()",
    ast: `__comprehension__(
  // Variable
  x,
  // Target
  a^#1#,
  // Accumulator
  @result,
  // Init
  0^#5#,
  // LoopCondition
  true^#6#,
  // LoopStep
  _?_:_(
    x^#4#,
    _+_(
      @result^#7#,
      1^#8#
    )^#9#,
    @result^#10#
  )^#11#,
  // Result
  _==_(
    @result^#12#,
    1^#13#
  )^#14#)^#2#`,
    macroCalls: `2: a^#1#.exists_one(
  x^#3#,
  x^#4#
)^#2#`,
  },
  {
    input: "a.existsOne(x, x)",
    note: "cel-go's existsOne() alias",
    ast: `__comprehension__(
  // Variable
  x,
  // Target
  a^#1#,
  // Accumulator
  @result,
  // Init
  0^#5#,
  // LoopCondition
  true^#6#,
  // LoopStep
  _?_:_(
    x^#4#,
    _+_(
      @result^#7#,
      1^#8#
    )^#9#,
    @result^#10#
  )^#11#,
  // Result
  _==_(
    @result^#12#,
    1^#13#
  )^#14#)^#2#`,
    macroCalls: `2: a^#1#.existsOne(
  x^#3#,
  x^#4#
)^#2#`,
  },
  {
    input: "a.map(x, x * 2)",
    note: "map() with a transform",
    ast: `__comprehension__(
  // Variable
  x,
  // Target
  a^#1#,
  // Accumulator
  @result,
  // Init
  []^#7#,
  // LoopCondition
  true^#8#,
  // LoopStep
  _+_(
    @result^#9#,
    [
      _*_(
        x^#4#,
        2^#6#
      )^#5#
    ]^#10#
  )^#11#,
  // Result
  @result^#12#)^#2#`,
    macroCalls: `2: a^#1#.map(
  x^#3#,
  _*_(
    x^#4#,
    2^#6#
  )^#5#
)^#2#`,
  },
  {
    input: "a.map(x, x > 0, x)",
    note: "map() with a filter and a transform",
    ast: `__comprehension__(
  // Variable
  x,
  // Target
  a^#1#,
  // Accumulator
  @result,
  // Init
  []^#8#,
  // LoopCondition
  true^#9#,
  // LoopStep
  _?_:_(
    _>_(
      x^#4#,
      0^#6#
    )^#5#,
    _+_(
      @result^#10#,
      [
        x^#7#
      ]^#11#
    )^#12#,
    @result^#13#
  )^#14#,
  // Result
  @result^#15#)^#2#`,
    macroCalls: `2: a^#1#.map(
  x^#3#,
  _>_(
    x^#4#,
    0^#6#
  )^#5#,
  x^#7#
)^#2#`,
  },
  {
    input: "a.filter(x, x)",
    note: "filter()",
    ast: `__comprehension__(
  // Variable
  x,
  // Target
  a^#1#,
  // Accumulator
  @result,
  // Init
  []^#5#,
  // LoopCondition
  true^#6#,
  // LoopStep
  _?_:_(
    x^#4#,
    _+_(
      @result^#7#,
      [
        x^#3#
      ]^#8#
    )^#9#,
    @result^#10#
  )^#11#,
  // Result
  @result^#12#)^#2#`,
    macroCalls: `2: a^#1#.filter(
  x^#3#,
  x^#4#
)^#2#`,
  },
  {
    input: "a.map(x, x.filter(y, y))",
    note: "nested macros; the outer call refers to the inner expansion",
    ast: `__comprehension__(
  // Variable
  x,
  // Target
  a^#1#,
  // Accumulator
  @result,
  // Init
  []^#16#,
  // LoopCondition
  true^#17#,
  // LoopStep
  _+_(
    @result^#18#,
    [
      __comprehension__(
        // Variable
        y,
        // Target
        x^#4#,
        // Accumulator
        @result,
        // Init
        []^#8#,
        // LoopCondition
        true^#9#,
        // LoopStep
        _?_:_(
          y^#7#,
          _+_(
            @result^#10#,
            [
              y^#6#
            ]^#11#
          )^#12#,
          @result^#13#
        )^#14#,
        // Result
        @result^#15#)^#5#
    ]^#19#
  )^#20#,
  // Result
  @result^#21#)^#2#`,
    macroCalls: `2: a^#1#.map(
  x^#3#,
  ^#5:macro#
)^#2#
5: x^#4#.filter(
  y^#6#,
  y^#7#
)^#5#`,
  },
  {
    input: "all(a, b)",
    note: "all as a global function is not a macro",
    ast: `all(
  a^#2#,
  b^#3#
)^#1#`,
  },
  {
    input: "a.has(b)",
    note: "has as a receiver function is not a macro",
    ast: `a^#1#.has(
  b^#3#
)^#2#`,
  },
  {
    input: "a.map(x)",
    note: "map with one argument is not a macro",
    ast: `a^#1#.map(
  x^#3#
)^#2#`,
  },
  {
    input: "has(a.b, c)",
    note: "has with two arguments is not a macro",
    ast: `has(
  a^#2#.b^#3#,
  c^#4#
)^#1#`,
  },
  {
    input: "a // comment\n + b",
    note: "comments and line breaks are skipped",
    ast: `_+_(
  a^#1#,
  b^#3#
)^#2#`,
  },
  {
    input: "a.if",
    note: "reserved word as a field name",
    ast: `a^#1#.if^#2#`,
  },
  {
    input: "a.var()",
    note: "reserved word as a receiver function",
    ast: `a^#1#.var()^#2#`,
  },
];
