import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesEqual, concatBytes, toHex } from '../../../src/codec/bytes.ts';
import {
  ENVELOPE_INFO,
  EnvelopeError,
  commitCiphertext,
  decryptRecord,
  encryptRecord,
  newCommitmentSalt,
  recordAssociatedData,
  unwrapDataKey,
  verifyCommitment,
  wrapDataKey,
  x25519PublicKeyFromEd25519,
  x25519SecretKeyFromEd25519Seed,
} from '../../../src/envelope/index.ts';
import { deriveKeyPair, encap, keyScheduleBase, openBase, sealBase } from '../../../src/envelope/hpke.ts';
import type { EnvelopeVectorFile } from '../../vectors/make-envelope-vectors.ts';
import {
  hex,
  independentOpen,
  independentSeal,
  sodium,
  sodiumKeyPair,
  sodiumPkToCurve,
  sodiumSkToCurve,
  sodiumXChaChaOpen,
  tapeRandom,
} from './support.ts';

const file = JSON.parse(readFileSync(new URL('../../vectors/envelope.json', import.meta.url), 'utf8')) as EnvelopeVectorFile;

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof EnvelopeError) return error.code;
    throw error;
  }
  return 'accepted';
}

describe('RFC 9180 appendix A.2.1 (base mode, X25519 / HKDF-SHA256 / ChaCha20-Poly1305)', () => {
  const v = file.rfc9180;

  it('derives both key pairs', () => {
    const e = deriveKeyPair(hex(v.ikmE));
    expect(toHex(e.secretKey)).toBe(v.skEm);
    expect(toHex(e.publicKey)).toBe(v.pkEm);
    const r = deriveKeyPair(hex(v.ikmR));
    expect(toHex(r.secretKey)).toBe(v.skRm);
    expect(toHex(r.publicKey)).toBe(v.pkRm);
  });

  it('encapsulates and runs the key schedule to the published values', () => {
    const { enc, sharedSecret } = encap(hex(v.pkRm), hex(v.ikmE));
    expect(toHex(enc)).toBe(v.enc);
    expect(toHex(sharedSecret)).toBe(v.sharedSecret);
    const { key, baseNonce } = keyScheduleBase(sharedSecret, hex(v.info));
    expect(toHex(key)).toBe(v.key);
    expect(toHex(baseNonce)).toBe(v.baseNonce);
  });

  it('seals to the published ciphertext and opens it', () => {
    const sealed = sealBase(hex(v.pkRm), hex(v.info), hex(v.aad), hex(v.pt), hex(v.ikmE));
    expect(toHex(sealed.enc)).toBe(v.enc);
    expect(toHex(sealed.ciphertext)).toBe(v.ct);
    expect(toHex(openBase(hex(v.enc), hex(v.skRm), hex(v.pkRm), hex(v.info), hex(v.aad), hex(v.ct)))).toBe(v.pt);
  });

  it('the independent libsodium + node:crypto HPKE used as a cross-check also reproduces it', () => {
    expect(toHex(independentSeal(hex(v.pkRm), hex(v.info), hex(v.aad), hex(v.pt), hex(v.ikmE)).ciphertext)).toBe(v.ct);
    expect(toHex(independentOpen(hex(v.enc), hex(v.skRm), hex(v.info), hex(v.aad), hex(v.ct)))).toBe(v.pt);
  });
});

