import { PostgresRunStore } from "../../src/stores/postgres.js";
import type { RunStore } from "../../src/stores/types.js";
import { describePostgres, dropSchemas } from "../support/postgres.js";
import { describeRunStoreConformance } from "./conformance.js";

await describePostgres("PostgresRunStore", ({ url, newSchema }) => {
  const schemaOf = new WeakMap<RunStore, string>();
  describeRunStoreConformance(
    "postgres",
    async () => {
      const schema = newSchema();
      const store = new PostgresRunStore({ connectionString: url, schema, poolSize: 4 });
      await store.migrate();
      schemaOf.set(store, schema);
      return store;
    },
    async (store) => {
      const schema = schemaOf.get(store);
      if (schema !== undefined) await dropSchemas([schema], url);
    },
    {
      pushdownNumberEquals: (field, value) => ({
        postgres: { sql: "event->'data'->$1 = $2::jsonb", params: [field, JSON.stringify(value)] },
      }),
    },
  );
});
