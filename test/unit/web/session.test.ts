// The tab's unlocked keys (src/web/session.ts) and the browser's identity list (src/web/identityStore.ts).

import { describe, expect, it } from 'vitest';
import { toHex } from '../../../src/codec/bytes.ts';
import { keyPairFromSeed } from '../../../src/crypto/ed25519.ts';
import { secureRandom } from '../../../src/envelope/random.ts';
import { IdentityStore, STORAGE_KEY, type StringStorage } from '../../../src/web/identityStore.ts';
import { sealIdentity, type IdentityFile } from '../../../src/web/keystore.ts';
import { DEFAULT_LOCK_AFTER_MS, KeySession, type SessionClock } from '../../../src/web/session.ts';

/** A clock whose time moves only when the test says so; timers fire in order as it passes them. */
class ManualClock implements SessionClock {
  time = 1_000_000;
  #timers: { at: number; callback: () => void; id: number }[] = [];
  #nextId = 1;
  now(): number {
    return this.time;
  }
  setTimer(callback: () => void, ms: number): unknown {
    const id = this.#nextId++;
    this.#timers.push({ at: this.time + ms, callback, id });
    return id;
  }
  clearTimer(handle: unknown): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle);
  }
  get pending(): number {
    return this.#timers.length;
  }
  /** Moves time on, firing due timers. `fire: false` models a sleeping laptop: time passes, timers do not run. */
  advance(ms: number, fire = true): void {
    const end = this.time + ms;
    for (;;) {
      const due = fire ? this.#timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0] : undefined;
      if (due === undefined) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.time = due.at;
      due.callback();
    }
    this.time = end;
  }
}

const pair = (fill: number) => keyPairFromSeed(new Uint8Array(32).fill(fill));

describe('KeySession', () => {
  it('locks every key after 10 minutes without activity by default, and zero-fills it', () => {
    const clock = new ManualClock();
    let changes = 0;
    const session = new KeySession({ clock, onChange: () => changes++ });
    expect(session.lockAfterMs).toBe(DEFAULT_LOCK_AFTER_MS);
    const key = pair(1);
    const account = toHex(key.publicKey);
    session.unlock(key);
    expect(session.isUnlocked(account)).toBe(true);
    expect(changes).toBe(1);
    clock.advance(DEFAULT_LOCK_AFTER_MS - 1);
    expect(session.isUnlocked(account)).toBe(true);
    clock.advance(1);
    expect(changes).toBe(2);
    expect(session.unlocked).toEqual([]);
    expect(session.keyPair(account)).toBeUndefined();
    expect(key.seed.every((b) => b === 0)).toBe(true);
    expect(key.secretKey.every((b) => b === 0)).toBe(true);
    expect(clock.pending).toBe(0);
  });

  it('activity pushes the lock back', () => {
    const clock = new ManualClock();
    const session = new KeySession({ clock, lockAfterMs: 60_000 });
    const key = pair(2);
    session.unlock(key);
    for (let i = 0; i < 10; i++) {
      clock.advance(50_000);
      session.touch();
    }
    expect(session.isUnlocked(toHex(key.publicKey))).toBe(true);
    expect(session.remainingMs()).toBe(60_000);
    clock.advance(60_000);
    expect(session.unlocked).toEqual([]);
  });

  it('locks on the next access after a sleep in which no timer ran, and that access does not count as activity', () => {
    const clock = new ManualClock();
    const session = new KeySession({ clock, lockAfterMs: 60_000 });
    const key = pair(3);
    session.unlock(key);
    clock.advance(3_600_000, false);
    session.touch();
    expect(session.isUnlocked(toHex(key.publicKey))).toBe(false);
    expect(key.seed.every((b) => b === 0)).toBe(true);
  });

  it('locks one account or all; several identities are unlocked at once', () => {
    const clock = new ManualClock();
    const session = new KeySession({ clock });
    const [a, b] = [pair(4), pair(5)];
    session.unlock(a);
    session.unlock(b);
    expect(session.unlocked).toHaveLength(2);
    session.lock(toHex(a.publicKey));
    expect(session.unlocked).toEqual([toHex(b.publicKey)]);
    expect(a.seed.every((x) => x === 0)).toBe(true);
    expect(b.seed.some((x) => x !== 0)).toBe(true);
    session.lock();
    expect(session.unlocked).toEqual([]);
  });

  it('refuses a lock timeout under 10 s or over a day', () => {
    const clock = new ManualClock();
    expect(() => new KeySession({ clock, lockAfterMs: 1000 })).toThrow(RangeError);
    expect(() => new KeySession({ clock }).setLockAfter(2 * 86_400_000)).toThrow(RangeError);
  });
});

class MemoryStorage implements StringStorage {
  readonly map = new Map<string, string>();
  getItem(key: string): string | null {
    return this.map.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.map.set(key, value);
  }
}

async function identity(fill: number, label: string): Promise<IdentityFile> {
  return sealIdentity(new Uint8Array(32).fill(fill), { label, role: 'doctor', passphrase: 'a long enough passphrase', random: secureRandom, now: 0, kdf: { N: 2 ** 14, r: 8, p: 1 } });
}

describe('IdentityStore', () => {
  it('adds, lists, renames and removes identities; refuses a duplicate account', async () => {
    const storage = new MemoryStorage();
    const store = new IdentityStore(storage);
    expect(store.list()).toEqual({ identities: [], unreadable: [] });
    const a = await identity(1, 'Dr A');
    const b = await identity(2, 'Dr B');
    store.add(a);
    store.add(b);
    expect(store.list().identities.map((f) => f.label)).toEqual(['Dr A', 'Dr B']);
    expect(() => store.add({ ...a, label: 'again' })).toThrow(/already holds that identity/);
    store.rename(a.publicKey, 'Dr Alice');
    expect(store.get(a.publicKey)?.label).toBe('Dr Alice');
    expect(() => store.rename(a.publicKey, '')).toThrow(/must not be empty/);
    store.remove(b.publicKey);
    expect(store.list().identities.map((f) => f.publicKey)).toEqual([a.publicKey]);
    expect(storage.getItem(STORAGE_KEY)).not.toContain('"seed"');
  });

  it('keeps an unreadable entry untouched and reports it instead of dropping a key', async () => {
    const storage = new MemoryStorage();
    const good = await identity(3, 'Good');
    storage.setItem(STORAGE_KEY, JSON.stringify({ version: 1, identities: [{ format: 'medchain-identity', version: 1, label: 'broken' }, good] }));
    const store = new IdentityStore(storage);
    const listed = store.list();
    expect(listed.identities).toEqual([good]);
    expect(listed.unreadable).toEqual([{ index: 0, problem: expect.stringMatching(/not a usable medchain identity file/) }]);
    store.add(await identity(4, 'New'));
    expect((JSON.parse(storage.getItem(STORAGE_KEY)!) as { identities: unknown[] }).identities[0]).toEqual({ format: 'medchain-identity', version: 1, label: 'broken' });
  });

  it('refuses to overwrite storage it cannot read', async () => {
    const storage = new MemoryStorage();
    storage.setItem(STORAGE_KEY, '{not json');
    const store = new IdentityStore(storage);
    expect(() => store.list()).toThrow(/not valid JSON; nothing was changed/);
    await expect((async () => store.add(await identity(5, 'x')))()).rejects.toThrow(/not valid JSON/);
    expect(storage.getItem(STORAGE_KEY)).toBe('{not json');
  });
});
