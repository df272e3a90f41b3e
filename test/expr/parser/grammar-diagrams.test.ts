/** The committed railroad diagrams must be what the current grammar generates (`npm run grammar`). */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { grammarDiagramsHtml } from "../../../src/expr/parser/diagrams.js";

describe("grammar/cel-grammar.html", () => {
  it("is up to date with the parser; run `npm run grammar` after changing the grammar", () => {
    const committed = readFileSync(new URL("../../../grammar/cel-grammar.html", import.meta.url), "utf8");
    expect(committed).toBe(grammarDiagramsHtml());
  });

  it("shows every rule of the parser", () => {
    const html = grammarDiagramsHtml();
    for (const rule of ["start", "expr", "binary", "operand", "messageConstruction", "rootedName", "exprList", "listLiteral", "mapLiteral", "fieldInitializerList"]) {
      expect(html).toContain(`"name": "${rule}"`);
    }
  });
});
