/**
 * How the PostgreSQL store renders a pushdown predicate (`predicate.ts`): jsonb operators over the
 * `event` column, `$n` placeholders numbered after the enclosing statement's own, each distinct
 * value bound once and cast explicitly.
 *
 * @module
 */
import { JSON_KINDS, type Atom, type JsonKind, type JsonPath, type Pred } from "../predicate.js";
import { PredicateRenderer, SQL_OPS, quoteList, type RenderedPredicate } from "../sql-common.js";

/**
 * The SQL of a predicate for PostgreSQL, with its parameters; placeholders start at
 * `$(offset + 1)`, after the `offset` parameters of the statement it goes into.
 */
export function renderPostgresPredicate(p: Pred, offset = 0): RenderedPredicate {
  const renderer = new PostgresRenderer(offset);
  const sql = renderer.render(p);
  return { sql, params: renderer.params, exact: renderer.exact };
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

/**
 * Whether `->>` could print a JSON value that is not a string as `text`: a number (it starts with
 * `-` or a digit), `true`, `false`, an object or an array (`{`, `[`). JSON `null` prints as SQL NULL.
 */
function mayPrintAsNonString(text: string): boolean {
  return text === "true" || text === "false" || /^[-0-9{[]/.test(text);
}

/** Escapes `%`, `_` and the escape character `!` for a LIKE pattern with `ESCAPE '!'`. */
export function escapeLike(text: string): string {
  return text.replace(/[!%_]/g, (ch) => `!${ch}`);
}

class PostgresRenderer extends PredicateRenderer {
  protected readonly trueSql = "TRUE";
  protected readonly falseSql = "FALSE";
  private readonly slots = new Map<string, string>();

  readonly #offset: number;

  /** @param offset - Parameters of the enclosing statement before the predicate's. */
  constructor(offset: number) {
    super();
    this.#offset = offset;
  }

  private bind(value: unknown, type: string): string {
    // String() keeps Infinity apart from -Infinity (JSON.stringify would print both as null).
    const text = Array.isArray(value) ? JSON.stringify(value.map((v: unknown) => (typeof v === "number" ? String(v) : v))) : String(value);
    const key = `${type}\u0000${typeof value}\u0000${text}`;
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = `$${this.#offset + this.params.push(value)}::${type}`;
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

  /**
   * Whether the string at `path` equals `value`. Below the top, the field's text (`->>`, as a
   * hand-written `UPDATE` reads it) compared byte for byte: about a quarter cheaper per row than a
   * containment test. `->>` prints a number, a boolean or a container as its JSON text, so a value
   * one of those could print as ({@link mayPrintAsNonString}) takes one containment test
   * `event @> '{"a":{"b":"…"}}'` instead, which holds exactly when the field is that string (an
   * object or array on the way, or an array in the field's place, does not contain it).
   */
  private stringEquals(path: JsonPath, value: string): string {
    if (path.length === 0) return `COALESCE(event = ${this.bind(JSON.stringify(value), "jsonb")}, FALSE)`;
    if (!mayPrintAsNonString(value)) {
      const parents = path.slice(0, -1).map((key) => ` -> ${this.bind(key, "text")}`).join("");
      return `COALESCE((event${parents} ->> ${this.bind(path[path.length - 1]!, "text")}) COLLATE "C" = ${this.bind(value, "text")}, FALSE)`;
    }
    const pattern = path.reduceRight((inner, key) => `{${JSON.stringify(key)}:${inner}}`, JSON.stringify(value));
    return `COALESCE(event @> ${this.bind(pattern, "jsonb")}, FALSE)`;
  }

  /** `CASE WHEN <path is a jsonType> THEN test ELSE FALSE END`: the test never sees another type, so casts cannot fail. */
  private guarded(path: JsonPath, jsonType: string, test: string): string {
    return `CASE WHEN jsonb_typeof(${this.value(path)}) = '${jsonType}' THEN ${test} ELSE FALSE END`;
  }

  protected atom(a: Atom): string {
    switch (a.k) {
      case "kind":
        return this.typeIs(a.path, a.kinds);
      case "num":
        // float8, as JSON.parse reads the number (numeric would keep digits a double cannot).
        return this.guarded(a.path, "number", `(${this.value(a.path)})::float8 ${SQL_OPS[a.op]} ${this.bind(a.value, "float8")}`);
      case "numIn":
        return this.guarded(a.path, "number", `(${this.value(a.path)})::float8 = ANY(${this.bind(a.values, "float8[]")})`);
      case "str":
        // Equality reads the value once where the guarded comparison reads it twice (see
        // stringEquals). Atoms carry only strings SQL holds exactly: no NUL, no lone surrogate
        // (see pushdown.ts). A missing field or another type is unequal.
        if (a.op === "==") return this.stringEquals(a.path, a.value);
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
