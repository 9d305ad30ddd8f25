/**
 * Regenerates test/vectors/ed25519.json, the known-answer file that pins the
 * consensus Ed25519 rule (src/crypto/ed25519.ts).
 * Run: ./node_modules/.bin/node test/vectors/make-ed25519-vectors.ts
 *
 * Every case states the expected outcome under the rule, derived from how the
 * case is built, and the script refuses to write the file unless medchain's
 * verify (libsodium) and @noble/curves (zip215: false) both give the stated
 * answers. Edge cases are built with @noble/curves point arithmetic from fixed
 * labels, so the output is byte-for-byte reproducible.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ed25519, ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { concatBytes, fromHex, toHex, utf8 } from '../../src/codec/bytes.ts';
import { keyPairFromSeed, sign, verify } from '../../src/crypto/ed25519.ts';
import { sha256 } from '../../src/crypto/hash.ts';

type Point = typeof ed25519.Point.BASE;

const Point = ed25519.Point;
const L = Point.Fn.ORDER;
const P = Point.Fp.ORDER;
const B = Point.BASE;

export interface Ed25519Vector {
  name: string;
  publicKey: string;
  message: string;
  signature: string;
  /** Outcome under the medchain consensus rule (libsodium crypto_sign_verify_detached). */
  valid: boolean;
  /** Outcome under @noble/curves ed25519.verify(sig, msg, pk, { zip215: false }); wrong lengths count as false (noble throws). */
  noble: boolean;
  why: string;
}

export interface Ed25519VectorFile {
  description: string;
  rule: string[];
  sources: string[];
  vectors: Ed25519Vector[];
}

function hex(text: string): Uint8Array {
  const bytes = fromHex(text);
  if (bytes === undefined) throw new Error(`not hex: ${text}`);
  return bytes;
}

