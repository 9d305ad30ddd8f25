import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../src/codec/bytes.ts';
import { verifyMerkleProof } from '../../../src/crypto/merkle.ts';
import { DEFAULT_POLICY } from '../../../src/script/index.ts';
import { TxType } from '../../../src/types/transaction.ts';
import { GENESIS_TIME, testKey, testTx } from '../../helpers/fixtures.ts';
import { inProcessNode } from '../../helpers/inProcessNode.ts';

const hospital = testKey('hospital');
const patient = testKey('patient');
const doctor = testKey('doctor');

const node = inProcessNode;

describe("the node's RPC methods", () => {
  it('submits, includes and proves transactions; refuses bad ones with a named reason', async () => {
    const { call, produce, submit } = await node();
    const register = testTx(patient, 0, { type: TxType.RegisterIdentity, role: 'patient' });
    expect((await submit(register)).result).toEqual({ txId: toHex(register.id), status: 'pending' });
    expect((await call('tx_get', [toHex(register.id)])).result.status).toBe('pending');
    expect((await submit(register)).error).toMatchObject({ code: -32011, data: { reason: 'ALREADY_KNOWN' } });
    const extra = testTx(doctor, 0, { type: TxType.RegisterIdentity, role: 'doctor' });
    await submit(extra);
    const block = await produce();

    const got = (await call('tx_get', [toHex(register.id)])).result;
    expect(got).toMatchObject({ status: 'included', height: 1, blockHash: toHex(block.hash), transaction: { type: 'identity.register', nonce: 0 } });
    const proof = { index: got.proof.index, leafCount: got.proof.leafCount, siblings: got.proof.siblings.map((s: string) => fromHex(s)!) };
    expect(proof.leafCount).toBe(2);
    expect(verifyMerkleProof(register.id, proof, fromHex(got.txRoot)!)).toBe(true);
    expect((await call('tx_get', ['00'.repeat(32)])).result).toEqual({ status: 'unknown' });

    // Replay of an included transaction, a truncated one, a forged signature, a tx for another chain.
    expect((await submit(register)).error).toMatchObject({ code: -32011, data: { reason: 'NONCE_TOO_LOW' } });
    expect((await call('tx_submit', [toHex(register.bytes.subarray(0, 40))])).error).toMatchObject({ code: -32010, data: { reason: 'TRUNCATED' } });
    const forged = register.bytes.slice();
    forged[forged.length - 1]! ^= 1;
    const fresh = testTx(testKey('fresh'), 0, { type: TxType.RegisterIdentity, role: 'patient' });
    const forgedFresh = fresh.bytes.slice();
    forgedFresh[forgedFresh.length - 1]! ^= 1;
    expect((await call('tx_submit', [toHex(forgedFresh)])).error).toMatchObject({ code: -32011, data: { reason: 'BAD_SIGNATURE' } });
    const otherChain = testTx(testKey('fresh'), 0, { type: TxType.RegisterIdentity, role: 'patient' }, 'medchain-other');
    expect((await submit(otherChain)).error).toMatchObject({ code: -32011, data: { reason: 'WRONG_CHAIN' } });
    expect((await call('tx_submit', ['zz'])).error).toMatchObject({ code: -32602, data: { reason: 'INVALID_PARAMS' } });
  });

  it('serves blocks by height and hash, and identities with attestations', async () => {
    const { call, produce, submit } = await node();
    await submit(testTx(doctor, 0, { type: TxType.RegisterIdentity, role: 'doctor' }));
    await produce();
    await submit(testTx(hospital, 0, { type: TxType.AttestDoctor, doctor: doctor.publicKey, name: 'Dr B', licence: 'L-9', expiresAt: GENESIS_TIME + 1e9 }));
    const block = await produce();
    const byHeight = (await call('chain_getBlock', [2, true])).result;
    expect(byHeight.header.hash).toBe(toHex(block.hash));
    expect(byHeight.transactions[0]).toMatchObject({ type: 'identity.attest', payload: { name: 'Dr B', doctor: toHex(doctor.publicKey) } });
    expect((await call('chain_getBlock', [toHex(block.hash)])).result.transactions).toEqual([toHex(block.transactions[0]!.id)]);
    expect((await call('chain_getBlock', [99])).result).toBeNull();
    expect((await call('chain_getHead')).result.height).toBe(2);
    const identity = (await call('identity_get', [toHex(doctor.publicKey)])).result;
    expect(identity).toMatchObject({ role: 'doctor', nonce: 1, attestations: [{ name: 'Dr B', hospitalName: 'General Hospital', valid: true }] });
    expect((await call('identity_get', [toHex(patient.publicKey)])).result).toBeNull();
    expect((await call('node_info')).result).toMatchObject({ chainId: 'medchain-test', engine: 'pos', height: 2, validator: toHex(hospital.publicKey) });
  });

  it('record_get and access_check follow grants made on chain', async () => {
    const { call, produce, submit } = await node();
    await submit(testTx(patient, 0, { type: TxType.RegisterIdentity, role: 'patient' }));
    await submit(testTx(doctor, 0, { type: TxType.RegisterIdentity, role: 'doctor' }));
    await produce();
    const create = testTx(patient, 1, { type: TxType.CreateRecord, commitment: new Uint8Array(32).fill(1), size: 10, contentType: 'application/fhir+json', policy: DEFAULT_POLICY });
    await submit(create);
    await produce();
    const record = toHex(create.id);
    const got = (await call('record_get', [record])).result;
    expect(got).toMatchObject({ owner: toHex(patient.publicKey), versions: [{ version: 0, size: 10, contentType: 'application/fhir+json' }] });
    expect(got.policySource).toContain('granted(requester, action)');

    const check = () => call('access_check', [record, toHex(doctor.publicKey), 'read', 'TREAT']);
    expect((await check()).result).toMatchObject({ decision: 'deny', reason: 'no rule allows read' });
    await submit(testTx(patient, 2, { type: TxType.GrantAccess, record: create.id, grantee: doctor.publicKey, scope: ['read'], expiresAt: null }));
    await produce();
    // Granted but not attested by any hospital: the default policy still refuses.
    expect((await check()).result).toMatchObject({ decision: 'deny', reason: 'no rule allows read' });
    await submit(testTx(hospital, 0, { type: TxType.AttestDoctor, doctor: doctor.publicKey, name: 'Dr B', licence: 'L-9', expiresAt: GENESIS_TIME + 1e12 }));
    await produce();
    expect((await check()).result).toMatchObject({ decision: 'allow', rule: 2 });
    expect((await call('access_check', [record, toHex(doctor.publicKey), 'write'])).result.decision).toBe('deny');
    expect((await call('access_check', ['11'.repeat(32), toHex(doctor.publicKey), 'read'])).error).toMatchObject({ code: -32020, data: { reason: 'NO_SUCH_RECORD' } });
    expect((await call('access_check', [record, toHex(doctor.publicKey), 'erase'])).error).toMatchObject({ code: -32602 });
    expect((await call('record_get', ['11'.repeat(32)])).result).toBeNull();
    // A doctor's write is refused at submission, with the policy's reason.
    const write = testTx(doctor, 1, { type: TxType.AddRecordVersion, record: create.id, commitment: new Uint8Array(32), size: 1, contentType: 'text/plain' });
    expect((await submit(write)).error).toMatchObject({ code: -32011, data: { reason: 'SCOPE_NOT_GRANTED' } });
  });
});
