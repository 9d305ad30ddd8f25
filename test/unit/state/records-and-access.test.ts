import { describe, expect, it } from 'vitest';
import { toHex } from '../../../src/codec/bytes.ts';
import { compilePolicy, DEFAULT_POLICY, instantiatePolicyTemplate } from '../../../src/script/index.ts';
import { CURRENT_POLICY_FLAGS } from '../../../src/script/flags.ts';
import { getGrant, getRecord, getRecordVersion } from '../../../src/state/accessors.ts';
import { applyTx, type BlockContext } from '../../../src/state/applyTx.ts';
import { TxError } from '../../../src/state/errors.ts';
import { buildGenesis } from '../../../src/state/genesis.ts';
import { MemoryState, StateOverlay } from '../../../src/state/overlay.ts';
import { decideAccess } from '../../../src/state/policyContext.ts';
import { TxType, type TxBody } from '../../../src/types/transaction.ts';
import type { KeyPair } from '../../../src/crypto/ed25519.ts';
import { GENESIS_TIME, testGenesis, testKey, testTx } from '../../helpers/fixtures.ts';

const hospital = testKey('hospital');
const patient = testKey('patient');
const doctor = testKey('doctor');
const otherDoctor = testKey('other-doctor');
const commitment = new Uint8Array(32).fill(7);
/** Far beyond every block time these tests use. */
const FAR_FUTURE = GENESIS_TIME + 10 * 365 * 86_400_000;

/** A state after genesis plus a patient and two doctors, with helpers to send transactions at chosen times. */
function world() {
  const base = new MemoryState();
  base.apply(buildGenesis(testGenesis('pos')).writes);
  const state = new StateOverlay(base);
  const nonces = new Map<KeyPair, number>();
  let height = 1;
  const send = (key: KeyPair, body: TxBody, time = GENESIS_TIME + 1000) => {
    const nonce = nonces.get(key) ?? 0;
    const tx = testTx(key, nonce, body);
    const ctx: BlockContext = { chainId: 'medchain-test', height: height++, time, policyFlags: CURRENT_POLICY_FLAGS };
    const attempt = state.fork();
    applyTx(attempt, tx, ctx);
    state.merge(attempt);
    nonces.set(key, nonce + 1);
    return tx;
  };
  const refuse = (key: KeyPair, body: TxBody, time?: number): string => {
    try {
      send(key, body, time);
    } catch (error) {
      if (error instanceof TxError) return error.code;
      throw error;
    }
    throw new Error('the transaction was accepted');
  };
  send(patient, { type: TxType.RegisterIdentity, role: 'patient' });
  send(doctor, { type: TxType.RegisterIdentity, role: 'doctor' });
  send(otherDoctor, { type: TxType.RegisterIdentity, role: 'doctor' });
  const record = send(patient, { type: TxType.CreateRecord, commitment, size: 1234, contentType: 'application/fhir+json', policy: DEFAULT_POLICY }).id;
  const version = () => ({ type: TxType.AddRecordVersion, record, commitment, size: 99, contentType: 'application/pdf' }) as const;
  /** The genesis hospital attests `key` (the default policy lets granted doctors act only while attested). */
  const attest = (key: KeyPair) =>
    send(hospital, { type: TxType.AttestDoctor, doctor: key.publicKey, name: 'Dr A', licence: 'L1', expiresAt: FAR_FUTURE });
  return { state, send, refuse, record, version, attest };
}

