import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../../src/codec/bytes.ts';
import { decodeTransaction } from '../../../src/codec/transaction.ts';
import { encodeEnvelopeUpload } from '../../../src/codec/envelopeUpload.ts';
import { sign, type KeyPair } from '../../../src/crypto/ed25519.ts';
import { commitCiphertext, encryptRecord, newCommitmentSalt, recordAssociatedData, wrapDataKey } from '../../../src/envelope/index.ts';
import { secureRandom } from '../../../src/envelope/random.ts';
import { DEFAULT_POLICY } from '../../../src/script/index.ts';
import { TxType, type Transaction, type TxBody } from '../../../src/types/transaction.ts';
import { testKey, testTx } from '../../helpers/fixtures.ts';
import { inProcessNode } from '../../helpers/inProcessNode.ts';

const hospital = testKey('hospital');
const patient = testKey('patient');
const doctors = ['ungranted', 'expired', 'revoked', 'unattested', 'reader'].map((n) => [n, testKey(`doctor-${n}`)] as const);
const doctor = Object.fromEntries(doctors) as Record<string, KeyPair>;

describe('emr_read refusals: each case has its own reason, and none gets ciphertext', () => {
  it('ungranted, expired grant, revoked grant, revoked attestation, forged, replayed, erased', async () => {
    const node = await inProcessNode();
    const nonces = new Map<KeyPair, number>();
    const sign_ = (key: KeyPair, body: TxBody): Transaction => {
      const nonce = nonces.get(key) ?? 0;
      nonces.set(key, nonce + 1);
      return testTx(key, nonce, body);
    };
    const send = async (key: KeyPair, body: TxBody) => {
      const answer = await node.submit(sign_(key, body));
      if (answer.error) throw new Error(`${answer.error.data.reason}: ${answer.error.message}`);
    };
    await send(patient, { type: TxType.RegisterIdentity, role: 'patient' });
    for (const [, key] of doctors) await send(key, { type: TxType.RegisterIdentity, role: 'doctor' });
    await node.produce();
    for (const [name, key] of doctors) {
      await send(hospital, { type: TxType.AttestDoctor, doctor: key.publicKey, name: `Dr ${name}`, licence: name, expiresAt: node.now.t + 1e10 });
    }
    await node.produce();

    const ad0 = recordAssociatedData(node.chainId, null, 0);
    const { ciphertext, dataKey } = encryptRecord(utf8('{"resourceType":"Bundle"}'), { random: secureRandom, associatedData: ad0 });
    const salt = newCommitmentSalt(secureRandom);
    const create = sign_(patient, { type: TxType.CreateRecord, commitment: commitCiphertext(ciphertext, salt), size: ciphertext.length, contentType: 'application/fhir+json', policy: DEFAULT_POLICY });
    await node.submit(create);
    await node.produce();
    const record = create.id;
    await node.call('record_upload', [toHex(record), 0, toHex(salt), Buffer.from(ciphertext).toString('base64')]);
    const envelopes = encodeEnvelopeUpload({
      chainId: node.chainId,
      record,
      version: 0,
      uploader: patient.publicKey,
      envelopes: doctors.map(([, key]) => ({ reader: key.publicKey, envelope: wrapDataKey(dataKey, key.publicKey, { random: secureRandom, associatedData: recordAssociatedData(node.chainId, record, 0) }) })),
    });
    expect((await node.call('record_uploadEnvelopes', [toHex(envelopes), toHex(sign(envelopes, patient.secretKey))])).error).toBeUndefined();

    const grant = (key: KeyPair, expiresAt: number | null) => send(patient, { type: TxType.GrantAccess, record, grantee: key.publicKey, scope: ['read'], expiresAt });
    await grant(doctor.expired!, node.now.t + 2000);
    await grant(doctor.revoked!, null);
    await grant(doctor.unattested!, null);
    await grant(doctor.reader!, null);
    await node.produce();
    await send(patient, { type: TxType.RevokeAccess, record, grantee: doctor.revoked!.publicKey });
    await send(hospital, { type: TxType.RevokeAttestation, doctor: doctor.unattested!.publicKey, reason: 'licence suspended' });
    // Block time moves past the short grant's expiry.
    node.now.t += 5000;
    await node.produce();

    /** Sends a read request and, if the node accepts it, a block; returns the refusal reason or 'served'. */
    const attempt = async (tx: Transaction | Uint8Array): Promise<string> => {
      const bytes = tx instanceof Uint8Array ? tx : tx.bytes;
      let settled = false;
      const pending = node.call('emr_read', [toHex(bytes)]).finally(() => (settled = true));
      for (let i = 0; i < 500 && !settled && node.mempool.size === 0; i++) await new Promise((resolve) => setTimeout(resolve, 2));
      if (node.mempool.size > 0) await node.produce();
      const answer = await pending;
      if (answer.error) {
        expect(JSON.stringify(answer.error)).not.toContain(Buffer.from(ciphertext).toString('base64').slice(0, 40));
        return answer.error.data.reason;
      }
      return 'served';
    };
    const readBody = { type: TxType.ReadRecord, record, version: 0, purpose: 'TREAT', emergency: false, reason: '' } as const;
    const read = (key: KeyPair) => sign_(key, readBody);

    const reasons: Record<string, string> = {};
    reasons.ungranted = await attempt(read(doctor.ungranted!));
    reasons.expired = await attempt(read(doctor.expired!));
    reasons.revoked = await attempt(read(doctor.revoked!));
    reasons.unattested = await attempt(read(doctor.unattested!));
    const forged = read(doctor.reader!).bytes.slice();
    forged[forged.length - 1]! ^= 1;
    reasons.forged = await attempt(forged);
    // A forged request names an innocent key: it is refused but never logged against that key.
    const loggedBefore = (await node.call('audit_trail', ['record', toHex(record)])).result.deniedReads.map((d: { requester: string }) => d.requester);
    expect(loggedBefore).not.toContain(toHex(doctor.reader!.publicKey));
    expect(loggedBefore).toContain(toHex(doctor.ungranted!.publicKey));
    const genuine = testTx(doctor.reader!, nonces.get(doctor.reader!)! - 1, readBody);
    expect(await attempt(genuine)).toBe('served');
    reasons.replayed = await attempt(genuine.bytes);
    await send(patient, { type: TxType.EraseRecord, record });
    await node.produce();
    reasons.erased = await attempt(read(doctor.reader!));

    expect(reasons).toEqual({
      ungranted: 'NO_GRANT',
      expired: 'GRANT_EXPIRED',
      revoked: 'GRANT_REVOKED',
      unattested: 'ATTESTATION_REVOKED',
      forged: 'BAD_SIGNATURE',
      replayed: 'NONCE_TOO_LOW',
      erased: 'RECORD_ERASED',
    });
    expect(new Set(Object.values(reasons)).size).toBe(7);
    // The refused attempts before erasure are on this node's log, with their reasons; the served read is on chain.
    expect(decodeTransaction(genuine.bytes).id).toEqual(genuine.id);
  });
});
