/**
 * The pushdown guarantee, proved by generated cases on both databases: for expressions in both
 * dialects and events with missing keys, nulls, mixed types, nested objects and arrays, every
 * event the compiled program matches is kept by the SQL predicate; the predicate is never NULL;
 * and where the translation claims to be exact, SQL keeps exactly the matching events. The same
 * holds for the `notFalse` predicate and the events on which the program is not `false`
 * (matches, errors, non-booleans).
 *
 * The events are stored in a bare table (`event` as TEXT in SQLite, `jsonb` in PostgreSQL) and the
 * program is evaluated on the event as read back, which is what a planner sees. fast-check prints
 * the seed and the shrunk counterexample of a failure; rerun with `{ seed, path }` to replay it.
 */
import Database from "better-sqlite3";
import fc from "fast-check";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pushdownFor, translate, type Target } from "../support/pushdown.js";
import { eventArb, expression } from "../support/pushdown-arbitraries.js";
import type { DialectName } from "../../src/expr/dialect.js";
import { compile, type Program } from "../../src/expr/program.js";
import { describePostgres } from "../support/postgres.js";

/** `PUSHDOWN_PROPERTY_RUNS` raises the number of expressions for a longer soak (the tally is printed then). */
const EXPRESSIONS_PER_PROPERTY = Number(process.env.PUSHDOWN_PROPERTY_RUNS ?? 200);
const EVENTS_PER_EXPRESSION = 30;

/** The program, or `undefined` when the generated source does not compile in this dialect (cel's checker rejects some). */
function tryCompile(source: string, dialect: DialectName): Program | undefined {
  try {
    return compile(source, { dialect });
  } catch {
    return undefined;
  }
}

const caseArb = fc.record({
  source: expression,
  events: fc.array(eventArb, { minLength: EVENTS_PER_EXPRESSION, maxLength: EVENTS_PER_EXPRESSION }),
});

// ---------------------------------------------------------------------------------------------
// The property, for one database
// ---------------------------------------------------------------------------------------------

interface Predicate {
  readonly sql: string;
  readonly params: readonly unknown[];
  readonly exact: boolean;
}

/** Stores a batch of events and returns, per event, the event as read back and each predicate's value. */
type RunBatch = (events: readonly unknown[], predicates: readonly Predicate[]) => Promise<{ event: unknown; hits: unknown[] }[]>;

interface Tally {
  full: number;
  /** Expressions whose notFalse predicate is exact. */
  notFalseExact: number;
  partial: number;
  none: number;
  skipped: number;
  matched: number;
  kept: number;
  rows: number;
}

async function checkCase(target: Target, dialect: DialectName, source: string, events: readonly unknown[], run: RunBatch, tally: Tally): Promise<void> {
  const program = tryCompile(source, dialect);
  if (program === undefined) {
    tally.skipped += 1;
    return;
  }
  const result = pushdownFor(program);
  tally[result.coverage] += 1;
  const translated = translate(program.ast, target, dialect);
  const hint = result.hint?.[target];
  // pushdownFor and translate agree.
  if (hint !== undefined) expect(hint.sql).toBe(translated?.sql);
  else expect(result.coverage === "none" ? translated : translated?.sql).toBe(result.coverage === "none" ? undefined : target === "sqlite" ? "1" : "TRUE");
  const everything: Predicate = { sql: target === "sqlite" ? "1" : "TRUE", params: [], exact: false };
  const matching = translated ?? { ...everything, exact: result.coverage === "full" };
  const notFalse = translate(program.ast, target, dialect, { keep: "notFalse" }) ?? everything;
  if (notFalse.exact) tally.notFalseExact += 1;
  const rows = await run(events, [matching, notFalse]);
  for (const { event, hits } of rows) {
    // Never NULL: SQLite's store keeps a row only when the predicate is true.
    for (const hit of hits) expect(hit === null || hit === undefined, `predicate was NULL for ${JSON.stringify(event)}`).toBe(false);
    const [kept, keptNotFalse] = hits.map((hit) => hit === true || hit === 1) as [boolean, boolean];
    const decision = program.decide({ event });
    const matches = decision === "match";
    expect(program.matches({ event })).toBe(matches);
    tally.rows += 1;
    if (matches) tally.matched += 1;
    if (kept) tally.kept += 1;
    const explain = (what: string, p: Predicate): string =>
      `${dialect} ${target}: ${what}\n  if: ${source}\n  sql: ${p.sql}\n  params: ${JSON.stringify(p.params)}\n  event: ${JSON.stringify(event)}\n  decision: ${decision}`;
    if (matches && !kept) expect.fail(explain("the pushdown dropped a matching event", matching));
    if (matching.exact && kept !== matches) expect.fail(explain("an exact (full) translation kept a non-matching event", matching));
    const notFalseHolds = decision !== "no_match";
    if (notFalseHolds && !keptNotFalse) expect.fail(explain("the notFalse pushdown dropped an event that is not false", notFalse));
    if (notFalse.exact && keptNotFalse !== notFalseHolds) expect.fail(explain("an exact notFalse translation kept a false event", notFalse));
  }
}

