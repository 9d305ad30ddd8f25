import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../../src/codec/bytes.ts';
import { encodeEnvelopeUpload } from '../../../src/codec/envelopeUpload.ts';
import { sign } from '../../../src/crypto/ed25519.ts';
import { commitCiphertext, encryptRecord, newCommitmentSalt, recordAssociatedData, wrapDataKey } from '../../../src/envelope/index.ts';
import { secureRandom } from '../../../src/envelope/random.ts';
import { MAX_CIPHERTEXT_BYTES } from '../../../src/emr/recordService.ts';
import { DEFAULT_POLICY } from '../../../src/script/index.ts';
import { TxType } from '../../../src/types/transaction.ts';
import { testKey, testTx } from '../../helpers/fixtures.ts';
import { inProcessNode } from '../../helpers/inProcessNode.ts';

const patient = testKey('patient');

/** Snapshot of everything in the node's blob store, to show a refusal changed nothing. */
async function blobs(node: Awaited<ReturnType<typeof inProcessNode>>): Promise<string[]> {
  const out: string[] = [];
  for await (const { key, value } of node.store.readBlobs(new Uint8Array(0))) out.push(`${toHex(key)}=${toHex(value)}`);
  return out;
}

describe('uploads the node refuses, changing nothing', () => {
  it('refuses oversize ciphertexts, malformed envelopes and bad upload requests', async () => {
    const node = await inProcessNode();
    await node.submit(testTx(patient, 0, { type: TxType.RegisterIdentity, role: 'patient' }));
    await node.produce();
    const { ciphertext, dataKey } = encryptRecord(utf8('{"resourceType":"Bundle"}'), { random: secureRandom, associatedData: recordAssociatedData(node.chainId, null, 0) });
    const salt = newCommitmentSalt(secureRandom);
    const create = testTx(patient, 1, { type: TxType.CreateRecord, commitment: commitCiphertext(ciphertext, salt), size: ciphertext.length, contentType: 'application/fhir+json', policy: DEFAULT_POLICY });
    await node.submit(create);
    await node.produce();
    const id = create.id;
    expect((await node.call('record_upload', [toHex(id), 0, toHex(salt), Buffer.from(ciphertext).toString('base64')])).result).toEqual({ bytes: ciphertext.length });
    const before = await blobs(node);

    const oversize = new Uint8Array(MAX_CIPHERTEXT_BYTES + 1);
    expect((await node.call('record_upload', [toHex(id), 0, toHex(salt), Buffer.from(oversize).toString('base64')])).error).toMatchObject({ code: -32011, data: { reason: 'TOO_LARGE' } });
    expect((await node.call('record_upload', [toHex(id), 0, '00', Buffer.from(ciphertext).toString('base64')])).error).toMatchObject({ code: -32602 });

    const ad = recordAssociatedData(node.chainId, id, 0);
    const good = wrapDataKey(dataKey, patient.publicKey, { random: secureRandom, associatedData: ad });
    const envelopeUpload = (envelope: Uint8Array) => {
      const request = encodeEnvelopeUpload({ chainId: node.chainId, record: id, version: 0, uploader: patient.publicKey, envelopes: [{ reader: patient.publicKey, envelope }] });
      return node.call('record_uploadEnvelopes', [toHex(request), toHex(sign(request, patient.secretKey))]);
    };
    expect((await envelopeUpload(good.subarray(0, 81))).error).toMatchObject({ data: { reason: 'MALFORMED_ENVELOPE' } });
    const wrongKind = good.slice();
    wrongKind[0] = 0x52;
    expect((await envelopeUpload(wrongKind)).error).toMatchObject({ data: { reason: 'MALFORMED_ENVELOPE' } });
    // Not a canonical upload at all, and one for another chain.
    expect((await node.call('record_uploadEnvelopes', ['c0', toHex(new Uint8Array(64))])).error).toMatchObject({ data: { reason: 'BAD_REQUEST' } });
    const otherChain = encodeEnvelopeUpload({ chainId: 'medchain-other', record: id, version: 0, uploader: patient.publicKey, envelopes: [] });
    expect((await node.call('record_uploadEnvelopes', [toHex(otherChain), toHex(sign(otherChain, patient.secretKey))])).error).toMatchObject({ data: { reason: 'WRONG_CHAIN' } });
    expect(await blobs(node)).toEqual(before);
    expect((await envelopeUpload(good)).result).toEqual({ envelopes: 1 });
  });
});
