/**
 * The cost model of one evaluation, shared by the runtime budget and the static estimate.
 *
 * At run time a program charges its context (`ctx.cost`) for the work whose amount depends on the
 * data: every comprehension iteration (weighed by the nodes its body evaluates), every string,
 * byte string or list scanned or built (by its size), every list or map literal built, a
 * regular expression compiled from data (by the pattern's size, before compiling it), and the work
 * of a function that grows faster than its arguments (pairs of elements compared, a sort), as its
 * overload declares it (`OverloadDecl.cost`, estimated by `overloadWork`). Work whose
 * amount the source text bounds (the nodes outside any loop) is not charged at run time.
 *
 * At compile time {@link estimateCheckedCost} walks the checked AST, as cel-go's `EstimateCost`
 * does, and bounds what any evaluation can charge plus the nodes it evaluates once, from size
 * estimates of every value: a value read from the activation (a variable or any part of one) is at
 * most {@link CostEstimateOptions.inputSize} JSON bytes, so a string of it has at most that many
 * characters and a list or map at most half as many entries; sizes of what the expression builds
 * follow from its operands. The estimate is an upper bound of the runtime charge for inputs within
 * those sizes (a property test holds it to that).
 *
 * @module
 */
import type { CallExpr, ComprehensionExpr, Expr } from "../ast.js";
import type { OverloadDecl } from "../decls.js";
import type { Type } from "../types.js";
import { CelUint } from "../values.js";
import { type CheckedAst, overloadsOf } from "./checker.js";
import { AFFIX_TESTS, APPEND_COST, ITERATION_COST, type LoopParts, loopParts, REGEX_COMPILE_COST, REGEX_OVERLOADS, REGEX_SHIFT, SCAN_SHIFT, scansLists, scanWeight, type TwoVarLoop, twoVarLoop } from "./charges.js";

/** A range of cost units: the least and the most one evaluation may spend. */
export interface CostEstimate {
  readonly min: number;
  readonly max: number;
}

/** Options of {@link estimateCheckedCost}. */
export interface CostEstimateOptions {
  /**
   * The largest JSON size, in bytes, assumed of each variable of the activation (and so of any
   * value read from one). Default {@link DEFAULT_INPUT_SIZE}: Inngest's largest event on its
   * free plan, 256 KiB.
   */
  readonly inputSize?: number;
}

/** Default {@link CostEstimateOptions.inputSize}: 256 KiB, Inngest's maximum event size on its free plan. */
export const DEFAULT_INPUT_SIZE = 131_072;


// ---------------------------------------------------------------------------------------------
// Size estimates

/**
 * The largest size a value may have: `chars` for a string or bytes, `items` for a list or map,
 * `elem` for its elements (and map keys), `repr` for the length of its text form (the inngest
 * dialect's mixed `+` concatenates text forms).
 */
interface Size {
  readonly chars: number;
  readonly items: number;
  readonly elem: Size | undefined;
  readonly repr: number;
  /**
   * Set for a part of the input (or of parsed JSON): the JSON bytes it holds, which its elements
   * share, so that their sizes sum to at most this.
   */
  readonly budget?: number;
  /**
   * The largest value of an int or uint that is known to be bounded (a constant, a `size`, an index,
   * an element of `lists.range(n)`); absent when any value is possible. It bounds what
   * `lists.range` builds.
   */
  readonly int?: number;
}

/** Nesting of amortised loops past which a loop is estimated as n × its costliest iteration (still an upper bound). */
const MAX_AMORTISED_DEPTH = 10;
/**
 * Node visits after which no further loop is amortised: amortising estimates a loop's body twice,
 * so nested amortised loops multiply the work; past this the estimate stays one pass per node
 * (looser, still an upper bound) and compiling a large expression stays fast.
 */
const AMORTISE_VISITS = 20_000;

/** A scalar's text form is at most this long (a double, a timestamp). */
const SCALAR_REPR = 32;

const ZERO: Size = { chars: 0, items: 0, elem: undefined, repr: SCALAR_REPR };
const UNBOUNDED: Size = { chars: Infinity, items: Infinity, elem: undefined, repr: Infinity };

