/**
 * The patient's personal information: a small form kept as an encrypted FHIR Patient record (a Bundle with one
 * Patient), so only the patient and whom they share it with can read it. Showing it is a read like any other.
 */
import { useId, useState } from 'preact/hooks';
import { fromHex } from '../../../../codec/bytes.ts';
import { ActionProgress, useAction, type StepDef } from '../../../components/Progress.tsx';
import { Empty } from '../../../components/states.tsx';
import { Fields, Notice, Section } from '../../../components/ui.tsx';
import type { IdentityFile } from '../../../keystore.ts';
import { loadFhir } from '../../../lib/fhir.ts';
import { fhirDate } from '../../../lib/fhirDisplay.ts';
import { useFeed } from '../../../lib/hooks.ts';
import { EMPTY_PERSONAL_INFO, PERSONAL_INFO_LIMITS, personalInfoBundle, personalInfoFrom, personalInfoProblems, type PersonalInfo } from '../../../lib/personalInfo.ts';
import { useServices } from '../../../lib/services.ts';
import { reportingClient } from '../api.ts';
import { READ_STEPS } from '../OpenRecord.tsx';
import { dateInputValue, UPLOAD_STEPS, type LabelsView } from '../shared.tsx';
import type { PatientRecord } from './data.ts';

const PERSONAL_LABEL = 'Personal information';

export function PersonalInfoSection({ file, records, labels, onSaved }: { file: IdentityFile; records: readonly PatientRecord[]; labels: LabelsView; onSaved: () => void }) {
  const live = records.filter((r) => r.entry.erasedAt === null);
  const oldestFirst = [...live].sort((a, b) => a.entry.createdAt - b.entry.createdAt).map((r) => r.entry.id);
  const personalId = labels.labels.personalRecord(oldestFirst);
  const record = live.find((r) => r.entry.id === personalId);
  const [info, setInfo] = useState<PersonalInfo | null>(null);
  const [editing, setEditing] = useState(false);
  const services = useServices();
  const feed = useFeed();
  const reading = useAction(READ_STEPS);

  const show = (): void => {
    if (record === undefined) return;
    void reading.run(async (onCall) => {
      const client = reportingClient(services, file.publicKey, feed.node?.chainId, onCall);
      const read = await client.read(record.entry.id, record.entry.versionCount - 1, 'PATRQT');
      let parsed: PersonalInfo | null = null;
      try {
        parsed = personalInfoFrom(JSON.parse(new TextDecoder().decode(read.plaintext)));
      } finally {
        read.plaintext.fill(0);
      }
      if (parsed === null) throw new Error('That record holds no FHIR Patient resource.');
      setInfo(parsed);
    });
  };

  return (
    <Section
      title="Your personal information"
      id="personal"
      actions={
        info !== null && !editing ? (
          <button type="button" class="button secondary small" onClick={() => setEditing(true)}>
            Edit
          </button>
        ) : null
      }
    >
      {editing ? (
        <PersonalInfoForm
          file={file}
          initial={info ?? EMPTY_PERSONAL_INFO}
          record={record}
          labels={labels}
          onCancel={() => {
            setEditing(false);
            if (record === undefined) setInfo(null);
          }}
          onSaved={(saved) => {
            setInfo(saved);
            setEditing(false);
            onSaved();
          }}
        />
      ) : info !== null ? (
        <>
          <Fields
            rows={[
              ['Name', info.name],
              ['Born', info.birthDate === '' ? 'not given' : fhirDate(info.birthDate)],
              ['Phone', info.phone || 'not given'],
              ['Email', info.email || 'not given'],
              ['Address', info.address || 'not given'],
            ]}
          />
          <div class="form-actions">
            <button type="button" class="button ghost small" onClick={() => setInfo(null)}>
              Hide
            </button>
          </div>
        </>
      ) : record !== undefined ? (
        <>
          <p class="muted">Stored as an encrypted record (version {record.entry.versionCount}). Only you, and the doctors you share it with, can read it.</p>
          <ActionProgress steps={READ_STEPS} action={reading} onRetry={show} />
          <div class="form-actions">
            <button type="button" class="button secondary" onClick={show} disabled={reading.busy}>
              {reading.busy ? 'Opening…' : 'Show my information'}
            </button>
          </div>
        </>
      ) : (
        <Empty
          title="Not added yet"
          action={
            <button type="button" class="button primary" onClick={() => { setInfo(EMPTY_PERSONAL_INFO); setEditing(true); }}>
              Add your personal information
            </button>
          }
        >
          <p>Your name, birth date and contact details, kept encrypted like your records, so a doctor you share them with knows who you are.</p>
        </Empty>
      )}
    </Section>
  );
}

