/**
 * The extension suites of the cel-spec conformance data (as shipped in `@bufbuild/cel-spec`), each
 * run with the extension libraries it needs. Cases that need protobuf message types are skipped
 * with a counted reason; cases we fail are listed in `conformance-ext-expected-failures.ts`, and a
 * listed case that starts passing fails the suite.
 *
 * An expected error must come from evaluation (every such case of these suites is a runtime error
 * in cel-go), not from a compile error such as an undeclared function. Every case that passes is
 * also run with the generated fast paths made at compile time, without any generated code, and
 * without the checker: all must agree.
 */
import { afterAll, describe, it } from "vitest";
import type { ExtensionName } from "../../src/expr/dialect.js";
import { EXT_EXPECTED_FAILURES } from "./conformance-ext-expected-failures.js";
import { conformanceSuite, runCase, skipReason } from "./support/conformance-case.js";

/** Each extension suite with the libraries it needs. */
export const EXTENSION_SUITES: Readonly<Record<string, readonly ExtensionName[]>> = {
  optionals: ["optionals"],
  math_ext: ["math"],
  macros2: ["two_var_comprehensions"],
  bindings_ext: ["bindings"],
  encoders_ext: ["encoders"],
  block_ext: ["block", "optionals"],
};

const counts: Record<string, { pass: number; skipped: number; expectedFailures: number }> = {};

for (const [suiteName, extensions] of Object.entries(EXTENSION_SUITES)) {
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
            it.skip(`${original.name} (${reason})`, () => {});
            continue;
          }
          const expectedFailure = EXT_EXPECTED_FAILURES[id];
          if (expectedFailure !== undefined) {
            tally.expectedFailures++;
            it(`${original.name} [expected failure: ${expectedFailure}]`, () => {
              let passed = false;
              try {
                runCase(original, { extensions });
                passed = true;
              } catch {
                // Failing is expected.
              }
              if (passed) throw new Error(`${id} now passes: remove it from conformance-ext-expected-failures.ts`);
            });
            continue;
          }
          tally.pass++;
          it(original.name, () => {
            runCase(original, { extensions, cache: false }, true);
            runCase(original, { extensions, cache: false, fastPaths: true }, true);
            runCase(original, { extensions, cache: false, fastPaths: false }, true);
            // Unchecked, as cel-go without its checker: the same values and errors.
            if (original.disableCheck !== true) runCase({ ...original, disableCheck: true }, { extensions, cache: false }, true);
          });
        }
      });
    }
  });
}

afterAll(() => {
  const lines = Object.entries(counts).map(
    ([s, c]) => `  ${s.padEnd(16)} run ${String(c.pass).padStart(4)}  skipped ${String(c.skipped).padStart(3)}  expected failures ${c.expectedFailures}`,
  );
  console.log(`cel-spec extension conformance:\n${lines.join("\n")}`);
});
