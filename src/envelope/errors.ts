/** Why an envelope operation refused its input; stable strings, safe to show and to match on. */
export const EnvelopeErrorCode = {
  /** The bytes are not a record ciphertext or key envelope of a known shape (wrong kind, wrong length, a low-order ephemeral key). */
  Malformed: 'MALFORMED',
  /** A format version this build does not know; upgrade the client. */
  UnsupportedVersion: 'UNSUPPORTED_VERSION',
  /** Authentication failed: wrong key, wrong recipient, wrong associated data, or the bytes were altered. */
  AuthFailed: 'AUTH_FAILED',
  /** A recipient public key that no honest Ed25519 key pair produces (not a point, small order, or outside the prime-order subgroup). */
  InvalidKey: 'INVALID_KEY',
  /** The caller passed a wrong-sized key, seed, salt or context, or a random source that returned bad bytes. */
  InvalidArgument: 'INVALID_ARGUMENT',
} as const;
export type EnvelopeErrorCode = (typeof EnvelopeErrorCode)[keyof typeof EnvelopeErrorCode];

/** The one error type src/envelope throws; `code` says what went wrong, `message` what to do about it. */
export class EnvelopeError extends Error {
  readonly code: EnvelopeErrorCode;

  constructor(code: EnvelopeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EnvelopeError';
    this.code = code;
  }
}
