/**
 * Test-only helpers for src/envelope: deterministic random sources, and an
 * independent HPKE / XChaCha20-Poly1305 built on libsodium (sodium-native) and
 * node:crypto HMAC, so vectors are checked against code that shares nothing
 * with @noble/*. Not imported by src/.
 */
import { createHmac } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import sodiumNative from 'sodium-native';
import { concatBytes, fromHex, toHex, u32be, utf8 } from '../../../src/codec/bytes.ts';
import type { RandomSource } from '../../../src/envelope/random.ts';

/** The part of sodium-native used here (its runtime takes any Uint8Array). Functions throw on a -1 status. */
interface Sodium {
  crypto_sign_seed_keypair(publicKey: Uint8Array, secretKey: Uint8Array, seed: Uint8Array): void;
  crypto_sign_ed25519_pk_to_curve25519(curvePk: Uint8Array, edPk: Uint8Array): void;
  crypto_sign_ed25519_sk_to_curve25519(curveSk: Uint8Array, edSk: Uint8Array): void;
  crypto_scalarmult(shared: Uint8Array, secretKey: Uint8Array, publicKey: Uint8Array): void;
  crypto_scalarmult_base(publicKey: Uint8Array, secretKey: Uint8Array): void;
  crypto_aead_xchacha20poly1305_ietf_encrypt(c: Uint8Array, m: Uint8Array, ad: Uint8Array | null, nsec: null, npub: Uint8Array, k: Uint8Array): number;
  crypto_aead_xchacha20poly1305_ietf_decrypt(m: Uint8Array, nsec: null, c: Uint8Array, ad: Uint8Array | null, npub: Uint8Array, k: Uint8Array): number;
  crypto_aead_chacha20poly1305_ietf_encrypt(c: Uint8Array, m: Uint8Array, ad: Uint8Array | null, nsec: null, npub: Uint8Array, k: Uint8Array): number;
  crypto_aead_chacha20poly1305_ietf_decrypt(m: Uint8Array, nsec: null, c: Uint8Array, ad: Uint8Array | null, npub: Uint8Array, k: Uint8Array): number;
}
export const sodium = sodiumNative as unknown as Sodium;

export function hex(text: string): Uint8Array {
  const bytes = fromHex(text);
  if (bytes === undefined) throw new Error(`not hex: ${text}`);
  return bytes;
}

/** A seeded random source: SHA-256("medchain-test-drbg" || label || u32be(block)) blocks; records each draw. */
export interface RecordingRandom {
  readonly random: RandomSource;
  /** Every draw so far, in order, as hex. */
  readonly draws: string[];
}

export function deterministicRandom(label: string): RecordingRandom {
  const prefix = concatBytes(utf8('medchain-test-drbg'), utf8(label));
  let block = 0;
  let buffer: Uint8Array = new Uint8Array(0);
  const draws: string[] = [];
  const random: RandomSource = (length) => {
    while (buffer.length < length) buffer = concatBytes(buffer, sha256(concatBytes(prefix, u32be(block++))));
    const out = buffer.slice(0, length);
    buffer = buffer.slice(length);
    draws.push(toHex(out));
    return out;
  };
  return { random, draws };
}

/** A random source that replays recorded draws exactly; throws if asked for a different length or more draws. */
export function tapeRandom(draws: readonly string[]): RandomSource & { remaining(): number } {
  let next = 0;
  const random = (length: number): Uint8Array => {
    const draw = draws[next];
    if (draw === undefined) throw new Error(`tape exhausted: draw ${next + 1} of ${length} bytes was not recorded`);
    const bytes = hex(draw);
    if (bytes.length !== length) throw new Error(`tape draw ${next + 1} holds ${bytes.length} bytes, ${length} asked for`);
    next++;
    return bytes;
  };
  return Object.assign(random, { remaining: () => draws.length - next });
}

/** Ed25519 public key and libsodium 64-byte secret key of a seed. */
export function sodiumKeyPair(seed: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array } {
  const publicKey = new Uint8Array(32);
  const secretKey = new Uint8Array(64);
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, seed);
  return { publicKey, secretKey };
}

/** libsodium's Ed25519 -> X25519 public map; undefined where libsodium refuses the key. */
export function sodiumPkToCurve(edPublicKey: Uint8Array): Uint8Array | undefined {
  const out = new Uint8Array(32);
  try {
    sodium.crypto_sign_ed25519_pk_to_curve25519(out, edPublicKey);
  } catch (error) {
    // sodium-native throws "status: -1" when libsodium refuses; anything else is a real failure.
    if (error instanceof Error && error.message.includes('-1')) return undefined;
    throw error;
  }
  return out;
}