/** A value of at most `bytes` JSON bytes, and every part of it (cyclic: a part is no larger). */
function boundedInput(bytes: number): Size {
  const size = { chars: bytes, items: Math.ceil(bytes / 2), elem: undefined as Size | undefined, repr: 6 * bytes + SCALAR_REPR, budget: bytes };
  size.elem = size;
  return size;
}

function sized(chars: number, items: number, elem: Size | undefined): Size {
  const elemRepr = elem === undefined ? 0 : elem.repr + 2;
  return { chars, items, elem, repr: 6 * chars + items * elemRepr + SCALAR_REPR };
}

/** A scalar that is an int or uint of at most `max`. */
function intAtMost(max: number): Size {
  return { ...ZERO, int: max };
}

/** `s` with any int value possible. */
function anyInt(s: Size): Size {
  if (s.int === undefined) return s;
  const { int: _bounded, ...rest } = s;
  return rest;
}

function union(a: Size, b: Size): Size {
  if (a === b) return a;
  // ZERO stands for any scalar, so an int of it is unbounded.
  if (a === ZERO) return anyInt(b);
  if (b === ZERO) return anyInt(a);
  // Two parts of inputs (cyclic, any int): the larger holds the other.
  if (a.budget !== undefined && b.budget !== undefined) return a.budget >= b.budget ? a : b;
  const elem = a.elem === undefined ? b.elem : b.elem === undefined ? a.elem : union(a.elem, b.elem);
  const joined = { chars: Math.max(a.chars, b.chars), items: Math.max(a.items, b.items), elem, repr: Math.max(a.repr, b.repr) };
  return a.int !== undefined && b.int !== undefined ? { ...joined, int: Math.max(a.int, b.int) } : joined;
}

function sizeOfValue(v: unknown, depth = 0): Size {
  if (typeof v === "string") return sized(v.length, 0, undefined);
  if (typeof v === "bigint") return intAtMost(Number(v));
  if (v instanceof CelUint) return intAtMost(Number(v.value));
  if (v instanceof Uint8Array) return sized(v.length, 0, undefined);
  if (depth > 64) return UNBOUNDED;
  if (Array.isArray(v)) {
    let elem: Size | undefined;
    for (const x of v) elem = elem === undefined ? sizeOfValue(x, depth + 1) : union(elem, sizeOfValue(x, depth + 1));
    return sized(0, v.length, elem);
  }
  if (v instanceof Map) {
    let elem: Size | undefined;
    for (const [k, x] of v) {
      const s = union(sizeOfValue(k, depth + 1), sizeOfValue(x, depth + 1));
      elem = elem === undefined ? s : union(elem, s);
    }
    return sized(0, v.size, elem);
  }
  return ZERO;
}

const SCALAR_KINDS: ReadonlySet<string> = new Set(["bool", "int", "uint", "double", "null", "timestamp", "duration", "type"]);

/** Narrows a size by the checked type: a scalar has none, a string no items, a list no characters. */
function narrow(s: Size, t: Type | undefined): Size {
  if (t === undefined) return s;
  if ((t.kind === "int" || t.kind === "uint") && s.int !== undefined) return s.items === 0 && s.chars === 0 ? s : intAtMost(s.int);
  if (SCALAR_KINDS.has(t.kind)) return ZERO;
  if (t.kind === "string" || t.kind === "bytes") return s.items === 0 ? s : { ...s, items: 0 };
  if (t.kind === "list" || t.kind === "map") return s.chars === 0 ? s : { ...s, chars: 0 };
  return s;
}

/** Units charged for scanning (or building) a value of size `s`. */
function scanCost(s: Size, weight = 1, lists = true): number {
  // Exact, not rounded: the runtime rounds down, and sums of linear terms stay convex (see comprehension()).
  return (weight * s.chars) / (1 << SCAN_SHIFT) + (lists ? s.items : 0);
}

// ---------------------------------------------------------------------------------------------
// The estimator

