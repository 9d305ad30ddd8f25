/** Why a byte string was refused by a decoder. A closed set: every decoder answers with one of these. */
export const DecodeReason = {
  /** The input ends before the value it starts. */
  Truncated: 'TRUNCATED',
  /** A complete value is followed by more bytes. */
  TrailingBytes: 'TRAILING_BYTES',
  /** The bytes decode, but are not the one encoding our encoder produces for that value. */
  NonCanonical: 'NON_CANONICAL',
  /** The bytes are not MessagePack we can read: the reserved byte 0xc1, an unknown extension, invalid UTF-8. */
  Malformed: 'MALFORMED',
  /** The input, or one of its fields, is larger than its limit. */
  Oversize: 'OVERSIZE',
  /** A field has the wrong MessagePack type (a string where bytes are expected, a float, a map), or arrays nest too deep. */
  WrongType: 'WRONG_TYPE',
  /** An array has the wrong number of elements. */
  WrongArity: 'WRONG_ARITY',
  /** A field has the right type but a value outside its domain (a 31-byte key, a height over 2^32). */
  OutOfRange: 'OUT_OF_RANGE',
  /** A type tag names no known transaction type, role or engine. */
  UnknownType: 'UNKNOWN_TYPE',
} as const;
export type DecodeReason = (typeof DecodeReason)[keyof typeof DecodeReason];

/** A decoder's refusal: `reason` is stable (for RPC `data.reason`), `field` names where (e.g. `tx.payload.doctor`). */
export class DecodeError extends Error {
  readonly reason: DecodeReason;
  readonly field: string;
  readonly detail: string;
  constructor(reason: DecodeReason, field: string, detail: string) {
    super(`${field}: ${detail}`);
    this.name = 'DecodeError';
    this.reason = reason;
    this.field = field;
    this.detail = detail;
  }
}
