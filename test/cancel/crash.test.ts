/**
 * Crash test: a child process running a SQLite cancellation is killed with SIGKILL mid-job; a
 * fresh process resumes it; the result must equal an uninterrupted run over a copy of the data.
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { cancelRuns, type CancellationReport } from "../../src/cancel/index.js";
import { SqliteRunStore } from "../../src/stores/sqlite.js";
import type { OutcomeCounts } from "../../src/stores/types.js";
import { runningChildren, startJsonLineChild, type ChildExit } from "../support/child.js";
import { CRASH_BATCH_SIZE, CRASH_BODY, CRASH_NOW, crashRuns } from "./crash-fixture.js";

const CHILD = fileURLToPath(new URL("./crash-child.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "cancelkit-crash-"));
afterAll(() => {
  for (const child of runningChildren) child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

interface ChildLine {
  readonly progress?: OutcomeCounts;
  readonly id?: string;
  readonly report?: CancellationReport;
}

/** Runs the child; `onLine` may return true to kill it with SIGKILL. */
function runChild(args: readonly string[], onLine?: (line: ChildLine) => boolean): Promise<ChildExit<ChildLine>> {
  return startJsonLineChild<ChildLine>(CHILD, args, onLine).done;
}

function cancelledIds(path: string, id: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare("SELECT id FROM runs WHERE cancellation_id = ? AND status = 'cancelled' ORDER BY id").pluck().all(id) as string[]);
  } finally {
    db.close();
  }
}

function statuses(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare("SELECT id || ' ' || status FROM runs ORDER BY id").pluck().all() as string[];
  } finally {
    db.close();
  }
}

describe("crash test (SQLite, SIGKILL mid-job)", () => {
  it("resuming in a fresh process ends exactly like an uninterrupted run", async () => {
    const crashed = join(dir, "crashed.db");
    const reference = join(dir, "reference.db");
    const setup = new SqliteRunStore({ path: crashed });
    await setup.insertRuns(crashRuns());
    await setup.close();
    copyFileSync(crashed, reference);

    const straightStore = new SqliteRunStore({ path: reference });
    const straight = await cancelRuns(straightStore, CRASH_BODY, { batchSize: CRASH_BATCH_SIZE, now: CRASH_NOW });
    await straightStore.close();
    expect(straight.status).toBe("completed");
    expect(straight.outcomes.cancelled).toBeGreaterThan(3000);

    // Rate-limited so the job is surely still running when the parent kills it.
    const killAt = 1200;
    const first = await runChild(["start", crashed, "3000"], (line) => (line.progress?.cancelled ?? 0) >= killAt);
    expect(first.stderr).toBe("");
    expect(first.signal).toBe("SIGKILL");
    expect(first.lines.some((l) => l.report !== undefined)).toBe(false);
    const id = first.lines.find((l) => l.id !== undefined)!.id!;

    // The file as the crash left it: a running job with a checkpoint part-way through.
    const inspect = new SqliteRunStore({ path: crashed });
    const interrupted = (await inspect.getCancellation(id))!;
    await inspect.close();
    expect(interrupted.status).toBe("running");
    expect(interrupted.counts.cancelled).toBeGreaterThan(0);
    expect(interrupted.counts.cancelled).toBeLessThan(straight.outcomes.cancelled);
    const cancelledAtKill = cancelledIds(crashed, id).length;
    expect(cancelledAtKill).toBeGreaterThanOrEqual(interrupted.counts.cancelled);

    const second = await runChild(["resume", crashed, id]);
    expect(second.stderr).toBe("");
    expect(second.code).toBe(0);
    const resumed = second.lines.find((l) => l.report !== undefined)!.report!;
    expect(resumed.status).toBe("completed");
    expect(resumed.created).toBe(false);
    expect(resumed.outcomes).toEqual(straight.outcomes);
    expect(cancelledIds(crashed, id)).toEqual(cancelledIds(reference, straight.cancellation.id));
    expect(statuses(crashed)).toEqual(statuses(reference));
    console.info(
      `crash test: killed with ${cancelledAtKill} runs cancelled, checkpoint counting ${interrupted.counts.cancelled} of ${straight.outcomes.cancelled} ` +
        `(checkpoint at ${interrupted.counts.scanned} of ${straight.outcomes.scanned} scanned); resumed to ${JSON.stringify(resumed.outcomes)}`,
    );
  }, 60_000);
});
