import { stateKey, stateKeyString } from './stateKeys.ts';
import {
  decodeAccount,
  decodeAttestation,
  decodeHospitalName,
  decodeValidatorSet,
  decodeGrant,
  decodeHospitalList,
  decodeRecordMeta,
  decodeRecordVersion,
  encodeGrant,
  encodeRecordMeta,
  encodeRecordVersion,
  encodeAccount,
  encodeAttestation,
  type Validator,
} from './stateValues.ts';
import { getByKeyString, keyString, type StateOverlay, type StateReader } from './overlay.ts';
import type { Account, Attestation } from '../types/identity.ts';
import type { AccountId, Hash } from '../types/primitives.ts';
import type { Grant, RecordMeta, RecordVersion } from '../types/record.ts';

/** Typed reads of state, shared by the transition, RPC and (later) policy contexts. */

export function getAccount(state: StateReader, id: AccountId): Account | undefined {
  const bytes = getByKeyString(state, stateKeyString.account(id), () => stateKey.account(id));
  return bytes === undefined ? undefined : decodeAccount(bytes);
}

export function putAccount(state: StateOverlay, id: AccountId, account: Account): void {
  state.set(stateKey.account(id), encodeAccount(account));
}

export function getAttestation(state: StateReader, doctor: AccountId, hospital: AccountId): Attestation | undefined {
  const bytes = getByKeyString(state, stateKeyString.attestation(doctor, hospital), () => stateKey.attestation(doctor, hospital));
  return bytes === undefined ? undefined : decodeAttestation(doctor, hospital, bytes);
}

export function putAttestation(state: StateOverlay, a: Attestation): void {
  state.set(stateKey.attestation(a.doctor, a.hospital), encodeAttestation(a));
}

export function getHospitalName(state: StateReader, id: AccountId): string | undefined {
  const bytes = getByKeyString(state, stateKeyString.hospital(id), () => stateKey.hospital(id));
  return bytes === undefined ? undefined : decodeHospitalName(bytes);
}

/** The validator set (sorted by id); empty on a proof-of-work chain. */
export function getValidatorSet(state: StateReader): Validator[] {
  const bytes = state.get(stateKey.validatorSet());
  return bytes === undefined ? [] : decodeValidatorSet(bytes);
}

/** Hospital ids in genesis order. */
export function getHospitals(state: StateReader): AccountId[] {
  return hospitalListOf(state).ids.slice();
}

/** The hospital ids and their keyStrings (to build attestation keys from). */
interface HospitalList {
  readonly ids: readonly AccountId[];
  readonly keyStrings: readonly string[];
}

/**
 * The hospital list decoded once per stored value: every policy that asks whether a doctor is attested reads
 * it, and the head state hands back the same bytes object until a block writes the key (only genesis does).
 * The ids are views of those bytes, as a fresh decode's are.
 */
const decodedHospitalLists = new WeakMap<Uint8Array, HospitalList>();
const NO_HOSPITALS: HospitalList = { ids: [], keyStrings: [] };

function hospitalListOf(state: StateReader): HospitalList {
  const bytes = getByKeyString(state, stateKeyString.hospitalList(), stateKey.hospitalList);
  if (bytes === undefined) return NO_HOSPITALS;
  let list = decodedHospitalLists.get(bytes);
  if (list === undefined) {
    const ids = decodeHospitalList(bytes);
    list = { ids, keyStrings: ids.map((id) => keyString(id)) };
    decodedHospitalLists.set(bytes, list);
  }
  return list;
}

/** Every attestation of a doctor, one per hospital that attested it. */
export function getAttestations(state: StateReader, doctor: AccountId): Attestation[] {
  const out: Attestation[] = [];
  const { ids, keyStrings } = hospitalListOf(state);
  // getAttestation's keys, the doctor's part converted once.
  const prefix = stateKeyString.attestationsOf(doctor);
  for (let i = 0; i < ids.length; i++) {
    const hospital = ids[i]!;
    const bytes = getByKeyString(state, prefix + keyStrings[i]!, () => stateKey.attestation(doctor, hospital));
    if (bytes !== undefined) out.push(decodeAttestation(doctor, hospital, bytes));
  }
  return out;
}

export function getRecord(state: StateReader, id: Hash): RecordMeta | undefined {
  const bytes = getByKeyString(state, stateKeyString.record(id), () => stateKey.record(id));
  return bytes === undefined ? undefined : decodeRecordMeta(id, bytes);
}

export function putRecord(state: StateOverlay, record: RecordMeta): void {
  state.set(stateKey.record(record.id), encodeRecordMeta(record));
}

export function getRecordVersion(state: StateReader, id: Hash, version: number): RecordVersion | undefined {
  const bytes = getByKeyString(state, stateKeyString.recordVersion(id, version), () => stateKey.recordVersion(id, version));
  return bytes === undefined ? undefined : decodeRecordVersion(bytes);
}

export function putRecordVersion(state: StateOverlay, id: Hash, version: number, v: RecordVersion): void {
  state.set(stateKey.recordVersion(id, version), encodeRecordVersion(v));
}

export function getGrant(state: StateReader, record: Hash, grantee: AccountId): Grant | undefined {
  const bytes = getByKeyString(state, stateKeyString.grant(record, grantee), () => stateKey.grant(record, grantee));
  return bytes === undefined ? undefined : decodeGrant(grantee, bytes);
}

export function putGrant(state: StateOverlay, record: Hash, grant: Grant): void {
  state.set(stateKey.grant(record, grant.grantee), encodeGrant(grant));
}
