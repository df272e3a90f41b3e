/**
 * Pushdown translation: golden SQL for each construct, the predicate helpers, the type traps as
 * behaviour tables run on SQLite and PostgreSQL, and the hint through the real stores.
 */
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pushdownFor as pushdownHint } from "../../src/cancel/pushdown.js";
import { and, atom, FALSE, kindIs, MAX_PREDICATE_SIZE, notAtom, or, TRUE, UNKNOWN, type Pred } from "../../src/stores/predicate.js";
import { escapeLike } from "../../src/stores/postgres/pushdown.js";
import { sqliteJsonPath } from "../../src/stores/sqlite/pushdown.js";
import { isExactFor, pushdownFor, renderPredicate, translate, type PushdownResult, type Target } from "../support/pushdown.js";
import type { CallExpr, Expr } from "../../src/expr/ast.js";
import type { CheckedAst } from "../../src/expr/checker/checker.js";
import type { DialectName } from "../../src/expr/dialect.js";
import { compile } from "../../src/expr/program.js";
import { PostgresRunStore } from "../../src/stores/postgres.js";
import { SqliteRunStore } from "../../src/stores/sqlite.js";
import type { RunEvent, RunRecord, ScanQuery } from "../../src/stores/types.js";
import { describePostgres } from "../support/postgres.js";

function pushdown(source: string, dialect: DialectName): PushdownResult {
  return pushdownFor(compile(source, { dialect }));
}

// =============================================================================================
// Golden SQL
// =============================================================================================

