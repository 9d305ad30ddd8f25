// The HTTP transport over real sockets on 127.0.0.1, driven by node's fetch
// (and raw sockets where fetch cannot misbehave enough).

import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import Type from 'typebox';
import { afterEach, describe, expect, it } from 'vitest';
import { createDispatcher } from '../../../src/rpc/dispatcher.ts';
import { RpcHttpServer, type HttpRoute, type RpcHttpServerOptions } from '../../../src/rpc/httpServer.ts';
import { defineMethod, type RpcMethod } from '../../../src/rpc/method.ts';
import { captureLogger, specMethods } from './fixtures.ts';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const MIB = 1024 * 1024;

interface Started {
  server: RpcHttpServer;
  url: string;
  logLines: string[];
}

const running: RpcHttpServer[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

function testLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

async function startServer(
  options: RpcHttpServerOptions = {},
  extra: { methods?: RpcMethod[]; extraRoutes?: HttpRoute[] } = {},
): Promise<Started> {
  const { logger, lines } = testLogger();
  const dispatcher = createDispatcher([...specMethods(), ...(extra.methods ?? [])], { logger });
  const server = new RpcHttpServer({ port: 0, ...options }, { dispatcher, logger, extraRoutes: extra.extraRoutes ?? [] });
  await server.start();
  running.push(server);
  return { server, url: `http://127.0.0.1:${server.address.port}/rpc`, logLines: lines };
}

function post(url: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', body: typeof body === 'string' ? body : new Blob([body as Uint8Array<ArrayBuffer>]), headers: { 'content-type': 'application/json', ...headers } });
}

const SUBTRACT = '{"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":1}';

async function expectAlive(url: string): Promise<void> {
  const res = await post(url, SUBTRACT);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ jsonrpc: '2.0', result: 19, id: 1 });
}

describe('RpcHttpServer basics', () => {
  it('listens on 127.0.0.1 on an ephemeral port by default and answers POST /rpc', async () => {
    const { server, url } = await startServer();
    expect(server.address.host).toBe('127.0.0.1');
    expect(server.address.port).toBeGreaterThan(0);
    const res = await post(url, SUBTRACT);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ jsonrpc: '2.0', result: 19, id: 1 });
  });

  it('answers notifications with 204 and no body', async () => {
    const { url } = await startServer();
    const res = await post(url, '{"jsonrpc":"2.0","method":"notify_hello","params":[1]}');
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
  });

  it('refuses address before start, and start twice is harmless', async () => {
    const server = new RpcHttpServer({}, { dispatcher: createDispatcher([], { logger: captureLogger() }), logger: pino({ level: 'silent' }) });
    expect(() => server.address).toThrow(/not started/);
    await server.start();
    running.push(server);
    const port = server.address.port;
    await server.start();
    expect(server.address.port).toBe(port);
  });

  it('rejects start when the port is taken, naming host and port', async () => {
    const { server } = await startServer();
    const second = new RpcHttpServer(
      { port: server.address.port },
      { dispatcher: createDispatcher([], { logger: captureLogger() }), logger: pino({ level: 'silent' }) },
    );
    await expect(second.start()).rejects.toThrow(`127.0.0.1:${server.address.port}`);
  });

  it('refuses a short admin token and headersTimeout > requestTimeout at construction', () => {
    const deps = { dispatcher: createDispatcher([], { logger: captureLogger() }), logger: pino({ level: 'silent' }) };
    expect(() => new RpcHttpServer({ adminToken: 'short' }, deps)).toThrow(/at least 16/);
    expect(() => new RpcHttpServer({ headersTimeoutMs: 2000, requestTimeoutMs: 1000 }, deps)).toThrow(/headersTimeoutMs/);
  });
});

