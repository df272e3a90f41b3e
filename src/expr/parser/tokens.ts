/**
 * CEL token types and the lexer, following the lexer rules of cel-spec's `CEL.g4`.
 *
 * Every pattern is a plain regular expression without the `u` flag so that Chevrotain can compute
 * the first characters of each token and dispatch on the first character of the input
 * (`ensureOptimizations` makes construction fail if that stops being possible). Token labels are
 * the display names ANTLR uses in cel-go's messages (`'=='`, `NUM_INT`, `IDENTIFIER`), so error
 * texts and the railroad diagrams read like the reference grammar.
 *
 * @module
 */
import { createToken, Lexer, type ILexerConfig, type TokenType } from "chevrotain";

/** `[_a-zA-Z][_a-zA-Z0-9]*`, keywords excluded through `longer_alt`. */
export const Identifier = createToken({ name: "Identifier", label: "IDENTIFIER", pattern: /[a-zA-Z_][a-zA-Z0-9_]*/ });

/**
 * The identifier that starts the type name of a message construction (`a` in `a.b.C{…}`). The
 * lexer never produces it: `parse` retags it before parsing, so that the parser can tell a
 * message construction from a field selection by one token instead of scanning ahead.
 */
export const MessageName = createToken({ name: "MessageName", label: "IDENTIFIER", pattern: Lexer.NA });

function keyword(name: string, word: string): TokenType {
  return createToken({ name, label: `'${word}'`, pattern: new RegExp(word), longer_alt: Identifier });
}

/** The keyword `true`. */
export const True = keyword("True", "true");
/** The keyword `false`. */
export const False = keyword("False", "false");
/** The keyword `null`. */
export const Null = keyword("Null", "null");
/** The keyword `in`. */
export const In = keyword("In", "in");

function punctuation(name: string, text: string): TokenType {
  return createToken({ name, label: `'${text}'`, pattern: text });
}

/** `==` */
export const Equals = punctuation("Equals", "==");
/** `!=` */
export const NotEquals = punctuation("NotEquals", "!=");
/** `<=` */
export const LessEquals = punctuation("LessEquals", "<=");
/** `>=` */
export const GreaterEquals = punctuation("GreaterEquals", ">=");
/** `<` */
export const Less = punctuation("Less", "<");
/** `>` */
export const Greater = punctuation("Greater", ">");
/** `&&` */
export const LogicalAnd = punctuation("LogicalAnd", "&&");
/** `||` */
export const LogicalOr = punctuation("LogicalOr", "||");
/** `[` */
export const LBracket = punctuation("LBracket", "[");
/** `]` */
export const RBracket = punctuation("RBracket", "]");
/** `{` */
export const LBrace = punctuation("LBrace", "{");
/** `}` */
export const RBrace = punctuation("RBrace", "}");
/** `(` */
export const LParen = punctuation("LParen", "(");
/** `)` */
export const RParen = punctuation("RParen", ")");
/** `,` */
export const Comma = punctuation("Comma", ",");
/** `-` */
export const Minus = punctuation("Minus", "-");
/** `!` */
export const Exclamation = punctuation("Exclamation", "!");
/** `?` */
export const Question = punctuation("Question", "?");
/** `:` */
export const Colon = punctuation("Colon", ":");
/** `+` */
export const Plus = punctuation("Plus", "+");
/** `*` */
export const Star = punctuation("Star", "*");
/** `/` */
export const Slash = punctuation("Slash", "/");
/** `%` */
export const Percent = punctuation("Percent", "%");

/** `DIGIT+ '.' DIGIT+ EXPONENT? | DIGIT+ EXPONENT | '.' DIGIT+ EXPONENT?`; must precede `Dot` and `Int`. */
export const FloatLiteral = createToken({
  name: "FloatLiteral",
  label: "NUM_FLOAT",
  pattern: /[0-9]+\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+|\.[0-9]+(?:[eE][+-]?[0-9]+)?/,
});
/** `.` */
export const Dot = punctuation("Dot", ".");
/** `123u`, `0xFFu`: an unsigned integer literal. */
export const UintLiteral = createToken({
  name: "UintLiteral",
  label: "NUM_UINT",
  pattern: /0x[0-9a-fA-F]+[uU]|[0-9]+[uU]/,
});
/** `123`, `0xFF`: an integer literal (a leading minus is an operator). */
export const IntLiteral = createToken({ name: "IntLiteral", label: "NUM_INT", pattern: /0x[0-9a-fA-F]+|[0-9]+/ });

// The escape sequences the grammar accepts; anything else after a backslash is a lexical error
// (reported by `scanLexicalError` with the text ANTLR would show).
const ESCAPE = String.raw`\\(?:[abfnrtv"'\\?` + "`" + String.raw`]|[0-3][0-7][0-7]|[xX][0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})`;
const QUOTED =
  String.raw`(?:[rR](?:"""[\s\S]*?"""|'''[\s\S]*?'''|"[^"\n\r]*"|'[^'\n\r]*')` +
  `|"""(?:${ESCAPE}|[^\\\\])*?"""` +
  `|'''(?:${ESCAPE}|[^\\\\])*?'''` +
  String.raw`|"(?:${ESCAPE}|[^\\"\n\r])*"` +
  String.raw`|'(?:${ESCAPE}|[^\\'\n\r])*')`;