describe("golden SQL", () => {
  it("string equality: the value (with a type guard when a container could print as it); every value and path is a parameter", () => {
    const r = pushdown("event.data.userId == 'x'", "inngest");
    expect(r.coverage).toBe("full");
    // SQLite: json_extract answers TEXT only for a string or a container (its JSON text), so text
    // that no container prints as needs no type test.
    expect(r.hint?.sqlite).toEqual({ sql: "IFNULL(json_extract(event, ?) = ?, 0)", params: ['$."data"."userId"', "x"] });
    for (const value of ["{}", "[1]"]) {
      expect(pushdown(`event.data.userId == '${value}'`, "inngest").hint?.sqlite).toEqual({
        sql: "(json_extract(event, ?) = ? AND IFNULL(json_type(event, ?), '') = 'text')",
        params: ['$."data"."userId"', value, '$."data"."userId"'],
      });
    }
    // Numbers and booleans come back as INTEGER or REAL, never equal to TEXT.
    expect(pushdown("event.data.userId == '5'", "inngest").hint?.sqlite?.sql).toBe("IFNULL(json_extract(event, ?) = ?, 0)");
    // PostgreSQL: the field's text, byte for byte (a missing field, JSON null or a container on the way is NULL).
    expect(r.hint?.postgres).toEqual({
      sql: 'COALESCE((event -> $1::text ->> $2::text) COLLATE "C" = $3::text, FALSE)',
      params: ["data", "userId", "x"],
    });
    // A value a number, a boolean or a container could print as: one jsonb containment test instead
    // (another JSON type is not contained).
    for (const value of ["5", "-1", "true", "false", "{}", "[1]"]) {
      expect(pushdown(`event.data.userId == '${value}'`, "inngest").hint?.postgres).toEqual({
        sql: "COALESCE(event @> $1::jsonb, FALSE)",
        params: [JSON.stringify({ data: { userId: value } })],
      });
    }
    // At the top (`event == 'x'`, no path), a plain jsonb equality.
    expect(pushdown("event == 'x'", "cel").hint?.postgres).toEqual({ sql: "COALESCE(event = $1::jsonb, FALSE)", params: ['"x"'] });
  });

  it("number ordering: JSON numbers read as doubles (REAL / float8), casts guarded by the JSON type", () => {
    const r = pushdown("event.data.n >= 10", "cel");
    expect(r.coverage).toBe("full");
    expect(r.hint?.sqlite).toEqual({
      sql: "(CAST(json_extract(event, ?) AS REAL) >= ? AND IFNULL(json_type(event, ?), '') IN ('integer', 'real'))",
      params: ['$."data"."n"', 10, '$."data"."n"'],
    });
    expect(r.hint?.postgres).toEqual({
      sql:
        "CASE WHEN jsonb_typeof((event -> $1::text -> $2::text)) = 'number' " +
        "THEN ((event -> $1::text -> $2::text))::float8 >= $3::float8 ELSE FALSE END",
      params: ["data", "n", 10],
    });
  });

  it("inngest `<`: a missing field (unknown on the left) and null (compared as 0) are kept", () => {
    const r = pushdown("event.data.n < 5", "inngest");
    expect(r.coverage).toBe("full");
    expect(r.hint?.sqlite?.sql).toBe(
      "(IFNULL(json_type(event, ?), '') IN ('', 'null') OR " +
        "(CAST(json_extract(event, ?) AS REAL) < ? AND IFNULL(json_type(event, ?), '') IN ('integer', 'real')))",
    );
  });

  it("`in` a constant list: IN (…) in SQLite, = ANY(array) in PostgreSQL", () => {
    const r = pushdown("event.data.status in ['a', 'b']", "inngest");
    expect(r.coverage).toBe("full");
    expect(r.hint?.sqlite).toEqual({
      sql: "IFNULL(json_extract(event, ?) IN (?, ?), 0)",
      params: ['$."data"."status"', "a", "b"],
    });
    // A value a container could print as keeps the type test.
    expect(pushdown("event.data.status in ['a', '[]']", "inngest").hint?.sqlite?.sql).toBe(
      "(json_extract(event, ?) IN (?, ?) AND IFNULL(json_type(event, ?), '') = 'text')",
    );
    expect(r.hint?.postgres?.sql).toBe("COALESCE((event -> $1::text -> $2::text) = ANY($3::jsonb[]), FALSE)");
    expect(r.hint?.postgres?.params).toEqual(["data", "status", ['"a"', '"b"']]);
  });

  it("a long list is one JSON parameter in SQLite", () => {
    const values = Array.from({ length: 100 }, (_, i) => `'v${i}'`).join(", ");
    const r = pushdown(`event.name in [${values}]`, "cel");
    expect(r.hint?.sqlite?.sql).toBe("IFNULL(json_extract(event, ?) IN (SELECT value FROM json_each(?)), 0)");
    expect(JSON.parse(r.hint?.sqlite?.params[1] as string)).toHaveLength(100);
  });

  it("startsWith: byte prefix of the BLOB in SQLite (no escaping needed), escaped LIKE prefix in PostgreSQL", () => {
    const r = pushdown("event.data.name.startsWith('a%_!é')", "cel");
    expect(r.coverage).toBe("full");
    expect(r.hint?.sqlite).toEqual({
      sql: "(IFNULL(json_type(event, ?), '') = 'text' AND substr(CAST(json_extract(event, ?) AS BLOB), 1, ?) IS CAST(? AS BLOB))",
      params: ['$."data"."name"', '$."data"."name"', 6, "a%_!é"],
    });
    expect(r.hint?.postgres?.sql).toContain("LIKE $3::text ESCAPE '!'");
    expect(r.hint?.postgres?.params[2]).toBe("a!%!_!!é%");
  });

  it("contains: instr / strpos, never LIKE with user text", () => {
    const r = pushdown("event.data.name.contains('%')", "cel");
    expect(r.hint?.sqlite?.sql).toBe("(IFNULL(json_type(event, ?), '') = 'text' AND instr(json_extract(event, ?), ?) > 0)");
    expect(r.hint?.postgres?.sql).toContain("strpos(((event -> $1::text -> $2::text) #>> '{}'), $3::text) > 0");
  });

  it("has(): key presence; its negation also needs the parent to be an object when has() on a scalar errors", () => {
    expect(pushdown("has(event.data.user.email)", "inngest").hint?.sqlite).toEqual({
      sql: "json_type(event, ?) IS NOT NULL",
      params: ['$."data"."user"."email"'],
    });
    // By default (as cel-go) has() on a value without fields is false: `!has` holds there too.
    const lenient = pushdown("!has(event.data.x)", "cel");
    expect(lenient.coverage).toBe("full");
    expect(lenient.hint?.sqlite?.sql).toContain("json_type(event, ?) IS NULL");
    expect(lenient.hint?.sqlite?.sql).not.toBe("(IFNULL(json_type(event, ?), '') = 'object' AND json_type(event, ?) IS NULL)");
    const negated = pushdownFor(compile("!has(event.data.x)", { dialect: "cel", errorOnBadPresenceTest: true }));
    expect(negated.coverage).toBe("full");
    expect(negated.hint?.sqlite?.sql).toBe("(IFNULL(json_type(event, ?), '') = 'object' AND json_type(event, ?) IS NULL)");
    expect(negated.hint?.postgres?.sql).toBe("(COALESCE(jsonb_typeof((event -> $1::text)), '') = 'object' AND (event -> $1::text -> $2::text) IS NULL)");
  });

  it("calls of extension libraries are not pushed down: the prefilter keeps every run they could match", () => {
    const math = pushdownFor(compile("math.greatest(event.data.scores) > 90 && event.data.plan == 'pro'", { dialect: "cel", extensions: ["math"] }));
    expect(math.coverage).toBe("partial");
    expect(JSON.stringify(math.hint?.sqlite)).not.toContain("scores");
    expect(JSON.stringify(math.hint?.sqlite)).toContain("plan");
    const optional = pushdownFor(compile("event.data.?plan.orValue('free') == 'pro'", { dialect: "cel", extensions: ["optionals"] }));
    expect(optional.coverage).toBe("none");
    expect(optional.hint).toBeUndefined();
    const either = pushdownFor(compile("event.data.plan == 'pro' || sets.contains(event.data.tags, ['x'])", { dialect: "cel", extensions: ["sets"] }));
    expect(either.coverage).toBe("none");
    const bound = pushdownFor(compile("cel.bind(p, event.data.plan, p == 'pro')", { dialect: "cel", extensions: ["bindings"] }));
    expect(bound.coverage).toBe("none");
  });

  it("keys with dots, quotes, brackets and any Unicode are quoted JSON-style in SQLite paths and bound as text in PostgreSQL", () => {
    const r = pushdown(`event.data['a.b']['q"k'] == true`, "cel");
    expect(r.hint?.sqlite).toEqual({ sql: "IFNULL(json_type(event, ?), '') = 'true'", params: ['$."data"."a.b"."q\\"k"'] });
    expect(r.hint?.postgres?.params).toEqual(["data", "a.b", 'q"k']);
  });

  it("size(): string code points, array length, object key count; partial because SQLite's length() stops at NUL", () => {
    const r = pushdown("size(event.data.tags) == 2", "inngest");
    expect(r.coverage).toBe("partial");
    expect(r.hint?.sqlite?.sql).toContain("json_array_length(event, ?) = ?");
    expect(r.hint?.sqlite?.sql).toContain("(SELECT count(*) FROM json_each(event, ?)) = ?");
    expect(r.hint?.postgres?.sql).toContain("jsonb_array_length((event -> $1::text -> $2::text)) = $3::float8");
    expect(translate(compile("size(event.data.tags) == 2", { dialect: "inngest" }).ast, "postgres", "inngest")?.exact).toBe(true);
    expect(translate(compile("size(event.data.tags) == 2", { dialect: "inngest" }).ast, "sqlite", "inngest")?.exact).toBe(false);
  });

  it("coverage: partial when a subtree is untranslatable, none when nothing is, full without a hint for `true`", () => {
    const partial = pushdown("event.data.a == 1 && event.data.b.matches('x')", "cel");
    expect(partial.coverage).toBe("partial");
    expect(partial.hint?.sqlite?.sql).toBe("(CAST(json_extract(event, ?) AS REAL) = ? AND IFNULL(json_type(event, ?), '') IN ('integer', 'real'))");
    expect(pushdown("event.data.b.matches('x')", "cel")).toEqual({ coverage: "none" });
    expect(pushdown("event.data.a == 1 || event.data.b.matches('x')", "cel")).toEqual({ coverage: "none" });
    expect(pushdown("true", "inngest")).toEqual({ coverage: "full" });
    expect(pushdown("event.data.x == 1 || true", "cel")).toEqual({ coverage: "full" });
    expect(pushdown("false", "cel")).toEqual({ hint: { sqlite: { sql: "0", params: [] }, postgres: { sql: "FALSE", params: [] } }, coverage: "full" });
    expect(pushdown("async.x == 1", "inngest")).toEqual({ coverage: "none" });
    expect(pushdown("vars.x == 1", "inngest")).toEqual({ coverage: "none" });
  });

  it("`!` of an untranslatable subtree is not negated: it stays TRUE", () => {
    expect(pushdown("!event.data.b.matches('x')", "cel")).toEqual({ coverage: "none" });
    const r = pushdown("!(event.data.a == 1 && event.data.b.matches('x'))", "cel");
    // !(A && X) is true where A is false (whatever X is) or where X is false: X unknown → TRUE.
    expect(r).toEqual({ coverage: "none" });
  });

  it("NaN and Infinity literals (a folded constant can hold them): NaN compares false and unequal, never bound", () => {
    const withLiteral = (source: string, dialect: DialectName, value: number): CheckedAst => {
      const ast = compile(source, { dialect }).ast;
      const call = ast.expr as CallExpr;
      const replaced: Expr = { kind: "const", id: call.args[1]!.id, value: { kind: "double", value } };
      return { ...ast, expr: { ...call, args: [call.args[0]!, replaced] } };
    };
    const sql = (ast: CheckedAst, dialect: DialectName, target: Target) => translate(ast, target, dialect);
    expect(sql(withLiteral("event.data.x < 1.5", "cel", NaN), "cel", "sqlite")).toEqual({ sql: "0", params: [], exact: true });
    expect(sql(withLiteral("event.data.x == 1.5", "cel", NaN), "cel", "postgres")).toEqual({ sql: "FALSE", params: [], exact: true });
    // Unequal to everything present (cel: a missing field is an error).
    expect(sql(withLiteral("event.data.x != 1.5", "cel", NaN), "cel", "sqlite")).toEqual({ sql: "json_type(event, ?) IS NOT NULL", params: ['$."data"."x"'], exact: true });
    // inngest: only the missing field (unknown on the left of <) is kept.
    expect(sql(withLiteral("event.data.x < 1.5", "inngest", NaN), "inngest", "sqlite")).toEqual({ sql: "json_type(event, ?) IS NULL", params: ['$."data"."x"'], exact: true });
    const infinite = sql(withLiteral("event.data.x < 1.5", "cel", Infinity), "cel", "postgres");
    expect(infinite?.params).toEqual(["data", "x", Infinity]);
  });

  it("keep: 'notFalse' also keeps errors and non-booleans (for a planner that counts dropped rows as not matched)", () => {
    const notFalse = (source: string, dialect: DialectName) => pushdownFor(compile(source, { dialect }), { keep: "notFalse" });
    // cel: a missing field is an error, which must reach the closure to be counted.
    expect(notFalse("event.data.userId == 'x'", "cel").hint?.sqlite?.sql).toBe(
      "(IFNULL(json_extract(event, ?) = ?, 0) OR json_type(event, ?) IS NULL)",
    );
    // inngest: the comparison is never an error, so nothing more is kept.
    expect(notFalse("event.data.userId == 'x'", "inngest")).toEqual(pushdown("event.data.userId == 'x'", "inngest"));
    // A bare field: non-booleans are kept; a missing field (unknown, false at the top) and false are not.
    const flag = notFalse("event.data.flag", "inngest");
    expect(flag.coverage).toBe("full");
    expect(flag.hint?.sqlite?.sql).toBe("IFNULL(json_type(event, ?), '') NOT IN ('', 'false')");
    expect(notFalse("event.data.b.matches('x')", "cel")).toEqual({ coverage: "none" });
  });

  it("user text never reaches the SQL text", () => {
    const hostile = "'; DROP TABLE runs; -- $1 ? \\";
    const r = pushdown(`event.data["${hostile.replace(/\\/g, "\\\\")}"] > "${hostile.replace(/\\/g, "\\\\")}"`, "cel");
    for (const target of ["sqlite", "postgres"] as const) {
      expect(r.hint?.[target]?.sql).not.toContain("DROP");
      expect(r.hint?.[target]?.params).toContain(hostile);
    }
    // An equality's keys and value are text parameters on PostgreSQL (one, when they are the same text)…
    const equality = pushdown(`event.data["${hostile.replace(/\\/g, "\\\\")}"] == "${hostile.replace(/\\/g, "\\\\")}"`, "cel");
    expect(equality.hint?.postgres?.sql).not.toContain("DROP");
    expect(equality.hint?.postgres?.params).toEqual(["data", hostile]);
    // …or, for a value a number could print as, travel inside one JSON parameter.
    const numberLike = `1${hostile}`;
    const containment = pushdown(`event.data["${hostile.replace(/\\/g, "\\\\")}"] == "${numberLike.replace(/\\/g, "\\\\")}"`, "cel");
    expect(containment.hint?.postgres?.sql).not.toContain("DROP");
    expect(containment.hint?.postgres?.params).toEqual([JSON.stringify({ data: { [hostile]: numberLike } })]);
  });

  it("the same SQL text for the same shape (stores cache statements by it)", () => {
    const a = pushdown("event.data.userId == 'x' && event.data.n > 1", "inngest");
    const b = pushdown("event.data.other == 'y' && event.data.m > 2.5", "inngest");
    expect(a.hint?.sqlite?.sql).toBe(b.hint?.sqlite?.sql);
    expect(a.hint?.postgres?.sql).toBe(b.hint?.postgres?.sql);
  });
});

