/**
 * Child process of the owner-lease tests: one service on a store, as another process would run it.
 * `node --import tsx test/service/serve-child.ts '<options JSON>'` with `{ postgres?, schema?, db?,
 * keys, leaseMs?, takeoverMs?, ratePerSecond?, batchSize? }`. Prints `{ "url", "owner" }` once
 * listening, then one `{ "log": line }` per job log line; SIGTERM closes the server gracefully.
 */
import { createServer } from "../../src/service/server.js";
import { openStore } from "../../src/service/store.js";

interface ChildOptions {
  readonly postgres?: string;
  readonly schema?: string;
  readonly db?: string;
  readonly keys: Record<string, string>;
  readonly leaseMs?: number;
  readonly takeoverMs?: number;
  readonly ratePerSecond?: number;
  readonly batchSize?: number;
}

const options = JSON.parse(process.argv[2] ?? "{}") as ChildOptions;
const opened = await openStore({
  ...(options.postgres !== undefined ? { postgres: options.postgres } : {}),
  ...(options.schema !== undefined ? { postgresSchema: options.schema } : {}),
  ...(options.db !== undefined ? { db: options.db, exclusive: "cancelkit serve" } : {}),
});
const server = createServer({
  store: opened.store,
  closeStore: true,
  keys: options.keys,
  ui: false,
  log: (line) => process.stdout.write(`${JSON.stringify({ log: line })}\n`),
  lease: { ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}), ...(options.takeoverMs !== undefined ? { takeoverMs: options.takeoverMs } : {}) },
  ...(options.ratePerSecond !== undefined ? { ratePerSecond: options.ratePerSecond } : {}),
  ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
});
const url = await server.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write(`${JSON.stringify({ url, owner: server.jobs.owner })}\n`);
process.once("SIGTERM", () => {
  void server.close().then(() => process.exit(0));
});
