import { afterEach, describe, expect, it } from 'vitest';
import { Harness, memoryLogger, waitFor, type TestNode } from '../unit/p2p/netHarness.ts';
import { ToyChain } from '../unit/p2p/toyChain.ts';
import { Syncer, type SyncOptions, type SyncState, type TrustedCheckpoint } from '../../src/p2p/sync.ts';

const harness = new Harness();
const syncers: Syncer[] = [];
afterEach(async () => {
  await Promise.all(syncers.splice(0).map((syncer) => syncer.stop()));
  await harness.stopAll();
});

function startSyncer(node: TestNode, options: Partial<SyncOptions> = {}, assumeValid?: TrustedCheckpoint): { syncer: Syncer; lines: Array<Record<string, unknown>> } {
  const { logger, lines } = memoryLogger();
  const syncer = new Syncer(options, { network: node.net, chain: node.chain, logger, clock: Date.now, ...(assumeValid === undefined ? {} : { assumeValid }) });
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

describe('Syncer with a trusted checkpoint (sync.assumeValid)', () => {
  /** The hash of the block at `height` on `chain`'s canonical branch. */
  const hashAt = (chain: ToyChain, height: number): Uint8Array => ToyChain.hash(chain.blocksByRange(height, 1)[0]!);

  it('checks the header chain back from the checkpoint, then imports the blocks on it without signature checks', async () => {
    const a = await harness.start();
    a.chain.extend(300);
    const b = await harness.start();
    const { syncer, lines } = startSyncer(b, { headersPerRequest: 128 }, { height: 300, hash: hashAt(a.chain, 300) });
    await syncer.start();
    await b.net.addPeer(a.net.addresses[0]!);
    await waitFor(() => b.chain.height === 300, 'B to reach height 300', 20_000);
    expect(b.chain.head).toEqual(a.chain.head);
    expect(b.chain.trustedImports).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(lines.some((line) => /header chain to the trusted checkpoint verified/.test(String(line.msg)) && line.from === 1)).toBe(true);
  });

  it('checks every block above the checkpoint', async () => {
    const a = await harness.start();
    a.chain.extend(300);
    const b = await harness.start();
    const { syncer } = startSyncer(b, {}, { height: 200, hash: hashAt(a.chain, 200) });
    await syncer.start();
    await b.net.addPeer(a.net.addresses[0]!);
    await waitFor(() => b.chain.height === 300, 'B to reach height 300', 20_000);
    expect(b.chain.trustedImports).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  it('syncs with every check from a peer whose chain does not lead to the checkpoint, without blaming it', async () => {
    const other = new ToyChain();
    other.extend(100, 'other');
    const a = await harness.start();
    a.chain.extend(120);
    const b = await harness.start();
    const { syncer, lines } = startSyncer(b, {}, { height: 100, hash: hashAt(other, 100) });
    await syncer.start();
    await b.net.addPeer(a.net.addresses[0]!);
    await waitFor(() => b.chain.height === 120, 'B to reach height 120', 20_000);
    expect(b.chain.trustedImports).toEqual([]);
    expect(lines.find((line) => /no trusted header chain from this peer/.test(String(line.msg)))?.reason).toMatch(/its header at height 100 is/);
    expect(b.net.scores.score(a.net.peerId)).toBe(0);
  });

  it('checks in full a block that is not the one the verified headers name', async () => {
    // A serves the header chain of `honest` (which leads to the checkpoint) but the blocks of its own branch.
    const honest = new ToyChain();
    honest.extend(50, 'honest');
    const a = await harness.start();
    a.chain.extend(50, 'forged');
    a.handlers.headersByRange = async (start, count) => honest.blocksByRange(start, count);
    const b = await harness.start();
    const { syncer, lines } = startSyncer(b, {}, { height: 50, hash: hashAt(honest, 50) });
    await syncer.start();
    await b.net.addPeer(a.net.addresses[0]!);
    await waitFor(() => b.chain.height === 50, 'B to reach height 50', 20_000);
    expect(lines.some((line) => /header chain to the trusted checkpoint verified/.test(String(line.msg)))).toBe(true);
    expect(b.chain.head).toEqual(a.chain.head);
    expect(b.chain.trustedImports).toEqual([]);
  });

  it('penalizes a peer that answers headers_by_range with the wrong heights, and syncs with every check', async () => {
    const a = await harness.start();
    a.chain.extend(40);
    a.handlers.headersByRange = async (start, count) => a.chain.blocksByRange(start + 1, count);
    const b = await harness.start();
    const { syncer, lines } = startSyncer(b, {}, { height: 30, hash: hashAt(a.chain, 30) });
    await syncer.start();
    await b.net.addPeer(a.net.addresses[0]!);
    await waitFor(() => b.chain.height === 40, 'B to reach height 40', 20_000);
    expect(b.chain.trustedImports).toEqual([]);
    expect(lines.find((line) => /no trusted header chain/.test(String(line.msg)))?.reason).toMatch(/asked for the header at height/);
    expect(b.net.scores.score(a.net.peerId)).toBeLessThan(0);
  });
});
