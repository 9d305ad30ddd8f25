// The browser keystore (src/web/keystore.ts): seeds sealed with a passphrase (scrypt + XChaCha20-Poly1305),
// a wrong passphrase and a tampered file refused with distinct errors, and imports treated as hostile input.

import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { scrypt } from '@noble/hashes/scrypt.js';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex, utf8 } from '../../../src/codec/bytes.ts';
import { keyPairFromSeed } from '../../../src/crypto/ed25519.ts';
import { sha256 } from '../../../src/crypto/hash.ts';
import { secureRandom } from '../../../src/envelope/random.ts';
import {
  DEFAULT_KDF,
  KeystoreError,
  identityFingerprint,
  openIdentity,
  parseIdentityFile,
  parseImport,
  sealIdentity,
  serializeIdentityFile,
  type IdentityFile,
} from '../../../src/web/keystore.ts';

const SEED = fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60')!;
const PASSPHRASE = 'correct horse battery staple';
// The cheapest cost the format accepts, so the many refusal cases stay fast; one test uses the default.
const FAST_KDF = { N: 2 ** 14, r: 8, p: 1 } as const;

/** A replayable random source: 1, 2, 3, ... */
function counter(): (n: number) => Uint8Array {
  let next = 1;
  return (n) => Uint8Array.from({ length: n }, () => next++ & 0xff || 1);
}

async function sealed(overrides: Partial<Parameters<typeof sealIdentity>[1]> = {}): Promise<IdentityFile> {
  return sealIdentity(SEED, { label: 'Alice', role: 'patient', passphrase: PASSPHRASE, random: secureRandom, now: Date.UTC(2026, 5, 1), kdf: FAST_KDF, ...overrides });
}

async function refusal(promise: Promise<unknown>): Promise<KeystoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeystoreError);
  return error as KeystoreError;
}

function refusalOf(run: () => unknown): KeystoreError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(KeystoreError);
    return error as KeystoreError;
  }
  throw new Error('expected a KeystoreError, nothing was thrown');
}

