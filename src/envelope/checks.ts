/** Boundary checks shared by the envelope functions. */
import { EnvelopeError, EnvelopeErrorCode } from './errors.ts';
import type { RandomSource } from './random.ts';

/** Throws INVALID_ARGUMENT unless `value` is a Uint8Array of exactly `length` bytes. */
export function requireBytes(value: unknown, length: number | undefined, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new EnvelopeError(EnvelopeErrorCode.InvalidArgument, `${what} must be a Uint8Array`);
  }
  if (length !== undefined && value.length !== length) {
    throw new EnvelopeError(EnvelopeErrorCode.InvalidArgument, `${what} must be ${length} bytes, got ${value.length}`);
  }
  return value;
}

/**
 * Draws `length` bytes from `random` and copies them (the source may reuse its buffer).
 * Refuses a wrong length and an all-zero draw: the latter has probability 2^-(8*length)
 * from a working source and is what a stubbed `(n) => new Uint8Array(n)` returns.
 */
export function drawRandom(random: RandomSource, length: number, what: string): Uint8Array {
  if (typeof random !== 'function') {
    throw new EnvelopeError(EnvelopeErrorCode.InvalidArgument, `a random source is required for the ${what}; pass secureRandom from src/envelope/random.ts`);
  }
  const bytes = random(length);
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new EnvelopeError(EnvelopeErrorCode.InvalidArgument, `the random source returned ${bytes instanceof Uint8Array ? `${bytes.length} bytes` : 'a non-Uint8Array'} for the ${what}; ${length} bytes were asked for`);
  }
  if (bytes.every((b) => b === 0)) {
    throw new EnvelopeError(EnvelopeErrorCode.InvalidArgument, `the random source returned all zeros for the ${what}; it is broken or a stub, pass secureRandom`);
  }
  return bytes.slice();
}
