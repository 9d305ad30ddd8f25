// HTTP transport for the dispatcher: `POST /rpc`, plus whatever routes other
// subsystems mount (metrics, health, web assets) and an upgrade hook for /ws.

import { isIP } from 'node:net';
import { createHash, timingSafeEqual } from 'node:crypto';
import { STATUS_CODES, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Startable } from '../util/lifecycle.ts';
import type { RpcDispatcher } from './dispatcher.ts';
import { RpcError, RpcErrors, encodeErrorResponse, specError } from './errors.ts';
import type { RpcContext } from './method.ts';

export const RPC_PATH = '/rpc';
export const DEFAULT_RPC_HOST = '127.0.0.1';
export const DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024;
const MIN_ADMIN_TOKEN_LENGTH = 16;

export interface RpcHttpServerOptions {
  /** Interface to bind. Default 127.0.0.1: exposing the node is an explicit choice. */
  readonly host?: string;
  /** 0 picks a free port; read it from `address` after start(). */
  readonly port?: number;
  /** Largest request body; default 5 MiB. */
  readonly maxBodyBytes?: number;
  /** Browser origins allowed to call /rpc (exact `scheme://host:port`, or `*`). Default none: no CORS headers at all. */
  readonly corsOrigins?: readonly string[];
  /** Bearer token that unlocks `admin: true` methods; at least 16 characters. Unset: admin methods are refused. */
  readonly adminToken?: string;
  /**
   * Host header names accepted besides loopback names and IP literals (`*` = any, an explicit choice).
   * A DNS-rebinding page sends its own hostname, so names are refused unless listed; an IP literal cannot
   * be rebound (a page from that address is the node's own origin). Default: none, whatever the bind address.
   */
  readonly allowedHosts?: readonly string[];
  /** Time a client gets to send the request headers. Default 10 s. */
  readonly headersTimeoutMs?: number;
  /** Time a client gets to send the whole request. Default 30 s. */
  readonly requestTimeoutMs?: number;
  readonly keepAliveTimeoutMs?: number;
  /** How long stop() lets in-flight requests finish before cutting connections. Default 5 s. */
  readonly shutdownGraceMs?: number;
}

/** A route another subsystem mounts on the same server (e.g. GET /metrics). */
export interface HttpRoute {
  readonly method: string;
  /** Exact path, without query string (or, with `prefix`, the path and everything under it). */
  readonly path: string;
  /**
   * Also serve every path under `path` (`/` serves all paths). Exact routes win, then the longest prefix; a
   * prefix route only takes its own method, so other methods still get the 404 that points at POST /rpc.
   */
  readonly prefix?: boolean;
  handle(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): void | Promise<void>;
}

/** What the server established about an upgrade request before handing it on. */
export interface UpgradeAccess {
  /** True when the request carried the right admin token in its Authorization header. */
  readonly admin: boolean;
}

export interface RpcHttpServerDeps {
  readonly dispatcher: Pick<RpcDispatcher, 'handle'>;
  readonly logger: Logger;
  readonly extraRoutes?: readonly HttpRoute[];
  /**
   * Receives HTTP upgrade requests (the WebSocket transport) that passed the Host check and whose admin token,
   * if sent, is right; without it upgrades are refused. Sockets still open when stop()'s grace ends are cut.
   */
  readonly onUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer, access: UpgradeAccess) => void;
}

export interface RpcHttpAddress {
  readonly host: string;
  readonly port: number;
}

type RouteHandler = (req: IncomingMessage, res: ServerResponse, signal: AbortSignal) => void | Promise<void>;

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '::1'];

// "example.org:8545" -> "example.org", "[::1]:8545" -> "::1"
function hostnameOf(hostHeader: string): string {
  const host = hostHeader.trim().toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(1, end);
  }
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function isJsonContentType(header: string | undefined): boolean {
  return header !== undefined && header.split(';')[0]?.trim().toLowerCase() === 'application/json';
}

