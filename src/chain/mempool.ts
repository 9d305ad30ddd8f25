import { toHex } from '../codec/bytes.ts';
import { getAccount } from '../state/accessors.ts';
import { applyTx } from '../state/applyTx.ts';
import { TxError, TxErrorCode } from '../state/errors.ts';
import { StateOverlay, keyString, type StateReader } from '../state/overlay.ts';
import type { Block } from '../types/block.ts';
import type { PolicyFlags } from '../script/flags.ts';
import { TxType, type Transaction } from '../types/transaction.ts';
import { verifyTransactionSignature, type SignatureCache } from './signatureVerifier.ts';

/** Why the mempool turned a transaction away (beyond TxErrorCode reasons from the transition). */
export const MempoolRejection = {
  AlreadyKnown: 'ALREADY_KNOWN',
  NoncePending: 'NONCE_PENDING',
  SenderLimit: 'SENDER_LIMIT',
  PoolFull: 'POOL_FULL',
  NonceTooFarAhead: 'NONCE_TOO_FAR_AHEAD',
  /** Finality votes go to the vote pool (the vote topic), not the mempool. */
  NotForMempool: 'VOTE_NOT_FOR_MEMPOOL',
  /** The vote pool will not offer a vote for inclusion (duplicate, not a validator, unknown or finalized target). */
  VoteIgnored: 'VOTE_IGNORED',
} as const;
export type MempoolRejection = (typeof MempoolRejection)[keyof typeof MempoolRejection];

export class MempoolError extends Error {
  readonly code: MempoolRejection | TxErrorCode;
  constructor(code: MempoolRejection | TxErrorCode, message: string) {
    super(message);
    this.name = 'MempoolError';
    this.code = code;
  }
}

/** Where an admitted transaction came from: this node's clients, or a peer (or a reorg) */
export type TxOrigin = 'local' | 'network';

export interface MempoolOptions {
  /** Transactions held at most. */
  readonly maxTxs: number;
  /** Wire bytes held at most. */
  readonly maxBytes: number;
  /** Pending transactions per sender at most (also how far ahead of the account nonce a nonce may be). */
  readonly maxPerSender: number;
  /** A transaction still pending after this long (a nonce gap never filled) is dropped. */
  readonly maxAgeMs: number;
}

export const DEFAULT_MEMPOOL_OPTIONS: MempoolOptions = { maxTxs: 20_000, maxBytes: 64 * 1024 * 1024, maxPerSender: 64, maxAgeMs: 10 * 60_000 };

export interface MempoolModules {
  readonly chainId: string;
  /** The head state: nonces and the dry run read it. */
  readonly state: () => StateReader;
  /** Head height and time, for the dry run of the next executable transaction. */
  readonly nextBlock: () => { height: number; time: number; policyFlags: PolicyFlags };
  readonly signatureCache: SignatureCache;
  /** The local clock, for evicting stale transactions; without it nothing ages out. */
  readonly clock?: () => number;
}

/**
 * Pending transactions, bounded in count, bytes and per sender. A transaction is admitted only after its
 * signature is checked (and cached, so block import skips it) and, when it is its sender's next one, after a
 * dry run against the head state, so a client learns at once why a transaction could never be included.
 */
export class Mempool {
  readonly #options: MempoolOptions;
  readonly #modules: MempoolModules;
  readonly #byId = new Map<string, Transaction>();
  // sender -> nonce -> tx; Map insertion order gives senders in order of first arrival.
  readonly #bySender = new Map<string, Map<number, Transaction>>();
  // tx id -> arrival time, for evicting transactions that never become executable (a nonce gap).
  readonly #arrivals = new Map<string, number>();
  readonly #admitted = new Set<(tx: Transaction, origin: TxOrigin) => void>();
  #bytes = 0;

  constructor(options: MempoolOptions, modules: MempoolModules) {
    this.#options = options;
    this.#modules = modules;
  }

