import { compareBytes } from '../codec/bytes.ts';
import { StoreError } from './errors.ts';
import { validateBatch, validateKey, type KeyRange, type KeyValueStore, type KvEntry, type KvOp, type PreparedBatch } from './kv.ts';

/** In-memory backend for unit tests: keys kept sorted, batches all-or-nothing, nothing shared with callers. */
export class MemoryKeyValueStore implements KeyValueStore {
  // Sorted by key; entries are replaced, never mutated, so an iteration snapshot stays valid.
  #entries: KvEntry[] = [];
  #open = false;

  async open(): Promise<void> {
    this.#open = true;
  }

  async close(): Promise<void> {
    this.#open = false;
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.getNow(key);
  }

  getNow(key: Uint8Array): Uint8Array | undefined {
    this.#assertOpen();
    validateKey(key, 'get');
    const i = this.#search(key);
    const entry = this.#entries[i];
    return entry !== undefined && compareBytes(entry.key, key) === 0 ? copy(entry.value) : undefined;
  }

  async batch(ops: readonly KvOp[], options: { readonly sync: boolean }): Promise<void> {
    await this.prepareBatch(ops).commit(options);
  }

  prepareBatch(ops: readonly KvOp[]): PreparedBatch {
    this.#assertOpen();
    // Validate everything first: a refused batch must leave no trace.
    validateBatch(ops);
    const staged = ops.map((op): KvOp => (op.type === 'put' ? { type: 'put', key: copy(op.key), value: copy(op.value) } : { type: 'del', key: copy(op.key) }));
    return {
      commit: async () => {
        this.#assertOpen();
        for (const op of staged) {
          const i = this.#search(op.key);
          const found = i < this.#entries.length && compareBytes(this.#entries[i]!.key, op.key) === 0;
          if (op.type === 'put') {
            const entry = { key: op.key, value: op.value };
            if (found) this.#entries[i] = entry;
            else this.#entries.splice(i, 0, entry);
          } else if (found) {
            this.#entries.splice(i, 1);
          }
        }
      },
      discard: async () => undefined,
    };
  }

  async *iterate(range: KeyRange): AsyncGenerator<KvEntry> {
    this.#assertOpen();
    const start = this.#search(range.gte);
    const end = this.#search(range.lt);
    const snapshot = this.#entries.slice(start, Math.max(start, end));
    for (const entry of snapshot) yield { key: copy(entry.key), value: copy(entry.value) };
  }

  #assertOpen(): void {
    if (!this.#open) throw new StoreError('NOT_OPEN', 'the in-memory store is not open; call start() first');
  }

  /** Index of the first entry whose key is >= `key`. */
  #search(key: Uint8Array): number {
    let lo = 0;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.#entries[mid]!.key, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

// new Uint8Array(view) always copies; `.slice()` would not on a Buffer, whose slice is a view.
function copy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
