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
  const fast = writeSmallCanonical(value);
  if (fast !== undefined) return fast;
  return encodeCanonicalSlowly(value);
}

/** The reference encode: the value checked, then msgpackr. Exported for the test that holds the fast path to it. */
export function encodeCanonicalSlowly(value: WireValue): Uint8Array {
  assertEncodable(value, 'value');
  return plain(packr.pack(value));
}

/**
 * The fast path of encodeCanonical, for the small values a block writes to state for nearly every transaction
 * (accounts, grants, records, versions, attestations): one pass into a reused buffer, the bytes msgpackr writes
 * (the shortest header of each form, bigints as int64). It takes only what it can write by the rules alone: u32
 * numbers, bigints in [0, 2^63), booleans, null, ASCII strings, plain Uint8Arrays and arrays no deeper than
 * MAX_DEPTH, up to SMALL_LIMIT bytes; anything else (a value assertEncodable refuses, a non-ASCII string, a large
 * value) returns undefined and takes the reference path, so what is written and every refusal are unchanged.
 * test/unit/codec/canonicalEncodeFastPath.test.ts holds it to msgpackr.
 *
 * Like msgpackr's, the result is a view of a shared slab outside V8's heap, not a small array of its own: V8 keeps
 * arrays of up to 64 bytes inside its heap and moves one out the first time a view is taken of it, which is what
 * decoding a value does (half a microsecond, more than the encode).
 */
export function writeSmallCanonical(value: WireValue): Uint8Array | undefined {
  if (slabAt + SMALL_LIMIT > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    slabAt = 0;
  }
  const start = slabAt;
  limit = start + SMALL_LIMIT;
  const end = writeValue(value, start, 0);
  if (end < 0) return undefined;
  slabAt = end;
  return slab.subarray(start, end);
}

/** Largest output of the fast path; a slab holds at least SLAB_SIZE - SMALL_LIMIT bytes of outputs. */
const SMALL_LIMIT = 2048;
const SLAB_SIZE = 16 * 1024;
let slab = new Uint8Array(SLAB_SIZE);
let slabAt = 0;
/** Where the value being written must end by. */
let limit = 0;
const FAIL = -1;

/** Writes `value` at `at` in the slab, within SMALL_LIMIT bytes of where the output starts; the end offset, or FAIL. */
function writeValue(value: WireValue, at: number, depth: number): number {
  const out = slab;
  switch (typeof value) {
    case 'number': {
      if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) return FAIL;
      if (value < 0x80) {
        if (at + 1 > limit) return FAIL;
        out[at] = value;
        return at + 1;
      }
      if (value < 0x100) {
        if (at + 2 > limit) return FAIL;
        out[at] = 0xcc;
        out[at + 1] = value;
        return at + 2;
      }
      if (value < 0x10000) {
        if (at + 3 > limit) return FAIL;
        out[at] = 0xcd;
        out[at + 1] = value >>> 8;
        out[at + 2] = value & 0xff;
        return at + 3;
      }
      if (at + 5 > limit) return FAIL;
      out[at] = 0xce;
      writeU32(out, at + 1, value);
      return at + 5;
    }
    case 'bigint': {
      if (value < 0n || value > MAX_I64 || at + 9 > limit) return FAIL;
      out[at] = 0xd3;
      writeU32(out, at + 1, Number(value >> 32n));
      writeU32(out, at + 5, Number(value & 0xffffffffn));
      return at + 9;
    }
    case 'boolean':
      if (at + 1 > limit) return FAIL;
      out[at] = value ? 0xc3 : 0xc2;
      return at + 1;
    case 'string': {
      const n = value.length;
      const header = n < 0x20 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
      if (at + header + n > limit) return FAIL;
      if (header === 1) out[at] = 0xa0 | n;
      else if (header === 2) {
        out[at] = 0xd9;
        out[at + 1] = n;
      } else if (header === 3) {
        out[at] = 0xda;
        out[at + 1] = n >>> 8;
        out[at + 2] = n & 0xff;
      } else return FAIL;
      at += header;
      for (let i = 0; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) return FAIL;
        out[at + i] = c;
      }
      return at + n;
    }
    case 'object': {
      if (value === null) {
        if (at + 1 > limit) return FAIL;
        out[at] = 0xc0;
        return at + 1;
      }
      if (value.constructor === Uint8Array) {
        const bytes = value as Uint8Array;
        const n = bytes.length;
        const header = n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
        if (at + header + n > limit) return FAIL;
        if (header === 2) {
          out[at] = 0xc4;
          out[at + 1] = n;
        } else if (header === 3) {
          out[at] = 0xc5;
          out[at + 1] = n >>> 8;
          out[at + 2] = n & 0xff;
        } else return FAIL;
        out.set(bytes, at + header);
        return at + header + n;
      }
      if (value.constructor !== Array || depth >= MAX_DEPTH) return FAIL;
      const items = value as readonly WireValue[];
      const n = items.length;
      const header = n < 16 ? 1 : n < 0x10000 ? 3 : 5;
      if (at + header > limit) return FAIL;
      if (header === 1) out[at] = 0x90 | n;
      else if (header === 3) {
        out[at] = 0xdc;
        out[at + 1] = n >>> 8;
        out[at + 2] = n & 0xff;
      } else return FAIL;
      at += header;
      for (let i = 0; i < n; i++) {
        // A hole or an undefined item is not a wire value: the reference path refuses or explains it.
        if (!(i in items)) return FAIL;
        at = writeValue(items[i]!, at, depth + 1);
        if (at < 0) return FAIL;
      }
      return at;
    }
    default:
      return FAIL;
  }
}