describe('routes and methods', () => {
  it('answers other HTTP methods on /rpc with 405, Allow and a JSON-RPC error', async () => {
    const { url } = await startServer();
    for (const method of ['GET', 'PUT', 'DELETE', 'OPTIONS']) {
      const res = await fetch(url, { method });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
      expect(await res.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600, data: { reason: 'HTTP_METHOD_NOT_ALLOWED' } } });
    }
  });

  it('answers unknown paths with 404 JSON', async () => {
    const { url } = await startServer();
    for (const path of ['/', '/rpc/', '/health', '/RPC']) {
      const res = await fetch(new URL(path, url), { method: 'POST', body: SUBTRACT, headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { reason: 'NOT_FOUND' } });
    }
  });

  it('ignores the query string when routing', async () => {
    const { url } = await startServer();
    expect((await post(`${url}?x=1`, SUBTRACT)).status).toBe(200);
  });

  it('serves mounted extra routes next to /rpc', async () => {
    const route: HttpRoute = {
      method: 'GET',
      path: '/metrics',
      handle: (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('medchain_up 1\n');
      },
    };
    const { url } = await startServer({}, { extraRoutes: [route] });
    const res = await fetch(new URL('/metrics', url));
    expect(await res.text()).toBe('medchain_up 1\n');
    expect((await fetch(new URL('/metrics', url), { method: 'POST' })).status).toBe(405);
  });

  it('requires Content-Type application/json (charset allowed): 415 otherwise', async () => {
    const { url } = await startServer();
    expect((await post(url, SUBTRACT, { 'content-type': 'application/json; charset=utf-8' })).status).toBe(200);
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await post(url, SUBTRACT, { 'content-type': type });
      expect(res.status).toBe(415);
      expect(await res.json()).toMatchObject({ error: { code: -32600, data: { reason: 'UNSUPPORTED_MEDIA_TYPE' } } });
    }
  });
});

describe('limits and garbage', () => {
  it('answers a body of exactly 5 MiB', async () => {
    const { url } = await startServer();
    const body = SUBTRACT + ' '.repeat(5 * MIB - SUBTRACT.length);
    expect(Buffer.byteLength(body)).toBe(5 * MIB);
    const res = await post(url, body);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ jsonrpc: '2.0', result: 19, id: 1 });
  });

  it('refuses 5 MiB + 1 with 413 BODY_TOO_LARGE and keeps running', async () => {
    const { url } = await startServer();
    const body = SUBTRACT + ' '.repeat(5 * MIB + 1 - SUBTRACT.length);
    const res = await post(url, body);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32600, message: 'Invalid Request', data: { reason: 'BODY_TOO_LARGE', limit: 5 * MIB } },
    });
    await expectAlive(url);
  });

  it('refuses an oversize Expect: 100-continue request without asking for the body', async () => {
    const { server, url } = await startServer();
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(server.address.port, '127.0.0.1', () =>
        socket.write(
          `POST /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${5 * MIB + 1}\r\nExpect: 100-continue\r\n\r\n`,
        ),
      );
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 413/);
    expect(reply).not.toContain('100 Continue');
    expect(reply).toContain('BODY_TOO_LARGE');
    await expectAlive(url);
  });

  it('stops reading a chunked body that grows past the limit', async () => {
    const { url } = await startServer({ maxBodyBytes: 1024 });
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.on('response', () => req.destroy());
      // Never ends on its own: the server must answer without waiting for the end.
      req.write('['.padEnd(600, ' '));
      req.write(' '.repeat(600));
    });
    expect(status).toBe(413);
    await expectAlive(url);
  });

  it.each([
    ['malformed JSON', '{"jsonrpc":"2.0",', 'PARSE_ERROR'],
    ['a 1,001-request batch', `[${Array.from({ length: 1001 }, () => SUBTRACT).join(',')}]`, 'BATCH_TOO_LARGE'],
    ['deep nesting', '['.repeat(100_000), 'NESTING_TOO_DEEP'],
    ['an empty body', '', 'PARSE_ERROR'],
    ['an empty batch', '[]', 'INVALID_REQUEST'],
  ])('answers %s with a JSON-RPC error naming the reason, and keeps running', async (_name, body, reason) => {
    const { url } = await startServer();
    const res = await post(url, body);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { data: { reason } } });
    await expectAlive(url);
  });

  it('answers invalid UTF-8 with a parse error', async () => {
    const { url } = await startServer();
    const res = await post(url, Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d]));
    expect(await res.json()).toMatchObject({ error: { code: -32700, data: { reason: 'PARSE_ERROR', detail: 'The body is not valid UTF-8' } } });
  });

  it('survives raw garbage on the socket and still serves', async () => {
    const { server, url } = await startServer();
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(server.address.port, '127.0.0.1', () => socket.write(Buffer.from('\x00\xff garbage \r\n\r\n not http at all')));
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    await expectAlive(url);
  });

  it('drops a client that trickles its headers (slowloris) with 408', async () => {
    const { server, url } = await startServer({ headersTimeoutMs: 200, requestTimeoutMs: 400 });
    const started = Date.now();
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(server.address.port, '127.0.0.1', () => socket.write('POST /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\n'));
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeLessThan(5_000);
    await expectAlive(url);
  });

  it('never leaks a stack, a path or the error text of a failing handler', async () => {
    const { url, logLines } = await startServer();
    const res = await post(url, '{"jsonrpc":"2.0","method":"explode","id":1}');
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ id: 1, error: { code: -32603, message: 'Internal error', data: { reason: 'INTERNAL_ERROR' } } });
    for (const leak of ['boom', '/work', '.ts', 'deadbeef', 'stack', '    at ']) expect(text).not.toContain(leak);
    // The operator still gets the whole story, through the injected pino logger.
    const logged = logLines.find((line) => line.includes('RPC handler failed')) ?? '';
    expect(logged).toContain('boom');
    expect(logged).toContain('"method":"explode"');
  });
});

