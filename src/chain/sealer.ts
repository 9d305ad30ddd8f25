import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { encodeHeader } from '../codec/block.ts';
import { decodePowSeal, encodePowSeal } from '../consensus/pow/powEngine.ts';
import { sealPosHeader } from '../consensus/pos/posEngine.ts';
import type { BlockHeader } from '../types/block.ts';
import type { Startable } from '../util/lifecycle.ts';
import { POW_MINER_NICENESS } from '../util/threadPriority.ts';
import type { MineJob, MineResult, MinerWorkerData } from './powMinerWorker.ts';

/** The miner's thread name in `top -H` and /proc (15 characters at most). */
export const POW_MINER_THREAD_NAME = 'medchain-pow';

/** Turns a built header into a sealed one; resolves null when aborted (the head moved, or shutdown). */
export interface Sealer extends Startable {
  seal(header: BlockHeader, signal: AbortSignal): Promise<BlockHeader | null>;
}

/** PoS: the proposer signs the header. */
export class PosSealer implements Sealer {
  readonly #secretKey: Uint8Array;

  constructor(secretKey: Uint8Array) {
    this.#secretKey = secretKey;
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  async seal(header: BlockHeader): Promise<BlockHeader> {
    return sealPosHeader(header, this.#secretKey);
  }
}

/**
 * PoW: a worker thread searches nonces, so mining never blocks the event loop. It runs below the main thread
 * and the signature workers (POW_MINER_NICENESS): mining is the one thing a node can do less of under load
 * without falling behind the chain.
 */
export class PowSealer implements Sealer {
  readonly #logger: Logger;
  readonly #flag = new Int32Array(new SharedArrayBuffer(4));
  #worker: Worker | undefined;
  #nextJobId = 1;
  #pending = new Map<number, (result: MineResult) => void>();
  /** Hashes computed since start, for the hash-rate metric. */
  hashes = 0;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  async start(): Promise<void> {
    const worker = new Worker(new URL('./powMinerWorker.ts', import.meta.url), {
      name: POW_MINER_THREAD_NAME,
      workerData: { flag: this.#flag.buffer as SharedArrayBuffer, niceness: POW_MINER_NICENESS } satisfies MinerWorkerData,
    });
    worker.on('message', (result: MineResult) => {
      this.hashes += result.hashes;
      this.#pending.get(result.id)?.(result);
      this.#pending.delete(result.id);
    });
    worker.on('error', (error) => {
      for (const resolve of this.#pending.values()) resolve({ id: 0, nonce: null, hashes: 0 });
      this.#pending.clear();
      this.#worker = undefined;
      this.#logger.error({ err: error }, 'the PoW miner worker failed; mining stops');
    });
    this.#worker = worker;
  }

  async stop(): Promise<void> {
    Atomics.store(this.#flag, 0, 0);
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
    for (const resolve of this.#pending.values()) resolve({ id: 0, nonce: null, hashes: 0 });
    this.#pending.clear();
  }

  async seal(header: BlockHeader, signal: AbortSignal): Promise<BlockHeader | null> {
    const worker = this.#worker;
    const seal = decodePowSeal(header.seal);
    if (worker === undefined || seal === undefined || signal.aborted) return null;
    const id = this.#nextJobId++;
    Atomics.store(this.#flag, 0, id);
    const result = await new Promise<MineResult>((resolve) => {
      this.#pending.set(id, resolve);
      const onAbort = (): void => {
        // The worker notices within one slice and answers with nonce null.
        if (Atomics.load(this.#flag, 0) === id) Atomics.store(this.#flag, 0, 0);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      worker.postMessage({ id, headerBytes: encodeHeader(header), difficulty: seal.difficulty } satisfies MineJob);
    });
    if (result.nonce === null) return null;
    return { ...header, seal: encodePowSeal({ difficulty: seal.difficulty, nonce: result.nonce }) };
  }
}
