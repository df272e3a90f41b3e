/**
 * The SQLite store's schema migration: versions in `schema_version`, each migration applied in the
 * same `BEGIN IMMEDIATE` transaction as its version bump, so concurrent openers migrate once.
 *
 * @module
 */
import type { Database as SqliteDatabase } from "better-sqlite3";
import { StoreError } from "../types.js";

/**
 * Creates or upgrades the schema in one immediate transaction: entry `i` of `migrations` moves a
 * database from version `i` to `i + 1`.
 *
 * @throws {@link StoreError} `storage` for a database of a newer version than `migrations` know.
 */
export function migrate(db: SqliteDatabase, migrations: readonly string[]): void {
  db.transaction(() => {
    db.exec("CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)");
    const row = db.prepare("SELECT version FROM schema_version WHERE id = 1").get() as { version: number } | undefined;
    let version = row?.version ?? 0;
    if (row === undefined) db.prepare("INSERT INTO schema_version (id, version) VALUES (1, 0)").run();
    if (version > migrations.length) {
      throw new StoreError(
        "storage",
        `SQLite run store: the database has schema version ${version}, newer than this cancelkit understands (${migrations.length}); upgrade cancelkit`,
      );
    }
    const bump = db.prepare("UPDATE schema_version SET version = ? WHERE id = 1");
    while (version < migrations.length) {
      db.exec(migrations[version]!);
      version++;
      bump.run(version);
    }
  }).immediate();
}
