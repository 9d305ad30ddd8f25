import { MAX_TIME_MS } from '../../../src/codec/fields.ts';
/** One explicit case per DecodeReason and per strict decoding rule, with the field each refusal names. */
import { describe, expect, it } from 'vitest';
import { decodeBlock, decodeHeader, encodeBlock, encodeHeader } from '../../../src/codec/block.ts';
import { concatBytes } from '../../../src/codec/bytes.ts';
import { decodeCanonical } from '../../../src/codec/canonical.ts';
import { DecodeError, DecodeReason } from '../../../src/codec/errors.ts';
import { decodeTransaction } from '../../../src/codec/transaction.ts';
import { MAX_BLOCK_TXS, MAX_TX_BYTES } from '../../../src/types/primitives.ts';
import { TxType } from '../../../src/types/transaction.ts';
import { nestedIn, writeCanonical, type MsgValue } from '../../helpers/chainBuilder.ts';
import { testKey, testTx } from '../../helpers/fixtures.ts';

const hospital = testKey('hospital');
const doctor = testKey('doctor');
const attest = testTx(hospital, 0, { type: TxType.AttestDoctor, doctor: doctor.publicKey, name: 'Dr Ada', licence: 'L-1', expiresAt: 5_000 });
const grant = testTx(hospital, 1, {
  type: TxType.GrantAccess,
  record: new Uint8Array(32).fill(1),
  grantee: doctor.publicKey,
  scope: ['read'],
  expiresAt: null,
});
const txValue = decodeCanonical(attest.bytes, MAX_TX_BYTES, 'tx') as readonly MsgValue[];
const grantValue = decodeCanonical(grant.bytes, MAX_TX_BYTES, 'tx') as readonly MsgValue[];

const header = {
  chainId: 'medchain-test',
  height: 7,
  parent: new Uint8Array(32).fill(2),
  time: 1_764_000_000_000,
  txRoot: new Uint8Array(32).fill(3),
  stateRoot: new Uint8Array(32).fill(4),
  proposer: hospital.publicKey,
  seal: new Uint8Array(16),
};
const headerBytes = encodeHeader(header);
const headerValue = decodeCanonical(headerBytes, 512, 'header') as readonly MsgValue[];

function replaced(value: readonly MsgValue[], index: number, item: MsgValue): readonly MsgValue[] {
  return value.map((v, i) => (i === index ? item : v));
}
/** The attest transaction with element `index` replaced. */
const tx = (index: number, item: MsgValue): Uint8Array => writeCanonical(replaced(txValue, index, item));
/** The attest transaction with payload element `index` replaced. */
const payload = (index: number, item: MsgValue): Uint8Array => tx(4, replaced(txValue[4] as readonly MsgValue[], index, item));
const headerWith = (index: number, item: MsgValue): Uint8Array => writeCanonical(replaced(headerValue, index, item));
/** The canonical encoding of `value` (a fixarray) with raw bytes in place of element `index`. */
function withRaw(value: readonly MsgValue[], index: number, raw: number[]): Uint8Array {
  const parts = value.map((v, i) => (i === index ? new Uint8Array(raw) : writeCanonical(v)));
  return concatBytes(new Uint8Array([0x90 | value.length]), ...parts);
}
const txRaw = (index: number, raw: number[]): Uint8Array => withRaw(txValue, index, raw);

function refusal(decode: (bytes: Uint8Array) => unknown, bytes: Uint8Array): DecodeError {
  try {
    decode(bytes);
  } catch (error) {
    if (error instanceof DecodeError) return error;
    throw error;
  }
  throw new Error('accepted');
}

type Case = readonly [name: string, decode: (bytes: Uint8Array) => unknown, bytes: Uint8Array, reason: DecodeReason, field: string];

