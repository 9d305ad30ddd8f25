import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { toHex, utf8 } from '../../../src/codec/bytes.ts';
import { sha256 } from '../../../src/crypto/hash.ts';

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

  it('returns a plain, fresh 32-byte Uint8Array', () => {
    const a = sha256(utf8('abc'));
    const b = sha256(utf8('abc'));
    expect(Object.getPrototypeOf(a)).toBe(Uint8Array.prototype);
    expect(a.length).toBe(32);
    expect(a.byteOffset).toBe(0);
    expect(a.buffer.byteLength).toBe(32);
    expect(a).not.toBe(b);
  });

  it('hashes only the view it is given, not the whole buffer', () => {
    const backing = utf8('xxabcxx');
    expect(toHex(sha256(backing.subarray(2, 5)))).toBe(NIST[1]![1]);
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
