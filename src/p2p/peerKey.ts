import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';

/** Where the node's libp2p identity key lives inside its datadir. */
export function peerKeyPath(datadir: string): string {
  return path.join(datadir, 'p2p', 'peer-key');
}

/**
 * Loads the node's libp2p key, creating an Ed25519 key on first start. The peer id is derived from it, so
 * keeping it keeps the node's identity (other nodes' bootstrap lists name it) across restarts. Stored as the
 * protobuf-marshalled private key, mode 0600 in a 0700 folder: it is a secret.
 */
export async function loadOrCreatePeerKey(datadir: string): Promise<PrivateKey> {
  const file = peerKeyPath(datadir);
  let bytes: Uint8Array | undefined;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (bytes !== undefined) {
    try {
      const key = privateKeyFromProtobuf(bytes);
      if (key.type !== 'Ed25519') throw new Error(`it holds a ${key.type} key, expected Ed25519`);
      return key;
    } catch (error) {
      throw new Error(
        `the peer key ${file} cannot be read (${(error as Error).message}); restore it from a backup, or delete it to start with a new peer id`,
        { cause: error },
      );
    }
  }
  const key = await generateKeyPair('Ed25519');
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  // Write then rename, so a crash never leaves a half-written key that would block the next start.
  const temp = `${file}.tmp-${process.pid}`;
  await writeFile(temp, privateKeyToProtobuf(key), { mode: 0o600, flag: 'w' });
  await chmod(temp, 0o600);
  await rename(temp, file);
  return key;
}