interface Estimate {
  readonly min: number;
  readonly max: number;
  readonly size: Size;
}

/**
 * The cost of one evaluation of a checked expression, from its least (every short-circuit taken,
 * every input empty) to its most (every input at its assumed largest size). `constants` are the
 * subtrees the compiler folded (they cost nothing at run time). `trustTypes`: whether a node's
 * checked type bounds its value (not in the inngest dialect, whose loose `+` makes a string of a
 * list); the result types of the overloads are trusted either way.
 */
export function estimateCheckedCost(
  checked: CheckedAst,
  constants: ReadonlyMap<number, unknown> = new Map(),
  options: CostEstimateOptions = {},
  trustTypes = true,
): CostEstimate {
  const e = new Estimator(checked, constants, boundedInput(options.inputSize ?? DEFAULT_INPUT_SIZE), trustTypes).estimate(checked.expr);
  return { min: e.min, max: Math.ceil(e.max) };
}

/**
 * The subexpression that makes an evaluation cost more than `limit`: the deepest node whose own
 * estimate exceeds it, for pointing an error at. `undefined` when the whole fits.
 */
export function costliestNode(
  checked: CheckedAst,
  constants: ReadonlyMap<number, unknown>,
  limit: number,
  options: CostEstimateOptions = {},
  trustTypes = true,
): { readonly expr: Expr; readonly max: number } | undefined {
  const estimator = new Estimator(checked, constants, boundedInput(options.inputSize ?? DEFAULT_INPUT_SIZE), trustTypes);
  const root = estimator.estimate(checked.expr);
  if (!(root.max > limit)) return undefined;
  let found: { expr: Expr; max: number } | undefined;
  // Nodes are reported children first: the first one over the limit is a deepest one.
  estimator.onNode = (expr, max) => {
    if (found === undefined && max > limit) found = { expr, max };
  };
  estimator.estimate(checked.expr);
  return found;
}

class Estimator {
  /** Local variables in scope (comprehension variables) and their sizes. */
  private readonly locals = new Map<string, Size[]>();
  /** How many amortised loops enclose the node being estimated (each doubles the work of estimating). */
  private amortised = 0;
  /** Nodes estimated so far. */
  private visits = 0;
  /** Called with each node's maximum once estimated (deepest first). */
  onNode: ((e: Expr, max: number) => void) | undefined;

  constructor(
    private readonly checked: CheckedAst,
    private readonly constants: ReadonlyMap<number, unknown>,
    private readonly input: Size,
    private readonly trustTypes: boolean,
  ) {}

  estimate(e: Expr): Estimate {
    this.visits++;
    const r = this.node(e);
    const size = this.trustTypes ? narrow(r.size, this.checked.types.get(e.id)) : r.size;
    this.onNode?.(e, r.max);
    return { min: r.min, max: r.max, size };
  }

  private node(e: Expr): Estimate {
    if (e.kind === "const") return { min: 0, max: 0, size: sizeOfValue(constantValue(e)) };
    if (this.constants.has(e.id)) return { min: 0, max: 0, size: sizeOfValue(this.constants.get(e.id)) };
    switch (e.kind) {
      case "ident": {
        const local = this.locals.get(e.name);
        return { min: 1, max: 1, size: local !== undefined && local.length > 0 ? local[local.length - 1]! : this.input };
      }
      case "select": {
        const o = this.estimate(e.operand);
        return { min: 1 + o.min, max: 1 + o.max, size: e.testOnly ? ZERO : (o.size.elem ?? ZERO) };
      }
      case "list": {
        let min = 1 + e.elements.length;
        let max = min;
        let elem: Size | undefined;
        for (const x of e.elements) {
          const r = this.estimate(x);
          min += r.min;
          max += r.max;
          elem = elem === undefined ? r.size : union(elem, r.size);
        }
        return { min, max, size: sized(0, e.elements.length, elem) };
      }
      case "map": {
        let min = 1 + e.entries.length;
        let max = min;
        let elem: Size | undefined;
        for (const x of e.entries) {
          const k = this.estimate(x.key);
          const v = this.estimate(x.value);
          min += k.min + v.min;
          max += k.max + v.max;
          const s = union(k.size, v.size);
          elem = elem === undefined ? s : union(elem, s);
        }
        return { min, max, size: sized(0, e.entries.length, elem) };
      }
      case "struct": {
        let min = 1;
        let max = 1;
        for (const f of e.fields) {
          const r = this.estimate(f.value);
          min += r.min;
          max += r.max;
        }
        return { min, max, size: UNBOUNDED };
      }
      case "comprehension":
        return this.comprehension(e);
      case "call":
        return this.call(e);
    }
  }

