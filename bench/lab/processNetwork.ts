/**
 * The consensus lab's network: N `medchain start` processes on 127.0.0.1, laid out by the integration tests'
 * helper (datadirs, libp2p keys, free ports, bootstrap lists), with the lab's own validator keys (derived from
 * the seed, so the workload can be signed before anything starts) and genesis (the workload's patients and
 * doctors as accounts, equal stakes), and each node started with `--added-delay-ms` when a delay is asked for.
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { createKey } from '../../src/keys/keystore.ts';
import type { KeyPair } from '../../src/crypto/ed25519.ts';
import { toHex } from '../../src/codec/bytes.ts';
import { POW_TARGET_MS, createTestNetwork, type NetNode, type TestNetwork } from '../../test/helpers/network.ts';
import { parseLogLine, rpc, rpcResult, sleep, spawnCli, waitFor } from '../../test/helpers/process.ts';
import { parseProcSample, type LabProduced, type ProcessSample } from './processAnalysis.ts';
import { LAB_CHAIN_ID } from './processWorkload.ts';

/** The key name the lab's validator key is stored under in each datadir (the helper's own stays unused). */
const LAB_KEY_NAME = 'lab-validator';
export const LAB_STAKE = 1000;

export interface LabNetworkSpec {
  readonly engine: 'pos' | 'pow';
  readonly hospitals: readonly KeyPair[];
  readonly accounts: readonly { readonly id: string; readonly role: 'patient' | 'doctor' }[];
  readonly slotMs: number;
  readonly powTargetMs: number;
  readonly delayMs: number;
}

export interface LabNetwork {
  readonly net: TestNetwork;
  readonly nodes: readonly NetNode[];
  readonly genesisTime: number;
  readonly consensus: Record<string, unknown>;
  /** SIGTERM every node, SIGKILL what is left after 5 s, remove the datadirs. Safe to call twice. */
  close(): Promise<void>;
}

/** The lab's PoW retarget: an EMA over this many blocks (the simulator check uses the same). */
export const LAB_RETARGET_WINDOW = 8;

/** PoW parameters of the integration tests' networks, aimed at `targetMs`. */
export function powConsensus(targetMs: number): Record<string, unknown> {
  // The helper's difficulty suits POW_TARGET_MS; scale it so the first blocks come near the target.
  return { engine: 'pow', targetBlockMs: targetMs, initialDifficulty: Math.max(1000, Math.round((500_000 * targetMs) / POW_TARGET_MS)), minDifficulty: 1000, retargetWindow: LAB_RETARGET_WINDOW };
}

/** The lab's genesis: its validators as hospitals with equal stake, the workload's patients and doctors as accounts. */
export function labGenesis(spec: Pick<LabNetworkSpec, 'hospitals' | 'accounts'>, consensus: Record<string, unknown>, time: number): Record<string, unknown> {
  return {
    chainId: LAB_CHAIN_ID,
    time,
    consensus,
    hospitals: spec.hospitals.map((h, i) => ({ id: toHex(h.publicKey), name: `Lab Hospital ${i + 1}`, stake: LAB_STAKE, balance: LAB_STAKE })),
    accounts: spec.accounts,
  };
}

