import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeUndo, encodeUndo } from '../../../src/chain/chain.ts';
import { encodeCanonical } from '../../../src/codec/canonical.ts';
import { SEED } from '../../helpers/chainBuilder.ts';

/** encodeUndo writes MessagePack itself; it must stay byte-identical to the canonical encoder (decodeUndo is strict). */
describe('encodeUndo', () => {
  const canonical = (entries: { key: Uint8Array; value: Uint8Array | null }[]): Uint8Array => encodeCanonical(entries.map((e) => [e.key, e.value]));
  // Lengths on either side of every header boundary (fixarray 15/16, bin8 255/256, bin16 65535/65536).
  const boundaryBytes = fc.constantFrom(0, 1, 15, 16, 31, 32, 255, 256, 65_535, 65_536).map((n) => new Uint8Array(n).fill(n & 0xff));
  const bytes = fc.oneof({ arbitrary: fc.uint8Array({ maxLength: 300 }), weight: 19 }, { arbitrary: boundaryBytes, weight: 1 });
  const entry = fc.record({ key: fc.uint8Array({ minLength: 1, maxLength: 80 }), value: fc.option(bytes, { nil: null }) });

  it('equals encodeCanonical and decodes back, for any log', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 24 }), (entries) => {
        const encoded = encodeUndo(entries);
        expect(encoded).toEqual(canonical(entries));
        expect(decodeUndo(encoded)).toEqual(entries.map((e) => [e.key, e.value]));
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('equals encodeCanonical at the array header boundaries', () => {
    for (const n of [0, 1, 15, 16, 17, 65_535, 65_536]) {
      const entries = Array.from({ length: n }, (_, i) => ({ key: Uint8Array.of(i & 0xff, i >> 8), value: i % 3 === 0 ? null : Uint8Array.of(i & 0xff) }));
      expect(encodeUndo(entries)).toEqual(canonical(entries));
    }
  });
});
