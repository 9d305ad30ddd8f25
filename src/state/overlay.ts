import { compareBytes } from '../codec/bytes.ts';
import type { StateEntry } from '../types/state.ts';

/** Synchronous read access to state: what the pure transition sees. */
export interface StateReader {
  get(key: Uint8Array): Uint8Array | undefined;
}

/** Map keys: one char per byte, cheaper than hex and order-preserving. */
export function keyString(key: Uint8Array): string {
  return String.fromCharCode.apply(null, key as unknown as number[]);
}

/**
 * Writes buffered over a base reader. The transition writes here; the caller takes the sorted write set
 * (for the commitment and the store batch) and the prior values (the undo log for reorgs).
 */
export class StateOverlay implements StateReader {
  readonly #base: StateReader;
  readonly #writes = new Map<string, StateEntry>();

  constructor(base: StateReader) {
    this.#base = base;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    const written = this.#writes.get(keyString(key));
    if (written !== undefined) return written.value ?? undefined;
    return this.#base.get(key);
  }

  set(key: Uint8Array, value: Uint8Array): void {
    this.#writes.set(keyString(key), { key, value });
  }

  delete(key: Uint8Array): void {
    this.#writes.set(keyString(key), { key, value: null });
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
    return [...this.#writes.values()].sort((a, b) => compareBytes(a.key, b.key));
  }

  /** The base's values of every written key, in key order: applying them reverts this overlay. */
  undo(): StateEntry[] {
    return this.writes().map(({ key }) => ({ key, value: this.#base.get(key) ?? null }));
  }
}

/** The whole state in memory: the chain's head state (loaded from the store at start). */
export class MemoryState implements StateReader {
  readonly #entries = new Map<string, Uint8Array>();

  get(key: Uint8Array): Uint8Array | undefined {
    return this.#entries.get(keyString(key));
  }

  apply(entries: readonly StateEntry[]): void {
    for (const { key, value } of entries) {
      if (value === null) this.#entries.delete(keyString(key));
      else this.#entries.set(keyString(key), value);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
