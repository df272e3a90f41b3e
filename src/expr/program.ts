/**
 * `compile(source, options)`: parse, check, fold and compile an expression into a {@link Program}.
 *
 * @module
 */
import { check, type CheckedAst, type CheckerEnv } from "./checker/checker.js";
import { compileChecked, type NameResolution } from "./compiler/compile.js";
import type { DecoratorFactory } from "./compiler/hooks.js";
import { CostLimitExceeded, type Ctx, DEFAULT_EVAL_LIMITS, EMPTY_ACTIVATION as EMPTY, type EvalLimits, type Fn, newCtx } from "./compiler/context.js";
import { CEL_DIALECT, type Dialect, type DialectName, type ExtensionName, resolveExtensions, withExtensions } from "./dialect.js";
import { CompileError, EvalError, type EvalErrorCode, makeIssue } from "./errors.js";
import { costliestNode, type CostEstimate, type CostEstimateOptions, DEFAULT_INPUT_SIZE, estimateCheckedCost } from "./checker/cost.js";
import { INNGEST_DIALECT } from "./inngest.js";
import { parse, type ParseOptions } from "./parser/index.js";
import { TYPE_IDENTIFIERS } from "./stdlib/index.js";
import { formatType, parseType, type Type } from "./types.js";
import { UNKNOWN } from "./runtime/core.js";
import { CelError } from "./values.js";
import { decideOneByOne, type Decision, type DecisionCounts, type ItemBinding } from "./decisions.js";
import { DEFAULT_FAST_PATHS_AFTER, jitDecorator, mayGenerateCode, specialiseEntries } from "./jit/index.js";

export type { Decision } from "./decisions.js";
export type { CostEstimate, CostEstimateOptions } from "./checker/cost.js";
/** @internal The planner's scan loop (see {@link Program.decideUntilMatch}). */
export type { DecisionCounts, ItemBinding } from "./decisions.js";

/**
 * Evaluations through the shared prototype methods after which a program generates entry points
 * of its own (see `jit/entry.ts`): enough that a program used a few times never pays for it.
 */
const SPECIALISE_AFTER = 256;

/** Variable declarations: name → type, the type as a {@link Type} or as CEL prints it (`'map(string, dyn)'`). */
export type VariableDeclarations = Readonly<Record<string, Type | string>>;

/** Options of {@link compile}. */
export interface CompileOptions {
  /** `'cel'` (the specification) or `'inngest'` (Inngest's lenient rules). Default `'cel'`. */
  readonly dialect?: DialectName;
  /**
   * Declared variables. Default: in `inngest`, `event`, `async` and `vars` as `map(string, dyn)`;
   * in `cel`, every name is a `dyn` variable. When given, any other name is a compile error.
   */
  readonly variables?: VariableDeclarations;
  /** Namespace for resolving names, such as `acme.billing`. Default `''`. */
  readonly container?: string;
  /** Parser limits (source size 100,000 code points, depth 250, 100 issues by default) and evaluation limits. */
  readonly limits?: ParseOptions & EvalLimits;
  /**
   * Reject ill-typed expressions at compile time. With `false`, calls the checker cannot resolve
   * fail at evaluation with `no_such_overload` instead, as cel-go behaves without its checker.
   * Undeclared names are still compile errors. Default `true`.
   */
  readonly typeCheck?: boolean;
  /**
   * Generate straight-line JavaScript fast paths for boolean subtrees (field paths compared with
   * constants, `in`, `startsWith`, `exists`, …), backed by the general closures. Results are the
   * same either way. `{ after: n }` generates a subtree's fast path once it has been evaluated n
   * times, so a program evaluated only a few times never pays for code generation; `true` generates
   * them at compile time (about as long again as the rest of compiling); `false` never generates
   * JavaScript for the program (no field accessors or entry points either). Default `{ after: 64 }`.
   */
  readonly fastPaths?: boolean | { readonly after: number };
  /** Reuse a cached program for the same source and options. Default `true`. */
  readonly cache?: boolean;
  /**
   * cel-go's extension libraries to add to the `cel` dialect, by name (`'math'`, `'optionals'`,
   * `'two_var_comprehensions'`, … — see `docs/cel-extensions.md`), or `'all'`. A library a named
   * one needs comes along (`regex` brings `optionals`). The `inngest` dialect takes none. Default:
   * none beyond the dialect's own (the `cel` dialect always has the strings extension).
   */
  readonly extensions?: readonly ExtensionName[] | "all";
  /**
   * `has(x.f)` on a value that has no fields (null, a number, a string) is an error
   * (`no_such_field` / `no_such_overload`), as with cel-go's `EnableErrorOnBadPresenceTest`.
   * Default `false`: such a presence test is `false`, as cel-go answers by default.
   */
  readonly errorOnBadPresenceTest?: boolean;
  /**
   * Refuse an expression whose estimated worst-case cost per evaluation ({@link estimateCost}
   * with {@link CompileOptions.costEstimate}) exceeds its cost budget (`limits.maxCost`): it
   * throws {@link CompileError} with a `limit_exceeded` issue pointing at the costliest part.
   * Default `false`; the service, the CLI and {@link Matcher} set it.
   */
  readonly refuseCostly?: boolean;
  /** Size assumptions of the estimate that {@link CompileOptions.refuseCostly} applies. Default `{ inputSize: 131072 }`. */
  readonly costEstimate?: CostEstimateOptions;
}

