/**
 * The type checker: resolves names against declarations and a container, infers a type for every
 * node, resolves function overloads (recording every overload that may apply when arguments are
 * `dyn`), and reports cel-go's type errors. Qualified names and namespaced functions are rewritten
 * into plain identifiers and global calls, as cel-go's checker does.
 *
 * @module
 */
import { memoNode } from "./memo.js";
import { NodeTable } from "./node-table.js";

export { resetResolutionMemo } from "./memo.js";
import {
  isRootScoped,
  withoutRootDot,
  type CallExpr,
  type ComprehensionExpr,
  type Expr,
  type IdentExpr,
  type ListExpr,
  type MapExpr,
  type ParsedAst,
  type SelectExpr,
  type StructExpr,
} from "../ast.js";
import type { FunctionDecl, OverloadDecl } from "../decls.js";
import { makeIssue, type Issue, type IssueCode } from "../errors.js";
import { formatClauseCount } from "../runtime/format.js";
import {
  formatType,
  isAssignable,
  isAssignableList,
  isDyn,
  isGround,
  listType,
  mapParams,
  mapType,
  mostGeneral,
  paramType,
  paramRenamer,
  substitute,
  Substitution,
  T,
  type Type,
  typeEquals,
  typeType,
  isOptionalType,
  optionalType,
} from "../types.js";

/** What a name or a call was resolved to. */
export type Reference =
  /** A variable or a type identifier, by its fully qualified name. */
  | { readonly kind: "ident"; readonly name: string; readonly isType?: boolean }
  /** The overloads of a call that may apply (several when arguments are `dyn`). */
  | { readonly kind: "function"; readonly overloads: readonly OverloadDecl[] };

/** The environment the checker resolves names in. */
export interface CheckerEnv {
  /** Namespace for name resolution (`a.b` makes `x` resolve as `a.b.x`, `a.x`, then `x`). */
  readonly container: string;
  /** Declared variables; `undefined` means every simple name is a `dyn` variable. */
  readonly variables: ReadonlyMap<string, Type> | undefined;
  /** Functions by (qualified) name. */
  readonly functions: ReadonlyMap<string, FunctionDecl>;
  /** Type identifiers (`int`, `list`, …) and the types they denote. */
  readonly typeIdentifiers: ReadonlyMap<string, Type>;
  /** At most this many issues are kept. */
  readonly maxIssues: number;
  /**
   * Do not reject ill-typed calls and selections: they resolve to every overload of the right
   * shape and fail at evaluation instead (cel-go's behaviour without a checked AST).
   */
  readonly permissive?: boolean;
  /**
   * `&&`, `||` and the condition of `?:` accept operands of any type, tested for truthiness (the
   * `inngest` dialect); `&&`/`||` then type as `dyn` unless both operands are `bool`. Default false.
   */
  readonly truthiness?: boolean;
  /**
   * Operators that accept operands of any types (the `inngest` dialect's `+ == != < <= > >=`):
   * when no overload matches, the call is accepted with this result type.
   */
  readonly looseOperators?: ReadonlyMap<string, Type>;
}

/** The result of checking: the (rewritten) tree with a type and a reference per node. */
export interface CheckedAst {
  readonly parsed: ParsedAst;
  readonly expr: Expr;
  readonly types: ReadonlyMap<number, Type>;
  readonly refs: ReadonlyMap<number, Reference>;
  readonly resultType: Type;
}

/** Thrown-free result of {@link check}: the checked AST, or the issues found. */
export type CheckResult =
  | { readonly ok: true; readonly ast: CheckedAst }
  | { readonly ok: false; readonly issues: readonly Issue[]; readonly truncated: number };

interface Scope {
  readonly parent: Scope | undefined;
  readonly vars: Map<string, Type>;
}

/** The overloads the checker resolved a call to (several where arguments are `dyn`); none for another node. */
export function overloadsOf(refs: ReadonlyMap<number, Reference>, e: Expr): readonly OverloadDecl[] {
  const r = refs.get(e.id);
  return r?.kind === "function" ? r.overloads : NO_OVERLOADS;
}

