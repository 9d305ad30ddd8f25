import type { GossipKind } from './interface.ts';
import { MAX_BLOCK_BYTES, MAX_HEADER_BYTES, MAX_TX_BYTES } from '../types/primitives.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

/** A token bucket: `ratePerSecond` tokens refill each second, at most `burst` are saved up. */
export interface RateLimit {
  readonly ratePerSecond: number;
  readonly burst: number;
}

/**
 * Every limit on what a peer can make this node read, hold or do. Every input from a peer is hostile until
 * checked, so each size, count, rate and wait has an explicit bound here rather than a library default that
 * may change between versions.
 */
const LIMITS = {
  // ---- gossip ----
  /** Largest gossip payload per topic: a tx is bounded by the tx codec, a block by the block codec, a vote is a few hashes and a signature. */
  maxGossipBytes: { tx: MAX_TX_BYTES, block: MAX_BLOCK_BYTES, vote: 1 * KiB } satisfies Record<GossipKind, number>,
  /** Largest gossipsub RPC frame read from a stream: one full block plus protobuf framing; longer frames break the stream before decoding. */
  maxGossipRpcBytes: MAX_BLOCK_BYTES + 64 * KiB,
  /**
   * Messages per peer per topic before they are ignored and the peer penalized. A peer relays everything the
   * network carries, so tx is set above what two cores can admit (2,000 tx/s is ~10% of a core in signature
   * checks alone) to keep benchmark load from getting honest relays banned.
   */
  gossipRate: {
    tx: { ratePerSecond: 2000, burst: 4000 },
    block: { ratePerSecond: 20, burst: 40 },
    vote: { ratePerSecond: 200, burst: 400 },
  } satisfies Record<GossipKind, RateLimit>,
  /**
   * Messages this node takes for validation per second from all peers together, per topic. Kept below the
   * per-peer `gossipRate`, so that what this node forwards (only what it validated, plus its own clients'
   * transactions) never puts an honest relay over a neighbour's per-peer limit: only a peer that originates
   * more than `gossipRate` is penalized. Beyond the budget messages are ignored without penalty (our load).
   */
  gossipAcceptBudget: {
    tx: { ratePerSecond: 1000, burst: 2000 },
    block: { ratePerSecond: 10, burst: 20 },
    vote: { ratePerSecond: 100, burst: 200 },
  } satisfies Record<GossipKind, RateLimit>,
  /** Gossip messages waiting for the node's validator at once; beyond this new ones are ignored (our load, not the peer's fault). */
  maxPendingValidations: 4096,
  /** Bounds on one decoded gossipsub RPC (gossipsub's decodeRpcLimits): a legitimate peer sends far fewer. */
  gossipRpc: {
    /** Subscriptions in one RPC: we have 3 topics, leave room for upgrades. */
    maxSubscriptions: 32,
    /** Messages in one RPC. */
    maxMessages: 512,
    /** Message ids in IHAVE announcements of one RPC. */
    maxIhaveMessageIDs: 5000,
    /** Message ids in IWANT requests of one RPC. */
    maxIwantMessageIDs: 5000,
    /** Message ids in IDONTWANT notices of one RPC. */
    maxIdontwantMessageIDs: 512,
    /** Control messages (graft, prune, ihave...) in one RPC. */
    maxControlMessages: 256,
    /** Peer exchange records in a PRUNE: we do not use peer exchange. */
    maxPeerInfos: 16,
  },
  /** Bytes of topic subscriptions remembered per peer (~1 KiB each): 16 is plenty for 3 topics. */
  maxTopicBytesPerPeer: 16 * KiB,

  // ---- connections ----
  /** New inbound connections per second from one host before refusing; every local test node shares 127.0.0.1, so not 1. */
  inboundConnectionsPerSecondPerHost: 10,
  /** Inbound connections still in the handshake at once. */
  maxIncomingPendingConnections: 10,
  /** Parallel outgoing dials. */
  maxParallelDials: 16,
  /** One dial attempt, including the Noise and Yamux handshakes. */
  dialTimeoutMs: 10_000,
  /** Inbound handshake (Noise + Yamux) deadline. */
  inboundUpgradeTimeoutMs: 10_000,
  /** Protocol negotiation (multistream-select) deadline, each way. */
  protocolNegotiationTimeoutMs: 5_000,
  /** A socket with no bytes for this long is closed (yamux keep-alive pings every 30 s). */
  socketInactivityTimeoutMs: 120_000,
  /** First bootstrap redial after a disconnect; doubles per failure. */
  redialInitialMs: 1_000,
  /** Longest wait between bootstrap redials. */
  redialMaxMs: 60_000,

  // ---- streams ----
  /** Concurrent yamux streams per connection, inbound and outbound (sum of the per-protocol limits plus slack). */
  maxStreamsPerConnection: 64,
  /** Streams a peer may open before we attach the stream handler (during connection setup). */
  maxEarlyStreams: 10,
  /** Yamux frame size we send: one stream cannot hog a connection. */
  maxYamuxMessageBytes: 64 * KiB,
  /** Bytes held for a stream that is paused or not yet read (a response is read as it arrives). */
  maxStreamReadBufferBytes: 16 * MiB,
  /** Bytes queued for a slow reader before the stream is reset. */
  maxStreamWriteBufferBytes: 16 * MiB,
  /** A stream with no bytes either way for this long is reset. */
  streamInactivityTimeoutMs: 120_000,
  /** Per-connection concurrent streams of each req/resp protocol, inbound / outbound. */
  streams: {
    status: { inbound: 2, outbound: 2 },
    blocks_by_range: { inbound: 4, outbound: 4 },
    block_by_hash: { inbound: 8, outbound: 8 },
    headers_by_range: { inbound: 2, outbound: 2 },
    blob: { inbound: 4, outbound: 4 },
    gossipsub: { inbound: 2, outbound: 2 },
    identify: { inbound: 1, outbound: 1 },
    ping: { inbound: 2, outbound: 1 },
  },
  /** Largest identify message (listen addresses, protocols, keys). */
  maxIdentifyBytes: 8 * KiB,
  /** Identify and ping deadline. */
  identifyTimeoutMs: 5_000,

  // ---- request / response ----
  /** Largest request of each protocol (status: empty; range: two u32; hash: 32 bytes; blob: a signed request). */
  maxRequestBytes: { status: 16, blocks_by_range: 32, block_by_hash: 64, headers_by_range: 32, blob: 64 * KiB },
  /** Largest status response (three hashes, two heights, a score of up to 32 bytes). */
  maxStatusBytes: 256,
  /** Blocks asked for or served in one blocks_by_range exchange. */
  maxBlocksPerRange: 64,
  /** Headers asked for or served in one headers_by_range exchange (at most 512 KiB: a header is at most MAX_HEADER_BYTES). */
  maxHeadersPerRange: 1024,
  /** Largest block in a response. */
  maxBlockBytes: MAX_BLOCK_BYTES,
  /** Largest header in a response. */
  maxHeaderBytes: MAX_HEADER_BYTES,
  /** Total bytes of one blocks_by_range response; a server stops early (at least one block) rather than exceed it. */
  maxRangeResponseBytes: 32 * MiB,
  /** Largest blob response (an encrypted record ciphertext with its envelope). */
  maxBlobResponseBytes: 4 * MiB,
  /** Longest error text a peer may send back; longer is cut. */
  maxErrorTextBytes: 256,
  /**
   * Inbound requests per peer per protocol; over the limit the request is refused and the peer penalized.
   * A 64-block range at 20/s lets a peer sync ~1,280 blocks/s from us (our Syncer paces itself to 16/s).
   * headers_by_range answers 1,024 headers (at most 512 KiB) from the headers kept beside the blocks, two small
   * reads each (~3 ms); 10/s lets a peer check a trusted checkpoint 10,000 blocks away in about a second, and
   * is 5 MiB/s at most. (Blocks written before headers were kept apart are read whole instead.)
   */
  requestRate: {
    status: { ratePerSecond: 5, burst: 10 },
    blocks_by_range: { ratePerSecond: 20, burst: 40 },
    block_by_hash: { ratePerSecond: 50, burst: 100 },
    headers_by_range: { ratePerSecond: 10, burst: 20 },
    blob: { ratePerSecond: 10, burst: 20 },
  } satisfies Record<string, RateLimit>,
  /**
   * What we send one peer, as a share of its `requestRate` (an honest peer runs these limits): requests wait
   * for a slot at this share of the rate, with this share of the burst (at least 1), so timing jitter on the
   * way never takes an honest node over a neighbour's limit. (Found by the consensus lab: custody fetches at
   * 50 tx/s went over the blob limit and honest hospitals banned each other.)
   */
  outboundRequestShare: 0.8,
  /** Whole-request deadlines (dial, send, receive every chunk), per protocol. */
  requestTimeoutMs: { status: 5_000, blocks_by_range: 30_000, block_by_hash: 10_000, headers_by_range: 20_000, blob: 20_000 },
  /** An inbound request must arrive within this after the stream opens. */
  inboundRequestReadTimeoutMs: 5_000,
  /** Answering one inbound request (handler plus writing the response) must finish within this. */
  inboundResponseTimeoutMs: 30_000,
} as const;

