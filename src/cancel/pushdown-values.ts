/**
 * The values of the pushdown translator (`pushdown.ts`): what a term of an `if` expression can hold
 * in one row (by JSON kind), the outcome of a leaf test on it, and the leaf tests themselves, by
 * the engine's type rules in each dialect.
 *
 * @module
 */
import { celCompare, celEquals, compareDoubleBig } from "../expr/runtime/core.js";
import { CelUint } from "../expr/values.js";
import {
  and,
  atom,
  COMPLEMENT_OP,
  kindIs,
  notAtom,
  or,
  UNKNOWN,
  type CmpOp,
  type ElementValue,
  type JsonKind,
  type JsonPath,
  type Pred,
} from "../stores/predicate.js";

// =============================================================================================
// Values as the engine sees them
// =============================================================================================

/** A literal: the runtime value of a constant (int is bigint, uint is CelUint). */
export type Lit = null | boolean | number | bigint | string | CelUint;

/** The seven outcome cases of a boolean node (see the module comment of `pushdown.ts`). */
export interface Sem {
  readonly t: Pred;
  readonly f: Pred;
  readonly u: Pred;
  /** An evaluation error that is not a missing attribute. */
  readonly e: Pred;
  /** (`inngest`) The error of an absent map key: an error at the top, a missing attribute to calls. */
  readonly a: Pred;
  readonly oz: Pred;
  readonly oy: Pred;
}

/** A node nothing is known of: every case may hold. */
export const UNSUPPORTED: Sem = { t: UNKNOWN, f: UNKNOWN, u: UNKNOWN, e: UNKNOWN, a: UNKNOWN, oz: UNKNOWN, oy: UNKNOWN };

/** How each key of a path is reached: `x.k` (select) or `x['k']` (index). */
export type Step = "select" | "index";

/** A field path from `event`. */
export interface PathTerm {
  readonly k: "path";
  readonly path: JsonPath;
  readonly steps: readonly Step[];
}

/** `size(path)`. */
export interface SizeTerm {
  readonly k: "size";
  readonly of: PathTerm;
}

/** What a leaf compares: a path, or the size of one. */
export type Term = PathTerm | SizeTerm;

/**
 * What a term evaluates to on some rows: `U` the inngest unknown (a missing attribute), `A` the
 * inngest error of an absent map key (a missing attribute to the calls that read it, an error
 * elsewhere), `E` any other error value, a known constant, or a number / string / list / map
 * whose value SQL reads at `path`.
 */
export type Val =
  | { readonly v: "U" | "A" | "E" }
  | { readonly v: "const"; readonly value: Lit }
  /** A number: the JSON number at `path`, or with `len` the size of the string/array/object there. */
  | { readonly v: "num"; readonly path: JsonPath; readonly len?: "string" | "array" | "object" }
  | { readonly v: "str"; readonly path: JsonPath }
  | { readonly v: "list"; readonly path: JsonPath }
  | { readonly v: "map"; readonly path: JsonPath };

/**
 * Some rows and what the term is on them. `guard` selects the rows; the entries of a term
 * partition all rows. The guard of a number, string, list or map value is the JSON kind at the
 * value's path, which the SQL atoms testing that value check themselves.
 */
export interface Entry {
  readonly guard: Pred;
  readonly val: Val;
}

/** Outcome of a comparison-like leaf on the rows of one entry (`absent`: the error of an absent key). */
export type Outcome =
  | { readonly o: "true" | "false" | "error" | "absent" | "any" }
  /** `pos` holds exactly where the outcome is true, `neg` where it is false (both within the entry's kinds). */
  | { readonly o: "test"; readonly pos: Pred; readonly neg: Pred };

/** The constant outcomes. */
export const O_TRUE: Outcome = { o: "true" };
/** See {@link O_TRUE}. */
export const O_FALSE: Outcome = { o: "false" };
/** See {@link O_TRUE}. */
export const O_ERROR: Outcome = { o: "error" };
/** See {@link O_TRUE}. */
export const O_ABSENT: Outcome = { o: "absent" };
/** See {@link O_TRUE}. */
export const O_ANY: Outcome = { o: "any" };

/** The constant outcome of a boolean. */
export function bool(b: boolean): Outcome {
  return b ? O_TRUE : O_FALSE;
}

/** The unknown of a missing attribute (`inngest`). */
export const U: Val = { v: "U" };
/** The error of an absent map key (`inngest`): calls read it as a missing attribute. */
export const A: Val = { v: "A" };
/** An error. */
export const E: Val = { v: "E" };
/** The boolean `false`. */
export const FALSE_VAL: Val = { v: "const", value: false };

/** Every JSON kind but `missing`. */
export const PRESENT: readonly JsonKind[] = ["null", "true", "false", "number", "string", "array", "object"];

/**
 * What an `inngest` path evaluates to when it does not exist, given the step at which it stops
 * existing, whether the value before that step is an object, and the steps after it. The engine
 * compiles `x['k']` as an ordinary call: indexing a missing attribute (unknown, or an absent
 * key's error) yields `false` (Inngest's default for a call with unknown arguments), a key missing
 * from an object the absent key's error, a non-map operand (or `false`) an error, which
 * propagates; a select of a missing key or on a non-map is unknown, and an error passes through
 * selects.
 */
