/**
 * Pushdown: a prefilter for SQL stores derived from the checked AST of an `if` expression, as a
 * predicate tree (`stores/predicate.ts`) that each store renders in its own SQL.
 *
 * The prefilter selects a **superset** of the runs the compiled expression matches: SQL may keep
 * runs the closure then rejects, never drop one it would match. Where the translation is exactly
 * equivalent, the result says so (`coverage: 'full'`).
 *
 * How it works. Every boolean node is described by seven SQL predicates, each a superset of the
 * rows on which the node evaluates to
 *   `t` — the boolean `true`;        `f` — the boolean `false`;
 *   `u` — (inngest) the unknown of a missing attribute, `false` at the top;
 *   `a` — (inngest) the error of an absent map key (`event.data['k']`), which calls read as a
 *         missing attribute and which is an error at the top;
 *   `e` — any other error, which propagates through calls in both dialects;
 *   `oz` — any other falsy value (`null`, `""`, `0`);   `oy` — any other truthy value.
 * These seven cases partition the rows, so a negation never has to negate SQL: `!e` is true exactly
 * where `e` is false, so `t(!e) = f(e)`. Negating a superset would not give a superset; this way
 * an untranslatable subtree (TRUE, "unknown") stays sound wherever it sits. `&&`, `||` and `?:`
 * combine the cases by the dialect's rules (the `cel` dialect's error absorption, the `inngest`
 * dialect's truthiness: `a || b` is `a` when `a` is truthy, else `b` — or an error `a` when `b` is
 * falsy too). The prefilter is `t` of the root, since a run matches only when the result is
 * exactly `true` — or, for a caller that counts the rows SQL drops as "not matched" and must still
 * see errors and non-booleans, `t ∨ e ∨ a ∨ oz ∨ oy` (option `keep: 'notFalse'`).
 *
 * Leaves are comparisons of a *term* (a field path `event.a.b` / `event['a']`, or `size()` of
 * one) with a literal. A leaf is translated by cases over the JSON type the path holds in the row
 * (missing, null, true, false, number, string, array, object): for each, the engine's outcome is a
 * constant, a value test SQL can express exactly, or unknown. This is where the type rules live: a
 * JSON string `"5"` never equals the number `5`; in `inngest` a missing field equals only `null`
 * and is "less than everything" on the left of `<`, and a `null` operand of an ordering becomes
 * the other side's zero value.
 *
 * Assumptions (true of events written through the stores, which validate them): strings are
 * well-formed UTF-16 (no lone surrogates), numbers are finite, objects have no duplicate keys.
 *
 * @module
 */
import type { CallExpr, Expr } from "../expr/ast.js";
import { overloadsOf, type CheckedAst } from "../expr/checker/checker.js";
import { constantValue } from "../expr/compiler/compile.js";
import { resolvesWithin, specialisationOf } from "../expr/decls.js";
import type { DialectName } from "../expr/dialect.js";
import type { Program } from "../expr/program.js";
import { SIZE_OVERLOADS } from "../expr/stdlib/containers.js";
import { CelUint, INT64_MIN } from "../expr/values.js";
import {
  and,
  atom,
  FALSE,
  isExact,
  kindIs,
  notAtom,
  or,
  TRUE,
  UNKNOWN,
  type CmpOp,
  type Pred,
} from "../stores/predicate.js";
import type { ExactDecision, PushdownHint } from "../stores/types.js";
import {
  A,
  containerOutcome,
  E,
  type Entry,
  equalityOutcome,
  FALSE_VAL,
  inListOutcome,
  keyOutcome,
  type Lit,
  missingValue,
  numOutcome,
  O_ABSENT,
  O_ANY,
  O_ERROR,
  O_FALSE,
  O_TRUE,
  orderingOutcome,
  type Outcome,
  type PathTerm,
  PRESENT,
  RELATION_OPS,
  type Sem,
  sqlSafeString,
  type Term,
  U,
  UNSUPPORTED,
  type Val,
} from "./pushdown-values.js";

