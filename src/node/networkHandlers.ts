import type { Logger } from 'pino';
import type { Chain } from '../chain/chain.ts';
import { MempoolError, MempoolRejection, type Mempool } from '../chain/mempool.ts';
import type { EvidenceReporter, VotePool } from '../chain/votes.ts';
import { DecodeError } from '../codec/errors.ts';
import { decodeTransaction } from '../codec/transaction.ts';
import type { ChainStatus, GossipKind, GossipVerdict, NetworkHandlers } from '../p2p/interface.ts';
import { BlockError, BlockErrorCode, ErrorAction, TxErrorCode } from '../state/errors.ts';
import type { Block, BlockHeader } from '../types/block.ts';
import { decodeBlockHeader, decodeHeader, encodeHeaderForSigning } from '../codec/block.ts';
import { bytesEqual, toHex } from '../codec/bytes.ts';
import { verify } from '../crypto/ed25519.ts';
import type { Transaction } from '../types/transaction.ts';
import { TxType } from '../types/transaction.ts';

export interface NetworkWiring {
  readonly chain: Chain;
  readonly mempool: Mempool;
  /** PoS only. */
  readonly votes?: VotePool;
  /** Present when this node has a key to sign evidence with (PoS). */
  readonly evidence?: EvidenceReporter;
  /** Answers blob requests (emr/replication.ts); without it every blob request is refused. */
  readonly blob?: (request: Uint8Array, from: string) => Promise<Uint8Array>;
  readonly logger: Logger;
  /** A gossiped block's parent is unknown: fetch its ancestors from the peer that sent it. */
  readonly onUnknownParent: (peer: string, blockBytes: Uint8Array) => void;
  readonly onPeerStatus: (peer: string, status: ChainStatus) => void;
  /** Called with every gossip verdict (metrics). */
  readonly onVerdict?: (kind: GossipKind, verdict: GossipVerdict, reason: string) => void;
  /** Validates and imports a block (the chain's import, timed for metrics by the node). */
  readonly importBlock: (bytes: Uint8Array) => Promise<Block>;
}

/** (proposer, slot) pairs remembered to refuse a second block for a slot. */
const MAX_SLOTS_REMEMBERED = 4096;

function slotKey(header: BlockHeader): string {
  return `${toHex(header.proposer)}:${header.time}`;
}

/** The most blocks one range response carries (the p2p layer enforces its own limit too). */
const MAX_RANGE = 64;
/** Headers served per headers_by_range request at most (the protocol's limit). */
const MAX_HEADER_RANGE = 1024;

/** Mempool refusals that prove the sender sent something no honest node would forward. */
const REJECTING_TX_CODES: ReadonlySet<string> = new Set([TxErrorCode.BadSignature, TxErrorCode.WrongChain, MempoolRejection.NotForMempool]);

/**
 * What the node does with the network's messages: every gossip message is validated before it is forwarded
 * (accept), dropped quietly (ignore: duplicate, not yet applicable, unknown parent) or dropped with a
 * penalty for the sender (reject: bad encoding, signature, seal or state root).
 */