describe('known-answer vectors (test/vectors/envelope.json)', () => {
  it('has vectors', () => expect(file.vectors.length).toBeGreaterThanOrEqual(5));

  it.each(file.vectors.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    const associatedData = hex(v.associatedData);
    if (v.context !== null) {
      const recordId = v.context.recordId === null ? null : hex(v.context.recordId);
      expect(toHex(recordAssociatedData(v.context.chainId, recordId, v.context.version))).toBe(v.associatedData);
    }
    const plaintext = hex(v.plaintext);

    const recordTape = tapeRandom(v.recordRandom);
    const encrypted = encryptRecord(plaintext, { random: recordTape, associatedData });
    expect(recordTape.remaining()).toBe(0);
    expect(toHex(encrypted.dataKey)).toBe(v.dataKey);
    expect(toHex(encrypted.ciphertext)).toBe(v.ciphertext);
    expect(toHex(decryptRecord(hex(v.ciphertext), hex(v.dataKey), associatedData))).toBe(v.plaintext);

    const saltTape = tapeRandom(v.commitmentRandom);
    const salt = newCommitmentSalt(saltTape);
    expect(saltTape.remaining()).toBe(0);
    expect(toHex(salt)).toBe(v.commitmentSalt);
    expect(toHex(commitCiphertext(hex(v.ciphertext), salt))).toBe(v.commitment);
    expect(verifyCommitment(hex(v.ciphertext), salt, hex(v.commitment))).toBe(true);

    for (const e of v.envelopes) {
      expect(toHex(ed25519.getPublicKey(hex(e.recipientSeed)))).toBe(e.recipientEd25519PublicKey);
      const wrapTape = tapeRandom(e.random);
      const envelope = wrapDataKey(hex(v.dataKey), hex(e.recipientEd25519PublicKey), { random: wrapTape, associatedData });
      expect(wrapTape.remaining()).toBe(0);
      expect(toHex(envelope)).toBe(e.envelope);
      expect(toHex(unwrapDataKey(hex(e.envelope), hex(e.recipientSeed), associatedData))).toBe(v.dataKey);
    }
  });

  it.each(file.vectors.map((v) => [v.name, v] as const))('%s: libsodium and the independent HPKE agree', (_name, v) => {
    const associatedData = hex(v.associatedData);
    const ciphertext = hex(v.ciphertext);
    const opened = sodiumXChaChaOpen(hex(v.dataKey), ciphertext.subarray(2, 26), concatBytes(ciphertext.subarray(0, 2), associatedData), ciphertext.subarray(26));
    expect(toHex(opened)).toBe(v.plaintext);
    for (const e of v.envelopes) {
      const envelope = hex(e.envelope);
      const aad = concatBytes(envelope.subarray(0, 2), associatedData);
      const { secretKey } = sodiumKeyPair(hex(e.recipientSeed));
      expect(toHex(independentOpen(envelope.subarray(2, 34), sodiumSkToCurve(secretKey), ENVELOPE_INFO, aad, envelope.subarray(34)))).toBe(v.dataKey);
      const resealed = independentSeal(hex(sodiumPkToCurveOrThrow(hex(e.recipientEd25519PublicKey))), ENVELOPE_INFO, aad, hex(v.dataKey), hex(e.random[0]!));
      expect(toHex(concatBytes(envelope.subarray(0, 2), resealed.enc, resealed.ciphertext))).toBe(e.envelope);
    }
  });
});

function sodiumPkToCurveOrThrow(publicKey: Uint8Array): string {
  const u = sodiumPkToCurve(publicKey);
  if (u === undefined) throw new Error('libsodium refused a vector key');
  return toHex(u);
}

