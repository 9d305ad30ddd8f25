/**
 * decodeCanonical's fast path must never change a verdict: whatever it accepts, the reference decode (msgpackr,
 * type checks, re-encode and compare) accepts with the same value; whatever it declines goes to the reference.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeBlock } from '../../../src/codec/block.ts';
import { decodeCanonical, decodeCanonicalSlowly, readCanonical, type WireValue } from '../../../src/codec/canonical.ts';
import { DecodeError } from '../../../src/codec/errors.ts';
import { SEED, arbBlock, arbMutation, arbTransaction, mutate, nonCanonicalVariants, typeSwaps, writeCanonical, type MsgValue } from '../../helpers/chainBuilder.ts';

/** The reference's verdict: its value, or the DecodeError it throws. */
function reference(bytes: Uint8Array): { value: WireValue } | { error: DecodeError } {
  try {
    return { value: decodeCanonicalSlowly(bytes, 'x') };
  } catch (error) {
    if (error instanceof DecodeError) return { error };
    throw error;
  }
}

/** The property: a fast answer is the reference's answer. */
function agrees(bytes: Uint8Array): void {
  const fast = readCanonical(bytes);
  if (fast === undefined) return;
  expect(reference(bytes)).toEqual({ value: fast });
}

const boundary = (sizes: number[]) => fc.constantFrom(...sizes);
const arbWire: fc.Arbitrary<MsgValue> = fc.letrec<{ value: MsgValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.oneof(fc.integer({ min: 0, max: 0xffff_ffff }), boundary([0, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffff_ffff])),
    fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), fc.constantFrom(0n, 2n ** 63n - 1n)),
    fc.boolean(),
    fc.constant(null),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 10 }),
    boundary([0, 31, 32, 255, 256, 65_535, 65_536]).map((n) => 'a'.repeat(n)),
    fc.uint8Array({ maxLength: 64 }),
    boundary([0, 255, 256, 65_535, 65_536]).map((n) => new Uint8Array(n).fill(n & 0xff)),
    fc.array(tie('value'), { maxLength: 20 }),
    fc.constantFrom(15, 16, 65_535, 65_536).map((n) => Array.from({ length: n }, () => 1)),
  ),
})).value;

describe('decodeCanonical fast path', () => {
  it('takes every canonical encoding without a non-ASCII string, with the reference value', () => {
    const hasNonAscii = (v: MsgValue): boolean => (typeof v === 'string' ? /[^\x00-\x7f]/.test(v) : Array.isArray(v) && v.some(hasNonAscii));
    const depth = (v: MsgValue): number => (Array.isArray(v) ? 1 + Math.max(0, ...v.map(depth)) : 0);
    fc.assert(
      fc.property(arbWire, (value) => {
        const bytes = writeCanonical(value);
        const fast = readCanonical(bytes);
        if (!hasNonAscii(value) && depth(value) <= 8) expect(fast).toBeDefined();
        agrees(bytes);
        if (fast !== undefined) expect(decodeCanonical(bytes, Infinity, 'x')).toEqual(fast);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('never accepts what the reference refuses: non-canonical forms, type swaps, mutations, random bytes', () => {
    fc.assert(
      fc.property(arbWire, arbMutation, (value, m) => {
        // (The helper's "short" variants are canonical at 65,536 items or bytes; agreement covers both cases.)
        for (const { bytes } of [...nonCanonicalVariants(value), ...typeSwaps(value)]) agrees(bytes);
        agrees(mutate(writeCanonical(value), m));
      }),
      { seed: SEED, numRuns: 400 },
    );
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), agrees), { seed: SEED, numRuns: 3000 });
  });

  it('agrees with the reference on transactions and blocks, whole and mutated', () => {
    fc.assert(
      fc.property(arbTransaction, arbMutation, (tx, m) => {
        agrees(tx.bytes);
        agrees(mutate(tx.bytes, m));
      }),
      { seed: SEED, numRuns: 300 },
    );
    fc.assert(
      fc.property(arbBlock(8), arbMutation, (block, m) => {
        const bytes = encodeBlock(block.headerBytes, block.transactions.map((tx) => tx.bytes));
        // The outer block holds only bins: always the fast path.
        expect(readCanonical(bytes)).toBeDefined();
        agrees(bytes);
        agrees(mutate(bytes, m));
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('leaves arrays nested deeper than the limit, and bytes after the value, to the reference', () => {
    let nested: MsgValue = [];
    for (let i = 0; i < 9; i++) nested = [nested];
    expect(readCanonical(writeCanonical(nested))).toBeUndefined();
    expect(readCanonical(new Uint8Array([0x01, 0x02]))).toBeUndefined();
    expect(() => decodeCanonical(new Uint8Array([0x01, 0x02]), 10, 'x')).toThrow(DecodeError);
  });

  describe('string cache', () => {
    // readAscii returns a cached string when the bytes equal one read before (same hash slot); these hold it to
    // the reference on strings chosen to hit, collide (same length, first and last byte) and differ in the middle.
    const pool = ['', 'a', 'abc', 'axc', 'abd', 'TREAT', 'ETREAT', 'medchain-bench', 'medchain-benci', 'application/fhir+json', 'x'.repeat(64), 'x'.repeat(65), 'y'.repeat(200)];
    const near = fc.tuple(fc.constantFrom(...pool.filter((t) => t.length >= 3)), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 0, max: 127 })).map(([t, i, c]) => {
      const at = 1 + (i % (t.length - 2));
      return t.slice(0, at) + String.fromCharCode(c) + t.slice(at + 1);
    });
    const arbStrings = fc.array(fc.oneof(fc.constantFrom(...pool), near, fc.string({ maxLength: 70 })), { maxLength: 30 });

    it('returns the reference value for repeated, colliding and near-identical strings, in any order', () => {
      fc.assert(
        fc.property(arbStrings, fc.array(arbStrings, { maxLength: 4 }), (first, more) => {
          for (const list of [first, ...more, first]) {
            const bytes = writeCanonical(list);
            const fast = readCanonical(bytes);
            if (list.every((t) => /^[\x00-\x7f]*$/.test(t))) expect(fast).toEqual(list);
            agrees(bytes);
            for (const t of list) {
              const one = writeCanonical(t);
              agrees(one);
              if (/^[\x00-\x7f]*$/.test(t)) expect(readCanonical(one)).toBe(t);
            }
          }
        }),
        { seed: SEED, numRuns: 300 },
      );
    });

    it('a cached string does not hide a non-ASCII or different byte in the same slot', () => {
      const abc = new Uint8Array([0xa3, 0x61, 0x62, 0x63]);
      expect(readCanonical(abc)).toBe('abc');
      expect(readCanonical(abc)).toBe('abc');
      // Same length, first and last byte: the same slot.
      expect(readCanonical(new Uint8Array([0xa3, 0x61, 0x78, 0x63]))).toBe('axc');
      expect(readCanonical(abc)).toBe('abc');
      const bad = new Uint8Array([0xa3, 0x61, 0xff, 0x63]);
      expect(readCanonical(bad)).toBeUndefined();
      expect(() => decodeCanonical(bad, 10, 'x')).toThrow(expect.objectContaining({ reason: 'MALFORMED' }));
      const truncated = new Uint8Array([0xa3, 0x61, 0x62]);
      expect(readCanonical(truncated)).toBeUndefined();
      expect(readCanonical(abc)).toBe('abc');
    });
  });
});
