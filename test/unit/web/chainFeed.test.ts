// The app's live chain status (src/web/lib/chainFeed.ts): WebSocket subscriptions when the node offers them,
// polling over HTTP when it does not or the socket drops, and account activity signals in both modes.

import { describe, expect, it } from 'vitest';
import { MedchainRpc } from '../../../src/client/rpcClient.ts';
import { ChainFeed, type FeedTimers, type SocketLike } from '../../../src/web/lib/chainFeed.ts';

const hash = (n: number): string => n.toString(16).padStart(64, '0');

/** A node answering over injected fetch: head height goes up when the test says so. */
function fakeNode() {
  const node = { height: 5, finalized: 3, calls: [] as string[], down: false };
  const answer = (method: string): unknown => {
    switch (method) {
      case 'chain_getHead':
        return { hash: hash(node.height), height: node.height, time: 1_000 * node.height };
      case 'chain_getFinality':
        return { justified: { height: node.finalized, hash: hash(node.finalized) }, finalized: { height: node.finalized, hash: hash(node.finalized) } };
      case 'node_info':
        return { version: '0.1.0', chainId: 'medchain-dev', genesisHash: hash(0), engine: 'pos', height: node.height, head: hash(node.height), validator: null, mempoolSize: 0, deniedReads: 0, uptimeMs: 1 };
      case 'net_info':
        return { enabled: false, peerId: null, addresses: [], peers: 0 };
      default:
        throw new Error(`unexpected ${method}`);
    }
  };
  const fetch = async (_url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    if (node.down) throw new TypeError('fetch failed');
    const body = JSON.parse(String(init?.body)) as { id: number; method: string } | { id: number; method: string }[];
    const one = (r: { id: number; method: string }) => {
      node.calls.push(r.method);
      return { jsonrpc: '2.0', id: r.id, result: answer(r.method) };
    };
    return new Response(JSON.stringify(Array.isArray(body) ? body.map(one) : one(body)), { status: 200 });
  };
  return { node, rpc: new MedchainRpc({ url: 'http://node.test/rpc', fetch }) };
}

/** Timers the test fires by hand. */
class Timers implements FeedTimers {
  pending = new Map<number, { callback: () => void; ms: number }>();
  #next = 1;
  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.#next++;
    this.pending.set(id, { callback, ms });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** Fires every timer that is due now (all of them: the test decides when "later" is). */
  fireAll(): void {
    const due = [...this.pending.entries()];
    this.pending.clear();
    for (const [, t] of due) t.callback();
  }
}

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: { id?: number; method: string; params: unknown[] }[] = [];
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: unknown) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  closed = false;
  readonly answer: (request: { id?: number; method: string; params: unknown[] }) => unknown;
  constructor(answer: (request: { id?: number; method: string; params: unknown[] }) => unknown) {
    this.answer = answer;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  send(data: string): void {
    const request = JSON.parse(data) as { id?: number; method: string; params: unknown[] };
    this.sent.push(request);
    const response = this.answer(request);
    if (response !== undefined) queueMicrotask(() => this.onmessage?.({ data: JSON.stringify(response) }));
  }
  push(message: unknown): void {
    this.onmessage?.({ data: typeof message === 'string' ? message : JSON.stringify(message) });
  }
  close(): void {
    this.closed = true;
    this.readyState = 3;
  }
  drop(): void {
    this.readyState = 3;
    this.onclose?.({});
  }
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 0));
};

