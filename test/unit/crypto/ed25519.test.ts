import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ed25519 } from '@noble/curves/ed25519.js';
import sodiumNative from 'sodium-native';
import { concatBytes, fromHex, toHex } from '../../../src/codec/bytes.ts';
import {
  PUBLIC_KEY_LENGTH,
  SEED_LENGTH,
  SIGNATURE_LENGTH,
  fingerprint,
  keyPairFromSeed,
  sign,
  verify,
} from '../../../src/crypto/ed25519.ts';
import type { Ed25519VectorFile } from '../../vectors/make-ed25519-vectors.ts';

const file = JSON.parse(readFileSync(new URL('../../vectors/ed25519.json', import.meta.url), 'utf8')) as Ed25519VectorFile;

function hex(text: string): Uint8Array {
  const bytes = fromHex(text);
  if (bytes === undefined) throw new Error(`vector file holds non-hex: ${text}`);
  return bytes;
}

function nobleVerify(sig: Uint8Array, msg: Uint8Array, pk: Uint8Array): boolean {
  // noble throws on wrong lengths; the vector file records those as false.
  if (sig.length !== 64 || pk.length !== 32) return false;
  return ed25519.verify(sig, msg, pk, { zip215: false });
}

const RFC8032_SEEDS: Record<string, string> = {
  'rfc8032-test-1': '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
  'rfc8032-test-2': '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
  'rfc8032-test-3': 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
  'rfc8032-test-sha-abc': '833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42',
};

const vectorCases = file.vectors.map((v) => [v.name, v] as const);

describe('ed25519 vector file', () => {
  it('covers the required edge cases', () => {
    const names = new Set(file.vectors.map((v) => v.name));
    for (const required of [
      'rfc8032-test-1',
      'rfc8032-test-2',
      'rfc8032-test-3',
      'rfc8032-test-sha-abc',
      'small-order-A-identity',
      'small-order-R-identity',
      'non-canonical-A-y-p-plus-1',
      'non-canonical-R-y-p-plus-1',
      'S-equals-L',
      'S-plus-L',
      'S-high-bit-set',
      'mixed-order-A-cofactorless-holds',
      'mixed-order-A-cofactored-only',
      'signature-length-63',
      'signature-length-65',
      'signature-length-0',
      'public-key-length-31',
      'public-key-length-33',
      'all-zero-key-and-signature',
    ]) {
      expect(names, required).toContain(required);
    }
    expect(names.size).toBe(file.vectors.length);
  });

  it.each(vectorCases)('verify agrees with "valid": %s', (_name, v) => {
    expect(verify(hex(v.signature), hex(v.message), hex(v.publicKey))).toBe(v.valid);
  });

  it.each(vectorCases)('@noble/curves zip215:false agrees with "noble": %s', (_name, v) => {
    expect(nobleVerify(hex(v.signature), hex(v.message), hex(v.publicKey))).toBe(v.noble);
  });

  it('says in "why" wherever noble and the consensus rule differ', () => {
    for (const v of file.vectors) {
      if (v.valid !== v.noble) expect(v.why, v.name).toContain('DIFFERS');
    }
  });

  it.each(Object.entries(RFC8032_SEEDS))('keyPairFromSeed and sign reproduce %s', (name, seed) => {
    const v = file.vectors.find((x) => x.name === name);
    if (v === undefined) throw new Error(`vector ${name} missing`);
    const keys = keyPairFromSeed(hex(seed));
    expect(toHex(keys.publicKey)).toBe(v.publicKey);
    expect(toHex(keys.seed)).toBe(seed);
    expect(toHex(keys.secretKey)).toBe(seed + v.publicKey);
    expect(toHex(sign(hex(v.message), keys.secretKey))).toBe(v.signature);
  });
});

