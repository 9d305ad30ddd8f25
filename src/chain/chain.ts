import type { Logger } from 'pino';
import { assembleBlock, decodeBlock, type KnownTransactions } from '../codec/block.ts';
import { bytesEqual, compareBytes, toHex } from '../codec/bytes.ts';
import { decodeCanonical, encodeCanonical } from '../codec/canonical.ts';
import { DecodeError } from '../codec/errors.ts';
import type { ConsensusEngine, ParentInfo } from '../consensus/interface.ts';
import { merkleRoot } from '../crypto/merkle.ts';
import { applyBlock, buildBlockContents, type BlockExecution, type ExcludedTransaction } from '../state/applyBlock.ts';
import type { BlockContext } from '../state/applyTx.ts';
import { BlockError, BlockErrorCode, ErrorAction } from '../state/errors.ts';
import { buildGenesis, policyFlagsAt, posRulesOf } from '../state/genesis.ts';
import { MemoryState, StateOverlay, type StateReader } from '../state/overlay.ts';
import type { ChainStore, ChainWrite, PreparedWrite } from '../store/interface.ts';
import type { Block, BlockHeader } from '../types/block.ts';
import type { GenesisSpec } from '../types/genesis.ts';
import { MAX_BLOCK_TXS, type AccountId, type Hash } from '../types/primitives.ts';
import type { StateEntry } from '../types/state.ts';
import type { Transaction } from '../types/transaction.ts';
import type { Startable } from '../util/lifecycle.ts';
import type { SignatureVerifier } from './signatureVerifier.ts';
import { indexWrites, revertIndexWrites } from './indexer.ts';
import { finalityOf, type Checkpoint } from '../state/finality.ts';
import { ImportClock, type ImportTimings } from './importTimings.ts';

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
  /** Transactions already decoded and checked (the node's SignatureCache): an imported block reuses them. */
  readonly knownTransactions?: KnownTransactions;
  /** Benchmarks: hears where each imported block's time went. Unset, imports take no timings at all. */
  readonly onImportTimings?: (timings: ImportTimings) => void;
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

/**
 * Called for each block that becomes canonical, in order, with that block as `head` (after a reorg the
 * listener hears every block of the new branch; `chain.head` is already the last one).
 */
type HeadListener = (block: Block, head: Head) => void;
/** Called after a reorg with the blocks that left the canonical chain, newest first. */
type ReorgListener = (reverted: readonly Block[], applied: readonly Block[]) => void;

/** A reorg never reverts more canonical blocks than this (nor walks a side branch longer than this). */
export const MAX_REORG_DEPTH = 1024;
/** Invalid block hashes remembered, so their descendants are refused without refetching. */
const MAX_INVALID_REMEMBERED = 4096;

/** Where a block attaches: the canonical blocks it replaces and the stored side blocks it builds on. */
interface Attachment {
  readonly ancestorHeight: number;
  /** Canonical blocks above the fork point, newest first: these would be reverted. */
  readonly reverted: Block[];
  /** Stored side blocks from the fork point to the block's parent, oldest first. */
  readonly branch: Block[];
  /** State after the block's parent, over the head state. */
  readonly parentState: StateOverlay;
  readonly parent: Head;
}

/** An importBlock call waiting for its turn; `staged` is set once its decode (and checks) started early. */
interface QueuedImport {
  readonly bytes: Uint8Array;
  readonly signaturesTrusted: boolean;
  staged: Promise<StagedImport> | undefined;
}

export interface ImportOptions {
  /**
   * The caller vouches for this block's transaction signatures, so they are not checked: set only by sync
   * for a block whose hash is on the header chain of the operator's trusted checkpoint (sync.assumeValid;
   * like Bitcoin Core's assumevalid). Every other rule, the proposer's seal and execution included, is checked.
   */
  readonly signaturesTrusted?: boolean;
}

/** The verdict of signature checks skipped for a trusted block: no invalid transaction (-1). */
const TRUSTED_SIGNATURES: Promise<number> = Promise.resolve(-1);

/** A decoded block (or its decode error) and, when staged ahead, its signature checks in flight. */
interface StagedImport {
  readonly error: unknown;
  readonly block: Block | undefined;
  readonly decodeMs: number;
  readonly signatures: Promise<number> | undefined;
  /** The transaction root, computed by the verifier's workers when the block was staged ahead. */
  readonly txRoot: Promise<Uint8Array> | undefined;
}

