import { MAX_TIME_MS } from '../../src/codec/fields.ts';
/**
 * Test builders shared by the codec, state, consensus and compliance tests: fast-check arbitraries of valid
 * wire structures, a raw MessagePack writer for non-canonical re-encodings, and a Chain over a memory store.
 */
import fc from 'fast-check';
import { Chain } from '../../src/chain/chain.ts';
import { InlineSignatureVerifier, SignatureCache } from '../../src/chain/signatureVerifier.ts';
import { signTransaction } from '../../src/client/signTransaction.ts';
import { assembleBlock, encodeHeader } from '../../src/codec/block.ts';
import { concatBytes, utf8 } from '../../src/codec/bytes.ts';
import { CONTENT_TYPE_PATTERN, MAX_LICENCE_BYTES, MAX_NAME_BYTES, MAX_REASON_BYTES } from '../../src/codec/payloads.ts';
import type { ConsensusEngine } from '../../src/consensus/interface.ts';
import { searchNonce } from '../../src/consensus/pow/mine.ts';
import { decodePowSeal, encodePowSeal } from '../../src/consensus/pow/powEngine.ts';
import { keyPairFromSeed, type KeyPair } from '../../src/crypto/ed25519.ts';
import { createMemoryChainStore, type ChainStore } from '../../src/store/index.ts';
import type { Block, BlockHeader } from '../../src/types/block.ts';
import type { GenesisSpec } from '../../src/types/genesis.ts';
import { CHAIN_ID_PATTERN } from '../../src/types/primitives.ts';
import { ACCESS_ACTIONS } from '../../src/types/record.ts';
import { TxType, type Transaction, type TxBody } from '../../src/types/transaction.ts';
import { silentLogger } from './fixtures.ts';

/** The one seed every property test in this project runs with. */
export const SEED = 20261124;

// ---------------------------------------------------------------------------------------------------------
// Arbitraries of valid structures
// ---------------------------------------------------------------------------------------------------------

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
/** Times a field may hold: ms from the epoch to the end of year 9999. */
const timeMs = fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: MAX_TIME_MS }));
const u53 = fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));

/** Key pairs from random seeds (libsodium derivation: a few microseconds each). */
export const arbKeyPair: fc.Arbitrary<KeyPair> = bytes32.map((seed) => keyPairFromSeed(seed));

export const arbChainId: fc.Arbitrary<string> = fc.oneof(
  fc.constant('medchain-test'),
  fc.stringMatching(CHAIN_ID_PATTERN).filter((s) => s.length <= 32),
);

/** A well-formed Unicode string of at most `maxBytes` UTF-8 bytes (code points take up to 4 bytes). */
function arbText(maxBytes: number): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ maxLength: maxBytes, unit: 'grapheme-ascii' }),
    fc.string({ maxLength: Math.floor(maxBytes / 4), unit: 'grapheme' }).filter((s) => utf8(s).length <= maxBytes),
  );
}

const arbContentType = fc.oneof(
  fc.constantFrom('application/fhir+json', 'application/pdf', 'image/png'),
  fc.stringMatching(CONTENT_TYPE_PATTERN).filter((s) => s.length <= 128),
);

const arbScope = fc.subarray([...ACCESS_ACTIONS], { minLength: 1 });

/** Bodies of every transaction type (the decoder does not run the policy checker, so policies are any bytes). */
export const arbTxBody: fc.Arbitrary<TxBody> = fc.oneof(
  fc.constantFrom<TxBody>(
    { type: TxType.RegisterIdentity, role: 'patient' },
    { type: TxType.RegisterIdentity, role: 'doctor' },
  ),
  fc.record({
    type: fc.constant(TxType.AttestDoctor),
    doctor: bytes32,
    name: arbText(MAX_NAME_BYTES),
    licence: arbText(MAX_LICENCE_BYTES),
    expiresAt: timeMs,
  }),
  fc.record({ type: fc.constant(TxType.RevokeAttestation), doctor: bytes32, reason: arbText(MAX_REASON_BYTES) }),
  fc.record({
    type: fc.constant(TxType.CreateRecord),
    commitment: bytes32,
    size: u53,
    contentType: arbContentType,
    policy: fc.uint8Array({ maxLength: 64 }),
  }),
  fc.record({ type: fc.constant(TxType.AddRecordVersion), record: bytes32, commitment: bytes32, size: u53, contentType: arbContentType }),
  fc.record({ type: fc.constant(TxType.SetRecordPolicy), record: bytes32, policy: fc.uint8Array({ maxLength: 64 }) }),
  fc.record({
    type: fc.constant(TxType.GrantAccess),
    record: bytes32,
    grantee: bytes32,
    scope: arbScope,
    expiresAt: fc.option(timeMs, { nil: null }),
  }),
  fc.record({ type: fc.constant(TxType.RevokeAccess), record: bytes32, grantee: bytes32 }),
);

