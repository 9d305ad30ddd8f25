/**
 * Index and blob keys are built in one allocation each; this holds them to their plain definitions (the
 * parts concatenated) on seeded random ids, heights and versions, including ones past 2^32 (taken mod 2^32).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, toHex, u32be } from '../../../src/codec/bytes.ts';
import { IndexNamespace, blobKey, indexKey } from '../../../src/chain/indexer.ts';

const ns = (n: number): Uint8Array => Uint8Array.of(n);

const reference = {
  recordTx: (record: Uint8Array, height: number, index: number) => concatBytes(ns(IndexNamespace.RecordTx), record, u32be(height), u32be(index)),
  recordTxPrefix: (record: Uint8Array) => concatBytes(ns(IndexNamespace.RecordTx), record),
  owned: (owner: Uint8Array, record: Uint8Array) => concatBytes(ns(IndexNamespace.Owned), owner, record),
  ownedPrefix: (owner: Uint8Array) => concatBytes(ns(IndexNamespace.Owned), owner),
  granted: (grantee: Uint8Array, record: Uint8Array) => concatBytes(ns(IndexNamespace.Granted), grantee, record),
  grantedPrefix: (grantee: Uint8Array) => concatBytes(ns(IndexNamespace.Granted), grantee),
  holder: (record: Uint8Array, grantee: Uint8Array) => concatBytes(ns(IndexNamespace.Holder), record, grantee),
  holderPrefix: (record: Uint8Array) => concatBytes(ns(IndexNamespace.Holder), record),
  attested: (hospital: Uint8Array, doctor: Uint8Array) => concatBytes(ns(IndexNamespace.Attested), hospital, doctor),
  attestedPrefix: (hospital: Uint8Array) => concatBytes(ns(IndexNamespace.Attested), hospital),
  ciphertext: (record: Uint8Array, version: number) => concatBytes(record, u32be(version), Uint8Array.of(0)),
  envelope: (record: Uint8Array, version: number, reader: Uint8Array) => concatBytes(record, u32be(version), Uint8Array.of(1), reader),
  envelopesPrefix: (record: Uint8Array, version: number) => concatBytes(record, u32be(version), Uint8Array.of(1)),
};

const id = fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 40 }));
const u32ish = fc.oneof(fc.nat(0xffffffff), fc.integer({ min: -(2 ** 40), max: 2 ** 40 }));

describe('index and blob keys', () => {
  it('equal the concatenation of their parts', () => {
    fc.assert(
      fc.property(id, id, u32ish, u32ish, (a, b, n, m) => {
        const same = (built: Uint8Array, plain: Uint8Array): void => expect(toHex(built)).toBe(toHex(plain));
        same(indexKey.recordTx(a, n, m), reference.recordTx(a, n, m));
        same(indexKey.recordTxPrefix(a), reference.recordTxPrefix(a));
        same(indexKey.owned(a, b), reference.owned(a, b));
        same(indexKey.ownedPrefix(a), reference.ownedPrefix(a));
        same(indexKey.granted(a, b), reference.granted(a, b));
        same(indexKey.grantedPrefix(a), reference.grantedPrefix(a));
        same(indexKey.holder(a, b), reference.holder(a, b));
        same(indexKey.holderPrefix(a), reference.holderPrefix(a));
        same(indexKey.attested(a, b), reference.attested(a, b));
        same(indexKey.attestedPrefix(a), reference.attestedPrefix(a));
        same(blobKey.ciphertext(a, n), reference.ciphertext(a, n));
        same(blobKey.envelope(a, n, b), reference.envelope(a, n, b));
        same(blobKey.envelopesPrefix(a, n), reference.envelopesPrefix(a, n));
      }),
      { seed: 0x1de7, numRuns: 500 },
    );
  });

  it('hands out a new array each call', () => {
    const record = new Uint8Array(32).fill(3);
    const first = indexKey.recordTxPrefix(record);
    first.fill(0);
    expect(indexKey.recordTxPrefix(record)[0]).toBe(IndexNamespace.RecordTx);
    const blob = blobKey.envelopesPrefix(record, 1);
    blob.fill(9);
    expect(blobKey.envelopesPrefix(record, 1).at(-1)).toBe(1);
  });
});
