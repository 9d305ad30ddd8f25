import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, rpcResult, runCliToEnd, spawnCli, waitFor, type CliProcess } from '../helpers/process.ts';

const VALIDATORS = 3;

interface TableRow {
  readonly name: string;
  readonly rpc: string;
  readonly p2p: string;
  readonly pid: number;
}

interface NodeInfo {
  genesisHash: string;
  chainId: string;
  engine: string;
  validator: string | null;
  height: number;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A base port with `count` free ports from it (RPC and p2p ranges are taken from different regions). */
async function freePortRange(count: number, from: number, to: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = from + Math.floor(Math.random() * (to - from - count));
    const free = await Promise.all(Array.from({ length: count }, (_, i) => portFree(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports between ${from} and ${to}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/** The node table the devnet prints once every node answers RPC. */
async function readTable(devnet: CliProcess): Promise<{ genesisHash: string; rows: TableRow[] }> {
  await devnet.waitForLine((line) => line.startsWith('press Ctrl+C'), 60_000);
  const header = devnet.stdout.find((line) => line.startsWith('medchain devnet:'))!;
  const genesisHash = /genesis ([0-9a-f]{64})$/.exec(header)?.[1];
  if (genesisHash === undefined) throw new Error(`no genesis hash in the devnet header\n${devnet.output()}`);
  const rows = devnet.stdout.flatMap((line) => {
    const match = /^\s+(hospital-\d+)\s+(http:\/\/\S+)\s+(\/ip4\/\S+)\s+(\d+)$/.exec(line);
    return match === null ? [] : [{ name: match[1]!, rpc: match[2]!, p2p: match[3]!, pid: Number(match[4]) }];
  });
  return { genesisHash, rows };
}

/** SIGINT to the devnet; resolves with its exit once every node process is gone too. */
async function interrupt(devnet: CliProcess, pids: readonly number[]): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  devnet.child.kill('SIGINT');
  let timer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([
    devnet.exited,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the devnet did not exit within 30 s of SIGINT\n${devnet.output()}`)), 30_000);
    }),
  ]).finally(() => clearTimeout(timer));
  // The devnet waits for its nodes before it exits, so none may be left.
  expect(pids.filter(alive)).toEqual([]);
  return exit;
}

describe('medchain devnet', () => {
  let dir: string;
  let baseRpc: number;
  let baseP2p: number;
  const started: number[] = [];
  let firstRun: { genesisHash: string; p2p: string[] } | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'medchain-devnet-'));
    baseRpc = await freePortRange(VALIDATORS, 20_000, 30_000);
    baseP2p = await freePortRange(VALIDATORS, 40_000, 50_000);
  });
  afterAll(async () => {
    await killAll();
    // The nodes stop themselves when the devnet dies; make sure of it before the datadirs go.
    await waitFor('node processes gone', async () => (started.some(alive) ? undefined : true), 20_000).catch(() => {
      for (const pid of started.filter(alive)) process.kill(pid, 'SIGKILL');
    });
    await rm(dir, { recursive: true, force: true });
  });

  const args = (validators = VALIDATORS): string[] => [
    'devnet',
    '--validators', String(validators),
    '--engine', 'pos',
    '--dir', dir,
    '--base-rpc-port', String(baseRpc),
    '--base-p2p-port', String(baseP2p),
    '--log-format', 'json',
  ];

  it('starts N nodes with their own datadirs and keys on one genesis, and SIGINT stops them all with exit 0', async () => {
    const devnet = spawnCli(args());
    const { genesisHash, rows } = await readTable(devnet);
    started.push(...rows.map((r) => r.pid));
    firstRun = { genesisHash, p2p: rows.map((r) => r.p2p) };
    expect(rows.map((r) => r.name)).toEqual(['hospital-1', 'hospital-2', 'hospital-3']);
    expect(rows.map((r) => r.rpc)).toEqual([0, 1, 2].map((i) => `http://127.0.0.1:${baseRpc + i}/rpc`));
    expect(new Set(rows.map((r) => r.pid)).size).toBe(VALIDATORS);
    for (const row of rows) expect(alive(row.pid), row.name).toBe(true);

    // Each node answers chain_getHead on its own port, and runs the shared genesis with its own validator key.
    const genesisFile = JSON.parse(await readFile(join(dir, 'genesis.json'), 'utf8')) as { chainId: string; consensus: { engine: string; slotMs: number }; hospitals: { id: string; stake: number }[] };
    expect(genesisFile.consensus).toEqual({ engine: 'pos', slotMs: 1000 });
    expect(genesisFile.hospitals.map((h) => h.stake)).toEqual([1000, 1000, 1000]);
    const infos: NodeInfo[] = [];
    for (const row of rows) {
      const head = await rpcResult<{ height: number; hash: string }>(row.rpc, 'chain_getHead');
      expect(head.hash).toMatch(/^[0-9a-f]{64}$/);
      infos.push(await rpcResult<NodeInfo>(row.rpc, 'node_info'));
    }
    expect(infos.map((i) => i.genesisHash)).toEqual([genesisHash, genesisHash, genesisHash]);
    expect(infos.map((i) => i.validator)).toEqual(genesisFile.hospitals.map((h) => h.id));
    expect(new Set(infos.map((i) => i.validator)).size).toBe(VALIDATORS);

    // Own datadirs: chain database, validator key and a private libp2p key whose peer id is the one advertised.
    const peerIds = rows.map((r) => r.p2p.split('/p2p/')[1]);
    expect(new Set(peerIds).size).toBe(VALIDATORS);
    rows.forEach((row, i) => {
      const datadir = join(dir, row.name);
      expect(existsSync(join(datadir, 'chain')), row.name).toBe(true);
      expect(existsSync(join(datadir, 'keys', 'validator.json')), row.name).toBe(true);
      expect(statSync(join(datadir, 'p2p', 'peer-key')).mode & 0o777, row.name).toBe(0o600);
      expect(row.p2p).toBe(`/ip4/127.0.0.1/tcp/${baseP2p + i}/p2p/${peerIds[i]}`);
    });
    // Logs are forwarded with the node's name in front, and kept in <datadir>/node.log.
    await devnet.waitForLine((line) => line.startsWith('hospital-2 | {') && line.includes('JSON-RPC listening'));
    expect(await readFile(join(dir, 'hospital-3', 'node.log'), 'utf8')).toContain('"msg":"JSON-RPC listening"');

    // Each node produces blocks.
    for (const row of rows) {
      await waitFor(`${row.name} past height 0`, async () => ((await rpcResult<{ height: number }>(row.rpc, 'chain_getHead')).height > 0 ? true : undefined), 20_000);
    }

    // They form one network: every node peers with the others and they agree on one chain.
    for (const row of rows) {
      await waitFor(`${row.name} peered with the others`, async () => ((await rpcResult<unknown[]>(row.rpc, 'net_peers')).length === VALIDATORS - 1 ? true : undefined), 20_000, 200);
    }
    await waitFor('height 5 on every node', async () => {
      const heights = await Promise.all(rows.map(async (r) => (await rpcResult<{ height: number }>(r.rpc, 'chain_getHead')).height));
      return heights.every((h) => h >= 5) ? true : undefined;
    }, 30_000, 250);
    await waitFor('one block at height 4 everywhere', async () => {
      const hashes = await Promise.all(rows.map(async (r) => (await rpcResult<{ header: { hash: string } }>(r.rpc, 'chain_getBlock', [4])).header.hash));
      return new Set(hashes).size === 1 ? true : undefined;
    }, 20_000, 250);

    const exit = await interrupt(devnet, rows.map((r) => r.pid));
    expect(exit).toEqual({ code: 0, signal: null });
    expect(devnet.stderr).toContain('devnet stopped');
    for (const row of rows) expect(await readFile(join(dir, row.name, 'node.log'), 'utf8')).toContain('"msg":"stopped cleanly"');
  }, 120_000);

  it('a re-run reuses the keys, peer ids and genesis; a different shape of devnet in the same dir is refused', async () => {
    const devnet = spawnCli(args());
    const { genesisHash, rows } = await readTable(devnet);
    started.push(...rows.map((r) => r.pid));
    expect(firstRun, 'the first test ran').toBeDefined();
    expect(genesisHash).toBe(firstRun!.genesisHash);
    expect(rows.map((r) => r.p2p)).toEqual(firstRun!.p2p);
    const info = await rpcResult<NodeInfo>(rows[0]!.rpc, 'node_info');
    expect(info.genesisHash).toBe(genesisHash);
    const first = JSON.parse(await readFile(join(dir, 'genesis.json'), 'utf8')) as { hospitals: { id: string }[] };
    expect(info.validator).toBe(first.hospitals[0]!.id);
    expect(info.height).toBeGreaterThan(0); // the chain continues
    expect(await interrupt(devnet, rows.map((r) => r.pid))).toEqual({ code: 0, signal: null });

    const bigger = await runCliToEnd(args(4));
    expect(bigger.code).toBe(1);
    expect(bigger.stderr).toContain('belongs to a devnet of 3 pos validator(s), not the 4 pos validator(s) asked for; run again with --reset');
    expect(existsSync(join(dir, 'hospital-4'))).toBe(false);
  }, 120_000);

  it('refuses bad flags and taken ports with a message naming them', async () => {
    const bad = await runCliToEnd(['devnet', '--validators', '0', '--dir', dir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--validators must be an integer from 1 to 16, got "0"');
    const overlap = await runCliToEnd(['devnet', '--dir', dir, '--base-rpc-port', '9000', '--base-p2p-port', '9002']);
    expect(overlap.code).toBe(2);
    expect(overlap.stderr).toContain('the RPC ports 9000-9002 and the p2p ports 9002-9004 overlap');

    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(baseRpc + 1, '127.0.0.1', resolve));
    try {
      const taken = await runCliToEnd(args());
      expect(taken.code).toBe(1);
      expect(taken.stderr).toContain(`port ${baseRpc + 1} (RPC of hospital-2) on 127.0.0.1 is in use; choose other ports with --base-rpc-port`);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
