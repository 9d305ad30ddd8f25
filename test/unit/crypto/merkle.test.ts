import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { concatBytes, toHex, u32be } from '../../../src/codec/bytes.ts';
import { EMPTY_MERKLE_ROOT, merkleProof, merkleRoot, verifyMerkleProof, type MerkleProof } from '../../../src/crypto/merkle.ts';

/** Reference tree, written plainly with a different SHA-256: every level kept. */
function referenceLevels(leaves: readonly Uint8Array[]): Uint8Array[][] {
  const levels: Uint8Array[][] = [leaves.map((l) => nobleSha256(concatBytes(new Uint8Array([0]), l)))];
  while (levels[levels.length - 1]!.length > 1) {
    const below = levels[levels.length - 1]!;
    const above: Uint8Array[] = [];
    for (let i = 0; i < below.length; i += 2) {
      above.push(i + 1 < below.length ? nobleSha256(concatBytes(new Uint8Array([1]), below[i]!, below[i + 1]!)) : below[i]!);
    }
    levels.push(above);
  }
  return levels;
}

function referenceRoot(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return new Uint8Array(32);
  const levels = referenceLevels(leaves);
  return levels[levels.length - 1]![0]!;
}

function referenceProof(levels: Uint8Array[][], index: number): Uint8Array[] {
  const siblings: Uint8Array[] = [];
  let position = index;
  for (let l = 0; l + 1 < levels.length; l++) {
    const sibling = position ^ 1;
    if (sibling < levels[l]!.length) siblings.push(levels[l]![sibling]!);
    position >>= 1;
  }
  return siblings;
}

/** Distinct transaction ids, as a block would have. */
function txIds(n: number, salt = 0): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => nobleSha256(concatBytes(u32be(salt), u32be(i))));
}

const hexes = (xs: readonly Uint8Array[]): string[] => xs.map(toHex);

describe('merkleRoot', () => {
  it('is 32 zero bytes for no leaves, and a fresh copy each time', () => {
    const root = merkleRoot([]);
    expect(toHex(root)).toBe('00'.repeat(32));
    root[0] = 1;
    expect(toHex(merkleRoot([]))).toBe('00'.repeat(32));
    expect(toHex(EMPTY_MERKLE_ROOT)).toBe('00'.repeat(32));
  });

  it('hashes a single leaf with the 0x00 prefix', () => {
    const [a] = txIds(1);
    expect(toHex(merkleRoot([a!]))).toBe(toHex(nobleSha256(concatBytes(new Uint8Array([0]), a!))));
  });

  it('promotes a lone node instead of duplicating it (no CVE-2012-2459 collision)', () => {
    const [a, b, c] = txIds(3);
    const leaf = (x: Uint8Array): Uint8Array => nobleSha256(concatBytes(new Uint8Array([0]), x));
    const node = (l: Uint8Array, r: Uint8Array): Uint8Array => nobleSha256(concatBytes(new Uint8Array([1]), l, r));
    expect(toHex(merkleRoot([a!, b!, c!]))).toBe(toHex(node(node(leaf(a!), leaf(b!)), leaf(c!))));
    expect(toHex(merkleRoot([a!, b!, c!]))).not.toBe(toHex(merkleRoot([a!, b!, c!, c!])));
  });

  it('pins known roots', () => {
    // Leaves are sha256(u32be(0) || u32be(i)); other-language clients can check against these.
    expect(toHex(merkleRoot(txIds(1)))).toBe('aea833068048b82f42271c18e0076a5230cbc7d711c99de16a5917db14a3b044');
    expect(toHex(merkleRoot(txIds(2)))).toBe('839757d78394f8ad59bc4621831d92396f5d3556fe0059846463a32a21dc9e04');
    expect(toHex(merkleRoot(txIds(5)))).toBe('aa33f608b3c7398a5230804ae5bf2cbe372e3e517eab55ef21d7e8a1318b00d9');
  });

  it('matches the reference for sizes 0..40 and 5000', () => {
    for (const n of [...Array.from({ length: 41 }, (_, i) => i), 5000]) {
      expect(toHex(merkleRoot(txIds(n))), `n=${n}`).toBe(toHex(referenceRoot(txIds(n))));
    }
  });

  it('does not modify the leaves it is given', () => {
    const leaves = txIds(7);
    const before = hexes(leaves);
    merkleRoot(leaves);
    merkleProof(leaves, 3);
    expect(hexes(leaves)).toEqual(before);
  });

  it('refuses leaves that are not 32 bytes', () => {
    expect(() => merkleRoot([new Uint8Array(32), new Uint8Array(31)])).toThrow(/leaf 1 must be 32 bytes/);
    expect(() => merkleProof([new Uint8Array(33)], 0)).toThrow(RangeError);
  });

  it('changes when any leaf or the order changes (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 70 }), fc.nat(), fc.nat(), (n, i, j) => {
        const leaves = txIds(n, 1);
        const root = toHex(merkleRoot(leaves));
        const changed = leaves.slice();
        changed[i % n] = nobleSha256(u32be(0xffff_ffff));
        expect(toHex(merkleRoot(changed))).not.toBe(root);
        const a = i % n;
        const b = j % n;
        if (a !== b) {
          const swapped = leaves.slice();
          [swapped[a], swapped[b]] = [swapped[b]!, swapped[a]!];
          expect(toHex(merkleRoot(swapped))).not.toBe(root);
        }
        expect(toHex(merkleRoot(leaves.slice(0, n - 1)))).not.toBe(root);
      }),
      { seed: 0x3e4c1e, numRuns: 200 },
    );
  });

  it('builds a 5,000-leaf root quickly', () => {
    const leaves = txIds(5000);
    merkleRoot(leaves);
    const start = performance.now();
    for (let r = 0; r < 5; r++) merkleRoot(leaves);
    // About 10,000 hashes per root; generous bound so a loaded CI machine does not flake.
    expect((performance.now() - start) / 5).toBeLessThan(100);
  });
});

