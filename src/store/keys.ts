import { concatBytes, readU32be, u32be, utf8 } from '../codec/bytes.ts';
import { StoreError } from './errors.ts';
import type { BlockMeta, HeadPointer, MetaName, TxLocation } from './interface.ts';
import type { BytesArena, KeyRange } from './kv.ts';

/**
 * The first byte of every key in the chain database, declared here and nowhere else.
 * The numbers are on disk: never renumber or reuse one.
 */
export const KeyPrefix = {
  /** utf8 name -> small value ('head' -> head layout, 'genesisHash' -> 32 bytes, 'schemaVersion' -> chain-defined) */
  Meta: 0x01,
  /** block hash (32) -> block bytes as received */
  Block: 0x02,
  /** block hash (32) -> BlockMeta layout: height u32 | parent 32 | score u256 big-endian */
  BlockMeta: 0x03,
  /** height (u32 big-endian, so key order is height order) -> canonical block hash (32) */
  CanonicalHash: 0x04,
  /** txId (32) -> TxLocation layout: blockHash 32 | height u32 | index u32 */
  TxIndex: 0x05,
  /** state key (opaque to the store) -> state value (opaque) */
  State: 0x06,
  /** block hash (32) -> undo record of that block (opaque, written by the chain layer) */
  Undo: 0x07,
  /** blob key (record id || version || kind || reader, see chain/blobs.ts) -> off-chain ciphertext or key envelope */
  Blob: 0x08,
  /** index key (opaque to the store, see chain/indexer.ts) -> value: node-local query indexes, not consensus */
  Index: 0x09,
  /**
   * block hash (32) -> the block's encoded header, written with the block: headers_by_range answers from these
   * instead of reading whole blocks. Datadirs written before it have none; readers fall back to the block.
   */
  Header: 0x0a,
} as const;
export type KeyPrefix = (typeof KeyPrefix)[keyof typeof KeyPrefix];

export const HASH_BYTES = 32;
export const HEAD_BYTES = HASH_BYTES + 4;
export const BLOCK_META_BYTES = 4 + HASH_BYTES + 32;
export const TX_LOCATION_BYTES = HASH_BYTES + 4 + 4;
const MAX_U32 = 0xffff_ffff;
const MAX_SCORE = (1n << 256n) - 1n;

const META_NAMES: ReadonlySet<string> = new Set<MetaName>(['genesisHash', 'schemaVersion', 'lastVote', 'finalized']);

/** The head pointer lives under Meta with a name outside MetaName, so no meta write can overwrite it. */
export const HEAD_KEY: Uint8Array = concatBytes(Uint8Array.of(KeyPrefix.Meta), utf8('head'));

/** Key of a named meta value; throws StoreError INVALID for a name not in MetaName. */
export function metaKey(name: MetaName): Uint8Array {
  if (typeof name !== 'string' || !META_NAMES.has(name)) {
    throw new StoreError('INVALID', `unknown meta name ${JSON.stringify(name)}, expected one of ${[...META_NAMES].join(', ')}`);
  }
  return concatBytes(Uint8Array.of(KeyPrefix.Meta), utf8(name));
}

/** Key of a block's bytes. */
export function blockKey(hash: Uint8Array, arena?: BytesArena): Uint8Array {
  return hashKey(KeyPrefix.Block, hash, 'block hash', arena);
}

/** Key of a block's encoded header. */
export function headerKey(hash: Uint8Array, arena?: BytesArena): Uint8Array {
  return hashKey(KeyPrefix.Header, hash, 'block hash', arena);
}

/** Key of a block's BlockMeta. */
export function blockMetaKey(hash: Uint8Array, arena?: BytesArena): Uint8Array {
  return hashKey(KeyPrefix.BlockMeta, hash, 'block hash', arena);
}

/** Key of the canonical hash at `height`. */
export function canonicalHashKey(height: number, arena?: BytesArena): Uint8Array {
  assertU32(height, 'height');
  if (arena === undefined) return concatBytes(Uint8Array.of(KeyPrefix.CanonicalHash), u32be(height));
  const key = arena.alloc(5);
  key[0] = KeyPrefix.CanonicalHash;
  writeU32(key, 1, height);
  return key;
}

/** Key of a transaction's location. */
export function txIndexKey(txId: Uint8Array, arena?: BytesArena): Uint8Array {
  return hashKey(KeyPrefix.TxIndex, txId, 'txId', arena);
}

/** Key of a state entry. */
export function stateKey(key: Uint8Array, arena?: BytesArena): Uint8Array {
  if (!(key instanceof Uint8Array)) throw new StoreError('INVALID', 'state key must be a Uint8Array');
  return prefixed(KeyPrefix.State, key, arena);
}

/** Key of a block's undo record. */
export function undoKey(hash: Uint8Array, arena?: BytesArena): Uint8Array {
  return hashKey(KeyPrefix.Undo, hash, 'block hash', arena);
}

/** Key of an off-chain blob (reserved). */
export function blobKey(key: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(KeyPrefix.Blob), key);
}

export function indexKey(key: Uint8Array, arena?: BytesArena): Uint8Array {
  return prefixed(KeyPrefix.Index, key, arena);
}

/** Every key that starts with `start`: [start, successor) where successor is the next prefix in key order. */
export function startsWithRange(start: Uint8Array): KeyRange {
  let end = start.length;
  while (end > 0 && start[end - 1] === 0xff) end--;
  if (end === 0) throw new StoreError('INVALID', 'a prefix of only 0xff bytes has no upper bound');
  const lt = start.slice(0, end);
  lt[end - 1]! += 1;
  return { gte: start, lt };
}