  private withLocal<R>(name: string, size: Size, f: () => R): R {
    let stack = this.locals.get(name);
    if (stack === undefined) this.locals.set(name, (stack = []));
    stack.push(size);
    try {
      return f();
    } finally {
      stack.pop();
    }
  }

  private comprehension(e: ComprehensionExpr): Estimate {
    const call = this.checked.parsed.macroCalls.get(e.id);
    const twoVar = twoVarLoop(e, call);
    if (twoVar !== undefined) return this.twoVarComprehension(e, twoVar);
    const range = this.estimate(e.iterRange);
    const init = this.estimate(e.accuInit);
    const parts = loopParts(e, call);
    const n = range.size.items;
    // The accumulator of a general loop may grow without a bound the estimator can see, unless
    // the loop never runs (`cel.bind` is one over an empty list): then it is its initial value.
    const accuSize =
      parts.kind !== undefined || n === 0
        ? init.size
        : SCALAR_KINDS.has(this.checked.types.get(e.accuInit.id)?.kind ?? "dyn")
          ? ZERO
          : UNBOUNDED;
    const iterations = this.iterations(range.size, (elem) => this.iteration(e, parts, accuSize, elem));
    const loop = iterations.cost;
    const transformSize = iterations.size;
    const result = this.withLocal(e.accuVar, accuSize, () => this.estimate(e.result));
    const min = range.min + init.min + result.min;
    const max = range.max + init.max + result.max + loop;
    let size: Size;
    switch (parts.kind) {
      case "map":
      case "map_filter":
      case "filter":
        size = sized(0, n, transformSize);
        break;
      case undefined:
        // The value of a general loop is its result's.
        size = result.size;
        break;
      default:
        size = ZERO;
    }
    return { min, max, size };
  }

  /**
   * The most all iterations of a loop over a range of size `range` cost, the size of what they
   * give (`undefined` when no iteration gives anything) and the most items they give together;
   * `iterate` estimates one iteration with its element of the given size. Over a part of the input
   * the elements share its bytes — sizes b_i with Σ b_i ≤ budget — and an iteration's cost f(b) is
   * convex in b (sums and products of sizes), so Σ f(b_i) is at most f(budget) + (n - 1)·f(0): one
   * element holding everything, the others empty. Otherwise, or nested too deep, or past
   * {@link AMORTISE_VISITS}: n times the iteration with the range's element.
   */
  private iterations(range: Size, iterate: (elem: Size) => { cost: number; size: Size | undefined }): { cost: number; size: Size | undefined; items: number } {
    const n = range.items;
    const budget = range.budget;
    if (budget !== undefined && n > 0 && this.amortised < MAX_AMORTISED_DEPTH && this.visits < AMORTISE_VISITS) {
      this.amortised++;
      const small = iterate(boundedInput(0));
      const large = iterate(boundedInput(budget));
      this.amortised--;
      return {
        cost: times(n - 1, small.cost) + large.cost,
        size: large.size === undefined ? undefined : union(large.size, small.size ?? ZERO),
        items: times(n - 1, small.size?.items ?? 0) + (large.size?.items ?? 0),
      };
    }
    const one = iterate(range.elem ?? ZERO);
    return { cost: n === 0 ? 0 : n * one.cost, size: one.size, items: times(n, one.size?.items ?? 0) };
  }

