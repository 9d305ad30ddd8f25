import { StoreError } from './errors.ts';
import type { BlockMeta, ChainStore, ChainWrite, HeadPointer, MetaName, PreparedWrite, TxLocation } from './interface.ts';
import {
  assertHash,
  blobKey,
  blockKey,
  headerKey,
  blockMetaKey,
  canonicalHashKey,
  decodeBlockMeta,
  decodeHash,
  decodeHead,
  decodeTxLocation,
  encodeBlockMeta,
  encodeHead,
  encodeTxLocation,
  HEAD_KEY,
  indexKey,
  KeyPrefix,
  metaKey,
  prefixRange,
  startsWithRange,
  stateKey,
  txIndexKey,
  undoKey,
} from './keys.ts';
import { BytesArena, validateKey, type KeyValueStore, type KvOp } from './kv.ts';
import { LevelKeyValueStore } from './levelKv.ts';
import { MemoryKeyValueStore } from './memoryKv.ts';

/** The chain database over any KeyValueStore: typed reads, and every ChainWrite list applied as one synced batch. */
export class KvChainStore implements ChainStore {
  readonly #kv: KeyValueStore;

  constructor(kv: KeyValueStore) {
    this.#kv = kv;
  }

  /** Opens the backend; throws StoreError LOCKED when the datadir is held elsewhere. */
  async start(): Promise<void> {
    await this.#kv.open();
  }

  /** Closes the backend; safe to call more than once and after a failed start. */
  async stop(): Promise<void> {
    await this.#kv.close();
  }

  /** The last committed head, or undefined on a fresh database. */
  async getHead(): Promise<HeadPointer | undefined> {
    const bytes = this.#kv.getNow(HEAD_KEY);
    return bytes === undefined ? undefined : decodeHead(bytes);
  }

  /** A named meta value. */
  async getMeta(name: MetaName): Promise<Uint8Array | undefined> {
    return this.#kv.getNow(metaKey(name));
  }

  /** A block's bytes as they were written. */
  async getBlock(hash: Uint8Array): Promise<Uint8Array | undefined> {
    return this.#kv.get(blockKey(hash));
  }

  /** A block's encoded header (a small value, read on the calling thread like the meta). */
  async getHeader(hash: Uint8Array): Promise<Uint8Array | undefined> {
    return this.#kv.getNow(headerKey(hash));
  }

  /** A block's height, parent and score. */
  async getBlockMeta(hash: Uint8Array): Promise<BlockMeta | undefined> {
    const bytes = this.#kv.getNow(blockMetaKey(hash));
    return bytes === undefined ? undefined : decodeBlockMeta(bytes);
  }

  /** A block's undo record. */
  async getUndo(hash: Uint8Array): Promise<Uint8Array | undefined> {
    return this.#kv.get(undoKey(hash));
  }

  /** The canonical block hash at `height`. */
  async getCanonicalHash(height: number): Promise<Uint8Array | undefined> {
    const bytes = this.#kv.getNow(canonicalHashKey(height));
    return bytes === undefined ? undefined : decodeHash(bytes, `canonical hash at height ${height}`);
  }

  /** Where a transaction sits on the canonical chain. */
  async getTxLocation(txId: Uint8Array): Promise<TxLocation | undefined> {
    const bytes = this.#kv.getNow(txIndexKey(txId));
    return bytes === undefined ? undefined : decodeTxLocation(bytes);
  }

  /** Every state entry in key order, keys without the store's prefix. */
  async *readState(): AsyncGenerator<{ key: Uint8Array; value: Uint8Array }> {
    for await (const entry of this.#kv.iterate(prefixRange(KeyPrefix.State))) {
      // The backend hands out copies, so a view past the prefix byte is the caller's to keep.
      yield { key: entry.key.subarray(1), value: entry.value };
    }
  }

  async *readIndex(prefix: Uint8Array, limit = Infinity): AsyncGenerator<{ key: Uint8Array; value: Uint8Array }> {
    yield* this.#readUnder(indexKey(prefix), limit);
  }

  async *readBlobs(prefix: Uint8Array, limit = Infinity): AsyncGenerator<{ key: Uint8Array; value: Uint8Array }> {
    yield* this.#readUnder(blobKey(prefix), limit);
  }

  async getBlob(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.#kv.get(blobKey(key));
  }

  async putBlobs(entries: readonly { key: Uint8Array; value: Uint8Array | null }[]): Promise<void> {
    const arena = new BytesArena();
    const ops = entries.map(({ key, value }) => putOrDel(arena.copy(blobKey(key)), value, 'blob', arena));
    for (const op of ops) validateKey(op.key, 'blob key');
    await this.#kv.batch(ops, { sync: true });
  }