const NO_OVERLOADS: readonly OverloadDecl[] = Object.freeze([]);

/** The container's candidate names for `name`, most qualified first (cel-go's ResolveCandidateNames). */
export function candidateNames(container: string, name: string): string[] {
  if (isRootScoped(name)) return [name.slice(1)];
  if (container === "") return [name];
  const out: string[] = [];
  let prefix = container;
  for (;;) {
    out.push(`${prefix}.${name}`);
    const dot = prefix.lastIndexOf(".");
    if (dot < 0) break;
    prefix = prefix.slice(0, dot);
  }
  out.push(name);
  return out;
}

/** The dotted name an expression spells (`a.b.c`), if it is only identifiers and selections. */
export function qualifiedName(e: Expr): string | undefined {
  if (e.kind === "ident") return e.name;
  if (e.kind === "select" && !e.testOnly && !e.optional) {
    const prefix = qualifiedName(e.operand);
    return prefix === undefined ? undefined : `${prefix}.${e.field}`;
  }
  return undefined;
}

/** First segments of the dotted names among `names` (`google` for `google.protobuf.Timestamp`). */
function firstSegments(names: Iterable<string>): ReadonlySet<string> {
  const roots = new Set<string>();
  for (const name of names) {
    if (!name.includes(".")) continue;
    const bare = withoutRootDot(name);
    const dot = bare.indexOf(".");
    roots.add(dot < 0 ? bare : bare.slice(0, dot));
  }
  return roots;
}

const dottedRootsCache = new WeakMap<object, WeakMap<object, ReadonlySet<string>>>();

/** First segments of the dotted names an environment declares (variables and type identifiers). */
function dottedRoots(env: CheckerEnv): ReadonlySet<string> {
  const vars = env.variables ?? EMPTY_VARIABLES;
  let byTypes = dottedRootsCache.get(vars);
  if (byTypes === undefined) dottedRootsCache.set(vars, (byTypes = new WeakMap()));
  let roots = byTypes.get(env.typeIdentifiers);
  if (roots === undefined) {
    roots = firstSegments([...vars.keys(), ...env.typeIdentifiers.keys()]);
    byTypes.set(env.typeIdentifiers, roots);
  }
  return roots;
}

const EMPTY_VARIABLES: ReadonlyMap<string, Type> = new Map();

const typeParameterDeclarations = new WeakMap<ReadonlyMap<string, Type>, boolean>();

/** Whether a declared variable's type holds a type parameter. */
function declaresTypeParameters(env: CheckerEnv): boolean {
  const vars = env.variables;
  if (vars === undefined) return false;
  let declares = typeParameterDeclarations.get(vars);
  if (declares === undefined) {
    declares = [...vars.values()].some((t) => !isGround(t));
    typeParameterDeclarations.set(vars, declares);
  }
  return declares;
}

const namespaceRootsCache = new WeakMap<ReadonlyMap<string, FunctionDecl>, ReadonlySet<string>>();

/** First segments of the dotted function names (`strings` for `strings.quote`). */
function namespaceRoots(functions: ReadonlyMap<string, FunctionDecl>): ReadonlySet<string> {
  let roots = namespaceRootsCache.get(functions);
  if (roots === undefined) namespaceRootsCache.set(functions, (roots = firstSegments(functions.keys())));
  return roots;
}

/** The identifier a chain of selections starts from (`a` of `a.b.c`), if it starts from one. */
function selectionRoot(e: Expr): IdentExpr | undefined {
  let base = e;
  while (base.kind === "select") base = base.operand;
  return base.kind === "ident" ? base : undefined;
}

/** The reference of a name resolved to a variable or (with `isType`) a type identifier. */
function identReference(name: string, isType: boolean): Reference {
  return isType ? { kind: "ident", name, isType: true } : { kind: "ident", name };
}

const singleOverloadReferences = new WeakMap<OverloadDecl, Reference>();

