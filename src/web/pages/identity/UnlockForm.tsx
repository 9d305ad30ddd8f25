/** Enter a passphrase to unlock one identity for this tab. */
import { useState } from 'preact/hooks';
import { PassphraseField } from '../../components/PassphraseField.tsx';
import { ErrorNotice } from '../../components/states.tsx';
import type { IdentityFile } from '../../keystore.ts';
import { unlockIdentity } from '../../lib/identityActions.ts';
import { useServices } from '../../lib/services.ts';

export function UnlockForm({ file, onDone, autoFocus = true }: { file: IdentityFile; onDone?: () => void; autoFocus?: boolean }) {
  const services = useServices();
  const [passphrase, setPassphrase] = useState('');
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setError(null);
    setProgress(0);
    try {
      await unlockIdentity(services, file, passphrase, setProgress);
      setPassphrase('');
      onDone?.();
    } catch (failure) {
      setError(failure);
    } finally {
      setProgress(null);
    }
  };
  return (
    <form class="form unlock-form" onSubmit={(e) => void submit(e)}>
      <PassphraseField label={`Passphrase for ${file.label}`} value={passphrase} onInput={setPassphrase} autoFocus={autoFocus} />
      {error === null ? null : <ErrorNotice error={error} compact />}
      <div class="form-actions">
        <button type="submit" class="button primary" disabled={progress !== null || passphrase === ''}>
          {progress === null ? 'Unlock' : `Unlocking… ${Math.round(progress * 100)} %`}
        </button>
      </div>
    </form>
  );
}
