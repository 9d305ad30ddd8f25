/**
 * Identities kept in the browser: an Ed25519 seed encrypted with a passphrase, as a versioned JSON file that
 * is both what browser storage holds and what a backup download contains.
 *
 *   key     = scrypt(NFKC(passphrase), salt 16 bytes, N = 2^15, r = 8, p = 1, 64 bytes)[0..32]
 *   check   = SHA-256("medchain/identity-check/v1" || scrypt output[32..64])
 *   sealed  = XChaCha20-Poly1305(key, nonce 24 bytes, seed, ad = "medchain/identity/v1" || publicKey)
 *
 * `check` lets a wrong passphrase be told apart from an altered file (it reveals nothing a guesser could not
 * already test against the ciphertext). The public key is bound as associated data, so a file cannot be made
 * to show one account while holding another's seed; after decryption the seed must still derive that key.
 *
 * Pure: randomness and the clock are passed in, nothing touches storage, so it runs in Node tests as it is.
 * Keys never leave this module in any form but this encrypted one.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { bytesEqual, concatBytes, fromHex, toHex, utf8 } from '../codec/bytes.ts';
import { fingerprint, keyPairFromSeed, type KeyPair } from '../crypto/ed25519.ts';
import { sha256 } from '../crypto/hash.ts';
import type { RandomSource } from '../envelope/random.ts';

export const IDENTITY_FILE_FORMAT = 'medchain-identity';
export const IDENTITY_FILE_VERSION = 1;
export const CIPHER_NAME = 'xchacha20-poly1305';

/** What a new identity is sealed with: 32 MiB of memory, about 0.1 s natively and 0.3-1 s in a browser. */
export const DEFAULT_KDF = { N: 2 ** 15, r: 8, p: 1 } as const;
/** Bounds on the scrypt parameters a file may name: an imported file must not make the browser spend minutes or gigabytes. */
export const KDF_LIMITS = { minLogN: 14, maxLogN: 20, maxR: 16, maxP: 4, maxMemoryBytes: 256 * 1024 * 1024 } as const;

export const MIN_PASSPHRASE_LENGTH = 10;
export const MAX_PASSPHRASE_LENGTH = 1024;
export const MAX_LABEL_LENGTH = 64;
/** A backup file is about 600 bytes; anything far larger is not one. */
export const MAX_IDENTITY_FILE_BYTES = 16 * 1024;

const SALT_LENGTH = 16;
const NONCE_LENGTH = 24;
const SEED_LENGTH = 32;
const SEALED_LENGTH = SEED_LENGTH + 16;
const AD_DOMAIN = utf8('medchain/identity/v1');
const CHECK_DOMAIN = utf8('medchain/identity-check/v1');

export const IDENTITY_ROLES = ['patient', 'doctor', 'hospital'] as const;
/** The dashboard an identity is meant for; a hint only, the chain decides what an account is. */
export type IdentityRole = (typeof IDENTITY_ROLES)[number];

export interface ScryptParams {
  readonly name: 'scrypt';
  readonly N: number;
  readonly r: number;
  readonly p: number;
  /** 16 bytes, hex. */
  readonly salt: string;
  /** Passphrase check value, 32 bytes, hex. */
  readonly check: string;
}

/** An identity at rest: the browser's storage entry and the backup file are the same JSON. */
export interface IdentityFile {
  readonly format: typeof IDENTITY_FILE_FORMAT;
  readonly version: typeof IDENTITY_FILE_VERSION;
  readonly label: string;
  readonly role: IdentityRole | null;
  /** The account id (Ed25519 public key), hex. */
  readonly publicKey: string;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly kdf: ScryptParams;
  readonly cipher: typeof CIPHER_NAME;
  /** 24 bytes, hex. */
  readonly nonce: string;
  /** The sealed seed (32 bytes + 16-byte tag), hex. */
  readonly ciphertext: string;
}

