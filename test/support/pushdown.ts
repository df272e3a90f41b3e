/**
 * The pushdown as the golden and property tests read it: the planner's predicate (`cancel/pushdown.ts`)
 * rendered by each SQL store (`stores/sqlite/pushdown.ts`, `stores/postgres/pushdown.ts`), so a
 * test can name a target database and compare SQL text, parameters and exactness.
 */
import type { CheckedAst } from "../../src/expr/checker/checker.js";
import type { DialectName } from "../../src/expr/dialect.js";
import type { Program } from "../../src/expr/program.js";
import { pushdownFor as pushdownHint, translate as translatePredicate, type PushdownCoverage, type PushdownOptions } from "../../src/cancel/pushdown.js";
import type { Pred } from "../../src/stores/predicate.js";
import { renderPostgresPredicate } from "../../src/stores/postgres/pushdown.js";
import { renderSqlitePredicate } from "../../src/stores/sqlite/pushdown.js";

/** A database a predicate is rendered for. */
export type Target = "sqlite" | "postgres";

/** SQL text and parameters. */
export interface RenderedSql {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/** The SQL a store renders for a predicate (placeholders from `$1` / `?`). */
export function renderPredicate(p: Pred, target: Target): RenderedSql {
  const { sql, params } = target === "sqlite" ? renderSqlitePredicate(p) : renderPostgresPredicate(p);
  return { sql, params };
}

/** Whether the store renders a predicate exactly. */
export function isExactFor(p: Pred, target: Target): boolean {
  return (target === "sqlite" ? renderSqlitePredicate(p) : renderPostgresPredicate(p)).exact;
}

/** The rendered predicate of a checked AST for one database, or `undefined` when nothing translates. */
export function translate(ast: CheckedAst, target: Target, dialect: DialectName, options: PushdownOptions = {}): (RenderedSql & { readonly exact: boolean }) | undefined {
  const p = translatePredicate(ast, dialect, options);
  return p === undefined ? undefined : { ...renderPredicate(p, target), exact: isExactFor(p, target) };
}

/** A pushdown with its hint rendered for both stores. */
export interface PushdownResult {
  readonly hint?: { readonly sqlite: RenderedSql; readonly postgres: RenderedSql };
  readonly coverage: PushdownCoverage;
}

/** The planner's pushdown of a program, its hint rendered for both stores. */
export function pushdownFor(program: Program, options: PushdownOptions = {}): PushdownResult {
  const { hint, coverage } = pushdownHint(program, options);
  if (hint === undefined) return { coverage };
  return { hint: { sqlite: renderPredicate(hint.predicate, "sqlite"), postgres: renderPredicate(hint.predicate, "postgres") }, coverage };
}
