import { sha256 } from '../../crypto/hash.ts';
import { hashToBigInt, targetOf } from './powEngine.ts';

/**
 * Searches nonces [start, start + count) for a header whose sha256 meets `difficulty`. The header's last
 * 8 bytes are the nonce (the seal ends the encoding); they are overwritten in a private copy. Returns the
 * nonce found, or null. Pure: the miner worker calls it in slices so it can be stopped between them.
 */
export function searchNonce(headerBytes: Uint8Array, difficulty: bigint, start: bigint, count: number): bigint | null {
  const work = headerBytes.slice();
  const view = new DataView(work.buffer, work.byteOffset, work.byteLength);
  const nonceOffset = work.length - 8;
  const target = targetOf(difficulty);
  let nonce = start;
  for (let i = 0; i < count; i++, nonce++) {
    view.setBigUint64(nonceOffset, nonce);
    if (hashToBigInt(sha256(work)) <= target) return nonce;
  }
  return null;
}
