/** The node's status in the top bar: chain, head, finalized block, peers, and whether updates are live. */
import type { FeedState } from '../lib/chainFeed.ts';
import { describeError } from '../lib/describeError.ts';
import { Link } from '../lib/router.tsx';
import { useServices } from '../lib/services.ts';

const MODE_LABEL: Record<FeedState['mode'], string> = {
  connecting: 'Connecting…',
  live: 'Live',
  polling: 'Updating',
  offline: 'Node unreachable',
};

const MODE_HELP: Record<FeedState['mode'], string> = {
  connecting: 'Connecting to the node.',
  live: 'New blocks appear as the node announces them.',
  polling: 'The app checks the node for new blocks every few seconds.',
  offline: 'The node does not answer. Retrying.',
};

export function NodeStatus({ feed }: { feed: FeedState }) {
  const { feed: chainFeed } = useServices();
  const offline = feed.mode === 'offline';
  return (
    <div class={`node-status mode-${feed.mode}`} aria-live="polite">
      <span class="status-dot" aria-hidden="true" />
      <span class="status-mode" title={offline ? describeError(feed.error).title : MODE_HELP[feed.mode]}>
        {MODE_LABEL[feed.mode]}
      </span>
      {offline ? (
        <button type="button" class="button ghost small" onClick={() => chainFeed.refresh()}>
          Retry
        </button>
      ) : null}
      {feed.node === undefined ? null : (
        <span class="status-item status-chain" title={`chain id ${feed.node.chainId}`}>
          {feed.node.chainId}
        </span>
      )}
      {feed.head === undefined ? null : (
        <span class="status-item">
          <span class="status-label">Block</span>{' '}
          <Link to={{ page: 'block', id: String(feed.head.height) }} class="status-value" data-testid="head-height">
            {feed.head.height.toLocaleString()}
          </Link>
        </span>
      )}
      {feed.finalized === undefined ? null : (
        <span class="status-item status-optional" title="Blocks up to this height can never be reverted">
          <span class="status-label">Final</span> <span class="status-value">{feed.finalized.height.toLocaleString()}</span>
        </span>
      )}
      {feed.peers === undefined ? null : (
        <span class="status-item status-optional" title={feed.peers === null ? 'This node runs without peer-to-peer networking' : 'Connected nodes'}>
          <span class="status-label">Peers</span> <span class="status-value">{feed.peers === null ? 'off' : feed.peers}</span>
        </span>
      )}
    </div>
  );
}
