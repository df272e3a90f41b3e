/**
 * The SQL side of pushdown: a small predicate language over JSON paths of the `event` column, its
 * simplifying constructors, and its rendering for SQLite (`json_type` / `json_extract`) and
 * PostgreSQL (`jsonb` operators).
 *
 * Every predicate renders to an expression that is TRUE or FALSE for every row, never NULL: SQL's
 * three-valued logic would otherwise drop rows (SQLite's store keeps a row only when the predicate
 * is true). Every value, JSON path and key is a bound parameter; the SQL text depends only on the
 * shape of the expression, so stores can cache prepared statements by it.
 *
 * @module
 */

/** A database the predicate is rendered for. */
export type Target = "sqlite" | "postgres";

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
   * For strings in SQLite this is a superset: `length()` stops at a NUL character, so a string
   * holding one counts as matching (see {@link isExactFor}).
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

/** Whether a predicate renders as an exact translation for `target` (no `unknown`, no superset atom). */
export function isExactFor(p: Pred, target: Target): boolean {
  switch (p.k) {
    case "true":
    case "false":
      return true;
    case "unknown":
      return false;
    case "atom":
    case "not":
      return !(target === "sqlite" && p.atom.k === "len" && p.atom.of === "string");
    case "and":
    case "or":
      return p.xs.every((x) => isExactFor(x, target));
  }
}

/** A rendered predicate: SQL text and its parameters in placeholder order. */
export interface RenderedPredicate {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/**
 * Renders a predicate for one database. SQLite gets plain `?` placeholders (parameters in text
 * order, repeated when a value is used twice); PostgreSQL gets `$1…$n`, each distinct value bound
 * once and cast explicitly.
 */
export function renderPredicate(p: Pred, target: Target): RenderedPredicate {
  const r = target === "sqlite" ? new SqliteRenderer() : new PostgresRenderer();
  return { sql: r.pred(p), params: r.params };
}

abstract class Renderer {
  readonly params: unknown[] = [];
  abstract readonly trueSql: string;
  abstract readonly falseSql: string;
  abstract atom(a: Atom): string;

