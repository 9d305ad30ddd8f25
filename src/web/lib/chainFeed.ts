/**
 * Live chain status for the app: the node's identity (chain id, engine, version), the head, the finalized
 * block and the peer count, plus "something happened to this account" signals.
 *
 * It subscribes over the node's WebSocket (`/ws`, JSON-RPC `chain_subscribe` with notifications
 * `chain_subscription`) and falls back to polling over HTTP when the node has no WebSocket endpoint, the
 * subscription is refused, or the socket drops; while polling it keeps trying the socket again. Listeners
 * only learn that something changed and re-read what they show, so a missed or unexpected notification
 * can delay an update but never show wrong data.
 */
import type { BlockHeaderJson, MedchainRpc, NodeInfo } from '../../client/rpcClient.ts';
import { rpcCall } from '../../client/rpcClient.ts';

export type FeedMode = 'connecting' | 'live' | 'polling' | 'offline';

export interface Checkpoint {
  readonly height: number;
  readonly hash: string;
}

export interface FeedState {
  readonly mode: FeedMode;
  readonly node?: Pick<NodeInfo, 'chainId' | 'engine' | 'version' | 'genesisHash' | 'validator'>;
  readonly head?: Pick<BlockHeaderJson, 'height' | 'hash' | 'time'>;
  readonly finalized?: Checkpoint;
  /** Connected peers; null when the node runs without p2p. */
  readonly peers?: number | null;
  /** Why the node cannot be reached (mode offline). */
  readonly error?: unknown;
}

/** The part of the browser WebSocket this needs (so tests can pass a fake). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export interface FeedTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ChainFeedOptions {
  readonly rpc: MedchainRpc;
  /** e.g. `ws://127.0.0.1:8545/ws`; undefined: poll only. */
  readonly wsUrl?: string;
  readonly openSocket?: (url: string) => SocketLike;
  readonly timers?: FeedTimers;
  /** Head polling interval without a subscription. Default 2 s. */
  readonly pollMs?: number;
  /** Peer count refresh. Default 10 s. */
  readonly peersEveryMs?: number;
  /** First WebSocket retry after a failure; doubles up to 60 s. Default 5 s. */
  readonly reconnectMs?: number;
}

type Listener = (state: FeedState) => void;

const OPEN = 1;
const MAX_RECONNECT_MS = 60_000;
/** While live, the head is still read now and then: a notification lost in transit must not freeze the page. */
const LIVE_CHECK_MS = 15_000;

export class ChainFeed {
  readonly #rpc: MedchainRpc;
  readonly #wsUrl: string | undefined;
  readonly #openSocket: ((url: string) => SocketLike) | undefined;
  readonly #timers: FeedTimers;
  readonly #pollMs: number;
  readonly #peersEveryMs: number;
  readonly #reconnectBaseMs: number;
  #state: FeedState = { mode: 'connecting' };
  #listeners = new Set<Listener>();
  #accountListeners = new Map<string, Set<() => void>>();
  #socket: SocketLike | undefined;
  #socketSubscriptions = new Map<string, { kind: 'newHeads' | 'finalized' | 'accountActivity'; account?: string }>();
  #pendingCalls = new Map<number, (answer: { result?: unknown; error?: { code: number; message: string } }) => void>();
  #nextId = 1;
  #pollTimer: unknown;
  #peersTimer: unknown;
  #reconnectTimer: unknown;
  #reconnectMs: number;
  #socketUnsupported = false;
  #running = false;

  constructor(options: ChainFeedOptions) {
    this.#rpc = options.rpc;
    this.#wsUrl = options.wsUrl;
    this.#openSocket = options.openSocket ?? defaultOpenSocket();
    this.#timers = options.timers ?? { setTimeout: (cb, ms) => globalThis.setTimeout(cb, ms), clearTimeout: (h) => globalThis.clearTimeout(h as number) };
    this.#pollMs = options.pollMs ?? 2_000;
    this.#peersEveryMs = options.peersEveryMs ?? 10_000;
    this.#reconnectBaseMs = options.reconnectMs ?? 5_000;
    this.#reconnectMs = this.#reconnectBaseMs;
  }

  get state(): FeedState {
    return this.#state;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.#refresh();
    void this.#refreshPeers();
    this.#connect();
  }