/** A compiled expression. Evaluation is synchronous, allocation-light, and never mutates its input. */
export class Program {
  /** The checked result type, as CEL prints it (`bool`, `dyn`, `list(int)`). */
  readonly type: string;
  private readonly ctx: Ctx;
  /** Evaluations through the prototype's `matches`/`decide`, counted up to {@link SPECIALISE_AFTER}. */
  private sharedEvaluations = 0;

  /** @internal */
  constructor(
    /** The expression text. */
    readonly source: string,
    /** The dialect it was compiled for. */
    readonly dialect: DialectName,
    /** The checked result type. */
    readonly resultType: Type,
    private readonly root: { readonly fn: Fn },
    private readonly slotCount: number,
    private readonly limits: Required<EvalLimits>,
    private readonly checked: CheckedAst,
    /** Whether the program may generate entry points of its own once evaluated often. */
    private readonly specialises: boolean,
    /** The subtrees folded into constants, by node id. */
    private readonly constants: ReadonlyMap<number, unknown>,
    /**
     * `has(x.f)` on a value without fields is an error (the `inngest` dialect, or the
     * `errorOnBadPresenceTest` option) rather than `false`.
     *
     * @internal For the SQL pushdown, which must know what `has()` gives.
     */
    readonly presenceTestErrors: boolean = false,
  ) {
    this.type = formatType(resultType);
    this.ctx = newCtx(slotCount, limits);
  }

  /** Evaluates to a value or an error value; never throws. */
  private run(activation: Readonly<Record<string, unknown>>): unknown {
    let ctx = this.ctx;
    // Re-entrant use (from a getter in the activation, say) gets a context of its own.
    if (ctx.busy) ctx = newCtx(this.slotCount, this.limits);
    ctx.act = activation;
    ctx.cost = 0;
    // `now()` reads the clock lazily, once per evaluation.
    ctx.now = 0;
    ctx.busy = true;
    let v: unknown;
    try {
      v = this.root.fn(ctx);
    } catch (err) {
      v = thrownToError(err);
    }
    ctx.busy = false;
    ctx.act = EMPTY;
    // An unknown result (a missing attribute in the inngest dialect) is false, as in Inngest.
    return v === UNKNOWN ? false : v;
  }

  /**
   * Evaluates the expression. Returns the CEL value as JS (see the value mapping in the README)
   * or throws {@link EvalError} with the code and source span of the failing node.
   */
  evaluate(activation: Readonly<Record<string, unknown>> = EMPTY): unknown {
    const v = this.run(activation);
    if (v instanceof CelError) throw this.toEvalError(v);
    return v;
  }

  /** True only when the result is the boolean `true`; never throws. */
  matches(activation: Readonly<Record<string, unknown>> = EMPTY): boolean {
    if (++this.sharedEvaluations === SPECIALISE_AFTER && this.specialises) this.specialise();
    return this.run(activation) === true;
  }

  /**
   * Classifies the result without allocating: `match` (true), `no_match` (false), `error` (an
   * evaluation error), `non_boolean` (any other value).
   */
  decide(activation: Readonly<Record<string, unknown>> = EMPTY): Decision {
    if (++this.sharedEvaluations === SPECIALISE_AFTER && this.specialises) this.specialise();
    const v = this.run(activation);
    return v === true ? "match" : v === false ? "no_match" : v instanceof CelError ? "error" : "non_boolean";
  }

  /**
   * Decides the activation `{ [binding.variable]: item[binding.property] }` for each item of
   * `items` from index `from` on, and returns the index of the first item that matches or that
   * `binding.stopProperty` stops (that item is left undecided), or `items.length`. The outcomes of
   * the items before it go into `counts` (reset first). Same results as one {@link decide} per
   * item, faster for a program evaluated often: the loop then runs inside the program's own code.
   *
   * @internal The planner's scan loop (`src/cancel/`); not part of the public API.
   */
  decideUntilMatch(items: ArrayLike<object>, from: number, binding: ItemBinding, counts: DecisionCounts): number {
    return decideOneByOne((activation) => this.decide(activation), items, from, binding, counts);
  }