export const KeystoreErrorCode = {
  /** The passphrase does not open this identity. */
  WrongPassphrase: 'WRONG_PASSPHRASE',
  /** The passphrase is right but the file was altered or corrupted after it was saved. */
  Tampered: 'TAMPERED',
  /** Not an identity file, or one with a missing or malformed field. */
  InvalidFile: 'INVALID_FILE',
  /** An identity file from a newer medchain. */
  UnsupportedVersion: 'UNSUPPORTED_VERSION',
  /** A new passphrase that is too short. */
  WeakPassphrase: 'WEAK_PASSPHRASE',
  /** A seed that is not 32 bytes of hex. */
  InvalidSeed: 'INVALID_SEED',
  /** An empty, too long or unprintable label. */
  InvalidLabel: 'INVALID_LABEL',
} as const;
export type KeystoreErrorCode = (typeof KeystoreErrorCode)[keyof typeof KeystoreErrorCode];

/** A refusal of the keystore; the message says what was wrong and what to do. */
export class KeystoreError extends Error {
  readonly code: KeystoreErrorCode;
  constructor(code: KeystoreErrorCode, message: string) {
    super(message);
    this.name = 'KeystoreError';
    this.code = code;
  }
}

export interface SealOptions {
  readonly label: string;
  readonly role: IdentityRole | null;
  readonly passphrase: string;
  readonly random: RandomSource;
  /** ms since the epoch. */
  readonly now: number;
  /** Tests may lower the cost (within KDF_LIMITS); defaults to DEFAULT_KDF. */
  readonly kdf?: { readonly N: number; readonly r: number; readonly p: number };
  /** 0..1 while scrypt runs. */
  readonly onProgress?: (fraction: number) => void;
}

/** Encrypts `seed` under `passphrase` into an identity file. */
export async function sealIdentity(seed: Uint8Array, options: SealOptions): Promise<IdentityFile> {
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_LENGTH) throw new KeystoreError(KeystoreErrorCode.InvalidSeed, `a seed is ${SEED_LENGTH} bytes`);
  const label = checkLabel(options.label);
  checkNewPassphrase(options.passphrase);
  const params = options.kdf ?? DEFAULT_KDF;
  checkKdfCost(params.N, params.r, params.p);
  const keyPair = keyPairFromSeed(seed);
  const salt = draw(options.random, SALT_LENGTH);
  const nonce = draw(options.random, NONCE_LENGTH);
  const derived = await derive(options.passphrase, salt, params.N, params.r, params.p, options.onProgress);
  try {
    const ciphertext = xchacha20poly1305(derived.key, nonce, associatedData(keyPair.publicKey)).encrypt(seed);
    return {
      format: IDENTITY_FILE_FORMAT,
      version: IDENTITY_FILE_VERSION,
      label,
      role: options.role,
      publicKey: toHex(keyPair.publicKey),
      createdAt: new Date(options.now).toISOString(),
      kdf: { name: 'scrypt', N: params.N, r: params.r, p: params.p, salt: toHex(salt), check: toHex(derived.check) },
      cipher: CIPHER_NAME,
      nonce: toHex(nonce),
      ciphertext: toHex(ciphertext),
    };
  } finally {
    derived.key.fill(0);
    keyPair.secretKey.fill(0);
    keyPair.seed.fill(0);
  }
}

