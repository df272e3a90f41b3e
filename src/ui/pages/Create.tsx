/**
 * Create a cancellation: app and function, a window, an expression checked as it is typed, an
 * exact preview that follows the inputs, then a confirmed submit.
 *
 * The page's query prefills it: `app`, `function`, `if`, and either `hours` (a window ending now)
 * or `after` / `before` (RFC 3339).
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError, createCancellation, listFunctions, preview, type CancellationBody, type FunctionSummary } from "../api.js";
import { ConfirmDialog } from "../components/ConfirmDialog.js";
import { ExpressionEditor, type CheckState } from "../components/ExpressionEditor.js";
import { PreviewPanel, type PreviewState } from "../components/PreviewPanel.js";
import { count, fromLocalInput, time, toLocalInput } from "../format.js";
import { navigate } from "../router.js";
import { usePageHeading } from "../usePageTitle.js";

/** Wait after the last change of an input before previewing, ms. */
const PREVIEW_DELAY_MS = 300;

const QUICK_RANGES: readonly { readonly label: string; readonly hours: number }[] = [
  { label: "Last hour", hours: 1 },
  { label: "Last 24 hours", hours: 24 },
  { label: "Last 7 days", hours: 24 * 7 },
];

/**
 * A random `Idempotency-Key` for one submit. (`crypto.randomUUID` exists only in secure contexts;
 * `getRandomValues` also over plain HTTP to a non-loopback host.)
 */
