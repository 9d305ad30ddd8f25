import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeBlock, encodeHeader } from '../../src/codec/block.ts';
import { concatBytes, readU32be, toHex, u32be } from '../../src/codec/bytes.ts';
import { sealPosHeader } from '../../src/consensus/pos/posEngine.ts';
import { EXPORT_HEADER_BYTES, EXPORT_MAGIC } from '../../src/cli/commands/export.ts';
import { chainDatabaseDir } from '../../src/node/openChain.ts';
import { MAX_BLOCK_BYTES } from '../../src/types/primitives.ts';
import { testKey } from '../helpers/fixtures.ts';
import { killAll, runCliToEnd } from '../helpers/process.ts';
import { checkDatadir } from './datadirCheck.ts';
import { buildReferenceChain, type ReferenceChain } from './referenceChain.ts';

const HEIGHT = 20;

/** Splits an export into its header and frames (length prefix included). */
function framesOf(file: Uint8Array): { header: Uint8Array; frames: Uint8Array[] } {
  const frames: Uint8Array[] = [];
  let at = EXPORT_HEADER_BYTES;
  while (at < file.length) {
    const length = readU32be(file, at);
    frames.push(file.subarray(at, at + 4 + length));
    at += 4 + length;
  }
  return { header: file.subarray(0, EXPORT_HEADER_BYTES), frames };
}

function expectNoStack(text: string): void {
  expect(text).not.toMatch(/\n\s+at .*\.ts:\d+/);
  expect(text).not.toContain('Error:');
}

