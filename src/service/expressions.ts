/**
 * `POST /v1/expressions/check`: compiles an expression as a cancellation's `if` would be compiled
 * and answers its result type, or every compile issue with its line and column. The UI's
 * expression editor calls it as the user types.
 *
 * @module
 */
import { ValidationError } from "../cancel/errors.js";
import type { DialectName } from "../expr/dialect.js";
import { CompileError, type IssueCode } from "../expr/errors.js";
import { compile } from "../expr/program.js";

/** The dialects an expression can be checked in. */
export const CHECK_DIALECTS: readonly DialectName[] = ["inngest", "cel"];

/** One compile issue, in wire form. */
export interface WireIssue {
  readonly code: IssueCode | "nesting";
  /** The message without position, as cel-go words it. */
  readonly message: string;
  /** 1-based line; 0 when the issue concerns the whole expression. */
  readonly line: number;
  /** 1-based column in code points; 0 when the issue concerns the whole expression. */
  readonly column: number;
  /** UTF-16 offsets of the span the issue points at (`start === end` for a point); -1 for the whole expression. */
  readonly start: number;
  readonly end: number;
}

/** The answer of `POST /v1/expressions/check`. */
export type ExpressionCheck =
  | {
      readonly valid: true;
      readonly dialect: DialectName;
      /** The checked result type as CEL prints it (`bool`, `dyn`, `int`). */
      readonly type: string;
      /** Set when the type can never be a boolean: every run would count as `non_boolean`. */
      readonly warning: string | null;
      /**
       * The estimated cost of deciding one run, in cost units (`min` to `max`, see
       * `docs/reliability-cost.md`), and the budget `limit` it is held to: an `if` whose `max`
       * exceeds `limit` is refused (then `valid` is false and the issue says so).
       */
      readonly cost: { readonly min: number; readonly max: number; readonly limit: number };
    }
  | {
      readonly valid: false;
      readonly dialect: DialectName;
      /** cel-go's text: `ERROR: <input>:line:column: message`, the source line and a caret, per issue. */
      readonly message: string;
      readonly issues: readonly WireIssue[];
    };

/** Types whose values may be booleans at run time. */
const MAYBE_BOOLEAN = new Set(["bool", "dyn"]);

/**
 * Compiles `expression` in `dialect` (default `inngest`, the dialect of a cancellation's `if`,
 * with its variables `event`, `async` and `vars`) and describes the outcome.
 *
 * @throws {@link ValidationError} for a body that is not `{ "expression": string, "dialect"?: "inngest" | "cel" }`.
 */
export function checkExpression(body: unknown): ExpressionCheck {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new ValidationError(["the body must be a JSON object"]);
  const fields = body as Record<string, unknown>;
  const errors: string[] = [];
  for (const name of Object.keys(fields)) {
    if (name !== "expression" && name !== "dialect") errors.push(`unknown field ${JSON.stringify(name)}`);
  }
  const expression = fields["expression"];
  if (expression === undefined) errors.push("expression is required");
  else if (typeof expression !== "string") errors.push("expression must be a string");
  const dialectField = fields["dialect"] ?? "inngest";
  if (typeof dialectField !== "string" || !(CHECK_DIALECTS as readonly string[]).includes(dialectField)) {
    errors.push(`dialect must be one of ${CHECK_DIALECTS.map((name) => JSON.stringify(name)).join(", ")}`);
  }
  if (errors.length > 0) throw new ValidationError(errors);
  const dialect = dialectField as DialectName;
  try {
    const program = compile(expression as string, { dialect, cache: false, refuseCostly: true });
    const type = program.type;
    const warning = MAYBE_BOOLEAN.has(type)
      ? null
      : `the expression's type is ${type}, not bool: every run it decides would be counted as non_boolean and left alone`;
    const { min, max } = program.estimateCost();
    return { valid: true, dialect, type, warning, cost: { min, max, limit: program.maxCost } };
  } catch (error) {
    if (error instanceof CompileError) {
      return {
        valid: false,
        dialect,
        message: error.message,
        issues: error.issues.map((issue) => ({
          code: issue.code,
          message: issue.message,
          line: issue.offset < 0 ? 0 : issue.line,
          column: issue.offset < 0 ? 0 : issue.column,
          start: issue.offset < 0 ? -1 : issue.span.start,
          end: issue.offset < 0 ? -1 : issue.span.end,
        })),
      };
    }
    // The parser's recursion ran out of stack before its depth limit (as the create request says).
    if (error instanceof RangeError) {
      const message = "the expression is nested too deeply";
      return { valid: false, dialect, message, issues: [{ code: "nesting", message, line: 0, column: 0, start: -1, end: -1 }] };
    }
    throw error;
  }
}