const cases: Case[] = [
  // TRUNCATED
  ['empty input', decodeTransaction, new Uint8Array(0), DecodeReason.Truncated, 'tx'],
  ['last byte missing', decodeTransaction, attest.bytes.slice(0, -1), DecodeReason.Truncated, 'tx'],
  ['array header alone', decodeHeader, new Uint8Array([0x98]), DecodeReason.Truncated, 'header'],
  ['bin32 length past the end', decodeTransaction, new Uint8Array([0xc6, 0xff, 0xff, 0xff, 0xff, 0]), DecodeReason.Truncated, 'tx'],
  // TRAILING_BYTES
  ['a byte after the transaction', decodeTransaction, concatBytes(attest.bytes, new Uint8Array([0])), DecodeReason.TrailingBytes, 'tx'],
  ['a second header', decodeHeader, concatBytes(headerBytes, headerBytes), DecodeReason.TrailingBytes, 'header'],
  // NON_CANONICAL
  ['uint8 for a fixint nonce', decodeTransaction, txRaw(3, [0xcc, 0x00]), DecodeReason.NonCanonical, 'tx'],
  ['str8 for a short chain id', decodeTransaction, txRaw(0, [0xd9, 13, ...new TextEncoder().encode('medchain-test')]), DecodeReason.NonCanonical, 'tx'],
  ['float64 for an integer type', decodeTransaction, txRaw(1, [0xcb, 0x40, 0, 0, 0, 0, 0, 0, 0]), DecodeReason.NonCanonical, 'tx'],
  ['uint64 for a small nonce', decodeTransaction, txRaw(3, [0xcf, 0, 0, 0, 0, 0, 0, 0, 0]), DecodeReason.NonCanonical, 'tx'],
  ['invalid UTF-8 in a string', decodeTransaction, txRaw(0, [0xa2, 0xc3, 0x28]), DecodeReason.Malformed, 'tx'],
  // MALFORMED
  ['an unknown extension type', decodeTransaction, txRaw(3, [0xd4, 0x01, 0x00]), DecodeReason.Malformed, 'tx'],
  // OVERSIZE
  ['a transaction over 16 KiB', decodeTransaction, new Uint8Array(MAX_TX_BYTES + 1), DecodeReason.Oversize, 'tx'],
  ['a 129-byte doctor name', decodeTransaction, payload(1, 'n'.repeat(129)), DecodeReason.Oversize, 'tx.payload.name'],
  ['a 129-byte name of two-byte characters', decodeTransaction, payload(1, 'é'.repeat(64) + 'x'), DecodeReason.Oversize, 'tx.payload.name'],
  ['a 65-byte licence', decodeTransaction, payload(2, 'l'.repeat(65)), DecodeReason.Oversize, 'tx.payload.licence'],
  ['a 33-character chain id', decodeTransaction, tx(0, 'a'.repeat(33)), DecodeReason.Oversize, 'tx.chainId'],
  ['a 129-byte seal', decodeHeader, headerWith(7, new Uint8Array(129)), DecodeReason.Oversize, 'header.seal'],
  ['a header over 512 bytes', decodeHeader, new Uint8Array(513), DecodeReason.Oversize, 'header'],
  // WRONG_TYPE
  ['a map instead of the array', decodeTransaction, new Uint8Array([0x81, 0x00, 0x01]), DecodeReason.WrongType, 'tx'],
  ['int64 for the u32 nonce', decodeTransaction, tx(3, 0n), DecodeReason.WrongType, 'tx.nonce'],
  ['a u32 for the u64 expiry', decodeTransaction, payload(3, 5000), DecodeReason.WrongType, 'tx.payload.expiresAt'],
  ['a u32 for the u64 header time', decodeHeader, headerWith(3, 5), DecodeReason.WrongType, 'header.time'],
  ['a string for the sender', decodeTransaction, tx(2, 'x'.repeat(32)), DecodeReason.WrongType, 'tx.sender'],
  ['a negative fixint nonce', decodeTransaction, txRaw(3, [0xff]), DecodeReason.WrongType, 'tx'],
  ['a negative int64 time', decodeHeader, withRaw(headerValue, 3, [0xd3, ...new Array<number>(8).fill(0xff)]), DecodeReason.WrongType, 'header'],
  ['a float with a fraction', decodeTransaction, txRaw(3, [0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]), DecodeReason.WrongType, 'tx'],
  ['nested nine arrays deep', decodeTransaction, txRaw(3, [...nestedIn(9, new Uint8Array([0]))]), DecodeReason.WrongType, 'tx'],
  // WRONG_ARITY
  ['the unsigned 5-array', decodeTransaction, writeCanonical(txValue.slice(0, 5)), DecodeReason.WrongArity, 'tx'],
  ['a 7-array transaction', decodeTransaction, writeCanonical([...txValue, null]), DecodeReason.WrongArity, 'tx'],
  ['an attest payload of 3', decodeTransaction, tx(4, (txValue[4] as readonly MsgValue[]).slice(0, 3)), DecodeReason.WrongArity, 'tx.payload'],
  ['a 7-element header', decodeHeader, writeCanonical(headerValue.slice(0, 7)), DecodeReason.WrongArity, 'header'],
  ['a block of 3', decodeBlock, writeCanonical([headerBytes, [], []]), DecodeReason.WrongArity, 'block'],
  // OUT_OF_RANGE
  ['a 31-byte sender', decodeTransaction, tx(2, new Uint8Array(31)), DecodeReason.OutOfRange, 'tx.sender'],
  ['a 33-byte doctor', decodeTransaction, payload(0, new Uint8Array(33)), DecodeReason.OutOfRange, 'tx.payload.doctor'],
  ['a 63-byte signature', decodeTransaction, tx(5, new Uint8Array(63)), DecodeReason.OutOfRange, 'tx.signature'],
  ['an uppercase chain id', decodeTransaction, tx(0, 'Medchain'), DecodeReason.OutOfRange, 'tx.chainId'],
  ['a chain id starting with a dash', decodeTransaction, tx(0, '-medchain'), DecodeReason.OutOfRange, 'tx.chainId'],
  ['a chain id with an underscore', decodeTransaction, tx(0, 'med_chain'), DecodeReason.OutOfRange, 'tx.chainId'],
  ['an empty chain id', decodeHeader, headerWith(0, ''), DecodeReason.OutOfRange, 'header.chainId'],
  ['an expiry of 2^53', decodeTransaction, payload(3, 2n ** 53n), DecodeReason.OutOfRange, 'tx.payload.expiresAt'],
  ['a header time of 2^63 - 1', decodeHeader, headerWith(3, 2n ** 63n - 1n), DecodeReason.OutOfRange, 'header.time'],
  ['a 31-byte parent hash', decodeHeader, headerWith(2, new Uint8Array(31)), DecodeReason.OutOfRange, 'header.parent'],
  ['an empty grant scope', decodeTransaction, writeCanonical(replaced(grantValue, 4, replaced(grantValue[4] as readonly MsgValue[], 2, 0))), DecodeReason.OutOfRange, 'tx.payload.scope'],
  ['a grant scope bit 8', decodeTransaction, writeCanonical(replaced(grantValue, 4, replaced(grantValue[4] as readonly MsgValue[], 2, 8))), DecodeReason.OutOfRange, 'tx.payload.scope'],
  // UNKNOWN_TYPE
  ['transaction type 99', decodeTransaction, tx(1, 99), DecodeReason.UnknownType, 'tx.type'],
  ['transaction type 0', decodeTransaction, tx(1, 0), DecodeReason.UnknownType, 'tx.type'],
  ['self-registration as a hospital', decodeTransaction, writeCanonical(replaced(replaced(txValue, 1, TxType.RegisterIdentity), 4, [3])), DecodeReason.UnknownType, 'tx.payload.role'],
  ['role code 0', decodeTransaction, writeCanonical(replaced(replaced(txValue, 1, TxType.RegisterIdentity), 4, [0])), DecodeReason.UnknownType, 'tx.payload.role'],
];

