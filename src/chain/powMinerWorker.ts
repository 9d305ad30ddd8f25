import { parentPort, workerData } from 'node:worker_threads';
import { searchNonce } from '../consensus/pow/mine.ts';

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
// The shared flag holds the id of the job the main thread still wants; any other value cancels.
const current = new Int32Array(workerData as SharedArrayBuffer);

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