describe('sealIdentity / openIdentity', () => {
  it('round trip with the default cost (N = 2^15, r = 8, p = 1): the same key pair comes back', async () => {
    const file = await sealed({ kdf: undefined });
    expect(file.kdf).toMatchObject({ name: 'scrypt', ...DEFAULT_KDF });
    const pair = await openIdentity(file, PASSPHRASE);
    const expected = keyPairFromSeed(SEED);
    expect(toHex(pair.publicKey)).toBe(toHex(expected.publicKey));
    expect(toHex(pair.seed)).toBe(toHex(SEED));
    expect(toHex(pair.secretKey)).toBe(toHex(expected.secretKey));
    expect(identityFingerprint(file)).toBe('d75a-9801-82b1-0ab7');
  });

  it('writes the versioned format, with nothing secret in the clear', async () => {
    const file = await sealed();
    expect(Object.keys(file).sort()).toEqual(['ciphertext', 'cipher', 'createdAt', 'format', 'kdf', 'label', 'nonce', 'publicKey', 'role', 'version'].sort());
    expect(file).toMatchObject({ format: 'medchain-identity', version: 1, label: 'Alice', role: 'patient', cipher: 'xchacha20-poly1305', createdAt: '2026-06-01T00:00:00.000Z' });
    expect(file.kdf.salt).toMatch(/^[0-9a-f]{32}$/);
    expect(file.nonce).toMatch(/^[0-9a-f]{48}$/);
    expect(file.ciphertext).toMatch(/^[0-9a-f]{96}$/);
    const text = serializeIdentityFile(file);
    expect(text).not.toContain(toHex(SEED));
    expect(text).not.toContain(PASSPHRASE);
    expect(parseIdentityFile(JSON.parse(text))).toEqual(file);
  });

  it('is exactly the documented construction (an independent re-computation opens it)', async () => {
    const file = await sealed({ random: counter() });
    const out = scrypt(utf8(PASSPHRASE), fromHex(file.kdf.salt)!, { N: FAST_KDF.N, r: 8, p: 1, dkLen: 64 });
    expect(file.kdf.check).toBe(toHex(sha256(concatBytes(utf8('medchain/identity-check/v1'), out.subarray(32)))));
    const ad = concatBytes(utf8('medchain/identity/v1'), fromHex(file.publicKey)!);
    const seed = xchacha20poly1305(out.subarray(0, 32), fromHex(file.nonce)!, ad).decrypt(fromHex(file.ciphertext)!);
    expect(toHex(seed)).toBe(toHex(SEED));
  });

  it('uses a fresh salt and nonce each time', async () => {
    const a = await sealed();
    const b = await sealed();
    expect(a.kdf.salt).not.toBe(b.kdf.salt);
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.ciphertext).not.toBe(b.ciphertext);
  });

  it('normalises the passphrase (NFKC): a composed and a decomposed é open the same identity', async () => {
    const file = await sealed({ passphrase: 'caf\u00e9 au lait, no sugar' });
    const pair = await openIdentity(file, 'cafe\u0301 au lait, no sugar');
    expect(toHex(pair.seed)).toBe(toHex(SEED));
  });

  it('refuses a wrong passphrase with WRONG_PASSPHRASE and a message saying what to do', async () => {
    const file = await sealed();
    const error = await refusal(openIdentity(file, 'correct horse battery stapler'));
    expect(error.code).toBe('WRONG_PASSPHRASE');
    expect(error.message).toMatch(/passphrase does not unlock this identity/);
    expect((await refusal(openIdentity(file, ''))).code).toBe('WRONG_PASSPHRASE');
  });

  describe('a tampered file is refused, never opened into another key', () => {
    const flip = (hex: string, at: number): string => {
      const bytes = fromHex(hex)!;
      bytes[at]! ^= 0x01;
      return toHex(bytes);
    };
    const cases: [string, (f: IdentityFile) => IdentityFile, string][] = [
      ['a ciphertext byte', (f) => ({ ...f, ciphertext: flip(f.ciphertext, 3) }), 'TAMPERED'],
      ['the tag', (f) => ({ ...f, ciphertext: flip(f.ciphertext, 47) }), 'TAMPERED'],
      ['the nonce', (f) => ({ ...f, nonce: flip(f.nonce, 0) }), 'TAMPERED'],
      ['the public key (another account shown)', (f) => ({ ...f, publicKey: toHex(keyPairFromSeed(new Uint8Array(32).fill(9)).publicKey) }), 'TAMPERED'],
      ['the salt', (f) => ({ ...f, kdf: { ...f.kdf, salt: flip(f.kdf.salt, 5) } }), 'WRONG_PASSPHRASE'],
      ['the check value', (f) => ({ ...f, kdf: { ...f.kdf, check: flip(f.kdf.check, 5) } }), 'WRONG_PASSPHRASE'],
      ['the cost (r)', (f) => ({ ...f, kdf: { ...f.kdf, r: 7 } }), 'WRONG_PASSPHRASE'],
    ];
    it.each(cases)('%s', async (_what, tamper, code) => {
      const file = await sealed();
      const error = await refusal(openIdentity(tamper(file), PASSPHRASE));
      expect(error.code).toBe(code);
      if (code === 'TAMPERED') expect(error.message).toMatch(/changed or damaged after it was saved/);
    });

    it('a ciphertext sealed for another key under the same passphrase (spliced files)', async () => {
      const mine = await sealed();
      const other = await sealIdentity(new Uint8Array(32).fill(5), { label: 'Eve', role: null, passphrase: PASSPHRASE, random: secureRandom, now: 0, kdf: FAST_KDF });
      const spliced = { ...mine, kdf: other.kdf, nonce: other.nonce, ciphertext: other.ciphertext };
      expect((await refusal(openIdentity(spliced, PASSPHRASE))).code).toBe('TAMPERED');
    });
  });

  it('refuses weak passphrases, bad labels and bad seeds before doing any work', async () => {
    expect((await refusal(sealed({ passphrase: 'short' }))).code).toBe('WEAK_PASSPHRASE');
    expect((await refusal(sealed({ passphrase: '' }))).code).toBe('WEAK_PASSPHRASE');
    expect((await refusal(sealed({ label: '   ' }))).code).toBe('INVALID_LABEL');
    expect((await refusal(sealed({ label: 'x'.repeat(65) }))).code).toBe('INVALID_LABEL');
    expect((await refusal(sealed({ label: 'Dr \u202eevil' }))).code).toBe('INVALID_LABEL');
    expect((await refusal(sealed({ label: 'two\nlines' }))).code).toBe('INVALID_LABEL');
    expect((await refusal(sealIdentity(new Uint8Array(31), { label: 'a', role: null, passphrase: PASSPHRASE, random: secureRandom, now: 0 }))).code).toBe('INVALID_SEED');
    expect(await sealed({ label: '  Alice (GP)  ' })).toMatchObject({ label: 'Alice (GP)' });
  });

  it('refuses a broken random source', async () => {
    await expect(sealed({ random: (n) => new Uint8Array(n) })).rejects.toThrow(/random bytes/);
  });
});

