/**
 * Envelope encryption throughput, single thread, pure JS (@noble/*) as it runs
 * in the browser.
 * Run: ./node_modules/.bin/node bench/envelope.bench.ts
 *
 * Record lines encrypt or decrypt one 100 KiB record version (XChaCha20-Poly1305,
 * the data key and nonce drawn from secureRandom for encrypt); MB/s counts
 * plaintext bytes (1 MB = 10^6 bytes). Key lines wrap (HPKE seal to an Ed25519
 * account id, key conversion included) or unwrap (from the 32-byte seed) one
 * data key. libsodium's native XChaCha20-Poly1305 is a reference for what the
 * node, not the browser, could do. Warm-up, then about one second per line;
 * the figure is the best of three rounds.
 */
import { performance } from 'node:perf_hooks';
import { ed25519 } from '@noble/curves/ed25519.js';
import sodiumNative from 'sodium-native';
import {
  commitCiphertext,
  decryptRecord,
  encryptRecord,
  newCommitmentSalt,
  recordAssociatedData,
  secureRandom,
  unwrapDataKey,
  wrapDataKey,
  x25519PublicKeyFromEd25519,
} from '../src/envelope/index.ts';

interface SodiumAead {
  crypto_aead_xchacha20poly1305_ietf_encrypt(c: Uint8Array, m: Uint8Array, ad: Uint8Array | null, nsec: null, npub: Uint8Array, k: Uint8Array): number;
  crypto_aead_xchacha20poly1305_ietf_decrypt(m: Uint8Array, nsec: null, c: Uint8Array, ad: Uint8Array | null, npub: Uint8Array, k: Uint8Array): number;
}
const sodium = sodiumNative as unknown as SodiumAead;

const RECORD_BYTES = 100 * 1024;
const plaintext = secureRandom(RECORD_BYTES);
const associatedData = recordAssociatedData('medchain-bench', secureRandom(32), 1);
const readerSeed = secureRandom(32);
const readerPublic = ed25519.getPublicKey(readerSeed);
const { ciphertext, dataKey } = encryptRecord(plaintext, { random: secureRandom, associatedData });
const envelope = wrapDataKey(dataKey, readerPublic, { random: secureRandom, associatedData });
const salt = newCommitmentSalt(secureRandom);

const nonce = secureRandom(24);
const sodiumSealed = new Uint8Array(RECORD_BYTES + 16);
sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(sodiumSealed, plaintext, associatedData, null, nonce, dataKey);
const sodiumOpened = new Uint8Array(RECORD_BYTES);

/** Operations per second: best of three ~1 s rounds after a 300 ms warm-up. */
function opsPerSecond(run: () => unknown): number {
  const warmUntil = performance.now() + 300;
  while (performance.now() < warmUntil) run();
  let best = 0;
  for (let round = 0; round < 3; round++) {
    let n = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < 1000) {
      run();
      n++;
      elapsed = performance.now() - start;
    }
    best = Math.max(best, (n * 1000) / elapsed);
  }
  return best;
}

interface Line {
  name: string;
  bytes: number;
  run: () => unknown;
}

const lines: Line[] = [
  { name: 'encryptRecord 100 KiB (@noble XChaCha20-Poly1305)', bytes: RECORD_BYTES, run: () => encryptRecord(plaintext, { random: secureRandom, associatedData }) },
  { name: 'decryptRecord 100 KiB', bytes: RECORD_BYTES, run: () => decryptRecord(ciphertext, dataKey, associatedData) },
  { name: 'commitCiphertext 100 KiB (SHA-256)', bytes: RECORD_BYTES, run: () => commitCiphertext(ciphertext, salt) },
  {
    name: 'reference: libsodium XChaCha20-Poly1305 seal 100 KiB',
    bytes: RECORD_BYTES,
    run: () => sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(sodiumSealed, plaintext, associatedData, null, nonce, dataKey),
  },
  {
    name: 'reference: libsodium XChaCha20-Poly1305 open 100 KiB',
    bytes: RECORD_BYTES,
    run: () => sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(sodiumOpened, null, sodiumSealed, associatedData, nonce, dataKey),
  },
  { name: 'wrapDataKey (HPKE seal to an Ed25519 account id)', bytes: 0, run: () => wrapDataKey(dataKey, readerPublic, { random: secureRandom, associatedData }) },
  { name: 'unwrapDataKey (from the Ed25519 seed)', bytes: 0, run: () => unwrapDataKey(envelope, readerSeed, associatedData) },
  { name: '  of which: x25519PublicKeyFromEd25519', bytes: 0, run: () => x25519PublicKeyFromEd25519(readerPublic) },
];

console.log(`node ${process.version}; single thread; ${RECORD_BYTES / 1024} KiB records; best of 3 rounds of ~1 s`);
console.log(`${'operation'.padEnd(54)} ${'ops/s'.padStart(10)} ${'us/op'.padStart(9)} ${'MB/s'.padStart(8)}`);
for (const line of lines) {
  const ops = opsPerSecond(line.run);
  const mbps = line.bytes === 0 ? '' : ((ops * line.bytes) / 1e6).toFixed(1);
  console.log(`${line.name.padEnd(54)} ${ops.toFixed(0).padStart(10)} ${(1e6 / ops).toFixed(1).padStart(9)} ${mbps.padStart(8)}`);
}
// One full "share with a doctor" for a 100 KiB record: encrypt, commit, one envelope; and the doctor's open.
const share = opsPerSecond(() => {
  const r = encryptRecord(plaintext, { random: secureRandom, associatedData });
  commitCiphertext(r.ciphertext, salt);
  wrapDataKey(r.dataKey, readerPublic, { random: secureRandom, associatedData });
});
const open = opsPerSecond(() => decryptRecord(ciphertext, unwrapDataKey(envelope, readerSeed, associatedData), associatedData));
console.log(`${'upload 100 KiB: encrypt + commit + 1 envelope'.padEnd(54)} ${share.toFixed(0).padStart(10)} ${(1e6 / share).toFixed(1).padStart(9)}`);
console.log(`${'open 100 KiB: unwrap + decrypt'.padEnd(54)} ${open.toFixed(0).padStart(10)} ${(1e6 / open).toFixed(1).padStart(9)}`);