  /** Swaps in entry points of this program's own for `matches`, `decide` and `decideUntilMatch` (see `jit/entry.ts`). */
  private specialise(): void {
    const entries = specialiseEntries({
      root: this.root,
      ctx: this.ctx,
      reentrant: (activation) => this.run(activation),
      reentrantUntilMatch: (items, from, binding, counts) => decideOneByOne((activation) => this.decide(activation), items, from, binding, counts),
      thrownToError,
      unknown: UNKNOWN,
      errorClass: CelError,
      empty: EMPTY,
    });
    if (entries === undefined) return;
    const self = this as { matches: Program["matches"]; decide: Program["decide"]; decideUntilMatch: Program["decideUntilMatch"] };
    self.matches = entries.matches;
    self.decide = entries.decide;
    self.decideUntilMatch = entries.decideUntilMatch;
  }

  /** Evaluates and returns either the value or the error, without throwing. */
  evaluateResult(
    activation: Readonly<Record<string, unknown>> = EMPTY,
  ): { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: EvalError } {
    const v = this.run(activation);
    return v instanceof CelError ? { ok: false, error: this.toEvalError(v) } : { ok: true, value: v };
  }

  /** The estimate with default options, computed once. */
  private defaultEstimate: CostEstimate | undefined;

  /**
   * The cost one evaluation may spend, from the least to the most, in the units of the budget
   * `limits.maxCost` (see {@link estimateCost}).
   */
  estimateCost(options: CostEstimateOptions = {}): CostEstimate {
    // The inngest dialect's loose operators make checked types a guess (`[] + 1` is a string).
    const trustTypes = this.dialect !== "inngest";
    if (options.inputSize === undefined) return (this.defaultEstimate ??= estimateCheckedCost(this.checked, this.constants, {}, trustTypes));
    return estimateCheckedCost(this.checked, this.constants, options, trustTypes);
  }

  /** The cost budget of one evaluation (`limits.maxCost`). */
  get maxCost(): number {
    return this.limits.maxCost;
  }

  /**
   * Throws {@link CompileError} (a `limit_exceeded` issue at the costliest part) when the
   * estimated worst case exceeds the cost budget. @internal {@link CompileOptions.refuseCostly}.
   */
  assertAffordable(options: CostEstimateOptions = {}): void {
    const estimate = this.estimateCost(options);
    const limit = this.limits.maxCost;
    if (estimate.max <= limit) return;
    const parsed = this.checked.parsed;
    const worst = costliestNode(this.checked, this.constants, limit, options, this.dialect !== "inngest");
    const span = (worst !== undefined ? parsed.spans.get(worst.expr.id) : undefined) ?? parsed.spans.get(this.checked.expr.id) ?? { start: -1, end: -1 };
    const size = options.inputSize ?? DEFAULT_INPUT_SIZE;
    const message =
      `expression too costly: its worst case is an estimated ${formatUnits(estimate.max)} cost units per evaluation, ` +
      `over the limit of ${formatUnits(limit)} (with inputs of up to ${size} bytes)`;
    throw new CompileError([makeIssue(parsed.source, "limit_exceeded", message, span)], parsed.source);
  }

  /** The checked AST (types and resolved references per node), for tools such as SQL pushdown. */
  get ast(): CheckedAst {
    return this.checked;
  }

  private toEvalError(e: CelError): EvalError {
    const span = this.checked.parsed.spans.get(e.nodeId);
    const code = e.code as EvalErrorCode;
    if (span === undefined) return new EvalError(code, e.message);
    return new EvalError(code, e.message, span, this.checked.parsed.source.locate(span.start));
  }
}

/** A cost for a message: exact when small, else in a short exponent form (`3.4e+12`). */
function formatUnits(n: number): string {
  if (!Number.isFinite(n)) return "unbounded";
  return n < 1e9 ? String(Math.ceil(n)) : n.toPrecision(2);
}

/**
 * The cost one evaluation of `program` may spend, `{ min, max }`, in the units of its cost budget
 * (`limits.maxCost`), estimated from the checked expression as cel-go's `EstimateCost` does: each
 * variable of the activation (and each part of one) is assumed at most `options.inputSize` JSON
 * bytes (default 131,072), and the sizes of what the expression builds follow from its operands.
 * `max` bounds what any evaluation within those sizes charges; it is `Infinity` where the
 * estimator sees no bound. See `docs/reliability-cost.md`.
 */
