// The browser build swaps src/crypto/hash.ts and ed25519.ts (sodium-native) for their .browser.ts variants
// (@noble/*). Everything a browser signs is checked by nodes with libsodium, so the variants must produce the
// very same bytes: digests, public keys and (deterministic) signatures, on fixed vectors and random inputs.

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8 } from '../../../src/codec/bytes.ts';
import * as nodeEd from '../../../src/crypto/ed25519.ts';
import * as browserEd from '../../../src/crypto/ed25519.browser.ts';
import * as nodeHash from '../../../src/crypto/hash.ts';
import * as browserHash from '../../../src/crypto/hash.browser.ts';
import { signTransaction } from '../../../src/codec/transaction.ts';
import { TxType } from '../../../src/types/transaction.ts';
import type { Ed25519VectorFile } from '../../vectors/make-ed25519-vectors.ts';

const vectors = JSON.parse(readFileSync(new URL('../../vectors/ed25519.json', import.meta.url), 'utf8')) as Ed25519VectorFile;
const hex = (text: string): Uint8Array => fromHex(text) ?? (() => { throw new Error(`not hex: ${text}`); })();

const SEEDS = [
  '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', // RFC 8032 test 1
  '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb', // RFC 8032 test 2
  'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7', // RFC 8032 test 3
  '0000000000000000000000000000000000000000000000000000000000000000',
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
];

describe('hash.browser.ts equals hash.ts', () => {
  it.each([
    ['empty', new Uint8Array(0)],
    ['abc', utf8('abc')],
    ['55 bytes (one block minus padding)', new Uint8Array(55).fill(0x61)],
    ['56 bytes (padding spills)', new Uint8Array(56).fill(0x62)],
    ['64 bytes', new Uint8Array(64).fill(0xff)],
    ['1 MB', new Uint8Array(1_000_000).map((_, i) => i & 0xff)],
  ])('%s', (_name, input) => {
    const browser = browserHash.sha256(input);
    expect(toHex(browser)).toBe(toHex(nodeHash.sha256(input)));
    expect(browser.constructor).toBe(Uint8Array);
    expect(browser.length).toBe(browserHash.SHA256_LENGTH);
  });

  it('on random inputs', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (input) => toHex(browserHash.sha256(input)) === toHex(nodeHash.sha256(input))), { seed: 6, numRuns: 300 });
  });
});

describe('ed25519.browser.ts equals ed25519.ts', () => {
  it('has the same exported constants', () => {
    for (const name of ['PUBLIC_KEY_LENGTH', 'SIGNATURE_LENGTH', 'SEED_LENGTH', 'SECRET_KEY_LENGTH'] as const) expect(browserEd[name]).toBe(nodeEd[name]);
  });

  it.each(SEEDS)('seed %s: the same key pair, fingerprint and byte-identical signatures', (seedHex) => {
    const seed = hex(seedHex);
    const a = nodeEd.keyPairFromSeed(seed);
    const b = browserEd.keyPairFromSeed(seed);
    expect(toHex(b.publicKey)).toBe(toHex(a.publicKey));
    expect(toHex(b.secretKey)).toBe(toHex(a.secretKey));
    expect(toHex(b.seed)).toBe(toHex(a.seed));
    expect(browserEd.fingerprint(b.publicKey)).toBe(nodeEd.fingerprint(a.publicKey));
    for (const message of [new Uint8Array(0), utf8('medchain'), new Uint8Array(1023).fill(7)]) {
      const signature = browserEd.sign(message, b.secretKey);
      expect(toHex(signature)).toBe(toHex(nodeEd.sign(message, a.secretKey)));
      expect(nodeEd.verify(signature, message, a.publicKey)).toBe(true);
      expect(browserEd.verify(signature, message, b.publicKey)).toBe(true);
    }
  });

  it('RFC 8032 test 1: the published public key and signature of the empty message', () => {
    const pair = browserEd.keyPairFromSeed(hex(SEEDS[0]!));
    expect(toHex(pair.publicKey)).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    expect(toHex(browserEd.sign(new Uint8Array(0), pair.secretKey))).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
  });

  it('signs the same transaction bytes (a browser-signed transaction is one a node accepts)', () => {
    const a = nodeEd.keyPairFromSeed(hex(SEEDS[1]!));
    const b = browserEd.keyPairFromSeed(hex(SEEDS[1]!));
    const unsigned = { chainId: 'medchain-dev', sender: a.publicKey, nonce: 3, body: { type: TxType.RegisterIdentity, role: 'patient' } } as const;
    const tx = signTransaction(unsigned, a.secretKey);
    const body = tx.bytes.slice(0, tx.bytes.length - 66);
    body[0] = 0x95;
    expect(toHex(browserEd.sign(body, b.secretKey))).toBe(toHex(tx.signature));
  });

  it('on random seeds and messages', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 512 }), (seed, message) => {
        const a = nodeEd.keyPairFromSeed(seed);
        const b = browserEd.keyPairFromSeed(seed);
        return toHex(a.publicKey) === toHex(b.publicKey) && toHex(nodeEd.sign(message, a.secretKey)) === toHex(browserEd.sign(message, b.secretKey));
      }),
      { seed: 7, numRuns: 100 },
    );
  });

  it('refuses wrong-sized seeds and secret keys, and a secret key whose public half is not its own', () => {
    expect(() => browserEd.keyPairFromSeed(new Uint8Array(31))).toThrow(/32 bytes, got 31/);
    expect(() => browserEd.sign(utf8('x'), new Uint8Array(32))).toThrow(/64 bytes/);
    const pair = browserEd.keyPairFromSeed(hex(SEEDS[2]!));
    const forged = pair.secretKey.slice();
    forged[40]! ^= 1;
    expect(() => browserEd.sign(utf8('x'), forged)).toThrow(/does not belong/);
  });

  it('verify answers as the vector file records for noble (strict RFC 8032), and never throws', () => {
    for (const v of vectors.vectors) {
      expect(browserEd.verify(hex(v.signature), hex(v.message), hex(v.publicKey)), v.name).toBe(v.noble);
    }
    expect(browserEd.verify(new Uint8Array(64), utf8('m'), new Uint8Array(32).fill(0xff))).toBe(false);
  });
});