  /**
   * A two-variable macro's loop (see {@link twoVarLoop}), estimated as the one-variable loops are:
   * amortised over a part of the input, else its largest number of iterations times its costliest
   * one; plus what a transform builds (charged by its size once built).
   */
  private twoVarComprehension(e: ComprehensionExpr, loop: TwoVarLoop): Estimate {
    const range = this.estimate(e.iterRange);
    const n = range.size.items;
    const rangeKind = this.checked.types.get(e.iterRange.id)?.kind;
    // The first variable is a list's index (below n) or a map's key (an element of the range's size).
    const index = intAtMost(Math.max(0, n - 1));
    const firstOf = (elem: Size): Size => (rangeKind === "list" ? index : rangeKind === "map" ? elem : union(elem, index));
    const iterations = this.iterations(range.size, (elem) => this.twoVarIteration(e, loop, firstOf(elem), elem));
    let cost = iterations.cost;
    const valueSize = iterations.size;
    const entries = iterations.items;
    let size: Size;
    switch (loop.kind) {
      case "list":
      case "list_filter":
        // The list is charged its length once built.
        cost += n;
        size = sized(0, n, valueSize);
        break;
      case "map":
      case "map_filter":
        cost += n;
        size = sized(0, n, union(firstOf(range.size.elem ?? ZERO), valueSize ?? ZERO));
        break;
      case "entry":
      case "entry_filter":
        // The merged map has at most the entries of all the maps the transform gives.
        cost += entries;
        size = sized(0, entries, valueSize?.elem);
        break;
      default:
        size = ZERO;
    }
    return { min: range.min, max: range.max + cost, size };
  }

  /** The most one iteration of a two-variable macro costs with its variables bound to `first` and `second`, and the size of the transform's value. */
  private twoVarIteration(e: ComprehensionExpr, loop: TwoVarLoop, first: Size, second: Size): { cost: number; size: Size | undefined } {
    let cost = ITERATION_COST;
    let size: Size | undefined;
    this.withLocal(e.iterVar, first, () =>
      this.withLocal(e.iterVar2!, second, () => {
        if (loop.test !== undefined) cost += this.estimate(loop.test).max;
        if (loop.value !== undefined) {
          const v = this.estimate(loop.value);
          cost += v.max + APPEND_COST;
          size = v.size;
        }
      }),
    );
    return { cost, size };
  }

  /** The most one iteration costs with the iteration variables bound to `elem`, and the size of what it appends. */
  private iteration(e: ComprehensionExpr, parts: LoopParts, accuSize: Size, elem: Size): { cost: number; size: Size | undefined } {
    let cost = 0;
    let size: Size | undefined;
    const inner = (): void => {
      const body = this.estimate(parts.body);
      cost = ITERATION_COST + body.max;
      if (parts.kind === "map") {
        cost += APPEND_COST;
        size = body.size;
      }
      if (parts.kind === "filter" || parts.kind === "map_filter") size = elem;
      if (parts.second !== undefined) {
        const s = this.estimate(parts.second);
        cost += s.max + APPEND_COST;
        size = s.size;
      }
      if (parts.cond !== undefined) cost += this.estimate(parts.cond).max;
    };
    // A list's first variable is its index in the two-variable form, a map's its key: no larger than an element.
    this.withLocal(e.accuVar, accuSize, () =>
      this.withLocal(e.iterVar, elem, () => (e.iterVar2 !== undefined ? this.withLocal(e.iterVar2, elem, inner) : inner())),
    );
    return { cost, size };
  }

