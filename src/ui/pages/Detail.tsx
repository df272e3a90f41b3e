/**
 * One cancellation: its status, a live progress bar (rate, ETA) fed by the job's server-sent
 * events, the outcome ledger, the request, and Delete.
 */
import { useEffect, useState } from "preact/hooks";
import { deleteCancellation, followEvents, getCancellation, type Cancellation, type Counts, type Progress } from "../api.js";
import { ConfirmDialog } from "../components/ConfirmDialog.js";
import { CountsTable } from "../components/Counts.js";
import { count, duration, time } from "../format.js";
import { href, navigate } from "../router.js";
import { usePageHeading } from "../usePageTitle.js";

/** Poll interval when the event stream cannot be followed, ms. */
const POLL_MS = 2000;

/** Share done, 0 to 1, from the elapsed time and the ETA; `undefined` while unknown. */
function fractionDone(progress: Progress | null | undefined): number | undefined {
  if (progress === null || progress === undefined || progress.eta_seconds === null) return undefined;
  const elapsed = progress.elapsed_ms / 1000;
  if (progress.eta_seconds <= 0) return 1;
  const total = elapsed + progress.eta_seconds;
  return total > 0 ? Math.min(1, Math.max(0, elapsed / total)) : undefined;
}

export function DetailPage(props: { readonly id: string }) {
  const heading = usePageHeading(`Cancellation ${props.id}`);
  const [record, setRecord] = useState<Cancellation | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [confirming, setConfirming] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<string | undefined>(undefined);

  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async (): Promise<Cancellation | undefined> => {
      try {
        const current = await getCancellation(props.id);
        if (!controller.signal.aborted) setRecord(current);
        return current;
      } catch (failure) {
        if (!controller.signal.aborted) setError(failure instanceof Error ? failure.message : String(failure));
        return undefined;
      }
    };
    const poll = async (): Promise<void> => {
      const current = await load();
      if (current?.status === "running" && !controller.signal.aborted) timer = setTimeout(() => void poll(), POLL_MS);
    };
    const follow = async (): Promise<void> => {
      const first = await load();
      if (first === undefined || first.status !== "running") return;
      try {
        await followEvents(props.id, controller.signal, (event) => {
          if (event.event === "progress") {
            const data = event.data as Progress & { status: string };
            setRecord((previous) => (previous === undefined ? previous : { ...previous, status: data.status, counts: data.counts, progress: data }));
          } else if (event.event === "done" || event.event === "interrupted") {
            setRecord({ ...(event.data as Cancellation), progress: null });
          } else if (event.event === "deleted") {
            setError("This cancellation was deleted.");
          }
        });
      } catch {
        // The stream broke (a proxy, a restart): fall back to polling.
      }
      if (!controller.signal.aborted) await poll();
    };
    void follow();
    return () => {
      controller.abort();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [props.id]);

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
          <dl class="request">
            <dt>App</dt>
            <dd>{record.app_id}</dd>
            <dt>Function</dt>
            <dd>{record.function_id}</dd>
            <dt>Started after</dt>
            <dd>{record.started_after === null ? "no lower bound" : `${time(record.started_after)} (${record.started_after})`}</dd>
            <dt>Started before</dt>
            <dd>
              {time(record.started_before)} ({record.started_before})
            </dd>
            <dt>Expression</dt>
            <dd>{record.if === null ? "none: every run of the window" : <pre class="code" data-testid="cancellation-expression">{record.if}</pre>}</dd>
            <dt>Created</dt>
            <dd>{time(record.created_at)}</dd>
          </dl>
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
