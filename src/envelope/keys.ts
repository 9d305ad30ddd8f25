/**
 * Ed25519 identity -> X25519 encryption key, so an account id (the Ed25519
 * public key) is all a patient needs to share with a doctor.
 *
 * The maps are the standard ones, byte-for-byte what libsodium's
 * crypto_sign_ed25519_pk_to_curve25519 and crypto_sign_ed25519_sk_to_curve25519
 * compute (pinned by test/unit/envelope/vectors.test.ts):
 *   public:  u = (1 + y) / (1 - y) mod p, the birational map from the Edwards y coordinate;
 *   secret:  clamp(SHA-512(seed)[0..32]), the same scalar Ed25519 signs with, so
 *            X25519(secret, 9) equals the public map above.
 * Public keys that no honest key pair produces are refused, as libsodium does:
 * non-canonical or off-curve encodings, small-order points, and points with a
 * torsion component (outside the prime-order subgroup).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { isBytes, requireBytes } from './checks.ts';
import { EnvelopeError, EnvelopeErrorCode } from './errors.ts';

export const ED25519_PUBLIC_KEY_LENGTH = 32;
export const ED25519_SEED_LENGTH = 32;
export const X25519_KEY_LENGTH = 32;

/** The X25519 public key of an Ed25519 public key (an account id); throws INVALID_KEY for keys no honest key pair has. */
export function x25519PublicKeyFromEd25519(ed25519PublicKey: Uint8Array): Uint8Array {
  if (!isBytes(ed25519PublicKey) || ed25519PublicKey.length !== ED25519_PUBLIC_KEY_LENGTH) {
    throw new EnvelopeError(EnvelopeErrorCode.InvalidKey, `an Ed25519 public key is ${ED25519_PUBLIC_KEY_LENGTH} bytes; check that the account id was copied whole`);
  }
  let point: ReturnType<typeof ed25519.Point.fromBytes>;
  try {
    // zip215 = false: RFC 8032 decoding, so a non-canonical y (>= p) is refused.
    point = ed25519.Point.fromBytes(ed25519PublicKey, false);
  } catch (cause) {
    throw new EnvelopeError(EnvelopeErrorCode.InvalidKey, 'the recipient public key is not an Ed25519 curve point; check the account id', { cause });
  }
  if (point.isSmallOrder()) {
    throw new EnvelopeError(EnvelopeErrorCode.InvalidKey, 'the recipient public key is a small-order point; no real account has it');
  }
  if (!point.isTorsionFree()) {
    throw new EnvelopeError(EnvelopeErrorCode.InvalidKey, 'the recipient public key has a torsion component; no real account has it');
  }
  return ed25519.utils.toMontgomery(ed25519PublicKey);
}

/** The X25519 secret key (clamped scalar) of an Ed25519 32-byte seed: clamp(SHA-512(seed)[0..32]). */
export function x25519SecretKeyFromEd25519Seed(ed25519Seed: Uint8Array): Uint8Array {
  requireBytes(ed25519Seed, ED25519_SEED_LENGTH, 'the Ed25519 seed (the first 32 bytes of a libsodium secret key)');
  return ed25519.utils.toMontgomerySecret(ed25519Seed);
}
