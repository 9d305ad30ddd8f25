/** Record versions: XChaCha20-Poly1305 under a fresh data key, bound to their chain, record and version. */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { concatBytes, u32be, utf8 } from '../codec/bytes.ts';
import { drawRandom, requireBytes } from './checks.ts';
import { EnvelopeError, EnvelopeErrorCode } from './errors.ts';
import { checkHeader, header, HEADER_LENGTH, RECORD_KIND } from './format.ts';
import type { RandomSource } from './random.ts';

export const DATA_KEY_LENGTH = 32;
export const RECORD_NONCE_LENGTH = 24;
export const RECORD_TAG_LENGTH = 16;
/** Bytes a record ciphertext adds to its plaintext: header, nonce and tag. */
export const RECORD_OVERHEAD = HEADER_LENGTH + RECORD_NONCE_LENGTH + RECORD_TAG_LENGTH;

const RECORD_AD_DOMAIN = utf8('medchain/record-ad/v1');
const RECORD_ID_LENGTH = 32;
const MAX_VERSION = 0xffff_ffff;

/** A record version's ciphertext (the blob stored off chain) and the data key that opens it. */
export interface EncryptedRecord {
  readonly ciphertext: Uint8Array;
  readonly dataKey: Uint8Array;
}

export interface EncryptRecordOptions {
  /** Source of the data key (32 bytes, drawn first) and nonce (24 bytes, drawn second). */
  readonly random: RandomSource;
  /** What the ciphertext is bound to; use recordAssociatedData. */
  readonly associatedData: Uint8Array;
}

/**
 * The associated data that binds a ciphertext or key envelope to one record version:
 * "medchain/record-ad/v1" || u8 len || chainId (UTF-8) || u8 len || recordId (0 or 32 bytes) || u32be version.
 * recordId is null only for version 0: a record's id is the id of the transaction
 * that creates it, and that transaction carries the commitment of version 0's
 * ciphertext, so the id cannot be known when version 0 is encrypted.
 */
export function recordAssociatedData(chainId: string, recordId: Uint8Array | null, version: number): Uint8Array {
  if (typeof chainId !== 'string') throw new EnvelopeError(EnvelopeErrorCode.InvalidArgument, 'the chain id must be a string');
  const chain = utf8(chainId);
  if (chain.length === 0 || chain.length > 255) {
    throw new EnvelopeError(EnvelopeErrorCode.InvalidArgument, `the chain id must be 1 to 255 bytes of UTF-8, got ${chain.length}`);
  }
  if (!Number.isSafeInteger(version) || version < 0 || version > MAX_VERSION) {
    throw new EnvelopeError(EnvelopeErrorCode.InvalidArgument, `the record version must be an integer from 0 to ${MAX_VERSION}, got ${version}`);
  }
  if (recordId === null) {
    if (version !== 0) {
      throw new EnvelopeError(EnvelopeErrorCode.InvalidArgument, `only version 0 is encrypted before its record id exists; pass the record id for version ${version}`);
    }
  } else {
    requireBytes(recordId, RECORD_ID_LENGTH, 'the record id');
  }
  const id = recordId ?? new Uint8Array(0);
  return concatBytes(RECORD_AD_DOMAIN, Uint8Array.of(chain.length), chain, Uint8Array.of(id.length), id, u32be(version));
}

/** Encrypts one record version under a fresh random data key; returns the ciphertext container and the key. */
export function encryptRecord(plaintext: Uint8Array, options: EncryptRecordOptions): EncryptedRecord {
  requireBytes(plaintext, undefined, 'the plaintext');
  const associatedData = requireBytes(options.associatedData, undefined, 'the associated data');
  const dataKey = drawRandom(options.random, DATA_KEY_LENGTH, 'data key');
  const nonce = drawRandom(options.random, RECORD_NONCE_LENGTH, 'record nonce');
  const head = header(RECORD_KIND);
  const sealed = xchacha20poly1305(dataKey, nonce, concatBytes(head, associatedData)).encrypt(plaintext);
  return { ciphertext: concatBytes(head, nonce, sealed), dataKey };
}

/** Decrypts a record ciphertext; throws EnvelopeError (MALFORMED, UNSUPPORTED_VERSION, AUTH_FAILED) on any damage or mismatch. */
export function decryptRecord(ciphertext: Uint8Array, dataKey: Uint8Array, associatedData: Uint8Array): Uint8Array {
  requireBytes(ciphertext, undefined, 'the record ciphertext');
  requireBytes(dataKey, DATA_KEY_LENGTH, 'the data key');
  requireBytes(associatedData, undefined, 'the associated data');
  checkHeader(ciphertext, RECORD_KIND);
  if (ciphertext.length < RECORD_OVERHEAD) {
    throw new EnvelopeError(EnvelopeErrorCode.Malformed, `a record ciphertext is at least ${RECORD_OVERHEAD} bytes (header, nonce, tag), got ${ciphertext.length}; the blob is truncated`);
  }
  const head = ciphertext.subarray(0, HEADER_LENGTH);
  const nonce = ciphertext.subarray(HEADER_LENGTH, HEADER_LENGTH + RECORD_NONCE_LENGTH);
  const sealed = ciphertext.subarray(HEADER_LENGTH + RECORD_NONCE_LENGTH);
  try {
    return xchacha20poly1305(dataKey, nonce, concatBytes(head, associatedData)).decrypt(sealed);
  } catch (cause) {
    // Every length is checked above, so the cipher's only refusal left is a tag mismatch.
    throw new EnvelopeError(
      EnvelopeErrorCode.AuthFailed,
      'the record ciphertext did not authenticate: the data key, the associated data (chain, record, version) or the ciphertext is wrong',
      { cause },
    );
  }
}
