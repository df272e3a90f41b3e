/** Every cancellation of the environment, newest first, paged and filterable by function. */
import { useEffect, useState } from "preact/hooks";
import { listCancellations, listFunctions, type Cancellation, type FunctionSummary } from "../api.js";
import { count, time } from "../format.js";
import { href, navigate } from "../router.js";
import { usePageHeading } from "../usePageTitle.js";

/** Cancellations per page. */
const PAGE_SIZE = 20;

export function HistoryPage(props: { readonly query: URLSearchParams }) {
  const heading = usePageHeading("History");
  const app = props.query.get("app") ?? undefined;
  const fn = props.query.get("function") ?? undefined;
  const deleted = props.query.get("deleted") ?? undefined;
  const [functions, setFunctions] = useState<FunctionSummary[]>([]);
  // Cursors of the pages before this one; the last is this page's.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<{ data: Cancellation[]; next_cursor: string | null } | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);

  useEffect(() => {
    const controller = new AbortController();
    listFunctions(controller.signal).then(setFunctions, () => undefined);
    return () => controller.abort();
  }, []);
  const cursor = cursors[cursors.length - 1];
  useEffect(() => {
    let live = true;
    setPage(undefined);
    listCancellations({
      limit: PAGE_SIZE,
      ...(cursor !== undefined ? { cursor } : {}),
      ...(app !== undefined && fn !== undefined ? { appId: app, functionId: fn } : {}),
    }).then(
      (result) => {
        if (live) setPage(result);
      },
      (failure: unknown) => {
        if (live) setError(failure instanceof Error ? failure.message : String(failure));
      },
    );
    return () => {
      live = false;
    };
  }, [cursor, app, fn]);

  const filterValue = app !== undefined && fn !== undefined ? JSON.stringify([app, fn]) : "";
  const options = functions.map((entry) => ({ value: JSON.stringify([entry.app_id, entry.function_id]), label: `${entry.app_id} / ${entry.function_id}` }));
  if (filterValue !== "" && !options.some((option) => option.value === filterValue)) options.unshift({ value: filterValue, label: `${app} / ${fn}` });
  return (
    <section>
      <h1 ref={heading} tabIndex={-1}>
        History
      </h1>
      {deleted !== undefined && (
        <p class="notice" role="status" data-testid="deleted-notice">
          Cancellation <code>{deleted}</code> was deleted. Runs it had cancelled stay cancelled.
        </p>
      )}
      <div class="field inline">
        <label for="history-filter">Function</label>
        <select
          id="history-filter"
          data-testid="history-filter"
          value={filterValue}
          onChange={(event) => {
            const value = event.currentTarget.value;
            if (value === "") navigate(["history"]);
            else {
              const [nextApp, nextFn] = JSON.parse(value) as [string, string];
              navigate(["history"], { app: nextApp, function: nextFn });
            }
          }}
        >
          <option value="">All functions</option>
          {options.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      </div>
      {error !== undefined && (
        <p class="error" role="alert">
          Could not load the cancellations: {error}
        </p>
      )}
      {page === undefined && error === undefined && <p role="status">Loading…</p>}
      {page !== undefined && page.data.length === 0 && <p data-testid="history-empty">No cancellations{filterValue !== "" ? " of this function" : ""} yet.</p>}
      {page !== undefined && page.data.length > 0 && (
        <div class="scroll" role="region" aria-label="Cancellations table" tabIndex={0}>
          <table data-testid="history-table">
            <caption class="visually-hidden">Cancellations, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">Function</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Cancelled
                </th>
                <th scope="col" class="num">
                  Scanned
                </th>
                <th scope="col">Expression</th>
                <th scope="col">Id</th>
              </tr>
            </thead>
            <tbody>
              {page.data.map((record) => (
                <tr key={record.id} data-testid="history-row">
                  <td>{time(record.created_at)}</td>
                  <td>
                    {record.app_id} / {record.function_id}
                  </td>
                  <td>
                    <span class={`status status-${record.status}`}>{record.status}</span>
                  </td>
                  <td class="num">{count(record.counts.cancelled)}</td>
                  <td class="num">{count(record.counts.scanned)}</td>
                  <td>
                    <code class="event">{record.if ?? "—"}</code>
                  </td>
                  <td>
                    <a href={href(["cancellations", record.id])}>
                      <code>{record.id}</code>
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div class="actions">
        <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          Newer
        </button>
        <button
          type="button"
          data-testid="history-older"
          disabled={page === undefined || page.next_cursor === null}
          onClick={() => page?.next_cursor != null && setCursors([...cursors, page.next_cursor])}
        >
          Older
        </button>
      </div>
    </section>
  );
}
