/** The mempool: admission (signature, chain, nonces, limits, dry run), candidate order and pruning after a block. */
import { DEFAULT_POLICY } from '../../../src/script/index.ts';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MEMPOOL_OPTIONS, Mempool, MempoolError, MempoolRejection, type MempoolOptions } from '../../../src/chain/mempool.ts';
import { SignatureCache } from '../../../src/chain/signatureVerifier.ts';
import { assembleBlock } from '../../../src/codec/block.ts';
import { toHex } from '../../../src/codec/bytes.ts';
import { decodeTransaction } from '../../../src/codec/transaction.ts';
import type { KeyPair } from '../../../src/crypto/ed25519.ts';
import { CURRENT_POLICY_FLAGS } from '../../../src/script/flags.ts';
import { applyBlock } from '../../../src/state/applyBlock.ts';
import { TxErrorCode } from '../../../src/state/errors.ts';
import { buildGenesis } from '../../../src/state/genesis.ts';
import { MemoryState } from '../../../src/state/overlay.ts';
import { TxType, type Transaction, type TxBody } from '../../../src/types/transaction.ts';
import { GENESIS_TIME, testGenesis, testKey, testTx } from '../../helpers/fixtures.ts';

const hospital = testKey('hospital');
const alice = testKey('alice');
const bob = testKey('bob');
const carol = testKey('carol');
const doctor = testKey('doctor');
const spec = testGenesis('pos');
const genesis = buildGenesis(spec);
const T = GENESIS_TIME + 10_000;

const register = (role: 'patient' | 'doctor' = 'patient'): TxBody => ({ type: TxType.RegisterIdentity, role });
const createRecord = (): TxBody => ({ type: TxType.CreateRecord, commitment: new Uint8Array(32), size: 1, contentType: 'text/plain', policy: DEFAULT_POLICY });
/** A valid-looking follow-up transaction (never dry-run unless it is the next nonce). */
const revokeAccess = (n: number): TxBody => ({ type: TxType.RevokeAccess, record: new Uint8Array(32).fill(n), grantee: doctor.publicKey });

function setup(options: Partial<MempoolOptions> = {}, clock?: () => number) {
  const state = new MemoryState();
  state.apply(genesis.writes);
  const cache = new SignatureCache();
  let height = 0;
  const mempool = new Mempool(
    { ...DEFAULT_MEMPOOL_OPTIONS, ...options },
    {
      chainId: spec.chainId,
      state: () => state,
      nextBlock: () => ({ height: height + 1, time: T, policyFlags: CURRENT_POLICY_FLAGS }),
      signatureCache: cache,
      clock,
    },
  );
  /** Executes `txs` as the next block on the head state and tells the mempool. */
  const commit = (txs: readonly Transaction[]) => {
    height++;
    const block = assembleBlock(
      {
        chainId: spec.chainId,
        height,
        parent: new Uint8Array(32),
        time: T,
        txRoot: new Uint8Array(32),
        stateRoot: new Uint8Array(32),
        proposer: hospital.publicKey,
        seal: new Uint8Array(0),
      },
      txs,
    );
    state.apply(applyBlock(state, block, new Uint8Array(32), CURRENT_POLICY_FLAGS).writes);
    mempool.onBlock(block);
  };
  const refusal = (tx: Transaction): string => {
    try {
      mempool.add(tx);
    } catch (error) {
      if (error instanceof MempoolError) return error.code;
      throw error;
    }
    throw new Error('admitted');
  };
  const ids = () => [...mempool.candidates()].map((tx) => toHex(tx.id));
  return { mempool, cache, state, commit, refusal, ids };
}

const id = (tx: Transaction) => toHex(tx.id);
const tx = (key: KeyPair, nonce: number, body: TxBody, chainId?: string) => testTx(key, nonce, body, chainId);

