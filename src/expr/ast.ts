/**
 * The CEL abstract syntax tree: our own node types, independent of the parser library.
 *
 * Every node carries a numeric `id`, unique within one {@link ParsedAst}. Source positions
 * are not stored on nodes but in the {@link ParsedAst.spans} side table keyed by id (as in
 * cel-go), so later phases can build new nodes without inventing positions.
 *
 * @module
 */

/** A literal value as written in the source. */
export type Constant =
  | { readonly kind: "null" }
  | { readonly kind: "bool"; readonly value: boolean }
  /** A signed 64-bit integer, exact. */
  | { readonly kind: "int"; readonly value: bigint }
  /** An unsigned 64-bit integer, exact. */
  | { readonly kind: "uint"; readonly value: bigint }
  | { readonly kind: "double"; readonly value: number }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "bytes"; readonly value: Uint8Array };

/** A literal. */
export interface ConstExpr {
  readonly kind: "const";
  readonly id: number;
  readonly value: Constant;
}

/** A bare name: a variable, a function-less type name such as `int`, or the first part of a qualified name. */
export interface IdentExpr {
  readonly kind: "ident";
  readonly id: number;
  readonly name: string;
}

/** Whether an identifier or function name is resolved from the root scope only (`.x`). */
export function isRootScoped(name: string): boolean {
  // A character-code test rather than `startsWith`: the checker and compiler ask for every name.
  return name.charCodeAt(0) === 0x2e;
}

/** A name without the leading dot of a root-scoped name (`.x` → `x`). */
export function withoutRootDot(name: string): string {
  return isRootScoped(name) ? name.slice(1) : name;
}

/**
 * Field selection `operand.field`. With `testOnly` it is the expansion of `has(operand.field)`.
 * With `optional` it is the optional-syntax selection `operand.?field`.
 */
export interface SelectExpr {
  readonly kind: "select";
  readonly id: number;
  readonly operand: Expr;
  readonly field: string;
  readonly testOnly: boolean;
  readonly optional?: boolean;
}

/**
 * A function call. Operators are calls too, named as in cel-go: `_+_`, `_&&_`, `!_`, `-_`,
 * `_?_:_`, `_[_]`, `@in`, and so on. A receiver-style call `t.f(a)` has `target` set.
 */
export interface CallExpr {
  readonly kind: "call";
  readonly id: number;
  readonly fn: string;
  readonly target?: Expr;
  readonly args: readonly Expr[];
}

/** A list literal `[a, b]`. `optionalIndices` lists the positions written `?e` (optional syntax). */
export interface ListExpr {
  readonly kind: "list";
  readonly id: number;
  readonly elements: readonly Expr[];
  readonly optionalIndices: readonly number[];
}

/** One `key: value` entry of a map literal; it has its own id (cel-go's `CreateStruct_Entry`). */
export interface MapEntry {
  readonly id: number;
  readonly key: Expr;
  readonly value: Expr;
  readonly optional: boolean;
}

/** A map literal `{k: v}`. */
export interface MapExpr {
  readonly kind: "map";
  readonly id: number;
  readonly entries: readonly MapEntry[];
}

/** One `field: value` initialiser of a message construction. */
export interface StructField {
  readonly id: number;
  readonly field: string;
  readonly value: Expr;
  readonly optional: boolean;
}

/** Message construction `pkg.Type{field: value}`. Parsed always; the checker decides whether the type exists. */
export interface StructExpr {
  readonly kind: "struct";
  readonly id: number;
  readonly typeName: string;
  readonly fields: readonly StructField[];
}

/**
 * A fold over a list or map: the expansion of the `all`, `exists`, `exists_one`, `map`, `filter`
 * macros. `iterVar2` is set for two-variable comprehensions.
 */
export interface ComprehensionExpr {
  readonly kind: "comprehension";
  readonly id: number;
  readonly iterVar: string;
  readonly iterVar2?: string;
  readonly iterRange: Expr;
  readonly accuVar: string;
  readonly accuInit: Expr;
  readonly loopCondition: Expr;
  readonly loopStep: Expr;
  readonly result: Expr;
}

/** Any CEL expression node. */
export type Expr =
  | ConstExpr
  | IdentExpr
  | SelectExpr
  | CallExpr
  | ListExpr
  | MapExpr
  | StructExpr
  | ComprehensionExpr;

/** Half-open range `[start, end)` of UTF-16 code-unit offsets into the source text. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** A 1-based line and a 1-based column counted in Unicode code points (as cel-go counts runes). */
export interface Location {
  readonly line: number;
  readonly column: number;
}

/**
 * Source text with a line-offset table, so that a UTF-16 offset becomes a line and column on
 * demand without keeping positions on every node.
 */
export class Source {
  #lineStarts: readonly number[] | undefined;

  constructor(
    /** The expression text. */
    readonly text: string,
    /** The name printed in error messages; cel-go prints `<input>`. */
    readonly description = "<input>",
  ) {}

  /**
   * UTF-16 offset at which each line starts; `lineStarts[0]` is 0. Computed on first use: only
   * error messages need lines, and a valid expression's compile need not read its text again.
   */
  get lineStarts(): readonly number[] {
    if (this.#lineStarts === undefined) {
      const text = this.text;
      const starts = [0];
      for (let i = 0; i < text.length; i++) {
        if (text.charCodeAt(i) === 10) starts.push(i + 1);
      }
      this.#lineStarts = starts;
    }
    return this.#lineStarts;
  }

  /** Line and code-point column of a UTF-16 offset (clamped to the text). */
  locate(offset: number): Location {
    const clamped = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= clamped) lo = mid;
      else hi = mid - 1;
    }
    const lineStart = this.lineStarts[lo]!;
    let column = 1;
    for (let i = lineStart; i < clamped; i++) {
      const c = this.text.charCodeAt(i);
      // A surrogate pair is one code point: count its high half only.
      if (!(c >= 0xdc00 && c <= 0xdfff && i > lineStart && isHighSurrogate(this.text.charCodeAt(i - 1)))) column++;
    }
    return { line: lo + 1, column };
  }

  /** The text of a 1-based line, without its newline. */
  lineText(line: number): string {
    const start = this.lineStarts[line - 1];
    if (start === undefined) return "";
    const next = this.lineStarts[line];
    const end = next === undefined ? this.text.length : next - 1;
    return this.text.slice(start, end);
  }
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

/** The result of parsing: the (macro-expanded) tree and everything known about its source. */
export interface ParsedAst {
  readonly expr: Expr;
  readonly source: Source;
  /** Source span of every node id, including map entries and struct fields. */
  readonly spans: ReadonlyMap<number, Span>;
  /**
   * For each comprehension (or `has` select) produced by a macro, keyed by the id of the
   * expansion: the original call as written, for printing the expression back.
   */
  readonly macroCalls: ReadonlyMap<number, CallExpr>;
  /** One more than the largest id used, so later phases can allocate fresh ids. */
  readonly nextId: number;
}
