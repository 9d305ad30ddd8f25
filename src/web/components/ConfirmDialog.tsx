/**
 * A modal confirmation (the native <dialog>: focus stays inside, Escape cancels). Rendered only while open.
 * `confirmDisabled` keeps the confirm button off until, say, the record's name is typed.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';

export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  cancelLabel = 'Cancel',
  danger = false,
  busy = false,
  confirmDisabled = false,
  onConfirm,
  onCancel,
  testId,
}: {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  cancelLabel?: string;
  danger?: boolean;
  busy?: boolean;
  confirmDisabled?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
  testId?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const busyRef = useRef(busy);
  busyRef.current = busy;
  const cancelRef = useRef(onCancel);
  cancelRef.current = onCancel;

  useEffect(() => {
    const dialog = ref.current;
    if (dialog === null) return undefined;
    if (!dialog.open) dialog.showModal();
    // Escape: cancel, unless an action is under way (it cannot be taken back half-way).
    const onEscape = (event: Event): void => {
      event.preventDefault();
      if (!busyRef.current) cancelRef.current();
    };
    dialog.addEventListener('cancel', onEscape);
    return () => {
      dialog.removeEventListener('cancel', onEscape);
      if (dialog.open) dialog.close();
    };
  }, []);

  return (
    <dialog ref={ref} class={danger ? 'dialog dialog-danger' : 'dialog'} aria-labelledby={titleId} data-testid={testId}>
      <form
        class="dialog-body"
        onSubmit={(event) => {
          event.preventDefault();
          if (!busy && !confirmDisabled) onConfirm();
        }}
      >
        <h2 class="dialog-title" id={titleId}>
          {title}
        </h2>
        <div class="dialog-content">{children}</div>
        <div class="form-actions dialog-actions">
          <button type="submit" class={danger ? 'button danger' : 'button primary'} disabled={busy || confirmDisabled}>
            {confirmLabel}
          </button>
          <button type="button" class="button secondary" onClick={onCancel} disabled={busy}>
            {cancelLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
