// JSON-RPC over WebSocket against a real RpcHttpServer on 127.0.0.1 (port 0) in front of a real Chain (the
// in-process PoS node over the memory store), with the node's own method table and subscriptions.

import { connect as connectTcp } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EmrClient } from '../../../src/client/emrClient.ts';
import { MedchainRpc } from '../../../src/client/rpcClient.ts';
import { signTransaction } from '../../../src/client/signTransaction.ts';
import { toHex, utf8 } from '../../../src/codec/bytes.ts';
import { secureRandom } from '../../../src/envelope/random.ts';
import { createDispatcher } from '../../../src/rpc/dispatcher.ts';
import { RpcHttpServer, type RpcHttpServerOptions } from '../../../src/rpc/httpServer.ts';
import { createNodeMethods } from '../../../src/rpc/methods/index.ts';
import { ChainSubscriptions } from '../../../src/rpc/subscriptions.ts';
import { RpcWsServer, type RpcWsServerOptions } from '../../../src/rpc/wsServer.ts';
import { TxType } from '../../../src/types/transaction.ts';
import { GENESIS_TIME, testKey } from '../../helpers/fixtures.ts';
import { inProcessNode } from '../../helpers/inProcessNode.ts';
import { sleep, waitFor } from '../../helpers/process.ts';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const KIB = 1024;

// Loosely typed on purpose, in tests only: each assertion says what a message must hold.
type Message = any;

interface Refusal {
  status: number;
  body: { error: { reason: string; message: string } };
}

/** A WebSocket client that keeps every message, in order, and can wait for one. */
class Client {
  readonly ws: WebSocket;
  readonly messages: Message[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: (() => void)[] = [];
  #nextId = 1;

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)));
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  }

  /** Waits for the first message (from `from` on) that matches; returns it. */
  async next(match: (m: Message) => boolean, timeoutMs = 5_000, from = 0): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(from).find(match);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`no matching message in ${timeoutMs} ms; got ${JSON.stringify(this.messages).slice(0, 500)}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  async call(method: string, params: unknown = []): Promise<Message> {
    const id = this.#nextId++;
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    return this.next((m) => m.id === id);
  }

  notifications(subscription?: string): Message[] {
    return this.messages.filter((m) => m.method === 'chain_subscription' && (subscription === undefined || m.params.subscription === subscription));
  }
}

const open: WebSocket[] = [];
let cleanup: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const ws of open.splice(0)) ws.terminate();
  for (const step of cleanup.splice(0).reverse()) await step();
});

function connect(url: string, options: WebSocket.ClientOptions = {}): Promise<Client> {
  const ws = new WebSocket(url, options);
  open.push(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(new Client(ws)));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** Connects expecting the upgrade to be refused; resolves with the status and JSON body. */
function refused(url: string, options: WebSocket.ClientOptions = {}): Promise<Refusal> {
  const ws = new WebSocket(url, options);
  open.push(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => reject(new Error('the upgrade was accepted')));
    ws.once('error', () => undefined);
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
  });
}

/** Sends a raw upgrade request and returns whatever the server answers before closing (or within 1 s). */
function rawUpgrade(port: number, target: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(port, '127.0.0.1', () => {
      const lines = [`GET ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    let text = '';
    const timer = setTimeout(() => socket.destroy(), 1_000);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
    socket.on('error', reject);
  });
}

interface Setup {
  node: Awaited<ReturnType<typeof inProcessNode>>;
  http: RpcHttpServer;
  ws: RpcWsServer;
  subscriptions: ChainSubscriptions;
  wsUrl: string;
  rpcUrl: string;
  logs: Record<string, unknown>[];
}

