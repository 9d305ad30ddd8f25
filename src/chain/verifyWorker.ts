import { parentPort, workerData } from 'node:worker_threads';
import { verify } from '../crypto/ed25519.ts';
import { merkleRoot } from '../crypto/merkle.ts';
import { lowerThreadPriority } from '../util/threadPriority.ts';

/**
 * A chunk of signature checks packed in one transferable buffer:
 *   count u32, then per item: message length u32, signature (64), public key (32), message.
 * The worker answers with the index (within the chunk) of the first invalid signature, or -1.
 */
export interface VerifyChunk {
  readonly id: number;
  readonly kind: 'verify';
  readonly buffer: ArrayBuffer;
}

/** A block's transaction ids, 32 bytes each back to back: the worker answers with their Merkle root. */
export interface MerkleJob {
  readonly id: number;
  readonly kind: 'merkle';
  readonly buffer: ArrayBuffer;
}

export interface VerifyChunkResult {
  readonly id: number;
  readonly firstInvalid: number;
}

export interface MerkleJobResult {
  readonly id: number;
  readonly root: Uint8Array;
}

export interface VerifyWorkerData {
  /** Nice increment for this thread (see VerifyPoolOptions.niceness). */
  readonly niceness: number;
}

lowerThreadPriority((workerData as VerifyWorkerData | undefined)?.niceness ?? 0);

parentPort!.on('message', (job: VerifyChunk | MerkleJob) => {
  if (job.kind === 'merkle') {
    const ids = new Uint8Array(job.buffer);
    const leaves: Uint8Array[] = [];
    for (let at = 0; at < ids.length; at += 32) leaves.push(ids.subarray(at, at + 32));
    parentPort!.postMessage({ id: job.id, root: merkleRoot(leaves) } satisfies MerkleJobResult);
    return;
  }
  const { id, buffer } = job;
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  const count = view.getUint32(0);
  let offset = 4;
  let firstInvalid = -1;
  for (let i = 0; i < count; i++) {
    const length = view.getUint32(offset);
    const signature = bytes.subarray(offset + 4, offset + 68);
    const publicKey = bytes.subarray(offset + 68, offset + 100);
    const message = bytes.subarray(offset + 100, offset + 100 + length);
    offset += 100 + length;
    if (!verify(signature, message, publicKey)) {
      firstInvalid = i;
      break;
    }
  }
  parentPort!.postMessage({ id, firstInvalid } satisfies VerifyChunkResult);
});
