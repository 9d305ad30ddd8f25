import { concatBytes, u32be } from '../codec/bytes.ts';
import { sha256 } from '../crypto/hash.ts';
import type { StateEntry } from '../types/state.ts';
import { ZERO_HASH, type Hash } from '../types/primitives.ts';

/**
 * The state commitment. A hash chain over per-block write sets:
 *   root(h) = sha256(0x53 || root(h-1) || u32(h) || sha256(writes(h)))
 * where writes(h) is the block's sorted write set, each entry length-prefixed. Its cost is linear in what a
 * block writes, not in the size of the state, and two nodes agree on a root only if they applied the same
 * writes from genesis, so it commits to the whole state. It gives no inclusion proofs; a proof-capable tree
 * can replace this module (same signature) without touching the transition.
 */
export function nextStateRoot(previous: Hash, height: number, sortedWrites: readonly StateEntry[]): Hash {
  return sha256(concatBytes(new Uint8Array([0x53]), previous, u32be(height), hashWriteSet(sortedWrites)));
}

/** The commitment before genesis. */
export const EMPTY_STATE_ROOT: Hash = ZERO_HASH;

function hashWriteSet(writes: readonly StateEntry[]): Hash {
  let length = 0;
  for (const w of writes) length += 4 + w.key.length + 1 + 4 + (w.value?.length ?? 0);
  const buffer = new Uint8Array(length);
  const view = new DataView(buffer.buffer);
  let offset = 0;
  for (const { key, value } of writes) {
    view.setUint32(offset, key.length);
    buffer.set(key, offset + 4);
    offset += 4 + key.length;
    buffer[offset++] = value === null ? 0 : 1;
    const v = value ?? new Uint8Array(0);
    view.setUint32(offset, v.length);
    buffer.set(v, offset + 4);
    offset += 4 + v.length;
  }
  return sha256(buffer);
}
