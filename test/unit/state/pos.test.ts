import { describe, expect, it } from 'vitest';
import { assembleBlock, encodeHeader } from '../../../src/codec/block.ts';
import { toHex } from '../../../src/codec/bytes.ts';
import { sealPosHeader } from '../../../src/consensus/pos/posEngine.ts';
import { merkleRoot } from '../../../src/crypto/merkle.ts';
import { CURRENT_POLICY_FLAGS } from '../../../src/script/flags.ts';
import { getValidatorSet } from '../../../src/state/accessors.ts';
import { applyBlock } from '../../../src/state/applyBlock.ts';
import { applyTx, type BlockContext } from '../../../src/state/applyTx.ts';
import { TxErrorCode } from '../../../src/state/errors.ts';
import { finalityOf } from '../../../src/state/finality.ts';
import { buildGenesis, parseGenesis, posRulesOf } from '../../../src/state/genesis.ts';
import { MemoryState, StateOverlay } from '../../../src/state/overlay.ts';
import { BLOCK_HASH_WINDOW, MAX_STAKE_CHANGES_PER_HEIGHT, beginPosBlock, getBalance } from '../../../src/state/pos.ts';
import { stateKey } from '../../../src/state/stateKeys.ts';
import type { KeyPair } from '../../../src/crypto/ed25519.ts';
import type { Block, BlockHeader } from '../../../src/types/block.ts';
import type { Hash } from '../../../src/types/primitives.ts';
import { EvidenceKind, TxType, type Transaction } from '../../../src/types/transaction.ts';
import { GENESIS_TIME, testKey, testTx } from '../../helpers/fixtures.ts';

const validators = ['h1', 'h2', 'h3', 'h4'].map(testKey);
const [v1, v2, v3, v4] = validators as [KeyPair, KeyPair, KeyPair, KeyPair];
const DELAY = 4;

const spec = parseGenesis({
  chainId: 'medchain-test',
  time: GENESIS_TIME,
  consensus: { engine: 'pos', slotMs: 1000, stakeDelayBlocks: DELAY },
  hospitals: validators.map((k, i) => ({ id: toHex(k.publicKey), name: `Hospital ${i + 1}`, stake: 100, balance: 50 })),
});
const pos = posRulesOf(spec)!;

/** A chain of PoS blocks applied to a memory state (headers are not sealed: the engine is not under test). */
class TestPosChain {
  readonly state = new MemoryState();
  readonly hashes: Hash[] = [];
  readonly headers: BlockHeader[] = [];
  readonly spec: typeof spec;
  constructor(chainSpec = spec) {
    this.spec = chainSpec;
    const genesis = buildGenesis(chainSpec);
    this.state.apply(genesis.writes);
    this.hashes.push(genesis.block.hash);
    this.headers.push(genesis.block.header);
  }
  get height(): number {
    return this.hashes.length - 1;
  }
  /** Applies a block of `txs` on the tip. */
  add(txs: readonly Transaction[] = []): Block {
    const parent = this.headers[this.height]!;
    const header: BlockHeader = {
      ...parent,
      height: this.height + 1,
      parent: this.hashes[this.height]!,
      time: parent.time + 1000,
      txRoot: merkleRoot(txs.map((t) => t.id)),
      proposer: v1.publicKey,
      seal: new Uint8Array(0),
    };
    const execution = applyBlock(this.state, assembleBlock(header, txs), parent.stateRoot, CURRENT_POLICY_FLAGS, posRulesOf(this.spec));
    const block = assembleBlock({ ...header, stateRoot: execution.stateRoot }, txs);
    this.state.apply(execution.writes);
    this.hashes.push(block.hash);
    this.headers.push(block.header);
    return block;
  }
  /** The context of the next block (for applyTx on an overlay). */
  next(): BlockContext {
    return { chainId: spec.chainId, height: this.height + 1, time: GENESIS_TIME + 1e6, policyFlags: CURRENT_POLICY_FLAGS, parentHash: this.hashes[this.height]!, pos: posRulesOf(this.spec) };
  }
  vote(key: KeyPair, source: number, target: number, targetHash = this.hashes[target]!): Transaction {
    return testTx(key, 0, { type: TxType.Vote, sourceHeight: source, sourceHash: this.hashes[source]!, targetHeight: target, targetHash });
  }
  /** Applies `txs` to the next block's state (begin-block step included) without keeping it; throws their TxError. */
  addDry(txs: readonly Transaction[], ctx: BlockContext): void {
    const overlay = new StateOverlay(this.state);
    if (ctx.pos !== undefined) beginPosBlock(overlay, ctx);
    for (const tx of txs) applyTx(overlay, tx, ctx);
  }
  get finality() {
    return finalityOf(this.state, this.hashes[0]!);
  }
}

