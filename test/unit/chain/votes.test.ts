import { describe, expect, it } from 'vitest';
import { Chain } from '../../../src/chain/chain.ts';
import { InlineSignatureVerifier, SignatureCache } from '../../../src/chain/signatureVerifier.ts';
import { EvidenceReporter, VotePool, Voter } from '../../../src/chain/votes.ts';
import { sealPosHeader } from '../../../src/consensus/pos/posEngine.ts';
import { createEngine } from '../../../src/consensus/index.ts';
import { toHex } from '../../../src/codec/bytes.ts';
import { encodeHeader } from '../../../src/codec/block.ts';
import { decodeTransaction } from '../../../src/codec/transaction.ts';
import type { KeyPair } from '../../../src/crypto/ed25519.ts';
import { getValidatorSet } from '../../../src/state/accessors.ts';
import { parseGenesis } from '../../../src/state/genesis.ts';
import { EvidenceKind, TxType, type Transaction } from '../../../src/types/transaction.ts';
import { startTestChain, type TestChain } from '../../helpers/chainBuilder.ts';
import { GENESIS_TIME, silentLogger, testKey, testTx } from '../../helpers/fixtures.ts';

const keys = ['h1', 'h2', 'h3', 'h4'].map(testKey);
const genesis = parseGenesis({
  chainId: 'medchain-test',
  time: GENESIS_TIME,
  consensus: { engine: 'pos', slotMs: 1000 },
  hospitals: keys.map((k, i) => ({ id: toHex(k.publicKey), name: `Hospital ${i + 1}`, stake: 100 })),
});
const byId = new Map(keys.map((k) => [toHex(k.publicKey), k]));

async function produce(tc: TestChain, txs: readonly Transaction[] = []): Promise<void> {
  const parent = tc.chain.parentInfo();
  let best: { key: KeyPair; time: number } | undefined;
  for (const key of keys) {
    const time = tc.chain.engine.nextProposalTime(parent, key.publicKey, { now: tc.now.t, parentState: tc.chain.state });
    if (time !== null && (best === undefined || time < best.time)) best = { key, time };
  }
  tc.now.t = best!.time;
  const built = tc.chain.buildBlock(best!.key.publicKey, best!.time, txs);
  expect(built.excluded).toEqual([]);
  await tc.chain.commitBuiltBlock(built, sealPosHeader(built.header, byId.get(toHex(best!.key.publicKey))!.secretKey));
}

function vote(tc: TestChain, key: KeyPair, source: number, target: number, targetHash?: Uint8Array): Transaction {
  return testTx(key, 0, {
    type: TxType.Vote,
    sourceHeight: source,
    sourceHash: source === 0 ? tc.chain.genesisHash : tc.chain.justified.hash,
    targetHeight: target,
    targetHash: targetHash ?? tc.chain.head.hash,
  });
}

describe('VotePool', () => {
  it('keeps valid votes, offers them to the next block and spots double and surround votes', async () => {
    const tc = await startTestChain(genesis, createEngine(genesis), { t: GENESIS_TIME });
    await produce(tc);
    await produce(tc);
    const pool = new VotePool({ chain: tc.chain, signatureCache: new SignatureCache() });
    const [k1, k2, k3] = keys as [KeyPair, KeyPair, KeyPair];
    const good = vote(tc, k1, 0, 2);
    expect(await pool.add(good)).toMatchObject({ verdict: 'accept' });
    expect(await pool.add(good)).toMatchObject({ verdict: 'ignore', reason: 'duplicate' });
    const other = vote(tc, k1, 0, 2, new Uint8Array(32).fill(5));
    expect((await pool.add(other)).conflict).toEqual([good, other]);
    const unknownTarget = vote(tc, k2, 0, 2, new Uint8Array(32).fill(5));
    expect(await pool.add(unknownTarget)).toMatchObject({ verdict: 'ignore', reason: 'unknown target block' });
    // Not forwarded, but remembered: a conflicting vote for a block we know is still caught.
    expect((await pool.add(vote(tc, k2, 0, 2))).conflict).toEqual([unknownTarget, expect.anything()]);
    expect(await pool.add(vote(tc, testKey('patient'), 0, 2))).toMatchObject({ verdict: 'ignore' });
    const wire = new Uint8Array(vote(tc, keys[3]!, 0, 2).bytes);
    wire[wire.length - 1]! ^= 1;
    expect(await pool.add(decodeTransaction(wire))).toMatchObject({ verdict: 'reject', reason: 'the signature does not verify' });
    // A surround: k3 voted 1 -> 2 (source hash is not checked by the pool), then 0 -> 3 surrounds it.
    const inner = testTx(k3, 0, { type: TxType.Vote, sourceHeight: 1, sourceHash: new Uint8Array(32), targetHeight: 2, targetHash: tc.chain.head.hash });
    expect(await pool.add(inner)).toMatchObject({ verdict: 'accept' });
    const outer = testTx(k3, 0, { type: TxType.Vote, sourceHeight: 0, sourceHash: tc.chain.genesisHash, targetHeight: 3, targetHash: new Uint8Array(32) });
    expect((await pool.add(outer)).conflict).toEqual([inner, outer]);

    // Only the vote that applies on the head is a candidate; once included it is not offered again.
    expect(pool.candidates()).toEqual([good]);
    await produce(tc, pool.candidates());
    expect(pool.candidates()).toEqual([]);

    // Once counted and a link span old, a vote is forgotten; votes not counted stay until finality passes them.
    const before = pool.size;
    for (let i = 0; i < 66; i++) await produce(tc);
    pool.prune();
    expect(pool.size).toBe(before - 1);
  });
});

