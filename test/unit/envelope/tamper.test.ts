import { describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { concatBytes, utf8 } from '../../../src/codec/bytes.ts';
import {
  EnvelopeError,
  KEY_ENVELOPE_LENGTH,
  RECORD_OVERHEAD,
  decryptRecord,
  encryptRecord,
  recordAssociatedData,
  unwrapDataKey,
  wrapDataKey,
} from '../../../src/envelope/index.ts';
import { deterministicRandom } from './support.ts';

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof EnvelopeError) return error.code;
    throw error;
  }
  return 'accepted';
}

function flipped(bytes: Uint8Array, index: number, bit: number): Uint8Array {
  const out = bytes.slice();
  out[index] = out[index]! ^ (1 << bit);
  return out;
}

/** First, middle and last byte of [start, end), each with its lowest, a middle and its highest bit. */
function positions(start: number, end: number): [number, number][] {
  const bytes = [...new Set([start, Math.floor((start + end - 1) / 2), end - 1])];
  return bytes.flatMap((i) => [0, 3, 7].map((bit): [number, number] => [i, bit]));
}

const { random } = deterministicRandom('tamper');
const patientSeed = utf8('tamper-test-patient-seed-32-byte');
const doctorSeed = utf8('tamper-test-doctor-seed-32-bytes');
const doctorPublic = ed25519.getPublicKey(doctorSeed);
const recordId = new Uint8Array(32).fill(0xab);
const associatedData = recordAssociatedData('medchain-dev', recordId, 3);
const plaintext = utf8('{"resourceType":"Observation","status":"final","valueQuantity":{"value":36.6}}');
const { ciphertext, dataKey } = encryptRecord(plaintext, { random, associatedData });
const envelope = wrapDataKey(dataKey, doctorPublic, { random, associatedData });

// Record ciphertext layout: kind(1) version(1) nonce(24) ct tag(16).
const NONCE = [2, 26] as const;
const BODY = [26, ciphertext.length - 16] as const;
const TAG = [ciphertext.length - 16, ciphertext.length] as const;
// Key envelope layout: kind(1) version(1) enc(32) sealed key(32) tag(16).
const ENC = [2, 34] as const;
const SEALED = [34, 66] as const;
const ENVELOPE_TAG = [66, 82] as const;

describe('record ciphertext tampering', () => {
  it('the untouched ciphertext opens', () => {
    expect(decryptRecord(ciphertext, dataKey, associatedData)).toEqual(plaintext);
    expect(ciphertext.length).toBe(plaintext.length + RECORD_OVERHEAD);
  });

  it.each([
    ['nonce', NONCE],
    ['ciphertext body', BODY],
    ['tag', TAG],
  ] as const)('a flipped bit in the %s is AUTH_FAILED', (_part, [start, end]) => {
    for (const [i, bit] of positions(start, end)) {
      expect(codeOf(() => decryptRecord(flipped(ciphertext, i, bit), dataKey, associatedData)), `byte ${i} bit ${bit}`).toBe('AUTH_FAILED');
    }
  });

  it('a changed kind byte is MALFORMED, a changed version byte UNSUPPORTED_VERSION', () => {
    for (const bit of [0, 3, 7]) {
      expect(codeOf(() => decryptRecord(flipped(ciphertext, 0, bit), dataKey, associatedData))).toBe('MALFORMED');
      expect(codeOf(() => decryptRecord(flipped(ciphertext, 1, bit), dataKey, associatedData))).toBe('UNSUPPORTED_VERSION');
    }
  });

  it('a flipped bit anywhere in the associated data is AUTH_FAILED', () => {
    for (const [i, bit] of positions(0, associatedData.length)) {
      expect(codeOf(() => decryptRecord(ciphertext, dataKey, flipped(associatedData, i, bit))), `byte ${i} bit ${bit}`).toBe('AUTH_FAILED');
    }
  });

  it('another chain, record or version is AUTH_FAILED', () => {
    expect(codeOf(() => decryptRecord(ciphertext, dataKey, recordAssociatedData('medchain-test', recordId, 3)))).toBe('AUTH_FAILED');
    expect(codeOf(() => decryptRecord(ciphertext, dataKey, recordAssociatedData('medchain-dev', new Uint8Array(32).fill(0xac), 3)))).toBe('AUTH_FAILED');
    expect(codeOf(() => decryptRecord(ciphertext, dataKey, recordAssociatedData('medchain-dev', recordId, 4)))).toBe('AUTH_FAILED');
    expect(codeOf(() => decryptRecord(ciphertext, dataKey, new Uint8Array(0)))).toBe('AUTH_FAILED');
  });

  it('a flipped bit in the data key is AUTH_FAILED', () => {
    for (const [i, bit] of positions(0, 32)) expect(codeOf(() => decryptRecord(ciphertext, flipped(dataKey, i, bit), associatedData))).toBe('AUTH_FAILED');
  });

  it('truncation below the minimum is MALFORMED; a shorter or longer blob fails authentication', () => {
    for (const length of [0, 1, 2, 25, 26, RECORD_OVERHEAD - 1]) {
      expect(codeOf(() => decryptRecord(ciphertext.subarray(0, length), dataKey, associatedData)), `length ${length}`).toBe('MALFORMED');
    }
    // Still a well-formed container, so only the tag can tell: one byte less, one byte more, a zero byte appended.
    expect(codeOf(() => decryptRecord(ciphertext.subarray(0, ciphertext.length - 1), dataKey, associatedData))).toBe('AUTH_FAILED');
    expect(codeOf(() => decryptRecord(concatBytes(ciphertext, Uint8Array.of(0)), dataKey, associatedData))).toBe('AUTH_FAILED');
    expect(codeOf(() => decryptRecord(ciphertext.subarray(0, RECORD_OVERHEAD), dataKey, associatedData))).toBe('AUTH_FAILED');
  });

  it('a key envelope passed as a record ciphertext is MALFORMED', () => {
    expect(codeOf(() => decryptRecord(envelope, dataKey, associatedData))).toBe('MALFORMED');
  });
});

