import { describe, expect, it } from 'vitest';
import { Chain } from '../../../src/chain/chain.ts';
import { PosSealer } from '../../../src/chain/sealer.ts';
import { InlineSignatureVerifier } from '../../../src/chain/signatureVerifier.ts';
import { createEngine } from '../../../src/consensus/index.ts';
import { DEFAULT_POLICY } from '../../../src/script/index.ts';
import { getAccount } from '../../../src/state/accessors.ts';
import { createMemoryChainStore } from '../../../src/store/index.ts';
import type { ChainStore, PreparedWrite } from '../../../src/store/interface.ts';
import { TxType, type Transaction } from '../../../src/types/transaction.ts';
import { GENESIS_TIME, silentLogger, testGenesis, testKey, testTx } from '../../helpers/fixtures.ts';

/**
 * Write-behind: the import queue moves on while a block's batch is written, and the next block on it executes
 * over its writes; the head, the head state and listeners still follow disk, and batches are written in order.
 */
const genesis = testGenesis('pos');
const hospital = testKey('hospital');
const sealer = new PosSealer(hospital.secretKey);
const now = GENESIS_TIME + 86_400_000;
const patients = [0, 1, 2].map((i) => testKey(`write-behind/${i}`));

/** A memory store whose batch commits wait for `release` (or fail with `fail`), in the order they were called. */
function gatedStore(): { store: ChainStore; commits: { release: () => void; fail: (e: Error) => void }[]; gate: { on: boolean; prepared: number } } {
  const inner = createMemoryChainStore();
  const commits: { release: () => void; fail: (e: Error) => void }[] = [];
  const gate = { on: false, prepared: 0 };
  const store = new Proxy(inner, {
    get(target, prop) {
      if (prop === 'prepareWrite') {
        return async (writes: Parameters<ChainStore['prepareWrite']>[0]): Promise<PreparedWrite> => {
          const prepared = await target.prepareWrite(writes);
          gate.prepared++;
          return {
            discard: () => prepared.discard(),
            commit: async () => {
              if (gate.on) await new Promise<void>((release, fail) => commits.push({ release, fail }));
              await prepared.commit();
            },
          };
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store, commits, gate };
}

async function startChain(store: ChainStore): Promise<Chain> {
  await store.start();
  const chain = new Chain({ genesis }, { store, engine: createEngine(genesis), verifier: new InlineSignatureVerifier(), logger: silentLogger, clock: () => now });
  await chain.start();
  return chain;
}

/** Block 1 registers three patients; block 2 has each create a record, which needs block 1's state. */
async function twoBlocks(): Promise<{ blocks: Uint8Array[]; heads: Uint8Array[] }> {
  const producer = await startChain(createMemoryChainStore());
  const txs: Transaction[][] = [
    patients.map((p) => testTx(p, 0, { type: TxType.RegisterIdentity, role: 'patient' })),
    patients.map((p) => testTx(p, 1, { type: TxType.CreateRecord, commitment: new Uint8Array(32).fill(3), size: 10, contentType: 'application/fhir+json', policy: DEFAULT_POLICY })),
  ];
  const blocks: Uint8Array[] = [];
  const heads: Uint8Array[] = [];
  for (const list of txs) {
    const time = producer.engine.nextProposalTime(producer.parentInfo(), hospital.publicKey, { now: producer.head.header.time + 1, parentState: producer.state })!;
    const built = producer.buildBlock(hospital.publicKey, time, list);
    expect(built.excluded).toEqual([]);
    const block = (await producer.commitBuiltBlock(built, await sealer.seal(built.header)))!;
    blocks.push(block.bytes);
    heads.push(block.hash);
  }
  return { blocks, heads };
}

const until = async (condition: () => boolean): Promise<void> => {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(condition()).toBe(true);
};

describe('Chain write-behind', () => {
  it('executes the next block while the previous batch is written, writes batches in order, and shows each block only once durable', async () => {
    const { blocks, heads } = await twoBlocks();
    const { store, commits, gate } = gatedStore();
    const chain = await startChain(store);
    const genesisHash = chain.head.hash;
    const heard: Uint8Array[] = [];
    chain.onHead((block) => heard.push(block.hash));
    gate.on = true;
    gate.prepared = 0;
    const done: number[] = [];
    const imports = blocks.map((bytes, i) => chain.importBlock(bytes).then(() => done.push(i)));
    // Block 2 executed over block 1's pending writes (its records need block 1's registrations), yet only
    // block 1's commit has been called: block 2's waits for block 1's to be durable.
    await until(() => gate.prepared === 2);
    await new Promise((r) => setTimeout(r, 20));
    expect(commits.length).toBe(1);
    expect(chain.head.hash).toEqual(genesisHash);
    expect(heard).toEqual([]);
    expect(done).toEqual([]);
    // Nothing of block 1 is visible before its batch is durable: an exclusive task waits for it.
    const seenByExclusive = chain.exclusive(async () => chain.head.hash);
    commits[0]!.release();
    await until(() => commits.length === 2);
    expect(chain.head.hash).toEqual(heads[0]);
    expect(heard).toEqual([heads[0]]);
    expect(done).toEqual([0]);
    commits[1]!.release();
    await Promise.all(imports);
    expect(done).toEqual([0, 1]);
    expect(chain.head.hash).toEqual(heads[1]);
    expect(heard).toEqual(heads);
    expect(await seenByExclusive).toEqual(heads[1]);
    expect(await chain.store.getHead()).toEqual({ hash: heads[1], height: 2 });
  });

  it('a batch that fails leaves head, state and store as they were; the block queued on it is not imported, and both import later', async () => {
    const { blocks, heads } = await twoBlocks();
    const { store, commits, gate } = gatedStore();
    const chain = await startChain(store);
    const genesisHead = chain.head;
    gate.on = true;
    const results = blocks.map((bytes) => chain.importBlock(bytes).then(
      () => 'imported',
      (error: Error) => error.message,
    ));
    await until(() => commits.length === 1);
    commits[0]!.fail(new Error('disk full'));
    expect(await results[0]).toBe('disk full');
    expect(await results[1]).toMatch(/^the parent block .* could not be written, so .* was not imported$/);
    expect(commits.length).toBe(1);
    expect(chain.head).toBe(genesisHead);
    for (const p of patients) expect(getAccount(chain.state, p.publicKey)).toBeUndefined();
    expect(await chain.store.getHead()).toEqual({ hash: genesisHead.hash, height: 0 });
    expect(await chain.store.getBlockMeta(heads[0]!)).toBeUndefined();
    // Neither block was remembered as invalid: with the disk back, both import.
    gate.on = false;
    for (const bytes of blocks) await chain.importBlock(bytes);
    expect(chain.head.hash).toEqual(heads[1]);
    for (const p of patients) expect(getAccount(chain.state, p.publicKey)?.nonce).toBe(2);
  });

  it('a block this node builds waits for the pending batch, and is durable before commitBuiltBlock returns', async () => {
    const { blocks, heads } = await twoBlocks();
    const { store, commits, gate } = gatedStore();
    const chain = await startChain(store);
    gate.on = true;
    const first = chain.importBlock(blocks[0]!);
    await until(() => commits.length === 1);
    // Built on the visible head (genesis) while block 1 is pending: stale once block 1 lands.
    const time = chain.engine.nextProposalTime(chain.parentInfo(), hospital.publicKey, { now: chain.head.header.time + 1, parentState: chain.state })!;
    const built = chain.buildBlock(hospital.publicKey, time, []);
    const committed = chain.commitBuiltBlock(built, await sealer.seal(built.header));
    commits[0]!.release();
    await first;
    expect(await committed).toBeNull();
    expect(chain.head.hash).toEqual(heads[0]);
    // On the new head it commits, and its batch is written before the call returns.
    const time2 = chain.engine.nextProposalTime(chain.parentInfo(), hospital.publicKey, { now: chain.head.header.time + 1, parentState: chain.state })!;
    const built2 = chain.buildBlock(hospital.publicKey, time2, []);
    const own = chain.commitBuiltBlock(built2, await sealer.seal(built2.header));
    await until(() => commits.length === 2);
    let returned = false;
    void own.then(() => (returned = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(returned).toBe(false);
    commits[1]!.release();
    const block = await own;
    expect(block).not.toBeNull();
    expect((await chain.store.getHead())!.hash).toEqual(block!.hash);
  });
});