/** Identity transactions only (register, attest, revoke), as the issue asks for. */
export const arbIdentityBody: fc.Arbitrary<TxBody> = arbTxBody.filter((b) => b.type <= TxType.RevokeAttestation);

/** Signed transactions of random types from random keys, decoded as a node sees them. */
export const arbTransaction: fc.Arbitrary<Transaction> = fc
  .record({ key: arbKeyPair, chainId: arbChainId, nonce: fc.oneof(fc.integer({ min: 0, max: 200 }), u32), body: arbTxBody })
  .map(({ key, chainId, nonce, body }) => signTransaction({ chainId, sender: key.publicKey, nonce, body }, key.secretKey));

export const arbHeader: fc.Arbitrary<BlockHeader> = fc.record({
  chainId: arbChainId,
  height: fc.oneof(fc.integer({ min: 0, max: 100 }), u32),
  parent: bytes32,
  time: u53,
  txRoot: bytes32,
  stateRoot: bytes32,
  proposer: bytes32,
  seal: fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ maxLength: 128 })),
});

/** Blocks of 0..maxTxs random transactions (the decoder does not check the tx root, so any header goes). */
export function arbBlock(maxTxs = 20): fc.Arbitrary<Block> {
  return fc
    .record({ header: arbHeader, txs: fc.array(arbTransaction, { maxLength: maxTxs }) })
    .map(({ header, txs }) => assembleBlock(header, txs));
}

// ---------------------------------------------------------------------------------------------------------
// A raw MessagePack writer: the canonical form and its non-canonical relatives
// ---------------------------------------------------------------------------------------------------------

/** A decoded MessagePack value as the canonical decoder returns it. */
export type MsgValue = number | bigint | boolean | string | Uint8Array | null | readonly MsgValue[];

function be(value: bigint, width: number): number[] {
  const out: number[] = [];
  for (let i = width - 1; i >= 0; i--) out.push(Number((value >> BigInt(8 * i)) & 0xffn));
  return out;
}

function withHeader(prefix: number[], body: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array(prefix), body);
}

function f64(n: number): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, n);
  return [0xcb, ...b];
}

/**
 * The canonical encoding, written independently of msgpackr (the tests check both agree): shortest
 * integer and length headers, u32 numbers, bigints always as int64.
 */
export function writeCanonical(value: MsgValue): Uint8Array {
  return writeNode(value, () => undefined, { index: 0 });
}

/**
 * Encodes `root` canonically except the node visited `target`-th in pre-order, which is written as `replace`
 * (raw bytes). Returns the bytes and the number of nodes in the tree.
 */
export function writeReplacing(root: MsgValue, target: number, replace: (node: MsgValue) => Uint8Array): Uint8Array {
  return writeNode(root, (node, index) => (index === target ? replace(node) : undefined), { index: 0 });
}

/** Nodes in pre-order (the root first). */
export function nodesOf(root: MsgValue): MsgValue[] {
  const out: MsgValue[] = [];
  const visit = (v: MsgValue): void => {
    out.push(v);
    if (Array.isArray(v)) for (const child of v as readonly MsgValue[]) visit(child);
  };
  visit(root);
  return out;
}

function writeNode(
  value: MsgValue,
  override: (node: MsgValue, index: number) => Uint8Array | undefined,
  counter: { index: number },
): Uint8Array {
  const index = counter.index++;
  const replaced = override(value, index);
  if (replaced !== undefined) {
    // Skip the replaced subtree's indices so later targets keep their pre-order numbers.
    counter.index += nodesOf(value).length - 1;
    return replaced;
  }
  if (value === null) return new Uint8Array([0xc0]);
  if (value === false) return new Uint8Array([0xc2]);
  if (value === true) return new Uint8Array([0xc3]);
  if (typeof value === 'number') {
    if (value < 0x80) return new Uint8Array([value]);
    if (value < 0x100) return new Uint8Array([0xcc, value]);
    if (value < 0x10000) return new Uint8Array([0xcd, ...be(BigInt(value), 2)]);
    return new Uint8Array([0xce, ...be(BigInt(value), 4)]);
  }
  // msgpackr writes a bigint as int64 when it fits, uint64 above 2^63 - 1.
  if (typeof value === 'bigint') return new Uint8Array([value > 0x7fffffffffffffffn ? 0xcf : 0xd3, ...be(value, 8)]);
  if (typeof value === 'string') {
    const b = utf8(value);
    if (b.length < 32) return withHeader([0xa0 | b.length], b);
    if (b.length < 0x100) return withHeader([0xd9, b.length], b);
    if (b.length < 0x10000) return withHeader([0xda, ...be(BigInt(b.length), 2)], b);
    return withHeader([0xdb, ...be(BigInt(b.length), 4)], b);
  }
  if (value instanceof Uint8Array) {
    if (value.length < 0x100) return withHeader([0xc4, value.length], value);
    if (value.length < 0x10000) return withHeader([0xc5, ...be(BigInt(value.length), 2)], value);
    return withHeader([0xc6, ...be(BigInt(value.length), 4)], value);
  }
  const items = (value as readonly MsgValue[]).map((v) => writeNode(v, override, counter));
  const n = items.length;
  const head = n < 16 ? [0x90 | n] : n < 0x10000 ? [0xdc, ...be(BigInt(n), 2)] : [0xdd, ...be(BigInt(n), 4)];
  return concatBytes(new Uint8Array(head), ...items);
}

