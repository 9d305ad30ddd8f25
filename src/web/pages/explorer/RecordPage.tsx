/** A record's public side: owner, access policy, versions (commitments, sizes, types) and who holds access. Never its contents. */
import { rpcCall, type RecordJson } from '../../../client/rpcClient.ts';
import { AccountLink, BlockLink, TxLink } from '../../components/links.tsx';
import { Empty, NotFound, QueryView } from '../../components/states.tsx';
import { Badge, DateTime, Fields, Hex, Notice, Page, Section } from '../../components/ui.tsx';
import { formatBytes, NO_EXPIRY_MS } from '../../lib/format.ts';
import { useQuery } from '../../lib/hooks.ts';
import { useServices } from '../../lib/services.ts';
import type { RecordListEntry } from './AccountPage.tsx';

interface Holder {
  readonly grantee: string;
  readonly grantor: string;
  readonly scope: readonly string[];
  readonly expiresAt: number | null;
  readonly grantedAt: number;
  readonly revokedAt: number | null;
  readonly active: boolean;
}

export function RecordPage({ id }: { id: string }) {
  const { rpc, chainData } = useServices();
  const query = useQuery(
    async (signal) => {
      const [record, holders] = await rpc.batch([rpcCall<RecordJson | null>('record_get', { recordId: id }), rpcCall<Holder[]>('access_list', { recordId: id })] as const, { signal });
      if (!record.ok) throw record.error;
      if (record.result === null) return null;
      // record_get has no erasure mark; the owner's record list has.
      const [owned, names] = await Promise.all([rpc.call<RecordListEntry[]>('record_list', { account: record.result.owner, as: 'owner' }, { signal }), chainData.hospitalNames(signal)]);
      return { record: record.result, holders: holders.ok ? holders.result : [], erasedAt: owned.find((r) => r.id === id)?.erasedAt ?? null, names };
    },
    [id],
    { live: true },
  );
  return (
    <QueryView query={query} loading="Reading the record…">
      {(data) => {
        if (data === null) {
          return (
            <Page title="Record">
              <NotFound what="Record" />
            </Page>
          );
        }
        const { record, holders, erasedAt, names } = data;
        return (
          <Page title="Medical record" subtitle={erasedAt !== null ? <Badge tone="warn">Erased in block {erasedAt.toLocaleString()}</Badge> : <Badge tone="good">Active</Badge>}>
            <Notice tone="info">
              <p>The chain holds only a salted commitment to each encrypted version, its size and its type. The contents are encrypted in the patient's browser and can be opened only by the people the patient shares them with.</p>
            </Notice>
            <Section title="Record">
              <Fields
                rows={[
                  ['Record id', <Hex value={record.id} full />],
                  ['Owner', <AccountLink id={record.owner} />],
                  ['Created by', <TxLink id={record.id} />],
                  ['Created in', <BlockLink height={record.createdAt} />],
                ]}
              />
            </Section>
            <Section title={`Versions (${record.versions.length})`}>
              <ol class="rows">
                {record.versions.map((v) => (
                  <li class="row" key={v.version}>
                    <div class="row-main">
                      <span class="row-title">
                        Version {v.version} <code>{v.contentType}</code>
                      </span>
                      <span class="row-detail">
                        {formatBytes(v.size)} encrypted · by <AccountLink id={v.author} name={names.get(v.author)} /> · block <BlockLink height={v.addedAt} />
                      </span>
                      <span class="row-detail">
                        commitment <Hex value={v.commitment} />
                      </span>
                    </div>
                  </li>
                ))}
              </ol>
            </Section>
            <Section title="Who holds access">
              {holders.length === 0 ? (
                <Empty title="Not shared">
                  <p>Only the owner can open this record.</p>
                </Empty>
              ) : (
                <ul class="rows">
                  {holders.map((h) => (
                    <li class="row" key={h.grantee}>
                      <div class="row-main">
                        <span class="row-title">
                          <AccountLink id={h.grantee} name={names.get(h.grantee)} /> {h.active ? <Badge tone="good">Active</Badge> : h.revokedAt !== null ? <Badge tone="warn">Revoked</Badge> : <Badge tone="neutral">Expired</Badge>}
                        </span>
                        <span class="row-detail">
                          {h.scope.join(', ')} · until {h.expiresAt === null || h.expiresAt >= NO_EXPIRY_MS ? 'no expiry' : <DateTime ms={h.expiresAt} />} · granted in block <BlockLink height={h.grantedAt} />
                          {h.revokedAt !== null ? <> · revoked in block <BlockLink height={h.revokedAt} /></> : null}
                        </span>
                      </div>
                    </li>
                  ))}
                </ul>
              )}
            </Section>
            <Section title="Access policy">
              <p class="muted">The program every node runs to decide who may read, add versions or share. Disassembled from its on-chain bytecode.</p>
              <pre class="code-block">{record.policySource}</pre>
            </Section>
          </Page>
        );
      }}
    </QueryView>
  );
}
