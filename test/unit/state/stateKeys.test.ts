/**
 * State keys are consensus (they are hashed into the state root): the one-allocation builders in
 * stateKeys.ts are held here to the plain definition, namespace byte then parts concatenated, on seeded
 * random ids and heights (u32 edges included). Also pins the bytes helpers they use.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, readU32be, toHex, u32be, utf8, writeU32be } from '../../../src/codec/bytes.ts';
import { StateNamespace, stateKey } from '../../../src/state/stateKeys.ts';

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