/**
 * Other encodings of the same value that a lenient decoder would accept: wider integer and length headers,
 * a float for an integer, uint64 for a bigint. Each must be refused as NON_CANONICAL.
 */
export function nonCanonicalVariants(value: MsgValue): { name: string; bytes: Uint8Array }[] {
  const out: { name: string; bytes: Uint8Array }[] = [];
  const add = (name: string, bytes: number[] | Uint8Array): void => {
    out.push({ name, bytes: bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes) });
  };
  if (typeof value === 'number') {
    const n = BigInt(value);
    if (value < 0x80) add('uint8 for a fixint', [0xcc, value]);
    if (value < 0x100) add('uint16 for a one-byte integer', [0xcd, ...be(n, 2)]);
    if (value < 0x10000) add('uint32 for a short integer', [0xce, ...be(n, 4)]);
    add('uint64 for a u32', [0xcf, ...be(n, 8)]);
    if (value < 0x80) add('int8 for a fixint', [0xd0, value]);
    if (value < 0x8000) add('int16 for a short integer', [0xd1, ...be(n, 2)]);
    add('float64 for an integer', f64(value));
  } else if (typeof value === 'bigint') {
    add('uint64 for an int64', [0xcf, ...be(value, 8)]);
    if (value < 2n ** 32n) add('float64 for an int64', f64(Number(value)));
  } else if (typeof value === 'string') {
    const b = utf8(value);
    if (b.length < 32) add('str8 for a fixstr', withHeader([0xd9, b.length], b));
    if (b.length < 0x100) add('str16 for a short string', withHeader([0xda, ...be(BigInt(b.length), 2)], b));
    add('str32 for a short string', withHeader([0xdb, ...be(BigInt(b.length), 4)], b));
  } else if (value instanceof Uint8Array) {
    if (value.length < 0x100) add('bin16 for short bytes', withHeader([0xc5, ...be(BigInt(value.length), 2)], value));
    add('bin32 for short bytes', withHeader([0xc6, ...be(BigInt(value.length), 4)], value));
  } else if (Array.isArray(value)) {
    const items = (value as readonly MsgValue[]).map(writeCanonical);
    const n = BigInt(items.length);
    if (items.length < 16) add('array16 for a fixarray', concatBytes(new Uint8Array([0xdc, ...be(n, 2)]), ...items));
    add('array32 for a short array', concatBytes(new Uint8Array([0xdd, ...be(n, 4)]), ...items));
  }
  return out;
}

/** Encodings of values of another MessagePack type than `value`'s, each refused by type checks. */
export function typeSwaps(value: MsgValue): { name: string; bytes: Uint8Array }[] {
  const out: { name: string; bytes: Uint8Array }[] = [];
  const add = (name: string, bytes: number[] | Uint8Array): void => {
    out.push({ name, bytes: bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes) });
  };
  // Always refused by the canonical decoder itself.
  add('negative fixint', [0xff]);
  add('int8 -1', [0xd0, 0xff]);
  add('float 1.5', f64(1.5));
  add('empty map', [0x80]);
  add('timestamp extension', [0xd6, 0xff, 0, 0, 0, 0]);
  if (Array.isArray(value)) {
    // A map with the array's items under keys 0..n-1: what a JSON-minded encoder might write.
    const items = value as readonly MsgValue[];
    if (items.length < 16) {
      add('map instead of array', concatBytes(new Uint8Array([0x80 | items.length]), ...items.flatMap((v, i) => [writeCanonical(i), writeCanonical(v)])));
    }
  }
  // Values of another wire type: canonical on their own, refused by the field readers.
  if (typeof value !== 'number') add('a u32', [0x07]);
  if (typeof value === 'number') add('int64 for a u32', [0xd3, ...be(BigInt(value), 8)]);
  if (typeof value === 'bigint' && value < 2n ** 32n) add('uint32 for a u64', writeCanonical(Number(value)));
  if (typeof value !== 'string') add('a string', writeCanonical('x'));
  if (!(value instanceof Uint8Array)) add('bytes', writeCanonical(new Uint8Array(32)));
  if (typeof value !== 'boolean') add('true', [0xc3]);
  if (!Array.isArray(value)) add('an array', [0x90]);
  return out;
}

