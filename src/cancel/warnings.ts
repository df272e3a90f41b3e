/**
 * Warnings about a valid cancellation request that will not do what its author likely meant: a
 * window that holds no run of the function in the environment (a forgotten environment, a
 * misspelt function), and an `if` whose type can never be `true`. The CLI prints them; the service
 * adds them to its answer as `warnings`.
 *
 * @module
 */
import type { RunStore } from "../stores/types.js";
import type { CancellationRequest } from "./request.js";

/** A warning about a request: what it is, its text, and for an empty window the environments that hold runs of the function. */
export interface RequestWarning {
  /** `empty_window`: no run of the function in the environment started in the window; `non_boolean_if`: the `if` can never be `true`. */
  readonly code: "empty_window" | "non_boolean_if";
  readonly message: string;
  /** For `empty_window`: the other environments with runs of the function in the window (maybe none). */
  readonly environments?: readonly string[];
}

/** Most other places named in one warning. */
const MAX_NAMED = 5;

/**
 * The warnings of a validated request in `environmentId`: none when the window holds runs of its
 * function and its `if` can be a `bool`. Costs one index probe when the window holds runs; else
 * a look at where runs of the window are ({@link RunStore.listRunLocations}).
 */
export async function requestWarnings(store: RunStore, request: CancellationRequest, environmentId: string): Promise<RequestWarning[]> {
  const warnings: RequestWarning[] = [];
  const type = request.program?.type;
  // `dyn` may be a bool at run time; any other type never is.
  if (type !== undefined && type !== "bool" && type !== "dyn") {
    warnings.push({ code: "non_boolean_if", message: `the if expression's type is ${type}, not bool: it matches no run (each is counted non_boolean)` });
  }
  const window = {
    ...(request.startedAfter !== undefined ? { startedAfter: request.startedAfter } : {}),
    startedBefore: request.startedBefore,
  };
  const probe = await store.scanRuns({ environmentId, appId: request.appId, functionId: request.functionId, ...window, limit: 1 });
  if (probe.runs.length > 0) return warnings;

  const what = `no run of function ${JSON.stringify(request.functionId)} of app ${JSON.stringify(request.appId)} in environment ${JSON.stringify(environmentId)} started in this window`;
  const locations = await store.listRunLocations({ ...window, limit: 1000 });
  const elsewhere = locations.filter((l) => l.appId === request.appId && l.functionId === request.functionId).map((l) => l.environmentId);
  const here = locations.filter((l) => l.environmentId === environmentId).map((l) => `${l.appId}/${l.functionId}`);
  let detail: string;
  if (elsewhere.length > 0) {
    detail = `${plural(elsewhere.length, "environment", "environments")} ${names(elsewhere)} ${elsewhere.length === 1 ? "has" : "have"} runs of it in the window`;
  } else if (here.length > 0) {
    detail = `functions with runs in the window in this environment: ${names(here, false)}`;
  } else if (locations.length > 0) {
    const environments = [...new Set(locations.map((l) => l.environmentId))];
    detail = `the window holds runs only in ${plural(environments.length, "environment", "environments")} ${names(environments)}`;
  } else {
    detail = "no run of any function started in it";
  }
  warnings.push({ code: "empty_window", message: `${what}; ${detail}`, environments: elsewhere });
  return warnings;
}

function plural(n: number, one: string, many: string): string {
  return n === 1 ? one : many;
}

/** Up to {@link MAX_NAMED} names, quoted or not, and how many more. */
function names(list: readonly string[], quote = true): string {
  const shown = list.slice(0, MAX_NAMED).map((name) => (quote ? JSON.stringify(name) : name));
  return list.length > MAX_NAMED ? `${shown.join(", ")} and ${list.length - MAX_NAMED} more` : shown.join(", ");
}