/** How much of an expression the SQL prefilter captures. */
export type PushdownCoverage =
  /** The SQL predicate is exactly equivalent to the expression (the closure still re-checks). */
  | "full"
  /**
   * The SQL predicate is a superset filter: some subtree could not be translated (it became TRUE),
   * or a database function is only approximate (SQLite's `length()` stops at a NUL character).
   */
  | "partial"
  /** Nothing useful could be translated: there is no hint. */
  | "none";

/** Options of {@link pushdownFor} and {@link translate}. */
export interface PushdownOptions {
  /**
   * Which rows the SQL predicate must keep. `matching` (default): every row on which the
   * expression is `true`. `notFalse`: every row on which it is not `false` — matches, evaluation
   * errors and non-boolean results — so that every row SQL drops is one the expression rejects
   * with `false` (for a planner that counts dropped rows as `not_matched`). Coverage `full` then
   * means SQL keeps exactly the rows where the expression is not `false`.
   */
  readonly keep?: "matching" | "notFalse";
}

/** Result of {@link pushdownFor}. */
export interface PushdownResult {
  /** The prefilter for the store (each SQL store renders it); absent when there is nothing to filter on. */
  readonly hint?: PushdownHint;
  readonly coverage: PushdownCoverage;
}

/**
 * The prefilter of a compiled `if` expression, with its coverage. With coverage `full` and no
 * hint, the expression is true for every run (such as `true`). Never throws: an expression it
 * cannot analyse gives `{ coverage: 'none' }`.
 */
export function pushdownFor(program: Program, options: PushdownOptions = {}): PushdownResult {
  const pred = translateChecked(program.ast, program.dialect, options, program.presenceTestErrors);
  if (pred === undefined) return { coverage: "none" };
  const exact = isExact(pred);
  if (pred.k === "true") return { coverage: exact ? "full" : "none" };
  return { hint: { predicate: pred }, coverage: exact ? "full" : "partial" };
}

/**
 * The exact decision of a compiled `if`: the rows it matches, errs on and yields a non-boolean for,
 * as three predicates SQL renders exactly, or `undefined` when any of them is only a superset (an
 * untranslatable subtree, a database function that is only approximate). With it a SQL store
 * decides every run itself (`ExactBatchStore`); every other row is one the expression rejects
 * with `false` (or, in `inngest`, the unknown of a missing attribute, `false` at the top). Never
 * throws.
 */
export function exactDecisionFor(program: Program): ExactDecision | undefined {
  let root: Sem;
  try {
    root = new Translator(program.ast, program.dialect, program.presenceTestErrors).sem(program.ast.expr);
  } catch {
    return undefined;
  }
  const decision: ExactDecision = { match: root.t, error: or(root.e, root.a), nonBoolean: or(root.oz, root.oy) };
  return isExact(decision.match) && isExact(decision.error) && isExact(decision.nonBoolean) ? decision : undefined;
}

/**
 * Lower level: the predicate of a checked AST (see `stores/predicate.ts`). `dialect` must be the
 * one the AST was compiled for. Returns `undefined` when nothing could be translated; never throws.
 */
export function translate(ast: CheckedAst, dialect: DialectName, options: PushdownOptions = {}): Pred | undefined {
  return translateChecked(ast, dialect, options, dialect === "inngest");
}

/** {@link translate}, told whether `has()` on a value without fields is an error (compile option `errorOnBadPresenceTest`). */
function translateChecked(ast: CheckedAst, dialect: DialectName, options: PushdownOptions, presenceErrors: boolean): Pred | undefined {
  let pred: Pred;
  try {
    pred = rootPredicate(ast, dialect, options, presenceErrors);
  } catch {
    return undefined;
  }
  return pred.k === "unknown" ? undefined : pred;
}

/** The superset predicate of the rows to keep: "the expression evaluates to `true`" (or "not to `false`"). */
function rootPredicate(ast: CheckedAst, dialect: DialectName, options: PushdownOptions, presenceErrors: boolean): Pred {
  const root = new Translator(ast, dialect, presenceErrors).sem(ast.expr);
  // At the top, an unknown is `false` (as in Inngest); an error or a non-boolean is not.
  return options.keep === "notFalse" ? or(root.t, root.e, root.a, root.oz, root.oy) : root.t;
}

// =============================================================================================
// The translator
// =============================================================================================

