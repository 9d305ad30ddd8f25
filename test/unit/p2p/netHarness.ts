import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { Libp2pNetwork } from '../../../src/p2p/libp2pNetwork.ts';
import type { NetworkLimitOverrides, PeerScoringOptions } from '../../../src/p2p/options.ts';
import { ToyChain, toyHandlers } from './toyChain.ts';

export const CHAIN_ID = 'p2p-test';

/** A pino logger that keeps its lines for assertions (and prints them when P2P_TEST_LOG is set). */
export function memoryLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        lines.push(JSON.parse(line) as Record<string, unknown>);
        if (process.env.P2P_TEST_LOG) process.stderr.write(`${line}\n`);
      }
      done();
    },
  });
  return { logger: pino({ level: process.env.P2P_TEST_LOG ?? 'debug' }, sink), lines };
}

export interface TestNode {
  readonly net: Libp2pNetwork;
  readonly chain: ToyChain;
  readonly handlers: ReturnType<typeof toyHandlers>;
  readonly lines: Array<Record<string, unknown>>;
  readonly datadir: string;
  /** Moves this node's clock forward (ban expiry, decay). */
  advance(ms: number): void;
}

export interface TestNodeOptions {
  chain?: ToyChain;
  datadir?: string;
  listen?: string[];
  bootstrap?: string[];
  limits?: NetworkLimitOverrides;
  scoring?: Partial<PeerScoringOptions>;
  maxPeers?: number;
}

/** Starts Libp2pNetwork instances on 127.0.0.1 and stops them (and deletes their datadirs) in `stopAll`. */
export class Harness {
  readonly #nodes: TestNode[] = [];
  readonly #dirs: string[] = [];

  async tempDir(): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), 'medchain-p2p-'));
    this.#dirs.push(dir);
    return dir;
  }

  async start(options: TestNodeOptions = {}): Promise<TestNode> {
    const chain = options.chain ?? new ToyChain();
    const handlers = toyHandlers(chain);
    const { logger, lines } = memoryLogger();
    const datadir = options.datadir ?? (await this.tempDir());
    let offset = 0;
    const net = new Libp2pNetwork(
      {
        chainId: CHAIN_ID,
        genesisHash: chain.genesisHash,
        datadir,
        listen: options.listen ?? ['/ip4/127.0.0.1/tcp/0'],
        bootstrap: options.bootstrap ?? [],
        maxPeers: options.maxPeers ?? 20,
        limits: options.limits,
        scoring: options.scoring,
      },
      { handlers, logger, clock: () => Date.now() + offset },
    );
    await net.start();
    const node: TestNode = { net, chain, handlers, lines, datadir, advance: (ms) => { offset += ms; } };
    this.#nodes.push(node);
    return node;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.#nodes.splice(0).map((node) => node.net.stop()));
    await Promise.all(this.#dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

/** Polls `condition` every 20 ms until it holds, failing with `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function connected(a: TestNode, b: TestNode): boolean {
  return a.net.peers().some((peer) => peer.id === b.net.peerId);
}

export function hasLine(node: TestNode, pattern: RegExp): boolean {
  return node.lines.some((line) => pattern.test(String(line.msg)));
}
