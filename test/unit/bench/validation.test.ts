import { afterEach, describe, expect, it, vi } from 'vitest';
import { Chain } from '../../../src/chain/chain.ts';
import { BlockError, BlockErrorCode } from '../../../src/state/errors.ts';
import { runValidation, validateBlock } from '../../../bench/lib/validation.ts';
import { generateWorkload } from '../../../bench/lib/workload.ts';
import { runCli } from '../../../src/cli/runCli.ts';

/**
 * Issue 7: a benchmark is not a test, but a test proves that what `bench:validate` times is the node's own
 * import path, with no check skipped: every block goes through Chain#importBlock, and a block with one bad
 * signature (correct tx root and state root, sealed by the proposer) is refused by it, warm or cold.
 */
describe('bench:validate measures the production import path', () => {
  afterEach(() => vi.restoreAllMocks());

  it('times chain.importBlock itself', async () => {
    const importBlock = vi.spyOn(Chain.prototype, 'importBlock');
    const workload = await generateWorkload({ mix: 'emr', seed: 3, txsPerBlock: 24, blocks: 2 });
    const result = await runValidation(workload, { workers: 2, warm: false });
    expect(result.blockMs).toHaveLength(2);
    // Every setup and measured block, and nothing else, went through importBlock with the workload's bytes.
    expect(importBlock.mock.calls.map(([bytes]) => bytes)).toEqual([...workload.setup, ...workload.measured]);
    // Each timed import reported its phases, signatures included.
    expect(result.timings).toHaveLength(2);
    for (const t of result.timings) expect(t.transactions).toBe(24);
    // validateBlock is a plain delegation to importBlock.
    const chain = { importBlock: vi.fn(async () => 'imported') } as unknown as Chain;
    const bytes = new Uint8Array([1, 2, 3]);
    await expect(validateBlock(chain, bytes)).resolves.toBe('imported');
    expect(chain.importBlock).toHaveBeenCalledWith(bytes);
  });

  it.each([
    ['cold, 1 worker', 1, false],
    ['cold, 2 workers', 2, false],
    ['warm, 2 workers', 2, true],
  ] as const)('refuses a block with one bad signature (%s)', async (_name, workers, warm) => {
    const workload = await generateWorkload({ mix: 'plain', seed: 5, txsPerBlock: 40, blocks: 2, tamper: { block: 1, tx: 17 } });
    const refusal = await runValidation(workload, { workers, warm }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(BlockError);
    expect(refusal).toMatchObject({ code: BlockErrorCode.BadSignature, message: 'transaction 17 has an invalid signature' });
  });

  it('refuses a bad signature in the EMR mix too, where policies run while the workers verify', async () => {
    const workload = await generateWorkload({ mix: 'emr', seed: 9, txsPerBlock: 30, blocks: 1, tamper: { block: 0, tx: 29 } });
    await expect(runValidation(workload, { workers: 2, warm: false })).rejects.toMatchObject({ code: BlockErrorCode.BadSignature });
  });

  it('generates the same blocks from the same seed, and other blocks from another', async () => {
    const a = await generateWorkload({ mix: 'emr', seed: 11, txsPerBlock: 20, blocks: 2 });
    const b = await generateWorkload({ mix: 'emr', seed: 11, txsPerBlock: 20, blocks: 2 });
    const c = await generateWorkload({ mix: 'emr', seed: 12, txsPerBlock: 20, blocks: 2 });
    expect(b.measured).toEqual(a.measured);
    expect(b.headHash).toEqual(a.headHash);
    expect(c.headHash).not.toEqual(a.headHash);
    // The measured EMR blocks hold the whole mix, policy-checked reads and writes included.
    expect(Object.keys(a.mixCounts).sort()).toEqual(expect.arrayContaining(['read', 'doctorVersion', 'grant']));
  });

  it('is registered as `medchain bench validate` and refuses bad options', async () => {
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: () => undefined };
    expect(await runCli(['bench', '--help'], io)).toBe(0);
    expect(out.join('\n')).toContain('medchain bench validate');
    await expect(runCli(['bench', 'validate', '--sizes', '0'], io)).rejects.toThrow('--sizes must be an integer from 1 to 10000');
    await expect(runCli(['bench', 'nope'], io)).rejects.toThrow('unknown benchmark "nope"');
  });
});