/** The JSON kinds of a present value other than an object: indexing one is an error, not an absent key. */
const NON_OBJECT = ["null", "true", "false", "number", "string", "array"] as const;

/** The string tests SQL can decide, by overload id, with the test of the SQL atom. */
const STRING_TESTS: ReadonlyMap<string, "prefix" | "suffix" | "contains"> = new Map([
  ["starts_with_string", "prefix"],
  ["ends_with_string", "suffix"],
  ["contains_string", "contains"],
]);

class Translator {
  private readonly inngest: boolean;

  constructor(
    private readonly ast: CheckedAst,
    dialect: DialectName,
    /** `has()` on a value without fields (null, a number) is an error rather than `false`. */
    private readonly presenceErrors: boolean,
  ) {
    this.inngest = dialect === "inngest";
  }

  /** The five cases of a node in boolean position. */
  sem(e: Expr): Sem {
    switch (e.kind) {
      case "const": {
        const l = this.lit(e);
        return l === undefined ? UNSUPPORTED : constSem(l);
      }
      case "select":
        if (e.testOnly) return this.has(e.operand, e.field);
        break;
      case "call":
        return this.call(e);
      default:
        break;
    }
    const term = this.term(e);
    return term === undefined ? UNSUPPORTED : this.truthSem(term);
  }

  private call(e: CallExpr): Sem {
    const args = e.args;
    if (e.target !== undefined) {
      const overloads = overloadsOf(this.ast.refs, e);
      const test = specialisationOf(STRING_TESTS, e.fn, overloads);
      if (test !== undefined && args.length === 1) return this.stringFunction(test, e.target, args[0]!);
      if (resolvesWithin(overloads, SIZE_OVERLOADS) && args.length === 0) return this.sizeSem(e);
      return UNSUPPORTED;
    }
    switch (e.fn) {
      case "!_":
        return args.length === 1 ? this.not(this.sem(args[0]!)) : UNSUPPORTED;
      case "_&&_":
        return args.length === 2 ? this.and(this.sem(args[0]!), this.sem(args[1]!)) : UNSUPPORTED;
      case "_||_":
        return args.length === 2 ? this.or(this.sem(args[0]!), this.sem(args[1]!)) : UNSUPPORTED;
      case "_?_:_":
        return args.length === 3 ? this.conditional(this.sem(args[0]!), this.sem(args[1]!), this.sem(args[2]!)) : UNSUPPORTED;
      case "_==_":
      case "_!=_":
        return args.length === 2 ? this.equality(args[0]!, args[1]!, e.fn === "_!=_") : UNSUPPORTED;
      case "_<_":
      case "_<=_":
      case "_>_":
      case "_>=_":
        return args.length === 2 ? this.ordering(args[0]!, args[1]!, RELATION_OPS[e.fn]!) : UNSUPPORTED;
      case "@in":
        return args.length === 2 ? this.membership(args[0]!, args[1]!) : UNSUPPORTED;
      default:
        if (resolvesWithin(overloadsOf(this.ast.refs, e), SIZE_OVERLOADS)) return args.length === 1 ? this.sizeSem(e) : UNSUPPORTED;
        break;
    }
    const term = this.term(e);
    return term === undefined ? UNSUPPORTED : this.truthSem(term);
  }

  private sizeSem(e: CallExpr): Sem {
    const term = this.term(e);
    return term === undefined ? UNSUPPORTED : this.truthSem(term);
  }

  // -- terms and literals ----------------------------------------------------------------------

  /** A field path from `event`, or `size()` of one; `undefined` for anything else. */
  private term(e: Expr): Term | undefined {
    if (e.kind === "call" && resolvesWithin(overloadsOf(this.ast.refs, e), SIZE_OVERLOADS)) {
      const arg = e.target !== undefined ? (e.args.length === 0 ? e.target : undefined) : e.args.length === 1 ? e.args[0] : undefined;
      const of = arg === undefined ? undefined : this.path(arg);
      return of === undefined ? undefined : { k: "size", of };
    }
    return this.path(e);
  }