describe('admin token', () => {
  const admin = '{"jsonrpc":"2.0","method":"admin_peek","id":1}';

  it('refuses admin methods when no token is configured, even with a header', async () => {
    const { url } = await startServer();
    const variants: Record<string, string>[] = [{}, { authorization: `Bearer ${ADMIN_TOKEN}` }];
    for (const headers of variants) {
      const res = await post(url, admin, headers);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ id: 1, error: { code: -32000, data: { reason: 'UNAUTHORIZED' } } });
    }
  });

  it('runs admin methods with the right bearer token only', async () => {
    const { url } = await startServer({ adminToken: ADMIN_TOKEN });
    const granted = await post(url, admin, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(await granted.json()).toEqual({ jsonrpc: '2.0', result: true, id: 1 });
    const schemeCase = await post(url, admin, { authorization: `bearer ${ADMIN_TOKEN}` });
    expect(await schemeCase.json()).toMatchObject({ result: true });
    const missing = await post(url, admin);
    expect(await missing.json()).toMatchObject({ error: { code: -32000, data: { reason: 'UNAUTHORIZED' } } });
    expect(await (await post(url, SUBTRACT)).json()).toMatchObject({ result: 19 });
  });

  it('answers a wrong token with 401 before running anything', async () => {
    const { url } = await startServer({ adminToken: ADMIN_TOKEN });
    for (const authorization of [`Bearer ${ADMIN_TOKEN}x`, `Bearer ${ADMIN_TOKEN.slice(1)}`, `Basic ${ADMIN_TOKEN}`, 'Bearer']) {
      const res = await post(url, SUBTRACT, { authorization });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(await res.json()).toMatchObject({ error: { code: -32000, data: { reason: 'UNAUTHORIZED' } } });
    }
  });
});

