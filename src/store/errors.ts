/** Why a store operation failed; callers branch on the code, people read the message. */
export const StoreErrorCode = {
  /** The datadir is held by another process (or another open store in this one). */
  LOCKED: 'LOCKED',
  /** Bytes on disk do not have the layout this version writes. */
  CORRUPT: 'CORRUPT',
  /** A read or write before start() or after stop(). */
  NOT_OPEN: 'NOT_OPEN',
  /** The database itself failed (disk full, permissions, I/O). */
  IO: 'IO',
  /** A write was refused before anything was applied (bad key, value or field). */
  INVALID: 'INVALID',
} as const;
export type StoreErrorCode = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];

export class StoreError extends Error {
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}
