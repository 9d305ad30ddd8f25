/**
 * SHA-256 for transaction ids, block hashes, Merkle nodes and the state commitment.
 *
 * Two backends computing the same function, chosen by input length. Measured on the reference 2-core
 * machine (SHA-NI CPU, Node 24, medians of 7 runs, bench/out/cross.mjs style loop, copy-out included):
 *
 *   bytes    sodium-native   node:crypto hash()
 *      33        0.29 us         1.03 us
 *     256        0.95 us         1.12 us
 *     320-368    1.11 us         1.11 us
 *     384        1.27 us         1.15 us
 *     512        1.59 us         1.24 us
 *    1000        2.70 us         1.39 us
 *  300 KB         756 us          153 us
 *
 * libsodium's portable C code costs ~0.16 us per 64-byte block; OpenSSL (behind node:crypto) uses the
 * SHA-NI instructions but pays ~1 us to cross into C++. They tie up to 383 bytes, so ids and Merkle nodes
 * stay on sodium and everything from {@link NODE_HASH_MIN_LENGTH} bytes up goes to node:crypto (the state
 * commitment hashes ~300 KB per 5,000-transaction block). The NIST vectors and the @noble/hashes
 * comparison in test/unit/crypto/hash.test.ts pin both paths.
 *
 * node:crypto is the one node: import the pure core allows (test/unit/purity.test.ts), for this file only:
 * hashing is deterministic; randomness and I/O stay forbidden.
 */
import { hash } from 'node:crypto';
import sodiumNative from 'sodium-native';

/** The part of sodium-native used here. Its runtime accepts any typed array (it asserts ArrayBuffer.isView), not only Buffer as @types/sodium-native claims. */
interface SodiumSha256 {
  crypto_hash_sha256(output: Uint8Array, input: Uint8Array): void;
}

const sodium: SodiumSha256 = sodiumNative as unknown as SodiumSha256;

export const SHA256_LENGTH = 32;

/** Inputs this long or longer are hashed by node:crypto (measured crossover, see the table above). */
export const NODE_HASH_MIN_LENGTH = 384;

/**
 * The sodium digest is written here, then copied out. V8 keeps a fresh 32-byte typed array inside its heap, and
 * native code can only write one after moving its bytes out of the heap (most of the cost of a short hash);
 * this buffer is moved once. A transaction id, a Merkle node: 1.04 -> 0.53 us (bench/verify.bench.ts style
 * loop, 200-byte and 33-byte inputs). Hashing is synchronous, so one buffer per thread is enough.
 */
const digest = new Uint8Array(SHA256_LENGTH);

/** SHA-256 of `data` as a new plain 32-byte Uint8Array (never a Buffer: callers compare digests with toEqual). */
export function sha256(data: Uint8Array): Uint8Array {
  if (data.length >= NODE_HASH_MIN_LENGTH) return new Uint8Array(hash('sha256', data, 'buffer'));
  sodium.crypto_hash_sha256(digest, data);
  return digest.slice();
}
