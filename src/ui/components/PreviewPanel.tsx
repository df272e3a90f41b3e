/**
 * The exact preview of a request: streamed counts (how many runs would be cancelled, already
 * finished, not matched, failed), a stop button, and a sample of the runs to be cancelled with
 * their start time and event. Event data is rendered as text (never as HTML).
 */
import type { Counts, SampleRun } from "../api.js";
import { count, shortJson, time } from "../format.js";

/** Where the preview stands. */
export type PreviewState =
  | { readonly state: "idle"; readonly reason: string }
  | { readonly state: "running"; readonly counts: Counts | undefined }
  | { readonly state: "done"; readonly counts: Counts; readonly sample: readonly SampleRun[]; readonly elapsedMs: number }
  | { readonly state: "stopped"; readonly counts: Counts | undefined }
  | { readonly state: "error"; readonly message: string };

export interface PreviewPanelProps {
  readonly preview: PreviewState;
  readonly onStop: () => void;
  readonly onRestart: () => void;
}

export function PreviewPanel(props: PreviewPanelProps) {
  const { preview } = props;
  const counts = preview.state === "running" || preview.state === "stopped" || preview.state === "done" ? preview.counts : undefined;
  const partial = preview.state === "running" || preview.state === "stopped";
  return (
    <section class="preview" aria-labelledby="preview-title" data-testid="preview" data-state={preview.state}>
      <h2 id="preview-title">Preview</h2>
      {preview.state === "idle" && <p class="hint">{preview.reason}</p>}
      {preview.state === "error" && (
        <p class="error" role="alert" data-testid="preview-error">
          {preview.message}
        </p>
      )}
      {(preview.state === "running" || preview.state === "stopped" || preview.state === "done") && (
        <>
          <p class="headline" aria-live="polite" aria-atomic="true">
            {partial && "At least "}
            <strong data-testid="preview-count">{String(counts?.cancelled ?? 0)}</strong> runs will be cancelled
            {preview.state === "running" && <span class="hint"> (counting: {count(counts?.scanned ?? 0)} runs of the window decided so far…)</span>}
            {preview.state === "stopped" && <span class="hint"> (preview stopped after {count(counts?.scanned ?? 0)} runs of the window)</span>}
            {preview.state === "done" && <span class="hint"> (exact: all {count(preview.counts.scanned)} runs of the window decided)</span>}
          </p>
          <dl class="figures">
            <div>
              <dt>Already finished (skipped)</dt>
              <dd data-testid="preview-finished">{String(counts?.skipped_terminal ?? 0)}</dd>
            </div>
            <div>
              <dt>Do not match</dt>
              <dd data-testid="preview-not-matched">{String(counts?.not_matched ?? 0)}</dd>
            </div>
            <div>
              <dt>Expression errors</dt>
              <dd data-testid="preview-errors">{String((counts?.expression_error ?? 0) + (counts?.non_boolean ?? 0))}</dd>
            </div>
          </dl>
          <div class="actions">
            {preview.state === "running" && (
              <button type="button" data-testid="preview-stop" onClick={props.onStop}>
                Stop the preview
              </button>
            )}
            {preview.state === "stopped" && (
              <button type="button" onClick={props.onRestart}>
                Run the preview again
              </button>
            )}
          </div>
        </>
      )}
      {preview.state === "done" && preview.sample.length > 0 && (
        <div class="scroll" role="region" aria-label="Sample of the runs to be cancelled" tabIndex={0}>
          <table data-testid="preview-sample">
            <caption>
              The first {preview.sample.length} of the {count(preview.counts.cancelled)} runs to be cancelled
            </caption>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Started</th>
                <th scope="col">Status</th>
                <th scope="col">Event</th>
              </tr>
            </thead>
            <tbody>
              {preview.sample.map((run) => (
                <tr key={run.id}>
                  <td>
                    <code>{run.id}</code>
                  </td>
                  <td>{time(run.started_at)}</td>
                  <td>{run.status}</td>
                  <td>
                    <code class="event">
                      {typeof run.event.name === "string" ? `${run.event.name} ` : ""}
                      {shortJson(run.event.data)}
                    </code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
