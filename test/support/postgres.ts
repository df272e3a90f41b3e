/**
 * PostgreSQL test support: the server address, a probe, and `describePostgres`, which gives every
 * test file its own schemas and drops them afterwards.
 *
 * When the server cannot be reached, suites are skipped with a loud warning locally, and fail
 * under `CI=true` (CI must never pass by skipping the database tests).
 *
 * @module
 */
import pg from "pg";
import { afterAll, describe, it } from "vitest";
import { isCI } from "./ci.js";

/** The test database: `DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/test`. */
export const POSTGRES_URL: string = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** Prefix of every schema the tests create; leftovers of killed runs are recognised by it. */
export const TEST_SCHEMA_PREFIX = "cancelkit_test_";

/** Schemas of crashed runs older than this are dropped by the next run. */
const STALE_SCHEMA_MS = 60 * 60 * 1000;

/** Runs `work` with one short-lived client (not pooled). */
export async function withClient<T>(work: (client: pg.Client) => Promise<T>, url: string = POSTGRES_URL): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** `undefined` when the server answers, else why it does not. */
export async function probePostgres(url: string = POSTGRES_URL): Promise<string | undefined> {
  try {
    await withClient((client) => client.query("SELECT 1"), url);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

let sequence = 0;

/**
 * A schema name no other test run uses: prefix, creation time (so stale ones can be found),
 * process id and a counter.
 */
export function uniqueSchemaName(): string {
  sequence += 1;
  return `${TEST_SCHEMA_PREFIX}${Date.now()}_${process.pid}_${sequence}`;
}

/** Drops schemas (with everything in them); missing ones are ignored. */
export async function dropSchemas(names: readonly string[], url: string = POSTGRES_URL): Promise<void> {
  if (names.length === 0) return;
  await withClient(async (client) => {
    for (const name of names) await client.query(`DROP SCHEMA IF EXISTS ${client.escapeIdentifier(name)} CASCADE`);
  }, url);
}

/** Drops test schemas left behind by runs that were killed more than an hour ago. */
async function dropStaleSchemas(url: string): Promise<void> {
  const names = await withClient(async (client) => {
    const { rows } = await client.query<{ nspname: string }>(
      "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)",
      [TEST_SCHEMA_PREFIX],
    );
    return rows.map((row) => row.nspname);
  }, url);
  const cutoff = Date.now() - STALE_SCHEMA_MS;
  const stale = names.filter((name) => {
    const created = Number(name.slice(TEST_SCHEMA_PREFIX.length).split("_")[0]);
    return Number.isFinite(created) && created < cutoff;
  });
  await dropSchemas(stale, url);
}

/** What a `describePostgres` body gets. */
export interface PostgresTestContext {
  /** Connection string of the test database. */
  readonly url: string;
  /** A fresh schema name, dropped (if created) when the suite ends. */
  newSchema(): string;
}

/**
 * Declares a suite that needs PostgreSQL. Call it with top-level `await` (the probe is
 * asynchronous). Reachable: runs `body`, then drops every schema `newSchema()` handed out.
 * Unreachable: a loud warning and `describe.skip` locally; under `CI=true`, a failing test.
 */
export async function describePostgres(name: string, body: (context: PostgresTestContext) => void): Promise<void> {
  const problem = await probePostgres(POSTGRES_URL);
  if (problem !== undefined) {
    const message = `PostgreSQL at ${POSTGRES_URL} is unreachable (${problem})`;
    if (isCI()) {
      describe(name, () => {
        it("needs a reachable PostgreSQL server (CI=true never skips)", () => {
          throw new Error(`${message}. Start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`);
        });
      });
      return;
    }
    console.warn(
      `\n${"!".repeat(78)}\n!! SKIPPING "${name}": ${message}.\n` +
        `!! Start the server or set DATABASE_URL; under CI=true this fails instead.\n${"!".repeat(78)}\n`,
    );
    describe.skip(name, () => body({ url: POSTGRES_URL, newSchema: uniqueSchemaName }));
    return;
  }
  // Another test file may be dropping the same leftovers at the same moment; losing that race is fine.
  await dropStaleSchemas(POSTGRES_URL).catch(() => undefined);
  describe(name, () => {
    const schemas: string[] = [];
    afterAll(async () => {
      await dropSchemas(schemas);
    });
    body({
      url: POSTGRES_URL,
      newSchema: () => {
        const schema = uniqueSchemaName();
        schemas.push(schema);
        return schema;
      },
    });
  });
}