function expectTxError(run: () => void, code: string): void {
  expect(run).toThrow(expect.objectContaining({ code }));
}

describe('PoS finality votes', () => {
  it('justifies a block with votes from more than 2/3 of stake and finalizes its justified parent', () => {
    const c = new TestPosChain();
    c.add();
    c.add([c.vote(v1, 0, 1), c.vote(v2, 0, 1), c.vote(v3, 0, 1)]);
    expect(c.finality.justified).toEqual({ height: 1, hash: c.hashes[1] });
    expect(c.finality.finalized.height).toBe(0);
    c.add([c.vote(v1, 1, 2), c.vote(v2, 1, 2), c.vote(v4, 1, 2)]);
    expect(c.finality.justified.height).toBe(2);
    expect(c.finality.finalized).toEqual({ height: 1, hash: c.hashes[1] });
  });

  it('does not justify with exactly 2/3 or less', () => {
    const c = new TestPosChain();
    c.add();
    c.add([c.vote(v1, 0, 1), c.vote(v2, 0, 1)]);
    expect(c.finality.justified.height).toBe(0);
    // Votes from different sources do not add up.
    c.add([c.vote(v3, 0, 2)]);
    expect(c.finality.justified.height).toBe(0);
  });

  it('finalizes across a gap when every block between source and target is justified (k-finality)', () => {
    const c = new TestPosChain();
    c.add();
    c.add();
    c.add([c.vote(v1, 0, 1), c.vote(v2, 0, 1), c.vote(v3, 0, 1)]);
    c.add([c.vote(v1, 1, 2), c.vote(v2, 1, 2), c.vote(v3, 1, 2)]); // 1 justified, 1->2: finalizes 1
    expect(c.finality.finalized.height).toBe(1);
    c.add([c.vote(v1, 1, 3), c.vote(v2, 1, 3), c.vote(v3, 1, 3)]); // 2 justified, 1->3 with 2 justified: 1 again
    c.add([c.vote(v1, 2, 4), c.vote(v2, 2, 4), c.vote(v4, 2, 4)]); // 2->4 with 3 justified: finalizes 2
    expect(c.finality.finalized.height).toBe(2);
  });

  it('refuses bad votes with a reason', () => {
    const c = new TestPosChain();
    c.add();
    c.add([c.vote(v1, 0, 1)]);
    const ctx = c.next();
    expectTxError(() => c.addDry([c.vote(v1, 0, 1)], ctx), TxErrorCode.DuplicateVote);
    expectTxError(() => c.addDry([c.vote(v2, 0, 1, new Uint8Array(32).fill(9))], ctx), TxErrorCode.BadVote);
    expectTxError(() => c.addDry([c.vote(v2, 1, 2)], ctx), TxErrorCode.BadVote); // source 1 is not justified
    expectTxError(() => c.addDry([c.vote(v2, 0, 3, new Uint8Array(32))], ctx), TxErrorCode.BadVote); // target not an ancestor
    expectTxError(() => c.addDry([c.vote(testKey('patient'), 0, 1)], ctx), TxErrorCode.NotAValidator);
    const withNonce = testTx(v2, 5, { type: TxType.Vote, sourceHeight: 0, sourceHash: c.hashes[0]!, targetHeight: 1, targetHash: c.hashes[1]! });
    expectTxError(() => c.addDry([withNonce], ctx), TxErrorCode.BadVote);
    expectTxError(() => c.addDry([c.vote(v2, 0, 1)], { ...ctx, pos: undefined }), TxErrorCode.NotProofOfStake);
  });
});

describe('PoS liveness and bounded state', () => {
  it('finality resumes after a stall longer than the ancestor window', () => {
    const c = new TestPosChain();
    for (let i = 0; i < BLOCK_HASH_WINDOW + 80; i++) c.add();
    // A link spans at most 64 heights: the first justifies 64, the next one finalizes it.
    c.add([v1, v2, v3].map((k) => c.vote(k, 0, 64)));
    expect(c.finality.justified.height).toBe(64);
    c.add([v1, v2, v3].map((k) => testTx(k, 0, { type: TxType.Vote, sourceHeight: 64, sourceHash: c.hashes[64]!, targetHeight: 65, targetHash: c.hashes[65]! })));
    expect(c.finality.finalized).toEqual({ height: 64, hash: c.hashes[64] });
  });

  it('prunes votes, tallies and ancestor hashes once they are below both the window and the justified block', () => {
    const c = new TestPosChain();
    c.add();
    for (let h = 2; h <= BLOCK_HASH_WINDOW + 40; h++) {
      const j = c.finality.justified;
      c.add([v1, v2, v3].map((k) => testTx(k, 0, { type: TxType.Vote, sourceHeight: j.height, sourceHash: j.hash, targetHeight: h - 1, targetHash: c.hashes[h - 1]! })));
    }
    expect(c.finality.finalized.height).toBeGreaterThan(BLOCK_HASH_WINDOW);
    expect(c.state.get(stateKey.vote(v1.publicKey, 1))).toBeUndefined();
    expect(c.state.get(stateKey.tally(0, 1))).toBeUndefined();
    expect(c.state.get(stateKey.blockHash(1))).toBeUndefined();
    expect(c.state.get(stateKey.blockHash(0))).toBeDefined();
    // Recent ones are still there.
    expect(c.state.get(stateKey.vote(v1.publicKey, c.height - 1))).toBeDefined();
  });
});

