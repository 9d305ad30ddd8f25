import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ed25519 } from '@noble/curves/ed25519.js';
import { toHex } from '../../../src/codec/bytes.ts';
import {
  EnvelopeError,
  commitCiphertext,
  decryptRecord,
  encryptRecord,
  newCommitmentSalt,
  unwrapDataKey,
  verifyCommitment,
  wrapDataKey,
} from '../../../src/envelope/index.ts';
import { tapeRandom } from './support.ts';

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof EnvelopeError) return error.code;
    throw error;
  }
  return 'accepted';
}

const nonZero = (length: number): fc.Arbitrary<Uint8Array> =>
  fc.uint8Array({ minLength: length, maxLength: length }).filter((b) => b.some((x) => x !== 0));

const randomDraws = fc.record({ dataKey: nonZero(32), nonce: nonZero(24), ikm: nonZero(32), salt: nonZero(32), seed: fc.uint8Array({ minLength: 32, maxLength: 32 }) });

describe('round trip', () => {
  it('any plaintext of 0..64 KiB, any keys, any associated data: decrypt(encrypt(x)) = x via the reader\'s envelope', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 * 1024, size: 'max' }),
        fc.uint8Array({ maxLength: 300 }),
        randomDraws,
        (plaintext, associatedData, draws) => {
          const { ciphertext, dataKey } = encryptRecord(plaintext, { random: tapeRandom([toHex(draws.dataKey), toHex(draws.nonce)]), associatedData });
          expect(dataKey).toEqual(draws.dataKey);
          const envelope = wrapDataKey(dataKey, ed25519.getPublicKey(draws.seed), { random: tapeRandom([toHex(draws.ikm)]), associatedData });
          const unwrapped = unwrapDataKey(envelope, draws.seed, associatedData);
          expect(decryptRecord(ciphertext, unwrapped, associatedData)).toEqual(plaintext);
          const salt = newCommitmentSalt(tapeRandom([toHex(draws.salt)]));
          expect(verifyCommitment(ciphertext, salt, commitCiphertext(ciphertext, salt))).toBe(true);
        },
      ),
      { seed: 0x0e_0001, numRuns: 60 },
    );
  });

  it('is deterministic in its random draws and differs when they differ', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), randomDraws, nonZero(24), (plaintext, draws, otherNonce) => {
        fc.pre(toHex(otherNonce) !== toHex(draws.nonce));
        const once = encryptRecord(plaintext, { random: tapeRandom([toHex(draws.dataKey), toHex(draws.nonce)]), associatedData: new Uint8Array(0) });
        const again = encryptRecord(plaintext, { random: tapeRandom([toHex(draws.dataKey), toHex(draws.nonce)]), associatedData: new Uint8Array(0) });
        const other = encryptRecord(plaintext, { random: tapeRandom([toHex(draws.dataKey), toHex(otherNonce)]), associatedData: new Uint8Array(0) });
        expect(again.ciphertext).toEqual(once.ciphertext);
        expect(other.ciphertext).not.toEqual(once.ciphertext);
      }),
      { seed: 0x0e_0002, numRuns: 100 },
    );
  });
});

describe('any single-bit flip is refused', () => {
  const flip = (bytes: Uint8Array, bitIndex: number): Uint8Array => {
    const out = bytes.slice();
    const i = bitIndex >> 3;
    out[i] = out[i]! ^ (1 << (bitIndex & 7));
    return out;
  };
  // Byte 0 is the kind (MALFORMED when changed), byte 1 the format version (UNSUPPORTED_VERSION); every other byte is authenticated.
  const expectedCode = (bitIndex: number): string => (bitIndex < 8 ? 'MALFORMED' : bitIndex < 16 ? 'UNSUPPORTED_VERSION' : 'AUTH_FAILED');

  it('in a record ciphertext', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.uint8Array({ maxLength: 64 }), randomDraws, fc.nat(), (plaintext, associatedData, draws, at) => {
        const { ciphertext, dataKey } = encryptRecord(plaintext, { random: tapeRandom([toHex(draws.dataKey), toHex(draws.nonce)]), associatedData });
        const bit = at % (ciphertext.length * 8);
        expect(codeOf(() => decryptRecord(flip(ciphertext, bit), dataKey, associatedData))).toBe(expectedCode(bit));
      }),
      { seed: 0x0e_0003, numRuns: 300 },
    );
  });

  it('in the associated data, for the record and the envelope', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), fc.uint8Array({ minLength: 1, maxLength: 64 }), randomDraws, fc.nat(), (plaintext, associatedData, draws, at) => {
        const { ciphertext, dataKey } = encryptRecord(plaintext, { random: tapeRandom([toHex(draws.dataKey), toHex(draws.nonce)]), associatedData });
        const envelope = wrapDataKey(dataKey, ed25519.getPublicKey(draws.seed), { random: tapeRandom([toHex(draws.ikm)]), associatedData });
        const changed = flip(associatedData, at % (associatedData.length * 8));
        expect(codeOf(() => decryptRecord(ciphertext, dataKey, changed))).toBe('AUTH_FAILED');
        expect(codeOf(() => unwrapDataKey(envelope, draws.seed, changed))).toBe('AUTH_FAILED');
      }),
      { seed: 0x0e_0004, numRuns: 100 },
    );
  });

  it('in a key envelope', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), randomDraws, fc.nat(), (associatedData, draws, at) => {
        const envelope = wrapDataKey(draws.dataKey, ed25519.getPublicKey(draws.seed), { random: tapeRandom([toHex(draws.ikm)]), associatedData });
        const bit = at % (envelope.length * 8);
        expect(codeOf(() => unwrapDataKey(flip(envelope, bit), draws.seed, associatedData))).toBe(expectedCode(bit));
      }),
      { seed: 0x0e_0005, numRuns: 200 },
    );
  });

  it('in the reader\'s seed (another key opens nothing)', () => {
    fc.assert(
      fc.property(randomDraws, fc.nat(255), (draws, bit) => {
        const envelope = wrapDataKey(draws.dataKey, ed25519.getPublicKey(draws.seed), { random: tapeRandom([toHex(draws.ikm)]), associatedData: new Uint8Array(0) });
        expect(codeOf(() => unwrapDataKey(envelope, flip(draws.seed, bit), new Uint8Array(0)))).toBe('AUTH_FAILED');
      }),
      { seed: 0x0e_0006, numRuns: 50 },
    );
  });
});
