import type { AccountId } from './primitives.ts';

/** Proof-of-work parameters: sha256 seal under a target, difficulty retargeted every block. */
export interface PowParams {
  readonly engine: 'pow';
  /** The block interval the retarget steers toward, in ms. */
  readonly targetBlockMs: number;
  /** Difficulty of block 1 (expected hashes per block). */
  readonly initialDifficulty: number;
  readonly minDifficulty: number;
  /** Smoothing of the per-block retarget: a larger window reacts more slowly. */
  readonly retargetWindow: number;
}

/** Proof-of-stake parameters: one proposer per slot, chosen by stake. */
export interface PosParams {
  readonly engine: 'pos';
  readonly slotMs: number;
  /** Blocks between a stake or unstake transaction and the validator-set change it makes. */
  readonly stakeDelayBlocks: number;
}

export type ConsensusParams = PowParams | PosParams;

export interface GenesisHospital {
  readonly id: AccountId;
  readonly name: string;
  /** Validator stake; 0 for a hospital that does not validate. */
  readonly stake: bigint;
  /** Unbonded balance it may stake later. */
  readonly balance: bigint;
}

/** Accounts registered at genesis (demo patients and doctors of a dev chain). */
export interface GenesisAccount {
  readonly id: AccountId;
  readonly role: 'patient' | 'doctor';
}

/** From `fromHeight` on, policies are checked with the flags of rule version `version` (versions only tighten). */
export interface PolicyRuleActivation {
  readonly fromHeight: number;
  readonly version: number;
}

/** The genesis file, validated. Everything here is committed to by the genesis hash. */
export interface GenesisSpec {
  readonly chainId: string;
  /** Genesis block time, ms since the epoch; PoS slots count from here. */
  readonly time: number;
  readonly consensus: ConsensusParams;
  readonly hospitals: readonly GenesisHospital[];
  readonly accounts: readonly GenesisAccount[];
  /** Ascending by height, the first at height 0. */
  readonly policyRules: readonly PolicyRuleActivation[];
}
