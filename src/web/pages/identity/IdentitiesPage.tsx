/** Keys: the identities this browser holds, and creating, importing, unlocking and backing them up. */
import { useId, useState } from 'preact/hooks';
import { toHex } from '../../../codec/bytes.ts';
import { keyPairFromSeed } from '../../../crypto/ed25519.ts';
import { PassphraseField } from '../../components/PassphraseField.tsx';
import { Empty, ErrorNotice } from '../../components/states.tsx';
import { Notice, Page, Section } from '../../components/ui.tsx';
import { IDENTITY_ROLES, KeystoreError, KeystoreErrorCode, MIN_PASSPHRASE_LENGTH, checkLabel, checkNewPassphrase, parseImport, type IdentityFile, type IdentityRole } from '../../keystore.ts';
import { useFeed, useIdentities } from '../../lib/hooks.ts';
import { createIdentity, DEMO_NAMES, demoSeed, DEV_CHAIN_ID, downloadBackup, importIdentityFile } from '../../lib/identityActions.ts';
import { useServices } from '../../lib/services.ts';
import { LOCK_AFTER_CHOICES_MS } from '../../session.ts';
import { IdentityCard } from './IdentityCard.tsx';

export function IdentitiesPage() {
  const { files, unlocked, unreadable, error } = useIdentities();
  const feed = useFeed();
  const [mode, setMode] = useState<'none' | 'create' | 'import' | 'demo'>(files.length === 0 ? 'create' : 'none');
  const [justCreated, setJustCreated] = useState<IdentityFile | null>(null);

  return (
    <Page title="Your keys" subtitle="Identities kept in this browser, encrypted with your passphrase.">
      <KeyWarning />
      {error === undefined ? null : <ErrorNotice error={error} />}
      {unreadable.length > 0 ? (
        <Notice tone="warn" title={`${unreadable.length} saved identit${unreadable.length === 1 ? 'y' : 'ies'} could not be read`}>
          <p>They were left untouched in this browser's storage. Import them again from your backup files.</p>
        </Notice>
      ) : null}
      {justCreated === null ? null : (
        <Notice tone="warn" title="Download a backup now">
          <p>
            <strong>{justCreated.label}</strong> exists only in this browser. Save the backup file somewhere safe (not only on this computer). It is encrypted with your passphrase; you need both to restore it.
          </p>
          <div class="form-actions">
            <button type="button" class="button primary" onClick={() => { downloadBackup(justCreated); setJustCreated(null); }}>
              Download backup
            </button>
            <button type="button" class="button ghost" onClick={() => setJustCreated(null)}>
              Later
            </button>
          </div>
        </Notice>
      )}
      <Section
        title={`Identities in this browser (${files.length})`}
        actions={
          <div class="button-row">
            <button type="button" class="button primary small" onClick={() => setMode('create')} aria-expanded={mode === 'create'}>
              New identity
            </button>
            <button type="button" class="button secondary small" onClick={() => setMode('import')} aria-expanded={mode === 'import'}>
              Import
            </button>
          </div>
        }
      >
        {files.length === 0 ? (
          <Empty title="No identities yet">
            <p>Create one to use the patient or doctor dashboard, or import a backup file.</p>
          </Empty>
        ) : (
          <ul class="card-list">
            {files.map((file) => (
              <IdentityCard key={file.publicKey} file={file} unlocked={unlocked.includes(file.publicKey)} />
            ))}
          </ul>
        )}
      </Section>
      {mode === 'create' ? (
        <CreateIdentityForm
          onDone={(file) => {
            setMode('none');
            setJustCreated(file);
          }}
          onCancel={() => setMode('none')}
        />
      ) : null}
      {mode === 'import' ? <ImportIdentityForm onDone={() => setMode('none')} onCancel={() => setMode('none')} /> : null}
      {feed.node?.chainId === DEV_CHAIN_ID ? (
        mode === 'demo' ? (
          <DemoIdentitiesForm existing={files} onDone={() => setMode('none')} onCancel={() => setMode('none')} />
        ) : (
          <Section title="Demo accounts of the dev chain">
            <p class="muted">This node runs `medchain dev`, whose demo patient, doctor and hospital keys are public. Add them to try the dashboards; never use them for real records.</p>
            <button type="button" class="button secondary" onClick={() => setMode('demo')}>
              Add demo identities
            </button>
          </Section>
        )
      ) : null}
      <LockSettings />
    </Page>
  );
}

function KeyWarning() {
  return (
    <Notice tone="warn" title="Your key is your access">
      <p>
        Your private key never leaves this browser, and it is stored only in encrypted form. Nobody, not the hospital and not medchain, can recover it: if you lose both this browser's data and your backup file, or forget your passphrase, you lose access to your records for good.
      </p>
    </Notice>
  );
}