/** The reference of a call resolved to exactly overload `o`, one shared (immutable) instance per overload. */
function singleOverloadReference(o: OverloadDecl): Reference {
  let ref = singleOverloadReferences.get(o);
  if (ref === undefined) singleOverloadReferences.set(o, (ref = { kind: "function", overloads: [o] }));
  return ref;
}

class Checker {
  private subst = new Substitution();
  private readonly types: NodeTable<Type>;
  private readonly refs: NodeTable<Reference>;
  readonly issues: Issue[] = [];
  truncated = 0;
  private scope: Scope | undefined;
  private freeVars = 0;

  /** First segments of dotted declared names; a selection from anything else is not a qualified name. */
  private readonly dottedRoots: ReadonlySet<string>;

  constructor(
    private readonly ast: ParsedAst,
    private readonly env: CheckerEnv,
  ) {
    this.dottedRoots = dottedRoots(env);
    this.types = new NodeTable(ast.nextId);
    this.refs = new NodeTable(ast.nextId);
  }

  /** Whether `target` may spell a namespace of functions (see {@link namespaceRoots}). */
  private mayBeNamespace(target: Expr): boolean {
    if (this.env.container !== "") return true;
    const root = selectionRoot(target);
    return root !== undefined && namespaceRoots(this.env.functions).has(withoutRootDot(root.name));
  }

  private mayBeQualified(e: SelectExpr): boolean {
    if (this.env.container !== "") return true;
    const root = selectionRoot(e);
    return root !== undefined && (isRootScoped(root.name) || this.dottedRoots.has(root.name));
  }

  run(): CheckedAst {
    const expr = this.check(this.ast.expr);
    const types = this.types;
    // The final types, in place: the checker is done with the inferred ones. Without a type
    // variable made during this check or declared, every type is final already.
    if (this.freeVars > 0 || declaresTypeParameters(this.env)) {
      const subst = this.subst;
      types.replaceAll((t) => substitute(subst, t, true));
    }
    return { parsed: this.ast, expr, types, refs: this.refs, resultType: types.get(expr.id) ?? T.dyn };
  }

  // -- reporting -------------------------------------------------------------------------------

  private report(id: number, code: IssueCode, message: string): void {
    if (this.env.permissive && code !== "undeclared_reference") return;
    if (this.issues.length >= this.env.maxIssues) {
      this.truncated++;
      return;
    }
    const span = this.ast.spans.get(id) ?? { start: -1, end: -1 };
    this.issues.push(makeIssue(this.ast.source, code, message, span));
  }

  private typeMismatch(id: number, expected: Type, actual: Type): void {
    this.report(id, "type_error", `expected type '${formatType(expected)}' but found '${formatType(actual)}'`);
  }

  private undeclared(id: number, name: string): void {
    this.report(id, "undeclared_reference", `undeclared reference to '${name}' (in container '${this.env.container}')`);
  }

  // -- types -----------------------------------------------------------------------------------

  private setType(e: { readonly id: number }, t: Type): void {
    this.types.set(e.id, t);
  }

  private typeOf(e: Expr): Type {
    return this.types.get(e.id) ?? T.error;
  }

  private assignable(t1: Type, t2: Type): boolean {
    const s = isAssignable(this.subst, t1, t2);
    if (s === undefined) return false;
    this.subst = s;
    return true;
  }

  private newTypeVar(): Type {
    return paramType(`_var${this.freeVars++}`);
  }

  private joinTypes(previous: Type | undefined, current: Type): Type {
    if (previous === undefined) return current;
    if (this.assignable(previous, current)) {
      // `[optional.of(1), null]` is a list of optional_type(int): null joins an abstract type.
      if (current.kind === "null" && previous.kind === "opaque") return previous;
      if (previous.kind === "null" && current.kind === "opaque") return current;
      return mostGeneral(previous, current);
    }
    // Heterogeneous aggregate literals are lists and maps of dyn (cel-go's default).
    return T.dyn;
  }

  // -- names -----------------------------------------------------------------------------------

