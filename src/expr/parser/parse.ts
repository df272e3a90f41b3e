/**
 * The public entry point of the front end: source text → tokens → macro-expanded AST.
 *
 * @module
 */
import type { IToken, Lexer } from "chevrotain";
import { Source, type CallExpr, type ParsedAst } from "../ast.js";
import { CompileError, makeIssue, type Issue } from "../errors.js";
import { ParseAborted } from "./builder.js";
import { CelGrammar } from "./grammar.js";
import { escapeDisplay, scanLexicalError } from "./messages.js";
import { createCelLexer, LBrace, LBracket, LParen, RBrace, RBracket, RParen } from "./tokens.js";

/** Options of {@link parse}. */
export interface ParseOptions {
  /** Longest accepted source, in Unicode code points. Default 100,000 (as cel-go). */
  readonly maxCodePoints?: number;
  /**
   * Deepest accepted nesting. Two measures are limited: brackets (`(`, `[`, `{`) nested inside
   * each other, checked before parsing (cel-go's "expression recursion limit exceeded"), and
   * the depth of the resulting tree counting every operator, call, selection, index, literal
   * aggregate and macro expansion (cel-go's "max recursion depth exceeded"), so a chain such as
   * `1 + 2 + … + 300` is rejected while `a || b || …` (balanced) is not. Default 250.
   */
  readonly maxDepth?: number;
  /** Most issues reported; further ones are counted as truncated. Default 100. */
  readonly maxIssues?: number;
  /**
   * Accept cel-go's optional syntax: `a.?b`, `a[?i]`, `[?e]`, `{?k: v}`, `Msg{?f: v}`. When
   * false they are rejected with cel-go's `unsupported syntax '.?'` etc. Default false.
   */
  readonly enableOptionalSyntax?: boolean;
  /**
   * Accept backquoted field names in selections and message fields (``a.`b-c` ``,
   * ``Msg{`in`: 1}``), as the current CEL specification does. When false they are rejected
   * with cel-go's ``unsupported syntax: '`'``. Default true.
   */
  readonly enableBackquotedNames?: boolean;
}

interface ResolvedOptions {
  readonly maxCodePoints: number;
  readonly maxDepth: number;
  readonly maxIssues: number;
  readonly enableOptionalSyntax: boolean;
  readonly enableBackquotedNames: boolean;
}

const DEFAULTS: ResolvedOptions = {
  maxCodePoints: 100_000,
  maxDepth: 250,
  maxIssues: 100,
  enableOptionalSyntax: false,
  enableBackquotedNames: true,
};

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`ParseOptions.${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function resolve(options: ParseOptions | undefined): ResolvedOptions {
  if (options === undefined) return DEFAULTS;
  return {
    maxCodePoints: positiveInteger("maxCodePoints", options.maxCodePoints, DEFAULTS.maxCodePoints),
    maxDepth: positiveInteger("maxDepth", options.maxDepth, DEFAULTS.maxDepth),
    maxIssues: positiveInteger("maxIssues", options.maxIssues, DEFAULTS.maxIssues),
    enableOptionalSyntax: options.enableOptionalSyntax ?? DEFAULTS.enableOptionalSyntax,
    enableBackquotedNames: options.enableBackquotedNames ?? DEFAULTS.enableBackquotedNames,
  };
}

let lexer: Lexer | undefined;
let grammar: CelGrammar | undefined;

/** The single lexer and parser, built on first use (building them takes milliseconds). */
function instances(): { lexer: Lexer; grammar: CelGrammar } {
  lexer ??= createCelLexer();
  grammar ??= new CelGrammar();
  return { lexer, grammar };
}

const NO_MACRO_CALLS: ReadonlyMap<number, CallExpr> = new Map();
const SURROGATE = /[\ud800-\udfff]/;

/**
 * Parses a CEL expression into a macro-expanded AST with node ids, a span per id and the original
 * macro calls.
 *
 * @throws {@link CompileError} listing every issue found (syntax errors, invalid literals,
 * reserved identifiers, malformed macro calls, exceeded limits). No other exception escapes for
 * any string input; a non-string `source` or an invalid option is a `TypeError`/`RangeError`.
 */
export function parse(source: string, options?: ParseOptions): ParsedAst {
  if (typeof source !== "string") throw new TypeError(`parse expects a string, got ${typeof source}`);
  const opts = resolve(options);
  const src = new Source(source);
  const { lexer, grammar } = instances();
  const b = grammar.b;
  b.reset(src, { maxDepth: opts.maxDepth, maxIssues: opts.maxIssues });

  if (source.length > opts.maxCodePoints) {
    const size = countCodePoints(source);
    if (size > opts.maxCodePoints) {
      const message = `expression code point size exceeds limit: size: ${size}, limit ${opts.maxCodePoints}`;
      throw new CompileError([makeIssue(src, "limit_exceeded", message, { start: -1, end: -1 })], src);
    }
  }

  let expr;
  try {
    if (SURROGATE.test(source)) reportLoneSurrogates(grammar, source);
    const lexed = lexer.tokenize(source);
    const tokens = lexed.errors.length === 0 ? lexed.tokens : recoverLexicalErrors(grammar, source, lexed);
    const nesting = bracketNesting(tokens);
    if (nesting >= opts.maxDepth) {
      b.report("limit_exceeded", `expression recursion limit exceeded: ${opts.maxDepth}`, -1, -1);
      throw new ParseAborted("bracket nesting");
    }
    grammar.switches = opts;
    grammar.resetState();
    grammar.messages.reset(b, opts.maxIssues);
    grammar.input = tokens;
    try {
      expr = grammar.start();
    } catch (e) {
      if (e instanceof RangeError && /call stack/i.test(e.message)) {
        // The bracket check bounds the recursion, but a very large `maxDepth` can still exhaust
        // the stack; that is a limit too, not a crash.
        b.report("limit_exceeded", `expression recursion limit exceeded: ${opts.maxDepth}`, -1, -1);
      } else if (!(e instanceof ParseAborted)) {
        throw e;
      }
    }
    for (const error of grammar.errors) {
      const offset = Number.isNaN(error.token.startOffset) ? source.length : error.token.startOffset;
      b.report("syntax", error.message, offset, offset + (error.token.image?.length ?? 0));
    }
  } catch (e) {
    if (!(e instanceof ParseAborted)) throw e;
  }
  if (b.issues.length > 0 || expr === undefined) throw compileError(b.issues, src, b.truncated);
  return {
    expr,
    source: src,
    spans: b.spans(),
    macroCalls: b.macroCalls ?? NO_MACRO_CALLS,
    nextId: b.nextId,
  };
}

function compileError(issues: readonly Issue[], src: Source, truncated: number): CompileError {
  // Chevrotain's recovery can report one position twice; keep the first report.
  const seen = new Set<string>();
  const unique = issues.filter((i) => {
    const key = `${i.offset}\u0000${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return new CompileError(unique, src, truncated);
}