describe('Ed25519 -> X25519 matches libsodium', () => {
  it.each(file.conversions.map((c) => [c.seed.slice(0, 16), c] as const))('stored conversion %s', (_seed, c) => {
    const seed = hex(c.seed);
    const { publicKey, secretKey } = sodiumKeyPair(seed);
    expect(toHex(publicKey)).toBe(c.ed25519PublicKey);
    expect(toHex(x25519PublicKeyFromEd25519(publicKey))).toBe(c.x25519PublicKey);
    expect(toHex(x25519SecretKeyFromEd25519Seed(seed))).toBe(c.x25519SecretKey);
    expect(sodiumPkToCurveOrThrow(publicKey)).toBe(c.x25519PublicKey);
    expect(toHex(sodiumSkToCurve(secretKey))).toBe(c.x25519SecretKey);
  });

  it('for 300 random seeds: both maps equal libsodium, and the secret map is the public map\'s key', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (seed) => {
        const { publicKey, secretKey } = sodiumKeyPair(seed);
        const u = x25519PublicKeyFromEd25519(publicKey);
        const s = x25519SecretKeyFromEd25519Seed(seed);
        expect(toHex(u)).toBe(sodiumPkToCurveOrThrow(publicKey));
        expect(toHex(s)).toBe(toHex(sodiumSkToCurve(secretKey)));
        expect(toHex(deriveX25519Public(s))).toBe(toHex(u));
      }),
      { seed: 0x5eed_0001, numRuns: 300 },
    );
  });

  it('for 300 random 32-byte strings as public keys: refuses exactly where libsodium refuses', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        const ours = codeOf(() => x25519PublicKeyFromEd25519(bytes));
        const theirs = sodiumPkToCurve(bytes);
        if (theirs === undefined) expect(ours).toBe('INVALID_KEY');
        else expect(toHex(x25519PublicKeyFromEd25519(bytes))).toBe(toHex(theirs));
      }),
      { seed: 0x5eed_0002, numRuns: 300 },
    );
  });

  it.each(file.invalidRecipientKeys.map((k) => [k.name, k] as const))('refuses invalid recipient key %s (INVALID_KEY), as libsodium does', (_name, k) => {
    const bytes = hex(k.publicKey);
    expect(codeOf(() => x25519PublicKeyFromEd25519(bytes))).toBe('INVALID_KEY');
    expect(codeOf(() => wrapDataKey(new Uint8Array(32).fill(1), bytes, { random: () => new Uint8Array(32).fill(2), associatedData: new Uint8Array(0) }))).toBe('INVALID_KEY');
    if (bytes.length === 32) expect(sodiumPkToCurve(bytes)).toBeUndefined();
  });

  it('agrees with libsodium on every y below 19 and every non-canonical y (p..p+18), both sign bits', () => {
    const P = ed25519.Point.Fp.ORDER;
    for (let k = 0n; k < 19n; k++) {
      for (const base of [k, P + k]) {
        for (const sign of [0, 0x80]) {
          const bytes = littleEndian32(base);
          bytes[31] = bytes[31]! | sign;
          const ours = codeOf(() => x25519PublicKeyFromEd25519(bytes));
          expect(ours === 'INVALID_KEY', `y=${base} sign=${sign}`).toBe(sodiumPkToCurve(bytes) === undefined);
        }
      }
    }
  });
});

function deriveX25519Public(secretKey: Uint8Array): Uint8Array {
  // X25519(s, 9) through libsodium, to tie the secret map to the public map independently of noble.
  const out = new Uint8Array(32);
  sodium.crypto_scalarmult_base(out, secretKey);
  return out;
}

function littleEndian32(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let v = n;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

describe('commitment', () => {
  const v = file.vectors[1]!;
  it('a different salt, ciphertext or commitment does not verify', () => {
    const ciphertext = hex(v.ciphertext);
    const salt = hex(v.commitmentSalt);
    const commitment = hex(v.commitment);
    const otherSalt = salt.slice();
    otherSalt[0] = otherSalt[0]! ^ 1;
    const otherCiphertext = ciphertext.slice();
    otherCiphertext[ciphertext.length - 1] = otherCiphertext[ciphertext.length - 1]! ^ 0x80;
    expect(verifyCommitment(ciphertext, otherSalt, commitment)).toBe(false);
    expect(verifyCommitment(otherCiphertext, salt, commitment)).toBe(false);
    expect(verifyCommitment(ciphertext, salt, commitment.subarray(1))).toBe(false);
    expect(verifyCommitment(ciphertext, salt.subarray(1), commitment)).toBe(false);
    expect(bytesEqual(commitCiphertext(ciphertext, otherSalt), commitment)).toBe(false);
  });
});
