/**
 * What an expression requires of an activation for its result to be `true`, as a disjunction of
 * *alternatives*, each a conjunction of indexable predicates ({@link AtomSpec}s on field paths).
 *
 * Every node is described by two conditions: `t`, necessary for the node to be the boolean `true`,
 * and `f`, necessary for it to be `false`. A negation swaps them, so `!(a || b)` is indexed as
 * `!a && !b` would be, without ever negating a superset. Each alternative also says whether it is
 * *sufficient*: when all its predicates hold, the node is certainly `true` (or `false`), so the
 * matcher may answer without running the program. What the analysis cannot read (a function call,
 * two paths compared, a comprehension) is an alternative with no predicates, which holds always and
 * is never sufficient.
 *
 * The rules per dialect:
 * - `cel`: `a && b` is true iff both are true and false iff either is false (errors are absorbed
 *   either way); `a || b` dually; `!a` swaps true and false and keeps errors; `c ? a : b` is `a`
 *   when `c` is true and `b` when it is false.
 * - `inngest`: `a && b` is `b` when `a` is truthy, else `a`; `a || b` is `a` when truthy, else `b`
 *   (or `a` when it is an evaluation error and `b` is falsy); `!a` is `false` when `a` is a missing
 *   attribute, and an evaluation error stays an error through `!`, comparisons and `?:`. Truthy
 *   equals `true` only for operands known to be booleans or errors ({@link Node.bool}), and falsy
 *   equals `false` only for operands that are never a missing attribute ({@link Node.total}: an
 *   evaluation error is falsy too, but then the result is never `false`, so the condition stays
 *   necessary); elsewhere the analysis keeps a weaker, still necessary, condition.
 *
 * @module
 */
import type { CallExpr, Constant, Expr } from "../ast.js";
import { compile, type Program } from "../program.js";
import { unparse } from "../unparse.js";
import { CelTimestamp, CelUint } from "../values.js";
import type { AtomSpec, OrderOp } from "./atoms.js";
import { equalityKey, type Ordered, type Scalar } from "./compare.js";
import type { PathSpec } from "./paths.js";

/** One alternative: all of `atoms` must hold. */
export interface Alternative {
  readonly atoms: readonly AtomSpec[];
  /** When all `atoms` hold, the node certainly has the value the condition is about. */
  readonly sufficient: boolean;
}

/** A disjunction of alternatives; none means the value is impossible. */
export type Condition = readonly Alternative[];

/** The analysis of one node. */
interface Node {
  /** Necessary for the node to be `true`. */
  readonly t: Condition;
  /** Necessary for the node to be `false`. */
  readonly f: Condition;
  /** (`inngest`) The node is a boolean or an error, never another value. */
  readonly bool: boolean;
  /**
   * (`inngest`) The node is never a missing attribute (unknown, or an absent key's error): a falsy
   * value of it is `false`, or an evaluation error that makes every enclosing outcome an error.
   */
  readonly total: boolean;
}

/** Alternatives beyond which a disjunction stops being tracked (it then holds always). */
export const MAX_ALTERNATIVES = 32;
/** Predicates kept per alternative; more make it insufficient. */
export const MAX_ATOMS = 16;

const NEVER: Condition = [];
const ALWAYS_SUFFICIENT: Condition = [{ atoms: [], sufficient: true }];
const UNKNOWN: Condition = [{ atoms: [], sufficient: false }];

const OPAQUE: Node = { t: UNKNOWN, f: UNKNOWN, bool: false, total: false };
/** A comparison the analysis cannot read: a boolean (or error), nothing known. */
const OPAQUE_TEST: Node = { t: UNKNOWN, f: UNKNOWN, bool: true, total: false };

/** The checked tree a program exposes. */
type CheckedAst = Program["ast"];

const PROTOTYPE_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

function weaken(c: Condition): Condition {
  return c.every((a) => !a.sufficient) ? c : c.map((a) => (a.sufficient ? { atoms: a.atoms, sufficient: false } : a));
}

function or(a: Condition, b: Condition): Condition {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  if (a.length + b.length > MAX_ALTERNATIVES) return UNKNOWN;
  return [...a, ...b];
}