describe('decode refusals name their reason and field', () => {
  it('covers every DecodeReason', () => {
    expect(new Set(cases.map((c) => c[3]))).toEqual(new Set(Object.values(DecodeReason)));
  });

  it.each(cases)('%s', (_name, decode, bytes, reason, field) => {
    const error = refusal(decode, bytes);
    expect({ reason: error.reason, field: error.field }).toEqual({ reason, field });
    expect(error.message).toContain(field);
  });

  it('the unmodified inputs the cases start from are accepted', () => {
    expect(decodeTransaction(writeCanonical(txValue)).nonce).toBe(0);
    expect(decodeTransaction(writeCanonical(grantValue)).nonce).toBe(1);
    expect(decodeHeader(writeCanonical(headerValue)).height).toBe(7);
    expect(decodeTransaction(payload(1, 'n'.repeat(128))).body).toMatchObject({ name: 'n'.repeat(128) });
    // Expiries are times: the latest accepted is the end of year 9999 (MAX_TIME_MS), one past it is refused.
    expect(decodeTransaction(payload(3, BigInt(MAX_TIME_MS))).body).toMatchObject({ expiresAt: MAX_TIME_MS });
    expect(() => decodeTransaction(payload(3, BigInt(MAX_TIME_MS) + 1n))).toThrow(/after the year 9999/);
    expect(decodeTransaction(tx(0, 'a'.repeat(32))).chainId).toBe('a'.repeat(32));
    expect(decodeTransaction(txRaw(3, [0xce, 0xff, 0xff, 0xff, 0xff])).nonce).toBe(0xffffffff);
  });
});

