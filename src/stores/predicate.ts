/**
 * The pushdown predicate language: what a {@link PushdownHint} carries to a SQL store. A predicate
 * is a tree of tests on JSON paths of a run's `event` (its kind, a comparison with a literal, a
 * string prefix, a size, an array element), combined by AND, OR and NOT; the planner builds it
 * from the checked AST of an `if` (`cancel/pushdown.ts`) and each SQL store renders it in its own
 * SQL (`stores/sqlite/pushdown.ts`, `stores/postgres/pushdown.ts`), so no SQL text crosses the
 * contract.
 *
 * Semantics every renderer keeps: each atom is exactly true or false for every row (never NULL:
 * three-valued logic would otherwise drop rows), false where the path does not hold the JSON type
 * it tests, so `NOT atom` is exact. A store may render an atom as a superset only where
 * {@link isExact} says so (`len` of a string: SQLite's `length()` stops at a NUL character).
 * Strings in atoms (path keys and values) are well-formed and hold no NUL.
 *
 * The constructors ({@link and}, {@link or}, {@link atom}, {@link notAtom}) simplify as they build,
 * which keeps the trees, and the SQL rendered from them, small.
 *
 * @module
 */

/** What a JSON path can hold in one row; `missing` when the path does not exist. */
export type JsonKind = "missing" | "null" | "true" | "false" | "number" | "string" | "array" | "object";

/** Every {@link JsonKind}, in a fixed order (rendering and tests rely on it). */
export const JSON_KINDS: readonly JsonKind[] = ["missing", "null", "true", "false", "number", "string", "array", "object"];

/** A comparison operator, as CEL writes it. */
export type CmpOp = "==" | "!=" | "<" | "<=" | ">" | ">=";

/** Keys from the root of the event to a value: `event.data.a` is `["data", "a"]`. */
export type JsonPath = readonly string[];

/** A scalar an array element can be compared with. */
export type ElementValue = null | boolean | number | string;

/**
 * A test on one JSON path. Each atom is false for rows where the path does not hold the JSON type
 * it tests (so `num` is false for a string), which makes `NOT atom` meaningful on its own.
 */
export type Atom =
  /** The path holds one of `kinds` (a non-empty proper subset of {@link JSON_KINDS}). */
  | { readonly k: "kind"; readonly path: JsonPath; readonly kinds: readonly JsonKind[] }
  /** The path holds a number `op value`; `value` is a double, never NaN. */
  | { readonly k: "num"; readonly path: JsonPath; readonly op: CmpOp; readonly value: number }
  /** The path holds a number equal to one of `values` (non-empty, no NaN). */
  | { readonly k: "numIn"; readonly path: JsonPath; readonly values: readonly number[] }
  /** The path holds a string `op value` in code-point order. */
  | { readonly k: "str"; readonly path: JsonPath; readonly op: CmpOp; readonly value: string }
  /** The path holds a string equal to one of `values` (non-empty). */
  | { readonly k: "strIn"; readonly path: JsonPath; readonly values: readonly string[] }
  /** The path holds a string starting with, ending with or containing `value` (non-empty). */
  | { readonly k: "prefix" | "suffix" | "contains"; readonly path: JsonPath; readonly value: string }
  /**
   * The path holds a value of type `of` whose size (code points, elements, keys) is `op value`.
   * For strings a store may render a superset (SQLite's `length()` stops at a NUL character, so a
   * string holding one counts as matching; see {@link isExact}).
   */
  | { readonly k: "len"; readonly path: JsonPath; readonly of: "string" | "array" | "object"; readonly op: CmpOp; readonly value: number }
  /** The path holds an array with an element equal (CEL equality) to `value`. */
  | { readonly k: "elem"; readonly path: JsonPath; readonly value: ElementValue };