export function estimateCost(program: Program, options: CostEstimateOptions = {}): CostEstimate {
  return program.estimateCost(options);
}

/**
 * An exception escaping the closures as an error value: the cost budget, a stack overflow on a
 * pathological value (a list nested a million deep), or a defect — never a crash of the caller.
 */
function thrownToError(err: unknown): CelError {
  if (err instanceof CostLimitExceeded) return new CelError("cost_limit", err.message, err.nodeId);
  const message = err instanceof Error ? err.message : String(err);
  return new CelError("internal", `evaluation failed: ${message}`, 0);
}

const DIALECTS: Record<DialectName, Dialect> = { cel: CEL_DIALECT, inngest: INNGEST_DIALECT };

const TYPE_IDENTIFIER_MAP: ReadonlyMap<string, Type> = new Map(Object.entries(TYPE_IDENTIFIERS));

/** No limits given. */
const NO_LIMITS: ParseOptions & EvalLimits = Object.freeze({});

/** How the compiler resolves names with default options. */
const DEFAULT_RESOLUTION: NameResolution = Object.freeze({ atRuntime: false, container: "" });

/** The decorator of programs compiled with default options, made once. */
const DEFAULT_DECORATOR = jitDecorator(DEFAULT_FAST_PATHS_AFTER);

/** The checker environment of each dialect (with its extensions) with default options, made once. */
const defaultCheckerEnvs = new Map<Dialect, CheckerEnv>();

/** The type identifiers of a dialect: the standard ones and its extensions'. */
function typeIdentifiersOf(dialect: Dialect): ReadonlyMap<string, Type> {
  const extra = dialect.typeIdentifiers;
  if (extra === undefined) return TYPE_IDENTIFIER_MAP;
  let merged = mergedTypeIdentifiers.get(extra);
  if (merged === undefined) mergedTypeIdentifiers.set(extra, (merged = new Map([...TYPE_IDENTIFIER_MAP, ...extra])));
  return merged;
}

const mergedTypeIdentifiers = new WeakMap<ReadonlyMap<string, Type>, ReadonlyMap<string, Type>>();

function checkerEnv(dialect: Dialect, options: CompileOptions, limits: ParseOptions & EvalLimits): CheckerEnv {
  const defaults =
    options.variables === undefined && options.container === undefined && options.typeCheck !== false && limits.maxIssues === undefined;
  if (defaults) {
    const env = defaultCheckerEnvs.get(dialect);
    if (env !== undefined) return env;
  }
  let variables = dialect.defaultVariables;
  if (options.variables !== undefined) {
    const m = new Map<string, Type>();
    for (const [name, t] of Object.entries(options.variables)) m.set(name, typeof t === "string" ? parseType(t) : t);
    variables = m;
  }
  const env: CheckerEnv = {
    container: options.container ?? "",
    variables,
    functions: dialect.functions,
    typeIdentifiers: typeIdentifiersOf(dialect),
    maxIssues: limits.maxIssues ?? 100,
    permissive: options.typeCheck === false,
    truthiness: dialect.truthiness,
    ...(dialect.looseOperators !== undefined ? { looseOperators: dialect.looseOperators } : {}),
  };
  if (defaults) defaultCheckerEnvs.set(dialect, env);
  return env;
}

const CACHE_LIMIT = 1000;
const cache = new Map<string, Program>();

function cacheKey(source: string, options: CompileOptions): string | undefined {
  if (options.cache === false) return undefined;
  let vars = "";
  if (options.variables !== undefined) {
    const parts: string[] = [];
    for (const [k, t] of Object.entries(options.variables)) parts.push(`${k}:${typeof t === "string" ? t : formatType(t)}`);
    vars = parts.sort().join(",");
  }
  const ext = options.extensions === undefined ? "" : options.extensions === "all" ? "all" : [...options.extensions].sort().join(",");
  return `${options.dialect ?? "cel"}\u0000${ext}${options.errorOnBadPresenceTest === true ? "!has" : ""}\u0000${options.typeCheck === false ? "unchecked" : ""}${options.fastPaths === false ? "noFast" : options.fastPaths === true ? "fast0" : typeof options.fastPaths === "object" ? `fast${options.fastPaths.after}` : ""}\u0000${options.container ?? ""}\u0000${vars}\u0000${JSON.stringify(options.limits ?? {})}\u0000${source}`;
}

/**
 * The decorator that generates fast paths for a program (see `jit/`), or none where names resolve
 * at run time: the generated code reads the paths the checker resolved.
 */
