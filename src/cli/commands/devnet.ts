import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOrCreatePeerKey } from '../../p2p/peerKey.ts';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { toHex } from '../../codec/bytes.ts';
import { createKey, KeyFileError, loadKey } from '../../keys/keystore.ts';
import { DEFAULT_P2P_PORT, DEFAULT_RPC_PORT, LOG_LEVELS, type LogLevel } from '../../node/config.ts';
import { readGenesisFile } from '../../node/node.ts';
import { buildGenesis } from '../../state/genesis.ts';
import type { GenesisSpec } from '../../types/genesis.ts';
import { helpText, parseFlags } from '../args.ts';
import { UsageError, type CliIo, type Command } from '../command.ts';

export const DEVNET_CHAIN_ID = 'medchain-devnet';
/** Name of each node's validator key in `<datadir>/keys`. */
export const DEVNET_VALIDATOR_KEY = 'validator';
const MAX_VALIDATORS = 16;
const DEFAULT_VALIDATORS = 3;
/** How long the nodes get to answer RPC after they were spawned. */
const START_TIMEOUT_MS = 60_000;
/** How long a node gets to stop after SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 15_000;

const examples = [
  'medchain devnet                                   # 3 PoS validators in ./.medchain-devnet/pos, RPC on 8545-8547',
  'medchain devnet --validators 4 --engine pow       # 4 miners, ~2 s blocks, in ./.medchain-devnet/pow',
  'medchain devnet --dir /tmp/net --base-rpc-port 9545 --base-p2p-port 40333 --reset',
  'medchain status --rpc http://127.0.0.1:8546/rpc   # ask the second node, while the devnet runs',
];

/** `hospital-1`, `hospital-2`, ... : the node names, their datadirs under the devnet dir, and their log prefixes. */
export function devnetNodeName(index: number): string {
  return `hospital-${index + 1}`;
}

interface DevnetOptions {
  readonly validators: number;
  readonly engine: 'pos' | 'pow';
  readonly dir: string;
  readonly baseRpcPort: number;
  readonly baseP2pPort: number;
  readonly reset: boolean;
  readonly logFormat: 'pretty' | 'json';
  readonly logLevel: LogLevel;
}

/** One node of the devnet as laid out on disk. */
interface DevnetNode {
  readonly name: string;
  readonly datadir: string;
  readonly validator: Uint8Array;
  readonly peerId: string;
  readonly rpcPort: number;
  readonly p2pPort: number;
  readonly rpcUrl: string;
  readonly p2pAddress: string;
}

/** A spawned node process. */
interface RunningNode {
  readonly node: DevnetNode;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves when the process has exited and its output is flushed to the log file. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True until the process has exited. */
  readonly running: boolean;
}

export const devnetCommand: Command = {
  name: 'devnet',
  summary: 'Run several validator nodes on 127.0.0.1, one process each, sharing one genesis and bootstrapped to each other.',
  usage: 'medchain devnet [--validators N] [--engine pos|pow] [--dir <dir>] [--base-rpc-port P] [--base-p2p-port Q] [--reset]',
  examples,
  async run(args, io, signal) {
    const { values } = parseFlags(args, {
      validators: { type: 'string' },
      engine: { type: 'string' },
      dir: { type: 'string' },
      'base-rpc-port': { type: 'string' },
      'base-p2p-port': { type: 'string' },
      reset: { type: 'boolean' },
      'log-format': { type: 'string' },
      'log-level': { type: 'string' },
    });
    if (values.help) {
      io.out(
        helpText(
          this.usage,
          `${this.summary} Node i (from 0) serves RPC on P+i and p2p on Q+i. A re-run on the same --dir reuses its keys, genesis and chains. Ctrl+C stops every node.`,
          [
            ['--validators N', `number of validator nodes, 1 to ${MAX_VALIDATORS} (default ${DEFAULT_VALIDATORS}); all hospitals with equal stake`],
            ['--engine pos|pow', 'consensus engine (default pos: 1 s slots; pow: ~2 s blocks)'],
            ['--dir <dir>', 'where the genesis and the node datadirs live (default .medchain-devnet/<engine>)'],
            ['--base-rpc-port P', `JSON-RPC port of the first node (default ${DEFAULT_RPC_PORT})`],
            ['--base-p2p-port Q', `p2p port of the first node (default ${DEFAULT_P2P_PORT})`],
            ['--reset', 'delete the devnet dir first: new keys, new genesis, empty chains'],
            ['--log-format pretty|json', 'how node logs are shown here (default pretty); <dir>/<node>/node.log always holds JSON'],
            ['--log-level <level>', 'log level of the nodes (default info)'],
          ],
          examples,
        ),
      );
      return 0;
    }
    const options = devnetOptions(values);
    if (options.reset) await rm(options.dir, { recursive: true, force: true });
    await mkdir(options.dir, { recursive: true, mode: 0o700 });
    const { nodes, genesis, genesisPath } = await prepareDevnet(options);
    await checkPortsFree(nodes);
    return runDevnet(options, nodes, genesis, genesisPath, io, signal);
  },
};

