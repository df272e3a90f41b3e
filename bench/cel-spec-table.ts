/**
 * `npm run conformance:table`: the cel-spec conformance table (the data `@bufbuild/cel-spec`
 * ships), suite by suite: how many of the cases that need no protobuf message types pass on
 * cancelkit (with the extension libraries each suite needs), on `@bufbuild/cel` (with its strings
 * extension) and on `@marcbachmann/cel-js` (optional types on), measured in the same run. Prints a
 * Markdown table for the README.
 *
 * A case passes when the engine gives the expected value, or fails (to compile or to evaluate)
 * where an error is expected. Cases declaring their own functions or needing messages are not
 * runnable and not counted.
 */
import { Environment, Optional } from "@marcbachmann/cel-js";
import type { ExtensionName } from "../src/expr/dialect.js";
import { formatType } from "../src/expr/types.js";
import { CelDuration, CelTimestamp, CelType, CelUint } from "../src/expr/values.js";
import { bufType, runBuf } from "../test/expr/support/bufbuild.js";
import { fromType, fromValue, sameValue } from "../test/expr/support/cel-values.js";
import { conformanceSuite, runCase, skipReason, type Case } from "../test/expr/support/conformance-case.js";

/** The suites of the table, each with the extension libraries cancelkit runs it with. */
const SUITES: readonly (readonly [string, readonly ExtensionName[]])[] = [
  ["basic", []],
  ["comparisons", []],
  ["conversions", []],
  ["fields", []],
  ["fp_math", []],
  ["integer_math", []],
  ["lists", []],
  ["logic", []],
  ["macros", []],
  ["namespace", []],
  ["parse", []],
  ["plumbing", []],
  ["string", []],
  ["timestamps", []],
  ["type_deductions", []],
  ["string_ext", ["strings"]],
  ["optionals", ["optionals"]],
  ["math_ext", ["math"]],
  ["macros2", ["two_var_comprehensions"]],
  ["bindings_ext", ["bindings"]],
  ["encoders_ext", ["encoders"]],
  ["block_ext", ["block", "optionals"]],
];

/** Core cases written with the optional syntax need the optionals library (cel-go's test environment has it). */
const OPTIONAL_SYNTAX = /\boptional\.|\.\?|\[\?|\{\?|\.orValue\(|\.hasValue\(/;

function expected(c: Case): unknown {
  return fromValue(c.value ?? c.typedResult?.result ?? { boolValue: true });
}

function activation(c: Case): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, b] of Object.entries(c.bindings ?? {})) out[k] = fromValue(b.value);
  return out;
}

function ours(c: Case, extensions: readonly ExtensionName[]): boolean {
  const needed = extensions.length === 0 && OPTIONAL_SYNTAX.test(c.expr) ? (["optionals"] as const) : extensions;
  try {
    runCase(c, { extensions: needed });
    return true;
  } catch {
    return false;
  }
}

function bufbuild(c: Case): boolean {
  let variables: Record<string, ReturnType<typeof bufType>>;
  try {
    variables = {};
    for (const d of c.typeEnv ?? []) if (d.ident !== undefined) variables[d.name] = bufType(formatType(fromType(d.ident.type)));
  } catch {
    return false;
  }
  const r = runBuf(c.expr, activation(c), variables, c.container ?? "");
  if (c.evalError !== undefined) return !r.ok;
  return r.ok && sameValue(r.value, expected(c));
}

const marcEnv = new Environment({ enableOptionalTypes: true, unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false });

/** Our value as `@marcbachmann/cel-js` input (string-keyed maps as objects). */
function toMarc(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toMarc);
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, w] of v) {
      if (typeof k !== "string") throw new Error("non-string key");
      o[k] = toMarc(w);
    }
    return o;
  }
  if (v instanceof CelUint || v instanceof CelTimestamp || v instanceof CelDuration || v instanceof CelType) throw new Error("no counterpart");
  return v;
}

/** A `@marcbachmann/cel-js` result in our model. */
function fromMarc(v: unknown): unknown {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(fromMarc);
  if (v instanceof Uint8Array) return v;
  if (v instanceof Date) return CelTimestamp.fromMillis(v.getTime());
  if (v instanceof Map) return new Map([...v].map(([k, w]) => [fromMarc(k), fromMarc(w)]));
  if (v instanceof Optional) throw new Error("optional result");
  const name = (v as { constructor: { name: string } }).constructor.name;
  if (name === "UnsignedInteger") return new CelUint(BigInt((v as { value: number | bigint }).value));
  if (name === "Duration") {
    const d = v as { seconds: bigint | number; nanos: number };
    return new CelDuration(Number(d.seconds), d.nanos);
  }
  if (name === "Type") return new CelType(String(v).replace(/^Type<(.*)>$/, "$1"));
  return new Map(Object.entries(v).map(([k, w]) => [k, fromMarc(w)]));
}

function marcbachmann(c: Case): boolean {
  let result: unknown;
  try {
    const act = activation(c);
    const input: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(act)) input[k] = toMarc(v);
    result = marcEnv.evaluate(c.expr, input);
  } catch {
    return c.evalError !== undefined;
  }
  if (c.evalError !== undefined) return false;
  try {
    return sameValue(fromMarc(result), expected(c));
  } catch {
    return false;
  }
}

interface Row {
  suite: string;
  runnable: number;
  cancelkit: number;
  bufbuild: number;
  marcbachmann: number;
}

function measure(): Row[] {
  const rows: Row[] = [];
  for (const [name, extensions] of SUITES) {
    const suite = conformanceSuite(name);
    const row: Row = { suite: name, runnable: 0, cancelkit: 0, bufbuild: 0, marcbachmann: 0 };
    for (const section of suite.suites ?? []) {
      for (const { original } of section.tests ?? []) {
        if (skipReason(original) !== undefined) continue;
        row.runnable++;
        if (ours(original, extensions)) row.cancelkit++;
        if (bufbuild(original)) row.bufbuild++;
        if (marcbachmann(original)) row.marcbachmann++;
      }
    }
    rows.push(row);
  }
  return rows;
}

const rows = measure();
const cell = (n: number, of: number): string => (n === of ? `**${n}/${of}**` : `${n}/${of}`);
const total = rows.reduce((t, r) => ({ ...t, runnable: t.runnable + r.runnable, cancelkit: t.cancelkit + r.cancelkit, bufbuild: t.bufbuild + r.bufbuild, marcbachmann: t.marcbachmann + r.marcbachmann }), {
  suite: "total",
  runnable: 0,
  cancelkit: 0,
  bufbuild: 0,
  marcbachmann: 0,
});
console.log("| suite | cancelkit | @bufbuild/cel 0.6.1 | @marcbachmann/cel-js 8.0.0 |");
console.log("|---|---|---|---|");
for (const r of [...rows, total]) console.log(`| ${r.suite} | ${cell(r.cancelkit, r.runnable)} | ${cell(r.bufbuild, r.runnable)} | ${cell(r.marcbachmann, r.runnable)} |`);
if (rows.some((r) => r.cancelkit !== r.runnable)) process.exitCode = 1;