  private path(e: Expr): PathTerm | undefined {
    switch (e.kind) {
      case "ident": {
        const ref = this.ast.refs.get(e.id);
        if (e.name !== "event" || ref?.kind !== "ident" || ref.name !== "event" || ref.isType === true) return undefined;
        return { k: "path", path: [], steps: [] };
      }
      case "select": {
        if (e.testOnly || e.optional === true) return undefined;
        const base = this.path(e.operand);
        if (base === undefined || !sqlSafeString(e.field)) return undefined;
        return { k: "path", path: [...base.path, e.field], steps: [...base.steps, "select"] };
      }
      case "call": {
        if (e.fn !== "_[_]" || e.target !== undefined || e.args.length !== 2) return undefined;
        const base = this.path(e.args[0]!);
        const key = this.lit(e.args[1]!);
        if (base === undefined || typeof key !== "string" || !sqlSafeString(key)) return undefined;
        return { k: "path", path: [...base.path, key], steps: [...base.steps, "index"] };
      }
      default:
        return undefined;
    }
  }

  /** The value of a literal (or a negated numeric literal); `undefined` for anything else. */
  private lit(e: Expr): Lit | undefined {
    if (e.kind === "const") {
      const v = constantValue(e.value);
      return v instanceof Uint8Array ? undefined : (v as Lit);
    }
    if (e.kind === "call" && e.fn === "-_" && e.target === undefined && e.args.length === 1) {
      const inner = this.lit(e.args[0]!);
      if (typeof inner === "number") return -inner;
      if (typeof inner === "bigint" && inner !== INT64_MIN) return -inner;
    }
    return undefined;
  }

  /** The elements of a list literal of literals; `undefined` for anything else. */
  private list(e: Expr): Lit[] | undefined {
    if (e.kind !== "list" || e.optionalIndices.length > 0) return undefined;
    const out: Lit[] = [];
    for (const x of e.elements) {
      const l = this.lit(x);
      if (l === undefined) return undefined;
      out.push(l);
    }
    return out;
  }

  /** The rows on which a path does not exist, split by what the path then evaluates to. */
  private missingEntries(term: PathTerm): Entry[] {
    const { path, steps } = term;
    if (!this.inngest) return [{ guard: kindIs(path, ["missing"]), val: E }];
    const groups = new Map<Val, Pred[]>();
    const add = (val: Val, guard: Pred): void => {
      groups.set(val, [...(groups.get(val) ?? []), guard]);
    };
    for (let j = 0; j < steps.length; j++) {
      // The path stops existing at step j: its first j keys exist, its first j + 1 do not.
      const missing = kindIs(path.slice(0, j + 1), ["missing"]);
      if (steps[j] === "index" && j > 0) {
        // Indexing an object for an absent key and indexing a non-map fail differently.
        add(missingValue(steps, j, true), and(kindIs(path.slice(0, j), ["object"]), missing));
        add(missingValue(steps, j, false), and(kindIs(path.slice(0, j), NON_OBJECT), missing));
      } else {
        // The root `event` is an object.
        add(missingValue(steps, j, true), and(j === 0 ? TRUE : kindIs(path.slice(0, j), PRESENT), missing));
      }
    }
    if (groups.size <= 1) return [{ guard: kindIs(path, ["missing"]), val: groups.keys().next().value ?? U }];
    return [...groups].map(([val, guards]) => ({ guard: or(...guards), val }));
  }

  /** What a term is, by the JSON kind at its path. */
  private entries(term: Term): Entry[] {
    if (term.k === "path") {
      const p = term.path;
      return [
        ...this.missingEntries(term),
        { guard: kindIs(p, ["null"]), val: { v: "const", value: null } },
        { guard: kindIs(p, ["true"]), val: { v: "const", value: true } },
        { guard: kindIs(p, ["false"]), val: FALSE_VAL },
        { guard: kindIs(p, ["number"]), val: { v: "num", path: p } },
        { guard: kindIs(p, ["string"]), val: { v: "str", path: p } },
        { guard: kindIs(p, ["array"]), val: { v: "list", path: p } },
        { guard: kindIs(p, ["object"]), val: { v: "map", path: p } },
      ];
    }
    const p = term.of.path;
    return [
      // size() of a missing attribute is 0 in inngest; of an error, that error; of null, a
      // boolean or a number, an error.
      ...this.missingEntries(term.of).map(({ guard, val }) => ({
        guard,
        val: this.inngest && (val === U || val === A) ? ({ v: "const", value: 0n } as const) : E,
      })),
      { guard: kindIs(p, ["null", "true", "false", "number"]), val: E },
      { guard: kindIs(p, ["string"]), val: { v: "num", path: p, len: "string" } },
      { guard: kindIs(p, ["array"]), val: { v: "num", path: p, len: "array" } },
      { guard: kindIs(p, ["object"]), val: { v: "num", path: p, len: "object" } },
    ];
  }

