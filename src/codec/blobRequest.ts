import { decodeCanonical, encodeCanonical, type WireValue } from './canonical.ts';
import { compareBytes } from './bytes.ts';
import { DecodeError, DecodeReason } from './errors.ts';
import { MAX_ENVELOPE_BYTES } from './envelopeUpload.ts';
import { expectArray, expectBoolean, expectBytes, expectBytesUpTo, expectList, expectString, expectTime, expectU32 } from './fields.ts';
import { expectChainId } from './transaction.ts';
import { ACCOUNT_ID_LENGTH, HASH_LENGTH, MAX_TX_BYTES, SIGNATURE_LENGTH } from '../types/primitives.ts';

/**
 * The blob protocol's wire forms (request/response between nodes, see emr/replication.ts). Requests:
 *   read    [1, receiptTxBytes]                     a signed access.read transaction, the read receipt
 *   custody [2, custodyBytes, signature]            custodyBytes signed by a hospital key
 * custodyBytes = [domain, chainId, record, version, u64 time, requester, ciphertext?, readers, requesterPeer]
 * Responses:
 *   bundle  [0, salt | nil, ciphertext | nil, [[reader, envelope]...]]   readers strictly increasing
 *   refused [1, code, detail]
 * The signed custody body travels as bytes, so the server checks the signature on exactly what was signed.
 */

/** A libp2p peer id in text (base58btc multihash of an Ed25519 key is 52 characters). */
const MAX_PEER_ID_BYTES = 128;

/** The domain tag of a custody request: a signed message that is never a transaction, header or upload. */
export const BLOB_CUSTODY_DOMAIN = 'medchain/blob/custody/v1';

/** The largest ciphertext a bundle carries: RecordService's MAX_CIPHERTEXT_BYTES (a test pins them equal). */
export const MAX_BLOB_CIPHERTEXT_BYTES = 3 * 1024 * 1024;
/** Key envelopes in one bundle at most (every hospital's escrow envelope plus readers fits). */
export const MAX_BLOB_ENVELOPES = 2048;
/** Readers a custody request may name. */
export const MAX_CUSTODY_READERS = 64;
/** A request is a small transaction or a custody body: nothing near this. */
export const MAX_BLOB_REQUEST_BYTES = MAX_TX_BYTES + 256;
/** The largest response: a full ciphertext, its salt, and the most envelopes (each entry ≤ 2 + 34 + 2 + MAX_ENVELOPE_BYTES). */
export const MAX_BLOB_RESPONSE_BYTES = MAX_BLOB_CIPHERTEXT_BYTES + 64 + MAX_BLOB_ENVELOPES * (40 + MAX_ENVELOPE_BYTES);
const MAX_DETAIL_BYTES = 256;
const REFUSAL_CODE = /^[A-Z][A-Z_]{0,31}$/;

const READ_TAG = 1;
const CUSTODY_TAG = 2;
const BUNDLE_TAG = 0;
const REFUSED_TAG = 1;

/** Why a node refused a blob request. Stable: peers and logs see these codes. */
export const BlobRefusal = {
  /** The record, version or blob is not held here (or the record is unknown to this node yet). */
  NotFound: 'NOT_FOUND',
  /** The record was erased: its blobs are gone everywhere. */
  Erased: 'ERASED',
  /** The read receipt is not on this node's canonical chain. */
  NotIncluded: 'NOT_INCLUDED',
  BadSignature: 'BAD_SIGNATURE',
  /** A custody request signed by a key that is not a hospital in chain state. */
  NotAHospital: 'NOT_A_HOSPITAL',
  /** A custody request whose time is outside the server's replay window. */
  StaleRequest: 'STALE_REQUEST',
  /** A custody request signed for another peer than the one that sent it (relayed or replayed). */
  WrongPeer: 'WRONG_PEER',
  /** The record's policy, at this node's head, does not let the receipt's signer read. */
  Denied: 'DENIED',
  /** The request could not be decoded, is for another chain, or is not a read receipt. */
  Malformed: 'MALFORMED',
  /** This node could not answer now (too many requests in flight, or a local fault): try another peer. */
  Unavailable: 'UNAVAILABLE',
} as const;
export type BlobRefusal = (typeof BlobRefusal)[keyof typeof BlobRefusal];