// =============================================================================================
// Predicate helpers
// =============================================================================================

describe("predicate helpers", () => {
  it("sqliteJsonPath quotes every key as a JSON string", () => {
    expect(sqliteJsonPath([])).toBe("$");
    expect(sqliteJsonPath(["data", "a.b", 'q"k', "[0]", "\\", "", "é😀"])).toBe('$."data"."a.b"."q\\"k"."[0]"."\\\\".""."é😀"');
  });

  it("escapeLike escapes %, _ and the escape character", () => {
    expect(escapeLike("a%b_c!d")).toBe("a!%b!_c!!d");
    expect(escapeLike("plain")).toBe("plain");
  });

  it("and/or simplify constants, merge kind tests of one path, and keep `unknown` sound", () => {
    const p = ["data", "x"];
    expect(and(TRUE, kindIs(p, ["null"]))).toEqual(kindIs(p, ["null"]));
    expect(and(FALSE, UNKNOWN)).toBe(FALSE);
    expect(or(TRUE, UNKNOWN)).toBe(TRUE);
    expect(or(FALSE, UNKNOWN)).toBe(UNKNOWN);
    expect(or(kindIs(p, ["null"]), kindIs(p, ["missing"]))).toEqual(kindIs(p, ["missing", "null"]));
    expect(and(kindIs(p, ["null", "string"]), kindIs(p, ["string", "number"]))).toEqual(kindIs(p, ["string"]));
    expect(and(kindIs(p, ["null"]), kindIs(p, ["string"]))).toBe(FALSE);
    expect(or(kindIs(p, ["missing", "null", "true", "false"]), kindIs(p, ["number", "string", "array", "object"]))).toBe(TRUE);
    const anded = and(kindIs(p, ["number"]), UNKNOWN);
    expect(isExactFor(anded, "sqlite")).toBe(false);
    expect(renderPredicate(anded, "sqlite").sql).toBe("IFNULL(json_type(event, ?), '') IN ('integer', 'real')");
    expect(notAtom({ k: "kind", path: p, kinds: ["null"] })).toEqual(kindIs(p, ["missing", "true", "false", "number", "string", "array", "object"]));
  });

  it("gives up (unknown) above the size limit instead of rendering huge SQL", () => {
    let p: Pred = atom({ k: "num", path: ["data", "n"], op: "==", value: 0 });
    for (let i = 1; p !== UNKNOWN && i < 100; i++) p = or(and(p, atom({ k: "num", path: ["data", "m"], op: "==", value: i })), p);
    expect(p).toBe(UNKNOWN);
    expect(MAX_PREDICATE_SIZE).toBeGreaterThan(100);
  });

  // Blow-ups show as SQL past the size bound (or as the test's timeout), not as a wall-clock
  // bound, which a loaded machine can break.
  it("translates pathological expressions soundly, within the SQL size bound", () => {
    const chain = Array.from({ length: 400 }, (_, i) => `event.data.k${i % 7} == ${i}`).join(" || ");
    let nested = "event.data.a == 1";
    for (let i = 0; i < 25; i++) nested = `!(event.data.c${i % 3} ? (${nested}) : (event.data.d${i % 4} || event.data.e == ${i}))`;
    let nots = "event.data.flag";
    for (let i = 0; i < 40; i++) nots = `!(${nots} || event.data.x${i % 5} < ${i})`;
    for (const source of [chain, nested, nots]) {
      for (const dialect of ["cel", "inngest"] as const) {
        const r = pushdown(source, dialect);
        expect(["full", "partial", "none"]).toContain(r.coverage);
        for (const target of ["sqlite", "postgres"] as const) expect(r.hint?.[target]?.sql.length ?? 0).toBeLessThan(2_000_000);
      }
    }
  });
});

