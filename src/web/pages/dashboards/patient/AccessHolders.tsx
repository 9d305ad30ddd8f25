/** Who can open the patient's records now (with revoke), and who could before. */
import { useState } from 'preact/hooks';
import { fromHex } from '../../../../codec/bytes.ts';
import { ConfirmDialog } from '../../../components/ConfirmDialog.tsx';
import { AccountLink } from '../../../components/links.tsx';
import { ActionProgress, useAction } from '../../../components/Progress.tsx';
import { Empty } from '../../../components/states.tsx';
import { Badge, Notice, Section } from '../../../components/ui.tsx';
import type { IdentityFile } from '../../../keystore.ts';
import { expiryText, scopeText } from '../../../lib/accessLog.ts';
import { fingerprintOf, plural } from '../../../lib/format.ts';
import { useFeed } from '../../../lib/hooks.ts';
import { useServices } from '../../../lib/services.ts';
import { reportingClient, type AccountName, type Grant } from '../api.ts';
import { TX_STEPS, type LabelsView } from '../shared.tsx';
import type { PatientRecord } from './data.ts';

interface Holding {
  readonly record: PatientRecord;
  readonly grant: Grant;
}

export function AccessSection({ file, records, names, labels, onChanged }: { file: IdentityFile; records: readonly PatientRecord[]; names: ReadonlyMap<string, AccountName>; labels: LabelsView; onChanged: () => void }) {
  const all: Holding[] = records.flatMap((record) => record.holders.map((grant) => ({ record, grant })));
  const current = all.filter((h) => h.grant.active && h.record.entry.erasedAt === null);
  const past = all.filter((h) => !current.includes(h));
  const [revoking, setRevoking] = useState<Holding | null>(null);
  const [revoked, setRevoked] = useState<string | null>(null);
  const nameOf = (id: string) => names.get(id)?.name ?? `Account ${fingerprintOf(id)}`;
  const labelOf = (r: PatientRecord) => labels.labels.labelOf(r.entry.id, r.contentType);

  return (
    <Section title="Who can open your records" id="access">
      {revoked === null ? null : (
        <Notice tone="good" title="Access revoked">
          <p data-testid="revoke-done">{revoked}</p>
        </Notice>
      )}
      {current.length === 0 ? (
        <Empty title="Nobody but you">
          <p>When you share a record, the doctor appears here until their access ends or you revoke it.</p>
        </Empty>
      ) : (
        <ul class="rows" data-testid="access-holders">
          {current.map((h) => (
            <HolderRow key={`${h.record.entry.id}-${h.grant.grantee}`} holding={h} name={names.get(h.grant.grantee)} label={labelOf(h.record)} onRevoke={() => { setRevoked(null); setRevoking(h); }} />
          ))}
        </ul>
      )}
      {past.length === 0 ? null : (
        <details class="past">
          <summary>Past access ({past.length})</summary>
          <ul class="rows">
            {past.map((h) => (
              <HolderRow key={`${h.record.entry.id}-${h.grant.grantee}`} holding={h} name={names.get(h.grant.grantee)} label={labelOf(h.record)} />
            ))}
          </ul>
        </details>
      )}
      {revoking === null ? null : (
        <RevokeDialog
          file={file}
          holding={revoking}
          name={nameOf(revoking.grant.grantee)}
          label={labelOf(revoking.record)}
          onClose={() => setRevoking(null)}
          onRevoked={() => {
            setRevoked(`${nameOf(revoking.grant.grantee)} can no longer open “${labelOf(revoking.record)}”.`);
            setRevoking(null);
            onChanged();
          }}
        />
      )}
    </Section>
  );
}

function HolderRow({ holding, name, label, onRevoke }: { holding: Holding; name: AccountName | undefined; label: string; onRevoke?: () => void }) {
  const { grant } = holding;
  const state = grant.active ? null : grant.revokedAt !== null ? <Badge tone="neutral">Revoked</Badge> : holding.record.entry.erasedAt !== null ? <Badge tone="warn">Record erased</Badge> : <Badge tone="neutral">Expired</Badge>;
  return (
    <li class="row" data-testid="holder-row">
      <div class="row-main">
        <span class="row-title">
          <AccountLink id={grant.grantee} name={name?.name} /> {state}
          {name?.unattested === true && grant.active ? <Badge tone="warn">No longer attested</Badge> : null}
        </span>
        <span class="row-detail">
          {name?.detail ? `${name.detail} · ` : ''}“{label}” · may {scopeText(grant.scope)} · {expiryText(grant.expiresAt)}
        </span>
      </div>
      {onRevoke === undefined ? null : (
        <div class="row-actions">
          <button type="button" class="button secondary small danger-text" onClick={onRevoke}>
            Revoke
          </button>
        </div>
      )}
    </li>
  );
}

function RevokeDialog({ file, holding, name, label, onClose, onRevoked }: { file: IdentityFile; holding: Holding; name: string; label: string; onClose: () => void; onRevoked: () => void }) {
  const services = useServices();
  const feed = useFeed();
  const action = useAction(TX_STEPS);
  const versions = holding.record.entry.versionCount;
  const revoke = (): void => {
    void action
      .run(async (onCall) => {
        await reportingClient(services, file.publicKey, feed.node?.chainId, onCall).revoke(holding.record.entry.id, fromHex(holding.grant.grantee)!);
      })
      .then((ok) => ok && onRevoked());
  };
  return (
    <ConfirmDialog title={`Stop ${name}'s access?`} confirmLabel={action.busy ? 'Revoking…' : 'Revoke access'} danger busy={action.busy} onConfirm={revoke} onCancel={onClose} testId="revoke-dialog">
      <p>
        From the next block on, <strong>{name}</strong> can no longer open <strong>“{label}”</strong>: every node refuses to send it to them.
      </p>
      <Notice tone="warn" title="Revoking stops future access only">
        <p>Anything {name} has already opened, downloaded or copied ({plural(versions, 'version')} so far) cannot be taken back. New versions you add later get a new key they never receive.</p>
      </Notice>
      <ActionProgress steps={TX_STEPS} action={action} onRetry={revoke} />
    </ConfirmDialog>
  );
}
