import type { KnownTransactions } from '../codec/block.ts';
import { bytesEqual } from '../codec/bytes.ts';
import { signingBytesOf } from '../codec/transaction.ts';
import { verify } from '../crypto/ed25519.ts';
import { SIGNATURE_LENGTH } from '../types/primitives.ts';
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
 * Remembers transactions whose signatures were already checked (on entry to the mempool), so a block made of
 * them skips the check, and its decode reuses them (KnownTransactions). Bounded: the oldest are forgotten first.
 *
 * Found by a number read from the signature's first 7 bytes (53 bits of R, a curve point: a Map lookup with
 * no string or hash to build), then confirmed by comparing the whole wire bytes: the transaction is vouched
 * for only if it is byte for byte the one that was checked. Two checked transactions sharing the number (by
 * chance, about 1 in 2^53 per pair) only cost one of them its entry.
 */
export class SignatureCache implements KnownTransactions {
  readonly #bySignature = new Map<number, Transaction>();
  readonly #capacity: number;

  constructor(capacity = 100_000) {
    this.#capacity = capacity;
  }

  add(tx: Transaction): void {
    const key = signatureKey(tx.signature, 0);
    if (this.#bySignature.has(key)) this.#bySignature.delete(key);
    else if (this.#bySignature.size >= this.#capacity) {
      const oldest = this.#bySignature.keys().next();
      if (!oldest.done) this.#bySignature.delete(oldest.value);
    }
    this.#bySignature.set(key, tx);
  }

  has(tx: Transaction): boolean {
    const known = this.#bySignature.get(signatureKey(tx.signature, 0));
    return known !== undefined && (known === tx || bytesEqual(known.bytes, tx.bytes));
  }

  /**
   * The checked transaction whose signature matches the one these wire bytes end with, if cached: a candidate
   * only, which decodeBlock takes after comparing the whole bytes (compared once there, not twice).
   */
  get(wire: Uint8Array): Transaction | undefined {
    if (wire.length < SIGNATURE_LENGTH) return undefined;
    return this.#bySignature.get(signatureKey(wire, wire.length - SIGNATURE_LENGTH));
  }

  get size(): number {
    return this.#bySignature.size;
  }
}

/** 53 bits of the signature that starts at `at` in `bytes`, as a number. */
function signatureKey(bytes: Uint8Array, at: number): number {
  return (
    bytes[at]! +
    bytes[at + 1]! * 0x100 +
    bytes[at + 2]! * 0x1_0000 +
    bytes[at + 3]! * 0x100_0000 +
    bytes[at + 4]! * 0x1_0000_0000 +
    bytes[at + 5]! * 0x100_0000_0000 +
    (bytes[at + 6]! & 0x1f) * 0x1_0000_0000_0000
  );
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
