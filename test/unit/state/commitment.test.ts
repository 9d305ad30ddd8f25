/**
 * The state commitment: it changes with any write, does not depend on the order writes were made in, and
 * costs in proportion to the write set. Cost is measured by counting (bytes fed to sha256, state reads),
 * never by timing.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { assembleBlock } from '../../../src/codec/block.ts';
import { compareBytes, toHex } from '../../../src/codec/bytes.ts';
import { merkleRoot } from '../../../src/crypto/merkle.ts';
import { CURRENT_POLICY_FLAGS } from '../../../src/script/flags.ts';
import { applyBlock } from '../../../src/state/applyBlock.ts';
import { EMPTY_STATE_ROOT, nextStateRoot } from '../../../src/state/commitment.ts';
import { buildGenesis } from '../../../src/state/genesis.ts';
import { MemoryState, StateOverlay, type StateReader } from '../../../src/state/overlay.ts';
import type { StateEntry } from '../../../src/types/state.ts';
import { TxType } from '../../../src/types/transaction.ts';
import { SEED } from '../../helpers/chainBuilder.ts';
import { GENESIS_TIME, testGenesis, testKey, testTx } from '../../helpers/fixtures.ts';

// Counts what every module in this test hashes: the same function, with a tally of its input bytes.
const tally = vi.hoisted(() => ({ bytes: 0, calls: 0 }));
vi.mock('../../../src/crypto/hash.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../src/crypto/hash.ts')>();
  return {
    ...real,
    sha256: (data: Uint8Array): Uint8Array => {
      tally.bytes += data.length;
      tally.calls++;
      return real.sha256(data);
    },
  };
});

function hashed<T>(run: () => T): { result: T; bytes: number; calls: number } {
  tally.bytes = 0;
  tally.calls = 0;
  const result = run();
  return { result, bytes: tally.bytes, calls: tally.calls };
}

const arbKey = fc.uint8Array({ minLength: 1, maxLength: 40 });
const arbValue = fc.option(fc.uint8Array({ maxLength: 60 }), { nil: null });
/** Write sets with distinct keys, sorted as an overlay returns them. */
const arbWrites = fc
  .uniqueArray(fc.record({ key: arbKey, value: arbValue }), { selector: (e) => toHex(e.key), minLength: 1, maxLength: 20 })
  .map((entries) => [...entries].sort((a, b) => compareBytes(a.key, b.key)));
const arbRoot = fc.uint8Array({ minLength: 32, maxLength: 32 });
const height = fc.integer({ min: 0, max: 0xffffffff });

const root = (prev: Uint8Array, h: number, writes: readonly StateEntry[]): string => toHex(nextStateRoot(prev, h, writes));

