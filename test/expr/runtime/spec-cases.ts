/**
 * Looks up cases of the cel-spec conformance data (`@bufbuild/cel-spec`) by path, so that unit
 * tests take their expected values from the spec instead of restating them.
 */
import { tests } from "@bufbuild/cel-spec/testdata/conformance.js";
import type { SerializedIncrementalTestSuite } from "@bufbuild/cel-spec/testdata/tests.js";

/** The parts of a conformance case the runtime tests use. */
export interface SpecCase {
  readonly name: string;
  readonly expr: string;
  readonly value?: Record<string, unknown>;
  readonly evalError?: { errors: { message: string }[] };
}

/** Finds `suite/section/name`; throws when the data has no such case (a typo in a test). */
export function specCase(path: string): SpecCase {
  const [suiteName, sectionName, ...rest] = path.split("/");
  const name = rest.join("/");
  const suite = tests.suites?.find((s: SerializedIncrementalTestSuite) => s.name === suiteName);
  const section = suite?.suites?.find((s) => s.name === sectionName);
  const found = section?.tests?.find((t) => t.original.name === name);
  if (found === undefined) throw new Error(`no conformance case ${path}`);
  return found.original as unknown as SpecCase;
}

/** The expected string value of a case. */
export function specString(path: string): string {
  const v = specCase(path).value?.["stringValue"];
  if (typeof v !== "string") throw new Error(`conformance case ${path} has no string value`);
  return v;
}

/** The expected int value of a case, as a bigint. */
export function specInt(path: string): bigint {
  const v = specCase(path).value?.["int64Value"];
  if (typeof v !== "string") throw new Error(`conformance case ${path} has no int value`);
  return BigInt(v);
}

/** The expected error message of a case. */
export function specError(path: string): string {
  const m = specCase(path).evalError?.errors[0]?.message;
  if (m === undefined) throw new Error(`conformance case ${path} expects no error`);
  return m;
}

/** Every case of a section, for completeness checks. */
export function specSection(suiteName: string, sectionName: string): SpecCase[] {
  const suite = tests.suites?.find((s: SerializedIncrementalTestSuite) => s.name === suiteName);
  const section = suite?.suites?.find((s) => s.name === sectionName);
  return (section?.tests ?? []).map((t) => t.original as unknown as SpecCase);
}
