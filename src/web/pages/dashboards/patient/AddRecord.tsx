/** Add a record: a FHIR bundle or a file, checked and encrypted in this browser, then committed and uploaded. */
import { useId, useState } from 'preact/hooks';
import { fromHex } from '../../../../codec/bytes.ts';
import { POLICY_TEMPLATES } from '../../../../script/templates.ts';
import { ActionProgress, useAction } from '../../../components/Progress.tsx';
import { Section } from '../../../components/ui.tsx';
import type { IdentityFile } from '../../../keystore.ts';
import { useFeed } from '../../../lib/hooks.ts';
import { MAX_RECORD_LABEL } from '../../../lib/recordLabels.ts';
import { useServices } from '../../../lib/services.ts';
import { reportingClient } from '../api.ts';
import { RecordInput, type PreparedRecord } from '../RecordInput.tsx';
import { UPLOAD_STEPS, type LabelsView } from '../shared.tsx';

export function AddRecord({ file, labels, onAdded, onCancel }: { file: IdentityFile; labels: LabelsView; onAdded: (recordId: string, label: string) => void; onCancel: () => void }) {
  const services = useServices();
  const feed = useFeed();
  const [prepared, setPrepared] = useState<PreparedRecord | null>(null);
  const [label, setLabel] = useState('');
  const [emergency, setEmergency] = useState(false);
  const action = useAction(UPLOAD_STEPS);
  const labelId = useId();

  const add = (): void => {
    if (prepared === null) return;
    void action.run(async (onCall) => {
      const client = reportingClient(services, file.publicKey, feed.node?.chainId, onCall);
      // Emergency access needs the key where an attested doctor's hospital can re-wrap it: escrowed to the hospitals.
      const hospitals = emergency ? (await services.chainData.hospitals()).map((h) => fromHex(h.id)!) : [];
      const policy = emergency ? POLICY_TEMPLATES['emergency-access'].program! : undefined;
      const recordId = await client.createRecord(prepared.bytes, prepared.contentType, policy, hospitals);
      const name = label.trim();
      labels.set(recordId, { label: name, ...(prepared.fileName === undefined ? {} : { fileName: prepared.fileName }) });
      onAdded(recordId, labels.labels.labelOf(recordId, prepared.contentType));
    });
  };

  return (
    <Section title="Add a record">
      <form
        class="form"
        data-testid="add-record"
        onSubmit={(event) => {
          event.preventDefault();
          add();
        }}
      >
        <div class="form-field">
          <label for={labelId}>Name (only you see it)</label>
          <input id={labelId} class="input" value={label} maxLength={MAX_RECORD_LABEL} onInput={(e) => setLabel(e.currentTarget.value)} placeholder="e.g. Blood tests, March 2024" autoComplete="off" disabled={action.busy} />
          <p class="hint">Kept in this browser only; the chain never sees it.</p>
        </div>
        <RecordInput onChange={setPrepared} disabled={action.busy} />
        <label class="checkbox">
          <input type="checkbox" checked={emergency} onChange={(e) => setEmergency(e.currentTarget.checked)} disabled={action.busy} />
          <span>
            <strong>Allow emergency access.</strong> If you cannot consent (for example, you are unconscious), a doctor attested by a hospital may open this record after stating a reason. Every such access is written to the chain and shown to you here.
          </span>
        </label>
        <p class="hint">The record is encrypted in this browser with a new key. The node stores only the encrypted data; the chain holds a commitment to it, its size and its type.</p>
        <ActionProgress steps={UPLOAD_STEPS} action={action} onRetry={add} />
        <div class="form-actions">
          <button type="submit" class="button primary" disabled={prepared === null || action.busy}>
            {action.busy ? 'Adding…' : 'Encrypt and add'}
          </button>
          <button type="button" class="button ghost" onClick={onCancel} disabled={action.busy}>
            Cancel
          </button>
        </div>
      </form>
    </Section>
  );
}
