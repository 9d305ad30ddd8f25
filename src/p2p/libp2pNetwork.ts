import { setTimeout as sleep } from 'node:timers/promises';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { gossipsub, TopicValidatorResult, type GossipSub, type GossipsubMessage } from '@libp2p/gossipsub';
import { identify, type Identify } from '@libp2p/identify';
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { ping, type Ping } from '@libp2p/ping';
import { tcp } from '@libp2p/tcp';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { createLibp2p, type Libp2p } from 'libp2p';
import type { Logger } from 'pino';
import { PEER_FAULT_CODES, ReqRespError, ReqRespErrorCode } from './errors.ts';
import type { ChainStatus, GossipKind, GossipVerdict, Network, NetworkHandlers, PeerInfo, RequestOptions } from './interface.ts';
import {
  decodeHashRequest,
  decodeRangeRequest,
  decodeStatus,
  encodeHashRequest,
  encodeRangeRequest,
  encodeStatus,
  ResultCode,
} from './messages.ts';
import { resolveLimits, type NetworkLimits, type NetworkOptions } from './options.ts';
import { loadOrCreatePeerKey } from './peerKey.ts';
import { PeerScores, TokenBucket } from './peerScore.ts';
import { gossipTopic, gossipTopics, ReqRespProtocol, reqRespProtocolId } from './protocols.ts';
import {
  abortOnSignal,
  classifyFailure,
  encodeChunks,
  errorChunk,
  exchange,
  okChunk,
  readRequestFrame,
  writeFrames,
  type ResponseChunk,
  type ResponseLimits,
} from './reqResp.ts';
import { bytesEqual, toHex } from '../codec/bytes.ts';
import { plain } from '../codec/canonical.ts';
import { DecodeError } from '../codec/errors.ts';
import { sha256 } from '../crypto/hash.ts';

export interface NetworkModules {
  readonly handlers: NetworkHandlers;
  readonly logger: Logger;
  readonly clock: () => number;
}

/** gossipsub's class has the async-validation report its exported interface leaves out. */
type GossipService = GossipSub & {
  reportMessageValidationResult(msgId: string, propagationSource: string, acceptance: TopicValidatorResult): void;
};

interface Services extends Record<string, unknown> {
  identify: Identify;
  ping: Ping;
  pubsub: GossipService;
}

/** A peer we keep connected to (bootstrap list or addPeer), redialled with backoff while disconnected. */
interface DialTarget {
  readonly address: Multiaddr;
  failures: number;
  nextAttemptAt: number;
  dialing: boolean;
}

const VERDICT: Record<GossipVerdict, TopicValidatorResult> = {
  accept: TopicValidatorResult.Accept,
  ignore: TopicValidatorResult.Ignore,
  reject: TopicValidatorResult.Reject,
};

const REDIAL_TICK_MS = 1_000;
const SCORE_PRUNE_INTERVAL_MS = 60_000;

/** The peer id in a multiaddr's `/p2p/<id>` component, if it has one. */
function peerIdText(address: Multiaddr): string | undefined {
  return address.getComponents().find((component) => component.name === 'p2p')?.value;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Our own range request's arguments (a caller bug, not a peer's fault): a u32 start and 1..max items. */
function checkRange(start: number, count: number, max: number): void {
  if (!Number.isInteger(start) || start < 0 || start > 0xffffffff) throw new RangeError(`start height ${start} is not a u32`);
  if (!Number.isInteger(count) || count < 1 || count > max) throw new RangeError(`count ${count} is not between 1 and ${max}`);
}

/**
 * The node's network on libp2p 3: TCP, Noise, Yamux, identify, ping, gossipsub for tx/block/vote, and
 * request/response protocols for status, block ranges, blocks by hash, header ranges and blobs. Every inbound
 * size, count, rate and wait is bounded (options.ts); peers are scored by peer id and banned when they misbehave.
 */
export class Libp2pNetwork implements Network {
  readonly #options: NetworkOptions;
  readonly #limits: NetworkLimits;
  readonly #handlers: NetworkHandlers;
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #scores: PeerScores;
  readonly #topics: Map<string, GossipKind>;
  readonly #bootstrap: Map<string, Multiaddr>;
  /** Peers the operator removed: refused both ways until addPeer. */
  readonly #removed = new Set<string>();
  readonly #targets = new Map<string, DialTarget>();
  readonly #statuses = new Map<string, ChainStatus>();
  #node: Libp2p<Services> | undefined;
  #stopController = new AbortController();
  #redialTimer: ReturnType<typeof setInterval> | undefined;
  #lastScorePrune = 0;
  #pendingValidations = 0;
  /** Outbound request pacing, per `${peer}/${protocol}`; idle ones are dropped with the score prune. */
  readonly #pacers = new Map<string, TokenBucket>();
  /** Open outbound requests per `${peer}/${protocol}`, and the requests waiting for one to close. */
  readonly #streamSlots = new Map<string, { open: number; waiting: Array<() => void> }>();
  #droppedValidations = 0;
  readonly #acceptBudget: Record<GossipKind, TokenBucket>;