function devnetOptions(values: {
  validators?: string;
  engine?: string;
  dir?: string;
  'base-rpc-port'?: string;
  'base-p2p-port'?: string;
  reset?: boolean;
  'log-format'?: string;
  'log-level'?: string;
}): DevnetOptions {
  const validators = integerFlag('--validators', values.validators, DEFAULT_VALIDATORS, 1, MAX_VALIDATORS);
  const engine = values.engine ?? 'pos';
  if (engine !== 'pos' && engine !== 'pow') throw new UsageError(`--engine must be pos or pow, got "${engine}"`);
  const lastPort = 65535 - (validators - 1);
  const baseRpcPort = integerFlag('--base-rpc-port', values['base-rpc-port'], DEFAULT_RPC_PORT, 1, lastPort);
  const baseP2pPort = integerFlag('--base-p2p-port', values['base-p2p-port'], DEFAULT_P2P_PORT, 1, lastPort);
  if (Math.abs(baseRpcPort - baseP2pPort) < validators) {
    throw new UsageError(
      `the RPC ports ${baseRpcPort}-${baseRpcPort + validators - 1} and the p2p ports ${baseP2pPort}-${baseP2pPort + validators - 1} overlap; move one base port`,
    );
  }
  const logFormat = values['log-format'] ?? 'pretty';
  if (logFormat !== 'pretty' && logFormat !== 'json') throw new UsageError(`--log-format must be pretty or json, got "${logFormat}"`);
  const logLevel = values['log-level'] ?? 'info';
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  return {
    validators,
    engine,
    dir: resolve(values.dir ?? join('.medchain-devnet', engine)),
    baseRpcPort,
    baseP2pPort,
    reset: values.reset === true,
    logFormat,
    logLevel: logLevel as LogLevel,
  };
}

function integerFlag(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = /^[0-9]{1,6}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`${flag} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

/** The devnet genesis: every validator a hospital with the same stake. */
export function devnetGenesis(engine: 'pos' | 'pow', validators: readonly Uint8Array[], time: number): object {
  return {
    chainId: DEVNET_CHAIN_ID,
    time,
    // PoW: each miner alone would find a block in well under a second at this difficulty; the retarget then
    // settles the network as a whole at ~2 s.
    consensus: engine === 'pos' ? { engine, slotMs: 1000 } : { engine, targetBlockMs: 2000, initialDifficulty: 100_000, minDifficulty: 1000 },
    hospitals: validators.map((id, i) => ({ id: toHex(id), name: `Devnet Hospital ${i + 1}`, stake: 1000 })),
    accounts: [],
  };
}

/** Creates (or reuses) each node's datadir, validator key and peer key, and the shared genesis file. */
async function prepareDevnet(options: DevnetOptions): Promise<{ nodes: DevnetNode[]; genesis: GenesisSpec; genesisPath: string }> {
  const genesisPath = join(options.dir, 'genesis.json');
  const mismatch = (genesis: GenesisSpec): UsageError =>
    new UsageError(
      `${genesisPath} belongs to a devnet of ${genesis.hospitals.length} ${genesis.consensus.engine} validator(s), not the ${options.validators} ` +
        `${options.engine} validator(s) asked for; run again with --reset to start a new devnet there, or pick another --dir`,
      1,
    );
  // An existing devnet is checked before anything is created in it.
  const existing = existsSync(genesisPath) ? await readGenesisFile(genesisPath) : undefined;
  if (existing !== undefined && (existing.consensus.engine !== options.engine || existing.hospitals.length !== options.validators)) throw mismatch(existing);
  const nodes: DevnetNode[] = [];
  for (let i = 0; i < options.validators; i++) {
    const name = devnetNodeName(i);
    const datadir = join(options.dir, name);
    await mkdir(datadir, { recursive: true, mode: 0o700 });
    const keyExists = existsSync(join(datadir, 'keys', `${DEVNET_VALIDATOR_KEY}.json`));
    const key = keyExists ? await loadKey(datadir, DEVNET_VALIDATOR_KEY) : await createKey(datadir, DEVNET_VALIDATOR_KEY);
    const peerId = await loadOrCreatePeerId(datadir);
    const rpcPort = options.baseRpcPort + i;
    const p2pPort = options.baseP2pPort + i;
    nodes.push({
      name,
      datadir,
      validator: key.keyPair.publicKey,
      peerId,
      rpcPort,
      p2pPort,
      rpcUrl: `http://127.0.0.1:${rpcPort}/rpc`,
      p2pAddress: `/ip4/127.0.0.1/tcp/${p2pPort}/p2p/${peerId}`,
    });
  }
  const validators = nodes.map((n) => n.validator);
  if (existing === undefined) {
    // Whole seconds, so the file reads well; PoS slots count from here.
    const time = Math.floor(Date.now() / 1000) * 1000;
    await writeFile(genesisPath, JSON.stringify(devnetGenesis(options.engine, validators, time), null, 2) + '\n');
  }
  const genesis = existing ?? (await readGenesisFile(genesisPath));
  const expected = validators.map(toHex);
  if (genesis.hospitals.some((h, i) => toHex(h.id) !== expected[i])) {
    throw new UsageError(
      `${genesisPath} names other validator keys than the ones in ${join(options.dir, '<node>', 'keys')} (a key was replaced or deleted); ` +
        'run again with --reset to start a new devnet there',
      1,
    );
  }
  return { nodes, genesis, genesisPath };
}

