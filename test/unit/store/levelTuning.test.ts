import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LEVEL_WRITE_BUFFER_BYTES, LevelKeyValueStore } from '../../../src/store/levelKv.ts';
import type { KvOp } from '../../../src/store/kv.ts';

/** 1 KiB values, incompressible: what the memtable holds is what was written. */
function batchOf(first: number, count: number): KvOp[] {
  const ops: KvOp[] = [];
  for (let i = first; i < first + count; i++) {
    const key = new Uint8Array(8);
    new DataView(key.buffer).setUint32(4, i);
    ops.push({ type: 'put', key, value: new Uint8Array(randomBytes(1024)) });
  }
  return ops;
}

async function tableFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.ldb') || name.endsWith('.sst'));
}

describe('LevelKeyValueStore tuning', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('keeps blocks of writes in its memtable well past LevelDB’s 4 MiB default before flushing a table', async () => {
    expect(LEVEL_WRITE_BUFFER_BYTES).toBeGreaterThanOrEqual(32 * 1024 * 1024);
    dir = await mkdtemp(join(tmpdir(), 'medchain-level-tuning-'));
    const location = join(dir, 'db');
    const kv = new LevelKeyValueStore(location);
    await kv.open();
    // 24 MiB in 1 MiB synced batches, as blocks arrive: the default write buffer would have flushed five tables.
    for (let b = 0; b < 24; b++) await kv.batch(batchOf(b * 1024, 1024), { sync: true });
    expect(await tableFiles(location)).toEqual([]);
    await kv.close();

    // Nothing was lost by holding it in the log: reopening replays it.
    const again = new LevelKeyValueStore(location);
    await again.open();
    const key = new Uint8Array(8);
    new DataView(key.buffer).setUint32(4, 24 * 1024 - 1);
    expect((await again.get(key))?.length).toBe(1024);
    await again.close();
  });
});
