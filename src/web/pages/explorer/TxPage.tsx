/**
 * One transaction: its type in words, who signed it, where it is on chain (with the Merkle proof checked
 * here in the browser), and what it changed: identities, records, grants. Transactions hold no record
 * contents; fields are rendered as text, whatever they contain.
 */
import type { ComponentChildren } from 'preact';
import { fromHex } from '../../../codec/bytes.ts';
import { verifyMerkleProof } from '../../../crypto/merkle.ts';
import type { IncludedTransaction, TransactionJson } from '../../../client/rpcClient.ts';
import { AccountLink, BlockLink, RecordLink } from '../../components/links.tsx';
import { NotFound, QueryView } from '../../components/states.tsx';
import { Badge, DateTime, Fields, Hex, Notice, Page, Section } from '../../components/ui.tsx';
import { formatBytes, NO_EXPIRY_MS, PURPOSES, txLabel } from '../../lib/format.ts';
import { useFeed, useQuery } from '../../lib/hooks.ts';
import { useServices } from '../../lib/services.ts';
import { tone } from './TxSummary.tsx';

type Row = readonly [string, ComponentChildren];

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v) ?? '');
const account = (v: unknown, names: ReadonlyMap<string, string>): ComponentChildren => (typeof v === 'string' ? <AccountLink id={v} name={names.get(v)} /> : str(v));
const expiry = (v: unknown): ComponentChildren => (v === null || v === undefined || (typeof v === 'number' && v >= NO_EXPIRY_MS) ? 'never' : typeof v === 'number' ? <DateTime ms={v} /> : str(v));

/** What a transaction changed, field by field, in words. */
export function changesOf(tx: TransactionJson, names: ReadonlyMap<string, string>): Row[] {
  const p = tx.payload;
  switch (tx.type) {
    case 'identity.register':
      return [['Registered as', str(p.role)]];
    case 'identity.attest':
      return [['Doctor', account(p.doctor, names)], ['Name', str(p.name)], ['Licence', str(p.licence)], ['Attested until', expiry(p.expiresAt)]];
    case 'identity.revokeAttestation':
      return [['Doctor', account(p.doctor, names)], ['Reason', str(p.reason)]];
    case 'record.create':
      return [
        ['Record', <RecordLink id={tx.id} />],
        ['Content type', <code>{str(p.contentType)}</code>],
        ['Encrypted size', typeof p.size === 'number' ? formatBytes(p.size) : str(p.size)],
        ['Commitment', <Hex value={str(p.commitment)} />],
        ['Access policy', typeof p.policy === 'string' ? `${p.policy.length / 2} bytes of bytecode (see the record)` : str(p.policy)],
      ];
    case 'record.addVersion':
      return [
        ['Record', <RecordLink id={str(p.record)} />],
        ['Content type', <code>{str(p.contentType)}</code>],
        ['Encrypted size', typeof p.size === 'number' ? formatBytes(p.size) : str(p.size)],
        ['Commitment', <Hex value={str(p.commitment)} />],
      ];
    case 'record.setPolicy':
      return [['Record', <RecordLink id={str(p.record)} />], ['New policy', typeof p.policy === 'string' ? `${p.policy.length / 2} bytes of bytecode` : str(p.policy)]];
    case 'record.erase':
      return [['Record', <RecordLink id={str(p.record)} />], ['Effect', 'Every node deleted the encrypted data and keys of this record; the chain keeps a tombstone.']];
    case 'access.grant':
      return [
        ['Record', <RecordLink id={str(p.record)} />],
        ['Granted to', account(p.grantee, names)],
        ['Scope', Array.isArray(p.scope) ? p.scope.map(str).join(', ') : str(p.scope)],
        ['Until', expiry(p.expiresAt)],
      ];
    case 'access.revoke':
      return [['Record', <RecordLink id={str(p.record)} />], ['Revoked from', account(p.grantee, names)], ['Effect', 'Stops future reads; what was already read cannot be taken back.']];
    case 'access.read':
      return [
        ['Record', <RecordLink id={str(p.record)} />],
        ['Version', str(p.version)],
        ['Purpose', `${str(p.purpose)}${typeof p.purpose === 'string' && PURPOSES[p.purpose] ? ` (${PURPOSES[p.purpose]})` : ''}`],
        ['Emergency', p.emergency === true ? <Badge tone="bad">Yes: break-glass access</Badge> : 'no'],
        ...(p.emergency === true ? ([['Reason given', str(p.reason)]] as Row[]) : []),
      ];
    case 'consensus.vote':
      return [
        ['Source', typeof p.sourceHeight === 'number' ? <BlockLink height={p.sourceHeight} /> : str(p.sourceHeight)],
        ['Target', typeof p.targetHeight === 'number' ? <BlockLink height={p.targetHeight} /> : str(p.targetHeight)],
      ];
    case 'consensus.stake':
    case 'consensus.unstake':
      return [['Amount', str(p.amount)]];
    case 'consensus.evidence':
      return [['Kind', p.kind === 0 ? 'two conflicting votes' : p.kind === 1 ? 'two blocks for one slot' : str(p.kind)]];
    default:
      return Object.entries(p).map(([key, value]) => [key, <code class="wrap">{str(value)}</code>] as Row);
  }
}