/** The node's libp2p peer id, from the key the node itself will load (created here on first run). */
async function loadOrCreatePeerId(datadir: string): Promise<string> {
  try {
    return peerIdFromPrivateKey(await loadOrCreatePeerKey(datadir)).toString();
  } catch (error) {
    throw new KeyFileError(`${(error as Error).message}; or use --reset`);
  }
}

/** Refuses to start when a port is taken, naming the node and the flag that moves it. */
async function checkPortsFree(nodes: readonly DevnetNode[]): Promise<void> {
  for (const node of nodes) {
    for (const [port, what, flag] of [
      [node.rpcPort, 'RPC', '--base-rpc-port'],
      [node.p2pPort, 'p2p', '--base-p2p-port'],
    ] as const) {
      const problem = await portProblem(port);
      if (problem !== undefined) throw new UsageError(`port ${port} (${what} of ${node.name}) on 127.0.0.1 ${problem}; choose other ports with ${flag}`, 1);
    }
  }
}

function portProblem(port: number): Promise<string | undefined> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolvePort(error.code === 'EADDRINUSE' ? 'is in use' : `cannot be used (${error.code ?? error.message})`));
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePort(undefined)));
  });
}

const CLI_MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));

/**
 * Loaded into each node with --import: when the devnet process dies without stopping its nodes (SIGKILL, a
 * crash), the node's stdin pipe from it closes, and the node stops itself as if it got SIGTERM, instead of
 * running on unseen and holding its ports and datadir.
 */
const ORPHAN_GUARD = `data:text/javascript,${encodeURIComponent(
  // Worker threads load --import modules too, and their stdin ends at once: only the main thread watches.
  "import{isMainThread}from'node:worker_threads';if(isMainThread){process.stdin.on('end',()=>process.kill(process.pid,'SIGTERM'));process.stdin.resume();}",
)}`;

/** The `medchain start` arguments of one node. */
export function startArgs(node: DevnetNode, others: readonly DevnetNode[], genesisPath: string, logLevel: string): string[] {
  return [
    'start',
    '--datadir', node.datadir,
    '--genesis', genesisPath,
    '--validator-key', DEVNET_VALIDATOR_KEY,
    '--rpc-host', '127.0.0.1',
    '--rpc-port', String(node.rpcPort),
    '--p2p-listen', `/ip4/127.0.0.1/tcp/${node.p2pPort}`,
    ...(others.length > 0 ? ['--bootstrap', others.map((o) => o.p2pAddress).join(',')] : []),
    '--log-format', 'json',
    '--log-level', logLevel,
  ];
}