// =============================================================================================
// Behaviour: the type traps, on both databases
// =============================================================================================

interface BehaviourCase {
  readonly name: string;
  readonly dialect: DialectName;
  readonly if: string;
  readonly coverage: PushdownResult["coverage"];
  /** Which rows the predicate keeps (default: matching). */
  readonly keep?: "notFalse";
  /** Each row: an event's `data` (or the whole event with `name`), and whether the SQL keeps it (`undefined`: only the superset check). */
  readonly rows: readonly (readonly [Record<string, unknown>, boolean | undefined])[];
}

const MISSING = {};

/** The type traps, one case each; every row is also checked against the engine (superset, and exact when full). */
const CASES: readonly BehaviourCase[] = [
  {
    name: "cel: an int literal equals a JSON number written with or without a fraction, never a numeric string",
    dialect: "cel",
    if: "event.data.x == 5",
    coverage: "full",
    rows: [[{ x: 5 }, true], [{ x: 5.5 }, false], [{ x: "5" }, false], [MISSING, false], [{ x: null }, false], [{ x: true }, false]],
  },
  {
    name: "inngest: a string literal never equals a number",
    dialect: "inngest",
    if: "event.data.x == '5'",
    coverage: "full",
    rows: [[{ x: "5" }, true], [{ x: 5 }, false], [MISSING, false], [{ x: "05" }, false]],
  },
  {
    name: "a string literal never equals a boolean, number, object or array that prints as it",
    dialect: "cel",
    if: "event.data.x == 'true' || event.data.x == '-1.5' || event.data.x == '{\"a\": 1}' || event.data.x == '[1, 2]' || event.data.x == '7' || event.data.x == '{\"b\":2}' || event.data.x == '[3,4]'",
    coverage: "full",
    rows: [
      [{ x: true }, false],
      [{ x: -1.5 }, false],
      [{ x: { a: 1 } }, false],
      [{ x: [1, 2] }, false],
      [{ x: 7 }, false],
      [{ x: "true" }, true],
      [{ x: "-1.5" }, true],
      [{ x: '{"a": 1}' }, true],
      [{ x: "[1, 2]" }, true],
      [{ x: "7" }, true],
      // SQLite's json_extract answers a container as its compact JSON text, exactly these literals.
      [{ x: { b: 2 } }, false],
      [{ x: [3, 4] }, false],
      [{ x: '{"b":2}' }, true],
      [{ x: "[3,4]" }, true],
    ],
  },
  {
    name: "a string equality below the top: only a string field at that path of objects equals it",
    dialect: "inngest",
    if: "event.data.a.b == 'x'",
    coverage: "full",
    rows: [
      [{ a: { b: "x" } }, true],
      [{ a: { b: "X" } }, false],
      [{ a: { b: "x " } }, false],
      [{ a: { b: ["x"] } }, false],
      [{ a: { b: { x: 1 } } }, false],
      [{ a: { b: null } }, false],
      [{ a: [{ b: "x" }] }, false],
      [{ a: "x" }, false],
      [{ a: {} }, false],
      [MISSING, false],
    ],
  },
  {
    name: "inngest: a missing field is less than anything on the left of <; null is compared as 0; strings are errors",
    dialect: "inngest",
    if: "event.data.x < 5",
    coverage: "full",
    rows: [[MISSING, true], [{ x: null }, true], [{ x: 4 }, true], [{ x: 5 }, false], [{ x: "4" }, false], [{ x: true }, false], [{ x: [] }, false]],
  },
  {
    name: "inngest: on the right of <, a missing field is greater than everything",
    dialect: "inngest",
    if: "5 < event.data.x",
    coverage: "full",
    rows: [[MISSING, false], [{ x: null }, false], [{ x: 6 }, true], [{ x: 5 }, false]],
  },
  {
    name: "inngest: a null literal in an ordering is the other side's zero value",
    dialect: "inngest",
    if: "event.data.x > null",
    coverage: "full",
    rows: [[{ x: 3 }, true], [{ x: -1 }, false], [{ x: "" }, false], [{ x: "a" }, true], [{ x: null }, false], [MISSING, false], [{ x: true }, false]],
  },
  {
    name: "cel: a missing field makes a comparison an error, and its negation too",
    dialect: "cel",
    if: "!(event.data.x == 1)",
    coverage: "full",
    rows: [[MISSING, false], [{ x: 2 }, true], [{ x: "1" }, true], [{ x: 1 }, false], [{ x: null }, true]],
  },
  {
    name: "inngest: a comparison with a missing field is false, so its negation is true",
    dialect: "inngest",
    if: "!(event.data.x == 1)",
    coverage: "full",
    rows: [[MISSING, true], [{ x: 1 }, false], [{ x: 2 }, true]],
  },
  {
    name: "inngest: missing == null, missing != 'a'",
    dialect: "inngest",
    if: "event.data.x == null && event.data.y != 'a'",
    coverage: "full",
    rows: [[MISSING, true], [{ x: null, y: "b" }, true], [{ x: 0 }, false], [{ y: "a" }, false]],
  },
  {
    name: "inngest: || returns an operand by truthiness; only the boolean true matches",
    dialect: "inngest",
    if: "event.data.x || event.data.y == 1",
    coverage: "full",
    rows: [[{ x: true }, true], [{ x: "str", y: 1 }, false], [{ x: "", y: 1 }, true], [{ y: 1 }, true], [{ x: 0, y: 2 }, false], [{ x: [], y: 1 }, false], [{ x: null, y: 1 }, true]],
  },
  {
    name: "inngest: && returns the left operand when it is falsy",
    dialect: "inngest",
    if: "!(event.data.x && event.data.y == 1)",
    coverage: "full",
    rows: [[{ x: false }, true], [{ x: true, y: 2 }, true], [{ x: true, y: 1 }, false], [MISSING, false], [{ x: "s", y: 2 }, true], [{ x: 0 }, false]],
  },
  {
    name: "inngest: the ternary tests truthiness",
    dialect: "inngest",
    if: "event.data.c ? event.data.x == 1 : event.data.y == 2",
    coverage: "full",
    rows: [[{ c: "yes", x: 1 }, true], [{ c: "", y: 2 }, true], [{ y: 2 }, true], [{ c: 0, x: 1 }, false], [{ c: [], x: 1 }, true]],
  },
  {
    name: "JSON integers above 2^53: SQLite reads the digits as INTEGER; compared as REAL they equal the double JSON.parse gives",
    dialect: "cel",
    if: "event.data.n == 1152921504606846976 && event.data.m == 1e21",
    coverage: "full",
    rows: [[{ n: 2 ** 60, m: 1e21 }, true], [{ n: 2 ** 60 + 256, m: 1e21 }, false]],
  },
  {
    name: "an int literal a double cannot hold compares as the engine compares it",
    dialect: "cel",
    if: "event.data.n == 9007199254740993 || event.data.n < -9223372036854775807",
    coverage: "full",
    rows: [[{ n: 9007199254740992 }, undefined], [{ n: 9007199254740994 }, undefined], [{ n: -9223372036854775808 }, undefined], [{ n: 1 }, false]],
  },
  {
    name: "-0.0 equals 0",
    dialect: "cel",
    if: "event.data.x == -0.0",
    coverage: "full",
    rows: [[{ x: 0 }, true], [{ x: -0 }, true], [{ x: 1e-300 }, false]],
  },
  {
    name: "startsWith: LIKE wildcards in the prefix are literal, matching is case-sensitive",
    dialect: "cel",
    if: "event.data.s.startsWith('a%_')",
    coverage: "full",
    rows: [[{ s: "a%_b" }, true], [{ s: "a%_" }, true], [{ s: "abc" }, false], [{ s: "a%" }, false], [{ s: "A%_" }, false], [{ s: "" }, false], [{ s: 5 }, false], [MISSING, false]],
  },
  {
    name: "endsWith",
    dialect: "inngest",
    if: "event.data.s.endsWith('_z')",
    coverage: "full",
    rows: [[{ s: "x_z" }, true], [{ s: "_z" }, true], [{ s: "xyz" }, false], [{ s: "z" }, false], [{ s: "" }, false], [MISSING, false]],
  },
  {
    name: "contains is literal (no wildcards)",
    dialect: "inngest",
    if: "event.data.s.contains('%')",
    coverage: "full",
    rows: [[{ s: "50%" }, true], [{ s: "50" }, false], [{ s: "%" }, true]],
  },
  {
    name: "size counts code points (not UTF-16 units), elements and keys; a missing field has size 0 in inngest",
    dialect: "inngest",
    if: "size(event.data.s) == 2",
    coverage: "partial",
    rows: [
      [{ s: "😀😀" }, true], [{ s: "ab" }, true], [{ s: "é" }, false], [{ s: "e\u0301" }, true], [{ s: ["a", "b"] }, true],
      [{ s: { a: 1, b: 2 } }, true], [{ s: "abc" }, false], [{ s: null }, false], [MISSING, false], [{ s: 22 }, false],
    ],
  },
  {
    name: "size(missing) == 0 in inngest",
    dialect: "inngest",
    if: "size(event.data.s) == 0",
    coverage: "partial",
    rows: [[MISSING, true], [{ s: "" }, true], [{ s: [] }, true], [{ s: null }, false], [{ s: "a" }, false]],
  },
  {
    name: "inngest has(): false for a missing or null parent",
    dialect: "inngest",
    if: "has(event.data.a.b)",
    coverage: "full",
    rows: [[{ a: { b: null } }, true], [{ a: {} }, false], [{ a: null }, false], [MISSING, false], [{ a: 5 }, false]],
  },
  {
    name: "cel !has(): true when the parent has no fields (null, a list), an error when it is missing",
    dialect: "cel",
    if: "!has(event.data.a.b)",
    coverage: "full",
    rows: [[{ a: {} }, true], [{ a: null }, true], [MISSING, false], [{ a: { b: 1 } }, false], [{ a: [] }, true], [{ a: 5 }, true]],
  },
  {
    name: "odd keys are found, and a dotted key is not a path",
    dialect: "cel",
    if:
      "event.data['a.b'] == 1 && event.data['q\"x'] == 2 && event.data['[0]'] == 3 && event.data['é😀'] == 4 && event.data[''] == 5 && " +
      "event.data['\\\\'] == 6 && event.data['t\tab\x01'] == 7 && event.data.__proto__ == 8 && event.data['constructor'] == 9 && event.data['$'] == 10",
    coverage: "full",
    rows: [
      [{ "a.b": 1, 'q"x': 2, "[0]": 3, "é😀": 4, "": 5, "\\": 6, "t\tab\u0001": 7, ["__proto__"]: 8, constructor: 9, $: 10 }, true],
      [{ a: { b: 1 }, 'q"x': 2, "[0]": 3, "é😀": 4, "": 5, "\\": 6, "t\tab\u0001": 7, ["__proto__"]: 8, constructor: 9, $: 10 }, false],
      [{ "a.b": 1, 'q"x': 2, "[0]": 3, "é😀": 4, "": 5, "t\tab\u0001": 7, ["__proto__"]: 8, constructor: 9, $: 10 }, false],
      [{ "a.b": 1, 'q"x': 2, "[0]": 3, "é😀": 4, "": 5, "\\": 6, "t\tab\u0001": 7, constructor: 9, $: 10 }, false],
    ],
  },
  {
    name: "`k in field`: an array element or an object key; a string container is an error",
    dialect: "cel",
    if: "'x' in event.data.tags",
    coverage: "full",
    rows: [[{ tags: ["x"] }, true], [{ tags: ["y", "x"] }, true], [{ tags: { x: 0 } }, true], [{ tags: ["X"] }, false], [{ tags: "x" }, false], [{ tags: [] }, false], [{ tags: [["x"]] }, false]],
  },
  {
    name: "`number in field`: element equality is numeric",
    dialect: "inngest",
    if: "2 in event.data.tags",
    coverage: "full",
    rows: [[{ tags: [1, 2.0] }, true], [{ tags: ["2"] }, false], [{ tags: { "2": 1 } }, false], [MISSING, false]],
  },
  {
    name: "`field in [mixed list]`: per-type equality; a missing field is never in a list (not even [null])",
    dialect: "inngest",
    if: "event.data.x in [1, 'a', null]",
    coverage: "full",
    rows: [[{ x: 1 }, true], [{ x: "a" }, true], [{ x: null }, true], [MISSING, false], [{ x: "1" }, false], [{ x: true }, false]],
  },
  {
    name: "inngest indexing: x['k'] on an unknown is the boolean false (the engine compiles [] as a call)",
    dialect: "inngest",
    if: "event.data.zz['a'] == false",
    coverage: "full",
    rows: [[MISSING, true], [{ zz: {} }, false], [{ zz: { a: false } }, true], [{ zz: { a: true } }, false], [{ zz: 5 }, false]],
  },
  {
    name: "string order is code-point order (UTF-16 order differs above U+FFFF)",
    dialect: "cel",
    if: "event.data.s > '\uffff'",
    coverage: "full",
    rows: [[{ s: "😀" }, true], [{ s: "\ue000" }, false], [{ s: "\uffff" }, false], [{ s: "\uffffa" }, true]],
  },
  {
    name: "a comparison next to an untranslatable call keeps every candidate",
    dialect: "cel",
    if: "event.data.x == 1 && event.data.y.matches('^a')",
    coverage: "partial",
    rows: [[{ x: 1, y: "abc" }, true], [{ x: 1, y: "bcd" }, true], [{ x: 2, y: "abc" }, false]],
  },
  {
    name: "notFalse: string functions on non-strings are errors, kept for the closure to count",
    dialect: "inngest",
    keep: "notFalse",
    if: "event.data.s.startsWith('a')",
    coverage: "full",
    rows: [[{ s: "abc" }, true], [{ s: "b" }, false], [MISSING, false], [{ s: 5 }, true], [{ s: null }, true], [{ s: [] }, true]],
  },
  {
    name: "notFalse: `||` may return a non-boolean operand",
    dialect: "inngest",
    keep: "notFalse",
    if: "event.data.x || event.data.y == 1",
    coverage: "full",
    rows: [[{ x: true }, true], [{ x: "str" }, true], [{ x: "", y: 2 }, false], [{ y: 2 }, false], [{ x: [] }, true], [{ x: 0, y: 1 }, true]],
  },
  {
    name: "notFalse: cel errors on missing fields and type mismatches",
    dialect: "cel",
    keep: "notFalse",
    if: "!(event.data.x < 5) && event.name == 'test/event'",
    coverage: "full",
    rows: [[{ x: 5 }, true], [{ x: 4 }, false], [MISSING, true], [{ x: "a" }, true], [{ x: null }, true]],
  },
  {
    name: "a boolean node compared with a boolean literal",
    dialect: "inngest",
    if: "(event.data.issue in ['Bug', 'Epic']) == true && has(event.data.x) == false",
    coverage: "full",
    rows: [[{ issue: "Bug" }, true], [{ issue: "Bug", x: 1 }, false], [{ issue: "Task" }, false]],
  },
];

