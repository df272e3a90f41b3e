/**
 * Syntax error texts in cel-go's (ANTLR's) wording: `mismatched input 'x' expecting {…}`,
 * `extraneous input 'x' expecting …` and `token recognition error at: '…'`, built from
 * Chevrotain's errors.
 *
 * @module
 */
import {
  EOF,
  tokenLabel,
  type IParserErrorMessageProvider,
  type IToken,
  type TokenType,
} from "chevrotain";
import {
  antlrVocabularyOrder,
  Exclamation,
  FloatLiteral,
  Identifier,
  IntLiteral,
  LBrace,
  LBracket,
  LParen,
  Minus,
  Dot,
  True,
  False,
  Null,
  UintLiteral,
  StringLiteral,
  BytesLiteral,
  RBrace,
  RBracket,
  RParen,
  Comma,
  Question,
  EscapedIdentifier,
} from "./tokens.js";
import { ParseAborted, type AstBuilder } from "./builder.js";

/** ANTLR shows a token's text quoted, with line breaks and tabs escaped, and EOF as `'<EOF>'`. */
export function displayToken(token: IToken): string {
  if (token.tokenType === EOF) return "'<EOF>'";
  return `'${escapeDisplay(token.image)}'`;
}

/** Text with line breaks and tabs escaped, as ANTLR shows it in messages. */
export function escapeDisplay(text: string): string {
  return text.replaceAll("\n", "\\n").replaceAll("\r", "\\r").replaceAll("\t", "\\t");
}

function displayType(type: TokenType): string {
  return type === EOF ? "<EOF>" : tokenLabel(type);
}

const vocabularyRank = new Map<TokenType, number>(antlrVocabularyOrder.map((t, i) => [t, i]));

/** One expected token as itself, several as `{a, b}` in cel-go's vocabulary order. */
export function displayExpected(types: Iterable<TokenType>): string {
  const unique = [...new Set(types)].sort((a, b) => (vocabularyRank.get(a) ?? -1) - (vocabularyRank.get(b) ?? -1));
  if (unique.length === 1) return displayType(unique[0]!);
  return `{${unique.map(displayType).join(", ")}}`;
}

/** The tokens that can start an expression, as cel-go lists them when one is missing. */
export const EXPRESSION_START: readonly TokenType[] = [
  LBracket,
  LBrace,
  LParen,
  Dot,
  Minus,
  Exclamation,
  True,
  False,
  Null,
  FloatLiteral,
  IntLiteral,
  UintLiteral,
  StringLiteral,
  BytesLiteral,
  Identifier,
];

/** The little the message provider needs from the parser: the token after the offending one. */
export interface LookaheadSource {
  lookahead(howMuch: number): IToken;
}

/**
 * Chevrotain calls this while it detects errors. `extraneous` vs `mismatched` follows ANTLR: a
 * token is extraneous when deleting it would let parsing continue with the expected token.
 */
export class CelErrorMessages implements IParserErrorMessageProvider {
  parser: LookaheadSource | undefined;
  #builder: AstBuilder | undefined;
  #limit = 100;
  #built = 0;

  /** Starts counting syntax errors for a new parse; past `limit` issues in total, parsing stops. */
  reset(builder: AstBuilder, limit: number): void {
    this.#builder = builder;
    this.#limit = limit;
    this.#built = 0;
  }

  /** Syntax errors Chevrotain reported since the last reset. */
  get reported(): number {
    return this.#built;
  }

  #count(): void {
    this.#built++;
    const builder = this.#builder;
    if (builder !== undefined && builder.issues.length + this.#built > this.#limit) {
      builder.truncated++;
      throw new ParseAborted("too many syntax errors");
    }
  }

  buildMismatchTokenMessage(options: { expected: TokenType; actual: IToken; previous: IToken; ruleName: string }): string {
    this.#count();
    const { expected, actual, previous, ruleName } = options;
    if (expected === Identifier && previous.tokenType === Dot) return afterDot(actual);
    const expectedSet = expectedAfterOpener(expected, previous, ruleName) ?? [expected];
    const next = this.parser?.lookahead(2);
    const kind = next !== undefined && expectedSet.includes(next.tokenType) ? "extraneous" : "mismatched";
    return `Syntax error: ${kind} input ${displayToken(actual)} expecting ${displayExpected(expectedSet)}`;
  }

  buildNotAllInputParsedMessage(options: { firstRedundant: IToken; ruleName: string }): string {
    this.#count();
    return `Syntax error: mismatched input ${displayToken(options.firstRedundant)} expecting <EOF>`;
  }

  buildNoViableAltMessage(options: {
    expectedPathsPerAlt: TokenType[][][];
    actual: IToken[];
    previous: IToken;
    customUserDescription?: string;
    ruleName: string;
  }): string {
    this.#count();
    const actual = options.actual[0]!;
    if (options.previous.tokenType === Dot && (options.ruleName === "operand" || options.ruleName === "rootedName")) {
      return afterDot(actual);
    }
    // A missing operand: list everything an expression may start with, as cel-go does.
    const expected =
      options.ruleName === "operand"
        ? EXPRESSION_START
        : options.expectedPathsPerAlt.flatMap((paths) => paths.map((path) => path[0]!).filter((t) => t !== undefined));
    const next = options.actual[1];
    const kind = next !== undefined && expected.includes(next.tokenType) ? "extraneous" : "mismatched";
    return `Syntax error: ${kind} input ${displayToken(actual)} expecting ${displayExpected(expected)}`;
  }

  buildEarlyExitMessage(options: {
    expectedIterationPaths: TokenType[][];
    actual: IToken[];
    previous: IToken;
    customUserDescription?: string;
    ruleName: string;
  }): string {
    this.#count();
    const expected = options.expectedIterationPaths.map((path) => path[0]!).filter((t) => t !== undefined);
    return `Syntax error: mismatched input ${displayToken(options.actual[0]!)} expecting ${displayExpected(expected)}`;
  }
}

