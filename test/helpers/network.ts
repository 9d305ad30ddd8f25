/**
 * Real multi-process networks on 127.0.0.1 for integration tests: each node a `medchain start` process with
 * its own datadir, validator key and libp2p key, a shared genesis, and bootstrap lists naming the others.
 * Tests control every process (SIGKILL, SIGSTOP, restart) and partition them through admin_removePeer.
 */
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '../../src/codec/bytes.ts';
import type { KeyPair } from '../../src/crypto/ed25519.ts';
import { createKey } from '../../src/keys/keystore.ts';
import { loadOrCreatePeerKey } from '../../src/p2p/peerKey.ts';
import { killHard, rpc, rpcResult, sleep, spawnCli, waitFor, type CliProcess } from './process.ts';

/** PoW test networks aim at this block interval (about 1 MH/s per core here: 2 cores, a few hundred ms). */
export const POW_TARGET_MS = 500;

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface NetNode {
  readonly name: string;
  readonly datadir: string;
  readonly key: KeyPair | undefined;
  readonly peerId: string;
  readonly p2pPort: number;
  readonly rpcPort: number;
  readonly rpcUrl: string;
  readonly p2pAddress: string;
  proc: CliProcess | undefined;
}

export interface TestNetwork {
  readonly dir: string;
  readonly genesisPath: string;
  readonly nodes: NetNode[];
  start(node: NetNode, options?: { bootstrap?: readonly NetNode[]; args?: readonly string[] }): Promise<void>;
  /** SIGKILL. */
  kill(node: NetNode): Promise<void>;
  /** SIGTERM and wait (a clean stop). */
  stop(node: NetNode): Promise<void>;
  /** Adds a follower (no validator key) with the same genesis, bootstrapped to `peers`. */
  /** A node without a validator key; `args` are added to its `medchain start` command line. */
  addFollower(name: string, peers: readonly NetNode[], args?: readonly string[]): Promise<NetNode>;
  close(): Promise<void>;
}

export interface NetworkSpec {
  readonly validators: number;
  readonly engine: 'pos' | 'pow';
  readonly consensus?: Record<string, unknown>;
  /** Extra hospital fields (balance...) and accounts. */
  readonly accounts?: readonly { id: string; role: 'patient' | 'doctor' }[];
  readonly logLevel?: string;
}