describe('Voter', () => {
  it('votes once per new head, remembers its last vote across restarts, and its votes justify and finalize', async () => {
    const tc = await startTestChain(genesis, createEngine(genesis), { t: GENESIS_TIME });
    const pool = new VotePool({ chain: tc.chain, signatureCache: new SignatureCache() });
    const published: Transaction[] = [];
    const voters = keys.slice(0, 3).map((key) => new Voter({ key }, { chain: tc.chain, pool, publish: (t) => published.push(t), synced: () => true, logger: silentLogger }));
    for (const v of voters) await v.start();
    for (let i = 0; i < 4; i++) {
      await produce(tc, pool.candidates());
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(published.length).toBe(12);
    expect(tc.chain.justified.height).toBeGreaterThanOrEqual(2);
    expect(tc.chain.finalized.height).toBeGreaterThanOrEqual(1);
    for (const v of voters) await v.stop();
    // Finality is also remembered outside the state: a restarted chain knows it before any block.
    const restartedChain = new Chain(
      { genesis },
      { store: tc.store, engine: createEngine(genesis), verifier: new InlineSignatureVerifier(new SignatureCache()), logger: silentLogger, clock: () => tc.now.t },
    );
    await restartedChain.start();
    expect(restartedChain.finalized).toEqual(tc.chain.finalized);
    expect(await tc.store.getMeta('finalized')).toBeDefined();

    // A restarted voter (same datadir) never signs a second vote for a height it voted for.
    const last = voters[0]!.lastVote;
    const again: Transaction[] = [];
    const restarted = new Voter({ key: keys[0]! }, { chain: tc.chain, pool, publish: (t) => again.push(t), synced: () => true, logger: silentLogger });
    await restarted.start();
    expect(restarted.lastVote).toEqual(last);
    await restarted.stop();
  });
});

describe('EvidenceReporter', () => {
  it('signs one evidence transaction per offender that the chain accepts and slashes', async () => {
    const tc = await startTestChain(genesis, createEngine(genesis), { t: GENESIS_TIME });
    await produce(tc);
    const [k1, , , k4] = keys as [KeyPair, KeyPair, KeyPair, KeyPair];
    const submitted: Transaction[] = [];
    const reporter = new EvidenceReporter({ key: k1, chainId: genesis.chainId }, { submit: (t) => submitted.push(t), nextNonce: () => 0, logger: silentLogger });
    const a = vote(tc, k4, 0, 1);
    const b = vote(tc, k4, 0, 1, new Uint8Array(32).fill(2));
    expect(reporter.doubleVote(a, b)?.body).toMatchObject({ type: TxType.Evidence, kind: EvidenceKind.DoubleVote });
    expect(reporter.doubleVote(b, a)).toBeUndefined();
    expect(submitted).toHaveLength(1);
    await produce(tc, submitted);
    expect(getValidatorSet(tc.chain.state).map((v) => toHex(v.id))).not.toContain(toHex(k4.publicKey));

    // Two headers for one slot from one proposer.
    const header = { ...tc.chain.head.header, proposer: keys[1]!.publicKey, time: GENESIS_TIME + 99_000 };
    const h1 = sealPosHeader(header, keys[1]!.secretKey);
    const h2 = sealPosHeader({ ...header, txRoot: new Uint8Array(32).fill(1) }, keys[1]!.secretKey);
    expect(reporter.observeHeader(h1, encodeHeader(h1))).toBeUndefined();
    expect(reporter.observeHeader(h1, encodeHeader(h1))).toBeUndefined();
    expect(reporter.observeHeader(h2, encodeHeader(h2))?.body).toMatchObject({ kind: EvidenceKind.DoubleProposal });
  });
});