/** SQLite-only rows: strings holding NUL (jsonb cannot store them; the PostgreSQL store keeps such events unfiltered). */
const SQLITE_NUL_CASES: readonly BehaviourCase[] = [
  {
    name: "NUL inside strings: equality, order, prefix, suffix and contains compare whole strings",
    dialect: "cel",
    if: "event.data.s == 'ab' || event.data.t.startsWith('ab') || event.data.u.contains('c') || event.data.v.endsWith('z') || event.data.w < 'a!'",
    coverage: "full",
    rows: [
      [{ s: "a\u0000b" }, false], [{ s: "ab" }, true], [{ t: "ab\u0000" }, true], [{ t: "a\u0000b" }, false], [{ u: "ab\u0000c" }, true],
      [{ u: "ab\u0000" }, false], [{ v: "a\u0000z" }, true], [{ v: "z\u0000" }, false], [{ w: "a\u0000z" }, true], [{ w: "a!\u0000" }, false],
    ],
  },
  {
    name: "a literal holding NUL is not translated (PostgreSQL text cannot bind it)",
    dialect: "cel",
    if: "event.data.s == 'a\\x00b'",
    coverage: "partial",
    rows: [[{ s: "a\u0000b" }, true], [{ s: 5 }, false]],
  },
  {
    name: "NUL inside strings: SQLite's length() stops there, so such strings are kept for size()",
    dialect: "cel",
    if: "size(event.data.s) == 5",
    coverage: "partial",
    rows: [[{ s: "ab\u0000cd" }, true], [{ s: "a\u0000" }, true], [{ s: "abc" }, false]],
  },
];

