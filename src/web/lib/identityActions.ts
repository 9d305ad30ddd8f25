/**
 * What the app does with identities: create, import, unlock, lock, remove, back up, register on chain.
 * Seeds exist in memory only between unlock and lock; what is stored or downloaded is the encrypted file.
 */
import { EmrClient } from '../../client/emrClient.ts';
import { utf8 } from '../../codec/bytes.ts';
import { sha256 } from '../../crypto/hash.ts';
import { keyPairFromSeed } from '../../crypto/ed25519.ts';
import { identityFingerprint, openIdentity, sealIdentity, serializeIdentityFile, type IdentityFile, type IdentityRole } from '../keystore.ts';
import { IDENTITIES_CHANGED, type Services } from './services.ts';

export const SEED_LENGTH = 32;

function changed(services: Services): void {
  services.changes.dispatchEvent(new Event(IDENTITIES_CHANGED));
}

export interface NewIdentity {
  readonly label: string;
  readonly role: IdentityRole | null;
  readonly passphrase: string;
  readonly onProgress?: (fraction: number) => void;
}

/**
 * Keys are handled only in a secure context (HTTPS, or the node on localhost): over plain HTTP from another
 * machine, anyone on the path could change the page and take the passphrase and the key.
 */
export function requireSecureContext(): void {
  if ((globalThis as { isSecureContext?: boolean }).isSecureContext === false) {
    throw new Error('This page was not loaded over HTTPS (or from this computer), so it cannot be trusted with keys. Ask the hospital for the https:// address of its node.');
  }
}

/** Creates an identity from fresh random bytes (or a given seed, for imports), stores it encrypted and unlocks it. */
export async function createIdentity(services: Services, input: NewIdentity, seed?: Uint8Array): Promise<IdentityFile> {
  requireSecureContext();
  // A seed drawn here is wiped here; a seed passed in belongs to the caller (it may retry after a refusal).
  const ownSeed = seed ?? services.random(SEED_LENGTH);
  try {
    const file = await sealIdentity(ownSeed, { ...input, random: services.random, now: services.now() });
    services.identities.add(file);
    services.session.unlock(keyPairFromSeed(ownSeed));
    changed(services);
    return file;
  } finally {
    if (seed === undefined) ownSeed.fill(0);
  }
}

/** Stores an identity file as it is (already encrypted); it stays locked until its passphrase is entered. */
export function importIdentityFile(services: Services, file: IdentityFile): void {
  services.identities.add(file);
  changed(services);
}

/** Decrypts an identity into the session. */
export async function unlockIdentity(services: Services, file: IdentityFile, passphrase: string, onProgress?: (fraction: number) => void): Promise<void> {
  requireSecureContext();
  const locks = services.session.lockCount;
  const keyPair = await openIdentity(file, passphrase, onProgress);
  // Locked (by the user, the idle timer or leaving the page) while the passphrase was being checked: the
  // lock wins, the key is wiped and never enters the session.
  if (services.session.lockCount !== locks) {
    keyPair.secretKey.fill(0);
    keyPair.seed.fill(0);
    throw new Error('The identity was locked while it was being unlocked; unlock it again.');
  }
  services.session.unlock(keyPair);
  changed(services);
}

export function lockIdentity(services: Services, publicKey?: string): void {
  services.session.lock(publicKey);
  changed(services);
}

export function removeIdentity(services: Services, publicKey: string): void {
  services.session.lock(publicKey);
  services.identities.remove(publicKey);
  changed(services);
}

export function renameIdentity(services: Services, publicKey: string, label: string): void {
  services.identities.rename(publicKey, label);
  changed(services);
}

/** The backup file's name: the label made safe for a file system, and the fingerprint. */
export function backupFileName(file: IdentityFile): string {
  const safe = file.label.normalize('NFKD').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'identity';
  return `medchain-${safe}-${identityFingerprint(file)}.json`;
}

/** Saves the encrypted identity file to the user's computer (nothing goes over the network). */
export function downloadBackup(file: IdentityFile): void {
  const url = URL.createObjectURL(new Blob([serializeIdentityFile(file)], { type: 'application/json' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = backupFileName(file);
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The EMR client of an unlocked identity, or undefined when it is locked. */
export function clientFor(services: Services, publicKey: string, chainId: string): EmrClient | undefined {
  const keyPair = services.session.keyPair(publicKey);
  if (keyPair === undefined) return undefined;
  return new EmrClient(services.rpc, keyPair, { chainId, random: services.random, timeoutMs: 60_000, pollMs: 500 });
}

export const DEMO_NAMES = ['patient', 'doctor', 'hospital'] as const;

/**
 * The seeds of `medchain dev`'s demo accounts (src/cli/commands/dev.ts): public knowledge, derived from fixed
 * names, offered only on the dev chain so its dashboards can be tried at once.
 */
export function demoSeed(name: (typeof DEMO_NAMES)[number]): Uint8Array {
  return sha256(utf8(`medchain-dev-demo-account/${name}`));
}

export const DEV_CHAIN_ID = 'medchain-dev';
