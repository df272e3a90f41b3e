/** The outcome ledger of a cancellation or a preview, as a description list. */
import type { Counts } from "../api.js";

const ROWS: readonly { readonly key: keyof Counts; readonly label: string; readonly hint: string }[] = [
  { key: "cancelled", label: "cancelled", hint: "matched and still running: cancelled" },
  { key: "skipped_terminal", label: "skipped_terminal", hint: "matched but already finished" },
  { key: "not_matched", label: "not_matched", hint: "the expression is false" },
  { key: "expression_error", label: "expression_error", hint: "the expression failed on the run's event" },
  { key: "non_boolean", label: "non_boolean", hint: "the expression gave a non-boolean value" },
  { key: "scanned", label: "scanned", hint: "runs of the window decided so far" },
];

export function CountsTable(props: { readonly counts: Counts; readonly caption: string; readonly testIdPrefix?: string }) {
  return (
    <table class="ledger">
      <caption>{props.caption}</caption>
      <thead>
        <tr>
          <th scope="col">Outcome</th>
          <th scope="col" class="num">Runs</th>
          <th scope="col">Meaning</th>
        </tr>
      </thead>
      <tbody>
        {ROWS.map((row) => (
          <tr key={row.key}>
            <th scope="row">
              <code>{row.label}</code>
            </th>
            <td class="num" data-testid={props.testIdPrefix === undefined ? undefined : `${props.testIdPrefix}-${row.key.replace("_", "-")}`}>
              {/* Plain digits: tests and scripts read these numbers as they are. */}
              {String(props.counts[row.key])}
            </td>
            <td>{row.hint}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
