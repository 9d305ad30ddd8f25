import { sha256 } from '../../crypto/hash.ts';
import { BlockError, BlockErrorCode, ErrorAction } from '../../state/errors.ts';
import type { BlockHeader } from '../../types/block.ts';
import type { PowParams } from '../../types/genesis.ts';
import type { ConsensusContext, ConsensusEngine, ParentInfo } from '../interface.ts';

/** PoW seal: difficulty (u64 BE) || nonce (u64 BE). The nonce is the last 8 bytes of the header encoding. */
export const POW_SEAL_LENGTH = 16;
/** How far ahead of the local clock a block's time may be. */
export const MAX_FUTURE_DRIFT_MS = 15_000;

const MAX_TARGET = (1n << 256n) - 1n;

export interface PowSeal {
  readonly difficulty: bigint;
  readonly nonce: bigint;
}

export function encodePowSeal(seal: PowSeal): Uint8Array {
  const out = new Uint8Array(POW_SEAL_LENGTH);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, seal.difficulty);
  view.setBigUint64(8, seal.nonce);
  return out;
}

export function decodePowSeal(seal: Uint8Array): PowSeal | undefined {
  if (seal.length !== POW_SEAL_LENGTH) return undefined;
  const view = new DataView(seal.buffer, seal.byteOffset, seal.byteLength);
  return { difficulty: view.getBigUint64(0), nonce: view.getBigUint64(8) };
}

/** The largest hash (as a 256-bit big-endian number) that meets `difficulty`. */
export function targetOf(difficulty: bigint): bigint {
  return MAX_TARGET / difficulty;
}

/** True when sha256(headerBytes) is at or below the target of `difficulty`. */
export function meetsTarget(headerBytes: Uint8Array, difficulty: bigint): boolean {
  return hashToBigInt(sha256(headerBytes)) <= targetOf(difficulty);
}

export function hashToBigInt(hash: Uint8Array): bigint {
  const view = new DataView(hash.buffer, hash.byteOffset, hash.byteLength);
  let n = 0n;
  for (let i = 0; i < 32; i += 8) n = (n << 64n) | view.getBigUint64(i);
  return n;
}

/**
 * Per-block retarget (an exponential moving average): the parent's solve time moves the difficulty by
 * (target - solve) / (target * window). Solve times are clamped to [0, 6 targets] so one odd timestamp
 * cannot swing it far. Integer arithmetic only: every node computes the same value.
 */
export function nextDifficulty(params: PowParams, parent: ParentInfo): bigint {
  const parentSeal = decodePowSeal(parent.header.seal);
  if (parent.grandparentTime === null || parentSeal === undefined) return BigInt(params.initialDifficulty);
  const target = BigInt(params.targetBlockMs);
  const window = BigInt(params.retargetWindow);
  let solve = BigInt(parent.header.time - parent.grandparentTime);
  if (solve < 0n) solve = 0n;
  if (solve > 6n * target) solve = 6n * target;
  const next = (parentSeal.difficulty * (window * target + target - solve)) / (window * target);
  const min = BigInt(params.minDifficulty);
  return next < min ? min : next;
}

/** Proof of work: sha256 seal under a target, heaviest total work wins. */
export class PowEngine implements ConsensusEngine {
  readonly kind = 'pow';
  readonly params: PowParams;

  constructor(params: PowParams) {
    this.params = params;
  }

  verifyHeader(header: BlockHeader, headerBytes: Uint8Array, parent: ParentInfo, ctx: ConsensusContext): BlockError | null {
    // [REJECT] Time moves forward
    if (header.time <= parent.header.time) {
      return new BlockError(BlockErrorCode.BadTime, `block time ${header.time} is not after its parent's ${parent.header.time}`);
    }
    // [IGNORE] Not too far in the future (it may become valid later)
    if (header.time > ctx.now + MAX_FUTURE_DRIFT_MS) {
      return new BlockError(BlockErrorCode.FutureBlock, `block time is ${header.time - ctx.now} ms ahead of the local clock`, ErrorAction.Ignore);
    }
    const seal = decodePowSeal(header.seal);
    if (seal === undefined) {
      return new BlockError(BlockErrorCode.BadSeal, `a PoW seal is ${POW_SEAL_LENGTH} bytes, got ${header.seal.length}`);
    }
    // [REJECT] The difficulty is the retarget of the parent
    const expected = nextDifficulty(this.params, parent);
    if (seal.difficulty !== expected) {
      return new BlockError(BlockErrorCode.BadSeal, `difficulty ${seal.difficulty} should be ${expected}`);
    }
    // [REJECT] The header hash meets the target
    if (!meetsTarget(headerBytes, seal.difficulty)) {
      return new BlockError(BlockErrorCode.BadSeal, 'the header hash does not meet the target');
    }
    return null;
  }

  /** Heaviest total work: the sum of every block's difficulty. */
  score(header: BlockHeader, parent: ParentInfo): bigint {
    return parent.score + (decodePowSeal(header.seal)?.difficulty ?? 0n);
  }

  nextProposalTime(parent: ParentInfo, _proposer: Uint8Array, ctx: ConsensusContext): number {
    return Math.max(ctx.now, parent.header.time + 1);
  }

  initialSeal(parent: ParentInfo): Uint8Array {
    return encodePowSeal({ difficulty: nextDifficulty(this.params, parent), nonce: 0n });
  }
}
