import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testKey } from '../helpers/fixtures.ts';
import { toHex } from '../../src/codec/bytes.ts';
import { killAll, parseLogLine, REPO_ROOT, rpc, rpcResult, rpcUrlOf, runCliToEnd, spawnCli, waitFor, type CliProcess } from '../helpers/process.ts';

interface Header {
  height: number;
  hash: string;
}

/** Sends SIGINT and waits for the exit; fails if it takes more than `ms`. */
async function interrupt(proc: CliProcess, ms = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; tookMs: number }> {
  const started = Date.now();
  proc.child.kill('SIGINT');
  let timer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([
    proc.exited,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no exit within ${ms} ms of SIGINT\n${proc.output()}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
  return { ...exit, tookMs: Date.now() - started };
}

async function headHeight(url: string): Promise<number> {
  return (await rpcResult<Header>(url, 'chain_getHead')).height;
}

/**
 * Issue 2: `git clone` + the README's first command gives a producing dev chain whose RPC answers
 * chain_getHead; a clean stop, a restart that continues, the datadir lock, the genesis check, the CLI basics.
 */
describe('the dev chain and the CLI', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'medchain-dev-chain-'));
  });
  afterEach(killAll);
  afterAll(async () => {
    await killAll();
    await rm(dir, { recursive: true, force: true });
  });

  it("README's first command runs `medchain dev`", async () => {
    const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
    const firstCommand = /```sh\n([^\n#]+?)\s*(#.*)?\n/.exec(readme)?.[1];
    expect(firstCommand).toBe('npm install && npm start');
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe('node src/cli/main.ts dev');
  });

  it('produces blocks, answers RPC, stops cleanly on Ctrl+C, restarts where it was, and holds its datadir', async () => {
    const datadir = join(dir, 'dev');
    // `npm start` is `node src/cli/main.ts dev`; only the datadir and a free port are added.
    const node = spawnCli(['dev', '--datadir', datadir, '--rpc-port', '0', '--log-format', 'json']);
    const url = await rpcUrlOf(node);
    await waitFor('height 2', async () => ((await headHeight(url)) >= 2 ? true : undefined), 20_000);

    const info = await rpcResult<Record<string, unknown>>(url, 'node_info');
    expect(info).toMatchObject({ chainId: 'medchain-dev', engine: 'pos', genesisHash: expect.stringMatching(/^[0-9a-f]{64}$/), validator: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(info.height).toBeGreaterThanOrEqual(2);

    // rpc.discover lists every method, and every method it lists is dispatched (never "method not found").
    const discover = await rpcResult<{ openrpc: string; methods: { name: string }[] }>(url, 'rpc.discover');
    const names = discover.methods.map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(['node_info', 'chain_getHead', 'chain_getBlock', 'tx_submit', 'tx_get', 'identity_get']));
    for (const name of names) {
      const response = await rpc(url, name, []);
      expect([name, response.error?.code]).not.toEqual([name, -32601]);
    }
    expect((await rpc(url, 'no_suchMethod')).error).toMatchObject({ code: -32601 });

    // A second process on the same datadir is refused.
    const second = await runCliToEnd(['dev', '--datadir', datadir, '--rpc-port', '0', '--log-format', 'json']);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('in use by another medchain process');
    expect(await headHeight(url)).toBeGreaterThanOrEqual(2);

    const heightAtStop = await headHeight(url);
    const stopped = await interrupt(node);
    expect(stopped.code, node.output()).toBe(0);
    expect(stopped.tookMs).toBeLessThan(10_000);
    expect(node.stdout.some((l) => parseLogLine(l)?.msg === 'stopped cleanly')).toBe(true);

    // The restart continues from the stored head, not from genesis.
    const restarted = spawnCli(['dev', '--datadir', datadir, '--rpc-port', '0', '--log-format', 'json']);
    const loaded = await restarted.waitForLog('chain loaded');
    expect(loaded.height).toBeGreaterThanOrEqual(heightAtStop);
    expect(loaded.genesisHash).toBe(info.genesisHash);
    const url2 = await rpcUrlOf(restarted);
    await waitFor('a block after the restart', async () => ((await headHeight(url2)) > (loaded.height as number) ? true : undefined), 15_000);
    const restartedStop = await interrupt(restarted);
    expect(restartedStop.code, restarted.output()).toBe(0);

    // A genesis file for another chain is refused, naming both genesis hashes.
    const other = join(dir, 'other-genesis.json');
    await writeFile(
      other,
      JSON.stringify({ chainId: 'medchain-other', time: Date.UTC(2026, 0, 1), consensus: { engine: 'pos', slotMs: 1000 }, hospitals: [{ id: toHex(testKey('other').publicKey), name: 'Other', stake: 1 }] }),
    );
    const mismatch = await runCliToEnd(['start', '--datadir', datadir, '--genesis', other, '--rpc-port', '0', '--no-p2p', '--log-format', 'json']);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toContain(`genesis ${info.genesisHash as string}`);
    expect(mismatch.stderr).toMatch(new RegExp(`gives (genesis )?(?!${info.genesisHash as string})[0-9a-f]{64}`));
    expect(mismatch.stderr).not.toMatch(/\n\s+at /);
  }, 90_000);

  it('prints help, and keeps keys private: mode 0600, no seed unless --private', async () => {
    const help = await runCliToEnd(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['init', 'start', 'dev', 'keys', 'export', 'import', 'status', 'version']) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    // The children run on Node 24 whatever node started the test runner.
    const version = await runCliToEnd(['version']);
    expect(version.stdout).toMatch(/\(node v(2[4-9]|[3-9][0-9])\./);
    const exportHelp = await runCliToEnd(['export', '--help']);
    expect([exportHelp.code, exportHelp.stdout]).toEqual([0, expect.stringContaining('Examples:')]);

    const datadir = join(dir, 'keys');
    const created = await runCliToEnd(['keys', 'new', 'alice', '--datadir', datadir]);
    expect(created.code, created.stderr).toBe(0);
    const path = join(datadir, 'keys', 'alice.json');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const file = JSON.parse(await readFile(path, 'utf8')) as { publicKey: string; seed: string };
    expect(created.stdout).toContain(file.publicKey);
    expect(created.stdout + created.stderr).not.toContain(file.seed);

    const list = await runCliToEnd(['keys', 'list', '--datadir', datadir]);
    expect(list.stdout).toMatch(new RegExp(`^alice\\s+${file.publicKey}`, 'm'));
    const show = await runCliToEnd(['keys', 'show', 'alice', '--datadir', datadir]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(file.publicKey);
    expect(show.stdout + show.stderr).not.toContain(file.seed);
    const shown = await runCliToEnd(['keys', 'show', 'alice', '--datadir', datadir, '--private']);
    expect(shown.stdout).toContain(file.seed);

    const again = await runCliToEnd(['keys', 'new', 'alice', '--datadir', datadir]);
    expect([again.code, again.stderr]).toEqual([1, expect.stringContaining('already exists')]);
  });

  it('`init --engine pow` then `start` mines blocks', async () => {
    const datadir = join(dir, 'pow');
    const init = await runCliToEnd(['init', '--datadir', datadir, '--engine', 'pow']);
    expect(init.code, init.stderr).toBe(0);
    const node = spawnCli(['start', '--datadir', datadir, '--rpc-port', '0', '--p2p-listen', '/ip4/127.0.0.1/tcp/0', '--log-format', 'json']);
    const url = await rpcUrlOf(node);
    await waitFor('a mined block', async () => ((await headHeight(url)) >= 1 ? true : undefined), 40_000, 250);
    expect(await rpcResult(url, 'node_info')).toMatchObject({ engine: 'pow' });
    const stopped = await interrupt(node);
    expect(stopped.code, node.output()).toBe(0);
  }, 60_000);
});
