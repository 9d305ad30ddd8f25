import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_MEMPOOL_OPTIONS, Mempool } from '../../../src/chain/mempool.ts';
import { SignatureCache } from '../../../src/chain/signatureVerifier.ts';
import { EvidenceReporter, VotePool } from '../../../src/chain/votes.ts';
import { TX_TYPE_NAMES } from '../../../src/codec/payloads.ts';
import { assembleBlock } from '../../../src/codec/block.ts';
import { toHex } from '../../../src/codec/bytes.ts';
import { sealPosHeader } from '../../../src/consensus/pos/posEngine.ts';
import { createEngine } from '../../../src/consensus/index.ts';
import { createNetworkHandlers } from '../../../src/node/networkHandlers.ts';
import type { GossipKind, GossipVerdict } from '../../../src/p2p/interface.ts';
import { TxType } from '../../../src/types/transaction.ts';
import { startTestChain } from '../../helpers/chainBuilder.ts';
import { GENESIS_TIME, silentLogger, testGenesis, testKey, testTx } from '../../helpers/fixtures.ts';

async function setup() {
  const genesis = testGenesis('pos');
  const tc = await startTestChain(genesis, createEngine(genesis), { t: GENESIS_TIME + 60_000 });
  const cache = new SignatureCache();
  const mempool = new Mempool(DEFAULT_MEMPOOL_OPTIONS, {
    chainId: genesis.chainId,
    state: () => tc.chain.state,
    nextBlock: () => tc.chain.nextBlockContext(tc.now.t),
    signatureCache: cache,
  });
  const unknownParents: string[] = [];
  const verdicts: [GossipKind, GossipVerdict, string][] = [];
  const handlers = createNetworkHandlers({
    chain: tc.chain,
    mempool,
    votes: new VotePool({ chain: tc.chain, signatureCache: cache }),
    logger: silentLogger,
    importBlock: (bytes) => tc.chain.importBlock(bytes),
    onUnknownParent: (peer) => unknownParents.push(peer),
    onPeerStatus: () => undefined,
    onVerdict: (kind, verdict, reason) => verdicts.push([kind, verdict, reason]),
  });
  return { tc, mempool, handlers, unknownParents, verdicts };
}

/** A block on the head, sealed by the test hospital (the only validator). */
function nextBlock(tc: Awaited<ReturnType<typeof setup>>['tc'], txs = [] as ReturnType<typeof testTx>[]) {
  const hospital = testKey('hospital');
  const time = tc.chain.engine.nextProposalTime(tc.chain.parentInfo(), hospital.publicKey, { now: tc.now.t, parentState: tc.chain.state })!;
  const built = tc.chain.buildBlock(hospital.publicKey, time, txs);
  return assembleBlock(sealPosHeader(built.header, hospital.secretKey), built.transactions);
}

