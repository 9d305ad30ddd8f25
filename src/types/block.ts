import type { AccountId, Hash } from './primitives.ts';
import type { Transaction } from './transaction.ts';

/** `[chainId, height, parent, time, txRoot, stateRoot, proposer, seal]`; its hash is sha256 of its encoding. */
export interface BlockHeader {
  readonly chainId: string;
  readonly height: number;
  readonly parent: Hash;
  /** Milliseconds since the Unix epoch, as claimed by the proposer and checked by the engine. */
  readonly time: number;
  readonly txRoot: Hash;
  /** The state commitment after applying this block's transactions. */
  readonly stateRoot: Hash;
  readonly proposer: AccountId;
  /** Engine-defined: PoW difficulty and nonce, PoS the proposer's signature. */
  readonly seal: Uint8Array;
}

/** A decoded block: `[headerBytes, [txBytes...]]` on the wire. */
export interface Block {
  readonly header: BlockHeader;
  readonly headerBytes: Uint8Array;
  readonly hash: Hash;
  readonly transactions: readonly Transaction[];
  readonly bytes: Uint8Array;
}
