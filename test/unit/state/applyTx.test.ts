/** The identity transactions and the replay rules of the state transition, one test per TxErrorCode. */
import { describe, expect, it } from 'vitest';
import { encodeSignedTransaction, signingBytesOf } from '../../../src/codec/transaction.ts';
import { verify } from '../../../src/crypto/ed25519.ts';
import { CURRENT_POLICY_FLAGS } from '../../../src/script/flags.ts';
import { getAccount, getAttestation } from '../../../src/state/accessors.ts';
import { applyTx, type BlockContext } from '../../../src/state/applyTx.ts';
import { TxError, TxErrorCode } from '../../../src/state/errors.ts';
import { buildGenesis } from '../../../src/state/genesis.ts';
import { MemoryState, StateOverlay } from '../../../src/state/overlay.ts';
import type { KeyPair } from '../../../src/crypto/ed25519.ts';
import { toHex } from '../../../src/codec/bytes.ts';
import { TxType, type Transaction, type TxBody } from '../../../src/types/transaction.ts';
import { GENESIS_TIME, testGenesis, testKey, testTx } from '../../helpers/fixtures.ts';

const hospital = testKey('hospital');
const otherHospital = testKey('other-hospital');
const patient = testKey('patient');
const doctor = testKey('doctor');
const stranger = testKey('stranger');
const T = GENESIS_TIME + 60_000;

const genesis = testGenesis('pos', {
  hospitals: [
    { id: toHex(hospital.publicKey), name: 'General Hospital', stake: 100 },
    { id: toHex(otherHospital.publicKey), name: 'St Elsewhere', stake: 0 },
  ],
});

const registerPatient: TxBody = { type: TxType.RegisterIdentity, role: 'patient' };
const registerDoctor: TxBody = { type: TxType.RegisterIdentity, role: 'doctor' };
const attestBody = (expiresAt = T + 1_000_000, who = doctor): TxBody => ({
  type: TxType.AttestDoctor,
  doctor: who.publicKey,
  name: 'Dr Ada Lovelace',
  licence: 'GMC-1815',
  expiresAt,
});
const revokeBody = (who = doctor, reason = 'left the hospital'): TxBody => ({ type: TxType.RevokeAttestation, doctor: who.publicKey, reason });

/** A fresh state after genesis with a helper that applies transactions block by block. */
function world() {
  const base = new MemoryState();
  base.apply(buildGenesis(genesis).writes);
  const state = new StateOverlay(base);
  let height = 1;
  const ctx = (time = T): BlockContext => ({ chainId: 'medchain-test', height, time, policyFlags: CURRENT_POLICY_FLAGS });
  /** Applies `tx` in its own block; on failure nothing is kept. */
  const apply = (tx: Transaction, time = T): void => {
    const attempt = state.fork();
    applyTx(attempt, tx, ctx(time));
    state.merge(attempt);
    height++;
  };
  const refuse = (tx: Transaction, time = T): string => {
    const before = state.writes();
    const attempt = state.fork();
    try {
      applyTx(attempt, tx, ctx(time));
    } catch (error) {
      if (!(error instanceof TxError)) throw error;
      // A refusal writes nothing, not even to the throwaway overlay.
      expect(attempt.size).toBe(0);
      expect(state.writes()).toEqual(before);
      return error.code;
    }
    throw new Error('the transaction was accepted');
  };
  const nonce = (key: KeyPair): number | undefined => getAccount(state, key.publicKey)?.nonce;
  const heightNow = (): number => height;
  return { state, apply, refuse, nonce, heightNow };
}

/** A world where the doctor is registered and attested by `hospital` (hospital nonce 1, doctor nonce 1). */
function attestedWorld() {
  const w = world();
  w.apply(testTx(doctor, 0, registerDoctor));
  w.apply(testTx(patient, 0, registerPatient));
  w.apply(testTx(hospital, 0, attestBody()));
  return w;
}