  private lookupLocal(name: string): Type | undefined {
    for (let s = this.scope; s !== undefined; s = s.parent) {
      const t = s.vars.get(name);
      if (t !== undefined) return t;
    }
    return undefined;
  }

  /** A global named `candidate`, spelled with a leading dot when a local of the same name shadows it. */
  private resolveGlobal(candidate: string, shadowed: boolean): { name: string; type: Type; isType: boolean } | undefined {
    const v = this.env.variables?.get(candidate);
    if (v !== undefined) return { name: shadowed ? `.${candidate}` : candidate, type: v, isType: false };
    const t = this.env.typeIdentifiers.get(candidate);
    if (t !== undefined) return { name: shadowed ? `.${candidate}` : candidate, type: typeType(t), isType: true };
    return undefined;
  }

  /** Resolves a simple or dotted name: locals shadow globals, then the container's candidates. */
  private resolveName(name: string, simple: boolean): { name: string; type: Type; isType: boolean } | undefined {
    const dot = name.indexOf(".");
    const local = this.lookupLocal(dot < 0 ? name : name.slice(0, dot));
    if (local !== undefined && dot !== 0) {
      return simple ? { name, type: local, isType: false } : undefined;
    }
    const shadowed = local !== undefined;
    if (this.env.container === "") {
      // The usual case, without the candidate list: the name itself (a leading dot dropped).
      const r = this.resolveGlobal(dot === 0 ? name.slice(1) : name, shadowed);
      if (r !== undefined) return r;
    } else {
      for (const candidate of candidateNames(this.env.container, name)) {
        const r = this.resolveGlobal(candidate, shadowed);
        if (r !== undefined) return r;
      }
    }
    // Without declarations every simple name is a dyn variable (the `cel` dialect default).
    if (simple && this.env.variables === undefined && !isRootScoped(name)) {
      return { name, type: T.dyn, isType: false };
    }
    return undefined;
  }

  private lookupFunction(name: string): FunctionDecl | undefined {
    if (this.env.container === "") return this.env.functions.get(withoutRootDot(name));
    for (const candidate of candidateNames(this.env.container, name)) {
      const f = this.env.functions.get(candidate);
      if (f !== undefined) return f;
    }
    return undefined;
  }

  // -- nodes -----------------------------------------------------------------------------------

  check(e: Expr): Expr {
    switch (e.kind) {
      case "const": {
        const k = e.value.kind;
        this.setType(e, k === "null" ? T.null : T[k]);
        return e;
      }
      case "ident": {
        const r = this.resolveName(e.name, true);
        if (r === undefined) {
          this.setType(e, T.error);
          this.undeclared(e.id, e.name);
          return e;
        }
        this.setType(e, r.type);
        this.refs.set(e.id, identReference(r.name, r.isType));
        return r.name === e.name ? e : { kind: "ident", id: e.id, name: r.name };
      }
      case "select":
        return this.checkSelect(e);
      case "call":
        return this.checkCall(e);
      case "list":
        return this.checkList(e);
      case "map":
        return this.checkMap(e);
      case "struct":
        return this.checkStruct(e);
      case "comprehension":
        return this.checkComprehension(e);
    }
  }

  private checkSelect(e: SelectExpr): Expr {
    // A dotted name may be a qualified variable (`a.b.c` declared as such, or `b.c` in container
    // `a`); most environments have none, and the lookup is skipped.
    const q = this.mayBeQualified(e) ? qualifiedName(e) : undefined;
    if (q !== undefined) {
      const r = this.resolveName(q, false);
      if (r !== undefined) {
        this.setType(e, r.type);
        this.refs.set(e.id, identReference(r.name, r.isType));
        return { kind: "ident", id: e.id, name: r.name };
      }
    }
    const operand = this.check(e.operand);
    const result = this.selectField(e.id, operand, false);
    this.setType(e, e.testOnly ? T.bool : result);
    return operand === e.operand ? e : { ...e, operand };
  }