function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `ui-${Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

function initialWindow(query: URLSearchParams): { after: string; before: string } {
  const now = Date.now();
  const at = (text: string | null): number | undefined => {
    const ms = text === null ? NaN : Date.parse(text);
    return Number.isNaN(ms) ? undefined : ms;
  };
  const hours = Number(query.get("hours") ?? "24");
  const before = at(query.get("before")) ?? now;
  const after = at(query.get("after")) ?? before - (Number.isFinite(hours) && hours > 0 ? hours : 24) * 3_600_000;
  return { after: toLocalInput(after), before: toLocalInput(before) };
}

/** The request the inputs describe, or why there is none yet. */
function requestOf(app: string, fn: string, after: string, before: string, expression: string): CancellationBody | string {
  if (app === "") return "Pick an app.";
  if (fn === "") return "Pick a function.";
  const startedBefore = fromLocalInput(before);
  if (startedBefore === undefined) return "Set “started before”.";
  const startedAfter = fromLocalInput(after);
  return {
    app_id: app,
    function_id: fn,
    ...(startedAfter !== undefined ? { started_after: startedAfter } : {}),
    started_before: startedBefore,
    ...(expression.trim() !== "" ? { if: expression } : {}),
  };
}

export function CreatePage(props: { readonly query: URLSearchParams }) {
  const heading = usePageHeading("New cancellation");
  const [functions, setFunctions] = useState<FunctionSummary[] | undefined>(undefined);
  const [loadError, setLoadError] = useState<string | undefined>(undefined);
  const [app, setApp] = useState(props.query.get("app") ?? "");
  const [fn, setFn] = useState(props.query.get("function") ?? "");
  const [timeWindow, setTimeWindow] = useState(() => initialWindow(props.query));
  const [expression, setExpression] = useState(props.query.get("if") ?? "");
  const [check, setCheck] = useState<CheckState>({ state: "empty" });
  const [previewState, setPreview] = useState<PreviewState>({ state: "idle", reason: "Pick an app and a function." });
  const [previewRun, setPreviewRun] = useState(0);
  const [confirming, setConfirming] = useState(false);
  const [submitting, setSubmitting] = useState(false);
  const [submitError, setSubmitError] = useState<string | undefined>(undefined);
  const stopPreview = useRef<(() => void) | undefined>(undefined);
  const idempotencyKey = useRef<string>(newIdempotencyKey());

  useEffect(() => {
    const controller = new AbortController();
    listFunctions(controller.signal).then(setFunctions, (failure: unknown) => {
      if (!controller.signal.aborted) setLoadError(failure instanceof Error ? failure.message : String(failure));
    });
    return () => controller.abort();
  }, []);

  const apps = useMemo(() => [...new Set((functions ?? []).map((entry) => entry.app_id))].sort(), [functions]);
  const appFunctions = useMemo(() => (functions ?? []).filter((entry) => entry.app_id === app).map((entry) => entry.function_id).sort(), [functions, app]);
  // Names from the query that the environment does not list (no runs yet) stay selectable.
  const appOptions = app !== "" && !apps.includes(app) ? [app, ...apps] : apps;
  const functionOptions = fn !== "" && !appFunctions.includes(fn) ? [fn, ...appFunctions] : appFunctions;

  const request = requestOf(app, fn, timeWindow.after, timeWindow.before, expression);
  const expressionReady =
    expression.trim() === "" || (check.state === "done" && check.expression === expression && check.result.valid);
  const expressionInvalid = check.state === "done" && check.expression === expression && !check.result.valid;
  const requestKey = typeof request === "string" ? request : JSON.stringify(request);

  // The preview follows the inputs: each change aborts the running one (which stops its scan on
  // the service) and starts another once the inputs rest.
  useEffect(() => {
    if (typeof request === "string") {
      setPreview({ state: "idle", reason: request });
      return;
    }
    if (expressionInvalid) {
      setPreview({ state: "idle", reason: "Fix the expression to see the preview." });
      return;
    }
    if (!expressionReady) {
      setPreview({ state: "idle", reason: "Checking the expression…" });
      return;
    }
    const controller = new AbortController();
    let stoppedByUser = false;
    let latest: PreviewState = { state: "running", counts: undefined };
    const timer = setTimeout(() => {
      setPreview(latest);
      preview(request, controller.signal, (line) => {
        if (line.type === "progress") latest = { state: "running", counts: line.counts };
        else if (line.type === "done") latest = { state: "done", counts: line.counts, sample: line.sample, elapsedMs: line.elapsed_ms };
        else latest = { state: "error", message: line.error };
        setPreview(latest);
      }).then(
        () => {
          if (latest.state === "running") setPreview({ state: "error", message: "The preview ended early: the service closed the stream." });
        },
        (failure: unknown) => {
          if (controller.signal.aborted) {
            if (stoppedByUser) setPreview({ state: "stopped", counts: latest.state === "running" ? latest.counts : undefined });
            return;
          }
          setPreview({ state: "error", message: failure instanceof ApiError ? failure.message : `The preview failed: ${String(failure)}` });
        },
      );
    }, PREVIEW_DELAY_MS);
    stopPreview.current = () => {
      stoppedByUser = true;
      controller.abort();
    };
    return () => {
      clearTimeout(timer);
      controller.abort();
      stopPreview.current = undefined;
    };
  }, [requestKey, expressionReady, expressionInvalid, previewRun]);

  const cancelledSoFar = previewState.state === "running" || previewState.state === "stopped" ? (previewState.counts?.cancelled ?? 0) : 0;
  const canSubmit =
    typeof request !== "string" &&
    !expressionInvalid &&
    expressionReady &&
    !submitting &&
    ((previewState.state === "done" && previewState.counts.cancelled > 0) || (previewState.state === "running" && cancelledSoFar > 0) || previewState.state === "stopped");
  const exact = previewState.state === "done";
  const expected = exact ? previewState.counts.cancelled : cancelledSoFar;

  const setQuickRange = (hours: number): void => {
    const now = Date.now();
    setTimeWindow({ after: toLocalInput(now - hours * 3_600_000), before: toLocalInput(now) });
  };

  const submit = async (): Promise<void> => {
    if (typeof request === "string") return;
    setSubmitting(true);
    setSubmitError(undefined);
    try {
      const created = await createCancellation(request, idempotencyKey.current);
      setConfirming(false);
      navigate(["cancellations", created.id]);
    } catch (failure) {
      setSubmitError(failure instanceof Error ? failure.message : String(failure));
      // Another attempt is another request (the failed one created nothing).
      idempotencyKey.current = newIdempotencyKey();
    } finally {
      setSubmitting(false);
    }
  };

  return (
    <section>
      <h1 ref={heading} tabIndex={-1}>
        New cancellation
      </h1>
      {loadError !== undefined && (
        <p class="error" role="alert">
          Could not load the functions: {loadError}
        </p>
      )}
      <form
        class="create"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          if (canSubmit) setConfirming(true);
        }}
      >
        <fieldset>
          <legend>Function</legend>
          <div class="row">
            <div class="field">
              <label for="app">App</label>
              <select
                id="app"
                data-testid="app-select"
                value={app}
                onChange={(event) => {
                  setApp(event.currentTarget.value);
                  setFn("");
                }}
              >
                <option value="">Choose an app…</option>
                {appOptions.map((name) => (
                  <option key={name} value={name}>
                    {name}
                  </option>
                ))}
              </select>
            </div>
            <div class="field">
              <label for="function">Function</label>
              <select id="function" data-testid="function-select" value={fn} disabled={app === ""} onChange={(event) => setFn(event.currentTarget.value)}>
                <option value="">Choose a function…</option>
                {functionOptions.map((name) => (
                  <option key={name} value={name}>
                    {name}
                  </option>
                ))}
              </select>
            </div>
          </div>
        </fieldset>
        <fieldset>
          <legend>Runs started in this window (inclusive, your local time)</legend>
          <div class="row">
            <div class="field">
              <label for="started-after">Started after</label>
              <input
                id="started-after"
                type="datetime-local"
                step={1}
                data-testid="started-after"
                value={timeWindow.after}
                onInput={(event) => setTimeWindow({ ...timeWindow, after: event.currentTarget.value })}
              />
            </div>
            <div class="field">
              <label for="started-before">Started before</label>
              <input
                id="started-before"
                type="datetime-local"
                step={1}
                required
                data-testid="started-before"
                value={timeWindow.before}
                onInput={(event) => setTimeWindow({ ...timeWindow, before: event.currentTarget.value })}
              />
            </div>
          </div>
          <div class="quick" role="group" aria-label="Quick ranges">
            {QUICK_RANGES.map((range) => (
              <button type="button" key={range.hours} onClick={() => setQuickRange(range.hours)}>
                {range.label}
              </button>
            ))}
          </div>
        </fieldset>
        <ExpressionEditor value={expression} onInput={setExpression} onCheck={setCheck} />
        <PreviewPanel
          preview={previewState}
          onStop={() => stopPreview.current?.()}
          onRestart={() => setPreviewRun((n) => n + 1)}
        />
        {submitError !== undefined && (
          <p class="error" role="alert">
            The cancellation was not created: {submitError}
          </p>
        )}
        <div class="actions">
          <button type="submit" class="danger" data-testid="submit-cancellation" disabled={!canSubmit}>
            Cancel {exact ? count(expected) : "the matching"} runs…
          </button>
        </div>
      </form>
      <ConfirmDialog
        open={confirming}
        title="Cancel these runs?"
        confirmLabel={exact ? `Cancel ${count(expected)} runs` : "Cancel the matching runs"}
        confirmTestId="confirm-submit"
        danger
        busy={submitting}
        onConfirm={() => void submit()}
        onCancel={() => setConfirming(false)}
      >
        {typeof request !== "string" && (
          <p>
            {exact ? (
              <>
                This cancels <strong>{count(expected)}</strong> runs
              </>
            ) : (
              <>
                This cancels <strong>at least {count(expected)}</strong> runs (the preview did not reach the end of the window)
              </>
            )}{" "}
            of <strong>{request.app_id}</strong> / <strong>{request.function_id}</strong> started between {time(request.started_after ?? null)} and{" "}
            {time(request.started_before)}
            {request.if !== undefined ? " whose event matches the expression" : ""}. Cancelled runs cannot be resumed.
          </p>
        )}
      </ConfirmDialog>
    </section>
  );
}