/** Decrypts an identity file; throws WRONG_PASSPHRASE or TAMPERED. The caller owns (and should wipe) the key pair. */
export async function openIdentity(file: IdentityFile, passphrase: string, onProgress?: (fraction: number) => void): Promise<KeyPair> {
  const checked = parseIdentityFile(file);
  const { N, r, p } = checked.kdf;
  const derived = await derive(passphrase, hexField(checked.kdf.salt), N, r, p, onProgress);
  try {
    if (!bytesEqual(derived.check, hexField(checked.kdf.check))) {
      throw new KeystoreError(KeystoreErrorCode.WrongPassphrase, 'That passphrase does not unlock this identity. Check for typing mistakes and the keyboard layout, and try again.');
    }
    const publicKey = hexField(checked.publicKey);
    let seed: Uint8Array;
    try {
      seed = xchacha20poly1305(derived.key, hexField(checked.nonce), associatedData(publicKey)).decrypt(hexField(checked.ciphertext));
    } catch {
      // The AEAD says only "not authentic"; with the passphrase checked above, the file itself was changed.
      throw tampered();
    }
    const keyPair = keyPairFromSeed(seed);
    seed.fill(0);
    if (!bytesEqual(keyPair.publicKey, publicKey)) {
      keyPair.secretKey.fill(0);
      keyPair.seed.fill(0);
      throw tampered();
    }
    return keyPair;
  } finally {
    derived.key.fill(0);
  }
}

/** The JSON text of an identity file, as saved and as downloaded for backup. */
export function serializeIdentityFile(file: IdentityFile): string {
  return JSON.stringify(parseIdentityFile(file), null, 2) + '\n';
}

/** The short display form of a file's account. */
export function identityFingerprint(file: IdentityFile): string {
  return fingerprint(hexField(file.publicKey));
}

/** What a user may paste or upload to import an identity. */
export type ImportInput =
  | { readonly kind: 'identity-file'; readonly file: IdentityFile }
  /** A bare seed, or a `medchain keys` key file (plaintext; the CLI keeps keys in the node's datadir). */
  | { readonly kind: 'seed'; readonly seed: Uint8Array; readonly source: 'hex' | 'cli-key-file' };

/**
 * Reads what a user offers for import: an identity (backup) file, a `medchain keys` key file, or a seed in hex.
 * Hostile input is expected: size, JSON shape, every field and the scrypt cost are checked before any work.
 */
