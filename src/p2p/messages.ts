import type { ChainStatus } from './interface.ts';
import { decodeCanonical, encodeCanonical } from '../codec/canonical.ts';
import { DecodeError, DecodeReason } from '../codec/errors.ts';
import { expectArray, expectBytes, expectBytesUpTo, expectU32 } from '../codec/fields.ts';
import { HASH_LENGTH } from '../types/primitives.ts';

/**
 * The request and response bodies of the req/resp protocols, in the canonical MessagePack of consensus
 * structures so the strict decoder (exact arity, types, canonical form) does the checking.
 *
 * A response is a sequence of length-prefixed chunks; each chunk starts with a result byte (below), then
 * the payload (a block, a status) or, for an error, a short UTF-8 text. A request is one length-prefixed frame.
 */
export const ResultCode = {
  Ok: 0,
  InvalidRequest: 1,
  ServerError: 2,
  Refused: 3,
} as const;
export type ResultCode = (typeof ResultCode)[keyof typeof ResultCode];

/** Largest fork-choice score on the wire: 256 bits covers any PoW total work. */
const MAX_SCORE_BYTES = 32;

function scoreToBytes(score: bigint): Uint8Array {
  if (score < 0n) throw new RangeError(`head score ${score} is negative`);
  let hex = score === 0n ? '' : score.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (hex.length / 2 > MAX_SCORE_BYTES) throw new RangeError(`head score ${score} is over 256 bits`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function scoreFromBytes(bytes: Uint8Array, field: string): bigint {
  // Minimal big-endian only: one score has one encoding.
  if (bytes.length > 0 && bytes[0] === 0) throw new DecodeError(DecodeReason.NonCanonical, field, 'has a leading zero byte');
  let score = 0n;
  for (const byte of bytes) score = (score << 8n) | BigInt(byte);
  return score;
}

/** `[genesisHash, headHash, headHeight, headScore (minimal big-endian bytes), finalizedHash, finalizedHeight]` */
export function encodeStatus(status: ChainStatus): Uint8Array {
  return encodeCanonical([
    status.genesisHash,
    status.headHash,
    status.headHeight,
    scoreToBytes(status.headScore),
    status.finalizedHash,
    status.finalizedHeight,
  ]);
}

export function decodeStatus(bytes: Uint8Array, maxBytes: number): ChainStatus {
  const [genesisHash, headHash, headHeight, headScore, finalizedHash, finalizedHeight] = expectArray(
    decodeCanonical(bytes, maxBytes, 'status'),
    6,
    'status',
  );
  const status: ChainStatus = {
    genesisHash: expectBytes(genesisHash, HASH_LENGTH, 'status.genesisHash'),
    headHash: expectBytes(headHash, HASH_LENGTH, 'status.headHash'),
    headHeight: expectU32(headHeight, 'status.headHeight'),
    headScore: scoreFromBytes(expectBytesUpTo(headScore, MAX_SCORE_BYTES, 'status.headScore'), 'status.headScore'),
    finalizedHash: expectBytes(finalizedHash, HASH_LENGTH, 'status.finalizedHash'),
    finalizedHeight: expectU32(finalizedHeight, 'status.finalizedHeight'),
  };
  if (status.finalizedHeight > status.headHeight) {
    throw new DecodeError(DecodeReason.OutOfRange, 'status.finalizedHeight', `${status.finalizedHeight} is above the head height ${status.headHeight}`);
  }
  return Object.freeze(status);
}

export interface RangeRequest {
  readonly start: number;
  readonly count: number;
}

/** `[start, count]` */
export function encodeRangeRequest(request: RangeRequest): Uint8Array {
  return encodeCanonical([request.start, request.count]);
}

/** A blocks_by_range or headers_by_range request (the same `[start, count]`; `protocol` names the fields in errors). */
export function decodeRangeRequest(bytes: Uint8Array, maxBytes: number, maxCount: number, protocol = 'blocks_by_range'): RangeRequest {
  const [start, count] = expectArray(decodeCanonical(bytes, maxBytes, protocol), 2, protocol);
  const request = { start: expectU32(start, `${protocol}.start`), count: expectU32(count, `${protocol}.count`) };
  if (request.count < 1 || request.count > maxCount) {
    throw new DecodeError(DecodeReason.OutOfRange, `${protocol}.count`, `${request.count} is not between 1 and ${maxCount}`);
  }
  return request;
}

/** `[hash]` */
export function encodeHashRequest(hash: Uint8Array): Uint8Array {
  return encodeCanonical([hash]);
}

export function decodeHashRequest(bytes: Uint8Array, maxBytes: number): Uint8Array {
  const [hash] = expectArray(decodeCanonical(bytes, maxBytes, 'block_by_hash'), 1, 'block_by_hash');
  return expectBytes(hash, HASH_LENGTH, 'block_by_hash.hash');
}