async function setup(options: { ws?: RpcWsServerOptions; http?: RpcHttpServerOptions; maxSubscriptions?: number } = {}): Promise<Setup> {
  const node = await inProcessNode();
  const logs: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        done();
      },
    }),
  );
  const subscriptions = new ChainSubscriptions({ maxPerConnection: options.maxSubscriptions }, { chain: node.chain, logger });
  await subscriptions.start();
  const methods = createNodeMethods({
    chain: node.chain,
    mempool: node.mempool,
    records: node.records,
    queries: node.queries,
    version: 'test',
    validator: testKey('hospital').publicKey,
    startedAt: 0,
    clock: () => node.now.t,
    subscriptions,
  });
  const dispatcher = createDispatcher(methods, { logger, validateResults: true });
  const ws = new RpcWsServer(options.ws ?? {}, { dispatcher, subscriptions, logger });
  const http = new RpcHttpServer(
    { port: 0, adminToken: ADMIN_TOKEN, ...options.http },
    { dispatcher, logger, onUpgrade: (req, socket, head, access) => ws.handleUpgrade(req, socket, head, access), extraRoutes: ws.routes },
  );
  await http.start();
  await ws.start();
  cleanup.push(async () => {
    await ws.stop();
    await http.stop();
    await subscriptions.stop();
  });
  const base = `127.0.0.1:${http.address.port}`;
  return { node, http, ws, subscriptions, wsUrl: `ws://${base}/ws`, rpcUrl: `http://${base}/rpc`, logs };
}

/** Produces a block whenever the mempool holds transactions, until the test ends. */
function keepProducing(node: Setup['node']): void {
  let producing = true;
  const loop = (async () => {
    while (producing) {
      if (node.mempool.size > 0) await node.produce();
      await sleep(3);
    }
  })();
  cleanup.push(async () => {
    producing = false;
    await loop;
  });
}

describe('JSON-RPC over WebSocket', () => {
  it('answers a method call, a batch, a parse error and a binary frame like POST /rpc', async () => {
    const { wsUrl, node } = await setup();
    const client = await connect(wsUrl);
    const info = await client.call('node_info');
    expect(info).toMatchObject({ jsonrpc: '2.0', id: 1, result: { chainId: node.chainId, engine: 'pos', height: 0 } });

    client.ws.send(
      JSON.stringify([
        { jsonrpc: '2.0', id: 'a', method: 'chain_getHead' },
        { jsonrpc: '2.0', id: 'b', method: 'no_such_method' },
        { jsonrpc: '2.0', method: 'node_info' },
        { jsonrpc: '2.0', id: 'c', method: 'chain_getBlock', params: ['zz'] },
      ]),
    );
    const batch = await client.next(Array.isArray);
    expect(batch).toHaveLength(3);
    expect(batch[0]).toMatchObject({ id: 'a', result: { height: 0, hash: toHex(node.chain.head.hash) } });
    expect(batch[1]).toMatchObject({ id: 'b', error: { code: -32601, data: { reason: 'METHOD_NOT_FOUND' } } });
    expect(batch[2]).toMatchObject({ id: 'c', error: { code: -32602, data: { reason: 'INVALID_PARAMS', param: 'block' } } });

    const before = client.messages.length;
    client.ws.send('{"jsonrpc":"2.0","id":');
    expect(await client.next((m) => m.error?.code === -32700, 5_000, before)).toMatchObject({ id: null, error: { data: { reason: 'PARSE_ERROR' } } });

    client.ws.send(Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 'bin', method: 'chain_getHead' })), { binary: true });
    expect(await client.next((m) => m.id === 'bin')).toMatchObject({ result: { height: 0 } });
    client.ws.send(Uint8Array.of(0x7b, 0xff, 0xfe, 0x7d), { binary: true });
    expect(await client.next((m) => m.error?.data?.detail === 'The message is not valid UTF-8')).toMatchObject({ error: { code: -32700 } });
    // The connection survived all of it.
    expect((await client.call('chain_getHead')).result.height).toBe(0);
  });

  it('answers GET /ws without an upgrade with 426 and how to connect', async () => {
    const { rpcUrl } = await setup();
    const res = await fetch(rpcUrl.replace('/rpc', '/ws'));
    expect(res.status).toBe(426);
    expect(await res.json()).toMatchObject({ error: { reason: 'UPGRADE_REQUIRED' } });
  });

  it('refuses chain_subscribe over HTTP with a clear error', async () => {
    const { rpcUrl } = await setup();
    const res = await fetch(rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'chain_subscribe', params: ['newHeads'] }) });
    const answer = (await res.json()) as Message;
    expect(answer.error).toMatchObject({ code: -32040, data: { reason: 'SUBSCRIPTIONS_NEED_WEBSOCKET' } });
    expect(answer.error.message).toContain('/ws');
    const unsub = (await (
      await fetch(rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'chain_unsubscribe', params: ['00'] }) })
    ).json()) as Message;
    expect(unsub.error).toMatchObject({ code: -32040 });
  });
});