async function runDevnet(
  options: DevnetOptions,
  nodes: readonly DevnetNode[],
  genesis: GenesisSpec,
  genesisPath: string,
  io: CliIo,
  signal: AbortSignal | undefined,
): Promise<number> {
  const genesisHash = toHex(buildGenesis(genesis).block.hash);
  const nameWidth = Math.max(...nodes.map((n) => n.name.length));
  const running: RunningNode[] = [];
  // A forced exit (second Ctrl+C) skips everything below: take the nodes down with us rather than orphan them.
  const killOnExit = (): void => {
    for (const r of running) if (r.running) r.child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);

  // Resolves with the first node that exits on its own; stopping is then the only way on.
  let reportCrash: (node: RunningNode) => void = () => {};
  const crashed = new Promise<RunningNode>((resolveCrash) => (reportCrash = resolveCrash));
  let stopping = false;
  const stopRequested = new Promise<'stop'>((resolveStop) => {
    if (signal === undefined) return;
    if (signal.aborted) resolveStop('stop');
    else signal.addEventListener('abort', () => resolveStop('stop'), { once: true });
  });

  try {
    io.err(`starting ${nodes.length} ${options.engine} validator node(s) in ${options.dir}`);
    for (const node of nodes) {
      const others = nodes.filter((o) => o !== node);
      const started = await spawnNode(node, startArgs(node, others, genesisPath, options.logLevel), options.logFormat, nameWidth, io);
      running.push(started);
      void started.exited.then(() => {
        if (!stopping) reportCrash(started);
      });
    }

    const serving = Promise.all(running.map((r) => waitUntilServing(r, genesisHash, () => stopping)));
    const first = await Promise.race([serving.then(() => 'serving' as const), stopRequested, crashed, delay(START_TIMEOUT_MS).then(() => 'timeout' as const)]);
    if (first === 'stop') {
      stopping = true;
      await stopNodes(running, io);
      return 0;
    }
    if (first === 'timeout' || typeof first === 'object') {
      stopping = true;
      const why =
        first === 'timeout'
          ? `not every node answered JSON-RPC within ${START_TIMEOUT_MS / 1000} s`
          : `${first.node.name} exited during start (${await describeExit(first)})`;
      await stopNodes(running, io);
      io.err(`medchain devnet: ${why}; see the logs in ${join(options.dir, '<node>', 'node.log')}`);
      return 1;
    }

    printTable(options, nodes, running, genesis, genesisHash, genesisPath, io);

    const after = await Promise.race([stopRequested, crashed]);
    stopping = true;
    if (after === 'stop') {
      io.err('stopping the devnet (press Ctrl+C again to force)');
      await stopNodes(running, io);
      io.err('devnet stopped');
      return 0;
    }
    const reason = await describeExit(after);
    await stopNodes(running, io);
    io.err(`medchain devnet: ${after.node.name} stopped on its own (${reason}), so the devnet was stopped; see ${join(after.node.datadir, 'node.log')}`);
    return 1;
  } finally {
    stopping = true;
    // Only reached with nodes still up when something above threw.
    if (running.some((r) => r.running)) await stopNodes(running, io);
    process.off('exit', killOnExit);
  }
}

async function describeExit(node: RunningNode): Promise<string> {
  const { code, signal } = await node.exited;
  return signal === null ? `exit code ${code}` : `signal ${signal}`;
}

function printTable(
  options: DevnetOptions,
  nodes: readonly DevnetNode[],
  running: readonly RunningNode[],
  genesis: GenesisSpec,
  genesisHash: string,
  genesisPath: string,
  io: CliIo,
): void {
  const rows = [['node', 'rpc', 'p2p', 'pid'], ...nodes.map((n, i) => [n.name, n.rpcUrl, n.p2pAddress, String(running[i]!.pid)])];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  io.out(`medchain devnet: ${nodes.length} ${options.engine} validator(s), chain ${genesis.chainId}, genesis ${genesisHash}`);
  io.out(`  genesis file ${genesisPath}`);
  io.out('');
  for (const row of rows) io.out(`  ${row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]!))).join('  ')}`);
  io.out('');
  io.out(`node logs: ${join(options.dir, '<node>', 'node.log')} (JSON lines), also shown here prefixed with the node name`);
  io.out('press Ctrl+C to stop every node');
}

