/**
 * The project's import rules, read from the sources: no import cycles among the modules of `src/`
 * (type-only and dynamic imports count: a cycle of types still ties two modules together), and
 * the one-way layering `expr ← cancel ← stores ← formats ← service` (a layer imports only itself and the
 * layers before it), and inside the engine the order of its parts. Only `src/expr/parser/`
 * imports `chevrotain`, and each database driver is imported only by its own store.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Module graph: file (relative to the repository, `/`-separated) → its imports. */
interface Graph {
  /** Imports of our own modules, resolved to files. */
  readonly local: ReadonlyMap<string, readonly string[]>;
  /** Imports of packages, by package name. */
  readonly packages: ReadonlyMap<string, readonly string[]>;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith(".d.ts")) out.push(path);
  }
  return out.sort();
}

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

function readGraph(files: readonly string[]): Graph {
  const local = new Map<string, string[]>();
  const packages = new Map<string, string[]>();
  for (const file of files) {
    const imports = ts.preProcessFile(readFileSync(join(ROOT, file), "utf8"), true, true).importedFiles.map((f) => f.fileName);
    const mine: string[] = [];
    const theirs: string[] = [];
    for (const specifier of imports) {
      if (specifier.startsWith(".") && /\.(css|svg|png|json)$/.test(specifier)) {
        // An asset the UI's bundler takes in, not a module.
      } else if (specifier.startsWith(".")) {
        const target = relative(ROOT, resolve(ROOT, dirname(file), specifier)).split("\\").join("/").replace(/\.js$/, ".ts");
        // A `.js` specifier names a `.ts` module, or a `.tsx` one (the UI's components).
        mine.push(existsSync(join(ROOT, target)) || !existsSync(join(ROOT, `${target}x`)) ? target : `${target}x`);
      } else if (!specifier.startsWith("node:")) {
        theirs.push(packageName(specifier));
      }
    }
    local.set(file, [...new Set(mine)]);
    packages.set(file, [...new Set(theirs)]);
  }
  return { local, packages };
}

/** The strongly connected components with more than one module (or a module importing itself). */
function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  // Tarjan's algorithm, iterative enough for a few hundred modules.
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return cycles.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/**
 * The layers in import order: a module may import its own layer and the layers before it. File
 * formats (`src/formats/`) read and write store records, and the service uses them.
 */
const LAYERS = ["src/expr/", "src/cancel/", "src/stores/", "src/formats/", "src/service/"] as const;

/**
 * The run-store contract: the interface the planner requires of a store and the pushdown predicate
 * tree it hands to stores. It belongs with the planner's layer (cancel imports it; it imports no
 * adapter), though it lives in `src/stores/`.
 */
const STORE_CONTRACT: readonly string[] = ["src/stores/types.ts", "src/stores/predicate.ts", "src/stores/limits.ts", "src/stores/store-error.ts"];

function layerOf(file: string): number {
  if (STORE_CONTRACT.includes(file)) return LAYERS.indexOf("src/cancel/");
  return LAYERS.findIndex((prefix) => file.startsWith(prefix));
}

/** Imports that go against the layering, as `from → to`. */
function layeringViolations(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const out: string[] = [];
  for (const [from, targets] of graph) {
    const layer = layerOf(from);
    if (layer < 0) continue;
    for (const to of targets) {
      const target = layerOf(to);
      // Outside every layer (the root entry `src/index.ts`) counts as above all of them.
      if (target < 0 || target > layer) out.push(`${from} → ${to}`);
    }
  }
  return out.sort();
}

/**
 * The parts of the engine (`src/expr/`) in import order: a part imports only parts of lower rank
 * (and itself; the shared base files of rank 0 import each other). Parts not listed are not checked.
 */
const ENGINE_RANKS: Readonly<Record<string, number>> = {
  "ast.ts": 0,
  "values.ts": 0,
  "types.ts": 0,
  "errors.ts": 0,
  "decls.ts": 0,
  "debug.ts": 0,
  "unparse.ts": 0,
  "decisions.ts": 0,
  parser: 1,
  runtime: 1,
  stdlib: 2,
  ext: 2,
  checker: 3,
  compiler: 4,
  jit: 5,
  "dialect.ts": 6,
  "inngest.ts": 7,
  "program.ts": 8,
  "index.ts": 9,
  // The aggregate matcher: built on compiled programs and the tree they expose.
  matcher: 9,
};

/** The part of the engine a file belongs to: its folder under `src/expr/`, or its own name. */
function enginePart(file: string): string | undefined {
  if (!file.startsWith("src/expr/")) return undefined;
  return file.slice("src/expr/".length).split("/")[0];
}

/** Imports inside the engine that go against {@link ENGINE_RANKS}, as `from → to`. */
function engineViolations(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const out: string[] = [];
  for (const [from, targets] of graph) {
    const a = enginePart(from);
    const ra = a === undefined ? undefined : ENGINE_RANKS[a];
    if (ra === undefined) continue;
    for (const to of targets) {
      const b = enginePart(to);
      const rb = b === undefined ? undefined : ENGINE_RANKS[b];
      if (rb === undefined || a === b || (ra === 0 && rb === 0)) continue;
      if (rb >= ra) out.push(`${from} → ${to}`);
    }
  }
  return out.sort();
}

