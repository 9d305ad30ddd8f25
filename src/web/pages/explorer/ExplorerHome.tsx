/** The explorer's front page: search, the chain at a glance, latest blocks and latest transactions. */
import { useState } from 'preact/hooks';
import { AccountLink, BlockLink } from '../../components/links.tsx';
import { SearchBox } from '../../components/SearchBox.tsx';
import { Empty, QueryView } from '../../components/states.tsx';
import { Page, Section, TimeAgo } from '../../components/ui.tsx';
import { plural } from '../../lib/format.ts';
import { useFeed, useQuery } from '../../lib/hooks.ts';
import { Link } from '../../lib/router.tsx';
import { useServices } from '../../lib/services.ts';
import { TxRow } from './TxSummary.tsx';

const BLOCKS_SHOWN = 10;
/** How far back the latest-transactions list looks. */
const TX_WINDOW = 200;
const TXS_SHOWN = 12;

export function ExplorerHome() {
  const { chainData } = useServices();
  const feed = useFeed();
  const [showVotes, setShowVotes] = useState(false);
  const head = feed.head?.height;
  const finalized = feed.finalized?.height ?? 0;
  const query = useQuery(
    async (signal) => {
      if (head === undefined) return undefined;
      const [blocks, names] = await Promise.all([chainData.recentBlocks(head, TX_WINDOW, finalized, signal), chainData.hospitalNames(signal)]);
      return { blocks, names };
    },
    [],
    { live: true },
  );

  return (
    <Page title="Explorer" subtitle={<>Every block and transaction of this chain. Records' contents never appear here: the chain holds only commitments to encrypted data.</>}>
      <SearchBox />
      <p class="page-links">
        <Link to={{ page: 'validators' }}>Validators and finality</Link>
      </p>
      <QueryView query={query} loading="Reading the latest blocks…">
        {(data) => {
          if (data === undefined) return null;
          const { blocks, names } = data;
          const txs = blocks.flatMap((b) => b.transactions.map((tx) => ({ tx, height: b.header.height, time: b.header.time })));
          const shown = txs.filter(({ tx }) => showVotes || !tx.type.startsWith('consensus.vote')).slice(0, TXS_SHOWN);
          return (
            <div class="columns">
              <Section title="Latest blocks">
                <ol class="rows" data-testid="latest-blocks">
                  {blocks.slice(0, BLOCKS_SHOWN).map((b) => (
                    <li class="row" key={b.header.hash}>
                      <div class="row-main">
                        <span class="row-title">
                          <BlockLink height={b.header.height} />
                          <span class="muted">{plural(b.transactionCount, 'transaction')}</span>
                        </span>
                        <span class="row-detail">
                          proposed by <AccountLink id={b.header.proposer} name={names.get(b.header.proposer)} />
                        </span>
                      </div>
                      <div class="row-side">
                        {b.header.height <= finalized ? <span class="badge badge-good">Final</span> : <span class="badge badge-neutral">Pending</span>}
                        <TimeAgo ms={b.header.time} />
                      </div>
                    </li>
                  ))}
                </ol>
              </Section>
              <Section
                title="Latest transactions"
                actions={
                  <label class="toggle">
                    <input type="checkbox" checked={showVotes} onChange={(e) => setShowVotes(e.currentTarget.checked)} /> Show finality votes
                  </label>
                }
              >
                {shown.length === 0 ? (
                  <Empty title="No transactions lately">
                    <p>Nothing {showVotes ? '' : 'besides validator votes '}happened in the last {plural(Math.min(TX_WINDOW, blocks.length), 'block')}.</p>
                  </Empty>
                ) : (
                  <ol class="rows" data-testid="latest-transactions">
                    {shown.map(({ tx, height, time }) => (
                      <TxRow key={tx.id} tx={tx} names={names} height={height} time={time} />
                    ))}
                  </ol>
                )}
              </Section>
            </div>
          );
        }}
      </QueryView>
    </Page>
  );
}
