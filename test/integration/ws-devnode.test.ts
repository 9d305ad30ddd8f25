// A real `medchain dev` process: JSON-RPC over WebSocket on the RPC port, subscriptions fed by the node's own
// block production, the web app (or the "run npm run build" page) at `/`, and a clean close of every socket
// on Ctrl+C.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CONTENT_SECURITY_POLICY } from '../../src/rpc/staticFiles.ts';
import { rpc, rpcResult, startDevNode, waitFor, type DevNode } from '../helpers/process.ts';

// Loosely typed on purpose, in tests only.
type Message = any;

let dev: DevNode;

beforeAll(async () => {
  dev = await startDevNode('ws');
}, 30_000);

afterAll(async () => {
  await dev?.stop();
});

function openSocket(url: string): Promise<{ ws: WebSocket; messages: Message[]; closed: Promise<number> }> {
  const ws = new WebSocket(url);
  const messages: Message[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(String(data))));
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, messages, closed }));
    ws.once('error', reject);
  });
}

describe('WebSocket JSON-RPC on a dev node', () => {
  it('serves calls and newHeads over /ws, documents the subscription methods, refuses them over HTTP', async () => {
    const wsUrl = dev.url.replace(/^http/, 'ws').replace(/\/rpc$/, '/ws');
    const { ws, messages } = await openSocket(wsUrl);
    ws.send(JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'chain_subscribe', params: ['newHeads'] }, { jsonrpc: '2.0', id: 2, method: 'node_info' }]));
    const answers = await waitFor('the batch answer', async () => messages.find(Array.isArray), 10_000, 20);
    const id: string = answers[0].result;
    expect(answers[1].result.chainId).toBe('medchain-dev');
    const heads = await waitFor(
      'two new heads',
      async () => {
        const got = messages.filter((m) => m.method === 'chain_subscription' && m.params.subscription === id);
        return got.length >= 2 ? got : undefined;
      },
      20_000,
      50,
    );
    expect(heads[1].params.result.height).toBe(heads[0].params.result.height + 1);
    expect(heads[1].params.result.parent).toBe(heads[0].params.result.hash);
    ws.close();

    const discover = await rpcResult<{ methods: { name: string; description?: string; errors?: { data: { reason: string } }[] }[] }>(dev.url, 'rpc.discover');
    const subscribe = discover.methods.find((m) => m.name === 'chain_subscribe');
    expect(subscribe?.description).toContain('accountActivity');
    expect(subscribe?.errors?.map((e) => e.data.reason)).toContain('SUBSCRIPTIONS_NEED_WEBSOCKET');
    expect(discover.methods.some((m) => m.name === 'chain_unsubscribe')).toBe(true);
    expect((await rpc(dev.url, 'chain_subscribe', ['newHeads'])).error).toMatchObject({ code: -32040 });
  }, 40_000);

  it('serves the web app, or a page saying to build it, at / under the strict CSP', async () => {
    const res = await fetch(dev.url.replace(/\/rpc$/, '/'));
    expect([200, 404]).toContain(res.status);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const page = await res.text();
    if (res.status === 404) expect(page).toContain('npm run build');
  });

  it('closes open sockets with 1001 on Ctrl+C and exits cleanly', async () => {
    const wsUrl = dev.url.replace(/^http/, 'ws').replace(/\/rpc$/, '/ws');
    const a = await openSocket(wsUrl);
    const b = await openSocket(wsUrl);
    a.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'chain_subscribe', params: ['newHeads'] }));
    await waitFor('subscribed', async () => (a.messages.some((m) => m.id === 1) ? true : undefined), 10_000, 20);
    const started = Date.now();
    dev.node.child.kill('SIGINT');
    expect(await a.closed).toBe(1001);
    expect(await b.closed).toBe(1001);
    const exit = await dev.node.exited;
    expect(exit.code, dev.node.output()).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 30_000);
});
