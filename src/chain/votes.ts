import type { Logger } from 'pino';
import { bytesEqual, toHex } from '../codec/bytes.ts';
import { decodeCanonical, encodeCanonical } from '../codec/canonical.ts';
import { expectArray, expectU32 } from '../codec/fields.ts';
import { encodeHeader } from '../codec/block.ts';
import { signTransaction } from '../codec/transaction.ts';
import type { KeyPair } from '../crypto/ed25519.ts';
import { getValidatorSet } from '../state/accessors.ts';
import { justifiedAt } from '../state/finality.ts';
import { MAX_VOTE_SPAN, surrounds } from '../state/pos.ts';
import { stateKey } from '../state/stateKeys.ts';
import type { BlockHeader } from '../types/block.ts';
import { EvidenceKind, TxType, type EvidenceBody, type Transaction, type VoteBody } from '../types/transaction.ts';
import type { Startable } from '../util/lifecycle.ts';
import type { Chain } from './chain.ts';
import { verifyTransactionSignature, type SignatureCache } from './signatureVerifier.ts';

/** What the pool decided about a vote, in gossip terms; `conflict` is a slashable pair it revealed. */
export interface VoteVerdict {
  readonly verdict: 'accept' | 'ignore' | 'reject';
  readonly reason: string;
  readonly conflict?: readonly [Transaction, Transaction];
}

/** Votes held at most (a few heights of every validator; far above a hospital network's needs). */
const MAX_POOL_VOTES = 50_000;

interface PooledVote {
  readonly tx: Transaction;
  readonly body: VoteBody;
}

/**
 * Finality votes waiting for a block: checked on arrival (signature, sender's stake, target known) and kept
 * per validator and target height, which is also how a double vote or a surround vote is noticed. Proposers
 * take the votes that apply on their head first.
 */
export class VotePool {
  readonly #chain: Chain;
  readonly #cache: SignatureCache;
  // validator hex -> target height -> vote
  readonly #votes = new Map<string, Map<number, PooledVote>>();
  #size = 0;

  constructor(modules: { chain: Chain; signatureCache: SignatureCache }) {
    this.#chain = modules.chain;
    this.#cache = modules.signatureCache;
  }

  get size(): number {
    return this.#size;
  }