/** What a custody request asks for, signed by `requester` (a hospital). */
export interface CustodyRequest {
  readonly chainId: string;
  readonly record: Uint8Array;
  readonly version: number;
  /** The requester's clock, ms; the server answers only within its replay window. */
  readonly time: number;
  readonly requester: Uint8Array;
  /** Whether to send the ciphertext (false: envelopes only, e.g. after a grant). */
  readonly ciphertext: boolean;
  /** Only these readers' envelopes (strictly increasing); empty: every envelope. */
  readonly readers: readonly Uint8Array[];
  /**
   * The libp2p peer id the request is sent from: the server answers only that peer, so a request relayed or
   * replayed by another peer (which saw it because it was asked too) gets nothing.
   */
  readonly peer: string;
}

export type BlobRequest =
  | { readonly kind: 'read'; readonly receipt: Uint8Array }
  | { readonly kind: 'custody'; readonly request: CustodyRequest; readonly signed: Uint8Array; readonly signature: Uint8Array };

export interface BlobEnvelope {
  readonly reader: Uint8Array;
  readonly envelope: Uint8Array;
}

export type BlobResponse =
  | {
      readonly kind: 'bundle';
      /** Salt and ciphertext are both present or both null (a peer holding only envelopes). */
      readonly salt: Uint8Array | null;
      readonly ciphertext: Uint8Array | null;
      readonly envelopes: readonly BlobEnvelope[];
    }
  | { readonly kind: 'refused'; readonly code: string; readonly detail: string };

/** The bytes a hospital signs to ask for custody of a record version. */
export function encodeCustodyRequest(c: CustodyRequest): Uint8Array {
  const readers = [...c.readers].sort(compareBytes);
  return encodeCanonical([BLOB_CUSTODY_DOMAIN, c.chainId, c.record, c.version, BigInt(c.time), c.requester, c.ciphertext, readers, c.peer]);
}

export function decodeCustodyRequest(bytes: Uint8Array): CustodyRequest {
  const value = decodeCanonical(bytes, MAX_BLOB_REQUEST_BYTES, 'custody');
  const [domain, chainId, record, version, time, requester, ciphertext, readers, peer] = expectArray(value, 9, 'custody');
  if (expectString(domain, 64, 'custody.domain') !== BLOB_CUSTODY_DOMAIN) {
    throw new DecodeError(DecodeReason.UnknownType, 'custody.domain', `expected "${BLOB_CUSTODY_DOMAIN}"`);
  }
  return Object.freeze({
    chainId: expectChainId(chainId, 'custody.chainId'),
    record: expectBytes(record, HASH_LENGTH, 'custody.record'),
    version: expectU32(version, 'custody.version'),
    time: expectTime(time, 'custody.time'),
    requester: expectBytes(requester, ACCOUNT_ID_LENGTH, 'custody.requester'),
    ciphertext: expectBoolean(ciphertext, 'custody.ciphertext'),
    readers: increasingIds(expectList(readers ?? null, MAX_CUSTODY_READERS, 'custody.readers'), 'custody.readers'),
    peer: expectString(peer, MAX_PEER_ID_BYTES, 'custody.peer'),
  });
}

/** A read request: the signed access.read transaction, already on chain (the receipt). */
export function encodeReadBlobRequest(receiptTx: Uint8Array): Uint8Array {
  return encodeCanonical([READ_TAG, receiptTx]);
}

/** A custody request: the signed body (`encodeCustodyRequest`) and the requester's signature of it. */
export function encodeCustodyBlobRequest(signed: Uint8Array, signature: Uint8Array): Uint8Array {
  return encodeCanonical([CUSTODY_TAG, signed, signature]);
}

/** Strictly decodes a blob request; the read receipt's transaction bytes are decoded by the caller. */
export function decodeBlobRequest(bytes: Uint8Array): BlobRequest {
  const value = decodeCanonical(bytes, MAX_BLOB_REQUEST_BYTES, 'blobRequest');
  if (!Array.isArray(value) || value.length === 0) throw new DecodeError(DecodeReason.WrongType, 'blobRequest', 'expected a tagged array');
  const tag = expectU32(value[0], 'blobRequest.kind');
  if (tag === READ_TAG) {
    const [, receipt] = expectArray(value, 2, 'blobRequest');
    return Object.freeze({ kind: 'read', receipt: expectBytesUpTo(receipt, MAX_TX_BYTES, 'blobRequest.receipt') });
  }
  if (tag === CUSTODY_TAG) {
    const [, signed, signature] = expectArray(value, 3, 'blobRequest');
    const signedBytes = expectBytesUpTo(signed, MAX_BLOB_REQUEST_BYTES, 'blobRequest.custody');
    return Object.freeze({
      kind: 'custody',
      request: decodeCustodyRequest(signedBytes),
      signed: signedBytes,
      signature: expectBytes(signature, SIGNATURE_LENGTH, 'blobRequest.signature'),
    });
  }
  throw new DecodeError(DecodeReason.UnknownType, 'blobRequest.kind', `unknown request kind ${tag}`);
}