describe('replay protection', () => {
  it('WRONG_CHAIN: a transaction signed for another chain is refused', () => {
    const w = world();
    expect(w.refuse(testTx(patient, 0, registerPatient, 'medchain-other'))).toBe(TxErrorCode.WrongChain);
    expect(w.nonce(patient)).toBeUndefined();
  });

  it('the chain id is inside the signed bytes: moving a signature to another chain breaks it', () => {
    const onA = testTx(patient, 0, registerPatient, 'chain-a');
    const moved = encodeSignedTransaction({ ...onA, chainId: 'chain-b' }, onA.signature);
    expect(verify(onA.signature, signingBytesOf(onA.bytes), patient.publicKey)).toBe(true);
    expect(verify(onA.signature, signingBytesOf(moved), patient.publicKey)).toBe(false);
  });

  it('NONCE_TOO_LOW: the same transaction applied twice is refused the second time', () => {
    const w = world();
    const tx = testTx(patient, 0, registerPatient);
    w.apply(tx);
    expect(w.refuse(tx)).toBe(TxErrorCode.NonceTooLow);
    expect(w.nonce(patient)).toBe(1);
  });

  it('NONCE_TOO_LOW: a different transaction reusing a spent nonce is refused', () => {
    const w = attestedWorld();
    expect(w.refuse(testTx(hospital, 0, revokeBody()))).toBe(TxErrorCode.NonceTooLow);
  });

  it('NONCE_GAP: a nonce ahead of the next one is refused, for new and existing accounts', () => {
    const w = attestedWorld();
    expect(w.refuse(testTx(stranger, 1, registerPatient))).toBe(TxErrorCode.NonceGap);
    expect(w.refuse(testTx(hospital, 2, revokeBody()))).toBe(TxErrorCode.NonceGap);
    w.apply(testTx(hospital, 1, revokeBody()));
    expect(w.nonce(hospital)).toBe(2);
  });

  it('each accepted transaction moves the sender nonce by exactly one; refusals leave it', () => {
    const w = attestedWorld();
    expect([w.nonce(hospital), w.nonce(doctor), w.nonce(patient)]).toEqual([1, 1, 1]);
    expect(w.refuse(testTx(hospital, 1, attestBody(T)))).toBe(TxErrorCode.ExpiryInPast);
    expect(w.nonce(hospital)).toBe(1);
    w.apply(testTx(hospital, 1, attestBody(T + 5)));
    expect(w.nonce(hospital)).toBe(2);
  });
});

describe('registration', () => {
  it('registers a patient and a doctor at nonce 0, leaving nonce 1 and the height', () => {
    const w = world();
    w.apply(testTx(patient, 0, registerPatient));
    w.apply(testTx(doctor, 0, registerDoctor));
    expect(getAccount(w.state, patient.publicKey)).toEqual({ role: 'patient', nonce: 1, registeredAt: 1 });
    expect(getAccount(w.state, doctor.publicKey)).toEqual({ role: 'doctor', nonce: 1, registeredAt: 2 });
  });

  it('ALREADY_REGISTERED: an account registers once, whatever the role', () => {
    const w = world();
    w.apply(testTx(patient, 0, registerPatient));
    expect(w.refuse(testTx(patient, 1, registerDoctor))).toBe(TxErrorCode.AlreadyRegistered);
    // A genesis hospital cannot turn itself into a doctor either.
    expect(w.refuse(testTx(hospital, 0, registerDoctor))).toBe(TxErrorCode.AlreadyRegistered);
  });

  it('NOT_REGISTERED: an unknown key can only register', () => {
    const w = attestedWorld();
    expect(w.refuse(testTx(stranger, 0, attestBody()))).toBe(TxErrorCode.NotRegistered);
    expect(w.refuse(testTx(stranger, 0, revokeBody()))).toBe(TxErrorCode.NotRegistered);
    const record = new Uint8Array(32);
    expect(w.refuse(testTx(stranger, 0, { type: TxType.RevokeAccess, record, grantee: doctor.publicKey }))).toBe(TxErrorCode.NotRegistered);
  });
});

