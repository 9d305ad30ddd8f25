/** Key envelopes: a record version's data key sealed to one reader with HPKE base mode (see hpke.ts). */
import { x25519 } from '@noble/curves/ed25519.js';
import { concatBytes, utf8 } from '../codec/bytes.ts';
import { drawRandom, requireBytes } from './checks.ts';
import { EnvelopeError, EnvelopeErrorCode } from './errors.ts';
import { checkHeader, ENVELOPE_KIND, header, HEADER_LENGTH } from './format.ts';
import { ENC_LENGTH, LowOrderPointError, openBase, sealBase, TAG_LENGTH } from './hpke.ts';
import { x25519PublicKeyFromEd25519, x25519SecretKeyFromEd25519Seed } from './keys.ts';
import type { RandomSource } from './random.ts';
import { DATA_KEY_LENGTH } from './recordCipher.ts';

/** HPKE `info`: separates medchain key envelopes from any other use of the same X25519 key. */
export const ENVELOPE_INFO = utf8('medchain/key-envelope/v1');
export const KEY_ENVELOPE_LENGTH = HEADER_LENGTH + ENC_LENGTH + DATA_KEY_LENGTH + TAG_LENGTH;
const IKM_LENGTH = 32;

export interface WrapDataKeyOptions {
  /** Source of the 32 bytes the ephemeral X25519 key is derived from (HPKE DeriveKeyPair). */
  readonly random: RandomSource;
  /** The same associated data the record ciphertext was encrypted with (recordAssociatedData). */
  readonly associatedData: Uint8Array;
}

/** Seals `dataKey` to the holder of the Ed25519 identity `recipientEd25519PublicKey`; returns the 82-byte envelope. */
export function wrapDataKey(dataKey: Uint8Array, recipientEd25519PublicKey: Uint8Array, options: WrapDataKeyOptions): Uint8Array {
  requireBytes(dataKey, DATA_KEY_LENGTH, 'the data key');
  const associatedData = requireBytes(options.associatedData, undefined, 'the associated data');
  const recipient = x25519PublicKeyFromEd25519(recipientEd25519PublicKey);
  const ikmE = drawRandom(options.random, IKM_LENGTH, 'ephemeral key');
  const head = header(ENVELOPE_KIND);
  let sealed: { enc: Uint8Array; ciphertext: Uint8Array };
  try {
    sealed = sealBase(recipient, ENVELOPE_INFO, concatBytes(head, associatedData), dataKey, ikmE);
  } catch (cause) {
    // Unreachable for keys that passed x25519PublicKeyFromEd25519 (prime-order points are never low order); kept as a hard stop.
    if (cause instanceof LowOrderPointError) {
      throw new EnvelopeError(EnvelopeErrorCode.InvalidKey, 'the recipient X25519 key is a low-order point', { cause });
    }
    throw cause;
  } finally {
    ikmE.fill(0);
  }
  return concatBytes(head, sealed.enc, sealed.ciphertext);
}

/** Opens an envelope with the recipient's 32-byte Ed25519 seed; throws EnvelopeError (MALFORMED, UNSUPPORTED_VERSION, AUTH_FAILED). */
export function unwrapDataKey(envelope: Uint8Array, recipientEd25519Seed: Uint8Array, associatedData: Uint8Array): Uint8Array {
  requireBytes(envelope, undefined, 'the key envelope');
  requireBytes(associatedData, undefined, 'the associated data');
  const secretKey = x25519SecretKeyFromEd25519Seed(recipientEd25519Seed);
  checkHeader(envelope, ENVELOPE_KIND);
  if (envelope.length !== KEY_ENVELOPE_LENGTH) {
    secretKey.fill(0);
    throw new EnvelopeError(EnvelopeErrorCode.Malformed, `a key envelope is exactly ${KEY_ENVELOPE_LENGTH} bytes, got ${envelope.length}; it is truncated or has trailing bytes`);
  }
  const head = envelope.subarray(0, HEADER_LENGTH);
  const enc = envelope.subarray(HEADER_LENGTH, HEADER_LENGTH + ENC_LENGTH);
  const sealed = envelope.subarray(HEADER_LENGTH + ENC_LENGTH);
  try {
    return openBase(enc, secretKey, x25519.getPublicKey(secretKey), ENVELOPE_INFO, concatBytes(head, associatedData), sealed);
  } catch (cause) {
    if (cause instanceof LowOrderPointError) {
      throw new EnvelopeError(EnvelopeErrorCode.Malformed, "the key envelope's ephemeral key is a low-order point; the envelope is damaged or forged", { cause });
    }
    // Lengths and the ephemeral key are checked, so what is left is a tag mismatch.
    throw new EnvelopeError(
      EnvelopeErrorCode.AuthFailed,
      'the key envelope did not open: it was sealed to another key, for other associated data (chain, record, version), or it was altered',
      { cause },
    );
  } finally {
    secretKey.fill(0);
  }
}
