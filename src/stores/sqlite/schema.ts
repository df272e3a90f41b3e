/**
 * The SQLite store's schema: its migrations, in order, and the version they reach.
 *
 * @module
 */
import { RUN_STATUSES } from "../types.js";
import { LEASE_MIGRATION } from "./lease.js";

/** Schema version this code writes; a file with a higher version is refused. */
export const SQLITE_SCHEMA_VERSION = 4;

const STATUS_LIST = RUN_STATUSES.map((s) => `'${s}'`).join(", ");

/**
 * Migrations in order: entry `i` moves a database from version `i` to `i + 1`. Never edit a
 * released entry; append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE runs (
    id              TEXT    NOT NULL,
    environment_id  TEXT    NOT NULL,
    app_id          TEXT    NOT NULL,
    function_id     TEXT    NOT NULL,
    started_at      INTEGER NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN (${STATUS_LIST})),
    event           TEXT    NOT NULL,
    cancellation_id TEXT,
    CONSTRAINT runs_window PRIMARY KEY (environment_id, app_id, function_id, started_at, id)
  ) STRICT, WITHOUT ROWID;
  CREATE UNIQUE INDEX runs_id ON runs (id);
  CREATE TABLE cancellations (
    id                TEXT    NOT NULL PRIMARY KEY,
    environment_id    TEXT    NOT NULL,
    app_id            TEXT    NOT NULL,
    function_id       TEXT    NOT NULL,
    started_after     REAL,
    started_before    REAL    NOT NULL,
    if_expr           TEXT,
    created_at        REAL    NOT NULL,
    status            TEXT    NOT NULL,
    scanned           INTEGER NOT NULL,
    cancelled         INTEGER NOT NULL,
    skipped_terminal  INTEGER NOT NULL,
    not_matched       INTEGER NOT NULL,
    expression_error  INTEGER NOT NULL,
    non_boolean       INTEGER NOT NULL,
    cursor_started_at REAL,
    cursor_id         TEXT,
    updated_at        REAL    NOT NULL,
    idempotency_key   TEXT,
    request_hash      TEXT
  ) STRICT;
  CREATE UNIQUE INDEX cancellations_idempotency ON cancellations (environment_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
  CREATE INDEX cancellations_environment ON cancellations (environment_id, id);
  `,
  // A job's settings (batch size, rate, max runs) as JSON text; NULL on records from before.
  `ALTER TABLE cancellations ADD COLUMN settings TEXT;`,
  // A counter of cancellation creations and deletions, kept by triggers whoever writes: watchers
  // in other processes poll it (see watchOthersChecked).
  `
  CREATE TABLE cancellation_changes (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL) STRICT;
  INSERT INTO cancellation_changes (id, version) VALUES (1, 0);
  CREATE TRIGGER cancellations_inserted AFTER INSERT ON cancellations
    BEGIN UPDATE cancellation_changes SET version = version + 1 WHERE id = 1; END;
  CREATE TRIGGER cancellations_deleted AFTER DELETE ON cancellations
    BEGIN UPDATE cancellation_changes SET version = version + 1 WHERE id = 1; END;
  `,
  // The owner lease of a job (see `sqlite/lease.ts`).
  LEASE_MIGRATION,
];

