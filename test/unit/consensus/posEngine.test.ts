/** Proof-of-stake rules: the stake-weighted proposer draw, the slot clock and the proposer's signature. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual, toHex } from '../../../src/codec/bytes.ts';
import type { ParentInfo } from '../../../src/consensus/interface.ts';
import { PosEngine, posScore, proposerForSlot, sealPosHeader } from '../../../src/consensus/pos/posEngine.ts';
import { getValidatorSet } from '../../../src/state/accessors.ts';
import { BlockErrorCode, ErrorAction } from '../../../src/state/errors.ts';
import { buildGenesis } from '../../../src/state/genesis.ts';
import { MemoryState, StateOverlay, type StateReader } from '../../../src/state/overlay.ts';
import { putFinality } from '../../../src/state/finality.ts';
import type { Validator } from '../../../src/state/stateValues.ts';
import type { BlockHeader } from '../../../src/types/block.ts';
import { SEED } from '../../helpers/chainBuilder.ts';
import { GENESIS_TIME, testGenesis, testKey } from '../../helpers/fixtures.ts';

const light = testKey('hospital');
const heavy = testKey('other-hospital');
const outsider = testKey('outsider');
const SLOT = 1000;
const spec = testGenesis('pos', {
  hospitals: [
    { id: toHex(light.publicKey), name: 'Light', stake: 1 },
    { id: toHex(heavy.publicKey), name: 'Heavy', stake: 3 },
  ],
});
const state = new MemoryState();
state.apply(buildGenesis(spec).writes);
const validators = getValidatorSet(state);
const engine = new PosEngine({ engine: 'pos', slotMs: SLOT, stakeDelayBlocks: 16 }, GENESIS_TIME);
const keyOf = (id: Uint8Array) => [light, heavy].find((k) => bytesEqual(k.publicKey, id))!;

const parentHeader: BlockHeader = {
  chainId: 'medchain-test',
  height: 3,
  parent: new Uint8Array(32).fill(1),
  time: GENESIS_TIME + 3 * SLOT,
  txRoot: new Uint8Array(32),
  stateRoot: new Uint8Array(32),
  proposer: light.publicKey,
  seal: new Uint8Array(64),
};
const parent: ParentInfo = { header: parentHeader, hash: new Uint8Array(32).fill(9), score: 3n, grandparentTime: GENESIS_TIME + SLOT };
const ctx = { now: GENESIS_TIME + 100 * SLOT, parentState: state };

/** A header for `slot` proposed and signed by whoever the draw picks (or by `by`, claiming to be it). */
function headerAt(slot: number, by?: typeof light): BlockHeader {
  const proposerKey = by ?? keyOf(proposerForSlot(validators, slot)!);
  const header: BlockHeader = { ...parentHeader, height: 4, parent: parent.hash, time: engine.slotTime(slot), proposer: proposerKey.publicKey, seal: new Uint8Array(0) };
  return sealPosHeader(header, proposerKey.secretKey);
}
const verify = (h: BlockHeader) => engine.verifyHeader(h, new Uint8Array(0), parent, ctx);