function and(a: Condition, b: Condition): Condition {
  if (a.length === 0 || b.length === 0) return NEVER;
  if (a.length * b.length > MAX_ALTERNATIVES) {
    // Keep one side: each of its alternatives is still necessary, none sufficient any more.
    return weaken(preferred(a, b));
  }
  const out: Alternative[] = [];
  for (const x of a) {
    for (const y of b) {
      const atoms = [...x.atoms, ...y.atoms];
      const sufficient = x.sufficient && y.sufficient && atoms.length <= MAX_ATOMS;
      out.push({ atoms: atoms.length <= MAX_ATOMS ? atoms : atoms.slice(0, MAX_ATOMS), sufficient });
    }
  }
  return out;
}

/** Of two conditions, the one that narrows candidates more: no empty alternative, then fewer alternatives. */
function preferred(a: Condition, b: Condition): Condition {
  const openA = a.some((x) => x.atoms.length === 0);
  const openB = b.some((x) => x.atoms.length === 0);
  if (openA !== openB) return openA ? b : a;
  return a.length <= b.length ? a : b;
}

/** Analyses a checked expression of dialect `dialect`; the root's `t` is what the matcher indexes. */
export function analyze(ast: CheckedAst, dialect: "cel" | "inngest"): Condition {
  return new Analysis(ast, dialect === "inngest").node(ast.expr).t;
}

class Analysis {
  constructor(
    private readonly ast: CheckedAst,
    private readonly lenient: boolean,
  ) {}

  node(e: Expr): Node {
    switch (e.kind) {
      case "const":
        if (e.value.kind === "bool") {
          return e.value.value
            ? { t: ALWAYS_SUFFICIENT, f: NEVER, bool: true, total: true }
            : { t: NEVER, f: ALWAYS_SUFFICIENT, bool: true, total: true };
        }
        // Any other constant is neither true nor false.
        return { t: NEVER, f: NEVER, bool: false, total: true };
      case "ident":
      case "select": {
        if (e.kind === "select" && e.testOnly) return this.has(e.operand, e.field);
        return this.bare(e);
      }
      case "call":
        return this.call(e);
      default:
        return OPAQUE;
    }
  }

  /** A path used as a boolean: true iff it holds `true`, false iff it holds `false`. */
  private bare(e: Expr): Node {
    const path = this.path(e);
    if (path === undefined) return OPAQUE;
    return {
      t: [{ atoms: [{ kind: "eq", path, value: true }], sufficient: true }],
      f: [{ atoms: [{ kind: "eq", path, value: false }], sufficient: true }],
      bool: false,
      total: false,
    };
  }

  private has(operand: Expr, field: string): Node {
    const base = this.path(operand, true);
    if (base === undefined || PROTOTYPE_NAMES.has(field)) return OPAQUE_TEST;
    const path: PathSpec = { variable: base.variable, steps: [...base.steps, { kind: "select", key: field }] };
    return { t: [{ atoms: [{ kind: "has", path }], sufficient: true }], f: UNKNOWN, bool: true, total: false };
  }

  private call(e: CallExpr): Node {
    if (e.target !== undefined) return e.fn === "startsWith" || e.fn === "endsWith" || e.fn === "contains" || e.fn === "matches" ? OPAQUE_TEST : OPAQUE;
    const args = e.args;
    switch (e.fn) {
      case "_&&_":
        return args.length === 2 ? this.and(this.node(args[0]!), this.node(args[1]!)) : OPAQUE;
      case "_||_":
        return args.length === 2 ? this.or(this.node(args[0]!), this.node(args[1]!)) : OPAQUE;
      case "!_":
        return args.length === 1 ? this.not(this.node(args[0]!)) : OPAQUE;
      case "_?_:_":
        return args.length === 3 ? this.conditional(this.node(args[0]!), this.node(args[1]!), this.node(args[2]!)) : OPAQUE;
      case "_==_":
      case "_!=_":
        return args.length === 2 ? this.equality(args[0]!, args[1]!, e.fn === "_!=_") : OPAQUE;
      case "_<_":
      case "_<=_":
      case "_>_":
      case "_>=_":
        return args.length === 2 ? this.ordering(e.fn, args[0]!, args[1]!) : OPAQUE;
      case "@in":
        return args.length === 2 ? this.membership(args[0]!, args[1]!) : OPAQUE;
      default:
        return OPAQUE;
    }
  }

