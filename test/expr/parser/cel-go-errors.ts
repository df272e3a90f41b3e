/**
 * Running one of cel-go's rejected-expression cases (as shipped in `@bufbuild/cel-spec`) through
 * our parser: the options cel-go's parser tests use, and the comparison with cel-go's error text,
 * allowing the listed recovery differences. Shared by the parser suite and the checker suite
 * (whose parse-error cases are run here, not skipped).
 */
import { expect } from "vitest";
import { CompileError } from "../../../src/expr/errors.js";
import { parse, type ParseOptions } from "../../../src/expr/parser/index.js";
import { caseKey, PARSING_ERROR_TEXT_FAILURES } from "./expected-failures.js";

/** cel-go's parser tests run with a recursion limit of 32 and without backquoted names. */
export const CEL_GO_PARSER_TEST_OPTIONS: ParseOptions = { maxDepth: 32, enableBackquotedNames: false };

/** The CompileError `parse` throws; fails when it accepts the text or throws anything else. */
export function parseError(expr: string, options: ParseOptions): CompileError {
  try {
    parse(expr, options);
  } catch (e) {
    if (e instanceof CompileError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(expr)} to be rejected`);
}

/** The `ERROR: …` header lines of a printed error. */
function headers(text: string): string[] {
  return text.split("\n").filter((line) => line.startsWith("ERROR: "));
}

/**
 * Expects `expr` to be rejected with cel-go's text `expected`, exactly, or, for a case listed in
 * `PARSING_ERROR_TEXT_FAILURES`, with a different text that shares at least one error line.
 */
export function expectCelGoParseError(expr: string, expected: string, options: ParseOptions): void {
  const error = parseError(expr, options);
  // cel-go's extraction printed an empty source description where cel-go prints `<input>`.
  const want = expected.replaceAll("ERROR: :", "ERROR: <input>:");
  if (caseKey(expr) in PARSING_ERROR_TEXT_FAILURES) {
    expect(error.message).not.toBe(want);
    const ours = new Set(headers(error.message));
    expect(headers(want).some((line) => ours.has(line)), error.message).toBe(true);
  } else {
    expect(error.message).toBe(want);
  }
}