function eventOf(row: Record<string, unknown>): RunEvent {
  return { name: "test/event", data: row };
}

type Keep = (predicate: { sql: string; params: readonly unknown[] }, events: readonly RunEvent[]) => Promise<{ event: RunEvent; kept: boolean }[]>;

function behaviourTests(target: Target, cases: readonly BehaviourCase[], keep: () => Keep): void {
  for (const c of cases) {
    it(`${c.dialect}: ${c.name}`, async () => {
      const program = compile(c.if, { dialect: c.dialect });
      const options = { keep: c.keep ?? "matching" } as const;
      const result = pushdownFor(program, options);
      expect(result.coverage).toBe(c.coverage);
      const translated = translate(program.ast, target, c.dialect, options);
      const predicate = translated ?? { sql: target === "sqlite" ? "1" : "TRUE", params: [], exact: true };
      const rows = await keep()(predicate, c.rows.map(([data]) => eventOf(data)));
      rows.forEach(({ event, kept }, i) => {
        const expected = c.rows[i]![1];
        const decision = program.decide({ event });
        const matches = c.keep === "notFalse" ? decision !== "no_match" : decision === "match";
        const label = JSON.stringify(event.data);
        if (expected !== undefined) expect(kept, `kept ${label}`).toBe(expected);
        if (matches) expect(kept, `superset: ${label} matches`).toBe(true);
        if (predicate.exact) expect(kept, `exact: ${label}`).toBe(matches);
      });
    });
  }
}

