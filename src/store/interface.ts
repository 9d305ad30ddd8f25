import type { Startable } from '../util/lifecycle.ts';

/** A block's place in the block tree, kept beside its bytes. */
export interface BlockMeta {
  readonly height: number;
  readonly parent: Uint8Array;
  /** Fork-choice weight accumulated from genesis to this block (PoW: total work; PoS: engine-defined). */
  readonly score: bigint;
}

/** Where an included transaction sits on the canonical chain. */
export interface TxLocation {
  readonly blockHash: Uint8Array;
  readonly height: number;
  readonly index: number;
}

export interface HeadPointer {
  readonly hash: Uint8Array;
  readonly height: number;
}

export type { StateEntry } from '../types/state.ts';

/**
 * One write of a chain update. The chain layer computes the whole list (a new block, a reorg, genesis)
 * and the store applies it as a single atomic batch synced to disk.
 */
export type ChainWrite =
  /** A block's bytes as received, its encoded header (kept apart for header requests) and its meta. */
  | { readonly kind: 'block'; readonly hash: Uint8Array; readonly bytes: Uint8Array; readonly header: Uint8Array; readonly meta: BlockMeta }
  /** Prior values of every state key a block wrote, opaque to the store; `undo: null` deletes it. */
  | { readonly kind: 'undo'; readonly hash: Uint8Array; readonly undo: Uint8Array | null }
  /** Canonical chain index: height -> hash, or `hash: null` to drop a height after a reorg to a shorter chain. */
  | { readonly kind: 'canonical'; readonly height: number; readonly hash: Uint8Array | null }
  | { readonly kind: 'tx'; readonly txId: Uint8Array; readonly location: TxLocation | null }
  | { readonly kind: 'state'; readonly key: Uint8Array; readonly value: Uint8Array | null }
  | { readonly kind: 'head'; readonly head: HeadPointer }
  /** Small named values: the genesis hash, the schema version. */
  | { readonly kind: 'meta'; readonly name: MetaName; readonly value: Uint8Array }
  /** Node-local query indexes (records by owner, audit entries...): derived from blocks, not consensus. */
  | { readonly kind: 'index'; readonly key: Uint8Array; readonly value: Uint8Array | null }
  /** Deletes every off-chain blob whose key starts with `prefix` (crypto-shredding an erased record). */
  | { readonly kind: 'eraseBlobs'; readonly prefix: Uint8Array };

/**
 * lastVote: this validator's last finality vote [sourceHeight, targetHeight], so a restart never votes twice for a height;
 * finalized: the highest finalized checkpoint [height, hash] this node has seen (finality never goes back).
 */
export type MetaName = 'genesisHash' | 'schemaVersion' | 'lastVote' | 'finalized';

/** A staged chain write: nothing is on disk until `commit` resolves. Call exactly one of the two. */
export interface PreparedWrite {
  commit(): Promise<void>;
  discard(): Promise<void>;
}

/** The chain database: typed reads plus one atomic write. */
export interface ChainStore extends Startable {
  getHead(): Promise<HeadPointer | undefined>;
  getMeta(name: MetaName): Promise<Uint8Array | undefined>;
  getBlock(hash: Uint8Array): Promise<Uint8Array | undefined>;
  getBlockMeta(hash: Uint8Array): Promise<BlockMeta | undefined>;
  /** A block's encoded header; undefined if unknown, or written before headers were kept apart (read the block then). */
  getHeader(hash: Uint8Array): Promise<Uint8Array | undefined>;
  getUndo(hash: Uint8Array): Promise<Uint8Array | undefined>;
  getCanonicalHash(height: number): Promise<Uint8Array | undefined>;
  getTxLocation(txId: Uint8Array): Promise<TxLocation | undefined>;
  /** Every state entry in key order (used once at start to load the in-memory state). */
  readState(): AsyncIterable<{ key: Uint8Array; value: Uint8Array }>;
  /** Applies every write in one atomic batch, synced to disk before the promise resolves. */
  write(writes: readonly ChainWrite[]): Promise<void>;
  /**
   * Builds the batch for `writes` now (refusing a malformed write as `write` does) and applies it, synced,
   * only on `commit()`; `discard()` drops it. The chain builds a block's batch while its signatures are
   * still being checked.
   */
  prepareWrite(writes: readonly ChainWrite[]): Promise<PreparedWrite>;
  /** Index entries whose key starts with `prefix`, in key order (keys as written, without the store's prefix). */
  readIndex(prefix: Uint8Array, limit?: number): AsyncIterable<{ key: Uint8Array; value: Uint8Array }>;
  getBlob(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** Blobs whose key starts with `prefix`, in key order. */
  readBlobs(prefix: Uint8Array, limit?: number): AsyncIterable<{ key: Uint8Array; value: Uint8Array }>;
  /** Stores (or, with `value: null`, deletes) off-chain blobs in one synced batch. */
  putBlobs(entries: readonly { key: Uint8Array; value: Uint8Array | null }[]): Promise<void>;
}