describe('proposerForSlot', () => {
  it('is stake-weighted: with stakes 1:3, 20,000 slots split within ±3% of 25/75', () => {
    let lightSlots = 0;
    for (let slot = 0; slot < 20_000; slot++) if (bytesEqual(proposerForSlot(validators, slot)!, light.publicKey)) lightSlots++;
    expect(lightSlots / 20_000).toBeGreaterThan(0.22);
    expect(lightSlots / 20_000).toBeLessThan(0.28);
  });

  it('is a function of the validator set and the slot alone', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), (slot) => {
        const copy: Validator[] = validators.map((v) => ({ id: v.id.slice(), stake: v.stake }));
        expect(toHex(proposerForSlot(copy, slot)!)).toBe(toHex(proposerForSlot(validators, slot)!));
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('never picks a zero-stake validator, and picks nobody when there is no stake', () => {
    const withIdle: Validator[] = [...validators, { id: outsider.publicKey, stake: 0n }];
    for (let slot = 0; slot < 2000; slot++) expect(bytesEqual(proposerForSlot(withIdle, slot)!, outsider.publicKey)).toBe(false);
    expect(proposerForSlot([], 1)).toBeUndefined();
    expect(proposerForSlot([{ id: outsider.publicKey, stake: 0n }], 1)).toBeUndefined();
    expect(toHex(proposerForSlot([{ id: outsider.publicKey, stake: 5n }], 12345)!)).toBe(toHex(outsider.publicKey));
  });
});

describe('PosEngine', () => {
  it('slots start at genesis time and repeat every slotMs; other times are not slot starts', () => {
    expect(engine.slotOf(GENESIS_TIME)).toBe(0);
    expect(engine.slotOf(GENESIS_TIME + 7 * SLOT)).toBe(7);
    expect(engine.slotOf(GENESIS_TIME + 7 * SLOT + 1)).toBeUndefined();
    expect(engine.slotOf(GENESIS_TIME - SLOT)).toBeUndefined();
    expect(engine.slotTime(7)).toBe(GENESIS_TIME + 7 * SLOT);
  });

  it('accepts the drawn proposer signing at a slot start after the parent', () => {
    for (let slot = 4; slot < 14; slot++) expect(verify(headerAt(slot))).toBeNull();
  });

  it('refuses a time that is not a slot start (REJECT)', () => {
    const h = headerAt(5);
    const off = sealPosHeader({ ...h, time: h.time + 1 }, keyOf(h.proposer).secretKey);
    expect(verify(off)).toMatchObject({ code: BlockErrorCode.BadTime, action: ErrorAction.Reject });
  });

  it("refuses a slot at or before the parent's", () => {
    expect(verify(headerAt(3))).toMatchObject({ code: BlockErrorCode.BadTime });
    expect(verify(headerAt(2))).toMatchObject({ code: BlockErrorCode.BadTime });
  });

  it('ignores a slot that starts more than the drift ahead of the clock', () => {
    const early = { ...ctx, now: engine.slotTime(20) - 15_001 };
    expect(engine.verifyHeader(headerAt(20), new Uint8Array(0), parent, early)).toMatchObject({
      code: BlockErrorCode.FutureBlock,
      action: ErrorAction.Ignore,
    });
    expect(engine.verifyHeader(headerAt(20), new Uint8Array(0), parent, { ...early, now: early.now + 1 })).toBeNull();
  });

  it('refuses a block signed by a validator whose slot it is not', () => {
    let slot = 4;
    while (bytesEqual(proposerForSlot(validators, slot)!, light.publicKey)) slot++;
    expect(verify(headerAt(slot, light))).toMatchObject({ code: BlockErrorCode.WrongProposer });
    expect(verify(headerAt(slot, outsider))).toMatchObject({ code: BlockErrorCode.WrongProposer });
  });

  it("refuses a seal that is not the proposer's signature of this header", () => {
    const h = headerAt(6);
    const flipped = h.seal.slice();
    flipped[10]! ^= 1;
    expect(verify({ ...h, seal: flipped })).toMatchObject({ code: BlockErrorCode.BadSeal });
    expect(verify({ ...h, stateRoot: new Uint8Array(32).fill(7) })).toMatchObject({ code: BlockErrorCode.BadSeal });
    expect(verify({ ...h, seal: new Uint8Array(0) })).toMatchObject({ code: BlockErrorCode.BadSeal });
  });

  it('sealing ignores any seal already on the header', () => {
    const h = headerAt(6);
    expect(toHex(sealPosHeader({ ...h, seal: new Uint8Array(64).fill(3) }, keyOf(h.proposer).secretKey).seal)).toBe(toHex(h.seal));
  });

  it("nextProposalTime: the first slot start at or after now, after the parent, that is the proposer's", () => {
    for (const now of [GENESIS_TIME, parentHeader.time, parentHeader.time + 1, GENESIS_TIME + 50 * SLOT + 1, GENESIS_TIME + 77 * SLOT]) {
      for (const key of [light, heavy]) {
        const time = engine.nextProposalTime(parent, key.publicKey, { now, parentState: state })!;
        expect(time).toBeGreaterThanOrEqual(now);
        expect(time).toBeGreaterThan(parentHeader.time);
        const slot = engine.slotOf(time)!;
        expect(bytesEqual(proposerForSlot(validators, slot)!, key.publicKey)).toBe(true);
        // No earlier eligible slot was skipped.
        for (let s = slot - 1; engine.slotTime(s) >= now && engine.slotTime(s) > parentHeader.time; s--) {
          expect(bytesEqual(proposerForSlot(validators, s)!, key.publicKey)).toBe(false);
        }
        expect(engine.nextProposalTime(parent, key.publicKey, { now, parentState: state })).toBe(time);
      }
    }
    expect(engine.nextProposalTime(parent, outsider.publicKey, { now: GENESIS_TIME, parentState: state })).toBeNull();
  });

  it('scores the justified height first, then the height', () => {
    const justifiedAt = (height: number): StateReader => {
      const s = new StateOverlay({ get: () => undefined });
      putFinality(s, { justified: { height, hash: new Uint8Array(32) }, finalized: { height: 0, hash: new Uint8Array(32) } });
      return s;
    };
    expect(engine.score(headerAt(5), parent, state)).toBe(posScore(0, headerAt(5).height));
    // A short chain with a later justified checkpoint beats a long one without.
    expect(engine.score(headerAt(5), parent, justifiedAt(3)) > engine.score({ ...headerAt(5), height: 900 }, parent, justifiedAt(2))).toBe(true);
    expect(engine.initialSeal()).toEqual(new Uint8Array(0));
  });
});