export function createNetworkHandlers(w: NetworkWiring): NetworkHandlers {
  const { chain, mempool, logger } = w;

  async function onTx(data: Uint8Array): Promise<[GossipVerdict, string]> {
    const tx = decodeTransaction(data);
    if (tx.body.type === TxType.Vote) return ['reject', 'a vote on the transaction topic'];
    try {
      mempool.add(tx, 'network');
      return ['accept', 'ok'];
    } catch (error) {
      if (error instanceof MempoolError) return [REJECTING_TX_CODES.has(error.code) ? 'reject' : 'ignore', error.code];
      throw error;
    }
  }

  // PoS: the first block seen for each (proposer, slot). A second one is evidence, not a block to import and
  // relay: otherwise an equivocating proposer could make every node store and replay many side branches.
  const firstPerSlot = new Map<string, { hash: Uint8Array; headerBytes: Uint8Array }>();

  async function onBlock(data: Uint8Array, from: string): Promise<[GossipVerdict, string]> {
    const pos = chain.engine.kind === 'pos';
    if (pos) {
      // The header is enough here; the import decodes the transactions.
      const block = decodeBlockHeader(data);
      const first = firstPerSlot.get(slotKey(block.header));
      if (first !== undefined && !bytesEqual(first.hash, block.hash)) {
        // [REJECT] A second header for the slot must at least carry the proposer's signature
        if (!verify(block.header.seal, encodeHeaderForSigning(block.header), block.header.proposer)) return ['reject', 'BAD_SEAL'];
        // [IGNORE] A valid second block for a slot: report the equivocation, do not import or forward it
        w.evidence?.observeHeader(decodeHeader(first.headerBytes), first.headerBytes);
        reportEvidence(w.evidence?.observeHeader(block.header, block.headerBytes));
        return ['ignore', 'SECOND_BLOCK_FOR_SLOT'];
      }
    }
    try {
      const block = await w.importBlock(data);
      if (pos) {
        if (firstPerSlot.size >= MAX_SLOTS_REMEMBERED) firstPerSlot.delete(firstPerSlot.keys().next().value!);
        firstPerSlot.set(slotKey(block.header), { hash: block.hash, headerBytes: block.headerBytes });
        reportEvidence(w.evidence?.observeHeader(block.header, block.headerBytes));
      }
      return ['accept', 'ok'];
    } catch (error) {
      if (!(error instanceof BlockError)) throw error;
      if (error.code === BlockErrorCode.UnknownParent) w.onUnknownParent(from, data);
      if (error.action === ErrorAction.Ignore) return ['ignore', error.code];
      logger.info({ peer: from, reason: error.code }, `rejected a gossiped block: ${error.message}`);
      return ['reject', error.code];
    }
  }

  async function onVote(data: Uint8Array): Promise<[GossipVerdict, string]> {
    if (w.votes === undefined) return ['ignore', 'not a proof-of-stake chain'];
    const tx = decodeTransaction(data);
    const verdict = await w.votes.add(tx);
    if (verdict.conflict !== undefined) reportEvidence(w.evidence?.doubleVote(verdict.conflict[0], verdict.conflict[1]));
    return [verdict.verdict, verdict.reason];
  }

  function reportEvidence(tx: Transaction | undefined): void {
    if (tx !== undefined) logger.warn({ txId: Buffer.from(tx.id).toString('hex') }, 'evidence submitted');
  }

  return {
    async onGossip(kind, data, from) {
      let result: [GossipVerdict, string];
      try {
        result = kind === 'tx' ? await onTx(data) : kind === 'block' ? await onBlock(data, from) : await onVote(data);
      } catch (error) {
        if (!(error instanceof DecodeError)) {
          logger.error({ err: error, kind, peer: from }, 'gossip validation failed unexpectedly');
          return 'ignore';
        }
        result = ['reject', `${error.reason}: ${error.message}`];
      }
      w.onVerdict?.(kind, result[0], result[1]);
      return result[0];
    },

    status(): ChainStatus {
      const head = chain.head;
      const finalized = chain.finalized;
      return {
        genesisHash: chain.genesisHash,
        headHash: head.hash,
        headHeight: head.header.height,
        headScore: head.score,
        finalizedHash: finalized.hash,
        finalizedHeight: finalized.height,
      };
    },

    blocksByRange(start, count) {
      return canonicalBlocks(chain, start, Math.min(count, MAX_RANGE));
    },

    blockByHash(hash) {
      return chain.store.getBlock(hash);
    },

    headersByRange(start, count) {
      return canonicalHeaders(chain, start, Math.min(count, MAX_HEADER_RANGE));
    },

    async blob(request, from) {
      if (w.blob === undefined) throw new Error('this node does not serve blobs');
      return w.blob(request, from);
    },

    onPeerStatus(peer, status) {
      w.onPeerStatus(peer, status);
    },
  };
}

/**
 * What `read` gives for each canonical block from height `start`, `count` at most, stopping at the head or at
 * the first height it has nothing for (a gap).
 */
async function canonicalRange(chain: Chain, start: number, count: number, read: (hash: Uint8Array) => Promise<Uint8Array | undefined>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const last = Math.min(start + count - 1, chain.head.header.height);
  for (let height = start; height <= last; height++) {
    const hash = await chain.store.getCanonicalHash(height);
    const value = hash === undefined ? undefined : await read(hash);
    if (value === undefined) break;
    out.push(value);
  }
  return out;
}

/** The canonical blocks' bytes from height `start`. */
function canonicalBlocks(chain: Chain, start: number, count: number): Promise<Uint8Array[]> {
  return canonicalRange(chain, start, count, (hash) => chain.store.getBlock(hash));
}

/**
 * The canonical headers from height `start`, each read from the header kept beside its block (a small read, no
 * block read or decode); a block written before headers were kept apart is read and its header taken from it.
 */
function canonicalHeaders(chain: Chain, start: number, count: number): Promise<Uint8Array[]> {
  return canonicalRange(chain, start, count, async (hash) => {
    const header = await chain.store.getHeader(hash);
    if (header !== undefined) return header;
    const bytes = await chain.store.getBlock(hash);
    return bytes === undefined ? undefined : decodeBlockHeader(bytes).headerBytes;
  });
}

/** Submits a vote from RPC: the vote pool's verdict as a mempool-style error (so tx_submit reports it). */
export async function submitVote(votes: VotePool | undefined, evidence: EvidenceReporter | undefined, tx: Transaction): Promise<void> {
  if (votes === undefined) throw new MempoolError(TxErrorCode.NotProofOfStake, 'this chain does not run proof of stake');
  const verdict = await votes.add(tx);
  if (verdict.conflict !== undefined) evidence?.doubleVote(verdict.conflict[0], verdict.conflict[1]);
  if (verdict.verdict === 'reject') throw new MempoolError(TxErrorCode.BadVote, `the vote was refused: ${verdict.reason}`);
  if (verdict.verdict === 'ignore' && verdict.conflict === undefined) throw new MempoolError(MempoolRejection.VoteIgnored, `the vote will not be included: ${verdict.reason}`);
}