function writeU32(out: Uint8Array, at: number, n: number): void {
  out[at] = n >>> 24;
  out[at + 1] = (n >>> 16) & 0xff;
  out[at + 2] = (n >>> 8) & 0xff;
  out[at + 3] = n & 0xff;
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
  const fast = readCanonical(bytes);
  if (fast !== undefined) return fast;
  return decodeCanonicalSlowly(bytes, field);
}

/**
 * The reference decode: msgpackr parses, the value's types are checked, and re-encoding must give back the
 * same bytes. Exported for the test that holds the fast path to it.
 */
export function decodeCanonicalSlowly(bytes: Uint8Array, field: string): WireValue {
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

/**
 * The fast path of decodeCanonical: one pass that accepts only input it can prove canonical by construction
 * (every header the shortest form, as encodeCanonical writes it; u32 numbers; bigints as non-negative int64;
 * ASCII strings; bins; arrays no deeper than MAX_DEPTH; nothing after the value) and returns the value msgpackr
 * would (bins as views of `bytes`). Anything else returns undefined, and the reference decode then accepts it or
 * says why not, so errors and their reasons never change. Blocks, transactions and state values all take this
 * path; it avoids the reference's second encoding and byte comparison (bench:validate).
 */
export function readCanonical(bytes: Uint8Array): WireValue | undefined {
  const reader = { bytes, at: 0 };
  const value = readValue(reader, 0);
  return value !== undefined && reader.at === bytes.length ? value : undefined;
}

interface Reader {
  readonly bytes: Uint8Array;
  at: number;
}

function readValue(r: Reader, depth: number): WireValue | undefined {
  const { bytes } = r;
  if (r.at >= bytes.length) return undefined;
  const type = bytes[r.at++]!;
  if (type < 0x80) return type;
  if (type >= 0x90 && type <= 0x9f) return readArray(r, type & 0x0f, depth);
  if (type >= 0xa0 && type <= 0xbf) return readAscii(r, type & 0x1f);
  switch (type) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xc4: {
      const n = readLength(r, 1, 0);
      return n === undefined ? undefined : readBin(r, n);
    }
    case 0xc5: {
      const n = readLength(r, 2, 0x100);
      return n === undefined ? undefined : readBin(r, n);
    }
    case 0xc6: {
      const n = readLength(r, 4, 0x10000);
      return n === undefined ? undefined : readBin(r, n);
    }
    case 0xcc:
      return readLength(r, 1, 0x80);
    case 0xcd:
      return readLength(r, 2, 0x100);
    case 0xce:
      return readLength(r, 4, 0x10000);
    case 0xd3: {
      const at = r.at;
      if (at + 8 > bytes.length || bytes[at]! >= 0x80) return undefined;
      const hi = ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
      const lo = ((bytes[at + 4]! << 24) | (bytes[at + 5]! << 16) | (bytes[at + 6]! << 8) | bytes[at + 7]!) >>> 0;
      r.at = at + 8;
      // Below 2^53 (times, sizes) the value is exact as a number: one conversion instead of eight bigint steps.
      return hi < 0x200000 ? BigInt(hi * 0x100000000 + lo) : (BigInt(hi) << 32n) | BigInt(lo);
    }
    case 0xd9: {
      const n = readLength(r, 1, 0x20);
      return n === undefined ? undefined : readAscii(r, n);
    }
    case 0xda: {
      const n = readLength(r, 2, 0x100);
      return n === undefined ? undefined : readAscii(r, n);
    }
    case 0xdb: {
      const n = readLength(r, 4, 0x10000);
      return n === undefined ? undefined : readAscii(r, n);
    }
    case 0xdc: {
      const n = readLength(r, 2, 16);
      return n === undefined ? undefined : readArray(r, n, depth);
    }
    case 0xdd: {
      const n = readLength(r, 4, 0x10000);
      return n === undefined ? undefined : readArray(r, n, depth);
    }
    default:
      // Negative integers, floats, uint64, maps, extensions, 0xc1: the reference decode explains them.
      return undefined;
  }
}