describe('PoS evidence and slashing', () => {
  it('slashes a double vote: the offender leaves the validator set, once', () => {
    const c = new TestPosChain();
    c.add();
    c.add();
    const first = c.vote(v4, 0, 2);
    const second = c.vote(v4, 0, 2, new Uint8Array(32).fill(1));
    const evidence = testTx(v1, 0, { type: TxType.Evidence, kind: EvidenceKind.DoubleVote, first: first.bytes, second: second.bytes });
    c.add([evidence]);
    expect(getValidatorSet(c.state).map((v) => toHex(v.id))).not.toContain(toHex(v4.publicKey));
    expect(getValidatorSet(c.state)).toHaveLength(3);
    const again = testTx(v2, 0, { type: TxType.Evidence, kind: EvidenceKind.DoubleVote, first: second.bytes, second: first.bytes });
    expectTxError(() => c.addDry([again], c.next()), TxErrorCode.AlreadySlashed);
  });

  it('slashes a surround vote and refuses votes that do not conflict or are forged', () => {
    const c = new TestPosChain();
    for (let i = 0; i < 4; i++) c.add();
    const outer = c.vote(v3, 0, 4);
    const inner = testTx(v3, 0, { type: TxType.Vote, sourceHeight: 1, sourceHash: c.hashes[1]!, targetHeight: 3, targetHash: c.hashes[3]! });
    const ev = (a: Transaction, b: Transaction, key = v1, nonce = 0) =>
      testTx(key, nonce, { type: TxType.Evidence, kind: EvidenceKind.DoubleVote, first: a.bytes, second: b.bytes });
    expectTxError(() => c.addDry([ev(c.vote(v3, 0, 2), c.vote(v3, 2, 3, c.hashes[3]))], c.next()), TxErrorCode.BadEvidence);
    expectTxError(() => c.addDry([ev(c.vote(v3, 0, 2), c.vote(v2, 0, 2, new Uint8Array(32)))], c.next()), TxErrorCode.BadEvidence);
    const forged = new Uint8Array(inner.bytes);
    forged[forged.length - 1]! ^= 1;
    const forgedEvidence = testTx(v1, 0, { type: TxType.Evidence, kind: EvidenceKind.DoubleVote, first: outer.bytes, second: forged });
    expectTxError(() => c.addDry([forgedEvidence], c.next()), TxErrorCode.BadEvidence);
    c.add([ev(outer, inner)]);
    expect(getValidatorSet(c.state).some((v) => toHex(v.id) === toHex(v3.publicKey))).toBe(false);
  });

  it('slashes a proposer that signed two headers for one slot', () => {
    const c = new TestPosChain();
    c.add();
    const base: BlockHeader = { ...c.headers[1]!, proposer: v2.publicKey, height: 2, parent: c.hashes[1]!, time: GENESIS_TIME + 5000 };
    const a = sealPosHeader(base, v2.secretKey);
    const b = sealPosHeader({ ...base, txRoot: new Uint8Array(32).fill(3) }, v2.secretKey);
    const evidence = testTx(v1, 0, { type: TxType.Evidence, kind: EvidenceKind.DoubleProposal, first: encodeHeader(a), second: encodeHeader(b) });
    const otherSlot = sealPosHeader({ ...base, time: base.time + 1000 }, v2.secretKey);
    const notConflicting = testTx(v1, 0, { type: TxType.Evidence, kind: EvidenceKind.DoubleProposal, first: encodeHeader(a), second: encodeHeader(otherSlot) });
    expectTxError(() => c.addDry([notConflicting], c.next()), TxErrorCode.BadEvidence);
    c.add([evidence]);
    expect(getValidatorSet(c.state)).toHaveLength(3);
  });
});

