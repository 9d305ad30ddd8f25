/** One state entry; `value: null` deletes the key. */
export interface StateEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array | null;
}
