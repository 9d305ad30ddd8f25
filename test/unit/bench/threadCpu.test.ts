import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { takeThreadCpu, threadCpuBetween, threadRole, totalCpuMs } from '../../../bench/lib/threadCpu.ts';
import { runValidation } from '../../../bench/lib/validation.ts';
import { generateWorkload } from '../../../bench/lib/workload.ts';
import { VERIFY_THREAD_NAME, WorkerSignatureVerifier } from '../../../src/chain/verifyPool.ts';

const linux = process.platform === 'linux';

/** Runs this thread until it has used `ms` of CPU (by its own clock, so a busy machine only makes it longer). */
function spin(ms: number): void {
  const start = process.threadCpuUsage();
  for (;;) {
    const used = process.threadCpuUsage(start);
    if ((used.user + used.system) / 1000 >= ms) return;
  }
}

describe('bench thread CPU accounting', () => {
  it('tells threads apart by tid and name', () => {
    expect(threadRole(100, 'MainThread', 100)).toBe('main');
    // A thread that inherited the main thread's name is not the main thread.
    expect(threadRole(101, 'MainThread', 100)).toBe('other');
    expect(threadRole(102, VERIFY_THREAD_NAME, 100)).toBe('verify');
    expect(threadRole(103, 'libuv-worker', 100)).toBe('libuv');
    expect(threadRole(104, 'V8Worker', 100)).toBe('v8');
    expect(threadRole(105, 'DelayedTaskSche', 100)).toBe('v8');
    expect(threadRole(106, 'node', 100)).toBe('other');
    // Linux keeps 15 characters of a thread name: the verify workers' name must fit, or it would never match.
    expect(VERIFY_THREAD_NAME.length).toBeLessThanOrEqual(15);
  });

  it.runIf(linux)('charges CPU to the thread that spent it', async () => {
    // The worker spins when told, then stays alive (its message listener holds it) so the second snapshot sees it.
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
      parentPort.on('message', () => {
        const start = process.threadCpuUsage();
        for (;;) { const used = process.threadCpuUsage(start); if ((used.user + used.system) / 1000 >= 80) break; }
        parentPort.postMessage('done');
      });`,
      { eval: true, name: VERIFY_THREAD_NAME },
    );
    await new Promise((resolve) => worker.once('online', resolve));
    const before = takeThreadCpu()!;
    const done = new Promise((resolve) => worker.once('message', resolve));
    worker.postMessage('go');
    spin(80);
    await done;
    const after = takeThreadCpu()!;
    await worker.terminate();
    const cpu = threadCpuBetween(before, after);
    expect(cpu.main).toBeGreaterThanOrEqual(70);
    expect(cpu.verify).toBeGreaterThanOrEqual(70);
    expect(totalCpuMs(cpu)).toBeGreaterThanOrEqual(cpu.main + cpu.verify);
  });

  it.runIf(linux)('names the signature workers so they can be counted', async () => {
    const verifier = new WorkerSignatureVerifier({ workers: 2 });
    const before = takeThreadCpu()!;
    await verifier.start();
    try {
      const after = takeThreadCpu()!;
      const added = [...after.threads].filter(([tid]) => !before.threads.has(tid)).map(([, t]) => t.role);
      expect(added.filter((role) => role === 'verify')).toHaveLength(2);
    } finally {
      await verifier.stop();
    }
  });

  it.runIf(linux)('reports where a measured import spent its CPU', async () => {
    const workload = await generateWorkload({ mix: 'plain', seed: 4, txsPerBlock: 200, blocks: 2 });
    const cold = await runValidation(workload, { workers: 2, warm: false, pipelined: true });
    expect(cold.cpuMsPerBlock).not.toBeNull();
    // 200 signatures per block: several ms of verifying on the workers, and the main thread decodes and executes.
    expect(cold.cpuMsPerBlock!.verify).toBeGreaterThan(2);
    expect(cold.cpuMsPerBlock!.main).toBeGreaterThan(0);
    // Warm, every signature is already in the cache: the workers only hash the tx root.
    const warm = await runValidation(workload, { workers: 2, warm: true, pipelined: true });
    expect(warm.cpuMsPerBlock!.verify).toBeLessThan(cold.cpuMsPerBlock!.verify / 2);
  });
});
