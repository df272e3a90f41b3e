/**
 * Small helpers for expression tests: `expectEval` compiles and evaluates, comparing kinds
 * strictly (an int is not a double); `expectCompileError` checks the cel-go style message.
 */
import { expect } from "vitest";
import { compile, type CompileOptions } from "../../../src/expr/program.js";
import { CompileError, EvalError, type EvalErrorCode } from "../../../src/expr/errors.js";
import { sameValue, show } from "./cel-values.js";

/** Evaluates `source` against `activation` and expects `want` (strict kinds). */
export function expectEval(
  source: string,
  want: unknown,
  activation: Record<string, unknown> = {},
  options: CompileOptions = {},
): void {
  const got = compile(source, options).evaluate(activation);
  if (!sameValue(got, want)) {
    throw new Error(`${source}: expected ${show(want)}, got ${show(got)}`);
  }
}

/** Expects evaluation to throw an EvalError, optionally with a code and message fragment. */
export function expectEvalError(
  source: string,
  code?: EvalErrorCode,
  activation: Record<string, unknown> = {},
  options: CompileOptions = {},
  messageFragment?: string,
): EvalError {
  const program = compile(source, options);
  let error: unknown;
  try {
    program.evaluate(activation);
  } catch (err) {
    error = err;
  }
  expect(error, `${source} should fail to evaluate`).toBeInstanceOf(EvalError);
  const e = error as EvalError;
  if (code !== undefined) expect(e.code).toBe(code);
  if (messageFragment !== undefined) expect(e.message).toContain(messageFragment);
  return e;
}

/** Expects `compile` to throw a CompileError whose message contains (or equals) `message`. */
export function expectCompileError(source: string, message: string | RegExp, options: CompileOptions = {}): CompileError {
  let error: unknown;
  try {
    compile(source, { cache: false, ...options });
  } catch (err) {
    error = err;
  }
  expect(error, `${source} should not compile`).toBeInstanceOf(CompileError);
  const e = error as CompileError;
  if (typeof message === "string") expect(e.message).toContain(message);
  else expect(e.message).toMatch(message);
  return e;
}
