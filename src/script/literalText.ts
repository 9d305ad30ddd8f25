/**
 * Rules for text inside string literals, shared by the compiler and the
 * bytecode checker so that every accepted string prints and re-parses to the
 * same bytes, and an auditor reading a disassembly cannot be misled by
 * invisible control or bidirectional-override characters.
 */

/** True for code points that may not appear in a string literal (or anywhere in source, for the bidi ones). */
export function isForbiddenCodePoint(cp: number): boolean {
  if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return true;
  return isBidiControl(cp);
}

/** Bidirectional formatting characters (the "Trojan Source" set). */
export function isBidiControl(cp: number): boolean {
  return (
    cp === 0x061c || cp === 0x200e || cp === 0x200f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)
  );
}

// Hand-written rather than TextDecoder: it must not throw, must keep a leading
// BOM (TextDecoder drops it, which would break the byte round trip), and must
// refuse forbidden code points.
/** Strict UTF-8 of bytes[start, end) as a string, or undefined if invalid or forbidden. */
export function decodeLiteralUtf8(bytes: Uint8Array, start: number, end: number): string | undefined {
  let out = '';
  let i = start;
  while (i < end) {
    const b0 = bytes[i]!;
    let cp: number;
    let size: number;
    if (b0 < 0x80) {
      cp = b0;
      size = 1;
    } else if (b0 >= 0xc2 && b0 <= 0xdf) {
      cp = b0 & 0x1f;
      size = 2;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      cp = b0 & 0x0f;
      size = 3;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      cp = b0 & 0x07;
      size = 4;
    } else {
      return undefined;
    }
    if (i + size > end) return undefined;
    for (let k = 1; k < size; k++) {
      const b = bytes[i + k]!;
      if ((b & 0xc0) !== 0x80) return undefined;
      cp = (cp << 6) | (b & 0x3f);
    }
    // Overlong forms, surrogates and values above U+10FFFF.
    if ((size === 3 && cp < 0x800) || (size === 4 && (cp < 0x10000 || cp > 0x10ffff))) return undefined;
    if (cp >= 0xd800 && cp <= 0xdfff) return undefined;
    if (isForbiddenCodePoint(cp)) return undefined;
    out += String.fromCodePoint(cp);
    i += size;
  }
  return out;
}