  private call(e: CallExpr): Estimate {
    const entries = e.fn === "cel.@block" && e.target === undefined && e.args.length === 2 ? e.args[0]! : undefined;
    if (entries?.kind === "list") return this.block(entries.elements, e.args[1]!);
    const argExprs = e.target === undefined ? e.args : [e.target, ...e.args];
    const args = argExprs.map((a) => this.estimate(a));
    let min = 1;
    let max = 1;
    for (const a of args) max += a.max;
    const overloads = overloadsOf(this.checked.refs, e);
    switch (e.fn) {
      case "_&&_":
      case "_||_":
        min += args[0]!.min;
        return { min, max, size: union(args[0]!.size, args[1]!.size) };
      case "_?_:_":
        min += args[0]!.min + Math.min(args[1]!.min, args[2]!.min);
        max = 1 + args[0]!.max + Math.max(args[1]!.max, args[2]!.max);
        return { min, max, size: union(args[1]!.size, args[2]!.size) };
      case "_[_]":
        for (const a of args) min += a.min;
        return { min, max, size: args[0]!.size.elem ?? ZERO };
    }
    for (const a of args) min += a.min;
    max += this.dynamicCharge(e, overloads, argExprs, args);
    max += overloadsWork(overloads, args);
    const size = this.resultSize(e, overloads, args);
    if (overloads.some((o) => o.grows === true) || (e.fn === "_+_" && overloads.length === 0)) max += scanCost(size);
    return { min, max, size };
  }

  /**
   * `cel.@block([e0, e1, …], result)`: each entry evaluated once, in order, its value read as
   * `@index<k>` by the later entries and the result (as `compileBlock` runs it), so a read has
   * the size of its entry, not of an input.
   */
  private block(entries: readonly Expr[], result: Expr): Estimate {
    let min = 1;
    let max = 1;
    const bound: string[] = [];
    try {
      for (let k = 0; k < entries.length; k++) {
        const r = this.estimate(entries[k]!);
        min += r.min;
        max += r.max;
        const name = `@index${k}`;
        let stack = this.locals.get(name);
        if (stack === undefined) this.locals.set(name, (stack = []));
        stack.push(r.size);
        bound.push(name);
      }
      const r = this.estimate(result);
      return { min: min + r.min, max: max + r.max, size: r.size };
    } finally {
      for (const name of bound) this.locals.get(name)!.pop();
    }
  }

  private isConstant(e: Expr): boolean {
    return e.kind === "const" || this.constants.has(e.id);
  }

  /** What a call charges at run time beyond its arguments: scans and regular expressions. */
  private dynamicCharge(e: CallExpr, overloads: readonly OverloadDecl[], argExprs: readonly Expr[], args: readonly Estimate[]): number {
    const ids = overloads.map((o) => o.id);
    // Equality, `in` and the loose operators of the inngest dialect (no overload) scan too.
    const weight = Math.max(scanWeight(overloads), (e.fn === "_==_" || e.fn === "_!=_" || e.fn === "@in") && overloads.length === 0 ? 1 : 0);
    const scans = weight > 0;
    let charge = 0;
    if (ids.some((id) => REGEX_OVERLOADS.has(id)) && args.length >= 2) {
      const subject = args[0]!.size;
      const patternConst = this.isConstant(argExprs[1]!);
      const pattern = args[1]!.size.chars;
      charge += (subject.chars / (1 << REGEX_SHIFT)) * (1 + pattern / 4);
      if (!patternConst) charge += pattern * REGEX_COMPILE_COST;
    }
    if (scans) {
      const anyConstant = argExprs.some((a) => this.isConstant(a));
      if (ids.every((id) => AFFIX_TESTS.has(id)) && argExprs.length === 2 && this.isConstant(argExprs[1]!)) return charge;
      if ((e.fn === "_==_" || e.fn === "_!=_") && anyConstant) return charge;
      if (e.fn === "@in") return charge + (this.isConstant(argExprs[1]!) ? 0 : scanCost(args[1]!.size));
      const lists = scansLists(overloads) || overloads.length === 0;
      for (const a of args) charge += scanCost(a.size, weight, lists);
    }
    return charge;
  }