describe('Mempool.add', () => {
  it('admits a valid transaction, counts it and caches its signature check', () => {
    const { mempool, cache } = setup();
    const t = tx(alice, 0, register());
    mempool.add(t);
    expect([mempool.size, mempool.bytes, mempool.has(t.id), mempool.get(t.id)]).toEqual([1, t.bytes.length, true, t]);
    expect(cache.has(t)).toBe(true);
  });

  it('ALREADY_KNOWN: the same transaction twice', () => {
    const { mempool, refusal } = setup();
    const t = tx(alice, 0, register());
    mempool.add(t);
    expect(refusal(t)).toBe(MempoolRejection.AlreadyKnown);
    expect(mempool.size).toBe(1);
  });

  it('WRONG_CHAIN: a transaction for another chain', () => {
    const { refusal, mempool } = setup();
    expect(refusal(tx(alice, 0, register(), 'other-chain'))).toBe(TxErrorCode.WrongChain);
    expect(mempool.size).toBe(0);
  });

  it('BAD_SIGNATURE: a signature that does not verify is refused and not cached', () => {
    const { refusal, cache, mempool } = setup();
    const bytes = tx(alice, 0, register()).bytes.slice();
    bytes[bytes.length - 1]! ^= 0x01;
    const forged = decodeTransaction(bytes);
    expect(refusal(forged)).toBe(TxErrorCode.BadSignature);
    expect(cache.has(forged)).toBe(false);
    expect(mempool.size).toBe(0);
  });

  it('NONCE_TOO_LOW: a nonce the account already used', () => {
    const { refusal, commit } = setup();
    commit([tx(alice, 0, register())]);
    expect(refusal(tx(alice, 0, register('doctor')))).toBe(TxErrorCode.NonceTooLow);
  });

  it('NONCE_PENDING: a second transaction with a pending nonce', () => {
    const { mempool, refusal } = setup();
    mempool.add(tx(alice, 0, register()));
    mempool.add(tx(alice, 2, revokeAccess(2)));
    expect(refusal(tx(alice, 0, register('doctor')))).toBe(MempoolRejection.NoncePending);
    expect(refusal(tx(alice, 2, revokeAccess(3)))).toBe(MempoolRejection.NoncePending);
  });

  it('NONCE_TOO_FAR_AHEAD: a nonce maxPerSender or more past the account nonce', () => {
    const { mempool, refusal, commit } = setup({ maxPerSender: 4 });
    mempool.add(tx(alice, 0, register()));
    expect(refusal(tx(alice, 4, revokeAccess(4)))).toBe(MempoolRejection.NonceTooFarAhead);
    mempool.add(tx(alice, 3, revokeAccess(3)));
    // The window moves with the account nonce.
    commit([tx(alice, 0, register())]);
    mempool.add(tx(alice, 4, revokeAccess(4)));
    expect(refusal(tx(alice, 5, revokeAccess(5)))).toBe(MempoolRejection.NonceTooFarAhead);
  });

  it('SENDER_LIMIT: at most maxPerSender pending per sender, stale ones included until pruned', () => {
    const { mempool, refusal, state } = setup({ maxPerSender: 3 });
    mempool.add(tx(alice, 0, register()));
    mempool.add(tx(alice, 1, revokeAccess(1)));
    mempool.add(tx(alice, 2, revokeAccess(2)));
    // The head moves without the mempool hearing of the block yet: nonce 3 is in range, but 3 are pending.
    const other = setup();
    other.commit([tx(alice, 0, register())]);
    state.apply([...snapshotAccount(other.state, alice)]);
    expect(refusal(tx(alice, 3, revokeAccess(3)))).toBe(MempoolRejection.SenderLimit);
    mempool.add(tx(bob, 0, register()));
  });

  it('POOL_FULL: at most maxTxs transactions', () => {
    const { mempool, refusal } = setup({ maxTxs: 2 });
    mempool.add(tx(alice, 0, register()));
    mempool.add(tx(bob, 0, register()));
    expect(refusal(tx(carol, 0, register()))).toBe(MempoolRejection.PoolFull);
  });

  it('POOL_FULL: at most maxBytes of wire bytes', () => {
    const a = tx(alice, 0, register());
    const b = tx(bob, 0, register());
    const { mempool, refusal } = setup({ maxBytes: a.bytes.length + b.bytes.length + 10 });
    mempool.add(a);
    mempool.add(b);
    expect(refusal(tx(carol, 0, register()))).toBe(MempoolRejection.PoolFull);
    expect(mempool.bytes).toBe(a.bytes.length + b.bytes.length);
  });

  it('dry-runs the next nonce against the head and refuses with the transition reason', () => {
    const { refusal, mempool, commit } = setup();
    const attest = (expiresAt: number): TxBody => ({ type: TxType.AttestDoctor, doctor: doctor.publicKey, name: 'D', licence: 'L', expiresAt });
    expect(refusal(tx(alice, 0, attest(T + 1)))).toBe(TxErrorCode.NotRegistered);
    expect(refusal(tx(hospital, 0, attest(T + 1)))).toBe(TxErrorCode.NotADoctor);
    commit([tx(doctor, 0, register('doctor'))]);
    expect(refusal(tx(hospital, 0, attest(T)))).toBe(TxErrorCode.ExpiryInPast);
    expect(refusal(tx(hospital, 0, register('doctor')))).toBe(TxErrorCode.AlreadyRegistered);
    mempool.add(tx(hospital, 0, attest(T + 1)));
    // A later nonce cannot be dry-run (it depends on the ones before it) and is admitted.
    mempool.add(tx(hospital, 1, attest(T + 1)));
    expect(mempool.size).toBe(2);
  });
});

