/**
 * SHA-256 for the browser build (src/web): the same function as hash.ts, on @noble/hashes instead of
 * sodium-native, which is native code and cannot run in a page. config/vite.config.ts substitutes this file
 * for hash.ts; test/unit/web/browserCrypto.test.ts checks both give identical digests.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

export const SHA256_LENGTH = 32;

/** SHA-256 of `data` as a new plain 32-byte Uint8Array. */
export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}
