/**
 * Regenerates test/vectors/envelope.json, the known-answer file for src/envelope.
 * Run: ./node_modules/.bin/node test/vectors/make-envelope-vectors.ts
 *
 * Randomness comes from a seeded SHA-256 counter stream (deterministicRandom in
 * test/unit/envelope/support.ts); every draw is stored, in order, so a test can
 * replay exactly the bytes each function consumed. The script refuses to write
 * the file unless
 *   - src/envelope's HPKE reproduces RFC 9180 appendix A.2.1,
 *   - libsodium (XChaCha20-Poly1305) opens every record ciphertext,
 *   - an independent HPKE on libsodium + node:crypto seals every envelope to the
 *     same bytes and opens it,
 *   - the Ed25519 -> X25519 maps agree with libsodium's, and libsodium also
 *     refuses every public key listed as invalid.
 * All plaintexts are synthetic; no real person's data is in this file.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesEqual, concatBytes, toHex, utf8 } from '../../src/codec/bytes.ts';
import {
  ENVELOPE_INFO,
  EnvelopeError,
  commitCiphertext,
  decryptRecord,
  encryptRecord,
  newCommitmentSalt,
  recordAssociatedData,
  unwrapDataKey,
  wrapDataKey,
  x25519PublicKeyFromEd25519,
  x25519SecretKeyFromEd25519Seed,
} from '../../src/envelope/index.ts';
import { deriveKeyPair, encap, keyScheduleBase, openBase, sealBase } from '../../src/envelope/hpke.ts';
import {
  deterministicRandom,
  hex,
  independentOpen,
  independentSeal,
  sodiumKeyPair,
  sodiumPkToCurve,
  sodiumSkToCurve,
  sodiumXChaChaOpen,
} from '../unit/envelope/support.ts';

export interface Rfc9180Vector {
  source: string;
  suite: string;
  info: string;
  ikmE: string;
  pkEm: string;
  skEm: string;
  ikmR: string;
  pkRm: string;
  skRm: string;
  enc: string;
  sharedSecret: string;
  key: string;
  baseNonce: string;
  pt: string;
  aad: string;
  ct: string;
}

export interface ConversionVector {
  seed: string;
  ed25519PublicKey: string;
  x25519PublicKey: string;
  x25519SecretKey: string;
}

export interface InvalidRecipientKey {
  name: string;
  publicKey: string;
  why: string;
}

export interface EnvelopeVectorEnvelope {
  recipientSeed: string;
  recipientEd25519PublicKey: string;
  /** Draws wrapDataKey made: the 32-byte HPKE ikmE. */
  random: string[];
  envelope: string;
}

export interface EnvelopeVector {
  name: string;
  /** Arguments of recordAssociatedData; null when associatedData is given raw. */
  context: { chainId: string; recordId: string | null; version: number } | null;
  associatedData: string;
  plaintext: string;
  /** Draws encryptRecord made, in order: data key (32), nonce (24). */
  recordRandom: string[];
  dataKey: string;
  ciphertext: string;
  /** Draws newCommitmentSalt made: the 32-byte salt. */
  commitmentRandom: string[];
  commitmentSalt: string;
  commitment: string;
  envelopes: EnvelopeVectorEnvelope[];
}

export interface EnvelopeVectorFile {
  description: string;
  construction: string[];
  rfc9180: Rfc9180Vector;
  conversions: ConversionVector[];
  invalidRecipientKeys: InvalidRecipientKey[];
  vectors: EnvelopeVector[];
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`refusing to write envelope.json: ${what}`);
}

// RFC 9180 appendix A.2.1 (https://www.rfc-editor.org/rfc/rfc9180.html#appendix-A.2.1), base mode, sequence number 0.
const rfc9180: Rfc9180Vector = {
  source: 'RFC 9180 appendix A.2.1, first encryption (sequence number 0)',
  suite: 'mode_base, DHKEM(X25519, HKDF-SHA256) 0x0020, HKDF-SHA256 0x0001, ChaCha20Poly1305 0x0003',
  info: '4f6465206f6e2061204772656369616e2055726e',
  ikmE: '909a9b35d3dc4713a5e72a4da274b55d3d3821a37e5d099e74a647db583a904b',
  pkEm: '1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a',
  skEm: 'f4ec9b33b792c372c1d2c2063507b684ef925b8c75a42dbcbf57d63ccd381600',
  ikmR: '1ac01f181fdf9f352797655161c58b75c656a6cc2716dcb66372da835542e1df',
  pkRm: '4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a',
  skRm: '8057991eef8f1f1af18f4a9491d16a1ce333f695d4db8e38da75975c4478e0fb',
  enc: '1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a',
  sharedSecret: '0bbe78490412b4bbea4812666f7916932b828bba79942424abb65244930d69a7',
  key: 'ad2744de8e17f4ebba575b3f5f5a8fa1f69c2a07f6e7500bc60ca6e3e3ec1c91',
  baseNonce: '5c4d98150661b848853b547f',
  pt: '4265617574792069732074727574682c20747275746820626561757479',
  aad: '436f756e742d30',
  ct: '1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db21993c62ce81883d2dd1b51a28',
};

