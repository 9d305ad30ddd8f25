import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../../src/codec/bytes.ts';
import { createEngine } from '../../../src/consensus/index.ts';
import { getAccount, getAttestation } from '../../../src/state/accessors.ts';
import { BlockErrorCode } from '../../../src/state/errors.ts';
import type { Block } from '../../../src/types/block.ts';
import { TxType, type Transaction } from '../../../src/types/transaction.ts';
import { powSealHeader, startTestChain, type TestChain } from '../../helpers/chainBuilder.ts';
import { GENESIS_TIME, testGenesis, testKey, testTx } from '../../helpers/fixtures.ts';

const genesis = testGenesis('pow');
const hospital = testKey('hospital');
const doctor = testKey('doctor');
const patient = testKey('patient');

async function chainAt(t = GENESIS_TIME): Promise<TestChain> {
  return startTestChain(genesis, createEngine(genesis), { t });
}

/** Mines one block on `tc`'s head with `txs`, `gapMs` after its parent (a longer gap: a lower difficulty next). */
async function mine(tc: TestChain, txs: readonly Transaction[] = [], gapMs = 1000): Promise<Block> {
  const time = tc.chain.head.header.time + gapMs;
  tc.now.t = time;
  const built = tc.chain.buildBlock(hospital.publicKey, time, txs);
  expect(built.excluded).toEqual([]);
  const block = await tc.chain.commitBuiltBlock(built, powSealHeader(built.header));
  if (block === null) throw new Error('head moved');
  return block;
}

async function importAll(tc: TestChain, blocks: readonly Block[]): Promise<void> {
  for (const b of blocks) await tc.chain.importBlock(b.bytes);
}

