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
    if (value < 0n || value > MAX_I64) throw new RangeError(`${path}: ${value} does not fit an i64`);
  } else if (typeof value === 'string' && !value.isWellFormed()) {
    // msgpackr would write a lone surrogate as U+FFFD: what is signed would not be what was given.
    throw new RangeError(`${path}: the string has a lone surrogate (not valid Unicode)`);
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
  let value: WireValue;
  try {
    value = unpackr.unpack(bytes) as WireValue;
  } catch (error) {
    throw classifyUnpackError(error, field);
  }
  const problem = wireProblem(value, 0);
  if (problem !== null) throw new DecodeError(problem.reason, field, problem.detail);
  let again: Uint8Array;
  try {
    again = packr.pack(value);
  } catch {
    throw new DecodeError(DecodeReason.NonCanonical, field, 'value has no canonical encoding');
  }
  if (!bytesEqual(again, bytes)) {
    // msgpackr decodes invalid UTF-8 leniently (to U+FFFD), so the round trip is where it shows.
    if (containsReplacementChar(value) && !containsUtf8ReplacementChar(bytes)) {
      throw new DecodeError(DecodeReason.Malformed, field, 'a string is not valid UTF-8');
    }
    throw new DecodeError(DecodeReason.NonCanonical, field, 'not the canonical encoding');
  }
  return value;
}

const MAX_DEPTH = 8;
const MAX_I64 = 0x7fffffffffffffffn;

/** Why a decoded value is not a wire value, or null when it is one. */
function wireProblem(value: unknown, depth: number): { reason: DecodeReason; detail: string } | null {
  switch (typeof value) {
    case 'number':
      return Number.isInteger(value) && value >= 0 && value <= 0xffffffff
        ? null
        : { reason: DecodeReason.WrongType, detail: 'contains a float or a negative integer' };
    case 'bigint':
      // The encoder writes u64 fields as int64, so a value above 2^63 - 1 has no encoding here.
      if (value < 0n) return { reason: DecodeReason.WrongType, detail: 'contains a negative integer' };
      return value <= MAX_I64 ? null : { reason: DecodeReason.OutOfRange, detail: `integer ${value} is above 2^63-1` };
    case 'boolean':
    case 'string':
      return null;
    case 'object':
      if (value === null || value instanceof Uint8Array) return null;
      // msgpackr decodes the never-used byte 0xc1 to a marker object instead of failing.
      if (value.constructor?.name === 'C1Type') return { reason: DecodeReason.Malformed, detail: 'contains the reserved byte 0xc1' };
      if (!Array.isArray(value)) return { reason: DecodeReason.WrongType, detail: 'contains a map or an extension type' };
      if (depth >= MAX_DEPTH) return { reason: DecodeReason.WrongType, detail: `arrays nest deeper than ${MAX_DEPTH}` };
      for (const item of value) {
        const problem = wireProblem(item, depth + 1);
        if (problem !== null) return problem;
      }
      return null;
    default:
      return { reason: DecodeReason.WrongType, detail: `contains a ${typeof value}` };
  }
}

function containsReplacementChar(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\ufffd');
  return Array.isArray(value) && value.some(containsReplacementChar);
}

function containsUtf8ReplacementChar(bytes: Uint8Array): boolean {
  for (let i = 0; i + 2 < bytes.length; i++) if (bytes[i] === 0xef && bytes[i + 1] === 0xbf && bytes[i + 2] === 0xbd) return true;
  return false;
}

function classifyUnpackError(error: unknown, field: string): DecodeError {
  const message = error instanceof Error ? error.message : String(error);
  if (/end of buffer not reached/i.test(message)) {
    return new DecodeError(DecodeReason.TrailingBytes, field, 'bytes follow the end of the value');
  }
  if (/call stack/i.test(message)) {
    return new DecodeError(DecodeReason.WrongType, field, `arrays nest deeper than ${MAX_DEPTH}`);
  }
  if (/unexpected end/i.test(message) || error instanceof RangeError) {
    return new DecodeError(DecodeReason.Truncated, field, 'input ends inside a value');
  }
  return new DecodeError(DecodeReason.Malformed, field, `not valid MessagePack (${message.slice(0, 80)})`);
}
