/** One transaction as a row: what happened, who signed, when; used by block pages and the latest list. */
import type { TransactionJson } from '../../../client/rpcClient.ts';
import { AccountLink, BlockLink, RecordLink, TxLink } from '../../components/links.tsx';
import { Badge, TimeAgo } from '../../components/ui.tsx';
import { txLabel } from '../../lib/format.ts';

/** What the row says besides the type: the record, the other account, or the vote target. */
function subject(tx: TransactionJson, names: ReadonlyMap<string, string>) {
  const p = tx.payload;
  if (typeof p.record === 'string' && typeof p.grantee === 'string') {
    return (
      <>
        record <RecordLink id={p.record} /> {tx.type === 'access.revoke' ? 'from' : 'to'} <AccountLink id={p.grantee} name={names.get(p.grantee)} />
      </>
    );
  }
  if (typeof p.record === 'string') return <>record <RecordLink id={p.record} /></>;
  if (tx.type === 'record.create') return <>record <RecordLink id={tx.id} /></>;
  if (typeof p.doctor === 'string') return <>doctor <AccountLink id={p.doctor} name={typeof p.name === 'string' ? p.name : names.get(p.doctor)} /></>;
  if (tx.type === 'identity.register' && typeof p.role === 'string') return <>as {p.role}</>;
  if (tx.type === 'consensus.vote' && typeof p.targetHeight === 'number') return <>for block <BlockLink height={p.targetHeight} /></>;
  return null;
}

export function TxRow({ tx, names, height, time }: { tx: TransactionJson; names: ReadonlyMap<string, string>; height?: number; time?: number }) {
  const emergency = tx.type === 'access.read' && tx.payload.emergency === true;
  return (
    <li class="row tx-row">
      <div class="row-main">
        <span class="row-title">
          <Badge tone={tone(tx.type)}>{txLabel(tx.type)}</Badge>
          {emergency ? <Badge tone="bad">Emergency</Badge> : null}
          <TxLink id={tx.id} />
        </span>
        <span class="row-detail">
          by <AccountLink id={tx.sender} name={names.get(tx.sender)} /> {subject(tx, names)}
        </span>
      </div>
      {height === undefined ? null : (
        <div class="row-side">
          <BlockLink height={height} />
          {time === undefined ? null : <TimeAgo ms={time} />}
        </div>
      )}
    </li>
  );
}

export function tone(type: string): 'info' | 'good' | 'warn' | 'bad' | 'neutral' {
  if (type.startsWith('access.revoke') || type === 'record.erase' || type === 'identity.revokeAttestation' || type === 'consensus.evidence') return 'warn';
  if (type.startsWith('access.')) return 'info';
  if (type.startsWith('record.')) return 'good';
  if (type.startsWith('identity.')) return 'good';
  return 'neutral';
}
