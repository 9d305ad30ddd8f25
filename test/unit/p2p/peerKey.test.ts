import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { privateKeyToProtobuf, generateKeyPair } from '@libp2p/crypto/keys';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreatePeerKey, peerKeyPath } from '../../../src/p2p/peerKey.ts';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function datadir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'medchain-peerkey-'));
  dirs.push(dir);
  return dir;
}

describe('peer key', () => {
  it('creates an Ed25519 key on first use (0600 in a 0700 folder) and loads the same key after', async () => {
    const dir = await datadir();
    const created = await loadOrCreatePeerKey(dir);
    expect(created.type).toBe('Ed25519');
    expect((await stat(peerKeyPath(dir))).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(peerKeyPath(dir)))).mode & 0o777).toBe(0o700);
    expect(new Uint8Array(await readFile(peerKeyPath(dir)))).toEqual(privateKeyToProtobuf(created));
    const loaded = await loadOrCreatePeerKey(dir);
    expect(loaded.equals(created)).toBe(true);
  });

  it('refuses a damaged key file with a message saying what to do', async () => {
    const dir = await datadir();
    await loadOrCreatePeerKey(dir);
    await writeFile(peerKeyPath(dir), Uint8Array.of(1, 2, 3));
    await expect(loadOrCreatePeerKey(dir)).rejects.toThrow(/peer key .*peer-key cannot be read .*delete it to start with a new peer id/);
  });

  it('refuses a key of another type', async () => {
    const dir = await datadir();
    await loadOrCreatePeerKey(dir);
    await writeFile(peerKeyPath(dir), privateKeyToProtobuf(await generateKeyPair('secp256k1')));
    await expect(loadOrCreatePeerKey(dir)).rejects.toThrow(/holds a secp256k1 key, expected Ed25519/);
  });
});
