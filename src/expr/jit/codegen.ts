/**
 * Fast paths for boolean filters, generated as one JS function per maximal boolean subtree.
 *
 * Closures pay a call and a megamorphic property load per node; a cancellation filter such as
 * `event.data.plan == 'enterprise' && event.data.region in ['us-east-1', 'eu-west-1']` becomes
 * several nested calls. For the common subset — field paths from variables, comparisons with
 * constants, `in` constant lists, `startsWith`/`endsWith`/`contains`, `size`, `!`, `&&`, `||`,
 * `?:` and `exists`/`all` over a list — this module emits straight-line JavaScript instead.
 *
 * The generated function handles only the plain case: every value read is a plain JSON-like value
 * (a path is present, a list is an array, a compared value has the expected type). Whenever
 * anything else happens — a missing key, null, a Map, a bigint, an unexpected type, a spent cost
 * budget — it returns {@link SLOW}, and the caller runs the general closures, which implement the
 * dialect's full rules. So a generated function never changes a result; it only computes the
 * common case faster. `test/expr/codegen.test.ts` checks that with differential property tests.
 *
 * Constants reach the generated code through a parameter array, field names through
 * `JSON.stringify`: no expression text is ever spliced into the source.
 *
 * @module
 */
import type { CallExpr, ComprehensionExpr, Expr } from "../ast.js";
import { overloadsOf, type Reference } from "../checker/checker.js";
import { resolvesWithin, specialisationOf } from "../decls.js";
import { SIZE_OVERLOADS } from "../stdlib/containers.js";
import { isPrototypeName } from "../runtime/access.js";
import type { Fn } from "../compiler/context.js";
import { fixedCost, ITERATION_COST, REGEX_SHIFT, regexFactor, SCAN_SHIFT } from "../checker/charges.js";

/** What the generator needs to know about the tree being compiled. */
export interface CodegenEnv {
  constOf(e: Expr): { readonly value: unknown } | undefined;
  readonly refs: ReadonlyMap<number, Reference>;
  /** The comprehension slot a local name is bound to in the enclosing closures, if any. */
  slotOf(name: string): number | undefined;
  /** Which macro a comprehension was expanded from. */
  macroOf(e: ComprehensionExpr): string | undefined;
  /** The compiled matcher of a constant regular expression, or undefined when it is invalid. */
  regexOf(pattern: string): ((s: string) => boolean) | undefined;
}

class Unsupported extends Error {}

const RELATION_OPS: Record<string, string> = { "_<_": "<", "_<=_": "<=", "_>_": ">", "_>=_": ">=" };

/**
 * What the generated code does when the fast path does not apply: undo any cost it charged and
 * hand the evaluation to the general closures.
 */
const BAIL = "{ c.cost = cost0; return fallback(c); }";

type Factory = (fallback: Fn, k: readonly unknown[]) => Fn;
const factoryCache = new Map<string, Factory>();
const FACTORY_CACHE_LIMIT = 2000;

/** Largest constant `in` list compared string by string rather than through a `Set`. */
const SMALL_IN_LIST = 6;

/**
 * The internalised copy of a string (V8 internalises property keys), so that `===` against an
 * internalised string compares pointers. Long strings are left as they are.
 */
function internalize(s: string): string {
  return s.length > 256 ? s : Object.keys({ [s]: 0 })[0]!;
}

class Generator {
  private lines: string[] = [];
  private temp = 0;
  readonly constants: unknown[] = [];
  /** Comprehension variables bound to JS locals inside the generated function. */
  private readonly locals = new Map<string, string>();

  constructor(private readonly env: CodegenEnv) {}

  private fresh(prefix: string): string {
    return `${prefix}${this.temp++}`;
  }

  private emit(line: string): void {
    this.lines.push(line);
  }

  /**
   * A constant of the generated function: bound once per program to a local of the factory (a
   * context slot, cheaper than an array element). Strings are internalised, so comparing one with
   * an internalised string of the data (property-like values, literals) is a pointer comparison.
   */
  /** The constant holding `Object.prototype`, once used. */
  private objectProto: string | undefined;

  private constant(v: unknown): string {
    this.constants.push(typeof v === "string" ? internalize(v) : v);
    return `k${this.constants.length - 1}`;
  }

  private literal(e: Expr): { value: unknown } | undefined {
    return this.env.constOf(e);
  }

