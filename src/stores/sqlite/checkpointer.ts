/**
 * WAL checkpoints on a thread of their own ({@link WalCheckpointer}): a second connection to the
 * file copies committed WAL frames into the database every few milliseconds while the file is
 * written, backing off to once a second while it is not (`PRAGMA wal_checkpoint(PASSIVE)`, which
 * never blocks readers or the writer), so the store's own
 * connection does not stop at a commit to do it. On the 1 M-run exact-pushdown bench the inline
 * checkpoints were about a sixth of a SQLite job's time (bench/RESULTS.md).
 *
 * The store keeps its own automatic checkpoint as a backstop at {@link BACKSTOP_PAGES}: should
 * the thread fall behind or die, the WAL stays bounded all the same.
 *
 * @module
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** WAL pages at which the store's own connection checkpoints anyway (SQLite's default is 1000). */
export const BACKSTOP_PAGES = 10_000;

/** Pause between two looks of the thread while the file is being written, ms. */
const BUSY_PAUSE_MS = 50;

/** Longest pause of the thread while nothing commits, ms: an idle store wakes it once a second. */
const IDLE_PAUSE_MS = 1000;

/**
 * The thread's body, CommonJS run with `eval` (no file to locate beside this module, built or
 * not): open the file and, after each pause, checkpoint it passively if another connection
 * committed since the last look (`PRAGMA data_version` changed; reading it costs no I/O) or the
 * last checkpoint stopped short (busy, or frames a reader's snapshot still needed). The pause is
 * `busyMs` after a look that checkpointed or failed, else twice the last one up to `idleMs`: the
 * first commits after an idle spell wait at most `idleMs` for their checkpoint (the store's
 * backstop bounds the WAL meanwhile). A look that fails (the file busy past the timeout) is tried
 * again; the thread closes on any message. A failure to open ends the thread with the error,
 * which the store ignores (the backstop remains).
 */
const THREAD_BODY = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.path, { timeout: workerData.busyTimeoutMs });
db.pragma("wal_autocheckpoint = 0");
let seen;
let unfinished = false;
let pause = workerData.busyMs;
let timer;
const look = () => {
  let worked = true;
  try {
    const version = db.pragma("data_version", { simple: true });
    worked = version !== seen || unfinished;
    if (worked) {
      const [done] = db.pragma("wal_checkpoint(PASSIVE)");
      seen = version;
      unfinished = done.busy !== 0 || done.log !== done.checkpointed;
    }
  } catch {
    // Busy past the timeout: look again soon.
  }
  pause = worked ? workerData.busyMs : Math.min(workerData.idleMs, pause * 2);
  timer = setTimeout(look, pause);
};
timer = setTimeout(look, pause);
parentPort.once("message", () => {
  clearTimeout(timer);
  db.close();
  parentPort.close();
});
`;

/** A thread checkpointing one database file's WAL until {@link WalCheckpointer.stop}. */
export class WalCheckpointer {
  readonly #worker: Worker;
  readonly #exited: Promise<void>;

  /** Starts the thread on `path` (a file, not `:memory:`). */
  constructor(path: string, busyTimeoutMs: number) {
    const driver = createRequire(import.meta.url).resolve("better-sqlite3");
    this.#worker = new Worker(THREAD_BODY, { eval: true, workerData: { driver, path, busyTimeoutMs, busyMs: BUSY_PAUSE_MS, idleMs: IDLE_PAUSE_MS } });
    // A store left open must not keep the process alive for its checkpoints.
    this.#worker.unref();
    // A thread that failed (the file vanished, say) only leaves the backstop to checkpoint.
    this.#exited = new Promise((resolve) => this.#worker.once("exit", () => resolve()));
    this.#worker.on("error", () => undefined);
  }

  /** Stops the thread and waits until it closed its connection. Idempotent. */
  async stop(): Promise<void> {
    // Held again, or a process with nothing else to do would exit before the thread closed.
    this.#worker.ref();
    this.#worker.postMessage("stop");
    await this.#exited;
  }
}