describe('gossip validation', () => {
  it('accepts a good transaction, rejects a forged or misplaced one, ignores one that may be valid elsewhere', async () => {
    const { handlers, mempool } = await setup();
    const patient = testKey('patient');
    const good = testTx(patient, 0, { type: TxType.RegisterIdentity, role: 'patient' });
    expect(await handlers.onGossip('tx', good.bytes, 'p1')).toBe('accept');
    expect(mempool.has(good.id)).toBe(true);
    expect(await handlers.onGossip('tx', good.bytes, 'p1')).toBe('ignore'); // duplicate
    const forged = new Uint8Array(testTx(testKey('doctor'), 0, { type: TxType.RegisterIdentity, role: 'doctor' }).bytes);
    forged[forged.length - 1]! ^= 1;
    expect(await handlers.onGossip('tx', forged, 'p1')).toBe('reject');
    expect(await handlers.onGossip('tx', crypto.getRandomValues(new Uint8Array(64)), 'p1')).toBe('reject');
    const vote = testTx(testKey('hospital'), 0, { type: TxType.Vote, sourceHeight: 0, sourceHash: new Uint8Array(32), targetHeight: 1, targetHash: new Uint8Array(32) });
    expect(await handlers.onGossip('tx', vote.bytes, 'p1')).toBe('reject');
    // Not registered here yet: another node may know better, so no penalty.
    const early = testTx(testKey('stranger'), 0, { type: TxType.CreateRecord, commitment: new Uint8Array(32), size: 1, contentType: 'application/pdf', policy: new Uint8Array(0) });
    expect(await handlers.onGossip('tx', early.bytes, 'p1')).toBe('ignore');
  });

  it('imports a good block; ignores a known one or one with an unknown parent (and fetches it); rejects a bad one', async () => {
    const { tc, handlers, unknownParents, verdicts } = await setup();
    const first = nextBlock(tc);
    expect(await handlers.onGossip('block', first.bytes, 'p2')).toBe('accept');
    expect(tc.chain.head.hash).toEqual(first.hash);
    expect(await handlers.onGossip('block', first.bytes, 'p2')).toBe('ignore');
    const orphan = assembleBlock({ ...nextBlock(tc).header, parent: new Uint8Array(32).fill(9) }, []);
    expect(await handlers.onGossip('block', orphan.bytes, 'p3')).toBe('ignore');
    expect(unknownParents).toEqual(['p3']);
    const badSeal = nextBlock(tc);
    const seal = new Uint8Array(badSeal.header.seal);
    seal[0]! ^= 1;
    expect(await handlers.onGossip('block', assembleBlock({ ...badSeal.header, seal }, []).bytes, 'p4')).toBe('reject');
    expect(verdicts.map(([kind, verdict, reason]) => `${kind}:${verdict}:${reason}`)).toEqual([
      'block:accept:ok',
      'block:ignore:ALREADY_KNOWN',
      'block:ignore:UNKNOWN_PARENT',
      'block:reject:BAD_SEAL',
    ]);
  });

  it('turns two gossiped blocks one proposer signed for one slot into evidence, importing only the first', async () => {
    const { tc, mempool } = await setup();
    const reporterKey = testKey('reporter-hospital');
    const submitted: string[] = [];
    const evidence = new EvidenceReporter(
      { key: reporterKey, chainId: tc.chain.genesisSpec.chainId },
      { submit: (tx) => submitted.push(TX_TYPE_NAMES[tx.body.type]), nextNonce: () => 0, logger: silentLogger },
    );
    const handlers = createNetworkHandlers({
      chain: tc.chain,
      mempool,
      evidence,
      logger: silentLogger,
      importBlock: (bytes) => tc.chain.importBlock(bytes),
      onUnknownParent: () => undefined,
      onPeerStatus: () => undefined,
    });
    const a = nextBlock(tc);
    // The same proposer, slot and parent, different contents: both are valid blocks, together an offence.
    const patient = testKey('patient');
    const b = nextBlock(tc, [testTx(patient, 0, { type: TxType.RegisterIdentity, role: 'patient' })]);
    expect(b.header.time).toBe(a.header.time);
    expect(await handlers.onGossip('block', a.bytes, 'p1')).toBe('accept');
    expect(submitted).toEqual([]);
    // The second is evidence, not a block to store and forward.
    expect(await handlers.onGossip('block', b.bytes, 'p2')).toBe('ignore');
    expect(submitted).toEqual(['consensus.evidence']);
    expect(await tc.store.getBlockMeta(b.hash)).toBeUndefined();
    // A second header without the proposer's signature is rejected outright.
    const forged = assembleBlock({ ...b.header, seal: new Uint8Array(64) }, b.transactions);
    expect(await handlers.onGossip('block', forged.bytes, 'p3')).toBe('reject');
  });

  /** A chain with two blocks on genesis, imported one after the other. */
  async function withTwoBlocks() {
    const ctx = await setup();
    const blocks = [nextBlock(ctx.tc)];
    await ctx.tc.chain.importBlock(blocks[0]!.bytes);
    blocks.push(nextBlock(ctx.tc));
    await ctx.tc.chain.importBlock(blocks[1]!.bytes);
    return { ...ctx, blocks };
  }

  it('answers status and block ranges from the chain', async () => {
    const { tc, handlers, blocks } = await withTwoBlocks();
    expect(handlers.status()).toMatchObject({ headHeight: 2, headHash: blocks[1]!.hash, finalizedHeight: 0, genesisHash: tc.chain.genesisHash });
    expect((await handlers.blocksByRange(1, 10)).map(toHex)).toEqual(blocks.map((b) => toHex(b.bytes)));
    expect(await handlers.blocksByRange(5, 10)).toEqual([]);
    expect(toHex((await handlers.blockByHash(blocks[0]!.hash))!)).toEqual(toHex(blocks[0]!.bytes));
  });

  it('answers header ranges from the headers kept beside the blocks, and from the blocks in a datadir that has none', async () => {
    const { tc, handlers, blocks } = await withTwoBlocks();
    const expected = blocks.map((b) => toHex(b.headerBytes));
    const getBlock = vi.spyOn(tc.store, 'getBlock');
    expect((await handlers.headersByRange(1, 10)).map(toHex)).toEqual(expected);
    expect(getBlock).not.toHaveBeenCalled();
    expect(await handlers.headersByRange(3, 10)).toEqual([]);
    // A datadir written before headers were kept apart: the same answer, read from the blocks.
    vi.spyOn(tc.store, 'getHeader').mockResolvedValue(undefined);
    expect((await handlers.headersByRange(1, 10)).map(toHex)).toEqual(expected);
    expect(getBlock).toHaveBeenCalledTimes(2);
  });
});
