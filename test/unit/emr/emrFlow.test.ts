import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8, fromUtf8 } from '../../../src/codec/bytes.ts';
import { encodeEnvelopeUpload } from '../../../src/codec/envelopeUpload.ts';
import { sign, type KeyPair } from '../../../src/crypto/ed25519.ts';
import { verifyMerkleProof } from '../../../src/crypto/merkle.ts';
import {
  commitCiphertext,
  decryptRecord,
  encryptRecord,
  newCommitmentSalt,
  recordAssociatedData,
  unwrapDataKey,
  wrapDataKey,
} from '../../../src/envelope/index.ts';
import { secureRandom } from '../../../src/envelope/random.ts';
import { DEFAULT_POLICY } from '../../../src/script/index.ts';
import { TxType, type TxBody } from '../../../src/types/transaction.ts';
import { GENESIS_TIME, testKey, testTx } from '../../helpers/fixtures.ts';
import { inProcessNode } from '../../helpers/inProcessNode.ts';

const hospital = testKey('hospital');
const patient = testKey('patient');
const doctor = testKey('doctor');
const stranger = testKey('stranger-doctor');
const bundle = JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Condition', code: { text: 'asthma' } } }] });

/**
 * A patient, two doctors (`doctor` attested by the genesis hospital, as the default policy requires of granted
 * doctors; `stranger` not) and helpers that play the client's side of the EMR flow against the node's RPC.
 */
async function world() {
  const node = await inProcessNode();
  const nonces = new Map<KeyPair, number>();
  const send = async (key: KeyPair, body: TxBody) => {
    const nonce = nonces.get(key) ?? 0;
    const tx = testTx(key, nonce, body);
    const answer = await node.submit(tx);
    if (answer.error) throw new Error(`${answer.error.data.reason}: ${answer.error.message}`);
    nonces.set(key, nonce + 1);
    return tx;
  };
  const nextNonce = (key: KeyPair) => nonces.get(key) ?? 0;
  for (const [key, role] of [[patient, 'patient'], [doctor, 'doctor'], [stranger, 'doctor']] as const) await send(key, { type: TxType.RegisterIdentity, role });
  await node.produce();
  await send(hospital, { type: TxType.AttestDoctor, doctor: doctor.publicKey, name: 'Dr A', licence: 'L1', expiresAt: GENESIS_TIME + 10 * 365 * 86_400_000 });
  await node.produce();

  /** Encrypts, commits on chain, uploads the ciphertext, and shares envelopes with `readers` (the owner always). */
  const addVersion = async (record: Uint8Array | null, version: number, text: string, readers: KeyPair[]) => {
    const ad = recordAssociatedData(node.chainId, record, version);
    const { ciphertext, dataKey } = encryptRecord(utf8(text), { random: secureRandom, associatedData: ad });
    const salt = newCommitmentSalt(secureRandom);
    const commitment = commitCiphertext(ciphertext, salt);
    const tx =
      record === null
        ? await send(patient, { type: TxType.CreateRecord, commitment, size: ciphertext.length, contentType: 'application/fhir+json', policy: DEFAULT_POLICY })
        : await send(patient, { type: TxType.AddRecordVersion, record, commitment, size: ciphertext.length, contentType: 'application/fhir+json' });
    await node.produce();
    const id = record ?? tx.id;
    const upload = await node.call('record_upload', [toHex(id), version, toHex(salt), Buffer.from(ciphertext).toString('base64')]);
    expect(upload.error).toBeUndefined();
    const envelopeAd = recordAssociatedData(node.chainId, id, version);
    const request = encodeEnvelopeUpload({
      chainId: node.chainId,
      record: id,
      version,
      uploader: patient.publicKey,
      envelopes: [patient, ...readers].map((r) => ({ reader: r.publicKey, envelope: wrapDataKey(dataKey, r.publicKey, { random: secureRandom, associatedData: envelopeAd }) })),
    });
    const stored = await node.call('record_uploadEnvelopes', [toHex(request), toHex(sign(request, patient.secretKey))]);
    expect(stored.result).toEqual({ envelopes: readers.length + 1 });
    return { id, ciphertext, salt };
  };

  /** A read as a doctor's client does it: sign the request, wait for the receipt (a block), decrypt. */
  const read = async (reader: KeyPair, record: Uint8Array, version: number, purpose = 'TREAT', emergency = false, reason = '') => {
    const tx = testTx(reader, nextNonce(reader), { type: TxType.ReadRecord, record, version, purpose, emergency, reason });
    let settled = false;
    const pending = node.call('emr_read', [toHex(tx.bytes)]).finally(() => (settled = true));
    // The node answers once the receipt is on chain: give it a block as soon as the request is accepted.
    for (let i = 0; i < 500 && !settled && !node.mempool.has(tx.id); i++) await new Promise((resolve) => setTimeout(resolve, 2));
    if (node.mempool.has(tx.id)) {
      nonces.set(reader, nextNonce(reader) + 1);
      await node.produce();
    }
    const answer = await pending;
    if (answer.error) return { error: answer.error };
    const ad = recordAssociatedData(node.chainId, version === 0 ? null : record, version);
    const dataKey = unwrapDataKey(fromHex(answer.result.envelope)!, reader.seed, recordAssociatedData(node.chainId, record, version));
    const plaintext = fromUtf8(decryptRecord(new Uint8Array(Buffer.from(answer.result.ciphertext, 'base64')), dataKey, ad));
    return { plaintext, result: answer.result, dataKey };
  };
  return { node, send, addVersion, read };
}

