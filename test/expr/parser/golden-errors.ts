/**
 * Golden table of rejected expressions and the exact error text, printed as cel-go prints it.
 * Reviewed by hand; regenerate only for a deliberate change.
 */
import type { ParseOptions } from "../../../src/expr/parser/index.js";

export interface ErrorGolden {
  readonly input: string;
  readonly note: string;
  readonly options?: ParseOptions;
  readonly error: string;
}

export const ERROR_GOLDEN: readonly ErrorGolden[] = [
  {
    input: "a | b",
    note: "lone |",
    error: `ERROR: <input>:1:3: Syntax error: token recognition error at: '| '
 | a | b
 | ..^
ERROR: <input>:1:5: Syntax error: extraneous input 'b' expecting <EOF>
 | a | b
 | ....^`,
  },
  {
    input: "a & b",
    note: "lone &",
    error: `ERROR: <input>:1:3: Syntax error: token recognition error at: '& '
 | a & b
 | ..^
ERROR: <input>:1:5: Syntax error: extraneous input 'b' expecting <EOF>
 | a & b
 | ....^`,
  },
  {
    input: "a = b",
    note: "lone =",
    error: `ERROR: <input>:1:3: Syntax error: token recognition error at: '= '
 | a = b
 | ..^
ERROR: <input>:1:5: Syntax error: extraneous input 'b' expecting <EOF>
 | a = b
 | ....^`,
  },
  {
    input: "@",
    note: "unknown character",
    error: `ERROR: <input>:1:1: Syntax error: token recognition error at: '@'
 | @
 | ^
ERROR: <input>:1:2: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | @
 | .^`,
  },
  {
    input: "a $ b",
    note: "unknown character between operands",
    error: `ERROR: <input>:1:3: Syntax error: token recognition error at: '$'
 | a $ b
 | ..^
ERROR: <input>:1:5: Syntax error: extraneous input 'b' expecting <EOF>
 | a $ b
 | ....^`,
  },
  {
    input: "1 + +",
    note: "missing operands",
    error: `ERROR: <input>:1:5: Syntax error: mismatched input '+' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | 1 + +
 | ....^
ERROR: <input>:1:6: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | 1 + +
 | .....^`,
  },
  {
    input: "1 +",
    note: "missing right operand",
    error: `ERROR: <input>:1:4: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | 1 +
 | ...^`,
  },
  {
    input: "(1",
    note: "unclosed parenthesis",
    error: `ERROR: <input>:1:3: Syntax error: mismatched input '<EOF>' expecting ')'
 | (1
 | ..^`,
  },
  {
    input: "[1, 2",
    note: "unclosed list",
    error: `ERROR: <input>:1:6: Syntax error: mismatched input '<EOF>' expecting ']'
 | [1, 2
 | .....^`,
  },
  {
    input: "{1: 2",
    note: "unclosed map",
    error: `ERROR: <input>:1:6: Syntax error: mismatched input '<EOF>' expecting '}'
 | {1: 2
 | .....^`,
  },
  {
    input: "{1}",
    note: "map entry without a value",
    error: `ERROR: <input>:1:3: Syntax error: mismatched input '}' expecting ':'
 | {1}
 | ..^`,
  },
  {
    input: "{a: b, c}",
    note: "second map entry without a value",
    error: `ERROR: <input>:1:9: Syntax error: mismatched input '}' expecting ':'
 | {a: b, c}
 | ........^`,
  },
  {
    input: "Msg{a}",
    note: "message field without a value",
    error: `ERROR: <input>:1:6: Syntax error: mismatched input '}' expecting ':'
 | Msg{a}
 | .....^`,
  },
  {
    input: "a.",
    note: "nothing after a dot",
    error: `ERROR: <input>:1:3: Syntax error: no viable alternative at input '.'
 | a.
 | ..^`,
  },
  {
    input: "a.1",
    note: "number after a dot",
    error: `ERROR: <input>:1:2: Syntax error: extraneous input '.1' expecting <EOF>
 | a.1
 | .^`,
  },
  {
    input: "a.true",
    note: "keyword as a field name (cel-go's wording)",
    error: `ERROR: <input>:1:3: Syntax error: mismatched input 'true' expecting IDENTIFIER
 | a.true
 | ..^`,
  },
  {
    input: "a.in",
    note: "in as a field name",
    error: `ERROR: <input>:1:3: Syntax error: no viable alternative at input '.in'
 | a.in
 | ..^
ERROR: <input>:1:5: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | a.in
 | ....^`,
  },
  {
    input: "{\"a\": 1}.\"a\"",
    note: "string after a dot",
    error: `ERROR: <input>:1:10: Syntax error: no viable alternative at input '."a"'
 | {"a": 1}."a"
 | .........^`,
  },
  {
    input: "a.(b)",
    note: "parenthesis after a dot",
    error: `ERROR: <input>:1:3: Syntax error: no viable alternative at input '.('
 | a.(b)
 | ..^`,
  },
  {
    input: "1..2",
    note: "two dots",
    error: `ERROR: <input>:1:3: Syntax error: no viable alternative at input '..2'
 | 1..2
 | ..^`,
  },
  {
    input: "f(,)",
    note: "comma without arguments",
    error: `ERROR: <input>:1:3: Syntax error: extraneous input ',' expecting {'[', '{', '(', ')', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | f(,)
 | ..^`,
  },
  {
    input: "f(1,)",
    note: "trailing comma in arguments",
    error: `ERROR: <input>:1:5: Syntax error: mismatched input ')' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | f(1,)
 | ....^`,
  },
  {
    input: "a.b(",
    note: "unclosed call",
    error: `ERROR: <input>:1:5: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', ')', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | a.b(
 | ....^`,
  },
  {
    input: "a.b.c(d e)",
    note: "missing comma between arguments",
    error: `ERROR: <input>:1:9: Syntax error: extraneous input 'e' expecting ')'
 | a.b.c(d e)
 | ........^`,
  },
  {
    input: "[1 2]",
    note: "missing comma between elements",
    error: `ERROR: <input>:1:4: Syntax error: extraneous input '2' expecting ']'
 | [1 2]
 | ...^`,
  },
  {
    input: "a ? b",
    note: "conditional without ':'",
    error: `ERROR: <input>:1:6: Syntax error: mismatched input '<EOF>' expecting ':'
 | a ? b
 | .....^`,
  },
  {
    input: "a ? b :",
    note: "conditional without else branch",
    error: `ERROR: <input>:1:8: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | a ? b :
 | .......^`,
  },
  {
    input: "a ? b ? c : d : e",
    note: "the middle of a conditional cannot be a conditional",
    error: `ERROR: <input>:1:7: Syntax error: mismatched input '?' expecting ':'
 | a ? b ? c : d : e
 | ......^`,
  },
  {
    input: "a ? : b",
    note: "conditional without then branch",
    error: `ERROR: <input>:1:5: Syntax error: extraneous input ':' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | a ? : b
 | ....^`,
  },
  {
    input: "\"abc",
    note: "unterminated string",
    error: `ERROR: <input>:1:1: Syntax error: token recognition error at: '"abc'
 | "abc
 | ^
ERROR: <input>:1:5: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | "abc
 | ....^`,
  },
  {
    input: "'abc\ndef'",
    note: "line break in a single-quoted string",
    error: `ERROR: <input>:1:1: Syntax error: token recognition error at: ''abc\\n'
 | 'abc
 | ^
ERROR: <input>:2:4: Syntax error: token recognition error at: '''
 | def'
 | ...^`,
  },
  {
    input: "'''abc",
    note: "unterminated triple-quoted string",
    error: `ERROR: <input>:1:3: Syntax error: token recognition error at: ''abc'
 | '''abc
 | ..^`,
  },
  {
    input: "r'abc",
    note: "unterminated raw string",
    error: `ERROR: <input>:1:2: Syntax error: token recognition error at: ''abc'
 | r'abc
 | .^`,
  },
  {
    input: "\"\\q\"",
    note: "unknown escape",
    error: `ERROR: <input>:1:1: Syntax error: token recognition error at: '"\\q'
 | "\\q"
 | ^
ERROR: <input>:1:4: Syntax error: token recognition error at: '"'
 | "\\q"
 | ...^
ERROR: <input>:1:5: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | "\\q"
 | ....^`,
  },
  {
    input: "\"\\x4\"",
    note: "short hex escape",
    error: `ERROR: <input>:1:1: Syntax error: token recognition error at: '"\\x4"'
 | "\\x4"
 | ^
ERROR: <input>:1:6: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | "\\x4"
 | .....^`,
  },
  {
    input: "\"\\u12\"",
    note: "short \\u escape",
    error: `ERROR: <input>:1:1: Syntax error: token recognition error at: '"\\u12"'
 | "\\u12"
 | ^
ERROR: <input>:1:7: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | "\\u12"
 | ......^`,
  },
  {
    input: "\"\\400\"",
    note: "octal escape out of range",
    error: `ERROR: <input>:1:1: Syntax error: token recognition error at: '"\\4'
 | "\\400"
 | ^
ERROR: <input>:1:6: Syntax error: token recognition error at: '"'
 | "\\400"
 | .....^`,
  },
  {
    input: "'\\'",
    note: "escaped closing quote",
    error: `ERROR: <input>:1:1: Syntax error: token recognition error at: ''\\''
 | '\\'
 | ^
ERROR: <input>:1:4: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | '\\'
 | ...^`,
  },
  {
    input: "b\"\\xZZ\"",
    note: "bad hex escape in bytes",
    error: `ERROR: <input>:1:2: Syntax error: token recognition error at: '"\\xZ'
 | b"\\xZZ"
 | .^
ERROR: <input>:1:6: Syntax error: extraneous input 'Z' expecting <EOF>
 | b"\\xZZ"
 | .....^
ERROR: <input>:1:7: Syntax error: token recognition error at: '"'
 | b"\\xZZ"
 | ......^`,
  },
  {
    input: "\"\\a\\b\\f\\n\\r\\t\\v\\\\\\'\\\"\\`\\? Illegal \\>\"",
    note: "legal escapes then an illegal one",
    error: `ERROR: <input>:1:1: Syntax error: token recognition error at: '"\\a\\b\\f\\n\\r\\t\\v\\\\\\'\\"\\\`\\? Illegal \\>'
 | "\\a\\b\\f\\n\\r\\t\\v\\\\\\'\\"\\\`\\? Illegal \\>"
 | ^
ERROR: <input>:1:37: Syntax error: token recognition error at: '"'
 | "\\a\\b\\f\\n\\r\\t\\v\\\\\\'\\"\\\`\\? Illegal \\>"
 | ....................................^
ERROR: <input>:1:38: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | "\\a\\b\\f\\n\\r\\t\\v\\\\\\'\\"\\\`\\? Illegal \\>"
 | .....................................^`,
  },
  {
    input: "'\\udead'",
    note: "surrogate code point escape",
    error: `ERROR: <input>:1:1: invalid unicode code point
 | '\\udead'
 | ^`,
  },
  {
    input: "'\\U00110000'",
    note: "code point beyond U+10FFFF",
    error: `ERROR: <input>:1:1: invalid unicode code point
 | '\\U00110000'
 | ^`,
  },
  {
    input: "b'\\U00000041'",
    note: "\\U in bytes",
    error: `ERROR: <input>:1:1: unable to unescape string
 | b'\\U00000041'
 | ^`,
  },
  {
    input: "'\ud800'",
    note: "unpaired surrogate inside a string",
    error: `ERROR: <input>:1:2: Syntax error: invalid character U+D800 (unpaired surrogate)
 | '\ud800'
 | .＾`,
  },
  {
    input: "\udc00",
    note: "unpaired surrogate",
    error: `ERROR: <input>:1:1: Syntax error: invalid character U+DC00 (unpaired surrogate)
 | \udc00
 | ＾
ERROR: <input>:1:2: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | \udc00
 | ．^`,
  },
  {
    input: "9223372036854775808",
    note: "int too large",
    error: `ERROR: <input>:1:1: invalid int literal
 | 9223372036854775808
 | ^`,
  },
  {
    input: "-9223372036854775809",
    note: "int too small",
    error: `ERROR: <input>:1:1: invalid int literal
 | -9223372036854775809
 | ^`,
  },
  {
    input: "0x8000000000000000",
    note: "hex int too large",
    error: `ERROR: <input>:1:1: invalid int literal
 | 0x8000000000000000
 | ^`,
  },
  {
    input: "18446744073709551616u",
    note: "uint too large",
    error: `ERROR: <input>:1:1: invalid uint literal
 | 18446744073709551616u
 | ^`,
  },
  {
    input: "1e309",
    note: "double too large",
    error: `ERROR: <input>:1:1: invalid double literal
 | 1e309
 | ^`,
  },
  {
    input: "-1e309",
    note: "negative double too large",
    error: `ERROR: <input>:1:1: invalid double literal
 | -1e309
 | ^`,
  },
  {
    input: "0x",
    note: "hex prefix without digits",
    error: `ERROR: <input>:1:2: Syntax error: extraneous input 'x' expecting <EOF>
 | 0x
 | .^`,
  },
  {
    input: "as",
    note: "reserved identifier",
    error: `ERROR: <input>:1:1: reserved identifier: as
 | as
 | ^`,
  },
  {
    input: "if(x)",
    note: "reserved function name",
    error: `ERROR: <input>:1:1: reserved identifier: if
 | if(x)
 | ^`,
  },
  {
    input: ".while",
    note: "reserved identifier from the root scope",
    error: `ERROR: <input>:1:1: reserved identifier: while
 | .while
 | ^`,
  },
  {
    input: "a + var",
    note: "reserved identifier as an operand",
    error: `ERROR: <input>:1:5: reserved identifier: var
 | a + var
 | ....^`,
  },
  {
    input: "in",
    note: "keyword as an expression",
    error: `ERROR: <input>:1:1: Syntax error: mismatched input 'in' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | in
 | ^
ERROR: <input>:1:3: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | in
 | ..^`,
  },
  {
    input: "has(a)",
    note: "has() of an identifier",
    error: `ERROR: <input>:1:5: invalid argument to has() macro
 | has(a)
 | ....^`,
  },
  {
    input: "has(a[0])",
    note: "has() of an index",
    error: `ERROR: <input>:1:6: invalid argument to has() macro
 | has(a[0])
 | .....^`,
  },
  {
    input: "a.all(1, true)",
    note: "quantifier variable is not a name",
    error: `ERROR: <input>:1:7: argument must be a simple name
 | a.all(1, true)
 | ......^`,
  },
  {
    input: "a.exists(x.y, true)",
    note: "quantifier variable is a selection",
    error: `ERROR: <input>:1:11: argument must be a simple name
 | a.exists(x.y, true)
 | ..........^`,
  },
  {
    input: "a.map(a.b, 1)",
    note: "map variable is not an identifier",
    error: `ERROR: <input>:1:8: argument is not an identifier
 | a.map(a.b, 1)
 | .......^`,
  },
  {
    input: "a.filter(1, true)",
    note: "filter variable is not an identifier",
    error: `ERROR: <input>:1:10: argument is not an identifier
 | a.filter(1, true)
 | .........^`,
  },
  {
    input: "a.exists(__result__, true)",
    note: "iteration variable named like the accumulator",
    error: `ERROR: <input>:1:10: iteration variable overwrites accumulator variable
 | a.exists(__result__, true)
 | .........^`,
  },
  {
    input: "a.map(__result__, 1)",
    note: "map variable named like the accumulator",
    error: `ERROR: <input>:1:7: iteration variable overwrites accumulator variable
 | a.map(__result__, 1)
 | ......^`,
  },
  {
    input: "a.?b",
    note: "optional selection without the option",
    error: `ERROR: <input>:1:2: unsupported syntax '.?'
 | a.?b
 | .^`,
  },
  {
    input: "a[?b]",
    note: "optional index without the option",
    error: `ERROR: <input>:1:2: unsupported syntax '[?'
 | a[?b]
 | .^`,
  },
  {
    input: "[?a]",
    note: "optional element without the option",
    error: `ERROR: <input>:1:2: unsupported syntax '?'
 | [?a]
 | .^`,
  },
  {
    input: "{?a: b}",
    note: "optional entry without the option",
    error: `ERROR: <input>:1:2: unsupported syntax '?'
 | {?a: b}
 | .^`,
  },
  {
    input: "Msg{?a: b}",
    note: "optional field without the option",
    error: `ERROR: <input>:1:5: unsupported syntax '?'
 | Msg{?a: b}
 | ....^`,
  },
  {
    input: "a.`b`",
    note: "backquoted field with backquotes disabled",
    options: {enableBackquotedNames: false},
    error: `ERROR: <input>:1:3: unsupported syntax: '\`'
 | a.\`b\`
 | ..^`,
  },
  {
    input: "Msg{`b`: 1}",
    note: "backquoted message field with backquotes disabled",
    options: {enableBackquotedNames: false},
    error: `ERROR: <input>:1:5: unsupported syntax: '\`'
 | Msg{\`b\`: 1}
 | ....^`,
  },
  {
    input: "`a`",
    note: "backquoted name as an identifier",
    error: `ERROR: <input>:1:1: Syntax error: mismatched input '\`a\`' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | \`a\`
 | ^`,
  },
  {
    input: "!-a",
    note: "! followed by - on a non-literal",
    error: `ERROR: <input>:1:2: Syntax error: mismatched input '-' expecting {'[', '{', '(', '.', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | !-a
 | .^`,
  },
  {
    input: "-!a",
    note: "- followed by !",
    error: `ERROR: <input>:1:2: Syntax error: mismatched input '!' expecting {'[', '{', '(', '.', '-', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | -!a
 | .^`,
  },
  {
    input: "a b",
    note: "extra operand (ANTLR's single-token deletion wording)",
    error: `ERROR: <input>:1:3: Syntax error: extraneous input 'b' expecting <EOF>
 | a b
 | ..^`,
  },
  {
    input: "a b c",
    note: "extra operands",
    error: `ERROR: <input>:1:3: Syntax error: mismatched input 'b' expecting <EOF>
 | a b c
 | ..^`,
  },
  {
    input: ")",
    note: "closing parenthesis alone",
    error: `ERROR: <input>:1:1: Syntax error: mismatched input ')' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | )
 | ^`,
  },
  {
    input: "a[]",
    note: "empty index",
    error: `ERROR: <input>:1:3: Syntax error: mismatched input ']' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | a[]
 | ..^`,
  },
  {
    input: "1 2",
    note: "two literals",
    error: `ERROR: <input>:1:3: Syntax error: extraneous input '2' expecting <EOF>
 | 1 2
 | ..^`,
  },
  {
    input: "f(a)(b)",
    note: "calling a call",
    error: `ERROR: <input>:1:5: Syntax error: mismatched input '(' expecting <EOF>
 | f(a)(b)
 | ....^`,
  },
  {
    input: "a.b.c{d: 1}.e{}",
    note: "message construction on a selection",
    error: `ERROR: <input>:1:13: Syntax error: no viable alternative at input '.e'
 | a.b.c{d: 1}.e{}
 | ............^`,
  },
  {
    input: "x{.",
    note: "dot in a message construction",
    error: `ERROR: <input>:1:3: Syntax error: mismatched input '.' expecting {'}', ',', '?', IDENTIFIER, ESC_IDENTIFIER}
 | x{.
 | ..^
ERROR: <input>:1:4: Syntax error: no viable alternative at input '.'
 | x{.
 | ...^`,
  },
  {
    input: "--",
    note: "operators without an operand",
    error: `ERROR: <input>:1:3: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | --
 | ..^`,
  },
  {
    input: "?",
    note: "question mark alone",
    error: `ERROR: <input>:1:1: Syntax error: mismatched input '?' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | ?
 | ^
ERROR: <input>:1:2: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | ?
 | .^`,
  },
  {
    input: "a +\n* b",
    note: "error on the second line",
    error: `ERROR: <input>:2:1: Syntax error: extraneous input '*' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | * b
 | ^`,
  },
  {
    input: "1 + 2\n3 +",
    note: "extra tokens on the second line",
    error: `ERROR: <input>:2:1: Syntax error: mismatched input '3' expecting <EOF>
 | 3 +
 | ^`,
  },
  {
    input: "\ta | b",
    note: "tabs are printed as spaces",
    error: `ERROR: <input>:1:4: Syntax error: token recognition error at: '| '
 |  a | b
 | ...^
ERROR: <input>:1:6: Syntax error: extraneous input 'b' expecting <EOF>
 |  a | b
 | .....^`,
  },
  {
    input: "abcd",
    note: "source longer than maxCodePoints",
    options: {maxCodePoints: 3},
    error: `ERROR: <input>:-1:0: expression code point size exceeds limit: size: 4, limit 3`,
  },
  {
    input: "((((1))))",
    note: "brackets nested beyond maxDepth",
    options: {maxDepth: 3},
    error: `ERROR: <input>:-1:0: expression recursion limit exceeded: 3`,
  },
  {
    input: "1 + 2 + 3 + 4",
    note: "operator chain deeper than maxDepth",
    options: {maxDepth: 2},
    error: `ERROR: <input>:-1:0: max recursion depth exceeded`,
  },
  {
    input: "@ @ @ @",
    note: "issues beyond maxIssues are counted",
    options: {maxIssues: 2},
    error: `ERROR: <input>:1:1: Syntax error: token recognition error at: '@'
 | @ @ @ @
 | ^
ERROR: <input>:1:3: Syntax error: token recognition error at: '@'
 | @ @ @ @
 | ..^
3 more errors were truncated`,
  },
];
