/**
 * encodeCanonical writes small values itself (writeSmallCanonical) and leaves everything else to msgpackr;
 * the bytes are consensus (state values are hashed into the state root, transactions are signed), so the fast
 * writer must give msgpackr's bytes for every value it takes, and every value it declines must reach the
 * reference path with its refusal unchanged.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../src/codec/bytes.ts';
import { encodeCanonical, encodeCanonicalSlowly, writeSmallCanonical, type WireValue } from '../../../src/codec/canonical.ts';

const boundary = <T>(values: T[]) => fc.constantFrom(...values);
const arbWire: fc.Arbitrary<WireValue> = fc.letrec<{ value: WireValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.oneof(fc.integer({ min: 0, max: 0xffff_ffff }), boundary([0, -0, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffff_ffff])),
    fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), boundary([0n, 1n, 0x7fn, 0xffffffffn, 0x100000000n, 2n ** 63n - 1n])),
    fc.boolean(),
    fc.constant(null),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 10 }),
    fc.string({ unit: 'binary', maxLength: 10 }),
    boundary([0, 31, 32, 255, 256, 4000, 65_535, 65_536]).map((n) => 'a'.repeat(n)),
    fc.uint8Array({ maxLength: 64 }),
    boundary([0, 255, 256, 4000, 4100, 65_535, 65_536]).map((n) => new Uint8Array(n).fill(n & 0xff)),
    fc.array(tie('value'), { maxLength: 20 }),
    boundary([15, 16, 300, 65_535, 65_536]).map((n) => Array.from({ length: n }, () => 1)),
  ),
})).value;

/** Values the reference refuses, or that only it may write. */
const arbOdd: fc.Arbitrary<unknown> = fc.oneof(
  boundary([-1, 0.5, 2 ** 32, Number.NaN, Infinity, -Infinity, 2 ** 53]),
  boundary([-1n, 2n ** 63n, 2n ** 64n]),
  boundary(['\ud800', 'a\udfffb', 'é', '\u0080', '\uffff']),
  boundary([undefined]),
  fc.constant(new Uint16Array(2)),
  fc.constant(Buffer.from([1, 2, 3])),
  fc.constant(new Array(3)),
  fc.constant([1, undefined, 2]),
  fc.constant({ a: 1 }),
  fc.constant(new Map([[1, 2]])),
  fc.constant(Array.from({ length: 10 }, () => 0).reduce<unknown>((inner) => [inner], 1)),
);

function outcome(encode: () => Uint8Array): { hex: string } | { error: string } {
  try {
    return { hex: toHex(encode()) };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

describe('encodeCanonical fast path', () => {
  it('writes exactly what msgpackr writes, for every wire value it takes', () => {
    let taken = 0;
    const outputs: [Uint8Array, string][] = [];
    fc.assert(
      fc.property(arbWire, (value) => {
        const fast = writeSmallCanonical(value);
        const reference = encodeCanonicalSlowly(value);
        if (fast !== undefined) {
          taken++;
          expect(toHex(fast)).toBe(toHex(reference));
          expect(Object.getPrototypeOf(fast)).toBe(Uint8Array.prototype);
          outputs.push([fast, toHex(fast)]);
        }
        expect(toHex(encodeCanonical(value))).toBe(toHex(reference));
      }),
      { seed: 0xe4c0de, numRuns: 1000 },
    );
    expect(taken).toBeGreaterThan(500);
    // Outputs are views of shared slabs: none was overwritten by a later one.
    for (const [bytes, hex] of outputs) expect(toHex(bytes)).toBe(hex);
  });

  it('declines what the reference refuses or writes otherwise, and the refusal is unchanged', () => {
    fc.assert(
      fc.property(fc.oneof(arbOdd, fc.array(fc.oneof(arbOdd, arbWire), { maxLength: 4 })), (value) => {
        const v = value as WireValue;
        expect(outcome(() => encodeCanonical(v))).toEqual(outcome(() => encodeCanonicalSlowly(v)));
      }),
      { seed: 0xe4c0df, numRuns: 500 },
    );
    for (const v of [-1, 0.5, 2n ** 63n, '\ud800', undefined, new Uint16Array(1), new Array(2), 'é', Buffer.from([1])]) {
      expect(writeSmallCanonical(v as WireValue)).toBeUndefined();
    }
  });

  it('takes the state values a block writes, and results never share bytes', () => {
    const account: WireValue = [2, 17, 3];
    const grant: WireValue = [new Uint8Array(32).fill(1), 3, null, 12, null];
    const attestation: WireValue = ['Dr Bench 1', 'BENCH-7-1', 2_015_360_000_000n, 4, null, ''];
    for (const value of [account, grant, attestation]) {
      const a = writeSmallCanonical(value);
      expect(a).toBeDefined();
      expect(toHex(a!)).toBe(toHex(encodeCanonicalSlowly(value)));
      const b = writeSmallCanonical(value)!;
      a![0] = 0;
      expect(toHex(b)).toBe(toHex(encodeCanonicalSlowly(value)));
    }
  });
});
