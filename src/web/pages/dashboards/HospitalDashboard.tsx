/**
 * The hospital dashboard: this node and the validators (height, finality, peers, blocks proposed and slots
 * missed, stake), and, for an unlocked hospital identity, attesting doctors and revoking attestations.
 */
import { useId, useState } from 'preact/hooks';
import { fromHex } from '../../../codec/bytes.ts';
import type { IdentityJson } from '../../../client/rpcClient.ts';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { IdentityGate } from '../../components/IdentityGate.tsx';
import { AccountLink, BlockLink } from '../../components/links.tsx';
import { ActionProgress, useAction } from '../../components/Progress.tsx';
import { Empty, ErrorNotice, Loading, QueryView } from '../../components/states.tsx';
import { Badge, DateTime, Fields, Notice, Page, Section } from '../../components/ui.tsx';
import type { IdentityFile } from '../../keystore.ts';
import { fingerprintOf, formatDateTime, NO_EXPIRY_MS, plural } from '../../lib/format.ts';
import { useFeed, useQuery } from '../../lib/hooks.ts';
import { Link } from '../../lib/router.tsx';
import { useServices } from '../../lib/services.ts';
import { attestationValid, attestedBy, findDoctors, reportingClient, type DoctorMatch, type ValidatorStatus } from './api.ts';
import { dateInputValue, endOfDay, IdentitySummary, TX_STEPS, useReloadOnActivity } from './shared.tsx';

export function HospitalDashboard() {
  return (
    <Page title="Hospital" subtitle="Your validator node and the doctors your hospital vouches for.">
      <NodeSection />
      <IdentityGate role="hospital">{(file) => <HospitalHome file={file} key={file.publicKey} />}</IdentityGate>
    </Page>
  );
}

function NodeSection() {
  const { rpc, chainData } = useServices();
  const feed = useFeed();
  const validators = useQuery(
    async (signal) => {
      const [set, names] = await Promise.all([rpc.call<ValidatorStatus>('chain_getValidators', {}, { signal }), chainData.hospitalNames(signal)]);
      return { set, names };
    },
    [],
    { live: true },
  );
  const own = feed.node?.validator ?? null;
  return (
    <div class="columns dashboard-columns">
      <Section title="This node" id="node">
        <Fields
          rows={[
            ['Chain', feed.node?.chainId ?? '…'],
            ['Consensus', feed.node === undefined ? '…' : feed.node.engine === 'pos' ? 'proof of stake' : 'proof of work'],
            ['Height', feed.head === undefined ? '…' : <BlockLink height={feed.head.height} />],
            ['Finalized', feed.finalized === undefined ? '…' : <BlockLink height={feed.finalized.height} />],
            ['Peers', feed.peers === undefined ? '…' : feed.peers === null ? 'peer-to-peer networking is off' : String(feed.peers)],
            ['Validator key', own === null ? 'this node does not propose blocks' : <AccountLink id={own} />],
          ]}
        />
      </Section>
      <Section title="Validators" id="validators" actions={<Link to={{ page: 'validators' }}>Details</Link>}>
        <QueryView query={validators} loading="Reading the validators…">
          {({ set, names }) => <ValidatorTable set={set} names={names} own={own} />}
        </QueryView>
      </Section>
    </div>
  );
}

function ValidatorTable({ set, names, own }: { set: ValidatorStatus; names: ReadonlyMap<string, string>; own: string | null }) {
  if (set.validators.length === 0) {
    return (
      <Empty title="No validators">
        <p>This chain does not use proof of stake; blocks are mined.</p>
      </Empty>
    );
  }
  const hasStats = set.validators.some((v) => v.proposed !== undefined);
  const mine = set.validators.find((v) => v.id === own);
  return (
    <>
      {mine !== undefined && mine.missed !== undefined && mine.missed > 0 ? (
        <Notice tone="warn" title={`This validator missed ${plural(mine.missed, 'slot')} lately`}>
          <p>A missed slot is one where this node was due to propose a block and the chain has none, including while the node was stopped. If it keeps growing, check that the node is running, synced and connected.</p>
        </Notice>
      ) : null}
      {hasStats ? null : <p class="hint">Blocks proposed and slots missed are not available on this node.</p>}
      {set.window === undefined ? null : (
        <p class="muted">
          Blocks and slots over the last {plural(set.window.toSlot - set.window.fromSlot + 1, 'slot')} (slots {set.window.fromSlot.toLocaleString()}–{set.window.toSlot.toLocaleString()}).
        </p>
      )}
      <ul class="rows" data-testid="validators">
        {set.validators.map((v) => (
          <li class="row" key={v.id}>
            <div class="row-main">
              <span class="row-title">
                <AccountLink id={v.id} name={names.get(v.id)} />
                {v.id === own ? <Badge tone="info">This node</Badge> : null}
                {set.slashed.includes(v.id) ? <Badge tone="bad">Slashed</Badge> : null}
              </span>
              <span class="row-detail">
                stake {v.stake}
                {v.proposed === undefined ? null : <> · {plural(v.proposed, 'block')} proposed</>}
                {v.missed === undefined ? null : <> · {plural(v.missed, 'slot')} missed</>}
              </span>
            </div>
            {v.missed !== undefined && v.proposed !== undefined ? (
              <div class="row-side">
                <Badge tone={v.missed === 0 ? 'good' : v.missed > v.proposed ? 'bad' : 'warn'}>{v.proposed + v.missed === 0 ? 'no slots yet' : `${Math.round((100 * v.proposed) / (v.proposed + v.missed))}% on time`}</Badge>
              </div>
            ) : null}
          </li>
        ))}
      </ul>
    </>
  );
}

