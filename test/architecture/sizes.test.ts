/**
 * Small units: no source file of `src/expr/`, `src/cancel/`, `src/stores/` or `src/formats/` over
 * 800 lines and no function over 150, read from the sources. Known exceptions are listed with their
 * reason, and the test fails when one of them is no longer over the limit, so that the list only
 * shrinks.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const MAX_FILE_LINES = 800;
const MAX_FUNCTION_LINES = 150;

/** Units over a limit, each with the reason it may be. */
const KNOWN_OVERSIZE: Readonly<Record<string, string>> = {};

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) out.push(path);
  }
  return out.sort();
}

/** Files and functions over the limits of one source text, as `file` or `file: name (line)`. */
function oversize(file: string, text: string): string[] {
  const out: string[] = [];
  const lines = text.split("\n").length;
  if (lines > MAX_FILE_LINES) out.push(file);
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && "body" in node && node.body !== undefined) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.end).line;
      if (last - first + 1 > MAX_FUNCTION_LINES) {
        const name = node.name !== undefined && ts.isIdentifier(node.name) ? node.name.text : "<anonymous>";
        out.push(`${file}: ${name} (line ${first + 1})`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

describe("sizes in src/expr/", () => {
  it(`has no file over ${MAX_FILE_LINES} lines and no function over ${MAX_FUNCTION_LINES}, but the known ones`, () => {
    const files = sourceFiles("src/expr");
    expect(files.length).toBeGreaterThan(40);
    const found = files.flatMap((file) => oversize(file, readFileSync(join(ROOT, file), "utf8")));
    expect(found).toEqual(Object.keys(KNOWN_OVERSIZE).sort());
  });
});

describe("sizes in src/cancel/, src/stores/ and src/formats/", () => {
  it(`has no file over ${MAX_FILE_LINES} lines and no function over ${MAX_FUNCTION_LINES}`, () => {
    const files = ["src/cancel", "src/stores", "src/formats"].flatMap(sourceFiles);
    expect(files.length).toBeGreaterThan(30);
    expect(files.flatMap((file) => oversize(file, readFileSync(join(ROOT, file), "utf8")))).toEqual([]);
  });
});

describe("the size check", () => {
  it("finds a long file and a long function, nested ones too", () => {
    const body = Array.from({ length: MAX_FUNCTION_LINES }, (_, k) => `  const x${k} = ${k};`).join("\n");
    const text = `export function long() {\n${body}\n}\nclass C {\n  m() {\n    return () => {\n${body}\n    };\n  }\n}\n`;
    expect(oversize("a.ts", text)).toEqual([
      "a.ts: long (line 1)",
      `a.ts: m (line ${MAX_FUNCTION_LINES + 4})`,
      `a.ts: <anonymous> (line ${MAX_FUNCTION_LINES + 5})`,
    ]);
    const short = "function f() {\n  return 1;\n}\n";
    expect(oversize("b.ts", short)).toEqual([]);
    expect(oversize("c.ts", short.repeat(MAX_FILE_LINES / 3 + 1))).toEqual(["c.ts"]);
  });
});
