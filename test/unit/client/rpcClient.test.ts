// MedchainRpc against a real in-process HTTP server (src/rpc/httpServer.ts + dispatcher.ts) on 127.0.0.1 with a
// small fake method table: the client is the unit under test, so the methods only return what the node's would.

import { pino } from 'pino';
import Type from 'typebox';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MedchainRpc,
  RpcClientError,
  RpcTransportError,
  TransactionWaitError,
  medchainCalls,
  rpcCall,
  type BlockJson,
  type NodeInfo,
  type TransactionLookup,
} from '../../../src/client/rpcClient.ts';
import type { RpcCaller } from '../../../src/client/emrClient.ts';
import { createDispatcher } from '../../../src/rpc/dispatcher.ts';
import { RpcError, defineRpcError } from '../../../src/rpc/errors.ts';
import { RpcHttpServer } from '../../../src/rpc/httpServer.ts';
import { defineMethod, type RpcMethod } from '../../../src/rpc/method.ts';
import { DECISION, H, HEADER, IDENTITY, INCLUDED, NODE_INFO, RECORD, TX } from './rpcSamples.ts';

const ADMIN_TOKEN = 'client-test-admin-token-0123456789';
const NONCE_TOO_LOW = defineRpcError(-32011, 'NONCE_TOO_LOW', 'The transaction was rejected');
const HEX = Type.String({ pattern: '^(0x)?([0-9a-fA-F]{2})*$' });
const HASH = Type.String({ pattern: '^(0x)?[0-9a-fA-F]{64}$' });
const Any = Type.Unknown();

interface Fake {
  /** tx_get answers per tx id, consumed one per call; the last one repeats. */
  readonly txScripts: Map<string, TransactionLookup[]>;
  readonly txGetCalls: string[];
}

function fakeMethods(fake: Fake): RpcMethod[] {
  return [
    defineMethod({ name: 'node_info', summary: 'info', params: [], result: { name: 'r', schema: Any }, handler: () => NODE_INFO }),
    defineMethod({ name: 'chain_getHead', summary: 'head', params: [], result: { name: 'r', schema: Any }, handler: () => HEADER }),
    defineMethod({
      name: 'chain_getBlock',
      summary: 'block',
      params: [
        { name: 'block', schema: Type.Union([Type.Integer({ minimum: 0, maximum: 0xffffffff }), HASH]) },
        { name: 'fullTransactions', schema: Type.Boolean(), required: false },
      ],
      result: { name: 'r', schema: Any },
      handler: ({ block, fullTransactions }) => {
        if (block !== 7 && block !== HEADER.hash) return null;
        return { header: HEADER, size: 600, transactionCount: 1, transactions: [fullTransactions === true ? TX : TX.id] };
      },
    }),
    defineMethod({
      name: 'tx_submit',
      summary: 'submit',
      params: [{ name: 'transaction', schema: HEX }],
      result: { name: 'r', schema: Any },
      handler: ({ transaction }) => {
        if (transaction.startsWith('dead')) throw new RpcError(NONCE_TOO_LOW, 'transaction rejected: nonce 0 is below the next nonce 1', { txId: TX.id });
        return { txId: TX.id, status: 'pending' };
      },
    }),
    defineMethod({
      name: 'tx_get',
      summary: 'get',
      params: [{ name: 'txId', schema: HASH }],
      result: { name: 'r', schema: Any },
      handler: ({ txId }) => {
        fake.txGetCalls.push(txId);
        const script = fake.txScripts.get(txId);
        if (script === undefined) return { status: 'unknown' };
        return script.length > 1 ? script.shift()! : script[0]!;
      },
    }),
    defineMethod({
      name: 'identity_get',
      summary: 'identity',
      params: [{ name: 'accountId', schema: HASH }],
      result: { name: 'r', schema: Any },
      handler: ({ accountId }) => (accountId === IDENTITY.id ? IDENTITY : null),
    }),
    defineMethod({
      name: 'record_get',
      summary: 'record',
      params: [{ name: 'recordId', schema: HASH }],
      result: { name: 'r', schema: Any },
      handler: ({ recordId }) => (recordId === RECORD.id ? RECORD : null),
    }),
    defineMethod({
      name: 'access_check',
      summary: 'check',
      params: [
        { name: 'recordId', schema: HASH },
        { name: 'requester', schema: HASH },
        { name: 'action', schema: Type.Union([Type.Literal('read'), Type.Literal('write'), Type.Literal('delegate')]) },
        { name: 'purpose', schema: Type.String({ maxLength: 64 }), required: false },
        { name: 'emergency', schema: Type.Boolean(), required: false },
      ],
      result: { name: 'r', schema: Any },
      handler: ({ emergency }) => (emergency === true ? { ...DECISION, decision: 'allow', reason: '', rule: 2 } : DECISION),
    }),
    defineMethod({
      name: 'test_slow',
      summary: 'answers after 2 s or when the client goes away',
      params: [],
      result: { name: 'r', schema: Any },
      handler: (_params, ctx) =>
        new Promise((resolve) => {
          const timer = setTimeout(() => resolve('late'), 2_000);
          ctx.signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve('aborted');
          });
        }),
    }),
    defineMethod({
      name: 'test_crash',
      summary: 'throws an unexpected error',
      params: [],
      result: { name: 'r', schema: Any },
      handler: () => {
        throw new Error('database on fire');
      },
    }),
    defineMethod({ name: 'admin_secret', summary: 'admin only', admin: true, params: [], result: { name: 'r', schema: Any }, handler: () => 'secret' }),
  ];
}