function HospitalHome({ file }: { file: IdentityFile }) {
  const { rpc } = useServices();
  const [prefill, setPrefill] = useState<DoctorMatch | null>(null);
  const query = useQuery(
    async (signal) => {
      const identity = await rpc.call<IdentityJson | null>('identity_get', { accountId: file.publicKey }, { signal });
      const doctors = identity?.role === 'hospital' ? await attestedBy(rpc, file.publicKey, signal) : null;
      return { identity, doctors };
    },
    [file.publicKey],
  );
  useReloadOnActivity(file.publicKey, query.reload);
  const reload = query.reload;
  return (
    <QueryView query={query} loading="Reading your hospital…">
      {({ identity, doctors }) =>
        identity?.role !== 'hospital' ? (
          <Notice tone="warn" title={`${file.label} is not a hospital of this chain`}>
            <p>Hospitals are named in the chain's genesis file. Unlock your hospital's key to attest doctors.</p>
          </Notice>
        ) : (
          <>
            <div class="columns dashboard-columns">
              <AttestForm file={file} prefill={prefill} key={prefill?.id ?? 'new'} onDone={() => { setPrefill(null); reload(); }} />
              <AttestedDoctors file={file} doctors={doctors} onRenew={(d) => { setPrefill(d); document.getElementById('attest')?.scrollIntoView({ behavior: 'smooth' }); }} onChanged={reload} />
            </div>
            <IdentitySummary file={file} identity={identity} />
          </>
        )
      }
    </QueryView>
  );
}

const FINGERPRINT = /^[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}$/;

/** The doctor's account from a full key (64 hex) or a fingerprint of an already attested doctor. */
function useDoctorAccount(input: string) {
  const { rpc } = useServices();
  const key = input.trim().toLowerCase();
  return useQuery(
    async (signal): Promise<{ id: string; identity: IdentityJson | null } | { problem: string } | null> => {
      if (key === '') return null;
      if (/^[0-9a-f]{64}$/.test(key)) return { id: key, identity: await rpc.call<IdentityJson | null>('identity_get', { accountId: key }, { signal }) };
      if (!FINGERPRINT.test(key)) return { problem: "Enter the doctor's account key (64 characters) or its fingerprint (like 1a2b-3c4d-5e6f-7a8b)." };
      const search = await findDoctors(rpc, key, signal);
      const ids = [...new Set(search.doctors.map((d) => d.id))];
      if (ids.length === 1) return { id: ids[0]!, identity: await rpc.call<IdentityJson | null>('identity_get', { accountId: ids[0]! }, { signal }) };
      if (ids.length > 1) return { problem: 'More than one doctor has this fingerprint; enter the full account key.' };
      return { problem: 'A fingerprint finds only doctors some hospital attested before. For a new doctor, enter their full account key (they find it on their Keys page).' };
    },
    [key],
  );
}