  /**
   * The type of selecting a field from `operand` (cel-go's checkSelectField): an optional operand
   * is unwrapped and the result wrapped again, as is every result of `x.?f` (`optional`).
   */
  private selectField(id: number, operand: Expr, optional: boolean): Type {
    let operandType = substitute(this.subst, this.typeOf(operand), false);
    let wrap = optional;
    if (isOptionalType(operandType)) {
      operandType = operandType.params[0]!;
      wrap = true;
    }
    let result: Type;
    switch (operandType.kind) {
      case "map":
        result = operandType.value;
        break;
      case "struct":
        this.report(id, "type_error", `unexpected failed resolution of '${operandType.name}'`);
        result = T.error;
        break;
      case "param":
        this.assignable(T.dyn, operandType);
        result = T.dyn;
        break;
      default:
        if (!(isDyn(operandType) || operandType.kind === "error")) {
          this.report(id, "type_error", `type '${formatType(operandType)}' does not support field selection`);
        }
        result = T.dyn;
    }
    result = substitute(this.subst, result, false);
    return wrap ? optionalType(result) : result;
  }

  /** `x.?f`, the parser's `_?._(x, 'f')` (cel-go's checkOptSelect). */
  private checkOptionalSelect(e: CallExpr, f: FunctionDecl): Expr {
    const operand = this.check(e.args[0]!);
    const field = e.args[1]!;
    if (field.kind !== "const" || field.value.kind !== "string") {
      this.report(field.id, "type_error", "unsupported optional field selection");
      this.setType(e, T.error);
      return e;
    }
    this.setType(field, T.string);
    this.setType(e, this.selectField(e.id, operand, true));
    this.refs.set(e.id, { kind: "function", overloads: f.overloads });
    return operand === e.args[0] ? e : { ...e, args: [operand, field] };
  }

  /**
   * `cel.@block([e0, e1, …], result)`: each `@index<k>` names the value of `ek`, in view from
   * the entries after it and in the result (the expansion of the conformance data's `cel.block`).
   */
  private checkBlock(e: CallExpr, f: FunctionDecl): Expr {
    const list = e.args[0]!;
    if (list.kind !== "list" || e.args.length !== 2) {
      this.report(e.id, "type_error", "cel.@block expects a list literal and an expression");
      this.setType(e, T.error);
      return e;
    }
    const vars = new Map<string, Type>();
    this.scope = { parent: this.scope, vars };
    const elements = list.elements.map((x, k) => {
      const c = this.check(x);
      vars.set(`@index${k}`, this.typeOf(c));
      return c;
    });
    this.setType(list, listType(T.dyn));
    const result = this.check(e.args[1]!);
    this.scope = this.scope.parent;
    this.setType(e, this.typeOf(result));
    this.refs.set(e.id, { kind: "function", overloads: f.overloads });
    const changed = result !== e.args[1] || elements.some((c, k) => c !== list.elements[k]);
    return changed ? { ...e, args: [{ ...list, elements }, result] } : e;
  }

  private checkCall(e: CallExpr): Expr {
    if (e.target === undefined && (e.fn === "_?._" || e.fn === "cel.@block")) {
      const f = this.env.functions.get(e.fn);
      if (f !== undefined) return e.fn === "_?._" ? this.checkOptionalSelect(e, f) : this.checkBlock(e, f);
    }
    const args = this.checkAll(e.args);
    const argsChanged = args !== e.args;
    if (e.target === undefined) {
      const f = this.lookupFunction(e.fn);
      if (f === undefined) {
        // Without the checker's verdict (permissive) an unknown function fails when called.
        if (!this.env.permissive) this.undeclared(e.id, e.fn);
        this.setType(e, this.env.permissive ? T.dyn : T.error);
        return argsChanged ? { ...e, args } : e;
      }
      const call: CallExpr = f.name === e.fn && !argsChanged ? e : { kind: "call", id: e.id, fn: f.name, args };
      this.resolve(call, f, undefined, args);
      return call;
    }
    // `a.b.f(x)` may be the namespaced global function `a.b.f`; not when no function name starts
    // with `a.` (and no container makes up other candidates), as with `event.data.f(x)`.
    const prefix = this.mayBeNamespace(e.target) ? qualifiedName(e.target) : undefined;
    if (prefix !== undefined) {
      const f = this.lookupFunction(`${prefix}.${e.fn}`);
      if (f !== undefined) {
        const call: CallExpr = { kind: "call", id: e.id, fn: f.name, args };
        this.resolve(call, f, undefined, args);
        return call;
      }
    }
    const target = this.check(e.target);
    const call: CallExpr = target === e.target && !argsChanged ? e : { kind: "call", id: e.id, fn: e.fn, target, args };
    const f = this.env.functions.get(e.fn);
    if (f === undefined) {
      this.setType(e, this.env.permissive ? T.dyn : T.error);
      if (!this.env.permissive) this.undeclared(e.id, e.fn);
      return call;
    }
    this.resolve(call, f, target, args);
    if (e.fn === "format") this.validateFormat(call);
    return call;
  }