describe('block decoding', () => {
  const txs = [grant.bytes, attest.bytes];

  it('names the transaction a refusal comes from', () => {
    const bad = tx(2, new Uint8Array(31));
    const error = refusal(decodeBlock, encodeBlock(headerBytes, [txs[0]!, bad]));
    expect({ reason: error.reason, field: error.field }).toEqual({ reason: DecodeReason.OutOfRange, field: 'block.transactions[1].tx.sender' });
  });

  it('names a transaction that is not bytes, or over MAX_TX_BYTES, by its index', () => {
    const notBytes = refusal(decodeBlock, writeCanonical([headerBytes, [txs[0]!, 'tx', txs[1]!]]));
    expect({ reason: notBytes.reason, field: notBytes.field, detail: notBytes.detail }).toEqual({ reason: DecodeReason.WrongType, field: 'block.transactions[1]', detail: 'expected bytes, got string' });
    const big = refusal(decodeBlock, encodeBlock(headerBytes, [txs[0]!, txs[1]!, new Uint8Array(MAX_TX_BYTES + 1)]));
    expect({ reason: big.reason, field: big.field }).toEqual({ reason: DecodeReason.Oversize, field: 'block.transactions[2]' });
    // MAX_TX_BYTES itself passes the block's check and reaches the transaction decoder.
    const atLimit = refusal(decodeBlock, encodeBlock(headerBytes, [new Uint8Array(MAX_TX_BYTES)]));
    expect(atLimit.field.startsWith('block.transactions[0].tx')).toBe(true);
  });

  it('refuses more than MAX_BLOCK_TXS transactions before decoding any', () => {
    const many = Array.from({ length: MAX_BLOCK_TXS + 1 }, () => new Uint8Array(0));
    const error = refusal(decodeBlock, encodeBlock(headerBytes, many));
    expect({ reason: error.reason, field: error.field }).toEqual({ reason: DecodeReason.Oversize, field: 'block.transactions' });
  });

  it('refuses a header given as an array instead of its bytes', () => {
    const error = refusal(decodeBlock, writeCanonical([headerValue, txs]));
    expect({ reason: error.reason, field: error.field }).toEqual({ reason: DecodeReason.WrongType, field: 'block.header' });
  });

  it('decodes a valid block into frozen parts that keep the wire bytes', () => {
    const bytes = encodeBlock(headerBytes, txs);
    const block = decodeBlock(bytes);
    expect(block.transactions.map((t) => t.id)).toEqual([grant.id, attest.id]);
    expect(block.headerBytes).toEqual(headerBytes);
    expect(Object.isFrozen(block) && Object.isFrozen(block.header) && Object.isFrozen(block.transactions[0])).toBe(true);
  });
});
