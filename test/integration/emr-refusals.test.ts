import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoKeys } from '../../src/cli/commands/dev.ts';
import { EmrClient } from '../../src/client/emrClient.ts';
import { MedchainRpc, RpcClientError } from '../../src/client/rpcClient.ts';
import { signTransaction } from '../../src/client/signTransaction.ts';
import { toHex, utf8 } from '../../src/codec/bytes.ts';
import { keyPairFromSeed, type KeyPair } from '../../src/crypto/ed25519.ts';
import { sha256 } from '../../src/crypto/hash.ts';
import { secureRandom } from '../../src/envelope/random.ts';
import { TxType } from '../../src/types/transaction.ts';
import { type DevNode, rpc, rpcResult, startDevNode, waitFor } from '../helpers/process.ts';

const bundle = utf8(JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [] }));
const key = (name: string): KeyPair => keyPairFromSeed(sha256(utf8(`emr-refusals/${name}`)));
const DOCTORS = ['ungranted', 'expired', 'revoked', 'unattested', 'reader'] as const;

/**
 * Issue 4's refusals against a real node process (PoS, LevelDB, HTTP JSON-RPC): each has its own reason,
 * none gets ciphertext, refused attempts land in the node's audit log, and the node keeps producing.
 */
describe('read refusals against a real node', () => {
  let dev: DevNode;
  let url = '';

  beforeAll(async () => {
    dev = await startDevNode('refusals');
    ({ url } = dev);
  }, 60_000);

  afterAll(() => dev.stop());

  it('ungranted, expired, revoked grant, revoked attestation, forged, replayed, erased: seven reasons', async () => {
    const transport = new MedchainRpc({ url });
    const { chainId } = await transport.nodeInfo();
    const client = (k: KeyPair) => new EmrClient(transport, k, { chainId, random: secureRandom, pollMs: 100 });
    const hospital = client(demoKeys().hospital);
    const patient = client(key('patient'));
    const doctor = Object.fromEntries(DOCTORS.map((d) => [d, client(key(d))])) as Record<(typeof DOCTORS)[number], EmrClient>;

    await Promise.all([patient.register('patient'), ...DOCTORS.map((d) => doctor[d].register('doctor'))]);
    for (const d of DOCTORS) await hospital.attest(key(d).publicKey, `Dr ${d}`, `L-${d}`, Date.now() + 86_400_000);
    const recordId = await patient.createRecord(bundle, 'application/fhir+json');
    const expiresAt = Date.now() + 3000;
    await patient.grant(recordId, key('expired').publicKey, ['read'], expiresAt);
    for (const d of ['revoked', 'unattested', 'reader'] as const) await patient.grant(recordId, key(d).publicKey, ['read'], null);
    await patient.revoke(recordId, key('revoked').publicKey);
    await hospital.revokeAttestation(key('unattested').publicKey, 'licence suspended');
    // Block time must pass the short grant's expiry.
    await waitFor('a block after the expiry', async () => ((await transport.getHead()).time > expiresAt + 500 ? true : undefined), 20_000, 200);

    const reasonOf = async (attempt: Promise<unknown>): Promise<string> => {
      try {
        await attempt;
        return 'served';
      } catch (error) {
        if (error instanceof RpcClientError) return error.reason;
        throw error;
      }
    };
    const reasons: Record<string, string> = {};
    for (const d of ['ungranted', 'expired', 'revoked', 'unattested'] as const) reasons[d] = await reasonOf(doctor[d].read(recordId, 0, 'TREAT'));

    // A forged request (one bit of the signature flipped) and a replay of a served one, sent raw.
    const reader = key('reader');
    const { nonce } = (await rpcResult<{ nonce: number }>(url, 'identity_get', [toHex(reader.publicKey)]));
    const request = signTransaction(
      { chainId, sender: reader.publicKey, nonce, body: { type: TxType.ReadRecord, record: Buffer.from(recordId, 'hex'), version: 0, purpose: 'TREAT', emergency: false, reason: '' } },
      reader.secretKey,
    );
    const forged = request.bytes.slice();
    forged[forged.length - 1]! ^= 1;
    reasons.forged = (await rpc(url, 'emr_read', [toHex(forged)])).error?.data?.reason ?? 'served';
    const served = await rpc(url, 'emr_read', [toHex(request.bytes)]);
    expect(served.error, JSON.stringify(served.error)).toBeUndefined();
    reasons.replayed = (await rpc(url, 'emr_read', [toHex(request.bytes)])).error?.data?.reason ?? 'served';

    await patient.erase(recordId);
    reasons.erased = await reasonOf(doctor.reader.read(recordId, 0, 'TREAT'));

    expect(reasons).toEqual({
      ungranted: 'NO_GRANT',
      expired: 'GRANT_EXPIRED',
      revoked: 'GRANT_REVOKED',
      unattested: 'ATTESTATION_REVOKED',
      forged: 'BAD_SIGNATURE',
      replayed: 'NONCE_TOO_LOW',
      erased: 'RECORD_ERASED',
    });

    // The refused policy decisions are in the node's log of refused reads; the served read is on chain.
    const trail = await rpcResult<{ entries: { action: string; actor: string; purpose?: string }[]; deniedReads: { requester: string; code: string }[] }>(url, 'audit_trail', [
      'record',
      recordId,
    ]);
    const denied = Object.fromEntries(trail.deniedReads.map((d) => [d.requester, d.code]));
    expect(denied).toMatchObject({
      [toHex(key('ungranted').publicKey)]: 'NO_GRANT',
      [toHex(key('expired').publicKey)]: 'GRANT_EXPIRED',
      [toHex(key('revoked').publicKey)]: 'GRANT_REVOKED',
      [toHex(key('unattested').publicKey)]: 'ATTESTATION_REVOKED',
    });
    const reads = trail.entries.filter((e) => e.action === 'access.read');
    expect(reads.filter((e) => e.actor !== patient.account).map((e) => e.actor)).toEqual([toHex(reader.publicKey)]);
    // The patient's own key unwraps (one per grant, to wrap the key for the grantee) are receipts too.
    expect(reads.filter((e) => e.actor === patient.account).map((e) => e.purpose)).toEqual(['PATADMIN', 'PATADMIN', 'PATADMIN', 'PATADMIN']);
    const info = await transport.nodeInfo();
    expect(info.deniedReads).toBeGreaterThanOrEqual(4);
    const height = info.height;
    await waitFor('the node to keep producing', async () => ((await transport.nodeInfo()).height > height ? true : undefined));
  }, 120_000);
});
