import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { FIXARRAY_5, SIGNATURE_TAIL } from '../codec/transaction.ts';
import type { Transaction } from '../types/transaction.ts';
import type { Startable } from '../util/lifecycle.ts';
import { checkNiceness, VERIFY_NICENESS } from '../util/threadPriority.ts';
import type { SignatureCache, SignatureVerifier } from './signatureVerifier.ts';
import type { MerkleJob, MerkleJobResult, VerifyChunk, VerifyChunkResult, VerifyWorkerData } from './verifyWorker.ts';

/**
 * The workers' thread name, as `top -H`, `ps -L` and /proc show it (Linux keeps 15 characters): an operator sees
 * which threads verify signatures, and bench:validate counts their CPU apart from the rest.
 */
export const VERIFY_THREAD_NAME = 'medchain-verify';

export interface VerifyPoolOptions {
  /** Worker threads; default: one per core. */
  readonly workers?: number;
  /** Transactions per message: a message costs about one verification, so chunks keep that overhead small. */
  readonly chunkSize?: number;
  /** The worker script (tests give one that fails on purpose); default: verifyWorker.ts. */
  readonly workerScript?: URL;
  /**
   * How much the workers lower their own scheduling priority (a nice increment, 0 to 19; Linux only; default
   * VERIFY_NICENESS, see util/threadPriority.ts). Signature checks are bulk work that keeps every core busy
   * during a sync or a full block; the main thread (imports, gossip, RPC, consensus duties) and LevelDB's
   * writes should not queue behind them.
   */
  readonly niceness?: number;
}

/**
 * Verifies transaction signatures on worker threads, in chunks packed into transferable buffers, skipping
 * transactions whose signatures the cache already holds (checked when they entered the mempool). Also
 * computes blocks' transaction roots there, so the importing thread only compares them.
 */
export class WorkerSignatureVerifier implements SignatureVerifier, Startable {
  readonly #size: number;
  readonly #chunkSize: number;
  readonly #cache: SignatureCache | undefined;
  readonly #script: URL;
  readonly #niceness: number;
  #workers: Worker[] = [];
  #next = 0;
  #nextId = 1;
  readonly #pending = new Map<number, { settle: (result: WorkerResult) => void; reject: (e: Error) => void }>();

  constructor(options: VerifyPoolOptions = {}, cache?: SignatureCache) {
    this.#size = Math.max(1, options.workers ?? availableParallelism());
    this.#chunkSize = Math.max(1, options.chunkSize ?? 128);
    this.#cache = cache;
    this.#script = options.workerScript ?? new URL('./verifyWorker.ts', import.meta.url);
    this.#niceness = checkNiceness(options.niceness ?? VERIFY_NICENESS, 'niceness');
  }

  get workers(): number {
    return this.#size;
  }

