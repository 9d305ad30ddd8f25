/**
 * State keys are consensus (they are hashed into the state root): the one-allocation builders in
 * stateKeys.ts are held here to the plain definition, namespace byte then parts concatenated, on seeded
 * random ids and heights (u32 edges included). Also pins the bytes helpers they use.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, readU32be, toHex, u32be, utf8, writeU32be } from '../../../src/codec/bytes.ts';
import { getAccount, getAttestation, getGrant, getHospitals, getRecord, getRecordVersion, putAccount, putAttestation, putGrant, putRecord, putRecordVersion } from '../../../src/state/accessors.ts';
import { keyString, MemoryState, StateOverlay, type StateReader } from '../../../src/state/overlay.ts';
import { StateNamespace, stateKey, stateKeyString } from '../../../src/state/stateKeys.ts';
import { encodeHospitalList } from '../../../src/state/stateValues.ts';

const ns = (n: number): Uint8Array => new Uint8Array([n]);
/** DataView's big-endian u32, the reference for u32be. */
const dvU32 = (value: number): Uint8Array => {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
};

const reference = {
  params: () => concatBytes(ns(StateNamespace.Params), utf8('genesis')),
  account: (id: Uint8Array) => concatBytes(ns(StateNamespace.Account), id),
  attestation: (doctor: Uint8Array, hospital: Uint8Array) => concatBytes(ns(StateNamespace.Attestation), doctor, hospital),
  hospital: (id: Uint8Array) => concatBytes(ns(StateNamespace.Hospital), id),
  hospitalList: () => concatBytes(ns(StateNamespace.Hospital), utf8('list')),
  record: (id: Uint8Array) => concatBytes(ns(StateNamespace.Record), id),
  recordVersion: (id: Uint8Array, version: number) => concatBytes(ns(StateNamespace.RecordVersion), id, dvU32(version)),
  grant: (record: Uint8Array, grantee: Uint8Array) => concatBytes(ns(StateNamespace.Grant), record, grantee),
  validatorSet: () => concatBytes(ns(StateNamespace.Validators), utf8('set')),
  blockHash: (height: number) => concatBytes(ns(StateNamespace.BlockHash), dvU32(height)),
  vote: (validator: Uint8Array, target: number) => concatBytes(ns(StateNamespace.Vote), validator, dvU32(target)),
  tally: (source: number, target: number) => concatBytes(ns(StateNamespace.Tally), dvU32(source), dvU32(target)),
  finality: () => concatBytes(ns(StateNamespace.Finality), utf8('f')),
  justified: (height: number) => concatBytes(ns(StateNamespace.Finality), utf8('j'), dvU32(height)),
  pruneCursor: () => concatBytes(ns(StateNamespace.Finality), utf8('p')),
  stakeChanges: (height: number) => concatBytes(ns(StateNamespace.StakeChange), dvU32(height)),
  balance: (id: Uint8Array) => concatBytes(ns(StateNamespace.Balance), id),
  slashed: (id: Uint8Array) => concatBytes(ns(StateNamespace.Slashed), id),
};

const idArb = fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 40 }));
const u32Arb = fc.oneof(fc.constantFrom(0, 1, 0xff, 0x100, 0x7fffffff, 0x80000000, 0xffffffff), fc.integer({ min: 0, max: 0xffffffff }));