/** A block's batch, built and not yet written, and what the node will see once it is. */
interface PreparedCommit {
  readonly block: Block;
  readonly at: Attachment;
  readonly write: PreparedWrite;
  /** Null for a side block (stored, not the head). */
  readonly head: {
    readonly previous: Head;
    readonly applied: readonly Block[];
    readonly heads: readonly Head[];
    readonly stateWrites: readonly StateEntry[];
    /** The finalized checkpoint to raise this node's floor to, if the block raises it. */
    readonly finality: Checkpoint | null;
    /** This node's finalized floor once the block is written. */
    readonly floor: Checkpoint;
    /** The block's execution overlay (its writes), under the next block while the batch is being written. */
    readonly overlay: StateOverlay;
  } | null;
}

/**
 * A block's batch being written (write-behind): the import queue moves on while LevelDB writes it, and the next
 * block on it executes over the head state with this block's execution overlay stacked on (`tip`). Memory
 * follows disk as before: the head, the head state and listeners move only once the batch is durable.
 */
interface PendingWrite {
  /** Settles once the batch is durable and memory has followed (true), or the write failed (false). */
  readonly settled: Promise<boolean>;
  /** Set when the block becomes the head by extending it (no reorg): a block on it may execute before it lands. */
  readonly tip: PendingTip | undefined;
}

interface PendingTip {
  readonly head: Head;
  /** The block's execution: its writes, which the head state takes once the batch is durable. */
  readonly overlay: StateOverlay;
  /** The finalized floor once the batch is durable. */
  readonly floor: Checkpoint;
}