export async function startLabNetwork(spec: LabNetworkSpec, signal?: AbortSignal): Promise<LabNetwork> {
  const validators = spec.hospitals.length;
  const consensus = spec.engine === 'pos' ? { engine: 'pos', slotMs: spec.slotMs } : powConsensus(spec.powTargetMs);
  const net = await createTestNetwork({ validators, engine: spec.engine, consensus });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await Promise.race([Promise.all(net.nodes.map((node) => net.stop(node))), sleep(5_000)]);
      await net.close();
    })());
  try {
    for (const [i, node] of net.nodes.entries()) await createKey(node.datadir, LAB_KEY_NAME, spec.hospitals[i]!.seed);
    // Slots count from here: the first slot starts now.
    const genesisTime = Math.floor(Date.now() / 1000) * 1000;
    await writeFile(net.genesisPath, JSON.stringify(labGenesis(spec, consensus, genesisTime)));
    await Promise.all(net.nodes.map((node) => startLabNode(net, node, spec.delayMs)));
    if (signal?.aborted) throw new Error('interrupted');
    return { net, nodes: net.nodes, genesisTime, consensus, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** `medchain start` for one node, as the helper starts it, plus the lab's key and delay. */
async function startLabNode(net: TestNetwork, node: NetNode, delayMs: number): Promise<void> {
  const peers = net.nodes.filter((n) => n !== node);
  const args = [
    'start',
    '--datadir', node.datadir,
    '--genesis', net.genesisPath,
    '--rpc-port', String(node.rpcPort),
    '--p2p-listen', `/ip4/127.0.0.1/tcp/${node.p2pPort}`,
    '--log-format', 'json',
    '--log-level', 'info',
    '--bootstrap', peers.map((p) => p.p2pAddress).join(','),
    '--validator-key', LAB_KEY_NAME,
    ...(delayMs > 0 ? ['--added-delay-ms', String(delayMs)] : []),
  ];
  node.proc = spawnCli(args);
  const proc = node.proc;
  await waitFor(
    `${node.name} answering RPC`,
    async () => {
      if (!proc.running) throw new Error(`${node.name} exited during start:\n${proc.output().slice(-2000)}`);
      return (await rpc(node.rpcUrl, 'chain_getHead').catch(() => undefined))?.result !== undefined ? true : undefined;
    },
    30_000,
    100,
  );
}

/**
 * Keep-alive connections to the nodes that are dropped after 1 s idle: the node's RPC server closes idle
 * connections after 5 s, and reusing one it is closing fails with "socket hang up".
 */
const labAgent = new Agent({ keepAlive: true, timeout: 1_000, maxSockets: 32 });

/** POSTs a JSON body to a node's RPC URL; resolves with the response text (any status). */
export function labPost(url: string, body: string, timeoutMs = 60_000): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = Buffer.from(body);
    const req = request(url, { method: 'POST', agent: labAgent, headers: { 'content-type': 'application/json', 'content-length': String(payload.length) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer from ${url} within ${timeoutMs / 1000} s`)), timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Waits until every node has all others as peers and has passed `height`. */
export async function waitMeshed(nodes: readonly NetNode[], height: number, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `every node peered with the others and past height ${height}`,
    async () => {
      const ready = await Promise.all(
        nodes.map(async (node) => {
          const peers = await rpcResult<unknown[]>(node.rpcUrl, 'net_peers').catch(() => []);
          const head = await rpcResult<{ height: number }>(node.rpcUrl, 'chain_getHead').catch(() => ({ height: -1 }));
          return peers.length >= nodes.length - 1 && head.height >= height;
        }),
      );
      return ready.every(Boolean) ? true : undefined;
    },
    timeoutMs,
    250,
  );
}

/** Clock ticks per second of /proc's CPU times. */
export function clockTicksPerSecond(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/** CPU time and memory of each node's process now (null for a process that is gone). */
export async function sampleProcesses(nodes: readonly NetNode[]): Promise<(ProcessSample | null)[]> {
  return Promise.all(
    nodes.map(async (node) => {
      if (node.proc === undefined || !node.proc.running) return null;
      try {
        const [stat, status] = await Promise.all([readFile(`/proc/${node.proc.pid}/stat`, 'utf8'), readFile(`/proc/${node.proc.pid}/status`, 'utf8')]);
        return parseProcSample(stat, status, Date.now());
      } catch {
        return null;
      }
    }),
  );
}

/** What a node's JSON log lines tell: produced blocks, reorganisations, dropped transactions. */
export interface NodeLogFacts {
  readonly produced: LabProduced[];
  /** Reorgs the node logged ('chain reorganised'), with the blocks each reverted. */
  readonly reorgs: { at: number; reverted: number }[];
  /** Pending transactions block building dropped, by reason. */
  readonly dropped: Record<string, number>;
  /** Warnings and errors (msg -> count), for the report. */
  readonly warnings: Record<string, number>;
}

export function readNodeLog(lines: readonly string[], node: number): NodeLogFacts {
  const facts: NodeLogFacts = { produced: [], reorgs: [], dropped: {}, warnings: {} };
  for (const line of lines) {
    const log = parseLogLine(line);
    if (log === undefined) continue;
    const at = typeof log.time === 'string' ? Date.parse(log.time) : typeof log.time === 'number' ? log.time : Number.NaN;
    if (log.msg === 'produced block' && typeof log.height === 'number' && typeof log.hash === 'string') {
      facts.produced.push({ node, height: log.height, hashPrefix: log.hash, at, txs: typeof log.txs === 'number' ? log.txs : 0 });
    } else if (log.msg === 'chain reorganised') {
      facts.reorgs.push({ at, reverted: typeof log.reverted === 'number' ? log.reverted : 0 });
    } else if (typeof log.msg === 'string' && log.msg.startsWith('dropped a pending transaction')) {
      const reason = typeof log.reason === 'string' ? log.reason : 'unknown';
      facts.dropped[reason] = (facts.dropped[reason] ?? 0) + 1;
    }
    // pino levels: 40 warn, 50 error.
    if (typeof log.level === 'number' && log.level >= 40 && log.msg !== 'chain reorganised' && typeof log.msg === 'string') {
      // A ban names the last penalty's reason: the cause is what a reader needs.
      const text = typeof log.reason === 'string' ? `${log.msg} (${log.reason})` : log.msg;
      facts.warnings[text] = (facts.warnings[text] ?? 0) + 1;
    }
  }
  return facts;
}

/** medchain_reorgs_total from a node's /metrics (null if unreadable). */
export async function scrapeReorgCounter(node: NetNode): Promise<number | null> {
  try {
    const response = await fetch(node.rpcUrl.replace(/\/rpc$/, '/metrics'));
    const text = await response.text();
    const match = /^medchain_reorgs_total(?:\{[^}]*\})? (\d+(?:\.\d+)?)$/m.exec(text);
    return match === null ? null : Number(match[1]);
  } catch {
    return null;
  }
}
