/** The patient's records: name, kind, versions, when added, who holds access, erased or not; open, rename, share, erase. */
import { useId, useState } from 'preact/hooks';
import { ConfirmDialog } from '../../../components/ConfirmDialog.tsx';
import { RecordLink } from '../../../components/links.tsx';
import { ActionProgress, useAction } from '../../../components/Progress.tsx';
import { Empty } from '../../../components/states.tsx';
import { Badge, DateTime, Notice } from '../../../components/ui.tsx';
import type { IdentityFile } from '../../../keystore.ts';
import { formatBytes, plural } from '../../../lib/format.ts';
import { useFeed } from '../../../lib/hooks.ts';
import { kindOf, MAX_RECORD_LABEL } from '../../../lib/recordLabels.ts';
import { useServices } from '../../../lib/services.ts';
import { reportingClient } from '../api.ts';
import { OpenRecord } from '../OpenRecord.tsx';
import { TX_STEPS, type LabelsView } from '../shared.tsx';
import type { PatientRecord } from './data.ts';

type Panel = 'open' | 'rename' | null;

export function RecordList({ file, records, labels, onShare, onChanged }: { file: IdentityFile; records: readonly PatientRecord[]; labels: LabelsView; onShare: (recordId: string) => void; onChanged: () => void }) {
  const [erasing, setErasing] = useState<PatientRecord | null>(null);
  if (records.length === 0) {
    return (
      <Empty title="No records yet">
        <p>Add a FHIR export from your hospital or patient portal, or a file such as a PDF letter or a scan. It is encrypted in this browser before it is uploaded; the chain keeps only a commitment to it.</p>
      </Empty>
    );
  }
  return (
    <>
      <ul class="rows record-rows" data-testid="my-records">
        {records.map((r) => (
          <RecordRow key={r.entry.id} file={file} record={r} labels={labels} onShare={onShare} onErase={() => setErasing(r)} />
        ))}
      </ul>
      {erasing === null ? null : (
        <EraseDialog
          file={file}
          record={erasing}
          label={labels.labels.labelOf(erasing.entry.id, erasing.contentType)}
          onClose={() => setErasing(null)}
          onErased={() => {
            setErasing(null);
            onChanged();
          }}
        />
      )}
    </>
  );
}

function RecordRow({ file, record, labels, onShare, onErase }: { file: IdentityFile; record: PatientRecord; labels: LabelsView; onShare: (id: string) => void; onErase: () => void }) {
  const [panel, setPanel] = useState<Panel>(null);
  const { entry, detail, holders, contentType } = record;
  const note = labels.labels.get(entry.id);
  const label = labels.labels.labelOf(entry.id, contentType);
  const erased = entry.erasedAt !== null || (detail?.erasedAt ?? null) !== null;
  const active = holders.filter((h) => h.active).length;
  const latest = detail?.versions[detail.versions.length - 1];
  const toggle = (p: Panel) => setPanel(panel === p ? null : p);
  return (
    <li class="row record-row" data-testid="record-row" data-record={entry.id}>
      <div class="row-main">
        <span class="row-title">
          <span class="record-label">{label}</span>
          {note?.personal === true ? <Badge tone="info">Personal information</Badge> : null}
          {erased ? <Badge tone="warn">Erased</Badge> : active > 0 ? <Badge tone="good">Shared with {plural(active, 'person', 'people')}</Badge> : <Badge>Only you</Badge>}
        </span>
        <span class="row-detail">
          {kindOf(contentType).noun} · {plural(entry.versionCount, 'version')}
          {latest === undefined ? null : <> · {formatBytes(latest.size)} encrypted</>}
          {record.createdTime === undefined ? null : (
            <>
              {' '}
              · added <DateTime ms={record.createdTime} />
            </>
          )}
          {' '}
          · <RecordLink id={entry.id} />
        </span>
        {erased ? <span class="row-detail">Its encrypted data and keys were deleted from every node; the chain keeps a tombstone and the access history.</span> : null}
      </div>
      {erased ? null : (
        <div class="row-actions">
          <button type="button" class="button secondary small" onClick={() => toggle('open')} aria-expanded={panel === 'open'}>
            Open
          </button>
          <button type="button" class="button secondary small" onClick={() => onShare(entry.id)}>
            Share
          </button>
          <button type="button" class="button ghost small" onClick={() => toggle('rename')} aria-expanded={panel === 'rename'}>
            Rename
          </button>
          <button type="button" class="button ghost small danger-text" onClick={onErase}>
            Erase
          </button>
        </div>
      )}
      {panel === 'open' && detail !== null ? (
        <div class="row-panel">
          <OpenRecord file={file} record={detail} as="patient" fileName={note?.fileName} />
        </div>
      ) : null}
      {panel === 'rename' ? (
        <div class="row-panel">
          <RenameForm
            initial={note?.label ?? ''}
            placeholder={label}
            onSave={(name) => {
              labels.set(entry.id, { ...note, label: name });
              setPanel(null);
            }}
            onCancel={() => setPanel(null)}
          />
        </div>
      ) : null}
    </li>
  );
}

