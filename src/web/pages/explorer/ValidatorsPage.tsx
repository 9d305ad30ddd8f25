/** The validators (hospitals with stake), finality, and which validator proposed the recent blocks. */
import { rpcCall } from '../../../client/rpcClient.ts';
import { AccountLink, BlockLink } from '../../components/links.tsx';
import { Empty, QueryView } from '../../components/states.tsx';
import { Badge, Fields, Notice, Page, Section } from '../../components/ui.tsx';
import { useFeed, useQuery } from '../../lib/hooks.ts';
import { useServices } from '../../lib/services.ts';
import type { ValidatorSet } from './AccountPage.tsx';

const RECENT = 100;

export function ValidatorsPage() {
  const { rpc, chainData } = useServices();
  const feed = useFeed();
  const query = useQuery(
    async (signal) => {
      const [set, finality] = await rpc.batch([rpcCall<ValidatorSet>('chain_getValidators'), rpcCall<{ justified: { height: number; hash: string }; finalized: { height: number; hash: string } }>('chain_getFinality')] as const, { signal });
      if (!set.ok) throw set.error;
      if (!finality.ok) throw finality.error;
      const head = feed.head?.height;
      const [hospitals, recent] = await Promise.all([
        chainData.hospitals(signal),
        head === undefined ? Promise.resolve([]) : chainData.recentBlocks(head, RECENT, finality.result.finalized.height, signal),
      ]);
      const proposed = new Map<string, number>();
      for (const b of recent) proposed.set(b.header.proposer, (proposed.get(b.header.proposer) ?? 0) + 1);
      return { set: set.result, finality: finality.result, hospitals, proposed, blocks: recent.length };
    },
    [],
    { live: true },
  );
  const pos = feed.node?.engine === 'pos';
  return (
    <Page title="Validators" subtitle="Hospitals run the nodes that make blocks.">
      <QueryView query={query} loading="Reading the validator set…">
        {({ set, finality, hospitals, proposed, blocks }) => {
          const total = set.validators.reduce((sum, v) => sum + BigInt(v.stake), 0n);
          const names = new Map(hospitals.map((h) => [h.id, h.name]));
          return (
            <>
              <Section title="Finality">
                <Fields
                  rows={[
                    ['Head', feed.head === undefined ? '—' : <BlockLink height={feed.head.height} />],
                    ['Justified', <BlockLink height={finality.justified.height} />],
                    ['Finalized', <BlockLink height={finality.finalized.height} />],
                  ]}
                />
                <p class="muted">
                  {pos
                    ? 'A block is final once validators holding more than two thirds of the stake have voted for it and its successor. A final block is never reverted.'
                    : 'This chain uses proof of work: blocks are never final in the proof-of-stake sense; the heaviest chain wins.'}
                </p>
              </Section>
              <Section title={pos ? `Validators (${set.validators.length})` : `Hospitals (${hospitals.length})`}>
                {pos && set.validators.length === 0 ? (
                  <Empty title="No validators" />
                ) : (
                  <ul class="rows">
                    {(pos ? set.validators.map((v) => ({ id: v.id, stake: v.stake })) : hospitals.map((h) => ({ id: h.id, stake: null }))).map((v) => (
                      <li class="row" key={v.id}>
                        <div class="row-main">
                          <span class="row-title">
                            <AccountLink id={v.id} name={names.get(v.id)} />
                            {feed.node?.validator === v.id ? <Badge tone="info">This node</Badge> : null}
                          </span>
                          <span class="row-detail">
                            {v.stake === null ? '' : `stake ${v.stake}${total > 0n ? ` (${((Number(BigInt(v.stake) * 10000n / total)) / 100).toFixed(2)} %)` : ''} · `}
                            proposed {proposed.get(v.id) ?? 0} of the last {blocks} blocks
                          </span>
                        </div>
                      </li>
                    ))}
                  </ul>
                )}
                {set.slashed.length > 0 ? (
                  <Notice tone="bad" title="Slashed validators">
                    <ul>
                      {set.slashed.map((id) => (
                        <li key={id}>
                          <AccountLink id={id} name={names.get(id)} />
                        </li>
                      ))}
                    </ul>
                  </Notice>
                ) : null}
              </Section>
            </>
          );
        }}
      </QueryView>
    </Page>
  );
}
