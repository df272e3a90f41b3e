/**
 * The closure compiler: one factory per node kind, specialised at compile time by the checked
 * types and by constant operands. The closures return CEL values or `CelError` values; only the
 * cost budget throws, so that nested loops stop at once.
 *
 * @module
 */
import { withoutRootDot, type CallExpr, type ComprehensionExpr, type Constant, type Expr, type ListExpr, type MapExpr, type SelectExpr } from "../ast.js";
import { candidateNames, type CheckedAst, type Reference } from "../checker/checker.js";
import type { OverloadDecl, OverloadImpl } from "../decls.js";
import { makeIssue, type Issue } from "../errors.js";
import {
  celCompare,
  celEquals,
  kindOf,
  mapGet,
  mapKeys,
  MISSING,
  type Missing,
  noSuchOverload,
  UNKNOWN,
} from "../runtime/core.js";
import { T, type Type } from "../types.js";
import { CelError, CelType, CelUint, TYPES } from "../values.js";
import { indexCel, indexLenient, isPrototypeName, noSuchField, noSuchKey, NOT_A_MAP, readField } from "./access.js";
import { charge, CostLimitExceeded, type Ctx, type EvalLimits, type Fn, newCtx } from "./context.js";
import { type CodegenEnv, prepareFastPath } from "./codegen.js";
import { foldConstants } from "./fold.js";
import { generatePathAccessor, type PathAccessor, type PathRoot, SLOW } from "./paths.js";
import { guardFor, overloadGuard } from "./guards.js";
import { compileRegexConstant, constantOperand, sizeOf, smallInt, stringTest } from "./helpers.js";
import type { Dialect } from "../dialect.js";

/** Result of compiling a checked tree. */
export interface CompiledExpr {
  /** The root closure; read `root.fn` at each evaluation, since a tiered root swaps it. */
  readonly root: { readonly fn: Fn };
  /** Number of comprehension variable slots the context needs. */
  readonly slotCount: number;
  /** Issues found while compiling (such as an invalid constant regular expression). */
  readonly issues: readonly Issue[];
}

/** The type values that type identifiers denote at run time. */
const TYPE_VALUES: Record<string, CelType> = {
  bool: TYPES.bool,
  bytes: TYPES.bytes,
  double: TYPES.double,
  int: TYPES.int,
  uint: TYPES.uint,
  string: TYPES.string,
  null_type: TYPES.null,
  type: TYPES.type,
  list: TYPES.list,
  map: TYPES.map,
  "google.protobuf.Timestamp": TYPES.timestamp,
  "google.protobuf.Duration": TYPES.duration,
  dyn: new CelType("dyn"),
};

/** The runtime value of a literal. */
export function constantValue(c: Constant): unknown {
  switch (c.kind) {
    case "null":
      return null;
    case "uint":
      return new CelUint(c.value);
    default:
      return c.value;
  }
}

function constFn(v: unknown): Fn {
  return () => v;
}

function attachNode(r: unknown, id: number): unknown {
  return r instanceof CelError && r.nodeId === 0 ? new CelError(r.code, r.message, id) : r;
}

const RELATIONS: Record<string, (c: number) => boolean> = {
  "_<_": (c) => c < 0,
  "_<=_": (c) => c <= 0,
  "_>_": (c) => c > 0,
  "_>=_": (c) => c >= 0,
};

/** The macro a comprehension was expanded from, recognised from the original call. */
type MacroKind = "all" | "exists" | "exists_one" | "map" | "map_filter" | "filter";

/** One field of a select chain (a class: see `newCtx` on allocation sites). */
class PathStep {
  constructor(
    readonly name: string,
    readonly proto: boolean,
    readonly id: number,
  ) {}
}

/** The holder of a tiered subtree's current closure (a class: see `newCtx` on allocation sites). */
class TierNode {
  constructor(public fn: Fn) {}
}

const ACTIVATION_ROOT: PathRoot = Object.freeze({ kind: "activation" });

const NO_SCOPES: readonly ReadonlyMap<string, number>[] = Object.freeze([]);

/** What the fast-path generator sees of a compiler, with the comprehension scopes of one point. */
class CompilerCodegenEnv implements CodegenEnv {
  constructor(
    private readonly compiler: Compiler,
    private readonly scopes: readonly ReadonlyMap<string, number>[],
  ) {}

  constOf(e: Expr): { readonly value: unknown } | undefined {
    return this.compiler.constOf(e);
  }

  get refs(): ReadonlyMap<number, Reference> {
    return this.compiler.refs;
  }

  slotOf(name: string): number | undefined {
    for (let k = this.scopes.length - 1; k >= 0; k--) {
      const slot = this.scopes[k]!.get(name);
      if (slot !== undefined) return slot;
    }
    return undefined;
  }

  macroOf(e: ComprehensionExpr): string | undefined {
    return this.compiler.macroNameOf(e);
  }

  regexOf(pattern: string): ((s: string) => boolean) | undefined {
    const re = compileRegexConstant(pattern);
    return re instanceof CelError ? undefined : re;
  }
}

class Compiler {
  private readonly constants = new Map<number, unknown>();
  private readonly scopes: Map<string, number>[] = [];
  private slotCount = 0;
  readonly issues: Issue[] = [];
  private readonly types: ReadonlyMap<number, Type>;
  readonly refs: ReadonlyMap<number, Reference>;
  private readonly lenient: boolean;

  constructor(
    private readonly checked: CheckedAst,
    private readonly dialect: Dialect,
    private readonly limits: Required<EvalLimits>,
    private readonly resolution: NameResolution,
  ) {
    this.types = checked.types;
    this.refs = checked.refs;
    this.lenient = dialect.lenient;
    this.slowPath = resolution.fastPaths === false || resolution.atRuntime;
    this.fastPathsAfter = resolution.fastPathsAfter ?? DEFAULT_FAST_PATHS_AFTER;
  }

  /** Evaluations of a boolean subtree before its fast path is generated; 0 means at once. */
  private readonly fastPathsAfter: number;

  /** The context constant folding evaluates in (made at the first folded subtree). */
  private foldCtx: Ctx | undefined;