  /** Builds the cases of a leaf whose results are booleans or errors. */
  private leaf(term: Term, outcome: (val: Val) => Outcome): Sem {
    const t: Pred[] = [];
    const f: Pred[] = [];
    const e: Pred[] = [];
    const a: Pred[] = [];
    for (const { guard, val } of this.entries(term)) {
      const out = outcome(val);
      switch (out.o) {
        case "true":
          t.push(guard);
          break;
        case "false":
          f.push(guard);
          break;
        case "error":
          e.push(guard);
          break;
        case "absent":
          a.push(guard);
          break;
        case "any": {
          const some = and(guard, UNKNOWN);
          t.push(some);
          f.push(some);
          e.push(some);
          break;
        }
        case "test":
          // The atoms check the JSON kind themselves (see Entry).
          t.push(out.pos);
          f.push(out.neg);
          break;
      }
    }
    // Comparisons, has(), `in` and string tests give booleans or errors, never an unknown.
    return { t: or(...t), f: or(...f), u: FALSE, e: or(...e), a: or(...a), oz: FALSE, oy: FALSE };
  }

  // -- leaves ----------------------------------------------------------------------------------

  /** A term in boolean position (`event.data.flag && …`): its value's truthiness. */
  private truthSem(term: Term): Sem {
    const t: Pred[] = [];
    const f: Pred[] = [];
    const u: Pred[] = [];
    const e: Pred[] = [];
    const a: Pred[] = [];
    const oz: Pred[] = [];
    const oy: Pred[] = [];
    for (const { guard, val } of this.entries(term)) {
      switch (val.v) {
        case "U":
          u.push(guard);
          break;
        case "A":
          a.push(guard);
          break;
        case "E":
          e.push(guard);
          break;
        case "const":
          if (val.value === true) t.push(guard);
          else if (val.value === false) f.push(guard);
          else (truthy(val.value) ? oy : oz).push(guard);
          break;
        case "num": {
          const zero = numOutcome(val, "==", 0);
          if (zero.o === "test") {
            oz.push(zero.pos);
            oy.push(zero.neg);
          } else return UNSUPPORTED;
          break;
        }
        case "str":
          oz.push(atom({ k: "str", path: val.path, op: "==", value: "" }));
          oy.push(atom({ k: "str", path: val.path, op: "!=", value: "" }));
          break;
        case "list":
        case "map":
          oy.push(guard);
          break;
      }
    }
    return { t: or(...t), f: or(...f), u: or(...u), e: or(...e), a: or(...a), oz: or(...oz), oy: or(...oy) };
  }

  private equality(a: Expr, b: Expr, negate: boolean): Sem {
    const ta = this.term(a);
    const lb = ta === undefined ? undefined : this.lit(b);
    if (ta !== undefined && lb !== undefined) return this.leaf(ta, (val) => equalityOutcome(this.inngest, val, lb, negate));
    const tb = this.term(b);
    const la = tb === undefined ? undefined : this.lit(a);
    if (tb !== undefined && la !== undefined) return this.leaf(tb, (val) => equalityOutcome(this.inngest, val, la, negate));
    // A boolean node compared with a boolean literal: `has(x) == false`, `(a in [..]) == true`.
    const rb = this.lit(b);
    if (typeof rb === "boolean" && this.lit(a) === undefined) return this.boolEquality(this.sem(a), rb, negate);
    const ra = this.lit(a);
    if (typeof ra === "boolean" && rb === undefined) return this.boolEquality(this.sem(b), ra, negate);
    return UNSUPPORTED;
  }

