import { DecodeError, DecodeReason } from './errors.ts';
import { plain, type WireValue } from './canonical.ts';

/** Field readers used by every structure decoder: each checks one field and names it on failure. */

export function expectArray(value: WireValue, length: number, field: string): readonly WireValue[] {
  if (!Array.isArray(value)) throw wrongType(field, 'an array', value);
  if (value.length !== length) {
    throw new DecodeError(DecodeReason.WrongArity, field, `expected ${length} elements, got ${value.length}`);
  }
  return value;
}

export function expectList(value: WireValue, maxLength: number, field: string): readonly WireValue[] {
  if (!Array.isArray(value)) throw wrongType(field, 'an array', value);
  if (value.length > maxLength) {
    throw new DecodeError(DecodeReason.Oversize, field, `${value.length} elements is over the limit of ${maxLength}`);
  }
  return value;
}

export function expectU32(value: WireValue | undefined, field: string): number {
  if (typeof value !== 'number') throw wrongType(field, 'an unsigned integer below 2^32', value);
  return value;
}

/** The latest time a field may hold: 9999-12-31T23:59:59.999Z, so every time formats as an ISO date. */
export const MAX_TIME_MS = 253_402_300_799_999;

/** A u64 time in ms since the epoch, at most MAX_TIME_MS. */
export function expectTime(value: WireValue | undefined, field: string): number {
  const time = expectU64(value, field);
  if (time > MAX_TIME_MS) throw new DecodeError(DecodeReason.OutOfRange, field, `${time} is after the year 9999`);
  return time;
}

/** u64 fields travel as int64 (always 8 bytes) and live in memory as safe integers. */
const MAX_SAFE_BIGINT = BigInt(Number.MAX_SAFE_INTEGER);

export function expectU64(value: WireValue | undefined, field: string): number {
  if (typeof value !== 'bigint') throw wrongType(field, 'a 64-bit unsigned integer', value);
  if (value > MAX_SAFE_BIGINT) {
    throw new DecodeError(DecodeReason.OutOfRange, field, `${value} is above 2^53 - 1`);
  }
  return Number(value);
}

export function expectBigU64(value: WireValue | undefined, field: string): bigint {
  if (typeof value !== 'bigint') throw wrongType(field, 'a 64-bit unsigned integer', value);
  return value;
}

export function expectBytes(value: WireValue | undefined, length: number, field: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw wrongType(field, `${length} bytes`, value);
  if (value.length !== length) {
    throw new DecodeError(DecodeReason.OutOfRange, field, `expected ${length} bytes, got ${value.length}`);
  }
  return plain(value);
}

export function expectBytesUpTo(value: WireValue | undefined, maxLength: number, field: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw wrongType(field, 'bytes', value);
  if (value.length > maxLength) {
    throw new DecodeError(DecodeReason.Oversize, field, `${value.length} bytes is over the limit of ${maxLength}`);
  }
  return plain(value);
}

/** A UTF-8 string of at most `maxBytes` bytes (measured encoded) and, when given, matching `pattern`. */
export function expectString(value: WireValue | undefined, maxBytes: number, field: string, pattern?: RegExp): string {
  if (typeof value !== 'string') throw wrongType(field, 'a string', value);
  // Upper bound first so a huge string is refused without encoding it. utf8Length counts at most 4 bytes per
  // UTF-16 unit (4 for a high surrogate, even a lone one at the end), so a string of at most maxBytes / 4 units
  // fits without being measured (content types, purposes).
  if (value.length > maxBytes || (value.length * 4 > maxBytes && utf8Length(value) > maxBytes)) {
    throw new DecodeError(DecodeReason.Oversize, field, `longer than ${maxBytes} bytes`);
  }
  if (pattern && !matches(pattern, value)) {
    throw new DecodeError(DecodeReason.OutOfRange, field, `does not match ${pattern.source}`);
  }
  return value;
}

/**
 * The last string each pattern accepted. A block repeats the same content type or purpose in most of its
 * transactions; comparing with the last accepted string costs less than running the pattern again, and a pattern
 * without the g or y flag (no lastIndex state) gives the same answer for the same string.
 */
const lastAccepted = new WeakMap<RegExp, string>();

/** `pattern.test(value)`, remembering the last string it accepted. */
export function matches(pattern: RegExp, value: string): boolean {
  if (pattern.global || pattern.sticky) return pattern.test(value);
  if (lastAccepted.get(pattern) === value) return true;
  if (!pattern.test(value)) return false;
  lastAccepted.set(pattern, value);
  return true;
}

export function expectBoolean(value: WireValue | undefined, field: string): boolean {
  if (typeof value !== 'boolean') throw wrongType(field, 'a boolean', value);
  return value;
}

/** The UTF-8 length expectString limits. Exported for the test that holds its shortcut to it. */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function wrongType(field: string, expected: string, got: WireValue | undefined): DecodeError {
  return new DecodeError(DecodeReason.WrongType, field, `expected ${expected}, got ${describe(got)}`);
}

function describe(value: WireValue | undefined): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'nil';
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value;
}