  /** The largest value a call may return. */
  private resultSize(e: CallExpr, overloads: readonly OverloadDecl[], args: readonly Estimate[]): Size {
    const t = this.trustTypes ? this.checked.types.get(e.id) : undefined;
    if (e.fn === "_+_") {
      const [a, b] = [args[0]!.size, args[1]!.size];
      const elem = a.elem === undefined ? b.elem : b.elem === undefined ? a.elem : union(a.elem, b.elem);
      // Mixed operands in the inngest dialect concatenate text forms.
      const sum = { chars: Math.max(a.chars + b.chars, a.repr + b.repr), items: a.items + b.items, elem, repr: a.repr + b.repr };
      return a.int !== undefined && b.int !== undefined ? { ...sum, int: a.int + b.int } : sum;
    }
    // A size is at most the number of characters or entries.
    if (e.fn === "size" && args.length === 1) return intAtMost(Math.max(args[0]!.size.chars, args[0]!.size.items));
    if (t !== undefined && SCALAR_KINDS.has(t.kind)) return ZERO;
    let size: Size | undefined;
    for (const o of overloads) {
      const s = overloadResultSize(o, args.map((a) => a.size));
      size = size === undefined ? s : union(size, s);
    }
    return size ?? (t !== undefined && SCALAR_KINDS.has(t.kind) ? ZERO : UNBOUNDED);
  }
}

/** `a × b` where a count of 0 times an unbounded cost is 0. */
function times(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : a * b;
}

/**
 * The most `equalityWeight` (`runtime/element-set.ts`) of a value of size `s`, the work of one CEL
 * equality with it: one per value it holds (two per map entry), one per 16 characters. A JSON text
 * of `B` bytes holds at most `B / 2 + 1` of these (every value but one takes a separator or bracket).
 */
function weightBound(s: Size): number {
  if (s.budget !== undefined) return s.budget / 2 + 1;
  const elem = s.elem === undefined ? 1 : weightBound(s.elem);
  return 1 + s.chars / (1 << SCAN_SHIFT) + times(s.items, 1 + elem);
}

/**
 * The static counterpart of the runtime `cost` of an overload (see `OverloadDecl.cost`): a bound
 * of what the call is charged for its work, from its arguments' sizes (receiver first). An
 * overload with a runtime cost and no rule here is unbounded, so that an expression using it is
 * refused rather than misjudged.
 */
function overloadWork(o: OverloadDecl, a: readonly Size[]): number {
  const s = a[0] ?? ZERO;
  switch (o.id) {
    case "list_sets_contains_list":
    case "list_sets_intersects_list":
      return membershipWork(s, a[1] ?? ZERO);
    case "list_sets_equivalent_list":
      return 2 * membershipWork(s, a[1] ?? ZERO);
    case "list_distinct": {
      // One per element, and each element without a hash key compared with those kept.
      const w = weightBound(s);
      return s.items + w + times(s.items, w);
    }
    default:
      // The sorts: comparisons of sorting the keys (the last argument); n·(log2 n + 1) ≥ n·⌈log2 n⌉ and is convex.
      if (o.id.endsWith("_sort") || o.id.endsWith("_sortByAssociatedKeys")) {
        const n = (a[a.length - 1] ?? ZERO).items;
        return n < 2 ? 0 : n * (Math.log2(n) + 1);
      }
      return Infinity;
  }
}

/** A bound of `membershipCost(a, b)`: the elements, their weights, and each of `b` compared with all of `a`. */
function membershipWork(a: Size, b: Size): number {
  const wa = weightBound(a);
  return a.items + b.items + wa + weightBound(b) + times(b.items, wa);
}

/** The work of a call that may dispatch to any of `overloads`: the most of those with a runtime cost. */
function overloadsWork(overloads: readonly OverloadDecl[], args: readonly Estimate[]): number {
  let units = 0;
  for (const o of overloads) {
    if (o.cost !== undefined) units = Math.max(units, overloadWork(o, args.map((x) => x.size)));
  }
  return units;
}

