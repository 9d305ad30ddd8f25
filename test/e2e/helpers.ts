// End-to-end helpers: a real `medchain dev` node serving the built app (dist/web) and its RPC on one origin,
// headless Chromium (Debian's package, driven by playwright-core), a record of every request and WebSocket
// frame the page sends (for the privacy checks), console and CSP errors, and screenshots as test artifacts.
//
// The app must be built first: `npm test` runs `npm run build` before vitest. Running vitest alone against a
// stale build would test old code, so `assertAppBuilt` refuses when any source is newer than dist/web.

import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startDevNode, type DevNode } from '../helpers/process.ts';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const WEB_DIST = join(REPO, 'dist/web');
export const SCREENSHOTS = join(REPO, 'test-results/screenshots');
export const CHROMIUM = process.env.MEDCHAIN_CHROMIUM ?? '/usr/bin/chromium';

/** What the page sent: every HTTP request and every WebSocket frame, with bodies. */
export interface SentRequest {
  readonly kind: 'http' | 'ws';
  readonly url: string;
  readonly method: string;
  readonly body: string;
  readonly resourceType: string;
}

export const MOBILE = { width: 390, height: 844 } as const;
export const DESKTOP = { width: 1280, height: 900 } as const;

/** The newest modification time of the files under `path` that end up in the bundle (not docs, not tsconfig). */
function newestMtime(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return /\.(tsx?|css|html|svg|json)$/.test(path) && !path.endsWith('tsconfig.json') ? info.mtimeMs : 0;
  return Math.max(0, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/** Throws unless dist/web exists and is newer than everything it is built from. */
export function assertAppBuilt(): void {
  const index = join(WEB_DIST, 'index.html');
  if (!existsSync(index)) throw new Error('dist/web/index.html is missing: run `npm run build` (npm test does it) before the e2e tests');
  const built = statSync(index).mtimeMs;
  const sources = ['src/web', 'src/client', 'src/envelope', 'src/codec', 'src/crypto', 'src/script', 'src/types', 'config/vite.config.ts'];
  for (const source of sources) {
    if (newestMtime(join(REPO, source)) > built) throw new Error(`${source} changed after dist/web was built: run \`npm run build\` (npm test does it) before the e2e tests`);
  }
}

/** A dev node serving the app; `origin` is where the page lives (and its /rpc, /ws). */
export interface AppNode extends DevNode {
  readonly origin: string;
}

export async function startAppNode(prefix: string): Promise<AppNode> {
  assertAppBuilt();
  const node = await startDevNode(prefix);
  return { ...node, origin: new URL(node.url).origin };
}

export interface BrowserSession {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Everything the page sent so far. */
  readonly sent: SentRequest[];
  /** Console errors, uncaught exceptions and CSP violations; a clean run has none. */
  readonly problems: string[];
  close(): Promise<void>;
}

/**
 * Headless Chromium with a fresh profile (so storage starts empty), no background networking (this network is
 * closed), recording what the page sends and every error it logs.
 */
export async function openBrowser(options: { viewport?: { width: number; height: number } } = {}): Promise<BrowserSession> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set MEDCHAIN_CHROMIUM)`);
  const profile = await mkdtemp(join(tmpdir(), 'medchain-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: options.viewport ?? MOBILE,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    acceptDownloads: true,
  });
  const sent: SentRequest[] = [];
  const problems: string[] = [];
  context.on('request', (request) => {
    sent.push({ kind: 'http', url: request.url(), method: request.method(), body: request.postData() ?? '', resourceType: request.resourceType() });
  });
  const watch = (page: Page): void => {
    page.on('console', (message) => {
      if (message.type() === 'error' || /Content Security Policy|Refused to/i.test(message.text())) problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
    page.on('websocket', (socket) => {
      socket.on('framesent', (frame) => sent.push({ kind: 'ws', url: socket.url(), method: 'FRAME', body: typeof frame.payload === 'string' ? frame.payload : frame.payload.toString('latin1'), resourceType: 'websocket' }));
    });
  };
  context.on('page', watch);
  const page = context.pages()[0] ?? (await context.newPage());
  watch(page);
  return {
    context,
    page,
    sent,
    problems,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot to test-results/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  // From the top: a sticky header would otherwise be drawn where the page happened to be scrolled.
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path, fullPage: true });
  // Every page must be usable on a phone: nothing wider than the viewport, so no sideways scrolling.
  const [scrollWidth, viewport] = (await page.evaluate('[document.documentElement.scrollWidth, window.innerWidth]')) as [number, number];
  if (scrollWidth > viewport) throw new Error(`${name}: the page is ${scrollWidth} px wide in a ${viewport} px viewport (it scrolls sideways)`);
  return path;
}

/** The forms a secret could take on the wire: as given, hex, base64 (standard and URL-safe). */
function encodings(secret: string | Uint8Array): string[] {
  if (typeof secret === 'string') return [secret, encodeURIComponent(secret)];
  const bytes = Buffer.from(secret);
  return [bytes.toString('hex'), bytes.toString('base64').replace(/=+$/, ''), bytes.toString('base64url')];
}

/**
 * The requests (and WebSocket frames) that contain any of `secrets` in their URL or body, in any of the
 * encodings above. A private key, a passphrase or a plaintext record must never be among them.
 */
export function leaks(sent: readonly SentRequest[], secrets: readonly (string | Uint8Array)[]): string[] {
  const found: string[] = [];
  for (const secret of secrets) {
    for (const form of encodings(secret)) {
      if (form.length < 8) throw new Error('a secret to look for must be at least 8 characters in every encoding');
      const needle = form.toLowerCase();
      for (const request of sent) {
        if (request.url.toLowerCase().includes(needle) || request.body.toLowerCase().includes(needle)) found.push(`${request.kind} ${request.method} ${request.url} carries ${form.slice(0, 12)}…`);
      }
    }
  }
  return found;
}

/** Every request went to `origin` (the node) and nowhere else. */
export function foreignRequests(sent: readonly SentRequest[], origin: string): string[] {
  const wsOrigin = origin.replace(/^http/, 'ws');
  return sent.filter((r) => !(r.url.startsWith(`${origin}/`) || r.url.startsWith(`${wsOrigin}/`) || r.url.startsWith('blob:') || r.url.startsWith('data:'))).map((r) => `${r.method} ${r.url}`);
}
