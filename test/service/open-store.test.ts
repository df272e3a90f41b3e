/**
 * `openStore`'s PostgreSQL switches from the environment (`CANCELKIT_POSTGRES_ASYNC_BATCH_COMMITS`,
 * `CANCELKIT_POSTGRES_PREPARED_STATEMENTS`): they reach the store, and a value that is neither
 * `true` nor `false` is refused before any connection, naming the variable.
 *
 * @module
 */
import { describe, expect, it } from "vitest";
import { StoreLocationError, openStore } from "../../src/service/store.js";
import type { PostgresRunStore } from "../../src/stores/postgres.js";
import { describePostgres } from "../support/postgres.js";

const SWITCHES = ["CANCELKIT_POSTGRES_ASYNC_BATCH_COMMITS", "CANCELKIT_POSTGRES_PREPARED_STATEMENTS"] as const;

describe("openStore: PostgreSQL switches from the environment", () => {
  it("refuses a value that is neither true nor false, naming the variable, before connecting", async () => {
    for (const name of SWITCHES) {
      // Port 1 refuses connections: a connection attempt would fail differently.
      const opening = openStore({ env: { DATABASE_URL: "postgres://postgres@127.0.0.1:1/none", [name]: "yes" } });
      await expect(opening).rejects.toBeInstanceOf(StoreLocationError);
      await expect(opening).rejects.toThrow(`${name} must be "true" or "false", got "yes"`);
    }
  });
});

await describePostgres("openStore: PostgreSQL switches reach the store", ({ url, newSchema }) => {
  it("false turns each off; absent or empty leaves the store's defaults (on)", async () => {
    for (const env of [
      { CANCELKIT_POSTGRES_ASYNC_BATCH_COMMITS: "false", CANCELKIT_POSTGRES_PREPARED_STATEMENTS: "true" },
      { CANCELKIT_POSTGRES_ASYNC_BATCH_COMMITS: "true", CANCELKIT_POSTGRES_PREPARED_STATEMENTS: "false" },
      { CANCELKIT_POSTGRES_ASYNC_BATCH_COMMITS: "" },
      {},
    ] as const) {
      const { store } = await openStore({ env: { DATABASE_URL: url, CANCELKIT_POSTGRES_SCHEMA: newSchema(), ...env } });
      try {
        const pg = store as PostgresRunStore;
        const setting = (name: (typeof SWITCHES)[number]): boolean => ((env as Record<string, string>)[name] ?? "") !== "false";
        expect({ asyncBatchCommits: pg.asyncBatchCommits, preparedStatements: pg.preparedStatements }).toEqual({
          asyncBatchCommits: setting("CANCELKIT_POSTGRES_ASYNC_BATCH_COMMITS"),
          preparedStatements: setting("CANCELKIT_POSTGRES_PREPARED_STATEMENTS"),
        });
      } finally {
        await store.close();
      }
    }
  });
});