function newTally(): Tally {
  return { full: 0, notFalseExact: 0, partial: 0, none: 0, skipped: 0, matched: 0, kept: 0, rows: 0 };
}

/** The generator must exercise real translations, not only give up. */
function expectUsefulCoverage(tally: Tally): void {
  if (process.env.PUSHDOWN_PROPERTY_RUNS !== undefined) console.log(JSON.stringify(tally));
  const compiled = tally.full + tally.partial + tally.none;
  expect(compiled).toBeGreaterThan(EXPRESSIONS_PER_PROPERTY / 2);
  expect(tally.full).toBeGreaterThan(compiled / 10);
  expect(tally.notFalseExact).toBeGreaterThan(compiled / 10);
  expect(tally.partial).toBeGreaterThan(0);
  expect(tally.matched).toBeGreaterThan(0);
  expect(tally.kept).toBeLessThan(tally.rows);
}

const DIALECTS: readonly DialectName[] = ["inngest", "cel"];

// ---------------------------------------------------------------------------------------------
// SQLite
// ---------------------------------------------------------------------------------------------

describe("pushdown superset property (SQLite)", () => {
  const db = new Database(":memory:");
  db.exec("CREATE TABLE runs (id INTEGER PRIMARY KEY, batch INTEGER NOT NULL, event TEXT NOT NULL)");
  const insert = db.prepare("INSERT INTO runs (id, batch, event) VALUES (?, ?, ?)");
  let nextId = 1;
  let nextBatch = 1;
  afterAll(() => db.close());

  const run: RunBatch = async (events, predicates) => {
    const batch = nextBatch++;
    db.transaction(() => {
      for (const event of events) insert.run(nextId++, batch, JSON.stringify(event));
    })();
    const columns = predicates.map((p, i) => `(${p.sql}) AS hit${i}`).join(", ");
    const rows = db
      .prepare(`SELECT event, ${columns} FROM runs WHERE batch = ? ORDER BY id`)
      .all(...predicates.flatMap((p) => p.params), batch) as Record<string, unknown>[];
    return rows.map((row) => ({ event: JSON.parse(row["event"] as string) as unknown, hits: predicates.map((_, i) => row[`hit${i}`]) }));
  };

  for (const dialect of DIALECTS) {
    it(`${dialect}: every matching (and every not-false) event is kept; exact translations are exact`, async () => {
      const tally = newTally();
      await fc.assert(
        fc.asyncProperty(caseArb, async ({ source, events }) => checkCase("sqlite", dialect, source, events, run, tally)),
        { numRuns: EXPRESSIONS_PER_PROPERTY },
      );
      expectUsefulCoverage(tally);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------------

/** jsonb cannot hold a NUL character in a string (the store keeps such events in a `json` column, which it never filters). */
function fitsJsonb(event: unknown): boolean {
  return !JSON.stringify(event).includes("\\u0000");
}

await describePostgres("pushdown superset property (PostgreSQL)", ({ url, newSchema }) => {
  const client = new pg.Client({ connectionString: url });
  let nextBatch = 1;

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

  const run: RunBatch = async (events, predicates) => {
    const batch = nextBatch++;
    const stored = events.filter(fitsJsonb);
    if (stored.length > 0) {
      const values = stored.map((_, i) => `($1, $${i + 2}::jsonb)`).join(", ");
      await client.query(`INSERT INTO runs (batch, event) VALUES ${values}`, [batch, ...stored.map((e) => JSON.stringify(e))]);
    }
    // Each predicate numbers its placeholders from $1: shift them behind the previous ones.
    const params: unknown[] = [];
    const columns = predicates.map((p, i) => {
      const offset = params.length;
      params.push(...p.params);
      return `(${p.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`)}) AS hit${i}`;
    });
    const { rows } = await client.query<Record<string, unknown>>(
      `SELECT event, ${columns.join(", ")} FROM runs WHERE batch = $${params.length + 1} ORDER BY id`,
      [...params, batch],
    );
    return rows.map((row) => ({ event: row["event"], hits: predicates.map((_, i) => row[`hit${i}`]) }));
  };

  for (const dialect of DIALECTS) {
    it(`${dialect}: every matching (and every not-false) event is kept; exact translations are exact`, async () => {
      const tally = newTally();
      await fc.assert(
        fc.asyncProperty(caseArb, async ({ source, events }) => checkCase("postgres", dialect, source, events, run, tally)),
        { numRuns: EXPRESSIONS_PER_PROPERTY },
      );
      expectUsefulCoverage(tally);
    });
  }
});