/**
 * Another value of the same MessagePack type as `node`, canonically encoded: domain fuzzing (a random nonce, a
 * 31-byte key, a u64 above 2^53, an array one element short or long). `aboveI64` adds bigints above 2^63 - 1.
 */
export function arbSameType(node: MsgValue, aboveI64: boolean): fc.Arbitrary<Uint8Array> {
  if (typeof node === 'number') {
    return fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 0xffffffff })).map(writeCanonical);
  }
  if (typeof node === 'bigint') {
    const ranges = [fc.bigInt({ min: 0n, max: 1000n }), fc.bigInt({ min: 2n ** 53n - 2n, max: 2n ** 53n + 2n }), fc.bigInt({ min: 0n, max: 2n ** 63n - 1n })];
    if (aboveI64) ranges.push(fc.bigInt({ min: 2n ** 63n, max: 2n ** 64n - 1n }));
    return fc.oneof(...ranges).map(writeCanonical);
  }
  if (typeof node === 'string') return fc.oneof(fc.string({ maxLength: 40 }), fc.string({ maxLength: 300, unit: 'grapheme-ascii' })).map(writeCanonical);
  if (node instanceof Uint8Array) {
    return fc.oneof(fc.uint8Array({ minLength: 31, maxLength: 33 }), fc.uint8Array({ maxLength: 140 }), fc.uint8Array({ minLength: 63, maxLength: 65 })).map(writeCanonical);
  }
  if (typeof node === 'boolean' || node === null) return fc.constant(writeCanonical(node));
  const items = node as readonly MsgValue[];
  return fc.constantFrom<MsgValue[]>(items.slice(0, -1), [...items, ...items.slice(-1)], [...items, null], []).map(writeCanonical);
}

/** `value` wrapped in `depth` single-element arrays. */
export function nestedIn(depth: number, inner: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array(depth).fill(0x91), inner);
}

// ---------------------------------------------------------------------------------------------------------
// Byte-level mutations
// ---------------------------------------------------------------------------------------------------------

export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'append'; bytes: Uint8Array }
  | { kind: 'insert'; at: number; byte: number }
  | { kind: 'delete'; at: number }
  | { kind: 'overwrite'; at: number; byte: number };

/** A mutation with positions as fractions of the input, so one arbitrary serves every input length. */
export const arbMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('overwrite' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
);

export function mutate(input: Uint8Array, m: Mutation): Uint8Array {
  const n = input.length;
  const at = n === 0 ? 0 : 'at' in m ? m.at % n : 0;
  switch (m.kind) {
    case 'flip': {
      const out = input.slice();
      if (n > 0) out[at] = out[at]! ^ (1 << m.bit);
      return out;
    }
    case 'truncate':
      return input.slice(0, at);
    case 'append':
      return concatBytes(input, m.bytes);
    case 'insert':
      return concatBytes(input.subarray(0, at), new Uint8Array([m.byte]), input.subarray(at));
    case 'delete':
      return concatBytes(input.subarray(0, at), input.subarray(at + 1));
    case 'overwrite': {
      const out = input.slice();
      if (n > 0) out[at] = m.byte;
      return out;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Chains
// ---------------------------------------------------------------------------------------------------------

export interface TestChain {
  readonly chain: Chain;
  readonly store: ChainStore;
  /** The chain's clock; tests move it. */
  readonly now: { t: number };
}

/** A started Chain over a fresh memory store, with an inline signature verifier and a settable clock. */
export async function startTestChain(genesis: GenesisSpec, engine: ConsensusEngine, now: { t: number }): Promise<TestChain> {
  const store = createMemoryChainStore();
  await store.start();
  const chain = new Chain(
    { genesis },
    { store, engine, verifier: new InlineSignatureVerifier(new SignatureCache()), logger: silentLogger, clock: () => now.t },
  );
  await chain.start();
  return { chain, store, now };
}

/** Mines `header` (built with the engine's initial PoW seal) on this thread: fine for test difficulties. */
export function powSealHeader(header: BlockHeader): BlockHeader {
  const seal = decodePowSeal(header.seal);
  if (seal === undefined) throw new Error('the header does not carry a PoW seal to mine');
  const nonce = searchNonce(encodeHeader(header), seal.difficulty, 0n, 1_000_000);
  if (nonce === null) throw new Error(`no nonce found for difficulty ${seal.difficulty} in a million tries`);
  return { ...header, seal: encodePowSeal({ difficulty: seal.difficulty, nonce }) };
}
