/** An account: its role, a doctor's attestations, a hospital's validator stake, and records it owns or was granted. */
import { rpcCall, type IdentityJson } from '../../../client/rpcClient.ts';
import { AccountLink, BlockLink, RecordLink } from '../../components/links.tsx';
import { Empty, QueryView } from '../../components/states.tsx';
import { Badge, DateTime, Fields, HexWithCopy, Page, Section } from '../../components/ui.tsx';
import { fingerprintOf, NO_EXPIRY_MS, plural } from '../../lib/format.ts';
import { useQuery } from '../../lib/hooks.ts';
import { useServices } from '../../lib/services.ts';

export interface RecordListEntry {
  readonly id: string;
  readonly owner: string;
  readonly versionCount: number;
  readonly createdAt: number;
  readonly erasedAt: number | null;
  readonly grant: {
    readonly grantee: string;
    readonly grantor: string;
    readonly scope: readonly string[];
    readonly expiresAt: number | null;
    readonly grantedAt: number;
    readonly revokedAt: number | null;
    readonly active: boolean;
  } | null;
}

export interface ValidatorSet {
  readonly validators: readonly { readonly id: string; readonly stake: string; readonly balance: string }[];
  readonly slashed: readonly string[];
}

export function AccountPage({ id }: { id: string }) {
  const { rpc, chainData } = useServices();
  const query = useQuery(
    async (signal) => {
      const [identity, owned, granted, validators] = await rpc.batch(
        [
          rpcCall<IdentityJson | null>('identity_get', { accountId: id }),
          rpcCall<RecordListEntry[]>('record_list', { account: id, as: 'owner' }),
          rpcCall<RecordListEntry[]>('record_list', { account: id, as: 'grantee' }),
          rpcCall<ValidatorSet>('chain_getValidators'),
        ] as const,
        { signal },
      );
      if (!identity.ok) throw identity.error;
      const names = await chainData.hospitalNames(signal);
      return {
        identity: identity.result,
        owned: owned.ok ? owned.result : [],
        granted: granted.ok ? granted.result : [],
        validator: validators.ok ? validators.result.validators.find((v) => v.id === id) : undefined,
        slashed: validators.ok && validators.result.slashed.includes(id),
        names,
      };
    },
    [id],
    { live: true },
  );
  return (
    <QueryView query={query} loading="Reading the account…">
      {({ identity, owned, granted, validator, slashed, names }) => (
        <Page
          title={identity?.hospitalName ?? `Account ${fingerprintOf(id)}`}
          subtitle={identity === null ? <Badge tone="neutral">Not registered</Badge> : <Badge tone="info">{identity.role}</Badge>}
        >
          <Section title="Account">
            <Fields
              rows={[
                ['Account key', <HexWithCopy value={id} />],
                ['Fingerprint', <code class="fingerprint">{fingerprintOf(id)}</code>],
                identity !== null && ['Role', identity.role],
                identity !== null && ['Registered in', <BlockLink height={identity.registeredAt} />],
                identity !== null && ['Transactions sent', identity.nonce.toLocaleString()],
                validator !== undefined && ['Validator stake', validator.stake],
                validator !== undefined && ['Unbonded balance', validator.balance],
                slashed && ['Slashed', <Badge tone="bad">Slashed for misbehaviour</Badge>],
              ]}
            />
            {identity === null ? <p class="muted">This key has not registered on the chain. Any key can exist; it shows up here once it registers or is named in a transaction.</p> : null}
          </Section>
          {identity !== null && identity.role === 'doctor' ? (
            <Section title="Attestations">
              {identity.attestations.length === 0 ? (
                <Empty title="No hospital has attested this doctor">
                  <p>Doctors can read records only while a hospital attests them.</p>
                </Empty>
              ) : (
                <ul class="rows">
                  {identity.attestations.map((a) => (
                    <li class="row" key={a.hospital}>
                      <div class="row-main">
                        <span class="row-title">
                          {a.name} {a.valid ? <Badge tone="good">Valid</Badge> : a.revokedAt !== null ? <Badge tone="bad">Revoked</Badge> : <Badge tone="warn">Expired</Badge>}
                        </span>
                        <span class="row-detail">
                          licence <code>{a.licence}</code> · by <AccountLink id={a.hospital} name={a.hospitalName || names.get(a.hospital)} /> · until {a.expiresAt >= NO_EXPIRY_MS ? 'no expiry' : <DateTime ms={a.expiresAt} />}
                        </span>
                        {a.revokedAt !== null ? <span class="row-detail">revoked in block <BlockLink height={a.revokedAt} />{a.revokeReason ? `: ${a.revokeReason}` : ''}</span> : null}
                      </div>
                    </li>
                  ))}
                </ul>
              )}
            </Section>
          ) : null}
          {owned.length > 0 || identity?.role === 'patient' ? (
            <Section title={`Records owned (${owned.length})`}>
              {owned.length === 0 ? <Empty title="No records" /> : <RecordRows records={owned} />}
            </Section>
          ) : null}
          {granted.length > 0 ? (
            <Section title={`Records shared with this account (${granted.length})`}>
              <RecordRows records={granted} showGrant />
            </Section>
          ) : null}
        </Page>
      )}
    </QueryView>
  );
}

export function RecordRows({ records, showGrant = false }: { records: readonly RecordListEntry[]; showGrant?: boolean }) {
  return (
    <ul class="rows">
      {records.map((r) => (
        <li class="row" key={r.id}>
          <div class="row-main">
            <span class="row-title">
              <RecordLink id={r.id} /> <span class="muted">{plural(r.versionCount, 'version')}</span>
              {r.erasedAt !== null ? <Badge tone="warn">Erased</Badge> : null}
              {showGrant && r.grant !== null ? r.grant.active ? <Badge tone="good">Access active</Badge> : <Badge tone="neutral">Access ended</Badge> : null}
            </span>
            <span class="row-detail">
              owner <AccountLink id={r.owner} /> · created in block <BlockLink height={r.createdAt} />
              {showGrant && r.grant !== null ? <> · scope {r.grant.scope.join(', ')}</> : null}
            </span>
          </div>
        </li>
      ))}
    </ul>
  );
}
