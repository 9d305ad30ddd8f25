import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { toHex, utf8 } from '../../../src/codec/bytes.ts';
import { NODE_HASH_MIN_LENGTH, sha256 } from '../../../src/crypto/hash.ts';

// FIPS 180-2 / NIST CSRC example vectors for SHA-256.
const NIST: [string, string][] = [
  ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  ['abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
  [
    'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu',
    'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1',
  ],
];

describe('sha256', () => {
  it.each(NIST)('NIST vector %j', (input, digest) => {
    expect(toHex(sha256(utf8(input)))).toBe(digest);
  });

  it('NIST vector: one million "a"', () => {
    const input = new Uint8Array(1_000_000).fill(0x61);
    expect(toHex(sha256(input))).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });

  it.each([
    ['short (sodium)', utf8('abc')],
    ['long (node:crypto)', new Uint8Array(NODE_HASH_MIN_LENGTH).fill(1)],
  ])('returns a plain, fresh 32-byte Uint8Array: %s', (_name, input) => {
    const a = sha256(input);
    const b = sha256(input);
    expect(Object.getPrototypeOf(a)).toBe(Uint8Array.prototype);
    expect(a.length).toBe(32);
    expect(a.byteOffset).toBe(0);
    expect(a.buffer.byteLength).toBe(32);
    expect(a).not.toBe(b);
    expect(a).toEqual(b);
  });

  it('hashes only the view it is given, not the whole buffer', () => {
    const backing = utf8('xxabcxx');
    expect(toHex(sha256(backing.subarray(2, 5)))).toBe(NIST[1]![1]);
    const long = new Uint8Array(NODE_HASH_MIN_LENGTH + 20).map((_, i) => i * 7);
    const view = long.subarray(10, NODE_HASH_MIN_LENGTH + 10);
    expect(toHex(sha256(view))).toBe(toHex(nobleSha256(view.slice())));
  });

  it('the crossover sits between the one-block ids and the state commitment', () => {
    // A 33-byte Merkle node and a ~200-byte transaction stay on sodium; 1,000 bytes and up go to node:crypto.
    expect(NODE_HASH_MIN_LENGTH).toBeGreaterThan(256);
    expect(NODE_HASH_MIN_LENGTH).toBeLessThanOrEqual(1000);
  });

  it('agrees with @noble/hashes at every length around the crossover, on seeded random bytes', () => {
    let state = 0x9e3779b9;
    const next = (): number => {
      // xorshift32: fixed seed, so a failure reproduces.
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return state & 0xff;
    };
    for (let length = NODE_HASH_MIN_LENGTH - 70; length <= NODE_HASH_MIN_LENGTH + 70; length++) {
      const data = new Uint8Array(length).map(next);
      expect(toHex(sha256(data)), `length ${length}`).toBe(toHex(nobleSha256(data)));
    }
  });

  it('agrees with @noble/hashes on large seeded inputs (state commitment sized)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 4096, max: 400_000 }), fc.nat(255), (length, fill) => {
        const data = new Uint8Array(length).map((_, i) => (i * 131 + fill) & 0xff);
        expect(toHex(sha256(data))).toBe(toHex(nobleSha256(data)));
      }),
      { seed: 0x300c, numRuns: 20 },
    );
  });

  it('agrees with @noble/hashes on arbitrary inputs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 2048 }), fc.nat(16), (data, cut) => {
        const view = data.subarray(Math.min(cut, data.length));
        expect(toHex(sha256(view))).toBe(toHex(nobleSha256(view)));
      }),
      { seed: 0x5a256, numRuns: 500 },
    );
  });
});