  /**
   * `node == k` for a boolean literal `k`. cel: an error stays an error, any other non-boolean is
   * unequal. inngest: missing attributes and non-booleans are unequal, an error stays an error.
   */
  private boolEquality(s: Sem, k: boolean, negate: boolean): Sem {
    const match = k ? s.t : s.f;
    const mismatch = or(k ? s.f : s.t, s.oz, s.oy, this.inngest ? or(s.u, s.a) : FALSE);
    const e = this.inngest ? s.e : or(s.u, s.e, s.a);
    const none = { u: FALSE, e, a: FALSE, oz: FALSE, oy: FALSE };
    return negate ? { t: mismatch, f: match, ...none } : { t: match, f: mismatch, ...none };
  }

  private ordering(a: Expr, b: Expr, op: CmpOp): Sem {
    const ta = this.term(a);
    const lb = ta === undefined ? undefined : this.lit(b);
    if (ta !== undefined && lb !== undefined) return this.leaf(ta, (val) => orderingOutcome(this.inngest, val, op, lb, true));
    const tb = this.term(b);
    const la = tb === undefined ? undefined : this.lit(a);
    if (tb !== undefined && la !== undefined) return this.leaf(tb, (val) => orderingOutcome(this.inngest, val, op, la, false));
    return UNSUPPORTED;
  }

  private membership(element: Expr, container: Expr): Sem {
    const te = this.term(element);
    const items = te === undefined ? undefined : this.list(container);
    if (te !== undefined && items !== undefined) return this.leaf(te, (val) => inListOutcome(this.inngest, val, items));
    const tc = this.path(container);
    const le = tc === undefined ? undefined : this.lit(element);
    if (tc !== undefined && le !== undefined) return this.leaf(tc, (val) => containerOutcome(this.inngest, val, le));
    return UNSUPPORTED;
  }

  private stringFunction(k: "prefix" | "suffix" | "contains", target: Expr, arg: Expr): Sem {
    const term = this.path(target);
    const value = term === undefined ? undefined : this.lit(arg);
    if (term === undefined || typeof value !== "string") return UNSUPPORTED;
    return this.leaf(term, (val) => {
      switch (val.v) {
        case "U":
          return O_FALSE;
        case "A":
          return this.inngest ? O_FALSE : O_ERROR;
        case "E":
          return O_ERROR;
        case "str": {
          if (!sqlSafeString(value)) return O_ANY;
          if (value === "") return O_TRUE;
          const a = { k, path: val.path, value } as const;
          return { o: "test", pos: atom(a), neg: and(kindIs(val.path, ["string"]), notAtom(a)) };
        }
        default:
          // Both dialects: a string function on a non-string is an error.
          return O_ERROR;
      }
    });
  }

  /** `has(operand.field)`. */
  private has(operand: Expr, field: string): Sem {
    const parent = this.path(operand);
    if (parent === undefined || !sqlSafeString(field)) return UNSUPPORTED;
    return this.leaf(parent, (val) => {
      switch (val.v) {
        case "U":
          return O_FALSE;
        case "A":
          // has() of an error is that error: an absent key's.
          return O_ABSENT;
        case "E":
          return O_ERROR;
        case "const":
          // inngest: has() on null is false, on a boolean an error. cel: `false` on any value
          // without fields, or an error with the errorOnBadPresenceTest option.
          if (this.inngest) return val.value === null ? O_FALSE : O_ERROR;
          return this.presenceErrors ? O_ERROR : O_FALSE;
        case "map":
          return keyOutcome(val.path, field);
        default:
          return this.inngest || this.presenceErrors ? O_ERROR : O_FALSE;
      }
    });
  }

  // -- logic -----------------------------------------------------------------------------------

  private not(s: Sem): Sem {
    // `!` of a missing attribute is false in inngest; of an error, the error; of a non-boolean,
    // an error.
    if (this.inngest) return { t: s.f, f: or(s.t, s.u, s.a), u: FALSE, e: or(s.e, s.oz, s.oy), a: FALSE, oz: FALSE, oy: FALSE };
    return { t: s.f, f: s.t, u: FALSE, e: nonBoolOf(s), a: FALSE, oz: FALSE, oy: FALSE };
  }

