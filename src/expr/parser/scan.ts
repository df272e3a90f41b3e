/**
 * A hand-written scanner for the common case of the lexer's work.
 *
 * Chevrotain's lexer makes a regular-expression attempt per token, with its bookkeeping. Filters
 * are mostly identifiers, operators, decimal numbers and plain quoted strings, and those this
 * scanner reads with one pass over the character codes. It produces exactly the tokens
 * Chevrotain's lexer would (same types, images and offsets, and the same object shape, so the
 * parser's property reads see one hidden class) — or gives up on the first thing it does not
 * handle with certainty: escapes other than the one-character ones, triple-quoted, raw and bytes
 * literals, hexadecimal, unsigned and exponent numbers, backquoted names, comments, surrogates
 * (paired or not), and anything that would be a lexical error. Then the caller runs Chevrotain's
 * lexer on the whole input, so the token rules and every lexical error message live in one place
 * (`tokens.ts`); a property test checks that both agree.
 *
 * @module
 */
import { EOF, type IToken, type TokenType } from "chevrotain";
import {
  Colon,
  Comma,
  Dot,
  Equals,
  Exclamation,
  False,
  FloatLiteral,
  Greater,
  GreaterEquals,
  Identifier,
  In,
  IntLiteral,
  LBrace,
  LBracket,
  Less,
  LessEquals,
  LogicalAnd,
  LogicalOr,
  LParen,
  Minus,
  NotEquals,
  Null,
  Percent,
  Plus,
  Question,
  RBrace,
  RBracket,
  RParen,
  Slash,
  Star,
  StringLiteral,
  True,
} from "./tokens.js";

/**
 * The keyword an identifier-shaped word of `length` code units at `start` spells, or
 * `Identifier`. Compared in place: no word is cut out of the source to look it up.
 */
function wordType(source: string, start: number, length: number): TokenType {
  const c = source.charCodeAt(start);
  switch (length) {
    case 2:
      return c === 0x69 /* i */ && source.charCodeAt(start + 1) === 0x6e /* n */ ? In : Identifier;
    case 4:
      if (c === 0x74 /* t */) return source.startsWith("rue", start + 1) ? True : Identifier;
      return c === 0x6e /* n */ && source.startsWith("ull", start + 1) ? Null : Identifier;
    case 5:
      return c === 0x66 /* f */ && source.startsWith("alse", start + 1) ? False : Identifier;
    default:
      return Identifier;
  }
}

/** Single-character operators and brackets, by character code. */
const SINGLE: (TokenType | undefined)[] = [];
for (const [text, type] of [
  ["<", Less],
  [">", Greater],
  ["[", LBracket],
  ["]", RBracket],
  ["{", LBrace],
  ["}", RBrace],
  ["(", LParen],
  [")", RParen],
  [".", Dot],
  [",", Comma],
  ["-", Minus],
  ["!", Exclamation],
  ["?", Question],
  [":", Colon],
  ["+", Plus],
  ["*", Star],
  ["/", Slash],
  ["%", Percent],
] as const) {
  SINGLE[text.charCodeAt(0)] = type;
}

/** Two-character operators, by their first character code: the second character and the type. */
const DOUBLE: ({ readonly second: number; readonly type: TokenType } | undefined)[] = [];
for (const [text, type] of [
  ["==", Equals],
  ["!=", NotEquals],
  ["<=", LessEquals],
  [">=", GreaterEquals],
  ["&&", LogicalAnd],
  ["||", LogicalOr],
] as const) {
  DOUBLE[text.charCodeAt(0)] = { second: text.charCodeAt(1), type };
}

/** The characters of CEL's one-character escapes (`\n`, `\'`, …), by character code. */
const SIMPLE_ESCAPE: boolean[] = [];
for (const c of "abfnrtv\"'\\?`") SIMPLE_ESCAPE[c.charCodeAt(0)] = true;

const SLASH = 0x2f;
const DOT = 0x2e;
const QUOTE = 0x27;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Character classes of ASCII: 1 starts an identifier, 2 continues one only (a digit). */
const WORD = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const letter = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
  WORD[c] = letter ? 1 : isDigit(c) ? 2 : 0;
}

function isIdentStart(c: number): boolean {
  return c < 128 && WORD[c] === 1;
}

function isIdentPart(c: number): boolean {
  return c < 128 && WORD[c] !== 0;
}

/** The token object Chevrotain's lexer makes with `positionTracking: "onlyOffset"`, property for property. */
function token(image: string, startOffset: number, tokenType: TokenType): IToken {
  return { image, startOffset, tokenTypeIdx: tokenType.tokenTypeIdx!, tokenType } as IToken;
}

