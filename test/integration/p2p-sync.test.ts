import { afterEach, describe, expect, it } from 'vitest';
import { Harness, memoryLogger, waitFor, type TestNode } from '../unit/p2p/netHarness.ts';
import { ToyChain } from '../unit/p2p/toyChain.ts';
import { Syncer, type SyncOptions, type SyncState } from '../../src/p2p/sync.ts';

const harness = new Harness();
const syncers: Syncer[] = [];
afterEach(async () => {
  await Promise.all(syncers.splice(0).map((syncer) => syncer.stop()));
  await harness.stopAll();
});

function startSyncer(node: TestNode, options: Partial<SyncOptions> = {}): { syncer: Syncer; lines: Array<Record<string, unknown>> } {
  const { logger, lines } = memoryLogger();
  const syncer = new Syncer(options, { network: node.net, chain: node.chain, logger, clock: Date.now });
  syncers.push(syncer);
  // The node's wiring forwards statuses from the network to the syncer.
  const forward = node.handlers.onPeerStatus.bind(node.handlers);
  node.handlers.onPeerStatus = (peer, status) => {
    forward(peer, status);
    syncer.onPeerStatus(peer, status);
  };
  return { syncer, lines };
}

describe('Syncer', () => {
  it('catches an empty node up with a 300-block chain and reports progress', async () => {
    const a = await harness.start();
    a.chain.extend(300);
    const b = await harness.start();
    const { syncer, lines } = startSyncer(b, { progressLogIntervalMs: 0 });
    await syncer.start();
    expect(syncer.state()).toEqual({ syncing: false, startingHeight: 0, currentHeight: 0, highestHeight: 0 });
    const states: SyncState[] = [];
    const sample = setInterval(() => states.push(syncer.state()), 5);
    await b.net.addPeer(a.net.addresses[0]!);
    await waitFor(() => b.chain.height === 300, 'B to reach height 300', 20_000);
    clearInterval(sample);
    expect(b.chain.head).toEqual(a.chain.head);
    const during = states.find((state) => state.syncing);
    expect(during).toMatchObject({ syncing: true, startingHeight: 0, highestHeight: 300 });
    await waitFor(() => !syncer.state().syncing, 'sync to finish');
    expect(syncer.state()).toEqual({ syncing: false, startingHeight: 0, currentHeight: 300, highestHeight: 300 });
    const progress = lines.find((line) => /^syncing \d+\/300$/.test(String(line.msg)));
    expect(progress).toMatchObject({ level: 30, target: 300 });
    expect(progress).toHaveProperty('blocksPerSecond');
    expect(progress).toHaveProperty('etaSeconds');
    expect(lines.some((line) => line.msg === 'sync finished' && line.height === 300)).toBe(true);
    expect(b.chain.imports).toBe(300);
  });

  it('catches up through the periodic status refresh after missing gossip', async () => {
    const a = await harness.start();
    const b = await harness.start();
    const { syncer } = startSyncer(b, { statusIntervalMs: 200 });
    await syncer.start();
    await b.net.addPeer(a.net.addresses[0]!);
    await waitFor(() => b.net.peers()[0]?.status !== undefined, 'the first status');
    a.chain.extend(20); // produced after the status exchange, never gossiped
    await waitFor(() => b.chain.height === 20, 'B to catch up from the periodic status');
  });

  it('fetches the ancestors of a gossiped block whose parent is unknown', async () => {
    const a = await harness.start();
    a.chain.extend(10);
    const b = await harness.start();
    // B's syncer is not told about statuses: only the unknown-parent path can move it.
    const { logger } = memoryLogger();
    const syncer = new Syncer({ statusIntervalMs: 60_000 }, { network: b.net, chain: b.chain, logger, clock: Date.now });
    syncers.push(syncer);
    await syncer.start();
    await b.net.addPeer(a.net.addresses[0]!);
    a.chain.extend(1);
    await expect(b.chain.importBlock(a.chain.head)).rejects.toMatchObject({ code: 'UNKNOWN_PARENT' });
    await syncer.onUnknownParent(a.net.peerId, a.chain.head);
    expect(b.chain.height).toBe(11);
    expect(b.chain.head).toEqual(a.chain.head);
  });

  it('follows a heavier fork by walking back to the common ancestor', async () => {
    const shared = new ToyChain();
    shared.extend(30);
    const a = await harness.start({ chain: shared });
    const bChain = new ToyChain();
    for (const block of shared.blocksByRange(1, 20)) await bChain.importBlock(block);
    bChain.extend(5, 'fork'); // B: 20 shared blocks, then 5 of its own
    const b = await harness.start({ chain: bChain });
    const { syncer } = startSyncer(b);
    await syncer.start();
    await b.net.addPeer(a.net.addresses[0]!);
    await waitFor(() => b.chain.height === 30, 'B to switch to the heavier branch');
    expect(b.chain.head).toEqual(a.chain.head);
  });

  it('penalizes a peer that serves an invalid block and stops syncing from it', async () => {
    const badChain = new ToyChain();
    badChain.extend(10);
    const bad = ToyChain.block(ToyChain.hash(badChain.head), 11, 'bad-block');
    // A serves its 10 good blocks, then the invalid 11th, and claims height 11.
    const a = await harness.start({ chain: badChain });
    const original = a.handlers.blocksByRange;
    a.handlers.blocksByRange = async (start, count) => {
      const blocks = await original(start, count);
      return start + blocks.length - 1 >= 10 && blocks.length < count ? [...blocks, bad] : blocks;
    };
    const status = a.handlers.status;
    a.handlers.status = () => ({ ...status(), headHeight: 11, headScore: 11n });
    const b = await harness.start();
    const { syncer, lines } = startSyncer(b);
    await syncer.start();
    await b.net.addPeer(a.net.addresses[0]!);
    await waitFor(() => lines.some((line) => /served a bad block/.test(String(line.msg))), 'the bad block to be found');
    expect(b.chain.height).toBe(10);
    expect(b.net.scores.score(a.net.peerId)).toBeLessThanOrEqual(-9);
    expect(lines.find((line) => /served a bad block/.test(String(line.msg)))?.reason).toMatch(/INVALID_TRANSACTION/);
    // It is passed over now: no further range requests to it.
    const imports = b.chain.imports;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(b.chain.imports).toBe(imports);
    expect(syncer.state().syncing).toBe(false);
  });
});