function proofHolds(found: IncludedTransaction): boolean {
  const leaf = fromHex(found.transaction.id);
  const root = fromHex(found.txRoot);
  const siblings = found.proof.siblings.map((s) => fromHex(s));
  if (leaf === undefined || root === undefined || siblings.some((s) => s === undefined)) return false;
  return verifyMerkleProof(leaf, { index: found.proof.index, leafCount: found.proof.leafCount, siblings: siblings as Uint8Array[] }, root);
}

export function TxPage({ id }: { id: string }) {
  const { rpc, chainData } = useServices();
  const feed = useFeed();
  const query = useQuery(
    async (signal) => {
      const [lookup, names] = await Promise.all([rpc.getTransaction(id, { signal }), chainData.hospitalNames(signal)]);
      const block = lookup.status === 'included' ? await rpc.getBlock(lookup.height, { signal }) : null;
      return { lookup, names, block };
    },
    [id],
    { live: true },
  );
  return (
    <QueryView query={query} loading="Reading the transaction…">
      {({ lookup, names, block }) => {
        if (lookup.status === 'unknown') {
          return (
            <Page title="Transaction">
              <NotFound what="Transaction">
                <p>This node has no transaction with the id <Hex value={id} />. It may have been dropped before it was included.</p>
              </NotFound>
            </Page>
          );
        }
        const tx = lookup.transaction;
        const included = lookup.status === 'included' ? lookup : undefined;
        const final = included !== undefined && feed.finalized !== undefined && included.height <= feed.finalized.height;
        const proofOk = included !== undefined && proofHolds(included) && block?.transactionCount === included.proof.leafCount && block.header.txRoot === included.txRoot;
        return (
          <Page
            title={txLabel(tx.type)}
            subtitle={
              <>
                <Badge tone={tone(tx.type)}>{tx.type}</Badge>{' '}
                {included === undefined ? <Badge tone="warn">Pending: waiting for a block</Badge> : final ? <Badge tone="good">Final</Badge> : <Badge tone="neutral">Included, not final yet</Badge>}
              </>
            }
          >
            <Section title="What it changed">
              <Fields rows={changesOf(tx, names)} />
            </Section>
            <Section title="Transaction">
              <Fields
                rows={[
                  ['Id', <Hex value={tx.id} full />],
                  ['Signed by', <AccountLink id={tx.sender} name={names.get(tx.sender)} />],
                  ['Nonce', tx.nonce.toLocaleString()],
                  ['Block', included === undefined ? 'not yet' : <BlockLink height={included.height} />],
                  ['Time', block === null ? 'not yet' : <DateTime ms={block.header.time} />],
                  ['Position in block', included === undefined ? '—' : `${included.index + 1} of ${included.proof.leafCount}`],
                  ['Size', formatBytes(tx.size)],
                  ['Signature', <Hex value={tx.signature} />],
                ]}
              />
              {included === undefined ? null : proofOk ? (
                <Notice tone="good" title="Inclusion proof checked in your browser">
                  <p>The Merkle proof links this transaction to the block's transaction root, so the node cannot show it in a block it is not in.</p>
                </Notice>
              ) : (
                <Notice tone="bad" title="The inclusion proof does not check out">
                  <p>The node's proof does not link this transaction to the block's transaction root. Do not rely on this page; try another node.</p>
                </Notice>
              )}
            </Section>
          </Page>
        );
      }}
    </QueryView>
  );
}
