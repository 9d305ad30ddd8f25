import { describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, toHex, u32be, utf8 } from '../../../src/codec/bytes.ts';
import {
  EnvelopeError,
  EnvelopeErrorCode,
  KEY_ENVELOPE_LENGTH,
  RECORD_OVERHEAD,
  commitCiphertext,
  commitCiphertextDigest,
  decryptRecord,
  encryptRecord,
  newCommitmentSalt,
  recordAssociatedData,
  secureRandom,
  unwrapDataKey,
  verifyCommitment,
  wrapDataKey,
  type RandomSource,
} from '../../../src/envelope/index.ts';
import { deterministicRandom } from './support.ts';

function errorOf(run: () => unknown): EnvelopeError {
  try {
    run();
  } catch (error) {
    if (error instanceof EnvelopeError) return error;
    throw error;
  }
  throw new Error('expected an EnvelopeError, nothing was thrown');
}

const seed = sha256(utf8('api-test-reader'));
const readerPublic = ed25519.getPublicKey(seed);
const noAd = new Uint8Array(0);

describe('recordAssociatedData', () => {
  const id = new Uint8Array(32).fill(7);

  it('encodes domain, chain id, record id and version, length-prefixed', () => {
    const expected = concatBytes(utf8('medchain/record-ad/v1'), Uint8Array.of(12), utf8('medchain-dev'), Uint8Array.of(32), id, u32be(5));
    expect(toHex(recordAssociatedData('medchain-dev', id, 5))).toBe(toHex(expected));
    const pending = concatBytes(utf8('medchain/record-ad/v1'), Uint8Array.of(12), utf8('medchain-dev'), Uint8Array.of(0), u32be(0));
    expect(toHex(recordAssociatedData('medchain-dev', null, 0))).toBe(toHex(pending));
  });

  it('differs for every field', () => {
    const all = [
      recordAssociatedData('medchain-dev', id, 1),
      recordAssociatedData('medchain-de', id, 1),
      recordAssociatedData('medchain-dev', new Uint8Array(32).fill(8), 1),
      recordAssociatedData('medchain-dev', id, 2),
      recordAssociatedData('medchain-dev', id, 0),
      recordAssociatedData('medchain-dev', null, 0),
    ].map(toHex);
    expect(new Set(all).size).toBe(all.length);
  });

  it('refuses bad arguments with INVALID_ARGUMENT', () => {
    expect(errorOf(() => recordAssociatedData('', id, 1)).code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => recordAssociatedData('x'.repeat(256), id, 1)).code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => recordAssociatedData('medchain-dev', id.subarray(1), 1)).code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => recordAssociatedData('medchain-dev', null, 1)).message).toMatch(/only version 0/);
    for (const version of [-1, 1.5, 2 ** 32, Number.NaN]) expect(errorOf(() => recordAssociatedData('medchain-dev', id, version)).code).toBe('INVALID_ARGUMENT');
    expect(recordAssociatedData('medchain-dev', id, 2 ** 32 - 1).length).toBeGreaterThan(0);
  });
});

describe('argument checks', () => {
  const { random } = deterministicRandom('api');
  const { ciphertext, dataKey } = encryptRecord(utf8('x'), { random, associatedData: noAd });

  it('refuses wrong-sized keys, seeds and salts with INVALID_ARGUMENT', () => {
    expect(errorOf(() => decryptRecord(ciphertext, dataKey.subarray(1), noAd)).code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => wrapDataKey(dataKey.subarray(1), readerPublic, { random, associatedData: noAd })).code).toBe('INVALID_ARGUMENT');
    const envelope = wrapDataKey(dataKey, readerPublic, { random, associatedData: noAd });
    expect(errorOf(() => unwrapDataKey(envelope, concatBytes(seed, readerPublic), noAd)).message).toMatch(/first 32 bytes of a libsodium secret key/);
    expect(errorOf(() => commitCiphertext(ciphertext, new Uint8Array(31))).code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => commitCiphertextDigest(new Uint8Array(31), new Uint8Array(32).fill(1))).code).toBe('INVALID_ARGUMENT');
  });

  it('refuses a wrong-sized recipient public key with INVALID_KEY', () => {
    expect(errorOf(() => wrapDataKey(dataKey, readerPublic.subarray(1), { random, associatedData: noAd })).code).toBe('INVALID_KEY');
  });

  it('refuses a broken random source: missing, wrong length, not bytes, all zeros', () => {
    const sources: [string, RandomSource][] = [
      ['missing', undefined as unknown as RandomSource],
      ['short', (n) => new Uint8Array(n - 1).fill(1)],
      ['not bytes', (n) => Array.from({ length: n }, () => 1) as unknown as Uint8Array],
      ['zeros', (n) => new Uint8Array(n)],
    ];
    for (const [name, bad] of sources) {
      expect(errorOf(() => encryptRecord(utf8('x'), { random: bad, associatedData: noAd })).code, name).toBe('INVALID_ARGUMENT');
      expect(errorOf(() => wrapDataKey(dataKey, readerPublic, { random: bad, associatedData: noAd })).code, name).toBe('INVALID_ARGUMENT');
      expect(errorOf(() => newCommitmentSalt(bad)).code, name).toBe('INVALID_ARGUMENT');
    }
  });

  it('copies random bytes, so a source that reuses its buffer cannot change a returned key', () => {
    const shared = new Uint8Array(32);
    const reusing: RandomSource = (n) => {
      shared.fill(0x5a);
      return shared.subarray(0, n);
    };
    const result = encryptRecord(utf8('x'), { random: reusing, associatedData: noAd });
    shared.fill(0);
    expect(result.dataKey.every((b) => b === 0x5a)).toBe(true);
  });

  it('refuses non-bytes inputs with INVALID_ARGUMENT', () => {
    expect(errorOf(() => encryptRecord('text' as unknown as Uint8Array, { random, associatedData: noAd })).code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => decryptRecord(ciphertext, dataKey, 'ad' as unknown as Uint8Array)).code).toBe('INVALID_ARGUMENT');
  });
});

