/**
 * The patient, doctor and hospital dashboards: the identity they act as, and what the chain says about it.
 * The record flows (add, share, open, revoke, audit, attest) are built on these pages next; see
 * docs/ARCHITECTURE.md (web).
 */
import { rpcCall, type IdentityJson } from '../../../client/rpcClient.ts';
import { IdentityGate } from '../../components/IdentityGate.tsx';
import { AccountLink, BlockLink } from '../../components/links.tsx';
import { Empty, QueryView } from '../../components/states.tsx';
import { Badge, DateTime, Fields, Notice, Page, Section } from '../../components/ui.tsx';
import { identityFingerprint, type IdentityFile } from '../../keystore.ts';
import { NO_EXPIRY_MS } from '../../lib/format.ts';
import { useAccountActivity, useFeed, useQuery } from '../../lib/hooks.ts';
import { Link } from '../../lib/router.tsx';
import { useServices } from '../../lib/services.ts';
import { RecordRows, type RecordListEntry, type ValidatorSet } from '../explorer/AccountPage.tsx';

function useAccount(file: IdentityFile, as: 'owner' | 'grantee') {
  const { rpc } = useServices();
  const activity = useAccountActivity(file.publicKey);
  return useQuery(
    async (signal) => {
      const [identity, records] = await rpc.batch([rpcCall<IdentityJson | null>('identity_get', { accountId: file.publicKey }), rpcCall<RecordListEntry[]>('record_list', { account: file.publicKey, as })] as const, { signal });
      if (!identity.ok) throw identity.error;
      if (!records.ok) throw records.error;
      return { identity: identity.result, records: records.result };
    },
    [file.publicKey, as, activity],
  );
}

function NotRegistered({ file, role }: { file: IdentityFile; role: string }) {
  return (
    <Notice tone="warn" title={`${file.label} is not registered as a ${role} yet`}>
      <p>
        Register it on the <Link to={{ page: 'identities' }}>Keys page</Link>; registration is a signed transaction and takes a block.
      </p>
    </Notice>
  );
}

export function PatientDashboard() {
  return (
    <Page title="Patient" subtitle="Your medical records, encrypted in this browser, shared only with whom you choose.">
      <IdentityGate role="patient">{(file) => <PatientHome file={file} key={file.publicKey} />}</IdentityGate>
    </Page>
  );
}

function PatientHome({ file }: { file: IdentityFile }) {
  const query = useAccount(file, 'owner');
  return (
    <QueryView query={query} loading="Reading your records…">
      {({ identity, records }) => (
        <>
          {identity === null ? <NotRegistered file={file} role="patient" /> : null}
          <Section title="Your records">
            {records.length === 0 ? (
              <Empty title="No records yet">
                <p>Records you add are encrypted in this browser before they are uploaded; the chain keeps only a commitment.</p>
              </Empty>
            ) : (
              <RecordRows records={records} />
            )}
          </Section>
          <IdentitySummary file={file} identity={identity} />
        </>
      )}
    </QueryView>
  );
}

export function DoctorDashboard() {
  return (
    <Page title="Doctor" subtitle="Records patients shared with you. Every read leaves a receipt the patient sees.">
      <IdentityGate role="doctor">{(file) => <DoctorHome file={file} key={file.publicKey} />}</IdentityGate>
    </Page>
  );
}

function DoctorHome({ file }: { file: IdentityFile }) {
  const query = useAccount(file, 'grantee');
  const { now } = useServices();
  return (
    <QueryView query={query} loading="Reading your access…">
      {({ identity, records }) => {
        const valid = identity?.attestations.filter((a) => a.valid) ?? [];
        return (
          <>
            {identity === null ? <NotRegistered file={file} role="doctor" /> : null}
            <Section title="Attestation">
              {valid.length > 0 ? (
                <ul class="rows">
                  {valid.map((a) => (
                    <li class="row" key={a.hospital}>
                      <div class="row-main">
                        <span class="row-title">
                          {a.name} <Badge tone="good">Attested</Badge>
                        </span>
                        <span class="row-detail">
                          by <AccountLink id={a.hospital} name={a.hospitalName} /> · licence <code>{a.licence}</code> · until {a.expiresAt >= NO_EXPIRY_MS ? 'no expiry' : <DateTime ms={a.expiresAt} />}
                          {a.expiresAt - now() < 30 * 86_400_000 ? <> <Badge tone="warn">Expires soon</Badge></> : null}
                        </span>
                      </div>
                    </li>
                  ))}
                </ul>
              ) : (
                <Notice tone="warn" title="Not attested">
                  <p>Doctors can open records only while a hospital attests them. Give your hospital your account key: <code class="fingerprint">{identityFingerprint(file)}</code>.</p>
                </Notice>
              )}
            </Section>
            <Section title="Shared with you">
              {records.length === 0 ? (
                <Empty title="No records shared with you">
                  <p>When a patient shares a record with you, it appears here.</p>
                </Empty>
              ) : (
                <RecordRows records={records} showGrant />
              )}
            </Section>
            <IdentitySummary file={file} identity={identity} />
          </>
        );
      }}
    </QueryView>
  );
}

export function HospitalDashboard() {
  const { rpc } = useServices();
  const feed = useFeed();
  const validators = useQuery((signal) => rpc.call<ValidatorSet>('chain_getValidators', {}, { signal }), [], { live: true });
  return (
    <Page title="Hospital" subtitle="This node, the validators, and the doctors your hospital attests.">
      <Section title="This node">
        <Fields
          rows={[
            ['Chain', feed.node?.chainId ?? '…'],
            ['Head', feed.head === undefined ? '…' : <BlockLink height={feed.head.height} />],
            ['Finalized', feed.finalized === undefined ? '…' : <BlockLink height={feed.finalized.height} />],
            ['Peers', feed.peers === undefined ? '…' : feed.peers === null ? 'p2p off' : String(feed.peers)],
            ['Validator key', feed.node?.validator ? <AccountLink id={feed.node.validator} /> : 'this node does not propose blocks'],
          ]}
        />
        <QueryView query={validators} loading="Reading validators…">
          {(set) => (
            <p class="muted">
              {set.validators.length} validator{set.validators.length === 1 ? '' : 's'} · <Link to={{ page: 'validators' }}>details</Link>
            </p>
          )}
        </QueryView>
      </Section>
      <IdentityGate role="hospital">{(file) => <HospitalHome file={file} key={file.publicKey} />}</IdentityGate>
    </Page>
  );
}

function HospitalHome({ file }: { file: IdentityFile }) {
  const query = useAccount(file, 'owner');
  return (
    <QueryView query={query} loading="Reading your hospital…">
      {({ identity }) =>
        identity?.role === 'hospital' ? (
          <IdentitySummary file={file} identity={identity} />
        ) : (
          <Notice tone="warn" title={`${file.label} is not a hospital of this chain`}>
            <p>Hospitals are named in the chain's genesis file. Unlock your hospital's key to attest doctors.</p>
          </Notice>
        )
      }
    </QueryView>
  );
}

function IdentitySummary({ file, identity }: { file: IdentityFile; identity: IdentityJson | null }) {
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
    </Section>
  );
}
