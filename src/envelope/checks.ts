/** Boundary checks shared by the envelope functions. */
import { EnvelopeError, EnvelopeErrorCode } from './errors.ts';
import type { RandomSource } from './random.ts';

/**
 * True for a Uint8Array from any realm. `instanceof` alone is false for arrays
 * made in another realm (an iframe, a vm context, a TextEncoder passed in from
 * the host), which are just as good; this is the test @noble/* uses.
 */
export function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array || (ArrayBuffer.isView(value) && value.constructor.name === 'Uint8Array');
}

/** Throws INVALID_ARGUMENT unless `value` is a Uint8Array of exactly `length` bytes. */
export function requireBytes(value: unknown, length: number | undefined, what: string): Uint8Array {
  if (!isBytes(value)) {
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
  if (!isBytes(bytes) || bytes.length !== length) {
    throw new EnvelopeError(EnvelopeErrorCode.InvalidArgument, `the random source returned ${isBytes(bytes) ? `${bytes.length} bytes` : 'a non-Uint8Array'} for the ${what}; ${length} bytes were asked for`);
  }
  if (bytes.every((b) => b === 0)) {
    throw new EnvelopeError(EnvelopeErrorCode.InvalidArgument, `the random source returned all zeros for the ${what}; it is broken or a stub, pass secureRandom`);
  }
  return bytes.slice();
}