  /**
   * cel-go's check of `format` calls (ext/strings.go, stringFormatValidator): a literal format
   * string applied to a list literal must not have more elements than clauses. Too few, and bad
   * clauses, are errors when the call runs.
   */
  private validateFormat(e: CallExpr): void {
    const list = e.args[0];
    if (e.target?.kind !== "const" || e.target.value.kind !== "string" || e.args.length !== 1 || list?.kind !== "list") return;
    const expected = formatClauseCount(e.target.value.value);
    if (expected !== undefined && list.elements.length > expected) {
      this.report(e.id, "invalid_argument", `too many arguments supplied to string.format (expected ${expected}, got ${list.elements.length})`);
    }
  }

  /** Checks each expression; returns `exprs` itself when none was rewritten. */
  private checkAll(exprs: readonly Expr[]): readonly Expr[] {
    let out: Expr[] | undefined;
    for (let k = 0; k < exprs.length; k++) {
      const e = exprs[k]!;
      const c = this.check(e);
      if (c !== e) out ??= exprs.slice(0, k);
      if (out !== undefined) out.push(c);
    }
    return out ?? exprs;
  }

  private resolve(call: CallExpr, f: FunctionDecl, target: Expr | undefined, args: readonly Expr[]): void {
    // Sized up front: an array grown by `push` reserves room for 17 elements.
    const shift = target === undefined ? 0 : 1;
    const argTypes = new Array<Type>(args.length + shift);
    if (target !== undefined) argTypes[0] = this.typeOf(target);
    for (let k = 0; k < args.length; k++) argTypes[k + shift] = this.typeOf(args[k]!);

    if ((f.name === "_&&_" || f.name === "_||_") && target === undefined) {
      this.resolveLogical(call, f, args, argTypes);
      return;
    }
    if (f.name === "_?_:_" && this.env.truthiness === true && args.length === 3) {
      // The condition is tested for truthiness, so it may have any type.
      this.setType(call, this.joinTypes(argTypes[1], argTypes[2]!));
      this.refs.set(call.id, { kind: "function", overloads: f.overloads });
      return;
    }

    // Most calls have argument types without type variables (`dyn`, `string`, `list(string)`);
    // their resolution depends on nothing else, so it is remembered per function.
    const known = memoNode(f, target !== undefined, argTypes, false)?.resolution;
    if (known !== undefined) {
      this.setType(call, known.result);
      this.refs.set(call.id, known.ref as Reference);
      return;
    }

    let result: Type | undefined;
    const matched: OverloadDecl[] = [];
    for (const o of f.overloads) {
      if (o.member !== (target !== undefined)) continue;
      if (o.params.length !== argTypes.length) continue;
      let params = o.params;
      let ret = o.result;
      if (o.typeParams.length > 0) {
        // Instantiate the signature with fresh type variables.
        const vars = o.typeParams.map(() => this.newTypeVar());
        const renamer = paramRenamer(o.typeParams, vars);
        params = params.map((p) => mapParams(p, renamer));
        ret = mapParams(ret, renamer);
      }
      const s = isAssignableList(this.subst, argTypes, params);
      if (s === undefined) continue;
      this.subst = s;
      matched.push(o);
      const r = substitute(this.subst, ret, false);
      if (result === undefined) result = r;
      else if (!isDyn(result) && !typeEquals(r, result)) result = T.dyn;
    }
    const loose = this.env.looseOperators?.get(f.name);
    if (result === undefined && loose !== undefined) {
      this.setType(call, loose);
      this.refs.set(call.id, { kind: "function", overloads: f.overloads });
      return;
    }
    if (result === undefined && this.env.permissive) {
      const shape = f.overloads.filter((o) => o.member === (target !== undefined) && o.params.length === argTypes.length);
      this.setType(call, T.dyn);
      this.refs.set(call.id, { kind: "function", overloads: shape.length > 0 ? shape : f.overloads });
      return;
    }
    if (result === undefined) {
      const shown = argTypes.map((t) => formatType(substitute(this.subst, t, true)));
      const sig = target === undefined ? `(${shown.join(", ")})` : `${shown[0]}.(${shown.slice(1).join(", ")})`;
      this.report(call.id, "no_matching_overload", `found no matching overload for '${f.name}' applied to '${sig}'`);
      this.setType(call, T.error);
      return;
    }
    // A result that is still a free type variable (`m['k']` of a `dyn` map: the map's value type)
    // is `dyn`. Left free, the next call would bind it to the type of whichever of its overloads
    // is tried first (`m['k'] + d` to int), and checking an expression over `dyn` variables could
    // then fail where the same expression over declared types passes. cel-go binds it; its final
    // pass prints a free variable as `dyn` either way.
    if (result.kind === "param" && this.subst.find(result) === undefined) result = T.dyn;
    const ref: Reference = { kind: "function", overloads: matched };
    this.setType(call, result);
    this.refs.set(call.id, ref);
    if (isGround(result)) {
      const node = memoNode(f, target !== undefined, argTypes, true);
      if (node !== undefined) node.resolution = { result, ref };
    }
  }