describe('CORS', () => {
  const ORIGIN = 'http://localhost:5173';

  it('sends no CORS headers at all by default, and refuses preflight', async () => {
    const { url } = await startServer();
    const res = await post(url, SUBTRACT, { origin: ORIGIN });
    expect(res.status).toBe(200);
    expect([...res.headers.keys()].filter((k) => k.startsWith('access-control-'))).toEqual([]);
    const preflight = await fetch(url, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(405);
    expect([...preflight.headers.keys()].filter((k) => k.startsWith('access-control-'))).toEqual([]);
  });

  it('answers preflight and requests for listed origins only', async () => {
    const { url } = await startServer({ corsOrigins: [ORIGIN] });
    const preflight = await fetch(url, {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(preflight.headers.get('access-control-allow-methods')).toBe('POST');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('content-type');
    expect(preflight.headers.get('vary')).toBe('Origin');

    const allowed = await post(url, SUBTRACT, { origin: ORIGIN });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ORIGIN);

    const other = 'https://evil.example';
    const refused = await fetch(url, { method: 'OPTIONS', headers: { origin: other, 'access-control-request-method': 'POST' } });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    const otherPost = await post(url, SUBTRACT, { origin: other });
    expect(otherPost.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('supports * for any origin', async () => {
    const { url } = await startServer({ corsOrigins: ['*'] });
    const res = await post(url, SUBTRACT, { origin: 'https://anything.example' });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('Host header (DNS rebinding)', () => {
  function postWithHost(port: number, host: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, path: '/rpc', method: 'POST', headers: { host, 'content-type': 'application/json' } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end(SUBTRACT);
    });
  }

  it('answers loopback names and IP addresses, and other names only when configured (DNS rebinding)', async () => {
    const { server } = await startServer();
    const port = server.address.port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'LOCALHOST']) {
      expect((await postWithHost(port, host)).status).toBe(200);
    }
    const rebound = await postWithHost(port, `attacker.example:${port}`);
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body)).toMatchObject({ error: { code: -32001, data: { reason: 'HOST_NOT_ALLOWED' } } });

    // An IP literal cannot be rebound: a page served from that address is the node's own origin.
    expect((await postWithHost(port, `10.1.2.3:${port}`)).status).toBe(200);
    const { server: open } = await startServer({ allowedHosts: ['node.hospital.example'] });
    expect((await postWithHost(open.address.port, 'node.hospital.example')).status).toBe(200);
    expect((await postWithHost(open.address.port, 'localhost')).status).toBe(200);
    expect((await postWithHost(open.address.port, 'attacker.example')).status).toBe(403);
  });
});

describe('stop()', () => {
  function slowMethod(release: Promise<void>, seen: AbortSignal[]): RpcMethod {
    return defineMethod({
      name: 'slow_wait',
      summary: 'waits until the test releases it',
      params: [],
      result: { name: 'done', schema: Type.Boolean() },
      handler: async (_p, ctx) => {
        if (ctx.signal !== undefined) seen.push(ctx.signal);
        await release;
        return true;
      },
    });
  }

  it('lets an in-flight request finish, then closes the port', async () => {
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const signals: AbortSignal[] = [];
    const { server, url } = await startServer({ shutdownGraceMs: 5_000 }, { methods: [slowMethod(released, signals)] });
    const pending = post(url, '{"jsonrpc":"2.0","method":"slow_wait","id":1}');
    await expect.poll(() => signals.length).toBe(1);
    const stopping = server.stop();
    setTimeout(release, 50);
    const res = await pending;
    expect(await res.json()).toEqual({ jsonrpc: '2.0', result: true, id: 1 });
    await stopping;
    expect(signals[0]?.aborted).toBe(false);
    await expect(post(url, SUBTRACT)).rejects.toThrow();
    await server.stop(); // twice is fine
  });

  it('aborts requests that outlive the grace period and cuts their connections', async () => {
    const signals: AbortSignal[] = [];
    const never = new Promise<void>(() => undefined);
    const { server, url } = await startServer({ shutdownGraceMs: 100 }, { methods: [slowMethod(never, signals)] });
    const pending = post(url, '{"jsonrpc":"2.0","method":"slow_wait","id":1}').then(
      () => 'answered',
      () => 'cut',
    );
    await expect.poll(() => signals.length).toBe(1);
    await server.stop();
    expect(signals[0]?.aborted).toBe(true);
    expect(await pending).toBe('cut');
  });
});