describe('ChainFeed', () => {
  it('polls over HTTP when there is no WebSocket, and tells account watchers on every new head', async () => {
    const { node, rpc } = fakeNode();
    const timers = new Timers();
    const feed = new ChainFeed({ rpc, timers });
    let activity = 0;
    feed.watchAccount(hash(9), () => activity++);
    feed.start();
    await settle();
    expect(feed.state).toMatchObject({ mode: 'polling', head: { height: 5 }, finalized: { height: 3 }, node: { chainId: 'medchain-dev' }, peers: null });
    node.height = 6;
    timers.fireAll();
    await settle();
    expect(feed.state.head?.height).toBe(6);
    expect(activity).toBe(2);
    feed.stop();
    expect(timers.pending.size).toBe(0);
  });

  it('reports an unreachable node as offline, then recovers', async () => {
    const { node, rpc } = fakeNode();
    const timers = new Timers();
    node.down = true;
    const feed = new ChainFeed({ rpc, timers });
    feed.start();
    await settle();
    expect(feed.state.mode).toBe('offline');
    expect(feed.state.error).toBeInstanceOf(Error);
    node.down = false;
    timers.fireAll();
    await settle();
    expect(feed.state.mode).toBe('polling');
    expect(feed.state.error).toBeUndefined();
    feed.stop();
  });

  it('goes live over the WebSocket: chain_subscribe newHeads, finalized and accountActivity, each notification applied', async () => {
    const { rpc } = fakeNode();
    const timers = new Timers();
    let socket!: FakeSocket;
    const feed = new ChainFeed({
      rpc,
      timers,
      wsUrl: 'ws://node.test/ws',
      openSocket: () => (socket = new FakeSocket((r) => (r.id === undefined ? undefined : { jsonrpc: '2.0', id: r.id, result: `sub-${String(r.params[0])}` }))),
    });
    let activity = 0;
    feed.start();
    await settle();
    socket.open();
    await settle();
    expect(socket.sent.map((r) => [r.method, ...r.params])).toEqual([
      ['chain_subscribe', 'newHeads'],
      ['chain_subscribe', 'finalized'],
    ]);
    expect(feed.state.mode).toBe('live');
    const stopWatching = feed.watchAccount(hash(7), () => activity++);
    await settle();
    expect(socket.sent.at(-1)).toMatchObject({ method: 'chain_subscribe', params: ['accountActivity', { account: hash(7) }] });

    socket.push({ jsonrpc: '2.0', method: 'chain_subscription', params: { subscription: 'sub-newHeads', result: { hash: hash(40), height: 40, time: 40_000 } } });
    socket.push({ jsonrpc: '2.0', method: 'chain_subscription', params: { subscription: 'sub-finalized', result: { height: 38, hash: hash(38) } } });
    socket.push({ jsonrpc: '2.0', method: 'chain_subscription', params: { subscription: 'sub-accountActivity', result: { txId: hash(1), type: 'access.grant', height: 40 } } });
    expect(feed.state).toMatchObject({ head: { height: 40 }, finalized: { height: 38 } });
    expect(activity).toBe(1);

    // Garbage and notifications of unknown subscriptions change nothing.
    socket.push('not json');
    socket.push({ jsonrpc: '2.0', method: 'chain_subscription', params: { subscription: 'someone-else', result: { height: 99, hash: hash(99), time: 1 } } });
    socket.push({ jsonrpc: '2.0', method: 'chain_subscription', params: { subscription: 'sub-newHeads', result: { height: 12, hash: hash(12), time: 1 } } });
    expect(feed.state.head?.height).toBe(40);

    stopWatching();
    expect(socket.sent.at(-1)).toEqual({ jsonrpc: '2.0', method: 'chain_unsubscribe', params: ['sub-accountActivity'] });
    feed.stop();
    expect(socket.closed).toBe(true);
  });

  it('falls back to polling when the node refuses the subscription, and does not retry the socket', async () => {
    const { rpc } = fakeNode();
    const timers = new Timers();
    let opened = 0;
    let socket!: FakeSocket;
    const feed = new ChainFeed({
      rpc,
      timers,
      wsUrl: 'ws://node.test/ws',
      openSocket: () => {
        opened++;
        return (socket = new FakeSocket((r) => ({ jsonrpc: '2.0', id: r.id, error: { code: -32601, message: 'Method not found', data: { reason: 'METHOD_NOT_FOUND' } } })));
      },
    });
    feed.start();
    await settle();
    socket.open();
    await settle();
    expect(feed.state.mode).toBe('polling');
    expect(socket.closed).toBe(true);
    timers.fireAll();
    await settle();
    expect(opened).toBe(1);
    feed.stop();
  });

  it('polls while a dropped socket is away and reconnects later', async () => {
    const { node, rpc } = fakeNode();
    const timers = new Timers();
    const sockets: FakeSocket[] = [];
    const feed = new ChainFeed({
      rpc,
      timers,
      wsUrl: 'ws://node.test/ws',
      openSocket: () => {
        const s = new FakeSocket((r) => (r.id === undefined ? undefined : { jsonrpc: '2.0', id: r.id, result: `s${sockets.length}-${String(r.params[0])}` }));
        sockets.push(s);
        return s;
      },
    });
    feed.start();
    await settle();
    sockets[0]!.open();
    await settle();
    expect(feed.state.mode).toBe('live');
    sockets[0]!.drop();
    await settle();
    expect(feed.state.mode).toBe('polling');
    node.height = 9;
    timers.fireAll();
    await settle();
    expect(feed.state.head?.height).toBe(9);
    expect(sockets).toHaveLength(2);
    sockets[1]!.open();
    await settle();
    expect(feed.state.mode).toBe('live');
    feed.stop();
  });
});