describe('nextStateRoot', () => {
  it('changes when any one write changes: a key byte, a value byte, a deletion, an entry more or less', () => {
    fc.assert(
      fc.property(arbRoot, height, arbWrites, fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 }), (prev, h, writes, pick, at, xor) => {
        const base = root(prev, h, writes);
        const i = pick % writes.length;
        const entry = writes[i]!;
        const change = (e: StateEntry) => writes.map((w, j) => (j === i ? e : w));
        const key = entry.key.slice();
        key[at % key.length]! ^= xor;
        expect(root(prev, h, change({ key, value: entry.value }))).not.toBe(base);
        if (entry.value !== null && entry.value.length > 0) {
          const value = entry.value.slice();
          value[at % value.length]! ^= xor;
          expect(root(prev, h, change({ key: entry.key, value }))).not.toBe(base);
        }
        // Deleting a key and writing it empty are different writes.
        expect(root(prev, h, change({ key: entry.key, value: entry.value === null ? new Uint8Array(0) : null }))).not.toBe(base);
        expect(root(prev, h, writes.filter((_, j) => j !== i))).not.toBe(base);
        expect(root(prev, h, [...writes, { key: new Uint8Array(41), value: null }])).not.toBe(base);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('chains: the previous root and the height are committed to', () => {
    fc.assert(
      fc.property(arbRoot, height, fc.array(fc.record({ key: arbKey, value: arbValue }), { maxLength: 5 }), fc.integer({ min: 0, max: 31 }), (prev, h, writes, bit) => {
        const sorted = [...writes].sort((a, b) => compareBytes(a.key, b.key));
        const other = prev.slice();
        other[bit]! ^= 1;
        expect(root(other, h, sorted)).not.toBe(root(prev, h, sorted));
        expect(root(prev, (h + 1) % 2 ** 32, sorted)).not.toBe(root(prev, h, sorted));
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('length prefixes keep key and value boundaries apart', () => {
    const ab = new Uint8Array([0x61, 0x62]);
    expect(root(EMPTY_STATE_ROOT, 1, [{ key: ab.subarray(0, 1), value: ab.subarray(1) }])).not.toBe(
      root(EMPTY_STATE_ROOT, 1, [{ key: ab, value: new Uint8Array(0) }]),
    );
    expect(root(EMPTY_STATE_ROOT, 1, [{ key: ab, value: null }])).not.toBe(root(EMPTY_STATE_ROOT, 1, []));
    // Without the key's length these two would frame to the same bytes: 61 01 00000005 01 00000000.
    const short = { key: new Uint8Array([0x61]), value: new Uint8Array([0x01, 0, 0, 0, 0]) };
    const long = { key: new Uint8Array([0x61, 0x01, 0, 0, 0, 0x05]), value: new Uint8Array(0) };
    expect(root(EMPTY_STATE_ROOT, 1, [short])).not.toBe(root(EMPTY_STATE_ROOT, 1, [long]));
  });

  it('does not depend on the order the writes were made in: the overlay sorts them', () => {
    fc.assert(
      fc.property(arbWrites, fc.infiniteStream(fc.nat()), (writes, choices) => {
        const base: StateReader = { get: () => undefined };
        const inOrder = new StateOverlay(base);
        for (const w of writes) (w.value === null ? inOrder.delete(w.key) : inOrder.set(w.key, w.value));
        // The same writes in a shuffled order, with a key overwritten on the way.
        const shuffled = [...writes];
        const it = choices[Symbol.iterator]();
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = it.next().value! % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
        }
        const other = new StateOverlay(base);
        other.set(shuffled[0]!.key, new Uint8Array([1, 2, 3]));
        for (const w of shuffled) (w.value === null ? other.delete(w.key) : other.set(w.key, w.value));
        expect(root(EMPTY_STATE_ROOT, 7, other.writes())).toBe(root(EMPTY_STATE_ROOT, 7, inOrder.writes()));
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('is order-sensitive on its input, which is why callers pass the sorted write set', () => {
    const a = { key: new Uint8Array([1]), value: new Uint8Array([1]) };
    const b = { key: new Uint8Array([2]), value: null };
    expect(root(EMPTY_STATE_ROOT, 1, [b, a])).not.toBe(root(EMPTY_STATE_ROOT, 1, [a, b]));
  });
});

describe('the cost of the commitment is linear in the write set', () => {
  it('hashes exactly the framed write set plus a fixed header: nothing else', () => {
    fc.assert(
      fc.property(arbRoot, height, arbWrites, (prev, h, writes) => {
        const framed = writes.reduce((n, w) => n + 4 + w.key.length + 1 + 4 + (w.value?.length ?? 0), 0);
        const { bytes, calls } = hashed(() => nextStateRoot(prev, h, writes));
        // sha256(framed writes), then sha256(0x53 || previous root || u32 height || that hash).
        expect(calls).toBe(2);
        expect(bytes).toBe(framed + 1 + 32 + 4 + 32);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('a block costs the same over a small and a 20,000-entry state: same bytes hashed, same reads', () => {
    const spec = testGenesis('pos');
    const genesis = buildGenesis(spec);
    const hospital = testKey('hospital');
    const doctor = testKey('doctor');
    const txs = [
      testTx(doctor, 0, { type: TxType.RegisterIdentity, role: 'doctor' }),
      testTx(hospital, 0, { type: TxType.AttestDoctor, doctor: doctor.publicKey, name: 'Dr', licence: 'L', expiresAt: GENESIS_TIME + 1e9 }),
    ];
    const block = assembleBlock(
      {
        chainId: spec.chainId,
        height: 1,
        parent: genesis.block.hash,
        time: GENESIS_TIME + 1000,
        txRoot: merkleRoot(txs.map((t) => t.id)),
        stateRoot: new Uint8Array(32),
        proposer: hospital.publicKey,
        seal: new Uint8Array(0),
      },
      txs,
    );
    const measure = (extraEntries: number) => {
      const state = new MemoryState();
      state.apply(genesis.writes);
      // Unrelated accounts: they make the state big, not the block.
      const filler: StateEntry[] = [];
      for (let i = 0; i < extraEntries; i++) {
        const key = new Uint8Array(33);
        key[0] = 0x01;
        new DataView(key.buffer).setUint32(29, i + 1);
        filler.push({ key, value: new Uint8Array([0x93, 0x01, 0x00, 0x00]) });
      }
      state.apply(filler);
      let reads = 0;
      const counting: StateReader = { get: (key) => (reads++, state.get(key)) };
      const { result, bytes } = hashed(() => applyBlock(counting, block, genesis.block.header.stateRoot, CURRENT_POLICY_FLAGS));
      return { root: toHex(result.stateRoot), bytes, reads, size: state.size };
    };
    const small = measure(0);
    const big = measure(20_000);
    expect(big.size).toBeGreaterThan(small.size + 19_999);
    expect(big.root).toBe(small.root);
    expect(big.bytes).toBe(small.bytes);
    expect(big.reads).toBe(small.reads);
    expect(small.reads).toBeGreaterThan(0);
  });
});