/**
 * A predicate. `unknown` stands for a subtree that could not be translated: it renders as TRUE and
 * marks the whole predicate as a superset rather than an exact translation. `not` only ever wraps
 * an atom (atoms are exact, never NULL). `size` is the number of nodes once shared subtrees are
 * unfolded, which bounds the rendered SQL.
 */
export type Pred =
  | { readonly k: "true"; readonly size: 1 }
  | { readonly k: "false"; readonly size: 1 }
  | { readonly k: "unknown"; readonly size: 1 }
  | { readonly k: "atom"; readonly atom: Atom; readonly size: number }
  | { readonly k: "not"; readonly atom: Atom; readonly size: number }
  | { readonly k: "and" | "or"; readonly xs: readonly Pred[]; readonly size: number };

/** Unfolded node count above which a predicate is given up (replaced by `unknown`). */
export const MAX_PREDICATE_SIZE = 4000;

/** The predicate that holds for every row. */
export const TRUE: Pred = Object.freeze({ k: "true", size: 1 });
/** The predicate that holds for no row. */
export const FALSE: Pred = Object.freeze({ k: "false", size: 1 });
/** An untranslatable subtree: TRUE, but not exact. */
export const UNKNOWN: Pred = Object.freeze({ k: "unknown", size: 1 });

/** A predicate made of one atom; a `kind` atom naming no kind is FALSE, one naming every kind TRUE. */
export function atom(a: Atom): Pred {
  if (a.k === "kind") {
    const kinds = normalizeKinds(a.kinds);
    if (kinds.length === 0) return FALSE;
    if (kinds.length === JSON_KINDS.length) return TRUE;
    return { k: "atom", atom: { k: "kind", path: a.path, kinds }, size: 1 };
  }
  return { k: "atom", atom: a, size: 1 };
}

/** `path` holds one of `kinds`. */
export function kindIs(path: JsonPath, kinds: readonly JsonKind[]): Pred {
  return atom({ k: "kind", path, kinds });
}

/** The operator testing the opposite: `!(a < b)` is `a >= b` (for values that are not NaN). */
export const COMPLEMENT_OP: Readonly<Record<CmpOp, CmpOp>> = { "==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<" };

/**
 * The complement of an atom. Atoms are never NULL, so `NOT atom` is exact, except for the superset
 * atom `len` (SQLite strings), which is complemented through the opposite operator instead.
 */
export function notAtom(a: Atom): Pred {
  if (a.k === "kind") return kindIs(a.path, JSON_KINDS.filter((kind) => !a.kinds.includes(kind)));
  if (a.k === "len") {
    const others = JSON_KINDS.filter((kind) => kind !== a.of);
    return or(kindIs(a.path, others), atom({ ...a, op: COMPLEMENT_OP[a.op] }));
  }
  return { k: "not", atom: a, size: 1 };
}

function normalizeKinds(kinds: readonly JsonKind[]): JsonKind[] {
  return JSON_KINDS.filter((kind) => kinds.includes(kind));
}

function samePath(a: JsonPath, b: JsonPath): boolean {
  return a.length === b.length && a.every((key, i) => key === b[i]);
}

/**
 * Conjunction with simplification: TRUE operands vanish, a FALSE operand wins, nested ANDs are
 * flattened and `kind` atoms on the same path intersect. An `unknown` operand stays (it renders as
 * TRUE but keeps the result inexact). Too large a result becomes `unknown`, which is sound because
 * predicates only ever occur positively.
 */
export function and(...operands: readonly Pred[]): Pred {
  const xs: Pred[] = [];
  for (const p of operands) {
    if (p.k === "true") continue;
    if (p.k === "false") return FALSE;
    if (p.k === "and") xs.push(...p.xs);
    else if (p.k === "unknown") {
      if (!xs.includes(UNKNOWN)) xs.push(UNKNOWN);
    } else xs.push(p);
  }
  const merged = mergeKinds(xs, (a, b) => a.filter((kind) => b.includes(kind)));
  if (merged === FALSE) return FALSE;
  return build("and", merged);
}