function AttestForm({ file, prefill, onDone }: { file: IdentityFile; prefill: DoctorMatch | null; onDone: () => void }) {
  const services = useServices();
  const feed = useFeed();
  const ids = { key: useId(), name: useId(), licence: useId(), until: useId() };
  const [key, setKey] = useState(prefill?.id ?? '');
  const [name, setName] = useState(prefill?.name ?? '');
  const [licence, setLicence] = useState(prefill?.licence ?? '');
  const [until, setUntil] = useState(dateInputValue(services.now() + 365 * 86_400_000));
  const [confirming, setConfirming] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const account = useDoctorAccount(key);
  const action = useAction(TX_STEPS);
  const expiresAt = endOfDay(until);
  const resolved = account.state.status === 'ok' && account.state.data !== null && 'id' in account.state.data ? account.state.data : null;
  const problems = [
    resolved !== null && resolved.identity === null ? 'No account with this key is registered. The doctor registers first (on their Keys page, "Register as doctor").' : null,
    resolved !== null && resolved.identity !== null && resolved.identity.role !== 'doctor' ? `This account is registered as a ${resolved.identity.role}, not a doctor.` : null,
    Number.isNaN(expiresAt) || expiresAt <= services.now() ? 'Choose an end date in the future.' : null,
  ].filter((p): p is string => p !== null);
  const ready = resolved !== null && problems.length === 0 && name.trim() !== '' && licence.trim() !== '';

  const attest = (): void => {
    if (resolved === null) return;
    void action
      .run(async (onCall) => {
        await reportingClient(services, file.publicKey, feed.node?.chainId, onCall).attest(fromHex(resolved.id)!, name.trim(), licence.trim(), expiresAt);
      })
      .then((ok) => {
        setConfirming(false);
        if (!ok) return;
        setDone(`${name.trim()} is attested until ${formatDateTime(expiresAt)}.`);
        setKey('');
        setName('');
        setLicence('');
        onDone();
      });
  };

  return (
    <Section title={prefill === null ? 'Attest a doctor' : `Renew the attestation of ${prefill.name}`} id="attest">
      <form
        class="form"
        data-testid="attest-form"
        onSubmit={(event) => {
          event.preventDefault();
          if (ready) {
            action.reset();
            setDone(null);
            setConfirming(true);
          }
        }}
      >
        <p class="muted">Attesting vouches that this account belongs to a licensed doctor of your hospital. Patients' shared records open for a doctor only while some hospital attests them.</p>
        {done === null ? null : (
          <Notice tone="good" title="Attested">
            <p>{done}</p>
          </Notice>
        )}
        <div class="form-field">
          <label for={ids.key}>Doctor's account key or fingerprint</label>
          <input id={ids.key} class="input mono" value={key} onInput={(e) => setKey(e.currentTarget.value)} spellcheck={false} autoComplete="off" maxLength={70} />
          {account.state.status === 'loading' && key.trim() !== '' ? <Loading label="Looking up the account…" /> : null}
          {account.state.status === 'error' ? <ErrorNotice error={account.state.error} onRetry={account.reload} compact /> : null}
          {account.state.status === 'ok' && account.state.data !== null && 'problem' in account.state.data ? <p class="form-problem">{account.state.data.problem}</p> : null}
          {resolved !== null && resolved.identity?.role === 'doctor' ? (
            <p class="hint">
              Registered doctor <AccountLink id={resolved.id} />
              {resolved.identity.attestations.length > 0 ? ` · attested by ${resolved.identity.attestations.map((a) => a.hospitalName).join(', ')}` : ' · not attested yet'}
            </p>
          ) : null}
        </div>
        <div class="form-field">
          <label for={ids.name}>Name as patients will see it</label>
          <input id={ids.name} class="input" value={name} onInput={(e) => setName(e.currentTarget.value)} maxLength={120} autoComplete="off" placeholder="e.g. Dr. Ana Silva" />
        </div>
        <div class="form-field">
          <label for={ids.licence}>Licence number</label>
          <input id={ids.licence} class="input" value={licence} onInput={(e) => setLicence(e.currentTarget.value)} maxLength={60} autoComplete="off" />
        </div>
        <div class="form-field">
          <label for={ids.until}>Attested until</label>
          <input id={ids.until} class="input" type="date" value={until} onInput={(e) => setUntil(e.currentTarget.value)} min={dateInputValue(services.now() + 86_400_000)} />
        </div>
        {problems.map((p) => (
          <p class="form-problem" key={p}>
            {p}
          </p>
        ))}
        <div class="form-actions">
          <button type="submit" class="button primary" disabled={!ready || action.busy}>
            Review and attest
          </button>
        </div>
      </form>
      {confirming && resolved !== null ? (
        <ConfirmDialog title="Attest this doctor?" confirmLabel={action.busy ? 'Attesting…' : 'Attest'} busy={action.busy} onConfirm={attest} onCancel={() => setConfirming(false)} testId="attest-dialog">
          <p>
            Your hospital vouches that account <code class="fingerprint">{fingerprintOf(resolved.id)}</code> is <strong>{name.trim()}</strong>, licence <strong>{licence.trim()}</strong>, until <strong>{formatDateTime(expiresAt)}</strong>.
          </p>
          <p>Patients see this name when they share records. The attestation is public on the chain; you can revoke it at any time.</p>
          <ActionProgress steps={TX_STEPS} action={action} onRetry={attest} />
        </ConfirmDialog>
      ) : null}
    </Section>
  );
}

