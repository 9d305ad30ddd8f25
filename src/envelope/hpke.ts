/**
 * HPKE (RFC 9180) base mode, single shot, for exactly one suite:
 * DHKEM(X25519, HKDF-SHA256) 0x0020, HKDF-SHA256 0x0001, ChaCha20-Poly1305 0x0003.
 * Only what a one-message key envelope needs: no PSK or auth modes, no
 * exporter, sequence number 0 only (so the AEAD nonce is base_nonce itself).
 * Pinned by RFC 9180 appendix A.2.1 in test/vectors/envelope.json.
 *
 * Internal to src/envelope: errors are raised by the callers, which know
 * whether a bad Diffie-Hellman input means a bad recipient key or a damaged
 * envelope.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { expand, extract } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8 } from '../codec/bytes.ts';

export const KEM_ID = 0x0020;
export const KDF_ID = 0x0001;
export const AEAD_ID = 0x0003;
/** Nenc = Npk = Nsk = Nsecret for DHKEM(X25519, HKDF-SHA256). */
export const ENC_LENGTH = 32;
const N_SECRET = 32;
const N_SK = 32;
const N_K = 32;
const N_N = 12;
export const TAG_LENGTH = 16;
const MODE_BASE = 0x00;

const HPKE_V1 = utf8('HPKE-v1');
const KEM_SUITE_ID = concatBytes(utf8('KEM'), i2osp2(KEM_ID));
const HPKE_SUITE_ID = concatBytes(utf8('HPKE'), i2osp2(KEM_ID), i2osp2(KDF_ID), i2osp2(AEAD_ID));
const EMPTY = new Uint8Array(0);

function i2osp2(n: number): Uint8Array {
  return Uint8Array.of((n >> 8) & 0xff, n & 0xff);
}

function labeledExtract(suiteId: Uint8Array, salt: Uint8Array, label: string, ikm: Uint8Array): Uint8Array {
  return extract(sha256, concatBytes(HPKE_V1, suiteId, utf8(label), ikm), salt);
}

function labeledExpand(suiteId: Uint8Array, prk: Uint8Array, label: string, info: Uint8Array, length: number): Uint8Array {
  return expand(sha256, prk, concatBytes(i2osp2(length), HPKE_V1, suiteId, utf8(label), info), length);
}

/** A Diffie-Hellman input that X25519 refuses (a low-order point) or whose result is all zeros. */
export class LowOrderPointError extends Error {
  constructor(options: { cause?: unknown }) {
    super('X25519 input is a low-order point (the shared secret would be all zeros)', options);
    this.name = 'LowOrderPointError';
  }
}

/** X25519(sk, pk), refusing low-order pk and an all-zero result (RFC 9180 7.1.4, RFC 7748 6.1). */
function dh(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(secretKey, publicKey);
  } catch (cause) {
    // Lengths are checked before we get here, so noble's only refusal is its low-order blocklist.
    throw new LowOrderPointError({ cause });
  }
  if (shared.every((b) => b === 0)) throw new LowOrderPointError({});
  return shared;
}

/** RFC 9180 7.1.3 DeriveKeyPair for X25519: the sender's ephemeral key from 32 random bytes. */
export function deriveKeyPair(ikm: Uint8Array): { secretKey: Uint8Array; publicKey: Uint8Array } {
  const dkpPrk = labeledExtract(KEM_SUITE_ID, EMPTY, 'dkp_prk', ikm);
  const secretKey = labeledExpand(KEM_SUITE_ID, dkpPrk, 'sk', EMPTY, N_SK);
  dkpPrk.fill(0);
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

function extractAndExpand(dhResult: Uint8Array, kemContext: Uint8Array): Uint8Array {
  const eaePrk = labeledExtract(KEM_SUITE_ID, EMPTY, 'eae_prk', dhResult);
  const sharedSecret = labeledExpand(KEM_SUITE_ID, eaePrk, 'shared_secret', kemContext, N_SECRET);
  eaePrk.fill(0);
  return sharedSecret;
}

/** DHKEM Encap with the ephemeral key derived from `ikmE` (GenerateKeyPair = DeriveKeyPair(random(Nsk))). */
export function encap(recipientPublicKey: Uint8Array, ikmE: Uint8Array): { enc: Uint8Array; sharedSecret: Uint8Array } {
  const ephemeral = deriveKeyPair(ikmE);
  const dhResult = dh(ephemeral.secretKey, recipientPublicKey);
  ephemeral.secretKey.fill(0);
  const enc = ephemeral.publicKey;
  const sharedSecret = extractAndExpand(dhResult, concatBytes(enc, recipientPublicKey));
  dhResult.fill(0);
  return { enc, sharedSecret };
}

/** DHKEM Decap; `recipientPublicKey` is X25519(recipientSecretKey, 9), passed in so callers can cache it. */
export function decap(enc: Uint8Array, recipientSecretKey: Uint8Array, recipientPublicKey: Uint8Array): Uint8Array {
  const dhResult = dh(recipientSecretKey, enc);
  const sharedSecret = extractAndExpand(dhResult, concatBytes(enc, recipientPublicKey));
  dhResult.fill(0);
  return sharedSecret;
}

/** KeySchedule for mode_base (psk = psk_id = ""): the AEAD key and base nonce. */
export function keyScheduleBase(sharedSecret: Uint8Array, info: Uint8Array): { key: Uint8Array; baseNonce: Uint8Array } {
  const pskIdHash = labeledExtract(HPKE_SUITE_ID, EMPTY, 'psk_id_hash', EMPTY);
  const infoHash = labeledExtract(HPKE_SUITE_ID, EMPTY, 'info_hash', info);
  const context = concatBytes(Uint8Array.of(MODE_BASE), pskIdHash, infoHash);
  const secret = labeledExtract(HPKE_SUITE_ID, sharedSecret, 'secret', EMPTY);
  const key = labeledExpand(HPKE_SUITE_ID, secret, 'key', context, N_K);
  const baseNonce = labeledExpand(HPKE_SUITE_ID, secret, 'base_nonce', context, N_N);
  secret.fill(0);
  return { key, baseNonce };
}

/** Single-shot SealBase: returns enc and the AEAD ciphertext (plaintext length + 16). */
export function sealBase(
  recipientPublicKey: Uint8Array,
  info: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
  ikmE: Uint8Array,
): { enc: Uint8Array; ciphertext: Uint8Array } {
  const { enc, sharedSecret } = encap(recipientPublicKey, ikmE);
  const { key, baseNonce } = keyScheduleBase(sharedSecret, info);
  sharedSecret.fill(0);
  const ciphertext = chacha20poly1305(key, baseNonce, aad).encrypt(plaintext);
  key.fill(0);
  return { enc, ciphertext };
}

/** Single-shot OpenBase; throws LowOrderPointError for a low-order enc and noble's error when the tag does not verify. */
export function openBase(
  enc: Uint8Array,
  recipientSecretKey: Uint8Array,
  recipientPublicKey: Uint8Array,
  info: Uint8Array,
  aad: Uint8Array,
  ciphertext: Uint8Array,
): Uint8Array {
  const sharedSecret = decap(enc, recipientSecretKey, recipientPublicKey);
  const { key, baseNonce } = keyScheduleBase(sharedSecret, info);
  sharedSecret.fill(0);
  try {
    return chacha20poly1305(key, baseNonce, aad).decrypt(ciphertext);
  } finally {
    key.fill(0);
  }
}