function numberLE(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

function bytesLE(n: bigint, length = 32): Uint8Array {
  const out = new Uint8Array(length);
  let v = n;
  for (let i = 0; i < length; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  if (v !== 0n) throw new Error(`${n} does not fit in ${length} bytes`);
  return out;
}

const mod = (a: bigint, m: bigint): bigint => ((a % m) + m) % m;

/** The RFC 8032 challenge k = SHA-512(R || A || M) mod L, over the bytes as given. */
function challenge(r: Uint8Array, a: Uint8Array, m: Uint8Array): bigint {
  return mod(numberLE(sha512(concatBytes(r, a, m))), L);
}

/** A deterministic nonzero scalar from a label. */
function scalar(label: string): bigint {
  return mod(numberLE(sha512(utf8(`medchain ed25519 vectors: ${label}`))), L - 1n) + 1n;
}

/** A deterministic message; `n` varies it when searching for a challenge with some property. */
function message(label: string, n = 0): Uint8Array {
  return sha256(utf8(`medchain ed25519 vectors: ${label} #${n}`));
}

/** Encodes y (which may be >= p) with the given sign bit. */
function encodeY(y: bigint, signBit: boolean): Uint8Array {
  const out = bytesLE(y);
  if (signBit) out[31]! |= 0x80;
  return out;
}

/** Whether y is the y of some curve point (x^2 = (y^2 - 1) / (d y^2 + 1) has a root). */
function yOnCurve(y: bigint): boolean {
  try {
    Point.fromBytes(encodeY(y, false));
    return true;
  } catch (error) {
    if (error instanceof Error && /invalid y coordinate/.test(error.message)) return false;
    throw error;
  }
}

const TORSION: Point[] = ED25519_TORSION_SUBGROUP.map((h) => Point.fromBytes(hex(h), true));
/** A point of order 8 (the torsion generator). */
const T8 = TORSION[1]!;
const IDENTITY = Point.ZERO;

function nobleVerify(sig: Uint8Array, msg: Uint8Array, pk: Uint8Array): boolean {
  // noble throws on wrong lengths instead of returning false.
  if (sig.length !== 64 || pk.length !== 32) return false;
  return ed25519.verify(sig, msg, pk, { zip215: false });
}

const vectors: Ed25519Vector[] = [];

function add(name: string, pk: Uint8Array, msg: Uint8Array, sig: Uint8Array, valid: boolean, noble: boolean, why: string): void {
  const gotValid = verify(sig, msg, pk);
  const gotNoble = nobleVerify(sig, msg, pk);
  if (gotValid !== valid || gotNoble !== noble) {
    throw new Error(`vector "${name}": expected valid=${valid} noble=${noble}, got valid=${gotValid} noble=${gotNoble}`);
  }
  vectors.push({ name, publicKey: toHex(pk), message: toHex(msg), signature: toHex(sig), valid, noble, why });
}

// ---------------------------------------------------------------- RFC 8032 7.1
interface Rfc {
  name: string;
  seed: string;
  pk: string;
  msg: string;
  sig: string;
}
const RFC8032: Rfc[] = [
  {
    name: 'rfc8032-test-1',
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    pk: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    msg: '',
    sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'rfc8032-test-2',
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    pk: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    msg: '72',
    sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    name: 'rfc8032-test-3',
    seed: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    pk: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    msg: 'af82',
    sig: '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
  {
    name: 'rfc8032-test-sha-abc',
    seed: '833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42',
    pk: 'ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf',
    msg: 'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    sig: 'dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704',
  },
];
for (const v of RFC8032) {
  // The file also pins key derivation and signing: both must reproduce the RFC.
  const keys = keyPairFromSeed(hex(v.seed));
  if (toHex(keys.publicKey) !== v.pk) throw new Error(`${v.name}: keyPairFromSeed disagrees with RFC 8032`);
  if (toHex(sign(hex(v.msg), keys.secretKey)) !== v.sig) throw new Error(`${v.name}: sign disagrees with RFC 8032`);
  add(v.name, hex(v.pk), hex(v.msg), hex(v.sig), true, true, 'RFC 8032 section 7.1 known answer; also pins keyPairFromSeed and sign (see the test).');
}

const rfc1 = RFC8032[0]!;
const rfc2 = RFC8032[1]!;
const pk1 = hex(rfc1.pk);
const sig1 = hex(rfc1.sig);
const msg1 = hex(rfc1.msg);
const r1 = sig1.subarray(0, 32);
const s1 = numberLE(sig1.subarray(32));

// A key pair whose secret scalar we know, for building signatures by hand.
const signer = ed25519.utils.getExtendedPublicKey(hex(rfc2.seed));
const a = signer.scalar;
const A = signer.pointBytes;

/** An honest signature with nonce r, computed by hand: (R, S) = ([r]B, r + k a). */
function handSign(msg: Uint8Array, r: bigint, pk: Uint8Array, secret: bigint, extraR: Point = IDENTITY): Uint8Array {
  const R = B.multiply(r).add(extraR).toBytes();
  const k = challenge(R, pk, msg);
  return concatBytes(R, bytesLE(mod(r + k * secret, L)));
}

// ---------------------------------------------------------------- plain rejections
add('wrong-message', pk1, hex('00'), sig1, false, false, 'RFC 8032 test 1 signature over a different message.');
{
  const sig = sig1.slice();
  sig[0]! ^= 0x01;
  add('R-bit-flipped', pk1, msg1, sig, false, false, 'RFC 8032 test 1 with one bit of R flipped: the equation fails.');
}
{
  const sig = sig1.slice();
  sig[40]! ^= 0x01;
  add('S-bit-flipped', pk1, msg1, sig, false, false, 'RFC 8032 test 1 with one bit of S flipped: the equation fails.');
}
add('wrong-public-key', hex(rfc2.pk), msg1, sig1, false, false, 'RFC 8032 test 1 signature checked against the test 2 key.');

// ---------------------------------------------------------------- scalar S
add('S-equals-L', pk1, msg1, concatBytes(r1, bytesLE(L)), false, false, 'S = L is not canonical (rule: S < L).');
add(
  'S-plus-L',
  pk1,
  msg1,
  concatBytes(r1, bytesLE(s1 + L)),
  false,
  false,
  'RFC 8032 test 1 with S replaced by S + L: the same point, so it would verify if S were reduced mod L; rejected as S >= L (signature malleability).',
);
add(
  'S-plus-8L',
  pk1,
  msg1,
  concatBytes(r1, bytesLE(s1 + 8n * L)),
  false,
  false,
  'RFC 8032 test 1 with S + 8L (below 2^256, top bit set): the same point; rejected as S >= L.',
);
{
  const sig = sig1.slice();
  sig[63]! |= 0x80;
  add('S-high-bit-set', pk1, msg1, sig, false, false, 'RFC 8032 test 1 with the top bit of S set (S >= 2^255 > L): rejected as S >= L.');
}
add('S-zero-honest-R', pk1, msg1, concatBytes(r1, new Uint8Array(32)), false, false, 'S = 0 with a real key and R: the equation fails.');

// ---------------------------------------------------------------- small-order A
{
  const pk = IDENTITY.toBytes();
  const r = scalar('small-order A: identity');
  const msg = message('small-order A: identity');
  const R = B.multiply(r).toBytes();
  add(
    'small-order-A-identity',
    pk,
    msg,
    concatBytes(R, bytesLE(r)),
    false,
    false,
    'A = identity (order 1), R = [r]B, S = r: the cofactorless equation holds since [k]A = 0, so any message "verifies" for this key. Rejected: A has small order (noble zip215:false rejects it too).',
  );
}
{
  // A of order 8 and R = -[k]A, S = 0: both equations hold. k depends on R, so search R over the torsion points.
  const pk = T8.toBytes();
  let found = false;
  for (let n = 0; n < 1000 && !found; n++) {
    const msg = message('small-order A and R, S = 0', n);
    for (const R of TORSION) {
      const Rb = R.toBytes();
      const k = challenge(Rb, pk, msg);
      if (R.add(T8.multiplyUnsafe(k)).is0()) {
        add(
          'small-order-A-and-R-S-zero',
          pk,
          msg,
          concatBytes(Rb, new Uint8Array(32)),
          false,
          false,
          'A of order 8, R = -[k]A (small order), S = 0: cofactored and cofactorless equations both hold (speccheck case 0 shape). Rejected: A and R have small order.',
        );
        found = true;
        break;
      }
    }
  }
  if (!found) throw new Error('no message found for small-order-A-and-R-S-zero');
}
add('all-zero-key-and-signature', new Uint8Array(32), message('all zero'), new Uint8Array(64), false, false, 'A = 0x00..00 is y = 0 (order 4); R = y = 0 (order 4); S = 0. Rejected: small-order A and R.');
add('all-zero-signature', pk1, msg1, new Uint8Array(64), false, false, 'R = y = 0 (order 4) and S = 0 with a real key: rejected (small-order R) and the equation fails.');
add('all-zero-public-key', new Uint8Array(32), msg1, sig1, false, false, 'A = y = 0 (order 4): rejected as small order.');

// ---------------------------------------------------------------- small-order R
{
  const msg = message('small-order R: identity');
  const R = IDENTITY.toBytes();
  const k = challenge(R, A, msg);
  add(
    'small-order-R-identity',
    A,
    msg,
    concatBytes(R, bytesLE(mod(k * a, L))),
    false,
    true,
    'R = identity, S = k a with the RFC 8032 test 2 key: the cofactorless equation holds ([S]B - [k]A = 0 = R). libsodium rejects small-order R; DIFFERS: noble zip215:false accepts.',
  );
}
{
  const msg = message('small-order R: order 8');
  const R = T8.toBytes();
  const k = challenge(R, A, msg);
  add(
    'small-order-R-order-8',
    A,
    msg,
    concatBytes(R, bytesLE(mod(k * a, L))),
    false,
    true,
    'R of order 8, S = k a: only the cofactored equation holds. libsodium rejects small-order R; DIFFERS: noble zip215:false (cofactored) accepts.',
  );
}

// ---------------------------------------------------------------- mixed-order A and R
{
  // A' = [a]B + T8; an honest-looking (R = [r]B, S = r + k a) verifies cofactorless iff [k]T8 = 0, i.e. k = 0 mod 8.
  const mixedA = B.multiply(a).add(T8).toBytes();
  let holds = false;
  let fails = false;
  for (let n = 0; n < 1000 && !(holds && fails); n++) {
    const msg = message('mixed-order A', n);
    const r = scalar(`mixed-order A #${n}`);
    const sig = handSign(msg, r, mixedA, a);
    const k = challenge(sig.subarray(0, 32), mixedA, msg);
    if (k % 8n === 0n && !holds) {
      holds = true;
      add(
        'mixed-order-A-cofactorless-holds',
        mixedA,
        msg,
        sig,
        true,
        true,
        'A = [a]B + T (T of order 8), R = [r]B, S = r + k a with k = 0 mod 8, so [k]T = 0 and the cofactorless equation holds. Accepted: the rule does not check that A is torsion-free.',
      );
    } else if (k % 8n !== 0n && !fails) {
      fails = true;
      add(
        'mixed-order-A-cofactored-only',
        mixedA,
        msg,
        sig,
        false,
        true,
        'A = [a]B + T (T of order 8), R = [r]B, S = r + k a with k != 0 mod 8: only the cofactored equation holds. Rejected (cofactorless); DIFFERS: noble zip215:false (cofactored) accepts.',
      );
    }
  }
  if (!holds || !fails) throw new Error('mixed-order A cases not found');
}
{
  const msg = message('mixed-order R');
  const sig = handSign(msg, scalar('mixed-order R'), A, a, T8);
  add(
    'mixed-order-R',
    A,
    msg,
    sig,
    false,
    true,
    'R = [r]B + T (T of order 8), S = r + k a with the RFC 8032 test 2 key: [S]B - [k]A = [r]B != R, only the cofactored equation holds. Rejected; DIFFERS: noble zip215:false accepts.',
  );
}

// ---------------------------------------------------------------- non-canonical encodings
{
  // Only small-order points have a non-canonical y encoding we can sign for: y = p + 1 (identity) and y = p (order 4).
  const pk = encodeY(P + 1n, false);
  const r = scalar('non-canonical A');
  const msg = message('non-canonical A');
  add(
    'non-canonical-A-y-p-plus-1',
    pk,
    msg,
    concatBytes(B.multiply(r).toBytes(), bytesLE(r)),
    false,
    false,
    'A encoded with y = p + 1 (>= p; the identity), R = [r]B, S = r: equation holds on the decoded points. Rejected: A not canonical (y >= p) and small order.',
  );
}
{
  const pk = encodeY(1n, true);
  const r = scalar('negative-zero A');
  const msg = message('negative-zero A');
  add(
    'non-canonical-A-negative-zero',
    pk,
    msg,
    concatBytes(B.multiply(r).toBytes(), bytesLE(r)),
    false,
    false,
    'A = y = 1 with the sign bit set (x = 0 has no negative): a second encoding of the identity. libsodium ignores the sign bit in its canonical check but rejects it as small order; noble rejects x = 0 with sign 1.',
  );
}
{
  // Large-order y >= p: y = p + c for the smallest c >= 2 on the curve. Nobody knows its discrete log, so the
  // signature is an honest one for the canonical encoding: the pin is that the encoding alone is refused.
  let c = 2n;
  while (!yOnCurve(c)) c++;
  const canonical = encodeY(c, false);
  const nonCanonical = encodeY(P + c, false);
  add(
    'non-canonical-A-large-order',
    nonCanonical,
    msg1,
    sig1,
    false,
    false,
    `A encoded with y = p + ${c} (>= p); y = ${c} is a curve point of large order (${toHex(canonical)} canonically). Paired with the RFC 8032 test 1 signature; rejected for the encoding before any equation is checked.`,
  );
}
{
  const msg = message('non-canonical R');
  const R = encodeY(P + 1n, false);
  const k = challenge(R, A, msg);
  add(
    'non-canonical-R-y-p-plus-1',
    A,
    msg,
    concatBytes(R, bytesLE(mod(k * a, L))),
    false,
    false,
    'R encoded with y = p + 1 (the identity, non-canonically), S = k a: the equation holds on points. Rejected: R small order, and encode([S]B - [k]A) never equals a non-canonical R.',
  );
}
{
  const msg = message('negative-zero R');
  const R = encodeY(1n, true);
  const k = challenge(R, A, msg);
  add(
    'non-canonical-R-negative-zero',
    A,
    msg,
    concatBytes(R, bytesLE(mod(k * a, L))),
    false,
    false,
    'R = y = 1 with the sign bit set (the identity, non-canonically), S = k a. Rejected: small-order R; noble rejects x = 0 with sign 1.',
  );
}

// ---------------------------------------------------------------- off-curve points
{
  let y = 2n;
  while (yOnCurve(y)) y++;
  const offCurve = encodeY(y, false);
  add('A-not-on-curve', offCurve, msg1, sig1, false, false, `A = y = ${y}: no x satisfies the curve equation. Rejected at decoding.`);
  add('R-not-on-curve', pk1, msg1, concatBytes(offCurve, sig1.subarray(32)), false, false, `R = y = ${y}: not a curve point, so it can never equal an encoded point.`);
}

// ---------------------------------------------------------------- lengths
for (const n of [0, 63, 65]) {
  const sig = n === 65 ? concatBytes(sig1, new Uint8Array(1)) : sig1.subarray(0, n).slice();
  add(
    `signature-length-${n}`,
    pk1,
    msg1,
    sig,
    false,
    false,
    n === 65
      ? 'RFC 8032 test 1 signature plus one 0x00 byte. Rejected by the length check: libsodium alone reads the first 64 bytes and would accept it. noble throws.'
      : `Signature of ${n} bytes (RFC 8032 test 1 truncated). Rejected by the length check; noble throws.`,
  );
}
for (const n of [0, 31, 33]) {
  const pk = n === 33 ? concatBytes(pk1, new Uint8Array(1)) : pk1.subarray(0, n).slice();
  add(`public-key-length-${n}`, pk, msg1, sig1, false, false, `Public key of ${n} bytes (RFC 8032 test 1 key ${n === 33 ? 'plus 0x00' : 'truncated'}). Rejected by the length check; noble throws.`);
}

// ---------------------------------------------------------------- ed25519-speccheck
// Cases 0-11 of github.com/novifinancial/ed25519-speccheck (cases.txt), as published.
// Their results table lists LibSodium as accepting case 3 only.
const SPECCHECK: [string, string, string, boolean, boolean, string][] = [
  ['8c93255d71dcab10e8f379c26200f3c7bd5f09d9bc3068d3ef4edeb4853022b6', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a0000000000000000000000000000000000000000000000000000000000000000', false, false, 'S = 0, small-order A, small-order R; both equations hold. Rejected: small-order A and R.'],
  ['9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa', 'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43a5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04', false, false, '0 < S < L, small-order A, mixed-order R; both equations hold. Rejected: small-order A.'],
  ['aebf3f2601a0c8c5d39cc7d8911642f740b78168218da8471772b35f9d35b9ab', 'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa8c4bd45aecaca5b24fb97bc10ac27ac8751a7dfe1baff8b953ec9f5833ca260e', false, true, '0 < S < L, mixed-order A, small-order R; both equations hold. Rejected: small-order R; DIFFERS: noble zip215:false accepts.'],
  ['9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79', 'cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d', '9046a64750444938de19f227bb80485e92b83fdb4b6506c160484c016cc1852f87909e14428a7a1d62e9f22f3d3ad7802db02eb2e688b6c52fcd6648a98bd009', true, true, '0 < S < L, mixed-order A, mixed-order R; the cofactorless equation holds. Accepted.'],
  ['e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c', 'cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d', '160a1cb0dc9c0258cd0a7d23e94d8fa878bcb1925f2c64246b2dee1796bed5125ec6bc982a269b723e0668e540911a9a6a58921d6925e434ab10aa7940551a09', false, true, '0 < S < L, mixed-order A and R; only the cofactored equation holds. Rejected; DIFFERS: noble zip215:false accepts.'],
  ['e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c', 'cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d', '21122a84e0b5fca4052f5b1235c80a537878b38f3142356b2c2384ebad4668b7e40bc836dac0f71076f9abe3a53f9c03c1ceeeddb658d0030494ace586687405', false, true, '0 < S < L, mixed-order A and R; only the cofactored equation holds (built to catch cofactored verifiers that reduce 8k mod L). Rejected; DIFFERS: noble zip215:false accepts.'],
  ['85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40', '442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623', 'e96f66be976d82e60150baecff9906684aebb1ef181f67a7189ac78ea23b6c0e547f7690a0e2ddcd04d87dbc3490dc19b3b3052f7ff0538cb68afb369ba3a514', false, false, 'S > L (non-canonical, S < 2^253) with equations holding after reduction. Rejected: S >= L.'],
  ['85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40', '442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623', '8ce5b96c8f26d0ab6c47958c9e68b937104cd36e13c33566acd2fe8d38aa19427e71f98a473474f2f13f06f97c20d58cc3f54b8bd0d272f42b695dd7e89a8c22', false, false, 'S >> L (high bits set) with equations holding after reduction. Rejected: S >= L.'],
  ['9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41', 'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff03be9678ac102edcd92b0210bb34d7428d12ffc5df5f37e359941266a4e35f0f', false, false, 'Non-canonical R (y = p - 1 with the sign bit set, x = 0), mixed-order A; cofactored equation holds with the non-reduced R in the hash. Rejected.'],
  ['9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41', 'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffca8c5b64cd208982aa38d4936621a4775aa233aa0505711d8fdcfdaa943d4908', false, false, 'Non-canonical R as in case 8; equation holds with the reduced R in the hash. Rejected.'],
  ['e96b7021eb39c1a163b6da4e3093dcd3f21387da4cc4572be588fafae23c155b', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', 'a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dca5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04', false, false, 'Non-canonical small-order A (y = p - 1, sign bit set, x = 0); hash over the non-reduced A. Rejected.'],
  ['39a591f5321bbe07fd5a23dc2f39d025d74526615746727ceefd6e82ae65c06f', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', 'a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dca5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04', false, false, 'Non-canonical small-order A as in case 10; hash over the reduced A. Rejected.'],
];
SPECCHECK.forEach(([msg, pk, sig, valid, noble, why], i) => {
  add(`speccheck-${i}`, hex(pk), hex(msg), hex(sig), valid, noble, `ed25519-speccheck case ${i}: ${why}`);
});

const file: Ed25519VectorFile = {
  description:
    'Known-answer vectors pinning the medchain consensus Ed25519 verification rule (src/crypto/ed25519.ts verify). Generated by test/vectors/make-ed25519-vectors.ts; do not edit by hand. "valid" is the consensus outcome; "noble" is @noble/curves 2.x ed25519.verify(sig, msg, pk, { zip215: false }) for comparison (wrong lengths: false, noble throws).',
  rule: [
    'libsodium crypto_sign_verify_detached as bundled in sodium-native 5.1.0 (libsodium e18eee6, no ED25519_COMPAT), plus exact length checks. sig = R || S, A = public key, k = SHA-512(R || A || M) mod L over the bytes as given.',
    '1. signature is exactly 64 bytes and public key exactly 32 bytes (libsodium alone would accept a longer signature by reading its first 64 bytes).',
    '2. S < L, L = 2^252 + 27742317777372353535851937790883648493.',
    '3. R is not a small-order encoding: y (sign bit ignored) in {0, 1, p - 1, p, p + 1} or one of the two order-8 y values.',
    '4. A is canonical (y with the sign bit cleared is below p = 2^255 - 19) and not a small-order encoding (same list as R).',
    '5. A decodes to a curve point.',
    '6. Cofactorless equation, compared as bytes: encode([S]B - [k]A) == R (so a non-canonical R never verifies). Mixed-order A is not rejected by itself.',
  ],
  sources: [
    'RFC 8032 section 7.1 (tests 1, 2, 3 and SHA(abc))',
    'Chalkias, Garillot, Nikolaenko: Taming the many EdDSAs (2020); github.com/novifinancial/ed25519-speccheck cases.txt',
  ],
  vectors,
};

const target = fileURLToPath(new URL('./ed25519.json', import.meta.url));
writeFileSync(target, `${JSON.stringify(file, null, 2)}\n`);
console.log(`wrote ${vectors.length} vectors to ${target}`);
