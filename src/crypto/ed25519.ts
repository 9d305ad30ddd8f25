/**
 * Ed25519 keys and signatures (RFC 8032 "pure" Ed25519, no context, no prehash).
 *
 * THE CONSENSUS VERIFICATION RULE. Every node must accept exactly the same
 * signatures, so `verify` is libsodium's crypto_sign_verify_detached (the copy
 * bundled in sodium-native 5.1.0, libsodium commit e18eee6, built without
 * ED25519_COMPAT) behind length checks. With sig = R || S (32 + 32 bytes),
 * public key A (32 bytes) and k = SHA-512(R || A || M) mod L, it accepts iff:
 *   1. the signature is exactly 64 bytes and the public key exactly 32 bytes
 *      (libsodium alone would read the first 64 bytes of a longer signature);
 *   2. S < L (canonical scalar; L = 2^252 + 27742317777372353535851937790883648493);
 *   3. R is not one of the small-order encodings (y in {0, 1, p-1, p, p+1} or an
 *      order-8 y, with either sign bit);
 *   4. A is canonical (its y, sign bit cleared, is below p = 2^255 - 19) and
 *      not a small-order encoding (same list as R);
 *   5. A decodes to a curve point;
 *   6. the COFACTORLESS equation holds byte-for-byte: encode([S]B - [k]A) == R.
 *      Because the comparison is against R's bytes, a non-canonical R never verifies.
 * Mixed-order A (large-order point plus torsion) is NOT rejected by itself; it
 * verifies only when the cofactorless equation holds. Pinned by
 * test/vectors/ed25519.json; a libsodium upgrade that changes any of it breaks
 * those vectors and is a consensus change.
 *
 * This rule differs from @noble/curves `verify(..., { zip215: false })`, which is
 * cofactored and accepts small-order R; the vector file records each such case.
 */
import sodiumNative from 'sodium-native';
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

/** The part of sodium-native used here. Its runtime accepts any typed array (it asserts ArrayBuffer.isView), not only Buffer as @types/sodium-native claims. */
interface SodiumEd25519 {
  crypto_sign_seed_keypair(publicKey: Uint8Array, secretKey: Uint8Array, seed: Uint8Array): void;
  crypto_sign_detached(signature: Uint8Array, message: Uint8Array, secretKey: Uint8Array): void;
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}

const sodium: SodiumEd25519 = sodiumNative as unknown as SodiumEd25519;

/** Derives the key pair for a 32-byte seed (the RFC 8032 private key). */
export function keyPairFromSeed(seed: Uint8Array): KeyPair {
  if (seed.length !== SEED_LENGTH) {
    throw new RangeError(`Ed25519 seed must be ${SEED_LENGTH} bytes, got ${seed.length}`);
  }
  const publicKey = new Uint8Array(PUBLIC_KEY_LENGTH);
  const secretKey = new Uint8Array(SECRET_KEY_LENGTH);
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, seed);
  return { publicKey, secretKey, seed: secretKey.slice(0, SEED_LENGTH) };
}

/** Signs `message` with a 64-byte libsodium secret key (seed || publicKey); deterministic per RFC 8032. */
export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (secretKey.length !== SECRET_KEY_LENGTH) {
    throw new RangeError(
      `Ed25519 secret key must be ${SECRET_KEY_LENGTH} bytes (seed || public key), got ${secretKey.length}; use keyPairFromSeed to build one`,
    );
  }
  const signature = new Uint8Array(SIGNATURE_LENGTH);
  sodium.crypto_sign_detached(signature, message, secretKey);
  return signature;
}

/** The consensus signature check (see the rule above); never throws, false for any malformed input. */
export function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  // [REJECT] Signature must be exactly 64 bytes and the public key exactly 32 bytes.
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) return false;
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH) return false;
  if (!(message instanceof Uint8Array)) return false;
  return sodium.crypto_sign_verify_detached(signature, message, publicKey);
}

/**
 * Short display form of an account id: the first 8 bytes of the public key as
 * lowercase hex in four dash-separated groups, e.g. "d75a-9801-82b1-0ab7". It is
 * a prefix of the key's hex form, so it can be matched by eye or by prefix
 * search. For display only: 64 bits can be ground for, so never use it to
 * identify or authorise an account.
 */
export function fingerprint(publicKey: Uint8Array): string {
  if (publicKey.length !== PUBLIC_KEY_LENGTH) {
    throw new RangeError(`Ed25519 public key must be ${PUBLIC_KEY_LENGTH} bytes, got ${publicKey.length}`);
  }
  const hex = toHex(publicKey.subarray(0, 8));
  return `${hex.slice(0, 4)}-${hex.slice(4, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}`;
}
