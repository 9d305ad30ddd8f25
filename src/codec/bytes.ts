/** Byte helpers shared by every layer; pure and browser-safe (no Buffer). */

const HEX = '0123456789abcdef';
const HEX_TABLE: string[] = Array.from({ length: 256 }, (_, i) => HEX[i >> 4]! + HEX[i & 15]!);

const HEX_CODES: number[] = Array.from({ length: 16 }, (_, i) => HEX.charCodeAt(i));
/** Character codes of a short input's hex, reused: toHex runs synchronously. */
const hexCodes: number[] = [];

/** Lowercase hex of `bytes`, no prefix. */
export function toHex(bytes: Uint8Array): string {
  const n = bytes.length;
  if (n <= 64) {
    // Ids and hashes: one flat string at once, instead of a chain of 2-character pieces that every later use
    // (a regular expression, a map key) must first copy into one (policy contexts build these per decision).
    hexCodes.length = 2 * n;
    for (let i = 0; i < n; i++) {
      const b = bytes[i]!;
      hexCodes[2 * i] = HEX_CODES[b >> 4]!;
      hexCodes[2 * i + 1] = HEX_CODES[b & 15]!;
    }
    return String.fromCharCode.apply(null, hexCodes);
  }
  let out = '';
  for (let i = 0; i < n; i++) out += HEX_TABLE[bytes[i]!]!;
  return out;
}

/** Parses lowercase or uppercase hex (an optional 0x prefix is allowed); returns undefined when it is not hex. */
export function fromHex(text: string): Uint8Array | undefined {
  const s = text.startsWith('0x') || text.startsWith('0X') ? text.slice(2) : text;
  if (s.length % 2 !== 0) return undefined;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hexNibble(s.charCodeAt(2 * i));
    const lo = hexNibble(s.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) return undefined;
    out[i] = (hi << 4) | lo;
  }
  return out;
}

function hexNibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lexicographic order of byte strings (the order LevelDB keeps keys in). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (let i = 0; i < parts.length; i++) length += parts[i]!.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Big-endian u32, the form heights take inside keys so that key order is height order. */
export function u32be(value: number): Uint8Array {
  const out = new Uint8Array(4);
  writeU32be(out, 0, value);
  return out;
}

/**
 * Writes `value` as a big-endian u32 at `offset`, as DataView#setUint32 would (the value taken modulo 2^32)
 * without creating a DataView, which costs more than the write (keys are built per state read).
 */
export function writeU32be(out: Uint8Array, offset: number, value: number): void {
  const v = value >>> 0;
  out[offset] = v >>> 24;
  out[offset + 1] = (v >>> 16) & 0xff;
  out[offset + 2] = (v >>> 8) & 0xff;
  out[offset + 3] = v & 0xff;
}

export function readU32be(bytes: Uint8Array, offset = 0): number {
  if (!Number.isInteger(offset) || offset < 0 || offset + 4 > bytes.length) {
    // Out of range (or not an integer): DataView explains it as it always did.
    return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset);
  }
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** Decodes UTF-8, throwing on invalid sequences. */
export function fromUtf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}
