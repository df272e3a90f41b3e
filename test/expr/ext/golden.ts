/**
 * The golden-case helper of the extension tests: each case is an expression that must evaluate to
 * `true`, or fail at evaluation with a message containing `err` (cel-go's `ext/*_test.go` tables
 * have this shape). Each runs with the closures alone and with fast paths generated at compile time.
 */
import { describe, expect, it } from "vitest";
import type { ExtensionName } from "../../../src/expr/dialect.js";
import { CompileError, EvalError } from "../../../src/expr/errors.js";
import { compile } from "../../../src/expr/program.js";

/** One case: an expression that is `true`, or that fails with a message containing `err`. */
export interface GoldenCase {
  readonly expr: string;
  readonly err?: string;
}

/** Registers one test per case, compiled with `extensions`. */
export function goldenCases(title: string, extensions: readonly ExtensionName[], cases: readonly GoldenCase[]): void {
  describe(title, () => {
    for (const c of cases) {
      it(c.err === undefined ? c.expr : `${c.expr} fails: ${c.err}`, () => {
        for (const fastPaths of [false, true]) {
          let program;
          try {
            program = compile(c.expr, { extensions, fastPaths, cache: false });
          } catch (e) {
            // cel-go reports some of these when checking (an invalid literal, no matching overload).
            if (c.err !== undefined && e instanceof CompileError) {
              expect(e.message).toContain(c.err);
              continue;
            }
            throw e;
          }
          const r = program.evaluateResult({});
          if (c.err === undefined) {
            expect(r.ok ? r.value : r.error.message).toBe(true);
          } else {
            expect(r.ok, `${c.expr} should fail`).toBe(false);
            if (!r.ok) {
              expect(r.error).toBeInstanceOf(EvalError);
              expect(r.error.message).toContain(c.err);
            }
          }
        }
      });
    }
  });
}