/** The account entry of `key` in `state`, as a write (to move one state's head to another's). */
function* snapshotAccount(state: MemoryState, key: KeyPair) {
  const k = new Uint8Array([0x01, ...key.publicKey]);
  yield { key: k, value: state.get(k) ?? null };
}

describe('Mempool.candidates', () => {
  it("yields each sender's consecutive nonces from its account nonce, senders in arrival order; a gap stops a sender", () => {
    const { mempool, ids } = setup();
    const a = [tx(alice, 0, register()), tx(alice, 1, revokeAccess(1)), tx(alice, 2, revokeAccess(2))];
    const b0 = tx(bob, 0, register());
    const b2 = tx(bob, 2, revokeAccess(2));
    // An unregistered key queues only behind its own pending registration, so each registers first;
    // alice's nonces arrive out of order.
    for (const t of [b0, a[0]!, b2, a[2]!, a[1]!]) mempool.add(t);
    expect(ids()).toEqual([id(b0), id(a[0]!), id(a[1]!), id(a[2]!)]);
    expect(mempool.size).toBe(5);
  });

  it('starts from the account nonce on the head, not from the smallest pending nonce', () => {
    const { mempool, ids, state } = setup();
    const registered = setup();
    registered.commit([tx(alice, 0, register())]);
    state.apply([...snapshotAccount(registered.state, alice)]);
    mempool.add(tx(alice, 2, revokeAccess(2)));
    mempool.add(tx(alice, 3, revokeAccess(3)));
    expect(ids()).toEqual([]);
    const further = setup();
    further.commit([tx(alice, 0, register()), tx(alice, 1, createRecord())]);
    state.apply([...snapshotAccount(further.state, alice)]);
    expect(ids()).toHaveLength(2);
  });

  it('refuses anything but a registration from an unregistered key, unless its registration is pending', () => {
    const { refusal, mempool } = setup();
    expect(refusal(tx(carol, 1, revokeAccess(1)))).toBe(TxErrorCode.NotRegistered);
    mempool.add(tx(carol, 0, register()));
    mempool.add(tx(carol, 1, revokeAccess(1)));
    expect(mempool.size).toBe(2);
  });
});

describe('Mempool.onBlock', () => {
  it('drops transactions still pending after maxAgeMs (a nonce gap nobody fills)', () => {
    const now = { t: 0 };
    const { mempool, commit } = setup({ maxAgeMs: 60_000 }, () => now.t);
    mempool.add(tx(hospital, 5, revokeAccess(5)));
    now.t = 30_000;
    mempool.add(tx(hospital, 6, revokeAccess(6)));
    commit([]);
    expect(mempool.size).toBe(2);
    now.t = 60_001;
    commit([]);
    expect(mempool.size).toBe(1);
    now.t = 90_001;
    commit([]);
    expect(mempool.size).toBe(0);
  });

  it('drops included transactions and keeps the rest, in order', () => {
    const { mempool, commit, ids } = setup();
    const a0 = tx(alice, 0, register());
    const a1 = tx(alice, 1, revokeAccess(1));
    const a2 = tx(alice, 2, revokeAccess(2));
    const b0 = tx(bob, 0, register());
    for (const t of [a0, a1, a2, b0]) mempool.add(t);
    commit([a0, b0]);
    expect([mempool.has(a0.id), mempool.has(b0.id), mempool.size, mempool.bytes]).toEqual([false, false, 2, a1.bytes.length + a2.bytes.length]);
    // Alice's next nonce is now 1: her remaining run is a candidate.
    expect(ids()).toEqual([id(a1), id(a2)]);
  });

  it('prunes a pending transaction whose nonce a different transaction consumed', () => {
    const { mempool, commit } = setup();
    const mine = tx(alice, 0, register('patient'));
    const theirs = tx(alice, 0, register('doctor'));
    const next = tx(alice, 1, revokeAccess(1));
    mempool.add(mine);
    mempool.add(next);
    commit([theirs]);
    expect([mempool.has(mine.id), mempool.has(next.id), mempool.size, mempool.bytes]).toEqual([false, true, 1, next.bytes.length]);
  });

  it('empties to zero bytes, and drop() removes one transaction', () => {
    const { mempool, commit } = setup();
    const a0 = tx(alice, 0, register());
    const b0 = tx(bob, 0, register());
    mempool.add(a0);
    mempool.add(b0);
    mempool.drop(b0);
    expect([mempool.size, mempool.has(b0.id)]).toEqual([1, false]);
    commit([a0]);
    expect([mempool.size, mempool.bytes]).toEqual([0, 0]);
    // A dropped sender can send its nonce again.
    mempool.add(b0);
    expect(mempool.size).toBe(1);
  });
});
