import type { Startable } from '../util/lifecycle.ts';

/**
 * What a gossip validator decides about one message (libp2p gossipsub's accept / ignore / reject):
 * accept forwards it; ignore drops it quietly (duplicate, too early, unknown parent); reject drops it and
 * lowers the sending peer's score.
 */
export type GossipVerdict = 'accept' | 'ignore' | 'reject';

/** The gossip topics; each topic string carries the chain id and a version (see p2p/protocols.ts). */
export type GossipKind = 'tx' | 'block' | 'vote';

/** A peer's view of its chain, exchanged when peers connect and before sync. */
export interface ChainStatus {
  readonly genesisHash: Uint8Array;
  readonly headHash: Uint8Array;
  readonly headHeight: number;
  /** The head's fork-choice score (PoW: total work). */
  readonly headScore: bigint;
  readonly finalizedHash: Uint8Array;
  readonly finalizedHeight: number;
}

export interface PeerInfo {
  /** The libp2p peer id, base58 text. */
  readonly id: string;
  readonly addresses: readonly string[];
  readonly direction: 'inbound' | 'outbound';
  /** Our application score of this peer (0 is neutral; below the ban threshold it is disconnected). */
  readonly score: number;
  /** The peer's last status, if it sent one. */
  readonly status: ChainStatus | undefined;
}

/** What the node answers to requests and does with gossip; implemented by the node's wiring (node/). */
export interface NetworkHandlers {
  /** Validates (and on accept, applies) a gossiped message. Never throws for bad input: returns a verdict. */
  onGossip(kind: GossipKind, data: Uint8Array, from: string): Promise<GossipVerdict>;
  /** This node's status. */
  status(): ChainStatus;
  /** Canonical blocks from height `start`, up to `count`, as wire bytes (fewer past the head). */
  blocksByRange(start: number, count: number): Promise<Uint8Array[]>;
  /** One block by hash, any branch, as wire bytes. */
  blockByHash(hash: Uint8Array): Promise<Uint8Array | undefined>;
  /** Canonical block headers from height `start`, up to `count`, as their encoded bytes (fewer past the head). */
  headersByRange(start: number, count: number): Promise<Uint8Array[]>;
  /** Answers a blob request (see emr/replication.ts); the request is signed and checked there. */
  blob(request: Uint8Array, from: string): Promise<Uint8Array>;
  /** Called when a peer's status arrives (on connect and on each status exchange). */
  onPeerStatus(peer: string, status: ChainStatus): void;
}

/** Options of one request to a peer; every request also has its own deadline (p2p/options.ts). */
export interface RequestOptions {
  /** Cancels the request (node shutdown, sync stopped). */
  readonly signal?: AbortSignal;
}

/** The node's libp2p network: gossip, request/response, peers and their scores. */
export interface Network extends Startable {
  /** Our libp2p peer id (base58). */
  readonly peerId: string;
  /** Addresses we listen on, with the /p2p/<id> suffix, for other nodes' bootstrap lists. */
  readonly addresses: readonly string[];
  publish(kind: GossipKind, data: Uint8Array): Promise<void>;
  requestStatus(peer: string, options?: RequestOptions): Promise<ChainStatus>;
  requestBlocksByRange(peer: string, start: number, count: number, options?: RequestOptions): Promise<Uint8Array[]>;
  requestBlockByHash(peer: string, hash: Uint8Array, options?: RequestOptions): Promise<Uint8Array | undefined>;
  /** Encoded canonical headers from `start` (headers-first sync up to a trusted checkpoint). */
  requestHeadersByRange(peer: string, start: number, count: number, options?: RequestOptions): Promise<Uint8Array[]>;
  requestBlob(peer: string, request: Uint8Array, options?: RequestOptions): Promise<Uint8Array>;
  peers(): PeerInfo[];
  /** Dials `multiaddr` and keeps it as a peer (lifts a ban set by removePeer). */
  addPeer(multiaddr: string): Promise<string>;
  /** Disconnects the peer and refuses it until addPeer (admin and partition tests). */
  removePeer(peerId: string): Promise<void>;
  /** Lowers a peer's score for a fault found outside gossip validation (a bad sync response). */
  penalize(peer: string, reason: string): void;
}