function AttestedDoctors({ file, doctors, onRenew, onChanged }: { file: IdentityFile; doctors: readonly DoctorMatch[] | null; onRenew: (d: DoctorMatch) => void; onChanged: () => void }) {
  const { now } = useServices();
  const [revoking, setRevoking] = useState<DoctorMatch | null>(null);
  const time = now();
  return (
    <Section title={doctors === null ? 'Doctors you attest' : `Doctors you attest (${doctors.filter((d) => attestationValid(d, time)).length} now)`} id="doctors">
      {doctors === null ? (
        <Notice tone="info" title="Not available on this node">
          <p>This node cannot list the doctors a hospital attested (it runs an older medchain). Attesting and revoking still work.</p>
        </Notice>
      ) : doctors.length === 0 ? (
        <Empty title="No doctors attested yet">
          <p>Attest your doctors above; they can then open the records patients share with them.</p>
        </Empty>
      ) : (
        <ul class="rows" data-testid="attested-doctors">
          {[...doctors]
            .sort((a, b) => Number(attestationValid(b, time)) - Number(attestationValid(a, time)) || a.name.localeCompare(b.name))
            .map((d) => {
              const valid = attestationValid(d, time);
              return (
                <li class="row" key={d.id}>
                  <div class="row-main">
                    <span class="row-title">
                      {d.name} {valid ? <Badge tone="good">Attested</Badge> : d.revokedAt !== null ? <Badge tone="bad">Revoked</Badge> : <Badge tone="warn">Expired</Badge>}
                    </span>
                    <span class="row-detail">
                      licence <code>{d.licence}</code> · <AccountLink id={d.id} /> · {d.revokedAt !== null ? <>revoked in block <BlockLink height={d.revokedAt} /></> : d.expiresAt >= NO_EXPIRY_MS ? 'no expiry' : <>{valid ? 'until' : 'ended'} <DateTime ms={d.expiresAt} /></>}
                    </span>
                  </div>
                  <div class="row-actions">
                    <button type="button" class="button secondary small" onClick={() => onRenew(d)}>
                      {valid ? 'Extend' : 'Attest again'}
                    </button>
                    {d.revokedAt === null && valid ? (
                      <button type="button" class="button ghost small danger-text" onClick={() => setRevoking(d)}>
                        Revoke
                      </button>
                    ) : null}
                  </div>
                </li>
              );
            })}
        </ul>
      )}
      {revoking === null ? null : (
        <RevokeAttestationDialog
          file={file}
          doctor={revoking}
          onClose={() => setRevoking(null)}
          onRevoked={() => {
            setRevoking(null);
            onChanged();
          }}
        />
      )}
    </Section>
  );
}

function RevokeAttestationDialog({ file, doctor, onClose, onRevoked }: { file: IdentityFile; doctor: DoctorMatch; onClose: () => void; onRevoked: () => void }) {
  const services = useServices();
  const feed = useFeed();
  const [reason, setReason] = useState('');
  const action = useAction(TX_STEPS);
  const reasonId = useId();
  const revoke = (): void => {
    void action
      .run(async (onCall) => {
        await reportingClient(services, file.publicKey, feed.node?.chainId, onCall).revokeAttestation(fromHex(doctor.id)!, reason.trim());
      })
      .then((ok) => ok && onRevoked());
  };
  return (
    <ConfirmDialog title={`Revoke ${doctor.name}'s attestation?`} confirmLabel={action.busy ? 'Revoking…' : 'Revoke attestation'} danger busy={action.busy} confirmDisabled={reason.trim().length < 3} onConfirm={revoke} onCancel={onClose} testId="revoke-attestation-dialog">
      <p>From the next block on, {doctor.name} can no longer open any record through your attestation, including records patients shared with them (unless another hospital attests them).</p>
      <p>What they already opened cannot be taken back.</p>
      <div class="form-field">
        <label for={reasonId}>Reason (public on the chain)</label>
        <input id={reasonId} class="input" value={reason} onInput={(e) => setReason(e.currentTarget.value)} maxLength={250} autoComplete="off" placeholder="e.g. Left the hospital" />
      </div>
      <ActionProgress steps={TX_STEPS} action={action} onRetry={revoke} />
    </ConfirmDialog>
  );
}
