import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { ChainStatus, Network } from '../../../src/p2p/interface.ts';
import { Syncer } from '../../../src/p2p/sync.ts';

/**
 * A range request that fails while an earlier one is being imported must not become an unhandled rejection
 * (Node ends the process on one; vitest fails the run on one). Found in review: a peer could crash a node by
 * answering the first range and resetting the second.
 */
describe('Syncer with a peer that fails mid-pipeline', () => {
  it('survives a later range request failing while an earlier one is imported', async () => {
    let height = 0;
    const status = (): ChainStatus => ({
      genesisHash: new Uint8Array(32),
      headHash: new Uint8Array(32),
      headHeight: height,
      headScore: BigInt(height),
      finalizedHash: new Uint8Array(32),
      finalizedHeight: 0,
    });
    let calls = 0;
    const network = {
      peers: () => [{ id: 'p1', addresses: [], direction: 'outbound' as const, score: 0, status: undefined }],
      requestStatus: async () => ({ ...status(), headHeight: 1000, headScore: 1000n }),
      requestBlocksByRange: (_peer: string, start: number, count: number) => {
        calls++;
        if (calls === 1) return new Promise<Uint8Array[]>((resolve) => setTimeout(() => resolve(Array.from({ length: count }, (_, i) => new Uint8Array([start + i]))), 10));
        return new Promise<Uint8Array[]>((_, reject) => setTimeout(() => reject(new Error('stream reset by peer')), 15));
      },
      requestBlockByHash: async () => undefined,
      penalize: () => undefined,
    } as unknown as Network;
    const chain = {
      status,
      importBlock: async () => {
        await new Promise((r) => setTimeout(r, 2));
        height++;
      },
      describeBlock: () => {
        throw new Error('not needed');
      },
      describeHeader: () => {
        throw new Error('not needed');
      },
    };
    const syncer = new Syncer({}, { network, chain, logger: pino({ level: 'silent' }), clock: Date.now });
    await syncer.start();
    syncer.onPeerStatus('p1', { ...status(), headHeight: 1000, headScore: 1000n });
    await new Promise((r) => setTimeout(r, 1000));
    // The first range was imported, the failure only excluded the peer for a while.
    expect(height).toBe(64);
    expect(calls).toBeGreaterThanOrEqual(2);
    await syncer.stop();
  });
});
