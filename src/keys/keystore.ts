import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromHex, toHex } from '../codec/bytes.ts';
import { fingerprint, keyPairFromSeed, type KeyPair } from '../crypto/ed25519.ts';

/** Key files: `<datadir>/keys/<name>.json`, mode 0600 in a 0700 folder. */
export const KEY_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;

export interface NamedKey {
  readonly name: string;
  readonly keyPair: KeyPair;
}

/** A key file that is missing, unreadable or malformed; the message says which file and what is wrong. */
export class KeyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyFileError';
  }
}

interface KeyFile {
  readonly version: 1;
  readonly type: 'ed25519';
  readonly publicKey: string;
  readonly seed: string;
}

export function keysDir(datadir: string): string {
  return join(datadir, 'keys');
}

function keyPath(datadir: string, name: string): string {
  if (!KEY_NAME_PATTERN.test(name)) {
    throw new KeyFileError(`"${name}" is not a valid key name (letters, digits, _ . -; at most 64 characters)`);
  }
  return join(keysDir(datadir), `${name}.json`);
}

/** Creates a new random key named `name`; refuses to overwrite an existing one. */
export async function createKey(datadir: string, name: string, seed: Uint8Array = randomBytes(32)): Promise<NamedKey> {
  const path = keyPath(datadir, name);
  await mkdir(keysDir(datadir), { recursive: true, mode: 0o700 });
  const keyPair = keyPairFromSeed(seed);
  const file: KeyFile = { version: 1, type: 'ed25519', publicKey: toHex(keyPair.publicKey), seed: toHex(keyPair.seed) };
  try {
    // 'wx': fail if it exists, so a typo never destroys a validator key.
    await writeFile(path, JSON.stringify(file, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new KeyFileError(`a key named "${name}" already exists at ${path}`);
    throw error;
  }
  await chmod(path, 0o600);
  return { name, keyPair };
}

/** Loads the key named `name`, checking that its public key matches its seed. */
export async function loadKey(datadir: string, name: string): Promise<NamedKey> {
  return { name, keyPair: await loadKeyFile(keyPath(datadir, name), name) };
}

/** Loads a key file by path, checking that its public key matches its seed. */
export async function loadKeyFile(path: string, name?: string): Promise<KeyPair> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new KeyFileError(name === undefined ? `no key file at ${path}` : `no key named "${name}" at ${path} (create one with: medchain keys new ${name})`);
    }
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KeyFileError(`${path} is not valid JSON`);
  }
  const file = parsed as Partial<KeyFile> | null;
  const seed = typeof file?.seed === 'string' ? fromHex(file.seed) : undefined;
  if (file?.version !== 1 || file.type !== 'ed25519' || seed === undefined || seed.length !== 32) {
    throw new KeyFileError(`${path} is not a medchain ed25519 key file (version 1 with a 32-byte hex seed)`);
  }
  const keyPair = keyPairFromSeed(seed);
  if (file.publicKey !== toHex(keyPair.publicKey)) {
    throw new KeyFileError(`${path}: the public key does not match the seed; the file is damaged`);
  }
  return keyPair;
}

/** Names of the keys in the datadir, sorted. */
export async function listKeys(datadir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(keysDir(datadir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .filter((n) => KEY_NAME_PATTERN.test(n))
    .sort();
}

/** A one-line public description of a key. */
export function describeKey(key: NamedKey): string {
  return `${key.name}  ${toHex(key.keyPair.publicKey)}  (${fingerprint(key.keyPair.publicKey)})`;
}