describe('key envelope tampering', () => {
  it('the untouched envelope opens for the doctor', () => {
    expect(envelope.length).toBe(KEY_ENVELOPE_LENGTH);
    expect(unwrapDataKey(envelope, doctorSeed, associatedData)).toEqual(dataKey);
  });

  it.each([
    ['ephemeral key (enc)', ENC],
    ['sealed data key', SEALED],
    ['tag', ENVELOPE_TAG],
  ] as const)('a flipped bit in the %s is refused (AUTH_FAILED)', (_part, [start, end]) => {
    for (const [i, bit] of positions(start, end)) {
      expect(codeOf(() => unwrapDataKey(flipped(envelope, i, bit), doctorSeed, associatedData)), `byte ${i} bit ${bit}`).toBe('AUTH_FAILED');
    }
  });

  it('every single-bit flip of the whole envelope is refused', () => {
    for (let i = 0; i < envelope.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const code = codeOf(() => unwrapDataKey(flipped(envelope, i, bit), doctorSeed, associatedData));
        const expected = i === 0 ? 'MALFORMED' : i === 1 ? 'UNSUPPORTED_VERSION' : 'AUTH_FAILED';
        expect(code, `byte ${i} bit ${bit}`).toBe(expected);
      }
    }
  });

  it('a flipped bit in the associated data is AUTH_FAILED', () => {
    for (const [i, bit] of positions(0, associatedData.length)) {
      expect(codeOf(() => unwrapDataKey(envelope, doctorSeed, flipped(associatedData, i, bit))), `byte ${i} bit ${bit}`).toBe('AUTH_FAILED');
    }
  });

  it('the wrong recipient is AUTH_FAILED', () => {
    expect(codeOf(() => unwrapDataKey(envelope, patientSeed, associatedData))).toBe('AUTH_FAILED');
  });

  it('truncated or extended envelopes are MALFORMED', () => {
    for (const length of [0, 1, 2, 34, 66, KEY_ENVELOPE_LENGTH - 1]) {
      expect(codeOf(() => unwrapDataKey(envelope.subarray(0, length), doctorSeed, associatedData)), `length ${length}`).toBe('MALFORMED');
    }
    expect(codeOf(() => unwrapDataKey(concatBytes(envelope, Uint8Array.of(0)), doctorSeed, associatedData))).toBe('MALFORMED');
  });

  it('an ephemeral key replaced by a low-order point is MALFORMED', () => {
    // u = 0 and u = 1 are low order on Curve25519; X25519 would give an all-zero shared secret.
    for (const u of [new Uint8Array(32), Uint8Array.of(1, ...new Uint8Array(31))]) {
      const forged = envelope.slice();
      forged.set(u, ENC[0]);
      expect(codeOf(() => unwrapDataKey(forged, doctorSeed, associatedData))).toBe('MALFORMED');
    }
  });

  it('a record ciphertext passed as an envelope is MALFORMED', () => {
    expect(codeOf(() => unwrapDataKey(ciphertext, doctorSeed, associatedData))).toBe('MALFORMED');
  });

  it('swapping the sealed key between two envelopes of the same data key is AUTH_FAILED', () => {
    const second = wrapDataKey(dataKey, doctorPublic, { random, associatedData });
    const spliced = concatBytes(envelope.subarray(0, SEALED[0]), second.subarray(SEALED[0]));
    expect(codeOf(() => unwrapDataKey(spliced, doctorSeed, associatedData))).toBe('AUTH_FAILED');
  });
});