  compileRoot(): Fn {
    foldConstants(
      this.checked.expr,
      this.refs,
      (e) => {
        if (e.kind === "const") return undefined;
        const before = this.issues.length;
        const saved = this.slotCount;
        const savedSlowPath = this.slowPath;
        // A constant is evaluated once: no fast path for it.
        this.slowPath = true;
        try {
          const f = this.compile(e);
          // One context serves every folded subtree (each evaluation starts from no cost).
          let ctx = this.foldCtx;
          if (ctx === undefined || ctx.slots.length < this.slotCount) ctx = this.foldCtx = newCtx(this.slotCount, this.limits);
          ctx.cost = 0;
          ctx.now = 0;
          const v = f(ctx);
          return v instanceof CelError ? undefined : { value: v };
        } catch (err) {
          if (err instanceof CostLimitExceeded) return undefined;
          throw err;
        } finally {
          // A subtree folded here is compiled again as part of its parent; drop duplicates.
          this.slowPath = savedSlowPath;
          if (this.issues.length !== before) this.issues.length = before;
          this.slotCount = Math.max(saved, this.slotCount);
        }
      },
      this.constants,
    );
    return this.compile(this.checked.expr);
  }

  get slots(): number {
    return this.slotCount;
  }

  private typeOf(e: Expr): Type {
    return this.types.get(e.id) ?? T.dyn;
  }

  /** Whether `e` is a literal or a folded constant. */
  private isConstant(e: Expr): boolean {
    return e.kind === "const" || this.constants.has(e.id);
  }

  /** The value of a literal or a folded constant; `undefined` for any other node. */
  constOf(e: Expr): { value: unknown } | undefined {
    if (this.constants.has(e.id)) return { value: this.constants.get(e.id) };
    if (e.kind === "const") return { value: constantValue(e.value) };
    return undefined;
  }

  private issue(id: number, message: string): void {
    const span = this.checked.parsed.spans.get(id) ?? { start: -1, end: -1 };
    this.issues.push(makeIssue(this.checked.parsed.source, "invalid_argument", message, span));
  }

  compile(e: Expr): Fn {
    if (this.constants.has(e.id)) return constFn(this.constants.get(e.id));
    if (e.kind === "const") return constFn(constantValue(e.value));
    if (!this.slowPath && (e.kind === "call" ? PREDICATE_FUNCTIONS.has(e.fn) : e.kind === "comprehension")) {
      return this.fastPathsAfter === 0 ? (this.generateFastPath(e) ?? this.compileNode(e)) : this.tiered(e);
    }
    return this.compileNode(e);
  }

  /** The closure of a node by its kind (no fast path at this node). */
  private compileNode(e: Expr): Fn {
    switch (e.kind) {
      case "const":
        return constFn(constantValue(e.value));
      case "ident":
        return this.compileIdent(e.id, e.name);
      case "select":
        return e.testOnly ? this.compileHas(e) : this.compileSelect(e);
      case "call":
        return this.compileCall(e);
      case "list":
        return this.compileList(e);
      case "map":
        return this.compileMap(e);
      case "struct": {
        const err = new CelError("no_such_overload", `message construction is not supported: ${e.typeName}`, e.id);
        return constFn(err);
      }
      case "comprehension":
        return this.compileComprehension(e);
    }
  }

  /** Set while compiling the general closures behind a generated fast path. */
  private slowPath = false;

  /** The holder of the root's closure when the root tiers up (see {@link tiered}). */
  rootTier: { fn: Fn } | undefined;

  /** What the fast-path generator needs, with the comprehension scopes visible now. */
  private codegenEnv(): CodegenEnv {
    return new CompilerCodegenEnv(this, this.scopesInView());
  }

  /** The comprehension scopes visible now, as they are (the compiler's own list keeps changing). */
  private scopesInView(): readonly ReadonlyMap<string, number>[] {
    return this.scopes.length === 0 ? NO_SCOPES : this.scopes.slice();
  }

  /** The macro a comprehension was expanded from. @internal */
  macroNameOf(e: ComprehensionExpr): string | undefined {
    return this.checked.parsed.macroCalls.get(e.id)?.fn;
  }

  /**
   * Tiered compilation (with `fastPathsAfter` > 0): a boolean subtree starts as closures and, after
   * that many evaluations, generates its fast path (see `codegen.ts`) and switches to it, so a
   * program used a few times never pays for code generation. Nothing of the generator is built
   * before then but a copy of the comprehension scopes in view (usually none, shared).
   */
  private tiered(e: Expr): Fn {
    const slow = this.compileNode(e);
    const scopes = this.scopesInView();
    const threshold = this.fastPathsAfter;
    let count = 0;
    // The node is built around its first closure rather than given it afterwards: storing a fresh
    // closure into an existing object at every compile made V8 pretenure allocation sites of the
    // whole compiler (measured: uncached compiles about 2× slower, scavenges 3–4× longer).
    const node: TierNode = new TierNode((c) => {
      if (++count < threshold) return slow(c);
      const prepared = prepareFastPath(e, new CompilerCodegenEnv(this, scopes));
      node.fn = prepared === undefined ? slow : prepared.instantiate(slow);
      return node.fn(c);
    });
    if (e === this.checked.expr) {
      this.rootTier = node;
      return node.fn;
    }
    return (c) => node.fn(c);
  }

  /**
   * Generates the fast path of a boolean subtree now (see `codegen.ts`), backed by the general
   * closures for every case the fast path declines.
   */
  private generateFastPath(e: Expr): Fn | undefined {
    const prepared = prepareFastPath(e, this.codegenEnv());
    if (prepared === undefined) return undefined;
    this.slowPath = true;
    let slow: Fn;
    try {
      slow = this.compile(e);
    } finally {
      this.slowPath = false;
    }
    return prepared.instantiate(slow);
  }

  // -- variables -------------------------------------------------------------------------------

  private lookupSlot(name: string): number | undefined {
    for (let k = this.scopes.length - 1; k >= 0; k--) {
      const s = this.scopes[k]!.get(name);
      if (s !== undefined) return s;
    }
    return undefined;
  }

