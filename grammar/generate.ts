/**
 * Regenerates `grammar/cel-grammar.html` from the parser (`npm run grammar`). The parser tests
 * fail when the committed page differs from what the current grammar produces.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { grammarDiagramsHtml } from "../src/expr/parser/diagrams.js";

const target = fileURLToPath(new URL("./cel-grammar.html", import.meta.url));
writeFileSync(target, grammarDiagramsHtml());
console.log(`wrote ${target}`);
