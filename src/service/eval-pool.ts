/**
 * The service's evaluator threads ({@link EvaluatorPool}): jobs, dry runs and previews hand each
 * page of runs to a `node:worker_threads` thread that decides it with the compiled `if`, so the
 * HTTP event loop never runs an expression (see `docs/reliability-jobs.md`).
 *
 * Why threads, and this shape:
 * - **Threads, not time slices.** A slice can only be cut between evaluations, and one evaluation
 *   may run as long as its cost budget allows; a thread bounds nothing but needs no cut: the event
 *   loop stays free whatever one evaluation costs, and a thread can be stopped in the middle of one
 *   (`worker.terminate()`), which a slice of JavaScript on the main thread cannot.
 * - **Only evaluation moves.** The scan loop, the store and its connection stay on the main thread;
 *   a thread receives a page's events and answers one byte per run. Every store works unchanged
 *   (the memory store's data is the main thread's own; SQLite keeps one connection and one writer;
 *   PostgreSQL its pool), and the checkpoint logic, leases and progress are the library's.
 * - **A small pool, one chunk per thread.** At most `size` threads (a core stays with the event
 *   loop), created when first needed and kept; a page is cut into chunks of 100 runs queued in
 *   order of arrival, so the pages of several jobs take turns and a costly job cannot starve another. Evaluation is pure, so a thread can be thrown away at
 *   any time: an abort (DELETE, shutdown, a client closing a preview) terminates the thread busy
 *   with that job's page at once, and the next page gets a fresh thread. A thread's heap is capped
 *   (`maxHeapMb`): an expression that exhausts it fails its job, not the process.
 *
 * @module
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { PageEvaluator } from "../cancel/evaluator.js";
import type { Program } from "../expr/program.js";
import type { RunRecord } from "../stores/types.js";

/** Options of {@link EvaluatorPool}. */
export interface EvaluatorPoolOptions {
  /**
   * Most threads. Default: the machine's parallelism less one (a core stays with the event loop),
   * at least 1 and at most 4.
   */
  readonly size?: number;
  /** Heap limit of each thread, MiB (`resourceLimits.maxOldGenerationSizeMb`). Default 512. */
  readonly maxHeapMb?: number;
  /** Most runs a thread decides in one go: the turn pages of several jobs take. Default 100. */
  readonly chunkSize?: number;
}

/** A page waiting for, or on, a thread. */
interface Task {
  readonly id: number;
  readonly source: string;
  readonly events: readonly unknown[];
  readonly resolve: (codes: Uint8Array) => void;
  readonly reject: (error: Error) => void;
}

/** One thread and the task it runs. */
interface Slot {
  readonly worker: Worker;
  task: Task | undefined;
}

function abortError(): Error {
  const error = new Error("the evaluation was aborted");
  error.name = "AbortError";
  return error;
}

/**
 * How a thread loads its body: the built `eval-thread.js` beside this module, or, when the
 * sources run directly (tests, `tsx`), the TypeScript file through tsx's loader.
 */
function spawnThread(maxHeapMb: number): Worker {
  const resourceLimits = { maxOldGenerationSizeMb: maxHeapMb };
  if (import.meta.url.endsWith(".ts")) {
    const body = new URL("./eval-thread.ts", import.meta.url).href;
    const code = `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(body)}); });`;
    return new Worker(code, { eval: true, resourceLimits });
  }
  return new Worker(new URL("./eval-thread.js", import.meta.url), { resourceLimits });
}

/**
 * A small pool of evaluator threads: a {@link PageEvaluator} for `ResumeOptions.evaluator`. See
 * the module comment. {@link EvaluatorPool.close} terminates every thread.
 */
export class EvaluatorPool implements PageEvaluator {
  readonly #size: number;
  readonly #maxHeapMb: number;
  readonly #chunkSize: number;
  readonly #slots = new Set<Slot>();
  readonly #queue: Task[] = [];
  #nextId = 0;
  #closed = false;

  /**
   * @param options - See {@link EvaluatorPoolOptions}.
   * @throws RangeError for a bad size or heap limit.
   */
  constructor(options: EvaluatorPoolOptions = {}) {
    const size = options.size ?? Math.min(4, Math.max(1, availableParallelism() - 1));
    const maxHeapMb = options.maxHeapMb ?? 512;
    if (!Number.isSafeInteger(size) || size < 1 || size > 64) throw new RangeError("EvaluatorPool: size must be an integer from 1 to 64");
    if (!Number.isSafeInteger(maxHeapMb) || maxHeapMb < 16) throw new RangeError("EvaluatorPool: maxHeapMb must be an integer of at least 16");
    const chunkSize = options.chunkSize ?? 100;
    if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new RangeError("EvaluatorPool: chunkSize must be a positive integer");
    this.#size = size;
    this.#maxHeapMb = maxHeapMb;
    this.#chunkSize = chunkSize;
  }