  private compileIdent(id: number, name: string): Fn {
    const slot = this.lookupSlot(name);
    if (slot !== undefined) return (c) => c.slots[slot];
    const ref = this.refs.get(id);
    if (ref?.kind === "ident" && ref.isType) {
      return constFn(TYPE_VALUES[ref.name] ?? new CelType(ref.name));
    }
    if (this.resolution.atRuntime) {
      const resolved = this.compileRuntimeName(name, []);
      if (resolved !== undefined) return resolved;
    }
    const key = withoutRootDot(name);
    const proto = isPrototypeName(key);
    if (this.lenient) {
      return (c) => {
        const v = c.act[key];
        if (v !== undefined && !proto) return v;
        return Object.hasOwn(c.act, key) ? (v ?? null) : UNKNOWN;
      };
    }
    const missing = new CelError("no_such_attribute", `no such attribute: ${key}`, id);
    return (c) => {
      const v = c.act[key];
      if (v !== undefined && !proto) return v;
      return Object.hasOwn(c.act, key) ? (v ?? null) : missing;
    };
  }

  // -- selection -------------------------------------------------------------------------------

  /**
   * Without a checked AST, a dotted name is resolved against the activation at run time, as
   * cel-go does: the longest prefix (tried with the container's candidates) that names a bound
   * variable wins, and the rest of the path is field selection.
   */
  private compileRuntimeName(root: string, path: readonly string[]): Fn | undefined {
    if (this.lookupSlot(root) !== undefined) return undefined;
    const attempts: { keys: string[]; rest: string[] }[] = [];
    for (let k = path.length; k >= 0; k--) {
      const dotted = [root, ...path.slice(0, k)].join(".");
      attempts.push({ keys: candidateNames(this.resolution.container, dotted), rest: path.slice(k) });
    }
    const lenient = this.lenient;
    return (c) => {
      for (const a of attempts) {
        for (const key of a.keys) {
          if (!Object.hasOwn(c.act, key)) continue;
          let v: unknown = c.act[key] ?? null;
          for (const field of a.rest) {
            const r = readField(v, field, true);
            if (r === MISSING) return lenient ? UNKNOWN : noSuchKey(field, 0);
            if (r === NOT_A_MAP) return lenient ? UNKNOWN : noSuchField(v, field, 0);
            v = r;
          }
          return v;
        }
      }
      return lenient ? UNKNOWN : new CelError("no_such_attribute", `no such attribute: ${[root, ...path].join(".")}`);
    };
  }

  /**
   * For a field path read from a variable (`event.data.userId`), a generated accessor for the
   * fast case plus the general closure for everything else (see `paths.ts`).
   */
  pathAccess(e: Expr): { readonly fast: PathAccessor; readonly slow: Fn } | undefined {
    if (this.resolution.atRuntime || e.kind !== "select") return undefined;
    let fields = 0;
    let base: Expr = e;
    while (base.kind === "select" && !base.testOnly && !base.optional && !this.isConstant(base)) {
      fields++;
      base = base.operand;
    }
    if (fields === 0 || base.kind !== "ident" || this.isConstant(base)) return undefined;
    let root: PathRoot;
    const slot = this.lookupSlot(base.name);
    if (slot === undefined) {
      const ref = this.refs.get(base.id);
      if (ref?.kind === "ident" && ref.isType) return undefined;
      root = ACTIVATION_ROOT;
    } else {
      root = { kind: "slot", index: slot };
    }
    // The variable's name (when the path starts at the activation), then the fields; sized up
    // front rather than grown.
    const first = root === ACTIVATION_ROOT ? 1 : 0;
    const keys = new Array<string>(first + fields);
    if (first === 1) keys[0] = withoutRootDot(base.name);
    let step: Expr = e;
    for (let k = first + fields - 1; k >= first; k--) {
      const select = step as SelectExpr;
      keys[k] = select.field;
      step = select.operand;
    }
    const fast = generatePathAccessor(root, keys);
    if (fast === undefined) return undefined;
    if (root !== ACTIVATION_ROOT) return { fast, slow: this.compileSelectGeneric(e) };
    // Well-formed data never leaves the generated accessor, so the general closures of a path
    // from a global variable are built when first needed. Nothing they depend on changes after
    // compiling: folding is done, and a name that is no comprehension variable now is none later.
    let slow: Fn | undefined;
    return { fast, slow: (c) => (slow ??= this.compileSelectGeneric(e))(c) };
  }

  private compileSelect(e: SelectExpr): Fn {
    const pa = this.pathAccess(e);
    if (pa === undefined) return this.compileSelectGeneric(e);
    const { fast, slow } = pa;
    return (c) => {
      const v = fast(c);
      return v !== SLOW ? v : slow(c);
    };
  }

  private compileSelectGeneric(e: SelectExpr): Fn {
    // Collapse a chain `x.a.b.c` into one closure over the pre-split path.
    const path: PathStep[] = [];
    let base: Expr = e;
    while (base.kind === "select" && !base.testOnly && !this.isConstant(base)) {
      path.unshift(new PathStep(base.field, isPrototypeName(base.field), base.id));
      base = base.operand;
    }
    if (this.resolution.atRuntime && base.kind === "ident") {
      const ref = this.refs.get(base.id);
      if (!(ref?.kind === "ident" && ref.isType)) {
        const resolved = this.compileRuntimeName(
          base.name,
          path.map((p) => p.name),
        );
        if (resolved !== undefined) return resolved;
      }
    }
    const root = this.compile(base);
    const lenient = this.lenient;
    // In the inngest dialect a path that does not exist (a missing key, or a step through null,
    // a scalar or a list) is unknown, as Inngest's partial evaluation makes it.
    const step = (v: unknown, p: PathStep): unknown => {
      if (lenient && v === UNKNOWN) return UNKNOWN;
      const r = readField(v, p.name, p.proto);
      if (r === MISSING) return lenient ? UNKNOWN : noSuchKey(p.name, p.id);
      if (r === NOT_A_MAP) return lenient ? UNKNOWN : noSuchField(v, p.name, p.id);
      return r;
    };
    if (path.length === 1) {
      const p0 = path[0]!;
      const { name, proto } = p0;
      return (c) => {
        const v = root(c);
        if (typeof v === "object" && v !== null && !proto && (v as { constructor?: unknown }).constructor === Object) {
          const r = (v as Record<string, unknown>)[name];
          if (r !== undefined) return r;
        }
        return v instanceof CelError ? v : step(v, p0);
      };
    }
    const n = path.length;
    return (c) => {
      let v = root(c);
      for (let k = 0; k < n; k++) {
        const p = path[k]!;
        if (typeof v === "object" && v !== null && !p.proto && (v as { constructor?: unknown }).constructor === Object) {
          const r = (v as Record<string, unknown>)[p.name];
          if (r !== undefined) {
            v = r;
            continue;
          }
        }
        if (v instanceof CelError) return v;
        v = step(v, p);
        if (v instanceof CelError) return v;
      }
      return v;
    };
  }