  get size(): number {
    return this.#byId.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  has(txId: Uint8Array): boolean {
    return this.#byId.has(keyString(txId));
  }

  get(txId: Uint8Array): Transaction | undefined {
    return this.#byId.get(keyString(txId));
  }

  /**
   * Admits a decoded transaction or throws MempoolError naming the reason. `origin` tells listeners whether
   * to announce it: a transaction from the network is already being gossiped.
   */
  add(tx: Transaction, origin: TxOrigin = 'local'): void {
    this.#insert(this.check(tx), tx);
    for (const listener of this.#admitted) listener(tx, origin);
  }

  /** Calls `listener` for each admitted transaction. Returns a function that unsubscribes. */
  onAdmitted(listener: (tx: Transaction, origin: TxOrigin) => void): () => void {
    this.#admitted.add(listener);
    return () => this.#admitted.delete(listener);
  }

  /** Every admission check of `add` (signature, nonce, limits, dry run), without admitting; returns the sender key. */
  check(tx: Transaction): string {
    const { chainId, state, signatureCache } = this.#modules;
    if (this.#byId.has(keyString(tx.id))) throw new MempoolError(MempoolRejection.AlreadyKnown, 'transaction is already pending');
    if (tx.body.type === TxType.Vote) throw new MempoolError(MempoolRejection.NotForMempool, 'a finality vote goes to the vote pool, not the mempool');
    if (tx.chainId !== chainId) {
      throw new MempoolError(TxErrorCode.WrongChain, `transaction is for chain "${tx.chainId}", this node runs "${chainId}"`);
    }
    if (!signatureCache.has(tx)) {
      if (!verifyTransactionSignature(tx)) {
        throw new MempoolError(TxErrorCode.BadSignature, 'the signature does not verify against the sender key');
      }
      signatureCache.add(tx);
    }
    const head = state();
    const account = getAccount(head, tx.sender);
    // An unregistered key may only register, or queue behind its own pending registration: otherwise any
    // fresh key could park future-nonce transactions here for free.
    const pendingRegistration = this.#bySender.get(keyString(tx.sender))?.get(0)?.body.type === TxType.RegisterIdentity;
    if (account === undefined && tx.body.type !== TxType.RegisterIdentity && !pendingRegistration) {
      throw new MempoolError(TxErrorCode.NotRegistered, 'the sender is not registered; its first transaction must register it');
    }
    const accountNonce = account?.nonce ?? 0;
    if (tx.nonce < accountNonce) {
      throw new MempoolError(TxErrorCode.NonceTooLow, `nonce ${tx.nonce} was already used; the next nonce is ${accountNonce}`);
    }
    if (tx.nonce >= accountNonce + this.#options.maxPerSender) {
      throw new MempoolError(
        MempoolRejection.NonceTooFarAhead,
        `nonce ${tx.nonce} is more than ${this.#options.maxPerSender} ahead of the next nonce ${accountNonce}`,
      );
    }
    const senderKey = keyString(tx.sender);
    const pending = this.#bySender.get(senderKey);
    if (pending?.has(tx.nonce)) {
      throw new MempoolError(MempoolRejection.NoncePending, `a transaction with nonce ${tx.nonce} is already pending`);
    }
    if ((pending?.size ?? 0) >= this.#options.maxPerSender) {
      throw new MempoolError(MempoolRejection.SenderLimit, `the sender already has ${this.#options.maxPerSender} pending transactions`);
    }
    if (this.#byId.size >= this.#options.maxTxs || this.#bytes + tx.bytes.length > this.#options.maxBytes) {
      throw new MempoolError(MempoolRejection.PoolFull, 'the mempool is full; try again after the next block');
    }
    if (tx.nonce === accountNonce) this.#dryRun(head, tx);
    return senderKey;
  }

  #dryRun(head: StateReader, tx: Transaction): void {
    try {
      applyTx(new StateOverlay(head), tx, { chainId: this.#modules.chainId, ...this.#modules.nextBlock() });
    } catch (error) {
      if (error instanceof TxError) throw new MempoolError(error.code, error.message);
      throw error;
    }
  }

  #insert(senderKey: string, tx: Transaction): void {
    this.#arrivals.set(keyString(tx.id), this.#modules.clock?.() ?? 0);
    let pending = this.#bySender.get(senderKey);
    if (pending === undefined) {
      pending = new Map();
      this.#bySender.set(senderKey, pending);
    }
    pending.set(tx.nonce, tx);
    this.#byId.set(keyString(tx.id), tx);
    this.#bytes += tx.bytes.length;
  }

  #remove(tx: Transaction): void {
    const senderKey = keyString(tx.sender);
    const pending = this.#bySender.get(senderKey);
    if (pending?.get(tx.nonce) === tx) {
      pending.delete(tx.nonce);
      if (pending.size === 0) this.#bySender.delete(senderKey);
    }
    if (this.#byId.delete(keyString(tx.id))) this.#bytes -= tx.bytes.length;
    this.#arrivals.delete(keyString(tx.id));
  }

  /** Transactions ready for a block: each sender's run of consecutive nonces from its account nonce. */
  *candidates(): Generator<Transaction> {
    const head = this.#modules.state();
    for (const pending of this.#bySender.values()) {
      const first = pending.values().next();
      if (first.done) continue;
      let nonce = getAccount(head, first.value.sender)?.nonce ?? 0;
      for (let tx = pending.get(nonce); tx !== undefined; tx = pending.get(++nonce)) yield tx;
    }
  }

  /** After a new head: drops included transactions, those whose nonce is now used, and those pending too long. */
  onBlock(block: Block): void {
    this.#evictExpired();
    const head = this.#modules.state();
    const senders = new Set<string>();
    for (const tx of block.transactions) {
      const pendingTx = this.#byId.get(keyString(tx.id));
      if (pendingTx !== undefined) this.#remove(pendingTx);
      senders.add(keyString(tx.sender));
    }
    for (const senderKey of senders) {
      const pending = this.#bySender.get(senderKey);
      if (pending === undefined) continue;
      const first = pending.values().next();
      if (first.done) continue;
      const accountNonce = getAccount(head, first.value.sender)?.nonce ?? 0;
      for (const tx of [...pending.values()]) if (tx.nonce < accountNonce) this.#remove(tx);
    }
  }

  #evictExpired(): void {
    const clock = this.#modules.clock;
    if (clock === undefined) return;
    const oldest = clock() - this.#options.maxAgeMs;
    for (const [id, arrived] of this.#arrivals) {
      if (arrived >= oldest) break; // insertion order is arrival order
      const tx = this.#byId.get(id);
      if (tx !== undefined) this.#remove(tx);
      else this.#arrivals.delete(id);
    }
  }

  /** The nonce `sender`'s next transaction should use: after its account nonce and its pending run. */
  nextNonce(sender: Uint8Array): number {
    let nonce = getAccount(this.#modules.state(), sender)?.nonce ?? 0;
    const pending = this.#bySender.get(keyString(sender));
    while (pending?.has(nonce)) nonce++;
    return nonce;
  }

  /** After a reorg: offers the reverted blocks' transactions again (those still valid on the new branch stay). */
  readd(reverted: readonly Block[]): number {
    let added = 0;
    for (const block of reverted) {
      for (const tx of block.transactions) {
        if (tx.body.type === TxType.Vote) continue;
        try {
          this.add(tx, 'network');
          added++;
        } catch {
          // Included on the new branch too, or no longer valid there: either way not pending.
        }
      }
    }
    return added;
  }

  /** Drops a transaction that block building found invalid. */
  drop(tx: Transaction): void {
    this.#remove(tx);
  }

  /** A short description for logs. */
  describe(tx: Transaction): string {
    return `${toHex(tx.id).slice(0, 16)}… from ${toHex(tx.sender).slice(0, 8)}… nonce ${tx.nonce}`;
  }
}
