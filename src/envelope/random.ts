/**
 * The only source of randomness src/envelope ships. Every function that needs
 * random bytes takes a RandomSource argument instead of reaching for one, so
 * the core stays deterministic under a deterministic source (known-answer tests).
 */

/** Returns `length` fresh random bytes. */
export type RandomSource = (length: number) => Uint8Array;

// Web Crypto refuses more than 65,536 bytes per getRandomValues call.
const MAX_CHUNK = 65_536;

/** Cryptographically secure random bytes from Web Crypto (Node 19+ and every browser). */
export const secureRandom: RandomSource = (length: number): Uint8Array => {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`random length must be a non-negative integer, got ${length}`);
  const out = new Uint8Array(length);
  for (let offset = 0; offset < length; offset += MAX_CHUNK) {
    globalThis.crypto.getRandomValues(out.subarray(offset, Math.min(length, offset + MAX_CHUNK)));
  }
  return out;
};
