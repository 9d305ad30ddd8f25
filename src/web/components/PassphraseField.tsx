/** A passphrase input with show/hide; never autocompleted into forms, never sent anywhere. */
import { useId, useState } from 'preact/hooks';

export function PassphraseField({ label, value, onInput, autoFocus = false, newPassphrase = false, hint, name }: {
  label: string;
  value: string;
  onInput: (value: string) => void;
  autoFocus?: boolean;
  newPassphrase?: boolean;
  hint?: string;
  name?: string;
}) {
  const id = useId();
  const [shown, setShown] = useState(false);
  const inputProps = {
    id,
    name,
    class: 'input',
    value,
    onInput: (e: Event) => onInput((e.currentTarget as HTMLInputElement).value),
    // Not offered to the password manager: a passphrase saved in the same browser profile as the encrypted
    // key would undo both the encryption at rest and the idle lock.
    autoComplete: 'off',
    autoFocus,
    spellcheck: false,
    autoCapitalize: 'off',
    'aria-describedby': hint === undefined ? undefined : `${id}-hint`,
    maxLength: 1024,
  } as const;
  return (
    <div class="form-field">
      <label for={id}>{label}</label>
      <div class="input-with-button">
        {shown ? <input type="text" {...inputProps} /> : <input type="password" {...inputProps} />}
        <button type="button" class="button ghost small" onClick={() => setShown(!shown)} aria-pressed={shown}>
          {shown ? 'Hide' : 'Show'}
        </button>
      </div>
      {hint === undefined ? null : (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
    </div>
  );
}
