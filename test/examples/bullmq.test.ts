/**
 * The BullMQ example against the real Redis at 127.0.0.1:6379: 10,000 three-step runs of ten users
 * in flight on a worker that asks a `CancellationChecker` before each step; a cancellation created
 * through the HTTP API for one user stops every one of that user's unfinished runs at its next step
 * (failed, with the cancellation's id), and every other run finishes.
 *
 * Without Redis the test is skipped with a loud warning locally, and fails under `CI=true` (`.ci/run`
 * starts Redis). Each run uses a queue prefix of its own and removes its keys afterwards.
 */
import { connect } from "node:net";
import { Queue } from "bullmq";
import { ulid } from "ulid";
import { afterAll, describe, expect, it } from "vitest";
import { CancellationChecker } from "../../src/cancel/checker.js";
import { createServer } from "../../src/service/server.js";
import { MemoryRunStore } from "../../src/stores/memory.js";
import { createRunWorker, RunCancelledError, type RunJobData } from "../../examples/bullmq/worker.js";
import { isCI } from "../support/ci.js";
import { pollUntil } from "../support/poll.js";

const REDIS = { host: "127.0.0.1", port: 6379 };
const JOBS = 10_000;
const USERS = Array.from({ length: 10 }, (_, i) => `user_${i}`);
const TARGET = "user_3";
const KEY = "signkey-test-bullmq-0000";

/** `undefined` when Redis answers PING, else why not. */
function probeRedis(): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect(REDIS);
    const done = (problem: string | undefined) => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(2000, () => done("no answer within 2 s"));
    socket.once("error", (error) => done(error.message));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => done(data.toString().startsWith("+PONG") ? undefined : `unexpected answer ${JSON.stringify(data.toString())}`));
  });
}

const problem = await probeRedis();
if (problem !== undefined && !isCI()) {
  console.warn(`\n\n!!! SKIPPING the BullMQ example test: Redis at ${REDIS.host}:${REDIS.port} is unreachable (${problem}).\n!!! Start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no\n\n`);
}

describe.skipIf(problem !== undefined && !isCI())("BullMQ example: a cancellation stops runs in flight", () => {
  const prefix = `cancelkit-test-${process.pid}-${Date.now()}`;
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  });

  it(
    "every unfinished run of the user fails at its next step with the cancellation id; every other run finishes",
    async () => {
      if (problem !== undefined) throw new Error(`Redis at ${REDIS.host}:${REDIS.port} is unreachable (${problem}); CI must start it`);
      const store = new MemoryRunStore();
      const server = createServer({ store, keys: { [KEY]: "default" } });
      cleanups.push(() => server.close());
      const url = await server.listen({ port: 0 });
      // The worker's own checker over the same store: the HTTP creation reaches it in-process.
      const checker = new CancellationChecker(store);
      await checker.refresh();
      cleanups.push(() => checker.close());

      /** Set as soon as the creation's response is in: from then on no step of the user may start. */
      let cancelled = false;
      let lateSteps = 0;
      const stepsStarted = new Map<string, number>();
      const step = async (job: { id?: string | undefined; data: RunJobData }) => {
        if (cancelled && job.data.event.data["userId"] === TARGET) lateSteps++;
        stepsStarted.set(job.id!, (stepsStarted.get(job.id!) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 1 + ((job.data.event.data["order"] as number) % 4)));
      };
      const queue = new Queue<RunJobData>("runs", { connection: REDIS, prefix });
      cleanups.push(async () => {
        await queue.obliterate({ force: true });
        await queue.close();
      });
      const worker = createRunWorker({ queueName: "runs", connection: REDIS, prefix, checker, steps: [step, step, step], concurrency: 200 });
      cleanups.push(() => worker.close());

      const completed = new Set<string>();
      const failed = new Map<string, { reason: string; error: unknown }>();
      let finished!: () => void;
      const allDone = new Promise<void>((resolve) => (finished = resolve));
      const settle = () => {
        if (completed.size + failed.size === JOBS) finished();
      };
      worker.on("completed", (job) => {
        completed.add(job.id!);
        settle();
      });
      worker.on("failed", (job, error) => {
        if (job !== undefined) failed.set(job.id!, { reason: job.failedReason, error });
        settle();
      });

      const users = new Map<string, string>();
      for (let chunk = 0; chunk < JOBS; chunk += 1000) {
        const jobs = Array.from({ length: 1000 }, (_, k) => {
          const i = chunk + k;
          const userId = USERS[i % USERS.length]!;
          users.set(`run-${i}`, userId);
          return {
            name: "run",
            data: { runId: ulid(), appId: "shop", functionId: "fulfil-order", event: { name: "shop/order.placed", data: { userId, order: i } } },
            opts: { jobId: `run-${i}` },
          };
        });
        await queue.addBulk(jobs);
      }

      // Cancel while runs are in flight: some finished, some running, most waiting.
      await pollUntil(() => completed.size >= 500, "500 runs to complete", { timeoutMs: 60_000, intervalMs: 10 });
      const response = await fetch(`${url}/v1/cancellations`, {
        method: "POST",
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ app_id: "shop", function_id: "fulfil-order", started_before: new Date().toISOString(), if: `event.data.userId == '${TARGET}'` }),
      });
      cancelled = true;
      const stepsAtCancel = new Map(stepsStarted);
      expect(response.status).toBe(200);
      const cancellationId = ((await response.json()) as { id: string }).id;
      const inFlight = JOBS - completed.size - failed.size;
      expect(inFlight).toBeGreaterThan(1000);

      await allDone;
      expect(lateSteps).toBe(0);
      let stopped = 0;
      for (const [jobId, userId] of users) {
        if (userId !== TARGET) {
          expect(completed.has(jobId), `run ${jobId} of ${userId} finished`).toBe(true);
          expect(stepsStarted.get(jobId)).toBe(3);
          continue;
        }
        if ((stepsAtCancel.get(jobId) ?? 0) === 3) {
          // Its last step had begun: nothing left to stop.
          expect(completed.has(jobId)).toBe(true);
          continue;
        }
        // A step still to begin when the cancellation was created: stopped at its next step.
        const failure = failed.get(jobId);
        expect(failure, `run ${jobId} of ${TARGET} was stopped`).toBeDefined();
        expect(failure!.error).toBeInstanceOf(RunCancelledError);
        expect(failure!.reason).toContain(cancellationId);
        expect(stepsStarted.get(jobId) ?? 0).toBe(stepsAtCancel.get(jobId) ?? 0);
        stopped++;
      }
      expect(stopped).toBeGreaterThan(500);
      expect(failed.size).toBe(stopped);
      // The job records say so too.
      const sample = await queue.getFailed(0, 9);
      for (const job of sample) {
        expect(job.data.cancellationId).toBe(cancellationId);
        expect(job.failedReason).toBe(`run cancelled by cancellation ${cancellationId}`);
      }
    },
    240_000,
  );
});