interface Harness {
  readonly url: string;
  readonly server: RpcHttpServer;
  /** Every HTTP body the server received, as text. */
  readonly bodies: string[];
  /** Method and headers of every request the client made. */
  readonly requests: { method: string; headers: Headers }[];
  readonly fake: Fake;
  client(options?: { headers?: Record<string, string>; timeoutMs?: number; fetch?: typeof fetch }): MedchainRpc;
}

const running: RpcHttpServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function start(dispatcherOptions: { maxBatchLength?: number } = {}): Promise<Harness> {
  const logger = pino({ level: 'silent' });
  const fake: Fake = { txScripts: new Map(), txGetCalls: [] };
  const dispatcher = createDispatcher(fakeMethods(fake), { logger, ...dispatcherOptions });
  const bodies: string[] = [];
  const recording = {
    handle: (text: string, ctx: Parameters<typeof dispatcher.handle>[1]) => {
      bodies.push(text);
      return dispatcher.handle(text, ctx);
    },
  };
  const server = new RpcHttpServer({ port: 0, adminToken: ADMIN_TOKEN, shutdownGraceMs: 200 }, { dispatcher: recording, logger });
  await server.start();
  running.push(server);
  const url = `http://127.0.0.1:${server.address.port}/rpc`;
  const requests: { method: string; headers: Headers }[] = [];
  const recordingFetch: typeof fetch = (input, init) => {
    requests.push({ method: init?.method ?? 'GET', headers: new Headers(init?.headers) });
    return fetch(input, init);
  };
  return {
    url,
    server,
    bodies,
    requests,
    fake,
    client: (options = {}) => new MedchainRpc({ url, fetch: options.fetch ?? recordingFetch, headers: options.headers, timeoutMs: options.timeoutMs }),
  };
}

