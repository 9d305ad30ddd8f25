import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/codec/bytes.ts';
import { killAll, killHard, mulberry32, runCliToEnd, sleep, spawnCli } from '../helpers/process.ts';
import { checkDatadir } from './datadirCheck.ts';
import { buildReferenceChain, type ReferenceChain } from './referenceChain.ts';

const HEIGHT = 150;
const TXS_PER_BLOCK = 30;
const KILLS = 20;
const SEED = 0x4b1115;

/**
 * Issue 2: a node killed with SIGKILL while importing blocks restarts at its last committed block, with state
 * and indexes consistent. `medchain import` is killed at seeded random moments, over and over, on one datadir;
 * after each kill the datadir is checked against a reference chain that was never killed.
 */
describe('SIGKILL during block import', () => {
  let dir: string;
  let ref: ReferenceChain;
  let exportFile: string;
  let importSeconds: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'medchain-crash-import-'));
    await mkdir(join(dir, 'ref'));
    ref = await buildReferenceChain(join(dir, 'ref'), HEIGHT, TXS_PER_BLOCK);
    exportFile = join(dir, 'chain.blocks');
    const exported = await runCliToEnd(['export', '--datadir', join(dir, 'ref'), '--out', exportFile]);
    expect(exported.code, exported.stderr).toBe(0);
  }, 120_000);

  afterEach(killAll);
  afterAll(async () => {
    await killAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('imports the whole export when never killed, ending at the reference head', async () => {
    const datadir = join(dir, 'unkilled');
    await mkdir(datadir);
    await writeFile(join(datadir, 'genesis.json'), JSON.stringify(ref.genesisJson));
    const started = Date.now();
    const result = await runCliToEnd(['import', '--datadir', datadir, '--log-level', 'warn', exportFile], { timeoutMs: 60_000 });
    importSeconds = (Date.now() - started) / 1000;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`imported ${HEIGHT} blocks (0 already known)`);
    expect(result.stdout).toContain(toHex(ref.blocks[HEIGHT]!.hash));
    expect((await checkDatadir(datadir, ref)).height).toBe(HEIGHT);
  }, 90_000);

  it(`restarts at its last committed block after each of ${KILLS} kills at random moments`, async () => {
    const random = mulberry32(SEED);
    // The import rate of the run above, so kill moments spread over the blocks still to import.
    const msPerBlock = ((importSeconds ?? 3) * 1000) / HEIGHT;
    const heights: number[] = [];
    let life = 0;
    let datadir = '';
    const newDatadir = async (): Promise<void> => {
      datadir = join(dir, `killed-${life++}`);
      await mkdir(datadir);
      await writeFile(join(datadir, 'genesis.json'), JSON.stringify(ref.genesisJson));
    };
    await newDatadir();
    let height = -1;
    let kills = 0;
    for (let round = 0; kills < KILLS; round++) {
      expect(round, 'the import kept finishing before its kill').toBeLessThan(KILLS * 3);
      const proc = spawnCli(['import', '--datadir', datadir, '--log-level', 'warn', exportFile]);
      if (height < 0 || random() < 0.15) {
        // Anywhere from process start: opening the datadir, the genesis batch, loading the state.
        await sleep(random() * 700);
      } else {
        await proc.waitForLine((l) => l.startsWith('importing '), 20_000).catch(() => undefined);
        const remaining = HEIGHT - height;
        await sleep(random() * Math.max(20, (2 * remaining * msPerBlock) / Math.min(KILLS - kills, 8)));
      }
      const exit = proc.running ? await killHard(proc) : await proc.exited;
      if (exit.signal === 'SIGKILL') kills++;
      else expect(exit.code, proc.output()).toBe(0);
      // Now and then the checker also imports the next block itself: the state loaded from disk must reproduce its root.
      const check = await checkDatadir(datadir, ref, { importNext: random() < 0.3 });
      // Durable: nothing committed before the kill is ever lost.
      expect(check.height).toBeGreaterThanOrEqual(height);
      heights.push(check.height);
      height = check.height;
      if (height === HEIGHT && kills < KILLS) {
        await newDatadir();
        height = -1;
      }
    }
    console.log(`crash test: ${kills} SIGKILLs over ${life} datadirs; head height after each: ${heights.join(' ')}`);
    expect(new Set(heights.filter((h) => h > 0 && h < HEIGHT)).size, `distinct mid-chain heights in ${heights.join(' ')}`).toBeGreaterThanOrEqual(8);

    // Resume until done: the same head, state root and indexes as the node that was never killed.
    const resumed = await runCliToEnd(['import', '--datadir', datadir, '--log-level', 'warn', exportFile], { timeoutMs: 60_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(`head at height ${HEIGHT} (${toHex(ref.blocks[HEIGHT]!.hash)})`);
    expect((await checkDatadir(datadir, ref)).height).toBe(HEIGHT);
  }, 150_000);
});
