/**
 * SHA-256 for transaction ids, block hashes and Merkle nodes.
 *
 * Backed by libsodium (sodium-native) rather than @noble/hashes: measured with
 * `node bench/verify.bench.ts` on the reference 2-core machine, libsodium is
 * about 4x faster for 32- and 200-byte inputs (the call overhead dominates
 * there) and about 3x faster for 64 KiB. Both compute the same function; the
 * NIST vectors in test/unit/crypto/hash.test.ts pin it.
 */
import sodiumNative from 'sodium-native';

/** The part of sodium-native used here. Its runtime accepts any typed array (it asserts ArrayBuffer.isView), not only Buffer as @types/sodium-native claims. */
interface SodiumSha256 {
  crypto_hash_sha256(output: Uint8Array, input: Uint8Array): void;
}

const sodium: SodiumSha256 = sodiumNative as unknown as SodiumSha256;

export const SHA256_LENGTH = 32;

/** SHA-256 of `data` as a new plain 32-byte Uint8Array. */
export function sha256(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(SHA256_LENGTH);
  sodium.crypto_hash_sha256(out, data);
  return out;
}