  private and(a: Node, b: Node): Node {
    if (!this.lenient) return { t: and(a.t, b.t), f: or(a.f, b.f), bool: true, total: false };
    // `a && b` is `b` when `a` is truthy, else `a`.
    const truthyA = a.bool ? a.t : UNKNOWN;
    return { t: and(truthyA, b.t), f: or(a.f, and(truthyA, b.f)), bool: a.bool && b.bool, total: a.total && b.total };
  }

  private or(a: Node, b: Node): Node {
    if (!this.lenient) return { t: or(a.t, b.t), f: and(a.f, b.f), bool: true, total: false };
    // `a || b` is `a` when `a` is truthy, else `b`: `b`'s truth decides only if a truthy `a` is `true`.
    const falsyA = a.bool && a.total ? a.f : UNKNOWN;
    return { t: or(a.t, a.bool ? b.t : weaken(b.t)), f: and(falsyA, b.f), bool: a.bool && b.bool, total: a.total && b.total };
  }

  private not(a: Node): Node {
    // `inngest`: `!` of a missing attribute is `false`; of an evaluation error, the error.
    const f = !this.lenient || a.total ? a.t : UNKNOWN;
    return { t: a.f, f, bool: true, total: a.total && a.bool };
  }

  private conditional(c: Node, x: Node, y: Node): Node {
    const whenTrue = !this.lenient ? c.t : c.bool ? c.t : UNKNOWN;
    const whenFalse = !this.lenient ? c.f : c.bool && c.total ? c.f : UNKNOWN;
    return {
      t: or(and(whenTrue, x.t), and(whenFalse, y.t)),
      f: or(and(whenTrue, x.f), and(whenFalse, y.f)),
      bool: x.bool && y.bool,
      total: x.total && y.total,
    };
  }

  private equality(l: Expr, r: Expr, negated: boolean): Node {
    // In `inngest` equality is a boolean unless an operand fails (then it fails); in `cel` it can
    // fail on any operand.
    const total = this.lenient;
    let path = this.path(l);
    let constant = path === undefined ? undefined : this.scalar(r);
    if (path === undefined || constant === undefined) {
      path = this.path(r);
      constant = path === undefined ? undefined : this.scalar(l);
    }
    if (path !== undefined && constant !== undefined) {
      const value = constant.value;
      const eq: Condition = equalityKey(value) === undefined ? NEVER : [{ atoms: [{ kind: "eq", path, value }], sufficient: true }];
      const ne: Condition = [{ atoms: [{ kind: "ne", path, value }], sufficient: true }];
      return negated ? { t: ne, f: eq, bool: true, total } : { t: eq, f: ne, bool: true, total };
    }
    // `x == true` / `x == false` for a boolean expression `x` that is not a path.
    if (!negated) {
      const lb = this.boolConst(l);
      const rb = this.boolConst(r);
      const other = lb !== undefined ? r : rb !== undefined ? l : undefined;
      const b = lb ?? rb;
      if (other !== undefined && b !== undefined && other.kind === "call") {
        const x = this.node(other);
        return { t: b ? x.t : x.f, f: UNKNOWN, bool: true, total };
      }
    }
    return { t: UNKNOWN, f: UNKNOWN, bool: true, total };
  }

  private ordering(fn: string, l: Expr, r: Expr): Node {
    const op = fn.slice(1, -1) as OrderOp;
    let path = this.path(l);
    let constant = path === undefined ? undefined : this.ordered(r);
    let effective = op;
    if (path === undefined || constant === undefined) {
      path = this.path(r);
      constant = path === undefined ? undefined : this.ordered(l);
      effective = FLIPPED[op];
    }
    if (path === undefined || constant === undefined) return OPAQUE_TEST;
    return {
      t: [{ atoms: [{ kind: "cmp", path, op: effective, value: constant }], sufficient: true }],
      f: UNKNOWN,
      bool: true,
      total: false,
    };
  }

  private membership(l: Expr, r: Expr): Node {
    const path = this.path(l);
    if (path === undefined || r.kind !== "list" || r.optionalIndices.length > 0) return OPAQUE_TEST;
    const values: Scalar[] = [];
    for (const element of r.elements) {
      const c = this.scalar(element);
      if (c === undefined) return OPAQUE_TEST;
      // A NaN is in no list.
      if (equalityKey(c.value) !== undefined) values.push(c.value);
    }
    const t: Condition = values.length === 0 ? NEVER : [{ atoms: [{ kind: "in", path, values }], sufficient: true }];
    // In `inngest`, `in` a list of constants is always a boolean.
    return { t, f: UNKNOWN, bool: true, total: this.lenient };
  }