/** Asserts one request object is exactly JSON-RPC 2.0: these members and no others, id a positive integer. */
function expectExactRequest(request: unknown, method: string, params?: unknown): number {
  expect(request).toBeTypeOf('object');
  const r = request as Record<string, unknown>;
  expect(Object.keys(r).sort()).toEqual(params === undefined ? ['id', 'jsonrpc', 'method'] : ['id', 'jsonrpc', 'method', 'params']);
  expect(r.jsonrpc).toBe('2.0');
  expect(r.method).toBe(method);
  if (params !== undefined) expect(r.params).toEqual(params);
  expect(Number.isSafeInteger(r.id) && (r.id as number) > 0).toBe(true);
  return r.id as number;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

describe('MedchainRpc typed methods', () => {
  it('call every node method and send exact JSON-RPC 2.0 requests, params by name, bytes as hex', async () => {
    const h = await start();
    const rpc = h.client();
    expect(await rpc.nodeInfo()).toEqual(NODE_INFO);
    expect(await rpc.getHead()).toEqual(HEADER);
    expect(await rpc.getBlock(7)).toEqual({ header: HEADER, size: 600, transactionCount: 1, transactions: [TX.id] });
    expect(await rpc.getBlockWithTransactions(HEADER.hash)).toEqual({ header: HEADER, size: 600, transactionCount: 1, transactions: [TX] });
    expect(await rpc.getBlock(8)).toBeNull();
    expect(await rpc.submitTransaction(new Uint8Array([0x01, 0xab]))).toEqual({ txId: TX.id, status: 'pending' });
    expect(await rpc.getTransaction(TX.id)).toEqual({ status: 'unknown' });
    expect(await rpc.getIdentity(Uint8Array.from({ length: 32 }, () => 0x21))).toEqual(IDENTITY);
    expect(await rpc.getIdentity(H('22'))).toBeNull();
    expect(await rpc.getRecord(`0x${RECORD.id}`)).toBeNull(); // the fake compares strings; the node accepts 0x too
    expect(await rpc.getRecord(RECORD.id)).toEqual(RECORD);
    expect(await rpc.checkAccess({ recordId: RECORD.id, requester: IDENTITY.id, action: 'read' })).toEqual(DECISION);
    expect(await rpc.checkAccess({ recordId: RECORD.id, requester: IDENTITY.id, action: 'read', purpose: 'ETREAT', emergency: true })).toMatchObject({
      decision: 'allow',
      rule: 2,
    });

    const sent = h.bodies.map((b) => JSON.parse(b) as unknown);
    const expected: [string, unknown][] = [
      ['node_info', undefined],
      ['chain_getHead', undefined],
      ['chain_getBlock', { block: 7, fullTransactions: false }],
      ['chain_getBlock', { block: HEADER.hash, fullTransactions: true }],
      ['chain_getBlock', { block: 8, fullTransactions: false }],
      ['tx_submit', { transaction: '01ab' }],
      ['tx_get', { txId: TX.id }],
      ['identity_get', { accountId: IDENTITY.id }],
      ['identity_get', { accountId: H('22') }],
      ['record_get', { recordId: `0x${RECORD.id}` }],
      ['record_get', { recordId: RECORD.id }],
      ['access_check', { recordId: RECORD.id, requester: IDENTITY.id, action: 'read' }],
      ['access_check', { recordId: RECORD.id, requester: IDENTITY.id, action: 'read', purpose: 'ETREAT', emergency: true }],
    ];
    expect(sent).toHaveLength(expected.length);
    const ids = sent.map((request, i) => expectExactRequest(request, expected[i]![0], expected[i]![1]));
    expect(new Set(ids).size).toBe(ids.length);
    // The body is exactly the serialised request: no padding, no extra members, UTF-8 JSON.
    for (const body of h.bodies) expect(body).toBe(JSON.stringify(JSON.parse(body)));
    for (const request of h.requests) {
      expect(request.method).toBe('POST');
      expect(request.headers.get('content-type')).toBe('application/json');
      expect(request.headers.get('accept')).toBe('application/json');
    }
  });

  it('call() and send() reach any method, with params by position or by name', async () => {
    const h = await start();
    const rpc = h.client();
    expect(await rpc.call<BlockJson | null>('chain_getBlock', [7])).toMatchObject({ transactionCount: 1 });
    expect(await rpc.send(rpcCall<NodeInfo>('node_info'))).toEqual(NODE_INFO);
    expect(await rpc.send(medchainCalls.getHead())).toEqual(HEADER);
    expectExactRequest(JSON.parse(h.bodies[0]!), 'chain_getBlock', [7]);
    await expect(rpc.call('node_info', 'x' as unknown as [])).rejects.toThrow(TypeError);
    await expect(rpc.call('')).rejects.toThrow(TypeError);
    expect(h.bodies).toHaveLength(3);
  });

  it('is the transport EmrClient takes (RpcCaller)', async () => {
    const caller: RpcCaller = (await start()).client();
    expect(await caller.call<NodeInfo>('node_info', [])).toEqual(NODE_INFO);
  });

  it('sends the configured headers, and the admin token unlocks admin methods', async () => {
    const h = await start();
    expect(await h.client({ headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'x-trace': 'abc' } }).call('admin_secret')).toBe('secret');
    expect(h.requests[0]!.headers.get('x-trace')).toBe('abc');
    // A caller's content-type cannot replace application/json.
    await h.client({ headers: { 'Content-Type': 'text/plain' } }).nodeInfo();
    expect(h.requests[1]!.headers.get('content-type')).toBe('application/json');
  });
});

