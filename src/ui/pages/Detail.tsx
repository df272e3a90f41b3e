/**
 * One cancellation: its status, a live progress bar (rate, ETA) fed by the job's server-sent
 * events, the outcome ledger, the request, and Delete.
 */
import { useState } from "preact/hooks";
import { deleteCancellation, type Cancellation, type Counts } from "../api.js";
import { ConfirmDialog } from "../components/ConfirmDialog.js";
import { CountsTable } from "../components/Counts.js";
import { count, duration, time } from "../format.js";
import { href, navigate } from "../router.js";
import { fractionDone, useCancellation } from "../useCancellation.js";
import { usePageHeading } from "../usePageTitle.js";

/** The request of a cancellation: function, window and expression. */
function RequestList(props: { readonly record: Cancellation }) {
  const record = props.record;
  return (
    <dl class="request">
      <dt>App</dt>
      <dd>{record.app_id}</dd>
      <dt>Function</dt>
      <dd>{record.function_id}</dd>
      <dt>Started after</dt>
      <dd>{record.started_after === null ? "no lower bound" : `${time(record.started_after)} (${record.started_after})`}</dd>
      <dt>Started before</dt>
      <dd>
        {time(record.started_before)}
        {record.started_before !== null && ` (${record.started_before})`}
      </dd>
      <dt>Expression</dt>
      <dd>{record.if === null ? "none: every run of the window" : <pre class="code" data-testid="cancellation-expression">{record.if}</pre>}</dd>
      <dt>Created</dt>
      <dd>{time(record.created_at)}</dd>
    </dl>
  );
}

export function DetailPage(props: { readonly id: string }) {
  const heading = usePageHeading(`Cancellation ${props.id}`);
  const [record, error] = useCancellation(props.id);
  const [confirming, setConfirming] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<string | undefined>(undefined);

  const remove = async (): Promise<void> => {
    setDeleting(true);
    setDeleteError(undefined);
    try {
      await deleteCancellation(props.id);
      setConfirming(false);
      navigate(["history"], { deleted: props.id });
    } catch (failure) {
      setDeleteError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setDeleting(false);
    }
  };

  const running = record?.status === "running";
  // A finished job is all done; one that stopped early (aborted, failed, max runs) shows no bar.
  const fraction = record === undefined ? undefined : running ? fractionDone(record.progress) : record.status === "completed" ? 1 : undefined;
  const showBar = running || record?.status === "completed";
  const counts: Counts | undefined = record?.counts;
  return (
    <section>
      <p class="crumbs">
        <a href={href(["history"])}>History</a> ›
      </p>
      <h1 ref={heading} tabIndex={-1}>
        Cancellation <code>{props.id}</code>
      </h1>
      {error !== undefined && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {record !== undefined && counts !== undefined && (
        <>
          {record.unreadable !== undefined && (
            <p class="error" role="alert" data-testid="cancellation-unreadable">
              Part of this record cannot be read back ({record.unreadable}); those values show as “—”.
            </p>
          )}
          <div class="status-line">
            <span>Status: </span>
            <strong class={`status status-${record.status}`} data-testid="cancellation-status" aria-live="polite">
              {record.status}
            </strong>
          </div>
          <div class="progress-block">
            {showBar && (
              <>
                <label for="job-progress">Progress</label>
                <progress id="job-progress" max={1} value={fraction} data-testid="cancellation-progress">
                  {fraction === undefined ? "unknown" : `${Math.round(fraction * 100)}%`}
                </progress>
              </>
            )}
            <p class="hint" aria-live="polite">
              {running
                ? `${count(counts.scanned)} runs decided, ${count(counts.cancelled)} cancelled · ${count(record.progress?.scanned_per_second ?? 0)} runs/s · ETA ${duration(record.progress?.eta_seconds)}`
                : `${count(counts.scanned)} runs decided, ${count(counts.cancelled)} cancelled · ${record.status === "completed" ? "finished" : `stopped (${record.status})`} ${time(record.updated_at)}`}
            </p>
          </div>
          <CountsTable counts={counts} caption="Outcome of every run of the window" testIdPrefix="count" />
          <h2>Request</h2>
          <RequestList record={record} />
          <h2>Delete</h2>
          <p>Deleting stops the job if it is still running and removes the record. Runs already cancelled stay cancelled.</p>
          <button type="button" class="danger" data-testid="delete-cancellation" onClick={() => setConfirming(true)}>
            Delete this cancellation…
          </button>
        </>
      )}
      {record === undefined && error === undefined && <p role="status">Loading…</p>}
      <ConfirmDialog
        open={confirming}
        title="Delete this cancellation?"
        confirmLabel="Delete"
        confirmTestId="confirm-delete"
        danger
        busy={deleting}
        onConfirm={() => void remove()}
        onCancel={() => setConfirming(false)}
      >
        <p>
          The record is removed{running ? " and its job stops" : ""}. This will not affect runs already cancelled: they stay cancelled
          {counts !== undefined ? ` (${count(counts.cancelled)} so far)` : ""}.
        </p>
        {deleteError !== undefined && (
          <p class="error" role="alert">
            {deleteError}
          </p>
        )}
      </ConfirmDialog>
    </section>
  );
}