describe('subscriptions', () => {
  it('sends newHeads for every block that becomes canonical, after the subscribe answer, as chain_getHead shows it', async () => {
    const { wsUrl, node } = await setup();
    const client = await connect(wsUrl);
    const answer = await client.call('chain_subscribe', ['newHeads']);
    const id: string = answer.result;
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    await node.produce();
    await node.produce();
    const second = await client.next((m) => m.method === 'chain_subscription' && m.params.result.height === 2);
    const heads = client.notifications(id);
    expect(heads.map((m) => m.params.result.height)).toEqual([1, 2]);
    expect(client.messages.indexOf(answer)).toBeLessThan(client.messages.indexOf(heads[0]));
    expect(second).toEqual({ jsonrpc: '2.0', method: 'chain_subscription', params: { subscription: id, result: (await client.call('chain_getHead')).result } });
  });

  it('stops notifications after chain_unsubscribe; an unknown id (or another connection\'s) answers false', async () => {
    const { wsUrl, node } = await setup();
    const client = await connect(wsUrl);
    const other = await connect(wsUrl);
    const id: string = (await client.call('chain_subscribe', ['newHeads'])).result;
    await node.produce();
    await client.next((m) => m.method === 'chain_subscription');
    expect((await other.call('chain_unsubscribe', [id])).result).toBe(false);
    expect((await client.call('chain_unsubscribe', [id])).result).toBe(true);
    expect((await client.call('chain_unsubscribe', [id])).result).toBe(false);
    const seen = client.notifications().length;
    await node.produce();
    await node.produce();
    // Anything sent for those blocks would arrive before this answer: the socket keeps order.
    await client.call('node_info');
    expect(client.notifications()).toHaveLength(seen);
  });

  it('refuses a subscription past the per-connection limit, and bad kinds or params', async () => {
    const { wsUrl } = await setup({ maxSubscriptions: 3 });
    const client = await connect(wsUrl);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await client.call('chain_subscribe', ['newHeads'])).result);
    expect(new Set(ids).size).toBe(3);
    const over = await client.call('chain_subscribe', ['finalized']);
    expect(over.error).toMatchObject({ code: -32041, data: { reason: 'TOO_MANY_SUBSCRIPTIONS', limit: 3 } });
    await client.call('chain_unsubscribe', [ids[0]]);
    expect((await client.call('chain_subscribe', ['finalized'])).result).toMatch(/^[0-9a-f]{32}$/);

    const fresh = await connect(wsUrl);
    expect((await fresh.call('chain_subscribe', ['logs'])).error).toMatchObject({ code: -32602, data: { param: 'kind' } });
    expect((await fresh.call('chain_subscribe', ['accountActivity'])).error).toMatchObject({ code: -32602, data: { param: 'params' } });
    expect((await fresh.call('chain_subscribe', ['accountActivity', { account: 'xyz' }])).error).toMatchObject({ code: -32602, data: { param: 'params' } });
    expect((await fresh.call('chain_subscribe', ['newHeads', { account: toHex(testKey('p').publicKey) }])).error).toMatchObject({ code: -32602 });
  });

  it('sends accountActivity for what concerns the account: its own transactions, grants on its record, reads of it', async () => {
    const { wsUrl, rpcUrl, node } = await setup();
    keepProducing(node);
    const patientKey = testKey('patient');
    const doctorKey = testKey('doctor');
    const patientWatch = await connect(wsUrl);
    const doctorWatch = await connect(wsUrl);
    const strangerWatch = await connect(wsUrl);
    const patientSub: string = (await patientWatch.call('chain_subscribe', ['accountActivity', { account: toHex(patientKey.publicKey) }])).result;
    const doctorSub: string = (await doctorWatch.call('chain_subscribe', ['accountActivity', { account: `0x${toHex(doctorKey.publicKey)}` }])).result;
    await strangerWatch.call('chain_subscribe', ['accountActivity', { account: toHex(testKey('stranger').publicKey) }]);

    // The patient and doctor act over the HTTP RPC with the ordinary client.
    const rpc = new MedchainRpc({ url: rpcUrl });
    const client = (key: typeof patientKey) => new EmrClient(rpc, key, { chainId: node.chainId, random: secureRandom, pollMs: 5 });
    const patient = client(patientKey);
    const doctor = client(doctorKey);
    await patient.register('patient');
    await doctor.register('doctor');
    const hospital = testKey('hospital');
    const attestation = signTransaction(
      { chainId: node.chainId, sender: hospital.publicKey, nonce: 0, body: { type: TxType.AttestDoctor, doctor: doctorKey.publicKey, name: 'Dr Doctor', licence: 'L-1', expiresAt: GENESIS_TIME + 1e10 } },
      hospital.secretKey,
    );
    await rpc.call('tx_submit', [toHex(attestation.bytes)]);
    const record = await patient.createRecord(utf8('{"resourceType":"Bundle","type":"collection"}'), 'application/fhir+json');
    const grantTx = await patient.grant(record, doctorKey.publicKey, ['read'], null);
    const read = await doctor.read(record, 0, 'TREAT');

    const grant = await patientWatch.next((m) => m.params?.result?.txId === grantTx);
    const location = await rpc.call<{ height: number; blockHash: string }>('tx_get', [grantTx]);
    expect(grant.params).toEqual({
      subscription: patientSub,
      result: { txId: grantTx, type: 'access.grant', height: location.height, blockHash: location.blockHash, sender: toHex(patientKey.publicKey), record },
    });
    // The doctor's read of the patient's record concerns the patient (the owner, looked up in chain state).
    const readByDoctor = await patientWatch.next((m) => m.params?.result?.txId === read.receipt.txId);
    expect(readByDoctor.params.result).toMatchObject({ type: 'access.read', sender: toHex(doctorKey.publicKey), record, height: read.receipt.height });
    const patientTypes = patientWatch.notifications(patientSub).map((m) => m.params.result.type);
    expect(patientTypes.slice(0, 2)).toEqual(['identity.register', 'record.create']);
    expect(patientTypes).toContain('access.grant');

    // The doctor hears of its registration, its attestation, the grant to it and its own read, not the patient's create.
    await doctorWatch.next((m) => m.params?.result?.txId === read.receipt.txId);
    const doctorTypes = doctorWatch.notifications(doctorSub).map((m) => m.params.result.type);
    expect(doctorTypes).toEqual(['identity.register', 'identity.attest', 'access.grant', 'access.read']);

    await strangerWatch.call('node_info');
    expect(strangerWatch.notifications()).toEqual([]);
  });

  it('drops a closed connection\'s subscriptions', async () => {
    const { wsUrl, node, subscriptions, ws } = await setup();
    const client = await connect(wsUrl);
    await client.call('chain_subscribe', ['newHeads']);
    await client.call('chain_subscribe', ['finalized']);
    expect(subscriptions.size).toBe(2);
    client.ws.close();
    await client.closed;
    await waitFor('server saw the close', async () => (ws.connectionCount === 0 ? true : undefined), 5_000, 10);
    expect(subscriptions.size).toBe(0);
    await node.produce();
  });
});

