import { sha256 } from '../../crypto/hash.ts';
import { targetOf } from './powEngine.ts';

/** The target as 32 big-endian bytes, so each try compares bytes instead of building a bigint. */
function targetBytes(difficulty: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let t = targetOf(difficulty);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(t & 0xffn);
    t >>= 8n;
  }
  return out;
}

function atOrBelow(hash: Uint8Array, target: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) {
    if (hash[i]! !== target[i]!) return hash[i]! < target[i]!;
  }
  return true;
}

/**
 * Searches nonces [start, start + count) for a header whose sha256 meets `difficulty`. The header's last
 * 8 bytes are the nonce (the seal ends the encoding); they are overwritten in a private copy. Returns the
 * nonce found, or null. Pure: the miner worker calls it in slices so it can be stopped between them.
 */
export function searchNonce(headerBytes: Uint8Array, difficulty: bigint, start: bigint, count: number): bigint | null {
  const work = headerBytes.slice();
  const view = new DataView(work.buffer, work.byteOffset, work.byteLength);
  const nonceOffset = work.length - 8;
  const target = targetBytes(difficulty);
  for (let i = 0; i < count; i++) {
    const nonce = start + BigInt(i);
    view.setBigUint64(nonceOffset, nonce);
    if (atOrBelow(sha256(work), target)) return nonce;
  }
  return null;
}