describe('medchain export / import', () => {
  let dir: string;
  let ref: ReferenceChain;
  let full: string;
  let fullBytes: Uint8Array;
  let nextDatadir = 0;

  /** A fresh datadir with the reference genesis file, not yet opened. */
  async function datadir(genesisJson: object = ref.genesisJson): Promise<string> {
    const d = join(dir, `node-${nextDatadir++}`);
    await mkdir(d);
    await writeFile(join(d, 'genesis.json'), JSON.stringify(genesisJson));
    return d;
  }

  async function importFile(d: string, file: string) {
    const result = await runCliToEnd(['import', '--datadir', d, '--log-level', 'warn', file]);
    expectNoStack(result.stderr);
    return result;
  }

  async function writeExport(name: string, bytes: Uint8Array): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return path;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'medchain-export-'));
    await mkdir(join(dir, 'ref'));
    ref = await buildReferenceChain(join(dir, 'ref'), HEIGHT, 12);
    full = join(dir, 'full.blocks');
    const exported = await runCliToEnd(['export', '--datadir', join(dir, 'ref'), '--out', full]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toContain(`exported blocks 1..${HEIGHT}`);
    fullBytes = new Uint8Array(await readFile(full));
  }, 60_000);

  afterEach(killAll);
  afterAll(async () => {
    await killAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a header with the magic, version 1, the genesis hash and the range, then one frame per block', () => {
    const { header, frames } = framesOf(fullBytes);
    expect(header.subarray(0, EXPORT_MAGIC.length)).toEqual(EXPORT_MAGIC);
    expect(readU32be(header, 16)).toBe(1);
    expect(toHex(header.subarray(20, 52))).toBe(toHex(ref.blocks[0]!.hash));
    expect([readU32be(header, 52), readU32be(header, 56)]).toEqual([1, HEIGHT]);
    expect(frames.map((f) => toHex(f.subarray(4)))).toEqual(ref.blocks.slice(1).map((b) => toHex(b.bytes)));
  });

  it('imports in parts, skipping the blocks it already has, to the same head and state', async () => {
    const part = join(dir, 'part.blocks');
    const exported = await runCliToEnd(['export', '--datadir', join(dir, 'ref'), '--out', part, '--from', '1', '--to', '8']);
    expect(exported.code, exported.stderr).toBe(0);
    const d = await datadir();
    const first = await importFile(d, part);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('importing blocks 1..8 from');
    expect(first.stdout).toContain('imported 8 blocks (0 already known)');
    const second = await importFile(d, full);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain(`imported ${HEIGHT - 8} blocks (8 already known)`);
    expect(second.stdout).toContain(`head at height ${HEIGHT} (${toHex(ref.blocks[HEIGHT]!.hash)})`);
    expect((await checkDatadir(d, ref)).height).toBe(HEIGHT);
  });

  it('refuses a range that does not start on the head, naming the height and the reason', async () => {
    const tail = join(dir, 'tail.blocks');
    expect((await runCliToEnd(['export', '--datadir', join(dir, 'ref'), '--out', tail, '--from', '5'])).code).toBe(0);
    const d = await datadir();
    const result = await importFile(d, tail);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/block 1 of 16 \(height 5\) is invalid: UNKNOWN_PARENT: .*head at height 0/);
    expect((await checkDatadir(d, ref)).height).toBe(0);
  });

  it('refuses export mistakes with a message and an exit code', async () => {
    const ref1 = join(dir, 'ref');
    const exists = await runCliToEnd(['export', '--datadir', ref1, '--out', full]);
    expect([exists.code, exists.stderr]).toEqual([1, expect.stringContaining('exists; remove it')]);
    const above = await runCliToEnd(['export', '--datadir', ref1, '--out', join(dir, 'x.blocks'), '--to', String(HEIGHT + 1)]);
    expect([above.code, above.stderr]).toEqual([1, expect.stringContaining(`--to ${HEIGHT + 1} is above the head (height ${HEIGHT})`)]);
    const missing = await runCliToEnd(['export', '--datadir', join(dir, 'nowhere'), '--out', join(dir, 'y.blocks')]);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringContaining('holds no chain database')]);
    expect(existsSync(join(dir, 'nowhere'))).toBe(false);
    const badHeight = await runCliToEnd(['export', '--datadir', ref1, '--out', join(dir, 'z.blocks'), '--from', 'ten']);
    expect([badHeight.code, badHeight.stderr]).toEqual([2, expect.stringContaining('--from must be a block height')]);
    for (const r of [exists, above, missing, badHeight]) expectNoStack(r.stderr);
    expect(existsSync(join(dir, 'x.blocks')) || existsSync(join(dir, 'x.blocks.partial'))).toBe(false);
  });

  it('refuses blocks of another chain before touching the datadir, naming both genesis hashes', async () => {
    const other = { ...ref.genesisJson, chainId: 'medchain-other' };
    const d = await datadir(other);
    const result = await importFile(d, full);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`genesis ${toHex(ref.blocks[0]!.hash)}`);
    expect(result.stderr).toMatch(/gives genesis [0-9a-f]{64}/);
    expect(existsSync(chainDatabaseDir(d))).toBe(false);
  });

  it('refuses hostile files with a clear message and leaves the datadir as it was', async () => {
    const { header, frames } = framesOf(fullBytes);
    const oversize = frames[3]!.slice();
    oversize.set(u32be(MAX_BLOCK_BYTES + 1), 0);
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['empty', new Uint8Array(0), /not a medchain block export/],
      ['garbage', Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 0xff), /not a medchain block export/],
      ['short-header', fullBytes.subarray(0, 30), /header is cut short \(30 of 60 bytes\)/],
      ['version-9', concatBytes(header.subarray(0, 16), u32be(9), header.subarray(20), ...frames), /format version 9; this medchain reads version 1/],
      ['truncated-frame', fullBytes.subarray(0, fullBytes.length - 10), /truncated: block 20 of 20 \(height 20\) needs \d+ bytes but only \d+ remain/],
      ['cut-at-frame', concatBytes(header, ...frames.slice(0, 12)), /truncated: the file ends at byte \d+ where block 13 of 20 \(height 13\) should start/],
      ['oversize-length', concatBytes(header, ...frames.slice(0, 3), oversize, ...frames.slice(4)), /block 4 of 20 \(height 4\) at byte \d+ declares 8388609 bytes; a block is 1 to 8388608 bytes/],
      ['zero-length', concatBytes(header, ...frames.slice(0, 2), u32be(0), ...frames.slice(2)), /block 3 of 20 \(height 3\) at byte \d+ declares 0 bytes/],
      ['trailing', concatBytes(fullBytes, Uint8Array.of(1, 2, 3)), /3 unexpected bytes follow the last of its 20 blocks/],
    ];
    const d = await datadir();
    const part = join(dir, 'first5.blocks');
    expect((await runCliToEnd(['export', '--datadir', join(dir, 'ref'), '--out', part, '--to', '5'])).code).toBe(0);
    expect((await importFile(d, part)).code).toBe(0);
    for (const [name, bytes, message] of cases) {
      const result = await importFile(d, await writeExport(`${name}.blocks`, bytes));
      expect([name, result.code, result.stderr]).toEqual([name, 1, expect.stringMatching(message)]);
    }
    // None of them got past the structural check, so the datadir still holds exactly blocks 0..5.
    expect((await checkDatadir(d, ref)).height).toBe(5);
  }, 60_000);

  it('stops at the first invalid block, keeping the valid ones before it', async () => {
    const { header, frames } = framesOf(fullBytes);
    // Block 7 with a wrong state root, properly signed by its proposer: only execution can tell.
    const block = ref.blocks[7]!;
    const forged = sealPosHeader({ ...block.header, stateRoot: new Uint8Array(32).fill(7) }, testKey('hospital').secretKey);
    const forgedBytes = encodeBlock(encodeHeader(forged), block.transactions.map((tx) => tx.bytes));
    const file = await writeExport('forged.blocks', concatBytes(header, ...frames.slice(0, 6), u32be(forgedBytes.length), forgedBytes, ...frames.slice(7)));
    const d = await datadir();
    const result = await importFile(d, file);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('block 7 of 20 (height 7) is invalid: BAD_STATE_ROOT');
    expect(result.stderr).toContain('Stopped there: 6 blocks imported, head at height 6');
    expect((await checkDatadir(d, ref)).height).toBe(6);

    // A garbled block body is a decode failure, reported the same way.
    const garbled = frames[2]!.slice();
    garbled[garbled.length - 1]! ^= 0xff;
    garbled[10]! ^= 0xff;
    const garbledFile = await writeExport('garbled.blocks', concatBytes(header, ...frames.slice(0, 2), garbled, ...frames.slice(3)));
    const d2 = await datadir();
    const garbledResult = await importFile(d2, garbledFile);
    expect(garbledResult.code).toBe(1);
    expect(garbledResult.stderr).toMatch(/block 3 of 20 \(height 3\) is invalid: [A-Z_]+/);
    expect((await checkDatadir(d2, ref)).height).toBe(2);
  }, 60_000);
});
