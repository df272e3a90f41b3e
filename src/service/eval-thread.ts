/**
 * Body of an evaluator thread (`eval-pool.ts`): decides pages of events with a compiled `if` and
 * answers one decision code per event. Runs in a `node:worker_threads` worker; one request at a
 * time, so a thread busy with a costly page holds nobody else's.
 *
 * Message in: `{ id, source, events }`; out: `{ id, codes }` (the codes' buffer transferred) or
 * `{ id, error }`.
 *
 * @module
 */
import { parentPort } from "node:worker_threads";
import { decidePageCodes } from "../cancel/evaluator.js";
import { compileIf } from "../cancel/request.js";

/** A page to decide. */
interface PageRequest {
  readonly id: number;
  readonly source: string;
  readonly events: readonly unknown[];
}

const port = parentPort;
if (port === null) throw new Error("eval-thread.ts runs in a worker thread (see eval-pool.ts)");
port.on("message", (request: PageRequest) => {
  try {
    // Compiled programs are cached by source, so a job's pages compile once per thread.
    const codes = decidePageCodes(compileIf(request.source), request.events);
    port.postMessage({ id: request.id, codes }, [codes.buffer as ArrayBuffer]);
  } catch (error) {
    port.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) });
  }
});
