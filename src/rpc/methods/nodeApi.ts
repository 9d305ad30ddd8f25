import type { Chain } from '../../chain/chain.ts';
import type { Mempool } from '../../chain/mempool.ts';
import type { RecordQueries } from '../../emr/queries.ts';
import type { RecordService } from '../../emr/recordService.ts';

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
}