function checkRfc9180(): void {
  const e = deriveKeyPair(hex(rfc9180.ikmE));
  check(toHex(e.secretKey) === rfc9180.skEm && toHex(e.publicKey) === rfc9180.pkEm, 'RFC 9180 A.2.1 DeriveKeyPair(ikmE)');
  const r = deriveKeyPair(hex(rfc9180.ikmR));
  check(toHex(r.secretKey) === rfc9180.skRm && toHex(r.publicKey) === rfc9180.pkRm, 'RFC 9180 A.2.1 DeriveKeyPair(ikmR)');
  const { enc, sharedSecret } = encap(r.publicKey, hex(rfc9180.ikmE));
  check(toHex(enc) === rfc9180.enc && toHex(sharedSecret) === rfc9180.sharedSecret, 'RFC 9180 A.2.1 Encap');
  const { key, baseNonce } = keyScheduleBase(sharedSecret, hex(rfc9180.info));
  check(toHex(key) === rfc9180.key && toHex(baseNonce) === rfc9180.baseNonce, 'RFC 9180 A.2.1 KeySchedule');
  const sealed = sealBase(r.publicKey, hex(rfc9180.info), hex(rfc9180.aad), hex(rfc9180.pt), hex(rfc9180.ikmE));
  check(toHex(sealed.ciphertext) === rfc9180.ct, 'RFC 9180 A.2.1 Seal');
  const opened = openBase(sealed.enc, r.secretKey, r.publicKey, hex(rfc9180.info), hex(rfc9180.aad), sealed.ciphertext);
  check(toHex(opened) === rfc9180.pt, 'RFC 9180 A.2.1 Open');
  const independent = independentSeal(hex(rfc9180.pkRm), hex(rfc9180.info), hex(rfc9180.aad), hex(rfc9180.pt), hex(rfc9180.ikmE));
  check(toHex(independent.ciphertext) === rfc9180.ct, 'the independent HPKE reproduces RFC 9180 A.2.1');
}

const seedOf = (label: string): Uint8Array => sha256(utf8(`medchain-test-identity/${label}`));