function countCodePoints(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}

/** JS strings may hold unpaired surrogates, which are not Unicode text; each one is an issue. */
function reportLoneSurrogates(grammar: CelGrammar, text: string): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
    }
    const hex = c.toString(16).toUpperCase();
    grammar.b.report("syntax", `Syntax error: invalid character U+${hex} (unpaired surrogate)`, i, i + 1);
  }
}

function isLoneSurrogateAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff) {
    const d = text.charCodeAt(i + 1);
    return !(d >= 0xdc00 && d <= 0xdfff);
  }
  if (c >= 0xdc00 && c <= 0xdfff) {
    const p = text.charCodeAt(i - 1);
    return !(p >= 0xd800 && p <= 0xdbff);
  }
  return false;
}

/**
 * Turns Chevrotain's lexing errors into cel-go's `token recognition error at: '…'` issues. ANTLR
 * consumes a bad stretch up to the character that breaks it, so the tokens Chevrotain found
 * inside that stretch are dropped too.
 */
function recoverLexicalErrors(
  grammar: CelGrammar,
  text: string,
  lexed: { tokens: IToken[]; errors: { offset: number; length: number }[] },
): IToken[] {
  let consumedUpTo = 0;
  const consumed: [number, number][] = [];
  for (const error of lexed.errors) {
    let at = Math.max(error.offset, consumedUpTo);
    const runEnd = error.offset + error.length;
    while (at < runEnd) {
      const { end, resume } = scanLexicalError(text, at);
      if (!isLoneSurrogateAt(text, at)) {
        const shown = escapeDisplay(text.slice(at, end));
        grammar.b.report("syntax", `Syntax error: token recognition error at: '${shown}'`, at, end);
      }
      consumed.push([at, resume]);
      at = resume;
    }
    consumedUpTo = at;
  }
  return lexed.tokens.filter((t) => !consumed.some(([from, to]) => t.startOffset >= from && t.startOffset < to));
}

/** Deepest nesting of brackets of any kind (unbalanced closers are left to the parser). */
function bracketNesting(tokens: readonly IToken[]): number {
  let depth = 0;
  let deepest = 0;
  for (const token of tokens) {
    const type = token.tokenType;
    if (type === LParen || type === LBracket || type === LBrace) {
      if (++depth > deepest) deepest = depth;
    } else if ((type === RParen || type === RBracket || type === RBrace) && depth > 0) {
      depth--;
    }
  }
  return deepest;
}