  constructor(options: NetworkOptions, modules: NetworkModules) {
    if (!Number.isInteger(options.maxPeers) || options.maxPeers < 1) {
      throw new RangeError(`maxPeers must be a positive integer, got ${options.maxPeers}`);
    }
    if (options.genesisHash.length !== 32) throw new RangeError('genesisHash must be 32 bytes');
    this.#options = options;
    this.#limits = resolveLimits(options.limits);
    this.#handlers = modules.handlers;
    this.#log = modules.logger;
    this.#clock = modules.clock;
    this.#scores = new PeerScores(options.scoring ?? {}, { clock: modules.clock });
    const budget = this.#limits.gossipAcceptBudget;
    const now = modules.clock();
    this.#acceptBudget = { tx: new TokenBucket(budget.tx, now), block: new TokenBucket(budget.block, now), vote: new TokenBucket(budget.vote, now) };
    this.#topics = gossipTopics(options.chainId);
    this.#bootstrap = new Map();
    for (const text of options.bootstrap) {
      let address: Multiaddr;
      try {
        address = multiaddr(text);
      } catch (error) {
        throw new Error(`bootstrap address "${text}" is not a multiaddr (${describeError(error)})`, { cause: error });
      }
      const id = peerIdText(address);
      if (id === undefined) throw new Error(`bootstrap address "${text}" has no /p2p/<peer id>: add the peer id of the node it names`);
      this.#bootstrap.set(id, address);
    }
  }

  get peerId(): string {
    return this.#started().peerId.toString();
  }

  get addresses(): readonly string[] {
    const node = this.#started();
    const suffix = `/p2p/${node.peerId.toString()}`;
    return node.getMultiaddrs().map((address) => {
      const text = address.toString();
      return text.endsWith(suffix) ? text : `${text}${suffix}`;
    });
  }

  /** The scores (for tests and metrics); the network acts on them itself. */
  get scores(): PeerScores {
    return this.#scores;
  }

  get limits(): NetworkLimits {
    return this.#limits;
  }