export function sodiumSkToCurve(edSecretKey64: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  sodium.crypto_sign_ed25519_sk_to_curve25519(out, edSecretKey64);
  return out;
}

// ---- independent HPKE base mode, DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20-Poly1305 ----

function hmac(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(data).digest());
}

function hkdfExpand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  let t: Uint8Array = new Uint8Array(0);
  let out: Uint8Array = new Uint8Array(0);
  for (let i = 1; out.length < length; i++) {
    t = hmac(prk, concatBytes(t, info, Uint8Array.of(i)));
    out = concatBytes(out, t);
  }
  return out.slice(0, length);
}

const be2 = (n: number): Uint8Array => Uint8Array.of(n >> 8, n & 0xff);
const KEM_SUITE = concatBytes(utf8('KEM'), be2(0x20));
const HPKE_SUITE = concatBytes(utf8('HPKE'), be2(0x20), be2(1), be2(3));
const extractL = (suite: Uint8Array, salt: Uint8Array, label: string, ikm: Uint8Array): Uint8Array =>
  hmac(salt.length === 0 ? new Uint8Array(32) : salt, concatBytes(utf8('HPKE-v1'), suite, utf8(label), ikm));
const expandL = (suite: Uint8Array, prk: Uint8Array, label: string, info: Uint8Array, length: number): Uint8Array =>
  hkdfExpand(prk, concatBytes(be2(length), utf8('HPKE-v1'), suite, utf8(label), info), length);

function scalarmult(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  sodium.crypto_scalarmult(out, secretKey, publicKey);
  return out;
}

function scalarmultBase(secretKey: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  sodium.crypto_scalarmult_base(out, secretKey);
  return out;
}

function keySchedule(dh: Uint8Array, enc: Uint8Array, pkR: Uint8Array, info: Uint8Array): { key: Uint8Array; nonce: Uint8Array } {
  const shared = expandL(KEM_SUITE, extractL(KEM_SUITE, new Uint8Array(0), 'eae_prk', dh), 'shared_secret', concatBytes(enc, pkR), 32);
  const empty = new Uint8Array(0);
  const context = concatBytes(Uint8Array.of(0), extractL(HPKE_SUITE, empty, 'psk_id_hash', empty), extractL(HPKE_SUITE, empty, 'info_hash', info));
  const secret = extractL(HPKE_SUITE, shared, 'secret', empty);
  return { key: expandL(HPKE_SUITE, secret, 'key', context, 32), nonce: expandL(HPKE_SUITE, secret, 'base_nonce', context, 12) };
}

/** SealBase with the ephemeral key derived from ikmE, on libsodium + node:crypto. */
export function independentSeal(pkR: Uint8Array, info: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, ikmE: Uint8Array): { enc: Uint8Array; ciphertext: Uint8Array } {
  const skE = expandL(KEM_SUITE, extractL(KEM_SUITE, new Uint8Array(0), 'dkp_prk', ikmE), 'sk', new Uint8Array(0), 32);
  const enc = scalarmultBase(skE);
  const { key, nonce } = keySchedule(scalarmult(skE, pkR), enc, pkR, info);
  const ciphertext = new Uint8Array(plaintext.length + 16);
  sodium.crypto_aead_chacha20poly1305_ietf_encrypt(ciphertext, plaintext, aad, null, nonce, key);
  return { enc, ciphertext };
}

/** OpenBase on libsodium + node:crypto; throws when the tag does not verify. */
export function independentOpen(enc: Uint8Array, skR: Uint8Array, info: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const { key, nonce } = keySchedule(scalarmult(skR, enc), enc, scalarmultBase(skR), info);
  const plaintext = new Uint8Array(ciphertext.length - 16);
  sodium.crypto_aead_chacha20poly1305_ietf_decrypt(plaintext, null, ciphertext, aad, nonce, key);
  return plaintext;
}

/** libsodium XChaCha20-Poly1305 (IETF) decryption; throws when the tag does not verify. */
export function sodiumXChaChaOpen(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array {
  const plaintext = new Uint8Array(sealed.length - 16);
  sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(plaintext, null, sealed, aad, nonce, key);
  return plaintext;
}
