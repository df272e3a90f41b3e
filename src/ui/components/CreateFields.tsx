/**
 * The form parts of the create page: the app and function pickers, the window with its quick
 * ranges, and the confirmation's sentence.
 */
import type { CancellationBody } from "../api.js";
import { count, time, toLocalInput } from "../format.js";

const QUICK_RANGES: readonly { readonly label: string; readonly hours: number }[] = [
  { label: "Last hour", hours: 1 },
  { label: "Last 24 hours", hours: 24 },
  { label: "Last 7 days", hours: 24 * 7 },
];

/** A window's two `datetime-local` values. */
export interface WindowValue {
  readonly after: string;
  readonly before: string;
}

/** The window of the last `hours` hours, ending now. */
function lastHours(hours: number): WindowValue {
  const now = Date.now();
  return { after: toLocalInput(now - hours * 3_600_000), before: toLocalInput(now) };
}

/** The app and function pickers. */
export function FunctionFields(props: {
  readonly app: string;
  readonly fn: string;
  readonly appOptions: readonly string[];
  readonly functionOptions: readonly string[];
  readonly onApp: (app: string) => void;
  readonly onFunction: (fn: string) => void;
}) {
  return (
    <fieldset>
      <legend>Function</legend>
      <div class="row">
        <div class="field">
          <label for="app">App</label>
          <select
            id="app"
            data-testid="app-select"
            value={props.app}
            onChange={(event) => props.onApp(event.currentTarget.value)}
          >
            <option value="">Choose an app…</option>
            {props.appOptions.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="function">Function</label>
          <select id="function" data-testid="function-select" value={props.fn} disabled={props.app === ""} onChange={(event) => props.onFunction(event.currentTarget.value)}>
            <option value="">Choose a function…</option>
            {props.functionOptions.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </div>
      </div>
    </fieldset>
  );
}

/** The start-time window and its quick ranges. */
export function WindowFields(props: { readonly value: WindowValue; readonly onChange: (value: WindowValue) => void }) {
  return (
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
            value={props.value.after}
            onInput={(event) => props.onChange({ ...props.value, after: event.currentTarget.value })}
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
            value={props.value.before}
            onInput={(event) => props.onChange({ ...props.value, before: event.currentTarget.value })}
          />
        </div>
      </div>
      <div class="quick" role="group" aria-label="Quick ranges">
        {QUICK_RANGES.map((range) => (
          <button type="button" key={range.hours} onClick={() => props.onChange(lastHours(range.hours))}>
            {range.label}
          </button>
        ))}
      </div>
    </fieldset>
  );
}

/** What the confirmation says the submit will do. */
export function ConfirmText(props: { readonly request: CancellationBody; readonly exact: boolean; readonly expected: number }) {
  const { request, exact, expected } = props;
  return (
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
  );
}
