/**
 * Single-thread Ed25519 verification and SHA-256 throughput.
 * Run: ./node_modules/.bin/node bench/verify.bench.ts
 *
 * Verifies the same 2,000 signatures (200-byte messages, 2,000 distinct keys)
 * with libsodium (sodium-native), OpenSSL (node:crypto, one KeyObject per key,
 * created before timing) and @noble/curves; then hashes with SHA-256 via
 * libsodium and @noble/hashes at 32 B, 200 B and 64 KiB, and builds a
 * 5,000-leaf Merkle root.
 */
import { createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import sodiumNative from 'sodium-native';
import { keyPairFromSeed, sign, verify } from '../src/crypto/ed25519.ts';
import { sha256 } from '../src/crypto/hash.ts';
import { merkleRoot } from '../src/crypto/merkle.ts';
import { u32be } from '../src/codec/bytes.ts';

interface SodiumRaw {
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
  crypto_hash_sha256(output: Uint8Array, input: Uint8Array): void;
}
const sodium = sodiumNative as unknown as SodiumRaw;

const COUNT = 2_000;
const MESSAGE_LENGTH = 200;

interface Signed {
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
  keyObject: KeyObject;
}

function makeSignatures(): Signed[] {
  const out: Signed[] = [];
  for (let i = 0; i < COUNT; i++) {
    const keys = keyPairFromSeed(sha256(u32be(i)));
    const message = new Uint8Array(MESSAGE_LENGTH);
    for (let j = 0; j < MESSAGE_LENGTH; j += 32) message.set(sha256(u32be(i * 1000 + j)).subarray(0, Math.min(32, MESSAGE_LENGTH - j)), j);
    const signature = sign(message, keys.secretKey);
    const keyObject = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(keys.publicKey).toString('base64url') },
      format: 'jwk',
    });
    out.push({ publicKey: keys.publicKey, message, signature, keyObject });
  }
  return out;
}

/** Best of `rounds` timed runs, in operations per second. */
function opsPerSecond(ops: number, rounds: number, run: () => number): number {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    const ok = run();
    const ms = performance.now() - start;
    if (ok !== ops) throw new Error(`bench sanity check failed: ${ok} of ${ops} operations succeeded`);
    best = Math.min(best, ms);
  }
  return (ops * 1000) / best;
}

function countTrue(items: readonly Signed[], check: (s: Signed) => boolean): number {
  let ok = 0;
  for (const s of items) if (check(s)) ok++;
  return ok;
}

const rows: [string, number, string][] = [];
const signed = makeSignatures();

const verifiers: [string, (s: Signed) => boolean, number][] = [
  ['ed25519 verify: medchain verify() (sodium)', (s) => verify(s.signature, s.message, s.publicKey), 5],
  ['ed25519 verify: sodium-native direct', (s) => sodium.crypto_sign_verify_detached(s.signature, s.message, s.publicKey), 5],
  ['ed25519 verify: node:crypto (OpenSSL)', (s) => nodeVerify(null, s.message, s.keyObject, s.signature), 5],
  ['ed25519 verify: @noble/curves', (s) => ed25519.verify(s.signature, s.message, s.publicKey, { zip215: false }), 1],
];
for (const [name, check, rounds] of verifiers) {
  countTrue(signed.slice(0, 200), check); // warm-up
  const rate = opsPerSecond(COUNT, rounds, () => countTrue(signed, check));
  rows.push([name, rate, `${(1e6 / rate).toFixed(1)} us/op`]);
}

for (const size of [32, 200, 65_536]) {
  const inputs = Array.from({ length: 64 }, (_, i) => {
    const b = new Uint8Array(size);
    b.fill(i);
    return b;
  });
  const ops = size > 1024 ? 2_000 : 200_000;
  const hashers: [string, (d: Uint8Array) => Uint8Array][] = [
    ['medchain sha256 (sodium-native)', (d) => sha256(d)],
    ['@noble/hashes', (d) => nobleSha256(d)],
  ];
  for (const [name, hash] of hashers) {
    const run = (): number => {
      let n = 0;
      for (let i = 0; i < ops; i++) if (hash(inputs[i & 63]!).length === 32) n++;
      return n;
    };
    run();
    const rate = opsPerSecond(ops, 5, run);
    rows.push([`sha256 ${size} B: ${name}`, rate, `${(1e6 / rate).toFixed(2)} us/op`]);
  }
}

{
  const leaves = Array.from({ length: 5_000 }, (_, i) => sha256(u32be(i)));
  const run = (): number => (merkleRoot(leaves).length === 32 ? 1 : 0);
  run();
  const rate = opsPerSecond(1, 20, run);
  rows.push(['merkleRoot of 5,000 transaction ids', rate, `${(1000 / rate).toFixed(2)} ms/op`]);
}

const width = Math.max(...rows.map((r) => r[0].length));
console.log(`${'benchmark'.padEnd(width)}  ${'ops/s'.padStart(12)}  per op`);
for (const [name, rate, per] of rows) {
  console.log(`${name.padEnd(width)}  ${Math.round(rate).toLocaleString('en-US').padStart(12)}  ${per}`);
}
