/**
 * KvChainStore builds a batch's keys, and copies its small values, into a BytesArena and marks the ops placed,
 * so the LevelDB backend hands them over without copying. That is only a change of where bytes live: this holds
 * the arena to non-overlapping, exact copies, and a LevelDB database written this way to the same keys and
 * values as the memory backend (which copies everything) on seeded random write lists.
 */
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../src/codec/bytes.ts';
import { KvChainStore } from '../../../src/store/chainStore.ts';
import type { ChainWrite } from '../../../src/store/interface.ts';
import { BytesArena, type KeyValueStore } from '../../../src/store/kv.ts';
import { LevelKeyValueStore } from '../../../src/store/levelKv.ts';
import { MemoryKeyValueStore } from '../../../src/store/memoryKv.ts';

describe('BytesArena', () => {
  it('hands out exact, non-overlapping copies, across chunk boundaries', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('copy' as const), bytes: fc.uint8Array({ maxLength: 80 }) }),
      fc.record({ kind: fc.constant('prefixed' as const), prefix: fc.integer({ min: 0, max: 255 }), bytes: fc.uint8Array({ maxLength: 70 }) }),
      fc.record({ kind: fc.constant('placeSmall' as const), bytes: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 65, maxLength: 100 })) }),
      fc.record({ kind: fc.constant('alloc' as const), n: fc.oneof(fc.nat(100), fc.constantFrom(BytesArena.CHUNK - 1, BytesArena.CHUNK, BytesArena.CHUNK + 1)) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const arena = new BytesArena();
        const out: [Uint8Array, string][] = [];
        for (const o of ops) {
          if (o.kind === 'copy') out.push([arena.copy(o.bytes), toHex(o.bytes)]);
          else if (o.kind === 'prefixed') out.push([arena.prefixed(o.prefix, o.bytes), toHex(Uint8Array.of(o.prefix)) + toHex(o.bytes)]);
          else if (o.kind === 'placeSmall') {
            const placed = arena.placeSmall(o.bytes);
            if (o.bytes.length > BytesArena.SMALL) expect(placed).toBe(o.bytes);
            else expect(placed).not.toBe(o.bytes);
            out.push([placed, toHex(o.bytes)]);
          } else {
            const bytes = arena.alloc(o.n);
            expect(bytes.length).toBe(o.n);
            expect(bytes.every((b) => b === 0)).toBe(true);
            bytes.fill(0xa5);
            out.push([bytes, 'a5'.repeat(o.n)]);
          }
        }
        for (const [bytes, hex] of out) expect(toHex(bytes)).toBe(hex);
      }),
      { seed: 0xa7e4a, numRuns: 200 },
    );
  });
});

async function dump(kv: KeyValueStore): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const { key, value } of kv.iterate({ gte: Uint8Array.of(0x00), lt: Uint8Array.of(0xff) })) out.set(toHex(key), toHex(value));
  return out;
}

const hashArb = fc.uint8Array({ minLength: 32, maxLength: 32 });
const valueArb = fc.oneof(fc.uint8Array({ maxLength: 70 }), fc.uint8Array({ minLength: 60, maxLength: 300 }));
const writeArb: fc.Arbitrary<ChainWrite> = fc.oneof(
  fc.record({ kind: fc.constant('state' as const), key: fc.uint8Array({ minLength: 1, maxLength: 80 }), value: fc.option(valueArb) }),
  fc.record({ kind: fc.constant('index' as const), key: fc.uint8Array({ minLength: 1, maxLength: 80 }), value: fc.option(valueArb) }),
  fc.record({ kind: fc.constant('tx' as const), txId: hashArb, location: fc.option(fc.record({ blockHash: hashArb, height: fc.nat(), index: fc.nat(5000) })) }),
  fc.record({ kind: fc.constant('canonical' as const), height: fc.nat(), hash: fc.option(hashArb) }),
  fc.record({ kind: fc.constant('head' as const), head: fc.record({ hash: hashArb, height: fc.nat() }) }),
  fc.record({ kind: fc.constant('undo' as const), hash: hashArb, undo: fc.option(valueArb) }),
  fc.record({ kind: fc.constant('meta' as const), name: fc.constantFrom('genesisHash', 'finalized', 'lastVote' as const), value: valueArb }),
  fc.record({
    kind: fc.constant('block' as const),
    hash: hashArb,
    bytes: valueArb,
    header: valueArb,
    meta: fc.record({ height: fc.nat(), parent: hashArb, score: fc.bigInt({ min: 0n, max: 2n ** 80n }) }),
  }),
);

describe('KvChainStore batches built in an arena', () => {
  it('leave LevelDB holding exactly what the memory backend holds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'medchain-arena-'));
    try {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(writeArb, { maxLength: 60 }), { minLength: 1, maxLength: 3 }), async (batches) => {
          const level = new LevelKeyValueStore(join(dir, `db-${run++}`));
          const memory = new MemoryKeyValueStore();
          const stores = [new KvChainStore(level), new KvChainStore(memory)];
          for (const store of stores) await store.start();
          try {
            for (const writes of batches) {
              for (const store of stores) await (await store.prepareWrite(writes)).commit();
            }
            expect(await dump(level)).toEqual(await dump(memory));
          } finally {
            for (const store of stores) await store.stop();
          }
        }),
        { seed: 0xa7e4b, numRuns: 40 },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
