/** A modal confirmation (the native `<dialog>`: focus stays inside, Escape cancels). */
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

export interface ConfirmDialogProps {
  readonly open: boolean;
  readonly title: string;
  readonly children: ComponentChildren;
  readonly confirmLabel: string;
  readonly confirmTestId: string;
  /** Styles the confirm button as destructive. */
  readonly danger?: boolean;
  readonly busy?: boolean;
  readonly onConfirm: () => void;
  readonly onCancel: () => void;
}

export function ConfirmDialog(props: ConfirmDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog === null) return;
    if (props.open && !dialog.open) dialog.showModal();
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  const titleId = `dialog-${props.confirmTestId}-title`;
  return (
    <dialog ref={ref} aria-labelledby={titleId} onCancel={(event) => { event.preventDefault(); props.onCancel(); }}>
      <h2 id={titleId}>{props.title}</h2>
      <div class="dialog-body">{props.children}</div>
      <div class="actions">
        <button type="button" class={props.danger === true ? "danger" : "primary"} data-testid={props.confirmTestId} disabled={props.busy === true} onClick={props.onConfirm}>
          {props.confirmLabel}
        </button>
        <button type="button" autofocus onClick={props.onCancel}>
          Back
        </button>
      </div>
    </dialog>
  );
}