  /** Checks and keeps a vote. Never throws for bad input. */
  async add(tx: Transaction): Promise<VoteVerdict> {
    const chain = this.#chain;
    if (tx.body.type !== TxType.Vote) return { verdict: 'reject', reason: 'not a vote' };
    const body = tx.body;
    if (tx.chainId !== chain.genesisSpec.chainId) return { verdict: 'reject', reason: `vote for chain "${tx.chainId}"` };
    if (tx.nonce !== 0) return { verdict: 'reject', reason: 'a vote has nonce 0' };
    if (body.targetHeight <= body.sourceHeight || body.targetHeight - body.sourceHeight > MAX_VOTE_SPAN) {
      return { verdict: 'reject', reason: `bad link ${body.sourceHeight} -> ${body.targetHeight}` };
    }
    if (!this.#cache.has(tx)) {
      if (!verifyTransactionSignature(tx)) return { verdict: 'reject', reason: 'the signature does not verify' };
      this.#cache.add(tx);
    }
    const validator = toHex(tx.sender);
    if (!getValidatorSet(chain.state).some((v) => bytesEqual(v.id, tx.sender))) return { verdict: 'ignore', reason: 'not a validator at our head' };
    const mine = this.#votes.get(validator);
    const existing = mine?.get(body.targetHeight);
    if (existing !== undefined) {
      if (bytesEqual(existing.tx.id, tx.id)) return { verdict: 'ignore', reason: 'duplicate' };
      return { verdict: 'accept', reason: 'double vote', conflict: [existing.tx, tx] };
    }
    for (const other of mine?.values() ?? []) {
      if (surrounds(other.body, body) || surrounds(body, other.body)) return { verdict: 'accept', reason: 'surround vote', conflict: [other.tx, tx] };
    }
    if (body.targetHeight <= chain.finalized.height) return { verdict: 'ignore', reason: 'target at or below the finalized height' };
    if (body.targetHeight > chain.head.header.height + MAX_VOTE_SPAN) return { verdict: 'ignore', reason: 'target too far ahead of our head' };
    // Full: make room by forgetting the oldest targets, never by refusing new votes (that would stall finality).
    if (this.#size >= MAX_POOL_VOTES) this.#evictOldest(Math.ceil(MAX_POOL_VOTES / 10));
    // Kept even when the target is unknown here: a later conflicting vote must still be caught. Such a vote
    // is never a candidate (its target is not on our chain) and is not forwarded.
    let perHeight = this.#votes.get(validator);
    if (perHeight === undefined) {
      perHeight = new Map();
      this.#votes.set(validator, perHeight);
    }
    perHeight.set(body.targetHeight, { tx, body });
    this.#size++;
    if ((await chain.store.getBlockMeta(body.targetHash)) === undefined) return { verdict: 'ignore', reason: 'unknown target block' };
    return { verdict: 'accept', reason: 'ok' };
  }

  /** Votes a block on the head could include: not yet counted there, linking justified to canonical blocks. */
  candidates(): Transaction[] {
    const chain = this.#chain;
    const state = chain.state;
    const head = chain.head;
    const out: PooledVote[] = [];
    for (const perHeight of this.#votes.values()) {
      for (const vote of perHeight.values()) {
        const { body, tx } = vote;
        if (state.get(stateKey.vote(tx.sender, body.targetHeight)) !== undefined) continue;
        // The next block records the head's hash at the head's height, so the head itself is a valid target.
        const targetHash = body.targetHeight === head.header.height ? head.hash : state.get(stateKey.blockHash(body.targetHeight));
        if (targetHash === undefined || !bytesEqual(targetHash, body.targetHash)) continue;
        const source = justifiedAt(state, body.sourceHeight, chain.genesisHash);
        if (source === undefined || !bytesEqual(source, body.sourceHash)) continue;
        out.push(vote);
      }
    }
    return out.sort((a, b) => a.body.targetHeight - b.body.targetHeight).map((v) => v.tx);
  }

  /**
   * After a new head: forgets votes for targets at or below the finalized height, and votes the head state
   * already counted once their target is more than a link span old (recent ones stay, to catch a conflicting
   * vote for the same height).
   */
  prune(): void {
    const chain = this.#chain;
    const finalized = chain.finalized.height;
    const old = chain.head.header.height - MAX_VOTE_SPAN;
    const state = chain.state;
    for (const [validator, perHeight] of this.#votes) {
      for (const [height, vote] of perHeight) {
        if (height <= finalized || (height < old && state.get(stateKey.vote(vote.tx.sender, height)) !== undefined)) {
          perHeight.delete(height);
          this.#size--;
        }
      }
      if (perHeight.size === 0) this.#votes.delete(validator);
    }
  }

  #evictOldest(count: number): void {
    const heights = [...this.#votes.values()].flatMap((perHeight) => [...perHeight.keys()]).sort((a, b) => a - b);
    const cutoff = heights[Math.min(count, heights.length) - 1];
    if (cutoff === undefined) return;
    for (const [validator, perHeight] of this.#votes) {
      for (const height of perHeight.keys()) {
        if (height <= cutoff) {
          perHeight.delete(height);
          this.#size--;
        }
      }
      if (perHeight.size === 0) this.#votes.delete(validator);
    }
  }

  /** Drops a vote a block builder found invalid. */
  drop(tx: Transaction): void {
    if (tx.body.type !== TxType.Vote) return;
    const perHeight = this.#votes.get(toHex(tx.sender));
    const held = perHeight?.get(tx.body.targetHeight);
    if (held !== undefined && bytesEqual(held.tx.id, tx.id)) {
      perHeight!.delete(tx.body.targetHeight);
      this.#size--;
    }
  }
}

export interface VoterModules {
  readonly chain: Chain;
  readonly pool: VotePool;
  /** Gossips our vote. */
  readonly publish: (vote: Transaction) => void;
  /** False while the node is far behind its peers: votes for old blocks help no one. */
  readonly synced: () => boolean;
  readonly logger: Logger;
}

/**
 * This validator's duty: one vote per new head, from the head state's justified checkpoint to the head.
 * FFG's rules for an honest validator: target heights only rise and sources never fall, so it never signs a
 * double or surround vote; the last vote is written to disk before it leaves the process, so a restart
 * (even after SIGKILL) cannot sign a second vote for a height.
 */
export class Voter implements Startable {
  readonly #key: KeyPair;
  readonly #m: VoterModules;
  #last = { source: 0, target: 0 };
  #unsubscribe: (() => void) | undefined;
  #pending = false;
  #stopped = false;
  #running: Promise<void> = Promise.resolve();

  constructor(options: { key: KeyPair }, modules: VoterModules) {
    this.#key = options.key;
    this.#m = modules;
  }