function RoleSelect({ value, onChange }: { value: IdentityRole | null; onChange: (role: IdentityRole | null) => void }) {
  const id = useId();
  return (
    <div class="form-field">
      <label for={id}>I am a</label>
      <select id={id} class="input" value={value ?? ''} onChange={(e) => onChange(e.currentTarget.value === '' ? null : (e.currentTarget.value as IdentityRole))}>
        {IDENTITY_ROLES.map((role) => (
          <option value={role} key={role}>
            {role}
          </option>
        ))}
        <option value="">rather not say</option>
      </select>
    </div>
  );
}

function LabelField({ value, onInput }: { value: string; onInput: (v: string) => void }) {
  const id = useId();
  return (
    <div class="form-field">
      <label for={id}>Name for this identity</label>
      <input id={id} class="input" value={value} onInput={(e) => onInput(e.currentTarget.value)} maxLength={64} autoComplete="off" placeholder="e.g. Alice (personal)" />
      <p class="hint">Only you see it; it is kept in this browser and in your backup file, never on the chain.</p>
    </div>
  );
}

/** A new passphrase typed twice, checked before any work is done. */
function newPassphraseProblem(passphrase: string, repeat: string): string | null {
  try {
    checkNewPassphrase(passphrase);
  } catch (error) {
    if (error instanceof KeystoreError) return error.message;
    throw error;
  }
  return passphrase === repeat ? null : 'The two passphrases differ.';
}

function CreateIdentityForm({ onDone, onCancel }: { onDone: (file: IdentityFile) => void; onCancel: () => void }) {
  const services = useServices();
  const [label, setLabel] = useState('');
  const [role, setRole] = useState<IdentityRole | null>('patient');
  const [passphrase, setPassphrase] = useState('');
  const [repeat, setRepeat] = useState('');
  const [understood, setUnderstood] = useState(false);
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setError(null);
    const why = newPassphraseProblem(passphrase, repeat);
    setProblem(why);
    if (why !== null) return;
    setProgress(0);
    try {
      const file = await createIdentity(services, { label, role, passphrase, onProgress: setProgress });
      onDone(file);
    } catch (failure) {
      setError(failure);
    } finally {
      setProgress(null);
    }
  };
  return (
    <Section title="Create a new identity">
      <form class="form" onSubmit={(e) => void submit(e)} data-testid="create-identity">
        <LabelField value={label} onInput={setLabel} />
        <RoleSelect value={role} onChange={setRole} />
        <PassphraseField label="Passphrase" value={passphrase} onInput={setPassphrase} newPassphrase name="new-passphrase" hint={`At least ${MIN_PASSPHRASE_LENGTH} characters. A few unrelated words are easy to remember and hard to guess.`} />
        <PassphraseField label="Passphrase again" value={repeat} onInput={setRepeat} newPassphrase name="repeat-passphrase" />
        {problem === null ? null : (
          <p class="form-problem" role="alert">
            {problem}
          </p>
        )}
        <label class="checkbox">
          <input type="checkbox" checked={understood} onChange={(e) => setUnderstood(e.currentTarget.checked)} />
          <span>I understand that a lost key or a forgotten passphrase means lost access, and that I should keep a backup.</span>
        </label>
        {error === null ? null : <ErrorNotice error={error} compact />}
        <div class="form-actions">
          <button type="submit" class="button primary" disabled={!understood || label.trim() === '' || progress !== null}>
            {progress === null ? 'Create identity' : `Encrypting… ${Math.round(progress * 100)} %`}
          </button>
          <button type="button" class="button ghost" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </Section>
  );
}