describe("behaviour on SQLite", () => {
  const db = new Database(":memory:");
  db.exec("CREATE TABLE runs (id INTEGER PRIMARY KEY, batch INTEGER NOT NULL, event TEXT NOT NULL)");
  let batch = 0;
  afterAll(() => db.close());
  const keep: Keep = async (predicate, events) => {
    batch += 1;
    const insert = db.prepare("INSERT INTO runs (batch, event) VALUES (?, ?)");
    for (const event of events) insert.run(batch, JSON.stringify(event));
    const rows = db.prepare(`SELECT event, (${predicate.sql}) AS hit FROM runs WHERE batch = ? ORDER BY id`).all(...predicate.params, batch) as {
      event: string;
      hit: unknown;
    }[];
    return rows.map((row) => {
      expect(row.hit === 0 || row.hit === 1, `hit is ${String(row.hit)}`).toBe(true);
      return { event: JSON.parse(row.event) as RunEvent, kept: row.hit === 1 };
    });
  };
  behaviourTests("sqlite", [...CASES, ...SQLITE_NUL_CASES], () => keep);
});

// =============================================================================================
// Through the stores
// =============================================================================================

const WINDOW = { appId: "app", functionId: "fn", startedBefore: 2_000_000_000_000 } as const;

function runsFor(events: readonly RunEvent[]): RunRecord[] {
  return events.map((event, i) => ({
    id: `R${String(i).padStart(6, "0")}`,
    appId: "app",
    functionId: "fn",
    startedAt: 1_700_000_000_000 + Math.floor(i / 3),
    status: "running",
    event,
  }));
}

