/**
 * The predicates the matcher indexes, and what each answers for the value at its path.
 *
 * Each answer is {@link YES} or {@link NO} only where it is certainly what the compiled program's
 * comparison gives, in the atom's dialect; anything else is {@link MAYBE} and goes to the program.
 *
 * @module
 */
import { CelTimestamp } from "../values.js";
import { ABSENT, PRESENT, type PathNode, type PathSpec } from "./paths.js";
import { equalsScalar, MAYBE, NO, orders, YES, zeroLike, type Answer, type Ordered, type Scalar } from "./compare.js";

/** An ordering operator, with the path on the left. */
export type OrderOp = "<" | "<=" | ">" | ">=";

/** A predicate on one path, as the analysis finds it (paths not yet interned). */
export type AtomSpec =
  /** `path == c` (or `c == path`). */
  | { readonly kind: "eq"; readonly path: PathSpec; readonly value: Scalar }
  /** `path != c`. */
  | { readonly kind: "ne"; readonly path: PathSpec; readonly value: Scalar }
  /** `path in [c1, c2, …]` with distinct constants. */
  | { readonly kind: "in"; readonly path: PathSpec; readonly values: readonly Scalar[] }
  /** `path <op> c` for a number, string or timestamp `c`. */
  | { readonly kind: "cmp"; readonly path: PathSpec; readonly op: OrderOp; readonly value: Ordered }
  /** `has(path)`. */
  | { readonly kind: "has"; readonly path: PathSpec };

/** An atom with its path interned, ready to answer. */
export type Atom =
  | { readonly kind: "eq"; readonly path: PathNode; readonly value: Scalar; readonly lenient: boolean }
  | { readonly kind: "ne"; readonly path: PathNode; readonly value: Scalar; readonly lenient: boolean }
  | { readonly kind: "in"; readonly path: PathNode; readonly values: readonly Scalar[]; readonly lenient: boolean }
  | { readonly kind: "cmp"; readonly path: PathNode; readonly op: OrderOp; readonly value: Ordered; readonly lenient: boolean }
  | { readonly kind: "has"; readonly path: PathNode; readonly lenient: boolean };

const TESTS: Record<OrderOp, (cmp: number) => boolean> = {
  "<": (c) => c < 0,
  "<=": (c) => c <= 0,
  ">": (c) => c > 0,
  ">=": (c) => c >= 0,
};

/** Whether a `<`/`<=` comparison (path on the left) is true on an unknown value in `inngest`. */
export function isUpper(op: OrderOp): boolean {
  return op === "<" || op === "<=";
}

/**
 * What `atom` answers for the value its path holds in this match (read by `readPath`).
 *
 * On an absent path the `cel` dialect fails (never true). `inngest` reads it as unknown, which
 * equals only `null`, is unequal to everything else, is less than everything on the left of an
 * ordering, is in no list, and is not present for `has`.
 */
export function answer(atom: Atom): Answer {
  const node = atom.path;
  const state = node.state;
  if (state === PRESENT) return presentAnswer(atom, node.value);
  if (state === ABSENT) {
    if (!atom.lenient) return NO;
    switch (atom.kind) {
      case "eq":
        return atom.value === null ? YES : NO;
      case "ne":
        return atom.value === null ? NO : YES;
      case "cmp":
        return isUpper(atom.op) ? YES : NO;
      default:
        return NO;
    }
  }
  return MAYBE;
}

function presentAnswer(atom: Atom, v: unknown): Answer {
  switch (atom.kind) {
    case "eq":
      return equalsScalar(v, atom.value) ? YES : NO;
    case "ne":
      return equalsScalar(v, atom.value) ? NO : YES;
    case "in": {
      for (const c of atom.values) if (equalsScalar(v, c)) return YES;
      return NO;
    }
    case "has":
      return YES;
    case "cmp": {
      const test = TESTS[atom.op];
      let x = v;
      if (x === null) {
        // `inngest` compares the zero value of the constant's kind; `cel` fails.
        if (!atom.lenient) return NO;
        const zero = zeroLike(atom.value);
        if (zero === undefined) return NO;
        x = zero;
      }
      return orders(x, atom.value, test) === true ? YES : NO;
    }
  }
}

/** The timestamp of an ordering's constant, if it is one. */
export function isTimestamp(v: Ordered): v is CelTimestamp {
  return v instanceof CelTimestamp;
}
