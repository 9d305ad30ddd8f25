import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLevelChainStore, createMemoryChainStore, type KvChainStore } from '../../../src/store/chainStore.ts';
import type { ChainWrite } from '../../../src/store/interface.ts';
import { StoreError } from '../../../src/store/errors.ts';

/** The chain builds a block's batch while its signatures are checked, and writes it only once they pass. */
describe.each([
  ['memory', async () => ({ store: createMemoryChainStore(), dir: undefined })],
  ['level', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'medchain-prepared-'));
    return { store: createLevelChainStore(join(dir, 'chain')), dir };
  }],
] as const)('KvChainStore.prepareWrite (%s)', (_name, open) => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  async function started(): Promise<KvChainStore> {
    const { store, dir } = await open();
    await store.start();
    cleanup = async () => {
      await store.stop();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    };
    return store;
  }

  const hash = (n: number): Uint8Array => new Uint8Array(32).fill(n);
  // Keys and values of every size class: the LevelDB backend copies the small ones into one buffer.
  const writes = (n: number): ChainWrite[] => [
    { kind: 'block', hash: hash(n), bytes: new Uint8Array(500).fill(n), header: new Uint8Array(200).fill(n), meta: { height: n, parent: hash(n - 1), score: BigInt(n) } },
    ...Array.from({ length: 50 }, (_, i): ChainWrite => ({ kind: 'state', key: new Uint8Array([n, i, ...new Uint8Array(i)]), value: new Uint8Array(i * 3).fill(i) })),
    { kind: 'state', key: new Uint8Array([n, 0xff]), value: null },
    { kind: 'tx', txId: hash(100 + n), location: { blockHash: hash(n), height: n, index: 3 } },
    { kind: 'head', head: { hash: hash(n), height: n } },
  ];

  async function stateOf(store: KvChainStore): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for await (const { key, value } of store.readState()) out.set(Buffer.from(key).toString('hex'), Buffer.from(value).toString('hex'));
    return out;
  }

  it('writes nothing until commit, then all of it', async () => {
    const store = await started();
    const prepared = await store.prepareWrite(writes(1));
    expect(await store.getBlock(hash(1))).toBeUndefined();
    expect(await store.getHead()).toBeUndefined();
    await prepared.commit();
    expect(await store.getBlock(hash(1))).toEqual(new Uint8Array(500).fill(1));
    expect(await store.getHead()).toEqual({ hash: hash(1), height: 1 });
    expect(await store.getTxLocation(hash(101))).toEqual({ blockHash: hash(1), height: 1, index: 3 });
    const state = await stateOf(store);
    expect(state.size).toBe(50);
    for (let i = 0; i < 50; i++) {
      expect(state.get(Buffer.from([1, i, ...new Uint8Array(i)]).toString('hex'))).toBe(Buffer.from(new Uint8Array(i * 3).fill(i)).toString('hex'));
    }
  });

  it('leaves no trace when discarded, and the next write goes through', async () => {
    const store = await started();
    await (await store.prepareWrite(writes(1))).discard();
    expect(await store.getBlock(hash(1))).toBeUndefined();
    expect(await stateOf(store)).toEqual(new Map());
    await store.write(writes(2));
    expect(await store.getHead()).toEqual({ hash: hash(2), height: 2 });
  });

  it('refuses a malformed write when preparing, naming it', async () => {
    const store = await started();
    const bad = [...writes(1), { kind: 'state', key: new Uint8Array([1]), value: 'x' } as unknown as ChainWrite];
    const error = await store.prepareWrite(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: 'INVALID', message: expect.stringContaining(`write ${bad.length - 1} (state)`) });
    expect(await store.getBlock(hash(1))).toBeUndefined();
  });
});
