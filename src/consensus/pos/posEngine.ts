import { bytesEqual, concatBytes, toHex, utf8 } from '../../codec/bytes.ts';
import { encodeHeaderForSigning } from '../../codec/block.ts';
import { sign, verify } from '../../crypto/ed25519.ts';
import { sha256 } from '../../crypto/hash.ts';
import { getValidatorSet } from '../../state/accessors.ts';
import { BlockError, BlockErrorCode, ErrorAction } from '../../state/errors.ts';
import type { Validator } from '../../state/stateValues.ts';
import type { BlockHeader } from '../../types/block.ts';
import type { PosParams } from '../../types/genesis.ts';
import type { AccountId } from '../../types/primitives.ts';
import { finalityOf } from '../../state/finality.ts';
import type { StateReader } from '../../state/overlay.ts';
import type { ConsensusContext, ConsensusEngine, ParentInfo } from '../interface.ts';
import { MAX_FUTURE_DRIFT_MS } from '../pow/powEngine.ts';

/** How many slots ahead nextProposalTime looks for one of ours. */
const PROPOSAL_LOOKAHEAD_SLOTS = 10_000;
const PROPOSER_DOMAIN = utf8('medchain/pos/proposer/v1');

/**
 * The proposer of `slot`: a stake-weighted draw seeded by the slot number alone, so every node computes the
 * same one from the same validator set. (A RANDAO-style seed that proposers cannot predict comes with
 * multi-validator PoS.)
 */
export function proposerForSlot(validators: readonly Validator[], slot: number): AccountId | undefined {
  let total = 0n;
  for (const v of validators) total += v.stake;
  if (total === 0n) return undefined;
  const slotBytes = new Uint8Array(8);
  new DataView(slotBytes.buffer).setBigUint64(0, BigInt(slot));
  const seed = sha256(concatBytes(PROPOSER_DOMAIN, slotBytes));
  let draw = new DataView(seed.buffer, seed.byteOffset, 32).getBigUint64(0) % total;
  for (const v of validators) {
    if (draw < v.stake) return v.id;
    draw -= v.stake;
  }
  return undefined;
}

/** Proof of stake: a slot clock from genesis, a stake-weighted proposer per slot, blocks signed by it. */
export class PosEngine implements ConsensusEngine {
  readonly kind = 'pos';
  readonly params: PosParams;
  readonly genesisTime: number;

  constructor(params: PosParams, genesisTime: number) {
    this.params = params;
    this.genesisTime = genesisTime;
  }

  /** The slot a block time falls in, or undefined when the time is not the start of a slot. */
  slotOf(time: number): number | undefined {
    const offset = time - this.genesisTime;
    if (offset < 0 || offset % this.params.slotMs !== 0) return undefined;
    return offset / this.params.slotMs;
  }

  slotTime(slot: number): number {
    return this.genesisTime + slot * this.params.slotMs;
  }

  verifyHeader(header: BlockHeader, _headerBytes: Uint8Array, parent: ParentInfo, ctx: ConsensusContext): BlockError | null {
    const slot = this.slotOf(header.time);
    // [REJECT] The block time is the start of a slot
    if (slot === undefined) return new BlockError(BlockErrorCode.BadTime, `time ${header.time} is not the start of a slot`);
    // [REJECT] The slot is after the parent's
    if (header.time <= parent.header.time) {
      return new BlockError(BlockErrorCode.BadTime, `slot ${slot} is not after the parent's slot`);
    }
    // [IGNORE] The slot has started (allowing for clock drift)
    if (header.time > ctx.now + MAX_FUTURE_DRIFT_MS) {
      return new BlockError(BlockErrorCode.FutureBlock, `slot ${slot} starts ${header.time - ctx.now} ms from now`, ErrorAction.Ignore);
    }
    // [REJECT] The proposer is the one the stake-weighted draw picked for this slot
    const expected = proposerForSlot(getValidatorSet(ctx.parentState), slot);
    if (expected === undefined || !bytesEqual(expected, header.proposer)) {
      return new BlockError(
        BlockErrorCode.WrongProposer,
        `slot ${slot} belongs to ${expected === undefined ? 'no validator' : toHex(expected).slice(0, 16) + '…'}`,
      );
    }
    // [REJECT] The proposer signed the header
    if (!verify(header.seal, encodeHeaderForSigning(header), header.proposer)) {
      return new BlockError(BlockErrorCode.BadSeal, "the seal is not the proposer's signature of the header");
    }
    return null;
  }

  /**
   * FFG's fork choice: the chain with the highest justified checkpoint, then the longest. (Never below the
   * finalized block: the chain refuses branches that leave the chain there.)
   */
  score(header: BlockHeader, _parent: ParentInfo, postState: StateReader): bigint {
    return posScore(justifiedHeightOf(postState), header.height);
  }

  nextProposalTime(parent: ParentInfo, proposer: AccountId, ctx: ConsensusContext): number | null {
    const validators = getValidatorSet(ctx.parentState);
    const first = Math.max(
      Math.ceil((Math.max(ctx.now, parent.header.time + 1) - this.genesisTime) / this.params.slotMs),
      0,
    );
    for (let slot = first; slot < first + PROPOSAL_LOOKAHEAD_SLOTS; slot++) {
      const chosen = proposerForSlot(validators, slot);
      if (chosen !== undefined && bytesEqual(chosen, proposer)) return this.slotTime(slot);
    }
    return null;
  }

  initialSeal(): Uint8Array {
    return new Uint8Array(0);
  }
}

/** Justified height in the high bits, height in the low 32. */
export function posScore(justifiedHeight: number, height: number): bigint {
  return (BigInt(justifiedHeight) << 32n) | BigInt(height);
}

function justifiedHeightOf(state: StateReader): number {
  // The genesis hash only fills the default; the height is what the score needs.
  return finalityOf(state, new Uint8Array(32)).justified.height;
}

/** Signs a header as its proposer: the seal is the signature of the header encoded with an empty seal. */
export function sealPosHeader(header: BlockHeader, secretKey: Uint8Array): BlockHeader {
  return { ...header, seal: sign(encodeHeaderForSigning({ ...header, seal: new Uint8Array(0) }), secretKey) };
}