describe('attestation', () => {
  it('a hospital attests a registered doctor; the attestation records who, what and until when', () => {
    const w = attestedWorld();
    expect(getAttestation(w.state, doctor.publicKey, hospital.publicKey)).toEqual({
      doctor: doctor.publicKey,
      hospital: hospital.publicKey,
      name: 'Dr Ada Lovelace',
      licence: 'GMC-1815',
      expiresAt: T + 1_000_000,
      attestedAt: 3,
      revokedAt: null,
      revokeReason: '',
    });
    expect(getAttestation(w.state, doctor.publicKey, otherHospital.publicKey)).toBeUndefined();
  });

  it('NOT_A_HOSPITAL: doctors and patients cannot attest or revoke', () => {
    const w = attestedWorld();
    expect(w.refuse(testTx(doctor, 1, attestBody(undefined, doctor)))).toBe(TxErrorCode.NotAHospital);
    expect(w.refuse(testTx(patient, 1, attestBody()))).toBe(TxErrorCode.NotAHospital);
    expect(w.refuse(testTx(patient, 1, revokeBody()))).toBe(TxErrorCode.NotAHospital);
  });

  it('NOT_A_DOCTOR: only registered doctors can be attested', () => {
    const w = attestedWorld();
    expect(w.refuse(testTx(hospital, 1, attestBody(undefined, patient)))).toBe(TxErrorCode.NotADoctor);
    expect(w.refuse(testTx(hospital, 1, attestBody(undefined, stranger)))).toBe(TxErrorCode.NotADoctor);
    expect(w.refuse(testTx(hospital, 1, attestBody(undefined, otherHospital)))).toBe(TxErrorCode.NotADoctor);
  });

  it('EXPIRY_IN_PAST: the expiry must be after the block time (equal is too early)', () => {
    const w = attestedWorld();
    expect(w.refuse(testTx(hospital, 1, attestBody(T - 1)))).toBe(TxErrorCode.ExpiryInPast);
    expect(w.refuse(testTx(hospital, 1, attestBody(T)))).toBe(TxErrorCode.ExpiryInPast);
    // The block time, not any clock, decides: the same expiry is fine in an earlier block.
    w.apply(testTx(hospital, 1, attestBody(T)), T - 1);
    expect(getAttestation(w.state, doctor.publicKey, hospital.publicKey)?.expiresAt).toBe(T);
  });

  it('renews by re-attesting: the new expiry replaces the old one, also after a revocation', () => {
    const w = attestedWorld();
    w.apply(testTx(hospital, 1, revokeBody()));
    expect(getAttestation(w.state, doctor.publicKey, hospital.publicKey)).toMatchObject({ revokedAt: 4, revokeReason: 'left the hospital' });
    w.apply(testTx(hospital, 2, attestBody(T + 9_999_999)));
    expect(getAttestation(w.state, doctor.publicKey, hospital.publicKey)).toMatchObject({
      expiresAt: T + 9_999_999,
      attestedAt: 5,
      revokedAt: null,
      revokeReason: '',
    });
  });

  it('revokes: the attestation stays, marked with the height and the reason', () => {
    const w = attestedWorld();
    w.apply(testTx(hospital, 1, revokeBody(doctor, 'licence suspended')));
    expect(getAttestation(w.state, doctor.publicKey, hospital.publicKey)).toMatchObject({
      name: 'Dr Ada Lovelace',
      revokedAt: 4,
      revokeReason: 'licence suspended',
    });
  });

  it('ATTESTATION_NOT_FOUND: a hospital revokes only its own attestations', () => {
    const w = attestedWorld();
    expect(w.refuse(testTx(otherHospital, 0, revokeBody()))).toBe(TxErrorCode.AttestationNotFound);
    w.apply(testTx(stranger, 0, registerDoctor));
    expect(w.refuse(testTx(hospital, 1, revokeBody(stranger)))).toBe(TxErrorCode.AttestationNotFound);
  });

  it('ATTESTATION_ALREADY_REVOKED: a second revocation is refused', () => {
    const w = attestedWorld();
    w.apply(testTx(hospital, 1, revokeBody()));
    expect(w.refuse(testTx(hospital, 2, revokeBody(doctor, 'again')))).toBe(TxErrorCode.AttestationAlreadyRevoked);
    expect(getAttestation(w.state, doctor.publicKey, hospital.publicKey)?.revokeReason).toBe('left the hospital');
  });

  it('two hospitals keep separate attestations of one doctor', () => {
    const w = attestedWorld();
    w.apply(testTx(otherHospital, 0, attestBody(T + 7)));
    w.apply(testTx(hospital, 1, revokeBody()));
    expect(getAttestation(w.state, doctor.publicKey, otherHospital.publicKey)).toMatchObject({ expiresAt: T + 7, revokedAt: null });
    expect(getAttestation(w.state, doctor.publicKey, hospital.publicKey)?.revokedAt).toBe(5);
  });
});
