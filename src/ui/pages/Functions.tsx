/** The functions of the environment: runs by status and the span of their start times. */
import { useEffect, useState } from "preact/hooks";
import { listFunctions, type FunctionSummary } from "../api.js";
import { count, time } from "../format.js";
import { href } from "../router.js";
import { usePageHeading } from "../usePageTitle.js";

const ACTIVE = ["running", "queued", "sleeping", "waiting"] as const;
const FINISHED = ["completed", "failed", "cancelled"] as const;

export function FunctionsPage() {
  const heading = usePageHeading("Functions");
  const [functions, setFunctions] = useState<FunctionSummary[] | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    const controller = new AbortController();
    listFunctions(controller.signal).then(setFunctions, (failure: unknown) => {
      if (!controller.signal.aborted) setError(failure instanceof Error ? failure.message : String(failure));
    });
    return () => controller.abort();
  }, []);
  return (
    <section>
      <h1 ref={heading} tabIndex={-1}>
        Functions
      </h1>
      <p>Every app and function of this environment with its runs by status. Pick one to cancel some of its runs.</p>
      {error !== undefined && (
        <p class="error" role="alert">
          Could not load the functions: {error}
        </p>
      )}
      {functions === undefined && error === undefined && <p role="status">Loading…</p>}
      {functions !== undefined && functions.length === 0 && <p>This environment has no runs yet.</p>}
      {functions !== undefined && functions.length > 0 && (
        <div class="scroll" role="region" aria-label="Functions table" tabIndex={0}>
          <table data-testid="functions-table">
            <caption class="visually-hidden">Runs by status per function</caption>
            <thead>
              <tr>
                <th scope="col">App</th>
                <th scope="col">Function</th>
                {ACTIVE.map((status) => (
                  <th scope="col" class="num" key={status}>
                    {status}
                  </th>
                ))}
                <th scope="col" class="num" title="completed, failed or cancelled">
                  finished
                </th>
                <th scope="col">First run started</th>
                <th scope="col">Last run started</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {functions.map((fn) => {
                const finished = FINISHED.reduce((sum, status) => sum + (fn.runs[status] ?? 0), 0);
                return (
                  <tr key={`${fn.app_id}\u0000${fn.function_id}`}>
                    <td>{fn.app_id}</td>
                    <td>{fn.function_id}</td>
                    {ACTIVE.map((status) => (
                      <td class="num" key={status}>
                        {count(fn.runs[status] ?? 0)}
                      </td>
                    ))}
                    <td class="num">{count(finished)}</td>
                    <td>{time(fn.first_started_at)}</td>
                    <td>{time(fn.last_started_at)}</td>
                    <td class="row-actions">
                      <a href={href(["new"], { app: fn.app_id, function: fn.function_id })}>
                        Cancel runs<span class="visually-hidden"> of {fn.function_id}</span>
                      </a>{" "}
                      <a href={href(["history"], { app: fn.app_id, function: fn.function_id })}>
                        History<span class="visually-hidden"> of {fn.function_id}</span>
                      </a>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
