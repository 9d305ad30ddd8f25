import { Packr, Unpackr } from 'msgpackr';
import { bytesEqual } from './bytes.ts';
import { DecodeError, DecodeReason } from './errors.ts';

/**
 * Values that may appear on the wire. No floats, no maps, no undefined: every consensus structure is a
 * fixed-order array of unsigned integers (u32 as number, u64 as bigint), byte strings, UTF-8 strings and booleans.
 */
export type WireValue = number | bigint | boolean | string | Uint8Array | null | readonly WireValue[];

// Fixed options, pinned with the exact msgpackr version in package.json: the encoding is consensus.
const OPTIONS = {
  useRecords: false,
  structuredClone: false,
  moreTypes: false,
  bundleStrings: false,
  mapsAsObjects: false,
  int64AsType: 'bigint',
} as const;

const packr = new Packr(OPTIONS);
const unpackr = new Unpackr(OPTIONS);

/** Encodes a wire value: the one canonical encoding of that value. */
export function encodeCanonical(value: WireValue): Uint8Array {
  assertEncodable(value, 'value');
  return plain(packr.pack(value));
}

/**
 * A plain Uint8Array view of msgpackr's Node Buffers: Buffer#slice is a view, not a copy, and code written
 * for Uint8Array (`bytes.slice()` then mutate) would silently corrupt the original.
 */
export function plain(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function assertEncodable(value: WireValue, path: string): void {
  if (typeof value === 'number') {
    // A number that is not a u32 would be packed as a float; u64 fields must be passed as bigint.
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new RangeError(`${path}: ${value} is not a u32 (use a bigint for u64 fields)`);
    }
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) assertEncodable(value[i] as WireValue, `${path}[${i}]`);
  } else if (typeof value === 'bigint') {
    if (value < 0n || value > 0x7fffffffffffffffn) throw new RangeError(`${path}: ${value} does not fit an i64`);
  }
}

/**
 * Decodes one wire value strictly: the whole input must be exactly one value and re-encoding it must give
 * back the same bytes, which refuses every non-canonical form (wider integer or length headers, maps) at once.
 */
export function decodeCanonical(bytes: Uint8Array, maxBytes: number, field: string): WireValue {
  if (bytes.length > maxBytes) {
    throw new DecodeError(DecodeReason.Oversize, field, `${bytes.length} bytes is over the limit of ${maxBytes}`);
  }
  if (bytes.length === 0) throw new DecodeError(DecodeReason.Truncated, field, 'empty input');
  let value: unknown;
  try {
    value = unpackr.unpack(bytes);
  } catch (error) {
    throw classifyUnpackError(error, field);
  }
  if (!isWireValue(value, 0)) {
    throw new DecodeError(DecodeReason.WrongType, field, 'contains a float, map, extension or nesting deeper than 8');
  }
  let again: Uint8Array;
  try {
    again = packr.pack(value);
  } catch {
    throw new DecodeError(DecodeReason.NonCanonical, field, 'value has no canonical encoding');
  }
  if (!bytesEqual(again, bytes)) throw new DecodeError(DecodeReason.NonCanonical, field, 'not the canonical encoding');
  return value;
}

const MAX_DEPTH = 8;

function isWireValue(value: unknown, depth: number): value is WireValue {
  switch (typeof value) {
    case 'number':
      return Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
    case 'bigint':
      return value >= 0n;
    case 'boolean':
    case 'string':
      return true;
    case 'object':
      if (value === null || value instanceof Uint8Array) return true;
      if (!Array.isArray(value) || depth >= MAX_DEPTH) return false;
      for (const item of value) if (!isWireValue(item, depth + 1)) return false;
      return true;
    default:
      return false;
  }
}

function classifyUnpackError(error: unknown, field: string): DecodeError {
  const message = error instanceof Error ? error.message : String(error);
  if (/end of buffer not reached/i.test(message)) {
    return new DecodeError(DecodeReason.TrailingBytes, field, 'bytes follow the end of the value');
  }
  if (/unexpected end/i.test(message) || error instanceof RangeError) {
    return new DecodeError(DecodeReason.Truncated, field, 'input ends inside a value');
  }
  return new DecodeError(DecodeReason.Malformed, field, `not valid MessagePack (${message.slice(0, 80)})`);
}