  pred(p: Pred): string {
    switch (p.k) {
      case "true":
      case "unknown":
        return this.trueSql;
      case "false":
        return this.falseSql;
      case "atom":
        return this.atom(p.atom);
      case "not":
        return `NOT ${this.atom(p.atom)}`;
      case "and": {
        const parts = p.xs.filter((x) => x.k !== "unknown").map((x) => this.pred(x));
        return parts.length === 0 ? this.trueSql : parts.length === 1 ? parts[0]! : `(${parts.join(" AND ")})`;
      }
      case "or":
        return `(${p.xs.map((x) => this.pred(x)).join(" OR ")})`;
    }
  }
}

const SQL_OPS: Record<CmpOp, string> = { "==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">=" };

/** The `json_type()` results of each kind (`missing` is NULL, shown here as ''). */
const SQLITE_TYPES: Record<JsonKind, readonly string[]> = {
  missing: [""],
  null: ["null"],
  true: ["true"],
  false: ["false"],
  number: ["integer", "real"],
  string: ["text"],
  array: ["array"],
  object: ["object"],
};

/**
 * The SQLite JSON path of `path`: every key double-quoted with JSON string escapes, which SQLite
 * decodes before comparing labels (so keys with dots, quotes, brackets or any Unicode work).
 */
export function sqliteJsonPath(path: JsonPath): string {
  let out = "$";
  for (const key of path) out += `.${JSON.stringify(key)}`;
  return out;
}

function quoteList(values: readonly string[]): string {
  return values.map((v) => `'${v}'`).join(", ");
}

/** Above this many values an IN list is bound as one JSON array parameter. */
const INLINE_LIST_LIMIT = 32;

class SqliteRenderer extends Renderer {
  readonly trueSql = "1";
  readonly falseSql = "0";

  private bind(value: unknown): string {
    this.params.push(value);
    return "?";
  }

  private type(path: JsonPath): string {
    return `IFNULL(json_type(event, ${this.bind(sqliteJsonPath(path))}), '')`;
  }

  private typeIs(path: JsonPath, kinds: readonly JsonKind[]): string {
    const names = kinds.flatMap((kind) => SQLITE_TYPES[kind]);
    if (names.length === 1 && names[0] === "") return `json_type(event, ${this.bind(sqliteJsonPath(path))}) IS NULL`;
    if (!kinds.includes("missing") && kinds.length === JSON_KINDS.length - 1) {
      return `json_type(event, ${this.bind(sqliteJsonPath(path))}) IS NOT NULL`;
    }
    const all = JSON_KINDS.flatMap((kind) => SQLITE_TYPES[kind]);
    const others = all.filter((name) => !names.includes(name));
    if (others.length < names.length) {
      return others.length === 1 ? `${this.type(path)} <> '${others[0]}'` : `${this.type(path)} NOT IN (${quoteList(others)})`;
    }
    return names.length === 1 ? `${this.type(path)} = '${names[0]}'` : `${this.type(path)} IN (${quoteList(names)})`;
  }

  private value(path: JsonPath): string {
    return `json_extract(event, ${this.bind(sqliteJsonPath(path))})`;
  }

  /**
   * `test` (already rendered, its parameters bound) and a test that the path holds a `kind`. The
   * comparison comes first: SQLite stops an AND at its first false operand, and a comparison (an
   * equality above all) is false for most rows, so most rows parse their event once rather than
   * twice. (AND is commutative, NULLs included: the result is the same.)
   */
  private guarded(test: string, path: JsonPath, kind: JsonKind): string {
    return `(${test} AND ${this.typeIs(path, [kind])})`;
  }

  /** A JSON number as a REAL: `json_extract` returns integer-looking JSON as INTEGER, keeping digits JSON.parse rounds away. */
  private number(path: JsonPath): string {
    return `CAST(${this.value(path)} AS REAL)`;
  }

  private inList(values: readonly unknown[], real: boolean): string {
    // JSON has no Infinity (it would read back as NULL, and NULL in an IN list can yield NULL).
    if (values.length > INLINE_LIST_LIMIT && values.every((v) => typeof v !== "number" || Number.isFinite(v))) {
      return `(SELECT ${real ? "CAST(value AS REAL)" : "value"} FROM json_each(${this.bind(JSON.stringify(values))}))`;
    }
    return `(${values.map((v) => this.bind(v)).join(", ")})`;
  }

  atom(a: Atom): string {
    switch (a.k) {
      case "kind":
        return this.typeIs(a.path, a.kinds);
      // The comparison comes before the type test (see `guarded`).
      case "num":
        return this.guarded(`${this.number(a.path)} ${SQL_OPS[a.op]} ${this.bind(a.value)}`, a.path, "number");
      case "numIn":
        return this.guarded(`${this.number(a.path)} IN ${this.inList(a.values, true)}`, a.path, "number");
      case "str":
        // BINARY collation compares UTF-8 bytes: code-point order, embedded NULs included.
        return this.guarded(`${this.value(a.path)} ${SQL_OPS[a.op]} ${this.bind(a.value)}`, a.path, "string");
      case "strIn":
        return this.guarded(`${this.value(a.path)} IN ${this.inList(a.values, false)}`, a.path, "string");
      case "prefix":
      case "suffix": {
        // substr() on TEXT stops at a NUL character; on a BLOB it counts bytes and does not. A
        // UTF-8 byte prefix (suffix) of a well-formed string is a code-point prefix (suffix).
        const bytes = Buffer.byteLength(a.value, "utf8");
        const guard = this.typeIs(a.path, ["string"]);
        const blob = `CAST(${this.value(a.path)} AS BLOB)`;
        const slice = a.k === "prefix" ? `substr(${blob}, 1, ${this.bind(bytes)})` : `substr(${blob}, ${this.bind(-bytes)})`;
        // substr() of an empty BLOB is NULL, not X'': IS compares without yielding NULL.
        return `(${guard} AND ${slice} IS CAST(${this.bind(a.value)} AS BLOB))`;
      }
      case "contains":
        // instr() compares bytes over the whole string, NULs included (LIKE would need escaping
        // and is case-insensitive for ASCII by default).
        return `(${this.typeIs(a.path, ["string"])} AND instr(${this.value(a.path)}, ${this.bind(a.value)}) > 0)`;
      case "len": {
        const guard = this.typeIs(a.path, [a.of]);
        const op = SQL_OPS[a.op];
        if (a.of === "array") return `(${guard} AND json_array_length(event, ${this.bind(sqliteJsonPath(a.path))}) ${op} ${this.bind(a.value)})`;
        if (a.of === "object") {
          return `(${guard} AND (SELECT count(*) FROM json_each(event, ${this.bind(sqliteJsonPath(a.path))})) ${op} ${this.bind(a.value)})`;
        }
        // length() counts characters only up to the first NUL: such strings are kept.
        return `(${guard} AND (instr(${this.value(a.path)}, ${this.bind("\u0000")}) > 0 OR length(${this.value(a.path)}) ${op} ${this.bind(a.value)}))`;
      }
      case "elem": {
        const guard = this.typeIs(a.path, ["array"]);
        const each = `json_each(event, ${this.bind(sqliteJsonPath(a.path))}) AS je`;
        const v = a.value;
        let test: string;
        if (v === null) test = "je.type = 'null'";
        else if (typeof v === "boolean") test = `je.type = '${v ? "true" : "false"}'`;
        else if (typeof v === "number") test = `je.type IN ('integer', 'real') AND CAST(je.value AS REAL) = ${this.bind(v)}`;
        else test = `je.type = 'text' AND je.value = ${this.bind(v)}`;
        return `(${guard} AND EXISTS (SELECT 1 FROM ${each} WHERE ${test}))`;
      }
    }
  }
}

/** `jsonb_typeof` of each kind; booleans are told apart by their text. */
const POSTGRES_TYPES: Record<JsonKind, string> = {
  missing: "",
  null: "null",
  true: "true",
  false: "false",
  number: "number",
  string: "string",
  array: "array",
  object: "object",
};

/** Escapes `%`, `_` and the escape character `!` for a LIKE pattern with `ESCAPE '!'`. */
export function escapeLike(text: string): string {
  return text.replace(/[!%_]/g, (ch) => `!${ch}`);
}

class PostgresRenderer extends Renderer {
  readonly trueSql = "TRUE";
  readonly falseSql = "FALSE";
  private readonly slots = new Map<string, string>();

  private bind(value: unknown, type: string): string {
    // String() keeps Infinity apart from -Infinity (JSON.stringify would print both as null).
    const text = Array.isArray(value) ? JSON.stringify(value.map((v: unknown) => (typeof v === "number" ? String(v) : v))) : String(value);
    const key = `${type}\u0000${typeof value}\u0000${text}`;
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = `$${this.params.push(value)}::${type}`;
      this.slots.set(key, slot);
    }
    return slot;
  }

  /**
   * The jsonb value at `path`, or NULL when it does not exist. `->` with a text key reads object
   * fields only (it is NULL on arrays, unlike `#>`, which would take `"1"` as an array index).
   */
  private value(path: JsonPath): string {
    if (path.length === 0) return "event";
    return `(event${path.map((key) => ` -> ${this.bind(key, "text")}`).join("")})`;
  }

  private text(path: JsonPath): string {
    return `(${this.value(path)} #>> '{}')`;
  }

  private typeIs(path: JsonPath, kinds: readonly JsonKind[]): string {
    const v = this.value(path);
    if (kinds.length === 1 && kinds[0] === "missing") return `${v} IS NULL`;
    if (!kinds.includes("missing") && kinds.length === JSON_KINDS.length - 1) return `${v} IS NOT NULL`;
    const splitsBooleans = kinds.includes("true") !== kinds.includes("false");
    const names = [
      ...new Set(kinds.map((kind) => (!splitsBooleans && (kind === "true" || kind === "false") ? "boolean" : POSTGRES_TYPES[kind]))),
    ];
    const typeExpr = splitsBooleans
      ? `CASE jsonb_typeof(${v}) WHEN 'boolean' THEN ${v} #>> '{}' ELSE jsonb_typeof(${v}) END`
      : `jsonb_typeof(${v})`;
    const expr = `COALESCE(${typeExpr}, '')`;
    return names.length === 1 ? `${expr} = '${names[0]}'` : `${expr} IN (${quoteList(names)})`;
  }

  /** `CASE WHEN <path is a jsonType> THEN test ELSE FALSE END`: the test never sees another type, so casts cannot fail. */
  private guarded(path: JsonPath, jsonType: string, test: string): string {
    return `CASE WHEN jsonb_typeof(${this.value(path)}) = '${jsonType}' THEN ${test} ELSE FALSE END`;
  }

  atom(a: Atom): string {
    switch (a.k) {
      case "kind":
        return this.typeIs(a.path, a.kinds);
      case "num":
        // float8, as JSON.parse reads the number (numeric would keep digits a double cannot).
        return this.guarded(a.path, "number", `(${this.value(a.path)})::float8 ${SQL_OPS[a.op]} ${this.bind(a.value, "float8")}`);
      case "numIn":
        return this.guarded(a.path, "number", `(${this.value(a.path)})::float8 = ANY(${this.bind(a.values, "float8[]")})`);
      case "str":
        // Equality is one jsonb `=` against a jsonb string: it reads the value once where the guarded
        // text comparison reads it twice (~30% of the predicate's cost per row), and jsonb strings
        // are equal exactly when their bytes are. (Atoms carry only strings SQL holds exactly: no
        // NUL, no lone surrogate; see pushdown.ts.) A missing field or another type is unequal.
        if (a.op === "==") return `COALESCE(${this.value(a.path)} = ${this.bind(JSON.stringify(a.value), "jsonb")}, FALSE)`;
        return this.guarded(a.path, "string", `${this.text(a.path)} COLLATE "C" ${SQL_OPS[a.op]} ${this.bind(a.value, "text")}`);
      case "strIn":
        return `COALESCE(${this.value(a.path)} = ANY(${this.bind(a.values.map((v) => JSON.stringify(v)), "jsonb[]")}), FALSE)`;
      case "prefix":
        return this.guarded(a.path, "string", `${this.text(a.path)} LIKE ${this.bind(`${escapeLike(a.value)}%`, "text")} ESCAPE '!'`);
      case "suffix":
        return this.guarded(a.path, "string", `${this.text(a.path)} LIKE ${this.bind(`%${escapeLike(a.value)}`, "text")} ESCAPE '!'`);
      case "contains":
        return this.guarded(a.path, "string", `strpos(${this.text(a.path)}, ${this.bind(a.value, "text")}) > 0`);
      case "len": {
        const v = this.value(a.path);
        const size =
          a.of === "string"
            ? `char_length(${this.text(a.path)})`
            : a.of === "array"
              ? `jsonb_array_length(${v})`
              : `(SELECT count(*) FROM jsonb_object_keys(${v}))`;
        return this.guarded(a.path, a.of, `${size} ${SQL_OPS[a.op]} ${this.bind(a.value, "float8")}`);
      }
      case "elem": {
        const v = a.value;
        let test: string;
        if (v === null) test = "je.v = 'null'::jsonb";
        else if (typeof v === "boolean") test = `je.v = '${v ? "true" : "false"}'::jsonb`;
        else if (typeof v === "number") {
          test = `CASE WHEN jsonb_typeof(je.v) = 'number' THEN (je.v)::float8 = ${this.bind(v, "float8")} ELSE FALSE END`;
        } else test = `je.v = to_jsonb(${this.bind(v, "text")})`;
        return this.guarded(a.path, "array", `EXISTS (SELECT 1 FROM jsonb_array_elements(${this.value(a.path)}) AS je(v) WHERE ${test})`);
      }
    }
  }
}
