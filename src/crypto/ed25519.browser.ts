/**
 * Ed25519 for the browser build (src/web): the API of ed25519.ts on @noble/curves instead of sodium-native,
 * which is native code and cannot run in a page. config/vite.config.ts substitutes this file for ed25519.ts.
 *
 * Key derivation and signing are RFC 8032 and deterministic, so keys and signatures are byte-identical to
 * libsodium's (test/unit/web/browserCrypto.test.ts). `verify` is NOT the consensus rule: noble's check is
 * cofactored and accepts a few edge-case signatures libsodium refuses (test/vectors/ed25519.json lists
 * them). The browser signs; it verifies nothing consensus-critical, and nodes always check with libsodium.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { toHex } from '../codec/bytes.ts';

export const PUBLIC_KEY_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;
export const SEED_LENGTH = 32;
export const SECRET_KEY_LENGTH = 64;

/** An Ed25519 key pair; secretKey uses libsodium's layout seed || publicKey. */
export interface KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
  seed: Uint8Array;
}

/** Derives the key pair for a 32-byte seed (the RFC 8032 private key). */
export function keyPairFromSeed(seed: Uint8Array): KeyPair {
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_LENGTH) {
    throw new RangeError(`Ed25519 seed must be ${SEED_LENGTH} bytes, got ${seed instanceof Uint8Array ? seed.length : typeof seed}`);
  }
  const publicKey = ed25519.getPublicKey(seed);
  const secretKey = new Uint8Array(SECRET_KEY_LENGTH);
  secretKey.set(seed, 0);
  secretKey.set(publicKey, SEED_LENGTH);
  return { publicKey, secretKey, seed: secretKey.slice(0, SEED_LENGTH) };
}

/** Signs `message` with a 64-byte libsodium-layout secret key (seed || publicKey); deterministic per RFC 8032. */
export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== SECRET_KEY_LENGTH) {
    throw new RangeError(
      `Ed25519 secret key must be ${SECRET_KEY_LENGTH} bytes (seed || public key), got ${secretKey instanceof Uint8Array ? secretKey.length : typeof secretKey}; use keyPairFromSeed to build one`,
    );
  }
  const seed = secretKey.subarray(0, SEED_LENGTH);
  // libsodium signs with the public key stored in the secret key; a mismatched one would make a signature
  // no node accepts, so refuse it here instead of sending it.
  const publicKey = ed25519.getPublicKey(seed);
  for (let i = 0; i < PUBLIC_KEY_LENGTH; i++) {
    if (publicKey[i] !== secretKey[SEED_LENGTH + i]) throw new RangeError('Ed25519 secret key: its public half does not belong to its seed');
  }
  return ed25519.sign(message, seed);
}

/** A strict (RFC 8032, non-ZIP-215) signature check for display only; never throws, false for malformed input. */
export function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) return false;
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH) return false;
  if (!(message instanceof Uint8Array)) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    // noble throws on encodings it cannot decode; the Node variant answers false for those.
    return false;
  }
}

/** Short display form of an account id, as ed25519.ts: the first 8 bytes as hex in four dash-separated groups. */
export function fingerprint(publicKey: Uint8Array): string {
  if (publicKey.length !== PUBLIC_KEY_LENGTH) {
    throw new RangeError(`Ed25519 public key must be ${PUBLIC_KEY_LENGTH} bytes, got ${publicKey.length}`);
  }
  const hex = toHex(publicKey.subarray(0, 8));
  return `${hex.slice(0, 4)}-${hex.slice(4, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}`;
}
