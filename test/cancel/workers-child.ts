/**
 * Child process of the worker-kill test:
 * `node --import tsx test/cancel/workers-child.ts <url> <schema> <cancellationId> <workerId> <leaseMs> <batchSize>`.
 *
 * Runs one worker on the cancellation, printing one JSON line per progress event
 * (`{ "progress": { shardNo, counts, done } }`, `done` on the shard's closing commit) and, when it runs out of shards, its report
 * (`{ "report": WorkerReport }`).
 */
import { runWorker } from "../../src/cancel/index.js";
import { PostgresRunStore } from "../../src/stores/postgres.js";

const [url, schema, cancellationId, workerId, leaseText, batchText] = process.argv.slice(2);
if (url === undefined || schema === undefined || cancellationId === undefined || workerId === undefined) {
  throw new Error("usage: workers-child.ts <url> <schema> <cancellationId> <workerId> <leaseMs> <batchSize>");
}
const store = new PostgresRunStore({ connectionString: url, schema, poolSize: 3 });
await store.migrate();
const report = await runWorker(store, {
  cancellationId,
  workerId,
  leaseMs: Number(leaseText ?? 2000),
  batchSize: Number(batchText ?? 500),
  pollMs: 250,
  onProgress: (progress) =>
    process.stdout.write(`${JSON.stringify({ progress: { shardNo: progress.shardNo, counts: progress.counts, done: progress.etaSeconds === 0 } })}\n`),
});
await store.close();
process.stdout.write(`${JSON.stringify({ report })}\n`);
