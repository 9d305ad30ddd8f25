/**
 * The doctor dashboard: attestation status, the records patients shared (open them with a stated purpose, add
 * versions where allowed), and emergency access with a required reason. Live: grants and revocations that
 * concern this doctor reload the list.
 */
import { useId, useState } from 'preact/hooks';
import { rpcCall, type IdentityJson, type MedchainRpc } from '../../../client/rpcClient.ts';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { IdentityGate } from '../../components/IdentityGate.tsx';
import { AccountLink, BlockLink, RecordLink } from '../../components/links.tsx';
import { ActionProgress, useAction } from '../../components/Progress.tsx';
import { Empty, QueryView } from '../../components/states.tsx';
import { Badge, DateTime, Notice, Page, Section } from '../../components/ui.tsx';
import { identityFingerprint, type IdentityFile } from '../../keystore.ts';
import { expiryText, scopeText } from '../../lib/accessLog.ts';
import { fingerprintOf, NO_EXPIRY_MS, plural } from '../../lib/format.ts';
import { useFeed, useQuery } from '../../lib/hooks.ts';
import { kindOf } from '../../lib/recordLabels.ts';
import { useServices } from '../../lib/services.ts';
import { reportingClient, type RecordDetail, type RecordEntry } from './api.ts';
import { AddVersion } from './AddVersion.tsx';
import { OpenedRecord, OpenRecord, READ_STEPS, type OpenedVersion } from './OpenRecord.tsx';
import { IdentitySummary, NotRegistered, useReloadOnActivity } from './shared.tsx';

interface SharedRecord {
  readonly entry: RecordEntry;
  readonly detail: RecordDetail | null;
}

interface DoctorData {
  readonly identity: IdentityJson | null;
  readonly shared: readonly SharedRecord[];
}

async function loadDoctor(rpc: MedchainRpc, account: string, signal: AbortSignal): Promise<DoctorData> {
  const [identity, list] = await rpc.batch([rpcCall<IdentityJson | null>('identity_get', { accountId: account }), rpcCall<RecordEntry[]>('record_list', { account, as: 'grantee' })] as const, { signal });
  if (!identity.ok) throw identity.error;
  if (!list.ok) throw list.error;
  const entries = list.result;
  const details = entries.length === 0 ? [] : await rpc.batch(entries.map((e) => rpcCall<RecordDetail | null>('record_get', { recordId: e.id })), { signal });
  const shared = entries.map((entry, i) => ({ entry, detail: details[i]?.ok === true ? (details[i].result as RecordDetail | null) : null }));
  // Access that holds now first, then the most recently granted.
  shared.sort((a, b) => Number(b.entry.grant?.active ?? false) - Number(a.entry.grant?.active ?? false) || (b.entry.grant?.grantedAt ?? 0) - (a.entry.grant?.grantedAt ?? 0));
  return { identity: identity.result, shared };
}

export function DoctorDashboard() {
  return (
    <Page title="Doctor" subtitle="Records patients shared with you. They are decrypted on this device, and every read leaves a receipt the patient sees.">
      <IdentityGate role="doctor">{(file) => <DoctorHome file={file} key={file.publicKey} />}</IdentityGate>
    </Page>
  );
}

function DoctorHome({ file }: { file: IdentityFile }) {
  const { rpc } = useServices();
  const query = useQuery((signal) => loadDoctor(rpc, file.publicKey, signal), [file.publicKey]);
  useReloadOnActivity(file.publicKey, query.reload);
  const reload = query.reload;
  return (
    <QueryView query={query} loading="Reading your access…">
      {({ identity, shared }) => (
        <>
          {identity === null ? <NotRegistered file={file} role="doctor" onRegistered={reload} /> : null}
          {identity !== null && identity.role !== 'doctor' ? (
            <Notice tone="warn" title={`${file.label} is registered as a ${identity.role}`}>
              <p>Choose or create a doctor identity to use this dashboard.</p>
            </Notice>
          ) : null}
          <AttestationSection file={file} identity={identity} />
          <Section title={`Shared with you (${shared.filter((s) => s.entry.grant?.active === true).length} active)`} id="shared">
            {shared.length === 0 ? (
              <Empty title="No records shared with you">
                <p>When a patient shares a record with you, it appears here. Patients find you by your name or by your key's fingerprint: <code class="fingerprint">{identityFingerprint(file)}</code>.</p>
              </Empty>
            ) : (
              <ul class="rows record-rows" data-testid="shared-records">
                {shared.map((s) => (
                  <SharedRow key={s.entry.id} file={file} record={s} onChanged={reload} />
                ))}
              </ul>
            )}
          </Section>
          <EmergencySection file={file} attested={identity?.attestations.some((a) => a.valid) ?? false} />
          <IdentitySummary file={file} identity={identity} />
        </>
      )}
    </QueryView>
  );
}