export function parseImport(text: string): ImportInput {
  if (typeof text !== 'string') throw invalid('expected text');
  if (text.length > MAX_IDENTITY_FILE_BYTES) throw invalid(`it is ${text.length} characters long; an identity file is under 1 kB`);
  const trimmed = text.trim();
  if (/^(0x)?[0-9a-fA-F]{64}$/.test(trimmed)) return { kind: 'seed', seed: fromHex(trimmed)!, source: 'hex' };
  if (/^(0x)?[0-9a-fA-F]+$/.test(trimmed)) {
    throw new KeystoreError(KeystoreErrorCode.InvalidSeed, `a seed is 64 hex digits (32 bytes); this has ${trimmed.replace(/^0x/, '').length}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch {
    throw invalid('it is neither a medchain identity file nor a 64-digit hex seed');
  }
  if (isObject(json) && json.type === 'ed25519' && 'seed' in json) return { kind: 'seed', seed: parseCliKeyFile(json), source: 'cli-key-file' };
  return { kind: 'identity-file', file: parseIdentityFile(json) };
}

/** Checks that `value` is a well-formed identity file and returns a clean copy; throws INVALID_FILE or UNSUPPORTED_VERSION. */
export function parseIdentityFile(value: unknown): IdentityFile {
  if (!isObject(value)) throw invalid('it is not a JSON object');
  if (value.format !== IDENTITY_FILE_FORMAT) throw invalid(`"format" must be "${IDENTITY_FILE_FORMAT}"`);
  if (value.version !== IDENTITY_FILE_VERSION) {
    if (Number.isInteger(value.version) && (value.version as number) > IDENTITY_FILE_VERSION) {
      throw new KeystoreError(KeystoreErrorCode.UnsupportedVersion, `This identity file has format version ${value.version as number}, made by a newer medchain; open it with that version.`);
    }
    throw invalid(`"version" must be ${IDENTITY_FILE_VERSION}`);
  }
  onlyKeys(value, ['format', 'version', 'label', 'role', 'publicKey', 'createdAt', 'kdf', 'cipher', 'nonce', 'ciphertext'], 'the file');
  if (typeof value.label !== 'string') throw invalid('"label" must be text');
  const label = checkLabel(value.label, 'file');
  const role = value.role;
  if (role !== null && !(typeof role === 'string' && (IDENTITY_ROLES as readonly string[]).includes(role))) throw invalid(`"role" must be null or one of ${IDENTITY_ROLES.join(', ')}`);
  const publicKey = hexString(value.publicKey, 32, 'publicKey');
  if (typeof value.createdAt !== 'string' || value.createdAt.length > 40 || Number.isNaN(Date.parse(value.createdAt))) throw invalid('"createdAt" must be an ISO date');
  if (value.cipher !== CIPHER_NAME) throw invalid(`"cipher" must be "${CIPHER_NAME}"`);
  const kdf = value.kdf;
  if (!isObject(kdf)) throw invalid('"kdf" must be an object');
  onlyKeys(kdf, ['name', 'N', 'r', 'p', 'salt', 'check'], '"kdf"');
  if (kdf.name !== 'scrypt') throw invalid('"kdf.name" must be "scrypt"');
  if (!Number.isSafeInteger(kdf.N) || !Number.isSafeInteger(kdf.r) || !Number.isSafeInteger(kdf.p)) throw invalid('"kdf" N, r and p must be integers');
  checkKdfCost(kdf.N as number, kdf.r as number, kdf.p as number);
  return {
    format: IDENTITY_FILE_FORMAT,
    version: IDENTITY_FILE_VERSION,
    label,
    role: role as IdentityRole | null,
    publicKey,
    createdAt: value.createdAt,
    kdf: { name: 'scrypt', N: kdf.N as number, r: kdf.r as number, p: kdf.p as number, salt: hexString(kdf.salt, SALT_LENGTH, 'kdf.salt'), check: hexString(kdf.check, 32, 'kdf.check') },
    cipher: CIPHER_NAME,
    nonce: hexString(value.nonce, NONCE_LENGTH, 'nonce'),
    ciphertext: hexString(value.ciphertext, SEALED_LENGTH, 'ciphertext'),
  };
}

/** Throws WEAK_PASSPHRASE unless `passphrase` is fit to protect a new identity. */
export function checkNewPassphrase(passphrase: string): void {
  if (typeof passphrase !== 'string' || [...passphrase].length < MIN_PASSPHRASE_LENGTH) {
    throw new KeystoreError(
      KeystoreErrorCode.WeakPassphrase,
      `Use a passphrase of at least ${MIN_PASSPHRASE_LENGTH} characters; a few unrelated words are easy to remember and hard to guess.`,
    );
  }
  if (passphrase.length > MAX_PASSPHRASE_LENGTH) throw new KeystoreError(KeystoreErrorCode.WeakPassphrase, `A passphrase may have at most ${MAX_PASSPHRASE_LENGTH} characters.`);
  if (!passphrase.isWellFormed()) throw new KeystoreError(KeystoreErrorCode.WeakPassphrase, 'The passphrase contains a broken character; type it again.');
}

/** A trimmed label of 1..64 printable characters; throws INVALID_LABEL (INVALID_FILE for a file's label). */
export function checkLabel(label: string, where: 'new' | 'file' = 'new'): string {
  const fail = (why: string): KeystoreError =>
    where === 'file' ? invalid(`"label" ${why}`) : new KeystoreError(KeystoreErrorCode.InvalidLabel, `The name ${why}.`);
  if (typeof label !== 'string') throw fail('must be text');
  const trimmed = label.trim();
  if (trimmed.length === 0) throw fail('must not be empty');
  if ([...trimmed].length > MAX_LABEL_LENGTH) throw fail(`must be at most ${MAX_LABEL_LENGTH} characters`);
  // Control and format characters (including bidi overrides) could make one label look like another.
  if (!trimmed.isWellFormed() || /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(trimmed)) throw fail('must not contain control or invisible characters');
  return trimmed;
}

function checkKdfCost(N: number, r: number, p: number): void {
  const logN = Math.log2(N);
  if (!Number.isInteger(logN) || logN < KDF_LIMITS.minLogN || logN > KDF_LIMITS.maxLogN) {
    throw invalid(`scrypt N must be a power of two from 2^${KDF_LIMITS.minLogN} to 2^${KDF_LIMITS.maxLogN}`);
  }
  if (!Number.isInteger(r) || r < 1 || r > KDF_LIMITS.maxR) throw invalid(`scrypt r must be 1..${KDF_LIMITS.maxR}`);
  if (!Number.isInteger(p) || p < 1 || p > KDF_LIMITS.maxP) throw invalid(`scrypt p must be 1..${KDF_LIMITS.maxP}`);
  if (128 * N * r * p > KDF_LIMITS.maxMemoryBytes) throw invalid('the scrypt parameters ask for more memory than a browser should spend');
}

async function derive(passphrase: string, salt: Uint8Array, N: number, r: number, p: number, onProgress?: (fraction: number) => void) {
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw new KeystoreError(KeystoreErrorCode.WrongPassphrase, 'Enter the passphrase of this identity.');
  if (passphrase.length > MAX_PASSPHRASE_LENGTH) throw new KeystoreError(KeystoreErrorCode.WrongPassphrase, 'That passphrase is longer than any this app accepts.');
  // NFKC: the same passphrase typed on another device or keyboard may arrive in another Unicode form.
  const password = utf8(passphrase.normalize('NFKC'));
  const out = await scryptAsync(password, salt, { N, r, p, dkLen: 64, maxmem: 2 * KDF_LIMITS.maxMemoryBytes, ...(onProgress === undefined ? {} : { onProgress }) });
  password.fill(0);
  const key = out.slice(0, 32);
  const check = sha256(concatBytes(CHECK_DOMAIN, out.subarray(32)));
  out.fill(0);
  return { key, check };
}

function associatedData(publicKey: Uint8Array): Uint8Array {
  return concatBytes(AD_DOMAIN, publicKey);
}

function parseCliKeyFile(json: Record<string, unknown>): Uint8Array {
  if (json.version !== 1) throw invalid('a medchain key file must have "version": 1');
  onlyKeys(json, ['version', 'type', 'publicKey', 'seed'], 'the key file');
  const seed = hexField(hexString(json.seed, SEED_LENGTH, 'seed'));
  const publicKey = hexField(hexString(json.publicKey, 32, 'publicKey'));
  const keyPair = keyPairFromSeed(seed);
  const matches = bytesEqual(keyPair.publicKey, publicKey);
  keyPair.secretKey.fill(0);
  keyPair.seed.fill(0);
  if (!matches) throw invalid('its public key does not belong to its seed');
  return seed;
}

function draw(random: RandomSource, length: number): Uint8Array {
  const bytes = random(length);
  if (!(bytes instanceof Uint8Array) || bytes.length !== length || bytes.every((b) => b === 0)) {
    throw new RangeError(`the random source did not return ${length} random bytes`);
  }
  return bytes.slice();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(value)) if (!allowed.includes(key)) throw invalid(`${where} has an unknown field "${key.slice(0, 40)}"`);
}

function hexString(value: unknown, length: number, field: string): string {
  if (typeof value !== 'string' || value.length !== 2 * length || !/^[0-9a-f]*$/.test(value)) {
    throw invalid(`"${field}" must be ${length} bytes as ${2 * length} lowercase hex digits`);
  }
  return value;
}

function hexField(value: string): Uint8Array {
  const bytes = fromHex(value);
  if (bytes === undefined) throw invalid('a hex field is not hex');
  return bytes;
}

function invalid(why: string): KeystoreError {
  return new KeystoreError(KeystoreErrorCode.InvalidFile, `This is not a usable medchain identity file: ${why}.`);
}

function tampered(): KeystoreError {
  return new KeystoreError(
    KeystoreErrorCode.Tampered,
    'The passphrase is right, but this identity file was changed or damaged after it was saved. Import it again from a backup copy.',
  );
}
