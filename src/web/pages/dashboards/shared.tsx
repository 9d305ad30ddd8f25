/** Pieces every dashboard uses: record names kept in this browser, registration, the identity summary. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { IdentityJson } from '../../../client/rpcClient.ts';
import { ActionProgress, useAction, type StepDef } from '../../components/Progress.tsx';
import { AccountLink, BlockLink } from '../../components/links.tsx';
import { Fields, Notice, Section } from '../../components/ui.tsx';
import type { IdentityFile } from '../../keystore.ts';
import { useAccountActivity, useFeed } from '../../lib/hooks.ts';
import { RecordLabels, type RecordNote } from '../../lib/recordLabels.ts';
import { Link } from '../../lib/router.tsx';
import { useServices } from '../../lib/services.ts';
import { reportingClient } from './api.ts';

const LABELS_CHANGED = 'recordLabels';

/**
 * Calls `reload` whenever the chain reports activity for `account` (a grant, a read, a revocation...). A
 * reload keeps the page mounted, so forms and open records keep their state; a query keyed on the activity
 * count would start over and unmount them.
 */
export function useReloadOnActivity(account: string, reload: () => void): void {
  const activity = useAccountActivity(account);
  useEffect(() => {
    if (activity > 0) reload();
  }, [activity, reload]);
}

export interface LabelsView {
  readonly labels: RecordLabels;
  /** Changes whenever a name changes (use it in deps). */
  readonly version: number;
  set(recordId: string, note: RecordNote): void;
}

/** The record names kept in this browser; re-renders when they change (in this tab or another). */
export function useRecordLabels(): LabelsView {
  const { changes } = useServices();
  const labels = useMemo(() => new RecordLabels(localStorage), []);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const bump = (): void => setVersion((v) => v + 1);
    changes.addEventListener(LABELS_CHANGED, bump);
    addEventListener('storage', bump);
    return () => {
      changes.removeEventListener(LABELS_CHANGED, bump);
      removeEventListener('storage', bump);
    };
  }, [changes]);
  return {
    labels,
    version,
    set(recordId, note) {
      labels.set(recordId, note);
      changes.dispatchEvent(new Event(LABELS_CHANGED));
    },
  };
}

/** "Not registered yet" with a button that registers the identity (one signed transaction). */
export function NotRegistered({ file, role, onRegistered }: { file: IdentityFile; role: 'patient' | 'doctor'; onRegistered: () => void }) {
  const services = useServices();
  const feed = useFeed();
  const action = useAction(TX_STEPS);
  const register = (): void => {
    void action
      .run(async (onCall) => {
        await reportingClient(services, file.publicKey, feed.node?.chainId, onCall).register(role);
      })
      .then((ok) => ok && onRegistered());
  };
  return (
    <Notice tone="warn" title={`${file.label} is not registered as a ${role} yet`}>
      <p>
        Registering tells the chain this key belongs to a {role}. It is one signed transaction and takes a block; nothing about you but the key and the role is written.
      </p>
      <div class="form-actions">
        <button type="button" class="button primary" onClick={register} disabled={action.busy}>
          Register as {role}
        </button>
      </div>
      <ActionProgress steps={TX_STEPS} action={action} onRetry={register} />
    </Notice>
  );
}

export function IdentitySummary({ file, identity }: { file: IdentityFile; identity: IdentityJson | null }) {
  return (
    <Section title="Your identity">
      <Fields
        rows={[
          ['Name (only in this browser)', file.label],
          ['Account', <AccountLink id={file.publicKey} name={identity?.hospitalName} />],
          ['Role on the chain', identity === null ? 'not registered' : identity.role],
          identity !== null && ['Registered in', <BlockLink height={identity.registeredAt} />],
        ]}
      />
      <p class="hint">
        Others find you by the fingerprint of your key. Manage, back up or lock your keys on the <Link to={{ page: 'identities' }}>Keys page</Link>.
      </p>
    </Section>
  );
}

/** HL7 purposes a doctor may state when opening a record. */
export const DOCTOR_PURPOSES: readonly (readonly [code: string, label: string])[] = [
  ['TREAT', 'Treatment'],
  ['HOPERAT', 'Healthcare operations'],
  ['PATADMIN', 'Patient administration'],
  ['HPAYMT', 'Payment'],
  ['PUBHLTH', 'Public health'],
  ['HRESCH', 'Research'],
];

export { dateInputValue, endOfDay } from '../../lib/dates.ts';

/** Steps of adding a record or a version (EmrClient.createRecord / addVersion), told from its node calls. */
export const UPLOAD_STEPS: readonly StepDef[] = [
  { label: 'Encrypting in this browser', methods: ['record_get'] },
  { label: 'Signing and sending the commitment to the chain', methods: ['identity_get', 'tx_submit'] },
  { label: 'Waiting for the next block', methods: ['tx_get'] },
  { label: 'Uploading the encrypted data', methods: ['record_upload'] },
  { label: 'Uploading the keys for its readers', methods: ['record_uploadEnvelopes'] },
];

/** Steps of one signed transaction (grant revocation, erasure, attestation). */
export const TX_STEPS: readonly StepDef[] = [
  { label: 'Signing in this browser', methods: ['identity_get'] },
  { label: 'Sending it to the chain', methods: ['tx_submit'] },
  { label: 'Waiting for the next block', methods: ['tx_get'] },
];