  async start(): Promise<void> {
    for (let i = 0; i < this.#size; i++) this.#workers.push(this.#spawn());
    // Workers load the module asynchronously; a first round trip makes the pool warm before the first block.
    await Promise.all(this.#workers.map((w) => this.#verify(w, packChunk([]))));
  }

  /**
   * A worker that dies (an uncaught error, out of memory) fails every job in flight, which fails the imports
   * waiting on them, and is replaced, so no later job goes to a thread that will never answer (the import
   * queue would wait forever). One that dies before answering anything (it could not even load) is dropped
   * instead of respawned in a loop; with none left, calls say the verifier is not running.
   */
  #spawn(): Worker {
    const worker = new Worker(this.#script, { name: VERIFY_THREAD_NAME, workerData: { niceness: this.#niceness } satisfies VerifyWorkerData });
    let answered = false;
    worker.on('message', (result: WorkerResult) => {
      answered = true;
      this.#pending.get(result.id)?.settle(result);
      this.#pending.delete(result.id);
    });
    worker.on('error', (error) => {
      this.#failAll(error);
      const at = this.#workers.indexOf(worker);
      if (at < 0) return;
      if (answered) this.#workers[at] = this.#spawn();
      else this.#workers.splice(at, 1);
    });
    return worker;
  }

  async stop(): Promise<void> {
    const workers = this.#workers;
    this.#workers = [];
    this.#failAll(new Error('the signature verifier stopped'));
    await Promise.all(workers.map((w) => w.terminate()));
  }

  async verifyTransactions(txs: readonly Transaction[]): Promise<number> {
    if (this.#workers.length === 0) throw new Error('the signature verifier is not running (not started, stopped, or its workers failed to load)');
    const indexes: number[] = [];
    for (let i = 0; i < txs.length; i++) if (!this.#cache?.has(txs[i]!)) indexes.push(i);
    const chunks: number[][] = [];
    // Spread evenly: at least one chunk per worker when there is enough work, chunks no larger than chunkSize.
    const perChunk = Math.min(this.#chunkSize, Math.max(1, Math.ceil(indexes.length / this.#workers.length)));
    for (let i = 0; i < indexes.length; i += perChunk) chunks.push(indexes.slice(i, i + perChunk));
    const results = await Promise.all(
      chunks.map((chunk) => {
        const worker = this.#workers[this.#next++ % this.#workers.length]!;
        return this.#verify(worker, packChunk(chunk.map((i) => txs[i]!)));
      }),
    );
    for (let c = 0; c < chunks.length; c++) if (results[c]! >= 0) return chunks[c]![results[c]!]!;
    return -1;
  }

  /**
   * 1,000 ids: about 0.8 ms of hashing that leaves the importing thread for one message each way. Sent to the
   * next worker in turn, ahead of that block's signature chunks when the chain stages it.
   */
  merkleRoot(leaves: readonly Uint8Array[]): Promise<Uint8Array> {
    if (this.#workers.length === 0) return Promise.reject(new Error('the signature verifier is not running (not started, stopped, or its workers failed to load)'));
    const bytes = new Uint8Array(leaves.length * 32);
    for (let i = 0; i < leaves.length; i++) {
      const leaf = leaves[i]!;
      if (leaf.length !== 32) return Promise.reject(new RangeError(`Merkle leaf ${i} must be 32 bytes (a transaction id), got ${leaf.length}`));
      bytes.set(leaf, i * 32);
    }
    const worker = this.#workers[this.#next++ % this.#workers.length]!;
    return this.#send(worker, { id: this.#nextId++, kind: 'merkle', buffer: bytes.buffer }, (result) => (result as MerkleJobResult).root);
  }

  #verify(worker: Worker, buffer: ArrayBuffer): Promise<number> {
    return this.#send(worker, { id: this.#nextId++, kind: 'verify', buffer }, (result) => (result as VerifyChunkResult).firstInvalid);
  }

  /** Posts `job` (its buffer transferred) and resolves with what `read` takes from the worker's answer. */
  #send<T>(worker: Worker, job: VerifyChunk | MerkleJob, read: (result: WorkerResult) => T): Promise<T> {
    return new Promise((resolve, reject) => {
      this.#pending.set(job.id, { settle: (result) => resolve(read(result)), reject });
      worker.postMessage(job, [job.buffer]);
    });
  }

  #failAll(error: Error): void {
    for (const { reject } of this.#pending.values()) reject(error);
    this.#pending.clear();
  }
}

type WorkerResult = VerifyChunkResult | MerkleJobResult;

function packChunk(txs: readonly Transaction[]): ArrayBuffer {
  let length = 4;
  for (const tx of txs) length += 100 + tx.bytes.length - SIGNATURE_TAIL;
  const buffer = new ArrayBuffer(length);
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  view.setUint32(0, txs.length);
  let offset = 4;
  for (const tx of txs) {
    // The signed message is the wire bytes without the signature tail, under a 5-array header
    // (signingBytesOf), copied straight into the chunk instead of through a temporary.
    const messageLength = tx.bytes.length - SIGNATURE_TAIL;
    view.setUint32(offset, messageLength);
    bytes.set(tx.signature, offset + 4);
    bytes.set(tx.sender, offset + 68);
    bytes.set(tx.bytes.subarray(0, messageLength), offset + 100);
    bytes[offset + 100] = FIXARRAY_5;
    offset += 100 + messageLength;
  }
  return buffer;
}
