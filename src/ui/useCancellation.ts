/**
 * A cancellation as the detail page shows it: read once, then followed through the job's
 * server-sent events while it runs, falling back to polling when the stream breaks.
 */
import { useEffect, useState } from "preact/hooks";
import { followEvents, getCancellation, type Cancellation, type Progress } from "./api.js";

/** Poll interval when the event stream cannot be followed, ms. */
const POLL_MS = 2000;

/** Share done, 0 to 1, from the elapsed time and the ETA; `undefined` while unknown. */
export function fractionDone(progress: Progress | null | undefined): number | undefined {
  if (progress === null || progress === undefined || progress.eta_seconds === null) return undefined;
  const elapsed = progress.elapsed_ms / 1000;
  if (progress.eta_seconds <= 0) return 1;
  const total = elapsed + progress.eta_seconds;
  return total > 0 ? Math.min(1, Math.max(0, elapsed / total)) : undefined;
}

/** The cancellation `id`, kept current while its job runs, and the error that stopped reading it. */
export function useCancellation(id: string): [Cancellation | undefined, string | undefined] {
  const [record, setRecord] = useState<Cancellation | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async (): Promise<Cancellation | undefined> => {
      try {
        const current = await getCancellation(id);
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
        await followEvents(id, controller.signal, (event) => {
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
  }, [id]);

  return [record, error];
}