describe('PoS staking', () => {
  it('changes the validator set exactly stakeDelayBlocks after the transaction', () => {
    const c = new TestPosChain();
    const stakeOf = (k: KeyPair) => getValidatorSet(c.state).find((v) => toHex(v.id) === toHex(k.publicKey))?.stake;
    c.add([testTx(v1, 0, { type: TxType.Stake, amount: 30n }), testTx(v2, 0, { type: TxType.Unstake, amount: 100n })]); // height 1
    expect(getBalance(c.state, v1.publicKey)).toBe(20n);
    for (let h = 2; h < 1 + DELAY; h++) {
      c.add();
      expect(stakeOf(v1)).toBe(100n);
      expect(stakeOf(v2)).toBe(100n);
    }
    c.add(); // height 1 + DELAY
    expect(stakeOf(v1)).toBe(130n);
    expect(stakeOf(v2)).toBeUndefined();
    expect(getBalance(c.state, v2.publicKey)).toBe(150n);
  });

  it('never lets scheduled withdrawals and slashing empty the validator set', () => {
    const two = parseGenesis({
      chainId: 'medchain-test',
      time: GENESIS_TIME,
      consensus: { engine: 'pos', slotMs: 1000, stakeDelayBlocks: DELAY },
      hospitals: [v1, v2].map((k, i) => ({ id: toHex(k.publicKey), name: `Hospital ${i + 1}`, stake: 10 })),
    });
    const c = new TestPosChain(two);
    c.add([testTx(v1, 0, { type: TxType.Unstake, amount: 10n })]);
    c.add();
    // v1 double-votes and is slashed by v2; v2 is then the only stake left and may not withdraw it.
    const a = c.vote(v1, 0, 1);
    const b = c.vote(v1, 0, 1, new Uint8Array(32).fill(4));
    c.add([testTx(v2, 0, { type: TxType.Evidence, kind: EvidenceKind.DoubleVote, first: a.bytes, second: b.bytes })]);
    expectTxError(() => c.addDry([testTx(v2, 1, { type: TxType.Unstake, amount: 10n })], c.next()), TxErrorCode.InsufficientStake);
    // Nor can the last validator be slashed to nothing.
    const x = c.vote(v2, 0, 2);
    const y = c.vote(v2, 0, 2, new Uint8Array(32).fill(5));
    expectTxError(
      () => c.addDry([testTx(v1, 1, { type: TxType.Evidence, kind: EvidenceKind.DoubleVote, first: x.bytes, second: y.bytes })], c.next()),
      TxErrorCode.InsufficientStake,
    );
    for (let i = 0; i < DELAY + 2; i++) c.add();
    expect(getValidatorSet(c.state).map((v) => toHex(v.id))).toEqual([toHex(v2.publicKey)]);
  });

  it('bounds the stake changes due at one height', () => {
    const many = parseGenesis({
      chainId: 'medchain-test',
      time: GENESIS_TIME,
      consensus: { engine: 'pos', slotMs: 1000, stakeDelayBlocks: DELAY },
      hospitals: [v1, v2].map((k, i) => ({ id: toHex(k.publicKey), name: `Hospital ${i + 1}`, stake: 100, balance: 1000 })),
    });
    const c = new TestPosChain(many);
    const stakes = Array.from({ length: MAX_STAKE_CHANGES_PER_HEIGHT }, (_, n) => testTx(v1, n, { type: TxType.Stake, amount: 1n }));
    c.add(stakes);
    expect(getBalance(c.state, v1.publicKey)).toBe(1000n - BigInt(MAX_STAKE_CHANGES_PER_HEIGHT));
    const ctx = c.next();
    // The next block's changes fall due one height later: room again.
    c.addDry([testTx(v2, 0, { type: TxType.Stake, amount: 1n })], ctx);
    const full = new TestPosChain(many);
    expectTxError(() => full.addDry([...stakes, testTx(v1, MAX_STAKE_CHANGES_PER_HEIGHT, { type: TxType.Stake, amount: 1n })], full.next()), TxErrorCode.StakeQueueFull);
  });

  it('refuses a stake beyond the balance and an unstake beyond the stake or of the last stake', () => {
    const c = new TestPosChain();
    expectTxError(() => c.addDry([testTx(v1, 0, { type: TxType.Stake, amount: 51n })], c.next()), TxErrorCode.InsufficientBalance);
    expectTxError(() => c.addDry([testTx(v1, 0, { type: TxType.Unstake, amount: 101n })], c.next()), TxErrorCode.InsufficientStake);
    c.add([1, 2, 3].map((i) => testTx(validators[i]!, 0, { type: TxType.Unstake, amount: 100n })));
    expectTxError(() => c.addDry([testTx(v1, 0, { type: TxType.Unstake, amount: 100n })], c.next()), TxErrorCode.InsufficientStake);
  });
});