describe('sizes', () => {
  it('a record ciphertext is the plaintext plus 42 bytes; an envelope is 82 bytes', () => {
    const { random } = deterministicRandom('sizes');
    for (const length of [0, 1, 65_535, 65_536, 100 * 1024]) {
      const plaintext = new Uint8Array(length).fill(0x42);
      const { ciphertext, dataKey } = encryptRecord(plaintext, { random, associatedData: noAd });
      expect(ciphertext.length).toBe(length + RECORD_OVERHEAD);
      expect(decryptRecord(ciphertext, dataKey, noAd)).toEqual(plaintext);
    }
    expect(RECORD_OVERHEAD).toBe(42);
    expect(KEY_ENVELOPE_LENGTH).toBe(82);
  });
});

describe('commitment', () => {
  it('is SHA-256(domain || salt || SHA-256(ciphertext)), and the digest form agrees', () => {
    const ciphertext = utf8('some ciphertext bytes');
    const salt = new Uint8Array(32).fill(9);
    const expected = sha256(concatBytes(utf8('medchain/ciphertext-commitment/v1'), salt, sha256(ciphertext)));
    expect(toHex(commitCiphertext(ciphertext, salt))).toBe(toHex(expected));
    expect(toHex(commitCiphertextDigest(sha256(ciphertext), salt))).toBe(toHex(expected));
    expect(verifyCommitment(ciphertext, salt, expected)).toBe(true);
    expect(verifyCommitment('x' as unknown as Uint8Array, salt, expected)).toBe(false);
  });

  it('the same ciphertext under two salts gives unrelated commitments', () => {
    const ciphertext = utf8('same blob');
    const a = commitCiphertext(ciphertext, new Uint8Array(32).fill(1));
    const b = commitCiphertext(ciphertext, new Uint8Array(32).fill(2));
    expect(toHex(a)).not.toBe(toHex(b));
  });
});

describe('secureRandom', () => {
  it('returns the length asked for, including more than one Web Crypto call (65,536 bytes) allows', () => {
    expect(secureRandom(0).length).toBe(0);
    expect(secureRandom(24).length).toBe(24);
    const big = secureRandom(200_000);
    expect(big.length).toBe(200_000);
    // Each 64 KiB chunk was filled: no chunk left all zeros.
    for (let offset = 0; offset < big.length; offset += 65_536) expect(big.subarray(offset, offset + 65_536).some((b) => b !== 0)).toBe(true);
    expect(toHex(secureRandom(32))).not.toBe(toHex(secureRandom(32)));
  });

  it('refuses a negative or fractional length', () => {
    expect(() => secureRandom(-1)).toThrow(RangeError);
    expect(() => secureRandom(1.5)).toThrow(RangeError);
  });

  it('works end to end in production mode', () => {
    const associatedData = recordAssociatedData('medchain-dev', null, 0);
    const { ciphertext, dataKey } = encryptRecord(utf8('hello'), { random: secureRandom, associatedData });
    const envelope = wrapDataKey(dataKey, readerPublic, { random: secureRandom, associatedData });
    expect(decryptRecord(ciphertext, unwrapDataKey(envelope, seed, associatedData), associatedData)).toEqual(utf8('hello'));
  });
});

describe('EnvelopeError', () => {
  it('has a name, a code from the closed set and a message that says what to do', () => {
    const error = errorOf(() => decryptRecord(Uint8Array.of(0x52, 0x02), new Uint8Array(32), noAd));
    expect(error.name).toBe('EnvelopeError');
    expect(error.code).toBe(EnvelopeErrorCode.UnsupportedVersion);
    expect(error.message).toMatch(/upgrade the client/);
    expect(Object.values(EnvelopeErrorCode).sort()).toEqual(['AUTH_FAILED', 'INVALID_ARGUMENT', 'INVALID_KEY', 'MALFORMED', 'UNSUPPORTED_VERSION']);
  });

  it('keeps the underlying cause of an authentication failure', () => {
    const { random } = deterministicRandom('cause');
    const { ciphertext } = encryptRecord(utf8('x'), { random, associatedData: noAd });
    const error = errorOf(() => decryptRecord(ciphertext, new Uint8Array(32).fill(3), noAd));
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.cause).toBeInstanceOf(Error);
  });
});
