/** One block: header, finality, position in the chain and its transactions. */
import { medchainCalls, rpcCall, type BlockJson, type TransactionJson } from '../../../client/rpcClient.ts';
import { AccountLink, BlockLink } from '../../components/links.tsx';
import { Empty, NotFound, QueryView } from '../../components/states.tsx';
import { Badge, DateTime, Fields, Hex, Page, Section, TimeAgo } from '../../components/ui.tsx';
import { formatBytes, plural } from '../../lib/format.ts';
import { useFeed, useQuery } from '../../lib/hooks.ts';
import { Link } from '../../lib/router.tsx';
import { useServices } from '../../lib/services.ts';
import { TxRow } from './TxSummary.tsx';

export function BlockPage({ id }: { id: string }) {
  const { rpc, chainData } = useServices();
  const feed = useFeed();
  const byHeight = /^\d+$/.test(id);
  const query = useQuery(
    async (signal) => {
      const block = await rpc.send(medchainCalls.getBlockWithTransactions(byHeight ? Number(id) : id), { signal });
      if (block === null) return null;
      // A block found by hash may be on a side branch: compare with the main chain at its height.
      const [canonical, names] = await Promise.all([
        byHeight ? Promise.resolve(block) : rpc.send(rpcCall<BlockJson | null>('chain_getBlock', { block: block.header.height }), { signal }),
        chainData.hospitalNames(signal),
      ]);
      return { block, onMainChain: canonical?.header.hash === block.header.hash, names };
    },
    [id],
  );
  const head = feed.head?.height;
  const finalized = feed.finalized?.height;

  return (
    <QueryView query={query} loading="Reading the block…">
      {(data) => {
        if (data === null) {
          return (
            <Page title={byHeight ? `Block #${Number(id).toLocaleString()}` : 'Block'}>
              <NotFound what="Block">{byHeight && head !== undefined && Number(id) > head ? <p>The chain is at block {head.toLocaleString()}; this one does not exist yet.</p> : <p>This node knows no block with that hash.</p>}</NotFound>
            </Page>
          );
        }
        const { block, onMainChain, names } = data;
        const h = block.header;
        const status = !onMainChain ? (
          <Badge tone="warn">Not on the main chain</Badge>
        ) : finalized !== undefined && h.height <= finalized ? (
          <Badge tone="good">Final</Badge>
        ) : (
          <Badge tone="neutral">Not final yet</Badge>
        );
        return (
          <Page
            title={`Block #${h.height.toLocaleString()}`}
            subtitle={
              <>
                {status} <TimeAgo ms={h.time} />
              </>
            }
            actions={
              <div class="pager">
                {h.height > 0 ? <Link to={{ page: 'block', id: String(h.height - 1) }} class="button secondary small">← Previous</Link> : null}
                {head !== undefined && h.height < head ? <Link to={{ page: 'block', id: String(h.height + 1) }} class="button secondary small">Next →</Link> : null}
              </div>
            }
          >
            <Section title="Header">
              <Fields
                rows={[
                  ['Height', h.height.toLocaleString()],
                  ['Hash', <Hex value={h.hash} full />],
                  ['Time', <DateTime ms={h.time} />],
                  ['Proposer', <AccountLink id={h.proposer} name={names.get(h.proposer)} />],
                  ['Parent', h.height === 0 ? 'none (genesis)' : <BlockLink hash={h.parent} />],
                  ['Transactions', block.transactionCount.toLocaleString()],
                  ['Size', formatBytes(block.size)],
                  ['Transaction root', <Hex value={h.txRoot} full />],
                  ['State root', <Hex value={h.stateRoot} full />],
                  ['Seal', <Hex value={h.seal} />],
                ]}
              />
            </Section>
            <Section title={plural(block.transactionCount, 'transaction')}>
              {block.transactions.length === 0 ? (
                <Empty title="No transactions in this block" />
              ) : (
                <ol class="rows">
                  {block.transactions.map((tx: TransactionJson) => (
                    <TxRow key={tx.id} tx={tx} names={names} />
                  ))}
                </ol>
              )}
            </Section>
          </Page>
        );
      }}
    </QueryView>
  );
}