  private resolveLogical(call: CallExpr, f: FunctionDecl, args: readonly Expr[], argTypes: readonly Type[]): void {
    const o = f.overloads[0]!;
    if (this.env.truthiness === true) {
      // `a || b` on non-booleans yields an operand by truthiness.
      const allBool = argTypes.every((t) => t.kind === "bool");
      this.setType(call, allBool ? T.bool : T.dyn);
      this.refs.set(call.id, singleOverloadReference(o));
      return;
    }
    let ok = true;
    for (let k = 0; k < argTypes.length; k++) {
      const t = argTypes[k]!;
      if (!this.assignable(t, T.bool)) {
        this.typeMismatch(args[k]!.id, T.bool, t);
        ok = false;
      }
    }
    this.refs.set(call.id, singleOverloadReference(o));
    this.setType(call, ok ? T.bool : T.error);
  }

  private checkList(e: ListExpr): Expr {
    let elemType: Type | undefined;
    const optional = e.optionalIndices.length === 0 ? undefined : new Set(e.optionalIndices);
    const elements = e.elements.map((el, k) => {
      const c = this.check(el);
      let t = this.typeOf(c);
      if (optional?.has(k) === true) {
        if (t.kind === "opaque" && t.name === "optional_type") t = t.params[0]!;
        else if (!isDyn(t)) this.typeMismatch(c.id, { kind: "opaque", name: "optional_type", params: [t] }, t);
      }
      elemType = this.joinTypes(elemType, t);
      return c;
    });
    this.setType(e, listType(elemType ?? this.newTypeVar()));
    return elements.some((c, k) => c !== e.elements[k]) ? { ...e, elements } : e;
  }