describe('fork choice and reorgs (proof of work)', () => {
  it('switches to a heavier branch, rolling state, indexes and the canonical chain back', async () => {
    const a = await chainAt();
    const b = await chainAt();
    const shared = [await mine(a, [testTx(doctor, 0, { type: TxType.RegisterIdentity, role: 'doctor' })])];
    await importAll(b, shared);
    // Branch A: an attestation only A has.
    const attest = testTx(hospital, 0, { type: TxType.AttestDoctor, doctor: doctor.publicKey, name: 'Dr A', licence: 'L-1', expiresAt: GENESIS_TIME + 1e10 });
    const branchA = [await mine(a, [attest]), await mine(a)];
    // Branch B: longer, with a patient registration.
    const register = testTx(patient, 0, { type: TxType.RegisterIdentity, role: 'patient' });
    const branchB = [await mine(b, [register]), await mine(b), await mine(b)];
    expect(b.chain.head.score > a.chain.head.score).toBe(true);

    const reverted: Block[][] = [];
    a.chain.onReorg((old) => reverted.push([...old]));
    const heads: number[] = [];
    a.chain.onHead((block) => heads.push(block.header.height));
    // The first B block is lighter than A's head: stored as a side block, the head stays.
    await a.chain.importBlock(branchB[0]!.bytes);
    expect(bytesEqual(a.chain.head.hash, branchA[1]!.hash)).toBe(true);
    await a.chain.importBlock(branchB[1]!.bytes);
    // Equal work (same heights, same retarget) does not move the head: the first seen wins a tie.
    expect((await a.store.getBlockMeta(branchB[1]!.hash))!.score).toBe(a.chain.head.score);
    expect(bytesEqual(a.chain.head.hash, branchA[1]!.hash)).toBe(true);
    await a.chain.importBlock(branchB[2]!.bytes);

    expect(bytesEqual(a.chain.head.hash, branchB[2]!.hash)).toBe(true);
    expect(reverted).toHaveLength(1);
    expect(reverted[0]!.map((blk) => blk.header.height)).toEqual([3, 2]);
    expect(heads.slice(-3)).toEqual([2, 3, 4]);
    // State follows the new branch: A's attestation is gone, B's patient exists.
    expect(getAttestation(a.chain.state, doctor.publicKey, hospital.publicKey)).toBeUndefined();
    expect(getAccount(a.chain.state, patient.publicKey)?.role).toBe('patient');
    expect(getAccount(a.chain.state, hospital.publicKey)?.nonce).toBe(0);
    expect(bytesEqual(a.chain.head.header.stateRoot, b.chain.head.header.stateRoot)).toBe(true);
    // Canonical index and transaction index follow too.
    for (const blk of [...shared, ...branchB]) expect(bytesEqual((await a.store.getCanonicalHash(blk.header.height))!, blk.hash)).toBe(true);
    expect(await a.chain.getTxLocation(attest.id)).toBeUndefined();
    expect((await a.chain.getTxLocation(register.id))?.height).toBe(2);
    // The orphaned blocks are still stored (a later reorg back needs them).
    expect(await a.chain.getBlockByHash(branchA[0]!.hash)).toBeDefined();
  });

  it('keeps a lighter branch as side blocks without touching the head', async () => {
    const a = await chainAt();
    const b = await chainAt();
    const heavy = [await mine(a), await mine(a), await mine(a)];
    const light = [await mine(b, [testTx(patient, 0, { type: TxType.RegisterIdentity, role: 'patient' })])];
    const before = a.chain.head;
    await importAll(a, light);
    expect(a.chain.head).toBe(before);
    expect(getAccount(a.chain.state, patient.publicKey)).toBeUndefined();
    expect((await a.store.getBlockMeta(light[0]!.hash))?.height).toBe(1);
    expect(bytesEqual((await a.store.getCanonicalHash(1))!, heavy[0]!.hash)).toBe(true);
  });

  it('reorganises back and forth and ends where a single importer of the winning branch ends', async () => {
    const a = await chainAt();
    const b = await chainAt();
    const c = await chainAt();
    const branchA = [await mine(a, [testTx(patient, 0, { type: TxType.RegisterIdentity, role: 'patient' })])];
    const branchB = [await mine(b), await mine(b)];
    await importAll(a, branchB); // a reorgs to B
    expect(bytesEqual(a.chain.head.hash, branchB[1]!.hash)).toBe(true);
    // Extend A's old branch past B from a third node that only has A's block.
    await importAll(c, branchA);
    const more = [await mine(c), await mine(c), await mine(c)];
    await importAll(a, more); // a reorgs back to the A branch
    expect(bytesEqual(a.chain.head.hash, more[2]!.hash)).toBe(true);
    expect(getAccount(a.chain.state, patient.publicKey)?.role).toBe('patient');
    expect(bytesEqual(a.chain.head.header.stateRoot, c.chain.head.header.stateRoot)).toBe(true);
    // The state on disk matches the state in memory: a restart loads the same.
    const entries: [string, string][] = [];
    for await (const { key, value } of a.store.readState()) entries.push([Buffer.from(key).toString('hex'), Buffer.from(value).toString('hex')]);
    for (const [k, v] of entries) expect(Buffer.from(a.chain.state.get(Buffer.from(k, 'hex'))!).toString('hex')).toBe(v);
  });

  it('refuses a block whose parent is unknown, and descendants of an invalid block', async () => {
    const a = await chainAt();
    const b = await chainAt();
    const blocks = [await mine(b), await mine(b)];
    await expect(a.chain.importBlock(blocks[1]!.bytes)).rejects.toMatchObject({ code: BlockErrorCode.UnknownParent, action: 'IGNORE' });
    // A block with a bad state root is rejected and remembered; its child is refused without execution.
    const bad = await b.chain.buildBlock(hospital.publicKey, b.chain.head.header.time + 1000, []);
    const forged = { ...bad.header, stateRoot: new Uint8Array(32).fill(7) };
    const { assembleBlock } = await import('../../../src/codec/block.ts');
    const badBlock = assembleBlock(powSealHeader(forged), []);
    await importAll(a, blocks);
    await expect(a.chain.importBlock(badBlock.bytes)).rejects.toMatchObject({ code: BlockErrorCode.BadStateRoot });
    const child = assembleBlock(
      powSealHeader({ ...forged, height: forged.height + 1, parent: badBlock.hash, time: forged.time + 1000, seal: forged.seal }),
      [],
    );
    await expect(a.chain.importBlock(child.bytes)).rejects.toMatchObject({ code: BlockErrorCode.InvalidAncestor });
  });
});
