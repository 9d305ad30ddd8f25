import { compareBytes } from '../codec/bytes.ts';
import type { StateEntry } from '../types/state.ts';

/** Synchronous read access to state: what the pure transition sees. */
export interface StateReader {
  get(key: Uint8Array): Uint8Array | undefined;
}

/** Character codes of a key being converted, reused: keyString runs synchronously. */
const keyCodes: number[] = [];

/**
 * Map keys: one char per byte, cheaper than hex and order-preserving. Every state read and write converts a
 * key, so a key of state size has its bytes copied into a plain array first: apply() takes one far faster than
 * a typed array.
 */
export function keyString(key: Uint8Array): string {
  const n = key.length;
  if (n > 128) return String.fromCharCode.apply(null, key as unknown as number[]);
  keyCodes.length = n;
  for (let i = 0; i < n; i++) keyCodes[i] = key[i]!;
  return String.fromCharCode.apply(null, keyCodes);
}

/** A key's bytes, or a function that builds them: called only by a reader that needs the bytes. */
export type KeyBytes = Uint8Array | (() => Uint8Array);

function bytesOf(key: KeyBytes): Uint8Array {
  return typeof key === 'function' ? key() : key;
}

/**
 * A reader that also answers by a key already converted with keyString. The overlays a block executes on sit
 * on another overlay over the head's MemoryState, so a read that falls through converts its key once instead
 * of once per layer (bench:validate: the conversion was the largest single cost of executing a block), and a
 * read through these layers never needs the key's bytes at all.
 */
interface KeyedReader extends StateReader {
  getKeyed(k: string, key: KeyBytes): Uint8Array | undefined;
}

function keyedReaderOf(base: StateReader): KeyedReader | undefined {
  return base instanceof StateOverlay || base instanceof MemoryState ? base : undefined;
}

/**
 * `state.get(key)` for a key whose keyString the caller built (stateKeyString), with the key's bytes built only
 * if some layer is a reader other than StateOverlay or MemoryState. The accessors read this way: building a
 * 65-byte key allocates outside V8's heap.
 */
export function getByKeyString(state: StateReader, k: string, key: KeyBytes): Uint8Array | undefined {
  const keyed = keyedReaderOf(state);
  return keyed !== undefined ? keyed.getKeyed(k, key) : state.get(bytesOf(key));
}


/**
 * A write as an overlay records it: a plain { key, value } to every reader, that also keeps its key's keyString
 * (in a private field, invisible to comparisons and serialisation) so the head's MemoryState applies a block's
 * write set without converting every key a second time.
 */
class KeyedEntry implements StateEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array | null;
  readonly #k: string;

  constructor(k: string, key: Uint8Array, value: Uint8Array | null) {
    this.key = key;
    this.value = value;
    this.#k = k;
  }

  /** The keyString of an entry's key: kept if an overlay made the entry, else computed. */
  static keyOf(entry: StateEntry): string {
    return #k in entry ? (entry as KeyedEntry).#k : keyString(entry.key);
  }
}

/**
 * Writes buffered over a base reader. The transition writes here; the caller takes the sorted write set
 * (for the commitment and the store batch) and the prior values (the undo log for reorgs).
 */
export class StateOverlay implements StateReader {
  readonly #base: StateReader;
  readonly #keyedBase: KeyedReader | undefined;
  #writes = new Map<string, StateEntry>();

  constructor(base: StateReader) {
    this.#base = base;
    this.#keyedBase = keyedReaderOf(base);
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.getKeyed(keyString(key), key);
  }

  /** `get` for a key whose keyString `k` the caller already has. */
  getKeyed(k: string, key: KeyBytes): Uint8Array | undefined {
    const written = this.#writes.get(k);
    if (written !== undefined) return written.value ?? undefined;
    const keyed = this.#keyedBase;
    return keyed !== undefined ? keyed.getKeyed(k, key) : this.#base.get(bytesOf(key));
  }

  set(key: Uint8Array, value: Uint8Array): void {
    const k = keyString(key);
    this.#writes.set(k, new KeyedEntry(k, key, value));
  }

  delete(key: Uint8Array): void {
    const k = keyString(key);
    this.#writes.set(k, new KeyedEntry(k, key, null));
  }

  /**
   * `layer`'s writes over `base`, sharing them (no copy): the chain puts a block whose batch is still being
   * written under the next block this way (copying 1,000 writes into a new map cost ~0.5 ms). Neither overlay
   * may be written afterwards; a block's execution overlay is finished before the chain stacks it.
   */
  static stacked(base: StateReader, layer: StateOverlay): StateOverlay {
    const overlay = new StateOverlay(base);
    overlay.#writes = layer.#writes;
    return overlay;
  }

  /** A child overlay: its writes land here only if `merge` is called (used to drop a failing transaction). */
  fork(): StateOverlay {
    return new StateOverlay(this);
  }

  /** Moves a child's writes into this overlay. */
  merge(child: StateOverlay): void {
    for (const [k, entry] of child.#writes) this.#writes.set(k, entry);
  }

  get size(): number {
    return this.#writes.size;
  }

  /** The write set in key order. */
  writes(): StateEntry[] {
    const keys = this.#sortedKeys();
    const out = new Array<StateEntry>(keys.length);
    for (let i = 0; i < keys.length; i++) out[i] = this.#writes.get(keys[i]!)!;
    return out;
  }

  /** The base's values of every written key, in key order: applying them reverts this overlay. */
  undo(): StateEntry[] {
    return this.writesAndUndo().undo;
  }

  /** `writes()` and `undo()` together, sorting once and reading the base by the keys already converted. */
  writesAndUndo(): { writes: StateEntry[]; undo: StateEntry[] } {
    const keys = this.#sortedKeys();
    const writes = new Array<StateEntry>(keys.length);
    const undo = new Array<StateEntry>(keys.length);
    const keyed = this.#keyedBase;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const entry = this.#writes.get(k)!;
      writes[i] = entry;
      undo[i] = { key: entry.key, value: (keyed !== undefined ? keyed.getKeyed(k, entry.key) : this.#base.get(entry.key)) ?? null };
    }
    return { writes, undo };
  }

  /**
   * The written keys' strings in byte order of the keys: keyString keeps it (one UTF-16 unit per byte, a prefix
   * first), and sort() without a comparator orders strings by UTF-16 units, the fastest sort V8 has.
   */
  #sortedKeys(): string[] {
    const keys = Array.from(this.#writes.keys());
    keys.sort();
    return keys;
  }
}

/** The whole state in memory: the chain's head state (loaded from the store at start). */
export class MemoryState implements StateReader {
  readonly #entries = new Map<string, Uint8Array>();

  get(key: Uint8Array): Uint8Array | undefined {
    return this.#entries.get(keyString(key));
  }

  /** `get` for a key whose keyString `k` the caller already has. */
  getKeyed(k: string): Uint8Array | undefined {
    return this.#entries.get(k);
  }

  apply(entries: readonly StateEntry[]): void {
    for (const entry of entries) {
      const { value } = entry;
      if (value === null) this.#entries.delete(KeyedEntry.keyOf(entry));
      else this.#entries.set(KeyedEntry.keyOf(entry), value);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