  stop(): void {
    this.#running = false;
    for (const handle of [this.#pollTimer, this.#peersTimer, this.#reconnectTimer]) if (handle !== undefined) this.#timers.clearTimeout(handle);
    this.#pollTimer = this.#peersTimer = this.#reconnectTimer = undefined;
    this.#closeSocket();
  }

  /** Calls `listener` on every change of state; returns the unsubscribe function. */
  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Calls `listener` when a transaction touching `account` is included (over the subscription), or on every
   * new head while polling (the caller re-reads; a few extra reads are cheaper than a missed grant).
   */
  watchAccount(account: string, listener: () => void): () => void {
    let set = this.#accountListeners.get(account);
    if (set === undefined) {
      set = new Set();
      this.#accountListeners.set(account, set);
      if (this.#state.mode === 'live') void this.#subscribeOnSocket('accountActivity', account);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size > 0) return;
      this.#accountListeners.delete(account);
      for (const [id, sub] of this.#socketSubscriptions) {
        if (sub.kind !== 'accountActivity' || sub.account !== account) continue;
        this.#socketSubscriptions.delete(id);
        if (this.#socket?.readyState === OPEN) this.#socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'chain_unsubscribe', params: [id] }));
      }
    };
  }

  /** Reads everything again now (a retry button). */
  refresh(): void {
    void this.#refresh();
    void this.#refreshPeers();
  }

  #set(change: Partial<FeedState>): void {
    const next = { ...this.#state, ...change };
    if (change.mode !== undefined && change.mode !== 'offline') delete (next as { error?: unknown }).error;
    const headChanged = next.head?.hash !== this.#state.head?.hash;
    this.#state = next;
    for (const listener of [...this.#listeners]) listener(next);
    if (headChanged && next.mode !== 'live') for (const set of this.#accountListeners.values()) for (const listener of [...set]) listener();
  }

  // --- HTTP: node info, head and finality; the whole feed when there is no socket

  async #refresh(): Promise<void> {
    if (this.#pollTimer !== undefined) this.#timers.clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
    try {
      const [head, finality, info] = await this.#rpc.batch([
        rpcCall<BlockHeaderJson>('chain_getHead'),
        rpcCall<{ finalized: Checkpoint }>('chain_getFinality'),
        rpcCall<NodeInfo>('node_info'),
      ] as const);
      if (!head.ok) throw head.error;
      const change: { -readonly [K in keyof FeedState]?: FeedState[K] } = { head: { height: head.result.height, hash: head.result.hash, time: head.result.time } };
      if (finality.ok) change.finalized = finality.result.finalized;
      if (info.ok) {
        const { chainId, engine, version, genesisHash, validator } = info.result;
        change.node = { chainId, engine, version, genesisHash, validator };
      }
      if (this.#state.mode === 'offline' || this.#state.mode === 'connecting') change.mode = this.#socket?.readyState === OPEN ? this.#state.mode : 'polling';
      this.#set(change);
    } catch (error) {
      this.#set({ mode: 'offline', error });
    } finally {
      if (this.#running) {
        const wait = this.#state.mode === 'live' ? LIVE_CHECK_MS : this.#state.mode === 'offline' ? Math.min(this.#pollMs * 3, 10_000) : this.#pollMs;
        this.#pollTimer = this.#timers.setTimeout(() => void this.#refresh(), wait);
      }
    }
  }

  async #refreshPeers(): Promise<void> {
    if (this.#peersTimer !== undefined) this.#timers.clearTimeout(this.#peersTimer);
    try {
      const net = await this.#rpc.call<{ enabled: boolean; peers: number }>('net_info');
      const peers = net.enabled ? net.peers : null;
      if (peers !== this.#state.peers) this.#set({ peers });
    } catch {
      // An unreachable node is reported by the head poll; here it only means the peer count is unknown.
      if (this.#state.peers !== undefined) this.#set({ peers: undefined });
    } finally {
      if (this.#running) this.#peersTimer = this.#timers.setTimeout(() => void this.#refreshPeers(), this.#peersEveryMs);
    }
  }

  // --- WebSocket subscriptions

  #connect(): void {
    if (!this.#running || this.#wsUrl === undefined || this.#openSocket === undefined || this.#socketUnsupported) return;
    let socket: SocketLike;
    try {
      socket = this.#openSocket(this.#wsUrl);
    } catch (error) {
      // A malformed URL or a CSP refusal: polling works without it.
      this.#socketFailed(error);
      return;
    }
    this.#socket = socket;
    socket.onopen = () => void this.#subscribeAll();
    socket.onmessage = (event) => this.#onMessage(event.data);
    socket.onerror = () => undefined;
    socket.onclose = () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.#socketFailed(undefined);
    };
  }

  #socketFailed(_reason: unknown): void {
    this.#socketSubscriptions.clear();
    for (const reject of this.#pendingCalls.values()) reject({ error: { code: -1, message: 'socket closed' } });
    this.#pendingCalls.clear();
    if (this.#state.mode === 'live' || this.#state.mode === 'connecting') this.#set({ mode: 'polling' });
    if (!this.#running || this.#socketUnsupported) return;
    this.#reconnectTimer = this.#timers.setTimeout(() => this.#connect(), this.#reconnectMs);
    this.#reconnectMs = Math.min(this.#reconnectMs * 2, MAX_RECONNECT_MS);
    void this.#refresh();
  }

  #closeSocket(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket !== undefined) {
      socket.onclose = null;
      socket.close();
    }
  }

  async #subscribeAll(): Promise<void> {
    const heads = await this.#subscribeOnSocket('newHeads');
    if (!heads) {
      // The node answered but has no such subscription: do not keep knocking.
      this.#socketUnsupported = true;
      this.#closeSocket();
      this.#set({ mode: 'polling' });
      return;
    }
    this.#reconnectMs = this.#reconnectBaseMs;
    await this.#subscribeOnSocket('finalized');
    for (const account of this.#accountListeners.keys()) await this.#subscribeOnSocket('accountActivity', account);
    this.#set({ mode: 'live' });
    void this.#refresh();
  }

  async #subscribeOnSocket(kind: 'newHeads' | 'finalized' | 'accountActivity', account?: string): Promise<boolean> {
    const socket = this.#socket;
    if (socket === undefined || socket.readyState !== OPEN) return false;
    const id = this.#nextId++;
    const params = account === undefined ? [kind] : [kind, { account }];
    const answer = await new Promise<{ result?: unknown; error?: { code: number; message: string } }>((resolve) => {
      this.#pendingCalls.set(id, resolve);
      socket.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'chain_subscribe', params }));
    });
    if (answer.error !== undefined || (typeof answer.result !== 'string' && typeof answer.result !== 'number')) return false;
    this.#socketSubscriptions.set(String(answer.result), account === undefined ? { kind } : { kind, account });
    return true;
  }

  #onMessage(data: unknown): void {
    if (typeof data !== 'string' || data.length > 1_000_000) return;
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      // Not JSON: not a message of ours; the periodic read keeps the page right.
      return;
    }
    if (typeof message !== 'object' || message === null) return;
    const m = message as { id?: unknown; result?: unknown; error?: { code: number; message: string }; method?: unknown; params?: unknown };
    if (typeof m.id === 'number' && this.#pendingCalls.has(m.id)) {
      const resolve = this.#pendingCalls.get(m.id)!;
      this.#pendingCalls.delete(m.id);
      resolve(m.error !== undefined ? { error: m.error } : { result: m.result });
      return;
    }
    if (m.method !== 'chain_subscription' || typeof m.params !== 'object' || m.params === null) return;
    const { subscription, result } = m.params as { subscription?: unknown; result?: unknown };
    const sub = this.#socketSubscriptions.get(String(subscription));
    if (sub === undefined) return;
    const value = (typeof result === 'object' && result !== null ? result : {}) as Record<string, unknown>;
    switch (sub.kind) {
      case 'newHeads':
        if (typeof value.height === 'number' && typeof value.hash === 'string' && typeof value.time === 'number') {
          if (this.#state.head === undefined || value.height >= this.#state.head.height) this.#set({ head: { height: value.height, hash: value.hash, time: value.time } });
        } else {
          void this.#refresh();
        }
        break;
      case 'finalized':
        if (typeof value.height === 'number' && typeof value.hash === 'string') this.#set({ finalized: { height: value.height, hash: value.hash } });
        else void this.#refresh();
        break;
      case 'accountActivity':
        for (const listener of [...(this.#accountListeners.get(sub.account ?? '') ?? [])]) listener();
        break;
    }
  }
}

function defaultOpenSocket(): ((url: string) => SocketLike) | undefined {
  const Socket = (globalThis as { WebSocket?: new (url: string) => SocketLike }).WebSocket;
  return Socket === undefined ? undefined : (url) => new Socket(url);
}
