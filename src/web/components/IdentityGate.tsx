/**
 * Dashboards act as one identity: this picks it (among the browser's identities meant for the role) and asks
 * for the passphrase when it is locked. Children render only with an unlocked identity.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useId, useState } from 'preact/hooks';
import type { IdentityFile, IdentityRole } from '../keystore.ts';
import { useIdentities } from '../lib/hooks.ts';
import { Link } from '../lib/router.tsx';
import { UnlockForm } from '../pages/identity/UnlockForm.tsx';
import { Empty } from './states.tsx';
import { Section } from './ui.tsx';

const CHOICE_KEY = 'medchain.dashboardIdentity.';

export function IdentityGate({ role, children }: { role: IdentityRole; children: (identity: IdentityFile) => ComponentChildren }) {
  const { files, unlocked } = useIdentities();
  const selectId = useId();
  const candidates = files.filter((f) => f.role === role || f.role === null);
  const others = files.filter((f) => !candidates.includes(f));
  const [chosen, setChosen] = useState<string | null>(() => sessionStorage.getItem(CHOICE_KEY + role));
  const current = files.find((f) => f.publicKey === chosen) ?? candidates.find((f) => unlocked.includes(f.publicKey)) ?? candidates[0];

  useEffect(() => {
    if (current !== undefined) sessionStorage.setItem(CHOICE_KEY + role, current.publicKey);
  }, [current, role]);

  if (current === undefined) {
    return (
      <Empty title={`No ${role} identity in this browser`} action={<Link to={{ page: 'identities' }} class="button primary">Create or import one</Link>}>
        <p>Your identity is a key kept in this browser, encrypted with your passphrase.{others.length > 0 ? ` You have ${others.length} identit${others.length === 1 ? 'y' : 'ies'} meant for other dashboards; choose "rather not say" as role to use one everywhere.` : ''}</p>
      </Empty>
    );
  }

  const picker =
    candidates.length + others.length > 1 ? (
      <div class="form-field inline identity-picker">
        <label for={selectId}>Acting as</label>
        <select id={selectId} class="input" value={current.publicKey} onChange={(e) => setChosen(e.currentTarget.value)}>
          {[...candidates, ...others].map((f) => (
            <option key={f.publicKey} value={f.publicKey}>
              {f.label}
              {f.role !== null && f.role !== role ? ` (${f.role})` : ''}
              {unlocked.includes(f.publicKey) ? '' : ' (locked)'}
            </option>
          ))}
        </select>
      </div>
    ) : null;

  if (!unlocked.includes(current.publicKey)) {
    return (
      <>
        {picker}
        <Section title={`Unlock ${current.label}`}>
          <p class="muted">Your key is locked. Enter its passphrase; it stays unlocked in this tab until you lock it or stop using the app for a while.</p>
          <UnlockForm file={current} key={current.publicKey} />
        </Section>
      </>
    );
  }
  return (
    <>
      {picker}
      {children(current)}
    </>
  );
}
