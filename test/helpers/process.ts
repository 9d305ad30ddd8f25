import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';

/** Node 24: the test runner's own node when it is 24 or later, else the one the project pins in node_modules. */
export const NODE_BIN: string =
  Number(process.versions.node.split('.')[0]) >= 24 ? process.execPath : fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url));

/** The `medchain` executable's entry point. */
export const CLI_MAIN: string = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** The repository root, for scanning responses for leaked paths. */
export const REPO_ROOT: string = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running `medchain` process with its output collected line by line. */
export interface CliProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly stdout: string[];
  readonly stderr: string[];
  /** Resolves with the first line (stdout or stderr) matching `predicate`; rejects on exit or after `timeoutMs`. */
  waitForLine(predicate: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Resolves with the first JSON log line on stdout whose `msg` is `msg` (needs --log-format json). */
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves once the process has exited and its pipes are drained. */
  readonly exited: Promise<Exit>;
  /** True until the process has exited. */
  readonly running: boolean;
  /** All output so far, for failure messages. */
  output(): string;
}

const live = new Set<ChildProcess>();

/** Parses a JSON log line; undefined for anything else (pretty text, banners). */
export function parseLogLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/** Spawns `node src/cli/main.ts ...args` with Node 24; every child is tracked for killAll. */
export function spawnCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): CliProcess {
  const child = spawn(NODE_BIN, [CLI_MAIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: options.cwd,
    // No MEDCHAIN_* settings leak in from the developer's shell.
    env: { ...withoutMedchainVars(process.env), ...options.env },
  });
  if (child.pid === undefined) throw new Error(`could not spawn ${NODE_BIN}`);
  live.add(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters: Array<{ predicate: (line: string) => boolean; resolve: (line: string) => void }> = [];
  let running = true;
  const onLine = (line: string): void => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i]!.predicate(line)) waiters.splice(i, 1)[0]!.resolve(line);
    }
  };
  const collect = (stream: NodeJS.ReadableStream, lines: string[]): void => {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        onLine(line);
      }
    });
    stream.on('end', () => {
      if (partial !== '') {
        lines.push(partial);
        onLine(partial);
      }
    });
  };
  collect(child.stdout!, stdout);
  collect(child.stderr!, stderr);
  const exited = new Promise<Exit>((resolve) => {
    child.on('close', (code, signal) => {
      running = false;
      live.delete(child);
      resolve({ code, signal });
    });
  });
  const output = (): string => `--- stdout\n${stdout.join('\n')}\n--- stderr\n${stderr.join('\n')}`;
  const waitForLine = (predicate: (line: string) => boolean, timeoutMs = 20_000): Promise<string> => {
    const seen = [...stdout, ...stderr].find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching line within ${timeoutMs} ms\n${output()}`)), timeoutMs);
      waiters.push({
        predicate,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`process exited (code ${code}, signal ${signal}) before the expected line\n${output()}`));
      });
    });
  };
  return {
    child,
    pid: child.pid,
    stdout,
    stderr,
    exited,
    get running() {
      return running;
    },
    output,
    waitForLine,
    async waitForLog(msg, timeoutMs) {
      const line = await waitForLine((l) => parseLogLine(l)?.msg === msg, timeoutMs);
      return parseLogLine(line)!;
    },
  };
}

/** Runs a medchain command to completion; rejects if it takes longer than `timeoutMs` (and kills it). */
export async function runCliToEnd(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const proc = spawnCli(args, options);
  const timeoutMs = options.timeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      proc.child.kill('SIGKILL');
      reject(new Error(`medchain ${args.join(' ')} did not finish within ${timeoutMs} ms\n${proc.output()}`));
    }, timeoutMs);
  });
  try {
    const { code, signal } = await Promise.race([proc.exited, timedOut]);
    return { code, signal, stdout: proc.stdout.join('\n'), stderr: proc.stderr.join('\n') };
  } finally {
    clearTimeout(timer);
  }
}

/** SIGKILLs every child spawned here that is still running and waits for them to go. */
export async function killAll(): Promise<void> {
  const children = [...live];
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(children.map((child) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('close', () => resolve())))));
}

/** SIGKILLs one process and waits until it is gone (its LevelDB lock is released by the OS then). */
export async function killHard(proc: CliProcess): Promise<Exit> {
  if (proc.running) proc.child.kill('SIGKILL');
  return proc.exited;
}

function withoutMedchainVars(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) if (!key.startsWith('MEDCHAIN_')) out[key] = value;
  return out;
}

/** The RPC URL a node logged in its 'JSON-RPC listening' line (start it with --log-format json). */
export async function rpcUrlOf(proc: CliProcess, timeoutMs = 20_000): Promise<string> {
  const log = await proc.waitForLog('JSON-RPC listening', timeoutMs);
  if (typeof log.url !== 'string') throw new Error(`the 'JSON-RPC listening' log line has no url: ${JSON.stringify(log)}`);
  return log.url;
}

export interface RawResponse {
  readonly status: number;
  readonly text: string;
}

/**
 * POSTs `body` as is to `url`; returns status and text. Uses node:http rather than fetch: a server may answer
 * an oversize body early and close the connection, and the answer must still be read (fetch fails with EPIPE).
 * With `expectContinue` the body is sent only once the server asks for it (`Expect: 100-continue`).
 */
export function postRaw(url: string, body: string | Uint8Array, options: { headers?: Record<string, string>; expectContinue?: boolean } = {}): Promise<RawResponse> {
  return new Promise<RawResponse>((resolve, reject) => {
    const payload = typeof body === 'string' ? Buffer.from(body) : body;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(payload.length), ...options.headers };
    if (options.expectContinue === true) headers.expect = '100-continue';
    let answered = false;
    const req = request(url, { method: 'POST', headers, timeout: 10_000 }, (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, text });
        // An answer that came before the server asked for the body: nothing more to send.
        if (options.expectContinue === true) req.destroy();
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within 10 s`)));
    req.on('error', (error: NodeJS.ErrnoException) => {
      // Once the answer has started, a failed upload (EPIPE, ECONNRESET) is the server closing on an oversize body.
      if (answered && (error.code === 'EPIPE' || error.code === 'ECONNRESET')) return;
      reject(error);
    });
    if (options.expectContinue === true) req.on('continue', () => req.end(payload));
    else req.end(payload);
  });
}

