import type { Logger } from 'pino';
import { assembleBlock, decodeBlock } from '../codec/block.ts';
import { bytesEqual, toHex } from '../codec/bytes.ts';
import { encodeCanonical } from '../codec/canonical.ts';
import { DecodeError } from '../codec/errors.ts';
import type { ConsensusEngine, ParentInfo } from '../consensus/interface.ts';
import { merkleRoot } from '../crypto/merkle.ts';
import { applyBlock, buildBlockContents, type BlockExecution, type ExcludedTransaction } from '../state/applyBlock.ts';
import type { BlockContext } from '../state/applyTx.ts';
import { BlockError, BlockErrorCode, ErrorAction } from '../state/errors.ts';
import { buildGenesis, policyFlagsAt } from '../state/genesis.ts';
import { MemoryState, type StateReader } from '../state/overlay.ts';
import type { ChainStore, ChainWrite } from '../store/interface.ts';
import type { Block, BlockHeader } from '../types/block.ts';
import type { GenesisSpec } from '../types/genesis.ts';
import { MAX_BLOCK_TXS, type AccountId, type Hash } from '../types/primitives.ts';
import type { StateEntry } from '../types/state.ts';
import type { Transaction } from '../types/transaction.ts';
import type { Startable } from '../util/lifecycle.ts';
import type { SignatureVerifier } from './signatureVerifier.ts';
import { indexWrites } from './indexer.ts';

/** The chain's tip. */
export interface Head {
  readonly hash: Hash;
  readonly header: BlockHeader;
  readonly score: bigint;
  /** Time of the head's parent, or null at genesis (the engine's retarget needs it). */
  readonly parentTime: number | null;
}

/** A block built on the head, waiting for its seal. */
export interface BuiltBlock {
  readonly header: BlockHeader;
  readonly transactions: readonly Transaction[];
  readonly execution: BlockExecution;
  readonly excluded: readonly ExcludedTransaction[];
  readonly parent: Head;
}

export interface ChainOptions {
  readonly genesis: GenesisSpec;
  /** Transactions per produced block at most. */
  readonly maxBlockTxs?: number;
}

export interface ChainModules {
  readonly store: ChainStore;
  readonly engine: ConsensusEngine;
  readonly verifier: SignatureVerifier;
  readonly logger: Logger;
  /** The local clock in ms; injected so tests control time. */
  readonly clock: () => number;
}

/** Refusal to start on a datadir that belongs to another chain. */
export class GenesisMismatchError extends Error {
  constructor(stored: Hash, expected: Hash) {
    super(
      `this datadir holds the chain with genesis ${toHex(stored)}, but the genesis file gives ${toHex(expected)}; ` +
        'use the matching genesis file or another --datadir',
    );
    this.name = 'GenesisMismatchError';
  }
}

type HeadListener = (block: Block, head: Head) => void;

/**
 * The import pipeline and the head state: validates blocks in layers (format, parent, engine, signatures,
 * execution), writes each one in a single synced batch, and keeps the head state in memory.
 */