function ImportIdentityForm({ onDone, onCancel }: { onDone: () => void; onCancel: () => void }) {
  const services = useServices();
  const textId = useId();
  const fileId = useId();
  const [text, setText] = useState('');
  const [seedImport, setSeedImport] = useState<Uint8Array | null>(null);
  const [label, setLabel] = useState('');
  const [role, setRole] = useState<IdentityRole | null>('patient');
  const [passphrase, setPassphrase] = useState('');
  const [repeat, setRepeat] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [progress, setProgress] = useState<number | null>(null);

  const readText = (value: string): void => {
    setError(null);
    setSeedImport(null);
    try {
      const parsed = parseImport(value);
      if (parsed.kind === 'identity-file') {
        importIdentityFile(services, parsed.file);
        setText('');
        onDone();
      } else {
        setSeedImport(parsed.seed);
      }
    } catch (failure) {
      setError(failure);
    }
  };
  const onFile = async (event: Event): Promise<void> => {
    const input = event.currentTarget as HTMLInputElement;
    const chosen = input.files?.[0];
    input.value = '';
    if (chosen === undefined) return;
    if (chosen.size > 16 * 1024) {
      setError(new KeystoreError(KeystoreErrorCode.InvalidFile, 'This is not a usable medchain identity file: it is far larger than one.'));
      return;
    }
    readText(await chosen.text());
  };
  const protect = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (seedImport === null) return;
    const why = newPassphraseProblem(passphrase, repeat) ?? (label.trim() === '' ? 'Give the identity a name.' : null);
    setProblem(why);
    if (why !== null) return;
    setProgress(0);
    try {
      checkLabel(label);
      await createIdentity(services, { label, role, passphrase, onProgress: setProgress }, seedImport);
      seedImport.fill(0);
      setSeedImport(null);
      onDone();
    } catch (failure) {
      setError(failure);
    } finally {
      setProgress(null);
    }
  };
  return (
    <Section title="Import an identity">
      {seedImport === null ? (
        <form class="form" onSubmit={(e) => { e.preventDefault(); readText(text); }}>
          <div class="form-field">
            <label for={fileId}>A backup file</label>
            <input id={fileId} class="input" type="file" accept=".json,application/json" onChange={(e) => void onFile(e)} />
          </div>
          <div class="form-field">
            <label for={textId}>or paste a backup file, a `medchain keys` key file, or a private key (64 hex digits)</label>
            <textarea id={textId} class="input mono" rows={4} value={text} onInput={(e) => setText(e.currentTarget.value)} spellcheck={false} autoComplete="off" />
          </div>
          {error === null ? null : <ErrorNotice error={error} compact />}
          <div class="form-actions">
            <button type="submit" class="button primary" disabled={text.trim() === ''}>
              Import
            </button>
            <button type="button" class="button ghost" onClick={onCancel}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <form class="form" onSubmit={(e) => void protect(e)}>
          <Notice tone="info">
            <p>That is an unencrypted private key. Choose a name and a passphrase: the key is kept in this browser only in encrypted form.</p>
          </Notice>
          <LabelField value={label} onInput={setLabel} />
          <RoleSelect value={role} onChange={setRole} />
          <PassphraseField label="Passphrase" value={passphrase} onInput={setPassphrase} newPassphrase />
          <PassphraseField label="Passphrase again" value={repeat} onInput={setRepeat} newPassphrase />
          {problem === null ? null : (
            <p class="form-problem" role="alert">
              {problem}
            </p>
          )}
          {error === null ? null : <ErrorNotice error={error} compact />}
          <div class="form-actions">
            <button type="submit" class="button primary" disabled={progress !== null}>
              {progress === null ? 'Encrypt and save' : `Encrypting… ${Math.round(progress * 100)} %`}
            </button>
            <button type="button" class="button ghost" onClick={() => { seedImport.fill(0); setSeedImport(null); onCancel(); }}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </Section>
  );
}

function DemoIdentitiesForm({ existing, onDone, onCancel }: { existing: readonly IdentityFile[]; onDone: () => void; onCancel: () => void }) {
  const services = useServices();
  const [passphrase, setPassphrase] = useState('');
  const [progress, setProgress] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setError(null);
    try {
      checkNewPassphrase(passphrase);
      for (const name of DEMO_NAMES) {
        const seed = demoSeed(name);
        const account = toHex(keyPairFromSeed(seed).publicKey);
        if (existing.some((f) => f.publicKey === account)) continue;
        setProgress(`Encrypting the demo ${name}…`);
        await createIdentity(services, { label: `Demo ${name}`, role: name, passphrase }, seed);
      }
      onDone();
    } catch (failure) {
      setError(failure);
    } finally {
      setProgress(null);
    }
  };
  return (
    <Section title="Add the dev chain's demo identities">
      <form class="form" onSubmit={(e) => void submit(e)} data-testid="demo-identities">
        <p class="muted">The demo patient, doctor and hospital, each encrypted with the passphrase you choose here.</p>
        <PassphraseField label="Passphrase for the demo identities" value={passphrase} onInput={setPassphrase} newPassphrase autoFocus />
        {error === null ? null : <ErrorNotice error={error} compact />}
        <div class="form-actions">
          <button type="submit" class="button primary" disabled={progress !== null}>
            {progress ?? 'Add demo identities'}
          </button>
          <button type="button" class="button ghost" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </Section>
  );
}

function LockSettings() {
  const { session } = useServices();
  const id = useId();
  const [value, setValue] = useState(session.lockAfterMs);
  return (
    <Section title="Automatic lock">
      <div class="form-field inline">
        <label for={id}>Lock unlocked identities after</label>
        <select
          id={id}
          class="input"
          value={String(value)}
          onChange={(e) => {
            const ms = Number(e.currentTarget.value);
            session.setLockAfter(ms);
            localStorage.setItem('medchain.lockAfterMs', String(ms));
            setValue(ms);
          }}
        >
          {LOCK_AFTER_CHOICES_MS.map((ms) => (
            <option key={ms} value={String(ms)}>
              {ms / 60_000} minute{ms === 60_000 ? '' : 's'} without activity
            </option>
          ))}
        </select>
      </div>
      <p class="hint">Locking wipes the decrypted keys from memory; you need your passphrase again to sign or read.</p>
    </Section>
  );
}
