import { MAX_INTEGER } from './limits.ts';

/** Unsigned LEB128 in its shortest form; the only integer encoding in bytecode. */

/** Bytes `value` takes as a varint (value must be a safe non-negative integer). */
export function varintLength(value: number): number {
  let length = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    length++;
  }
  return length;
}

/** Appends the varint of `value` to `out`. */
export function writeVarint(value: number, out: number[]): void {
  while (value >= 128) {
    out.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
}

export const VARINT_TRUNCATED = -1;
export const VARINT_NON_CANONICAL = -2;
export const VARINT_OUT_OF_RANGE = -3;

// Only the shortest form is accepted, so a valid varint's length is varintLength(value).
/** Varint at `offset` (not reading past `end`), or a negative VARINT_* code. */
export function readVarint(bytes: Uint8Array, offset: number, end: number): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 8; i++) {
    if (offset + i >= end) return VARINT_TRUNCATED;
    const b = bytes[offset + i]!;
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) {
      // A zero last byte (other than a lone 0) would be a longer spelling of a smaller number.
      if (b === 0 && i > 0) return VARINT_NON_CANONICAL;
      return value > MAX_INTEGER ? VARINT_OUT_OF_RANGE : value;
    }
    scale *= 128;
  }
  return VARINT_OUT_OF_RANGE;
}
