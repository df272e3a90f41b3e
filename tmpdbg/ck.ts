import { tests as checkingTests } from "@bufbuild/cel-spec/testdata/checking.js";
import { tests as parsingTests } from "@bufbuild/cel-spec/testdata/parsing.js";
import { fromType, Unsupported } from "../test/expr/support/cel-values.js";
for (const cases of [(checkingTests as any).tests, (parsingTests as any).tests]) for (const c of cases) {
  if (c.ast === undefined) continue;
  const text = `${c.checkedAst ?? ""}${c.error ?? ""}${c.type ?? ""}`;
  if (/google\.expr\.proto[23]|TestAllTypes|google\.protobuf\.(Any|Struct|Value|ListValue|\w+Value)\b|wrapper\(/.test(text + c.original.expr)) { console.log("regex", c.original.expr.slice(0,60)); continue; }
  try { for (const d of c.original.typeEnv ?? []) { if (d.ident !== undefined) fromType(d.ident.type); for (const o of d.function?.overloads ?? []) { for (const p of o.params ?? []) fromType(p); if (o.resultType !== undefined) fromType(o.resultType); } } }
  catch (e) { if (e instanceof Unsupported) console.log("unsupported", e.message, "|", c.original.expr.slice(0,60)); else throw e; }
}