  private compileHas(e: SelectExpr): Fn {
    const operand = this.compile(e.operand);
    const { field, id } = e;
    const proto = isPrototypeName(field);
    const lenient = this.lenient;
    return (c) => {
      const v = operand(c);
      if (v instanceof CelError) return v;
      if (lenient && v === UNKNOWN) return false;
      const r = readField(v, field, proto);
      if (r === NOT_A_MAP) {
        if (lenient && (v === null || v === undefined)) return false;
        return noSuchField(v, field, id);
      }
      return r !== MISSING;
    };
  }

  // -- aggregates ------------------------------------------------------------------------------

  private compileList(e: ListExpr): Fn {
    const n = e.elements.length;
    const id = e.id;
    if (e.elements.every((x) => this.isConstant(x))) {
      // Usually evaluated just once, by constant folding: no closure per element.
      const values = e.elements.map((x) => this.constOf(x)!.value);
      return (c) => {
        if (n > 0) charge(c, n, id);
        return values.slice();
      };
    }
    const items = e.elements.map((x) => this.compile(x));
    return (c) => {
      const out = new Array<unknown>(n);
      for (let k = 0; k < n; k++) {
        const v = items[k]!(c);
        if (v instanceof CelError || v === UNKNOWN) return v;
        out[k] = v;
      }
      if (n > 0) charge(c, n, id);
      return out;
    };
  }

  private compileMap(e: MapExpr): Fn {
    const entries = e.entries.map((x) => ({ key: this.compile(x.key), value: this.compile(x.value), id: x.id }));
    const id = e.id;
    return (c) => {
      const out = new Map<unknown, unknown>();
      for (const entry of entries) {
        const k = entry.key(c);
        if (k instanceof CelError || k === UNKNOWN) return k;
        const kind = kindOf(k);
        if (kind !== "string" && kind !== "int" && kind !== "uint" && kind !== "bool") {
          return new CelError("invalid_argument", `unsupported key type: ${kind}`, entry.id);
        }
        const v = entry.value(c);
        if (v instanceof CelError || v === UNKNOWN) return v;
        if (mapGet(out, k) !== MISSING) {
          return new CelError("invalid_argument", `Failed with repeated key: ${String(k)}`, entry.id);
        }
        out.set(k, v);
      }
      if (entries.length > 0) charge(c, entries.length, id);
      return out;
    };
  }

  // -- calls -----------------------------------------------------------------------------------

  private overloadsOf(e: CallExpr): readonly OverloadDecl[] {
    const r = this.refs.get(e.id);
    return r?.kind === "function" ? r.overloads : [];
  }

  private compileCall(e: CallExpr): Fn {
    const special = this.dialect.compileCall?.(e, this.hooks);
    if (special !== undefined) return special;
    switch (e.fn) {
      case "_&&_":
        return this.compileLogical(e, false);
      case "_||_":
        return this.compileLogical(e, true);
      case "!_":
        return this.compileNot(e);
      case "_?_:_":
        return this.compileConditional(e);
      case "@not_strictly_false": {
        const arg = this.compile(e.args[0]!);
        return (c) => arg(c) !== false;
      }
      case "_==_":
      case "_!=_":
        return this.compileEquality(e, e.fn === "_!=_");
      case "_<_":
      case "_<=_":
      case "_>_":
      case "_>=_":
        return this.compileRelation(e);
      case "@in":
        return this.compileIn(e);
      case "_[_]":
        return this.compileIndex(e);
      case "size":
        return this.compileSize(e);
      case "contains":
      case "startsWith":
      case "endsWith":
        if (e.target !== undefined && e.args.length === 1) return this.compileStringTest(e);
        break;
      case "matches":
        return this.compileMatches(e);
    }
    return this.compileGeneric(e);
  }

  #hooks: CompilerHooks | undefined;