/** What an import's turn in the queue leaves: the block, and its batch's write (which the caller awaits). */
interface ImportTurn {
  readonly block: Block;
  readonly written: Promise<void>;
  readonly clock: ImportClock | undefined;
}

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
  readonly #reorgListeners = new Set<ReorgListener>();
  readonly #invalid = new Set<string>();
  #finalizedFloor: Checkpoint = { height: 0, hash: new Uint8Array(32) };
  #head: Head | undefined;
  #genesisHash: Hash | undefined;
  // Imports run one at a time: each sees the head the previous one left.
  #queue: Promise<unknown> = Promise.resolve();
  /** Imports queued behind the running one, oldest first. */
  readonly #waiting: QueuedImport[] = [];
  /** Hash of the block whose import runs (or ran last): a block staged ahead may build on it. */
  #importing: Hash = new Uint8Array(32);
  /** The last batch started, until it is durable (batches are written one at a time, in order). */
  #pending: PendingWrite | undefined;

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
    const floor = await store.getMeta('finalized');
    this.#finalizedFloor = floor === undefined ? { height: 0, hash: genesis.block.hash } : decodeCheckpoint(floor);
    for await (const { key, value } of store.readState()) this.#state.apply([{ key, value }]);
    const pointer = await store.getHead();
    if (pointer === undefined) throw new Error('the datadir has a genesis hash but no head pointer; it is corrupt');
    this.#head = await this.#headOf(pointer.hash);
    logger.info(
      { genesisHash: toHex(genesis.block.hash), height: this.#head.header.height, head: toHex(this.#head.hash), stateEntries: this.#state.size },
      'chain loaded',
    );
  }

  async stop(): Promise<void> {
    // Let an import in flight finish its batch; nothing is ever half-written, but this keeps logs honest.
    await this.#queue.catch(() => undefined);
    await this.#settle();
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

  /** Calls `listener` after each reorg (before the new branch's onHead calls). Returns an unsubscribe. */
  onReorg(listener: ReorgListener): () => void {
    this.#reorgListeners.add(listener);
    return () => this.#reorgListeners.delete(listener);
  }

  /**
   * The finalized checkpoint: the highest this node has seen in its head state (genesis until votes finalize
   * a block; always genesis on PoW). Kept on disk, so a reorg to a branch whose state records less, or a
   * restart, never lowers it.
   */
  get finalized(): Checkpoint {
    const inState = finalityOf(this.#state, this.genesisHash).finalized;
    return inState.height >= this.#finalizedFloor.height ? inState : this.#finalizedFloor;
  }

  /** The justified checkpoint of the head state (PoS). */
  get justified(): Checkpoint {
    return finalityOf(this.#state, this.genesisHash).justified;
  }

  parentInfo(head: Head = this.head): ParentInfo {
    return { header: head.header, hash: head.hash, score: head.score, grandparentTime: head.parentTime };
  }

  /**
   * Validates and imports a block received as bytes. Throws BlockError with a code and a gossip action.
   * Imports run one at a time, in call order; a caller that queues the next block before this one resolves
   * (a range from sync, a file import) gets that block decoded and its signatures checked while this one
   * finishes and commits.
   */
  importBlock(bytes: Uint8Array, options: ImportOptions = {}): Promise<Block> {
    const queued: QueuedImport = { bytes, signaturesTrusted: options.signaturesTrusted === true, staged: undefined };
    this.#waiting.push(queued);
    const turn = this.#serial(async (): Promise<ImportTurn> => {
      this.#waiting.splice(this.#waiting.indexOf(queued), 1);
      const clock = this.#modules.onImportTimings === undefined ? undefined : new ImportClock();
      const staged = await (queued.staged ?? this.#stage(queued, false, clock !== undefined));
      if (staged.error !== undefined) {
        if (staged.error instanceof DecodeError) throw new BlockError(BlockErrorCode.Decode, staged.error.message);
        throw staged.error;
      }
      clock?.mark('decode', staged.decodeMs);
      this.#importing = staged.block!.hash;
      return this.#importDecoded(staged.block!, clock, staged.signatures, staged.txRoot);
    });
    // The queue moves on once the batch is started; the caller hears of the block once it is durable.
    return turn.then(async ({ block, written, clock }) => {
      await written;
      if (clock !== undefined) this.#modules.onImportTimings!(clock.finish(block.transactions.length));
      return block;
    });
  }

  /**
   * Decodes a queued block and, when it is staged ahead of its turn, starts its signature checks (behind the
   * current block's on the workers) if the block is new and its parent is stored or is the block being
   * imported: an orphan or a duplicate costs no worker time before its turn refuses it. Never throws a decode
   * error: the block's own turn reports it, so errors keep their order.
   */
  async #stage({ bytes, signaturesTrusted }: QueuedImport, ahead: boolean, timed: boolean): Promise<StagedImport> {
    const start = timed ? performance.now() : 0;
    let block: Block;
    try {
      block = decodeBlock(bytes, this.#modules.knownTransactions);
    } catch (error) {
      return { error, block: undefined, decodeMs: 0, signatures: undefined, txRoot: undefined };
    }
    const decodeMs = timed ? performance.now() - start : 0;
    if (signaturesTrusted) return { error: undefined, block, decodeMs, signatures: TRUSTED_SIGNATURES, txRoot: undefined };
    const { store } = this.#modules;
    const worthChecking =
      ahead &&
      (await store.getBlockMeta(block.hash)) === undefined &&
      (bytesEqual(block.header.parent, this.#importing) || (await store.getBlockMeta(block.header.parent)) !== undefined);
    if (!worthChecking) return { error: undefined, block, decodeMs, signatures: undefined, txRoot: undefined };
    const { verifier } = this.#modules;
    const txRoot = verifier.merkleRoot?.(idsOf(block));
    txRoot?.catch(() => undefined);
    const signatures = verifier.verifyTransactions(block.transactions);
    signatures.catch(() => undefined);
    return { error: undefined, block, decodeMs, signatures, txRoot };
  }

  /** Stages the next queued import ahead of its turn (at most one block ahead). */
  #stageNext(): void {
    const next = this.#waiting[0];
    if (next === undefined || next.staged !== undefined) return;
    next.staged = this.#stage(next, true, this.#modules.onImportTimings !== undefined);
    // Its own turn awaits it; a store error there is reported to that block's caller.
    next.staged.catch(() => undefined);
  }

  /** The context a block built on the head at `time` runs in (block building, and the mempool's dry run). */
  nextBlockContext(time: number): BlockContext {
    const height = this.head.header.height + 1;
    return {
      chainId: this.genesisSpec.chainId,
      height,
      time,
      policyFlags: policyFlagsAt(this.genesisSpec, height),
      parentHash: this.head.hash,
      pos: posRulesOf(this.genesisSpec),
    };
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
    return this.exclusive(async () => {
      if (!bytesEqual(this.head.hash, built.parent.hash)) return null;
      const block = assembleBlock(sealed, built.transactions);
      this.#checkEngineRules(block, built.parent, this.#state);
      const at: Attachment = { ancestorHeight: built.parent.header.height, reverted: [], branch: [], parentState: new StateOverlay(this.#state), parent: built.parent };
      // A block this node proposes is durable before it is announced: a restart never proposes another at its height.
      await this.#startWrite(await this.#prepareCommit(block, built.execution, at, this.head, this.#finalizedFloor));
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
    return this.#serial(async () => {
      await this.#settle();
      return task();
    });
  }

  /** Waits until the last batch started is durable (or failed) and memory has followed. */
  async #settle(): Promise<void> {
    await this.#pending?.settled;
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #importDecoded(block: Block, clock?: ImportClock, stagedSignatures?: Promise<number>, stagedTxRoot?: Promise<Uint8Array>): Promise<ImportTurn> {
    const { header } = block;
    const { store } = this.#modules;
    // A block on the block whose batch is still being written executes over that block's writes meanwhile (its
    // own batch is written after). Any other block waits for the batch: it sees the store and head it will leave.
    const pending = this.#pending;
    let base = pending?.tip;
    if (base === undefined || !bytesEqual(header.parent, base.head.hash)) {
      await this.#settle();
      clock?.mark('writeWait');
      base = undefined;
    }
    const tip = base?.head ?? this.head;
    // [IGNORE] The block is not already known
    if ((await store.getBlockMeta(block.hash)) !== undefined) {
      throw new BlockError(BlockErrorCode.AlreadyKnown, `block ${toHex(block.hash)} is already known`, ErrorAction.Ignore);
    }
    // [REJECT] The block is for this chain
    if (header.chainId !== this.genesisSpec.chainId) {
      throw new BlockError(BlockErrorCode.WrongChain, `block is for chain "${header.chainId}"`);
    }
    // [REJECT] The parent is not a block this node found invalid
    if (this.#invalid.has(toHex(header.parent))) {
      this.#rememberInvalid(block.hash);
      throw new BlockError(BlockErrorCode.InvalidAncestor, `parent ${short(header.parent)} is invalid`);
    }
    // [IGNORE] The parent is known (the network layer fetches unknown parents)
    const parentMeta = bytesEqual(header.parent, tip.hash) ? { height: tip.header.height } : await store.getBlockMeta(header.parent);
    if (parentMeta === undefined) {
      throw new BlockError(BlockErrorCode.UnknownParent, `parent ${short(header.parent)} is not known`, ErrorAction.Ignore);
    }
    // [REJECT] The height is the parent's plus one
    if (header.height !== parentMeta.height + 1) {
      throw new BlockError(BlockErrorCode.WrongHeight, `height ${header.height} should be ${parentMeta.height + 1}`);
    }
    clock?.mark('checks');
    // Signature checks are nearly all of a block's cost: they start now on the verifier's worker threads and
    // run while this thread hashes, checks and executes the block. Their verdict is read where the check has
    // always been (after the engine rules, before execution results), so the error a block gets is unchanged;
    // nothing is committed before every signature has verified.
    const signatures = stagedSignatures ?? this.#modules.verifier.verifyTransactions(block.transactions);
    // A block refused before the verdict is read leaves the checks to finish unobserved.
    signatures.catch(() => undefined);
    // [REJECT] The transaction root commits to the transactions. A worker pool hashes it while this thread
    // goes on; its verdict is read before the signatures' and before any later layer's error is reported, so
    // the error a block gets is unchanged.
    const badRoot = (): BlockError => new BlockError(BlockErrorCode.BadTxRoot, 'the transaction root does not match the transactions');
    const txRoot = stagedTxRoot ?? this.#modules.verifier.merkleRoot?.(idsOf(block));
    let rootMatches: Promise<boolean> | undefined;
    if (txRoot === undefined) {
      if (!bytesEqual(header.txRoot, merkleRoot(idsOf(block)))) throw badRoot();
    } else {
      rootMatches = txRoot.then((root) => bytesEqual(header.txRoot, root));
      rootMatches.catch(() => undefined);
    }
    clock?.mark('txRoot');
    try {
      const at = base === undefined ? await this.#attach(header.parent) : this.#attachPending(base);
      this.#checkEngineRules(block, at.parent, at.parentState);
      clock?.mark('checks');
      let execution: BlockExecution | undefined;
      let failure: { error: unknown } | undefined;
      try {
        execution = applyBlock(at.parentState, block, at.parent.header.stateRoot, policyFlagsAt(this.genesisSpec, header.height), posRulesOf(this.genesisSpec));
      } catch (error) {
        failure = { error };
      }
      clock?.mark('execute');
      // While the workers still check signatures, a block whose execution matches its header has its batch
      // built (nothing is written before every signature has verified).
      let prepared: PreparedCommit | undefined;
      if (execution !== undefined && bytesEqual(execution.stateRoot, header.stateRoot)) {
        try {
          prepared = await this.#prepareCommit(block, execution, at, tip, base?.floor ?? this.#finalizedFloor);
        } catch (error) {
          failure = { error };
        }
      }
      clock?.mark('prepare');
      // This thread would now wait for the workers: the next queued block is decoded and its checks queued.
      this.#stageNext();
      clock?.mark('stageNext');
      try {
        if (rootMatches !== undefined && !(await rootMatches)) throw badRoot();
        // [REJECT] Every transaction is signed by its sender
        const bad = await signatures;
        clock?.mark('verifyWait');
        if (bad >= 0) throw new BlockError(BlockErrorCode.BadSignature, `transaction ${bad} has an invalid signature`);
        // [REJECT] Executing the transactions gives the claimed state root
        if (execution !== undefined && !bytesEqual(execution.stateRoot, header.stateRoot)) {
          throw new BlockError(BlockErrorCode.BadStateRoot, `state root should be ${toHex(execution.stateRoot)}`);
        }
        if (failure !== undefined) throw failure.error;
        // Batches are written in order: the parent's first.
        if (base !== undefined && !(await pending!.settled)) {
          throw new Error(`the parent block ${short(header.parent)} could not be written, so ${short(block.hash)} was not imported`);
        }
        clock?.mark('writeWait');
      } catch (error) {
        await prepared?.write.discard();
        throw error;
      }
      return { block, written: this.#startWrite(prepared!, clock), clock };
    } catch (error) {
      // A later layer refused the block (or the parent's attachment failed) before the root's verdict was read.
      const rootIsBad = rootMatches !== undefined && (await rootMatches.catch(() => true)) === false;
      // The hash covers the header only: a body that does not match its root says nothing about the header,
      // whose real body may still come (remembering it would refuse the valid chain after it).
      if (rootIsBad) throw badRoot();
      if (error instanceof BlockError && error.action === ErrorAction.Reject) this.#rememberInvalid(block.hash);
      throw error;
    }
  }

  /** Where a block on the block whose batch is being written attaches: over the head state plus that block's writes. */
  #attachPending(base: PendingTip): Attachment {
    const parentState = StateOverlay.stacked(this.#state, base.overlay);
    return { ancestorHeight: base.head.header.height, reverted: [], branch: [], parentState, parent: base.head };
  }

  /**
   * Builds the state after `parentHash` (any stored block) over the head state: reverts canonical blocks
   * down to the fork point with their undo logs, then replays the side branch's stored blocks. A block on
   * the head costs nothing here.
   */
  async #attach(parentHash: Hash): Promise<Attachment> {
    const head = this.head;
    if (bytesEqual(parentHash, head.hash)) {
      return { ancestorHeight: head.header.height, reverted: [], branch: [], parentState: new StateOverlay(this.#state), parent: head };
    }
    const { store } = this.#modules;
    const branch: Block[] = [];
    let hash = parentHash;
    for (;;) {
      const meta = await store.getBlockMeta(hash);
      if (meta === undefined) throw new Error(`block ${toHex(hash)} has no meta; the datadir is corrupt`);
      const canonical = await store.getCanonicalHash(meta.height);
      if (canonical !== undefined && bytesEqual(canonical, hash) && meta.height <= head.header.height) break;
      if (branch.length >= MAX_REORG_DEPTH) {
        throw new BlockError(BlockErrorCode.ReorgTooDeep, `the branch is more than ${MAX_REORG_DEPTH} blocks long`, ErrorAction.Ignore);
      }
      branch.push(await this.#storedBlock(hash));
      hash = meta.parent;
    }
    branch.reverse();
    const first = branch[0];
    const ancestorHash = first === undefined ? parentHash : first.header.parent;
    const ancestorHeight = first === undefined ? (await store.getBlockMeta(parentHash))!.height : first.header.height - 1;
    // [IGNORE] The branch leaves the chain at or above the finalized block
    const finalized = this.finalized;
    if (ancestorHeight < finalized.height) {
      throw new BlockError(
        BlockErrorCode.ConflictsWithFinality,
        `the branch leaves the chain at height ${ancestorHeight}, below the finalized height ${finalized.height}`,
        ErrorAction.Ignore,
      );
    }
    if (head.header.height - ancestorHeight > MAX_REORG_DEPTH) {
      throw new BlockError(BlockErrorCode.ReorgTooDeep, `the branch leaves the chain ${head.header.height - ancestorHeight} blocks back`, ErrorAction.Ignore);
    }
    const state = new StateOverlay(this.#state);
    const reverted: Block[] = [];
    for (let height = head.header.height; height > ancestorHeight; height--) {
      const canonical = await store.getCanonicalHash(height);
      const undo = canonical === undefined ? undefined : await store.getUndo(canonical);
      if (canonical === undefined || undo === undefined) throw new Error(`canonical block ${height} or its undo log is missing; the datadir is corrupt`);
      reverted.push(await this.#storedBlock(canonical));
      for (const [key, value] of decodeUndo(undo)) {
        if (value === null) state.delete(key);
        else state.set(key, value);
      }
    }
    let parent = await this.#headOf(ancestorHash);
    for (const side of branch) {
      // Stored side blocks were fully validated when they arrived; replaying needs only their execution.
      const execution = applyBlock(state, side, parent.header.stateRoot, policyFlagsAt(this.genesisSpec, side.header.height), posRulesOf(this.genesisSpec));
      for (const { key, value } of execution.writes) {
        if (value === null) state.delete(key);
        else state.set(key, value);
      }
      const meta = (await store.getBlockMeta(side.hash))!;
      parent = { hash: side.hash, header: side.header, score: meta.score, parentTime: parent.header.time };
    }
    return { ancestorHeight, reverted, branch, parentState: state, parent };
  }

  async #storedBlock(hash: Hash): Promise<Block> {
    const bytes = await this.#modules.store.getBlock(hash);
    if (bytes === undefined) throw new Error(`block ${toHex(hash)} is missing from the datadir`);
    return decodeBlock(bytes);
  }

  #rememberInvalid(hash: Hash): void {
    if (this.#invalid.size >= MAX_INVALID_REMEMBERED) this.#invalid.delete(this.#invalid.values().next().value!);
    this.#invalid.add(toHex(hash));
  }

  #checkEngineRules(block: Block, parent: Head, parentState: StateReader): void {
    const { engine, clock } = this.#modules;
    const error = engine.verifyHeader(block.header, block.headerBytes, this.parentInfo(parent), { now: clock(), parentState });
    if (error !== null) throw error;
  }

  /**
   * Builds the batch that writes a validated block (nothing is written yet). It becomes the head when its score
   * beats the head's (on the head's own branch that is always so); otherwise it is kept as a side block, ready
   * for a later reorg. A reorg's batch reverts the old branch and applies the new one: state, canonical index,
   * transaction index and node-local indexes together, so a crash leaves one branch or the other, never a mix.
   */
  async #prepareCommit(block: Block, execution: BlockExecution, at: Attachment, head: Head, floor: Checkpoint): Promise<PreparedCommit> {
    const { engine, store } = this.#modules;
    const postState = afterWrites(at.parentState, execution.writes);
    const score = engine.score(block.header, this.parentInfo(at.parent), postState);
    const { height } = block.header;
    const writes: ChainWrite[] = [
      { kind: 'block', hash: block.hash, bytes: block.bytes, header: block.headerBytes, meta: { height, parent: at.parent.hash, score } },
      { kind: 'undo', hash: block.hash, undo: encodeUndo(execution.undo) },
    ];
    const extendsHead = at.reverted.length === 0 && at.branch.length === 0;
    if (!extendsHead && score <= head.score) return { block, at, write: await store.prepareWrite(writes), head: null };
    const applied = [...at.branch, block];
    for (const old of at.reverted) {
      for (const tx of old.transactions) writes.push({ kind: 'tx', txId: tx.id, location: null });
      writes.push(...revertIndexWrites(old));
    }
    for (let h = height + 1; h <= head.header.height; h++) writes.push({ kind: 'canonical', height: h, hash: null });
    for (const b of applied) {
      writes.push({ kind: 'canonical', height: b.header.height, hash: b.hash });
      b.transactions.forEach((tx, index) => {
        writes.push({ kind: 'tx', txId: tx.id, location: { blockHash: b.hash, height: b.header.height, index } });
      });
      writes.push(...indexWrites(b));
    }
    const stateWrites = extendsHead ? execution.writes : netWrites(at.parentState, execution.writes);
    for (const { key, value } of stateWrites) writes.push({ kind: 'state', key, value });
    writes.push({ kind: 'head', head: { hash: block.hash, height } });
    // Finality only moves forward on this node, even if a branch's state records less.
    const finality = finalityOf(postState, this.genesisHash).finalized;
    const raisesFloor = finality.height > floor.height;
    if (raisesFloor) writes.push({ kind: 'meta', name: 'finalized', value: encodeCheckpoint(finality) });
    // Everything listeners will see is read before the batch: once memory follows disk, there is no gap in
    // which the new state is visible with the old head.
    const heads: Head[] = [];
    let parent = at.parent;
    for (const b of applied) {
      const meta = b === block ? { score } : (await store.getBlockMeta(b.hash))!;
      parent = { hash: b.hash, header: b.header, score: meta.score, parentTime: parent.header.time };
      heads.push(parent);
    }
    return {
      block,
      at,
      write: await store.prepareWrite(writes),
      head: { previous: head, applied, heads, stateWrites, finality: raisesFloor ? finality : null, floor: raisesFloor ? finality : floor, overlay: execution.overlay },
    };
  }

  /**
   * Starts writing a prepared block's batch (synced) and records it as pending; memory and listeners follow once
   * it is durable. The returned write rejects if the store fails, and then nothing of the block is visible.
   */
  #startWrite(prepared: PreparedCommit, clock?: ImportClock): Promise<void> {
    const written = prepared.write.commit().then(() => {
      clock?.mark('write');
      this.#follow(prepared);
    });
    const { head, at } = prepared;
    const extendsHead = head !== null && at.reverted.length === 0 && at.branch.length === 0;
    const pending: PendingWrite = {
      settled: written
        .then(
          () => true,
          () => false,
        )
        .finally(() => {
          if (this.#pending === pending) this.#pending = undefined;
        }),
      tip: extendsHead ? { head: head.heads[head.heads.length - 1]!, overlay: head.overlay, floor: head.floor } : undefined,
    };
    this.#pending = pending;
    return written;
  }

  /** Memory follows disk: only after a block's batch is durable does the node see it (and its listeners hear of it). */
  #follow(prepared: PreparedCommit): void {
    const { logger } = this.#modules;
    const { block, at } = prepared;
    if (prepared.head === null) {
      logger.debug({ height: block.header.height, hash: toHex(block.hash), forkHeight: at.ancestorHeight }, 'stored a side-chain block');
      return;
    }
    const { previous, applied, heads, stateWrites, finality } = prepared.head;
    this.#state.apply(stateWrites);
    if (finality !== null) this.#finalizedFloor = finality;
    this.#head = heads[heads.length - 1];
    if (at.reverted.length > 0) {
      logger.warn(
        { from: toHex(previous.hash), to: toHex(block.hash), forkHeight: at.ancestorHeight, reverted: at.reverted.length, applied: applied.length },
        'chain reorganised',
      );
      for (const listener of this.#reorgListeners) this.#notify(() => listener(at.reverted, applied));
    }
    applied.forEach((b, i) => {
      for (const listener of this.#listeners) this.#notify(() => listener(b, heads[i]!));
    });
  }

  #notify(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.#modules.logger.error({ err: error }, 'a chain listener failed');
    }
  }

  #genesisWrites(block: Block, writes: readonly StateEntry[]): ChainWrite[] {
    return [
      { kind: 'meta', name: 'genesisHash', value: block.hash },
      { kind: 'block', hash: block.hash, bytes: block.bytes, header: block.headerBytes, meta: { height: 0, parent: block.header.parent, score: 0n } },
      { kind: 'canonical', height: 0, hash: block.hash },
      ...writes.map((w): ChainWrite => ({ kind: 'state', key: w.key, value: w.value })),
      { kind: 'head', head: { hash: block.hash, height: 0 } },
    ];
  }

  /** A stored block as a Head (its score from its meta, its parent's time for the PoW retarget). */
  async #headOf(hash: Hash): Promise<Head> {
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

/**
 * The undo log of a block: the prior value of every key it wrote (nil where the key did not exist), as the
 * canonical encoding of `[[key, value | nil]...]`. Written directly (one allocation, no intermediate arrays):
 * a block's log has an entry per state write. test/unit/chain/undoEncoding.test.ts pins it to encodeCanonical.
 */
export function encodeUndo(undo: readonly StateEntry[]): Uint8Array {
  let length = arrayHeaderLength(undo.length);
  for (const { key, value } of undo) length += 1 + binLength(key.length) + (value === null ? 1 : binLength(value.length));
  const out = new Uint8Array(length);
  let at = writeArrayHeader(out, 0, undo.length);
  for (const { key, value } of undo) {
    out[at++] = 0x92;
    at = writeBin(out, at, key);
    if (value === null) out[at++] = 0xc0;
    else at = writeBin(out, at, value);
  }
  return out;
}

// MessagePack's shortest headers, which are what encodeCanonical writes for arrays and byte strings.
function arrayHeaderLength(n: number): number {
  return n < 16 ? 1 : n < 0x10000 ? 3 : 5;
}

function binLength(n: number): number {
  return (n < 0x100 ? 2 : n < 0x10000 ? 3 : 5) + n;
}

function writeArrayHeader(out: Uint8Array, at: number, n: number): number {
  if (n < 16) {
    out[at] = 0x90 | n;
    return at + 1;
  }
  if (n < 0x10000) {
    out[at] = 0xdc;
    out[at + 1] = n >>> 8;
    out[at + 2] = n & 0xff;
    return at + 3;
  }
  out[at] = 0xdd;
  new DataView(out.buffer, out.byteOffset).setUint32(at + 1, n);
  return at + 5;
}

function writeBin(out: Uint8Array, at: number, bytes: Uint8Array): number {
  const n = bytes.length;
  if (n < 0x100) {
    out[at] = 0xc4;
    out[at + 1] = n;
    at += 2;
  } else if (n < 0x10000) {
    out[at] = 0xc5;
    out[at + 1] = n >>> 8;
    out[at + 2] = n & 0xff;
    at += 3;
  } else {
    out[at] = 0xc6;
    new DataView(out.buffer, out.byteOffset).setUint32(at + 1, n);
    at += 5;
  }
  out.set(bytes, at);
  return at + n;
}

/**
 * `base` with a block's sorted write set on top, read by binary search: the engine's score and the finality
 * checkpoint read a handful of keys, so nothing is copied for them.
 */
/** A block's transaction ids, in order (the leaves of its tx root). */
function idsOf(block: Block): Uint8Array[] {
  return block.transactions.map((tx) => tx.id);
}

function afterWrites(base: StateReader, sortedWrites: readonly StateEntry[]): StateReader {
  return {
    get(key: Uint8Array): Uint8Array | undefined {
      let lo = 0;
      let hi = sortedWrites.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const order = compareBytes(sortedWrites[mid]!.key, key);
        if (order === 0) return sortedWrites[mid]!.value ?? undefined;
        if (order < 0) lo = mid + 1;
        else hi = mid;
      }
      return base.get(key);
    },
  };
}

function encodeCheckpoint(c: Checkpoint): Uint8Array {
  return encodeCanonical([c.height, c.hash]);
}

function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  const [height, hash] = decodeCanonical(bytes, 64, 'finalized') as [number, Uint8Array];
  return { height, hash };
}

/** Reads an undo log written by encodeUndo (our own database: a bad one is corruption, and throws). */
export function decodeUndo(bytes: Uint8Array): [Uint8Array, Uint8Array | null][] {
  return decodeCanonical(bytes, 1 << 30, 'undo') as [Uint8Array, Uint8Array | null][];
}

/** The writes that take the head state to `state` (an overlay over it) plus `extra` on top. */
function netWrites(state: StateOverlay, extra: readonly StateEntry[]): StateEntry[] {
  const byKey = new Map<string, StateEntry>();
  for (const e of state.writes()) byKey.set(toHex(e.key), e);
  for (const e of extra) byKey.set(toHex(e.key), e);
  return [...byKey.values()].sort((a, b) => compareBytes(a.key, b.key));
}

function short(hash: Hash): string {
  return `${toHex(hash).slice(0, 16)}…`;
}