describe('EMR lifecycle through the RPC table', () => {
  it('patient shares a record; the doctor reads exactly the plaintext; the read is on chain with its purpose and proof', async () => {
    const { node, send, addVersion, read } = await world();
    const { id } = await addVersion(null, 0, bundle, [doctor]);
    await send(patient, { type: TxType.GrantAccess, record: id, grantee: doctor.publicKey, scope: ['read'], expiresAt: GENESIS_TIME + 3_600_000 });
    await node.produce();

    const got = await read(doctor, id, 0, 'TREAT');
    expect(got.error).toBeUndefined();
    expect(got.plaintext).toBe(bundle);

    const trail = (await node.call('audit_trail', ['record', toHex(id)])).result;
    expect(trail.entries.map((e: { action: string }) => e.action)).toEqual(['record.create', 'access.grant', 'access.read']);
    const receipt = trail.entries[2];
    expect(receipt).toMatchObject({ actor: toHex(doctor.publicKey), purpose: 'TREAT', emergency: false, version: 0, height: got.result.height });
    const proof = { ...receipt.proof, siblings: receipt.proof.siblings.map((s: string) => fromHex(s)!) };
    expect(verifyMerkleProof(fromHex(receipt.txId)!, proof, fromHex(receipt.txRoot)!)).toBe(true);

    expect((await node.call('access_list', [toHex(id)])).result).toMatchObject([{ grantee: toHex(doctor.publicKey), scope: ['read'], active: true }]);
    expect((await node.call('record_list', [toHex(doctor.publicKey), 'grantee'])).result).toMatchObject([{ id: toHex(id), grant: { active: true } }]);
    expect((await node.call('record_list', [toHex(patient.publicKey)])).result).toMatchObject([{ id: toHex(id), versionCount: 1, erasedAt: null }]);
    const fhir = (await node.call('audit_fhir', [toHex(patient.publicKey)])).result;
    expect(fhir.entry.map((e: { resource: { resourceType: string } }) => e.resource.resourceType)).toEqual(['Consent', 'AuditEvent', 'AuditEvent', 'AuditEvent']);
  });

  it('refuses an ungranted doctor, logs the attempt on this node, and serves nothing', async () => {
    const { node, addVersion, read } = await world();
    const { id } = await addVersion(null, 0, bundle, []);
    const got = await read(stranger, id, 0);
    expect(got.error).toMatchObject({ code: -32011, data: { reason: 'NO_GRANT' } });
    expect(got.plaintext).toBeUndefined();
    const trail = (await node.call('audit_trail', ['patient', toHex(patient.publicKey)])).result;
    expect(trail.entries.map((e: { action: string }) => e.action)).toEqual(['record.create']);
    expect(trail.deniedReads).toMatchObject([{ requester: toHex(stranger.publicKey), code: 'NO_GRANT', purpose: 'TREAT' }]);
  });

  it('after revoke and a new version, the revoked doctor cannot decrypt the new version with anything the node ever sent', async () => {
    const { node, send, addVersion, read } = await world();
    const { id } = await addVersion(null, 0, bundle, [doctor]);
    await send(patient, { type: TxType.GrantAccess, record: id, grantee: doctor.publicKey, scope: ['read'], expiresAt: null });
    await node.produce();
    const first = await read(doctor, id, 0);
    expect(first.plaintext).toBe(bundle);
    await send(patient, { type: TxType.RevokeAccess, record: id, grantee: doctor.publicKey });
    await node.produce();
    expect((await read(doctor, id, 0)).error).toMatchObject({ data: { reason: 'GRANT_REVOKED' } });
    const v1 = await addVersion(id, 1, 'a new diagnosis', []);
    expect((await read(doctor, id, 1)).error).toMatchObject({ data: { reason: 'GRANT_REVOKED' } });
    // Holding the old data key and the new ciphertext is not enough: each version has its own key.
    expect(() => decryptRecord(v1.ciphertext, first.dataKey!, recordAssociatedData(node.chainId, id, 1))).toThrow();
    expect((await read(patient, id, 1, 'PATRQT')).plaintext).toBe('a new diagnosis');
  });

  it('refuses uploads that do not match the chain, and erasure deletes the data everywhere on this node', async () => {
    const { node, send, addVersion, read } = await world();
    const { id, ciphertext, salt } = await addVersion(null, 0, bundle, [doctor]);
    const tampered = ciphertext.slice();
    tampered[10]! ^= 1;
    const upload = (ct: Uint8Array, s = salt, version = 0) => node.call('record_upload', [toHex(id), version, toHex(s), Buffer.from(ct).toString('base64')]);
    expect((await upload(tampered)).error).toMatchObject({ data: { reason: 'COMMITMENT_MISMATCH' } });
    expect((await upload(ciphertext.subarray(1))).error).toMatchObject({ data: { reason: 'SIZE_MISMATCH' } });
    expect((await upload(ciphertext, salt, 5)).error).toMatchObject({ data: { reason: 'NO_SUCH_VERSION' } });
    // An envelope upload by someone who is neither owner nor author, and one with a forged signature.
    const request = encodeEnvelopeUpload({ chainId: node.chainId, record: id, version: 0, uploader: stranger.publicKey, envelopes: [] });
    expect((await node.call('record_uploadEnvelopes', [toHex(request), toHex(sign(request, stranger.secretKey))])).error).toMatchObject({ data: { reason: 'NOT_OWNER_OR_AUTHOR' } });
    expect((await node.call('record_uploadEnvelopes', [toHex(request), toHex(sign(request, patient.secretKey))])).error).toMatchObject({ data: { reason: 'BAD_SIGNATURE' } });

    await send(patient, { type: TxType.GrantAccess, record: id, grantee: doctor.publicKey, scope: ['read'], expiresAt: null });
    await send(patient, { type: TxType.EraseRecord, record: id });
    await node.produce();
    expect(await node.store.getBlob(new Uint8Array([...id, 0, 0, 0, 0, 0]))).toBeUndefined();
    let blobs = 0;
    for await (const _ of node.store.readBlobs(id)) blobs++;
    expect(blobs).toBe(0);
    expect((await read(doctor, id, 0)).error).toMatchObject({ data: { reason: 'RECORD_ERASED' } });
    expect((await upload(ciphertext)).error).toMatchObject({ data: { reason: 'RECORD_ERASED' } });
    expect((await node.call('record_get', [toHex(id)])).result).toMatchObject({ id: toHex(id) });
    const actions = (await node.call('audit_trail', ['record', toHex(id)])).result.entries.map((e: { action: string }) => e.action);
    expect(actions).toEqual(['record.create', 'access.grant', 'record.erase']);
  });
});
