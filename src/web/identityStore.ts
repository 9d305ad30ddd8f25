/**
 * The list of identity files this browser keeps (localStorage in the app; any string storage in tests).
 * Only encrypted identity files are stored. An entry that no longer parses is kept untouched and reported:
 * deleting it could destroy someone's only copy of a key.
 */
import { KeystoreError, KeystoreErrorCode, checkLabel, parseIdentityFile, type IdentityFile } from './keystore.ts';

/** The subset of the Web Storage API used here. */
export interface StringStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export const STORAGE_KEY = 'medchain.identities';
const STORAGE_VERSION = 1;

interface Stored {
  readonly version: typeof STORAGE_VERSION;
  readonly identities: readonly unknown[];
}

export interface IdentityList {
  readonly identities: readonly IdentityFile[];
  /** Entries that did not parse, with why; left in storage as they are. */
  readonly unreadable: readonly { readonly index: number; readonly problem: string }[];
}

export class IdentityStore {
  readonly #storage: StringStorage;

  constructor(storage: StringStorage) {
    this.#storage = storage;
  }

  list(): IdentityList {
    const raw = this.#raw();
    const identities: IdentityFile[] = [];
    const unreadable: { index: number; problem: string }[] = [];
    raw.forEach((entry, index) => {
      try {
        identities.push(parseIdentityFile(entry));
      } catch (error) {
        if (!(error instanceof KeystoreError)) throw error;
        unreadable.push({ index, problem: error.message });
      }
    });
    return { identities, unreadable };
  }

  get(publicKey: string): IdentityFile | undefined {
    return this.list().identities.find((file) => file.publicKey === publicKey);
  }

  /** Adds an identity; refuses one whose account is already here (remove that one first). */
  add(file: IdentityFile): void {
    const checked = parseIdentityFile(file);
    const raw = this.#raw();
    if (this.list().identities.some((existing) => existing.publicKey === checked.publicKey)) {
      throw new KeystoreError(KeystoreErrorCode.InvalidFile, 'This browser already holds that identity. Remove it first if you want to replace it.');
    }
    this.#write([...raw, checked]);
  }

  /** Renames an identity; the label is not part of what the passphrase protects, so no passphrase is needed. */
  rename(publicKey: string, label: string): void {
    const clean = checkLabel(label);
    this.#replace(publicKey, (file) => ({ ...file, label: clean }));
  }

  /** Deletes an identity from this browser. Without a backup, its key is gone for good. */
  remove(publicKey: string): void {
    const raw = this.#raw();
    const kept = raw.filter((entry) => !(typeof entry === 'object' && entry !== null && (entry as { publicKey?: unknown }).publicKey === publicKey));
    if (kept.length === raw.length) throw new KeystoreError(KeystoreErrorCode.InvalidFile, 'That identity is not in this browser.');
    this.#write(kept);
  }

  #replace(publicKey: string, change: (file: IdentityFile) => IdentityFile): void {
    const raw = this.#raw();
    let found = false;
    const next = raw.map((entry) => {
      if (typeof entry !== 'object' || entry === null || (entry as { publicKey?: unknown }).publicKey !== publicKey) return entry;
      found = true;
      return change(parseIdentityFile(entry));
    });
    if (!found) throw new KeystoreError(KeystoreErrorCode.InvalidFile, 'That identity is not in this browser.');
    this.#write(next);
  }

  #raw(): readonly unknown[] {
    const text = this.#storage.getItem(STORAGE_KEY);
    if (text === null) return [];
    let stored: unknown;
    try {
      stored = JSON.parse(text);
    } catch {
      throw new KeystoreError(KeystoreErrorCode.InvalidFile, `This browser's saved identities (${STORAGE_KEY}) are not valid JSON; nothing was changed. Restore them from your backup files.`);
    }
    if (typeof stored !== 'object' || stored === null || (stored as Stored).version !== STORAGE_VERSION || !Array.isArray((stored as Stored).identities)) {
      throw new KeystoreError(KeystoreErrorCode.InvalidFile, `This browser's saved identities (${STORAGE_KEY}) are in a format this app does not know; nothing was changed.`);
    }
    return (stored as Stored).identities;
  }

  #write(identities: readonly unknown[]): void {
    const stored: Stored = { version: STORAGE_VERSION, identities };
    this.#storage.setItem(STORAGE_KEY, JSON.stringify(stored));
  }
}
