/**
 * The public entry point of the front end: source text → tokens → macro-expanded AST.
 *
 * @module
 */
import type { IToken, Lexer } from "chevrotain";
import { Source, type CallExpr, type Expr, type ParsedAst } from "../ast.js";
import { CompileError, makeIssue, type Issue } from "../errors.js";
import { AstBuilder, ParseAborted } from "./builder.js";
import type { MacroLibrary } from "./ext-macros.js";
import { FastParser } from "./fast.js";
import { CelGrammar } from "./grammar.js";
import { escapeDisplay, scanLexicalError } from "./messages.js";
import { scanTokens } from "./scan.js";
import { createCelLexer, setLiftedStrings, Dot, Identifier, LBrace, LBracket, LParen, MessageName, RBrace, RBracket, RParen } from "./tokens.js";

/** Options of {@link parse}. */
export interface ParseOptions {
  /** Longest accepted source, in Unicode code points. Default 100,000 (as cel-go). */
  readonly maxCodePoints?: number;
  /**
   * Deepest accepted nesting. Two measures are limited: brackets (`(`, `[`, `{`) nested inside
   * each other, checked before parsing (cel-go's "expression recursion limit exceeded"), and
   * the depth of the resulting tree, where every call (operators included), selection, list,
   * map, message construction and macro expansion adds a level and identifiers and literals add
   * none (cel-go's "max recursion depth exceeded"). So `1 + 2 + … + 300` is rejected while the
   * balanced `a || b || …` is not. Default 250 (as cel-go).
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
   * Inngest's literal lifting: Inngest cuts single- and double-quoted strings out of an
   * expression before parsing it and uses their text verbatim, so escapes are not decoded
   * (`'\w'` is the two characters `\` and `w`, `'\\d'` is three). The `inngest` dialect turns
   * this on, except for sources that mention `vars.`, where Inngest does not lift. Default false.
   */
  readonly liftedStrings?: boolean;
  /**
   * Accept backquoted field names in selections and message fields (``a.`b-c` ``,
   * ``Msg{`in`: 1}``), as the current CEL specification does. When false they are rejected
   * with cel-go's ``unsupported syntax: '`'``. Default true.
   */
  readonly enableBackquotedNames?: boolean;
  /**
   * Extension libraries whose macros are expanded (`cel.bind`, two-variable `all`/`exists`,
   * `transformList`, `optMap`, `math.greatest`, `sortBy`, `cel.block`, …; see `ext-macros.ts`).
   * Default none: such calls stay plain calls, which the checker then rejects as undeclared.
   */
  readonly extensionMacros?: readonly MacroLibrary[];
}

interface ResolvedOptions {
  readonly maxCodePoints: number;
  readonly maxDepth: number;
  readonly maxIssues: number;
  readonly enableOptionalSyntax: boolean;
  readonly enableBackquotedNames: boolean;
  readonly liftedStrings: boolean;
  readonly extensionMacros: ReadonlySet<string>;
}

const NO_MACRO_LIBRARIES: ReadonlySet<string> = new Set();

const DEFAULTS: ResolvedOptions = {
  maxCodePoints: 100_000,
  maxDepth: 250,
  maxIssues: 100,
  enableOptionalSyntax: false,
  enableBackquotedNames: true,
  liftedStrings: false,
  extensionMacros: NO_MACRO_LIBRARIES,
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
    liftedStrings: options.liftedStrings ?? DEFAULTS.liftedStrings,
    extensionMacros: options.extensionMacros === undefined ? NO_MACRO_LIBRARIES : new Set(options.extensionMacros),
  };
}

let lexer: Lexer | undefined;
let fastGrammar: CelGrammar | undefined;
let recoveringGrammar: CelGrammar | undefined;
const builder = new AstBuilder();
const fastParser = new FastParser();

/**
 * The lexer and the two parsers, built on first use (building one takes milliseconds). Valid
 * input goes through a parser without error recovery, which is faster; input with a syntax
 * error is parsed again with Chevrotain's recovery to report every error, not only the first.
 */
function grammarFor(recovery: boolean): CelGrammar {
  const grammar = recovery ? (recoveringGrammar ??= new CelGrammar(true)) : (fastGrammar ??= new CelGrammar(false));
  grammar.b = builder;
  return grammar;
}

const NO_MACRO_CALLS: ReadonlyMap<number, CallExpr> = new Map();
const SURROGATE = /[\ud800-\udfff]/;