/** Which modules may import a package (by path prefix); other packages are unrestricted. */
const PACKAGE_OWNERS: Readonly<Record<string, readonly string[]>> = {
  chevrotain: ["src/expr/parser/"],
  "better-sqlite3": ["src/stores/sqlite"],
  pg: ["src/stores/postgres"],
};

function packageViolations(packages: ReadonlyMap<string, readonly string[]>): string[] {
  const out: string[] = [];
  for (const [file, names] of packages) {
    for (const name of names) {
      const owners = PACKAGE_OWNERS[name];
      if (owners !== undefined && !owners.some((prefix) => file.startsWith(prefix))) out.push(`${file} imports ${name}`);
    }
  }
  return out.sort();
}

/**
 * Cycles known today, each removed by work in progress. The test fails when one of them is gone,
 * so that the list only ever shrinks.
 */
const KNOWN_CYCLES: readonly (readonly string[])[] = [];

describe("import rules of src/", () => {
  const graph = readGraph(sourceFiles("src"));

  it("reads every module and its imports", () => {
    expect(graph.local.size).toBeGreaterThan(50);
    expect(graph.local.get("src/index.ts")).toContain("src/expr/program.ts");
    // Every import of ours resolves to a module that exists.
    const missing = [...graph.local].flatMap(([from, targets]) => targets.filter((t) => !graph.local.has(t)).map((t) => `${from} → ${t}`));
    expect(missing).toEqual([]);
  });

  it("has no import cycles but the known ones", () => {
    expect(importCycles(graph.local)).toEqual(KNOWN_CYCLES.map((c) => [...c].sort()));
  });

  it("imports one way: expr ← cancel ← stores ← formats ← service", () => {
    expect(layeringViolations(graph.local)).toEqual([]);
  });

  it("imports one way inside the engine: runtime ← stdlib ← checker ← compiler ← jit ← dialects ← program", () => {
    expect(engineViolations(graph.local)).toEqual([]);
  });

  it("keeps the parser generator in the parser and each database driver in its store", () => {
    expect(packageViolations(graph.packages)).toEqual([]);
  });
});

describe("the import checks", () => {
  it("find cycles, self-imports included, and nothing in a graph without them", () => {
    const g = new Map<string, string[]>([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a", "d"]],
      ["d", []],
      ["e", ["e"]],
      ["f", ["d"]],
    ]);
    expect(importCycles(g)).toEqual([["a", "b", "c"], ["e"]]);
    expect(importCycles(new Map([["a", ["b"]], ["b", []]]))).toEqual([]);
  });

  it("find imports against the layering", () => {
    const g = new Map<string, string[]>([
      ["src/expr/a.ts", ["src/expr/b.ts", "src/cancel/c.ts"]],
      ["src/cancel/c.ts", ["src/expr/a.ts"]],
      ["src/cancel/d.ts", ["src/stores/types.ts", "src/stores/s.ts"]],
      ["src/stores/types.ts", ["src/stores/s.ts"]],
      ["src/stores/s.ts", ["src/service/x.ts", "src/index.ts", "src/stores/types.ts", "src/cancel/c.ts"]],
      ["src/service/x.ts", ["src/stores/s.ts", "src/expr/a.ts"]],
    ]);
    expect(layeringViolations(g)).toEqual([
      "src/cancel/d.ts → src/stores/s.ts",
      "src/expr/a.ts → src/cancel/c.ts",
      "src/stores/s.ts → src/index.ts",
      "src/stores/s.ts → src/service/x.ts",
      "src/stores/types.ts → src/stores/s.ts",
    ]);
  });

  it("find imports against the order of the engine's parts", () => {
    const g = new Map<string, string[]>([
      ["src/expr/compiler/a.ts", ["src/expr/compiler/b.ts", "src/expr/runtime/c.ts", "src/expr/jit/d.ts", "src/expr/dialect.ts"]],
      ["src/expr/ast.ts", ["src/expr/types.ts"]],
      ["src/expr/stdlib/x.ts", ["src/expr/ext/y.ts", "src/expr/unlisted/m.ts"]],
      ["src/expr/unlisted/m.ts", ["src/expr/program.ts"]],
      ["src/expr/matcher/m.ts", ["src/expr/program.ts", "src/expr/compiler/c.ts"]],
    ]);
    expect(engineViolations(g)).toEqual([
      "src/expr/compiler/a.ts → src/expr/dialect.ts",
      "src/expr/compiler/a.ts → src/expr/jit/d.ts",
      "src/expr/stdlib/x.ts → src/expr/ext/y.ts",
    ]);
  });

  it("find a driver imported outside its store", () => {
    const packages = new Map<string, string[]>([
      ["src/stores/postgres/store.ts", ["pg"]],
      ["src/service/x.ts", ["pg", "fastify"]],
      ["src/expr/checker/checker.ts", ["chevrotain"]],
    ]);
    expect(packageViolations(packages)).toEqual(["src/expr/checker/checker.ts imports chevrotain", "src/service/x.ts imports pg"]);
  });
});
