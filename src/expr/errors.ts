/**
 * Compile-time issues and the errors thrown at the public boundary of the expression engine.
 *
 * @module
 */
import { Source, type Span } from "./ast.js";

/** Machine-readable category of a compile issue. */
export type IssueCode =
  /** The text does not follow the grammar (cel-go's `Syntax error: …`). */
  | "syntax"
  /** A literal that cannot be represented: an int out of range, a bad escape, an invalid UTF-8 byte string. */
  | "invalid_literal"
  /** A reserved word used as an identifier. */
  | "reserved_identifier"
  /** A macro called with arguments it cannot expand. */
  | "invalid_macro"
  /** Syntax that is recognised but not enabled (optional `?.`, backquoted names outside selections). */
  | "unsupported_syntax"
  /** Source size, nesting depth, issue count or estimated cost per evaluation above its configured limit. */
  | "limit_exceeded"
  /** A name no declaration covers. */
  | "undeclared_reference"
  /** No overload of a function accepts the argument types. */
  | "no_matching_overload"
  /** Any other type error the checker proves. */
  | "type_error"
  /** A constant argument known to be invalid at compile time, such as a bad regular expression. */
  | "invalid_argument";

/** One problem found while compiling an expression. */
export interface Issue {
  readonly code: IssueCode;
  /** The message without position, as cel-go words it. */
  readonly message: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column in code points. */
  readonly column: number;
  /** UTF-16 offset into the source; -1 when the issue concerns the whole expression. */
  readonly offset: number;
  /** The source span the issue points at (`start === end` for a point). */
  readonly span: Span;
}

const DOT = ".";
const CARET = "^";
const WIDE_DOT = "\uff0e";
const WIDE_CARET = "\uff3e";
const MAX_SNIPPET_LENGTH = 16384;

/** Number of UTF-8 bytes of a code point; cel-go draws a full-width dot or caret under multi-byte characters. */
function utf8Length(codePoint: number): number {
  return codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
}

/**
 * Formats one issue exactly as cel-go's `Error.ToDisplayString`: a header line, the source line
 * (tabs shown as spaces) and a caret line.
 */
export function formatIssue(issue: Issue, source: Source): string {
  if (issue.offset < 0) {
    return `ERROR: ${source.description}:-1:0: ${issue.message}`;
  }
  let out = `ERROR: ${source.description}:${issue.line}:${issue.column}: ${issue.message}`;
  const snippet = source.lineText(issue.line).replaceAll("\t", " ");
  if (snippet.length > MAX_SNIPPET_LENGTH && issue.line <= source.lineStarts.length) return out;
  if (issue.line > source.lineStarts.length) return out;
  let indicator = "";
  const codePoints = Array.from(snippet);
  for (let i = 0; i < issue.column - 1 && i < codePoints.length; i++) {
    indicator += utf8Length(codePoints[i]!.codePointAt(0)!) > 1 ? WIDE_DOT : DOT;
  }
  const at = codePoints[issue.column - 1];
  indicator += at !== undefined && utf8Length(at.codePointAt(0)!) > 1 ? WIDE_CARET : CARET;
  out += `\n | ${snippet}\n | ${indicator}`;
  return out;
}

/** Builds an issue at a span of a source, computing line and column. */
export function makeIssue(source: Source, code: IssueCode, message: string, span: Span): Issue {
  if (span.start < 0) {
    return { code, message, line: -1, column: 0, offset: -1, span };
  }
  const { line, column } = source.locate(span.start);
  return { code, message, line, column, offset: span.start, span };
}

/**
 * Sorts issues by position (stable, as cel-go does) and joins their display strings, adding a
 * "N more errors were truncated" line when more than `maxIssues` were found.
 */
export function formatIssues(issues: readonly Issue[], source: Source, truncated = 0): string {
  const sorted = [...issues].sort((a, b) => a.line - b.line || a.column - b.column);
  const lines = sorted.map((i) => formatIssue(i, source));
  if (truncated > 0) lines.push(`${truncated} more errors were truncated`);
  return lines.join("\n");
}

/**
 * Thrown by `parse` and `compile` when an expression does not compile. `issues` lists every
 * problem found (up to the configured maximum); `message` prints them as cel-go does.
 */
export class CompileError extends Error {
  override readonly name = "CompileError";
  /** Every issue found, in source order. */
  readonly issues: readonly Issue[];
  /** The expression text. */
  readonly source: string;

  constructor(issues: readonly Issue[], source: Source, truncated = 0) {
    super(formatIssues(issues, source, truncated));
    this.issues = [...issues].sort((a, b) => a.line - b.line || a.column - b.column);
    this.source = source.text;
  }
}

/** Machine-readable category of an evaluation error. */
export type EvalErrorCode =
  | "no_such_key"
  | "no_such_field"
  | "no_such_overload"
  | "no_matching_overload"
  | "overflow"
  | "division_by_zero"
  | "modulus_by_zero"
  | "invalid_argument"
  | "index_out_of_bounds"
  | "out_of_range"
  | "type_conversion"
  | "no_such_attribute"
  | "cost_limit"
  | "internal";

/**
 * Thrown by `Program.evaluate` when the expression evaluates to an error. `span` points at the
 * node whose evaluation failed.
 */
export class EvalError extends Error {
  override readonly name = "EvalError";

  constructor(
    /** Machine-readable category. */
    readonly code: EvalErrorCode,
    message: string,
    /** Source span of the failing node, when known. */
    readonly span?: Span,
    /** 1-based line and column of the failing node, when known. */
    readonly location?: { readonly line: number; readonly column: number },
  ) {
    super(message);
  }
}
