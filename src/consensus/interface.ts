import type { StateReader } from '../state/overlay.ts';
import type { BlockError } from '../state/errors.ts';
import type { BlockHeader } from '../types/block.ts';
import type { AccountId, Hash } from '../types/primitives.ts';

/** What an engine knows of a block's parent. */
export interface ParentInfo {
  readonly header: BlockHeader;
  readonly hash: Hash;
  /** Fork-choice score accumulated up to and including the parent. */
  readonly score: bigint;
  /** Time of the parent's parent, or null when the parent is genesis (PoW retarget). */
  readonly grandparentTime: number | null;
}

/** Inputs from outside the chain, passed in so engines stay pure. */
export interface ConsensusContext {
  /** The local clock, ms since the epoch. */
  readonly now: number;
  /** State after the parent block (the validator set lives there). */
  readonly parentState: StateReader;
}

/**
 * A consensus engine: the pure rules one engine adds to block validity and fork choice. Producing a seal
 * (mining, signing on a slot timer) is I/O and lives in chain/ (see chain/sealer.ts).
 */
export interface ConsensusEngine {
  readonly kind: string;
  /** Checks the engine's rules for `header` (time, proposer, seal) against its parent; null when valid. */
  verifyHeader(header: BlockHeader, headerBytes: Uint8Array, parent: ParentInfo, ctx: ConsensusContext): BlockError | null;
  /**
   * Fork-choice score of a block from its parent's and the state after it (PoS reads the justified
   * checkpoint there). The highest score is the head.
   */
  score(header: BlockHeader, parent: ParentInfo, postState: StateReader): bigint;
  /**
   * The earliest block time at or after `now` at which `proposer` may build on `parent`, or null if it may
   * not (PoS: not a validator within the look-ahead).
   */
  nextProposalTime(parent: ParentInfo, proposer: AccountId, ctx: ConsensusContext): number | null;
  /** The seal a freshly built header carries before sealing (PoW: its difficulty with nonce 0). */
  initialSeal(parent: ParentInfo): Uint8Array;
}
