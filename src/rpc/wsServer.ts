// JSON-RPC 2.0 over WebSocket at /ws, on the RPC HTTP server's port (its upgrade hook): the same dispatcher and
// method table as POST /rpc, plus subscription notifications. The HTTP server has already applied the Host
// check and the admin token rule to the upgrade request; this transport adds the Origin check and its limits.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { TokenBucket } from '../p2p/peerScore.ts';
import type { Startable } from '../util/lifecycle.ts';
import type { RpcDispatcher } from './dispatcher.ts';
import { RpcErrors, encodeErrorResponse, specError } from './errors.ts';
import { refuseUpgrade, type HttpRoute, type UpgradeAccess } from './httpServer.ts';
import type { RpcContext } from './method.ts';
import type { ChainSubscriptions } from './subscriptions.ts';

export const WS_PATH = '/ws';

/** Close codes this transport uses (RFC 6455 section 7.4.1). */
export const WsCloseCode = {
  /** The node is stopping. */
  GOING_AWAY: 1001,
  /** Rate limit exceeded, or the client does not read what it is sent. */
  POLICY_VIOLATION: 1008,
  /** A message over maxMessageBytes (sent by the ws library itself). */
  MESSAGE_TOO_BIG: 1009,
  /** The node failed unexpectedly while answering. */
  INTERNAL_ERROR: 1011,
} as const;

export interface RpcWsServerOptions {
  /**
   * Browser origins allowed to connect (exact `scheme://host:port`, or `*`): the RPC CORS list. A page the
   * node serves itself (same origin as the Host header) is always allowed; clients that send no Origin
   * (not browsers) are too.
   */
  readonly corsOrigins?: readonly string[];
  /** Open connections at most; further upgrades get 503. Default 256. */
  readonly maxConnections?: number;
  /** Open connections from one remote address at most. Default 32. */
  readonly maxConnectionsPerAddress?: number;
  /** Loopback clients (the operator, a local proxy) are not held to maxConnectionsPerAddress. Default true. */
  readonly loopbackExempt?: boolean;
  /** Largest message; a bigger one closes the connection with 1009. Default 1 MiB. */
  readonly maxMessageBytes?: number;
  /** Bytes waiting to be sent to one client beyond which it is closed with 1008 instead of buffered. Default 4 MiB. */
  readonly maxBufferedBytes?: number;
  /** Messages a connection may send per second on average; over it the connection is closed with 1008. Default 100. */
  readonly messagesPerSecond?: number;
  /** Messages a connection may send in a burst. Default 200. */
  readonly messageBurst?: number;
  /** Interval of keepalive pings; a client that has not answered the previous one is cut. Default 30 s. */
  readonly pingIntervalMs?: number;
  /** How long a closing handshake may take before the socket is cut (stop(), slow clients). Default 5 s. */
  readonly closeTimeoutMs?: number;
}

export interface RpcWsServerModules {
  readonly dispatcher: Pick<RpcDispatcher, 'handle'>;
  /** Where connections are registered for chain_subscribe; without it subscriptions are refused. */
  readonly subscriptions?: Pick<ChainSubscriptions, 'connect' | 'disconnect' | 'release'>;
  readonly logger: Logger;
  readonly clock?: () => number;
}

interface WsConnection {
  readonly ws: WebSocket;
  readonly ctx: RpcContext;
  readonly controller: AbortController;
  readonly bucket: TokenBucket;
  /** Messages received and not yet answered, answered one at a time in order. */
  readonly queue: { readonly text: string | undefined; readonly bytes: number }[];
  queuedBytes: number;
  processing: boolean;
  /** Answered a ping (or sent something) since the last one. */
  alive: boolean;
}

const MIB = 1024 * 1024;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

// "https://Example.org:443" and Host "example.org" are the same origin.
function sameOrigin(origin: string, hostHeader: string | undefined): boolean {
  if (hostHeader === undefined) return false;
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    return url.host === new URL(`${url.protocol}//${hostHeader}`).host;
  } catch {
    // An Origin or Host that is not a URL authority is simply not the same origin.
    return false;
  }
}

function asBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** The WebSocket transport: one start/stop lifecycle; the node starts it after the HTTP server and stops it first. */
export class RpcWsServer implements Startable {
  readonly #options: Required<RpcWsServerOptions>;
  readonly #modules: RpcWsServerModules;
  readonly #clock: () => number;
  readonly #connections = new Set<WsConnection>();
  #wss: WebSocketServer | undefined;
  #pingTimer: NodeJS.Timeout | undefined;

  constructor(options: RpcWsServerOptions, modules: RpcWsServerModules) {
    this.#options = {
      corsOrigins: options.corsOrigins ?? [],
      maxConnections: options.maxConnections ?? 256,
      maxConnectionsPerAddress: options.maxConnectionsPerAddress ?? 32,
      loopbackExempt: options.loopbackExempt ?? true,
      maxMessageBytes: options.maxMessageBytes ?? MIB,
      maxBufferedBytes: options.maxBufferedBytes ?? 4 * MIB,
      messagesPerSecond: options.messagesPerSecond ?? 100,
      messageBurst: options.messageBurst ?? 200,
      pingIntervalMs: options.pingIntervalMs ?? 30_000,
      closeTimeoutMs: options.closeTimeoutMs ?? 5_000,
    };
    for (const [name, value] of Object.entries(this.#options)) {
      if (typeof value === 'number' && !(value > 0)) throw new RangeError(`RPC WebSocket option ${name} must be positive, got ${value}`);
    }
    this.#modules = modules;
    this.#clock = modules.clock ?? Date.now;
  }

  /** Open connections. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** GET /ws without an upgrade: say how to connect instead of a 404. */
  get routes(): HttpRoute[] {
    return [
      {
        method: 'GET',
        path: WS_PATH,
        handle: (_req, res) => {
          const body = JSON.stringify({ error: { reason: 'UPGRADE_REQUIRED', message: `${WS_PATH} speaks JSON-RPC over WebSocket: connect with a WebSocket client` } });
          res.writeHead(426, { 'content-type': 'application/json; charset=utf-8', upgrade: 'websocket', connection: 'Upgrade', 'content-length': Buffer.byteLength(body) });
          res.end(body);
        },
      },
    ];
  }

