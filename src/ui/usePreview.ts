/**
 * The create page's exact preview: it follows the request, aborting a running preview (which
 * stops its scan on the service) at each change and starting another once the inputs rest.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, preview, type CancellationBody } from "./api.js";
import type { PreviewState } from "./components/PreviewPanel.js";

/** Wait after the last change of an input before previewing, ms. */
const PREVIEW_DELAY_MS = 300;

/**
 * The preview of `request` (or why there is none: a string), with a function that stops it and
 * one that starts it again.
 *
 * @param requestKey - Changes exactly when the request does (its JSON).
 */
export function usePreview(
  request: CancellationBody | string,
  requestKey: string,
  expressionReady: boolean,
  expressionInvalid: boolean,
): [PreviewState, () => void, () => void] {
  const [previewState, setPreview] = useState<PreviewState>({ state: "idle", reason: "Pick an app and a function." });
  const [previewRun, setPreviewRun] = useState(0);
  const stopPreview = useRef<(() => void) | undefined>(undefined);

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

  return [previewState, () => stopPreview.current?.(), () => setPreviewRun((n) => n + 1)];
}