function conversions(): ConversionVector[] {
  const seeds = ['patient-1', 'doctor-1', 'doctor-2', 'hospital-1'].map(seedOf);
  seeds.push(new Uint8Array(32), new Uint8Array(32).fill(0xff), hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'));
  return seeds.map((seed) => {
    const { publicKey, secretKey } = sodiumKeyPair(seed);
    check(bytesEqual(publicKey, ed25519.getPublicKey(seed)), 'noble and libsodium derive the same Ed25519 public key');
    const x25519PublicKey = x25519PublicKeyFromEd25519(publicKey);
    const x25519SecretKey = x25519SecretKeyFromEd25519Seed(seed);
    const sodiumPk = sodiumPkToCurve(publicKey);
    check(sodiumPk !== undefined && bytesEqual(sodiumPk, x25519PublicKey), 'public map agrees with crypto_sign_ed25519_pk_to_curve25519');
    check(bytesEqual(sodiumSkToCurve(secretKey), x25519SecretKey), 'secret map agrees with crypto_sign_ed25519_sk_to_curve25519');
    return { seed: toHex(seed), ed25519PublicKey: toHex(publicKey), x25519PublicKey: toHex(x25519PublicKey), x25519SecretKey: toHex(x25519SecretKey) };
  });
}

function leBytes(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let v = n;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function invalidRecipientKeys(): InvalidRecipientKey[] {
  const P = ed25519.Point.Fp.ORDER;
  const keys: InvalidRecipientKey[] = ED25519_TORSION_SUBGROUP.map((encoding, i) => ({
    name: `torsion-${i}`,
    publicKey: encoding,
    why: 'small-order point (one of the 8 torsion points); X25519 with it yields a fixed, guessable shared secret',
  }));
  const honest = ed25519.Point.fromBytes(sodiumKeyPair(seedOf('doctor-1')).publicKey);
  const torsion = ed25519.Point.fromBytes(hex(ED25519_TORSION_SUBGROUP[1]!));
  keys.push({ name: 'mixed-order', publicKey: toHex(honest.add(torsion).toBytes()), why: 'an honest key plus a torsion point: on the curve, not in the prime-order subgroup' });
  keys.push({ name: 'non-canonical-y', publicKey: toHex(leBytes(P + 1n)), why: 'y = p + 1 (encodes y = 1, the identity) is not a canonical field element' });
  // The smallest y that is not the y of any curve point: x^2 = (y^2 - 1) / (d y^2 + 1) has no root.
  for (let y = 2n; ; y++) {
    let decodes = true;
    try {
      ed25519.Point.fromBytes(leBytes(y));
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      decodes = false;
    }
    if (!decodes) {
      keys.push({ name: 'not-on-curve', publicKey: toHex(leBytes(y)), why: `y = ${y} is the y of no curve point` });
      break;
    }
  }
  keys.push({ name: 'short', publicKey: toHex(seedOf('short').subarray(0, 31)), why: '31 bytes, not 32' });
  for (const key of keys) {
    const bytes = hex(key.publicKey);
    let refused = false;
    try {
      x25519PublicKeyFromEd25519(bytes);
    } catch (error) {
      if (!(error instanceof EnvelopeError && error.code === 'INVALID_KEY')) throw error;
      refused = true;
    }
    check(refused, `src/envelope refuses recipient key ${key.name}`);
    if (bytes.length === 32) check(sodiumPkToCurve(bytes) === undefined, `libsodium also refuses recipient key ${key.name}`);
  }
  return keys;
}

interface VectorSpec {
  name: string;
  context: { chainId: string; recordId: Uint8Array | null; version: number } | null;
  plaintext: Uint8Array;
  recipients: string[];
}

const FHIR_BUNDLE = JSON.stringify({
  resourceType: 'Bundle',
  type: 'collection',
  entry: [
    { resource: { resourceType: 'Patient', id: 'synthetic-1', name: [{ family: 'Test', given: ['Synthetic'] }], birthDate: '1970-01-01' } },
    { resource: { resourceType: 'Observation', id: 'obs-1', status: 'final', code: { text: 'Body temperature' }, valueQuantity: { value: 36.6, unit: 'Cel' } } },
  ],
});

const specs: VectorSpec[] = [
  { name: 'empty-plaintext-version-0', context: { chainId: 'medchain-dev', recordId: null, version: 0 }, plaintext: new Uint8Array(0), recipients: ['patient-1'] },
  {
    name: 'fhir-bundle-version-0-two-readers',
    context: { chainId: 'medchain-dev', recordId: null, version: 0 },
    plaintext: utf8(FHIR_BUNDLE),
    recipients: ['patient-1', 'doctor-1'],
  },
  {
    name: 'text-version-1',
    context: { chainId: 'medchain-dev', recordId: sha256(utf8('medchain-test-record/1')), version: 1 },
    plaintext: utf8('Allergy: penicillin (synthetic test record)'),
    recipients: ['patient-1', 'doctor-1', 'doctor-2'],
  },
  {
    name: 'binary-1000-bytes-version-7',
    context: { chainId: 'medchain-test', recordId: sha256(utf8('medchain-test-record/2')), version: 7 },
    plaintext: Uint8Array.from({ length: 1000 }, (_, i) => (i * 7 + 3) & 0xff),
    recipients: ['doctor-2'],
  },
  { name: 'raw-empty-associated-data', context: null, plaintext: utf8('no context'), recipients: ['hospital-1'] },
];

function makeVector(spec: VectorSpec): EnvelopeVector {
  const associatedData = spec.context === null ? new Uint8Array(0) : recordAssociatedData(spec.context.chainId, spec.context.recordId, spec.context.version);
  const recordRandom = deterministicRandom(`${spec.name}/record`);
  const { ciphertext, dataKey } = encryptRecord(spec.plaintext, { random: recordRandom.random, associatedData });
  check(bytesEqual(decryptRecord(ciphertext, dataKey, associatedData), spec.plaintext), `${spec.name} round trip`);
  const viaSodium = sodiumXChaChaOpen(dataKey, ciphertext.subarray(2, 26), concatBytes(ciphertext.subarray(0, 2), associatedData), ciphertext.subarray(26));
  check(bytesEqual(viaSodium, spec.plaintext), `${spec.name}: libsodium XChaCha20-Poly1305 opens the record ciphertext`);
  const commitmentRandom = deterministicRandom(`${spec.name}/commitment`);
  const salt = newCommitmentSalt(commitmentRandom.random);
  const envelopes = spec.recipients.map((label): EnvelopeVectorEnvelope => {
    const seed = seedOf(label);
    const { publicKey, secretKey } = sodiumKeyPair(seed);
    const wrapRandom = deterministicRandom(`${spec.name}/envelope/${label}`);
    const envelope = wrapDataKey(dataKey, publicKey, { random: wrapRandom.random, associatedData });
    check(bytesEqual(unwrapDataKey(envelope, seed, associatedData), dataKey), `${spec.name}/${label} unwraps`);
    const aad = concatBytes(envelope.subarray(0, 2), associatedData);
    const independent = independentSeal(x25519PublicKeyFromEd25519(publicKey), ENVELOPE_INFO, aad, dataKey, hex(wrapRandom.draws[0]!));
    check(bytesEqual(concatBytes(envelope.subarray(0, 2), independent.enc, independent.ciphertext), envelope), `${spec.name}/${label}: the independent HPKE seals the same envelope`);
    const opened = independentOpen(envelope.subarray(2, 34), sodiumSkToCurve(secretKey), ENVELOPE_INFO, aad, envelope.subarray(34));
    check(bytesEqual(opened, dataKey), `${spec.name}/${label}: the independent HPKE opens the envelope`);
    return { recipientSeed: toHex(seed), recipientEd25519PublicKey: toHex(publicKey), random: wrapRandom.draws, envelope: toHex(envelope) };
  });
  return {
    name: spec.name,
    context: spec.context === null ? null : { chainId: spec.context.chainId, recordId: spec.context.recordId === null ? null : toHex(spec.context.recordId), version: spec.context.version },
    associatedData: toHex(associatedData),
    plaintext: toHex(spec.plaintext),
    recordRandom: recordRandom.draws,
    dataKey: toHex(dataKey),
    ciphertext: toHex(ciphertext),
    commitmentRandom: commitmentRandom.draws,
    commitmentSalt: toHex(salt),
    commitment: toHex(commitCiphertext(ciphertext, salt)),
    envelopes,
  };
}

checkRfc9180();
const file: EnvelopeVectorFile = {
  description:
    'Known answers for src/envelope (docs/encryption.md). Regenerate with: node test/vectors/make-envelope-vectors.ts. Replaying each vector\'s random draws through the named function must give exactly the stored bytes.',
  construction: [
    "record ciphertext = 'R' 0x01 || nonce(24) || XChaCha20-Poly1305(dataKey, nonce, aad = 'R' 0x01 || associatedData).encrypt(plaintext)",
    "key envelope = 'K' 0x01 || enc(32) || HPKE SealBase(pkR, info = 'medchain/key-envelope/v1', aad = 'K' 0x01 || associatedData, dataKey), suite DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20Poly1305, ephemeral = DeriveKeyPair(random(32))",
    'pkR = Montgomery u of the recipient Ed25519 public key; skR = clamp(SHA-512(seed)[0..32])',
    "commitment = SHA-256('medchain/ciphertext-commitment/v1' || salt(32) || SHA-256(ciphertext))",
    "associatedData = 'medchain/record-ad/v1' || u8 len || chainId || u8 len || recordId (0 or 32 bytes) || u32be version",
  ],
  rfc9180,
  conversions: conversions(),
  invalidRecipientKeys: invalidRecipientKeys(),
  vectors: specs.map(makeVector),
};

const target = fileURLToPath(new URL('./envelope.json', import.meta.url));
writeFileSync(target, `${JSON.stringify(file, null, 2)}\n`);
console.log(`wrote ${file.vectors.length} vectors, ${file.conversions.length} conversions and ${file.invalidRecipientKeys.length} invalid keys to ${target}`);
