import { Level } from 'level';
import { StoreError } from './errors.ts';
import { BytesArena, validateBatch, validateKey, type KeyRange, type KeyValueStore, type KvEntry, type KvOp, type PreparedBatch } from './kv.ts';

type LevelDb = Level<Uint8Array, Uint8Array>;

/**
 * LevelDB's memtable size. A block's batch is ~0.5 MiB of keys and values (emr 1000), so the default 4 MiB
 * flushed a table to level 0 every ~8 blocks and kept compactions running on the same cores as signature checks:
 * importing 150 emr 1000 blocks spent 10 ms of LevelDB CPU per block with the defaults and 6-7.9 with these
 * sizes (docs/ARCHITECTURE.md, Storage). Bitcoin Core and geth size theirs the same way
 * (a quarter of the database cache, tens to hundreds of MiB). The cost: up to two memtables in memory (the one
 * being flushed) and up to this much log to replay after a crash.
 */
export const LEVEL_WRITE_BUFFER_BYTES = 64 * 1024 * 1024;

/** Table file size: larger files mean fewer, larger compactions (Bitcoin Core uses 32 MiB too). */
export const LEVEL_MAX_FILE_BYTES = 32 * 1024 * 1024;

/** LevelDB backend (classic-level): one database directory, exclusively locked while open. */
export class LevelKeyValueStore implements KeyValueStore {
  readonly location: string;
  #db: LevelDb | undefined;

  constructor(location: string) {
    this.location = location;
  }

  async open(): Promise<void> {
    if (this.#db !== undefined) return;
    // A fresh instance per open: a Level that failed to open is not worth reusing.
    const db: LevelDb = new Level<Uint8Array, Uint8Array>(this.location, {
      keyEncoding: 'view',
      valueEncoding: 'view',
      createIfMissing: true,
      writeBufferSize: LEVEL_WRITE_BUFFER_BYTES,
      maxFileSize: LEVEL_MAX_FILE_BYTES,
    });
    try {
      await db.open();
    } catch (error) {
      if (levelCode(error) === 'LEVEL_LOCKED' || levelCode(causeOf(error)) === 'LEVEL_LOCKED') {
        throw new StoreError(
          'LOCKED',
          `the datadir ${this.location} is in use by another medchain process; stop that node or choose another --datadir`,
          { cause: error },
        );
      }
      throw new StoreError('IO', `could not open the datadir ${this.location}: ${messageOf(causeOf(error) ?? error)}`, {
        cause: error,
      });
    }
    this.#db = db;
  }

  async close(): Promise<void> {
    const db = this.#db;
    if (db === undefined) return;
    this.#db = undefined;
    try {
      await db.close();
    } catch (error) {
      throw this.#translate(error, 'close');
    }
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const db = this.#opened();
    validateKey(key, 'get');
    let value: Uint8Array | undefined;
    try {
      value = await db.get(key);
    } catch (error) {
      throw this.#translate(error, 'read');
    }
    return value === undefined ? undefined : copy(value);
  }

  getNow(key: Uint8Array): Uint8Array | undefined {
    const db = this.#opened();
    validateKey(key, 'get');
    let value: Uint8Array | undefined;
    try {
      value = db.getSync(key);
    } catch (error) {
      throw this.#translate(error, 'read');
    }
    return value === undefined ? undefined : copy(value);
  }

  async batch(ops: readonly KvOp[], options: { readonly sync: boolean }): Promise<void> {
    await this.prepareBatch(ops).commit(options);
  }

  prepareBatch(ops: readonly KvOp[]): PreparedBatch {
    const db = this.#opened();
    // level coerces some bad values (a number becomes its decimal string), so refuse the batch ourselves first.
    validateBatch(ops);
    // A chained batch hands each op straight to LevelDB's native WriteBatch (about half the main-thread time
    // of an array batch, bench:validate), and writes nothing until write(): all of it or none.
    const batch = db.batch();
    // Small keys and values not already in an arena are copied into one, off V8's heap (see BytesArena).
    const arena = new BytesArena();
    try {
      for (const op of ops) {
        if (op.placed === true) {
          // Already views of a BytesArena (KvChainStore builds its keys there): handed over as they are.
          if (op.type === 'put') batch.put(op.key, op.value);
          else batch.del(op.key);
        } else if (op.type === 'put') batch.put(arena.placeSmall(op.key), arena.placeSmall(op.value));
        else batch.del(arena.placeSmall(op.key));
      }
    } catch (error) {
      void batch.close().catch(() => undefined);
      throw this.#translate(error, 'write');
    }
    return {
      commit: async ({ sync }) => {
        try {
          await batch.write({ sync });
        } catch (error) {
          throw this.#translate(error, 'write');
        }
      },
      discard: async () => {
        await batch.close();
      },
    };
  }

  async *iterate(range: KeyRange): AsyncGenerator<KvEntry> {
    const db = this.#opened();
    validateKey(range.gte, 'iterate gte');
    validateKey(range.lt, 'iterate lt');
    const iterator = db.iterator({ gte: range.gte, lt: range.lt });
    try {
      while (true) {
        let entry: [Uint8Array, Uint8Array] | undefined;
        try {
          entry = await iterator.next();
        } catch (error) {
          throw this.#translate(error, 'iterate');
        }
        if (entry === undefined) return;
        yield { key: copy(entry[0]), value: copy(entry[1]) };
      }
    } finally {
      await iterator.close();
    }
  }

  #opened(): LevelDb {
    if (this.#db === undefined) {
      throw new StoreError('NOT_OPEN', `the datadir ${this.location} is not open; call start() first`);
    }
    return this.#db;
  }

  #translate(error: unknown, action: string): StoreError {
    if (error instanceof StoreError) return error;
    if (levelCode(error) === 'LEVEL_DATABASE_NOT_OPEN') {
      return new StoreError('NOT_OPEN', `cannot ${action}: the datadir ${this.location} was closed`, { cause: error });
    }
    return new StoreError('IO', `${action} failed in the datadir ${this.location}: ${messageOf(error)}`, { cause: error });
  }
}

// level hands back Buffers that may share memory with its own; callers get plain Uint8Array copies.
function copy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

function levelCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code: unknown = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function causeOf(error: unknown): unknown {
  return error instanceof Error ? error.cause : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
