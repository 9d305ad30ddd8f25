import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoKeys } from '../../src/cli/commands/dev.ts';
import { EmrClient } from '../../src/client/emrClient.ts';
import { MedchainRpc, RpcClientError } from '../../src/client/rpcClient.ts';
import { fromHex, toHex, utf8 } from '../../src/codec/bytes.ts';
import { keyPairFromSeed, type KeyPair } from '../../src/crypto/ed25519.ts';
import { sha256 } from '../../src/crypto/hash.ts';
import { decryptRecord, recordAssociatedData, unwrapDataKey } from '../../src/envelope/index.ts';
import { secureRandom } from '../../src/envelope/random.ts';
import { type DevNode, rpc, startDevNode } from '../helpers/process.ts';

const key = (name: string): KeyPair => keyPairFromSeed(sha256(utf8(`emr-privacy/${name}`)));
const SECRET_DIAGNOSIS = 'Diagnosis: early-onset Huntington disease';

/** Every request body a client sends and every response it receives, over real HTTP. */
function recordingFetch(sent: string[], received: string[]): typeof fetch {
  return async (input, init) => {
    sent.push(String(init?.body ?? ''));
    const response = await fetch(input, init);
    const text = await response.text();
    received.push(text);
    return new Response(text, { status: response.status, headers: response.headers });
  };
}

describe('privacy against a real node: no plaintext or key leaves a device; revocation holds for new versions', () => {
  let dev: DevNode;
  let url = '';

  beforeAll(async () => {
    dev = await startDevNode('privacy');
    ({ url } = dev);
  }, 60_000);

  afterAll(() => dev.stop());

  it('the revoked doctor cannot read a new version even with every byte the node ever sent them', async () => {
    const patientSent: string[] = [];
    const patientReceived: string[] = [];
    const doctorSent: string[] = [];
    const doctorReceived: string[] = [];
    const connect = (sent: string[], received: string[]) => new MedchainRpc({ url, fetch: recordingFetch(sent, received) });
    const { chainId } = await new MedchainRpc({ url }).nodeInfo();
    const patientKey = key('patient');
    const doctorKey = key('doctor');
    const patient = new EmrClient(connect(patientSent, patientReceived), patientKey, { chainId, random: secureRandom, pollMs: 100 });
    const doctor = new EmrClient(connect(doctorSent, doctorReceived), doctorKey, { chainId, random: secureRandom, pollMs: 100 });
    const hospital = new EmrClient(new MedchainRpc({ url }), demoKeys().hospital, { chainId, random: secureRandom, pollMs: 100 });

    await Promise.all([patient.register('patient'), doctor.register('doctor')]);
    await hospital.attest(doctorKey.publicKey, 'Dr Privacy', 'L-7', Date.now() + 86_400_000);
    const recordId = await patient.createRecord(utf8(SECRET_DIAGNOSIS), 'text/plain');
    await patient.grant(recordId, doctorKey.publicKey, ['read'], null);
    const first = await doctor.read(recordId, 0, 'TREAT');
    expect(new TextDecoder().decode(first.plaintext)).toBe(SECRET_DIAGNOSIS);

    await patient.revoke(recordId, doctorKey.publicKey);
    await patient.addVersion(recordId, utf8(`${SECRET_DIAGNOSIS}; confirmed by genetic test`), 'text/plain');
    await expect(doctor.read(recordId, 1, 'TREAT')).rejects.toSatisfy((e: unknown) => e instanceof RpcClientError && e.reason === 'GRANT_REVOKED');

    // Everything the node ever sent the doctor: the envelopes in it open only version 0's key...
    const envelopes = doctorReceived.flatMap((text) => [...text.matchAll(/"envelope":"([0-9a-f]+)"/g)].map((m) => m[1]!));
    const keys = envelopes.map((hex) => unwrapDataKey(fromHex(hex)!, doctorKey.seed, recordAssociatedData(chainId, fromHex(recordId)!, 0)));
    expect(keys.length).toBeGreaterThan(0);
    // ...and version 1's ciphertext (read here by its owner, as if it had leaked) opens with none of them.
    const ownerRead = await patient.read(recordId, 1, 'PATRQT');
    expect(new TextDecoder().decode(ownerRead.plaintext)).toContain('genetic test');
    const leaked = lastCiphertext(patientReceived)!;
    for (const dataKey of keys) expect(() => decryptRecord(leaked, dataKey, recordAssociatedData(chainId, fromHex(recordId)!, 1))).toThrow();

    // No request from either device carried the plaintext, in any encoding, or a secret key.
    const forbidden = [SECRET_DIAGNOSIS, Buffer.from(SECRET_DIAGNOSIS).toString('base64').slice(0, 24), toHex(utf8(SECRET_DIAGNOSIS)).slice(0, 48)];
    for (const k of [patientKey, doctorKey]) forbidden.push(toHex(k.seed), toHex(k.secretKey));
    for (const body of [...patientSent, ...doctorSent]) for (const secret of forbidden) expect(body).not.toContain(secret);
    expect(patientSent.length + doctorSent.length).toBeGreaterThan(20);
  }, 120_000);

  it('refuses uploads that do not match the chain, oversize ones and malformed envelopes, over HTTP', async () => {
    const nothing = '00'.repeat(32);
    expect((await rpc(url, 'record_upload', [nothing, 0, nothing, 'AAAA'])).error?.data?.reason).toBe('RECORD_NOT_FOUND');
    const oversize = Buffer.alloc(3 * 1024 * 1024 + 1).toString('base64');
    expect((await rpc(url, 'record_upload', [nothing, 0, nothing, oversize])).error?.data?.reason).toBe('TOO_LARGE');
    expect((await rpc(url, 'record_uploadEnvelopes', ['c0', '00'.repeat(64)])).error?.data?.reason).toBe('BAD_REQUEST');
  });
});

/** The ciphertext in the last read response among `received`. */
function lastCiphertext(received: readonly string[]): Uint8Array | undefined {
  for (let i = received.length - 1; i >= 0; i--) {
    const match = /"ciphertext":"([A-Za-z0-9+/=]+)"/.exec(received[i]!);
    if (match) return new Uint8Array(Buffer.from(match[1]!, 'base64'));
  }
  return undefined;
}
