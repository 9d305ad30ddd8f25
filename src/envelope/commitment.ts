/**
 * The on-chain commitment of a record version's ciphertext:
 *   commitment = SHA-256("medchain/ciphertext-commitment/v1" || salt (32) || SHA-256(ciphertext))
 * Binding by SHA-256 collision resistance; hiding because the 256-bit salt stays
 * off chain with the blob: without it nobody can link a ciphertext copy (held
 * by a revoked reader, or left somewhere after an erase) to a record on chain.
 * The ciphertext enters through its own hash so a blob store can check a
 * commitment from a digest it computed while streaming the blob.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesEqual, concatBytes, utf8 } from '../codec/bytes.ts';
import { drawRandom, isBytes, requireBytes } from './checks.ts';
import type { RandomSource } from './random.ts';

export const COMMITMENT_SALT_LENGTH = 32;
export const COMMITMENT_LENGTH = 32;
const COMMITMENT_DOMAIN = utf8('medchain/ciphertext-commitment/v1');

/** A fresh 32-byte commitment salt; keep it with the ciphertext, never on chain. */
export function newCommitmentSalt(random: RandomSource): Uint8Array {
  return drawRandom(random, COMMITMENT_SALT_LENGTH, 'commitment salt');
}

/** The commitment from the ciphertext's SHA-256 digest (for callers that hashed the blob while streaming it). */
export function commitCiphertextDigest(ciphertextDigest: Uint8Array, salt: Uint8Array): Uint8Array {
  requireBytes(ciphertextDigest, 32, 'the ciphertext digest');
  requireBytes(salt, COMMITMENT_SALT_LENGTH, 'the commitment salt');
  return sha256(concatBytes(COMMITMENT_DOMAIN, salt, ciphertextDigest));
}

/** The 32-byte salted commitment of a ciphertext, the value a record version puts on chain. */
export function commitCiphertext(ciphertext: Uint8Array, salt: Uint8Array): Uint8Array {
  requireBytes(ciphertext, undefined, 'the ciphertext');
  return commitCiphertextDigest(sha256(ciphertext), salt);
}

/** True when `commitment` is the commitment of `ciphertext` under `salt`; false for any wrong-sized input. */
export function verifyCommitment(ciphertext: Uint8Array, salt: Uint8Array, commitment: Uint8Array): boolean {
  if (!isBytes(ciphertext) || !isBytes(salt) || !isBytes(commitment)) return false;
  if (salt.length !== COMMITMENT_SALT_LENGTH || commitment.length !== COMMITMENT_LENGTH) return false;
  return bytesEqual(commitCiphertext(ciphertext, salt), commitment);
}