/**
 * Disjunction with simplification: FALSE operands vanish, a TRUE operand wins, an `unknown`
 * operand makes the whole disjunction `unknown`, nested ORs are flattened and `kind` atoms on the
 * same path unite.
 */
export function or(...operands: readonly Pred[]): Pred {
  const xs: Pred[] = [];
  let unknown = false;
  for (const p of operands) {
    if (p.k === "false") continue;
    if (p.k === "true") return TRUE;
    if (p.k === "unknown") unknown = true;
    else if (p.k === "or") xs.push(...p.xs);
    else xs.push(p);
  }
  if (unknown) return UNKNOWN;
  const merged = mergeKinds(mergeComplements(xs), (a, b) => [...a, ...b]);
  if (merged === TRUE) return TRUE;
  return build("or", merged);
}

/** Merges the `kind` atoms of one path; returns TRUE/FALSE when a merge decides the whole. */
function mergeKinds(xs: Pred[], combine: (a: readonly JsonKind[], b: readonly JsonKind[]) => JsonKind[]): Pred[] | Pred {
  const out: Pred[] = [];
  for (const p of xs) {
    if (p.k === "atom" && p.atom.k === "kind") {
      const a = p.atom;
      const at = out.findIndex((q) => q.k === "atom" && q.atom.k === "kind" && samePath(q.atom.path, a.path));
      if (at >= 0) {
        const q = out[at] as { atom: { kinds: readonly JsonKind[] } };
        const next = kindIs(a.path, combine(q.atom.kinds, a.kinds));
        if (next.k === "true" || next.k === "false") return next;
        out[at] = next;
        continue;
      }
    }
    if (!out.some((q) => q === p)) out.push(p);
  }
  return out;
}

/** The JSON kind a comparison atom is confined to, for merging `x op v` with `x !op v`. */
function comparedKind(a: Atom): JsonKind | undefined {
  if (a.k === "num") return "number";
  if (a.k === "str") return "string";
  if (a.k === "len") return a.of;
  return undefined;
}

/** In a disjunction, `x op v` and `x !op v` together are "x holds that JSON kind". */
function mergeComplements(xs: Pred[]): Pred[] {
  const out = [...xs];
  for (let i = 0; i < out.length; i++) {
    const p = out[i]!;
    if (p.k !== "atom") continue;
    const a = p.atom;
    const kind = comparedKind(a);
    if (kind === undefined || !("op" in a)) continue;
    const j = out.findIndex(
      (q, at) =>
        at > i && q.k === "atom" && q.atom.k === a.k && "op" in q.atom && q.atom.op === COMPLEMENT_OP[a.op] &&
        q.atom.value === a.value && samePath(q.atom.path, a.path) && (q.atom.k !== "len" || (a.k === "len" && q.atom.of === a.of)),
    );
    if (j < 0) continue;
    out.splice(j, 1);
    out[i] = kindIs(a.path, [kind]);
  }
  return out;
}

function build(k: "and" | "or", xs: Pred[] | Pred): Pred {
  if (!Array.isArray(xs)) return xs;
  if (xs.length === 0) return k === "and" ? TRUE : FALSE;
  if (xs.length === 1) return xs[0]!;
  let size = 1;
  for (const x of xs) size += x.size;
  if (size > MAX_PREDICATE_SIZE) return UNKNOWN;
  return { k, xs, size };
}

/**
 * Whether every store renders `p` exactly (not only as a superset): it holds no `unknown`
 * subtree and no `len` atom over strings.
 */
export function isExact(p: Pred): boolean {
  switch (p.k) {
    case "true":
    case "false":
      return true;
    case "unknown":
      return false;
    case "atom":
    case "not":
      return !(p.atom.k === "len" && p.atom.of === "string");
    case "and":
    case "or":
      return p.xs.every(isExact);
  }
}
