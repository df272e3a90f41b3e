/**
 * Child process of the crash test (`node --import tsx test/cancel/crash-child.ts <mode> <db> …`).
 *
 * - `start <db> <rate>`: starts a cancellation over the SQLite file, printing one JSON line per
 *   progress event, until the parent kills it.
 * - `resume <db> <id>`: resumes the cancellation and prints its report as one JSON line.
 */
import { cancelRuns, resumeCancellation, type CancellationReport } from "../../src/cancel/index.js";
import { SqliteRunStore } from "../../src/stores/sqlite.js";
import { CRASH_BODY, CRASH_BATCH_SIZE, CRASH_NOW } from "./crash-fixture.js";

const [mode, path, arg] = process.argv.slice(2);
if (path === undefined || arg === undefined) throw new Error("usage: crash-child.ts start|resume <db> <rate|id>");
const store = new SqliteRunStore({ path });
let report: CancellationReport;
if (mode === "start") {
  report = await cancelRuns(store, CRASH_BODY, {
    batchSize: CRASH_BATCH_SIZE,
    ratePerSecond: Number(arg),
    now: CRASH_NOW,
    onProgress: (p) => process.stdout.write(`${JSON.stringify({ progress: p.counts, id: p.cancellationId })}\n`),
  });
} else if (mode === "resume") {
  report = await resumeCancellation(store, arg, { batchSize: CRASH_BATCH_SIZE });
} else {
  throw new Error(`unknown mode ${String(mode)}`);
}
await store.close();
process.stdout.write(`${JSON.stringify({ report })}\n`);