describe('MedchainRpc errors', () => {
  it('maps JSON-RPC errors to RpcClientError with code, reason, message and data', async () => {
    const rpc = (await start()).client();
    const rejected = await rejection(rpc.submitTransaction('dead00'));
    expect(rejected).toBeInstanceOf(RpcClientError);
    expect(rejected).toMatchObject({
      name: 'RpcClientError',
      method: 'tx_submit',
      code: -32011,
      reason: 'NONCE_TOO_LOW',
      message: 'transaction rejected: nonce 0 is below the next nonce 1',
      data: { reason: 'NONCE_TOO_LOW', txId: TX.id },
      httpStatus: 200,
    });
    expect(await rejection(rpc.call('no_such_method'))).toMatchObject({ code: -32601, reason: 'METHOD_NOT_FOUND', message: 'Method not found' });
    expect(await rejection(rpc.getBlock(-1))).toMatchObject({ code: -32602, reason: 'INVALID_PARAMS', data: { param: 'block' } });
    expect(await rejection(rpc.getIdentity('zz'))).toMatchObject({ code: -32602, reason: 'INVALID_PARAMS', data: { param: 'accountId' } });
    const crash = await rejection(rpc.call('test_crash'));
    expect(crash).toMatchObject({ code: -32603, reason: 'INTERNAL_ERROR' });
    expect((crash as Error).message).not.toContain('fire');
    expect(await rejection(rpc.call('admin_secret'))).toMatchObject({ code: -32000, reason: 'UNAUTHORIZED', httpStatus: 200 });
  });

  it('transport refusals that carry a JSON-RPC error are RpcClientErrors with their HTTP status', async () => {
    const h = await start();
    const wrongToken = await rejection(h.client({ headers: { authorization: 'Bearer not-the-token-at-all' } }).nodeInfo());
    expect(wrongToken).toBeInstanceOf(RpcClientError);
    expect(wrongToken).toMatchObject({ code: -32000, reason: 'UNAUTHORIZED', httpStatus: 401 });
  });

  it('transport failures are RpcTransportErrors, never RpcClientErrors', async () => {
    const h = await start();
    const notRpc = await rejection(new MedchainRpc({ url: h.url.replace('/rpc', '/nope') }).nodeInfo());
    expect(notRpc).toBeInstanceOf(RpcTransportError);
    expect(notRpc).toMatchObject({ reason: 'HTTP_STATUS', httpStatus: 404, method: 'node_info' });

    const port = h.server.address.port;
    await h.server.stop();
    const refused = await rejection(new MedchainRpc({ url: `http://127.0.0.1:${port}/rpc` }).nodeInfo());
    expect(refused).toBeInstanceOf(RpcTransportError);
    expect(refused).toMatchObject({ reason: 'NETWORK', method: 'node_info' });
    expect((refused as Error).cause).toBeDefined();
  });

  it('answers that are not this request’s JSON-RPC 2.0 response are INVALID_RESPONSE or HTTP_STATUS', async () => {
    const answering = (status: number, body: string | null | ((request: { id: number }) => unknown)): MedchainRpc =>
      new MedchainRpc({
        url: 'http://127.0.0.1:9/rpc',
        fetch: async (_input, init) => {
          const request = JSON.parse(String(init?.body)) as { id: number };
          const text = typeof body === 'function' ? JSON.stringify(body(request)) : body;
          return new Response(text, { status, headers: { 'content-type': 'application/json' } });
        },
      });
    const cases: [MedchainRpc, string, number | undefined][] = [
      [answering(200, '<html>oops</html>'), 'INVALID_RESPONSE', 200],
      [answering(502, '<html>Bad Gateway</html>'), 'HTTP_STATUS', 502],
      [answering(200, (r) => ({ jsonrpc: '2.0', id: r.id + 1, result: 1 })), 'INVALID_RESPONSE', 200],
      [answering(200, (r) => ({ jsonrpc: '1.0', id: r.id, result: 1 })), 'INVALID_RESPONSE', 200],
      [answering(200, (r) => ({ jsonrpc: '2.0', id: r.id })), 'INVALID_RESPONSE', 200],
      [answering(200, (r) => ({ jsonrpc: '2.0', id: r.id, result: 1, error: { code: 1, message: 'x' } })), 'INVALID_RESPONSE', 200],
      [answering(200, (r) => ({ jsonrpc: '2.0', id: r.id, error: { code: 'bad', message: 'x' } })), 'INVALID_RESPONSE', 200],
      [answering(200, (r) => [{ jsonrpc: '2.0', id: r.id, result: 1 }]), 'INVALID_RESPONSE', 200],
      [answering(500, (r) => ({ jsonrpc: '2.0', id: r.id, result: 1 })), 'HTTP_STATUS', 500],
      [answering(204, null), 'HTTP_STATUS', 204],
    ];
    for (const [rpc, reason, httpStatus] of cases) {
      const error = await rejection(rpc.nodeInfo());
      expect(error).toBeInstanceOf(RpcTransportError);
      expect(error).toMatchObject({ reason, httpStatus });
    }
    // An error answered with id null (the node could not read the id) is still the node's error.
    const nullId = answering(200, () => ({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error', data: { reason: 'PARSE_ERROR' } } }));
    expect(await rejection(nullId.nodeInfo())).toMatchObject({ code: -32700, reason: 'PARSE_ERROR' });
    const noData = answering(200, (r) => ({ jsonrpc: '2.0', id: r.id, error: { code: -32000, message: 'Server error' } }));
    expect(await rejection(noData.nodeInfo())).toMatchObject({ code: -32000, reason: 'UNKNOWN', data: undefined });
  });

  it('times out as a TIMEOUT transport error, and rejects with the signal’s reason on abort', async () => {
    const h = await start();
    const started = Date.now();
    const slow = await rejection(h.client({ timeoutMs: 150 }).call('test_slow'));
    expect(slow).toBeInstanceOf(RpcTransportError);
    expect(slow).toMatchObject({ reason: 'TIMEOUT', method: 'test_slow' });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(await rejection(h.client().call('test_slow', undefined, { timeoutMs: 100 }))).toMatchObject({ reason: 'TIMEOUT' });

    const controller = new AbortController();
    const reason = new Error('user left the page');
    setTimeout(() => controller.abort(reason), 50);
    expect(await rejection(h.client().call('test_slow', undefined, { signal: controller.signal }))).toBe(reason);
    expect(await rejection(h.client().nodeInfo({ signal: AbortSignal.abort(reason) }))).toBe(reason);
  });
});

describe('MedchainRpc.batch', () => {
  it('sends one exact JSON-RPC 2.0 batch and returns each outcome in call order, typed by its call', async () => {
    const h = await start();
    const rpc = h.client();
    const [info, block, submitted, missing, identity] = await rpc.batch([
      medchainCalls.nodeInfo(),
      medchainCalls.getBlock(7),
      medchainCalls.submitTransaction('dead01'),
      rpcCall('no_such_method', [1, 2]),
      medchainCalls.getIdentity(IDENTITY.id),
    ]);
    expect(info).toEqual({ ok: true, result: NODE_INFO });
    // Compile-time: each outcome's result has its call's type.
    const height: number | undefined = info.ok ? info.result.height : undefined;
    const txs: readonly string[] | undefined = block.ok ? block.result?.transactions : undefined;
    expect([height, txs]).toEqual([7, [TX.id]]);
    expect(submitted.ok).toBe(false);
    expect(!submitted.ok && submitted.error).toMatchObject({ method: 'tx_submit', code: -32011, reason: 'NONCE_TOO_LOW' });
    expect(!missing.ok && missing.error).toMatchObject({ method: 'no_such_method', code: -32601 });
    expect(identity).toEqual({ ok: true, result: IDENTITY });

    expect(h.bodies).toHaveLength(1);
    const sent = JSON.parse(h.bodies[0]!) as unknown[];
    expect(Array.isArray(sent)).toBe(true);
    const ids = [
      expectExactRequest(sent[0], 'node_info'),
      expectExactRequest(sent[1], 'chain_getBlock', { block: 7, fullTransactions: false }),
      expectExactRequest(sent[2], 'tx_submit', { transaction: 'dead01' }),
      expectExactRequest(sent[3], 'no_such_method', [1, 2]),
      expectExactRequest(sent[4], 'identity_get', { accountId: IDENTITY.id }),
    ];
    expect(new Set(ids).size).toBe(5);
  });

  it('matches answers by id whatever their order', async () => {
    const h = await start();
    const reversing: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const answers = (await response.json()) as unknown[];
      return new Response(JSON.stringify(answers.reverse()), { status: response.status });
    };
    const [head, info] = await h.client({ fetch: reversing }).batch([medchainCalls.getHead(), medchainCalls.nodeInfo()]);
    expect(head).toEqual({ ok: true, result: HEADER });
    expect(info).toEqual({ ok: true, result: NODE_INFO });
  });

  it('refuses an empty batch locally, and rejects when the node refuses the whole batch or an answer is missing', async () => {
    const h = await start({ maxBatchLength: 3 });
    const rpc = h.client();
    await expect(rpc.batch([])).rejects.toThrow(RangeError);
    const tooLong = await rejection(rpc.batch([medchainCalls.nodeInfo(), medchainCalls.nodeInfo(), medchainCalls.nodeInfo(), medchainCalls.nodeInfo()]));
    expect(tooLong).toBeInstanceOf(RpcClientError);
    expect(tooLong).toMatchObject({ code: -32600, reason: 'BATCH_TOO_LARGE' });
    const dropping: typeof fetch = async (input, init) => {
      const answers = (await (await fetch(input, init)).json()) as unknown[];
      return new Response(JSON.stringify(answers.slice(1)), { status: 200 });
    };
    expect(await rejection(h.client({ fetch: dropping }).batch([medchainCalls.nodeInfo(), medchainCalls.getHead()]))).toMatchObject({
      reason: 'INVALID_RESPONSE',
      message: expect.stringMatching(/no answer for request id/),
    });
  });
});

describe('MedchainRpc.waitForTransaction', () => {
  const PENDING: TransactionLookup = { status: 'pending', transaction: TX };

  it('polls tx_get until the transaction is included', async () => {
    const h = await start();
    h.fake.txScripts.set(TX.id, [PENDING, PENDING, PENDING, INCLUDED]);
    const included = await h.client().waitForTransaction(Uint8Array.from({ length: 32 }, () => 0x11), { pollMs: 10, timeoutMs: 5_000 });
    expect(included).toEqual(INCLUDED);
    expect(h.fake.txGetCalls).toEqual([TX.id, TX.id, TX.id, TX.id]);
  });

  it('keeps polling while the node does not know the transaction yet (it may arrive by gossip)', async () => {
    const h = await start();
    h.fake.txScripts.set(TX.id, [{ status: 'unknown' }, { status: 'unknown' }, PENDING, INCLUDED]);
    expect(await h.client().waitForTransaction(TX.id, { pollMs: 10, timeoutMs: 5_000 })).toEqual(INCLUDED);
  });

  it('gives up with TIMEOUT after timeoutMs, saying what it saw last', async () => {
    const h = await start();
    h.fake.txScripts.set(TX.id, [PENDING]);
    const started = Date.now();
    const error = await rejection(h.client().waitForTransaction(TX.id, { pollMs: 20, timeoutMs: 200 }));
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(TransactionWaitError);
    expect(error).toMatchObject({ reason: 'TIMEOUT', txId: TX.id, lastStatus: 'pending' });
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(2_000);
    expect(h.fake.txGetCalls.length).toBeGreaterThanOrEqual(3);
  });

  it('reports a transaction that left the mempool without being included as DROPPED', async () => {
    const h = await start();
    h.fake.txScripts.set(TX.id, [PENDING, { status: 'unknown' }]);
    expect(await rejection(h.client().waitForTransaction(TX.id, { pollMs: 10, timeoutMs: 5_000 }))).toMatchObject({
      name: 'TransactionWaitError',
      reason: 'DROPPED',
      lastStatus: 'unknown',
    });
  });

  it('stops on abort with the signal’s reason, and passes RPC errors through', async () => {
    const h = await start();
    h.fake.txScripts.set(TX.id, [PENDING]);
    const controller = new AbortController();
    const reason = new Error('cancelled');
    setTimeout(() => controller.abort(reason), 60);
    expect(await rejection(h.client().waitForTransaction(TX.id, { pollMs: 20, timeoutMs: 5_000, signal: controller.signal }))).toBe(reason);
    expect(await rejection(h.client().waitForTransaction('zz', { pollMs: 10 }))).toMatchObject({ reason: 'INVALID_PARAMS' });
  });
});