  /** Whether {@link EvaluatorPool.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Threads running now (busy or idle). */
  get threads(): number {
    return this.#slots.size;
  }

  /**
   * {@inheritDoc PageEvaluator.decide}
   *
   * The page goes to the threads in chunks of at most `chunkSize` runs, queued in order of
   * arrival, so that the pages of several jobs take turns on the threads chunk by chunk. An abort
   * drops the page's queued chunks and terminates the threads busy with the others, at once.
   */
  decide(program: Program, runs: readonly RunRecord[], signal: AbortSignal | undefined): Promise<Uint8Array> {
    if (this.#closed || signal?.aborted === true) return Promise.reject(abortError());
    return new Promise<Uint8Array>((resolve, reject) => {
      const codes = new Uint8Array(runs.length);
      const tasks: Task[] = [];
      let remaining = Math.ceil(runs.length / this.#chunkSize);
      let settled = false;
      const finish = (error?: Error): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener("abort", onAbort);
        if (error === undefined) return resolve(codes);
        // The other chunks are not needed any more.
        for (const task of tasks) this.#drop(task);
        this.#dispatch();
        reject(error);
      };
      const onAbort = (): void => finish(abortError());
      for (let from = 0; from < runs.length; from += this.#chunkSize) {
        const part = runs.slice(from, from + this.#chunkSize);
        tasks.push({
          id: this.#nextId++,
          source: program.source,
          events: part.map((run) => run.event),
          resolve: (answer) => {
            if (answer.length !== part.length) return finish(new Error(`an evaluator thread answered ${answer.length} decisions for ${part.length} runs`));
            codes.set(answer, from);
            if (--remaining === 0) finish();
          },
          reject: finish,
        });
      }
      if (remaining === 0) return finish();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#queue.push(...tasks);
      this.#dispatch();
    });
  }

  /** Hands queued tasks to idle threads, starting threads up to the pool's size. */
  #dispatch(): void {
    while (this.#queue.length > 0 && !this.#closed) {
      let slot: Slot | undefined;
      for (const candidate of this.#slots) if (candidate.task === undefined) slot = candidate;
      if (slot === undefined) {
        if (this.#slots.size >= this.#size) return;
        slot = this.#startThread();
      }
      const task = this.#queue.shift()!;
      slot.task = task;
      // A busy thread keeps the process alive (a job awaiting its page); an idle one does not.
      slot.worker.ref();
      slot.worker.postMessage({ id: task.id, source: task.source, events: task.events });
    }
  }

  #startThread(): Slot {
    const worker = spawnThread(this.#maxHeapMb);
    const slot: Slot = { worker, task: undefined };
    this.#slots.add(slot);
    // Idle threads must not keep the process alive.
    worker.unref();
    worker.on("message", (message: { id: number; codes?: Uint8Array; error?: string }) => {
      const task = slot.task;
      if (task === undefined || task.id !== message.id) return;
      slot.task = undefined;
      worker.unref();
      if (message.codes !== undefined) task.resolve(message.codes);
      else task.reject(new Error(`evaluating the expression failed: ${message.error ?? "unknown error"}`));
      this.#dispatch();
    });
    const lost = (reason: string): void => {
      if (!this.#slots.delete(slot)) return;
      const task = slot.task;
      slot.task = undefined;
      if (task !== undefined) task.reject(new Error(`the evaluator thread ${reason}`));
      this.#dispatch();
    };
    worker.on("error", (error) => lost(`failed: ${error.message}`));
    worker.on("exit", (code) => lost(`exited (code ${code})`));
    return slot;
  }

  /** Takes a task off the queue, or terminates the thread running it (a fresh one takes the next task). */
  #drop(task: Task): void {
    const queued = this.#queue.indexOf(task);
    if (queued >= 0) this.#queue.splice(queued, 1);
    for (const slot of this.#slots) {
      if (slot.task !== task) continue;
      slot.task = undefined;
      this.#slots.delete(slot);
      void slot.worker.terminate();
    }
  }

  /** Terminates every thread; queued and running pages reject as aborted. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const tasks = [...this.#queue.splice(0)];
    const slots = [...this.#slots];
    this.#slots.clear();
    for (const slot of slots) if (slot.task !== undefined) tasks.push(slot.task);
    for (const task of tasks) task.reject(abortError());
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }
}

let shared: EvaluatorPool | undefined;

/**
 * The process's shared pool (created on first use, default options), which every server uses
 * unless given another evaluator: threads are few and costly to start, so servers and jobs of one
 * process share them. Its idle threads keep nothing alive; an abort still stops just its own page.
 */
export function sharedEvaluatorPool(): EvaluatorPool {
  if (shared === undefined || shared.closed) shared = new EvaluatorPool();
  return shared;
}