function RenameForm({ initial, placeholder, onSave, onCancel }: { initial: string; placeholder: string; onSave: (name: string) => void; onCancel: () => void }) {
  const [name, setName] = useState(initial);
  const id = useId();
  return (
    <form
      class="form"
      onSubmit={(e) => {
        e.preventDefault();
        onSave(name);
      }}
    >
      <div class="form-field">
        <label for={id}>Name (only in this browser)</label>
        <input id={id} class="input" value={name} placeholder={placeholder} maxLength={MAX_RECORD_LABEL} onInput={(e) => setName(e.currentTarget.value)} autoComplete="off" autoFocus />
      </div>
      <div class="form-actions">
        <button type="submit" class="button primary small">
          Save name
        </button>
        <button type="button" class="button ghost small" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** Erasing: what it does and does not do, confirmed by typing the record's name. */
function EraseDialog({ file, record, label, onClose, onErased }: { file: IdentityFile; record: PatientRecord; label: string; onClose: () => void; onErased: () => void }) {
  const services = useServices();
  const feed = useFeed();
  const [typed, setTyped] = useState('');
  const action = useAction(TX_STEPS);
  const inputId = useId();
  const matches = typed.trim().toLowerCase() === label.trim().toLowerCase();
  const active = record.holders.filter((h) => h.active).length;
  const erase = (): void => {
    void action
      .run(async (onCall) => {
        await reportingClient(services, file.publicKey, feed.node?.chainId, onCall).erase(record.entry.id);
      })
      .then((ok) => ok && onErased());
  };
  return (
    <ConfirmDialog title={`Erase “${label}” for good?`} confirmLabel={action.busy ? 'Erasing…' : 'Erase this record'} danger busy={action.busy} confirmDisabled={!matches} onConfirm={erase} onCancel={onClose} testId="erase-dialog">
      <p>
        Erasing deletes the encrypted data of every version, and every key to it, from every node. This is called <strong>crypto-shredding</strong>: without the keys the data can never be decrypted again, by you or by anyone.
      </p>
      <ul class="confirm-points">
        <li>Nobody can open it afterwards{active > 0 ? `, including the ${plural(active, 'person', 'people')} you shared it with` : ''}.</li>
        <li>The chain keeps a tombstone: that the record existed, its size and type, and its access history. Not its contents.</li>
        <li>Copies someone already opened or downloaded cannot be taken back.</li>
        <li>This cannot be undone.</li>
      </ul>
      <div class="form-field">
        <label for={inputId}>
          Type the record's name to confirm: <code class="confirm-name">{label}</code>
        </label>
        <input id={inputId} class="input" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} autoComplete="off" spellcheck={false} disabled={action.busy} />
      </div>
      {!matches && typed !== '' ? <p class="hint">The name does not match yet.</p> : null}
      <ActionProgress steps={TX_STEPS} action={action} onRetry={erase} />
      {action.state.status === 'done' ? <Notice tone="good" title="Erased" /> : null}
    </ConfirmDialog>
  );
}
