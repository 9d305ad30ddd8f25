import { afterEach, describe, expect, it } from 'vitest';
import { EmrClient, type RpcCaller } from '../../../src/client/emrClient.ts';
import { signTransaction } from '../../../src/client/signTransaction.ts';
import { TxType } from '../../../src/types/transaction.ts';
import { fromUtf8, toHex, utf8 } from '../../../src/codec/bytes.ts';
import { secureRandom } from '../../../src/envelope/random.ts';
import { instantiatePolicyTemplate } from '../../../src/script/index.ts';
import { GENESIS_TIME, testKey } from '../../helpers/fixtures.ts';
import { inProcessNode } from '../../helpers/inProcessNode.ts';

const bundle = utf8(JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'AllergyIntolerance', code: { text: 'penicillin' } } }] }));

/** Submits the genesis hospital's attestation of `doctor` (hospital nonce `nonce`). */
async function attest(rpc: RpcCaller, chainId: string, doctor: string, nonce = 0): Promise<void> {
  const h = testKey('hospital');
  const body = { type: TxType.AttestDoctor, doctor: testKey(doctor).publicKey, name: `Dr ${doctor}`, licence: 'L-1', expiresAt: GENESIS_TIME + 1e10 } as const;
  await rpc.call('tx_submit', [toHex(signTransaction({ chainId, sender: h.publicKey, nonce, body }, h.secretKey).bytes)]);
}

/** The in-process node, producing a block every few ms, and an RPC caller that records every request body. */
async function setup() {
  const node = await inProcessNode();
  const sent: string[] = [];
  const rpc: RpcCaller = {
    async call<T>(method: string, params: unknown[]): Promise<T> {
      sent.push(JSON.stringify({ method, params }));
      const answer = await node.call(method, params);
      if (answer.error) throw Object.assign(new Error(answer.error.message), { reason: answer.error.data.reason });
      return answer.result as T;
    },
  };
  let producing = true;
  const loop = (async () => {
    while (producing) {
      if (node.mempool.size > 0) await node.produce();
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
  })();
  const client = (name: string) => new EmrClient(rpc, testKey(name), { chainId: node.chainId, random: secureRandom, pollMs: 5 });
  stop = async () => {
    producing = false;
    await loop;
  };
  return { node, rpc, sent, client };
}

let stop = async (): Promise<void> => {};
afterEach(() => stop());

describe('EmrClient: the patient and doctor side of the flow', () => {
  it('create, share, read, revoke, new version: plaintext only on the devices, never in a request', async () => {
    const { sent, client, rpc, node } = await setup();
    const patient = client('patient');
    const doctor = client('doctor');
    await patient.register('patient');
    await doctor.register('doctor');
    // Doctors act under the default policy while a hospital attests them.
    await attest(rpc, node.chainId, 'doctor');

    const recordId = await patient.createRecord(bundle, 'application/fhir+json');
    await patient.grant(recordId, testKey('doctor').publicKey, ['read'], null);
    const read = await doctor.read(recordId, 0, 'TREAT');
    expect(fromUtf8(read.plaintext)).toBe(fromUtf8(bundle));
    expect(read.receipt.height).toBeGreaterThan(0);

    await patient.revoke(recordId, testKey('doctor').publicKey);
    await expect(doctor.read(recordId, 0, 'TREAT')).rejects.toMatchObject({ reason: 'GRANT_REVOKED' });
    const v1 = await patient.addVersion(recordId, utf8('follow-up: resolved'), 'application/fhir+json');
    expect(v1).toBe(1);
    expect(fromUtf8((await patient.read(recordId, 1, 'PATRQT')).plaintext)).toBe('follow-up: resolved');

    // Nothing the client sent contains the plaintext or a secret key.
    const secrets = [testKey('patient'), testKey('doctor')].flatMap((k) => [toHex(k.seed), toHex(k.secretKey)]);
    for (const body of sent) {
      expect(body).not.toContain('penicillin');
      expect(body).not.toContain('follow-up');
      expect(body).not.toContain(Buffer.from(bundle).toString('base64'));
      for (const secret of secrets) expect(body).not.toContain(secret);
    }
  });

  it('break-glass: an attested doctor reads through the hospital escrow, recorded and flagged in the trail', async () => {
    const { client, rpc, node } = await setup();
    const patient = client('patient');
    const doctor = client('er-doctor');
    await patient.register('patient');
    await doctor.register('doctor');
    await attest(rpc, node.chainId, 'er-doctor');
    const policy = instantiatePolicyTemplate('emergency-access');
    if (!policy.ok) throw new Error(policy.error.message);
    // Without escrow nobody can hand the doctor a key.
    const plain = await patient.createRecord(bundle, 'application/fhir+json', policy.program);
    await expect(doctor.read(plain, 0, 'ETREAT', { reason: 'anaphylaxis in the ED' })).rejects.toMatchObject({ reason: 'ENVELOPE_UNAVAILABLE' });
    // Nothing could be served, so nothing was recorded: no receipt was spent.
    expect((await node.call('audit_trail', ['record', plain])).result.entries.map((e: { action: string }) => e.action)).toEqual(['record.create']);
    // With the key escrowed to the hospital, the hospital's node re-wraps it for this one recorded read.
    const escrowed = await patient.createRecord(bundle, 'application/fhir+json', policy.program, [testKey('hospital').publicKey]);
    const read = await doctor.read(escrowed, 0, 'ETREAT', { reason: 'anaphylaxis in the ED' });
    expect(read.escrowed).toBe(true);
    expect(fromUtf8(read.plaintext)).toBe(fromUtf8(bundle));
    // Not without a stated emergency: an ordinary read by the same doctor is refused (no grant).
    await expect(doctor.read(escrowed, 0, 'TREAT')).rejects.toMatchObject({ reason: 'NO_GRANT' });
    const trail = (await node.call('audit_trail', ['record', escrowed])).result;
    expect(trail.entries.at(-1)).toMatchObject({ action: 'access.read', emergency: true, reason: 'anaphylaxis in the ED', purpose: 'ETREAT', actor: toHex(testKey('er-doctor').publicKey) });
  });
});
