// The built browser app (web/ -> dist/web), served at `/` on the RPC port: GET and HEAD only, index.html for
// client-side routes (SPA fallback), hashed assets cached for a year, and a strict CSP on every response.

import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { HttpRoute } from './httpServer.ts';

/** `<repo>/dist/web`, where `npm run build` puts the browser app. */
export const DEFAULT_WEB_ROOT: string = fileURLToPath(new URL('../../dist/web', import.meta.url));

/** Paths that belong to the node, never to the app: no SPA fallback on them or under them. */
export const RESERVED_PATHS: readonly string[] = ['/rpc', '/ws', '/metrics', '/health', '/ready'];

/** Under this folder every file name carries a content hash, so it may be cached for good. */
export const ASSETS_PREFIX = '/assets/';

/**
 * The app's CSP: everything from the node itself, no inline script or style anywhere (the app must not need
 * them), no plugins, no framing. `connect-src 'self'` also covers ws:// to the same host in current browsers.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Sent with every response of the web app, errors included. */
export const WEB_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
});

const IMMUTABLE = 'public, max-age=31536000, immutable';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.map': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

/** The content type sent for a file name (by extension); unknown ones are plain bytes. */
export function contentTypeOf(fileName: string): string {
  return CONTENT_TYPES[extname(fileName).toLowerCase()] ?? 'application/octet-stream';
}

// No script, no style attribute: it must render under the CSP above.
const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>medchain</title></head>
<body>
<h1>medchain</h1>
<p>This node serves the medchain web app here, but the app has not been built.</p>
<p>Run <code>npm run build</code> in the medchain repository, then reload this page.</p>
<p>JSON-RPC is served at <code>POST /rpc</code> and over WebSocket at <code>/ws</code>.</p>
</body>
</html>
`;

export interface StaticFilesOptions {
  /** The folder holding index.html and assets/. Default `<repo>/dist/web`. */
  readonly root?: string;
  /** Paths left to the node (no fallback on or under them). Default RESERVED_PATHS. */
  readonly reservedPaths?: readonly string[];
}

export interface StaticFilesModules {
  readonly logger: Pick<Logger, 'debug' | 'warn'>;
}

/** Why a request path cannot name a file: 400 for paths no browser sends, 404 for hidden or reserved names. */
type Resolved = { readonly kind: 'file'; readonly relative: string } | { readonly kind: 'refused'; readonly status: 400 | 404; readonly message: string };

/**
 * Maps a request path to a path relative to the root, or refuses it. Decodes once; refuses NUL, backslashes,
 * `.` and `..` segments (encoded or not), and hidden names (`.env`, `.git`).
 */
export function resolveRequestPath(urlPath: string): Resolved {
  if (!urlPath.startsWith('/')) return { kind: 'refused', status: 400, message: 'The request path must start with /' };
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return { kind: 'refused', status: 400, message: 'The request path is not valid percent-encoding' };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) {
    return { kind: 'refused', status: 400, message: 'The request path contains a NUL or a backslash' };
  }
  // Empty segments (`//etc/passwd`, `/a//b`) are dropped: a path never becomes absolute.
  const segments = decoded.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) {
    return { kind: 'refused', status: 400, message: 'The request path may not contain . or .. segments' };
  }
  if (segments.some((s) => s.startsWith('.'))) return { kind: 'refused', status: 404, message: 'Not found' };
  return { kind: 'file', relative: segments.join('/') };
}

function isReserved(path: string, reserved: readonly string[]): boolean {
  return reserved.some((r) => path === r || path.startsWith(`${r}/`));
}

/** The last segment has an extension: the request is for a file, not a client-side route. */
function namesAFile(path: string): boolean {
  const last = path.slice(path.lastIndexOf('/') + 1);
  return last.includes('.');
}

function inside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);
}

interface FoundFile {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** The routes (GET and HEAD on `/` and everything under it) that serve the built web app. */
export function staticFileRoutes(options: StaticFilesOptions, modules: StaticFilesModules): HttpRoute[] {
  const root = resolve(options.root ?? DEFAULT_WEB_ROOT);
  const reserved = options.reservedPaths ?? RESERVED_PATHS;
  const { logger } = modules;

  // A regular file inside the root, symlinks resolved (a link may not lead out of it); undefined otherwise.
  async function findFile(relative: string): Promise<FoundFile | undefined> {
    const candidate = resolve(root, relative);
    if (!inside(root, candidate)) return undefined;
    try {
      const [realRoot, real] = await Promise.all([realpath(root), realpath(candidate)]);
      if (!inside(realRoot, real)) {
        logger.warn({ path: relative }, 'refused a web file that links outside the web root');
        return undefined;
      }
      const info = await stat(real);
      return info.isFile() ? { path: real, size: info.size, mtimeMs: info.mtimeMs } : undefined;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG') return undefined;
      throw error;
    }
  }

  function sendText(res: ServerResponse, status: number, contentType: string, body: string, head: boolean): void {
    res.writeHead(status, { ...WEB_SECURITY_HEADERS, 'content-type': contentType, 'cache-control': 'no-cache', 'content-length': Buffer.byteLength(body) });
    res.end(head ? undefined : body);
  }

  async function sendFile(req: IncomingMessage, res: ServerResponse, file: FoundFile, cacheControl: string, head: boolean): Promise<void> {
    const etag = `W/"${file.size.toString(16)}-${Math.floor(file.mtimeMs).toString(16)}"`;
    const headers = { ...WEB_SECURITY_HEADERS, 'content-type': contentTypeOf(file.path), 'cache-control': cacheControl, etag };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers).end();
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': file.size });
    if (head) {
      res.end();
      return;
    }
    try {
      await pipeline(createReadStream(file.path), res);
    } catch (error) {
      // Usually the browser went away mid-file; the response is cut either way.
      logger.debug({ err: error, path: file.path }, 'web file transfer ended early');
      res.destroy();
    }
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const head = req.method === 'HEAD';
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const resolved = resolveRequestPath(path);
    if (resolved.kind === 'refused') {
      sendText(res, resolved.status, 'text/plain; charset=utf-8', `${resolved.message}\n`, head);
      return;
    }
    const decoded = `/${resolved.relative}`;
    if (isReserved(decoded, reserved)) {
      sendText(res, 404, 'text/plain; charset=utf-8', "Not found: this path belongs to the node's API\n", head);
      return;
    }
    const isAsset = `${decoded}/`.startsWith(ASSETS_PREFIX);
    const isFile = namesAFile(decoded);
    if (isFile) {
      const file = await findFile(resolved.relative);
      if (file !== undefined) {
        await sendFile(req, res, file, isAsset ? IMMUTABLE : 'no-cache', head);
        return;
      }
    }
    // A missing file (or a hashed asset that no longer exists) is a 404, never the app's HTML.
    if (isAsset || isFile) {
      sendText(res, 404, 'text/plain; charset=utf-8', 'Not found\n', head);
      return;
    }
    const index = await findFile('index.html');
    if (index === undefined) {
      sendText(res, 404, 'text/html; charset=utf-8', NOT_BUILT_PAGE, head);
      return;
    }
    await sendFile(req, res, index, 'no-cache', head);
  }

  return [
    { method: 'GET', path: '/', prefix: true, handle: serve },
    { method: 'HEAD', path: '/', prefix: true, handle: serve },
  ];
}