/** A port free on 127.0.0.1 right now (the OS picks it; a test binds it moments later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function layoutNode(dir: string, name: string, validator: boolean): Promise<NetNode> {
  const datadir = join(dir, name);
  await mkdir(datadir, { recursive: true, mode: 0o700 });
  const key = validator ? (await createKey(datadir, 'validator')).keyPair : undefined;
  // The node loads this same key at start: its peer id is known before it runs, for the others' bootstrap lists.
  const peerId = peerIdFromPrivateKey(await loadOrCreatePeerKey(datadir)).toString();
  const p2pPort = await freePort();
  const rpcPort = await freePort();
  return {
    name,
    datadir,
    key,
    peerId,
    p2pPort,
    rpcPort,
    rpcUrl: `http://127.0.0.1:${rpcPort}/rpc`,
    p2pAddress: `/ip4/127.0.0.1/tcp/${p2pPort}/p2p/${peerId}`,
    proc: undefined,
  };
}

export async function createTestNetwork(spec: NetworkSpec): Promise<TestNetwork> {
  const dir = await mkdtemp(join(tmpdir(), `medchain-net-${spec.engine}-`));
  const nodes: NetNode[] = [];
  for (let i = 0; i < spec.validators; i++) nodes.push(await layoutNode(dir, `hospital-${i + 1}`, true));
  const consensus =
    spec.consensus ?? (spec.engine === 'pos' ? { engine: 'pos', slotMs: 1000 } : { engine: 'pow', targetBlockMs: POW_TARGET_MS, initialDifficulty: 500_000, minDifficulty: 1000, retargetWindow: 8 });
  const genesisPath = join(dir, 'genesis.json');
  await writeFile(
    genesisPath,
    JSON.stringify({
      chainId: 'medchain-net',
      // Slots count from here: a little in the past so the first slot is now.
      time: Math.floor(Date.now() / 1000) * 1000,
      consensus,
      hospitals: nodes.map((n, i) => ({ id: toHex(n.key!.publicKey), name: `Hospital ${i + 1}`, stake: 1000, balance: 1000 })),
      accounts: spec.accounts ?? [],
    }),
  );

  async function start(node: NetNode, options: { bootstrap?: readonly NetNode[]; args?: readonly string[] } = {}): Promise<void> {
    const peers = options.bootstrap ?? nodes.filter((n) => n !== node);
    const args = [
      'start',
      '--datadir', node.datadir,
      '--genesis', genesisPath,
      '--rpc-port', String(node.rpcPort),
      '--p2p-listen', `/ip4/127.0.0.1/tcp/${node.p2pPort}`,
      '--log-format', 'json',
      '--log-level', spec.logLevel ?? 'info',
      ...(peers.length > 0 ? ['--bootstrap', peers.map((p) => p.p2pAddress).join(',')] : []),
      ...(node.key !== undefined ? ['--validator-key', 'validator'] : []),
      ...(options.args ?? []),
    ];
    node.proc = spawnCli(args, { env: { ...process.env, MEDCHAIN_RPC_ADMIN_TOKEN: ADMIN_TOKEN } });
    await waitFor(`${node.name} answering RPC`, async () => ((await rpc(node.rpcUrl, 'chain_getHead').catch(() => undefined))?.result !== undefined ? true : undefined), 30_000, 100);
  }

  return {
    dir,
    genesisPath,
    nodes,
    start,
    async kill(node) {
      if (node.proc?.running) await killHard(node.proc);
      node.proc = undefined;
    },
    async stop(node) {
      if (node.proc?.running) {
        node.proc.child.kill('SIGTERM');
        await node.proc.exited;
      }
      node.proc = undefined;
    },
    async addFollower(name, peers, args = []) {
      const node = await layoutNode(dir, name, false);
      nodes.push(node);
      await start(node, { bootstrap: peers, args });
      return node;
    },
    async close() {
      for (const node of nodes) {
        if (node.proc?.running) {
          node.proc.child.kill('SIGCONT');
          await killHard(node.proc);
        }
      }
      await sleep(50);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface HeadInfo {
  readonly height: number;
  readonly hash: string;
  readonly finalizedHeight: number;
}

/** chain_getHead of a node. */
export async function headOf(node: NetNode): Promise<HeadInfo> {
  const head = await rpcResult<Record<string, unknown>>(node.rpcUrl, 'chain_getHead');
  const finality = await rpcResult<{ finalized: { height: number } }>(node.rpcUrl, 'chain_getFinality');
  return { height: Number(head.height), hash: String(head.hash), finalizedHeight: finality.finalized.height };
}

/** The canonical block hash at `height` on a node, or undefined. */
export async function blockHashAt(node: NetNode, height: number): Promise<string | undefined> {
  const answer = await rpc(node.rpcUrl, 'chain_getBlock', [height]);
  const block = answer.result as { header: { hash: string } } | null | undefined;
  return block === null || block === undefined ? undefined : block.header.hash;
}

/** An admin RPC call (the test network's nodes share ADMIN_TOKEN). */
export async function adminCall(node: NetNode, method: string, params: unknown[]): Promise<unknown> {
  const response = await fetch(node.rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (body.error !== undefined) throw new Error(`${method} on ${node.name}: ${body.error.message}`);
  return body.result;
}

/** Cuts every connection between the two groups, both ways, until heal(). */
export async function partition(a: readonly NetNode[], b: readonly NetNode[]): Promise<void> {
  for (const x of a) for (const y of b) await adminCall(x, 'admin_removePeer', [y.peerId]);
  for (const y of b) for (const x of a) await adminCall(y, 'admin_removePeer', [x.peerId]);
}

export async function heal(a: readonly NetNode[], b: readonly NetNode[]): Promise<void> {
  for (const x of a) for (const y of b) await adminCall(x, 'admin_addPeer', [y.p2pAddress]).catch(() => undefined);
  for (const y of b) for (const x of a) await adminCall(y, 'admin_addPeer', [x.p2pAddress]).catch(() => undefined);
}

/** Waits until every node's canonical block at `height` is the same block; returns its hash. */
export async function agreeAt(list: readonly NetNode[], height: number, timeoutMs = 30_000): Promise<string> {
  return waitFor(
    `agreement at height ${height}`,
    async () => {
      const hashes = await Promise.all(list.map((n) => blockHashAt(n, height)));
      return hashes.every((h) => h !== undefined && h === hashes[0]) ? hashes[0] : undefined;
    },
    timeoutMs,
    200,
  );
}