/** Spawns one node; its stdout and stderr go to `<datadir>/node.log` and, prefixed with its name, to `io.err`. */
async function spawnNode(node: DevnetNode, args: string[], logFormat: 'pretty' | 'json', nameWidth: number, io: CliIo): Promise<RunningNode> {
  const log = await open(join(node.datadir, 'node.log'), 'a', 0o600);
  // Its own process group: a Ctrl+C in the terminal reaches only the devnet, which stops each node once and
  // in order, instead of every node also getting the terminal's SIGINT and then our SIGTERM as a second
  // (forcing) signal.
  const child = spawn(process.execPath, ['--import', ORPHAN_GUARD, CLI_MAIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const prefix = `${node.name.padEnd(nameWidth)} | `;
  const pipes = [child.stdout!, child.stderr!].map((stream) => forwardLines(stream, log, (line) => io.err(prefix + (logFormat === 'json' ? line : formatLogLine(line)))));
  const spawned = new Promise<number>((resolveSpawn, rejectSpawn) => {
    child.once('spawn', () => resolveSpawn(child.pid!));
    child.once('error', rejectSpawn);
  });
  const state = { running: true };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    child.once('close', (code, signal) => resolveExit({ code, signal })),
  ).then(async (status) => {
    state.running = false;
    await Promise.all(pipes);
    await log.close();
    return status;
  });
  let pid: number;
  try {
    pid = await spawned;
  } catch (error) {
    throw new Error(`could not start ${node.name} (${process.execPath}): ${(error as Error).message}`, { cause: error });
  }
  return {
    node,
    child,
    pid,
    exited,
    get running() {
      return state.running;
    },
  };
}

function forwardLines(stream: NodeJS.ReadableStream, log: FileHandle, show: (line: string) => void): Promise<void> {
  return new Promise((resolveDone) => {
    let partial = '';
    let writes = Promise.resolve();
    const emit = (line: string): void => {
      writes = writes.then(() => log.appendFile(line + '\n').then(() => undefined));
      show(line);
    };
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) emit(line);
    });
    stream.on('end', () => {
      if (partial !== '') emit(partial);
      void writes.then(() => resolveDone());
    });
  });
}

const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** A pino JSON line as `HH:MM:SS.mmm LEVEL message key=value ...`; anything else as it is. */
export function formatLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  let entry: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return line;
    entry = parsed as Record<string, unknown>;
  } catch (error) {
    if (error instanceof SyntaxError) return line;
    throw error;
  }
  const { time, level, msg, ...rest } = entry;
  const clock = typeof time === 'string' && time.length >= 23 ? time.slice(11, 23) : '';
  const levelName = (typeof level === 'number' ? LEVEL_NAMES[level] : undefined) ?? String(level);
  const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return [clock, levelName.padEnd(5), typeof msg === 'string' ? msg : '', ...fields].filter((s) => s !== '').join(' ');
}

/** Polls the node's node_info until it answers with the devnet's genesis hash. */
async function waitUntilServing(node: RunningNode, genesisHash: string, stopping: () => boolean): Promise<void> {
  for (;;) {
    if (!node.running || stopping()) return new Promise(() => {}); // the race above decides
    try {
      const response = await fetch(node.node.rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'node_info', params: [] }),
        signal: AbortSignal.timeout(2_000),
      });
      const answer = (await response.json()) as { result?: { genesisHash?: unknown } };
      if (answer.result?.genesisHash === genesisHash) return;
      if (answer.result !== undefined) {
        throw new Error(`${node.node.rpcUrl} answers with genesis ${String(answer.result.genesisHash)}, not the devnet's ${genesisHash}: another node holds that port`);
      }
    } catch (error) {
      // Not listening yet (refused, reset, timed out): try again shortly. Anything else is a real problem.
      if (!isConnectionError(error)) throw error;
    }
    await delay(200);
  }
}

function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return true;
  // fetch reports socket errors as "TypeError: fetch failed" with the system error as its cause.
  return error instanceof TypeError && error.message === 'fetch failed';
}

/** SIGTERM to every running node, then SIGKILL to any still running after STOP_TIMEOUT_MS. */
async function stopNodes(running: readonly RunningNode[], io: CliIo): Promise<void> {
  const live = running.filter((r) => r.running);
  for (const r of live) r.child.kill('SIGTERM');
  const all = Promise.all(live.map((r) => r.exited));
  if ((await Promise.race([all.then(() => 'stopped' as const), delay(STOP_TIMEOUT_MS).then(() => 'timeout' as const)])) === 'timeout') {
    for (const r of live) {
      if (!r.running) continue;
      io.err(`${r.node.name} did not stop within ${STOP_TIMEOUT_MS / 1000} s of SIGTERM; killing it`);
      r.child.kill('SIGKILL');
    }
    await all;
  }
  for (const r of live) {
    const { code, signal } = await r.exited;
    if (code !== 0) io.err(`${r.node.name} (pid ${r.pid}) ended with ${signal === null ? `exit code ${code}` : `signal ${signal}`}; see ${join(r.node.datadir, 'node.log')}`);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolveDelay) => setTimeout(resolveDelay, ms).unref());
}
