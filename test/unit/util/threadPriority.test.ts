import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { describe, expect, it } from 'vitest';
import { POW_MINER_THREAD_NAME, PowSealer } from '../../../src/chain/sealer.ts';
import { VERIFY_THREAD_NAME, WorkerSignatureVerifier } from '../../../src/chain/verifyPool.ts';
import { TxType } from '../../../src/types/transaction.ts';
import { checkNiceness, lowerThreadPriority, POW_MINER_NICENESS, VERIFY_NICENESS } from '../../../src/util/threadPriority.ts';
import { silentLogger, testKey, testTx } from '../../helpers/fixtures.ts';

const linux = process.platform === 'linux';

/** The nice value of every live thread of this process named `name`, from /proc. */
function nicenessOf(name: string): number[] {
  const out: number[] = [];
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== name) continue;
    // The fields after the name start at field 3 (state); nice is field 19.
    out.push(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
  }
  return out;
}

describe('background threads run below the main thread', () => {
  it('orders them: main, then signature checks, then mining', () => {
    expect(0).toBeLessThan(VERIFY_NICENESS);
    expect(VERIFY_NICENESS).toBeLessThan(POW_MINER_NICENESS);
    // Linux keeps 15 characters of a thread's name: longer ones would not show (or be counted) as set.
    expect(VERIFY_THREAD_NAME.length).toBeLessThanOrEqual(15);
    expect(POW_MINER_THREAD_NAME.length).toBeLessThanOrEqual(15);
  });

  it.runIf(linux)('lowers the verify workers, and only them', async () => {
    const main = getPriority();
    const verifier = new WorkerSignatureVerifier({ workers: 2 });
    await verifier.start();
    try {
      const lowered = Math.min(19, main + VERIFY_NICENESS);
      expect(nicenessOf(VERIFY_THREAD_NAME)).toEqual([lowered, lowered]);
      expect(getPriority()).toBe(main);
      // They still verify.
      const tx = testTx(testKey('nice'), 0, { type: TxType.RegisterIdentity, role: 'patient' });
      await expect(verifier.verifyTransactions([tx])).resolves.toBe(-1);
    } finally {
      await verifier.stop();
    }
    const unchanged = new WorkerSignatureVerifier({ workers: 1, niceness: 0 });
    await unchanged.start();
    try {
      expect(nicenessOf(VERIFY_THREAD_NAME)).toEqual([main]);
    } finally {
      await unchanged.stop();
    }
  });

  it.runIf(linux)('lowers the PoW miner below the verify workers', async () => {
    const main = getPriority();
    const sealer = new PowSealer(silentLogger);
    await sealer.start();
    try {
      // The worker lowers itself as it loads: wait until it has.
      const lowered = Math.min(19, main + POW_MINER_NICENESS);
      for (let i = 0; i < 100 && nicenessOf(POW_MINER_THREAD_NAME)[0] !== lowered; i++) await new Promise((r) => setTimeout(r, 20));
      expect(nicenessOf(POW_MINER_THREAD_NAME)).toEqual([lowered]);
      expect(getPriority()).toBe(main);
    } finally {
      await sealer.stop();
    }
  });

  it('refuses a niceness outside 0 to 19', () => {
    expect(checkNiceness(0, 'n')).toBe(0);
    expect(checkNiceness(19, 'n')).toBe(19);
    expect(() => new WorkerSignatureVerifier({ niceness: 20 })).toThrow('niceness must be an integer from 0 to 19, got 20');
    expect(() => new WorkerSignatureVerifier({ niceness: -1 })).toThrow(RangeError);
    expect(() => new WorkerSignatureVerifier({ niceness: 1.5 })).toThrow(RangeError);
  });
});

describe('lowerThreadPriority', () => {
  it('never lowers the main thread', () => {
    const before = getPriority();
    lowerThreadPriority(7);
    expect(getPriority()).toBe(before);
  });
});
