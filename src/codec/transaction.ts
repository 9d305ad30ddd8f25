import { decodeCanonical, encodeCanonical, plain, type WireValue } from './canonical.ts';
import { DecodeError, DecodeReason } from './errors.ts';
import { expectArray, expectBytes, expectString, expectU32, matches } from './fields.ts';
import { decodePayload, encodePayload } from './payloads.ts';
import { sha256 } from '../crypto/hash.ts';
import { sign } from '../crypto/ed25519.ts';
import {
  ACCOUNT_ID_LENGTH,
  CHAIN_ID_PATTERN,
  MAX_CHAIN_ID_BYTES,
  MAX_TX_BYTES,
  SIGNATURE_LENGTH,
} from '../types/primitives.ts';
import type { Transaction, UnsignedTransaction } from '../types/transaction.ts';

// A transaction's wire form is a 6-array whose last element is the signature as bin8 (0xc4 0x40 + 64 bytes).
export const SIGNATURE_TAIL = 2 + SIGNATURE_LENGTH;
/** The header byte of the signed message (a 5-array) that replaces the wire form's 6-array header. */
export const FIXARRAY_5 = 0x95;

function bodyWire(tx: UnsignedTransaction): WireValue[] {
  return [tx.chainId, tx.body.type, tx.sender, tx.nonce, encodePayload(tx.body)];
}

/** The bytes a sender signs: the canonical encoding of `[chainId, type, sender, nonce, payload]`. */
export function encodeUnsignedTransaction(tx: UnsignedTransaction): Uint8Array {
  return encodeCanonical(bodyWire(tx));
}

/** Assembles the wire transaction from its body and signature. */
export function encodeSignedTransaction(tx: UnsignedTransaction, signature: Uint8Array): Uint8Array {
  return encodeCanonical([...bodyWire(tx), signature]);
}

/**
 * The signed message, cut from the wire bytes without re-encoding: the 6-array header becomes a 5-array
 * header and the signature tail is dropped, which is exactly the encoding of the unsigned body.
 */
export function signingBytesOf(wire: Uint8Array): Uint8Array {
  const message = wire.slice(0, wire.length - SIGNATURE_TAIL);
  message[0] = FIXARRAY_5;
  return message;
}

/** Strictly decodes wire bytes into a transaction; throws DecodeError naming the field and reason. */
export function decodeTransaction(input: Uint8Array): Transaction {
  const bytes = plain(input);
  const value = decodeCanonical(bytes, MAX_TX_BYTES, 'tx');
  const [chainId, type, sender, nonce, payload, signature] = expectArray(value, 6, 'tx');
  const typeTag = expectU32(type, 'tx.type');
  const tx: Transaction = {
    chainId: expectChainId(chainId, 'tx.chainId'),
    sender: expectBytes(sender, ACCOUNT_ID_LENGTH, 'tx.sender'),
    nonce: expectU32(nonce, 'tx.nonce'),
    body: decodePayload(typeTag, payload as WireValue, 'tx.payload'),
    signature: expectBytes(signature, SIGNATURE_LENGTH, 'tx.signature'),
    bytes,
    id: sha256(bytes),
  };
  return Object.freeze(tx);
}

/** A chain id field: a short lowercase name. */
export function expectChainId(value: WireValue | undefined, field: string): string {
  const chainId = expectString(value, MAX_CHAIN_ID_BYTES, field);
  if (!matches(CHAIN_ID_PATTERN, chainId)) {
    throw new DecodeError(DecodeReason.OutOfRange, field, `"${chainId.slice(0, 40)}" is not a chain id`);
  }
  return chainId;
}

/** Signs a transaction with the sender's 64-byte secret key and returns it decoded, as a node would see it. */
export function signTransaction(unsigned: UnsignedTransaction, secretKey: Uint8Array): Transaction {
  const signature = sign(encodeUnsignedTransaction(unsigned), secretKey);
  return decodeTransaction(encodeSignedTransaction(unsigned, signature));
}