/** A bundle: what this node holds of one version (envelopes sorted by reader). */
export function encodeBlobBundle(salt: Uint8Array | null, ciphertext: Uint8Array | null, envelopes: readonly BlobEnvelope[]): Uint8Array {
  const sorted = [...envelopes].sort((a, b) => compareBytes(a.reader, b.reader));
  return encodeCanonical([BUNDLE_TAG, salt, ciphertext, sorted.map((e) => [e.reader, e.envelope])]);
}

export function encodeBlobRefusal(code: BlobRefusal, detail: string): Uint8Array {
  return encodeCanonical([REFUSED_TAG, code, truncateUtf8(detail, MAX_DETAIL_BYTES)]);
}

/** Strictly decodes a peer's response; every field is hostile, so every field is bounded. */
export function decodeBlobResponse(bytes: Uint8Array): BlobResponse {
  const value = decodeCanonical(bytes, MAX_BLOB_RESPONSE_BYTES, 'blobResponse');
  if (!Array.isArray(value) || value.length === 0) throw new DecodeError(DecodeReason.WrongType, 'blobResponse', 'expected a tagged array');
  const tag = expectU32(value[0], 'blobResponse.kind');
  if (tag === REFUSED_TAG) {
    const [, code, detail] = expectArray(value, 3, 'blobResponse');
    return Object.freeze({
      kind: 'refused',
      code: expectString(code, 32, 'blobResponse.code', REFUSAL_CODE),
      detail: expectString(detail, MAX_DETAIL_BYTES, 'blobResponse.detail'),
    });
  }
  if (tag !== BUNDLE_TAG) throw new DecodeError(DecodeReason.UnknownType, 'blobResponse.kind', `unknown response kind ${tag}`);
  const [, salt, ciphertext, envelopes] = expectArray(value, 4, 'blobResponse');
  if ((salt === null) !== (ciphertext === null)) {
    throw new DecodeError(DecodeReason.WrongType, 'blobResponse.salt', 'salt and ciphertext come together or not at all');
  }
  const entries = expectList(envelopes ?? null, MAX_BLOB_ENVELOPES, 'blobResponse.envelopes').map((entry, i) => {
    const [reader, envelope] = expectArray(entry, 2, `blobResponse.envelopes[${i}]`);
    return {
      reader: expectBytes(reader, ACCOUNT_ID_LENGTH, `blobResponse.envelopes[${i}].reader`),
      envelope: expectBytesUpTo(envelope, MAX_ENVELOPE_BYTES, `blobResponse.envelopes[${i}].envelope`),
    };
  });
  increasingIds(
    entries.map((e) => e.reader),
    'blobResponse.envelopes',
  );
  return Object.freeze({
    kind: 'bundle',
    salt: salt === null ? null : expectBytes(salt, 32, 'blobResponse.salt'),
    ciphertext: ciphertext === null ? null : expectBytesUpTo(ciphertext, MAX_BLOB_CIPHERTEXT_BYTES, 'blobResponse.ciphertext'),
    envelopes: entries,
  });
}

/** Account ids in strictly increasing order (so each appears once and the encoding is unique). */
function increasingIds(values: readonly (WireValue | Uint8Array)[], field: string): Uint8Array[] {
  const ids = values.map((v, i) => expectBytes(v as WireValue, ACCOUNT_ID_LENGTH, `${field}[${i}]`));
  for (let i = 1; i < ids.length; i++) {
    if (compareBytes(ids[i - 1]!, ids[i]!) >= 0) throw new DecodeError(DecodeReason.OutOfRange, `${field}[${i}]`, 'ids must be strictly increasing');
  }
  return ids;
}

function truncateUtf8(text: string, maxBytes: number): string {
  // Code points, not UTF-16 units, so no lone surrogate is left to fail the encoder.
  let out = '';
  let bytes = 0;
  for (const c of text.toWellFormed()) {
    const n = c.length === 2 ? 4 : c.charCodeAt(0) < 0x80 ? 1 : c.charCodeAt(0) < 0x800 ? 2 : 3;
    if (bytes + n > maxBytes) break;
    out += c;
    bytes += n;
  }
  return out;
}
