/**
 * The demo data set of `cancelkit serve --demo`, and the ready-to-paste `curl` commands that
 * cancel part of it.
 *
 * @module
 */
import { cancelRuns } from "../cancel/planner.js";
import { formatTimestamp } from "../cancel/record.js";
import type { OutcomeCounts, RunRecord, RunStore } from "../stores/types.js";
import { EXAMPLE_USER_ID, generateRuns } from "./generate.js";

/** App of the demo runs (as in Inngest's example). */
export const DEMO_APP_ID = "acme-app";
/** Function of the demo runs (as in Inngest's example). */
export const DEMO_FUNCTION_ID = "schedule-reminder";
/** The demo's `if`, Inngest's example. */
export const DEMO_EXPRESSION = `event.data.userId == '${EXAMPLE_USER_ID}'`;
/** Runs of the demo function. */
export const DEMO_RUN_COUNT = 3000;
/** Runs of the other functions (so that the function filter visibly matters). */
export const DEMO_OTHER_RUN_COUNT = 600;
/** The demo runs started over this many days before the load. */
export const DEMO_DAYS = 3;
/** The printed request's window: the last this many hours (the older demo runs stay outside). */
export const DEMO_WINDOW_HOURS = 48;

/** Options of {@link loadDemoData}. */
export interface DemoOptions {
  /** Environment of the runs. */
  readonly environmentId: string;
  /** Latest start time, epoch ms. Default `Date.now()`. */
  readonly now?: number;
}

/** What {@link loadDemoData} did. */
export interface DemoLoad {
  /** Whether runs were inserted (false: the environment already had demo runs). */
  readonly loaded: boolean;
  /** Runs inserted. */
  readonly inserted: number;
}

/** Whether the environment already has any run of the demo function. */
async function hasDemoRuns(store: RunStore, environmentId: string): Promise<boolean> {
  const page = await store.scanRuns({
    environmentId,
    appId: DEMO_APP_ID,
    functionId: DEMO_FUNCTION_ID,
    startedBefore: Number.MAX_SAFE_INTEGER,
    limit: 1,
  });
  return page.runs.length > 0;
}

/**
 * Loads the demo runs into an environment that has none yet: {@link DEMO_RUN_COUNT} runs of
 * `acme-app` / `schedule-reminder` over the last {@link DEMO_DAYS} days (about 8% of them for user
 * `user_o9235hf84hf`, older ones mostly finished) plus {@link DEMO_OTHER_RUN_COUNT} runs of other
 * functions, some for the same user.
 */
export async function loadDemoData(store: RunStore, options: DemoOptions): Promise<DemoLoad> {
  if (await hasDemoRuns(store, options.environmentId)) return { loaded: false, inserted: 0 };
  const end = (options.now ?? Date.now()) - 60_000;
  const spanMs = DEMO_DAYS * 86_400_000;
  const batches: Iterable<RunRecord>[] = [
    generateRuns({ count: DEMO_RUN_COUNT, seed: 20240122, end, spanMs, environmentId: options.environmentId, functions: [DEMO_FUNCTION_ID] }),
    generateRuns({
      count: DEMO_OTHER_RUN_COUNT,
      seed: 7,
      end,
      spanMs,
      environmentId: options.environmentId,
      functions: ["send-digest", "sync-crm", "charge-invoice", "send-push"],
    }),
  ];
  let inserted = 0;
  for (const runs of batches) {
    let batch: RunRecord[] = [];
    for (const run of runs) {
      batch.push(run);
      if (batch.length === 1000) {
        await store.insertRuns(batch);
        inserted += batch.length;
        batch = [];
      }
    }
    if (batch.length > 0) {
      await store.insertRuns(batch);
      inserted += batch.length;
    }
  }
  return { loaded: true, inserted };
}

/**
 * The demo's request body (Inngest's example, over the last {@link DEMO_WINDOW_HOURS} hours). The
 * bounds are whole seconds, as the UI's time inputs hold them, so that the UI's preview of the
 * same window counts exactly what the printed request does.
 */
export function demoRequestBody(now: number = Date.now()): Record<string, string> {
  const at = Math.floor(now / 1000) * 1000;
  return {
    app_id: DEMO_APP_ID,
    function_id: DEMO_FUNCTION_ID,
    started_after: formatTimestamp(at - DEMO_WINDOW_HOURS * 3_600_000),
    started_before: formatTimestamp(at),
    if: DEMO_EXPRESSION,
  };
}

/** The UI's create page prefilled with a request body (`#/new?app=…&function=…&after=…&before=…&if=…`). */
export function demoUiLink(url: string, body: Readonly<Record<string, string>>): string {
  const query = new URLSearchParams();
  const fields: readonly (readonly [string, string])[] = [
    ["app", "app_id"],
    ["function", "function_id"],
    ["after", "started_after"],
    ["before", "started_before"],
    ["if", "if"],
  ];
  for (const [name, field] of fields) {
    const value = body[field];
    if (value !== undefined) query.set(name, value);
  }
  return `${url}/#/new?${query.toString()}`;
}

/** What the demo request would do now (a dry run: nothing is written). */
export async function previewDemoRequest(store: RunStore, environmentId: string, body: Record<string, string>): Promise<OutcomeCounts> {
  const report = await cancelRuns(store, body, { environmentId, dryRun: true });
  return report.outcomes;
}

/** Options of {@link demoInstructions}. */
export interface DemoInstructionsOptions {
  /** Base URL of the service, e.g. `http://127.0.0.1:8288`. */
  readonly url: string;
  /** The `Authorization: Bearer` key to show (or a placeholder). */
  readonly key: string;
  /** The request body. */
  readonly body: Record<string, string>;
  /** A dry run's counts, to say what the request will do. Default: not shown. */
  readonly expected?: OutcomeCounts;
}

/**
 * The ready-to-paste commands: a `curl` that creates the cancellation (the body in a quoted
 * heredoc, as in Inngest's newer docs, so the single quotes of the `if` survive the shell) and
 * the `curl` commands that show its counts.
 */
export function demoInstructions(options: DemoInstructionsOptions): string {
  const { url, key, body, expected } = options;
  const json = JSON.stringify(body, null, 2);
  const lines: string[] = [];
  if (expected !== undefined) {
    lines.push(
      `This cancels the demo runs of ${EXAMPLE_USER_ID} started in the last ${DEMO_WINDOW_HOURS} hours: ` +
        `${expected.cancelled} will be cancelled, ${expected.skipped_terminal} have already finished (skipped), ` +
        `${expected.not_matched} of the window belong to other users.`,
    );
    lines.push("");
  }
  lines.push(
    `curl -X POST ${url}/v1/cancellations \\`,
    `  -H "Authorization: Bearer ${key}" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  --data @- <<'JSON'`,
    json,
    "JSON",
    "",
    'Then see its status and counts (put the "id" of the response in place of ID):',
    "",
    `curl -H "Authorization: Bearer ${key}" ${url}/v1/cancellations/ID`,
    "",
    "or list the newest cancellations:",
    "",
    `curl -H "Authorization: Bearer ${key}" "${url}/v1/cancellations?limit=5"`,
  );
  return lines.join("\n");
}
