/**
 * The `if` editor: a text area whose content the service compiles as the user types (debounced),
 * showing the result type or the compile error with its line, column, source line and caret.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { checkExpression, type ExpressionCheck } from "../api.js";

/** Where the check of the current text stands. */
export type CheckState =
  | { readonly state: "empty" }
  | { readonly state: "checking"; readonly expression: string }
  | { readonly state: "done"; readonly expression: string; readonly result: ExpressionCheck }
  | { readonly state: "failed"; readonly expression: string; readonly message: string };

/** Wait after the last keystroke before compiling, ms. */
const CHECK_DELAY_MS = 250;

export interface ExpressionEditorProps {
  readonly value: string;
  readonly onInput: (value: string) => void;
  readonly onCheck: (check: CheckState) => void;
}

export function ExpressionEditor(props: ExpressionEditorProps) {
  const [check, setCheck] = useState<CheckState>({ state: "empty" });
  const area = useRef<HTMLTextAreaElement>(null);
  const report = (next: CheckState): void => {
    setCheck(next);
    props.onCheck(next);
  };
  useEffect(() => {
    const expression = props.value;
    if (expression.trim() === "") {
      report({ state: "empty" });
      return;
    }
    report({ state: "checking", expression });
    const controller = new AbortController();
    const timer = setTimeout(() => {
      checkExpression(expression, controller.signal).then(
        (result) => report({ state: "done", expression, result }),
        (failure: unknown) => {
          if (!controller.signal.aborted) report({ state: "failed", expression, message: failure instanceof Error ? failure.message : String(failure) });
        },
      );
    }, CHECK_DELAY_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [props.value]);

  const invalid = check.state === "done" && !check.result.valid ? check.result : undefined;
  const goToError = (): void => {
    const issue = invalid?.issues.find((entry) => entry.start >= 0);
    const element = area.current;
    if (issue === undefined || element === null) return;
    element.focus();
    element.setSelectionRange(issue.start, Math.max(issue.end, issue.start + 1));
  };
  return (
    <div class="field">
      <label for="expression">
        Expression <span class="hint">(CEL, Inngest's <code>if</code>; empty cancels every run of the window)</span>
      </label>
      <textarea
        ref={area}
        id="expression"
        data-testid="expression-input"
        rows={3}
        spellcheck={false}
        autocomplete="off"
        class="code"
        value={props.value}
        placeholder="event.data.userId == 'user_o9235hf84hf'"
        aria-invalid={invalid !== undefined}
        aria-describedby="expression-status"
        onInput={(event) => props.onInput(event.currentTarget.value)}
      />
      <div id="expression-status" aria-live="polite">
        {check.state === "empty" && <p class="hint">No expression: every run of the window matches.</p>}
        {check.state === "checking" && <p class="hint">Checking…</p>}
        {check.state === "failed" && (
          <p class="error" data-testid="expression-error">
            Could not check the expression: {check.message}
          </p>
        )}
        {check.state === "done" && check.result.valid && (
          <p class={check.result.warning === null ? "ok" : "warning"} data-testid="expression-type">
            Compiles; result type <code>{check.result.type}</code>
            {check.result.warning !== null && <>: {check.result.warning}</>}
          </p>
        )}
        {invalid !== undefined && (
          <div class="error" data-testid="expression-error">
            <pre class="code">{invalid.message}</pre>
            {invalid.issues.some((issue) => issue.start >= 0) && (
              <button type="button" class="link" onClick={goToError}>
                Go to line {invalid.issues[0]!.line}, column {invalid.issues[0]!.column}
              </button>
            )}
          </div>
        )}
      </div>
    </div>
  );
}