  private checkMap(e: MapExpr): Expr {
    let keyType: Type | undefined;
    let valueType: Type | undefined;
    let changed = false;
    const entries = e.entries.map((entry) => {
      const key = this.check(entry.key);
      keyType = this.joinTypes(keyType, this.typeOf(key));
      const value = this.check(entry.value);
      let vt = this.typeOf(value);
      if (entry.optional) {
        if (vt.kind === "opaque" && vt.name === "optional_type") vt = vt.params[0]!;
        else if (!isDyn(vt)) this.typeMismatch(value.id, { kind: "opaque", name: "optional_type", params: [vt] }, vt);
      }
      valueType = this.joinTypes(valueType, vt);
      if (key === entry.key && value === entry.value) return entry;
      changed = true;
      return { ...entry, key, value };
    });
    this.setType(e, mapType(keyType ?? this.newTypeVar(), valueType ?? this.newTypeVar()));
    return changed ? { ...e, entries } : e;
  }

  private checkStruct(e: StructExpr): Expr {
    // Message types are not supported. A type identifier that is not a message (`int{}`) gets
    // cel-go's "not a message type"; any other name is undeclared. Like cel-go, the field values
    // of an unresolved type are not checked.
    this.setType(e, T.error);
    for (const candidate of candidateNames(this.env.container, e.typeName)) {
      if (this.env.typeIdentifiers.has(candidate)) {
        this.report(e.id, "type_error", `'${candidate}' is not a message type`);
        return e;
      }
    }
    this.undeclared(e.id, e.typeName);
    return e;
  }

  private checkComprehension(e: ComprehensionExpr): Expr {
    const iterRange = this.check(e.iterRange);
    const accuInit = this.check(e.accuInit);
    const rangeType = substitute(this.subst, this.typeOf(iterRange), false);
    const accuType = this.typeOf(accuInit);
    this.scope = { parent: this.scope, vars: new Map<string, Type>().set(e.accuVar, accuType) };

    let varType: Type;
    let var2Type: Type | undefined;
    switch (rangeType.kind) {
      case "list":
        varType = rangeType.elem;
        if (e.iterVar2 !== undefined) {
          var2Type = varType;
          varType = T.int;
        }
        break;
      case "map":
        varType = rangeType.key;
        if (e.iterVar2 !== undefined) var2Type = rangeType.value;
        break;
      case "dyn":
      case "any":
      case "error":
      case "param":
        this.assignable(T.dyn, rangeType);
        varType = T.dyn;
        if (e.iterVar2 !== undefined) var2Type = T.dyn;
        break;
      default:
        this.report(
          iterRange.id,
          "type_error",
          `expression of type '${formatType(rangeType)}' cannot be range of a comprehension (must be list, map, or dynamic)`,
        );
        varType = T.error;
        if (e.iterVar2 !== undefined) var2Type = T.error;
    }
    const loopVars = new Map<string, Type>().set(e.iterVar, varType);
    if (e.iterVar2 !== undefined) loopVars.set(e.iterVar2, var2Type ?? T.error);
    this.scope = { parent: this.scope, vars: loopVars };
    const loopCondition = this.check(e.loopCondition);
    if (!this.assignable(T.bool, this.typeOf(loopCondition))) {
      this.typeMismatch(loopCondition.id, T.bool, this.typeOf(loopCondition));
    }
    const loopStep = this.check(e.loopStep);
    if (!this.assignable(accuType, this.typeOf(loopStep))) {
      this.typeMismatch(loopStep.id, accuType, this.typeOf(loopStep));
    }
    this.scope = this.scope.parent;
    const result = this.check(e.result);
    this.scope = this.scope!.parent;
    this.setType(e, substitute(this.subst, this.typeOf(result), false));
    if (
      iterRange === e.iterRange &&
      accuInit === e.accuInit &&
      loopCondition === e.loopCondition &&
      loopStep === e.loopStep &&
      result === e.result
    ) {
      return e;
    }
    return { ...e, iterRange, accuInit, loopCondition, loopStep, result };
  }
}

/** Type-checks a parsed expression. Never throws for bad input; issues are returned. */
export function check(ast: ParsedAst, env: CheckerEnv): CheckResult {
  const c = new Checker(ast, env);
  const checked = c.run();
  if (c.issues.length > 0) return { ok: false, issues: c.issues, truncated: c.truncated };
  return { ok: true, ast: checked };
}
