/**
 * Create a cancellation: app and function, a window, an expression checked as it is typed, an
 * exact preview that follows the inputs, then a confirmed submit.
 *
 * The page's query prefills it: `app`, `function`, `if`, and either `hours` (a window ending now)
 * or `after` / `before` (RFC 3339).
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { createCancellation, listFunctions, type CancellationBody, type FunctionSummary } from "../api.js";
import { ConfirmDialog } from "../components/ConfirmDialog.js";
import { ExpressionEditor, type CheckState } from "../components/ExpressionEditor.js";
import { ConfirmText, FunctionFields, WindowFields } from "../components/CreateFields.js";
import { PreviewPanel } from "../components/PreviewPanel.js";
import { count, fromLocalInput, toLocalInput } from "../format.js";
import { navigate } from "../router.js";
import { usePageHeading } from "../usePageTitle.js";
import { usePreview } from "../usePreview.js";

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
  const [confirming, setConfirming] = useState(false);
  const [submitting, setSubmitting] = useState(false);
  const [submitError, setSubmitError] = useState<string | undefined>(undefined);
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

  const [previewState, stopPreview, restartPreview] = usePreview(request, requestKey, expressionReady, expressionInvalid);

  const cancelledSoFar = previewState.state === "running" || previewState.state === "stopped" ? (previewState.counts?.cancelled ?? 0) : 0;
  const canSubmit =
    typeof request !== "string" &&
    !expressionInvalid &&
    expressionReady &&
    !submitting &&
    ((previewState.state === "done" && previewState.counts.cancelled > 0) || (previewState.state === "running" && cancelledSoFar > 0) || previewState.state === "stopped");
  const exact = previewState.state === "done";
  const expected = exact ? previewState.counts.cancelled : cancelledSoFar;

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
        <FunctionFields
          app={app}
          fn={fn}
          appOptions={appOptions}
          functionOptions={functionOptions}
          onApp={(name) => {
            setApp(name);
            setFn("");
          }}
          onFunction={setFn}
        />
        <WindowFields value={timeWindow} onChange={setTimeWindow} />
        <ExpressionEditor value={expression} onInput={setExpression} onCheck={setCheck} />
        <PreviewPanel
          preview={previewState}
          onStop={stopPreview}
          onRestart={restartPreview}
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
        {typeof request !== "string" && <ConfirmText request={request} exact={exact} expected={expected} />}
      </ConfirmDialog>
    </section>
  );
}