  async *#readUnder(start: Uint8Array, limit: number): AsyncGenerator<{ key: Uint8Array; value: Uint8Array }> {
    let n = 0;
    if (n >= limit) return;
    for await (const entry of this.#kv.iterate(startsWithRange(start))) {
      yield { key: entry.key.subarray(1), value: entry.value };
      if (++n >= limit) return;
    }
  }

  /** Applies every write in one atomic batch, synced to disk; a malformed write refuses the whole list. */
  async write(writes: readonly ChainWrite[]): Promise<void> {
    await (await this.prepareWrite(writes)).commit();
  }

  /** Builds the batch now (a malformed write refuses the whole list here); `commit` writes it synced. */
  async prepareWrite(writes: readonly ChainWrite[]): Promise<PreparedWrite> {
    if (!Array.isArray(writes)) throw new StoreError('INVALID', 'write expects an array of ChainWrite');
    const ops: KvOp[] = [];
    // Keys are built, and small values copied, straight into memory outside V8's heap (see BytesArena).
    const arena = new BytesArena();
    for (let i = 0; i < writes.length; i++) {
      const write = writes[i]!;
      const first = ops.length;
      try {
        if (write.kind === 'eraseBlobs') {
          // Keys are listed before the batch: an upload for an erased record is refused by the chain layer.
          for await (const entry of this.#kv.iterate(startsWithRange(blobKey(write.prefix)))) ops.push({ type: 'del', key: entry.key });
          continue;
        }
        appendOps(ops, write, arena);
        // Checked here as well as in the backend so the error names the write rather than a batch op.
        for (let j = first; j < ops.length; j++) validateKey(ops[j]!.key, 'key');
      } catch (error) {
        if (error instanceof StoreError) {
          throw new StoreError(error.code, `write ${i} (${String(write.kind)}): ${error.message}`, { cause: error });
        }
        throw error;
      }
    }
    const batch = this.#kv.prepareBatch(ops);
    return { commit: () => batch.commit({ sync: true }), discard: () => batch.discard() };
  }
}

/** A chain store in the LevelDB directory `dir` (created if missing); call start() to open and lock it. */
export function createLevelChainStore(dir: string): KvChainStore {
  return new KvChainStore(new LevelKeyValueStore(dir));
}

/** A chain store held in memory, for unit tests. */
export function createMemoryChainStore(): KvChainStore {
  return new KvChainStore(new MemoryKeyValueStore());
}

function appendOps(ops: KvOp[], write: ChainWrite, arena: BytesArena): void {
  switch (write.kind) {
    case 'block':
      ops.push(put(blockKey(write.hash, arena), write.bytes, 'block bytes', arena));
      ops.push(put(headerKey(write.hash, arena), write.header, 'block header', arena));
      ops.push({ type: 'put', key: blockMetaKey(write.hash, arena), value: arena.placeSmall(encodeBlockMeta(write.meta)), placed: true });
      return;
    case 'undo':
      ops.push(putOrDel(undoKey(write.hash, arena), write.undo, 'undo', arena));
      return;
    case 'canonical':
      ops.push(putOrDel(canonicalHashKey(write.height, arena), write.hash === null ? null : hashValue(write.hash), 'canonical hash', arena));
      return;
    case 'tx':
      ops.push(putOrDel(txIndexKey(write.txId, arena), write.location === null ? null : encodeTxLocation(write.location), 'tx location', arena));
      return;
    case 'state':
      ops.push(putOrDel(stateKey(write.key, arena), write.value, 'state value', arena));
      return;
    case 'head':
      ops.push({ type: 'put', key: arena.copy(HEAD_KEY), value: arena.placeSmall(encodeHead(write.head)), placed: true });
      return;
    case 'meta':
      ops.push(put(arena.copy(metaKey(write.name)), write.value, 'meta value', arena));
      return;
    case 'index':
      ops.push(putOrDel(indexKey(write.key, arena), write.value, 'index value', arena));
      return;
    case 'eraseBlobs':
      throw new StoreError('INVALID', 'eraseBlobs is expanded by write()');
    default: {
      const unknown: never = write;
      throw new StoreError('INVALID', `unknown write kind ${JSON.stringify((unknown as { kind?: unknown }).kind)}`);
    }
  }
}

// Only null deletes: undefined is a caller bug, refused like any other non-Uint8Array value.
function putOrDel(key: Uint8Array, value: Uint8Array | null, what: string, arena: BytesArena): KvOp {
  if (value === null) return { type: 'del', key, placed: true };
  // The message is only built for a refusal: this runs for every key of every block.
  if (!(value instanceof Uint8Array)) put(key, value, `${what} (or null to delete)`, arena);
  return { type: 'put', key, value: arena.placeSmall(value), placed: true };
}

function hashValue(hash: Uint8Array): Uint8Array {
  assertHash(hash, 'canonical hash');
  return hash;
}

function put(key: Uint8Array, value: Uint8Array, what: string, arena: BytesArena): KvOp {
  if (!(value instanceof Uint8Array)) throw new StoreError('INVALID', `${what} must be a Uint8Array`);
  return { type: 'put', key, value: arena.placeSmall(value), placed: true };
}
