import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareBytes, concatBytes, u32be, utf8 } from '../../src/codec/bytes.ts';
import { createLevelChainStore, createMemoryChainStore, KvChainStore } from '../../src/store/chainStore.ts';
import { StoreError, type StoreErrorCode } from '../../src/store/errors.ts';
import type { ChainStore, ChainWrite } from '../../src/store/interface.ts';
import { blockMetaKey, canonicalHashKey, HEAD_KEY, KeyPrefix, prefixRange, txIndexKey } from '../../src/store/keys.ts';
import { MAX_KEY_BYTES, type KeyValueStore, type KvOp } from '../../src/store/kv.ts';
import { LevelKeyValueStore } from '../../src/store/levelKv.ts';
import { MemoryKeyValueStore } from '../../src/store/memoryKv.ts';

/** One backend's storage: every call hands out a new, unopened handle on the same underlying data. */
interface BackendInstance {
  kv(): KeyValueStore;
  chainStore(): ChainStore;
  cleanup(): Promise<void>;
}

interface Backend {
  readonly name: string;
  /** Whether data outlives the handle that wrote it (close, then reopen with a new handle). */
  readonly persistent: boolean;
  create(): Promise<BackendInstance>;
}

const levelBackend: Backend = {
  name: 'level',
  persistent: true,
  async create() {
    const dir = await mkdtemp(join(tmpdir(), 'medchain-store-'));
    return {
      kv: () => new LevelKeyValueStore(dir),
      chainStore: () => createLevelChainStore(dir),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
};

const memoryBackend: Backend = {
  name: 'memory',
  persistent: false,
  async create() {
    return { kv: () => new MemoryKeyValueStore(), chainStore: () => createMemoryChainStore(), cleanup: async () => {} };
  },
};

const hash = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

async function expectStoreError(promise: Promise<unknown>, code: StoreErrorCode, message?: RegExp): Promise<void> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe(code);
  if (message !== undefined) expect((error as StoreError).message).toMatch(message);
}

function isPlainUint8Array(value: unknown): boolean {
  return value instanceof Uint8Array && Object.getPrototypeOf(value) === Uint8Array.prototype;
}

/** Writes covering every ChainWrite kind, used by the round-trip and persistence tests. */
function everyKindOfWrite(): ChainWrite[] {
  return [
    { kind: 'meta', name: 'genesisHash', value: hash(0xaa) },
    { kind: 'meta', name: 'schemaVersion', value: bytes(0, 0, 0, 1) },
    { kind: 'block', hash: hash(1), bytes: bytes(9, 8, 7), header: bytes(9), meta: { height: 0, parent: hash(0), score: 0n } },
    {
      kind: 'block',
      hash: hash(2),
      bytes: new Uint8Array(100_000).fill(5),
      header: new Uint8Array(512).fill(6),
      meta: { height: 0xffff_ffff, parent: hash(1), score: (1n << 256n) - 1n },
    },
    { kind: 'undo', hash: hash(2), undo: bytes(1, 2, 3) },
    { kind: 'canonical', height: 0, hash: hash(1) },
    { kind: 'canonical', height: 1, hash: hash(2) },
    { kind: 'tx', txId: hash(0x71), location: { blockHash: hash(2), height: 1, index: 7 } },
    { kind: 'state', key: bytes(1, 2), value: bytes(3) },
    { kind: 'state', key: bytes(0), value: new Uint8Array(0) },
    { kind: 'head', head: { hash: hash(2), height: 1 } },
  ];
}

async function expectEveryKindOfWrite(store: ChainStore): Promise<void> {
  expect(await store.getMeta('genesisHash')).toEqual(hash(0xaa));
  expect(await store.getMeta('schemaVersion')).toEqual(bytes(0, 0, 0, 1));
  expect(await store.getBlock(hash(1))).toEqual(bytes(9, 8, 7));
  expect(await store.getBlock(hash(2))).toEqual(new Uint8Array(100_000).fill(5));
  expect(await store.getHeader(hash(1))).toEqual(bytes(9));
  expect(await store.getHeader(hash(2))).toEqual(new Uint8Array(512).fill(6));
  expect(await store.getHeader(hash(3))).toBeUndefined();
  expect(await store.getBlockMeta(hash(1))).toEqual({ height: 0, parent: hash(0), score: 0n });
  expect(await store.getBlockMeta(hash(2))).toEqual({ height: 0xffff_ffff, parent: hash(1), score: (1n << 256n) - 1n });
  expect(await store.getUndo(hash(2))).toEqual(bytes(1, 2, 3));
  expect(await store.getUndo(hash(1))).toBeUndefined();
  expect(await store.getCanonicalHash(0)).toEqual(hash(1));
  expect(await store.getCanonicalHash(1)).toEqual(hash(2));
  expect(await store.getCanonicalHash(2)).toBeUndefined();
  expect(await store.getTxLocation(hash(0x71))).toEqual({ blockHash: hash(2), height: 1, index: 7 });
  expect(await store.getHead()).toEqual({ hash: hash(2), height: 1 });
  expect(await collect(store.readState())).toEqual([
    { key: bytes(0), value: new Uint8Array(0) },
    { key: bytes(1, 2), value: bytes(3) },
  ]);
}

/** The contract every ChainStore / KeyValueStore backend must meet. */
function storeCompliance(backend: Backend): void {
  describe(`store compliance: ${backend.name}`, () => {
    let instance: BackendInstance;
    let store: ChainStore;

    beforeEach(async () => {
      instance = await backend.create();
      store = instance.chainStore();
      await store.start();
    });

    afterEach(async () => {
      await store.stop();
      await instance.cleanup();
    });

    it('is empty when fresh: no head, no meta, no blocks, no state', async () => {
      expect(await store.getHead()).toBeUndefined();
      expect(await store.getMeta('genesisHash')).toBeUndefined();
      expect(await store.getBlock(hash(1))).toBeUndefined();
      expect(await store.getBlockMeta(hash(1))).toBeUndefined();
      expect(await store.getUndo(hash(1))).toBeUndefined();
      expect(await store.getCanonicalHash(0)).toBeUndefined();
      expect(await store.getTxLocation(hash(1))).toBeUndefined();
      expect(await collect(store.readState())).toEqual([]);
    });

    it('reads index entries and blobs by prefix, bounded exactly, with a limit', async () => {
      const k = (...bytes: number[]) => Uint8Array.from(bytes);
      await store.write([
        { kind: 'index', key: k(1, 2, 0xff), value: k(1) },
        { kind: 'index', key: k(1, 2), value: k(2) },
        { kind: 'index', key: k(1, 3), value: k(3) },
        { kind: 'index', key: k(1, 1, 9), value: k(4) },
      ]);
      expect((await collect(store.readIndex(k(1, 2)))).map((e) => [...e.key])).toEqual([[1, 2], [1, 2, 0xff]]);
      expect((await collect(store.readIndex(k(1)))).map((e) => [...e.value])).toEqual([[4], [2], [1], [3]]);
      expect(await collect(store.readIndex(k(1), 2))).toHaveLength(2);
      await store.write([{ kind: 'index', key: k(1, 2), value: null }]);
      expect((await collect(store.readIndex(k(1, 2)))).map((e) => [...e.key])).toEqual([[1, 2, 0xff]]);

      await store.putBlobs([
        { key: k(7, 0), value: k(10) },
        { key: k(7, 1), value: k(11) },
        { key: k(8, 0), value: k(12) },
      ]);
      expect(await store.getBlob(k(7, 1))).toEqual(k(11));
      expect((await collect(store.readBlobs(k(7)))).map((e) => [...e.value])).toEqual([[10], [11]]);
      // Erasing by prefix happens inside the block's batch, and only under that prefix.
      await store.write([{ kind: 'eraseBlobs', prefix: k(7) }, { kind: 'head', head: { hash: hash(3), height: 3 } }]);
      expect(await store.getBlob(k(7, 0))).toBeUndefined();
      expect(await collect(store.readBlobs(k(7)))).toEqual([]);
      expect(await store.getBlob(k(8, 0))).toEqual(k(12));
      expect((await store.getHead())?.height).toBe(3);
      await store.putBlobs([{ key: k(8, 0), value: null }]);
      expect(await store.getBlob(k(8, 0))).toBeUndefined();
    });

    it('round-trips every kind of write', async () => {
      await store.write(everyKindOfWrite());
      await expectEveryKindOfWrite(store);
    });

    it('accepts an empty write list', async () => {
      await store.write([]);
      expect(await store.getHead()).toBeUndefined();
    });

    it('returns plain Uint8Arrays that are the caller’s to keep', async () => {
      const value = bytes(1, 2, 3);
      const key = bytes(4);
      await store.write([
        { kind: 'state', key, value },
        { kind: 'block', hash: hash(1), bytes: value, header: bytes(7), meta: { height: 1, parent: hash(0), score: 1n } },
      ]);
      // Mutating what was written must not reach the store.
      value[0] = 99;
      key[0] = 99;
      const block = await store.getBlock(hash(1));
      expect(isPlainUint8Array(block)).toBe(true);
      expect(block).toEqual(bytes(1, 2, 3));
      // Mutating what was read must not reach the store either.
      block![0] = 42;
      expect(await store.getBlock(hash(1))).toEqual(bytes(1, 2, 3));
      const [entry] = await collect(store.readState());
      expect(isPlainUint8Array(entry!.key) && isPlainUint8Array(entry!.value)).toBe(true);
      expect(entry).toEqual({ key: bytes(4), value: bytes(1, 2, 3) });
      const meta = await store.getBlockMeta(hash(1));
      expect(isPlainUint8Array(meta!.parent)).toBe(true);
    });

    it('deletes on null and treats deleting a missing key as a no-op', async () => {
      await store.write(everyKindOfWrite());
      await store.write([
        { kind: 'undo', hash: hash(2), undo: null },
        { kind: 'canonical', height: 1, hash: null },
        { kind: 'tx', txId: hash(0x71), location: null },
        { kind: 'state', key: bytes(1, 2), value: null },
        { kind: 'state', key: bytes(0xee), value: null },
        { kind: 'canonical', height: 999, hash: null },
      ]);
      expect(await store.getUndo(hash(2))).toBeUndefined();
      expect(await store.getCanonicalHash(1)).toBeUndefined();
      expect(await store.getCanonicalHash(0)).toEqual(hash(1));
      expect(await store.getTxLocation(hash(0x71))).toBeUndefined();
      expect(await collect(store.readState())).toEqual([{ key: bytes(0), value: new Uint8Array(0) }]);
    });

    it('applies writes in order within one batch: the last write to a key wins', async () => {
      await store.write([
        { kind: 'state', key: bytes(1), value: bytes(1) },
        { kind: 'state', key: bytes(1), value: null },
        { kind: 'state', key: bytes(2), value: null },
        { kind: 'state', key: bytes(2), value: bytes(2) },
        { kind: 'head', head: { hash: hash(1), height: 1 } },
        { kind: 'head', head: { hash: hash(2), height: 2 } },
      ]);
      expect(await collect(store.readState())).toEqual([{ key: bytes(2), value: bytes(2) }]);
      expect(await store.getHead()).toEqual({ hash: hash(2), height: 2 });
    });

    it('reads state in byte order of the keys, without the prefix, and nothing from other prefixes', async () => {
      const keys = [bytes(0xff), bytes(1, 0), bytes(0), bytes(1), bytes(0, 0), bytes(0x80, 1), bytes(0x7f, 0xff, 0xff)];
      await store.write([
        ...keys.map((key, i): ChainWrite => ({ kind: 'state', key, value: u32be(i) })),
        // Neighbours of the State prefix on both sides must not leak into readState.
        { kind: 'tx', txId: hash(0xff), location: { blockHash: hash(1), height: 0, index: 0 } },
        { kind: 'undo', hash: hash(0), undo: bytes(1) },
      ]);
      const read = await collect(store.readState());
      const expected = keys
        .map((key, i) => ({ key, value: u32be(i) }))
        .sort((a, b) => compareBytes(a.key, b.key));
      expect(read).toEqual(expected);
    });

    it('refuses a whole write list when a later write is malformed', async () => {
      const valid: ChainWrite[] = [
        { kind: 'state', key: bytes(1), value: bytes(1) },
        { kind: 'block', hash: hash(1), bytes: bytes(1), header: bytes(2), meta: { height: 1, parent: hash(0), score: 1n } },
        { kind: 'head', head: { hash: hash(1), height: 1 } },
      ];
      const malformed: Array<[string, ChainWrite]> = [
        ['over-long state key', { kind: 'state', key: new Uint8Array(MAX_KEY_BYTES), value: bytes(1) }],
        ['state value not a Uint8Array', { kind: 'state', key: bytes(2), value: 'x' as unknown as Uint8Array }],
        ['state value undefined', { kind: 'state', key: bytes(2), value: undefined as unknown as null }],
        ['short block hash', { kind: 'block', hash: hash(1).subarray(1), bytes: bytes(1), header: bytes(2), meta: { height: 1, parent: hash(0), score: 1n } }],
        ['block header not a Uint8Array', { kind: 'block', hash: hash(3), bytes: bytes(1), header: [1] as unknown as Uint8Array, meta: { height: 1, parent: hash(0), score: 1n } }],
        ['negative score', { kind: 'block', hash: hash(3), bytes: bytes(1), header: bytes(2), meta: { height: 1, parent: hash(0), score: -1n } }],
        ['score of 2^256', { kind: 'block', hash: hash(3), bytes: bytes(1), header: bytes(2), meta: { height: 1, parent: hash(0), score: 1n << 256n } }],
        ['fractional height', { kind: 'canonical', height: 1.5, hash: hash(1) }],
        ['height of 2^32', { kind: 'head', head: { hash: hash(1), height: 2 ** 32 } }],
        ['short canonical hash', { kind: 'canonical', height: 1, hash: bytes(1) }],
        ['bad tx index', { kind: 'tx', txId: hash(5), location: { blockHash: hash(1), height: 1, index: -1 } }],
        ['unknown meta name', { kind: 'meta', name: 'head' as unknown as 'genesisHash', value: bytes(1) }],
        ['unknown kind', { kind: 'nonsense' } as unknown as ChainWrite],
      ];
      for (const [what, write] of malformed) {
        await expectStoreError(store.write([...valid, write]), 'INVALID', /^write 3 /);
        expect({ what, head: await store.getHead() }).toEqual({ what, head: undefined });
        expect(await store.getBlock(hash(1))).toBeUndefined();
        expect(await collect(store.readState())).toEqual([]);
      }
    });

    it('reports a stored value of the wrong layout as CORRUPT, naming it', async () => {
      await store.stop();
      const kv = instance.kv();
      await kv.open();
      await kv.batch(
        [
          { type: 'put', key: HEAD_KEY, value: bytes(1, 2, 3) },
          { type: 'put', key: blockMetaKey(hash(1)), value: new Uint8Array(67) },
          { type: 'put', key: txIndexKey(hash(1)), value: new Uint8Array(41) },
          { type: 'put', key: canonicalHashKey(3), value: new Uint8Array(31) },
        ],
        { sync: true },
      );
      if (!backend.persistent) {
        // Nothing to reopen: check the decoders through a store on this very handle.
        store = new KvChainStore(kv);
      } else {
        await kv.close();
        store = instance.chainStore();
        await store.start();
      }
      await expectStoreError(store.getHead(), 'CORRUPT', /head pointer is 3 bytes, expected 36/);
      await expectStoreError(store.getBlockMeta(hash(1)), 'CORRUPT', /block meta is 67 bytes, expected 68/);
      await expectStoreError(store.getTxLocation(hash(1)), 'CORRUPT', /tx location is 41 bytes, expected 40/);
      await expectStoreError(store.getCanonicalHash(3), 'CORRUPT', /canonical hash at height 3 is 31 bytes/);
    });

    it('throws NOT_OPEN before start and after stop; stop is idempotent', async () => {
      const fresh = instance.chainStore();
      await expectStoreError(fresh.getHead(), 'NOT_OPEN');
      await expectStoreError(fresh.write([{ kind: 'state', key: bytes(1), value: bytes(1) }]), 'NOT_OPEN');
      await expectStoreError(collect(fresh.readState()), 'NOT_OPEN');
      await fresh.stop();
      await store.stop();
      await store.stop();
      await expectStoreError(store.getBlock(hash(1)), 'NOT_OPEN');
      await expectStoreError(store.write([]), 'NOT_OPEN');
      await store.start();
      expect(await store.getHead()).toBeUndefined();
    });

    it.skipIf(!backend.persistent)('keeps every write across stop and a new handle on the same datadir', async () => {
      await store.write(everyKindOfWrite());
      await store.stop();
      store = instance.chainStore();
      await store.start();
      await expectEveryKindOfWrite(store);
    });

    describe('key-value backend', () => {
      let kv: KeyValueStore;

      beforeEach(async () => {
        // The chain store holds the datadir lock; the raw handle needs it.
        await store.stop();
        kv = instance.kv();
        await kv.open();
      });

      afterEach(async () => {
        await kv.close();
      });

      it('refuses a whole batch whose later op is malformed, whatever the malformation', async () => {
        const good: KvOp[] = [
          { type: 'put', key: bytes(1), value: bytes(1) },
          { type: 'put', key: bytes(2), value: bytes(2) },
          { type: 'del', key: bytes(3) },
        ];
        const bad: Array<[string, KvOp, RegExp]> = [
          ['over-long key', { type: 'put', key: new Uint8Array(MAX_KEY_BYTES + 1), value: bytes(1) }, /key is 1025 bytes, the limit is 1024/],
          ['empty key', { type: 'put', key: new Uint8Array(0), value: bytes(1) }, /key is empty/],
          // level would store a string key or the number 5 as the text "5" if asked.
          ['string key', { type: 'put', key: 'abc' as unknown as Uint8Array, value: bytes(1) }, /key is a string/],
          ['number value', { type: 'put', key: bytes(4), value: 5 as unknown as Uint8Array }, /value is a number/],
          ['null value on put', { type: 'put', key: bytes(4), value: null as unknown as Uint8Array }, /value is null/],
          ['unknown op', { type: 'clear', key: bytes(4) } as unknown as KvOp, /unknown type "clear"/],
        ];
        for (const [, op, message] of bad) {
          await expectStoreError(kv.batch([...good, op], { sync: true }), 'INVALID', new RegExp(`^batch op 3: ${message.source}`));
          expect(await kv.get(bytes(1))).toBeUndefined();
          expect(await collect(kv.iterate({ gte: bytes(0), lt: bytes(0xff) }))).toEqual([]);
        }
      });

      it('reads on the calling thread (getNow) exactly what get reads, as copies, and refuses bad keys the same way', async () => {
        await kv.batch(
          [
            { type: 'put', key: bytes(1), value: bytes(1, 2, 3) },
            { type: 'put', key: bytes(2), value: new Uint8Array(0) },
          ],
          { sync: true },
        );
        for (const key of [bytes(1), bytes(2), bytes(3)]) expect(kv.getNow(key)).toEqual(await kv.get(key));
        const first = kv.getNow(bytes(1))!;
        expect(isPlainUint8Array(first)).toBe(true);
        first[0] = 9;
        expect(kv.getNow(bytes(1))).toEqual(bytes(1, 2, 3));
        expect(kv.getNow(bytes(2))).toEqual(new Uint8Array(0));
        expect(() => kv.getNow(new Uint8Array(0))).toThrow(/key is empty/);
        expect(() => kv.getNow('abc' as unknown as Uint8Array)).toThrow(/key is a string/);
        await kv.close();
        expect(() => kv.getNow(bytes(1))).toThrow(expect.objectContaining({ code: 'NOT_OPEN' }));
        await kv.open();
      });

      it('iterates [gte, lt) in byte order', async () => {
        const keys = [bytes(5), bytes(4, 0xff), bytes(4), bytes(6), bytes(5, 0), bytes(3, 0xff, 0xff)];
        await kv.batch(
          keys.map((key) => ({ type: 'put', key, value: key })),
          { sync: true },
        );
        const got = await collect(kv.iterate({ gte: bytes(4), lt: bytes(6) }));
        expect(got.map((e) => e.key)).toEqual([bytes(4), bytes(4, 0xff), bytes(5), bytes(5, 0)]);
        expect(got.every((e) => isPlainUint8Array(e.key) && isPlainUint8Array(e.value))).toBe(true);
        expect(await collect(kv.iterate({ gte: bytes(7), lt: bytes(8) }))).toEqual([]);
      });

      it('keeps canonical heights in height order (big-endian keys)', async () => {
        const heights = [256, 1, 0x0100_0000, 65_535, 0, 65_536, 0xffff_ffff, 2];
        await kv.batch(
          heights.map((h) => ({ type: 'put', key: canonicalHashKey(h), value: hash(1) })),
          { sync: true },
        );
        const got = await collect(kv.iterate(prefixRange(KeyPrefix.CanonicalHash)));
        const expected = [...heights].sort((a, b) => a - b).map((h) => concatBytes(bytes(KeyPrefix.CanonicalHash), u32be(h)));
        expect(got.map((e) => e.key)).toEqual(expected);
      });

      it('reads an iteration from a snapshot taken when it starts', async () => {
        await kv.batch(
          [1, 2, 3].map((n) => ({ type: 'put', key: bytes(n), value: bytes(n) })),
          { sync: true },
        );
        const seen: number[] = [];
        for await (const entry of kv.iterate({ gte: bytes(0), lt: bytes(0xff) })) {
          seen.push(entry.key[0]!);
          if (seen.length === 1) {
            await kv.batch(
              [
                { type: 'put', key: bytes(4), value: bytes(4) },
                { type: 'del', key: bytes(3) },
                { type: 'put', key: bytes(2), value: bytes(99) },
              ],
              { sync: false },
            );
          }
        }
        expect(seen).toEqual([1, 2, 3]);
        expect(await kv.get(bytes(2))).toEqual(bytes(99));
        expect(await kv.get(utf8('absent'))).toBeUndefined();
      });
    });
  });
}

storeCompliance(levelBackend);
storeCompliance(memoryBackend);
