import { StoreError } from './errors.ts';

/** Longest key either backend accepts, prefix included; state keys are short ids, so this only catches bugs. */
export const MAX_KEY_BYTES = 1024;

/**
 * One write of a batch. `placed` is a hint, never a change of meaning: the key (and a value of up to
 * BytesArena.SMALL bytes) are views of a BytesArena, so a backend handing them to native code need not copy
 * them out of V8's heap first.
 */
export type KvOp =
  | { readonly type: 'put'; readonly key: Uint8Array; readonly value: Uint8Array; readonly placed?: boolean }
  | { readonly type: 'del'; readonly key: Uint8Array; readonly placed?: boolean };

/**
 * Memory for a batch's small keys and values, in chunks outside V8's heap. V8 keeps typed arrays of up to 64
 * bytes inside its heap, and native code can only read one after moving its bytes out (about half a
 * microsecond each); a block's batch has thousands of them, so they are written here, as views of a few large
 * buffers, instead (bench:validate). Views handed out never overlap.
 */
export class BytesArena {
  /** Typed arrays up to this length live in V8's heap. */
  static readonly SMALL = 64;
  static readonly CHUNK = 64 * 1024;
  #chunk = new Uint8Array(0);
  #at = 0;

  /** `n` fresh bytes (zeroed) in the arena. */
  alloc(n: number): Uint8Array {
    if (this.#at + n > this.#chunk.length) {
      this.#chunk = new Uint8Array(Math.max(BytesArena.CHUNK, n));
      this.#at = 0;
    }
    const start = this.#at;
    this.#at = start + n;
    return this.#chunk.subarray(start, this.#at);
  }

  /** A copy of `bytes` in the arena. */
  copy(bytes: Uint8Array): Uint8Array {
    const out = this.alloc(bytes.length);
    out.set(bytes);
    return out;
  }

  /** `prefix || bytes` in the arena. */
  prefixed(prefix: number, bytes: Uint8Array): Uint8Array {
    const out = this.alloc(bytes.length + 1);
    out[0] = prefix;
    out.set(bytes, 1);
    return out;
  }

  /** `bytes` itself if it is larger than SMALL (so already outside the heap), else a copy in the arena. */
  placeSmall(bytes: Uint8Array): Uint8Array {
    return bytes.length > BytesArena.SMALL ? bytes : this.copy(bytes);
  }
}

/** Half-open key range [gte, lt) in byte order. */
export interface KeyRange {
  readonly gte: Uint8Array;
  readonly lt: Uint8Array;
}

export interface KvEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/**
 * The only thing a storage backend implements. Every Uint8Array it returns is the caller's to keep:
 * never a view of memory the backend reuses or will mutate.
 */
export interface KeyValueStore {
  /** Opens the backend; throws StoreError LOCKED when another holder has it. */
  open(): Promise<void>;
  /** Closes the backend; safe to call more than once and after a failed open. */
  close(): Promise<void>;
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /**
   * `get` on the calling thread, for small values (metadata, index entries) that LevelDB most likely holds in
   * its memtable or block cache. An async read costs the main thread 20-30 us (a promise, a task queued to
   * the libuv pool, a thread hop) against 1-2 us here (bench/out style loop over 2,000 keys, classic-level 3),
   * and in an import it also waits behind the previous block's batch on that pool: an EMR block's known-block
   * and parent checks took 1.6 ms async, 0.2-0.4 ms read now. Blocks, undo logs and blobs stay async.
   */
  getNow(key: Uint8Array): Uint8Array | undefined;
  /** Applies every op or none; with `sync` the promise resolves only once the batch is on disk. */
  batch(ops: readonly KvOp[], options: { readonly sync: boolean }): Promise<void>;
  /**
   * Validates and stages `ops` now (throws StoreError INVALID for a malformed one) and applies them, all or
   * none, only on `commit`; `discard` drops them. Lets a caller build a batch while other work finishes.
   */
  prepareBatch(ops: readonly KvOp[]): PreparedBatch;
  /** Entries with gte <= key < lt in key order, read from a snapshot taken when iteration starts. */
  iterate(range: KeyRange): AsyncIterable<KvEntry>;
}

/** A staged batch: nothing is written until `commit`. Exactly one of `commit` or `discard` is called. */
export interface PreparedBatch {
  commit(options: { readonly sync: boolean }): Promise<void>;
  discard(): Promise<void>;
}

/** Throws StoreError INVALID for the first malformed op, so a backend can refuse a batch before applying any of it. */
export function validateBatch(ops: readonly KvOp[]): void {
  if (!Array.isArray(ops)) throw new StoreError('INVALID', 'a batch must be an array of ops');
  for (let i = 0; i < ops.length; i++) {
    const op: unknown = ops[i];
    if (typeof op !== 'object' || op === null) throw new StoreError('INVALID', `batch op ${i} is not an object`);
    const { type, key, value } = op as { type?: unknown; key?: unknown; value?: unknown };
    validateKey(key, `batch op ${i}`);
    if (type === 'put') {
      // level would silently store String(value) for a number or string, so refuse anything else here.
      if (!(value instanceof Uint8Array)) {
        throw new StoreError('INVALID', `batch op ${i}: value is ${describe(value)}, expected a Uint8Array`);
      }
    } else if (type !== 'del') {
      throw new StoreError('INVALID', `batch op ${i}: unknown type ${JSON.stringify(type)}, expected 'put' or 'del'`);
    }
  }
}

/** Throws StoreError INVALID unless `key` is a non-empty Uint8Array of at most MAX_KEY_BYTES. */
export function validateKey(key: unknown, where: string): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array)) {
    throw new StoreError('INVALID', `${where}: key is ${describe(key)}, expected a Uint8Array`);
  }
  if (key.length === 0) throw new StoreError('INVALID', `${where}: key is empty`);
  if (key.length > MAX_KEY_BYTES) {
    throw new StoreError('INVALID', `${where}: key is ${key.length} bytes, the limit is ${MAX_KEY_BYTES}`);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `a ${value.constructor?.name ?? 'object'}`;
  return `a ${typeof value}`;
}