/**
 * Parses a CEL expression into a macro-expanded AST with node ids, a span per id and the original
 * macro calls.
 *
 * Ids start at 1 and follow the source: each node gets its id when the token that introduces it
 * is read (an identifier or literal, an operator, the `.` of a selection, the `(` of a call, the
 * `[` of an index or list, the `{` of a map or message, the `:` of an entry). A `!` or `-`
 * prefix is numbered after its operand (an even run of them makes no node); nodes made by a
 * macro come after its arguments, and the expansion takes the id of the call it replaces, which
 * is also the key (and the id) of the call recorded in `macroCalls`. As in cel-go, a node's span
 * is that introducing token, so errors point at the operator or call they concern.
 *
 * @throws {@link CompileError} listing every issue found (syntax errors, invalid literals,
 * reserved identifiers, malformed macro calls, exceeded limits). No other exception escapes for
 * any string input; a non-string `source` or an invalid option is a `TypeError`/`RangeError`.
 */
export function parse(source: string, options?: ParseOptions): ParsedAst {
  return parseText(source, options, true);
}

/**
 * {@link parse} without the fast path: the Chevrotain grammar parses every input. Internal (not
 * exported by the package); for tests that compare the two parsers.
 */
export function parseWithGrammar(source: string, options?: ParseOptions): ParsedAst {
  return parseText(source, options, false);
}

function parseText(source: string, options: ParseOptions | undefined, fastPath: boolean): ParsedAst {
  if (typeof source !== "string") throw new TypeError(`parse expects a string, got ${typeof source}`);
  const opts = resolve(options);
  const src = new Source(source);
  lexer ??= createCelLexer();
  const b = builder;
  b.reset(src, opts);

  if (source.length > opts.maxCodePoints) {
    const size = countCodePoints(source);
    if (size > opts.maxCodePoints) {
      const message = `expression code point size exceeds limit: size: ${size}, limit ${opts.maxCodePoints}`;
      throw new CompileError([makeIssue(src, "limit_exceeded", message, { start: -1, end: -1 })], src);
    }
  }

  b.liftedStrings = opts.liftedStrings;
  b.macroLibraries = opts.extensionMacros;
  if (fastPath) {
    b.abortOnLimit = true;
    const expr = fastParser.parse(source, b, opts.maxDepth);
    if (expr !== undefined) return parsed(expr, src);
    b.rewind(0);
  }

  let expr;
  try {
    b.abortOnLimit = false;
    // The hand-written scanner reads common filters; whatever it leaves goes to the lexer. It
    // leaves any text with a surrogate, so only that text needs the search for lone ones.
    let tokens = scanTokens(source);
    if (tokens === undefined) {
      if (SURROGATE.test(source)) reportLoneSurrogates(b, source);
      setLiftedStrings(opts.liftedStrings);
      try {
        const lexed = lexer.tokenize(source);
        tokens = lexed.errors.length === 0 ? lexed.tokens : recoverLexicalErrors(b, lexer, source, lexed);
      } finally {
        setLiftedStrings(false);
      }
    }
    b.abortOnLimit = true;
    const nesting = prepareTokens(tokens);
    if (nesting >= opts.maxDepth) {
      b.report("limit_exceeded", `expression recursion limit exceeded: ${opts.maxDepth}`, -1, -1);
      throw new ParseAborted("bracket nesting");
    }
    const lexicalIssues = b.issues.length;
    // Input already known to be wrong goes straight to the parser that recovers from errors.
    let grammar = grammarFor(lexicalIssues > 0);
    let run = runParser(grammar, tokens, opts);
    if (grammar.messages.reported > 0 && !grammar.recovers && !run.aborted) {
      b.rewind(lexicalIssues);
      grammar = grammarFor(true);
      run = runParser(grammar, tokens, opts);
    }
    expr = run.expr;
    if (grammar.messages.reported > 0) {
      for (const error of grammar.errors) {
        // After an abort Chevrotain still notes that the input was not consumed; that is not
        // an error of the expression.
        if (run.aborted && error.name === "NotAllInputParsedException") continue;
        const offset = Number.isNaN(error.token.startOffset) ? source.length : error.token.startOffset;
        b.report("syntax", error.message, offset, offset + (error.token.image?.length ?? 0));
      }
    }
  } catch (e) {
    if (!(e instanceof ParseAborted)) throw e;
  }
  if (b.issues.length > 0 || expr === undefined) throw compileError(b.issues, src, b.truncated);
  return parsed(expr, src);
}

