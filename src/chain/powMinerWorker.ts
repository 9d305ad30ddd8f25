import { parentPort, workerData } from 'node:worker_threads';
import { searchNonce } from '../consensus/pow/mine.ts';
import { lowerThreadPriority } from '../util/threadPriority.ts';

/** A mining job: find a nonce for `headerBytes` (its last 8 bytes) at `difficulty`. */
export interface MineJob {
  readonly id: number;
  readonly headerBytes: Uint8Array;
  readonly difficulty: bigint;
}

export interface MineResult {
  readonly id: number;
  readonly nonce: bigint | null;
  readonly hashes: number;
}

// Hashes per slice: between slices the worker reads the shared flag, so a cancel lands within ~20 ms.
const SLICE = 20_000;
export interface MinerWorkerData {
  /** Holds the id of the job the main thread still wants; any other value cancels. */
  readonly flag: SharedArrayBuffer;
  /** Nice increment for this thread (util/threadPriority.ts). */
  readonly niceness: number;
}

const { flag, niceness } = workerData as MinerWorkerData;
const current = new Int32Array(flag);
lowerThreadPriority(niceness);

parentPort!.on('message', (job: MineJob) => {
  let start = 0n;
  let hashes = 0;
  while (Atomics.load(current, 0) === job.id) {
    const nonce = searchNonce(job.headerBytes, job.difficulty, start, SLICE);
    if (nonce !== null) {
      hashes += Number(nonce - start) + 1;
      parentPort!.postMessage({ id: job.id, nonce, hashes } satisfies MineResult);
      return;
    }
    start += BigInt(SLICE);
    hashes += SLICE;
  }
  parentPort!.postMessage({ id: job.id, nonce: null, hashes } satisfies MineResult);
});