export function missingValue(steps: readonly Step[], failedAt: number, parentIsObject: boolean): Val {
  let v: Val = steps[failedAt] === "select" ? U : parentIsObject ? A : E;
  for (let i = failedAt + 1; i < steps.length; i++) {
    if (steps[i] === "select") v = v === E || v === A ? v : U;
    else v = v === E || v === FALSE_VAL ? E : FALSE_VAL;
  }
  return v;
}

/** Whether a literal is a number (double, int or uint). */
export function isNumericLit(l: Lit): l is number | bigint | CelUint {
  return typeof l === "number" || typeof l === "bigint" || l instanceof CelUint;
}

/** The operator with its operands swapped: `a < b` is `b > a`. */
export const FLIP: Record<CmpOp, CmpOp> = { "==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<=" };
/** The ordering operators by their function name in the AST. */
export const RELATION_OPS: Record<string, CmpOp> = { "_<_": "<", "_<=_": "<=", "_>_": ">", "_>=_": ">=" };

/** Whether a comparison result (`-1`, `0`, `1`) satisfies `op`. */
export function testCmp(op: CmpOp, c: number): boolean {
  switch (op) {
    case "==":
      return c === 0;
    case "!=":
      return c !== 0;
    case "<":
      return c < 0;
    case "<=":
      return c <= 0;
    case ">":
      return c > 0;
    case ">=":
      return c >= 0;
  }
}

/**
 * `d op lit` for every finite double `d`, as a comparison with a double (SQL compares doubles).
 * NaN compares false (and unequal). An integer literal a double cannot hold exactly is compared
 * the way the engine compares it: cel-go (and so the engine) converts it to the nearest double,
 * which the engine's own `compareDoubleBig` tells; were the comparison exact, the bound would move
 * to the nearest double with an adjusted operator (no double lies strictly between an integer
 * and its nearest double).
 */
export function numericPlan(op: CmpOp, lit: number | bigint | CelUint): { readonly op: CmpOp; readonly value: number } | boolean {
  if (typeof lit === "number") return lit !== lit ? op === "!=" : { op, value: lit };
  const b = typeof lit === "bigint" ? lit : lit.value;
  const r = Number(b);
  if (BigInt(r) === b || compareDoubleBig(r, b) === 0) return { op, value: r };
  if (op === "==") return false;
  if (op === "!=") return true;
  if (r < b) return { op: op === "<" || op === "<=" ? "<=" : ">", value: r };
  return { op: op === "<" || op === "<=" ? "<" : ">=", value: r };
}

/** The zero value Inngest substitutes for a `null` operand of an ordering, or `undefined` (→ error). */
export function zeroLike(v: Lit): Lit | undefined {
  if (typeof v === "bigint") return 0n;
  if (typeof v === "number") return 0;
  if (typeof v === "string") return "";
  if (v instanceof CelUint) return new CelUint(0n);
  return undefined;
}

/** Whether SQL can carry a string exactly: well-formed UTF-16 and, for PostgreSQL text, no NUL. */
export function sqlSafeString(s: string): boolean {
  if (s.includes("\u0000")) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}

/** A number term `op` a double-or-integer literal, as SQL on the rows holding a number. */
export function numOutcome(val: Val & { v: "num" }, op: CmpOp, lit: number | bigint | CelUint): Outcome {
  const plan = numericPlan(op, lit);
  if (typeof plan === "boolean") return bool(plan);
  const inverse = numericPlan(COMPLEMENT_OP[op], lit) as { op: CmpOp; value: number };
  const make = (o: CmpOp, value: number): Pred =>
    val.len === undefined ? atom({ k: "num", path: val.path, op: o, value }) : atom({ k: "len", path: val.path, of: val.len, op: o, value });
  return { o: "test", pos: make(plan.op, plan.value), neg: make(inverse.op, inverse.value) };
}

/** A string term `op` a string literal, in code-point order. */
export function strOutcome(path: JsonPath, op: CmpOp, value: string): Outcome {
  if (!sqlSafeString(value)) return O_ANY;
  return { o: "test", pos: atom({ k: "str", path, op, value }), neg: atom({ k: "str", path, op: COMPLEMENT_OP[op], value }) };
}

/** `term == lit` / `term != lit`. */
export function equalityOutcome(inngest: boolean, val: Val, lit: Lit, negate: boolean): Outcome {
  const op: CmpOp = negate ? "!=" : "==";
  switch (val.v) {
    case "U":
    case "A":
      // inngest: a missing attribute equals only null (the cel dialect has neither).
      return inngest ? bool((lit === null) !== negate) : O_ERROR;
    case "E":
      // Both dialects: the error propagates.
      return O_ERROR;
    case "const":
      return bool(celEquals(val.value, lit) !== negate);
    case "num":
      return isNumericLit(lit) ? numOutcome(val, op, lit) : bool(negate);
    case "str":
      return typeof lit === "string" ? strOutcome(val.path, op, lit) : bool(negate);
    case "list":
    case "map":
      return bool(negate);
  }
}

