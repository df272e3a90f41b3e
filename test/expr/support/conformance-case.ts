/**
 * The cel-spec conformance data (as `@bufbuild/cel-spec` ships it) for every reader of it — the
 * conformance runners, the differential and cost tests, `bench/cel-spec-table.ts`: its shape, a
 * suite by name, why a case cannot run here (protobuf messages, custom function declarations), and
 * one case run against `compile` with the compile options a suite needs (its extension libraries).
 */
import { tests as conformance } from "@bufbuild/cel-spec/testdata/conformance.js";
import { expect } from "vitest";
import type { Expr } from "../../../src/expr/ast.js";
import { CompileError, EvalError } from "../../../src/expr/errors.js";
import { parse } from "../../../src/expr/parser/index.js";
import { compile, type CompileOptions } from "../../../src/expr/program.js";
import { formatType, type Type } from "../../../src/expr/types.js";
import { fromType, fromValue, sameValue, show, Unsupported } from "./cel-values.js";

/** A JSON value of the data. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A conformance case as `@bufbuild/cel-spec` ships it. */
export interface Case {
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

/** A suite or section of the conformance data. */
export interface Suite {
  name: string;
  suites?: Suite[];
  tests?: { original: Case }[];
}

/** A top-level suite of the conformance data (`basic`, `string_ext`, …); throws when it is missing. */
export function conformanceSuite(name: string): Suite {
  const suite = (conformance as Suite).suites?.find((s) => s.name === name);
  if (suite === undefined) throw new Error(`conformance suite ${name} is missing`);
  return suite;
}

/** Whether an expression builds a message (`Msg{…}`): such a case needs protobuf message types. */
export function containsStruct(e: Expr): boolean {
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

/** Why a case cannot run on this engine (it needs protobuf messages or declares functions), or undefined. */
export function skipReason(c: Case): string | undefined {
  try {
    for (const d of c.typeEnv ?? []) {
      if (d.function !== undefined) return "custom function declarations";
      if (d.ident !== undefined) fromType(d.ident.type);
    }
    for (const b of Object.values(c.bindings ?? {})) fromValue(b.value);
    if (c.value !== undefined) fromValue(c.value);
    if (c.typedResult?.result !== undefined) fromValue(c.typedResult.result);
    if (c.typedResult?.deducedType !== undefined) fromType(c.typedResult.deducedType);
  } catch (err) {
    if (err instanceof Unsupported) return "protobuf message types";
    throw err;
  }
  try {
    if (containsStruct(parse(c.expr, { enableOptionalSyntax: true }).expr)) return "protobuf message types";
  } catch {
    // Parse errors are the case's own business.
  }
  return undefined;
}

/** The compile options of a case, on top of `base` (a suite's extensions, say). */
export function caseOptions(c: Case, base: CompileOptions): CompileOptions {
  const variables: Record<string, Type> = {};
  for (const d of c.typeEnv ?? []) if (d.ident !== undefined) variables[d.name] = fromType(d.ident.type);
  return {
    ...base,
    dialect: "cel",
    ...(c.container !== undefined ? { container: c.container } : {}),
    ...(c.typeEnv !== undefined && !c.disableCheck ? { variables } : {}),
    ...(c.disableCheck ? { typeCheck: false } : {}),
  };
}

/**
 * Runs a case; throws (an assertion) when the engine disagrees with the expected outcome. An
 * expected error may be found by the checker, unless `errorsAtRuntime` (then the expression must
 * compile and fail when evaluated).
 */
export function runCase(c: Case, base: CompileOptions = {}, errorsAtRuntime = false): void {
  const options = caseOptions(c, base);
  const activation: Record<string, unknown> = {};
  for (const [k, b] of Object.entries(c.bindings ?? {})) activation[k] = fromValue(b.value);

  if (c.evalError !== undefined) {
    // An error at compile time (the checker proving it) or at evaluation both satisfy the case.
    let program;
    try {
      program = compile(c.expr, options);
    } catch (err) {
      expect(err).toBeInstanceOf(CompileError);
      if (errorsAtRuntime) throw err;
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
