/**
 * Block validation through the production path: a Chain over a fresh LevelDB datadir with the node's
 * WorkerSignatureVerifier, each block handed to `chain.importBlock(bytes)` (decode, hashes, every signature,
 * policies, state, commitment, one synced batch). Nothing here validates anything itself.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Chain } from '../../src/chain/chain.ts';
import type { ImportTimings } from '../../src/chain/importTimings.ts';
import { SignatureCache, verifyTransactionSignature } from '../../src/chain/signatureVerifier.ts';
import { WorkerSignatureVerifier } from '../../src/chain/verifyPool.ts';
import { bytesEqual, toHex } from '../../src/codec/bytes.ts';
import { decodeBlock } from '../../src/codec/block.ts';
import { createEngine } from '../../src/consensus/index.ts';
import { createLevelChainStore } from '../../src/store/index.ts';
import type { Block } from '../../src/types/block.ts';
import { takeThreadCpu, threadCpuBetween, type ThreadCpuMs } from './threadCpu.ts';
import type { Workload } from './workload.ts';

/** The one call the benchmark times: the node's import of a block received as bytes. */
export function validateBlock(chain: Chain, bytes: Uint8Array): Promise<Block> {
  return chain.importBlock(bytes);
}

export interface ValidationOptions {
  /** Signature worker threads. */
  readonly workers: number;
  /**
   * The warm path: every measured transaction's signature was checked when it entered the mempool, so the
   * node's SignatureCache holds it (filled here before timing, each signature checked as the mempool does).
   */
  readonly warm: boolean;
  /**
   * Queue every measured block at once, as a range import does, instead of awaiting each before the next:
   * the chain then decodes the next block and starts its signature checks while the current one commits.
   */
  readonly pipelined?: boolean;
  /** Called after each measured block (the runner samples memory there). */
  readonly onBlock?: () => void;
}

export interface ValidationResult {
  readonly workers: number;
  readonly warm: boolean;
  readonly pipelined: boolean;
  /** Wall time of each measured block's import (pipelined: from the previous block's resolution to its own). */
  readonly blockMs: readonly number[];
  readonly txsPerBlock: number;
  /** Phase timings of each measured block. */
  readonly timings: readonly ImportTimings[];
  /**
   * CPU the process's threads spent on the measured blocks, by role, per block in ms (from the first measured
   * import to the last one's durable batch); null where threads cannot be read (not Linux).
   */
  readonly cpuMsPerBlock: ThreadCpuMs | null;
}

/** Imports the workload's setup blocks, then times the import of each measured block, into a fresh datadir. */
export async function runValidation(workload: Workload, options: ValidationOptions): Promise<ValidationResult> {
  const dir = await mkdtemp(join(tmpdir(), 'medchain-bench-validate-'));
  const cache = new SignatureCache();
  const verifier = new WorkerSignatureVerifier({ workers: options.workers }, cache);
  const store = createLevelChainStore(join(dir, 'chain'));
  const timings: ImportTimings[] = [];
  let measuring = false;
  const chain = new Chain(
    { genesis: workload.genesis },
    {
      store,
      engine: createEngine(workload.genesis),
      verifier,
      knownTransactions: cache,
      logger: pino({ level: 'silent' }),
      clock: () => workload.headTime + 1000,
      onImportTimings: (t) => {
        if (measuring) timings.push(t);
      },
    },
  );
  try {
    await verifier.start();
    await store.start();
    await chain.start();
    for (const bytes of workload.setup) await validateBlock(chain, bytes);
    if (options.warm) {
      for (const bytes of workload.measured) {
        for (const tx of decodeBlock(bytes).transactions) if (verifyTransactionSignature(tx)) cache.add(tx);
      }
    }
    const blockMs: number[] = [];
    const cpuBefore = takeThreadCpu();
    measuring = true;
    if (options.pipelined === true) {
      let last = performance.now();
      const imports = workload.measured.map((bytes) =>
        validateBlock(chain, bytes).then(() => {
          const now = performance.now();
          blockMs.push(now - last);
          last = now;
          options.onBlock?.();
        }),
      );
      await Promise.all(imports);
    } else {
      for (const bytes of workload.measured) {
        const start = performance.now();
        await validateBlock(chain, bytes);
        blockMs.push(performance.now() - start);
        options.onBlock?.();
      }
    }
    measuring = false;
    // Read before the workers stop: a thread that has ended can no longer be read.
    const cpuAfter = takeThreadCpu();
    let cpuMsPerBlock: ThreadCpuMs | null = null;
    if (cpuBefore !== null && cpuAfter !== null) {
      const cpu = threadCpuBetween(cpuBefore, cpuAfter);
      for (const role of Object.keys(cpu) as (keyof ThreadCpuMs)[]) cpu[role] /= workload.measured.length;
      cpuMsPerBlock = cpu;
    }
    // The imported chain must end where the producer's did: same blocks, same state roots.
    if (!bytesEqual(chain.head.hash, workload.headHash)) {
      throw new Error(`the benchmark import ended at ${toHex(chain.head.hash)}, not at the workload's head ${toHex(workload.headHash)}`);
    }
    return { workers: options.workers, warm: options.warm, pipelined: options.pipelined === true, blockMs, txsPerBlock: workload.options.txsPerBlock, timings, cpuMsPerBlock };
  } finally {
    await chain.stop();
    await store.stop();
    await verifier.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
