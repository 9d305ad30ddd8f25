import { PolicyErrorCode } from './errors.ts';
import { isBidiControl, isForbiddenCodePoint } from './literalText.ts';
import { MAX_INTEGER, MAX_STRING_BYTES } from './limits.ts';
import { utf8 } from '../codec/bytes.ts';

export type TokenKind = 'name' | 'int' | 'string' | 'id' | 'punct' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Source text of names and punctuation; decoded value of strings; lowercase hex of ids; digits of ints. */
  readonly text: string;
  readonly value: number;
  readonly offset: number;
}

/** Thrown inside the compiler only, and turned into a CompileError with a position by compilePolicy. */
export class SyntaxFailure extends Error {
  readonly code: PolicyErrorCode;
  readonly offset: number;
  readonly detail: string;
  constructor(code: PolicyErrorCode, offset: number, detail: string) {
    super(detail);
    this.name = 'SyntaxFailure';
    this.code = code;
    this.offset = offset;
    this.detail = detail;
  }
}

const PUNCTUATION = ['==', '!=', '<=', '>=', '<', '>', '+', '-', '(', ')', '[', ']', ','] as const;

/** Splits policy source into tokens; throws SyntaxFailure on the first lexical error. */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = source.length;
  while (i < n) {
    const c = source.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      i++;
      continue;
    }
    if (c === 35 /* # */) {
      // Comments run to the end of the line; they still may not hide bidi controls.
      while (i < n && source.charCodeAt(i) !== 10) {
        const cp = source.codePointAt(i)!;
        if (isBidiControl(cp) || (cp >= 0xd800 && cp <= 0xdfff)) {
          throw new SyntaxFailure(PolicyErrorCode.InvalidCharacter, i, `${describeCodePoint(cp)} in a comment`);
        }
        i += cp > 0xffff ? 2 : 1;
      }
      continue;
    }
    if (isNameStart(c)) {
      const start = i;
      while (i < n && isNamePart(source.charCodeAt(i))) i++;
      tokens.push({ kind: 'name', text: source.slice(start, i), value: 0, offset: start });
      continue;
    }
    if (c >= 48 && c <= 57) {
      if (c === 48 && (source.charCodeAt(i + 1) | 0x20) === 120 /* x */) {
        const id = readIdLiteral(source, i);
        tokens.push(id);
        i += 2 + id.text.length;
        continue;
      }
      const start = i;
      while (i < n && isDigit(source.charCodeAt(i))) i++;
      if (i < n && isNamePart(source.charCodeAt(i))) {
        throw new SyntaxFailure(PolicyErrorCode.UnexpectedToken, i, `expected a space or an operator after the number, found '${source[i]}'`);
      }
      const digits = source.slice(start, i).replace(/^0+(?=\d)/, '');
      const value = digits.length > 16 ? Infinity : Number(digits);
      if (!(value <= MAX_INTEGER)) {
        throw new SyntaxFailure(PolicyErrorCode.IntegerOutOfRange, start, `${abbreviate(digits)} is above ${MAX_INTEGER}`);
      }
      tokens.push({ kind: 'int', text: digits, value, offset: start });
      continue;
    }
    if (c === 34 /* " */) {
      const token = readString(source, i);
      tokens.push(token.token);
      i = token.end;
      continue;
    }
    const punct = PUNCTUATION.find((p) => source.startsWith(p, i));
    if (punct !== undefined) {
      tokens.push({ kind: 'punct', text: punct, value: 0, offset: i });
      i += punct.length;
      continue;
    }
    const cp = source.codePointAt(i)!;
    let hint = '';
    if (c === 61 /* = */) hint = " (did you mean '=='?)";
    else if (c === 33 /* ! */) hint = " (did you mean '!=' or 'not'?)";
    else if (c === 38 || c === 124) hint = " (write 'and' / 'or')";
    throw new SyntaxFailure(PolicyErrorCode.InvalidCharacter, i, `${describeCodePoint(cp)}${hint}`);
  }
  tokens.push({ kind: 'eof', text: '', value: 0, offset: n });
  return tokens;
}

function readIdLiteral(source: string, start: number): Token {
  let i = start + 2;
  while (i < source.length && isHexDigit(source.charCodeAt(i))) i++;
  const hex = source.slice(start + 2, i);
  if (hex.length !== 64 || (i < source.length && isNamePart(source.charCodeAt(i)))) {
    throw new SyntaxFailure(PolicyErrorCode.InvalidIdLiteral, start, `found 0x followed by ${hex.length} hex digits`);
  }
  return { kind: 'id', text: hex.toLowerCase(), value: 0, offset: start };
}

function readString(source: string, start: number): { token: Token; end: number } {
  let i = start + 1;
  let value = '';
  for (;;) {
    if (i >= source.length || source.charCodeAt(i) === 10) {
      throw new SyntaxFailure(PolicyErrorCode.UnterminatedString, start, 'add a closing " on the same line');
    }
    const c = source.charCodeAt(i);
    if (c === 34) break;
    if (c === 92 /* \ */) {
      const next = source[i + 1];
      if (next !== '"' && next !== '\\') {
        throw new SyntaxFailure(PolicyErrorCode.InvalidEscape, i, `found \\${next ?? ''}`);
      }
      value += next;
      i += 2;
      continue;
    }
    const cp = source.codePointAt(i)!;
    if (isForbiddenCodePoint(cp) || (cp >= 0xd800 && cp <= 0xdfff)) {
      throw new SyntaxFailure(PolicyErrorCode.InvalidString, i, `${describeCodePoint(cp)} inside a string literal`);
    }
    const width = cp > 0xffff ? 2 : 1;
    value += source.slice(i, i + width);
    i += width;
    // Cheap bound first so a huge literal is refused without encoding all of it.
    if (value.length > MAX_STRING_BYTES || (value.length * 3 > MAX_STRING_BYTES && utf8(value).length > MAX_STRING_BYTES)) {
      throw new SyntaxFailure(PolicyErrorCode.StringTooLong, start, `longer than ${MAX_STRING_BYTES} UTF-8 bytes`);
    }
  }
  return { token: { kind: 'string', text: value, value: 0, offset: start }, end: i + 1 };
}

function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

function isNamePart(c: number): boolean {
  return isNameStart(c) || isDigit(c);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

function describeCodePoint(cp: number): string {
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return cp >= 0x21 && cp < 0x7f ? `'${String.fromCodePoint(cp)}' (${hex})` : hex;
}

function abbreviate(text: string): string {
  return text.length > 24 ? `${text.slice(0, 12)}...(${text.length} digits)` : text;
}
