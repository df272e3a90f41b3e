/**
 * The BullMQ example end to end, runnable: `npx tsx examples/bullmq/main.ts` (Redis on
 * 127.0.0.1:6379, or `REDIS_URL`). It starts a cancelkit service on a free port, enqueues 2,000
 * three-step runs of five users, cancels one user's runs through the HTTP API while they are in
 * flight, and prints how every run ended.
 *
 * @module
 */
import { Queue } from "bullmq";
import { ulid } from "ulid";
import { CancellationChecker, MemoryRunStore } from "../../src/index.js";
import { createServer } from "../../src/service/index.js";
import { createRunWorker, type RunJobData } from "./worker.js";

const redis = new URL(process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379");
const connection = { host: redis.hostname, port: Number(redis.port || 6379) };
const prefix = `cancelkit-example-${process.pid}`;
const queueName = "runs";

const store = new MemoryRunStore();
const server = createServer({ store, keys: { "signkey-example-0000": "default" } });
const url = await server.listen({ port: 0 });
const checker = new CancellationChecker(store);
await checker.refresh();

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const worker = createRunWorker({ queueName, connection, prefix, checker, steps: [() => sleep(20), () => sleep(20), () => sleep(20)], concurrency: 100 });
const queue = new Queue<RunJobData>(queueName, { connection, prefix });
const users = ["u1", "u2", "u3", "u4", "u5"];
await queue.addBulk(
  Array.from({ length: 2000 }, (_, i) => ({
    name: "run",
    data: { runId: ulid(), appId: "shop", functionId: "fulfil-order", event: { name: "shop/order.placed", data: { userId: users[i % users.length]!, order: i } } },
    opts: { removeOnComplete: false, removeOnFail: false },
  })),
);

await sleep(500);
const response = await fetch(`${url}/v1/cancellations`, {
  method: "POST",
  headers: { authorization: "Bearer signkey-example-0000", "content-type": "application/json" },
  body: JSON.stringify({ app_id: "shop", function_id: "fulfil-order", started_before: new Date().toISOString(), if: "event.data.userId == 'u3'" }),
});
const cancellation = (await response.json()) as { id: string };
console.log(`cancellation ${cancellation.id} created for u3`);

while ((await queue.getJobCountByTypes("waiting", "active", "delayed", "prioritized")) > 0) await sleep(200);
const failed = await queue.getFailed(0, -1);
const completed = await queue.getCompletedCount();
console.log(`${completed} runs completed, ${failed.length} stopped by ${new Set(failed.map((job) => job.data.cancellationId)).size} cancellation(s)`);

await worker.close();
await queue.obliterate({ force: true });
await queue.close();
await checker.close();
await server.close();