describe('WebSocket security', () => {
  it('checks Origin against the CORS list, allows the node\'s own pages and clients without Origin', async () => {
    const { wsUrl, http } = await setup({ ws: { corsOrigins: ['http://app.example:3000'] } });
    await connect(wsUrl);
    await connect(wsUrl, { origin: 'http://app.example:3000' });
    await connect(wsUrl, { origin: `http://127.0.0.1:${http.address.port}` });
    const bad = await refused(wsUrl, { origin: 'http://evil.example' });
    expect(bad.status).toBe(403);
    expect(bad.body.error.reason).toBe('ORIGIN_NOT_ALLOWED');
    expect((await refused(wsUrl, { origin: 'null' })).status).toBe(403);
    // Same host, other port: another origin.
    expect((await refused(wsUrl, { origin: `http://127.0.0.1:${http.address.port + 1}` })).status).toBe(403);
  });

  it('applies the Host check (DNS rebinding) before anything else', async () => {
    const { wsUrl } = await setup();
    const res = await refused(wsUrl, { headers: { host: 'rebind.attacker.example' }, origin: 'http://rebind.attacker.example' });
    expect(res.status).toBe(403);
    expect(res.body.error.reason).toBe('HOST_NOT_ALLOWED');
  });

  it('unlocks admin methods only with the Authorization header, never a token in the URL', async () => {
    const { wsUrl } = await setup();
    const plain = await connect(wsUrl);
    expect((await plain.call('admin_addPeer', ['/ip4/127.0.0.1/tcp/1/p2p/x'])).error).toMatchObject({ code: -32000, data: { reason: 'UNAUTHORIZED' } });
    const admin = await connect(wsUrl, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    // Past the token check: this node has no p2p, which is the method's own answer.
    expect((await admin.call('admin_addPeer', ['/ip4/127.0.0.1/tcp/1/p2p/x'])).error).toMatchObject({ data: { reason: 'P2P_DISABLED' } });
    const wrong = await refused(wsUrl, { headers: { authorization: 'Bearer not-the-token-at-all' } });
    expect([wrong.status, wrong.body.error.reason]).toEqual([401, 'UNAUTHORIZED']);
    const inUrl = await refused(`${wsUrl}?token=${ADMIN_TOKEN}`);
    expect([inUrl.status, inUrl.body.error.reason]).toEqual([400, 'TOKEN_IN_URL']);
  });

  it('survives upgrade requests with malformed targets and handshakes', async () => {
    const { wsUrl, http } = await setup();
    const targets = ['http://[', '/ws?%', '*', '/ws#frag', '//ws', '/ws/../ws'];
    for (const target of targets) {
      const answer = await rawUpgrade(http.address.port, target, { 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' });
      expect([target, answer]).not.toEqual([target, '']);
    }
    // A bad handshake on the right path: ws answers 400 itself.
    expect(await rawUpgrade(http.address.port, '/ws', { 'Sec-WebSocket-Version': '13' })).toMatch(/^HTTP\/1\.1 400/);
    expect(await rawUpgrade(http.address.port, '/ws', { 'Sec-WebSocket-Key': 'short', 'Sec-WebSocket-Version': '99' })).toMatch(/^HTTP\/1\.1 400/);
    const client = await connect(wsUrl);
    expect((await client.call('chain_getHead')).result.height).toBe(0);
  });

  it('refuses upgrades on other paths', async () => {
    const { wsUrl } = await setup();
    const res = await refused(wsUrl.replace('/ws', '/rpc'));
    expect([res.status, res.body.error.reason]).toEqual([404, 'NOT_FOUND']);
  });
});

describe('WebSocket limits', () => {
  it('closes a connection that sends a message over the size limit with 1009, and takes one at the limit', async () => {
    const { wsUrl } = await setup({ ws: { maxMessageBytes: 64 * KIB } });
    const client = await connect(wsUrl);
    const request = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'chain_getHead' });
    client.ws.send(request + ' '.repeat(64 * KIB - request.length));
    expect(await client.next((m) => m.id === 7)).toMatchObject({ result: { height: 0 } });
    client.ws.send('x'.repeat(64 * KIB + 1));
    expect((await client.closed).code).toBe(1009);
  });

  it('answers a pipelined stream of large messages in order (the server stops reading while it catches up)', async () => {
    const { wsUrl } = await setup({ ws: { maxMessageBytes: 256 * KIB } });
    const client = await connect(wsUrl);
    for (let id = 0; id < 40; id++) {
      const request = JSON.stringify({ jsonrpc: '2.0', id, method: 'chain_getHead' });
      client.ws.send(request + ' '.repeat(200 * KIB));
    }
    await client.next((m) => m.id === 39, 20_000);
    expect(client.messages.map((m) => m.id)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it('refuses connections past maxConnections with 503', async () => {
    const { wsUrl, ws } = await setup({ ws: { maxConnections: 2 } });
    const first = await connect(wsUrl);
    await connect(wsUrl);
    const third = await refused(wsUrl);
    expect([third.status, third.body.error.reason]).toEqual([503, 'TOO_MANY_CONNECTIONS']);
    first.ws.close();
    await waitFor('a slot frees', async () => (ws.connectionCount < 2 ? true : undefined), 5_000, 10);
    await connect(wsUrl);
  });

  it('holds one address to its share of the connections (loopback exempt unless told otherwise)', async () => {
    const { wsUrl } = await setup({ ws: { maxConnectionsPerAddress: 2, loopbackExempt: false } });
    await connect(wsUrl);
    await connect(wsUrl);
    const third = await refused(wsUrl);
    expect([third.status, third.body.error.reason]).toEqual([503, 'TOO_MANY_CONNECTIONS']);
    expect(third.body.error.message).toContain('This address already has 2');
    const exempt = await setup({ ws: { maxConnectionsPerAddress: 1 } });
    await connect(exempt.wsUrl);
    await connect(exempt.wsUrl);
  });

  it('closes a connection that sends faster than the rate limit with 1008', async () => {
    const { wsUrl, ws } = await setup({ ws: { messagesPerSecond: 5, messageBurst: 10 } });
    const client = await connect(wsUrl);
    for (let i = 0; i < 30; i++) client.ws.send(JSON.stringify({ jsonrpc: '2.0', id: i, method: 'node_info' }));
    const closed = await client.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toContain('rate limit');
    // Within the burst every request was answered; after it nothing more was run.
    expect(client.messages.length).toBeLessThanOrEqual(10);
    await waitFor('closed on the server', async () => (ws.connectionCount === 0 ? true : undefined), 5_000, 10);
  });

  it('closes a client that stops reading with 1008 instead of buffering without bound', async () => {
    const { wsUrl, ws, logs } = await setup({ ws: { maxBufferedBytes: 64 * KIB, messagesPerSecond: 10_000, messageBurst: 10_000 } });
    const client = await connect(wsUrl);
    client.ws.pause();
    // Each answer is the OpenRPC document ten times over; the client reads none of them.
    const batch = JSON.stringify(Array.from({ length: 10 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'rpc.discover' })));
    for (let i = 0; i < 300; i++) client.ws.send(batch);
    await waitFor(
      'the server gives up on the client',
      async () => (logs.some((l) => l.msg === 'closing a WebSocket connection' && l.code === 1008) ? true : undefined),
      20_000,
      20,
    );
    client.ws.resume();
    const closed = await client.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toContain('too slow');
    await waitFor('closed on the server', async () => (ws.connectionCount === 0 ? true : undefined), 5_000, 10);
  });

  it('pings: a peer that never answers is cut, one that does stays', async () => {
    const { wsUrl, ws } = await setup({ ws: { pingIntervalMs: 100 } });
    const live = await connect(wsUrl);
    const dead = await connect(wsUrl, { autoPong: false });
    const closed = await dead.closed;
    expect(closed.code).toBe(1006);
    await waitFor('the server dropped it', async () => (ws.connectionCount === 1 ? true : undefined), 5_000, 10);
    await sleep(300);
    expect((await live.call('chain_getHead')).result.height).toBe(0);
  });

  it('stop() closes every socket with 1001 and refuses new upgrades; the HTTP server then stops at once', async () => {
    const { wsUrl, ws, http } = await setup();
    const a = await connect(wsUrl);
    const b = await connect(wsUrl);
    await a.call('chain_subscribe', ['newHeads']);
    await ws.stop();
    expect((await a.closed).code).toBe(1001);
    expect((await b.closed).code).toBe(1001);
    expect(ws.connectionCount).toBe(0);
    expect((await refused(wsUrl)).status).toBe(503);
    const started = Date.now();
    await http.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('the HTTP server alone still stops: it cuts upgraded sockets after its grace period', async () => {
    const { wsUrl, http } = await setup({ http: { shutdownGraceMs: 200 } });
    const client = await connect(wsUrl);
    const started = Date.now();
    await http.stop();
    expect(Date.now() - started).toBeLessThan(2_000);
    await client.closed;
  });
});
