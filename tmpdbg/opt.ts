import { tests as checkingTests } from "@bufbuild/cel-spec/testdata/checking.js";
import { parse } from "../src/expr/parser/index.js";
for (const i of [122, 123, 128]) { const c = (checkingTests as any).tests[i]; console.log("=== cel-go\n" + c.error); try { parse(c.original.expr); } catch (e) { console.log("--- ours\n" + (e as Error).message); } }