/** Scans the whole window with a hint; returns the run ids kept and the count the store says it dropped. */
async function scanWithHint(store: SqliteRunStore | PostgresRunStore, hint: ScanQuery["pushdown"], limit: number): Promise<{ ids: string[]; prefiltered: number; read: number }> {
  const ids: string[] = [];
  let prefiltered = 0;
  let after: ScanQuery["after"];
  for (;;) {
    const page = await store.scanRuns({ ...WINDOW, limit, ...(hint === undefined ? {} : { pushdown: hint }), ...(after === undefined ? {} : { after }) });
    ids.push(...page.runs.map((run) => run.id));
    prefiltered += page.prefiltered ?? 0;
    if (page.next === undefined) break;
    after = page.next;
  }
  return { ids, prefiltered, read: ids.length + prefiltered };
}

const STORE_EVENTS: readonly RunEvent[] = [
  ...CASES.flatMap((c) => c.rows.map(([data]) => eventOf(data))),
  ...Array.from({ length: 300 }, (_, i) => ({
    name: i % 2 === 0 ? "app/a" : "app/b",
    data: { userId: i % 10 === 0 ? "x" : `u${i}`, n: i % 17, tags: i % 3 === 0 ? ["vip"] : [], s: i % 5 === 0 ? null : `s${i}` },
  })),
];

const STORE_EXPRESSIONS: readonly (readonly [string, DialectName])[] = [
  ["event.data.userId == 'x'", "inngest"],
  ["event.data.n < 5 || 'vip' in event.data.tags", "inngest"],
  ["!(event.data.x == 1) && event.name.startsWith('app/')", "cel"],
  ["event.data.s == null", "inngest"],
  ["size(event.data.tags) > 0 && event.data.userId.matches('^u1')", "cel"],
];

async function storeIntegration(store: SqliteRunStore | PostgresRunStore, target: Target): Promise<void> {
  const runs = runsFor(STORE_EVENTS);
  await store.insertRuns(runs);
  for (const [source, dialect] of STORE_EXPRESSIONS) {
    const program = compile(source, { dialect });
    const { hint, coverage } = pushdownHint(program);
    expect(hint?.predicate, source).toBeDefined();
    const expected = runs.filter((run) => program.matches({ event: run.event })).map((run) => run.id);
    const scanned = await scanWithHint(store, hint, 64);
    expect(scanned.read, source).toBe(runs.length);
    // Every match is returned; with full coverage, nothing else.
    expect(scanned.ids.filter((id) => expected.includes(id)), source).toEqual(expected);
    if (coverage === "full") expect(scanned.ids, source).toEqual(expected);
    expect(scanned.ids.length, source).toBeLessThan(runs.length);
  }
}

describe("through SqliteRunStore.scanRuns", () => {
  it("returns every matching run and counts the rest as prefiltered", async () => {
    const store = new SqliteRunStore({ path: ":memory:" });
    try {
      await storeIntegration(store, "sqlite");
    } finally {
      await store.close();
    }
  });

  it("measurement: `event.data.userId == 'x'` over 20,000 runs reads the window but returns only the matches", async () => {
    const store = new SqliteRunStore({ path: ":memory:" });
    try {
      const events = Array.from({ length: 20_000 }, (_, i) => ({ name: "app/order", data: { userId: i % 1000 === 0 ? "x" : `user-${i % 997}`, amount: i } }));
      const runs = runsFor(events);
      await store.insertRuns(runs);
      const { hint, coverage } = pushdownHint(compile("event.data.userId == 'x'", { dialect: "inngest" }));
      expect(coverage).toBe("full");
      const scanned = await scanWithHint(store, hint, 1000);
      expect(scanned.ids).toHaveLength(20);
      expect(scanned.prefiltered).toBe(19_980);
    } finally {
      await store.close();
    }
  });
});

// =============================================================================================
// PostgreSQL
// =============================================================================================

/** jsonb cannot hold a NUL character in a string. */
function fitsJsonb(event: RunEvent): boolean {
  return !JSON.stringify(event).includes("\\u0000");
}

await describePostgres("pushdown on PostgreSQL", ({ url, newSchema }) => {
  const client = new pg.Client({ connectionString: url });
  let batch = 0;
  beforeAll(async () => {
    const schema = newSchema();
    await client.connect();
    await client.query(`CREATE SCHEMA ${client.escapeIdentifier(schema)}`);
    await client.query(`SET search_path TO ${client.escapeIdentifier(schema)}`);
    await client.query("CREATE TABLE runs (id serial PRIMARY KEY, batch int NOT NULL, event jsonb NOT NULL)");
  });
  afterAll(async () => {
    await client.end();
  });

  const keep: Keep = async (predicate, events) => {
    batch += 1;
    for (const event of events) {
      expect(fitsJsonb(event)).toBe(true);
      await client.query("INSERT INTO runs (batch, event) VALUES ($1, $2::jsonb)", [batch, JSON.stringify(event)]);
    }
    const { rows } = await client.query<{ event: RunEvent; hit: unknown }>(
      `SELECT event, (${predicate.sql}) AS hit FROM runs WHERE batch = $${predicate.params.length + 1} ORDER BY id`,
      [...predicate.params, batch],
    );
    return rows.map((row) => {
      expect(typeof row.hit, `hit is ${String(row.hit)}`).toBe("boolean");
      return { event: row.event, kept: row.hit === true };
    });
  };

  describe("behaviour", () => {
    behaviourTests("postgres", CASES, () => keep);
  });

  it("through PostgresRunStore.scanRuns: every matching run is returned, the rest prefiltered", async () => {
    const store = new PostgresRunStore({ connectionString: url, schema: newSchema(), poolSize: 2 });
    try {
      await store.migrate();
      await storeIntegration(store, "postgres");
    } finally {
      await store.close();
    }
  });
});