describe('records and access (state transition with policies)', () => {
  it('creates a record owned by the patient, its id the creating transaction id', () => {
    const { state, record } = world();
    expect(getRecord(state, record)).toMatchObject({ owner: patient.publicKey, versionCount: 1, createdAt: 4 });
    expect(getRecordVersion(state, record, 0)).toMatchObject({ commitment, size: 1234, author: patient.publicKey });
  });

  it('refuses records from non-patients and policies the engine does not accept', () => {
    const { refuse } = world();
    expect(refuse(doctor, { type: TxType.CreateRecord, commitment, size: 1, contentType: 'text/plain', policy: DEFAULT_POLICY })).toBe('NOT_A_PATIENT');
    expect(refuse(patient, { type: TxType.CreateRecord, commitment, size: 1, contentType: 'text/plain', policy: new Uint8Array([1, 2, 3]) })).toBe(
      'INVALID_POLICY',
    );
  });

  it('lets a doctor add a version only while a write grant holds: not before, not after expiry, not after revocation', () => {
    const { send, refuse, record, version, state, attest } = world();
    attest(doctor);
    expect(refuse(doctor, version())).toBe('NO_GRANT');
    const expiresAt = GENESIS_TIME + 10_000;
    send(patient, { type: TxType.GrantAccess, record, grantee: doctor.publicKey, scope: ['read', 'write'], expiresAt });
    send(doctor, version());
    expect(getRecord(state, record)!.versionCount).toBe(2);
    expect(getRecordVersion(state, record, 1)!.author).toEqual(doctor.publicKey);
    // After the grant's expiry (block time), the same request is denied.
    expect(refuse(doctor, version(), expiresAt + 1)).toBe('GRANT_EXPIRED');
    send(patient, { type: TxType.RevokeAccess, record, grantee: doctor.publicKey });
    expect(getGrant(state, record, doctor.publicKey)!.revokedAt).not.toBeNull();
    expect(refuse(doctor, version())).toBe('GRANT_REVOKED');
    expect(refuse(patient, { type: TxType.RevokeAccess, record, grantee: doctor.publicKey })).toBe('GRANT_ALREADY_REVOKED');
  });

  it("a granted doctor loses access when the hospital revokes the doctor's attestation", () => {
    const { send, refuse, record, version, state, attest } = world();
    attest(doctor);
    send(patient, { type: TxType.GrantAccess, record, grantee: doctor.publicKey, scope: ['read', 'write'], expiresAt: null });
    send(doctor, version());
    send(hospital, { type: TxType.RevokeAttestation, doctor: doctor.publicKey, reason: 'licence suspended' });
    expect(refuse(doctor, version())).toBe('ATTESTATION_REVOKED');
    expect(getRecord(state, record)!.versionCount).toBe(2);
  });

  it('a read grant does not let a doctor write', () => {
    const { send, refuse, record, version, attest } = world();
    attest(doctor);
    send(patient, { type: TxType.GrantAccess, record, grantee: doctor.publicKey, scope: ['read'], expiresAt: null });
    expect(refuse(doctor, version())).toBe('SCOPE_NOT_GRANTED');
  });

  it('delegation: a delegate may grant read or write where the policy allows, never delegate', () => {
    const { send, refuse, record, state, attest } = world();
    attest(doctor);
    const readGrant = { type: TxType.GrantAccess, record, grantee: otherDoctor.publicKey, scope: ['read'], expiresAt: null } as const;
    expect(refuse(doctor, readGrant)).toBe('NO_GRANT');
    send(patient, { type: TxType.GrantAccess, record, grantee: doctor.publicKey, scope: ['read', 'delegate'], expiresAt: null });
    send(doctor, readGrant);
    expect(getGrant(state, record, otherDoctor.publicKey)).toMatchObject({ grantor: doctor.publicKey, scope: ['read'] });
    expect(refuse(doctor, { ...readGrant, scope: ['delegate'] })).toBe('SCOPE_NOT_DELEGABLE');
    // The grantor may revoke what it granted; an unrelated account may not.
    expect(refuse(otherDoctor, { type: TxType.RevokeAccess, record, grantee: otherDoctor.publicKey })).toBe('NOT_RECORD_OWNER');
    send(doctor, { type: TxType.RevokeAccess, record, grantee: otherDoctor.publicKey });
    expect(getGrant(state, record, otherDoctor.publicKey)!.revokedAt).not.toBeNull();
  });

  it('grants are checked: registered grantee, expiry after the block, not to the owner, an existing record', () => {
    const { refuse, record } = world();
    const stranger = testKey('stranger');
    const grant = (grantee: Uint8Array, expiresAt: number | null = null, on = record) =>
      ({ type: TxType.GrantAccess, record: on, grantee, scope: ['read'], expiresAt }) as const;
    expect(refuse(patient, grant(stranger.publicKey))).toBe('NOT_REGISTERED');
    expect(refuse(patient, grant(doctor.publicKey, GENESIS_TIME))).toBe('EXPIRY_IN_PAST');
    expect(refuse(patient, grant(patient.publicKey))).toBe('SELF_GRANT');
    expect(refuse(patient, grant(doctor.publicKey, null, new Uint8Array(32)))).toBe('RECORD_NOT_FOUND');
  });

  it('only the owner sets a policy; a new policy governs the next decision', () => {
    const { send, refuse, record, version, state } = world();
    const allDoctors = compilePolicy('allow read, write if requester == owner\nallow write if role(requester) == "doctor"\n', CURRENT_POLICY_FLAGS);
    if (!allDoctors.ok) throw new Error(allDoctors.error.message);
    expect(refuse(doctor, { type: TxType.SetRecordPolicy, record, policy: allDoctors.program })).toBe('NOT_RECORD_OWNER');
    expect(refuse(patient, { type: TxType.SetRecordPolicy, record, policy: new Uint8Array([0xff]) })).toBe('INVALID_POLICY');
    expect(refuse(doctor, version())).toBe('NO_GRANT');
    send(patient, { type: TxType.SetRecordPolicy, record, policy: allDoctors.program });
    send(doctor, version());
    expect(getRecord(state, record)!.versionCount).toBe(2);
  });

  it("decides with chain facts: a hospital's attested doctors may read under the hospital-doctors template", () => {
    const { send, state, record } = world();
    const template = instantiatePolicyTemplate('hospital-doctors', { hospital: toHex(hospital.publicKey) });
    if (!template.ok) throw new Error(template.error.message);
    send(patient, { type: TxType.SetRecordPolicy, record, policy: template.program });
    const meta = getRecord(state, record)!;
    const at = { height: 10, time: GENESIS_TIME + 5000, policyFlags: CURRENT_POLICY_FLAGS };
    const read = { requester: doctor.publicKey, action: 'read' as const, purpose: 'TREAT', emergency: false };
    expect(decideAccess(state, meta, read, at).decision).toBe('deny');
    send(hospital, { type: TxType.AttestDoctor, doctor: doctor.publicKey, name: 'Dr A', licence: 'L1', expiresAt: GENESIS_TIME + 60_000 });
    expect(decideAccess(state, meta, read, at).decision).toBe('allow');
    // Past the attestation's expiry the same read is denied; a write, which the template never allows, too.
    expect(decideAccess(state, meta, read, { ...at, time: GENESIS_TIME + 60_001 }).decision).toBe('deny');
    expect(decideAccess(state, meta, { ...read, action: 'write' }, at).decision).toBe('deny');
    send(hospital, { type: TxType.RevokeAttestation, doctor: doctor.publicKey, reason: 'left' });
    expect(decideAccess(state, meta, read, at).decision).toBe('deny');
  });

  it('records a read only where the policy allows it, for an existing version', () => {
    const { send, refuse, record, attest } = world();
    attest(doctor);
    const read = (overrides: Partial<{ version: number; purpose: string; emergency: boolean; reason: string }> = {}) =>
      ({ type: TxType.ReadRecord, record, version: 0, purpose: 'TREAT', emergency: false, reason: '', ...overrides }) as const;
    expect(refuse(doctor, read())).toBe('NO_GRANT');
    send(patient, { type: TxType.GrantAccess, record, grantee: doctor.publicKey, scope: ['read'], expiresAt: GENESIS_TIME + 10_000 });
    send(doctor, read());
    expect(refuse(doctor, read({ version: 1 }))).toBe('NO_SUCH_VERSION');
    expect(refuse(doctor, read(), GENESIS_TIME + 10_001)).toBe('GRANT_EXPIRED');
    // The owner reads without asking the policy.
    send(patient, read({ purpose: 'PATRQT' }));
  });

  it('break-glass: an attested doctor reads with ETREAT and a stated reason under the emergency-access template', () => {
    const { send, refuse, record } = world();
    const template = instantiatePolicyTemplate('emergency-access');
    if (!template.ok) throw new Error(template.error.message);
    send(patient, { type: TxType.SetRecordPolicy, record, policy: template.program });
    const emergency = (reason: string, purpose = 'ETREAT') =>
      ({ type: TxType.ReadRecord, record, version: 0, purpose, emergency: true, reason }) as const;
    expect(refuse(doctor, emergency(''))).toBe('EMERGENCY_REASON_REQUIRED');
    expect(refuse(doctor, emergency(' \t\n'))).toBe('EMERGENCY_REASON_REQUIRED');
    expect(refuse(doctor, emergency('unconscious patient in the ED'))).toBe('NOT_ATTESTED');
    send(hospital, { type: TxType.AttestDoctor, doctor: doctor.publicKey, name: 'Dr A', licence: 'L1', expiresAt: GENESIS_TIME + 60_000 });
    expect(refuse(doctor, emergency('unconscious patient in the ED', 'TREAT'))).toBe('EMERGENCY_REFUSED');
    send(doctor, emergency('unconscious patient in the ED'));
  });

  it('erasure leaves a tombstone that refuses everything after it', () => {
    const { send, refuse, record, version, state } = world();
    send(patient, { type: TxType.GrantAccess, record, grantee: doctor.publicKey, scope: ['read', 'write'], expiresAt: null });
    expect(refuse(doctor, { type: TxType.EraseRecord, record })).toBe('NOT_RECORD_OWNER');
    send(patient, { type: TxType.EraseRecord, record });
    expect(getRecord(state, record)).toMatchObject({ erasedAt: expect.any(Number), versionCount: 1 });
    expect(refuse(doctor, { type: TxType.ReadRecord, record, version: 0, purpose: 'TREAT', emergency: false, reason: '' })).toBe('RECORD_ERASED');
    expect(refuse(doctor, version())).toBe('RECORD_ERASED');
    expect(refuse(patient, { type: TxType.EraseRecord, record })).toBe('RECORD_ERASED');
    expect(refuse(patient, { type: TxType.GrantAccess, record, grantee: otherDoctor.publicKey, scope: ['read'], expiresAt: null })).toBe('RECORD_ERASED');
  });

  it('a delegate passes on no more than it holds: not to itself, not past its own expiry, not over the owner\'s revocation', () => {
    const { send, refuse, record } = world();
    const third = testKey('third-doctor');
    send(third, { type: TxType.RegisterIdentity, role: 'doctor' });
    for (const key of [doctor, otherDoctor, third]) {
      send(hospital, { type: TxType.AttestDoctor, doctor: key.publicKey, name: 'Dr', licence: 'L', expiresAt: GENESIS_TIME + 1e9 });
    }
    const ownExpiry = GENESIS_TIME + 3_600_000;
    send(patient, { type: TxType.GrantAccess, record, grantee: doctor.publicKey, scope: ['read', 'delegate'], expiresAt: ownExpiry });
    const grant = (grantee: Uint8Array, expiresAt: number | null) => ({ type: TxType.GrantAccess, record, grantee, scope: ['read', 'write'], expiresAt }) as const;
    expect(refuse(doctor, grant(doctor.publicKey, ownExpiry))).toBe('SELF_GRANT');
    expect(refuse(doctor, grant(otherDoctor.publicKey, null))).toBe('SCOPE_NOT_DELEGABLE');
    expect(refuse(doctor, grant(otherDoctor.publicKey, ownExpiry + 1))).toBe('SCOPE_NOT_DELEGABLE');
    send(doctor, grant(otherDoctor.publicKey, ownExpiry));
    // The owner revokes third's grant; the delegate cannot restore it, nor replace the owner's own grants.
    send(patient, { type: TxType.GrantAccess, record, grantee: third.publicKey, scope: ['read'], expiresAt: null });
    send(patient, { type: TxType.RevokeAccess, record, grantee: third.publicKey });
    expect(refuse(doctor, grant(third.publicKey, ownExpiry))).toBe('NOT_RECORD_OWNER');
  });

  it('refuses expiry times after the year 9999 on the wire', () => {
    expect(() =>
      testTx(patient, 9, { type: TxType.GrantAccess, record: new Uint8Array(32), grantee: doctor.publicKey, scope: ['read'], expiresAt: 9e15 }),
    ).toThrow(/after the year 9999/);
  });
});