/**
 * A cursor over the tokens of one source: {@link Scanner.next} reads the next token and leaves its
 * type and range in the fields, so that a parser can read tokens without token objects being
 * made. Both {@link scanTokens} and the fast-path parser (`fast.ts`) read the text through it.
 */
export class Scanner {
  /** The text being read. */
  source = "";
  /** Type of the token read last: {@link EOF} at the end of the input. */
  type: TokenType = EOF;
  /** Offset of the first code unit of the token read last. */
  start = 0;
  /** Offset just after the token read last. */
  end = 0;
  /** Whether the string literal read last holds an escape. */
  escaped = false;

  /** Starts reading `source` from its beginning; the first {@link Scanner.next} reads its first token. */
  reset(source: string): void {
    this.source = source;
    this.type = EOF;
    this.start = 0;
    this.end = 0;
  }

  /**
   * Reads the next token into `type`, `start` and `end`, and returns its type; returns
   * `undefined` (and leaves the fields as they were) on text this scanner leaves to the lexer.
   */
  next(): TokenType | undefined {
    const source = this.source;
    const n = source.length;
    let i = this.end;
    let c = 0;
    while (i < n) {
      c = source.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c) break;
      i++;
    }
    const start = i;
    let type: TokenType | undefined;
    if (i >= n) {
      type = EOF;
    } else if (isIdentStart(c)) {
      i++;
      while (i < n && isIdentPart(source.charCodeAt(i))) i++;
      const next = source.charCodeAt(i);
      // `b'…'`, `r"…"`, `br'…'`: literals with a letter prefix.
      if (next === QUOTE || next === DQUOTE) return undefined;
      type = wordType(source, start, i - start);
    } else if (isDigit(c)) {
      i++;
      while (i < n && isDigit(source.charCodeAt(i))) i++;
      let next = source.charCodeAt(i);
      type = IntLiteral;
      if (next === DOT && isDigit(source.charCodeAt(i + 1))) {
        i += 2;
        while (i < n && isDigit(source.charCodeAt(i))) i++;
        next = source.charCodeAt(i);
        type = FloatLiteral;
      }
      // Exponents, `0x…`, `…u`, digits running into a name, a float running into a dot.
      if (isIdentStart(next) || (next === DOT && type === FloatLiteral)) return undefined;
    } else if (c === QUOTE || c === DQUOTE) {
      // Triple-quoted strings, and `''` followed by a quote, are left to the lexer.
      if (source.charCodeAt(i + 1) === c && source.charCodeAt(i + 2) === c) return undefined;
      this.escaped = false;
      i++;
      for (;;) {
        if (i >= n) return undefined;
        const d = source.charCodeAt(i);
        if (d === c) break;
        if (d === BACKSLASH) {
          // The one-character escapes end in the same place under both string rules (CEL's and
          // Inngest's lifted one); octal, hexadecimal and Unicode escapes are left to the lexer.
          if (!SIMPLE_ESCAPE[source.charCodeAt(i + 1)]) return undefined;
          this.escaped = true;
          i += 2;
          continue;
        }
        // Surrogates too: the caller then looks for lone ones (which are issues) in the text.
        if (d === 0x0a || d === 0x0d || (d >= 0xd800 && d <= 0xdfff)) return undefined;
        i++;
      }
      i++;
      type = StringLiteral;
    } else {
      const second = source.charCodeAt(i + 1);
      const double = DOUBLE[c];
      if (double !== undefined && second === double.second) {
        i += 2;
        type = double.type;
      } else {
        // `.5` (a float), `//` (a comment).
        if ((c === DOT && isDigit(second)) || (c === SLASH && second === SLASH)) return undefined;
        type = SINGLE[c];
        if (type === undefined) return undefined;
        i++;
      }
    }
    this.type = type;
    this.start = start;
    this.end = i;
    return type;
  }
}

const scanner = new Scanner();

/**
 * The tokens of `source` as Chevrotain's lexer (`tokens.ts`) would produce them, or `undefined`
 * when the source holds something this scanner leaves to that lexer. `liftedStrings` needs no
 * handling: for the strings scanned here (one line, only one-character escapes) both string rules
 * make the same token.
 */
export function scanTokens(source: string): IToken[] | undefined {
  const tokens: IToken[] = [];
  scanner.reset(source);
  for (;;) {
    const type = scanner.next();
    if (type === undefined) return undefined;
    if (type === EOF) return tokens;
    tokens.push(token(source.slice(scanner.start, scanner.end), scanner.start, type));
  }
}
