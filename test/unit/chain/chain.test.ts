import { describe, expect, it } from 'vitest';
import { Chain, GenesisMismatchError } from '../../../src/chain/chain.ts';
import { Mempool, DEFAULT_MEMPOOL_OPTIONS } from '../../../src/chain/mempool.ts';
import { InlineSignatureVerifier, SignatureCache } from '../../../src/chain/signatureVerifier.ts';
import { PosSealer } from '../../../src/chain/sealer.ts';
import { createEngine } from '../../../src/consensus/index.ts';
import { getAccount, getAttestation } from '../../../src/state/accessors.ts';
import { BlockError } from '../../../src/state/errors.ts';
import { createMemoryChainStore } from '../../../src/store/index.ts';
import { TxType } from '../../../src/types/transaction.ts';
import { encodeBlock } from '../../../src/codec/block.ts';
import { CURRENT_POLICY_FLAGS } from '../../../src/script/flags.ts';
import { GENESIS_TIME, silentLogger, testGenesis, testKey, testTx } from '../../helpers/fixtures.ts';

async function startChain(engine: 'pos' | 'pow' = 'pos', store = createMemoryChainStore(), now = { t: GENESIS_TIME + 10_000 }) {
  const genesis = testGenesis(engine);
  const cache = new SignatureCache();
  await store.start();
  const chain = new Chain(
    { genesis },
    { store, engine: createEngine(genesis), verifier: new InlineSignatureVerifier(cache), logger: silentLogger, clock: () => now.t },
  );
  await chain.start();
  const mempool = new Mempool(DEFAULT_MEMPOOL_OPTIONS, {
    chainId: genesis.chainId,
    state: () => chain.state,
    nextBlock: () => ({ height: chain.head.header.height + 1, time: now.t, policyFlags: CURRENT_POLICY_FLAGS }),
    signatureCache: cache,
  });
  chain.onHead((block) => mempool.onBlock(block));
  return { chain, mempool, store, now };
}

async function produce(chain: Chain, mempool: Mempool, now: { t: number }) {
  const hospital = testKey('hospital');
  const time = chain.engine.nextProposalTime(chain.parentInfo(), hospital.publicKey, { now: now.t, parentState: chain.state })!;
  now.t = time;
  const built = chain.buildBlock(hospital.publicKey, time, mempool.candidates());
  const sealed = await new PosSealer(hospital.secretKey).seal(built.header);
  const block = await chain.commitBuiltBlock(built, sealed);
  expect(block).not.toBeNull();
  return block!;
}

describe('Chain', () => {
  it('registers, attests and revokes through produced blocks', async () => {
    const { chain, mempool, now } = await startChain();
    const hospital = testKey('hospital');
    const doctor = testKey('doctor');
    mempool.add(testTx(doctor, 0, { type: TxType.RegisterIdentity, role: 'doctor' }));
    await produce(chain, mempool, now);
    expect(getAccount(chain.state, doctor.publicKey)).toEqual({ role: 'doctor', nonce: 1, registeredAt: 1 });

    mempool.add(
      testTx(hospital, 0, { type: TxType.AttestDoctor, doctor: doctor.publicKey, name: 'Dr Who', licence: 'L-1', expiresAt: now.t + 1e9 }),
    );
    mempool.add(testTx(hospital, 1, { type: TxType.RevokeAttestation, doctor: doctor.publicKey, reason: 'moved' }));
    const block = await produce(chain, mempool, now);
    expect(block.transactions).toHaveLength(2);
    expect(getAttestation(chain.state, doctor.publicKey, hospital.publicKey)).toMatchObject({ name: 'Dr Who', revokedAt: 2, revokeReason: 'moved' });
    expect(mempool.size).toBe(0);
  });

  it('imports a block produced by another node and refuses a replay of it', async () => {
    const a = await startChain();
    const b = await startChain();
    const patient = testKey('patient');
    a.mempool.add(testTx(patient, 0, { type: TxType.RegisterIdentity, role: 'patient' }));
    const block = await produce(a.chain, a.mempool, a.now);
    b.now.t = a.now.t;
    await b.chain.importBlock(block.bytes);
    expect(b.chain.head.hash).toEqual(a.chain.head.hash);
    expect(b.chain.head.header.stateRoot).toEqual(a.chain.head.header.stateRoot);
    await expect(b.chain.importBlock(block.bytes)).rejects.toMatchObject({ code: 'ALREADY_KNOWN' });
  });

  it('refuses a block whose transaction signature was tampered with', async () => {
    const a = await startChain();
    const b = await startChain();
    const patient = testKey('patient');
    a.mempool.add(testTx(patient, 0, { type: TxType.RegisterIdentity, role: 'patient' }));
    const block = await produce(a.chain, a.mempool, a.now);
    const tx = block.transactions[0]!.bytes.slice();
    tx[tx.length - 1]! ^= 1;
    const error = await b.chain.importBlock(encodeBlock(block.headerBytes, [tx])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BlockError);
    // The tx id changed, so the tx root no longer matches: refused before any signature check.
    expect((error as BlockError).code).toBe('BAD_TX_ROOT');
    expect(b.chain.head.header.height).toBe(0);
  });

  it('refuses to start on a datadir made for another genesis', async () => {
    const store = createMemoryChainStore();
    await startChain('pos', store);
    const genesis = testGenesis('pow');
    const chain = new Chain(
      { genesis },
      { store, engine: createEngine(genesis), verifier: new InlineSignatureVerifier(), logger: silentLogger, clock: () => 0 },
    );
    await expect(chain.start()).rejects.toBeInstanceOf(GenesisMismatchError);
  });
});
