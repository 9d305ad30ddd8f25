/**
 * "Share your medical record": pick the record, find the doctor by name or key fingerprint, choose what they
 * may do and until when, then confirm in plain words (who, what, until when). Sharing re-encrypts the record's
 * key for the doctor in this browser and records the grant on chain.
 */
import { useEffect, useId, useState } from 'preact/hooks';
import { fromHex } from '../../../../codec/bytes.ts';
import type { AccessAction } from '../../../../types/record.ts';
import { ConfirmDialog } from '../../../components/ConfirmDialog.tsx';
import { ActionProgress, useAction, type StepDef } from '../../../components/Progress.tsx';
import { Empty, ErrorNotice, Loading } from '../../../components/states.tsx';
import { Badge, Notice, Section } from '../../../components/ui.tsx';
import type { IdentityFile } from '../../../keystore.ts';
import { expiryText } from '../../../lib/accessLog.ts';
import { fingerprintOf, formatDateTime } from '../../../lib/format.ts';
import { useFeed, useQuery } from '../../../lib/hooks.ts';
import { useServices } from '../../../lib/services.ts';
import { attestationValid, findDoctors, reportingClient, type DoctorMatch } from '../api.ts';
import { dateInputValue, endOfDay, type LabelsView } from '../shared.tsx';
import type { PatientRecord } from './data.ts';

const DAY = 86_400_000;
const EXPIRY_CHOICES: readonly (readonly [value: string, label: string])[] = [
  ['1', '1 day'],
  ['7', '1 week'],
  ['30', '30 days'],
  ['90', '3 months'],
  ['365', '1 year'],
  ['date', 'Until a date I choose'],
  ['never', 'No end date (until I revoke it)'],
];

/** The doctor search: results as the patient types (name, or the start of a fingerprint or key). */
export function DoctorSearch({ selected, onSelect, disabled = false }: { selected: DoctorMatch | null; onSelect: (doctor: DoctorMatch | null) => void; disabled?: boolean }) {
  const { rpc, now } = useServices();
  const inputId = useId();
  const [text, setText] = useState('');
  const [query, setQuery] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => setQuery(text.trim()), 300);
    return () => clearTimeout(timer);
  }, [text]);
  const search = useQuery((signal) => (query.length < 2 ? Promise.resolve(null) : findDoctors(rpc, query, signal)), [query]);
  const time = now();

  if (selected !== null) {
    return (
      <div class="form-field">
        <span class="label">Doctor</span>
        <div class="chosen" data-testid="chosen-doctor">
          <DoctorSummary doctor={selected} now={time} />
          <button type="button" class="button ghost small" onClick={() => onSelect(null)} disabled={disabled}>
            Change
          </button>
        </div>
      </div>
    );
  }
  const state = search.state;
  return (
    <div class="form-field">
      <label for={inputId}>Find the doctor</label>
      <input
        id={inputId}
        class="input"
        type="search"
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
        placeholder="Name, or key fingerprint such as 1a2b-3c4d"
        autoComplete="off"
        spellcheck={false}
        maxLength={100}
        disabled={disabled}
      />
      <p class="hint">Ask your doctor for the fingerprint of their key to be sure you pick the right person.</p>
      {query.length < 2 ? null : state.status === 'loading' ? (
        <Loading label="Searching…" />
      ) : state.status === 'error' ? (
        <ErrorNotice error={state.error} onRetry={search.reload} compact />
      ) : state.data === null ? null : (
        <>
          {!state.data.byName ? (
            <Notice tone="warn" title="Search by name is not available on this node">
              <p>Paste the doctor's full account key (64 characters) instead; they find it on their Keys page.</p>
            </Notice>
          ) : null}
          {state.data.notADoctor !== undefined ? (
            <Notice tone="warn" title="That key is not an attested doctor">
              <p>{state.data.notADoctor.role === null ? 'No account with this key is registered on the chain.' : `This account is registered as a ${state.data.notADoctor.role}, and no hospital attests it as a doctor. Only attested doctors can open shared records.`}</p>
            </Notice>
          ) : null}
          {state.data.doctors.length === 0 && state.data.byName && state.data.notADoctor === undefined ? (
            <Empty title={`No doctor matches “${query}”`}>
              <p>Check the spelling, or search by the fingerprint of their key.</p>
            </Empty>
          ) : (
            <ul class="choices" data-testid="doctor-results">
              {state.data.doctors.map((d) => {
                const valid = attestationValid(d, time);
                return (
                  <li key={`${d.id}-${d.hospital}`}>
                    <button type="button" class="choice" onClick={() => onSelect(d)} disabled={!valid || disabled} aria-label={`Choose ${d.name}, ${d.hospitalName}`}>
                      <DoctorSummary doctor={d} now={time} />
                    </button>
                  </li>
                );
              })}
            </ul>
          )}
        </>
      )}
    </div>
  );
}

