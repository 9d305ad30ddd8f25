/**
 * Binary Merkle tree over 32-byte leaves (transaction ids), for a block's txRoot
 * and the inclusion proofs served over RPC.
 *
 * Rules (consensus):
 * - leaf hash  = sha256(0x00 || leaf); node hash = sha256(0x01 || left || right).
 *   The prefixes keep a leaf from passing for an inner node (second preimages).
 * - Levels are built left to right, pairing neighbours. A lone last node on a
 *   level is PROMOTED unchanged to the next level. Bitcoin instead pairs it with
 *   a copy of itself, which lets [a, b, c] and [a, b, c, c] share a root
 *   (CVE-2012-2459); promotion keeps distinct leaf lists on distinct roots.
 * - One leaf: the root is its leaf hash. No leaves: the root is 32 zero bytes
 *   (not a sha256 output of anything known, and not a leaf or node hash).
 *
 * A proof lists the siblings from the leaf upwards, skipping levels where the
 * node was promoted; `index` and `leafCount` say which side each sibling is on.
 * A proof shows that the leaf is in the tree. Its index and leafCount are only
 * trustworthy once the verifier has checked leafCount against the block's
 * transaction count: a promoted node's path can also fit a smaller tree shape.
 */
import { bytesEqual } from '../codec/bytes.ts';
import { sha256 } from './hash.ts';

export const MERKLE_HASH_LENGTH = 32;
export const EMPTY_MERKLE_ROOT: Uint8Array = new Uint8Array(MERKLE_HASH_LENGTH);

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;
/** Proofs for trees above this size are refused; a block never holds 2^32 transactions. */
const MAX_LEAF_COUNT = 2 ** 32;

export interface MerkleProof {
  index: number;
  leafCount: number;
  siblings: Uint8Array[];
}

// Hashing happens synchronously, so one input buffer per shape is reused.
const leafInput = new Uint8Array(1 + MERKLE_HASH_LENGTH);
leafInput[0] = LEAF_PREFIX;
const nodeInput = new Uint8Array(1 + 2 * MERKLE_HASH_LENGTH);
nodeInput[0] = NODE_PREFIX;

function leafHash(leaf: Uint8Array): Uint8Array {
  leafInput.set(leaf, 1);
  return sha256(leafInput);
}

function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + MERKLE_HASH_LENGTH);
  return sha256(nodeInput);
}

function leafHashes(leaves: readonly Uint8Array[]): Uint8Array[] {
  const level = new Array<Uint8Array>(leaves.length);
  for (let i = 0; i < leaves.length; i++) {
    const leaf = leaves[i]!;
    if (leaf.length !== MERKLE_HASH_LENGTH) {
      throw new RangeError(`Merkle leaf ${i} must be ${MERKLE_HASH_LENGTH} bytes (a transaction id), got ${leaf.length}`);
    }
    level[i] = leafHash(leaf);
  }
  return level;
}

/** Replaces level[0..length) by the next level up, in place; returns its length. */
function reduceLevel(level: Uint8Array[], length: number): number {
  let out = 0;
  for (let i = 0; i + 1 < length; i += 2) level[out++] = nodeHash(level[i]!, level[i + 1]!);
  if (length % 2 === 1) level[out++] = level[length - 1]!;
  return out;
}

/** Merkle root of `leaves` (32 bytes each); 32 zero bytes for none. */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return EMPTY_MERKLE_ROOT.slice();
  const level = leafHashes(leaves);
  let length = level.length;
  while (length > 1) length = reduceLevel(level, length);
  return level[0]!;
}

/** Inclusion proof for leaves[index]; throws RangeError when index is outside the list. */
export function merkleProof(leaves: readonly Uint8Array[], index: number): MerkleProof {
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length) {
    throw new RangeError(`Merkle proof index ${index} is outside the ${leaves.length} leaves`);
  }
  const level = leafHashes(leaves);
  const siblings: Uint8Array[] = [];
  let length = level.length;
  let position = index;
  while (length > 1) {
    const sibling = position ^ 1;
    if (sibling < length) siblings.push(level[sibling]!);
    length = reduceLevel(level, length);
    position >>>= 1;
  }
  return { index, leafCount: leaves.length, siblings };
}

/** Proofs for several leaves of one tree, building the tree once (an audit trail asks for many per block). */
export function merkleProofs(leaves: readonly Uint8Array[], indexes: readonly number[]): MerkleProof[] {
  for (const index of indexes) {
    if (!Number.isInteger(index) || index < 0 || index >= leaves.length) {
      throw new RangeError(`Merkle proof index ${index} is outside the ${leaves.length} leaves`);
    }
  }
  const levels: Uint8Array[][] = [leafHashes(leaves)];
  for (let level = levels[0]!; level.length > 1; ) {
    const next = level.slice();
    next.length = reduceLevel(next, level.length);
    levels.push(next);
    level = next;
  }
  return indexes.map((index) => {
    const siblings: Uint8Array[] = [];
    let position = index;
    for (let l = 0; l + 1 < levels.length; l++) {
      const sibling = levels[l]![position ^ 1];
      if (sibling !== undefined) siblings.push(sibling);
      position >>>= 1;
    }
    return { index, leafCount: leaves.length, siblings };
  });
}

/** Whether `proof` links `leaf` to `root`; false (never throws) for any malformed input. */
export function verifyMerkleProof(leaf: Uint8Array, proof: MerkleProof, root: Uint8Array): boolean {
  if (!(leaf instanceof Uint8Array) || leaf.length !== MERKLE_HASH_LENGTH) return false;
  if (!(root instanceof Uint8Array) || root.length !== MERKLE_HASH_LENGTH) return false;
  if (typeof proof !== 'object' || proof === null) return false;
  const { index, leafCount, siblings } = proof;
  if (!Number.isInteger(leafCount) || leafCount < 1 || leafCount > MAX_LEAF_COUNT) return false;
  if (!Number.isInteger(index) || index < 0 || index >= leafCount) return false;
  if (!Array.isArray(siblings)) return false;

  let hash = leafHash(leaf);
  let position = index;
  let length = leafCount;
  let used = 0;
  while (length > 1) {
    if (position % 2 === 1 || position + 1 < length) {
      // [REJECT] Every level where the node has a neighbour needs a 32-byte sibling.
      const sibling: unknown = siblings[used++];
      if (!(sibling instanceof Uint8Array) || sibling.length !== MERKLE_HASH_LENGTH) return false;
      hash = position % 2 === 1 ? nodeHash(sibling, hash) : nodeHash(hash, sibling);
    }
    position = Math.floor(position / 2);
    length = Math.ceil(length / 2);
  }
  // [REJECT] No siblings may be left over.
  if (used !== siblings.length) return false;
  return bytesEqual(hash, root);
}
