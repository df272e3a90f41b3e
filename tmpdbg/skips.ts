import { tests as conformance } from "@bufbuild/cel-spec/testdata/conformance.js";
import { tests as checkingTests } from "@bufbuild/cel-spec/testdata/checking.js";
import { tests as parsingTests } from "@bufbuild/cel-spec/testdata/parsing.js";
import { parse } from "../src/expr/parser/index.js";
import { fromType, fromValue, Unsupported } from "../test/expr/support/cel-values.js";
const CORE = ["basic","comparisons","conversions","fields","fp_math","integer_math","lists","logic","macros","namespace","parse","plumbing","string","timestamps","type_deductions","string_ext"];
const why: Record<string, number> = {};
const add = (k: string) => (why[k] = (why[k] ?? 0) + 1);
for (const s of (conformance as any).suites) { if (!CORE.includes(s.name)) continue;
  for (const sec of s.suites ?? []) for (const { original: c } of sec.tests ?? []) {
    if (/\boptional\.|\.\?|\[\?|\{\?|\.orValue\(|\.hasValue\(|\.value\(\)/.test(c.expr)) { add(`conf optional: ${c.expr.slice(0,40)}`); continue; }
    try {
      let fn = false;
      for (const d of c.typeEnv ?? []) { if (d.function !== undefined) { fn = true; break; } if (d.ident !== undefined) fromType(d.ident.type); }
      if (fn) { add("conf fn"); continue; }
      for (const b of Object.values(c.bindings ?? {}) as any[]) fromValue(b.value);
      if (c.value !== undefined) fromValue(c.value);
      if (c.typedResult?.result !== undefined) fromValue(c.typedResult.result);
      if (c.typedResult?.deducedType !== undefined) fromType(c.typedResult.deducedType);
    } catch (e) { if (e instanceof Unsupported) { add(`conf unsupported ${s.name}: ${e.message.replace(/\.[A-Za-z0-9_]+$/, "")}`); continue; } throw e; }
    try { const src = JSON.stringify(parse(c.expr, { enableOptionalSyntax: true })); if (src.includes('"struct"')) add(`conf struct ${s.name}`); } catch {}
  }
}
console.log(why);
