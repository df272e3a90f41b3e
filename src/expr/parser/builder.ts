/**
 * Node construction for the parser: id allocation, the span side table, the nesting-depth limit
 * and issue collection. It knows nothing about Chevrotain; the grammar actions and the macro
 * expanders build every node through it.
 *
 * @module
 */
import type {
  CallExpr,
  ComprehensionExpr,
  ConstExpr,
  Constant,
  Expr,
  IdentExpr,
  ListExpr,
  MapEntry,
  MapExpr,
  SelectExpr,
  Source,
  Span,
  StructExpr,
  StructField,
} from "../ast.js";
import { makeIssue, type Issue, type IssueCode } from "../errors.js";

/**
 * Thrown (and caught by `parse`) to stop parsing early: the nesting depth or the number of issues
 * went over its limit. It is not a Chevrotain recognition exception, so the parser's error
 * recovery lets it through.
 */
export class ParseAborted extends Error {
  override readonly name = "ParseAborted";
}

const NO_ARGS: readonly Expr[] = Object.freeze([]);
const NO_INDICES: readonly number[] = Object.freeze([]);

/**
 * Placeholder returned for input the parser could not make sense of (Chevrotain's recovery
 * value). It never reaches a caller: any issue makes `parse` throw. Id 0 is never allocated.
 */
export const RECOVERED: ConstExpr = Object.freeze({ kind: "const", id: 0, value: Object.freeze({ kind: "null" }) });

/** Source spans of every node id of one parse, stored compactly; `Span` objects are made on demand. */
export class SpanTable implements ReadonlyMap<number, Span> {
  readonly #starts: readonly number[];
  readonly #ends: readonly number[];

  constructor(starts: readonly number[], ends: readonly number[]) {
    this.#starts = starts;
    this.#ends = ends;
  }

