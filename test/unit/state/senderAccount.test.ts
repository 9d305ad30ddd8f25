/**
 * applyTx reads the sender's account once and writes it back with the nonce advanced, assuming no transaction
 * writes an account on its own (a second read would see the same value, and the final write would silently
 * undo such a write). This holds every kind of transaction that advances a nonce to that: it writes one
 * account, once, its sender's, with nonce + 1 and role and registration height untouched (registration creates
 * the account instead).
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../src/codec/bytes.ts';
import type { KeyPair } from '../../../src/crypto/ed25519.ts';
import { CURRENT_POLICY_FLAGS } from '../../../src/script/flags.ts';
import { DEFAULT_POLICY } from '../../../src/script/templates.ts';
import { getAccount } from '../../../src/state/accessors.ts';
import { applyTx, type BlockContext } from '../../../src/state/applyTx.ts';
import { buildGenesis, posRulesOf } from '../../../src/state/genesis.ts';
import { MemoryState, StateOverlay } from '../../../src/state/overlay.ts';
import { StateNamespace, stateKey } from '../../../src/state/stateKeys.ts';
import { decodeAccount } from '../../../src/state/stateValues.ts';
import { EvidenceKind, TxType, type Transaction, type TxBody } from '../../../src/types/transaction.ts';
import { GENESIS_TIME, testGenesis, testKey, testTx } from '../../helpers/fixtures.ts';

const hospital = testKey('sender/hospital');
const otherHospital = testKey('sender/other-hospital');
const patient = testKey('sender/patient');
const doctor = testKey('sender/doctor');
const T = GENESIS_TIME + 60_000;
const spec = testGenesis('pos', {
  hospitals: [
    { id: toHex(hospital.publicKey), name: 'General Hospital', stake: 100, balance: 50 },
    { id: toHex(otherHospital.publicKey), name: 'St Elsewhere', stake: 100 },
  ],
});

/** An overlay that also lists every account write made to it, in order. */
class RecordingOverlay extends StateOverlay {
  readonly accountWrites: { key: Uint8Array; value: Uint8Array | null }[] = [];

  override set(key: Uint8Array, value: Uint8Array): void {
    if (key[0] === StateNamespace.Account) this.accountWrites.push({ key, value });
    super.set(key, value);
  }

  override delete(key: Uint8Array): void {
    if (key[0] === StateNamespace.Account) this.accountWrites.push({ key, value: null });
    super.delete(key);
  }
}

describe('the sender account a transaction writes', () => {
  it('is only its own, with the nonce advanced by one, for every kind of transaction', () => {
    const base = new MemoryState();
    base.apply(buildGenesis(spec).writes);
    const state = new StateOverlay(base);
    const ctx: BlockContext = { chainId: spec.chainId, height: 1, time: T, policyFlags: CURRENT_POLICY_FLAGS, pos: posRulesOf(spec) };
    const nonces = new Map<KeyPair, number>();
    const tx = (key: KeyPair, body: TxBody): Transaction => {
      const nonce = nonces.get(key) ?? 0;
      nonces.set(key, nonce + 1);
      return testTx(key, nonce, body);
    };
    const kinds = new Set<number>();
    const apply = (t: Transaction): void => {
      const before = getAccount(state, t.sender);
      const attempt = new RecordingOverlay(state);
      applyTx(attempt, t, ctx);
      // One account write, the sender's: a handler's own write would be overwritten by the final one.
      expect(attempt.accountWrites.map((w) => toHex(w.key))).toEqual([toHex(stateKey.account(t.sender))]);
      const after = decodeAccount(attempt.accountWrites[0]!.value!);
      expect(after).toEqual(before === undefined ? { role: after.role, nonce: 1, registeredAt: ctx.height } : { ...before, nonce: before.nonce + 1 });
      state.merge(attempt);
      kinds.add(t.body.type);
    };

    apply(tx(patient, { type: TxType.RegisterIdentity, role: 'patient' }));
    apply(tx(doctor, { type: TxType.RegisterIdentity, role: 'doctor' }));
    apply(tx(hospital, { type: TxType.AttestDoctor, doctor: doctor.publicKey, name: 'Dr', licence: 'L', expiresAt: T + 1e6 }));
    const create = tx(patient, { type: TxType.CreateRecord, commitment: new Uint8Array(32).fill(1), size: 1, contentType: 'text/plain', policy: DEFAULT_POLICY });
    apply(create);
    const record = create.id;
    apply(tx(patient, { type: TxType.GrantAccess, record, grantee: doctor.publicKey, scope: ['read', 'write'], expiresAt: null }));
    apply(tx(doctor, { type: TxType.ReadRecord, record, version: 0, purpose: 'TREAT', emergency: false, reason: '' }));
    apply(tx(doctor, { type: TxType.AddRecordVersion, record, commitment: new Uint8Array(32).fill(2), size: 2, contentType: 'text/plain' }));
    apply(tx(patient, { type: TxType.SetRecordPolicy, record, policy: DEFAULT_POLICY }));
    apply(tx(patient, { type: TxType.RevokeAccess, record, grantee: doctor.publicKey }));
    apply(tx(patient, { type: TxType.EraseRecord, record }));
    apply(tx(hospital, { type: TxType.RevokeAttestation, doctor: doctor.publicKey, reason: 'left' }));
    apply(tx(hospital, { type: TxType.Stake, amount: 10n }));
    apply(tx(otherHospital, { type: TxType.Unstake, amount: 10n }));
    const vote = (targetHash: Uint8Array) =>
      testTx(otherHospital, 0, { type: TxType.Vote, sourceHeight: 0, sourceHash: new Uint8Array(32), targetHeight: 2, targetHash }).bytes;
    apply(tx(hospital, { type: TxType.Evidence, kind: EvidenceKind.DoubleVote, first: vote(new Uint8Array(32).fill(1)), second: vote(new Uint8Array(32).fill(2)) }));
    // Votes keep no nonce (they are ordered by target height).
    const expected = Object.values(TxType).filter((t) => t !== TxType.Vote);
    expect([...kinds].sort()).toEqual([...expected].sort());
  });
});
