/**
 * The unlocked identities of this browser tab. Each unlock holds a decrypted key pair in memory only; after
 * `timeoutMs` without user activity every key is wiped (zero-filled) and dropped, and the user must enter the
 * passphrase again. Pure logic: the clock and timers are passed in, so tests drive time by hand.
 */
import { toHex } from '../codec/bytes.ts';
import type { KeyPair } from '../crypto/ed25519.ts';

export const DEFAULT_LOCK_AFTER_MS = 10 * 60_000;
export const LOCK_AFTER_CHOICES_MS = [60_000, 5 * 60_000, 10 * 60_000, 30 * 60_000] as const;

export interface SessionClock {
  now(): number;
  setTimer(callback: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export interface SessionOptions {
  readonly lockAfterMs?: number;
  readonly clock: SessionClock;
  /** Called after every unlock and lock, so the UI can re-render. */
  readonly onChange?: () => void;
}

/** Unlocked key pairs by account (public key hex), locked together after inactivity. */
export class KeySession {
  readonly #clock: SessionClock;
  readonly #onChange: (() => void) | undefined;
  readonly #keys = new Map<string, KeyPair>();
  #lockAfterMs: number;
  #lastActivity: number;
  /** Counts locks, so an unlock that was in progress across a lock can tell and give up. */
  #locks = 0;
  #timer: unknown = undefined;

  constructor(options: SessionOptions) {
    this.#clock = options.clock;
    this.#onChange = options.onChange;
    this.#lockAfterMs = checkTimeout(options.lockAfterMs ?? DEFAULT_LOCK_AFTER_MS);
    this.#lastActivity = this.#clock.now();
  }

  get lockAfterMs(): number {
    return this.#lockAfterMs;
  }

  /** Accounts unlocked now. */
  get unlocked(): readonly string[] {
    this.#expireIfIdle();
    return [...this.#keys.keys()];
  }

  /** Keeps `keyPair` (the session owns it from now on and wipes it on lock). */
  unlock(keyPair: KeyPair): void {
    this.#expireIfIdle();
    const account = toHex(keyPair.publicKey);
    const previous = this.#keys.get(account);
    if (previous !== undefined && previous !== keyPair) wipe(previous);
    this.#keys.set(account, keyPair);
    this.#lastActivity = this.#clock.now();
    this.#schedule();
    this.#onChange?.();
  }

  isUnlocked(account: string): boolean {
    this.#expireIfIdle();
    return this.#keys.has(account);
  }

  /** The key pair of an unlocked account, or undefined when it is locked. Using a key counts as activity. */
  keyPair(account: string): KeyPair | undefined {
    this.#expireIfIdle();
    const keyPair = this.#keys.get(account);
    if (keyPair !== undefined) this.#lastActivity = this.#clock.now();
    return keyPair;
  }

  /** User activity (a key press, a click): pushes the automatic lock back. Too late after a long sleep: locks instead. */
  touch(): void {
    if (this.#expireIfIdle()) return;
    this.#lastActivity = this.#clock.now();
  }

  /** Changes whenever anything is locked (read it before a slow unlock, compare after). */
  get lockCount(): number {
    return this.#locks;
  }

  /** Locks one account, or every account; their keys are zero-filled. */
  lock(account?: string): void {
    this.#locks++;
    const accounts = account === undefined ? [...this.#keys.keys()] : [account];
    let changed = false;
    for (const id of accounts) {
      const keyPair = this.#keys.get(id);
      if (keyPair === undefined) continue;
      wipe(keyPair);
      this.#keys.delete(id);
      changed = true;
    }
    if (this.#keys.size === 0) this.#cancel();
    if (changed) this.#onChange?.();
  }

  setLockAfter(ms: number): void {
    this.#lockAfterMs = checkTimeout(ms);
    this.#lastActivity = this.#clock.now();
    if (this.#keys.size > 0) this.#schedule();
  }

  /** Milliseconds left before the automatic lock, or undefined when nothing is unlocked. */
  remainingMs(): number | undefined {
    if (this.#keys.size === 0) return undefined;
    return Math.max(0, this.#lastActivity + this.#lockAfterMs - this.#clock.now());
  }

  // Timers may not fire on time (a sleeping laptop, a throttled background tab), so every access checks the clock too.
  #expireIfIdle(): boolean {
    if (this.#keys.size > 0 && this.#clock.now() - this.#lastActivity >= this.#lockAfterMs) {
      this.lock();
      return true;
    }
    return false;
  }

  #schedule(): void {
    this.#cancel();
    const wait = Math.max(0, this.#lastActivity + this.#lockAfterMs - this.#clock.now());
    this.#timer = this.#clock.setTimer(() => {
      this.#timer = undefined;
      if (!this.#expireIfIdle() && this.#keys.size > 0) this.#schedule();
    }, wait);
  }

  #cancel(): void {
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }
}

function wipe(keyPair: KeyPair): void {
  keyPair.seed.fill(0);
  keyPair.secretKey.fill(0);
}

function checkTimeout(ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 10_000 || ms > 24 * 3_600_000) throw new RangeError(`the lock timeout must be 10 s to 24 h, got ${ms} ms`);
  return ms;
}