/** The largest result of one overload, from its arguments' sizes (receiver first). */
function overloadResultSize(o: OverloadDecl, a: readonly Size[]): Size {
  if (SCALAR_KINDS.has(o.result.kind)) return ZERO;
  const s = a[0] ?? ZERO;
  switch (o.id) {
    case "to_dyn":
    case "string_to_string":
    case "bytes_to_bytes":
    case "bytes_to_string":
    case "string_substring_int":
    case "string_substring_int_int":
    case "string_trim":
    case "string_reverse":
    case "string_lower_ascii":
    case "string_upper_ascii":
    case "inngest_b64decode":
      return sized(s.chars, 0, undefined);
    case "string_char_at_int":
      return sized(2, 0, undefined);
    case "string_to_bytes":
    case "inngest_lowercase":
    case "inngest_uppercase":
      return sized(3 * s.chars, 0, undefined);
    case "strings_quote":
      return sized(6 * s.chars + 2, 0, undefined);
    case "string_replace_string_string":
    case "string_replace_string_string_int": {
      const replacement = Math.max(1, a[2]?.chars ?? 0);
      return sized((s.chars + 1) * replacement + s.chars, 0, undefined);
    }
    case "string_split_string":
    case "string_split_string_int":
      return sized(0, s.chars + 1, sized(s.chars, 0, undefined));
    case "list_join":
    case "list_join_string": {
      const sep = a[1]?.chars ?? 0;
      return sized(s.items * ((s.elem?.chars ?? 0) + sep), 0, undefined);
    }
    case "string_format":
      return sized((s.chars + 1) * ((a[1]?.repr ?? 0) + 1), 0, undefined);
    case "inngest_json_parse":
      return boundedInput(s.chars);
    case "lists_range": {
      // [0, n): as many ints as the bound of n, each below it.
      const n = Math.max(0, s.int ?? Infinity);
      return sized(0, n, n > 0 ? intAtMost(n - 1) : undefined);
    }
    case "list_distinct":
    case "list_reverse":
    case "list_int_sort":
    case "list_uint_sort":
    case "list_double_sort":
    case "list_bool_sort":
    case "list_string_sort":
    case "list_bytes_sort":
    case "list_google.protobuf.Duration_sort":
    case "list_google.protobuf.Timestamp_sort":
    case "list_slice":
    case "optional_unwrap":
    case "optional_unwrapOpt":
      return s;
    case "list_flatten":
    case "list_flatten_int":
      return flattenedSize(s, o.id === "list_flatten");
    case "optional_of":
    case "optional_ofNonZeroValue":
    case "optional_value":
      // An optional is as large as its value.
      return s;
    case "optional_or_optional":
    case "optional_orValue_value":
      return union(s, a[1] ?? ZERO);
    case "list_first":
    case "list_last":
      return s.elem ?? ZERO;
    case "regex_extract_string_string":
      return sized(s.chars, 0, undefined);
    case "regex_extractAll_string_string":
      return sized(0, s.chars + 1, sized(s.chars, 0, undefined));
    case "regex_replace_string_string_string":
    case "regex_replace_string_string_string_int": {
      const replacement = Math.max(1, a[2]?.chars ?? 0);
      return sized((s.chars + 1) * replacement + s.chars, 0, undefined);
    }
    default:
      // `sortBy`: the list in another order.
      if (o.id.endsWith("_sortByAssociatedKeys")) return s;
      if (o.result.kind === "string" || o.result.kind === "bytes") {
        // The other conversions to string print a scalar.
        return o.id.endsWith("_to_string") ? sized(SCALAR_REPR, 0, undefined) : UNBOUNDED;
      }
      return UNBOUNDED;
  }
}

/**
 * What `flatten` builds from a list of size `s`: a part of the input holds no more than itself;
 * one level (`oneLevel`) of another list splices each element's items in; deeper is unbounded.
 */
function flattenedSize(s: Size, oneLevel: boolean): Size {
  if (s.budget !== undefined) return s;
  if (!oneLevel) return UNBOUNDED;
  const inner = s.elem ?? ZERO;
  return sized(0, times(s.items, Math.max(1, inner.items)), inner.elem === undefined ? inner : union(inner, inner.elem));
}

function constantValue(e: Expr & { kind: "const" }): unknown {
  const v = e.value;
  // Strings and bytes have a size, ints a bound (for `lists.range`); other scalars neither.
  return v.kind === "string" || v.kind === "bytes" || v.kind === "int" || v.kind === "uint" ? v.value : null;
}