export class Chain implements Startable {
  readonly genesisSpec: GenesisSpec;
  readonly #modules: ChainModules;
  readonly #maxBlockTxs: number;
  readonly #state = new MemoryState();
  readonly #listeners = new Set<HeadListener>();
  #head: Head | undefined;
  #genesisHash: Hash | undefined;
  // Imports run one at a time: each sees the head the previous one left.
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: ChainOptions, modules: ChainModules) {
    this.genesisSpec = options.genesis;
    this.#maxBlockTxs = Math.min(options.maxBlockTxs ?? MAX_BLOCK_TXS, MAX_BLOCK_TXS);
    this.#modules = modules;
  }

  async start(): Promise<void> {
    const { store, logger } = this.#modules;
    const genesis = buildGenesis(this.genesisSpec);
    const stored = await store.getMeta('genesisHash');
    if (stored === undefined) {
      await store.write(this.#genesisWrites(genesis.block, genesis.writes));
      logger.info({ genesisHash: toHex(genesis.block.hash) }, 'initialised the datadir with the genesis block');
    } else if (!bytesEqual(stored, genesis.block.hash)) {
      throw new GenesisMismatchError(stored, genesis.block.hash);
    }
    this.#genesisHash = genesis.block.hash;
    for await (const { key, value } of store.readState()) this.#state.apply([{ key, value }]);
    const pointer = await store.getHead();
    if (pointer === undefined) throw new Error('the datadir has a genesis hash but no head pointer; it is corrupt');
    this.#head = await this.#loadHead(pointer.hash);
    logger.info(
      { genesisHash: toHex(genesis.block.hash), height: this.#head.header.height, head: toHex(this.#head.hash), stateEntries: this.#state.size },
      'chain loaded',
    );
  }

  async stop(): Promise<void> {
    // Let an import in flight finish its batch; nothing is ever half-written, but this keeps logs honest.
    await this.#queue.catch(() => undefined);
  }

  get genesisHash(): Hash {
    if (this.#genesisHash === undefined) throw new Error('chain not started');
    return this.#genesisHash;
  }

  get head(): Head {
    if (this.#head === undefined) throw new Error('chain not started');
    return this.#head;
  }

  /** The state after the head block. Synchronous reads for RPC and the mempool. */
  get state(): StateReader {
    return this.#state;
  }

  get engine(): ConsensusEngine {
    return this.#modules.engine;
  }

  /** Calls `listener` after each new head is committed. Returns a function that unsubscribes. */
  onHead(listener: HeadListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  parentInfo(head: Head = this.head): ParentInfo {
    return { header: head.header, hash: head.hash, score: head.score, grandparentTime: head.parentTime };
  }

  /** Validates and imports a block received as bytes. Throws BlockError with a code and a gossip action. */
  importBlock(bytes: Uint8Array): Promise<Block> {
    return this.#serial(async () => {
      let block: Block;
      try {
        block = decodeBlock(bytes);
      } catch (error) {
        if (error instanceof DecodeError) throw new BlockError(BlockErrorCode.Decode, error.message);
        throw error;
      }
      return this.#importDecoded(block);
    });
  }

  /** The context a block built on the head at `time` runs in (block building, and the mempool's dry run). */
  nextBlockContext(time: number): BlockContext {
    const height = this.head.header.height + 1;
    return { chainId: this.genesisSpec.chainId, height, time, policyFlags: policyFlagsAt(this.genesisSpec, height) };
  }

  /** Builds a block on the current head from `candidates` (in order), leaving out those that do not apply. */
  buildBlock(proposer: AccountId, time: number, candidates: Iterable<Transaction>): BuiltBlock {
    const parent = this.head;
    const ctx = this.nextBlockContext(time);
    const contents = buildBlockContents(this.#state, candidates, ctx, parent.header.stateRoot, this.#maxBlockTxs);
    const header: BlockHeader = {
      chainId: ctx.chainId,
      height: ctx.height,
      parent: parent.hash,
      time,
      txRoot: merkleRoot(contents.included.map((tx) => tx.id)),
      stateRoot: contents.stateRoot,
      proposer,
      seal: this.#modules.engine.initialSeal(this.parentInfo(parent)),
    };
    const { included, excluded, ...execution } = contents;
    return { header, transactions: included, execution, excluded, parent };
  }

  /**
   * Commits a block this node built and sealed. The execution is reused (no second run); the seal is still
   * checked by the engine. Returns null when the head moved while sealing (the block is stale).
   */
  commitBuiltBlock(built: BuiltBlock, sealed: BlockHeader): Promise<Block | null> {
    return this.#serial(async () => {
      if (!bytesEqual(this.head.hash, built.parent.hash)) return null;
      const block = assembleBlock(sealed, built.transactions);
      this.#checkEngineRules(block);
      await this.#commit(block, built.execution);
      return block;
    });
  }

  async getBlockByHash(hash: Hash): Promise<Block | undefined> {
    const bytes = await this.#modules.store.getBlock(hash);
    return bytes === undefined ? undefined : decodeBlock(bytes);
  }

  async getBlockByHeight(height: number): Promise<Block | undefined> {
    const hash = await this.#modules.store.getCanonicalHash(height);
    return hash === undefined ? undefined : this.getBlockByHash(hash);
  }

  getTxLocation(txId: Hash): ReturnType<ChainStore['getTxLocation']> {
    return this.#modules.store.getTxLocation(txId);
  }

  /** The chain database, for read-only queries (indexes, blobs). Writes go through the import pipeline. */
  get store(): ChainStore {
    return this.#modules.store;
  }

  /**
   * Runs `task` between imports: nothing is committed while it runs, so checks against the head state and
   * writes to the blob store cannot interleave with an erasure.
   */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.#serial(task);
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #importDecoded(block: Block): Promise<Block> {
    const { header } = block;
    // [IGNORE] The block is not already known
    if ((await this.#modules.store.getBlockMeta(block.hash)) !== undefined) {
      throw new BlockError(BlockErrorCode.AlreadyKnown, `block ${toHex(block.hash)} is already known`, ErrorAction.Ignore);
    }
    // [REJECT] The block is for this chain
    if (header.chainId !== this.genesisSpec.chainId) {
      throw new BlockError(BlockErrorCode.WrongChain, `block is for chain "${header.chainId}"`);
    }
    // [IGNORE] The parent is the head (side chains and reorgs come with the network layer)
    const head = this.head;
    if (!bytesEqual(header.parent, head.hash)) {
      throw new BlockError(
        BlockErrorCode.UnknownParent,
        `parent ${toHex(header.parent).slice(0, 16)}… is not the head ${toHex(head.hash).slice(0, 16)}…`,
        ErrorAction.Ignore,
      );
    }
    // [REJECT] The height is the parent's plus one
    if (header.height !== head.header.height + 1) {
      throw new BlockError(BlockErrorCode.WrongHeight, `height ${header.height} should be ${head.header.height + 1}`);
    }
    // [REJECT] The transaction root commits to the transactions
    if (!bytesEqual(header.txRoot, merkleRoot(block.transactions.map((tx) => tx.id)))) {
      throw new BlockError(BlockErrorCode.BadTxRoot, 'the transaction root does not match the transactions');
    }
    this.#checkEngineRules(block);
    // [REJECT] Every transaction is signed by its sender
    const bad = await this.#modules.verifier.verifyTransactions(block.transactions);
    if (bad >= 0) throw new BlockError(BlockErrorCode.BadSignature, `transaction ${bad} has an invalid signature`);
    // [REJECT] Executing the transactions gives the claimed state root
    const execution = applyBlock(this.#state, block, head.header.stateRoot, policyFlagsAt(this.genesisSpec, header.height));
    if (!bytesEqual(execution.stateRoot, header.stateRoot)) {
      throw new BlockError(BlockErrorCode.BadStateRoot, `state root should be ${toHex(execution.stateRoot)}`);
    }
    await this.#commit(block, execution);
    return block;
  }

  #checkEngineRules(block: Block): void {
    const { engine, clock } = this.#modules;
    const error = engine.verifyHeader(block.header, block.headerBytes, this.parentInfo(), {
      now: clock(),
      parentState: this.#state,
    });
    if (error !== null) throw error;
  }

  async #commit(block: Block, execution: BlockExecution): Promise<void> {
    const parent = this.head;
    const score = this.#modules.engine.score(block.header, this.parentInfo(parent));
    const { height } = block.header;
    const writes: ChainWrite[] = [
      { kind: 'block', hash: block.hash, bytes: block.bytes, meta: { height, parent: parent.hash, score } },
      { kind: 'undo', hash: block.hash, undo: encodeUndo(execution.undo) },
      { kind: 'canonical', height, hash: block.hash },
    ];
    block.transactions.forEach((tx, index) => {
      writes.push({ kind: 'tx', txId: tx.id, location: { blockHash: block.hash, height, index } });
    });
    for (const { key, value } of execution.writes) writes.push({ kind: 'state', key, value });
    writes.push(...indexWrites(block));
    writes.push({ kind: 'head', head: { hash: block.hash, height } });
    await this.#modules.store.write(writes);
    // Memory follows disk: only after the batch is durable does the node see the new head.
    this.#state.apply(execution.writes);
    this.#head = { hash: block.hash, header: block.header, score, parentTime: parent.header.time };
    for (const listener of this.#listeners) {
      try {
        listener(block, this.#head);
      } catch (error) {
        this.#modules.logger.error({ err: error }, 'a head listener failed');
      }
    }
  }

  #genesisWrites(block: Block, writes: readonly StateEntry[]): ChainWrite[] {
    return [
      { kind: 'meta', name: 'genesisHash', value: block.hash },
      { kind: 'block', hash: block.hash, bytes: block.bytes, meta: { height: 0, parent: block.header.parent, score: 0n } },
      { kind: 'canonical', height: 0, hash: block.hash },
      ...writes.map((w): ChainWrite => ({ kind: 'state', key: w.key, value: w.value })),
      { kind: 'head', head: { hash: block.hash, height: 0 } },
    ];
  }

  async #loadHead(hash: Hash): Promise<Head> {
    const { store } = this.#modules;
    const [bytes, meta] = await Promise.all([store.getBlock(hash), store.getBlockMeta(hash)]);
    if (bytes === undefined || meta === undefined) throw new Error(`the head block ${toHex(hash)} is missing from the datadir`);
    const header = decodeBlock(bytes).header;
    let parentTime: number | null = null;
    if (header.height > 0) {
      const parentBytes = await store.getBlock(header.parent);
      if (parentBytes === undefined) throw new Error(`the parent of the head block is missing from the datadir`);
      parentTime = decodeBlock(parentBytes).header.time;
    }
    return { hash, header, score: meta.score, parentTime };
  }
}

/** The undo log of a block: the prior value of every key it wrote (nil where the key did not exist). */
export function encodeUndo(undo: readonly StateEntry[]): Uint8Array {
  return encodeCanonical(undo.map((e) => [e.key, e.value]));
}