/** Writes a complete HTTP response on a raw socket and closes it: for upgrade requests that are refused. */
export function refuseUpgrade(socket: Duplex, status: number, body: { readonly reason: string; readonly message: string }, headers: Readonly<Record<string, string>> = {}): void {
  const text = JSON.stringify({ error: body });
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(text)}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  if (socket.writable) socket.end(`${lines.join('\r\n')}\r\n\r\n${text}`);
  else socket.destroy();
}

const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

/** JSON-RPC over HTTP on one port, with room for more routes; one start/stop lifecycle. */
export class RpcHttpServer implements Startable {
  readonly #options: Required<Omit<RpcHttpServerOptions, 'adminToken'>>;
  readonly #adminDigest: Buffer | undefined;
  readonly #deps: RpcHttpServerDeps;
  readonly #routes = new Map<string, Map<string, RouteHandler>>();
  /** Prefix routes, longest prefix first. */
  readonly #prefixRoutes: { readonly prefix: string; readonly byMethod: Map<string, RouteHandler> }[] = [];
  readonly #upgraded = new Set<Duplex>();
  readonly #inFlight = new Map<AbortController, ServerResponse>();
  #server: Server | undefined;
  #address: RpcHttpAddress | undefined;
  #stopping = false;

  constructor(options: RpcHttpServerOptions, deps: RpcHttpServerDeps) {
    const host = options.host ?? DEFAULT_RPC_HOST;
    this.#options = {
      host,
      port: options.port ?? 0,
      maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      corsOrigins: options.corsOrigins ?? [],
      allowedHosts: [...new Set([...LOOPBACK_HOSTS, ...(options.allowedHosts ?? [])])],
      headersTimeoutMs: options.headersTimeoutMs ?? 10_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? 5_000,
      shutdownGraceMs: options.shutdownGraceMs ?? 5_000,
    };
    if (this.#options.headersTimeoutMs > this.#options.requestTimeoutMs) {
      throw new RangeError('RPC headersTimeoutMs must not exceed requestTimeoutMs');
    }
    if (options.adminToken !== undefined && options.adminToken.length < MIN_ADMIN_TOKEN_LENGTH) {
      throw new RangeError(`the RPC admin token must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters; generate a random one`);
    }
    this.#adminDigest = options.adminToken === undefined ? undefined : digest(options.adminToken);
    this.#deps = deps;
    this.#mount('POST', RPC_PATH, (req, res, signal) => this.#serveRpc(req, res, signal));
    if (this.#options.corsOrigins.length > 0) {
      this.#mount('OPTIONS', RPC_PATH, (req, res) => this.#servePreflight(req, res));
    }
    for (const route of deps.extraRoutes ?? []) {
      if (route.prefix === true) this.#mountPrefix(route.method, route.path, route.handle.bind(route));
      else this.#mount(route.method, route.path, route.handle.bind(route));
    }
  }

  /** Where the server listens; only valid after start(). */
  get address(): RpcHttpAddress {
    if (this.#address === undefined) throw new Error('RPC HTTP server is not started');
    return this.#address;
  }

  /** Binds and listens; rejects if the port is taken. */
  async start(): Promise<void> {
    if (this.#server !== undefined) return;
    const o = this.#options;
    const server = createServer({
      headersTimeout: o.headersTimeoutMs,
      requestTimeout: o.requestTimeoutMs,
      keepAliveTimeout: o.keepAliveTimeoutMs,
      // The timeouts above are only enforced at this interval.
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(o.headersTimeoutMs / 2))),
    });
    server.on('request', (req, res) => this.#dispatchRoute(req, res));
    // curl sends `Expect: 100-continue` for big bodies: refuse an oversize one before it is sent.
    server.on('checkContinue', (req, res) => {
      if (!(Number(req.headers['content-length']) > o.maxBodyBytes)) res.writeContinue();
      this.#dispatchRoute(req, res);
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.#onClientError(err, socket));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#upgrade(req, socket, head));
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(new Error(`RPC server cannot listen on ${o.host}:${o.port}: ${err.message}`));
      server.once('error', onError);
      server.listen(o.port, o.host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (err) => this.#deps.logger.error({ err }, 'RPC HTTP server error'));
    const bound = server.address() as AddressInfo;
    this.#server = server;
    this.#stopping = false;
    this.#address = { host: bound.address, port: bound.port };
    this.#deps.logger.info({ host: bound.address, port: bound.port }, 'RPC HTTP server listening');
  }

  /** Stops accepting, lets in-flight requests finish for shutdownGraceMs, then cuts what is left. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#stopping = true;
    for (const res of this.#inFlight.values()) if (!res.headersSent) res.setHeader('connection', 'close');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#options.shutdownGraceMs);
    });
    if ((await Promise.race([closed, grace])) === 'timeout') {
      for (const controller of this.#inFlight.keys()) controller.abort(new Error('RPC server stopping'));
      server.closeAllConnections();
      // Upgraded sockets left the HTTP parser's bookkeeping, but the server still counts them.
      for (const socket of this.#upgraded) socket.destroy();
      await closed;
    }
    clearTimeout(timer);
    this.#server = undefined;
    this.#address = undefined;
  }

  #mountPrefix(method: string, path: string, handler: RouteHandler): void {
    const prefix = path.endsWith('/') ? path : `${path}/`;
    let entry = this.#prefixRoutes.find((r) => r.prefix === prefix);
    if (entry === undefined) {
      entry = { prefix, byMethod: new Map() };
      this.#prefixRoutes.push(entry);
      this.#prefixRoutes.sort((a, b) => b.prefix.length - a.prefix.length);
    }
    const verb = method.toUpperCase();
    if (entry.byMethod.has(verb)) throw new Error(`HTTP prefix route ${verb} ${path} is mounted twice`);
    entry.byMethod.set(verb, handler);
  }

  #prefixHandler(path: string, method: string): RouteHandler | undefined {
    for (const { prefix, byMethod } of this.#prefixRoutes) {
      if (path === prefix.slice(0, -1) || path.startsWith(prefix)) {
        const handler = byMethod.get(method);
        if (handler !== undefined) return handler;
      }
    }
    return undefined;
  }

  // The same Host rule as every route (DNS rebinding), and the same admin token rule as POST /rpc.
  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (err: Error) => this.#deps.logger.debug({ err }, 'upgraded connection error'));
    const onUpgrade = this.#deps.onUpgrade;
    if (onUpgrade === undefined) {
      refuseUpgrade(socket, 404, { reason: 'NOT_FOUND', message: 'This server accepts no upgrades' });
      return;
    }
    const host = req.headers.host;
    if (host !== undefined && !this.#hostAllowed(host)) {
      refuseUpgrade(socket, 403, { reason: RpcErrors.HOST_NOT_ALLOWED.reason, message: `${RpcErrors.HOST_NOT_ALLOWED.message}; add the name to the allowed hosts of the RPC config` });
      return;
    }
    if (this.#stopping) {
      refuseUpgrade(socket, 503, { reason: RpcErrors.SHUTTING_DOWN.reason, message: RpcErrors.SHUTTING_DOWN.message });
      return;
    }
    const admin = this.#checkAdmin(req.headers.authorization);
    if (admin === 'refused') {
      refuseUpgrade(socket, 401, { reason: RpcErrors.UNAUTHORIZED.reason, message: 'The admin token is wrong' }, { 'WWW-Authenticate': 'Bearer' });
      return;
    }
    this.#upgraded.add(socket);
    socket.once('close', () => this.#upgraded.delete(socket));
    try {
      onUpgrade(req, socket, head, { admin: admin === 'granted' });
    } catch (err) {
      // A transport bug must cost one connection, never the node (this runs in an event handler).
      this.#deps.logger.error({ err, url: req.url?.slice(0, 200) }, 'upgrade handler failed');
      socket.destroy();
    }
  }

  #mount(method: string, path: string, handler: RouteHandler): void {
    const byMethod = this.#routes.get(path) ?? new Map<string, RouteHandler>();
    const verb = method.toUpperCase();
    if (byMethod.has(verb)) throw new Error(`HTTP route ${verb} ${path} is mounted twice`);
    byMethod.set(verb, handler);
    this.#routes.set(path, byMethod);
  }

  #dispatchRoute(req: IncomingMessage, res: ServerResponse): void {
    const controller = new AbortController();
    this.#inFlight.set(controller, res);
    res.on('close', () => {
      this.#inFlight.delete(controller);
      if (!res.writableFinished) controller.abort(new Error('client went away'));
      // A keep-alive connection whose last request just ended would otherwise hold stop() open.
      if (this.#stopping) this.#server?.closeIdleConnections();
    });
    if (this.#stopping) res.setHeader('connection', 'close');
    this.#route(req, res, controller.signal).catch((err: unknown) => {
      this.#deps.logger.error({ err, method: req.method, url: req.url }, 'HTTP route failed');
      if (!res.headersSent) {
        this.#sendJson(res, 500, encodeErrorResponse(specError(RpcErrors.INTERNAL_ERROR, 'The node failed to process this request')));
      } else {
        res.destroy();
      }
    });
  }

  async #route(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const isRpc = path === RPC_PATH;
    const host = req.headers.host;
    if (host !== undefined && !this.#hostAllowed(host)) {
      this.#refuse(res, 403, isRpc, new RpcError(RpcErrors.HOST_NOT_ALLOWED, undefined, { detail: 'Add the name to the allowed hosts of the RPC config' }));
      return;
    }
    if (this.#stopping) {
      this.#refuse(res, 503, isRpc, new RpcError(RpcErrors.SHUTTING_DOWN));
      return;
    }
    const byMethod = this.#routes.get(path);
    const prefixHandler = byMethod === undefined ? this.#prefixHandler(path, req.method ?? '') : undefined;
    if (prefixHandler !== undefined) {
      await prefixHandler(req, res, signal);
      return;
    }
    if (byMethod === undefined) {
      this.#sendJson(res, 404, JSON.stringify({ error: { reason: 'NOT_FOUND', message: `No route ${path.slice(0, 200)}; JSON-RPC is served at POST ${RPC_PATH}` } }));
      return;
    }
    const handler = byMethod.get(req.method ?? '');
    if (handler === undefined) {
      res.setHeader('allow', [...byMethod.keys()].join(', '));
      this.#refuse(res, 405, isRpc, specError(RpcErrors.HTTP_METHOD_NOT_ALLOWED, `Use ${[...byMethod.keys()].join(' or ')} for ${path}`));
      return;
    }
    await handler(req, res, signal);
  }

  async #serveRpc(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    this.#applyCors(req, res);
    const admin = this.#checkAdmin(req.headers.authorization);
    if (admin === 'refused') {
      res.setHeader('www-authenticate', 'Bearer');
      this.#sendJson(res, 401, encodeErrorResponse(new RpcError(RpcErrors.UNAUTHORIZED, 'The admin token is wrong')));
      return;
    }
    // Requiring application/json also forces a CORS preflight on browsers, so a
    // web page cannot fire a "simple" text/plain POST at a node on localhost.
    if (!isJsonContentType(req.headers['content-type'])) {
      this.#sendJson(res, 415, encodeErrorResponse(specError(RpcErrors.UNSUPPORTED_MEDIA_TYPE, 'Send the body with Content-Type: application/json')));
      return;
    }
    const body = await this.#readBody(req);
    if (body === 'too-large') {
      await this.#discardBody(req);
      this.#rejectOversize(res);
      return;
    }
    if (body === 'aborted') return;
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch {
      // Answered as a parse error, like any body that is not JSON text.
      this.#sendJson(res, 200, encodeErrorResponse(specError(RpcErrors.PARSE_ERROR, 'The body is not valid UTF-8')));
      return;
    }
    const ctx: RpcContext = { admin: admin === 'granted', transport: 'http', remoteAddress: req.socket.remoteAddress, signal };
    const answer = await this.#deps.dispatcher.handle(text, ctx);
    if (answer === undefined) {
      res.writeHead(204).end();
      return;
    }
    this.#sendJson(res, 200, answer);
  }

  #servePreflight(req: IncomingMessage, res: ServerResponse): void {
    const origin = req.headers.origin;
    if (origin === undefined || !this.#originAllowed(origin)) {
      res.writeHead(403, { 'content-length': '0' }).end();
      return;
    }
    this.#applyCors(req, res);
    res.writeHead(204, {
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'content-type, authorization',
      'access-control-max-age': '600',
      'content-length': '0',
    });
    res.end();
  }

  #applyCors(req: IncomingMessage, res: ServerResponse): void {
    const origin = req.headers.origin;
    if (this.#options.corsOrigins.length === 0 || origin === undefined || !this.#originAllowed(origin)) return;
    const wildcard = this.#options.corsOrigins.includes('*');
    res.setHeader('access-control-allow-origin', wildcard ? '*' : origin);
    if (!wildcard) res.setHeader('vary', 'Origin');
  }

  #originAllowed(origin: string): boolean {
    return this.#options.corsOrigins.includes('*') || this.#options.corsOrigins.includes(origin);
  }

  #hostAllowed(hostHeader: string): boolean {
    const allowed = this.#options.allowedHosts;
    const name = hostnameOf(hostHeader);
    return allowed.includes('*') || allowed.includes(name) || isIP(name) !== 0;
  }

  // No header: an ordinary caller. A header that does not match: refused outright,
  // so a mistyped token is reported instead of looking like a missing permission.
  #checkAdmin(authorization: string | undefined): 'granted' | 'none' | 'refused' {
    if (this.#adminDigest === undefined || authorization === undefined) return 'none';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match?.[1] === undefined) return 'refused';
    return timingSafeEqual(digest(match[1]), this.#adminDigest) ? 'granted' : 'refused';
  }

  /**
   * Reads and drops the rest of an oversize body, for a bounded time and size, before the 413 goes out:
   * answering while the client is still uploading makes plain clients see a reset instead of the answer.
   * Past the bounds (or with a declared length past them) the answer goes out at once.
   */
  #discardBody(req: IncomingMessage): Promise<void> {
    const cap = 4 * this.#options.maxBodyBytes;
    const declared = Number(req.headers['content-length']);
    if (req.complete || (Number.isFinite(declared) && declared > cap) || req.headers.expect !== undefined) return Promise.resolve();
    return new Promise((resolve) => {
      let dropped = 0;
      const timer = setTimeout(done, 5_000);
      function onData(chunk: Buffer): void {
        dropped += chunk.length;
        if (dropped > cap) done();
      }
      function done(): void {
        clearTimeout(timer);
        req.off('data', onData);
        req.off('end', done);
        req.off('error', done);
        resolve();
      }
      req.on('data', onData);
      req.on('end', done);
      req.on('error', done);
    });
  }

  #readBody(req: IncomingMessage): Promise<Buffer | 'too-large' | 'aborted'> {
    const limit = this.#options.maxBodyBytes;
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return Promise.resolve('too-large');
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (chunk: Buffer): void => {
        size += chunk.length;
        if (size > limit) {
          cleanup();
          resolve('too-large');
          return;
        }
        chunks.push(chunk);
      };
      const onEnd = (): void => {
        cleanup();
        resolve(Buffer.concat(chunks, size));
      };
      const onError = (err: Error): void => {
        cleanup();
        this.#deps.logger.debug({ err }, 'RPC request body aborted by the client');
        resolve('aborted');
      };
      const cleanup = (): void => {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onError);
      };
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onError);
    });
  }

  // Stop reading: answer at once and close the connection so the rest of the
  // body is never buffered.
  #rejectOversize(res: ServerResponse): void {
    const limit = this.#options.maxBodyBytes;
    res.setHeader('connection', 'close');
    this.#sendJson(
      res,
      413,
      encodeErrorResponse(specError(RpcErrors.BODY_TOO_LARGE, `The body exceeds ${limit} bytes; send smaller requests or split the batch`, { limit })),
    );
  }

  #refuse(res: ServerResponse, status: number, isRpc: boolean, error: RpcError): void {
    const body = isRpc
      ? encodeErrorResponse(error)
      : JSON.stringify({ error: { reason: error.reason, message: error.message, ...error.data } });
    this.#sendJson(res, status, body);
  }

  #sendJson(res: ServerResponse, status: number, body: string): void {
    res.writeHead(status, { ...JSON_HEADERS, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  #onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    this.#deps.logger.debug({ err: { code: err.code, message: err.message } }, 'malformed or slow HTTP client');
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const status =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }
}
