/**
 * The cel-spec conformance suites (as shipped in `@bufbuild/cel-spec`) run against `compile`.
 *
 * Cases that need protobuf message types, optional types or function declarations are skipped,
 * counted per reason, and the count per reason is pinned; cases we fail on purpose are listed in
 * `conformance-expected-failures.ts` with the failure they must show, and a listed case that starts
 * passing (or fails otherwise) fails the suite.
 */
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "../../src/expr/parser/index.js";
import { CompileError } from "../../src/expr/errors.js";
import { EXPECTED_FAILURES, EXPECTED_SKIPS, SKIP_REASONS } from "./conformance-expected-failures.js";
import { fromType, fromValue, Unsupported } from "./support/cel-values.js";
import { conformanceSuite, containsStruct, runCase, type Case } from "./support/conformance-case.js";

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

const counts: Record<string, { pass: number; skipped: number; expectedFailures: number }> = {};
const skipReasons: Record<string, number> = {};

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

for (const suiteName of CORE_SUITES) {
  const suite = conformanceSuite(suiteName);
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