/** cel-go reports a bad token after a dot as ANTLR does, reworded for keywords. */
function afterDot(actual: IToken): string {
  if (actual.tokenType === True || actual.tokenType === False || actual.tokenType === Null) {
    return `Syntax error: mismatched input '${actual.image}' expecting IDENTIFIER`;
  }
  const text = actual.tokenType === EOF ? "" : actual.image;
  return `Syntax error: no viable alternative at input '.${escapeDisplay(text)}'`;
}

/**
 * Right after an opening bracket cel-go lists everything the bracket may contain, not only the
 * closing bracket Chevrotain was about to consume.
 */
function expectedAfterOpener(expected: TokenType, previous: IToken, ruleName: string): readonly TokenType[] | undefined {
  const opener = previous.tokenType;
  if (expected === RBrace && opener === LBrace) {
    return ruleName === "mapLiteral"
      ? [...EXPRESSION_START, RBrace, Comma, Question]
      : [RBrace, Comma, Question, Identifier, EscapedIdentifier];
  }
  if (expected === RBracket && opener === LBracket && ruleName === "listLiteral") {
    return [...EXPRESSION_START, RBracket, Comma, Question];
  }
  if (expected === RParen && opener === LParen) return [...EXPRESSION_START, RParen];
  return undefined;
}

/** Where an unrecognisable stretch of input ends, as ANTLR's lexer decides it. */
export interface LexicalError {
  /** Exclusive end of the text shown in the message (the character that broke the token included). */
  readonly end: number;
  /** Where lexing resumes: just after the breaking character. */
  readonly resume: number;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function isOctal(c: number): boolean {
  return c >= 0x30 && c <= 0x37;
}

function isEscapedIdentifierChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x5f ||
    c === 0x2e ||
    c === 0x2d ||
    c === 0x2f ||
    c === 0x20
  );
}

/**
 * Emulates ANTLR's lexer on input no token matches at `offset`: it consumes characters as long
 * as some token could still match, and the error text runs up to and including the character
 * that ruled the last candidate out (`"\xFh` for a bad escape, `| ` for a lone bar). Lexing then
 * resumes after that character.
 */
export function scanLexicalError(text: string, offset: number): LexicalError {
  const at = (i: number) => (i < text.length ? text.charCodeAt(i) : -1);
  const failAt = (i: number): LexicalError =>
    i >= text.length ? { end: text.length, resume: text.length } : { end: i + 1, resume: i + 1 };
  const c = at(offset);
  switch (c) {
    case 0x22: // "
    case 0x27: {
      // '
      let i = offset + 1;
      for (;;) {
        const d = at(i);
        if (d === -1 || d === 0x0a || d === 0x0d) return failAt(i);
        if (d === c) return { end: i + 1, resume: i + 1 };
        if (d !== 0x5c) {
          i++;
          continue;
        }
        const e = at(i + 1);
        if (e === -1) return failAt(i + 1);
        if ("abfnrtv\"'\\?`".includes(String.fromCharCode(e))) {
          i += 2;
        } else if (e >= 0x30 && e <= 0x33) {
          if (!isOctal(at(i + 2))) return failAt(i + 2);
          if (!isOctal(at(i + 3))) return failAt(i + 3);
          i += 4;
        } else if (e === 0x78 || e === 0x58 || e === 0x75 || e === 0x55) {
          const digits = e === 0x75 ? 4 : e === 0x55 ? 8 : 2;
          for (let k = 0; k < digits; k++) if (!isHex(at(i + 2 + k))) return failAt(i + 2 + k);
          i += 2 + digits;
        } else {
          return failAt(i + 1);
        }
      }
    }
    case 0x60: {
      // `
      let i = offset + 1;
      while (isEscapedIdentifierChar(at(i))) i++;
      return failAt(i);
    }
    case 0x7c: // | of ||
    case 0x26: // & of &&
    case 0x3d: // = of ==
      return failAt(offset + 1);
    default: {
      const width = c >= 0xd800 && c <= 0xdbff && at(offset + 1) >= 0xdc00 && at(offset + 1) <= 0xdfff ? 2 : 1;
      return { end: offset + width, resume: offset + width };
    }
  }
}
