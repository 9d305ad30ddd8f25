import { stateKey } from './stateKeys.ts';
import {
  decodeAccount,
  decodeAttestation,
  decodeHospitalName,
  decodeValidatorSet,
  encodeAccount,
  encodeAttestation,
  type Validator,
} from './stateValues.ts';
import type { StateOverlay, StateReader } from './overlay.ts';
import type { Account, Attestation } from '../types/identity.ts';
import type { AccountId } from '../types/primitives.ts';

/** Typed reads of state, shared by the transition, RPC and (later) policy contexts. */

export function getAccount(state: StateReader, id: AccountId): Account | undefined {
  const bytes = state.get(stateKey.account(id));
  return bytes === undefined ? undefined : decodeAccount(bytes);
}

export function putAccount(state: StateOverlay, id: AccountId, account: Account): void {
  state.set(stateKey.account(id), encodeAccount(account));
}

export function getAttestation(state: StateReader, doctor: AccountId, hospital: AccountId): Attestation | undefined {
  const bytes = state.get(stateKey.attestation(doctor, hospital));
  return bytes === undefined ? undefined : decodeAttestation(doctor, hospital, bytes);
}

export function putAttestation(state: StateOverlay, a: Attestation): void {
  state.set(stateKey.attestation(a.doctor, a.hospital), encodeAttestation(a));
}

export function getHospitalName(state: StateReader, id: AccountId): string | undefined {
  const bytes = state.get(stateKey.hospital(id));
  return bytes === undefined ? undefined : decodeHospitalName(bytes);
}

/** The validator set (sorted by id); empty on a proof-of-work chain. */
export function getValidatorSet(state: StateReader): Validator[] {
  const bytes = state.get(stateKey.validatorSet());
  return bytes === undefined ? [] : decodeValidatorSet(bytes);
}