  private and(a: Sem, b: Sem): Sem {
    if (this.inngest) {
      // `a && b` is `b` when `a` is truthy, else `a`.
      const ya = truthyOf(a);
      // When `a` is always a boolean, "not false" is "truthy".
      const aIsBoolean = a.u === FALSE && a.e === FALSE && a.a === FALSE && a.oz === FALSE && a.oy === FALSE;
      return {
        t: and(ya, b.t),
        f: aIsBoolean ? or(a.f, b.f) : or(a.f, and(ya, b.f)),
        u: or(a.u, and(ya, b.u)),
        e: or(a.e, and(ya, b.e)),
        a: or(a.a, and(ya, b.a)),
        oz: or(a.oz, and(ya, b.oz)),
        oy: and(ya, b.oy),
      };
    }
    // cel: false if either side is false (even an error on the other), true if both are true.
    return {
      t: and(a.t, b.t),
      f: or(a.f, b.f),
      u: FALSE,
      e: and(or(a.t, nonBoolOf(a)), or(b.t, nonBoolOf(b)), or(nonBoolOf(a), nonBoolOf(b))),
      a: FALSE,
      oz: FALSE,
      oy: FALSE,
    };
  }

  private or(a: Sem, b: Sem): Sem {
    if (this.inngest) {
      // `a || b` is `a` when `a` is truthy, else `b` when truthy, else `a` when it is an error
      // (not a missing attribute), else `b`.
      const za = falsyOf(a);
      const zaNoError = or(a.f, a.u, a.a, a.oz);
      // When `a` is never a truthy non-boolean, "not true" is "falsy": t(a) ∨ (¬t(a) ∧ t(b)) = t(a) ∨ t(b).
      return {
        t: a.oy === FALSE ? or(a.t, b.t) : or(a.t, and(za, b.t)),
        f: and(zaNoError, b.f),
        u: and(zaNoError, b.u),
        e: or(and(a.e, falsyOf(b)), and(zaNoError, b.e)),
        a: and(zaNoError, b.a),
        oz: and(zaNoError, b.oz),
        oy: or(a.oy, and(za, b.oy)),
      };
    }
    return {
      t: or(a.t, b.t),
      f: and(a.f, b.f),
      u: FALSE,
      e: and(or(a.f, nonBoolOf(a)), or(b.f, nonBoolOf(b)), or(nonBoolOf(a), nonBoolOf(b))),
      a: FALSE,
      oz: FALSE,
      oy: FALSE,
    };
  }

  private conditional(c: Sem, yes: Sem, no: Sem): Sem {
    // inngest tests the condition for truthiness (an error condition is the result); cel wants a
    // boolean (else an error).
    const take = this.inngest ? truthyOf(c) : c.t;
    const skip = this.inngest ? or(c.f, c.u, c.a, c.oz) : c.f;
    const pick = (p: (s: Sem) => Pred): Pred => or(and(take, p(yes)), and(skip, p(no)));
    return {
      t: pick((s) => s.t),
      f: pick((s) => s.f),
      u: pick((s) => s.u),
      e: or(this.inngest ? c.e : nonBoolOf(c), pick((s) => s.e)),
      a: pick((s) => s.a),
      oz: pick((s) => s.oz),
      oy: pick((s) => s.oy),
    };
  }
}

/** The cases of a literal in boolean position. */
function constSem(l: Lit): Sem {
  const none = { t: FALSE, f: FALSE, u: FALSE, e: FALSE, a: FALSE, oz: FALSE, oy: FALSE };
  if (l === true) return { ...none, t: TRUE };
  if (l === false) return { ...none, f: TRUE };
  return truthy(l) ? { ...none, oy: TRUE } : { ...none, oz: TRUE };
}

/** Inngest's truthiness of a literal. */
function truthy(l: Lit): boolean {
  if (l === null) return false;
  if (typeof l === "string") return l !== "";
  if (typeof l === "number") return l !== 0;
  if (typeof l === "bigint") return l !== 0n;
  if (l instanceof CelUint) return l.value !== 0n;
  return l;
}

function truthyOf(s: Sem): Pred {
  return or(s.t, s.oy);
}

function falsyOf(s: Sem): Pred {
  return or(s.f, s.u, s.e, s.a, s.oz);
}

function nonBoolOf(s: Sem): Pred {
  return or(s.u, s.e, s.a, s.oz, s.oy);
}