/** The result of a successful parse from the builder's state. */
function parsed(expr: Expr, src: Source): ParsedAst {
  const b = builder;
  return {
    expr,
    source: src,
    spans: b.spans(),
    macroCalls: b.macroCalls ?? NO_MACRO_CALLS,
    nextId: b.nextId,
  };
}

interface ParserRun {
  readonly expr: Expr | undefined;
  /** Parsing stopped at a limit (depth, issue count, stack) rather than at the end of input. */
  readonly aborted: boolean;
}

/** Runs one parser over the tokens. */
function runParser(grammar: CelGrammar, tokens: IToken[], opts: ResolvedOptions): ParserRun {
  grammar.switches = opts;
  grammar.resetState();
  grammar.messages.reset(builder, opts.maxIssues);
  grammar.input = tokens;
  try {
    return { expr: grammar.start(), aborted: false };
  } catch (e) {
    if (e instanceof RangeError) {
      // The bracket check bounds the recursion, but a very large `maxDepth` can still exhaust
      // the stack; that is a limit too, not a crash. Chevrotain's bookkeeping does not unwind
      // cleanly from a stack overflow (its cleanup may then fail with another RangeError, such
      // as "Invalid array length"), so this parser instance is replaced.
      if (grammar === fastGrammar) fastGrammar = undefined;
      if (grammar === recoveringGrammar) recoveringGrammar = undefined;
      try {
        builder.report("limit_exceeded", `expression recursion limit exceeded: ${opts.maxDepth}`, -1, -1);
      } catch (limit) {
        if (!(limit instanceof ParseAborted)) throw limit;
      }
      return { expr: undefined, aborted: true };
    }
    if (e instanceof ParseAborted) return { expr: undefined, aborted: true };
    throw e;
  }
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
function reportLoneSurrogates(b: AstBuilder, text: string): void {
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
    b.report("syntax", `Syntax error: invalid character U+${hex} (unpaired surrogate)`, i, i + 1);
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
 * consumes a bad stretch up to the character that breaks it and resumes after that character;
 * tokens Chevrotain found inside the stretch are dropped, and one that runs past the resume point
 * is lexed again from there.
 */
function recoverLexicalErrors(
  b: AstBuilder,
  lexer: Lexer,
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
        b.report("syntax", `Syntax error: token recognition error at: '${shown}'`, at, end);
      }
      consumed.push([at, resume]);
      at = resume;
    }
    consumedUpTo = at;
  }
  const tokens: IToken[] = [];
  for (const token of lexed.tokens) {
    const range = consumed.find(([from, to]) => token.startOffset >= from && token.startOffset < to);
    if (range === undefined) {
      tokens.push(token);
      continue;
    }
    const resume = range[1];
    const tokenEnd = token.startOffset + token.image.length;
    if (tokenEnd <= resume) continue;
    const rest = lexer.tokenize(text.slice(resume, tokenEnd));
    if (rest.errors.length > 0) continue;
    for (const t of rest.tokens) {
      t.startOffset += resume;
      tokens.push(t);
    }
  }
  return tokens;
}

/**
 * One pass over the tokens before parsing: returns the deepest nesting of brackets of any kind
 * (unbalanced closers are left to the parser) and retags the first identifier of every
 * `a.b.C{` message construction as {@link MessageName}.
 */
function prepareTokens(tokens: readonly IToken[]): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < tokens.length; i++) {
    const type = tokens[i]!.tokenType;
    if (type === LParen || type === LBracket || type === LBrace) {
      if (type === LBrace) markMessageName(tokens, i);
      if (++depth > deepest) deepest = depth;
    } else if ((type === RParen || type === RBracket || type === RBrace) && depth > 0) {
      depth--;
    }
  }
  return deepest;
}

/** `Name.Qualified{`: walks back from the brace over `IDENT (. IDENT)*` and retags the first name. */
function markMessageName(tokens: readonly IToken[], brace: number): void {
  let first = brace - 1;
  if (first < 0 || tokens[first]!.tokenType !== Identifier) return;
  while (first >= 2 && tokens[first - 1]!.tokenType === Dot && tokens[first - 2]!.tokenType === Identifier) first -= 2;
  const token = tokens[first]!;
  token.tokenType = MessageName;
  token.tokenTypeIdx = MessageName.tokenTypeIdx!;
}