  /** Hooks a dialect uses to compile its own calls with the compiler's machinery (made on first use). */
  get hooks(): CompilerHooks {
    return (this.#hooks ??= this.makeHooks());
  }

  private makeHooks(): CompilerHooks {
    return {
      compile: (x) => this.compile(x),
      constOf: (x) => this.constOf(x),
      typeOf: (x) => this.typeOf(x),
      generic: (x) => this.compileGeneric(x),
      dispatcher: (x) => this.dispatcher(x),
      issue: (id, message) => this.issue(id, message),
      regex: (id, pattern) => {
        const re = compileRegexConstant(pattern);
        if (re instanceof CelError) this.issue(id, re.message);
        return re;
      },
    };
  }

  /**
   * The overloads a call may dispatch to at run time: those the checker resolved, then the
   * function's other overloads of the same shape. The checker's choice is an assumption where a
   * type variable stood for a `dyn` value (`int(m['a'])` with `m` dyn resolves to `int(int)`), so,
   * like cel-go, dispatch goes by the runtime kinds of the arguments.
   */
  private runtimeOverloads(e: CallExpr): readonly OverloadDecl[] {
    const resolved = this.overloadsOf(e);
    const all = this.dialect.functions.get(e.fn)?.overloads ?? [];
    const member = e.target !== undefined;
    const arity = e.args.length + (member ? 1 : 0);
    const rest = all.filter((o) => !resolved.includes(o) && o.member === member && o.params.length === arity);
    return [...resolved, ...rest].filter((o) => o.impl !== undefined);
  }

  /** Overload dispatch over already evaluated, non-error arguments (receiver first). */
  dispatcher(e: CallExpr): (vals: readonly unknown[]) => unknown {
    const id = e.id;
    const fn = e.fn;
    const candidates = this.runtimeOverloads(e)
      .map((o) => ({ guard: overloadGuard(o), arity: o.params.length, impl: o.impl as (...a: unknown[]) => unknown }));
    return (vals) => {
      for (const cand of candidates) {
        if (cand.arity === vals.length && (cand.guard === undefined || cand.guard(vals))) {
          return attachNode(cand.impl(...vals), id);
        }
      }
      return attachNode(noSuchOverload(fn, ...vals), id);
    };
  }

  private compileLogical(e: CallExpr, isOr: boolean): Fn {
    const l = this.compile(e.args[0]!);
    const r = this.compile(e.args[1]!);
    const id = e.id;
    const fn = e.fn;
    // `short` decides the result whatever the other side is, even an error.
    const short = isOr;
    return (c) => {
      const a = l(c);
      if (a === short) return short;
      const b = r(c);
      if (b === short) return short;
      if (a === !short && b === !short) return !short;
      if (a instanceof CelError) return a;
      if (b instanceof CelError) return b;
      return attachNode(noSuchOverload(fn, a, b), id);
    };
  }

  private compileNot(e: CallExpr): Fn {
    const arg = this.compile(e.args[0]!);
    const id = e.id;
    return (c) => {
      const v = arg(c);
      if (v === true) return false;
      if (v === false) return true;
      return v instanceof CelError ? v : attachNode(noSuchOverload("!_", v), id);
    };
  }

  private compileConditional(e: CallExpr): Fn {
    const cond = this.compile(e.args[0]!);
    const yes = this.compile(e.args[1]!);
    const no = this.compile(e.args[2]!);
    const id = e.id;
    return (c) => {
      const v = cond(c);
      if (v === true) return yes(c);
      if (v === false) return no(c);
      return v instanceof CelError ? v : attachNode(noSuchOverload("_?_:_", v), id);
    };
  }

  private compileEquality(e: CallExpr, negate: boolean): Fn {
    const [le, re] = e.args as [Expr, Expr];
    // `x == 'lit'` / `'lit' == x`: compare without boxing.
    const split = constantOperand(le, re, (x) => this.constOf(x));
    if (split !== undefined) {
      const k = split.constant.value;
      const varSide = split.other;
      const sizeFused = this.fuseSize(varSide, k, (n, m) => (n === m) !== negate);
      if (sizeFused !== undefined) return sizeFused;
      const pa = typeof k === "string" || typeof k === "boolean" ? this.pathAccess(varSide) : undefined;
      const x = pa === undefined ? this.compile(varSide) : pa.slow;
      if (typeof k === "string" || typeof k === "boolean") {
        if (pa !== undefined) {
          const { fast, slow } = pa;
          return (c) => {
            let v = fast(c);
            if (v === SLOW) v = slow(c);
            if (typeof v === typeof k) return (v === k) !== negate;
            return v instanceof CelError ? v : negate;
          };
        }
        return (c) => {
          const v = x(c);
          if (typeof v === typeof k) return (v === k) !== negate;
          return v instanceof CelError ? v : negate;
        };
      }
      if (typeof k === "number" && k === k) {
        return (c) => {
          const v = x(c);
          if (typeof v === "number") return (v === k) !== negate;
          return v instanceof CelError ? v : celEquals(v, k) !== negate;
        };
      }
      if (k === null) {
        return (c) => {
          const v = x(c);
          if (v === null || v === undefined) return !negate;
          return v instanceof CelError ? v : negate;
        };
      }
      return (c) => {
        const v = x(c);
        return v instanceof CelError ? v : celEquals(v, k) !== negate;
      };
    }
    const l = this.compile(le);
    const r = this.compile(re);
    return (c) => {
      const a = l(c);
      if (a instanceof CelError) return a;
      const b = r(c);
      if (b instanceof CelError) return b;
      return celEquals(a, b) !== negate;
    };
  }

  /**
   * `size(x) OP k` with a small int constant `k`: compares the JS length directly, so the hot
   * path neither allocates nor uses BigInt.
   */
  private fuseSize(e: Expr, k: unknown, test: (n: number, k: number) => boolean): Fn | undefined {
    if (e.kind !== "call" || e.fn !== "size" || typeof k !== "bigint") return undefined;
    if (k < -0x1fffffffffffffn || k > 0x1fffffffffffffn) return undefined;
    const argExpr = e.target ?? (e.args.length === 1 ? e.args[0] : undefined);
    if (argExpr === undefined || (e.target !== undefined && e.args.length > 0)) return undefined;
    const arg = this.compile(argExpr);
    const km = Number(k);
    const id = e.id;
    const lenient = this.lenient;
    return (c) => {
      const v = arg(c);
      if (v instanceof CelError) return v;
      const n = sizeOf(v, lenient);
      return n < 0 ? attachNode(noSuchOverload("size", v), id) : test(n, km);
    };
  }

  private compileRelation(e: CallExpr): Fn {
    const test = RELATIONS[e.fn]!;
    const [le, re] = e.args as [Expr, Expr];
    const rc = this.constOf(re);
    const id = e.id;
    const fn = e.fn;
    if (rc !== undefined) {
      const k = rc.value;
      const fused = this.fuseSize(le, k, (n, m) => test(n < m ? -1 : n > m ? 1 : 0));
      if (fused !== undefined) return fused;
      const x = this.compile(le);
      // Against a number (or an int exactly representable as one), compare JS numbers directly.
      // CEL compares an int with a double by converting the int to the nearest double.
      const kn = typeof k === "number" ? k : typeof k === "bigint" ? Number(k) : undefined;
      if (kn !== undefined) {
        return (c) => {
          const v = x(c);
          if (typeof v === "number") return v === v && kn === kn && test(v < kn ? -1 : v > kn ? 1 : 0);
          if (v instanceof CelError) return v;
          const cmp = celCompare(v, k);
          if (cmp === undefined) return attachNode(noSuchOverload(fn, v, k), id);
          return cmp === cmp && test(cmp);
        };
      }
      return (c) => {
        const v = x(c);
        if (v instanceof CelError) return v;
        const cmp = celCompare(v, k);
        if (cmp === undefined) return attachNode(noSuchOverload(fn, v, k), id);
        return cmp === cmp && test(cmp);
      };
    }
    const l = this.compile(le);
    const r = this.compile(re);
    return (c) => {
      const a = l(c);
      if (a instanceof CelError) return a;
      const b = r(c);
      if (b instanceof CelError) return b;
      if (typeof a === "number" && typeof b === "number") return test(a < b ? -1 : a > b ? 1 : a === b ? 0 : NaN);
      const cmp = celCompare(a, b);
      if (cmp === undefined) return attachNode(noSuchOverload(fn, a, b), id);
      return cmp === cmp && test(cmp);
    };
  }

  private compileIn(e: CallExpr): Fn {
    const [le, re] = e.args as [Expr, Expr];
    const id = e.id;
    const rc = this.constOf(re);
    const x = this.compile(le);
    if (rc !== undefined && Array.isArray(rc.value)) {
      const list = rc.value as readonly unknown[];
      // A constant list of strings becomes a set lookup.
      if (list.every((v) => typeof v === "string")) {
        const set = new Set(list as string[]);
        return (c) => {
          const v = x(c);
          if (typeof v === "string") return set.has(v);
          return v instanceof CelError ? v : false;
        };
      }
      return (c) => {
        const v = x(c);
        if (v instanceof CelError) return v;
        for (const item of list) if (celEquals(v, item)) return true;
        return false;
      };
    }
    const r = this.compile(re);
    const lenient = this.lenient;
    return (c) => {
      const v = x(c);
      if (v instanceof CelError) return v;
      const container = r(c);
      if (container instanceof CelError) return container;
      if (Array.isArray(container)) {
        for (const item of container) if (celEquals(v, item)) return true;
        return false;
      }
      if (kindOf(container) === "map") return mapGet(container as Map<unknown, unknown>, v) !== MISSING;
      if (lenient && (container === null || container === undefined)) return false;
      return attachNode(noSuchOverload("@in", v, container), id);
    };
  }

  private compileIndex(e: CallExpr): Fn {
    const operand = this.compile(e.args[0]!);
    const ic = this.constOf(e.args[1]!);
    const id = e.id;
    const index = this.lenient ? indexLenient : indexCel;
    if (ic !== undefined && typeof ic.value === "string") {
      const key = ic.value;
      const proto = isPrototypeName(key);
      const lenient = this.lenient;
      return (c) => {
        const v = operand(c);
        if (v instanceof CelError) return v;
        if (lenient && v === UNKNOWN) return UNKNOWN;
        const r = readField(v, key, proto);
        if (r === MISSING) return lenient ? UNKNOWN : noSuchKey(key, id);
        if (r === NOT_A_MAP) return index(v, key, id);
        return r;
      };
    }
    const idx = this.compile(e.args[1]!);
    return (c) => {
      const v = operand(c);
      if (v instanceof CelError) return v;
      const k = idx(c);
      if (k instanceof CelError) return k;
      return index(v, k, id);
    };
  }

  private compileSize(e: CallExpr): Fn {
    const argExpr = e.target ?? e.args[0];
    if (argExpr === undefined || (e.target !== undefined && e.args.length > 0) || (e.target === undefined && e.args.length !== 1)) {
      return this.compileGeneric(e);
    }
    const arg = this.compile(argExpr);
    const id = e.id;
    const lenient = this.lenient;
    return (c) => {
      const v = arg(c);
      if (v instanceof CelError) return v;
      const n = sizeOf(v, lenient);
      return n < 0 ? attachNode(noSuchOverload("size", v), id) : smallInt(n);
    };
  }

  private compileStringTest(e: CallExpr): Fn {
    const target = this.compile(e.target!);
    const argExpr = e.args[0]!;
    const ac = this.constOf(argExpr);
    const id = e.id;
    const fn = e.fn;
    const op = stringTest(fn);
    if (ac !== undefined && typeof ac.value === "string") {
      const k = ac.value;
      return (c) => {
        const s = target(c);
        if (typeof s === "string") return op(s, k);
        if (s instanceof CelError) return s;
        return attachNode(noSuchOverload(fn, s, k), id);
      };
    }
    const arg = this.compile(argExpr);
    return (c) => {
      const s = target(c);
      if (s instanceof CelError) return s;
      const t = arg(c);
      if (t instanceof CelError) return t;
      if (typeof s === "string" && typeof t === "string") return op(s, t);
      return attachNode(noSuchOverload(fn, s, t), id);
    };
  }

  private compileMatches(e: CallExpr): Fn {
    const subjectExpr = e.target ?? e.args[0];
    const patternExpr = e.target !== undefined ? e.args[0] : e.args[1];
    if (subjectExpr === undefined || patternExpr === undefined) return this.compileGeneric(e);
    const subject = this.compile(subjectExpr);
    const id = e.id;
    const pc = this.constOf(patternExpr);
    if (pc !== undefined && typeof pc.value === "string") {
      const re = compileRegexConstant(pc.value);
      if (re instanceof CelError) {
        this.issue(patternExpr.id, re.message);
        return constFn(new CelError(re.code, re.message, patternExpr.id));
      }
      return (c) => {
        const s = subject(c);
        if (typeof s === "string") return re(s);
        if (s instanceof CelError) return s;
        return attachNode(noSuchOverload("matches", s, pc.value), id);
      };
    }
    return this.compileGeneric(e);
  }

  /** Calls through the overload table, dispatching on runtime kinds where static types are `dyn`. */
  compileGeneric(e: CallExpr): Fn {
    const f = this.compileDispatch(e);
    if (!GROWING_FUNCTIONS.has(e.fn)) return f;
    // Functions that build strings, bytes or lists are charged by the size they build.
    const id = e.id;
    return (c) => checkGrowth(c, f(c), id);
  }

  private compileDispatch(e: CallExpr): Fn {
    const overloads = this.runtimeOverloads(e);
    const argExprs = e.target === undefined ? e.args : [e.target, ...e.args];
    const args = argExprs.map((a) => this.compile(a));
    const id = e.id;
    const fn = e.fn;
    if (overloads.length === 0) {
      const err = new CelError("no_such_overload", `no such overload: ${fn}`, id);
      return constFn(err);
    }
    // One overload: call it directly, still testing argument kinds at run time. Checked types
    // cannot be trusted for this: a type variable bound by unification (`x['a'] + 1` types
    // `x['a']` as int when `x` is dyn) says what the checker assumed, not what the data holds.
    const only = overloads.length === 1 ? overloads[0]! : undefined;
    if (only !== undefined && args.length <= 2) {
      const impl = only.impl as (...a: unknown[]) => unknown;
      const g0 = only.params[0] === undefined ? undefined : guardFor(only.params[0]);
      const g1 = only.params[1] === undefined ? undefined : guardFor(only.params[1]);
      const mismatch = (...vals: unknown[]): unknown => attachNode(noSuchOverload(fn, ...vals), id);
      switch (args.length) {
        case 0:
          return () => attachNode(impl(), id);
        case 1: {
          const a0 = args[0]!;
          return (c) => {
            const a = a0(c);
            if (a instanceof CelError) return a;
            return g0 === undefined || g0(a) ? attachNode(impl(a), id) : mismatch(a);
          };
        }
        default: {
          const [a0, a1] = args as [Fn, Fn];
          return (c) => {
            const a = a0(c);
            if (a instanceof CelError) return a;
            const b = a1(c);
            if (b instanceof CelError) return b;
            return (g0 === undefined || g0(a)) && (g1 === undefined || g1(b)) ? attachNode(impl(a, b), id) : mismatch(a, b);
          };
        }
      }
    }
    const dispatch = this.dispatcher(e);
    return (c) => {
      const vals = new Array<unknown>(args.length);
      for (let k = 0; k < args.length; k++) {
        const v = args[k]!(c);
        if (v instanceof CelError) return v;
        vals[k] = v;
      }
      return dispatch(vals);
    };
  }

  // -- comprehensions --------------------------------------------------------------------------

  private macroKind(e: ComprehensionExpr): MacroKind | undefined {
    const call = this.checked.parsed.macroCalls.get(e.id);
    if (call === undefined) return undefined;
    const step = e.loopStep;
    const isAccu = (x: Expr): boolean => x.kind === "ident" && x.name === e.accuVar;
    const appendOf = (x: Expr): Expr | undefined =>
      x.kind === "call" && x.fn === "_+_" && x.args.length === 2 && isAccu(x.args[0]!) && x.args[1]!.kind === "list" && x.args[1]!.elements.length === 1
        ? x.args[1]!.elements[0]
        : undefined;
    switch (call.fn) {
      case "exists":
        return step.kind === "call" && step.fn === "_||_" && isAccu(step.args[0]!) ? "exists" : undefined;
      case "all":
        return step.kind === "call" && step.fn === "_&&_" && isAccu(step.args[0]!) ? "all" : undefined;
      case "exists_one":
      case "existsOne":
        return step.kind === "call" && step.fn === "_?_:_" && isAccu(step.args[2]!) ? "exists_one" : undefined;
      case "map":
        if (call.args.length === 2) return appendOf(step) !== undefined ? "map" : undefined;
        return step.kind === "call" && step.fn === "_?_:_" && appendOf(step.args[1]!) !== undefined ? "map_filter" : undefined;
      case "filter":
        return step.kind === "call" && step.fn === "_?_:_" && appendOf(step.args[1]!) !== undefined ? "filter" : undefined;
      default:
        return undefined;
    }
  }

  private newSlot(): number {
    return this.slotCount++;
  }

  private compileComprehension(e: ComprehensionExpr): Fn {
    const range = this.compile(e.iterRange);
    const id = e.id;
    const lenient = this.lenient;
    const iterSlot = this.newSlot();
    const iter2Slot = e.iterVar2 !== undefined ? this.newSlot() : -1;
    const accuSlot = this.newSlot();
    const kind = e.iterVar2 === undefined ? this.macroKind(e) : undefined;
    const accuInit = this.compile(e.accuInit);

    const loopScope = new Map<string, number>().set(e.accuVar, accuSlot);
    loopScope.set(e.iterVar, iterSlot);
    if (e.iterVar2 !== undefined) loopScope.set(e.iterVar2, iter2Slot);
    this.scopes.push(loopScope);
    const step = e.loopStep as CallExpr;
    let body: Fn;
    let second: Fn | undefined;
    let cond: Fn | undefined;
    switch (kind) {
      case "exists":
      case "all":
        body = this.compile(step.args[1]!);
        break;
      case "exists_one":
        body = this.compile(step.args[0]!);
        break;
      case "map":
        body = this.compile((step.args[1] as ListExpr).elements[0]!);
        break;
      case "map_filter":
      case "filter":
        body = this.compile(step.args[0]!);
        second = this.compile(((step.args[1] as CallExpr).args[1] as ListExpr).elements[0]!);
        break;
      default:
        cond = this.compile(e.loopCondition);
        body = this.compile(e.loopStep);
    }
    this.scopes.pop();
    this.scopes.push(new Map<string, number>().set(e.accuVar, accuSlot));
    const result = this.compile(e.result);
    this.scopes.pop();

    /** The items to iterate: list elements or map keys; an error (or unknown) value otherwise. */
    const itemsOf = (v: unknown): readonly unknown[] | CelError | Missing => {
      if (Array.isArray(v)) return v;
      if (v instanceof CelError) return v;
      if (lenient && v === UNKNOWN) return UNKNOWN;
      const k = kindOf(v);
      if (k === "map") return mapKeys(v as Map<unknown, unknown>);
      return new CelError("no_such_overload", `expression of type '${k}' cannot be range of a comprehension`, id);
    };

    switch (kind) {
      case "exists":
      case "all": {
        const decisive = kind === "exists";
        return (c) => {
          const items = itemsOf(range(c));
          if (!Array.isArray(items)) return items;
          let err: CelError | undefined;
          for (let k = 0; k < items.length; k++) {
            if (++c.cost > c.maxCost) charge(c, 0, id);
            c.slots[iterSlot] = items[k];
            const p = body(c);
            if (p === decisive) return decisive;
            if (p !== !decisive && err === undefined) {
              err = p instanceof CelError ? p : (attachNode(noSuchOverload(decisive ? "_||_" : "_&&_", p), id) as CelError);
            }
          }
          return err ?? !decisive;
        };
      }
      case "exists_one":
        return (c) => {
          const items = itemsOf(range(c));
          if (!Array.isArray(items)) return items;
          let count = 0;
          for (let k = 0; k < items.length; k++) {
            if (++c.cost > c.maxCost) charge(c, 0, id);
            c.slots[iterSlot] = items[k];
            const p = body(c);
            if (p === true) count++;
            else if (p !== false) return p instanceof CelError ? p : attachNode(noSuchOverload("_?_:_", p), id);
          }
          return count === 1;
        };
      case "map":
        return (c) => {
          const items = itemsOf(range(c));
          if (!Array.isArray(items)) return items;
          const out = new Array<unknown>(items.length);
          for (let k = 0; k < items.length; k++) {
            if (++c.cost > c.maxCost) charge(c, 0, id);
            c.slots[iterSlot] = items[k];
            const v = body(c);
            if (v instanceof CelError) return v;
            out[k] = v;
          }
          return out;
        };
      case "filter":
      case "map_filter": {
        const transform = second!;
        return (c) => {
          const items = itemsOf(range(c));
          if (!Array.isArray(items)) return items;
          const out: unknown[] = [];
          for (let k = 0; k < items.length; k++) {
            if (++c.cost > c.maxCost) charge(c, 0, id);
            c.slots[iterSlot] = items[k];
            const p = body(c);
            if (p === true) {
              const v = transform(c);
              if (v instanceof CelError) return v;
              out.push(v);
            } else if (p !== false) {
              return p instanceof CelError ? p : attachNode(noSuchOverload("_?_:_", p), id);
            }
          }
          return out;
        };
      }
      default: {
        const loopCond = cond!;
        const twoVars = e.iterVar2 !== undefined;
        return (c) => {
          const rv = range(c);
          if (rv instanceof CelError) return rv;
          const isList = Array.isArray(rv);
          const items = itemsOf(rv);
          if (!Array.isArray(items)) return items;
          let accu = accuInit(c);
          c.slots[accuSlot] = accu;
          for (let k = 0; k < items.length; k++) {
            if (++c.cost > c.maxCost) charge(c, 0, id);
            if (twoVars) {
              if (isList) {
                c.slots[iterSlot] = BigInt(k);
                c.slots[iter2Slot] = items[k];
              } else {
                c.slots[iterSlot] = items[k];
                c.slots[iter2Slot] = mapGet(rv as Map<unknown, unknown>, items[k]);
              }
            } else {
              c.slots[iterSlot] = items[k];
            }
            const go = loopCond(c);
            if (go === false) break;
            if (go !== true) return go instanceof CelError ? go : attachNode(noSuchOverload("loop condition", go), id);
            accu = body(c);
            c.slots[accuSlot] = accu;
          }
          return result(c);
        };
      }
    }
  }
}

/** Calls that may root a generated boolean fast path. */
const PREDICATE_FUNCTIONS = new Set([
  "_&&_",
  "_||_",
  "!_",
  "_==_",
  "_!=_",
  "_<_",
  "_<=_",
  "_>_",
  "_>=_",
  "@in",
  "startsWith",
  "endsWith",
  "contains",
  "matches",
  "_?_:_",
]);

/** Functions whose result can be much larger than their arguments. */
const GROWING_FUNCTIONS = new Set(["_+_", "replace", "join", "format", "split", "string", "bytes", "lowercase", "uppercase"]);

/** Charges the size of a built value and enforces the string and list limits. */
function checkGrowth(c: Ctx, r: unknown, id: number): unknown {
  if (typeof r === "string") {
    if (r.length > c.maxStringLength) {
      return new CelError("cost_limit", `string length ${r.length} exceeds the limit of ${c.maxStringLength}`, id);
    }
    charge(c, r.length >> 4, id);
  } else if (Array.isArray(r)) {
    if (r.length > c.maxListLength) {
      return new CelError("cost_limit", `list length ${r.length} exceeds the limit of ${c.maxListLength}`, id);
    }
    charge(c, r.length, id);
  } else if (r instanceof Uint8Array) {
    if (r.length > c.maxStringLength) {
      return new CelError("cost_limit", `bytes length ${r.length} exceeds the limit of ${c.maxStringLength}`, id);
    }
    charge(c, r.length >> 4, id);
  }
  return r;
}

/** What a dialect may use to compile its own calls. */
export interface CompilerHooks {
  compile(e: Expr): Fn;
  constOf(e: Expr): { value: unknown } | undefined;
  typeOf(e: Expr): Type;
  generic(e: CallExpr): Fn;
  /** Overload dispatch over evaluated non-error argument values (receiver first). */
  dispatcher(e: CallExpr): (vals: readonly unknown[]) => unknown;
  issue(id: number, message: string): void;
  /** Compiles a constant regular expression, reporting an invalid one as a compile issue. */
  regex(id: number, pattern: string): ((s: string) => boolean) | CelError;
}

/** Charges the size of a value a function built, enforcing the string and list limits. */
export function chargeGrowth(c: Ctx, r: unknown, id: number): unknown {
  return checkGrowth(c, r, id);
}

/** How global names are resolved, and whether fast paths are generated. */
export interface NameResolution {
  /** Resolve dotted names against the activation at run time (no checked AST, as cel-go unchecked). */
  readonly atRuntime: boolean;
  /** The container whose candidate names are tried. */
  readonly container: string;
  /** Generate JS fast paths for boolean subtrees (see `codegen.ts`). Default true. */
  readonly fastPaths?: boolean;
  /** Evaluations before a subtree generates its fast path; 0 generates at compile time. Default {@link DEFAULT_FAST_PATHS_AFTER}. */
  readonly fastPathsAfter?: number;
}

/**
 * Default number of evaluations before a boolean subtree generates its fast path. Generating code
 * costs about as much as the rest of compiling together, and a program evaluated a few times never
 * earns it back; a filter run over many events generates it on its 64th evaluation. This is below
 * the evaluations after which a program gets entry points of its own (`entry.ts`), so those
 * entries only ever see the generated function and their call of it stays monomorphic.
 */
export const DEFAULT_FAST_PATHS_AFTER = 64;

/** Compiles a checked expression to a closure. */
export function compileChecked(
  checked: CheckedAst,
  dialect: Dialect,
  limits: Required<EvalLimits>,
  resolution: NameResolution = { atRuntime: false, container: "" },
): CompiledExpr {
  const c = new Compiler(checked, dialect, limits, resolution);
  const fn = c.compileRoot();
  return { root: c.rootTier ?? { fn }, slotCount: c.slots, issues: c.issues };
}

export { guardFor };
export type { OverloadImpl };