function AttestationSection({ file, identity }: { file: IdentityFile; identity: IdentityJson | null }) {
  const { now } = useServices();
  const attestations = identity?.attestations ?? [];
  const valid = attestations.filter((a) => a.valid);
  return (
    <Section title="Attestation" id="attestation">
      {valid.length === 0 ? (
        <Notice tone="warn" title="You are not attested by a hospital now">
          <p>
            Doctors can open records only while a hospital attests them. Give your hospital your account key; its fingerprint is <code class="fingerprint">{identityFingerprint(file)}</code>.
          </p>
        </Notice>
      ) : (
        <p class="muted">You can open records patients share with you while at least one hospital attests you.</p>
      )}
      {attestations.length === 0 ? null : (
        <ul class="rows" data-testid="attestations">
          {attestations.map((a) => (
            <li class="row" key={a.hospital}>
              <div class="row-main">
                <span class="row-title">
                  {a.name} {a.valid ? <Badge tone="good">Attested</Badge> : a.revokedAt !== null ? <Badge tone="bad">Revoked</Badge> : <Badge tone="warn">Expired</Badge>}
                  {a.valid && a.expiresAt - now() < 30 * 86_400_000 ? <Badge tone="warn">Expires soon</Badge> : null}
                </span>
                <span class="row-detail">
                  by <AccountLink id={a.hospital} name={a.hospitalName} /> · licence <code>{a.licence}</code> · {a.expiresAt >= NO_EXPIRY_MS ? 'no expiry' : <>until <DateTime ms={a.expiresAt} /></>} · since block <BlockLink height={a.attestedAt} />
                </span>
                {a.revokedAt !== null ? (
                  <span class="row-detail">
                    Revoked in block <BlockLink height={a.revokedAt} />
                    {a.revokeReason === '' ? '' : `: “${a.revokeReason}”`}
                  </span>
                ) : null}
              </div>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

function SharedRow({ file, record, onChanged }: { file: IdentityFile; record: SharedRecord; onChanged: () => void }) {
  const [panel, setPanel] = useState<'open' | 'version' | null>(null);
  const [added, setAdded] = useState<number | null>(null);
  const { entry, detail } = record;
  const grant = entry.grant;
  const latest = detail?.versions[detail.versions.length - 1];
  const contentType = latest?.contentType ?? '';
  const erased = entry.erasedAt !== null || (detail?.erasedAt ?? null) !== null;
  const state = erased ? (
    <Badge tone="warn">Erased by the patient</Badge>
  ) : grant === null ? null : grant.active ? (
    <Badge tone="good">Access active</Badge>
  ) : grant.revokedAt !== null ? (
    <Badge tone="bad">Access revoked</Badge>
  ) : (
    <Badge tone="neutral">Access expired</Badge>
  );
  const toggle = (p: 'open' | 'version') => setPanel(panel === p ? null : p);
  return (
    <li class="row record-row" data-testid="shared-row" data-record={entry.id}>
      <div class="row-main">
        <span class="row-title">
          <span class="record-label">
            {kindOf(contentType).noun} from patient <code class="fingerprint">{fingerprintOf(entry.owner)}</code>
          </span>
          {state}
        </span>
        <span class="row-detail">
          {grant === null ? null : (
            <>
              {grant.active ? `You may ${scopeText(grant.scope)} · ${expiryText(grant.expiresAt)}` : `Was shared so you could ${scopeText(grant.scope)} · ${grant.revokedAt !== null ? `revoked in block ${grant.revokedAt.toLocaleString()}` : 'the access period ended'}`} ·{' '}
            </>
          )}
          {plural(entry.versionCount, 'version')} · <RecordLink id={entry.id} />
        </span>
        {grant !== null && !grant.active && !erased ? (
          <span class="row-detail">{grant.revokedAt !== null ? 'The patient revoked your access' : 'Your access period ended'}; the node will refuse to send this record to you.</span>
        ) : null}
        {added === null ? null : <span class="row-detail good-text">Version {added + 1} added.</span>}
      </div>
      {erased || detail === null ? null : (
        <div class="row-actions">
          <button type="button" class="button primary small" onClick={() => toggle('open')} aria-expanded={panel === 'open'}>
            Open
          </button>
          {grant?.active === true && grant.scope.includes('write') ? (
            <button type="button" class="button secondary small" onClick={() => toggle('version')} aria-expanded={panel === 'version'}>
              Add a version
            </button>
          ) : null}
        </div>
      )}
      {panel === 'open' && detail !== null ? (
        <div class="row-panel">
          <OpenRecord file={file} record={detail} as="doctor" />
        </div>
      ) : null}
      {panel === 'version' ? (
        <div class="row-panel">
          <AddVersion
            file={file}
            recordId={entry.id}
            onCancel={() => setPanel(null)}
            onAdded={(v) => {
              setAdded(v);
              setPanel(null);
              onChanged();
            }}
          />
        </div>
      ) : null}
    </li>
  );
}

const MIN_REASON = 10;

/** Break-glass: open a record not shared with you, for an emergency, with a reason the patient will see. */
function EmergencySection({ file, attested }: { file: IdentityFile; attested: boolean }) {
  const services = useServices();
  const feed = useFeed();
  const idField = useId();
  const reasonField = useId();
  const [recordId, setRecordId] = useState('');
  const [reason, setReason] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [opened, setOpened] = useState<{ opened: OpenedVersion; recordId: string } | null>(null);
  const action = useAction(READ_STEPS);
  const id = recordId.trim().toLowerCase();
  const idOk = /^[0-9a-f]{64}$/.test(id);
  const reasonOk = reason.trim().length >= MIN_REASON;

  const open = (): void => {
    void action
      .run(async (onCall) => {
        const record = await services.rpc.call<RecordDetail | null>('record_get', { recordId: id });
        if (record === null) throw new Error('There is no record with this id. Check it and try again.');
        const version = record.versions.length - 1;
        const read = await reportingClient(services, file.publicKey, feed.node?.chainId, onCall).read(id, version, 'ETREAT', { reason: reason.trim() });
        setOpened({ opened: { read, version, contentType: record.versions[version]!.contentType }, recordId: id });
      })
      .then(() => setConfirming(false));
  };

  return (
    <Section title="Emergency access" id="emergency">
      {opened !== null ? (
        <OpenedRecord
          opened={opened.opened}
          recordId={opened.recordId}
          onClose={() => {
            opened.opened.read.plaintext.fill(0);
            setOpened(null);
            action.reset();
          }}
        />
      ) : (
        <form
          class="form"
          data-testid="emergency-form"
          onSubmit={(event) => {
            event.preventDefault();
            if (idOk && reasonOk) {
              action.reset();
              setConfirming(true);
            }
          }}
        >
          <Notice tone="warn" title="Only when the patient cannot consent">
            <p>
              “Breaking the glass” opens a record the patient has not shared with you, for example when they are brought in unconscious. It works only on records whose owner allowed emergency access, and only while a hospital attests you. Your name, the time and your reason are written to the chain, flagged to the patient, and reviewed by your hospital.
            </p>
          </Notice>
          {attested ? null : <p class="form-problem">You are not attested by a hospital now, so emergency access will be refused.</p>}
          <div class="form-field">
            <label for={idField}>Record id</label>
            <input id={idField} class="input mono" value={recordId} onInput={(e) => setRecordId(e.currentTarget.value)} placeholder="64 hexadecimal characters" spellcheck={false} autoComplete="off" maxLength={70} />
            <p class="hint">From the patient's emergency card, or from the patient's account in the explorer.</p>
          </div>
          <div class="form-field">
            <label for={reasonField}>Reason (the patient will read it)</label>
            <textarea id={reasonField} class="input" rows={3} value={reason} onInput={(e) => setReason(e.currentTarget.value)} maxLength={250} placeholder="e.g. Unconscious on arrival at the emergency department; need allergies and medication." />
            <p class="hint">
              At least {MIN_REASON} characters; {reason.length}/250.
            </p>
          </div>
          {recordId !== '' && !idOk ? <p class="form-problem">A record id is 64 hexadecimal characters.</p> : null}
          <div class="form-actions">
            <button type="submit" class="button danger" disabled={!idOk || !reasonOk}>
              Request emergency access
            </button>
          </div>
        </form>
      )}
      {confirming ? (
        <ConfirmDialog title="Break the glass?" confirmLabel={action.busy ? 'Opening…' : 'Open with emergency access'} danger busy={action.busy} onConfirm={open} onCancel={() => setConfirming(false)} testId="emergency-dialog">
          <p>
            You are about to open record <code class="hex">{id.slice(0, 12)}…</code> without the patient's consent, for emergency treatment (ETREAT).
          </p>
          <p>
            Your reason: <q>{reason.trim()}</q>
          </p>
          <ul class="confirm-points">
            <li>This is written to the chain permanently and highlighted in the patient's access log.</li>
            <li>Your hospital audits emergency accesses; misuse can cost you your attestation.</li>
          </ul>
          <ActionProgress steps={READ_STEPS} action={action} onRetry={open} />
        </ConfirmDialog>
      ) : null}
    </Section>
  );
}