/** Every key under `prefix`. */
export function prefixRange(prefix: KeyPrefix): KeyRange {
  return { gte: Uint8Array.of(prefix), lt: Uint8Array.of(prefix + 1) };
}

/** Fixed layout: hash 32 | height u32. */
export function encodeHead(head: HeadPointer): Uint8Array {
  assertHash(head.hash, 'head hash');
  assertU32(head.height, 'head height');
  return concatBytes(head.hash, u32be(head.height));
}

/** Strict inverse of encodeHead; throws StoreError CORRUPT on any other length. */
export function decodeHead(bytes: Uint8Array): HeadPointer {
  assertLength(bytes, HEAD_BYTES, 'head pointer');
  return Object.freeze({ hash: copy(bytes, 0, HASH_BYTES), height: readU32be(bytes, HASH_BYTES) });
}

/** Fixed layout: height u32 | parent 32 | score as 32-byte big-endian unsigned. */
export function encodeBlockMeta(meta: BlockMeta): Uint8Array {
  assertU32(meta.height, 'block height');
  assertHash(meta.parent, 'parent hash');
  if (typeof meta.score !== 'bigint' || meta.score < 0n || meta.score > MAX_SCORE) {
    throw new StoreError('INVALID', `block score must be a bigint in [0, 2^256), got ${String(meta.score)}`);
  }
  const score = new Uint8Array(32);
  let rest = meta.score;
  for (let i = 31; i >= 0 && rest > 0n; i--) {
    score[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return concatBytes(u32be(meta.height), meta.parent, score);
}

/** Strict inverse of encodeBlockMeta; throws StoreError CORRUPT on any other length. */
export function decodeBlockMeta(bytes: Uint8Array): BlockMeta {
  assertLength(bytes, BLOCK_META_BYTES, 'block meta');
  let score = 0n;
  for (let i = 4 + HASH_BYTES; i < BLOCK_META_BYTES; i++) score = (score << 8n) | BigInt(bytes[i]!);
  return Object.freeze({ height: readU32be(bytes, 0), parent: copy(bytes, 4, 4 + HASH_BYTES), score });
}

/** Fixed layout: blockHash 32 | height u32 | index u32. */
export function encodeTxLocation(location: TxLocation): Uint8Array {
  assertHash(location.blockHash, 'tx block hash');
  assertU32(location.height, 'tx height');
  assertU32(location.index, 'tx index');
  // One allocation: a block writes one of these per transaction.
  const out = new Uint8Array(TX_LOCATION_BYTES);
  out.set(location.blockHash, 0);
  writeU32(out, HASH_BYTES, location.height);
  writeU32(out, HASH_BYTES + 4, location.index);
  return out;
}

/** Strict inverse of encodeTxLocation; throws StoreError CORRUPT on any other length. */
export function decodeTxLocation(bytes: Uint8Array): TxLocation {
  assertLength(bytes, TX_LOCATION_BYTES, 'tx location');
  return Object.freeze({
    blockHash: copy(bytes, 0, HASH_BYTES),
    height: readU32be(bytes, HASH_BYTES),
    index: readU32be(bytes, HASH_BYTES + 4),
  });
}

/** A stored 32-byte hash (canonical index value); throws StoreError CORRUPT on any other length. */
export function decodeHash(bytes: Uint8Array, what: string): Uint8Array {
  assertLength(bytes, HASH_BYTES, what);
  return copy(bytes, 0, HASH_BYTES);
}

/** Throws StoreError INVALID unless `hash` is a 32-byte Uint8Array. */
export function assertHash(hash: unknown, what: string): asserts hash is Uint8Array {
  if (!(hash instanceof Uint8Array) || hash.length !== HASH_BYTES) {
    const got = hash instanceof Uint8Array ? `${hash.length} bytes` : typeof hash;
    throw new StoreError('INVALID', `${what} must be ${HASH_BYTES} bytes, got ${got}`);
  }
}

/** Throws StoreError INVALID unless `value` is an integer in [0, 2^32). */
export function assertU32(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_U32) {
    throw new StoreError('INVALID', `${what} must be an integer in [0, 2^32), got ${String(value)}`);
  }
}

function hashKey(prefix: KeyPrefix, hash: Uint8Array, what: string, arena?: BytesArena): Uint8Array {
  assertHash(hash, what);
  return prefixed(prefix, hash, arena);
}

/** prefix || bytes in one allocation (keys are built per transaction and per state write), in `arena` if given. */
function prefixed(prefix: number, bytes: Uint8Array, arena?: BytesArena): Uint8Array {
  if (arena !== undefined) return arena.prefixed(prefix, bytes);
  const out = new Uint8Array(bytes.length + 1);
  out[0] = prefix;
  out.set(bytes, 1);
  return out;
}

function writeU32(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value >>> 24;
  out[offset + 1] = (value >>> 16) & 0xff;
  out[offset + 2] = (value >>> 8) & 0xff;
  out[offset + 3] = value & 0xff;
}

function assertLength(bytes: Uint8Array, expected: number, what: string): void {
  if (bytes.length !== expected) {
    throw new StoreError('CORRUPT', `stored ${what} is ${bytes.length} bytes, expected ${expected}; the database is damaged or from another version`);
  }
}

// Decoded fields must not alias the buffer they came from, whoever owns it.
function copy(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(bytes.subarray(start, end));
}
