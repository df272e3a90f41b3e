/**
 * The cel-spec conformance suites (as shipped in `@bufbuild/cel-spec`) run against `compile`.
 *
 * Cases that need protobuf message types, optional types or function declarations are skipped,
 * counted per reason, and the count per reason is pinned; cases we fail on purpose are listed in
 * `conformance-expected-failures.ts` with the failure they must show, and a listed case that starts
 * passing (or fails otherwise) fails the suite.
 */
import { tests as conformance } from "@bufbuild/cel-spec/testdata/conformance.js";
import { afterAll, describe, expect, it } from "vitest";
import { compile, type CompileOptions } from "../../src/expr/program.js";
import { parse } from "../../src/expr/parser/index.js";
import type { Expr } from "../../src/expr/ast.js";
import { CompileError, EvalError } from "../../src/expr/errors.js";
import { formatType, type Type } from "../../src/expr/types.js";
import { EXPECTED_FAILURES, EXPECTED_SKIPS, SKIP_REASONS } from "./conformance-expected-failures.js";
import { fromType, fromValue, sameValue, show, Unsupported } from "./support/cel-values.js";

const CORE_SUITES = [
  "basic",
  "comparisons",
  "conversions",
  "fields",
  "fp_math",
  "integer_math",
  "lists",
  "logic",
  "macros",
  "namespace",
  "parse",
  "plumbing",
  "string",
  "timestamps",
  "type_deductions",
  "string_ext",
];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface Case {
  name: string;
  expr: string;
  container?: string;
  typeEnv?: { name: string; ident?: { type: Record<string, Json> }; function?: unknown }[];
  bindings?: Record<string, { value: Record<string, Json> }>;
  value?: Record<string, Json>;
  evalError?: unknown;
  typedResult?: { result?: Record<string, Json>; deducedType?: Record<string, Json> };
  disableCheck?: boolean;
  checkOnly?: boolean;
}
interface Suite {
  name: string;
  suites?: Suite[];
  tests?: { original: Case }[];
}

const counts: Record<string, { pass: number; skipped: number; expectedFailures: number }> = {};
const skipReasons: Record<string, number> = {};

function containsStruct(e: Expr): boolean {
  switch (e.kind) {
    case "struct":
      return true;
    case "select":
      return containsStruct(e.operand);
    case "call":
      return (e.target !== undefined && containsStruct(e.target)) || e.args.some(containsStruct);
    case "list":
      return e.elements.some(containsStruct);
    case "map":
      return e.entries.some((x) => containsStruct(x.key) || containsStruct(x.value));
    case "comprehension":
      return [e.iterRange, e.accuInit, e.loopCondition, e.loopStep, e.result].some(containsStruct);
    default:
      return false;
  }
}

/** Why a case cannot run on this engine, or undefined when it can. */
function skipReason(c: Case): string | undefined {
  if (/\boptional\.|\.\?|\[\?|\{\?|\.orValue\(|\.hasValue\(|\.value\(\)/.test(c.expr)) return SKIP_REASONS.optional;
  try {
    for (const d of c.typeEnv ?? []) {
      if (d.function !== undefined) return SKIP_REASONS.functions;
      if (d.ident !== undefined) fromType(d.ident.type);
    }
    for (const b of Object.values(c.bindings ?? {})) fromValue(b.value);
    if (c.value !== undefined) fromValue(c.value);
    if (c.typedResult?.result !== undefined) fromValue(c.typedResult.result);
    if (c.typedResult?.deducedType !== undefined) fromType(c.typedResult.deducedType);
  } catch (err) {
    if (err instanceof Unsupported && /^(protobuf message|message type) /.test(err.message)) return SKIP_REASONS.protobuf;
    throw err;
  }
  try {
    if (containsStruct(parse(c.expr).expr)) return SKIP_REASONS.protobuf;
  } catch (err) {
    // Parse errors are the case's own business.
    if (!(err instanceof CompileError)) throw err;
  }
  return undefined;
}

function runCase(c: Case): void {
  const variables: Record<string, Type> = {};
  for (const d of c.typeEnv ?? []) if (d.ident !== undefined) variables[d.name] = fromType(d.ident.type);
  const options: CompileOptions = {
    dialect: "cel",
    ...(c.container !== undefined ? { container: c.container } : {}),
    ...(c.typeEnv !== undefined && !c.disableCheck ? { variables } : {}),
    ...(c.disableCheck ? { typeCheck: false } : {}),
  };
  const activation: Record<string, unknown> = {};
  for (const [k, b] of Object.entries(c.bindings ?? {})) activation[k] = fromValue(b.value);

  if (c.evalError !== undefined) {
    // An error at compile time (the checker proving it) or at evaluation both satisfy the case.
    let program;
    try {
      program = compile(c.expr, options);
    } catch (err) {
      expect(err).toBeInstanceOf(CompileError);
      return;
    }
    expect(() => program.evaluate(activation)).toThrow(EvalError);
    return;
  }
  const program = compile(c.expr, options);
  if (c.typedResult?.deducedType !== undefined) {
    expect(program.type).toBe(formatType(fromType(c.typedResult.deducedType)));
  }
  if (c.checkOnly) return;
  const expected = c.value ?? c.typedResult?.result ?? { boolValue: true };
  const want = fromValue(expected);
  const got = program.evaluate(activation);
  if (!sameValue(got, want)) {
    throw new Error(`expected ${show(want)}, got ${show(got)}`);
  }
}

const root = conformance as Suite;
for (const suiteName of CORE_SUITES) {
  const suite = root.suites!.find((s) => s.name === suiteName);
  if (suite === undefined) throw new Error(`conformance suite ${suiteName} is missing`);
  const tally = (counts[suiteName] = { pass: 0, skipped: 0, expectedFailures: 0 });
  describe(suiteName, () => {
    for (const section of suite.suites ?? []) {
      describe(section.name, () => {
        for (const { original } of section.tests ?? []) {
          const id = `${suiteName}/${section.name}/${original.name}`;
          const reason = skipReason(original);
          if (reason !== undefined) {
            tally.skipped++;
            skipReasons[reason] = (skipReasons[reason] ?? 0) + 1;
            it.skip(`${original.name} (${reason})`, () => {});
            continue;
          }
          const expectedFailure = EXPECTED_FAILURES[id];
          if (expectedFailure !== undefined) {
            tally.expectedFailures++;
            it(`${original.name} [expected failure: ${expectedFailure.reason}]`, () => {
              let failure: unknown;
              try {
                runCase(original);
              } catch (error) {
                failure = error;
              }
              if (failure === undefined) throw new Error(`${id} now passes: remove it from conformance-expected-failures.ts`);
              // It must fail for the listed reason, not for another one.
              expect(failure).toBeInstanceOf(Error);
              expect((failure as Error).message).toMatch(expectedFailure.failure);
            });
            continue;
          }
          tally.pass++;
          it(original.name, () => runCase(original));
        }
      });
    }
  });
}

describe("skips", () => {
  it("skip exactly the pinned number of cases per reason", () => {
    expect(skipReasons).toEqual(EXPECTED_SKIPS);
  });
});

afterAll(() => {
  const lines = Object.entries(counts).map(
    ([s, c]) => `  ${s.padEnd(16)} run ${String(c.pass).padStart(4)}  skipped ${String(c.skipped).padStart(3)}  expected failures ${c.expectedFailures}`,
  );
  console.log(`cel-spec conformance:\n${lines.join("\n")}\n  skip reasons: ${JSON.stringify(skipReasons)}`);
});
