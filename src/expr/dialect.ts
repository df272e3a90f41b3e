/**
 * Dialects: the rules that differ between the CEL specification and Inngest's evaluation, each a
 * field of {@link Dialect} (those the compiler reads: `lenient`, `functions`, `calls`,
 * `otherCall`), so that no part of the engine tests a dialect by its name.
 *
 * @module
 */
import { STANDARD_CALLS } from "./compiler/calls.js";
import type { CallCompiler, CompilerDialect } from "./compiler/hooks.js";
import { MATH_CALLS } from "./compiler/math.js";
import { OPTIONAL_CALLS } from "./compiler/optionals.js";
import { functionTable, type FunctionDecl } from "./decls.js";
import { BLOCK_EXTENSION, TWO_VAR_COMPREHENSIONS_EXTENSION } from "./ext/comprehensions.js";
import { ENCODERS_EXTENSION } from "./ext/encoders.js";
import { LISTS_EXTENSION } from "./ext/lists.js";
import { MATH_EXTENSION } from "./ext/math.js";
import { OPTIONALS_EXTENSION } from "./ext/optionals.js";
import { REGEX_EXTENSION } from "./ext/regex.js";
import { SETS_EXTENSION } from "./ext/sets.js";
import { STRINGS_EXTENSION } from "./ext/strings.js";
import type { MacroLibrary } from "./parser/index.js";
import { STANDARD_FUNCTIONS } from "./stdlib/index.js";
import { optionalType, paramType, typeType, type Type } from "./types.js";

/** Name of a dialect. */
export type DialectName = "cel" | "inngest";

/** What a dialect changes. */
export interface Dialect extends CompilerDialect {
  readonly name: DialectName;
  /**
   * `&&`, `||` and the condition of `?:` take operands of any type and test them for truthiness
   * (the checker accepts them); otherwise they take booleans.
   */
  readonly truthiness: boolean;
  /** Variables declared when the caller declares none; `undefined` means every name is `dyn`. */
  readonly defaultVariables: ReadonlyMap<string, Type> | undefined;
  /** Operators accepting operands of any types, with their result type (see the checker). */
  readonly looseOperators?: ReadonlyMap<string, Type>;
  /**
   * Whether the quoted string literals of `source` are lifted out before parsing, kept as written
   * (no escape decoding). Default: never.
   */
  readonly liftsStrings?: (source: string) => boolean;
  /** Extension libraries whose macros the parser expands. Default none. */
  readonly extensionMacros?: readonly MacroLibrary[];
  /** The parser accepts the optional syntax (`a.?b`, `[?e]`, …). Default false. */
  readonly optionalSyntax?: boolean;
  /** Type identifiers beyond the standard ones (`optional_type`). Default none. */
  readonly typeIdentifiers?: ReadonlyMap<string, Type>;
  /** The extension libraries on top of the dialect's own functions, sorted (see {@link withExtensions}). */
  readonly extensions?: readonly ExtensionName[];
}

/** The CEL specification: standard library plus the strings extension. */
export const CEL_DIALECT: Dialect = {
  name: "cel",
  lenient: false,
  truthiness: false,
  functions: functionTable(STANDARD_FUNCTIONS, STRINGS_EXTENSION),
  defaultVariables: undefined,
  calls: STANDARD_CALLS,
};

/**
 * The names of cel-go's extension libraries that `compile(source, { extensions })` can add to
 * the `cel` dialect (`docs/cel-extensions.md` lists their functions).
 */
export const EXTENSION_NAMES = [
  "strings",
  "math",
  "encoders",
  "lists",
  "sets",
  "bindings",
  "optionals",
  "two_var_comprehensions",
  "regex",
  "block",
] as const;

/** The name of an extension library. */
export type ExtensionName = (typeof EXTENSION_NAMES)[number];

/** What one extension library brings. */
interface ExtensionLibrary {
  readonly functions: readonly FunctionDecl[];
  readonly macros?: MacroLibrary;
  /** Libraries it needs (the regex library's `regex.extract` returns an optional). */
  readonly needs?: readonly ExtensionName[];
}

const LIBRARIES: Readonly<Record<ExtensionName, ExtensionLibrary>> = {
  strings: { functions: STRINGS_EXTENSION },
  math: { functions: MATH_EXTENSION, macros: "math" },
  encoders: { functions: ENCODERS_EXTENSION },
  lists: { functions: LISTS_EXTENSION, macros: "lists" },
  sets: { functions: SETS_EXTENSION },
  bindings: { functions: [], macros: "bindings" },
  optionals: { functions: OPTIONALS_EXTENSION, macros: "optionals" },
  two_var_comprehensions: { functions: TWO_VAR_COMPREHENSIONS_EXTENSION, macros: "two_var_comprehensions" },
  regex: { functions: REGEX_EXTENSION, needs: ["optionals"] },
  block: { functions: BLOCK_EXTENSION, macros: "block" },
};

/** The extension libraries a `compile` option names: validated, with what they need, sorted. */
export function resolveExtensions(option: readonly string[] | "all" | undefined): readonly ExtensionName[] {
  if (option === undefined) return [];
  if (option === "all") return [...EXTENSION_NAMES].sort();
  if (!Array.isArray(option)) throw new TypeError("compile: extensions must be an array of library names or 'all'");
  const out = new Set<ExtensionName>();
  for (const name of option) {
    if (!(EXTENSION_NAMES as readonly string[]).includes(name)) {
      throw new TypeError(`compile: unknown extension '${String(name)}' (known: ${EXTENSION_NAMES.join(", ")})`);
    }
    out.add(name as ExtensionName);
    for (const n of LIBRARIES[name as ExtensionName].needs ?? []) out.add(n);
  }
  return [...out].sort();
}

const OPTIONAL_TYPE_IDENTIFIERS: ReadonlyMap<string, Type> = new Map([["optional_type", typeType(optionalType(paramType("V")))]]);

const extended = new Map<string, Dialect>();

/**
 * `dialect` with the extension libraries `names` (from {@link resolveExtensions}) added: their
 * functions, macros, syntax and type names. Made once per combination.
 */
export function withExtensions(dialect: Dialect, names: readonly ExtensionName[]): Dialect {
  if (names.length === 0) return dialect;
  const key = `${dialect.name}:${names.join(",")}`;
  const known = extended.get(key);
  if (known !== undefined) return known;
  const libs = names.map((n) => LIBRARIES[n]);
  const optionals = names.includes("optionals");
  const calls = new Map<string, CallCompiler>(dialect.calls);
  if (optionals) for (const [k, c] of OPTIONAL_CALLS) calls.set(k, c);
  if (names.includes("math")) for (const [k, c] of MATH_CALLS) calls.set(k, c);
  const d: Dialect = {
    ...dialect,
    functions: functionTable([...dialect.functions.values()], ...libs.map((l) => l.functions)),
    calls,
    extensionMacros: libs.flatMap((l) => (l.macros === undefined ? [] : [l.macros])),
    optionalSyntax: optionals,
    ...(optionals ? { typeIdentifiers: OPTIONAL_TYPE_IDENTIFIERS } : {}),
    extensions: names,
  };
  extended.set(key, d);
  return d;
}
