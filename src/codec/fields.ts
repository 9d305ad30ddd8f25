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
  // Upper bound first so a huge string is refused without encoding it.
  if (value.length > maxBytes || utf8Length(value) > maxBytes) {
    throw new DecodeError(DecodeReason.Oversize, field, `longer than ${maxBytes} bytes`);
  }
  if (pattern && !pattern.test(value)) {
    throw new DecodeError(DecodeReason.OutOfRange, field, `does not match ${pattern.source}`);
  }
  return value;
}

export function expectBoolean(value: WireValue | undefined, field: string): boolean {
  if (typeof value !== 'boolean') throw wrongType(field, 'a boolean', value);
  return value;
}

function utf8Length(text: string): number {
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
