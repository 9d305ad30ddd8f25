/** Proof-of-work rules: the integer retarget, the seal checks, the score and the nonce search. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeHeader } from '../../../src/codec/block.ts';
import type { ParentInfo } from '../../../src/consensus/interface.ts';
import { searchNonce } from '../../../src/consensus/pow/mine.ts';
import {
  MAX_FUTURE_DRIFT_MS,
  PowEngine,
  decodePowSeal,
  encodePowSeal,
  meetsTarget,
  nextDifficulty,
  targetOf,
} from '../../../src/consensus/pow/powEngine.ts';
import { BlockErrorCode, ErrorAction } from '../../../src/state/errors.ts';
import type { StateReader } from '../../../src/state/overlay.ts';
import type { BlockHeader } from '../../../src/types/block.ts';
import type { PowParams } from '../../../src/types/genesis.ts';
import { SEED, powSealHeader } from '../../helpers/chainBuilder.ts';

const params: PowParams = { engine: 'pow', targetBlockMs: 1000, initialDifficulty: 1000, minDifficulty: 10, retargetWindow: 20 };
const P = 1_764_000_100_000;
const empty: StateReader = { get: () => undefined };

function parentWith(difficulty: bigint, solveMs: number | null, score = 5000n): ParentInfo {
  const header: BlockHeader = {
    chainId: 'medchain-test',
    height: 5,
    parent: new Uint8Array(32).fill(1),
    time: P,
    txRoot: new Uint8Array(32),
    stateRoot: new Uint8Array(32),
    proposer: new Uint8Array(32),
    seal: encodePowSeal({ difficulty, nonce: 7n }),
  };
  return { header, hash: new Uint8Array(32).fill(5), score, grandparentTime: solveMs === null ? null : P - solveMs };
}

describe('nextDifficulty', () => {
  it('starts at the initial difficulty after genesis (no grandparent) or after a parent without a PoW seal', () => {
    expect(nextDifficulty(params, parentWith(77n, null))).toBe(1000n);
    const sealless = parentWith(77n, 1000);
    expect(nextDifficulty(params, { ...sealless, header: { ...sealless.header, seal: new Uint8Array(0) } })).toBe(1000n);
  });

  it('stays put on target, rises when blocks are fast, falls when they are slow (exact integer values)', () => {
    // next = d * (w*t + t - solve) / (w*t), with w = 20, t = 1000.
    expect(nextDifficulty(params, parentWith(1000n, 1000))).toBe(1000n);
    expect(nextDifficulty(params, parentWith(1000n, 500))).toBe(1025n);
    expect(nextDifficulty(params, parentWith(1000n, 2000))).toBe(950n);
    expect(nextDifficulty(params, parentWith(1001n, 2000))).toBe(950n); // 1001 * 19000 / 20000 = 950.95, rounded down
  });

  it('clamps the solve time to [0, 6 targets]', () => {
    expect(nextDifficulty(params, parentWith(1000n, 0))).toBe(1050n);
    expect(nextDifficulty(params, parentWith(1000n, -60_000))).toBe(1050n);
    expect(nextDifficulty(params, parentWith(1000n, 6000))).toBe(750n);
    expect(nextDifficulty(params, parentWith(1000n, 600_000))).toBe(750n);
  });

  it('never goes below the minimum difficulty', () => {
    expect(nextDifficulty(params, parentWith(10n, 6000))).toBe(10n);
    expect(nextDifficulty(params, parentWith(11n, 2000))).toBe(10n);
  });

  it('is integer arithmetic: equals the formula in bigints, is monotone in the solve time, and exact for huge values', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 2n ** 62n }),
        fc.integer({ min: -10_000, max: 100_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 10, max: 10_000 }),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 1000 }),
        (d, solve, more, target, window, min) => {
          const p: PowParams = { engine: 'pow', targetBlockMs: target, initialDifficulty: min, minDifficulty: min, retargetWindow: window };
          const next = nextDifficulty(p, parentWith(d, solve));
          const t = BigInt(target);
          const w = BigInt(window);
          const s = BigInt(Math.min(Math.max(solve, 0), 6 * target));
          const formula = (d * (w * t + t - s)) / (w * t);
          expect(next).toBe(formula < BigInt(min) ? BigInt(min) : formula);
          expect(nextDifficulty(p, parentWith(d, solve + more)) <= next).toBe(true);
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });
});

describe('PowEngine.verifyHeader', () => {
  const engine = new PowEngine(params);
  const parent = parentWith(1000n, 1000);
  const ctx = { now: P + 10_000, parentState: empty };
  // A cheap difficulty for mining in tests, as the parent's retarget expects it.
  const cheap: PowParams = { ...params, initialDifficulty: 16, minDifficulty: 1 };
  const cheapEngine = new PowEngine(cheap);
  const cheapParent = parentWith(16n, 1000);

  function mined(overrides: Partial<BlockHeader> = {}, difficulty = nextDifficulty(cheap, cheapParent)): BlockHeader {
    const header: BlockHeader = {
      ...cheapParent.header,
      height: 6,
      parent: cheapParent.hash,
      time: P + 1000,
      seal: encodePowSeal({ difficulty, nonce: 0n }),
      ...overrides,
    };
    return powSealHeader(header);
  }
  const verify = (e: PowEngine, h: BlockHeader, p: ParentInfo) => e.verifyHeader(h, encodeHeader(h), p, ctx);

  it('accepts a mined header with the retargeted difficulty', () => {
    expect(verify(cheapEngine, mined(), cheapParent)).toBeNull();
  });

  it('refuses a block with the wrong difficulty, even one mined to it (higher or lower)', () => {
    for (const difficulty of [15n, 17n, 32n]) {
      const error = verify(cheapEngine, mined({}, difficulty), cheapParent);
      expect(error).toMatchObject({ code: BlockErrorCode.BadSeal, action: ErrorAction.Reject });
      expect(error?.message).toContain(`should be ${nextDifficulty(cheap, cheapParent)}`);
    }
  });

  it('refuses a nonce whose hash misses the target, and a seal of the wrong length', () => {
    const good = mined();
    const seal = decodePowSeal(good.seal)!;
    let nonce = seal.nonce + 1n;
    let bad: BlockHeader = good;
    for (; ; nonce++) {
      bad = { ...good, seal: encodePowSeal({ difficulty: seal.difficulty, nonce }) };
      if (!meetsTarget(encodeHeader(bad), seal.difficulty)) break;
    }
    expect(verify(cheapEngine, bad, cheapParent)).toMatchObject({ code: BlockErrorCode.BadSeal, message: 'the header hash does not meet the target' });
    expect(verify(cheapEngine, { ...good, seal: good.seal.subarray(0, 15) }, cheapParent)).toMatchObject({ code: BlockErrorCode.BadSeal });
    expect(verify(cheapEngine, { ...good, seal: new Uint8Array(0) }, cheapParent)).toMatchObject({ code: BlockErrorCode.BadSeal });
  });

  it('refuses a time not after the parent (REJECT) and a time too far ahead of the clock (IGNORE)', () => {
    expect(verify(engine, { ...parent.header, time: P }, parent)).toMatchObject({ code: BlockErrorCode.BadTime, action: ErrorAction.Reject });
    expect(verify(engine, { ...parent.header, time: P - 1 }, parent)).toMatchObject({ code: BlockErrorCode.BadTime });
    const future = { ...parent.header, time: ctx.now + MAX_FUTURE_DRIFT_MS + 1 };
    expect(verify(engine, future, parent)).toMatchObject({ code: BlockErrorCode.FutureBlock, action: ErrorAction.Ignore });
    // At the edge of the drift the time is fine (the seal is what fails then).
    expect(verify(engine, { ...future, time: ctx.now + MAX_FUTURE_DRIFT_MS }, parent)?.code).toBe(BlockErrorCode.BadSeal);
  });

  it('scores by accumulated difficulty and proposes as soon as time allows', () => {
    const header = mined();
    expect(cheapEngine.score(header, cheapParent)).toBe(cheapParent.score + decodePowSeal(header.seal)!.difficulty);
    expect(engine.nextProposalTime(parent, new Uint8Array(32), { now: P - 50, parentState: empty })).toBe(P + 1);
    expect(engine.nextProposalTime(parent, new Uint8Array(32), { now: P + 70, parentState: empty })).toBe(P + 70);
    expect(engine.initialSeal(parent)).toEqual(encodePowSeal({ difficulty: 1000n, nonce: 0n }));
  });
});

describe('searchNonce', () => {
  const header = encodeHeader({ ...parentWith(16n, null).header, seal: encodePowSeal({ difficulty: 64n, nonce: 0n }) });

  it('finds the first nonce from `start` whose header meets the target, and writes it in the last 8 bytes', () => {
    const nonce = searchNonce(header, 64n, 0n, 100_000)!;
    expect(nonce).not.toBeNull();
    const sealed = header.slice();
    new DataView(sealed.buffer).setBigUint64(sealed.length - 8, nonce);
    expect(meetsTarget(sealed, 64n)).toBe(true);
    for (let n = 0n; n < nonce; n++) {
      new DataView(sealed.buffer).setBigUint64(sealed.length - 8, n);
      expect(meetsTarget(sealed, 64n)).toBe(false);
    }
    expect(searchNonce(header, 64n, nonce + 1n, 100_000)! > nonce).toBe(true);
    expect(searchNonce(header, 64n, 0n, Number(nonce))).toBeNull();
    // The input is not modified.
    expect(header.subarray(-8)).toEqual(new Uint8Array(8));
  });

  it('difficulty 1 accepts any hash; the target shrinks as difficulty grows', () => {
    expect(searchNonce(header, 1n, 5n, 1)).toBe(5n);
    expect(targetOf(1n)).toBe(2n ** 256n - 1n);
    expect(targetOf(2n)).toBe((2n ** 256n - 1n) / 2n);
  });
});
