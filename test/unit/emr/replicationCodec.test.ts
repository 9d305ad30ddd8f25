import { describe, expect, it } from 'vitest';
import {
  decodeBlobRequest,
  decodeBlobResponse,
  encodeBlobBundle,
  encodeBlobRefusal,
  encodeCustodyBlobRequest,
  encodeCustodyRequest,
  encodeReadBlobRequest,
  MAX_BLOB_CIPHERTEXT_BYTES,
  MAX_BLOB_ENVELOPES,
  MAX_BLOB_RESPONSE_BYTES,
} from '../../../src/codec/blobRequest.ts';
import { toHex, u32be } from '../../../src/codec/bytes.ts';
import { encodeCanonical } from '../../../src/codec/canonical.ts';
import { DecodeError } from '../../../src/codec/errors.ts';
import { MAX_ENVELOPE_BYTES } from '../../../src/codec/envelopeUpload.ts';
import { MAX_CIPHERTEXT_BYTES } from '../../../src/emr/recordService.ts';
import { GENESIS_TIME } from '../../helpers/fixtures.ts';

const reader = (i: number) => new Uint8Array([...new Uint8Array(28), ...u32be(i)]);

function reasonOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof DecodeError) return error.reason;
    throw error;
  }
  return 'decoded';
}

describe('blob protocol wire forms', () => {
  it('bounds a bundle by the record service ciphertext limit, and the largest bundle fits the response limit', () => {
    expect(MAX_BLOB_CIPHERTEXT_BYTES).toBe(MAX_CIPHERTEXT_BYTES);
    const envelopes = Array.from({ length: MAX_BLOB_ENVELOPES }, (_, i) => ({ reader: reader(i), envelope: new Uint8Array(MAX_ENVELOPE_BYTES) }));
    const largest = encodeBlobBundle(new Uint8Array(32), new Uint8Array(MAX_BLOB_CIPHERTEXT_BYTES), envelopes);
    expect(largest.length).toBeLessThanOrEqual(MAX_BLOB_RESPONSE_BYTES);
    const decoded = decodeBlobResponse(largest);
    expect(decoded.kind === 'bundle' && decoded.envelopes.length).toBe(MAX_BLOB_ENVELOPES);
  });

  it('round-trips requests and responses; bundles list envelopes in reader order', () => {
    const custody = { chainId: 'medchain-test', record: new Uint8Array(32).fill(7), version: 3, time: GENESIS_TIME, requester: reader(9), ciphertext: false, readers: [reader(2), reader(1)], peer: '12D3KooWExamplePeer' };
    const signed = encodeCustodyRequest(custody);
    const request = decodeBlobRequest(encodeCustodyBlobRequest(signed, new Uint8Array(64).fill(1)));
    if (request.kind !== 'custody') throw new Error('expected a custody request');
    expect(toHex(request.signed)).toBe(toHex(signed));
    expect({ ...request.request, record: toHex(request.request.record), requester: toHex(request.request.requester), readers: request.request.readers.map(toHex) }).toEqual({
      ...custody,
      record: toHex(custody.record),
      requester: toHex(custody.requester),
      readers: [reader(1), reader(2)].map(toHex),
    });
    expect(decodeBlobRequest(encodeReadBlobRequest(new Uint8Array([1, 2, 3])))).toEqual({ kind: 'read', receipt: new Uint8Array([1, 2, 3]) });
    const bundle = decodeBlobResponse(encodeBlobBundle(null, null, [{ reader: reader(5), envelope: new Uint8Array(82) }, { reader: reader(4), envelope: new Uint8Array(82) }]));
    expect(bundle).toEqual({ kind: 'bundle', salt: null, ciphertext: null, envelopes: [{ reader: reader(4), envelope: new Uint8Array(82) }, { reader: reader(5), envelope: new Uint8Array(82) }] });
    expect(decodeBlobResponse(encodeBlobRefusal('DENIED', 'x'.repeat(1000)))).toEqual({ kind: 'refused', code: 'DENIED', detail: 'x'.repeat(256) });
  });

  it('refuses hostile responses field by field', () => {
    const env = (i: number) => [reader(i), new Uint8Array(82)];
    expect(reasonOf(() => decodeBlobResponse(encodeCanonical([0, null, null, [env(2), env(1)]])))).toBe('OUT_OF_RANGE');
    expect(reasonOf(() => decodeBlobResponse(encodeCanonical([0, null, null, [env(1), env(1)]])))).toBe('OUT_OF_RANGE');
    expect(reasonOf(() => decodeBlobResponse(encodeCanonical([0, new Uint8Array(32), null, []])))).toBe('WRONG_TYPE');
    expect(reasonOf(() => decodeBlobResponse(encodeCanonical([0, new Uint8Array(31), new Uint8Array(1), []])))).toBe('OUT_OF_RANGE');
    expect(reasonOf(() => decodeBlobResponse(encodeCanonical([0, new Uint8Array(32), new Uint8Array(MAX_BLOB_CIPHERTEXT_BYTES + 1), []])))).toBe('OVERSIZE');
    expect(reasonOf(() => decodeBlobResponse(encodeCanonical([0, null, null, [[reader(1), new Uint8Array(MAX_ENVELOPE_BYTES + 1)]]])))).toBe('OVERSIZE');
    expect(reasonOf(() => decodeBlobResponse(encodeCanonical([0, null, null, Array.from({ length: MAX_BLOB_ENVELOPES + 1 }, (_, i) => env(i))])))).toBe('OVERSIZE');
    expect(reasonOf(() => decodeBlobResponse(encodeCanonical([1, 'denied', ''])))).toBe('OUT_OF_RANGE');
    expect(reasonOf(() => decodeBlobResponse(encodeCanonical([2])))).toBe('UNKNOWN_TYPE');
    expect(reasonOf(() => decodeBlobResponse(new Uint8Array(MAX_BLOB_RESPONSE_BYTES + 1)))).toBe('OVERSIZE');
  });

  it('refuses custody bodies with another domain tag or unsorted readers', () => {
    const body = (domain: string, readers: Uint8Array[]) => encodeCanonical([domain, 'medchain-test', new Uint8Array(32), 0, BigInt(GENESIS_TIME), reader(0), true, readers, 'peer']);
    const wrap = (signed: Uint8Array) => encodeCanonical([2, signed, new Uint8Array(64)]);
    expect(reasonOf(() => decodeBlobRequest(wrap(body('medchain/envelopes/v1', []))))).toBe('UNKNOWN_TYPE');
    expect(reasonOf(() => decodeBlobRequest(wrap(body('medchain/blob/custody/v1', [reader(2), reader(1)]))))).toBe('OUT_OF_RANGE');
    expect(reasonOf(() => decodeBlobRequest(wrap(body('medchain/blob/custody/v1', []))))).toBe('decoded');
    // The old 8-field body (no requesting peer) is refused.
    const old = encodeCanonical(['medchain/blob/custody/v1', 'medchain-test', new Uint8Array(32), 0, BigInt(GENESIS_TIME), reader(0), true, []]);
    expect(reasonOf(() => decodeBlobRequest(wrap(old)))).toBe('WRONG_ARITY');
  });
});