function Field({ label, value, onInput, type = 'text', max, problem, hint, autoComplete }: { label: string; value: string; onInput: (v: string) => void; type?: 'text' | 'date' | 'tel' | 'email'; max?: number; problem?: string; hint?: string; autoComplete?: string }) {
  const id = useId();
  const common = {
    id,
    class: 'input',
    value,
    maxLength: max,
    onInput: (e: Event) => onInput((e.currentTarget as HTMLInputElement).value),
    'aria-invalid': problem !== undefined,
    'aria-describedby': problem === undefined ? undefined : `${id}-problem`,
    autoComplete,
  };
  return (
    <div class="form-field">
      <label for={id}>{label}</label>
      {type === 'date' ? <input type="date" {...common} /> : type === 'tel' ? <input type="tel" {...common} /> : type === 'email' ? <input type="email" {...common} /> : <input type="text" {...common} />}
      {hint === undefined ? null : <p class="hint">{hint}</p>}
      {problem === undefined ? null : (
        <p class="form-problem" id={`${id}-problem`}>
          {problem}
        </p>
      )}
    </div>
  );
}

const VERSION_STEPS: readonly StepDef[] = [{ label: 'Checking it as FHIR R4', methods: [] }, ...UPLOAD_STEPS];

function PersonalInfoForm({ file, initial, record, labels, onCancel, onSaved }: { file: IdentityFile; initial: PersonalInfo; record: PatientRecord | undefined; labels: LabelsView; onCancel: () => void; onSaved: (info: PersonalInfo) => void }) {
  const services = useServices();
  const feed = useFeed();
  const [info, setInfo] = useState(initial);
  const [tried, setTried] = useState(false);
  const action = useAction(VERSION_STEPS);
  const today = dateInputValue(services.now());
  const problems = personalInfoProblems(info, today);
  const update = (key: keyof PersonalInfo) => (value: string) => setInfo({ ...info, [key]: value });

  const save = (): void => {
    setTried(true);
    if (Object.keys(problems).length > 0) return;
    void action.run(async (onCall) => {
      const fhir = await loadFhir();
      const bundle = personalInfoBundle(info, new Date(services.now()).toISOString());
      const checked = fhir.validateFhirBundle(bundle);
      if (!checked.ok) throw new Error(`The information is not valid FHIR: ${checked.issues.map((i) => i.message).join('; ')}`);
      const bytes = new TextEncoder().encode(JSON.stringify(bundle));
      const client = reportingClient(services, file.publicKey, feed.node?.chainId, onCall);
      if (record === undefined) {
        const recordId = await client.createRecord(bytes, 'application/fhir+json');
        labels.set(recordId, { label: PERSONAL_LABEL, personal: true });
      } else {
        // Those who hold access now get the new version's key; those whose access ended do not.
        const readers = record.holders.filter((h) => h.active && h.grantee !== file.publicKey).map((h) => fromHex(h.grantee)!);
        await client.addVersion(record.entry.id, bytes, 'application/fhir+json', readers);
      }
      bytes.fill(0);
      onSaved(info);
    });
  };

  const shown = (key: keyof PersonalInfo) => (tried ? problems[key] : undefined);
  return (
    <form
      class="form"
      data-testid="personal-info-form"
      onSubmit={(event) => {
        event.preventDefault();
        save();
      }}
    >
      <Field label="Full name" value={info.name} onInput={update('name')} max={PERSONAL_INFO_LIMITS.name} problem={shown('name')} autoComplete="name" />
      <Field label="Birth date" type="date" value={info.birthDate} onInput={update('birthDate')} problem={shown('birthDate')} autoComplete="bday" />
      <Field label="Phone" type="tel" value={info.phone} onInput={update('phone')} max={PERSONAL_INFO_LIMITS.phone} problem={shown('phone')} autoComplete="tel" />
      <Field label="Email" type="email" value={info.email} onInput={update('email')} max={PERSONAL_INFO_LIMITS.email} problem={shown('email')} autoComplete="email" />
      <Field label="Address" value={info.address} onInput={update('address')} max={PERSONAL_INFO_LIMITS.address} problem={shown('address')} autoComplete="street-address" />
      <Notice tone="info">
        <p>{record === undefined ? 'Saved as a new encrypted record that only you can open.' : 'Saved as a new version of your encrypted record; the doctors who hold access now can read it.'}</p>
      </Notice>
      <ActionProgress steps={VERSION_STEPS} action={action} onRetry={save} />
      <div class="form-actions">
        <button type="submit" class="button primary" disabled={action.busy}>
          {action.busy ? 'Saving…' : 'Encrypt and save'}
        </button>
        <button type="button" class="button ghost" onClick={onCancel} disabled={action.busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}