const QUOTED_AT = new RegExp(QUOTED, "y");
// Inngest's literal lifting: a single- or double-quoted string whose backslashes only protect the
// next character (nothing is decoded). Triple-quoted and raw strings keep CEL's rules.
const LIFTED_AT = /"(?:\\[\s\S]|[^\\"\n\r])*"|'(?:\\[\s\S]|[^\\'\n\r])*'/y;

let liftedStrings = false;

/**
 * Switches string lexing to Inngest's lifted-literal rules (see `ParseOptions.liftedStrings`) for
 * the duration of one synchronous tokenize call.
 */
export function setLiftedStrings(on: boolean): void {
  liftedStrings = on;
}

function matchString(text: string, offset: number): RegExpExecArray | null {
  if (liftedStrings) {
    const q = text.charCodeAt(offset);
    const triple = text.charCodeAt(offset + 1) === q && text.charCodeAt(offset + 2) === q;
    if ((q === 0x22 || q === 0x27) && !triple) {
      LIFTED_AT.lastIndex = offset;
      const m = LIFTED_AT.exec(text);
      if (m !== null) return m;
    }
  }
  QUOTED_AT.lastIndex = offset;
  return QUOTED_AT.exec(text);
}

/** Quoted, triple-quoted and raw strings. */
export const StringLiteral = createToken({
  name: "StringLiteral",
  label: "STRING",
  pattern: { exec: matchString },
  // Keeps the lexer's first-character dispatch for a custom pattern.
  start_chars_hint: ['"', "'", "r", "R"],
  line_breaks: true,
});
/** `b` or `B` followed by any string form. */
export const BytesLiteral = createToken({ name: "BytesLiteral", label: "BYTES", pattern: new RegExp(`[bB]${QUOTED}`) });
/** A backquoted field name such as `` `content-type` ``. */
export const EscapedIdentifier = createToken({
  name: "EscapedIdentifier",
  label: "ESC_IDENTIFIER",
  pattern: /`[a-zA-Z0-9_.\- /]+`/,
});

/** Spaces, tabs and line breaks, skipped. */
export const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /[ \t\r\n\f]+/, group: Lexer.SKIPPED });
/** A `//` comment to the end of the line, skipped. */
export const Comment = createToken({ name: "Comment", pattern: /\/\/[^\n]*/, group: Lexer.SKIPPED });

/**
 * Lexer order matters: Chevrotain takes the first pattern that matches, so longer operators come
 * before their prefixes, literals with a letter prefix (`b"…"`, `r"…"`) before identifiers, and
 * floats before ints and the dot.
 */
export const allTokens: TokenType[] = [
  WhiteSpace,
  Comment,
  StringLiteral,
  BytesLiteral,
  FloatLiteral,
  UintLiteral,
  IntLiteral,
  EscapedIdentifier,
  True,
  False,
  Null,
  In,
  Identifier,
  Equals,
  NotEquals,
  LessEquals,
  GreaterEquals,
  LogicalAnd,
  LogicalOr,
  Less,
  Greater,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  LParen,
  RParen,
  Dot,
  Comma,
  Minus,
  Exclamation,
  Question,
  Colon,
  Plus,
  Star,
  Slash,
  Percent,
];

/**
 * Token types in the order of cel-go's ANTLR vocabulary, used to print "expecting {…}" sets in
 * the same order as cel-go does.
 */
export const antlrVocabularyOrder: readonly TokenType[] = [
  Equals,
  NotEquals,
  In,
  Less,
  LessEquals,
  GreaterEquals,
  Greater,
  LogicalAnd,
  LogicalOr,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  LParen,
  RParen,
  Dot,
  Comma,
  Minus,
  Exclamation,
  Question,
  Colon,
  Plus,
  Star,
  Slash,
  Percent,
  True,
  False,
  Null,
  FloatLiteral,
  IntLiteral,
  UintLiteral,
  StringLiteral,
  BytesLiteral,
  Identifier,
  EscapedIdentifier,
];

/** Every token type the parser may see: the lexer's plus the retagged {@link MessageName}. */
export const parserTokens: TokenType[] = [...allTokens, MessageName];

/**
 * The lexer's configuration. Only offsets are tracked (lines and columns come from `Source` on
 * demand), and `ensureOptimizations` makes construction fail if Chevrotain cannot dispatch on the
 * first character of every token, for instance after a pattern gains the `u` flag.
 */
export const lexerConfig = {
  positionTracking: "onlyOffset",
  ensureOptimizations: true,
} as const satisfies ILexerConfig;

/** Builds the lexer. */
export function createCelLexer(): Lexer {
  return new Lexer(allTokens, lexerConfig);
}