  // -- paths and constants ---------------------------------------------------------------------

  /**
   * The field path `e` spells from a variable (`event.data['k'].x`), if it is one the matcher reads
   * as the program does: a variable of the activation (no dotted name, which a container or
   * unchecked program may resolve otherwise), string keys that cannot reach `Object.prototype`,
   * index steps only in `cel` (the `inngest` dialect indexes through a generic call with its own
   * unknown rules), and a final value of type `dyn`, so that the compiler chose no typed shortcut.
   * `container` accepts a typed map as the final value (the operand of `has`).
   */
  private path(e: Expr, container = false): PathSpec | undefined {
    if (!container) {
      const t = this.ast.types.get(e.id);
      if (t === undefined || t.kind !== "dyn") return undefined;
    }
    const steps: { kind: "select" | "index"; key: string }[] = [];
    let cur = e;
    for (;;) {
      if (cur.kind === "select") {
        if (cur.testOnly || cur.optional === true || PROTOTYPE_NAMES.has(cur.field)) return undefined;
        steps.push({ kind: "select", key: cur.field });
        cur = cur.operand;
      } else if (cur.kind === "call" && cur.fn === "_[_]" && cur.target === undefined && cur.args.length === 2 && !this.lenient) {
        const key = cur.args[1]!;
        if (key.kind !== "const" || key.value.kind !== "string" || PROTOTYPE_NAMES.has(key.value.value)) return undefined;
        steps.push({ kind: "index", key: key.value.value });
        cur = cur.args[0]!;
      } else break;
    }
    if (cur.kind !== "ident") return undefined;
    const ref = this.ast.refs.get(cur.id);
    if (ref?.kind !== "ident" || ref.isType === true || ref.name !== cur.name) return undefined;
    if (cur.name.includes(".") || PROTOTYPE_NAMES.has(cur.name)) return undefined;
    steps.reverse();
    return { variable: cur.name, steps };
  }

  private boolConst(e: Expr): boolean | undefined {
    return e.kind === "const" && e.value.kind === "bool" ? e.value.value : undefined;
  }

  /** A literal scalar (or a negated numeric literal). */
  private scalar(e: Expr): { readonly value: Scalar } | undefined {
    if (e.kind === "const") {
      const v = constantValue(e.value);
      return v === undefined ? undefined : { value: v };
    }
    if (e.kind === "call" && e.fn === "-_" && e.target === undefined && e.args.length === 1) {
      const inner = e.args[0]!;
      if (inner.kind !== "const") return undefined;
      if (inner.value.kind === "double") return { value: -inner.value.value };
      if (inner.value.kind === "int" && inner.value.value !== -0x8000000000000000n) return { value: -inner.value.value };
    }
    return undefined;
  }

  /** A constant of an ordering: a number, a string, or `timestamp('<literal>')`. */
  private ordered(e: Expr): Ordered | undefined {
    if (e.kind === "call" && e.fn === "timestamp" && e.target === undefined && e.args.length === 1) {
      const arg = e.args[0]!;
      if (arg.kind !== "const" || arg.value.kind !== "string") return undefined;
      return timestampConstant(e);
    }
    const c = this.scalar(e);
    if (c === undefined) return undefined;
    const v = c.value;
    if (typeof v === "string" || typeof v === "number" || typeof v === "bigint" || v instanceof CelUint) {
      return typeof v === "number" && v !== v ? undefined : v;
    }
    return undefined;
  }
}

const FLIPPED: Record<OrderOp, OrderOp> = { "<": ">", "<=": ">=", ">": "<", ">=": "<=" };

function constantValue(c: Constant): Scalar | undefined {
  switch (c.kind) {
    case "null":
      return null;
    case "bool":
      return c.value;
    case "int":
      return c.value;
    case "uint":
      return new CelUint(c.value);
    case "double":
      return c.value;
    case "string":
      return c.value;
    default:
      return undefined;
  }
}

/** The value of `timestamp('<literal>')`, computed by the engine itself; `undefined` if it fails. */
function timestampConstant(call: CallExpr): CelTimestamp | undefined {
  try {
    const v = compile(unparse(call), { cache: false }).evaluate();
    return v instanceof CelTimestamp ? v : undefined;
  } catch {
    return undefined;
  }
}
