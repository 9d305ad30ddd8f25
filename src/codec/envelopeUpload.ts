import { decodeCanonical, encodeCanonical } from './canonical.ts';
import { DecodeError, DecodeReason } from './errors.ts';
import { expectArray, expectBytes, expectBytesUpTo, expectList, expectString, expectU32 } from './fields.ts';
import { expectChainId } from './transaction.ts';
import { ACCOUNT_ID_LENGTH, HASH_LENGTH } from '../types/primitives.ts';

/** The domain tag of an envelope upload: a signed message that is never a transaction or a header. */
export const ENVELOPE_UPLOAD_DOMAIN = 'medchain/envelopes/v1';
export const MAX_ENVELOPE_BYTES = 256;
export const MAX_ENVELOPES_PER_UPLOAD = 64;

/** Key envelopes for one record version, signed by the uploader (the record's owner or the version's author). */
export interface EnvelopeUpload {
  readonly chainId: string;
  readonly record: Uint8Array;
  readonly version: number;
  readonly uploader: Uint8Array;
  readonly envelopes: readonly { readonly reader: Uint8Array; readonly envelope: Uint8Array }[];
}

/** The bytes the uploader signs. */
export function encodeEnvelopeUpload(u: EnvelopeUpload): Uint8Array {
  return encodeCanonical([ENVELOPE_UPLOAD_DOMAIN, u.chainId, u.record, u.version, u.uploader, u.envelopes.map((e) => [e.reader, e.envelope])]);
}

export function decodeEnvelopeUpload(bytes: Uint8Array): EnvelopeUpload {
  const value = decodeCanonical(bytes, 64 * 1024, 'upload');
  const [domain, chainId, record, version, uploader, envelopes] = expectArray(value, 6, 'upload');
  if (expectString(domain, 64, 'upload.domain') !== ENVELOPE_UPLOAD_DOMAIN) {
    throw new DecodeError(DecodeReason.UnknownType, 'upload.domain', `expected "${ENVELOPE_UPLOAD_DOMAIN}"`);
  }
  return {
    chainId: expectChainId(chainId, 'upload.chainId'),
    record: expectBytes(record, HASH_LENGTH, 'upload.record'),
    version: expectU32(version, 'upload.version'),
    uploader: expectBytes(uploader, ACCOUNT_ID_LENGTH, 'upload.uploader'),
    envelopes: expectList(envelopes ?? null, MAX_ENVELOPES_PER_UPLOAD, 'upload.envelopes').map((entry, i) => {
      const [reader, envelope] = expectArray(entry, 2, `upload.envelopes[${i}]`);
      return {
        reader: expectBytes(reader, ACCOUNT_ID_LENGTH, `upload.envelopes[${i}].reader`),
        envelope: expectBytesUpTo(envelope, MAX_ENVELOPE_BYTES, `upload.envelopes[${i}].envelope`),
      };
    }),
  };
}