/** `term op lit` (or `lit op term` when `termOnLeft` is false) for an ordering `op` as written. */
export function orderingOutcome(inngest: boolean, val: Val, op: CmpOp, lit: Lit, termOnLeft: boolean): Outcome {
  const opTerm = termOnLeft ? op : FLIP[op];
  switch (val.v) {
    case "U":
    case "A": {
      if (!inngest) return O_ERROR;
      // Inngest: a missing left operand is less than anything; on the right, more.
      const leftUnknownResult = op === "<" || op === "<=";
      return bool(termOnLeft ? leftUnknownResult : !leftUnknownResult);
    }
    case "E":
      return O_ERROR;
    case "const": {
      let left: Lit | undefined = termOnLeft ? val.value : lit;
      let right: Lit | undefined = termOnLeft ? lit : val.value;
      if (inngest) {
        if (left === null && right !== null) left = zeroLike(right) ?? null;
        else if (right === null && left !== null) right = zeroLike(left) ?? null;
      }
      const c = left === null || right === null ? undefined : celCompare(left, right);
      if (c === undefined) return O_ERROR;
      return bool(c === c && testCmp(op, c));
    }
    case "num":
      if (isNumericLit(lit)) return numOutcome(val, opTerm, lit);
      // Inngest compares a number with null as with 0.
      if (lit === null && inngest) return numOutcome(val, opTerm, 0);
      return O_ERROR;
    case "str":
      if (typeof lit === "string") return strOutcome(val.path, opTerm, lit);
      if (lit === null && inngest) return strOutcome(val.path, opTerm, "");
      return O_ERROR;
    case "list":
    case "map":
      return O_ERROR;
  }
}

/** `term in [lits]`. */
export function inListOutcome(inngest: boolean, val: Val, items: readonly Lit[]): Outcome {
  switch (val.v) {
    case "U":
      return O_FALSE;
    case "A":
      return inngest ? O_FALSE : O_ERROR;
    case "E":
      return O_ERROR;
    case "const":
      return bool(items.some((item) => celEquals(val.value, item)));
    case "num": {
      const values: number[] = [];
      for (const item of items) {
        if (!isNumericLit(item)) continue;
        const plan = numericPlan("==", item);
        if (typeof plan !== "boolean" && !values.includes(plan.value)) values.push(plan.value);
      }
      if (values.length === 0) return O_FALSE;
      if (val.len !== undefined) {
        const len = val.len;
        return {
          o: "test",
          pos: or(...values.map((value) => atom({ k: "len", path: val.path, of: len, op: "==", value }))),
          neg: and(...values.map((value) => atom({ k: "len", path: val.path, of: len, op: "!=", value }))),
        };
      }
      const a = { k: "numIn", path: val.path, values } as const;
      return { o: "test", pos: atom(a), neg: and(kindIs(val.path, ["number"]), notAtom(a)) };
    }
    case "str": {
      const values: string[] = [];
      for (const item of items) {
        if (typeof item !== "string") continue;
        if (!sqlSafeString(item)) return O_ANY;
        if (!values.includes(item)) values.push(item);
      }
      if (values.length === 0) return O_FALSE;
      const a = { k: "strIn", path: val.path, values } as const;
      return { o: "test", pos: atom(a), neg: and(kindIs(val.path, ["string"]), notAtom(a)) };
    }
    case "list":
    case "map":
      return O_FALSE;
  }
}

/** `lit in term`: element of an array, key of an object. */
export function containerOutcome(inngest: boolean, val: Val, lit: Lit): Outcome {
  switch (val.v) {
    case "U":
      return O_FALSE;
    case "A":
      return inngest ? O_FALSE : O_ERROR;
    case "E":
      return O_ERROR;
    case "const":
    case "num":
    case "str":
      return O_ERROR;
    case "list": {
      let value: ElementValue;
      if (isNumericLit(lit)) {
        const plan = numericPlan("==", lit);
        if (typeof plan === "boolean") return bool(plan);
        value = plan.value;
      } else if (typeof lit === "string") {
        if (!sqlSafeString(lit)) return O_ANY;
        value = lit;
      } else value = lit;
      const a = { k: "elem", path: val.path, value } as const;
      return { o: "test", pos: atom(a), neg: and(kindIs(val.path, ["array"]), notAtom(a)) };
    }
    case "map": {
      if (typeof lit !== "string") return O_FALSE;
      if (!sqlSafeString(lit)) return O_ANY;
      return keyOutcome(val.path, lit);
    }
  }
}

/** Whether the object at `path` has key `key` (the caller knows it is an object). */
export function keyOutcome(path: JsonPath, key: string): Outcome {
  const child = [...path, key];
  return {
    o: "test",
    pos: kindIs(child, ["null", "true", "false", "number", "string", "array", "object"]),
    neg: and(kindIs(path, ["object"]), kindIs(child, ["missing"])),
  };
}