export function DoctorSummary({ doctor, now }: { doctor: DoctorMatch; now: number }) {
  const valid = attestationValid(doctor, now);
  return (
    <span class="doctor">
      <span class="doctor-name">
        {doctor.name} {valid ? <Badge tone="good">Attested</Badge> : doctor.revokedAt !== null ? <Badge tone="bad">Attestation revoked</Badge> : <Badge tone="warn">Attestation expired</Badge>}
      </span>
      <span class="doctor-detail">
        {doctor.hospitalName || 'a hospital'} · licence {doctor.licence} · key <code class="fingerprint">{doctor.fingerprint || fingerprintOf(doctor.id)}</code>
      </span>
    </span>
  );
}

const SHARE_STEPS: readonly StepDef[] = [
  { label: 'Unlocking the record key in this browser (recorded as your own access)', methods: ['record_get', 'identity_get', 'emr_read'] },
  { label: "Encrypting the key for the doctor's key", methods: ['record_uploadEnvelopes'] },
  { label: 'Recording the permission on the chain', methods: ['tx_submit'] },
  { label: 'Waiting for the next block', methods: ['tx_get'] },
];

export function ShareSection({ file, records, labels, recordId, onRecordChange, onShared }: { file: IdentityFile; records: readonly PatientRecord[]; labels: LabelsView; recordId: string | null; onRecordChange: (id: string) => void; onShared: () => void }) {
  const services = useServices();
  const feed = useFeed();
  const shareable = records.filter((r) => r.entry.erasedAt === null && r.entry.versionCount > 0);
  const [doctor, setDoctor] = useState<DoctorMatch | null>(null);
  const [write, setWrite] = useState(false);
  const [expiry, setExpiry] = useState('30');
  const [date, setDate] = useState(() => dateInputValue(services.now() + 30 * DAY));
  const [confirming, setConfirming] = useState(false);
  const [shared, setShared] = useState<string | null>(null);
  // A new search box after each share (a fresh search for the next doctor).
  const [searchKey, setSearchKey] = useState(0);
  const action = useAction(SHARE_STEPS);
  const recordSelect = useId();
  const expirySelect = useId();
  const dateId = useId();

  if (shareable.length === 0) {
    return (
      <Section title="Share your medical record" id="share">
        <Empty title="Nothing to share yet">
          <p>Add a record first; then you can let a doctor read it for as long as you choose.</p>
        </Empty>
      </Section>
    );
  }

  const record = shareable.find((r) => r.entry.id === recordId) ?? shareable[0]!;
  const label = labels.labels.labelOf(record.entry.id, record.contentType);
  const expiresAt = expiry === 'never' ? null : expiry === 'date' ? endOfDay(date) : services.now() + Number(expiry) * DAY;
  const expiryProblem = expiresAt !== null && (Number.isNaN(expiresAt) || expiresAt <= services.now()) ? 'Choose a date in the future.' : null;
  const existing = doctor === null ? undefined : record.holders.find((h) => h.grantee === doctor.id && h.active);
  const scope: AccessAction[] = write ? ['read', 'write'] : ['read'];

  const share = (): void => {
    if (doctor === null || expiryProblem !== null) return;
    void action
      .run(async (onCall) => {
        const client = reportingClient(services, file.publicKey, feed.node?.chainId, onCall);
        await client.grant(record.entry.id, fromHex(doctor.id)!, scope, expiresAt);
      })
      .then((ok) => {
        setConfirming(false);
        if (!ok) return;
        setShared(`${doctor.name} can now ${write ? 'read and add versions to' : 'read'} “${label}” ${expiryText(expiresAt)}.`);
        setDoctor(null);
        setWrite(false);
        setSearchKey((k) => k + 1);
        onShared();
      });
  };

  return (
    <Section title="Share your medical record" id="share">
      <form
        class="form"
        data-testid="share-form"
        onSubmit={(event) => {
          event.preventDefault();
          if (doctor !== null && expiryProblem === null) {
            setShared(null);
            action.reset();
            setConfirming(true);
          }
        }}
      >
        {shared === null ? null : (
          <Notice tone="good" title="Shared">
            <p data-testid="share-done">{shared}</p>
          </Notice>
        )}
        <div class="form-field">
          <label for={recordSelect}>Record</label>
          <select id={recordSelect} class="input" value={record.entry.id} onChange={(e) => onRecordChange(e.currentTarget.value)} disabled={action.busy}>
            {shareable.map((r) => (
              <option key={r.entry.id} value={r.entry.id}>
                {labels.labels.labelOf(r.entry.id, r.contentType)}
              </option>
            ))}
          </select>
        </div>
        <DoctorSearch key={searchKey} selected={doctor} onSelect={setDoctor} disabled={action.busy} />
        {existing !== undefined ? (
          <Notice tone="info">
            <p>
              {doctor?.name} already has access to this record {expiryText(existing.expiresAt)}. Sharing again replaces that permission.
            </p>
          </Notice>
        ) : null}
        <fieldset class="fieldset">
          <legend>What they may do</legend>
          <label class="checkbox">
            <input type="checkbox" checked disabled />
            <span>Read this record</span>
          </label>
          <label class="checkbox">
            <input type="checkbox" checked={write} onChange={(e) => setWrite(e.currentTarget.checked)} disabled={action.busy} />
            <span>Also add new versions (for example new results or a discharge letter)</span>
          </label>
        </fieldset>
        <div class="form-field">
          <label for={expirySelect}>For how long</label>
          <select id={expirySelect} class="input" value={expiry} onChange={(e) => setExpiry(e.currentTarget.value)} disabled={action.busy}>
            {EXPIRY_CHOICES.map(([value, text]) => (
              <option key={value} value={value}>
                {text}
              </option>
            ))}
          </select>
        </div>
        {expiry === 'date' ? (
          <div class="form-field">
            <label for={dateId}>Last day of access</label>
            <input id={dateId} class="input" type="date" value={date} min={dateInputValue(services.now() + DAY)} onInput={(e) => setDate(e.currentTarget.value)} disabled={action.busy} />
          </div>
        ) : null}
        {expiryProblem === null ? null : <p class="form-problem">{expiryProblem}</p>}
        <div class="form-actions">
          <button type="submit" class="button primary" disabled={doctor === null || expiryProblem !== null || action.busy}>
            Review and share
          </button>
        </div>
      </form>
      {confirming && doctor !== null ? (
        <ConfirmDialog
          title="Share this record?"
          confirmLabel={action.busy ? 'Sharing…' : 'Yes, share it'}
          busy={action.busy}
          onConfirm={share}
          onCancel={() => setConfirming(false)}
          testId="share-dialog"
        >
          <p class="confirm-line">
            <strong>{doctor.name}</strong>
            <span class="muted">
              {' '}
              ({doctor.hospitalName || 'a hospital'}, licence {doctor.licence}, key <code class="fingerprint">{doctor.fingerprint || fingerprintOf(doctor.id)}</code>)
            </span>
          </p>
          <p>
            will be able to <strong>{write ? 'read and add new versions to' : 'read'}</strong> your record <strong>“{label}”</strong>{' '}
            <strong data-testid="share-until">{expiresAt === null ? 'with no end date, until you revoke it' : `until ${formatDateTime(expiresAt)}`}</strong>.
          </p>
          <ul class="confirm-points">
            <li>Each time they open it, the chain records who, when and why; you see it in your access log.</li>
            <li>You can revoke this at any time. Revoking stops future access only: what they have already read cannot be taken back.</li>
            <li>That you shared this record with this doctor is written to the chain, which anyone can read. The contents are not.</li>
          </ul>
          <ActionProgress steps={SHARE_STEPS} action={action} onRetry={share} />
        </ConfirmDialog>
      ) : null}
    </Section>
  );
}
