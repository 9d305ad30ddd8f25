import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLevelChainStore } from '../../../src/store/chainStore.ts';
import { StoreError } from '../../../src/store/errors.ts';
import { spawnFixture } from './childProcess.ts';

async function startError(start: Promise<void>): Promise<StoreError> {
  const error: unknown = await start.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreError);
  return error as StoreError;
}

describe('datadir lock', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'medchain-lock-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a second open in the same process, then allows it once the first stops', async () => {
    const first = createLevelChainStore(dir);
    const second = createLevelChainStore(dir);
    await first.start();
    await first.write([{ kind: 'head', head: { hash: new Uint8Array(32).fill(1), height: 1 } }]);
    const error = await startError(second.start());
    expect(error.code).toBe('LOCKED');
    expect(error.message).toBe(`the datadir ${dir} is in use by another medchain process; stop that node or choose another --datadir`);
    // A failed start leaves the store stoppable and startable again.
    await second.stop();
    await first.stop();
    await second.start();
    expect((await second.getHead())?.height).toBe(1);
    await second.stop();
  });

  it('refuses to open a datadir another process holds, and frees it when that process is killed', async () => {
    const holder = spawnFixture('store-lock.ts', ['hold', dir]);
    try {
      await holder.waitForLine((line) => line === 'ready');
      const store = createLevelChainStore(dir);
      const error = await startError(store.start());
      expect(error.code).toBe('LOCKED');
      expect(error.message).toContain(`the datadir ${dir} is in use by another medchain process`);
      holder.process.kill('SIGKILL');
      await holder.exited;
      // The OS drops the lock with the process: no stale lock file to clean up by hand.
      await store.start();
      await store.stop();
    } finally {
      holder.process.kill('SIGKILL');
    }
  });

  it('makes another process fail with LOCKED while this one holds the datadir', async () => {
    const store = createLevelChainStore(dir);
    await store.start();
    try {
      const child = spawnFixture('store-lock.ts', ['try', dir]);
      const { code, stderr } = await child.exited;
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      const result = JSON.parse(child.lines[0] ?? 'null') as { code: string; message: string };
      expect(result.code).toBe('LOCKED');
      expect(result.message).toContain(`the datadir ${dir} is in use by another medchain process`);
    } finally {
      await store.stop();
    }
    const child = spawnFixture('store-lock.ts', ['try', dir]);
    await child.exited;
    expect(JSON.parse(child.lines[0] ?? 'null')).toEqual({ code: 'OPENED', message: '' });
  });
});
