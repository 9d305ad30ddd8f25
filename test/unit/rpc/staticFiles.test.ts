// The web app's static files on a real RpcHttpServer over 127.0.0.1, from a temporary build folder, with raw
// requests (fetch would normalise the `..` away before it reached the server).

import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher } from '../../../src/rpc/dispatcher.ts';
import { RpcHttpServer } from '../../../src/rpc/httpServer.ts';
import { CONTENT_SECURITY_POLICY, DEFAULT_WEB_ROOT, resolveRequestPath, staticFileRoutes } from '../../../src/rpc/staticFiles.ts';
import { silentLogger } from '../../helpers/fixtures.ts';
import { specMethods } from './fixtures.ts';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function raw(port: number, path: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const INDEX = '<!doctype html><html><head><script type="module" src="/assets/app-3f9a.js"></script></head><body><div id="app"></div></body></html>';
const FILES: Record<string, string> = {
  'index.html': INDEX,
  'assets/app-3f9a.js': 'console.log("app")',
  'assets/app-3f9a.js.map': '{"version":3}',
  'assets/style-77aa.css': 'body{margin:0}',
  'assets/logo-1b2c.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>',
  'assets/photo-9d8e.png': 'PNG',
  'assets/font-aa11.woff2': 'wOF2',
  'favicon.ico': 'ICO',
  'manifest.json': '{"name":"medchain"}',
  '.env': 'SECRET=1',
};

let dir: string;
let root: string;
const running: RpcHttpServer[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medchain-static-'));
  root = join(dir, 'web');
  for (const [name, content] of Object.entries(FILES)) {
    await mkdir(join(root, name, '..'), { recursive: true });
    await writeFile(join(root, name), content);
  }
  await writeFile(join(dir, 'secret.txt'), 'TOP SECRET');
  await symlink(join(dir, 'secret.txt'), join(root, 'assets', 'leak-0000.txt'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function serve(webRoot: string): Promise<number> {
  const dispatcher = createDispatcher(specMethods(), { logger: silentLogger });
  const server = new RpcHttpServer({ port: 0 }, { dispatcher, logger: silentLogger, extraRoutes: staticFileRoutes({ root: webRoot }, { logger: silentLogger }) });
  await server.start();
  running.push(server);
  return server.address.port;
}

function expectSecurityHeaders(res: Raw): void {
  expect(res.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['referrer-policy']).toBe('no-referrer');
  expect(res.headers['x-frame-options']).toBe('DENY');
  expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
}

describe('static web app', () => {
  it('uses a CSP that forbids inline script and style, framing and plugins', () => {
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-eval');
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("style-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    expect(CONTENT_SECURITY_POLICY).toContain("object-src 'none'");
    expect(DEFAULT_WEB_ROOT.endsWith(join('dist', 'web'))).toBe(true);
  });

  it('serves index.html at / with no-cache and every security header', async () => {
    const port = await serve(root);
    const res = await raw(port, '/');
    expect(res.status).toBe(200);
    expect(res.body).toBe(INDEX);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expectSecurityHeaders(res);
    const direct = await raw(port, '/index.html');
    expect(direct.body).toBe(INDEX);
    expect(direct.headers['cache-control']).toBe('no-cache');
  });

  it('answers client-side routes (no extension) with index.html: the SPA fallback', async () => {
    const port = await serve(root);
    for (const path of ['/patient', '/doctor/records/abc123', '/explorer/block/42?tab=txs', '/hospital/']) {
      const res = await raw(port, path);
      expect([path, res.status]).toEqual([path, 200]);
      expect(res.body).toBe(INDEX);
      expect(res.headers['cache-control']).toBe('no-cache');
      expectSecurityHeaders(res);
    }
  });

  it('serves hashed assets as immutable with the right content types', async () => {
    const port = await serve(root);
    const expected: [string, string][] = [
      ['/assets/app-3f9a.js', 'text/javascript; charset=utf-8'],
      ['/assets/app-3f9a.js.map', 'application/json; charset=utf-8'],
      ['/assets/style-77aa.css', 'text/css; charset=utf-8'],
      ['/assets/logo-1b2c.svg', 'image/svg+xml'],
      ['/assets/photo-9d8e.png', 'image/png'],
      ['/assets/font-aa11.woff2', 'font/woff2'],
    ];
    for (const [path, type] of expected) {
      const res = await raw(port, path);
      expect([path, res.status, res.headers['content-type']]).toEqual([path, 200, type]);
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(res.body).toBe(FILES[path.slice(1)]);
      expectSecurityHeaders(res);
    }
    const icon = await raw(port, '/favicon.ico');
    expect([icon.status, icon.headers['content-type'], icon.headers['cache-control']]).toEqual([200, 'image/x-icon', 'no-cache']);
    const manifest = await raw(port, '/manifest.json');
    expect([manifest.status, manifest.headers['content-type']]).toEqual([200, 'application/json; charset=utf-8']);
  });

  it('answers HEAD with the headers and no body, and If-None-Match with 304', async () => {
    const port = await serve(root);
    const head = await raw(port, '/assets/app-3f9a.js', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe(String(FILES['assets/app-3f9a.js']!.length));
    expectSecurityHeaders(head);
    const first = await raw(port, '/');
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^W\/"/);
    const again = await raw(port, '/', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
  });

  it('answers 404 for missing files and never falls back to the app for assets', async () => {
    const port = await serve(root);
    for (const path of ['/missing.js', '/assets/app-0000.js', '/assets/chunk', '/assets/', '/assets']) {
      const res = await raw(port, path);
      expect([path, res.status]).toEqual([path, 404]);
      expect(res.body).not.toContain('<div id="app">');
      expectSecurityHeaders(res);
    }
  });

  it('refuses directory traversal in every spelling and never serves a file outside the root', async () => {
    const port = await serve(root);
    const attempts = [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E/secret.txt',
      '/%2e%2e%2fsecret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/assets%5c..%5c..%5csecret.txt',
      '/index.html%00.js',
      '/%00',
      '/bad%zzencoding',
      '/./index.html',
    ];
    for (const path of attempts) {
      const res = await raw(port, path);
      expect([path, res.status]).toEqual([path, 400]);
      expect(res.body).not.toContain('TOP SECRET');
      expectSecurityHeaders(res);
    }
    // An absolute-looking path stays inside the root: a client-side route, or a missing file.
    const slashes = await raw(port, '//etc/passwd');
    expect([slashes.status, slashes.body]).toEqual([200, INDEX]);
    const absolute = await raw(port, `/${encodeURIComponent(join(dir, 'secret.txt'))}`);
    expect(absolute.status).toBe(404);
    expect(absolute.body).not.toContain('TOP SECRET');
    // A double-encoded dot-dot is a literal (missing) file name, not a way out.
    const doubled = await raw(port, '/%252e%252e/secret.txt');
    expect(doubled.status).toBe(404);
    expect(doubled.body).not.toContain('TOP SECRET');
  });

  it('refuses a symlink that leads out of the root, and hidden files', async () => {
    const port = await serve(root);
    const link = await raw(port, '/assets/leak-0000.txt');
    expect(link.status).toBe(404);
    expect(link.body).not.toContain('TOP SECRET');
    const hidden = await raw(port, '/.env');
    expect(hidden.status).toBe(404);
    expect(hidden.body).not.toContain('SECRET');
  });

  it('leaves the node paths alone: /rpc keeps its routes, nothing under /rpc /ws /metrics falls back to the app', async () => {
    const port = await serve(root);
    expect((await raw(port, '/rpc')).status).toBe(405);
    for (const path of ['/rpc/x', '/ws/anything', '/metrics/foo', '/health/x', '/ready/y', '/r%70c/x']) {
      const res = await raw(port, path);
      expect([path, res.status]).toEqual([path, 404]);
      expect(res.body).not.toContain('<div id="app">');
    }
    // Only GET and HEAD: other methods get the API's 404, which points at POST /rpc.
    const post = await raw(port, '/patient', { method: 'POST' });
    expect(post.status).toBe(404);
    expect(post.body).toContain('POST /rpc');
  });

  it('applies the Host check to the web app too (DNS rebinding)', async () => {
    const port = await serve(root);
    const res = await raw(port, '/', { headers: { host: 'attacker.example:80' } });
    expect(res.status).toBe(403);
    expect(res.body).not.toContain('<div id="app">');
  });

  it('says to run npm run build when the app is not built, with no script in the page', async () => {
    const port = await serve(join(dir, 'not-built'));
    for (const path of ['/', '/patient']) {
      const res = await raw(port, path);
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toContain('npm run build');
      expect(res.body.toLowerCase()).not.toContain('<script');
      expect(res.body).not.toContain('style=');
      expect(res.body).not.toContain(dir);
      expectSecurityHeaders(res);
    }
  });
});

describe('resolveRequestPath', () => {
  it('maps paths inside the root and refuses the rest', () => {
    expect(resolveRequestPath('/assets/a.js')).toEqual({ kind: 'file', relative: 'assets/a.js' });
    expect(resolveRequestPath('/')).toEqual({ kind: 'file', relative: '' });
    expect(resolveRequestPath('/caf%C3%A9.png')).toEqual({ kind: 'file', relative: 'café.png' });
    expect(resolveRequestPath('http://evil/x')).toMatchObject({ kind: 'refused', status: 400 });
    expect(resolveRequestPath('//etc/passwd')).toEqual({ kind: 'file', relative: 'etc/passwd' });
    expect(resolveRequestPath('/a/%2e%2e/b')).toMatchObject({ kind: 'refused', status: 400 });
    expect(resolveRequestPath('/.git/config')).toMatchObject({ kind: 'refused', status: 404 });
  });
});
