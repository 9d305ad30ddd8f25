/**
 * The raw signature-verify ceiling, measured in the same run as the import: the fastest well-kept Ed25519
 * verifier here (libsodium via sodium-native) on N worker threads, verifying the same signatures in the same
 * chunks the node sends (at most 128 per message, spread over the workers), with the chunks packed before the
 * clock starts. Nothing but verification and messages is timed: no decoding, no state, no disk.
 */
import { Worker } from 'node:worker_threads';
import { signingBytesOf } from '../../src/codec/transaction.ts';
import { verify } from '../../src/crypto/ed25519.ts';
import type { Transaction } from '../../src/types/transaction.ts';

const CHUNK = 128;

function pack(txs: readonly Transaction[]): ArrayBuffer {
  const messages = txs.map((tx) => signingBytesOf(tx.bytes));
  const buffer = new ArrayBuffer(4 + messages.reduce((n, m) => n + 100 + m.length, 0));
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  view.setUint32(0, txs.length);
  let offset = 4;
  txs.forEach((tx, i) => {
    view.setUint32(offset, messages[i]!.length);
    bytes.set(tx.signature, offset + 4);
    bytes.set(tx.sender, offset + 68);
    bytes.set(messages[i]!, offset + 100);
    offset += 100 + messages[i]!.length;
  });
  return buffer;
}

/** A pool of raw verify workers. */
export class RawVerifyPool {
  readonly #workers: Worker[] = [];
  readonly #pending = new Map<number, (valid: number) => void>();
  #nextId = 1;
  readonly size: number;

  constructor(size: number) {
    this.size = size;
  }

  async start(): Promise<void> {
    for (let i = 0; i < this.size; i++) {
      const worker = new Worker(new URL('./rawVerifyWorker.ts', import.meta.url));
      worker.on('message', ({ id, valid }: { id: number; valid: number }) => {
        this.#pending.get(id)?.(valid);
        this.#pending.delete(id);
      });
      this.#workers.push(worker);
    }
    await Promise.all(this.#workers.map((w) => this.#send(w, pack([]))));
  }

  async stop(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }

  /** Verifies one block's signatures on every worker; returns verifies per second (wall clock). */
  async measure(txs: readonly Transaction[]): Promise<number> {
    const perChunk = Math.min(CHUNK, Math.max(1, Math.ceil(txs.length / this.size)));
    const chunks: ArrayBuffer[] = [];
    for (let i = 0; i < txs.length; i += perChunk) chunks.push(pack(txs.slice(i, i + perChunk)));
    const start = performance.now();
    const valid = await Promise.all(chunks.map((chunk, i) => this.#send(this.#workers[i % this.size]!, chunk)));
    const ms = performance.now() - start;
    const total = valid.reduce((a, b) => a + b, 0);
    if (total !== txs.length) throw new Error(`the ceiling run verified ${total} of ${txs.length} signatures`);
    return (txs.length * 1000) / ms;
  }

  #send(worker: Worker, buffer: ArrayBuffer): Promise<number> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      worker.postMessage({ id, buffer }, [buffer]);
    });
  }
}

/** The same signatures verified one after another on the calling thread (medchain's verify, libsodium). */
export function mainThreadVerifyRate(txs: readonly Transaction[]): number {
  const prepared = txs.map((tx) => [tx.signature, signingBytesOf(tx.bytes), tx.sender] as const);
  const start = performance.now();
  let ok = 0;
  for (const [signature, message, sender] of prepared) if (verify(signature, message, sender)) ok++;
  const ms = performance.now() - start;
  if (ok !== prepared.length) throw new Error('a benchmark signature failed to verify');
  return (prepared.length * 1000) / ms;
}