type Widen<T> = T extends number ? number : T extends object ? { readonly [K in keyof T]: Widen<T[K]> } : T;

export type NetworkLimits = Widen<typeof LIMITS>;

/** The default limits (see each field's comment in the object above). */
export const NETWORK_LIMITS: NetworkLimits = LIMITS;

/** Peer scoring numbers (see peerScore.ts). */
export const PEER_SCORING = {
  /** Lost when our validator rejects a peer's gossip message. */
  rejectPenalty: 10,
  /** Lost per `Network.penalize` call (a bad sync response found by the chain). */
  penalizePenalty: 10,
  /** Lost for an oversize, truncated or undecodable request or response. */
  badMessagePenalty: 20,
  /** Lost per gossip message over the peer's rate limit. */
  rateLimitPenalty: 1,
  /** At or below this score the peer is disconnected and banned. */
  banThreshold: -100,
  /** How long a ban lasts: dials both ways are refused meanwhile. */
  banDurationMs: 10 * 60_000,
  /** A score halves toward 0 every this long, so old faults fade. */
  decayHalfLifeMs: 10 * 60_000,
};

export type PeerScoringOptions = typeof PEER_SCORING;

/** A part of NETWORK_LIMITS to override (tests; operators who know better). */
export type NetworkLimitOverrides = { readonly [K in keyof NetworkLimits]?: NetworkLimits[K] extends object ? Partial<NetworkLimits[K]> : NetworkLimits[K] };

