/**
 * Opening a record version: the signed read request goes on chain first (the node serves nothing before its
 * receipt is in a block), then the ciphertext and the reader's key envelope come back and are decrypted here.
 */
import { useId, useState } from 'preact/hooks';
import type { RecordRead } from '../../../client/emrClient.ts';
import { BlockLink, TxLink } from '../../components/links.tsx';
import { ActionProgress, useAction, type StepDef } from '../../components/Progress.tsx';
import { Notice } from '../../components/ui.tsx';
import type { IdentityFile } from '../../keystore.ts';
import { useFeed } from '../../lib/hooks.ts';
import { useServices } from '../../lib/services.ts';
import { reportingClient, type RecordDetail } from './api.ts';
import { RecordContent } from './RecordContent.tsx';
import { DOCTOR_PURPOSES } from './shared.tsx';

export const READ_STEPS: readonly StepDef[] = [
  { label: 'Signing the read request in this browser', methods: ['identity_get'] },
  { label: 'Writing the read receipt to the chain, then fetching the encrypted record', methods: ['emr_read'] },
];

export interface OpenedVersion {
  readonly read: RecordRead;
  readonly version: number;
  readonly contentType: string;
}

/** The decrypted version and its receipt, with a button that closes (and wipes) it. */
export function OpenedRecord({ opened, recordId, fileName, onClose }: { opened: OpenedVersion; recordId: string; fileName?: string; onClose: () => void }) {
  return (
    <div class="opened" data-testid="opened-record">
      <Notice tone={opened.read.escrowed ? 'warn' : 'good'} title={opened.read.escrowed ? 'Opened with emergency access' : 'Decrypted in this browser'}>
        <p>
          Your read is on the chain: transaction <TxLink id={opened.read.receipt.txId} /> in block <BlockLink height={opened.read.receipt.height} />. The contents below exist only on this device.
        </p>
      </Notice>
      <RecordContent plaintext={opened.read.plaintext} contentType={opened.contentType} recordId={recordId} version={opened.version} fileName={fileName} />
      <div class="form-actions">
        <button type="button" class="button secondary" onClick={onClose}>
          Close and forget the contents
        </button>
      </div>
    </div>
  );
}

export function OpenRecord({ file, record, as, fileName, onOpened }: { file: IdentityFile; record: RecordDetail; as: 'doctor' | 'patient'; fileName?: string; onOpened?: () => void }) {
  const services = useServices();
  const feed = useFeed();
  const latest = record.versions.length - 1;
  const [version, setVersion] = useState(latest);
  const [purpose, setPurpose] = useState(as === 'patient' ? 'PATRQT' : 'TREAT');
  const [opened, setOpened] = useState<OpenedVersion | null>(null);
  const action = useAction(READ_STEPS);
  const versionId = useId();
  const purposeId = useId();

  if (record.versions.length === 0) return <Notice tone="warn" title="This record has no versions" />;
  const chosen = Math.min(Math.max(version, 0), latest);
  const contentType = record.versions[chosen]!.contentType;

  const open = (): void => {
    void action.run(async (onCall) => {
      const read = await reportingClient(services, file.publicKey, feed.node?.chainId, onCall).read(record.id, chosen, purpose);
      setOpened({ read, version: chosen, contentType });
      onOpened?.();
    });
  };
  const close = (): void => {
    opened?.read.plaintext.fill(0);
    setOpened(null);
    action.reset();
  };

  if (opened !== null) return <OpenedRecord opened={opened} recordId={record.id} fileName={fileName} onClose={close} />;

  return (
    <form
      class="form open-record"
      onSubmit={(event) => {
        event.preventDefault();
        open();
      }}
    >
      <Notice tone="info" title="Opening is recorded">
        {as === 'doctor' ? (
          <p>Before the node sends anything, your read goes on the chain: your name, the time and the purpose you choose. The patient sees it in their access log.</p>
        ) : (
          <p>Your own reads are recorded on the chain too, like everyone's. The record is decrypted in this browser only.</p>
        )}
      </Notice>
      {record.versions.length > 1 ? (
        <div class="form-field">
          <label for={versionId}>Version</label>
          <select id={versionId} class="input" value={String(chosen)} onChange={(e) => setVersion(Number(e.currentTarget.value))} disabled={action.busy}>
            {record.versions
              .map((v) => (
                <option key={v.version} value={String(v.version)}>
                  Version {v.version + 1}
                  {v.version === latest ? ' (latest)' : ''}
                </option>
              ))
              .reverse()}
          </select>
        </div>
      ) : null}
      {as === 'doctor' ? (
        <div class="form-field">
          <label for={purposeId}>Why are you opening it?</label>
          <select id={purposeId} class="input" value={purpose} onChange={(e) => setPurpose(e.currentTarget.value)} disabled={action.busy}>
            {DOCTOR_PURPOSES.map(([code, label]) => (
              <option key={code} value={code}>
                {label} ({code})
              </option>
            ))}
          </select>
        </div>
      ) : null}
      <ActionProgress steps={READ_STEPS} action={action} onRetry={open} />
      <div class="form-actions">
        <button type="submit" class="button primary" disabled={action.busy}>
          {action.busy ? 'Opening…' : 'Open record'}
        </button>
      </div>
    </form>
  );
}
