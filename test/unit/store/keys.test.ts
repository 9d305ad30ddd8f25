import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBytes } from '../../../src/codec/bytes.ts';
import { StoreError } from '../../../src/store/errors.ts';
import {
  BLOCK_META_BYTES,
  blockKey,
  canonicalHashKey,
  decodeBlockMeta,
  decodeHead,
  decodeTxLocation,
  encodeBlockMeta,
  encodeHead,
  encodeTxLocation,
  HEAD_BYTES,
  HEAD_KEY,
  KeyPrefix,
  metaKey,
  prefixRange,
  stateKey,
  TX_LOCATION_BYTES,
} from '../../../src/store/keys.ts';

const hash = fc.uint8Array({ minLength: 32, maxLength: 32 });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const score = fc.bigInt({ min: 0n, max: (1n << 256n) - 1n });

function storeErrorOf(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (error) {
    if (error instanceof StoreError) return error;
    throw error;
  }
  throw new Error('expected a StoreError');
}

describe('store keys', () => {
  it('gives every prefix its own byte', () => {
    const values = Object.values(KeyPrefix);
    expect(new Set(values).size).toBe(values.length);
  });

  it('keeps the head pointer apart from every meta name', () => {
    expect(HEAD_KEY[0]).toBe(KeyPrefix.Meta);
    expect(metaKey('genesisHash')).not.toEqual(HEAD_KEY);
    expect(metaKey('schemaVersion')).not.toEqual(HEAD_KEY);
  });

  it('orders canonical keys by height', () => {
    fc.assert(
      fc.property(u32, u32, (a, b) => {
        expect(Math.sign(compareBytes(canonicalHashKey(a), canonicalHashKey(b)))).toBe(Math.sign(a - b));
      }),
    );
  });

  it('keeps every state key inside the State prefix range', () => {
    const { gte, lt } = prefixRange(KeyPrefix.State);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (key) => {
        const full = stateKey(key);
        expect(compareBytes(full, gte) >= 0 && compareBytes(full, lt) < 0).toBe(true);
      }),
    );
  });

  it('round-trips head pointers, block metas and tx locations', () => {
    fc.assert(
      fc.property(hash, u32, (h, height) => {
        expect(decodeHead(encodeHead({ hash: h, height }))).toEqual({ hash: h, height });
      }),
    );
    fc.assert(
      fc.property(u32, hash, score, (height, parent, s) => {
        const encoded = encodeBlockMeta({ height, parent, score: s });
        expect(encoded.length).toBe(BLOCK_META_BYTES);
        expect(decodeBlockMeta(encoded)).toEqual({ height, parent, score: s });
      }),
    );
    fc.assert(
      fc.property(hash, u32, u32, (blockHash, height, index) => {
        expect(decodeTxLocation(encodeTxLocation({ blockHash, height, index }))).toEqual({ blockHash, height, index });
      }),
    );
  });

  it('writes the score as a 32-byte big-endian unsigned integer', () => {
    const encoded = encodeBlockMeta({ height: 1, parent: new Uint8Array(32), score: 0x0102n });
    expect([...encoded.subarray(36)]).toEqual([...new Uint8Array(30), 1, 2]);
  });

  it('decodes into frozen objects that do not alias the stored bytes', () => {
    const bytes = encodeHead({ hash: new Uint8Array(32).fill(7), height: 3 });
    const head = decodeHead(bytes);
    bytes.fill(0);
    expect(head.hash).toEqual(new Uint8Array(32).fill(7));
    expect(Object.isFrozen(head)).toBe(true);
  });

  it('refuses stored values of any other length as CORRUPT, naming the value', () => {
    for (const [decode, length, what] of [
      [decodeHead, HEAD_BYTES, 'head pointer'],
      [decodeBlockMeta, BLOCK_META_BYTES, 'block meta'],
      [decodeTxLocation, TX_LOCATION_BYTES, 'tx location'],
    ] as const) {
      for (const bad of [0, length - 1, length + 1]) {
        const error = storeErrorOf(() => decode(new Uint8Array(bad)));
        expect(error.code).toBe('CORRUPT');
        expect(error.message).toContain(`stored ${what} is ${bad} bytes, expected ${length}`);
      }
    }
  });

  it('refuses malformed inputs to key builders and encoders as INVALID', () => {
    const cases: Array<() => unknown> = [
      () => blockKey(new Uint8Array(31)),
      () => canonicalHashKey(-1),
      () => canonicalHashKey(2 ** 32),
      () => canonicalHashKey(Number.NaN),
      () => metaKey('head' as unknown as 'genesisHash'),
      () => encodeBlockMeta({ height: 0, parent: new Uint8Array(32), score: 1n << 256n }),
      () => encodeBlockMeta({ height: 0, parent: new Uint8Array(32), score: 1 as unknown as bigint }),
      () => encodeTxLocation({ blockHash: new Uint8Array(32), height: 0, index: 0.5 }),
      () => encodeHead({ hash: new Uint8Array(33), height: 0 }),
    ];
    for (const make of cases) expect(storeErrorOf(make).code).toBe('INVALID');
  });
});