  async start(): Promise<void> {
    if (this.#node !== undefined) return;
    this.#stopController = new AbortController();
    const limits = this.#limits;
    const privateKey = await loadOrCreatePeerKey(this.#options.datadir);
    const refused = (peerId: PeerId): boolean => this.#isRefused(peerId.toString());
    const node = await createLibp2p<Services>({
      start: false,
      privateKey,
      addresses: { listen: [...this.#options.listen] },
      transports: [
        tcp({
          maxConnections: this.#options.maxPeers + limits.maxIncomingPendingConnections,
          inboundSocketInactivityTimeout: limits.socketInactivityTimeoutMs,
          outboundSocketInactivityTimeout: limits.socketInactivityTimeoutMs,
        }),
      ],
      connectionEncrypters: [noise()],
      streamMuxers: [
        yamux({
          maxInboundStreams: limits.maxStreamsPerConnection,
          maxOutboundStreams: limits.maxStreamsPerConnection,
          maxMessageSize: limits.maxYamuxMessageBytes,
          maxEarlyStreams: limits.maxEarlyStreams,
          streamOptions: {
            inactivityTimeout: limits.streamInactivityTimeoutMs,
            maxReadBufferLength: limits.maxStreamReadBufferBytes,
            maxWriteBufferLength: limits.maxStreamWriteBufferBytes,
          },
        }),
      ],
      // A banned or removed peer is refused whichever side dials.
      connectionGater: {
        denyDialPeer: refused,
        denyInboundEncryptedConnection: refused,
        denyOutboundEncryptedConnection: refused,
      },
      connectionManager: {
        maxConnections: this.#options.maxPeers,
        maxIncomingPendingConnections: limits.maxIncomingPendingConnections,
        inboundConnectionThreshold: limits.inboundConnectionsPerSecondPerHost,
        maxParallelDials: limits.maxParallelDials,
        dialTimeout: limits.dialTimeoutMs,
        inboundUpgradeTimeout: limits.inboundUpgradeTimeoutMs,
        inboundStreamProtocolNegotiationTimeout: limits.protocolNegotiationTimeoutMs,
        outboundStreamProtocolNegotiationTimeout: limits.protocolNegotiationTimeoutMs,
        // Reconnection is ours (bootstrap redial loop), so libp2p's own queue stays idle.
        reconnectRetries: 0,
      },
      services: {
        identify: identify({
          timeout: limits.identifyTimeoutMs,
          maxMessageSize: limits.maxIdentifyBytes,
          maxInboundStreams: limits.streams.identify.inbound,
          maxOutboundStreams: limits.streams.identify.outbound,
        }),
        ping: ping({
          timeout: limits.identifyTimeoutMs,
          maxInboundStreams: limits.streams.ping.inbound,
          maxOutboundStreams: limits.streams.ping.outbound,
        }),
        pubsub: gossipsub({
          // Our payloads carry their own signatures; a libp2p signature would only add bytes and CPU.
          globalSignaturePolicy: 'StrictNoSign',
          msgIdFn: (message) => sha256(message.data),
          // The node decides accept/ignore/reject (handlers.onGossip); nothing is forwarded before it does.
          asyncValidation: true,
          fallbackToFloodsub: false,
          emitSelf: false,
          allowPublishToZeroTopicPeers: true,
          ignoreDuplicatePublishError: true,
          allowedTopics: [...this.#topics.keys()],
          maxInboundDataLength: limits.maxGossipRpcBytes,
          maxOutboundBufferSize: limits.maxStreamWriteBufferBytes,
          maxInboundStreams: limits.streams.gossipsub.inbound,
          maxOutboundStreams: limits.streams.gossipsub.outbound,
          maxTopicBytesPerPeer: limits.maxTopicBytesPerPeer,
          decodeRpcLimits: { ...limits.gossipRpc },
          // Peers are judged by peer id: local networks put every node on one IP.
          scoreParams: { IPColocationFactorWeight: 0 },
        }) as (components: Parameters<ReturnType<typeof gossipsub>>[0]) => GossipService,
      },
    });
    this.#registerReqResp(node);
    node.addEventListener('peer:connect', (event) => this.#onPeerConnect(event.detail));
    node.addEventListener('peer:disconnect', (event) => this.#statuses.delete(event.detail.toString()));
    node.services.pubsub.addEventListener('gossipsub:message', (event) => this.#onGossipMessage(event.detail));
    // Set before starting: the first peers may connect (and gossip) before start() returns.
    this.#node = node;
    try {
      await node.start();
      for (const topic of this.#topics.keys()) node.services.pubsub.subscribe(topic);
    } catch (error) {
      this.#node = undefined;
      await Promise.resolve(node.stop()).catch((stopError: unknown) => this.#log.debug({ err: stopError }, 'stopping after a failed start failed'));
      throw new Error(`the p2p network could not start on ${this.#options.listen.join(', ')}: ${describeError(error)}`, { cause: error });
    }
    for (const [id, address] of this.#bootstrap) this.#targets.set(id, { address, failures: 0, nextAttemptAt: 0, dialing: false });
    this.#redialTimer = setInterval(() => this.#redialTick(), REDIAL_TICK_MS);
    this.#redialTimer.unref();
    this.#redialTick();
    this.#log.info({ peerId: node.peerId.toString(), addresses: this.addresses, bootstrap: this.#bootstrap.size }, 'p2p network started');
  }

  async stop(): Promise<void> {
    if (this.#redialTimer !== undefined) clearInterval(this.#redialTimer);
    this.#redialTimer = undefined;
    this.#stopController.abort();
    const node = this.#node;
    this.#node = undefined;
    this.#targets.clear();
    this.#statuses.clear();
    if (node !== undefined) {
      await node.stop();
      this.#log.info('p2p network stopped');
    }
  }

  async publish(kind: GossipKind, data: Uint8Array): Promise<void> {
    const node = this.#started();
    const max = this.#limits.maxGossipBytes[kind];
    // Peers would reject it and lower our score: refuse here, where the caller can see why.
    if (data.length > max) throw new RangeError(`a ${kind} gossip message of ${data.length} bytes is over the limit of ${max}`);
    await node.services.pubsub.publish(gossipTopic(this.#options.chainId, kind), data);
  }

  async requestStatus(peer: string, options: RequestOptions = {}): Promise<ChainStatus> {
    const protocol = ReqRespProtocol.Status;
    const max = this.#limits.maxStatusBytes;
    const [payload] = await this.#request(peer, protocol, new Uint8Array(0), {
      maxChunkBytes: max,
      maxChunks: 1,
      maxTotalBytes: max,
    }, options);
    if (payload === undefined) throw this.#peerFault(peer, protocol, ReqRespErrorCode.Malformed, 'the response has no status');
    let status: ChainStatus;
    try {
      status = decodeStatus(payload, max);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      throw this.#peerFault(peer, protocol, ReqRespErrorCode.Malformed, `the status cannot be decoded (${error.message})`);
    }
    if (!bytesEqual(status.genesisHash, this.#options.genesisHash)) {
      // Another chain (or another genesis of ours): nothing it sends can be valid here, so stop talking.
      this.#log.warn(
        { peer, theirGenesis: toHex(status.genesisHash), ourGenesis: toHex(this.#options.genesisHash) },
        'peer is on another genesis: disconnecting and refusing it for the ban period',
      );
      this.#scores.ban(peer);
      this.#hangUp(peer);
      throw new ReqRespError(ReqRespErrorCode.NotAvailable, this.#protocolId(protocol), peer, `the peer's genesis ${toHex(status.genesisHash)} is not ours`);
    }
    if (this.#node?.getConnections(peerIdFromString(peer)).length) this.#statuses.set(peer, status);
    try {
      this.#handlers.onPeerStatus(peer, status);
    } catch (error) {
      this.#log.error({ peer, err: error }, 'the onPeerStatus handler threw');
    }
    return status;
  }

  async requestBlocksByRange(peer: string, start: number, count: number, options: RequestOptions = {}): Promise<Uint8Array[]> {
    const limits = this.#limits;
    checkRange(start, count, limits.maxBlocksPerRange);
    return this.#request(peer, ReqRespProtocol.BlocksByRange, encodeRangeRequest({ start, count }), {
      maxChunkBytes: limits.maxBlockBytes,
      maxChunks: count,
      maxTotalBytes: limits.maxRangeResponseBytes,
    }, options);
  }

  async requestBlockByHash(peer: string, hash: Uint8Array, options: RequestOptions = {}): Promise<Uint8Array | undefined> {
    if (hash.length !== 32) throw new RangeError(`a block hash is 32 bytes, got ${hash.length}`);
    const limits = this.#limits;
    const [block] = await this.#request(peer, ReqRespProtocol.BlockByHash, encodeHashRequest(hash), {
      maxChunkBytes: limits.maxBlockBytes,
      maxChunks: 1,
      maxTotalBytes: limits.maxBlockBytes,
    }, options);
    return block;
  }

  async requestHeadersByRange(peer: string, start: number, count: number, options: RequestOptions = {}): Promise<Uint8Array[]> {
    const limits = this.#limits;
    checkRange(start, count, limits.maxHeadersPerRange);
    return this.#request(peer, ReqRespProtocol.HeadersByRange, encodeRangeRequest({ start, count }), {
      maxChunkBytes: limits.maxHeaderBytes,
      maxChunks: count,
      maxTotalBytes: count * limits.maxHeaderBytes,
    }, options);
  }

  async requestBlob(peer: string, request: Uint8Array, options: RequestOptions = {}): Promise<Uint8Array> {
    const limits = this.#limits;
    if (request.length > limits.maxRequestBytes.blob) {
      throw new RangeError(`a blob request of ${request.length} bytes is over the limit of ${limits.maxRequestBytes.blob}`);
    }
    const protocol = ReqRespProtocol.Blob;
    const [blob] = await this.#request(peer, protocol, request, {
      maxChunkBytes: limits.maxBlobResponseBytes,
      maxChunks: 1,
      maxTotalBytes: limits.maxBlobResponseBytes,
    }, options);
    if (blob === undefined) throw this.#peerFault(peer, protocol, ReqRespErrorCode.Malformed, 'the response has no blob');
    return blob;
  }

  peers(): PeerInfo[] {
    const node = this.#node;
    if (node === undefined) return [];
    const byPeer = new Map<string, Connection[]>();
    for (const connection of node.getConnections()) {
      const id = connection.remotePeer.toString();
      const list = byPeer.get(id);
      if (list === undefined) byPeer.set(id, [connection]);
      else list.push(connection);
    }
    return [...byPeer].map(([id, connections]) => ({
      id,
      addresses: connections.map((connection) => connection.remoteAddr.toString()),
      direction: connections[0]!.direction,
      score: this.#scores.score(id),
      status: this.#statuses.get(id),
    }));
  }

  /** Peers known to be subscribed to a gossip topic (for node_info and tests waiting for the mesh). */
  topicPeers(kind: GossipKind): string[] {
    const node = this.#node;
    if (node === undefined) return [];
    return node.services.pubsub.getSubscribers(gossipTopic(this.#options.chainId, kind)).map((peerId) => peerId.toString());
  }

  async addPeer(address: string): Promise<string> {
    const node = this.#started();
    let target: Multiaddr;
    try {
      target = multiaddr(address);
    } catch (error) {
      throw new Error(`"${address}" is not a multiaddr (${describeError(error)})`, { cause: error });
    }
    const named = peerIdText(target);
    if (named !== undefined) {
      // An operator's explicit choice outweighs an earlier removal or ban.
      this.#removed.delete(named);
      this.#scores.forgive(named);
    }
    const connection = await node.dial(target, { signal: AbortSignal.any([AbortSignal.timeout(this.#limits.dialTimeoutMs), this.#stopController.signal]) });
    const id = connection.remotePeer.toString();
    const withId = named === undefined ? target.encapsulate(`/p2p/${id}`) : target;
    this.#targets.set(id, { address: withId, failures: 0, nextAttemptAt: 0, dialing: false });
    this.#log.info({ peer: id, address: withId.toString() }, 'peer added');
    return id;
  }

  async removePeer(peerId: string): Promise<void> {
    const node = this.#started();
    const id = peerIdFromString(peerId);
    this.#removed.add(id.toString());
    this.#targets.delete(id.toString());
    this.#log.info({ peer: peerId }, 'peer removed: disconnected and refused until added again');
    await node.hangUp(id);
  }

  penalize(peer: string, reason: string): void {
    this.#penalize(peer, this.#scores.options.penalizePenalty, reason);
  }

  // ---- internals ----

  #started(): Libp2p<Services> {
    if (this.#node === undefined) throw new Error('the p2p network is not started');
    return this.#node;
  }

  #isRefused(peer: string): boolean {
    return this.#removed.has(peer) || this.#scores.isBanned(peer);
  }

  #protocolId(protocol: ReqRespProtocol): string {
    return reqRespProtocolId(this.#options.chainId, protocol);
  }

  #hangUp(peer: string): void {
    const node = this.#node;
    if (node === undefined) return;
    node.hangUp(peerIdFromString(peer)).catch((error: unknown) => this.#log.debug({ peer, err: error }, 'hang-up failed'));
  }

  #penalize(peer: string, points: number, reason: string): void {
    const outcome = this.#scores.penalize(peer, points);
    this.#log.debug({ peer, points, score: outcome.score, reason }, 'peer penalized');
    if (!outcome.banned) return;
    if (outcome.newlyBanned) {
      const minutes = Math.round(this.#scores.options.banDurationMs / 60_000);
      this.#log.warn({ peer, score: outcome.score, reason }, `peer banned for ${minutes} min: disconnected and refused both ways`);
    }
    this.#hangUp(peer);
  }

  /** Records a peer fault found after the exchange (bad content) and returns the error to throw. */
  #peerFault(peer: string, protocol: ReqRespProtocol, code: ReqRespErrorCode, detail: string): ReqRespError {
    const error = new ReqRespError(code, this.#protocolId(protocol), peer, detail);
    this.#log.warn({ peer, protocol, code }, error.message);
    this.#penalize(peer, this.#scores.options.badMessagePenalty, error.message);
    return error;
  }

  /**
   * Waits for this request's slot under the peer's inbound limit for `protocol` (TokenBucket.reserve). A request
   * that would wait longer than its own deadline fails at once: the peer is that far behind already.
   */
  async #pace(peer: string, protocol: ReqRespProtocol, protocolId: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    const key = `${peer}/${protocol}`;
    const now = this.#clock();
    let pacer = this.#pacers.get(key);
    if (pacer === undefined) {
      const { ratePerSecond, burst } = this.#limits.requestRate[protocol];
      const share = this.#limits.outboundRequestShare;
      pacer = new TokenBucket({ ratePerSecond: ratePerSecond * share, burst: Math.max(1, Math.floor(burst * share)) }, now);
      this.#pacers.set(key, pacer);
    }
    const waitMs = pacer.reserve(now);
    if (waitMs === 0) return;
    if (waitMs > timeoutMs) {
      pacer.release();
      throw new ReqRespError(ReqRespErrorCode.NotAvailable, protocolId, peer, `over ${Math.round(waitMs)} ms of ${protocol} requests to this peer are already queued`);
    }
    try {
      await sleep(waitMs, undefined, { signal: AbortSignal.any(signal === undefined ? [this.#stopController.signal] : [signal, this.#stopController.signal]) });
    } catch (error) {
      pacer.release();
      throw new ReqRespError(ReqRespErrorCode.Aborted, protocolId, peer, 'cancelled while waiting for a request slot', { cause: error });
    }
  }

  async #request(
    peer: string,
    protocol: ReqRespProtocol,
    body: Uint8Array,
    limits: Omit<ResponseLimits, 'maxErrorTextBytes'>,
    options: RequestOptions,
  ): Promise<Uint8Array[]> {
    const protocolId = this.#protocolId(protocol);
    const node = this.#node;
    if (node === undefined) throw new ReqRespError(ReqRespErrorCode.NotAvailable, protocolId, peer, 'the p2p network is not started');
    let peerId: PeerId;
    try {
      peerId = peerIdFromString(peer);
    } catch {
      throw new ReqRespError(ReqRespErrorCode.NotAvailable, protocolId, peer, 'not a peer id');
    }
    if (this.#isRefused(peer)) throw new ReqRespError(ReqRespErrorCode.NotAvailable, protocolId, peer, 'the peer is banned or removed');
    const timeoutMs = this.#limits.requestTimeoutMs[protocol];
    await this.#pace(peer, protocol, protocolId, timeoutMs, options.signal);
    const signals = [AbortSignal.timeout(timeoutMs), this.#stopController.signal];
    if (options.signal !== undefined) signals.push(options.signal);
    const signal = AbortSignal.any(signals);
    const context = { protocol: protocolId, peer, signal, timeoutMs };
    let stream: Stream | undefined;
    let unhook = (): void => undefined;
    let releaseSlot = (): void => undefined;
    try {
      releaseSlot = await this.#streamSlot(`${peer}/${protocol}`, this.#limits.streams[protocol].outbound, signal);
      stream = await node.dialProtocol(peerId, protocolId, { signal });
      unhook = abortOnSignal(stream, signal, `${protocolId} timed out`);
      return await exchange(stream, body, { ...limits, maxErrorTextBytes: this.#limits.maxErrorTextBytes }, context);
    } catch (raw) {
      const cancelled = options.signal?.aborted === true || this.#stopController.signal.aborted;
      const error = cancelled
        ? new ReqRespError(ReqRespErrorCode.Aborted, protocolId, peer, 'cancelled', { cause: raw })
        : classifyFailure(raw, context);
      stream?.abort(error);
      if (PEER_FAULT_CODES.has(error.code)) {
        this.#log.warn({ peer, protocol, code: error.code }, error.message);
        this.#penalize(peer, this.#scores.options.badMessagePenalty, error.message);
      } else {
        this.#log.debug({ peer, protocol, code: error.code }, error.message);
      }
      throw error;
    } finally {
      unhook();
      releaseSlot();
    }
  }

  /**
   * Waits until fewer than `max` requests of one protocol to one peer are open (the peer accepts only that many
   * streams of it at once, and resets the rest). Resolves with the function that frees the slot.
   */
  async #streamSlot(key: string, max: number, signal: AbortSignal): Promise<() => void> {
    let slots = this.#streamSlots.get(key);
    if (slots === undefined) {
      slots = { open: 0, waiting: [] };
      this.#streamSlots.set(key, slots);
    }
    const held = slots;
    if (held.open >= max) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          held.waiting.splice(held.waiting.indexOf(wake), 1);
          reject(signal.reason);
        };
        const wake = (): void => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        if (signal.aborted) return reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        held.waiting.push(wake);
      });
      // Woken by a closing request, whose slot passes straight to this one.
    } else {
      held.open++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = held.waiting.shift();
      if (next !== undefined) return next();
      held.open--;
      if (held.open === 0) this.#streamSlots.delete(key);
    };
  }

  #registerReqResp(node: Libp2p<Services>): void {
    for (const protocol of Object.values(ReqRespProtocol)) {
      const streams = this.#limits.streams[protocol];
      void node
        .handle(this.#protocolId(protocol), (stream, connection) => this.#serve(protocol, stream, connection), {
          maxInboundStreams: streams.inbound,
          maxOutboundStreams: streams.outbound,
        })
        .catch((error: unknown) => this.#log.error({ protocol, err: error }, 'could not register a req/resp protocol'));
    }
  }

  async #serve(protocol: ReqRespProtocol, stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString();
    const limits = this.#limits;
    const rate = limits.requestRate[protocol];
    const signal = AbortSignal.any([AbortSignal.timeout(limits.inboundResponseTimeoutMs), this.#stopController.signal]);
    const readSignal = AbortSignal.any([AbortSignal.timeout(limits.inboundRequestReadTimeoutMs), signal]);
    let unhook = abortOnSignal(stream, readSignal, `no ${protocol} request within ${limits.inboundRequestReadTimeoutMs} ms`);
    try {
      let body: Uint8Array;
      try {
        body = await readRequestFrame(stream, limits.maxRequestBytes[protocol], readSignal);
      } catch (error) {
        if (error instanceof Error && error.name === 'InvalidDataLengthError') {
          this.#penalize(peer, this.#scores.options.badMessagePenalty, `${protocol} request over ${limits.maxRequestBytes[protocol]} bytes`);
          this.#log.warn({ peer, protocol }, `inbound ${protocol} request is over ${limits.maxRequestBytes[protocol]} bytes: stream reset`);
        } else {
          this.#log.debug({ peer, protocol, err: error }, 'inbound request not read');
        }
        stream.abort(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      unhook();
      unhook = abortOnSignal(stream, signal, `${protocol} answer took over ${limits.inboundResponseTimeoutMs} ms`);
      let chunks: ResponseChunk[];
      if (!this.#scores.allow(peer, `req:${protocol}`, rate)) {
        this.#penalize(peer, this.#scores.options.rateLimitPenalty, `${protocol} requests over ${rate.ratePerSecond}/s`);
        chunks = [errorChunk(ResultCode.Refused, `over the rate limit of ${rate.ratePerSecond} ${protocol} requests per second`, limits.maxErrorTextBytes)];
      } else {
        chunks = await this.#answer(protocol, body, peer);
      }
      await writeFrames(stream, encodeChunks(chunks), signal);
      await stream.close({ signal });
    } catch (error) {
      this.#log.debug({ peer, protocol, err: error }, 'inbound request failed');
      stream.abort(error instanceof Error ? error : new Error(String(error)));
    } finally {
      unhook();
    }
  }

  /** The response to one inbound request. Never throws: a failure becomes an error chunk. */
  async #answer(protocol: ReqRespProtocol, body: Uint8Array, peer: string): Promise<ResponseChunk[]> {
    const limits = this.#limits;
    const invalid = (detail: string): ResponseChunk[] => {
      this.#penalize(peer, this.#scores.options.badMessagePenalty, `invalid ${protocol} request: ${detail}`);
      this.#log.warn({ peer, protocol }, `invalid ${protocol} request: ${detail}`);
      return [errorChunk(ResultCode.InvalidRequest, detail, limits.maxErrorTextBytes)];
    };
    try {
      switch (protocol) {
        case ReqRespProtocol.Status:
          if (body.length !== 0) return invalid('a status request has no body');
          return [okChunk(encodeStatus(this.#handlers.status()))];
        case ReqRespProtocol.BlocksByRange: {
          const { start, count } = decodeRangeRequest(body, limits.maxRequestBytes.blocks_by_range, limits.maxBlocksPerRange);
          const blocks = await this.#handlers.blocksByRange(start, count);
          const chunks: ResponseChunk[] = [];
          let total = 0;
          for (const block of blocks.slice(0, count)) {
            // Stop early rather than send what the requester must refuse; it asks again from where we stopped.
            if (block.length > limits.maxBlockBytes) break;
            if (chunks.length > 0 && total + block.length > limits.maxRangeResponseBytes) break;
            total += block.length;
            chunks.push(okChunk(block));
          }
          return chunks;
        }
        case ReqRespProtocol.BlockByHash: {
          const hash = decodeHashRequest(body, limits.maxRequestBytes.block_by_hash);
          const block = await this.#handlers.blockByHash(hash);
          return block === undefined || block.length > limits.maxBlockBytes ? [] : [okChunk(block)];
        }
        case ReqRespProtocol.HeadersByRange: {
          const { start, count } = decodeRangeRequest(body, limits.maxRequestBytes.headers_by_range, limits.maxHeadersPerRange, protocol);
          const headers = await this.#handlers.headersByRange(start, count);
          const chunks: ResponseChunk[] = [];
          for (const header of headers.slice(0, count)) {
            if (header.length > limits.maxHeaderBytes) break;
            chunks.push(okChunk(header));
          }
          return chunks;
        }
        case ReqRespProtocol.Blob: {
          let blob: Uint8Array;
          try {
            blob = await this.#handlers.blob(body, peer);
          } catch (error) {
            // The blob handler refuses by throwing (bad signature, policy says no): tell the requester why.
            return [errorChunk(ResultCode.Refused, error instanceof Error ? error.message : String(error), limits.maxErrorTextBytes)];
          }
          if (blob.length > limits.maxBlobResponseBytes) {
            this.#log.error({ peer, bytes: blob.length }, `a blob answer is over the ${limits.maxBlobResponseBytes}-byte limit: not sent`);
            return [errorChunk(ResultCode.ServerError, 'the blob is larger than the protocol allows', limits.maxErrorTextBytes)];
          }
          return [okChunk(blob)];
        }
      }
    } catch (error) {
      if (error instanceof DecodeError) return invalid(error.message);
      this.#log.error({ peer, protocol, err: error }, `answering a ${protocol} request failed`);
      return [errorChunk(ResultCode.ServerError, 'internal error', limits.maxErrorTextBytes)];
    }
  }

  #onPeerConnect(peerId: PeerId): void {
    const peer = peerId.toString();
    if (this.#isRefused(peer)) {
      this.#hangUp(peer);
      return;
    }
    this.#log.debug({ peer }, 'peer connected');
    this.requestStatus(peer).catch((error: unknown) => {
      this.#log.debug({ peer, err: describeError(error) }, 'status exchange on connect failed');
    });
  }

  #onGossipMessage(message: GossipsubMessage): void {
    const node = this.#node;
    if (node === undefined) return;
    const pubsub = node.services.pubsub;
    const peer = message.propagationSource.toString();
    const report = (result: TopicValidatorResult): void => {
      try {
        pubsub.reportMessageValidationResult(message.msgId, peer, result);
      } catch (error) {
        this.#log.debug({ peer, err: error }, 'gossip validation result not recorded');
      }
    };
    try {
      const kind = this.#topics.get(message.msg.topic);
      const data = plain(message.msg.data);
      if (kind === undefined) {
        // Unreachable while allowedTopics holds: gossipsub drops other topics first.
        report(TopicValidatorResult.Reject);
        return;
      }
      const max = this.#limits.maxGossipBytes[kind];
      // [REJECT] The payload fits its topic's size limit
      if (data.length > max) {
        this.#log.warn({ peer, kind, bytes: data.length, limit: max }, `${kind} gossip message over the size limit: rejected`);
        report(TopicValidatorResult.Reject);
        this.#penalize(peer, this.#scores.options.rejectPenalty, `oversize ${kind} gossip (${data.length} bytes)`);
        return;
      }
      // [IGNORE] The peer is within its message rate for this topic
      const rate = this.#limits.gossipRate[kind];
      if (!this.#scores.allow(peer, `gossip:${kind}`, rate)) {
        report(TopicValidatorResult.Ignore);
        this.#penalize(peer, this.#scores.options.rateLimitPenalty, `${kind} gossip over ${rate.ratePerSecond}/s`);
        return;
      }
      // [IGNORE] The node-wide budget has room (our load, not the peer's fault: no penalty)
      if (!this.#acceptBudget[kind].take(this.#clock())) {
        report(TopicValidatorResult.Ignore);
        return;
      }
      // [IGNORE] We have room to validate it (our load, not the peer's fault)
      if (this.#pendingValidations >= this.#limits.maxPendingValidations) {
        report(TopicValidatorResult.Ignore);
        if (this.#droppedValidations++ % 1000 === 0) {
          this.#log.warn({ pending: this.#pendingValidations, dropped: this.#droppedValidations }, 'gossip validation queue full: ignoring messages');
        }
        return;
      }
      this.#pendingValidations++;
      this.#validate(kind, data, peer)
        .then((verdict) => {
          report(VERDICT[verdict]);
          if (verdict === 'reject') this.#penalize(peer, this.#scores.options.rejectPenalty, `${kind} gossip rejected by the validator`);
        })
        .finally(() => this.#pendingValidations--);
    } catch (error) {
      this.#log.error({ peer, err: error }, 'gossip message handling failed');
      report(TopicValidatorResult.Ignore);
    }
  }

  async #validate(kind: GossipKind, data: Uint8Array, peer: string): Promise<GossipVerdict> {
    try {
      const verdict = await this.#handlers.onGossip(kind, data, peer);
      if (verdict === 'accept' || verdict === 'ignore' || verdict === 'reject') return verdict;
      this.#log.error({ kind, verdict }, 'the gossip validator returned no verdict: ignoring the message');
      return 'ignore';
    } catch (error) {
      // The contract says onGossip never throws for bad input, so this is our bug: do not blame the peer.
      this.#log.error({ peer, kind, err: error }, 'the gossip validator threw: ignoring the message');
      return 'ignore';
    }
  }

  #redialTick(): void {
    const node = this.#node;
    if (node === undefined) return;
    const now = this.#clock();
    if (now - this.#lastScorePrune >= SCORE_PRUNE_INTERVAL_MS) {
      this.#lastScorePrune = now;
      // Connected peers keep their records: dropping one would refill its rate-limit buckets.
      const connected = new Set(node.getConnections().map((connection) => connection.remotePeer.toString()));
      this.#scores.prune((peer) => connected.has(peer));
      for (const [key, pacer] of this.#pacers) if (pacer.idle(now)) this.#pacers.delete(key);
    }
    for (const [id, target] of this.#targets) {
      if (target.dialing || now < target.nextAttemptAt || this.#isRefused(id)) continue;
      if (node.getConnections(peerIdFromString(id)).length > 0) {
        target.failures = 0;
        continue;
      }
      target.dialing = true;
      const signal = AbortSignal.any([AbortSignal.timeout(this.#limits.dialTimeoutMs), this.#stopController.signal]);
      node
        .dial(target.address, { signal })
        .then(() => {
          target.failures = 0;
          this.#log.debug({ peer: id }, 'bootstrap peer connected');
        })
        .catch((error: unknown) => {
          target.failures++;
          const delay = Math.min(this.#limits.redialMaxMs, this.#limits.redialInitialMs * 2 ** (target.failures - 1));
          target.nextAttemptAt = this.#clock() + delay;
          const log = target.failures === 1 || target.failures % 10 === 0 ? 'info' : 'debug';
          this.#log[log](
            { peer: id, address: target.address.toString(), failures: target.failures, retryInMs: delay, err: describeError(error) },
            'could not reach a bootstrap peer; retrying',
          );
        })
        .finally(() => {
          target.dialing = false;
        });
    }
  }
}