describe('parseImport and parseIdentityFile: hostile input', () => {
  it('accepts a seed in hex (with or without 0x, surrounding space)', () => {
    for (const text of [toHex(SEED), `0x${toHex(SEED)}`, `  ${toHex(SEED).toUpperCase()}\n`]) {
      const parsed = parseImport(text);
      expect(parsed.kind).toBe('seed');
      if (parsed.kind === 'seed') expect(toHex(parsed.seed)).toBe(toHex(SEED));
    }
    expect(refusalOf(() => parseImport('abcd')).code).toBe('INVALID_SEED');
  });

  it("accepts a `medchain keys` key file and checks that its public key is its seed's", () => {
    const pair = keyPairFromSeed(SEED);
    const file = { version: 1, type: 'ed25519', publicKey: toHex(pair.publicKey), seed: toHex(SEED) };
    const parsed = parseImport(JSON.stringify(file));
    expect(parsed).toMatchObject({ kind: 'seed', source: 'cli-key-file' });
    expect(refusalOf(() => parseImport(JSON.stringify({ ...file, publicKey: toHex(new Uint8Array(32).fill(1)) }))).message).toMatch(/does not belong to its seed/);
    expect(refusalOf(() => parseImport(JSON.stringify({ ...file, extra: 1 }))).code).toBe('INVALID_FILE');
  });

  it('accepts its own backup file', async () => {
    const file = await sealed();
    expect(parseImport(serializeIdentityFile(file))).toEqual({ kind: 'identity-file', file });
  });

  it('refuses a file from a newer version with UNSUPPORTED_VERSION', async () => {
    const file = await sealed();
    expect(refusalOf(() => parseImport(JSON.stringify({ ...file, version: 2 }))).code).toBe('UNSUPPORTED_VERSION');
  });

  const base = async (): Promise<Record<string, unknown>> => JSON.parse(serializeIdentityFile(await sealed())) as Record<string, unknown>;
  const hostile: [string, (f: Record<string, unknown>) => unknown][] = [
    ['not JSON', () => '{"format": "medchain-identity",'],
    ['an array', () => []],
    ['null', () => null],
    ['a string', () => 'hello'],
    ['wrong format marker', (f) => ({ ...f, format: 'ethereum-keystore' })],
    ['version as a string', (f) => ({ ...f, version: '1' })],
    ['version 0', (f) => ({ ...f, version: 0 })],
    ['an unknown field', (f) => ({ ...f, seed: toHex(SEED) })],
    ['a __proto__ field', (f) => JSON.parse(JSON.stringify(f).replace('{', '{"__proto__":{"polluted":true},'))],
    ['label not text', (f) => ({ ...f, label: 42 })],
    ['label with a line break inside', (f) => ({ ...f, label: 'Dr A\nadmin' })],
    ['label too long', (f) => ({ ...f, label: 'a'.repeat(500) })],
    ['an unknown role', (f) => ({ ...f, role: 'admin' })],
    ['public key too short', (f) => ({ ...f, publicKey: 'abcd' })],
    ['public key uppercase', (f) => ({ ...f, publicKey: (f.publicKey as string).toUpperCase() })],
    ['public key not hex', (f) => ({ ...f, publicKey: 'zz'.repeat(32) })],
    ['createdAt not a date', (f) => ({ ...f, createdAt: 'yesterday' })],
    ['another cipher', (f) => ({ ...f, cipher: 'aes-128-ctr' })],
    ['kdf missing', (f) => ({ ...f, kdf: undefined })],
    ['kdf pbkdf2', (f) => ({ ...f, kdf: { ...(f.kdf as object), name: 'pbkdf2' } })],
    ['scrypt N not a power of two', (f) => ({ ...f, kdf: { ...(f.kdf as object), N: 30000 } })],
    ['scrypt N too small (cheap to guess)', (f) => ({ ...f, kdf: { ...(f.kdf as object), N: 1024 } })],
    ['scrypt N = 2^30 (hangs the tab)', (f) => ({ ...f, kdf: { ...(f.kdf as object), N: 2 ** 30 } })],
    ['scrypt memory over 256 MiB', (f) => ({ ...f, kdf: { ...(f.kdf as object), N: 2 ** 20, r: 8 } })],
    ['scrypt p = 1000', (f) => ({ ...f, kdf: { ...(f.kdf as object), p: 1000 } })],
    ['scrypt r as a float', (f) => ({ ...f, kdf: { ...(f.kdf as object), r: 8.5 } })],
    ['salt of the wrong size', (f) => ({ ...f, kdf: { ...(f.kdf as object), salt: 'ab' } })],
    ['nonce of the wrong size', (f) => ({ ...f, nonce: 'ab'.repeat(12) })],
    ['ciphertext truncated', (f) => ({ ...f, ciphertext: (f.ciphertext as string).slice(0, 64) })],
    ['ciphertext as bytes array', (f) => ({ ...f, ciphertext: [1, 2, 3] })],
  ];
  it.each(hostile)('%s: INVALID_FILE with a readable message', async (_what, make) => {
    const value = make(await base());
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    const error = refusalOf(() => parseImport(text));
    expect(error.code).toBe('INVALID_FILE');
    expect(error.message).toMatch(/^This is not a usable medchain identity file: .+\.$/);
  });

  it('keeps a label with markup as it is: it is text, and the app renders it as text', async () => {
    const file = { ...(await base()), label: '<img src=x onerror=alert(1)>' };
    expect(parseImport(JSON.stringify(file))).toMatchObject({ kind: 'identity-file', file: { label: '<img src=x onerror=alert(1)>' } });
  });

  it('refuses oversize input before parsing it', () => {
    const error = refusalOf(() => parseImport(`{"label":"${'a'.repeat(20_000)}"}`));
    expect(error.code).toBe('INVALID_FILE');
    expect(error.message).toMatch(/under 1 kB/);
  });

  it('a hostile file never reaches scrypt: openIdentity validates first', async () => {
    const file = { ...(await sealed()), kdf: { ...(await sealed()).kdf, N: 2 ** 30 } };
    const started = Date.now();
    expect((await refusal(openIdentity(file, PASSPHRASE))).code).toBe('INVALID_FILE');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