/** A big-endian unsigned integer of `width` bytes, only if it is at least `min` (else a shorter form exists). */
function readLength(r: Reader, width: number, min: number): number | undefined {
  if (r.at + width > r.bytes.length) return undefined;
  let n = 0;
  for (let i = 0; i < width; i++) n = n * 256 + r.bytes[r.at + i]!;
  r.at += width;
  return n >= min ? n : undefined;
}

function readBin(r: Reader, n: number): Uint8Array | undefined {
  if (r.at + n > r.bytes.length) return undefined;
  const view = r.bytes.subarray(r.at, r.at + n);
  r.at += n;
  return view;
}

/** Character codes of a short string being read, reused: decoding is synchronous. */
const asciiCodes: number[] = [];

/**
 * Strings read lately, by a hash of their length and bytes: a block repeats the same few strings (its chain id
 * in every transaction, content types, purposes) and comparing the bytes with a cached string costs less than
 * building a new one. The string returned is equal either way. Parsing a 1,000-tx emr block's transactions:
 * 400 -> 300 us CPU (decodeBlock 1.51 -> 1.32 ms, medians of 5 A/B runs of bench/out/decprof.ts).
 */
const STRING_CACHE_SLOTS = 64;
const MAX_CACHED_STRING = 64;
const stringCache: string[] = new Array<string>(STRING_CACHE_SLOTS).fill('');

function readAscii(r: Reader, n: number): string | undefined {
  const { bytes } = r;
  const at = r.at;
  if (at + n > bytes.length) return undefined;
  if (n === 0) return '';
  if (n <= MAX_CACHED_STRING) {
    const slot = (n * 31 + bytes[at]! * 7 + bytes[at + n - 1]!) & (STRING_CACHE_SLOTS - 1);
    const cached = stringCache[slot]!;
    if (cached.length === n) {
      // The cached string is ASCII, so equal codes mean the bytes are ASCII too.
      let i = 0;
      while (i < n && cached.charCodeAt(i) === bytes[at + i]) i++;
      if (i === n) {
        r.at = at + n;
        return cached;
      }
    }
    const text = readShortAscii(r, n);
    if (text !== undefined) stringCache[slot] = text;
    return text;
  }
  if (n <= 256) return readShortAscii(r, n);
  let text = '';
  for (let i = at; i < at + n; i++) {
    const c = bytes[i]!;
    if (c >= 0x80) return undefined;
    text += String.fromCharCode(c);
  }
  r.at += n;
  return text;
}

function readShortAscii(r: Reader, n: number): string | undefined {
  // One flat string at once: built a character at a time, it is a chain of n pieces that its first use (a
  // pattern test, a length check) must copy into one (a chain id per transaction).
  const { bytes } = r;
  asciiCodes.length = n;
  for (let i = 0; i < n; i++) {
    const c = bytes[r.at + i]!;
    if (c >= 0x80) return undefined;
    asciiCodes[i] = c;
  }
  r.at += n;
  return String.fromCharCode.apply(null, asciiCodes);
}

function readArray(r: Reader, n: number, depth: number): WireValue[] | undefined {
  if (depth >= MAX_DEPTH || n > r.bytes.length - r.at) return undefined;
  const items: WireValue[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const item = readValue(r, depth + 1);
    if (item === undefined) return undefined;
    items[i] = item;
  }
  return items;
}
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
