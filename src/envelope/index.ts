/**
 * Envelope encryption for medical records. One module for Node and the browser:
 * it imports only @noble/ciphers, @noble/curves, @noble/hashes and
 * src/codec/bytes.ts (no node:, no Buffer, no native code), and it never draws
 * randomness itself: every function that needs random bytes takes a
 * `random: RandomSource` argument (secureRandom in production), so the same
 * inputs and random bytes always give the same output (test/vectors/envelope.json).
 *
 * Per record version (docs/encryption.md has the full picture):
 *   1. encryptRecord: a fresh 32-byte data key and 24-byte nonce, XChaCha20-Poly1305.
 *      ciphertext = 'R' 0x01 || nonce || ct || tag; AEAD associated data = the
 *      2-byte header || recordAssociatedData(chainId, recordId, version), so a
 *      ciphertext moved to another chain, record or version does not open.
 *   2. commitCiphertext: SHA-256("medchain/ciphertext-commitment/v1" || salt || SHA-256(ciphertext))
 *      goes on chain; the 32-byte salt stays off chain with the blob.
 *   3. wrapDataKey, once per reader (the owner included): HPKE base mode (RFC 9180),
 *      DHKEM(X25519, HKDF-SHA256) + HKDF-SHA256 + ChaCha20-Poly1305, single shot,
 *      info = "medchain/key-envelope/v1", aad = 'K' 0x01 || the record's associated data.
 *      The reader's X25519 key is the Montgomery form of their Ed25519 account id,
 *      so one public key is all a patient needs from a doctor.
 *      envelope = 'K' 0x01 || enc (32) || sealed data key (48): 82 bytes.
 *   4. unwrapDataKey with the reader's Ed25519 seed (X25519 secret = clamp(SHA-512(seed)[0..32])),
 *      then decryptRecord.
 *
 * Why HPKE rather than an ad hoc ephemeral-DH + HKDF + AEAD: it is the same
 * construction (one ephemeral X25519, HKDF-SHA256, an AEAD) with a published
 * analysis, a labelled key schedule that binds the ephemeral and recipient keys
 * (kem_context = enc || pkR), and RFC test vectors (appendix A.2.1) that pin this
 * implementation to independent ones; other HPKE libraries can open our envelopes.
 * The AEAD inside HPKE is ChaCha20-Poly1305 because its nonce is derived, never
 * random, so XChaCha's longer nonce buys nothing there.
 *
 * Every refusal is an EnvelopeError with a code: MALFORMED (wrong kind or length,
 * low-order ephemeral key), UNSUPPORTED_VERSION, AUTH_FAILED (any altered byte,
 * wrong key, wrong recipient, wrong associated data), INVALID_KEY (recipient public
 * key no honest key pair has), INVALID_ARGUMENT (caller mistakes, broken random source).
 */
export { EnvelopeError, EnvelopeErrorCode } from './errors.ts';
export { secureRandom, type RandomSource } from './random.ts';
export {
  DATA_KEY_LENGTH,
  RECORD_NONCE_LENGTH,
  RECORD_OVERHEAD,
  RECORD_TAG_LENGTH,
  decryptRecord,
  encryptRecord,
  recordAssociatedData,
  type EncryptRecordOptions,
  type EncryptedRecord,
} from './recordCipher.ts';
export { ENVELOPE_INFO, KEY_ENVELOPE_LENGTH, unwrapDataKey, wrapDataKey, type WrapDataKeyOptions } from './keyEnvelope.ts';
export {
  COMMITMENT_LENGTH,
  COMMITMENT_SALT_LENGTH,
  commitCiphertext,
  commitCiphertextDigest,
  newCommitmentSalt,
  verifyCommitment,
} from './commitment.ts';
export { ED25519_PUBLIC_KEY_LENGTH, ED25519_SEED_LENGTH, X25519_KEY_LENGTH, x25519PublicKeyFromEd25519, x25519SecretKeyFromEd25519Seed } from './keys.ts';