describe('merkleProof and verifyMerkleProof', () => {
  it('proves every index for sizes 1..40, matching the reference', () => {
    expect(() => merkleProof([], 0)).toThrow(RangeError);
    for (let n = 1; n <= 40; n++) {
      const leaves = txIds(n);
      const levels = referenceLevels(leaves);
      const root = merkleRoot(leaves);
      for (let i = 0; i < n; i++) {
        const proof = merkleProof(leaves, i);
        expect(proof.index).toBe(i);
        expect(proof.leafCount).toBe(n);
        expect(hexes(proof.siblings), `n=${n} i=${i}`).toEqual(hexes(referenceProof(levels, i)));
        expect(verifyMerkleProof(leaves[i]!, proof, root), `n=${n} i=${i}`).toBe(true);
      }
    }
  });

  it('proves every index of a 5,000-leaf tree', () => {
    const leaves = txIds(5000);
    const levels = referenceLevels(leaves);
    const root = merkleRoot(leaves);
    // merkleProof rebuilds the tree (O(n)) per call, so compare it with the reference at spread-out
    // indices, and check the verifier on the reference proof of every index.
    for (const i of [0, 1, 2, 511, 512, 1023, 1024, 2047, 2048, 3071, 4095, 4096, 4998, 4999]) {
      expect(hexes(merkleProof(leaves, i).siblings), `i=${i}`).toEqual(hexes(referenceProof(levels, i)));
    }
    for (let i = 0; i < 5000; i++) {
      const proof: MerkleProof = { index: i, leafCount: 5000, siblings: referenceProof(levels, i) };
      if (!verifyMerkleProof(leaves[i]!, proof, root)) throw new Error(`index ${i} did not verify`);
    }
  });

  it('rejects tampered proofs (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 90 }), fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), (n, i, k, bit) => {
        const leaves = txIds(n, 2);
        const root = merkleRoot(leaves);
        const index = i % n;
        const proof = merkleProof(leaves, index);
        const leaf = leaves[index]!;
        expect(verifyMerkleProof(leaf, proof, root)).toBe(true);

        const flip = (x: Uint8Array): Uint8Array => {
          const y = x.slice();
          y[bit >> 3]! ^= 1 << (bit & 7);
          return y;
        };
        expect(verifyMerkleProof(flip(leaf), proof, root)).toBe(false);
        expect(verifyMerkleProof(leaf, proof, flip(root))).toBe(false);
        if (proof.siblings.length > 0) {
          const s = k % proof.siblings.length;
          const siblings = proof.siblings.slice();
          siblings[s] = flip(siblings[s]!);
          expect(verifyMerkleProof(leaf, { ...proof, siblings }, root)).toBe(false);
          expect(verifyMerkleProof(leaf, { ...proof, siblings: proof.siblings.slice(1) }, root)).toBe(false);
          expect(verifyMerkleProof(leaf, { ...proof, siblings: proof.siblings.slice().reverse() }, root)).toBe(
            proof.siblings.length === 1,
          );
        }
        expect(verifyMerkleProof(leaf, { ...proof, siblings: [...proof.siblings, root] }, root)).toBe(false);
        if (n > 1) {
          // Another index of the same tree must not accept this path.
          const other = (index + 1 + (k % (n - 1))) % n;
          expect(verifyMerkleProof(leaf, { ...proof, index: other }, root)).toBe(false);
          // A real leaf with someone else's proof.
          expect(verifyMerkleProof(leaves[other]!, proof, root)).toBe(false);
        }
      }),
      { seed: 0x7e4b1e, numRuns: 400 },
    );
  });

  it('never throws on malformed input', () => {
    const leaves = txIds(5);
    const root = merkleRoot(leaves);
    const good = merkleProof(leaves, 2);
    const bad: unknown[] = [
      null,
      undefined,
      42,
      {},
      { ...good, index: -1 },
      { ...good, index: 5 },
      { ...good, index: 1.5 },
      { ...good, index: Number.NaN },
      { ...good, index: '2' },
      { ...good, leafCount: 0 },
      { ...good, leafCount: Number.POSITIVE_INFINITY },
      { ...good, leafCount: 2 ** 40 },
      { ...good, siblings: null },
      { ...good, siblings: 'x' },
      { ...good, siblings: [new Uint8Array(31), good.siblings[1]] },
      { ...good, siblings: [null, good.siblings[1]] },
      { ...good, siblings: [] },
    ];
    for (const p of bad) expect(verifyMerkleProof(leaves[2]!, p as MerkleProof, root)).toBe(false);
    expect(verifyMerkleProof(new Uint8Array(31), good, root)).toBe(false);
    expect(verifyMerkleProof(leaves[2]!, good, new Uint8Array(33))).toBe(false);
    expect(verifyMerkleProof(null as unknown as Uint8Array, good, root)).toBe(false);
    expect(verifyMerkleProof(leaves[2]!, good, root)).toBe(true);
  });

  it('binds the leaf but not leafCount: a promoted node also fits a smaller tree (documented)', () => {
    // [a, b, c]: c is promoted, so its path is a single left sibling, the same as index 1 of 2 leaves.
    const leaves = txIds(3);
    const root = merkleRoot(leaves);
    const proof = merkleProof(leaves, 2);
    expect(proof.siblings.length).toBe(1);
    expect(verifyMerkleProof(leaves[2]!, { ...proof, index: 1, leafCount: 2 }, root)).toBe(true);
    // Callers that care about the position compare leafCount with the block's transaction count.
  });

  it('refuses an index outside the leaves', () => {
    const leaves = txIds(4);
    for (const i of [-1, 4, 1.5, Number.NaN]) expect(() => merkleProof(leaves, i)).toThrow(RangeError);
  });
});

describe('merkleProofs (one tree, many proofs)', () => {
  it('gives exactly the proofs merkleProof gives, for every index of every size up to 40', async () => {
    const { merkleProof, merkleProofs } = await import('../../../src/crypto/merkle.ts');
    for (let n = 1; n <= 40; n++) {
      const leaves = Array.from({ length: n }, (_, i) => new Uint8Array(32).fill(i + 1));
      const all = Array.from({ length: n }, (_, i) => i);
      expect(merkleProofs(leaves, all)).toEqual(all.map((i) => merkleProof(leaves, i)));
    }
    expect(() => merkleProofs([new Uint8Array(32)], [1])).toThrow(RangeError);
  });
});