  get size(): number {
    return Math.max(0, this.#starts.length - 1);
  }

  has(id: number): boolean {
    return Number.isInteger(id) && id >= 1 && id < this.#starts.length;
  }

  get(id: number): Span | undefined {
    return this.has(id) ? { start: this.#starts[id]!, end: this.#ends[id]! } : undefined;
  }

  forEach(callback: (value: Span, key: number, map: ReadonlyMap<number, Span>) => void, thisArg?: unknown): void {
    for (const [id, span] of this.entries()) callback.call(thisArg, span, id, this);
  }

  *entries(): MapIterator<[number, Span]> {
    for (let id = 1; id < this.#starts.length; id++) yield [id, { start: this.#starts[id]!, end: this.#ends[id]! }];
  }

  *keys(): MapIterator<number> {
    for (let id = 1; id < this.#starts.length; id++) yield id;
  }

  *values(): MapIterator<Span> {
    for (const [, span] of this.entries()) yield span;
  }

  [Symbol.iterator](): MapIterator<[number, Span]> {
    return this.entries();
  }
}

/** Limits and switches the builder enforces; see `ParseOptions` for their meaning. */
export interface BuilderLimits {
  readonly maxDepth: number;
  readonly maxIssues: number;
}

const NO_LIBRARIES: ReadonlySet<string> = new Set();

/**
 * Allocates ids in creation order (starting at 1), records the span of each id, tracks the depth
 * of every node so that a too deep tree is rejected while it is being built (never walked
 * recursively), and collects issues.
 */
export class AstBuilder {
  source!: Source;
  nextId = 1;
  issues: Issue[] = [];
  /** Issues found beyond `maxIssues`, counted but not kept. */
  truncated = 0;
  macroCalls: Map<number, CallExpr> | undefined;
  /** Single- and double-quoted strings are taken verbatim (Inngest's lifted literals). */
  liftedStrings = false;
  /** The extension libraries whose macros are expanded (see `ext-macros.ts`); none by default. */
  macroLibraries: ReadonlySet<string> = NO_LIBRARIES;
  #limits: BuilderLimits = { maxDepth: 250, maxIssues: 100 };
  // Plain arrays of small integers: cheaper to copy into a SpanTable than typed arrays.
  #starts: number[] = [0];
  #ends: number[] = [0];
  #depths: number[] = [0];

  reset(source: Source, limits: BuilderLimits): void {
    this.source = source;
    this.nextId = 1;
    this.issues = [];
    this.truncated = 0;
    this.macroCalls = undefined;
    this.#limits = limits;
  }

  /** Forgets the nodes and the issues found after the first `issueCount`, to parse again. */
  rewind(issueCount: number): void {
    this.nextId = 1;
    if (this.issues.length !== issueCount) this.issues.length = issueCount;
    this.truncated = 0;
    this.macroCalls = undefined;
  }

  /** Allocates the next id with its source span `[start, end)`. */
  newId(start: number, end: number): number {
    const id = this.nextId++;
    this.#starts[id] = start;
    this.#ends[id] = end;
    this.#depths[id] = 0;
    return id;
  }

  spanStart(id: number): number {
    return this.#starts[id]!;
  }

  spanEnd(id: number): number {
    return this.#ends[id]!;
  }

  /** A snapshot of the spans allocated so far, owned by the caller. */
  spans(): SpanTable {
    return new SpanTable(this.#starts.slice(0, this.nextId), this.#ends.slice(0, this.nextId));
  }

  /** Records the depth of a composite node from its deepest child and enforces the limit. */
  #nest(id: number, childDepth: number): void {
    const depth = childDepth + 1;
    if (depth > this.#limits.maxDepth) {
      this.report("limit_exceeded", "max recursion depth exceeded", -1, -1);
      throw new ParseAborted("max recursion depth exceeded");
    }
    this.#depths[id] = depth;
  }

  /**
   * While true, an issue beyond `maxIssues` stops the parse ({@link ParseAborted}); while false
   * (lexical errors, whose number the input length bounds) it is only counted.
   */
  abortOnLimit = true;

  /** Records an issue, or counts it as truncated beyond `maxIssues`. */
  report(code: IssueCode, message: string, start: number, end: number): void {
    if (this.issues.length >= this.#limits.maxIssues) {
      this.truncated++;
      if (this.abortOnLimit) throw new ParseAborted("too many issues");
      return;
    }
    this.issues.push(makeIssue(this.source, code, message, { start, end }));
  }

  constant(value: Constant, start: number, end: number): ConstExpr {
    return { kind: "const", id: this.newId(start, end), value };
  }

  ident(name: string, start: number, end: number): IdentExpr {
    return { kind: "ident", id: this.newId(start, end), name };
  }

  /** A fresh placeholder with its own id, for input already reported as an issue. */
  errorNode(start: number, end: number): ConstExpr {
    return this.constant({ kind: "null" }, start, end);
  }

  select(id: number, operand: Expr, field: string, testOnly: boolean): SelectExpr {
    this.#nest(id, this.#depths[operand.id]!);
    return { kind: "select", id, operand, field, testOnly };
  }

  call(id: number, fn: string, args: readonly Expr[]): CallExpr {
    let deepest = 0;
    for (const arg of args) deepest = Math.max(deepest, this.#depths[arg.id]!);
    this.#nest(id, deepest);
    return { kind: "call", id, fn, args: args.length === 0 ? NO_ARGS : args };
  }

  call1(id: number, fn: string, arg: Expr): CallExpr {
    this.#nest(id, this.#depths[arg.id]!);
    return { kind: "call", id, fn, args: [arg] };
  }

  call2(id: number, fn: string, left: Expr, right: Expr): CallExpr {
    this.#nest(id, Math.max(this.#depths[left.id]!, this.#depths[right.id]!));
    return { kind: "call", id, fn, args: [left, right] };
  }

  receiverCall(id: number, fn: string, target: Expr, args: readonly Expr[]): CallExpr {
    let deepest = this.#depths[target.id]!;
    for (const arg of args) deepest = Math.max(deepest, this.#depths[arg.id]!);
    this.#nest(id, deepest);
    return { kind: "call", id, fn, target, args: args.length === 0 ? NO_ARGS : args };
  }

  list(id: number, elements: readonly Expr[], optionalIndices: readonly number[]): ListExpr {
    let deepest = 0;
    for (const e of elements) deepest = Math.max(deepest, this.#depths[e.id]!);
    this.#nest(id, deepest);
    return {
      kind: "list",
      id,
      elements: elements.length === 0 ? NO_ARGS : elements,
      optionalIndices: optionalIndices.length === 0 ? NO_INDICES : optionalIndices,
    };
  }

  /** Entries and fields are not expressions: they add no level of their own. */
  mapEntry(id: number, key: Expr, value: Expr, optional: boolean): MapEntry {
    this.#depths[id] = Math.max(this.#depths[key.id]!, this.#depths[value.id]!);
    return { id, key, value, optional };
  }

  map(id: number, entries: readonly MapEntry[]): MapExpr {
    let deepest = 0;
    for (const e of entries) deepest = Math.max(deepest, this.#depths[e.id]!);
    this.#nest(id, deepest);
    return { kind: "map", id, entries };
  }

  structField(id: number, field: string, value: Expr, optional: boolean): StructField {
    this.#depths[id] = this.#depths[value.id]!;
    return { id, field, value, optional };
  }

  struct(id: number, typeName: string, fields: readonly StructField[]): StructExpr {
    let deepest = 0;
    for (const f of fields) deepest = Math.max(deepest, this.#depths[f.id]!);
    this.#nest(id, deepest);
    return { kind: "struct", id, typeName, fields };
  }

  comprehension(
    id: number,
    iterVar: string,
    iterRange: Expr,
    accuVar: string,
    accuInit: Expr,
    loopCondition: Expr,
    loopStep: Expr,
    result: Expr,
    iterVar2?: string,
  ): ComprehensionExpr {
    const deepest = Math.max(
      this.#depths[iterRange.id]!,
      this.#depths[accuInit.id]!,
      this.#depths[loopCondition.id]!,
      this.#depths[loopStep.id]!,
      this.#depths[result.id]!,
    );
    this.#nest(id, deepest);
    const e: ComprehensionExpr = { kind: "comprehension", id, iterVar, iterRange, accuVar, accuInit, loopCondition, loopStep, result };
    return iterVar2 === undefined ? e : { ...e, iterVar2 };
  }
}
