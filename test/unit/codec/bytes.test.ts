/** toHex builds short inputs' hex in one go (ids and hashes) and longer ones piece by piece: both are Node's hex. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../src/codec/bytes.ts';

describe('toHex', () => {
  it("is Node's lowercase hex for every length, around the 64-byte switch included", () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 70 }), fc.uint8Array({ minLength: 60, maxLength: 300 })), fc.nat(8), (bytes, cut) => {
        const view = bytes.subarray(Math.min(cut, bytes.length));
        const hex = toHex(view);
        expect(hex).toBe(Buffer.from(view).toString('hex'));
        expect(fromHex(hex)).toEqual(new Uint8Array(view));
      }),
      { seed: 0x4e8, numRuns: 500 },
    );
    for (const n of [0, 1, 63, 64, 65, 100_000]) expect(toHex(new Uint8Array(n).fill(0xab))).toBe('ab'.repeat(n));
  });

  it('a short result is not changed by the next call', () => {
    const a = toHex(Uint8Array.of(1, 2, 3));
    toHex(Uint8Array.of(0xff, 0xfe));
    expect(a).toBe('010203');
  });
});
