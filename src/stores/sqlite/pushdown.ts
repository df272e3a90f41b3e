/**
 * How the SQLite store renders a pushdown predicate (`predicate.ts`): JSON paths read with
 * `json_type` / `json_extract` over the `event` column (JSON text), `?` placeholders bound in text
 * order (a value used twice is bound twice).
 *
 * @module
 */
import { JSON_KINDS, type Atom, type JsonKind, type JsonPath, type Pred } from "../predicate.js";
import { PredicateRenderer, SQL_OPS, quoteList, type RenderedPredicate } from "../sql-common.js";

/**
 * The SQL of a predicate for SQLite, with its parameters. Not exact for a `len` atom over strings
 * (`length()` stops at a NUL character, so such strings are kept).
 */
export function renderSqlitePredicate(p: Pred): RenderedPredicate {
  const renderer = new SqliteRenderer();
  const sql = renderer.render(p);
  return { sql, params: renderer.params, exact: renderer.exact };
}

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

/**
 * Whether `json_extract` could return `text` as TEXT for a field that is not a string: it returns
 * an object or array as its JSON text (starting `{` or `[`), and every other non-string as an
 * INTEGER, a REAL or NULL, which never equal TEXT. Equality with any other text needs no type
 * test, which spares a second look into the event for each matching row.
 */
function mayPrintAsContainer(text: string): boolean {
  return text.startsWith("{") || text.startsWith("[");
}

/** Above this many values an IN list is bound as one JSON array parameter. */
const INLINE_LIST_LIMIT = 32;

class SqliteRenderer extends PredicateRenderer {
  protected readonly trueSql = "1";
  protected readonly falseSql = "0";

  protected override atomIsExact(a: Atom): boolean {
    return !(a.k === "len" && a.of === "string");
  }

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

  protected atom(a: Atom): string {
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
        if (a.op === "==" && !mayPrintAsContainer(a.value)) return `IFNULL(${this.value(a.path)} = ${this.bind(a.value)}, 0)`;
        return this.guarded(`${this.value(a.path)} ${SQL_OPS[a.op]} ${this.bind(a.value)}`, a.path, "string");
      case "strIn":
        if (!a.values.some(mayPrintAsContainer)) return `IFNULL(${this.value(a.path)} IN ${this.inList(a.values, false)}, 0)`;
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
