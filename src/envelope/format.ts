/**
 * The two binary containers src/envelope writes. Each starts with a two-byte
 * header, kind then format version, and the header is authenticated (it is
 * prefixed to the AEAD associated data), so changing it cannot go unnoticed.
 *
 *   record ciphertext  'R' 0x01 || nonce (24) || XChaCha20-Poly1305 ciphertext || tag (16)
 *   key envelope       'K' 0x01 || enc (32)   || ChaCha20-Poly1305(data key) (32) || tag (16)   = 82 bytes
 */
import { EnvelopeError, EnvelopeErrorCode } from './errors.ts';

export const HEADER_LENGTH = 2;
export const FORMAT_VERSION = 0x01;
export const RECORD_KIND = 0x52; // 'R'
export const ENVELOPE_KIND = 0x4b; // 'K'

const KIND_NAMES: ReadonlyMap<number, string> = new Map([
  [RECORD_KIND, 'a record ciphertext'],
  [ENVELOPE_KIND, 'a key envelope'],
]);

export function header(kind: number): Uint8Array {
  return Uint8Array.of(kind, FORMAT_VERSION);
}

/** Checks kind and version; throws MALFORMED for a wrong kind, UNSUPPORTED_VERSION for an unknown version. */
export function checkHeader(bytes: Uint8Array, kind: number): void {
  const expected = KIND_NAMES.get(kind) ?? 'an envelope container';
  if (bytes.length < HEADER_LENGTH) {
    throw new EnvelopeError(EnvelopeErrorCode.Malformed, `${expected} starts with a ${HEADER_LENGTH}-byte header, got ${bytes.length} bytes in all; the data is truncated`);
  }
  if (bytes[0] !== kind) {
    const actual = KIND_NAMES.get(bytes[0]!);
    throw new EnvelopeError(
      EnvelopeErrorCode.Malformed,
      actual === undefined ? `expected ${expected}, but the bytes do not start with its header` : `expected ${expected}, got ${actual}; check which blob was passed`,
    );
  }
  if (bytes[1] !== FORMAT_VERSION) {
    throw new EnvelopeError(EnvelopeErrorCode.UnsupportedVersion, `${expected} in format version ${bytes[1]!}; this build reads version ${FORMAT_VERSION} only, upgrade the client`);
  }
}