  async start(): Promise<void> {
    const stored = await this.#m.chain.store.getMeta('lastVote');
    if (stored !== undefined) {
      const [source, target] = expectArray(decodeCanonical(stored, 64, 'lastVote'), 2, 'lastVote');
      this.#last = { source: expectU32(source, 'lastVote.source'), target: expectU32(target, 'lastVote.target') };
    }
    // A reorg announces several heads at once; vote once, for the last.
    this.#unsubscribe = this.#m.chain.onHead(() => {
      if (this.#pending) return;
      this.#pending = true;
      queueMicrotask(() => {
        this.#pending = false;
        if (this.#stopped) return;
        this.#running = this.#running.then(() => this.#vote()).catch((error: unknown) => this.#m.logger.error({ err: error }, 'voting failed'));
      });
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    await this.#running;
  }

  get lastVote(): { source: number; target: number } {
    return this.#last;
  }

  async #vote(): Promise<void> {
    const { chain, pool, publish, synced, logger } = this.#m;
    if (!synced()) return;
    const state = chain.state;
    if (!getValidatorSet(state).some((v) => bytesEqual(v.id, this.#key.publicKey))) return;
    const head = chain.head;
    const source = chain.justified;
    if (source.height < this.#last.source) return;
    // After a long stall the head may be far from the justified block: vote for the furthest block a link may reach.
    const targetHeight = Math.min(head.header.height, source.height + MAX_VOTE_SPAN);
    if (targetHeight <= this.#last.target || targetHeight <= source.height) return;
    const targetHash = targetHeight === head.header.height ? head.hash : await chain.store.getCanonicalHash(targetHeight);
    if (targetHash === undefined) return;
    this.#last = { source: source.height, target: targetHeight };
    await chain.store.write([{ kind: 'meta', name: 'lastVote', value: encodeCanonical([source.height, targetHeight]) }]);
    const body: VoteBody = { type: TxType.Vote, sourceHeight: source.height, sourceHash: source.hash, targetHeight, targetHash };
    const tx = signTransaction({ chainId: chain.genesisSpec.chainId, sender: this.#key.publicKey, nonce: 0, body }, this.#key.secretKey);
    const verdict = await pool.add(tx);
    if (verdict.verdict === 'accept') publish(tx);
    logger.debug({ source: source.height, target: targetHeight }, 'voted');
  }
}

/** Header pairs remembered per proposer and slot, to notice a double proposal. */
const MAX_SEEN_PROPOSALS = 4096;

/**
 * Turns slashable pairs into evidence transactions signed by this node's key: two conflicting votes from the
 * vote pool, or two headers one proposer signed for one slot (seen in gossip or sync). One report per offender.
 */
export class EvidenceReporter {
  readonly #key: KeyPair;
  readonly #chainId: string;
  readonly #submit: (tx: Transaction) => void;
  readonly #nextNonce: () => number;
  readonly #logger: Logger;
  readonly #reported = new Set<string>();
  readonly #proposals = new Map<string, Uint8Array>();

  constructor(
    options: { key: KeyPair; chainId: string },
    modules: { submit: (tx: Transaction) => void; nextNonce: () => number; logger: Logger },
  ) {
    this.#key = options.key;
    this.#chainId = options.chainId;
    this.#submit = modules.submit;
    this.#nextNonce = modules.nextNonce;
    this.#logger = modules.logger;
  }

  /** Reports two conflicting votes. */
  doubleVote(first: Transaction, second: Transaction): Transaction | undefined {
    return this.#report(first.sender, { type: TxType.Evidence, kind: EvidenceKind.DoubleVote, first: first.bytes, second: second.bytes });
  }

  /** Remembers a validly sealed header; reports it with the earlier one when its proposer already signed another for the slot. */
  observeHeader(header: BlockHeader, headerBytes: Uint8Array): Transaction | undefined {
    const slot = `${toHex(header.proposer)}:${header.time}`;
    const seen = this.#proposals.get(slot);
    if (seen === undefined) {
      if (this.#proposals.size >= MAX_SEEN_PROPOSALS) this.#proposals.delete(this.#proposals.keys().next().value!);
      this.#proposals.set(slot, headerBytes);
      return undefined;
    }
    if (bytesEqual(seen, headerBytes) || bytesEqual(seen, encodeHeader(header))) return undefined;
    return this.#report(header.proposer, { type: TxType.Evidence, kind: EvidenceKind.DoubleProposal, first: seen, second: headerBytes });
  }

  #report(offender: Uint8Array, body: EvidenceBody): Transaction | undefined {
    const id = toHex(offender);
    if (this.#reported.has(id)) return undefined;
    this.#reported.add(id);
    const tx = signTransaction({ chainId: this.#chainId, sender: this.#key.publicKey, nonce: this.#nextNonce(), body }, this.#key.secretKey);
    this.#logger.warn({ offender: id, kind: body.kind === EvidenceKind.DoubleVote ? 'double vote' : 'double proposal' }, 'validator equivocated; submitting evidence');
    try {
      this.#submit(tx);
    } catch (error) {
      this.#reported.delete(id);
      this.#logger.error({ err: error }, 'the evidence transaction was refused');
      return undefined;
    }
    return tx;
  }
}
