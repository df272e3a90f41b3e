/**
 * The SQLite store's owner leases of jobs (`leaseCancellation`, the owner check of a batch) and
 * the file lock that keeps a second `cancelkit serve` off one database file.
 *
 * A lease is two columns of the cancellation row (`lease_owner`, `lease_expires_at`, epoch ms by
 * the store's clock), written in one `BEGIN IMMEDIATE` transaction, so that two processes sharing
 * the file never both take it.
 *
 * @module
 */
import Database from "better-sqlite3";
import type { Database as SqliteDatabase, Statement } from "better-sqlite3";
import { StoreError, type CancellationLeaseResult } from "../types.js";

/** Migration that adds the lease columns (see `MIGRATIONS` in `sqlite.ts`). */
export const LEASE_MIGRATION = `
  ALTER TABLE cancellations ADD COLUMN lease_owner TEXT;
  ALTER TABLE cancellations ADD COLUMN lease_expires_at REAL;
`;

/** A cached prepared statement of the store's connection. */
type Prepare = (sql: string) => Statement;

/**
 * Takes, renews or takes over a job's lease in one immediate transaction: the `UPDATE` applies
 * only when the lease is free, expired, or `owner`'s; otherwise the row says who holds it.
 */
export function leaseCancellationRow(db: SqliteDatabase, prepare: Prepare, id: string, owner: string, leaseMs: number, now: number): CancellationLeaseResult {
  return db
    .transaction((): CancellationLeaseResult => {
      const expiresAt = now + leaseMs;
      const taken = prepare(
        `UPDATE cancellations SET lease_owner = ?, lease_expires_at = ?
         WHERE id = ? AND (lease_owner IS NULL OR lease_owner = ? OR lease_expires_at < ?)`,
      ).run(owner, expiresAt, id, owner, now);
      if (taken.changes > 0) return { ok: true, expiresAt };
      const row = prepare("SELECT lease_owner, lease_expires_at FROM cancellations WHERE id = ?").raw(true).get(id) as [string, number] | undefined;
      if (row === undefined) return { ok: false, reason: "gone" };
      return { ok: false, reason: "held", owner: row[0], expiresAt: row[1] };
    })
    .immediate();
}

/** Clears `owner`'s lease; false when `owner` does not hold it. */
export function releaseCancellationRow(prepare: Prepare, id: string, owner: string): boolean {
  return prepare("UPDATE cancellations SET lease_owner = NULL, lease_expires_at = NULL WHERE id = ? AND lease_owner = ?").run(id, owner).changes > 0;
}

/**
 * Inside a batch's transaction: whether the batch may apply, that is it names no owner, or the
 * owner the record's lease names.
 */
export function batchOwnerHolds(prepare: Prepare, id: string, owner: string | undefined): boolean {
  if (owner === undefined) return true;
  return prepare("SELECT 1 FROM cancellations WHERE id = ? AND lease_owner = ?").get(id, owner) !== undefined;
}

/** A held exclusive lock on a database file; see {@link lockDatabaseFile}. */
export interface FileLock {
  /** Releases the lock (idempotent). */
  release(): void;
}

/**
 * Takes the exclusive lock that one process at a time may hold on a database file: a companion
 * SQLite file `<path>-serve.lock`, opened with `locking_mode = EXCLUSIVE` and written once, so the
 * connection keeps SQLite's exclusive file lock (an OS lock) until it is closed. The lock is the
 * operating system's: a process that dies, even by SIGKILL, releases it, so there is no stale lock
 * to clean up. SQLite locks between connections of one process too, so a second store in the same
 * process is refused as well.
 *
 * @param path - The database file (not `:memory:`).
 * @param purpose - What holds the lock, for the error message (say `cancelkit serve`).
 * @throws {@link StoreError} `locked` when another connection holds it; `storage` when the lock
 *   file cannot be created.
 */
export function lockDatabaseFile(path: string, purpose: string): FileLock {
  const lockPath = `${path}-serve.lock`;
  let db: SqliteDatabase | undefined;
  try {
    db = new Database(lockPath, { timeout: 0 });
    db.pragma("locking_mode = EXCLUSIVE");
    // The first write takes the exclusive lock; in this locking mode it is kept until close.
    db.exec("CREATE TABLE IF NOT EXISTS holder (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, since REAL NOT NULL)");
    db.prepare("INSERT OR REPLACE INTO holder (id, pid, since) VALUES (1, ?, ?)").run(process.pid, Date.now());
  } catch (error) {
    db?.close();
    if (error instanceof Database.SqliteError && (error.code === "SQLITE_BUSY" || error.code === "SQLITE_LOCKED")) {
      throw new StoreError(
        "locked",
        `${path} is in use by another ${purpose}: SQLite allows one ${purpose} per database file. ` +
          "Stop the other one first, or use PostgreSQL (--postgres URL) to run several instances on one store.",
        { cause: error },
      );
    }
    throw new StoreError("storage", `SQLite run store: cannot create the lock file ${lockPath}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  const held = db;
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      held.close();
    },
  };
}