  async start(): Promise<void> {
    if (this.#wss !== undefined) return;
    const o = this.#options;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: o.maxMessageBytes,
      // Compression would let a small frame inflate to maxPayload and costs CPU per message; JSON-RPC is small.
      perMessageDeflate: false,
      closeTimeout: o.closeTimeoutMs,
      clientTracking: false,
    } as ConstructorParameters<typeof WebSocketServer>[0]);
    this.#pingTimer = setInterval(() => this.#heartbeat(), o.pingIntervalMs);
    this.#pingTimer.unref();
  }

  /** Closes every connection with 1001 and waits for them (cutting those that do not answer in closeTimeoutMs). */
  async stop(): Promise<void> {
    const wss = this.#wss;
    if (wss === undefined) return;
    this.#wss = undefined;
    clearInterval(this.#pingTimer);
    const closed = [...this.#connections].map(
      (conn) =>
        new Promise<void>((resolve) => {
          if (conn.ws.readyState === WebSocket.CLOSED) return resolve();
          conn.ws.once('close', () => resolve());
          conn.controller.abort(new Error('RPC server stopping'));
          conn.ws.close(WsCloseCode.GOING_AWAY, 'node shutting down');
        }),
    );
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#options.closeTimeoutMs + 1_000);
    });
    await Promise.race([Promise.all(closed), deadline]);
    clearTimeout(timer);
    for (const conn of this.#connections) conn.ws.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }

  /** The RpcHttpServer's `onUpgrade`: checks path, Origin and capacity, then completes the WebSocket handshake. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, access: UpgradeAccess): void {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://placeholder');
    } catch {
      refuseUpgrade(socket, 400, { reason: 'BAD_REQUEST', message: 'The request target is not a valid path' });
      return;
    }
    if (url.pathname !== WS_PATH) {
      refuseUpgrade(socket, 404, { reason: 'NOT_FOUND', message: `WebSocket JSON-RPC is served at ${WS_PATH}` });
      return;
    }
    if (url.searchParams.has('token')) {
      refuseUpgrade(socket, 400, {
        reason: 'TOKEN_IN_URL',
        message: 'Send the admin token as "Authorization: Bearer <token>" on the upgrade request; a token in the URL ends up in logs and is refused',
      });
      return;
    }
    const wss = this.#wss;
    if (wss === undefined) {
      refuseUpgrade(socket, 503, { reason: RpcErrors.SHUTTING_DOWN.reason, message: 'The WebSocket transport is not running; retry later' });
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !this.#originAllowed(origin, req.headers.host)) {
      refuseUpgrade(socket, 403, {
        reason: 'ORIGIN_NOT_ALLOWED',
        message: `Origin ${origin.slice(0, 200)} may not connect; add it to the RPC CORS origins of this node's config`,
      });
      return;
    }
    const remote = req.socket.remoteAddress ?? '';
    if (!(this.#options.loopbackExempt && isLoopbackAddress(remote)) && this.#countFrom(remote) >= this.#options.maxConnectionsPerAddress) {
      refuseUpgrade(
        socket,
        503,
        { reason: 'TOO_MANY_CONNECTIONS', message: `This address already has ${this.#options.maxConnectionsPerAddress} WebSocket connections to this node` },
        { 'Retry-After': '5' },
      );
      return;
    }
    if (this.#connections.size >= this.#options.maxConnections) {
      refuseUpgrade(
        socket,
        503,
        { reason: 'TOO_MANY_CONNECTIONS', message: `This node already serves ${this.#options.maxConnections} WebSocket connections; retry later` },
        { 'Retry-After': '5' },
      );
      return;
    }
    // Synchronous unless the handshake is invalid (then ws answers 400 itself and never calls back).
    wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, req, access));
  }

  #countFrom(remote: string): number {
    let n = 0;
    for (const conn of this.#connections) if (conn.ctx.remoteAddress === remote) n++;
    return n;
  }

  #originAllowed(origin: string, host: string | undefined): boolean {
    const allowed = this.#options.corsOrigins;
    return allowed.includes('*') || allowed.includes(origin) || sameOrigin(origin, host);
  }

  #accept(ws: WebSocket, req: IncomingMessage, access: UpgradeAccess): void {
    const controller = new AbortController();
    const ctx: RpcContext = { admin: access.admin, transport: 'ws', remoteAddress: req.socket.remoteAddress, signal: controller.signal };
    const o = this.#options;
    const conn: WsConnection = {
      ws,
      ctx,
      controller,
      bucket: new TokenBucket({ ratePerSecond: o.messagesPerSecond, burst: o.messageBurst }, this.#clock()),
      queue: [],
      queuedBytes: 0,
      processing: false,
      alive: true,
    };
    this.#connections.add(conn);
    this.#modules.subscriptions?.connect(ctx, (text) => this.#send(conn, text));
    ws.on('message', (data, isBinary) => this.#onMessage(conn, data, isBinary));
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('error', (err: Error & { code?: string }) => {
      // Protocol errors (oversize message, bad frames): ws closes the connection with the matching code.
      this.#modules.logger.debug({ err: { code: err.code, message: err.message }, remote: ctx.remoteAddress }, 'WebSocket client error');
    });
    ws.on('close', (code) => {
      this.#connections.delete(conn);
      controller.abort(new Error('WebSocket closed'));
      this.#modules.subscriptions?.disconnect(ctx);
      conn.queue.length = 0;
      this.#modules.logger.debug({ code, remote: ctx.remoteAddress }, 'WebSocket connection closed');
    });
    this.#modules.logger.debug({ remote: ctx.remoteAddress, admin: ctx.admin, connections: this.#connections.size }, 'WebSocket connection opened');
  }

  #onMessage(conn: WsConnection, data: RawData, isBinary: boolean): void {
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    conn.alive = true;
    if (!conn.bucket.take(this.#clock())) {
      this.#close(conn, WsCloseCode.POLICY_VIOLATION, `rate limit: at most ${this.#options.messagesPerSecond} messages per second`);
      return;
    }
    const bytes = asBuffer(data);
    let text: string | undefined;
    if (isBinary) {
      try {
        text = UTF8.decode(bytes);
      } catch {
        // Not swallowed: answered below as a parse error, in order with the other answers.
        text = undefined;
      }
    } else {
      // ws has checked that a text frame is valid UTF-8.
      text = bytes.toString('utf8');
    }
    conn.queue.push({ text, bytes: bytes.length });
    conn.queuedBytes += bytes.length;
    // Stop reading from a client that sends faster than its requests are answered: TCP pushes back on it.
    if (conn.queuedBytes > this.#options.maxMessageBytes && !conn.ws.isPaused) conn.ws.pause();
    if (!conn.processing) void this.#drain(conn);
  }

  // Answers queued messages one at a time, in order, as POST /rpc answers a batch: a sender's transactions
  // keep their nonce order, and one connection never runs more than one request at once.
  async #drain(conn: WsConnection): Promise<void> {
    conn.processing = true;
    try {
      while (conn.queue.length > 0 && conn.ws.readyState === WebSocket.OPEN) {
        const message = conn.queue.shift()!;
        conn.queuedBytes -= message.bytes;
        if (conn.ws.isPaused && conn.queuedBytes <= this.#options.maxMessageBytes / 2) conn.ws.resume();
        const answer =
          message.text === undefined
            ? encodeErrorResponse(specError(RpcErrors.PARSE_ERROR, 'The message is not valid UTF-8'))
            : await this.#modules.dispatcher.handle(message.text, conn.ctx);
        if (answer !== undefined) this.#send(conn, answer);
        this.#modules.subscriptions?.release(conn.ctx);
      }
    } catch (error) {
      // The dispatcher answers every failure itself; reaching here is a bug, so the client learns the node failed.
      this.#modules.logger.error({ err: error }, 'WebSocket message handling failed');
      this.#close(conn, WsCloseCode.INTERNAL_ERROR, 'the node failed to process a message');
    } finally {
      conn.processing = false;
    }
  }

  #send(conn: WsConnection, text: string): void {
    const ws = conn.ws;
    if (ws.readyState !== WebSocket.OPEN) return;
    // Checked before sending, so one large answer to a reading client is fine; a client that stops reading
    // is cut once what waits for it passes the limit.
    if (ws.bufferedAmount > this.#options.maxBufferedBytes) {
      this.#close(conn, WsCloseCode.POLICY_VIOLATION, 'too slow: the client does not read what it is sent');
      return;
    }
    ws.send(text, (err) => {
      if (err !== undefined && err !== null) this.#modules.logger.debug({ err }, 'WebSocket send failed');
    });
  }

  #close(conn: WsConnection, code: number, reason: string): void {
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    this.#modules.logger.info({ code, reason, remote: conn.ctx.remoteAddress }, 'closing a WebSocket connection');
    conn.queue.length = 0;
    conn.queuedBytes = 0;
    conn.controller.abort(new Error(reason));
    conn.ws.close(code, reason);
  }

  #heartbeat(): void {
    for (const conn of this.#connections) {
      if (!conn.alive) {
        this.#modules.logger.debug({ remote: conn.ctx.remoteAddress }, 'WebSocket peer did not answer a ping; cutting it');
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      if (conn.ws.readyState === WebSocket.OPEN) conn.ws.ping();
    }
  }
}

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
function isLoopbackAddress(address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}
