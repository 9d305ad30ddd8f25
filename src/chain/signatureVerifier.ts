import { signingBytesOf } from '../codec/transaction.ts';
import { verify } from '../crypto/ed25519.ts';
import { keyString } from '../state/overlay.ts';
import type { Transaction } from '../types/transaction.ts';

/** Checks transaction signatures for the import pipeline; implementations may batch or use worker threads. */
export interface SignatureVerifier {
  /** Resolves to the index of the first transaction whose signature is invalid, or -1 when all are valid. */
  verifyTransactions(txs: readonly Transaction[]): Promise<number>;
  /**
   * The Merkle root of a block's transaction ids, computed off the calling thread (a worker pool has it);
   * without it the chain computes the root itself.
   */
  merkleRoot?(leaves: readonly Uint8Array[]): Promise<Uint8Array>;
}

/** Verifies one transaction's signature with the consensus rule. */
export function verifyTransactionSignature(tx: Transaction): boolean {
  return verify(tx.signature, signingBytesOf(tx.bytes), tx.sender);
}

/**
 * Remembers the ids of transactions whose signatures were already checked (on entry to the mempool), so a
 * block made of them skips the check. Bounded: the oldest ids are forgotten first.
 */
export class SignatureCache {
  readonly #ids = new Set<string>();
  readonly #capacity: number;

  constructor(capacity = 100_000) {
    this.#capacity = capacity;
  }

  add(tx: Transaction): void {
    const key = keyString(tx.id);
    if (this.#ids.has(key)) return;
    if (this.#ids.size >= this.#capacity) {
      const oldest = this.#ids.values().next();
      if (!oldest.done) this.#ids.delete(oldest.value);
    }
    this.#ids.add(key);
  }

  has(tx: Transaction): boolean {
    return this.#ids.has(keyString(tx.id));
  }

  get size(): number {
    return this.#ids.size;
  }
}

/** Verifies on the calling thread, skipping transactions in the cache. */
export class InlineSignatureVerifier implements SignatureVerifier {
  readonly #cache: SignatureCache | undefined;

  constructor(cache?: SignatureCache) {
    this.#cache = cache;
  }

  async verifyTransactions(txs: readonly Transaction[]): Promise<number> {
    for (let i = 0; i < txs.length; i++) {
      const tx = txs[i]!;
      if (this.#cache?.has(tx)) continue;
      if (!verifyTransactionSignature(tx)) return i;
    }
    return -1;
  }
}
