import type { Chain } from '../../chain/chain.ts';
import type { Mempool } from '../../chain/mempool.ts';
import type { RecordQueries } from '../../emr/queries.ts';
import type { RecordService } from '../../emr/recordService.ts';
import type { Network } from '../../p2p/interface.ts';
import type { Transaction } from '../../types/transaction.ts';
import type { ChainSubscriptions } from '../subscriptions.ts';

/** Where sync stands (the shape of geth's eth_syncing). */
export interface SyncState {
  readonly syncing: boolean;
  /** Our head height when this sync began. */
  readonly startingHeight: number;
  readonly currentHeight: number;
  /** The best head height our peers reported. */
  readonly highestHeight: number;
}

/** The part of the sync module RPC reads. */
export interface SyncProgress {
  state(): SyncState;
}

/** The node services RPC handlers use (reached by closure, per the method table's design). */
export interface NodeApi {
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly records: RecordService;
  readonly queries: RecordQueries;
  readonly version: string;
  /** The key this node proposes with, if any. */
  readonly validator: Uint8Array | undefined;
  readonly startedAt: number;
  readonly clock: () => number;
  /** The libp2p network; absent when the node runs without p2p (net_ methods then report no peers). */
  readonly network?: Network;
  /** Block sync; absent without p2p (node_syncing then answers false). */
  readonly sync?: SyncProgress;
  /** Takes a finality vote submitted through tx_submit (PoS); throws MempoolError when it is not kept. */
  readonly submitVote?: (tx: Transaction) => Promise<void>;
  /** Chain event subscriptions of WebSocket connections; absent: chain_subscribe answers SUBSCRIPTIONS_NEED_WEBSOCKET. */
  readonly subscriptions?: Pick<ChainSubscriptions, 'subscribe' | 'unsubscribe'>;
}
