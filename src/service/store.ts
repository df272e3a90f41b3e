/**
 * Store selection for the CLI and the service: PostgreSQL when a URL is given (`--postgres URL`
 * or `DATABASE_URL`), else SQLite at `--db PATH` (default `./.cancelkit/cancelkit.db`).
 *
 * @module
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { RunStore } from "../stores/types.js";

/** Default SQLite file, relative to the working directory. */
export const DEFAULT_SQLITE_PATH = "./.cancelkit/cancelkit.db";

/** Which store to open. */
export interface StoreSelection {
  /** SQLite file; its folder is created when missing. Default {@link DEFAULT_SQLITE_PATH}. */
  readonly db?: string;
  /** PostgreSQL URL; wins over `db`. Default: `DATABASE_URL` from `env`. */
  readonly postgres?: string;
  /** PostgreSQL schema of the store's tables (created by the migration). Default: `CANCELKIT_POSTGRES_SCHEMA` from `env`, else `public`. */
  readonly postgresSchema?: string;
  /**
   * Environment variables to read `DATABASE_URL`, `CANCELKIT_POSTGRES_SCHEMA`,
   * `CANCELKIT_POSTGRES_ASYNC_BATCH_COMMITS` and `CANCELKIT_POSTGRES_PREPARED_STATEMENTS` from.
   * Default `process.env`.
   */
  readonly env?: NodeJS.ProcessEnv;
  /** Base for a relative `db` path. Default `process.cwd()`. */
  readonly cwd?: string;
  /**
   * Create the SQLite file (and its folder) when it does not exist. `false` refuses a missing
   * file with a {@link StoreLocationError}, so that a mistyped path is not silently a new, empty
   * store. Default `true`.
   */
  readonly create?: boolean;
  /**
   * Hold the SQLite file exclusively for this purpose (say `cancelkit serve`) until the store is
   * closed: a second opener with `exclusive` is refused with a {@link StoreError} `locked`
   * (`SqliteRunStore.lockExclusive`; an OS lock, released by a crash too). PostgreSQL ignores it:
   * any number of processes share one database there. Default: none.
   */
  readonly exclusive?: string;
}

/**
 * The selected store cannot be opened as given: a SQLite file that does not exist (with
 * `create: false`), a PostgreSQL URL that is not one, or a PostgreSQL switch that is neither
 * `true` nor `false`. `setting` names where the value came from (`--db`, `--postgres`,
 * `DATABASE_URL`, `CANCELKIT_POSTGRES_…`).
 */
export class StoreLocationError extends Error {
  override readonly name = "StoreLocationError";

  constructor(
    /** The option or variable that gave the location. */
    readonly setting: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Checks that `url` is a PostgreSQL URL (`postgres://` or `postgresql://`), since the driver reads
 * anything else as a host name and fails later with a DNS error naming a fragment of it.
 *
 * @throws {@link StoreLocationError} naming `setting`; the value is not echoed (it may hold a password).
 */
export function checkPostgresUrl(url: string, setting: string): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:")) {
    throw new StoreLocationError(setting, `${setting} is not a PostgreSQL URL (expected postgres://user[:password]@host[:port]/database)`);
  }
}

/**
 * A PostgreSQL store switch from `env` (`CANCELKIT_POSTGRES_ASYNC_BATCH_COMMITS`,
 * `CANCELKIT_POSTGRES_PREPARED_STATEMENTS`: the store options of those names): `true` or `false`;
 * absent or empty leaves the store's default.
 *
 * @throws {@link StoreLocationError} naming the variable for any other value.
 */
function envSwitch(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const value = nonEmpty(env[name]);
  if (value === undefined) return undefined;
  if (value === "true" || value === "false") return value === "true";
  throw new StoreLocationError(name, `${name} must be "true" or "false", got ${JSON.stringify(value)}`);
}

/** An open store and how to describe it. */
export interface OpenedStore {
  readonly store: RunStore;
  readonly kind: "sqlite" | "postgres";
  /** The SQLite path, or the PostgreSQL URL without its password. */
  readonly location: string;
}

/** A PostgreSQL URL with its password replaced by `***`, for printing. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "<unparseable URL>";
  }
}

/**
 * Opens the selected store. PostgreSQL is migrated to the current schema; a SQLite file and its
 * folder are created when missing (unless `create` is `false`).
 *
 * @throws {@link StoreLocationError} for a missing SQLite file (with `create: false`) or a
 *   malformed PostgreSQL URL; {@link StoreError} when the database cannot be opened or migrated,
 *   `locked` when `exclusive` is refused.
 */
export async function openStore(selection: StoreSelection = {}): Promise<OpenedStore> {
  const env = selection.env ?? process.env;
  const url = selection.postgres ?? (selection.db === undefined ? nonEmpty(env["DATABASE_URL"]) : undefined);
  // Each driver is loaded only when its store is chosen.
  if (url !== undefined) {
    checkPostgresUrl(url, selection.postgres !== undefined ? "--postgres" : "DATABASE_URL");
    const { PostgresRunStore } = await import("../stores/postgres.js");
    const schema = selection.postgresSchema ?? nonEmpty(env["CANCELKIT_POSTGRES_SCHEMA"]);
    const asyncBatchCommits = envSwitch(env, "CANCELKIT_POSTGRES_ASYNC_BATCH_COMMITS");
    const preparedStatements = envSwitch(env, "CANCELKIT_POSTGRES_PREPARED_STATEMENTS");
    const store = new PostgresRunStore({
      connectionString: url,
      ...(schema !== undefined ? { schema } : {}),
      ...(asyncBatchCommits !== undefined ? { asyncBatchCommits } : {}),
      ...(preparedStatements !== undefined ? { preparedStatements } : {}),
    });
    try {
      await store.migrate();
    } catch (error) {
      await store.close().catch(() => undefined);
      throw error;
    }
    return { store, kind: "postgres", location: redactUrl(url) };
  }
  const path = selection.db ?? DEFAULT_SQLITE_PATH;
  const absolute = path === ":memory:" ? path : resolve(selection.cwd ?? process.cwd(), path);
  if (path !== ":memory:") {
    if (selection.create === false && !existsSync(absolute)) {
      const setting = selection.db !== undefined ? "--db" : "the default store";
      throw new StoreLocationError(
        setting,
        `no SQLite database at ${path}${selection.db === undefined ? " (the default store; give --db PATH or --postgres URL)" : ""}: ` +
          "only serve and import create one",
      );
    }
    mkdirSync(dirname(absolute), { recursive: true });
  }
  const { SqliteRunStore } = await import("../stores/sqlite.js");
  // A long job commits often: its WAL checkpoints run beside it, not inside its commits.
  const store = new SqliteRunStore({ path: absolute, checkpoints: "background" });
  if (selection.exclusive !== undefined) {
    try {
      store.lockExclusive(selection.exclusive);
    } catch (error) {
      await store.close().catch(() => undefined);
      throw error;
    }
  }
  return { store, kind: "sqlite", location: path };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}