describe('ed25519 keys and signatures', () => {
  const keys = keyPairFromSeed(new Uint8Array(SEED_LENGTH).fill(7));
  const message = new TextEncoder().encode('grant read access to record 42');

  it('has the fixed lengths', () => {
    expect([PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, SEED_LENGTH]).toEqual([32, 64, 32]);
    expect(keys.publicKey.length).toBe(32);
    expect(keys.secretKey.length).toBe(64);
    expect(keys.seed.length).toBe(32);
    expect(sign(message, keys.secretKey).length).toBe(64);
  });

  it('signs deterministically and verifies', () => {
    const sig = sign(message, keys.secretKey);
    expect(toHex(sign(message, keys.secretKey))).toBe(toHex(sig));
    expect(verify(sig, message, keys.publicKey)).toBe(true);
  });

  it('does not share memory between the seed it is given and the key pair', () => {
    const seed = new Uint8Array(32).fill(9);
    const pair = keyPairFromSeed(seed);
    seed.fill(0);
    expect(pair.seed.every((b) => b === 9)).toBe(true);
    pair.seed.fill(1);
    expect(pair.secretKey[0]).toBe(9);
  });

  it('reads typed-array views at their offset', () => {
    const sig = sign(message, keys.secretKey);
    const backing = concatBytes(new Uint8Array(3), sig, keys.publicKey, message, new Uint8Array(5));
    const sigView = backing.subarray(3, 67);
    const pkView = backing.subarray(67, 99);
    const msgView = backing.subarray(99, 99 + message.length);
    expect(verify(sigView, msgView, pkView)).toBe(true);
    expect(toHex(sign(msgView, keys.secretKey))).toBe(toHex(sig));
  });

  it('rejects wrong-length seeds and secret keys with a RangeError', () => {
    expect(() => keyPairFromSeed(new Uint8Array(31))).toThrow(RangeError);
    expect(() => keyPairFromSeed(new Uint8Array(64))).toThrow(RangeError);
    expect(() => sign(message, keys.secretKey.subarray(0, 32))).toThrow(/64 bytes/);
  });

  it('checks the signature length itself: raw libsodium accepts a 65-byte signature', () => {
    const sig = sign(message, keys.secretKey);
    const longer = concatBytes(sig, new Uint8Array([0xff]));
    const raw = sodiumNative as unknown as {
      crypto_sign_verify_detached(s: Uint8Array, m: Uint8Array, pk: Uint8Array): boolean;
    };
    expect(raw.crypto_sign_verify_detached(longer, message, keys.publicKey)).toBe(true);
    expect(verify(longer, message, keys.publicKey)).toBe(false);
  });

  it('never throws, whatever it is given', () => {
    const odd: unknown[] = [undefined, null, 'abc', 42, {}, [1, 2, 3], new Uint16Array(32), new ArrayBuffer(64)];
    for (const x of odd) {
      const u = x as Uint8Array;
      expect(verify(u, message, keys.publicKey)).toBe(false);
      expect(verify(sign(message, keys.secretKey), u, keys.publicKey)).toBe(false);
      expect(verify(sign(message, keys.secretKey), message, u)).toBe(false);
    }
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 80 }),
        fc.uint8Array({ minLength: 0, maxLength: 64 }),
        fc.uint8Array({ minLength: 0, maxLength: 40 }),
        (sig, msg, pk) => {
          expect(verify(sig, msg, pk)).toBe(false);
        },
      ),
      { seed: 0xed25519, numRuns: 2000 },
    );
  });

  it('agrees with @noble/curves (zip215:false) on random valid signatures and their corruptions', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 0, maxLength: 300 }),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (seed, msg, where, bit) => {
          const pair = keyPairFromSeed(seed);
          const sig = sign(msg, pair.secretKey);
          expect(toHex(sig)).toBe(toHex(ed25519.sign(msg, seed)));
          expect(verify(sig, msg, pair.publicKey)).toBe(true);
          expect(nobleVerify(sig, msg, pair.publicKey)).toBe(true);

          // One flipped bit anywhere in (signature, public key, message) must fail under both rules.
          const all = concatBytes(sig, pair.publicKey, msg);
          const i = where % all.length;
          all[i]! ^= 1 << bit;
          const s = all.subarray(0, 64);
          const pk = all.subarray(64, 96);
          const m = all.subarray(96);
          expect(verify(s, m, pk)).toBe(false);
          expect(nobleVerify(s, m, pk)).toBe(false);
        },
      ),
      { seed: 20_260_801, numRuns: 300 },
    );
  });
});

describe('fingerprint', () => {
  it('is the first 8 bytes of the key as four dash-separated hex groups', () => {
    const pk = hex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    expect(fingerprint(pk)).toBe('d75a-9801-82b1-0ab7');
    expect(toHex(pk).startsWith(fingerprint(pk).replaceAll('-', ''))).toBe(true);
  });

  it('refuses anything but a 32-byte public key', () => {
    expect(() => fingerprint(new Uint8Array(31))).toThrow(RangeError);
  });
});
