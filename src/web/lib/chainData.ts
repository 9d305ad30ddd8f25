/**
 * Reads the explorer repeats: ranges of recent blocks (final blocks are cached, they never change) and the
 * hospitals' names (from genesis; they rarely change).
 */
import { rpcCall, type BlockJson, type MedchainRpc, type TransactionJson } from '../../client/rpcClient.ts';

export type FullBlock = BlockJson<TransactionJson>;

export interface Hospital {
  readonly id: string;
  readonly name: string;
  readonly fingerprint: string;
}

const MAX_CACHED_BLOCKS = 2_000;
const BATCH = 50;

export class ChainData {
  readonly #rpc: MedchainRpc;
  /** Final blocks by height: a finalized block is never reverted, so its height names it for good. */
  readonly #final = new Map<number, FullBlock>();
  #hospitals: Promise<readonly Hospital[]> | undefined;

  constructor(rpc: MedchainRpc) {
    this.#rpc = rpc;
  }

  /** Blocks `top`, `top - 1`, ... (at most `count`, never below 0), newest first, with full transactions. */
  async recentBlocks(top: number, count: number, finalizedHeight: number, signal?: AbortSignal): Promise<FullBlock[]> {
    const heights = Array.from({ length: Math.max(0, Math.min(count, top + 1)) }, (_, i) => top - i);
    const missing = heights.filter((h) => !this.#final.has(h));
    const fetched = new Map<number, FullBlock>();
    for (let i = 0; i < missing.length; i += BATCH) {
      const chunk = missing.slice(i, i + BATCH);
      const outcomes = await this.#rpc.batch(
        chunk.map((h) => rpcCall<FullBlock | null>('chain_getBlock', { block: h, fullTransactions: true })),
        { signal },
      );
      outcomes.forEach((outcome, j) => {
        if (!outcome.ok) throw outcome.error;
        const block = outcome.result;
        if (block === null) return;
        fetched.set(chunk[j]!, block);
        if (block.header.height <= finalizedHeight) this.#remember(block);
      });
    }
    return heights.map((h) => this.#final.get(h) ?? fetched.get(h)).filter((b): b is FullBlock => b !== undefined);
  }

  /** The hospitals of the chain, fetched once per page load. */
  hospitals(signal?: AbortSignal): Promise<readonly Hospital[]> {
    this.#hospitals ??= this.#rpc.call<Hospital[]>('identity_hospitals', {}, { signal }).catch((error: unknown) => {
      this.#hospitals = undefined;
      throw error;
    });
    return this.#hospitals;
  }

  async hospitalNames(signal?: AbortSignal): Promise<ReadonlyMap<string, string>> {
    return new Map((await this.hospitals(signal)).map((h) => [h.id, h.name]));
  }

  #remember(block: FullBlock): void {
    this.#final.set(block.header.height, block);
    if (this.#final.size > MAX_CACHED_BLOCKS) {
      const oldest = Math.min(...this.#final.keys());
      this.#final.delete(oldest);
    }
  }
}