function decoratorFor(options: CompileOptions, resolution: NameResolution): DecoratorFactory | undefined {
  if (resolution.atRuntime) return undefined;
  const fast = options.fastPaths;
  if (fast === undefined) return DEFAULT_DECORATOR;
  return jitDecorator(fast === true ? 0 : typeof fast === "object" ? Math.max(0, Math.floor(fast.after)) : DEFAULT_FAST_PATHS_AFTER);
}

/** The dialect a compilation uses: the named one, with the extensions and rules the options add. */
function dialectFor(dialectName: DialectName, options: CompileOptions): Dialect {
  const base = DIALECTS[dialectName];
  if (base === undefined) throw new TypeError(`compile: unknown dialect '${String(dialectName)}'`);
  const names = resolveExtensions(options.extensions);
  if (names.length > 0 && dialectName !== "cel") throw new TypeError("compile: extensions are available in the 'cel' dialect only");
  const dialect = withExtensions(base, names);
  if (options.errorOnBadPresenceTest !== true) return dialect;
  let strict = strictPresence.get(dialect);
  if (strict === undefined) strictPresence.set(dialect, (strict = { ...dialect, presenceTestErrors: true }));
  return strict;
}

const strictPresence = new WeakMap<Dialect, Dialect>();

/** Parser options: the limits given, the dialect's string lifting, the extensions' macros and syntax. */
function parseOptionsFor(source: string, dialect: Dialect, limits: ParseOptions | undefined): ParseOptions | undefined {
  // Without limits or extensions, the parser runs with its defaults (no options object to resolve).
  const lifted = dialect.liftsStrings?.(source) === true;
  if (!lifted && dialect.extensionMacros === undefined && dialect.optionalSyntax !== true) return limits;
  return {
    ...limits,
    ...(lifted ? { liftedStrings: true } : {}),
    ...(dialect.extensionMacros !== undefined ? { extensionMacros: dialect.extensionMacros } : {}),
    ...(dialect.optionalSyntax === true ? { enableOptionalSyntax: true } : {}),
  };
}

/**
 * Compiles a CEL expression. Throws {@link CompileError} for syntax errors, undeclared names, and
 * type errors the checker proves (such as `1 + 'a'`). Programs are cached by source and options.
 */
export function compile(source: string, options: CompileOptions = {}): Program {
  if (typeof source !== "string") throw new TypeError("compile: source must be a string");
  const key = cacheKey(source, options);
  if (key !== undefined) {
    const hit = cache.get(key);
    if (hit !== undefined) {
      // Refresh its place in the LRU order.
      cache.delete(key);
      cache.set(key, hit);
      if (options.refuseCostly === true) hit.assertAffordable(options.costEstimate);
      return hit;
    }
  }
  const dialectName = options.dialect ?? "cel";
  const dialect = dialectFor(dialectName, options);
  const limits = options.limits ?? NO_LIMITS;
  const parsed = parse(source, parseOptionsFor(source, dialect, options.limits));

  const checked = check(parsed, checkerEnv(dialect, options, limits));
  if (!checked.ok) throw new CompileError(checked.issues, parsed.source, checked.truncated);

  const evalLimits: Required<EvalLimits> =
    limits.maxCost === undefined && limits.maxStringLength === undefined && limits.maxListLength === undefined
      ? DEFAULT_EVAL_LIMITS
      : {
          maxCost: limits.maxCost ?? DEFAULT_EVAL_LIMITS.maxCost,
          maxStringLength: limits.maxStringLength ?? DEFAULT_EVAL_LIMITS.maxStringLength,
          maxListLength: limits.maxListLength ?? DEFAULT_EVAL_LIMITS.maxListLength,
        };
  const resolution: NameResolution =
    options.typeCheck !== false && options.container === undefined
      ? DEFAULT_RESOLUTION
      : { atRuntime: options.typeCheck === false, container: options.container ?? "" };
  const generated = mayGenerateCode(options.fastPaths !== false);
  const compiled = compileChecked(checked.ast, dialect, evalLimits, resolution, generated ? decoratorFor(options, resolution) : undefined);
  if (compiled.issues.length > 0) throw new CompileError(compiled.issues, parsed.source);

  const program = new Program(
    source,
    dialectName,
    checked.ast.resultType,
    compiled.root,
    compiled.slotCount,
    evalLimits,
    checked.ast,
    generated,
    compiled.constants,
    dialect.presenceTestErrors === true,
  );
  if (key !== undefined) {
    cache.set(key, program);
    if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  }
  if (options.refuseCostly === true) program.assertAffordable(options.costEstimate);
  return program;
}