export interface RpcResponse {
  readonly result?: unknown;
  readonly error?: { code: number; message: string; data?: { reason?: string; [key: string]: unknown } };
  readonly id?: unknown;
}

/** One JSON-RPC call; returns the whole response object (result or error). */
export async function rpc(url: string, method: string, params: unknown[] = []): Promise<RpcResponse> {
  const { text } = await postRaw(url, JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }));
  return JSON.parse(text) as RpcResponse;
}

/** One JSON-RPC call that must succeed; returns its result. */
export async function rpcResult<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const response = await rpc(url, method, params);
  if (response.error !== undefined) throw new Error(`${method} failed: ${JSON.stringify(response.error)}`);
  return response.result as T;
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** mulberry32: a tiny seeded PRNG, so a failing schedule can be replayed from its seed. */
export { mulberry32 } from '../../bench/lib/random.ts';

/** A `medchain dev` node on a fresh temporary datadir, RPC on a free port; `stop` kills it and removes the datadir. */
export interface DevNode {
  readonly dir: string;
  readonly node: CliProcess;
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts a dev chain process (PoS, LevelDB, demo accounts) and waits for its RPC address. */
export async function startDevNode(prefix: string): Promise<DevNode> {
  const dir = await mkdtemp(join(tmpdir(), `medchain-${prefix}-`));
  const node = spawnCli(['dev', '--datadir', dir, '--rpc-port', '0', '--log-format', 'json']);
  const url = await rpcUrlOf(node);
  return {
    dir,
    node,
    url,
    async stop() {
      await killAll();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
