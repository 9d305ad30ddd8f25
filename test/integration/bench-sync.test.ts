import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * Issue 7 §3: a benchmark is not a test, but this proves that `bench:sync` runs the node's sync path end to
 * end on a small chain: the fully checked sync trusts no block, the trusted-checkpoint sync trusts every
 * block below the checkpoint (after verifying the header chain), and both end on the source's head (the
 * bench throws otherwise).
 */
describe('bench:sync', () => {
  it('syncs a small EMR chain twice over libp2p: every block checked, then every block on the trusted header chain', async () => {
    const out = await mkdtemp(join(tmpdir(), 'medchain-bench-sync-test-'));
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['bench/sync.ts', '--blocks', '30', '--min-txs', '5', '--max-txs', '15', '--out', out], {
        cwd: join(import.meta.dirname, '../..'),
        timeout: 120_000,
      });
      expect(stdout).toMatch(/sync, every signature checked/);
      const report = JSON.parse(await readFile(join(out, 'sync.json'), 'utf8'));
      expect(report).toMatchObject({ blocks: 30, seed: 20261124 });
      expect(report.sync).toMatchObject({ importedBlocks: 30, trustedBlocks: 0 });
      expect(report.syncTrustedCheckpoint).toMatchObject({ importedBlocks: 30, trustedBlocks: 30 });
      expect(report.txs).toBeGreaterThanOrEqual(30 * 5);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 150_000);
});