export interface NetworkOptions {
  /** The chain id: part of every topic and protocol name. */
  readonly chainId: string;
  /** Our genesis block hash: peers whose status names another genesis are disconnected. */
  readonly genesisHash: Uint8Array;
  /** The node's datadir; the peer key lives at `<datadir>/p2p/peer-key`. */
  readonly datadir: string;
  /** TCP multiaddrs to listen on, e.g. `/ip4/127.0.0.1/tcp/30333` (port 0 picks a free port). */
  readonly listen: readonly string[];
  /** Multiaddrs with `/p2p/<peer id>`, dialled at start and redialled while disconnected. */
  readonly bootstrap: readonly string[];
  /** Connections at most, inbound and outbound together. */
  readonly maxPeers: number;
  readonly limits?: NetworkLimitOverrides;
  readonly scoring?: Partial<PeerScoringOptions>;
}

/** NETWORK_LIMITS with overrides applied (one level deep for the grouped limits). */
export function resolveLimits(overrides: NetworkLimitOverrides | undefined): NetworkLimits {
  if (overrides === undefined) return NETWORK_LIMITS;
  const merged: Record<string, unknown> = { ...NETWORK_LIMITS };
  for (const [key, value] of Object.entries(overrides)) {
    const base = (NETWORK_LIMITS as Record<string, unknown>)[key];
    if (base === undefined) throw new RangeError(`unknown network limit "${key}"`);
    merged[key] = typeof base === 'object' && base !== null ? { ...base, ...(value as object) } : value;
  }
  return merged as NetworkLimits;
}