  /**
   * Reads already emitted in the enclosing blocks, by path prefix: a filter reading
   * `event.data.plan` and `event.data.region` loads `event.data` once.
   */
  private readonly scopes: Map<string, string>[] = [new Map()];
  /** Variables already checked to hold a plain object, per enclosing block (as `scopes`). */
  private readonly plainChecked: Set<string>[] = [new Set()];

  private open(header: string): void {
    this.emit(header);
    this.scopes.push(new Map());
    this.plainChecked.push(new Set());
  }

  private close(footer = "}"): void {
    this.scopes.pop();
    this.plainChecked.pop();
    this.emit(footer);
  }

  /** Emits the plain-object check of `v` unless an enclosing block already made it. */
  private checkPlainObject(v: string): void {
    if (this.plainChecked.some((checked) => checked.has(v))) return;
    // `== null` takes undefined (a missing key) and null; any primitive's prototype is its
    // wrapper's, never Object.prototype: one test covers what typeof would. An object with
    // another prototype may inherit properties, which are never read (own properties only).
    this.objectProto ??= this.constant(Object.prototype);
    // (`__proto__` rather than `Object.getPrototypeOf`: V8 inlines the getter, measured 3× faster
    // here; an own `__proto__` key only sends the object to the slow path.)
    this.emit(`if (${v} == null || ${v}.__proto__ !== ${this.objectProto}) ${BAIL}`);
    this.plainChecked[this.plainChecked.length - 1]!.add(v);
  }