describe('state keys', () => {
  it('every builder gives the plain concatenation, as a fresh plain Uint8Array', () => {
    fc.assert(
      fc.property(idArb, idArb, u32Arb, u32Arb, (a, b, m, n) => {
        const pairs: [Uint8Array, Uint8Array][] = [
          [stateKey.params(), reference.params()],
          [stateKey.account(a), reference.account(a)],
          [stateKey.attestation(a, b), reference.attestation(a, b)],
          [stateKey.hospital(a), reference.hospital(a)],
          [stateKey.hospitalList(), reference.hospitalList()],
          [stateKey.record(a), reference.record(a)],
          [stateKey.recordVersion(a, n), reference.recordVersion(a, n)],
          [stateKey.grant(a, b), reference.grant(a, b)],
          [stateKey.validatorSet(), reference.validatorSet()],
          [stateKey.blockHash(n), reference.blockHash(n)],
          [stateKey.vote(a, n), reference.vote(a, n)],
          [stateKey.tally(m, n), reference.tally(m, n)],
          [stateKey.finality(), reference.finality()],
          [stateKey.justified(n), reference.justified(n)],
          [stateKey.pruneCursor(), reference.pruneCursor()],
          [stateKey.stakeChanges(n), reference.stakeChanges(n)],
          [stateKey.balance(a), reference.balance(a)],
          [stateKey.slashed(a), reference.slashed(a)],
        ];
        for (const [built, expected] of pairs) {
          expect(toHex(built)).toBe(toHex(expected));
          expect(Object.getPrototypeOf(built)).toBe(Uint8Array.prototype);
        }
      }),
      { seed: 0x57a7e, numRuns: 300 },
    );
  });

  it('stateKeyString gives keyString of the key, built from its parts', () => {
    fc.assert(
      fc.property(idArb, idArb, u32Arb, (a, b, n) => {
        expect(stateKeyString.account(a)).toBe(keyString(stateKey.account(a)));
        expect(stateKeyString.attestation(a, b)).toBe(keyString(stateKey.attestation(a, b)));
        expect(stateKeyString.attestationsOf(a) + keyString(b)).toBe(keyString(stateKey.attestation(a, b)));
        expect(stateKeyString.hospital(a)).toBe(keyString(stateKey.hospital(a)));
        expect(stateKeyString.hospitalList()).toBe(keyString(stateKey.hospitalList()));
        expect(stateKeyString.record(a)).toBe(keyString(stateKey.record(a)));
        expect(stateKeyString.recordVersion(a, n)).toBe(keyString(stateKey.recordVersion(a, n)));
        expect(stateKeyString.grant(a, b)).toBe(keyString(stateKey.grant(a, b)));
      }),
      { seed: 0x57a7f, numRuns: 300 },
    );
  });

  it('accessors read the same through any reader: the overlays by converted key, others by the key bytes', () => {
    const id = (n: number): Uint8Array => new Uint8Array(32).fill(n);
    const head = new MemoryState();
    head.apply([{ key: stateKey.hospitalList(), value: encodeHospitalList([id(9)]) }]);
    const block = new StateOverlay(head);
    putAccount(block, id(1), { role: 'doctor', nonce: 3, registeredAt: 2 });
    putAttestation(block, { doctor: id(1), hospital: id(9), name: 'Dr', licence: 'L', expiresAt: 5, attestedAt: 1, revokedAt: null, revokeReason: '' });
    putRecord(block, { id: id(2), owner: id(3), policy: Uint8Array.of(1, 2), createdAt: 1, versionCount: 1, erasedAt: null });
    putRecordVersion(block, id(2), 0x01020304, { commitment: id(4), size: 10, contentType: 'a/b', author: id(3), addedAt: 1 });
    putGrant(block, id(2), { grantee: id(1), grantor: id(3), scope: ['read'], expiresAt: null, grantedAt: 1, revokedAt: null });
    head.apply(block.writes());
    const asked: string[] = [];
    /** Neither an overlay nor a MemoryState: it only answers by the key's bytes. */
    const plainReader: StateReader = {
      get: (key) => {
        asked.push(toHex(key));
        return head.get(key);
      },
    };
    const overPlain = new StateOverlay(plainReader);
    for (const reader of [head, new StateOverlay(head), plainReader, overPlain]) {
      expect(getAccount(reader, id(1))).toEqual({ role: 'doctor', nonce: 3, registeredAt: 2 });
      expect(getAccount(reader, id(7))).toBeUndefined();
      expect(getAttestation(reader, id(1), id(9))?.expiresAt).toBe(5);
      expect(getHospitals(reader)).toEqual([id(9)]);
      expect(getRecord(reader, id(2))?.owner).toEqual(id(3));
      expect(getRecordVersion(reader, id(2), 0x01020304)?.size).toBe(10);
      expect(getRecordVersion(reader, id(2), 0)).toBeUndefined();
      expect(getGrant(reader, id(2), id(1))?.scope).toEqual(['read']);
    }
    expect(asked).toContain(toHex(stateKey.grant(id(2), id(1))));
    expect(asked).toContain(toHex(stateKey.recordVersion(id(2), 0x01020304)));
  });

  it('constant keys are new arrays each call: changing one leaves the next intact', () => {
    const first = stateKey.hospitalList();
    first[0] = 0xee;
    expect(toHex(stateKey.hospitalList())).toBe(toHex(reference.hospitalList()));
  });

  it('u32be, writeU32be and readU32be agree with DataView, out-of-range values included', () => {
    fc.assert(
      fc.property(fc.oneof(u32Arb, fc.integer(), fc.double(), fc.constantFrom(-1, 2 ** 32, 2 ** 32 + 5, NaN, Infinity, -0.5, 1.5)), (value) => {
        expect(toHex(u32be(value))).toBe(toHex(dvU32(value)));
        const out = new Uint8Array(7);
        writeU32be(out, 2, value);
        expect(toHex(out.subarray(2, 6))).toBe(toHex(dvU32(value)));
      }),
      { seed: 0x32be, numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), fc.oneof(fc.integer({ min: -2, max: 12 }), fc.constantFrom(0.5, NaN, undefined)), (bytes, offset) => {
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        let expected: number | string;
        try {
          expected = view.getUint32(offset as number);
        } catch (error) {
          expected = (error as Error).name;
        }
        let got: number | string;
        try {
          got = readU32be(bytes, offset);
        } catch (error) {
          got = (error as Error).name;
        }
        expect(got).toBe(expected);
      }),
      { seed: 0x32bf, numRuns: 500 },
    );
  });
});
