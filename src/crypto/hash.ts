/**
 * SHA-256 for transaction ids, block hashes and Merkle nodes.
 *
 * Backed by libsodium (sodium-native) rather than @noble/hashes: measured with
 * `node bench/verify.bench.ts` on the reference 2-core machine, libsodium takes
 * 0.5-0.7 us for 32 bytes (noble 0.8-1.1 us), 1.0-1.2 us for 200 bytes
 * (noble 1.8-2.0 us) and 162 us for 64 KiB (noble 275 us). Both compute the same
 * function; the NIST vectors in test/unit/crypto/hash.test.ts pin it.
 */
import sodiumNative from 'sodium-native';

/** The part of sodium-native used here. Its runtime accepts any typed array (it asserts ArrayBuffer.isView), not only Buffer as @types/sodium-native claims. */
interface SodiumSha256 {
  crypto_hash_sha256(output: Uint8Array, input: Uint8Array): void;
}

const sodium: SodiumSha256 = sodiumNative as unknown as SodiumSha256;

export const SHA256_LENGTH = 32;

/**
 * The digest is written here, then copied out. V8 keeps a fresh 32-byte typed array inside its heap, and
 * native code can only write one after moving its bytes out of the heap (most of the cost of a short hash);
 * this buffer is moved once. A transaction id, a Merkle node: 1.04 -> 0.53 us (bench/verify.bench.ts style
 * loop, 200-byte and 33-byte inputs). Hashing is synchronous, so one buffer per thread is enough.
 */
const digest = new Uint8Array(SHA256_LENGTH);

/** SHA-256 of `data` as a new plain 32-byte Uint8Array. */
export function sha256(data: Uint8Array): Uint8Array {
  sodium.crypto_hash_sha256(digest, data);
  return digest.slice();
}