  private remembered(key: string): string | undefined {
    for (let k = this.scopes.length - 1; k >= 0; k--) {
      const v = this.scopes[k]!.get(key);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  /**
   * Emits the reads of a field path and returns the JS variable holding the value: undefined when
   * the last key is missing, so every caller tests the value's type before it uses it.
   */
  private path(e: Expr): string {
    const keys: string[] = [];
    let base: Expr = e;
    while (base.kind === "select" && !base.testOnly && !base.optional) {
      if (this.literal(base) !== undefined) throw new Unsupported();
      keys.unshift(base.field);
      base = base.operand;
    }
    if (base.kind !== "ident") throw new Unsupported();
    const ref = this.env.refs.get(base.id);
    if (ref?.kind === "ident" && ref.isType) throw new Unsupported();
    let start: string;
    let root: string;
    const local = this.locals.get(base.name);
    const slot = local === undefined ? this.env.slotOf(base.name) : undefined;
    if (local !== undefined) {
      start = local;
      root = `local:${local}`;
    } else if (slot !== undefined) {
      start = `c.slots[${slot | 0}]`;
      root = `slot:${slot}`;
    } else {
      // A global variable: a property of the activation, which the caller supplies as a record.
      keys.unshift(base.name.startsWith(".") ? base.name.slice(1) : base.name);
      start = "c.act";
      root = "act";
    }
    if (keys.some(isPrototypeName)) throw new Unsupported();
    const prefixKeys = [root];
    for (const key of keys) prefixKeys.push(`${prefixKeys[prefixKeys.length - 1]}\u0000${key}`);
    const prefixKey = (n: number): string => prefixKeys[n]!;
    let done = keys.length;
    let v: string | undefined;
    for (; done >= 0; done--) {
      v = this.remembered(prefixKey(done));
      if (v !== undefined) break;
    }
    if (v === undefined) {
      done = 0;
      v = local ?? this.fresh("v");
      if (local === undefined) this.emit(`const ${v} = ${start};`);
      if (slot !== undefined && keys.length === 0) this.emit(`if (${v} === undefined) ${BAIL}`);
      this.scopes[this.scopes.length - 1]!.set(prefixKey(0), v);
    }
    for (let k = done; k < keys.length; k++) {
      const next = this.fresh("v");
      this.checkPlainObject(v);
      // No test for a missing key here: every use of the value tests its type (the next step of a
      // path tests for a plain object), and undefined fails each such test.
      this.emit(`const ${next} = ${v}[${JSON.stringify(keys[k]!)}];`);
      this.scopes[this.scopes.length - 1]!.set(prefixKey(k + 1), next);
      v = next;
    }
    return v;
  }

  /** Emits code computing a boolean and returns the JS expression (a variable) holding it. */
  bool(e: Expr): string {
    if (e.kind === "comprehension") return this.comprehension(e);
    if (e.kind !== "call") throw new Unsupported();
    const t = this.fresh("t");
    switch (e.fn) {
      case "_&&_":
      case "_||_": {
        const a = this.bool(e.args[0]!);
        this.emit(`let ${t} = ${a};`);
        // Short-circuit exactly as the closures do: the right side runs only when needed.
        this.open(e.fn === "_&&_" ? `if (${t}) {` : `if (!${t}) {`);
        const b = this.bool(e.args[1]!);
        this.emit(`${t} = ${b};`);
        this.close();
        return t;
      }
      case "!_": {
        const a = this.bool(e.args[0]!);
        this.emit(`const ${t} = !${a};`);
        return t;
      }
      case "_?_:_": {
        const cond = this.bool(e.args[0]!);
        this.emit(`let ${t};`);
        this.open(`if (${cond}) {`);
        this.emit(`${t} = ${this.bool(e.args[1]!)};`);
        this.close();
        this.open("else {");
        this.emit(`${t} = ${this.bool(e.args[2]!)};`);
        this.close();
        return t;
      }
      case "_==_":
      case "_!=_":
        return this.equality(e, t);
      case "_<_":
      case "_<=_":
      case "_>_":
      case "_>=_":
        return this.relation(e, t);
      case "@in":
        return this.membership(e, t);
      default: {
        const generate = specialisationOf(FUNCTIONS, e.fn, overloadsOf(this.env.refs, e));
        if (generate === undefined) throw new Unsupported();
        return generate(this, e, t);
      }
    }
  }

  /** `s.startsWith('k')` and the other string tests with a constant argument, as the JS `method`. */
  stringTest(e: CallExpr, t: string, method: string): string {
    if (e.target === undefined || e.args.length !== 1) throw new Unsupported();
    const k = this.literal(e.args[0]!);
    if (k === undefined || typeof k.value !== "string") throw new Unsupported();
    const s = this.value(e.target);
    this.emit(`if (typeof ${s} !== "string") ${BAIL}`);
    // `includes` is charged by the subject's length, as the closures charge (see checker/cost.ts);
    // `startsWith`/`endsWith` read only as much as the constant.
    if (method === "includes") this.emit(`if (${s}.length >= ${1 << SCAN_SHIFT} && (c.cost += ${s}.length >> ${SCAN_SHIFT}) > c.maxCost) ${BAIL}`);
    this.emit(`const ${t} = ${s}.${method}(${this.constant(k.value)});`);
    return t;
  }

  /** `s.matches('re')` / `matches(s, 're')` with a constant, valid pattern. */
  matches(e: CallExpr, t: string): string {
    const subject = e.target ?? e.args[0];
    const pattern = e.target !== undefined ? e.args[0] : e.args[1];
    if (subject === undefined || pattern === undefined) throw new Unsupported();
    const k = this.literal(pattern);
    if (k === undefined || typeof k.value !== "string") throw new Unsupported();
    const re = this.env.regexOf(k.value);
    if (re === undefined) throw new Unsupported();
    const s = this.value(subject);
    this.emit(`if (typeof ${s} !== "string") ${BAIL}`);
    this.emit(
      `if (${s}.length >= ${1 << REGEX_SHIFT} && (c.cost += (${s}.length >> ${REGEX_SHIFT}) * ${regexFactor(k.value.length)}) > c.maxCost) ${BAIL}`,
    );
    this.emit(`const ${t} = ${this.constant(re)}(${s});`);
    return t;
  }

  /** A value that is a field path, a constant, a `size()` of a list, or a conditional of those. */
  private value(e: Expr): string {
    const k = this.literal(e);
    if (k !== undefined) {
      const v = k.value;
      if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return this.constant(v);
      throw new Unsupported();
    }
    if (e.kind === "select" || e.kind === "ident") return this.path(e);
    if (e.kind === "call" && e.fn === "_?_:_") {
      const cond = this.bool(e.args[0]!);
      const t = this.fresh("t");
      this.emit(`let ${t};`);
      this.open(`if (${cond}) {`);
      this.emit(`${t} = ${this.value(e.args[1]!)};`);
      this.close();
      this.open("else {");
      this.emit(`${t} = ${this.value(e.args[2]!)};`);
      this.close();
      return t;
    }
    throw new Unsupported();
  }

  /** Whether `e` is a call of `size`. */
  private isSize(e: Expr): e is CallExpr {
    return e.kind === "call" && resolvesWithin(overloadsOf(this.env.refs, e), SIZE_OVERLOADS);
  }

  /** `size(x)` of a list as a JS number (strings count code points: left to the closures). */
  private sizeOf(e: Expr): string | undefined {
    if (!this.isSize(e)) return undefined;
    const arg = e.target ?? (e.args.length === 1 ? e.args[0] : undefined);
    if (arg === undefined || (e.target !== undefined && e.args.length > 0)) return undefined;
    const v = this.value(arg);
    this.emit(`if (!Array.isArray(${v})) ${BAIL}`);
    return `${v}.length`;
  }

  private equality(e: CallExpr, t: string): string {
    const [l, r] = e.args as [Expr, Expr];
    const negate = e.fn === "_!=_";
    const rk = this.literal(r);
    const lk = this.literal(l);
    const k = rk ?? lk;
    const other = rk !== undefined ? l : lk !== undefined ? r : undefined;
    if (k === undefined || other === undefined) throw new Unsupported();
    const kv = k.value;
    if (typeof kv === "bigint" && this.isSize(other)) {
      if (kv < -0x1fffffffffffffn || kv > 0x1fffffffffffffn) throw new Unsupported();
      const n = this.sizeOf(other)!;
      this.emit(`const ${t} = (${n} === ${this.constant(Number(kv))}) !== ${negate};`);
      return t;
    }
    const folded = this.constantBranches(other);
    if (folded !== undefined && (typeof kv === "string" || typeof kv === "boolean")) {
      // `(c ? 'high' : 'low') == 'high'`: each branch compares two constants, decided here.
      const [cond, a, b] = folded;
      this.emit(`const ${t} = ${cond} ? ${(a === kv) !== negate} : ${(b === kv) !== negate};`);
      return t;
    }
    const v = this.value(other);
    if (typeof kv === "string" || typeof kv === "boolean") {
      // A JSON scalar of another type is simply unequal; anything else takes the slow path.
      this.emit(`let ${t};`);
      this.emit(`if (${v} === ${this.constant(kv)}) ${t} = ${!negate};`);
      this.emit(
        `else if (typeof ${v} === "string" || typeof ${v} === "number" || typeof ${v} === "boolean" || ${v} === null) ${t} = ${negate};`,
      );
      this.emit(`else ${BAIL}`);
      return t;
    }
    if (typeof kv === "number" || typeof kv === "bigint") {
      // Only double-vs-number is decided here (an int constant compares as the nearest double).
      this.emit(`if (typeof ${v} !== "number") ${BAIL}`);
      this.emit(`const ${t} = (${v} === ${this.constant(Number(kv))}) !== ${negate};`);
      return t;
    }
    throw new Unsupported();
  }

  /**
   * For a conditional whose branches are both string or boolean constants, emits its condition
   * and returns it with the two constants; otherwise emits nothing.
   */
  private constantBranches(e: Expr): [string, string | boolean, string | boolean] | undefined {
    if (e.kind !== "call" || e.fn !== "_?_:_") return undefined;
    const a = this.literal(e.args[1]!)?.value;
    const b = this.literal(e.args[2]!)?.value;
    if ((typeof a !== "string" && typeof a !== "boolean") || (typeof b !== "string" && typeof b !== "boolean")) return undefined;
    return [this.bool(e.args[0]!), a, b];
  }

  private relation(e: CallExpr, t: string): string {
    const op = RELATION_OPS[e.fn]!;
    const [l, r] = e.args as [Expr, Expr];
    const k = this.literal(r);
    if (k === undefined || (typeof k.value !== "number" && typeof k.value !== "bigint")) throw new Unsupported();
    const kv = typeof k.value === "bigint" ? Number(k.value) : k.value;
    if (kv !== kv) throw new Unsupported();
    const size = this.sizeOf(l);
    if (size !== undefined) {
      this.emit(`const ${t} = ${size} ${op} ${this.constant(kv)};`);
      return t;
    }
    const v = this.value(l);
    this.emit(`if (typeof ${v} !== "number" || ${v} !== ${v}) ${BAIL}`);
    this.emit(`const ${t} = ${v} ${op} ${this.constant(kv)};`);
    return t;
  }

  private membership(e: CallExpr, t: string): string {
    const [l, r] = e.args as [Expr, Expr];
    const k = this.literal(r);
    if (k === undefined || !Array.isArray(k.value) || !k.value.every((x) => typeof x === "string")) {
      throw new Unsupported();
    }
    const items = [...new Set(k.value as string[])];
    // A few strings compare faster one by one (internalised: by pointer) than through a hash.
    const test = items.length <= SMALL_IN_LIST ? undefined : this.constant(new Set(items));
    const v = this.value(l);
    this.emit(`if (typeof ${v} !== "string") ${BAIL}`);
    if (test !== undefined) this.emit(`const ${t} = ${test}.has(${v});`);
    else this.emit(`const ${t} = ${items.length === 0 ? "false" : items.map((x) => `${v} === ${this.constant(x)}`).join(" || ")};`);
    return t;
  }

  /** `list.exists(x, p)` / `list.all(x, p)` over an array read from a path. */
  private comprehension(e: ComprehensionExpr): string {
    const macro = this.env.macroOf(e);
    if ((macro !== "exists" && macro !== "all") || e.iterVar2 !== undefined) throw new Unsupported();
    const step = e.loopStep;
    if (step.kind !== "call" || step.args.length !== 2) throw new Unsupported();
    const range = this.path(e.iterRange);
    const t = this.fresh("t");
    const i = this.fresh("i");
    const item = this.fresh("x");
    const decisive = macro === "exists";
    this.emit(`if (!Array.isArray(${range})) ${BAIL}`);
    // Charge the iterations up front, each the nodes its predicate evaluates (as the closures
    // charge); past the budget the closures raise the cost error.
    const weight = ITERATION_COST + fixedCost(step.args[1]!);
    this.emit(`if ((c.cost += ${weight === 1 ? `${range}.length` : `${range}.length * ${weight}`}) > c.maxCost) ${BAIL}`);
    this.emit(`let ${t} = ${!decisive};`);
    this.open(`for (let ${i} = 0; ${i} < ${range}.length; ${i}++) {`);
    this.emit(`const ${item} = ${range}[${i}];`);
    this.emit(`if (${item} === undefined) ${BAIL}`);
    const shadowed = this.locals.get(e.iterVar);
    this.locals.set(e.iterVar, item);
    const p = this.bool(step.args[1]!);
    if (shadowed === undefined) this.locals.delete(e.iterVar);
    else this.locals.set(e.iterVar, shadowed);
    this.emit(`if (${p} === ${decisive}) { ${t} = ${decisive}; break; }`);
    this.close();
    return t;
  }

  source(result: string): string {
    const bindings = this.constants.map((_, i) => `k${i} = K[${i}]`).join(", ");
    return `"use strict";\n${bindings === "" ? "" : `const ${bindings};\n`}return function predicate(c) {\nconst cost0 = c.cost;\n${this.lines.join("\n")}\nreturn ${result};\n};`;
  }
}

/** Generators of library calls in boolean position, by overload id. */
const FUNCTIONS: ReadonlyMap<string, (g: Generator, e: CallExpr, t: string) => string> = new Map([
  ["contains_string", (g, e, t) => g.stringTest(e, t, "includes")],
  ["starts_with_string", (g, e, t) => g.stringTest(e, t, "startsWith")],
  ["ends_with_string", (g, e, t) => g.stringTest(e, t, "endsWith")],
  ["matches", (g, e, t) => g.matches(e, t)],
  ["matches_string", (g, e, t) => g.matches(e, t)],
]);

/** A generated fast path, ready to be bound to the general closure it falls back to. */
export interface PreparedFastPath {
  /** The compiled node: the fast path, falling back to `fallback` whenever it declines. */
  instantiate(fallback: Fn): Fn;
}

/**
 * Prepares the fast path of a boolean expression, or returns `undefined` when the expression is
 * outside the generated subset. The caller has checked that code may be generated
 * (`mayGenerateCode` in `available.ts`).
 */
export function prepareFastPath(e: Expr, env: CodegenEnv): PreparedFastPath | undefined {
  const g = new Generator(env);
  let result: string;
  try {
    result = g.bool(e);
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
  const source = g.source(result);
  let factory = factoryCache.get(source);
  if (factory === undefined) {
    try {
      factory = new Function("fallback", "K", source) as Factory;
    } catch {
      return undefined;
    }
    if (factoryCache.size >= FACTORY_CACHE_LIMIT) factoryCache.delete(factoryCache.keys().next().value!);
    factoryCache.set(source, factory);
  }
  const make = factory;
  const constants = g.constants;
  return { instantiate: (fallback) => make(fallback, constants) };
}
